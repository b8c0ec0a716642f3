"""Run a notebook's cells in a fresh Jupyter kernel, with limits, and report what each cell did.

``run_cells(sources)`` starts a *worker* process (this module run as ``python -m``), which caps
its own address space (RLIMIT_AS) and then starts the kernel, so the kernel inherits the cap.
With a ``jail`` (``autograd-lab grade``), the kernel runs in it instead (``grading.jail``): its
own namespaces and read-only view, an unprivileged user, limits on memory, CPU time, processes,
file size and open files; the worker stays outside and talks to it over ipc sockets in a folder
bound into the jail. The kernel works in an empty folder: nothing that sits beside a submission
(a ``conftest.py``, a module named like ours) is ever imported. Each cell gets a timeout; when
it runs out the kernel is interrupted (the cell fails, the next one runs); a kernel that ignores
the interrupt is killed and replaced, and the cells before it run again. The worker streams one
JSON line per cell, so whatever ran before a crash is kept. Every temporary folder is removed,
whatever the kernel did, and a set ``stop`` event ends the run at once.

Only the kernel's messages come back: stdout text, errors, ``text/plain`` and the check
measurements (``autograd_lab.check.MEASUREMENT_MIME``). Everything else is dropped, and text
is truncated, so a cell that prints forever cannot flood the grader.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from autograd_lab.check import MEASUREMENT_MIME
from autograd_lab.grading.jail import Jail, Launch

if TYPE_CHECKING:
    from jupyter_client import KernelClient, KernelManager

CELL_TIMEOUT = 10.0  # seconds per cell
MEMORY_MB = 2048  # address-space cap of the kernel (torch needs about 0.8 GB of it)
STARTUP_TIMEOUT = 60.0  # seconds for the kernel to start
_INTERRUPT_GRACE = 3.0  # seconds a kernel gets to stop after an interrupt
MAX_RESTARTS = 2  # fresh kernels a run may start after cells that ignored their timeout or killed the kernel
_TEXT_LIMIT = 20_000  # characters of text kept per cell
_MAX_OUTPUTS = 100  # outputs kept per cell
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_KERNEL_ENV = {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
               "MPLBACKEND": "Agg", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}


@dataclass
class CellRun:
    """What one cell did: its outputs, its error (if it raised), whether it ran out of time."""

    outputs: list[dict] = field(default_factory=list)  # {"text": ...} or {"measurement": {...}}
    error: dict | None = None  # {"ename", "evalue", "traceback"}
    timed_out: bool = False

    @property
    def measurements(self) -> list[dict]:
        return [o["measurement"] for o in self.outputs if "measurement" in o]

    @property
    def text(self) -> str:
        return "".join(o.get("text", "") for o in self.outputs)


@dataclass
class SandboxRun:
    """The cells that ran (in order; fewer than asked if the run stopped) and why it stopped early."""

    cells: list[CellRun]
    problem: str | None = None
    notes: list[str] = field(default_factory=list)  # e.g. the kernel had to be restarted


def run_cells(sources: list[str], *, cell_timeout: float = CELL_TIMEOUT, memory_mb: int = MEMORY_MB,
              jail: Jail | None = None, user: tuple[int, int] | None = None,
              stop: threading.Event | None = None) -> SandboxRun:
    """Run ``sources`` one cell after another in a fresh, capped kernel; never hangs, never raises on bad code.

    ``user`` (uid, gid), unjailed: a root grader's worker and kernel run as that user (where no jail can be made).
    """
    budget = STARTUP_TIMEOUT + len(sources) * (cell_timeout + _INTERRUPT_GRACE + 1)
    budget *= 1 + MAX_RESTARTS  # a restart replays the cells before it
    job = json.dumps({"cells": sources, "cell_timeout": cell_timeout, "memory_mb": memory_mb,
                      "cpu_seconds": round(budget), "jail": None if jail is None else asdict(jail)})
    run, kernel = SandboxRun([]), None
    with tempfile.TemporaryDirectory(prefix="autograd-lab-") as folder:  # cwd: nothing to import from
        if user is not None:
            os.chown(folder, *user)
        worker = subprocess.Popen([sys.executable, "-m", "autograd_lab.grading.sandbox"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_environment(), cwd=folder,
                                  start_new_session=True,
                                  **({} if user is None else {"user": user[0], "group": user[1], "extra_groups": []}))
        try:
            out, err, problem = _wait(worker, job.encode(), budget, stop)
        finally:  # even on KeyboardInterrupt: no worker outlives its run (its jail dies with it)
            _kill_group(worker.pid)
        for line in out.decode("utf-8", "replace").splitlines():
            try:
                message = json.loads(line)
            except json.JSONDecodeError:  # the worker was killed mid-line
                break
            if "kernel_pid" in message:
                kernel = message["kernel_pid"]
            elif "cell" in message:
                run.cells.append(CellRun(**message["cell"]))
            elif "problem" in message:
                problem = problem or message["problem"]
            elif "note" in message:
                run.notes.append(message["note"])
        if problem is not None and kernel is not None:
            _kill_group(kernel)  # the worker could not shut its kernel down
    if problem is None and len(run.cells) < len(sources):
        last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        problem = f"the grading worker failed: {last[0]}"
    run.problem = problem
    return run


def _wait(worker: subprocess.Popen, job: bytes, budget: float, stop: threading.Event | None
          ) -> tuple[bytes, bytes, str | None]:
    """The worker's output, and why it was killed: it ran past ``budget``, or ``stop`` was set."""
    deadline = time.monotonic() + budget
    while True:
        left = deadline - time.monotonic()
        try:
            out, err = worker.communicate(job, timeout=max(0.0, left if stop is None else min(left, 0.25)))
            return out, err, None
        except subprocess.TimeoutExpired:
            job = None  # already sent
        if stop is not None and stop.is_set():
            problem = "grading was stopped"
        elif time.monotonic() >= deadline:
            problem = f"the notebook did not finish within {budget:.0f} s"
        else:
            continue
        _kill_group(worker.pid)
        out, err = worker.communicate()
        return out, err, problem


