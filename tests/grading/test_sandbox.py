"""The sandbox: each submission's kernel is capped, and nothing it does stops the cells after it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from autograd_lab.grading.jail import Jail
from autograd_lab.grading.sandbox import run_cells


def test_a_loop_that_ignores_its_interrupt_costs_only_its_own_cell():
    stubborn = "while True:\n    try:\n        sum(range(10**6))\n    except KeyboardInterrupt:\n        pass"
    run = run_cells(["x = 1", stubborn, "print(x + 1)"], cell_timeout=2)
    assert [c.timed_out for c in run.cells] == [False, True, False]
    assert run.cells[2].text == "2\n"  # the kernel was restarted and `x = 1` run again
    assert run.problem is None
    assert "the kernel was restarted" in run.notes[0]


def test_the_worker_imports_nothing_from_the_folder_it_was_started_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "resource.py").write_text("print('forged')\nraise SystemExit\n")  # a module the worker imports
    monkeypatch.chdir(tmp_path)
    run = run_cells(["1 / 0"])
    assert run.cells[0].error["ename"] == "ZeroDivisionError"


def test_a_jailed_kernel_that_ignores_interrupts_is_killed_and_replaced():
    deaf = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    run = run_cells(["x = 1", deaf, "print(x + 1)"], cell_timeout=2, jail=Jail.find())
    assert [c.timed_out for c in run.cells] == [False, True, False]
    assert run.cells[2].text == "2\n" and "the kernel was restarted" in run.notes[0]


def test_setting_stop_ends_a_run_at_once():
    stop = threading.Event()
    threading.Timer(5, stop.set).start()
    start = time.monotonic()
    run = run_cells(["import time\ntime.sleep(120)"], cell_timeout=150, jail=Jail.find(), stop=stop)
    assert run.problem == "grading was stopped" and time.monotonic() - start < 60


def test_an_idle_forged_by_the_cell_does_not_end_it_before_the_checkers_own_output():
    """Found by an attacker: the cell sent its own idle (with its own parent header) to end the cell
    before the checker's real measurement arrived; only the kernel's reply ends a cell."""
    forge = ("from IPython import get_ipython\nimport time\nk = get_ipython().kernel\n"
             "k.session.send(k.iopub_socket, 'status', {'execution_state': 'idle'}, parent=k.get_parent())\n"
             "time.sleep(1)\nprint('the real output')")
    run = run_cells([forge, "print('next cell')"], cell_timeout=20)
    assert run.cells[0].text == "the real output\n"
    assert run.cells[1].text == "next cell\n"


def test_shared_memory_outside_the_address_space_is_capped_too():
    # found by an attacker: 3 System V segments of 1 GB, attached, filled and detached, were not counted
    grab = ("import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
            "print(libc.shmget(0, 3 << 30, 0o1600), libc.shmget(0, 1 << 20, 0o1600) >= 0)")
    run = run_cells([grab], cell_timeout=20, memory_mb=1024, jail=Jail.find())
    assert run.cells[0].text == "-1 True\n"  # 3 GB refused, 1 MB still fine
