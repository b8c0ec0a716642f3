"""Run a notebook's cells in a fresh Jupyter kernel, with limits, and report what each cell did.

``run_cells(sources)`` hands the cells to a *worker* process (this module run as ``python -m``),
which caps its own address space (RLIMIT_AS) and then starts the kernel, so the kernel inherits
the cap. With a ``jail`` (``autograd-lab grade``), the kernel runs in it instead (``grading.jail``):
its own namespaces and read-only view, an unprivileged user, limits on memory, CPU time,
processes, file size and open files; the worker stays outside and talks to it over ipc sockets in
a folder bound into the jail. The kernel works in an empty folder: nothing that sits beside a
submission (a ``conftest.py``, a module named like ours) is ever imported. Each cell gets a
timeout; when it runs out the kernel is interrupted (the cell fails, the next one runs); a kernel
that ignores the interrupt is killed and replaced, and the cells before it run again. The worker
streams one JSON line per cell, so whatever ran before a crash is kept. Every temporary folder is
removed, whatever the kernel did, and a set ``stop`` event ends the run at once.

A grader keeps its ``Worker`` from one submission to the next (it never runs a cell itself), but
every run gets a kernel, folder and jail of its own, started for it and ended before the next.

Only the kernel's messages come back: stdout text, errors, ``text/plain`` and the check
measurements (``autograd_lab.check.MEASUREMENT_MIME``). Everything else is dropped. The kernel
is the student's code, so what it sends is bounded and made valid text here, in the worker, before
it crosses to the grader: text and error messages are truncated, a measurement or a cell past its
byte cap loses its outputs (the cell then fails with "output too large"), and invalid Unicode (a
lone surrogate, which the kernel can send as a JSON escape) becomes a backslash escape. The grader
reads at most ``_RUN_LIMIT`` bytes of a run from its worker.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
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
from autograd_lab.grading.jail import PACKAGE, Jail, Launch

if TYPE_CHECKING:
    from jupyter_client import KernelClient, KernelManager

CELL_TIMEOUT = 10.0  # seconds per cell
MEMORY_MB = 2048  # address-space cap of the kernel (torch needs about 0.8 GB of it)
STARTUP_TIMEOUT = 60.0  # seconds for the kernel to start
_INTERRUPT_GRACE = 3.0  # seconds a kernel gets to stop after an interrupt
MAX_RESTARTS = 2  # fresh kernels a run may start after cells that ignored their timeout or killed the kernel
_TEXT_LIMIT = 20_000  # characters of text kept per cell
_MAX_OUTPUTS = 100  # outputs kept per cell
_MEASUREMENT_LIMIT = 256 * 2**10  # bytes of JSON per measurement (the masters' largest: about 10 kB)
_CELL_LIMIT = 2**20  # bytes of JSON per cell, its measurements together
_LINE_LIMIT = _CELL_LIMIT + 2**20  # bytes of a worker's line: a cell, its text and error escaped as JSON
_RUN_LIMIT = 32 * 2**20  # bytes the grader reads from its worker for one run
_NAME_LIMIT, _VALUE_LIMIT = 200, 2000  # characters of an error's name and message
TOO_LARGE = "OutputTooLarge"  # the error of a cell whose output passed its cap
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
    worker = Worker(memory_mb=memory_mb, user=user)
    try:
        return worker.run(sources, cell_timeout=cell_timeout, jail=jail, stop=stop)
    finally:
        worker.close()


class Worker:
    """A worker process (this module run as ``python -m``) that runs notebooks one after another.

    Each ``run`` gets a fresh kernel, which the worker starts, drives and shuts down before it
    answers; the worker itself never runs a cell, so keeping it for the next submission shares no
    kernel, folder or jail, and saves that submission the worker's own start (Python, NumPy,
    jupyter_client: about 0.5 s of CPU). A worker that ran past a run's budget, was stopped, or
    died is killed with its kernel, and the next run starts another. ``close`` ends it.
    """

    def __init__(self, *, memory_mb: int = MEMORY_MB, user: tuple[int, int] | None = None) -> None:
        self.memory_mb, self.user = memory_mb, user
        self._process: subprocess.Popen | None = None
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self._errors: list[bytes] = []  # the worker's stderr, its last lines
        self._readers: list[threading.Thread] = []
        self._folder: str | None = None  # its working folder: empty, nothing to import from

    def run(self, sources: list[str], *, cell_timeout: float = CELL_TIMEOUT, jail: Jail | None = None,
            stop: threading.Event | None = None) -> SandboxRun:
        """Run ``sources`` in a fresh kernel (``run_cells``); a KeyboardInterrupt ends the worker too."""
        budget = STARTUP_TIMEOUT + len(sources) * (cell_timeout + _INTERRUPT_GRACE + 1)
        budget *= 1 + MAX_RESTARTS  # a restart replays the cells before it
        run, kernel = SandboxRun([]), None
        try:
            with tempfile.TemporaryDirectory(prefix="autograd-lab-") as folder:  # this run's kernel's, and only its
                if self.user is not None:
                    os.chown(folder, *self.user)
                lines = self._send({"cells": sources, "cell_timeout": cell_timeout, "memory_mb": self.memory_mb,
                                    "cpu_seconds": round(budget), "folder": folder,
                                    "jail": None if jail is None else asdict(jail)})
                deadline, received = time.monotonic() + budget, 0
                while True:
                    killed = ("grading was stopped" if stop is not None and stop.is_set() else
                              f"the notebook did not finish within {budget:.0f} s" if time.monotonic() >= deadline
                              else f"the notebook's output was too large (over {_RUN_LIMIT // 2**20} MB)"
                              if received > _RUN_LIMIT else None)
                    left = max(0.0, deadline - time.monotonic())
                    try:
                        line = None if killed else lines.get(timeout=left if stop is None else min(left, 0.25))
                    except queue.Empty:
                        continue
                    received += len(line or b"")
                    message = _message(line)
                    if message is None:  # stopped, out of time, or the worker died: it ends, its kernel too
                        self._end()
                        if kernel is not None:
                            _kill_group(kernel)  # an unjailed kernel has its own process group
                        run.problem = killed or run.problem
                        break
                    if "done" in message:
                        break
                    if "kernel_pid" in message:
                        kernel = message["kernel_pid"]
                    elif "cell" in message:
                        run.cells.append(CellRun(**message["cell"]))
                    elif "problem" in message:
                        run.problem = message["problem"]
                    elif "note" in message:
                        run.notes.append(message["note"])
        except BaseException:  # KeyboardInterrupt included: no worker outlives its run (its jail dies with it)
            self.close()
            raise
        if run.problem is None and len(run.cells) < len(sources):
            last = b"".join(self._errors).decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
            run.problem = f"the grading worker failed: {last[0]}"
        return run

    def _send(self, job: dict) -> queue.Queue[bytes | None]:
        """Give the worker (started now if there is none) a job; its lines arrive in the returned queue."""
        if self._process is None:
            self._start()
        assert self._process is not None and self._process.stdin is not None
        try:
            self._process.stdin.write(json.dumps(job).encode() + b"\n")
            self._process.stdin.flush()
        except OSError:  # it died since its last run: its reader ends the queue
            pass
        return self._lines

    def _start(self) -> None:
        _write_bytecode()
        self._folder = tempfile.mkdtemp(prefix="autograd-lab-worker-")
        if self.user is not None:
            os.chown(self._folder, *self.user)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "autograd_lab.grading.sandbox", str(self.memory_mb)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_environment(), cwd=self._folder,
            start_new_session=True,
            **({} if self.user is None else {"user": self.user[0], "group": self.user[1], "extra_groups": []}))
        self._lines, self._errors = queue.Queue(), []
        self._readers = [threading.Thread(target=_read_lines, args=(self._process.stdout, self._lines), daemon=True),
                         threading.Thread(target=_read_errors, args=(self._process.stderr, self._errors), daemon=True)]
        for reader in self._readers:
            reader.start()

    def _end(self) -> None:
        """Kill the worker and everything in its process group (a jailed kernel dies with it)."""
        process, folder = self._process, self._folder
        self._process, self._folder = None, None
        if process is not None:
            _kill_group(process.pid)
            process.wait()
            for reader in self._readers:  # its last words, for the problem it caused
                reader.join(timeout=2)
            for pipe in (process.stdin, process.stdout, process.stderr):
                with contextlib.suppress(OSError):
                    pipe.close()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def close(self) -> None:
        """End the worker (between runs it has no kernel, so killing it loses nothing)."""
        self._end()


def _write_bytecode() -> None:
    """Compile autograd_lab's modules whose bytecode is missing or stale, once, here.

    A jailed kernel sees the package read-only, and PYTHONDONTWRITEBYTECODE keeps an unjailed one
    from caching too: without this, every kernel would compile what it imports again (0.3 to 0.5 s
    of CPU per submission from a fresh clone). A folder we cannot write is left as it is.
    """
    import compileall

    compileall.compile_dir(PACKAGE, quiet=2)


def _message(line: bytes | None) -> dict | None:
    if line is None:
        return None
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return None


def _read_lines(stream, lines: queue.Queue) -> None:
    """The worker's lines; one longer than any the worker sends is cut, so it does not parse and ends the run."""
    for line in iter(lambda: stream.readline(_LINE_LIMIT), b""):
        lines.put(line)
    lines.put(None)