def _environment() -> dict[str, str]:
    """The worker's and kernel's environment: our autograd_lab first, one thread, no user startup files."""
    return {**os.environ, **_KERNEL_ENV, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


# ----- the worker: this module run as `python -m autograd_lab.grading.sandbox` ----------------------
def _send(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _worker() -> None:
    import resource

    job = json.load(sys.stdin)
    cap = job["memory_mb"] * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    folder = os.path.join(os.getcwd(), "ipc")  # removed with the grader's temporary folder, whatever happens
    os.mkdir(folder, 0o700)
    manager, client = None, None
    try:
        manager, client = _start_kernel(folder, job)
        ran: list[str] = []  # the cells that completed, replayed after a restart
        restarts = 0
        for k, source in enumerate(job["cells"]):
            cell, state = _execute(manager, client, source, job["cell_timeout"])
            _send({"cell": cell})
            if state == "ok":
                ran.append(source)
                continue
            if restarts == MAX_RESTARTS:
                _send({"problem": state})
                break
            # A cell that ignores its interrupt (or kills its kernel) costs only itself: start a fresh
            # kernel, run again the cells that had completed, and go on with the next one.
            restarts += 1
            client.stop_channels()
            manager.shutdown_kernel(now=True)
            manager, client = _start_kernel(folder, job)
            replayed = all(_execute(manager, client, s, job["cell_timeout"])[1] == "ok" for s in ran)
            if not replayed:
                _send({"problem": f"{state}; after a restart, the cells before it did not run again"})
                break
            _send({"note": f"cell {k + 1}: {state}; the kernel was restarted and the cells before it run again"})
    except RuntimeError as error:  # the kernel died while starting
        _send({"problem": f"the kernel did not start: {error}"})
    finally:
        if client is not None:
            client.stop_channels()
        if manager is not None and manager.has_kernel:
            manager.shutdown_kernel(now=True)


def _start_kernel(folder: str, job: dict) -> tuple[KernelManager, KernelClient]:
    """A fresh kernel talking over local sockets in ``folder`` (no TCP ports to race for), jailed if asked.

    Unjailed, it works in ``folder``; jailed, in the jail's empty scratch folder. A jailed kernel
    is interrupted by a message (ipykernel then signals its own process group): a signal would
    reach bwrap, not the kernel.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    options = {"transport": "ipc", "ip": os.path.join(folder, "kernel"), "kernel_name": "python3"}
    launch = None
    if job["jail"] is not None:
        kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        launch = Launch(Jail(**job["jail"]), kernel, folder, memory_mb=job["memory_mb"],
                        cpu_seconds=job["cpu_seconds"], env=_KERNEL_ENV)
        specs = os.path.join(os.getcwd(), "kernels")
        os.makedirs(os.path.join(specs, "jailed"), exist_ok=True)
        with open(os.path.join(specs, "jailed", "kernel.json"), "w") as f:
            json.dump({"argv": launch.argv, "display_name": "jailed", "language": "python",
                       "interrupt_mode": "message"}, f)
        options.update(kernel_name="jailed", kernel_spec_manager=KernelSpecManager(kernel_dirs=[specs]))
    manager = KernelManager(**options)
    manager.connection_file = os.path.join(folder, "connection.json")
    env = dict(os.environ, IPYTHONDIR=os.path.join(folder, ".ipython"), JUPYTER_RUNTIME_DIR=folder)
    if launch is not None:  # bwrap's own environment: a kernel may be able to read it (its init's /proc/1/environ)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    try:
        manager.start_kernel(cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             extra_arguments=["--HistoryManager.enabled=False"],
                             **({"pass_fds": launch.pass_fds} if launch else {}))
        _send({"kernel_pid": manager.provisioner.pid})
        if launch is not None:
            launch.started()
        client = manager.client()
        client.start_channels()
        client.wait_for_ready(timeout=STARTUP_TIMEOUT)
    except BaseException:  # a half-started jail would wait for its user mapping forever: end its process group
        process = getattr(manager.provisioner, "process", None)
        if process is not None:  # (shutdown_kernel would re-raise the failed start first)
            _kill_group(process.pid)
            process.wait()
            _kill_group(process.pid)  # again: bwrap's child, if it was being cloned at the first kill
        raise
    if launch is not None:
        launch.ready()
    return manager, client


def _execute(manager: KernelManager, client: KernelClient, source: str, timeout: float) -> tuple[dict, str]:
    """Run one cell; collect its outputs until the kernel is idle again, interrupting it if it overruns."""
    msg_id = client.execute(source, store_history=True, allow_stdin=False, stop_on_error=False)
    cell: dict = {"outputs": [], "error": None, "timed_out": False}
    size = 0
    deadline = time.monotonic() + timeout
    while True:
        now = time.monotonic()
        if now > deadline:
            if cell["timed_out"]:
                return cell, f"the kernel ignored the interrupt after {timeout:g} s and was stopped"
            cell["timed_out"] = True
            manager.interrupt_kernel()
            deadline = now + _INTERRUPT_GRACE
        try:
            message = client.get_iopub_msg(timeout=0.2)
        except queue.Empty:
            if not manager.is_alive():
                return cell, "the kernel died (out of memory, or the code ended the process)"
            continue
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "status" and content["execution_state"] == "idle":
            if _replied(client, msg_id):
                return cell, "ok"
            continue  # an idle before the kernel's reply was sent by the code in the cell, not the kernel: ignore it
        if kind == "stream" and size < _TEXT_LIMIT and len(cell["outputs"]) < _MAX_OUTPUTS:
            text = content["text"][: _TEXT_LIMIT - size]
            size += len(text)
            cell["outputs"].append({"text": text})
        elif kind in ("display_data", "execute_result"):
            data = content["data"]
            if MEASUREMENT_MIME in data and len(cell["outputs"]) < _MAX_OUTPUTS:
                cell["outputs"].append({"measurement": data[MEASUREMENT_MIME]})
            elif "text/plain" in data and size < _TEXT_LIMIT and len(cell["outputs"]) < _MAX_OUTPUTS:
                text = data["text/plain"][: _TEXT_LIMIT - size] + "\n"
                size += len(text)
                cell["outputs"].append({"text": text})
        elif kind == "error":
            trace = _ANSI.sub("", "\n".join(content["traceback"]))[:_TEXT_LIMIT]
            cell["error"] = {"ename": content["ename"], "evalue": content["evalue"][:2000], "traceback": trace}


def _replied(client: KernelClient, msg_id: str) -> bool:
    """Has the kernel answered this request on its shell channel (which it does just before its idle)?

    Code in the cell can send iopub messages with the cell's own parent header (a forged idle, to end
    the cell before the checker's real measurement); the execute reply is what the kernel itself sends.
    """
    while True:
        try:
            reply = client.get_shell_msg(timeout=0.5)
        except queue.Empty:
            return False
        if reply["parent_header"].get("msg_id") == msg_id:
            return True


if __name__ == "__main__":
    _worker()
