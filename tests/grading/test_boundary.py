"""What crosses the boundary between a submission's kernel and the grader, tried as an attacker would.

Findings of the second red team (issue 9), each as the crafted code that found it:

- F8: in a root grader's jail the kernel made a nested user namespace (root again there) and
  mounted a tmpfs past the scratch cap: no user namespace can be made in the jail, for a root
  grader or not.
- F12: a kernel that sends a lone surrogate (its own session's packer swapped for ASCII JSON)
  crashed the reports at the end of the batch: every string the worker passes on is valid text.
- F2: a kernel that floods "measurements" or a huge exception name made the grader allocate
  gigabytes: what crosses is capped per measurement, per cell and per run.
- F1 / F7 / F6 / F11: code in the kernel can forge its own measurement (it runs where the checker
  runs); the review holds every reach for the checker or the kernel's machinery, whatever the
  spelling, and does not hold an honest student's code.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import asdict
from pathlib import Path

import pytest

from autograd_lab.grading import jail as jail_module
from autograd_lab.grading.jail import Jail
from autograd_lab.grading.sandbox import run_cells

HERE = Path(__file__).parent
ATTACKS = HERE / "attacks"

# ----- F8: no nested user namespace in the jail ---------------------------------------------------
NEW_USER_NAMESPACE = """\
import ctypes, os, subprocess
if os.fork() == 0:  # a single-threaded child: unshare(CLONE_NEWUSER) refuses a threaded process anyway
    os._exit(ctypes.CDLL(None).unshare(0x10000000) != 0)  # CLONE_NEWUSER, as os.unshare in Python 3.12+
status = "refused" if os.waitstatus_to_exitcode(os.wait()[1]) else "made"
shell = subprocess.run(["unshare", "-Ur", "id", "-u"], capture_output=True, text=True)
print(status, shell.returncode, shell.stdout.strip() or "-")
"""


def test_a_root_graders_kernel_cannot_make_a_user_namespace():
    if os.geteuid() != 0:
        pytest.skip("needs a grader running as root")
    run = run_cells([NEW_USER_NAMESPACE], jail=Jail.find(), cell_timeout=30)
    assert run.cells[0].error is None, run.cells[0].error
    status, shell, uid = run.cells[0].text.split()
    assert (status, uid) == ("refused", "-") and shell != "0"


AS_NOBODY = """
import subprocess, sys, tempfile
sys.path.insert(0, GRADING)
import jail
found = jail.Jail.find()
with tempfile.TemporaryDirectory() as folder:
    launch = jail.Launch(found, [sys.executable, "-c", CODE], folder, memory_mb=512, cpu_seconds=20)
    done = subprocess.run(launch.argv, pass_fds=launch.pass_fds, capture_output=True, text=True)
    print(found.uid, done.stdout, done.stderr)
"""


def test_a_graders_kernel_that_is_not_root_cannot_make_a_user_namespace():
    """The jail as a grader that is not root makes it (``nobody``, the system's Python): bwrap's --disable-userns."""
    python, setpriv = Path("/usr/bin/python3"), shutil.which("setpriv")
    grading = Path(jail_module.__file__).parent
    bwrap = Jail.find().bwrap
    readable = all(p.stat().st_mode & 0o005 == 0o005 for q in (grading, Path(bwrap)) for p in [q, *q.parents])
    if os.geteuid() != 0 or not setpriv or not python.exists() or not readable:
        pytest.skip("needs root, setpriv, /usr/bin/python3, and this checkout and bwrap readable by everyone")
    code = AS_NOBODY.replace("GRADING", repr(str(grading))).replace("CODE", repr(NEW_USER_NAMESPACE))
    done = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", str(python), "-c", code],
                          check=False, capture_output=True, text=True, cwd="/", timeout=120,
                          env={"AUTOGRAD_LAB_BWRAP": bwrap})
    assert done.returncode == 0, done.stderr
    mapped_by, status, shell, uid, *_ = done.stdout.split()
    assert mapped_by == "None"  # bwrap's own mapping: the grader's user
    assert (status, uid) == ("refused", "-") and shell != "0"


# ----- F12 and F2: what a kernel sends the worker passes on bounded, and as valid text -------------
ASCII_PACKER = """\
import json
from jupyter_client.jsonutil import json_default
session = get_ipython().kernel.session
session.pack = lambda message: json.dumps(message, default=json_default).encode()  # '\\udcff' travels as an escape
"""
SURROGATES = """\
from IPython.display import display
display({MIME: {"\\udcff key": ["lone \\ud800 surrogate"]}}, raw=True)
print("text \\udcff")
raise ValueError("lone surrogate: \\udcff")
"""
FLOOD = """\
from IPython.display import display
for _ in range(20):  # 100 MB of "measurements" in one cell
    display({MIME: [0] * 2_500_000}, raw=True)
print("after the flood")
"""
HUGE_NAME = """\
raise type("E" * 5_000_000, (BaseException,), {})("escapes the checker's `except Exception`")
"""


def test_what_a_kernel_sends_crosses_as_valid_text_and_bounded(tmp_path):
    from autograd_lab.check import MEASUREMENT_MIME
    from autograd_lab.grading import sandbox

    cells = [ASCII_PACKER, *(c.replace("MIME", repr(MEASUREMENT_MIME)) for c in (SURROGATES, FLOOD, HUGE_NAME)),
             "print('still running')"]
    run = run_cells(cells, jail=Jail.find(), cell_timeout=60)
    assert run.problem is None and len(run.cells) == 5, run.problem
    packer, surrogates, flood, huge, after = run.cells
    assert packer.error is None, packer.error
    # F12: every string valid UTF-8 (a report can write it), the surrogate still visible as an escape
    for cell in run.cells:
        json.dumps(asdict(cell), ensure_ascii=False).encode("utf-8")
    assert surrogates.error["evalue"] == "lone surrogate: \\udcff" and surrogates.text == "text \\udcff\n"
    assert surrogates.measurements == [{"? key": ["lone ? surrogate"]}]
    # F2: a flood loses the cell's outputs and says why; a huge exception name is cut; the kernel goes on
    assert flood.outputs == [] and flood.error["ename"] == sandbox.TOO_LARGE
    assert len(huge.error["ename"]) <= 200 and huge.error["ename"].startswith("EEE")
    assert after.text == "still running\n"