def _read_errors(stream, errors: list[bytes]) -> None:
    for line in iter(stream.readline, b""):
        errors[:] = [*errors[-20:], line]


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


def _worker(memory_mb: int) -> None:
    """Run the jobs read from stdin one after another, each in a fresh kernel; say ``done`` after each."""
    import resource

    cap = memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    for line in iter(sys.stdin.readline, ""):
        _run(json.loads(line))
        _send({"done": True})


def _run(job: dict) -> None:
    """One job: a fresh kernel runs the cells (restarted after a cell it does not survive), then ends."""
    folder = os.path.join(job["folder"], "ipc")  # removed with the grader's temporary folder, whatever happens
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

    kernel, launch = [sys.executable, "-m", "autograd_lab.grading.kernel", "-f", "{connection_file}"], None
    if job["jail"] is not None:
        launch = Launch(Jail(**job["jail"]), kernel, folder, memory_mb=job["memory_mb"],
                        cpu_seconds=job["cpu_seconds"], env=_KERNEL_ENV)
    specs = os.path.join(job["folder"], "kernels")
    os.makedirs(os.path.join(specs, "grading"), exist_ok=True)
    with open(os.path.join(specs, "grading", "kernel.json"), "w") as f:
        json.dump({"argv": kernel if launch is None else launch.argv, "display_name": "grading", "language": "python",
                   "interrupt_mode": "signal" if launch is None else "message"}, f)
    options = {"transport": "ipc", "ip": os.path.join(folder, "kernel"), "kernel_name": "grading",
               "kernel_spec_manager": KernelSpecManager(kernel_dirs=[specs])}
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
    used = {"text": 0, "bytes": 0}
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
        # (a message of the wrong shape was forged by code in the cell: it is ignored)
        with contextlib.suppress(KeyError, TypeError, AttributeError, ValueError, RecursionError):
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "status" and content["execution_state"] == "idle":
                if _replied(client, msg_id):
                    return cell, "ok"
                continue  # an idle before the kernel's reply may be the cell's own: wait for the reply
            _collect(cell, kind, content, used)


