"""A grader keeps its worker process from one submission to the next: never its kernel, folder or jail.

The worker (``sandbox.Worker``) only starts, drives and ends kernels. Each run must still get a
kernel of its own, started for it: these tests leave every trace a submission could leave (files in
its scratch and /tmp, a changed module, a variable, a process left running) and look for them
from the next run, in the same worker and across a batch graded two at a time.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from autograd_lab.grading.grade import Grader
from autograd_lab.grading.jail import Jail
from autograd_lab.grading.sandbox import Worker
from tests.grading.crafting import SOLUTIONS, save, submission

MASTER = SOLUTIONS / "02_mul.ipynb"
LEAVE = """
import builtins, os, subprocess, sys, time
for path in ("/scratch/left-behind", "/tmp/left-behind"):
    with open(path, "w") as f:
        f.write(TOKEN)
builtins.left_behind = sys.left_behind = TOKEN
os.environ["LEFT_BEHIND"] = TOKEN
left_behind = TOKEN
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "left-behind-" + TOKEN],
                         start_new_session=True)
# Popen returns once exec has begun, but /proc/<pid>/cmdline is empty until the kernel has set up the
# new program's arguments: wait for them, so a look from this kernel cannot race the exec
for _ in range(1000):
    with open(f"/proc/{child.pid}/cmdline", "rb") as f:
        if b"left-behind-" in f.read():
            break
    time.sleep(0.01)
"""
LOOK = """
import builtins, json, os, sys
found = [p for p in ("/scratch/left-behind", "/tmp/left-behind") if os.path.exists(p)]
traces = {"builtins": hasattr(builtins, "left_behind"), "sys": hasattr(sys, "left_behind"),
          "environment": "LEFT_BEHIND" in os.environ, "variable": "left_behind" in globals()}
found += [name for name, there in traces.items() if there]
for pid in (p for p in os.listdir("/proc") if p.isdigit()):
    try:
        if b"left-behind-" in open(f"/proc/{pid}/cmdline", "rb").read():
            found.append("process")
    except OSError:
        pass
print(json.dumps({"found": found, "namespace": os.readlink("/proc/self/ns/pid"), "pid": os.getpid()}))
"""


@pytest.fixture(scope="module")
def jail() -> Jail:
    return Jail.find()


def test_one_worker_gives_each_run_a_kernel_and_scratch_of_its_own(jail):
    worker = Worker()
    try:
        first = worker.run([LEAVE.replace("TOKEN", "'first'"), LOOK], cell_timeout=60, jail=jail)
        second = worker.run([LOOK], cell_timeout=60, jail=jail)
    finally:
        worker.close()
    assert first.problem is None and second.problem is None, (first, second)
    saw_own, saw_other = json.loads(first.cells[1].text), json.loads(second.cells[0].text)
    # the first run sees what it left (so the look can find it)...
    assert set(saw_own["found"]) == {"/scratch/left-behind", "/tmp/left-behind", "builtins", "sys", "environment",
                                     "variable", "process"}
    # ...and the next run, from the same worker, none of it, in other namespaces
    assert saw_other["found"] == []
    assert saw_other["namespace"] != saw_own["namespace"]


def test_a_batch_graded_two_at_a_time_shares_nothing_between_submissions(tmp_path: Path, mul_correct: str, jail):
    # each submission first looks for what another left, and loses its Mul if it finds anything
    code = mul_correct + LOOK.replace("print(", "report = (") + "if found:\n    Mul = None\n" + LEAVE
    paths = [save(submission("02_mul", {"mul": code.replace("TOKEN", repr(f"s{k}"))}), tmp_path / f"s{k}.ipynb")
             for k in range(6)]
    with Grader(MASTER, seed=3, jail=jail, cell_timeout=60) as grader:
        results = grader.grade_all(paths, jobs=2)
        assert list(grader._workers) == [threading.get_ident()]  # the pool's workers ended with the batch
    # (the traces it leaves get it held for review: every verdict but that one must pass)
    failed = [[str(v) for o in r.outcomes for v in o.verdicts if not v.ok and "held for review" not in str(v)]
              for r in results]
    assert [(r.problem, r.errors, f) for r, f in zip(results, failed)] == [(None, [], [])] * 6
    assert all(len(r.outcomes) == 5 for r in results)


def test_a_stopped_or_killed_worker_is_replaced_for_the_next_run(jail):
    worker = Worker()
    stop = threading.Event()
    stop.set()
    try:
        stopped = worker.run(["print(1)"], jail=jail, stop=stop)
        killer = worker.run(["import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"])  # unjailed: the worker
        after = worker.run(["print(os.getpid() > 0 if 'os' in dir() else 'fresh')"], jail=jail)
    finally:
        worker.close()
    assert stopped.problem == "grading was stopped"
    assert killer.problem is not None and killer.problem.startswith("the grading worker failed")
    assert after.problem is None and after.cells[0].text == "fresh\n"


def test_closing_a_grader_ends_its_worker_and_removes_its_folder(jail):
    grader = Grader(MASTER, seed=3, jail=jail, cell_timeout=60)
    worker = next(iter(grader._workers.values()))
    process, folder = worker._process, worker._folder
    assert process is not None and process.poll() is None and os.path.isdir(folder)
    grader.close()
    assert process.poll() is not None and not os.path.exists(folder)