def _collect(cell: dict, kind: str, content: dict, used: dict[str, int]) -> None:
    """Keep what one of the cell's messages says, within the cell's caps, as valid text."""
    if kind == "error":
        if cell["error"] is None or cell["error"]["ename"] != TOO_LARGE:
            trace = content["traceback"]
            trace = "\n".join(map(str, trace[:1000])) if isinstance(trace, list) else str(trace)
            cell["error"] = {"ename": _valid(str(content["ename"])[:_NAME_LIMIT]),
                             "evalue": _valid(str(content["evalue"])[:_VALUE_LIMIT]),
                             "traceback": _valid(_ANSI.sub("", trace[: 2 * _TEXT_LIMIT])[:_TEXT_LIMIT])}
        return
    if used["bytes"] > _CELL_LIMIT or len(cell["outputs"]) >= _MAX_OUTPUTS:
        return
    if kind in ("display_data", "execute_result") and MEASUREMENT_MIME in content["data"]:
        measurement = content["data"][MEASUREMENT_MIME]
        size = len(json.dumps(measurement))  # as it crosses to the grader
        used["bytes"] += size
        if size > _MEASUREMENT_LIMIT or used["bytes"] > _CELL_LIMIT:
            used["bytes"] = _CELL_LIMIT + 1  # nothing more is kept from this cell
            cell["outputs"] = []
            cell["error"] = {"ename": TOO_LARGE, "evalue": "the cell's output was too large (a measurement over "
                             f"{_MEASUREMENT_LIMIT // 2**10} kB, or over {_CELL_LIMIT // 2**20} MB in all); "
                             "it was dropped", "traceback": f"{TOO_LARGE}: the cell's output was dropped"}
            return
        cell["outputs"].append({"measurement": _valid_json(measurement)})
        return
    if kind == "stream":
        text = str(content["text"])
    elif kind in ("display_data", "execute_result") and "text/plain" in content["data"]:
        text = str(content["data"]["text/plain"])
    else:
        return
    if used["text"] < _TEXT_LIMIT:
        text = _valid(text[: _TEXT_LIMIT - used["text"]]) + ("" if kind == "stream" else "\n")
        used["text"] += len(text)
        cell["outputs"].append({"text": text})


def _valid(text: str) -> str:
    """``text`` with any lone surrogate (which no UTF-8 file can hold) as a backslash escape."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _valid_json(value: object) -> object:
    """A measurement whose strings are all valid text (a lone surrogate, only ever inside a string, becomes '?')."""
    encoded = json.dumps(value, ensure_ascii=False)
    try:
        encoded.encode("utf-8")
    except UnicodeEncodeError:
        return json.loads(encoded.encode("utf-8", "replace"))
    return value


def _replied(client: KernelClient, msg_id: str) -> bool:
    """Has the kernel answered this request on its shell channel (which it does just before its idle)?

    This ends a cell on an idle that follows a reply, so a bare forged idle does not end it. It is no
    proof: the kernel *process* is the student's code, which holds the session key and the shell
    socket and can forge a reply too (red team 2, F7). What keeps a forged end or measurement from
    scoring is the review, which holds any reach for the kernel's or the checker's machinery.
    """
    while True:
        try:
            reply = client.get_shell_msg(timeout=0.5)
        except queue.Empty:
            return False
        if reply["parent_header"].get("msg_id") == msg_id:
            return True


if __name__ == "__main__":
    _worker(int(sys.argv[1]))
