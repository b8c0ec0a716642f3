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

import csv
import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from autograd_lab.grading import jail as jail_module
from autograd_lab.grading import review
from autograd_lab.grading.grade import _protected_names
from autograd_lab.grading.jail import Jail
from autograd_lab.grading.notebook import Exercise
from autograd_lab.grading.sandbox import run_cells
from tests.grading.crafting import ASSIGNMENTS, ROOT, SOLUTIONS, save, submission

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


# ----- F1 / F7 / F6 / F11: the review holds every reach for the checker or the kernel ----------------
PROTECTED = frozenset({"torch", "np", "Function", "check_function"})
# written by our red team; each scored full marks, or hurt others, with no flag before (REPORT.md, red team 2)
HELD_ATTACKS = ["forge_tanh.txt", "reply_mul.txt", "leak_mul.txt", "flood_mul.txt", "flood5_mul.txt", "ascii_mul.txt",
                "starve_mul.txt", "slow_mul.txt"]


def held(code: str) -> bool:
    return any(review.tampers(f) for f in review.flags(code, PROTECTED))


@pytest.mark.parametrize("attack", HELD_ATTACKS)
def test_every_attack_of_the_red_team_is_held_for_review(attack):
    assert held((ATTACKS / attack).read_text(encoding="utf-8"))


@pytest.mark.parametrize("code", [
    # the builtins that reach by a computed name or run code: any load, not only a call
    "_put = setattr\n_put(x, 'measure_' + 'function', f)",
    "list(map(setattr, [x], ['a'], [1]))",
    "f = getattr(x, 'measure_' + 'function')",
    "g = vars(x)['y']", "exec('1')", "eval", "compile('1', 'x', 'exec')", "globals()['x']", "locals()",
    "__import__('os')", "open('x')", "breakpoint()", "memoryview(b'x')",
    # introspection: frames, globals, class walks, builtins, modules
    "import sys\nframe = sys._getframe()", "f = frame.f_back", "scope = frame.f_locals", "g = fn.__globals__",
    "subs = ().__class__.__base__.__subclasses__()", "d = type(x).__dict__", "b = __builtins__",
    "def gen():\n    yield 1\nf = gen().gi_frame",
    "try:\n    1 / 0\nexcept Exception as error:\n    f = error.__traceback__.tb_frame",
    "m = print.__self__", "m = sys_module.modules['autograd_lab.check']",
    "match torch.serialization:\n    case object(__dict__=d):\n        pass",
    "from operator import attrgetter\nf = attrgetter('measure_function')",
    # a module reached as an attribute, not imported: torch.serialization.os, as a chain, an alias or an import
    "x = torch.serialization.os", "t = torch\nt.serialization.os.getcwd()", "from torch.serialization import os",
    "from torch import check", "c = torch.check", "import autograd_lab.autograd.engine as engine\nn = engine.np",
    "import inspect", "import ctypes", "import gc", "import pickle", "import importlib", "import _string",
    # the kernel and its messages
    "ip = get_ipython()", "from IPython import get_ipython", "import ipykernel", "source = In[-1]",
    "k.session.send(k.iopub_socket, 'status', {})", "s = k.shell_stream", "p = k.get_parent('shell')",
    "display(data, raw=True)", "mime = 'application/vnd.autograd-lab.' + 'measurement+json'",
    "class Forged:\n    def _repr_mimebundle_(self, include=None, exclude=None):\n        return {}",
    "get_ipython().run_line_magic('time', 'x')",  # written by hand, not by IPython for a magic
    # magics that bring in code the review does not see, or hide it in a magic's argument
    "%run helper.py", "%%writefile helper.py\nimport os", "%load_ext x", "%timeit getattr(x, 'y')",
    "%%timeit\nvars()", "%%side_by_side\nx = 1\ng = vars()", "%load_ext evil_extension",
    # the lessons' drawing idiom, but not the lessons' drawing: the globals it returns would lead anywhere
    "def draw(names):\n    return names\nb = draw(names=locals())['__builtins__']", "b = module.getattr",
    # the checker's own names
    "from autograd_lab.check import begin_graded_cell", "torch.check.measure_function = print", "x = _grading",
])
def test_reaching_the_checker_or_the_kernel_by_any_spelling_is_held(code):
    assert held(code), review.flags(code, PROTECTED)


@pytest.mark.parametrize("code", ["%timeit y = x * 2", "%timeit -n 3 -r 1 y = x * 2", "%matplotlib inline",
                                  "!ls", "files = !ls", "x?", "%%time\ny = x * 2",
                                  # the course's own magic, as the lessons write it: its code is reviewed
                                  "%load_ext autograd_lab.side_by_side", "%%side_by_side\ny = (x * x).sum()"])
def test_magics_an_honest_student_may_leave_only_look_odd(code):
    found = review.flags(code, PROTECTED)
    assert found and not any(review.tampers(f) for f in found), found
    assert any("IPython magic or shell command" in f for f in found)


@pytest.mark.parametrize("code", ["import numpy as np\nx = np.random.default_rng(0).normal(size=3)",
                                  "import math\ny = math.sqrt(2)", "import torch.nn.functional as F\ny = F.relu",
                                  "from torch.autograd import Function, gradcheck", "import os\nprint(os.getcwd())",
                                  "import os\nname = os.path.join('a', 'b')",
                                  "from autograd_lab.viz import GraphStepper\nGraphStepper(z, names=locals())",
                                  "def forward(ctx, input):\n    vars_ = input + 1\n    return vars_"])
def test_ordinary_code_is_not_held(code):
    assert not held(code), review.flags(code, PROTECTED)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_no_master_solution_is_held_for_review(name):
    exercise = Exercise.load(SOLUTIONS / f"{name}.ipynb")
    protected = _protected_names(exercise)
    for i in exercise.solution_cells:
        assert not any(review.tampers(f) for f in review.flags(exercise.cells[i]["source"], protected))


def test_no_honest_attempt_is_held_for_review():
    """The crafted honest mistakes of test_attempts (right and wrong answers): none reaches for the checker."""
    from tests.grading.test_attempts import ATTEMPTS

    protected = {name: _protected_names(Exercise.load(SOLUTIONS / f"{name}.ipynb")) for name in ASSIGNMENTS}
    found = {(str(a), cell): review.flags(source, protected[a.exercise])
             for a in ATTEMPTS for cell, source in a.answers.items()}
    assert len(found) >= 88
    assert {k: f for k, f in found.items() if any(review.tampers(x) for x in f)} == {}


def test_a_backward_computed_by_autograd_is_flagged_but_not_held():
    found = review.flags((ATTACKS / "ab_tanh.txt").read_text(encoding="utf-8"), PROTECTED)
    assert found == ["line 4: computes the backward with autograd (autograd.grad(), enable_grad)"]
    assert not any(review.tampers(f) for f in found)
    assert review.flags("class A(Function):\n    @staticmethod\n    def backward(ctx, g):\n"
                        "        return g.backward()", PROTECTED) != []


def test_the_students_code_in_a_flag_is_short_inline_code():
    code = "torch.x['<img src=x onerror=alert(1)> [click here to re-grade](https://evil.example/login)'] = 1"
    (flag,) = review.flags(code, PROTECTED)
    quoted = flag.split("assigns to ", 1)[1]
    assert quoted.startswith("`") and quoted.endswith("…`") and quoted.count("`") == 2
    assert len(quoted) <= review.QUOTE_LIMIT + 3
    assert "`" not in review.flags("torch.x['`</a>`'] = 1", PROTECTED)[0].split("assigns to `", 1)[1][:-1]


def test_a_cell_too_large_to_review_is_held_at_once():
    import time

    start = time.monotonic()
    found = review.flags("a = 1\n" * 1_000_000, PROTECTED)
    assert time.monotonic() - start < 1 and any(review.tampers(f) for f in found)


# ----- the same attacks as crafted submissions, graded by the real grader -------------------------------
GRADE_AND_MEASURE = """\
import sys
from autograd_lab.cli import main
status = main(sys.argv[1:])
# VmHWM, not ru_maxrss: a child's ru_maxrss starts at its parent's peak (pytest's, after tests that import torch)
peak = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print("peak RSS kB", peak, file=sys.stderr)
sys.exit(status)
"""


def graded(exercise: str, answers: dict[str, dict[str, str]], out: Path) -> tuple[dict[str, dict], int]:
    """Grade crafted submissions of ``exercise`` in a grader process of its own: its rows and its peak RSS (kB)."""
    folder = out.parent / f"{out.name}-submissions"
    paths = [str(save(submission(exercise, cells), folder / f"{name}.ipynb")) for name, cells in answers.items()]
    done = subprocess.run([sys.executable, "-c", GRADE_AND_MEASURE, "grade", str(SOLUTIONS / f"{exercise}.ipynb"),
                           *paths, "-o", str(out), "--seed", "1", "--timeout", "30"],
                          check=False, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    with (out / "grades.csv").open(encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    return rows, int(done.stderr.rsplit("peak RSS kB", 1)[1].split()[0])


def attack_source(name: str) -> str:
    return (ATTACKS / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def mul_batch(tmp_path_factory, mul_correct):
    answers = {name: {"mul": attack_source(f"{name}_mul.txt")} for name in ("flood", "ename", "ascii", "reply", "leak")}
    out = tmp_path_factory.mktemp("mul") / "out"
    rows, peak = graded("02_mul", {"honest": {"mul": mul_correct}, **answers}, out)
    return {"rows": rows, "peak": peak, "out": out}


def test_a_flood_from_the_kernel_leaves_the_graders_memory_bounded_and_others_scores_alone(mul_batch):
    # before: 100 MB of "measurements" in one cell took the grader from 43 MB to 733 MB
    assert mul_batch["peak"] < 250 * 1024, mul_batch["peak"]
    assert float(mul_batch["rows"]["honest"]["total"]) == 10
    assert {"honest", "flood", "ename", "ascii", "reply", "leak"} <= set(mul_batch["rows"])
    # before: a 5 MB exception name made 25 MB of feedback, results.json and grades_long.csv
    assert all(p.stat().st_size < 200_000 for p in mul_batch["out"].rglob("*") if p.is_file())


def test_a_lone_surrogate_from_the_kernel_leaves_every_report_valid_text(mul_batch):
    for path in (p for p in mul_batch["out"].rglob("*") if p.is_file()):
        path.read_bytes().decode("utf-8")  # strict: every report was written, in UTF-8
    feedback = (mul_batch["out"] / "feedback" / "ascii.md").read_text(encoding="utf-8")
    assert "ValueError: lone surrogate: \\udcff" in feedback


@pytest.mark.parametrize("student", ["flood", "ascii", "reply", "leak"])
def test_forging_or_flooding_submissions_are_held_with_no_points(mul_batch, student):
    row = mul_batch["rows"][student]
    assert float(row["total"]) == 0 and row["review"], row


def test_a_forged_checker_and_a_backward_by_autograd_in_06(tmp_path):
    wrong = {"xsinx": attack_source("wrong_xsinx.txt"), "softplus": attack_source("wrong_softplus.txt"),
             "logsumexp": attack_source("wrong_logsumexp.txt")}
    by_autograd = {"tanh": attack_source("ab_tanh.txt"), "xsinx": attack_source("ab_xsinx.txt"),
                   "softplus": attack_source("ab_softplus.txt"), "logsumexp": attack_source("ab_lse.txt")}
    rows, _ = graded("06_derive_backward", {"forge": {"tanh": attack_source("forge_tanh.txt"), **wrong},
                                            "by_autograd": by_autograd}, tmp_path / "out")
    # before: 10/10 and no flag. The forgery is held; the shortcut is flagged for a person, its checks pass
    assert float(rows["forge"]["total"]) == 0 and "held" in (tmp_path / "out" / "feedback" / "forge.md").read_text()
    assert "computes the backward with autograd" in rows["by_autograd"]["review"]


ATTACH_TO_THE_KERNEL = """\
import os, subprocess
script = f"cat /proc/{os.getpid()}/environ > /dev/null 2>&1 && echo environ; " \\
         f"head -c 1 /proc/{os.getpid()}/mem > /dev/null 2>&1 && echo mem; echo done"
print(subprocess.run(["sh", "-c", script], capture_output=True, text=True).stdout.split())
"""


def test_a_process_the_notebook_starts_cannot_attach_to_its_kernel():
    """A shell command is only noted by the review: the code it runs must not reach into the kernel's memory."""
    run = run_cells([ATTACH_TO_THE_KERNEL], jail=Jail.find(), cell_timeout=30)
    assert run.cells[0].error is None, run.cells[0].error
    assert run.cells[0].text == "['done']\n"


def test_the_grader_cuts_a_worker_line_longer_than_any_it_sends():
    """Defence in depth: a worker line past the cap is cut, so it does not parse and the run ends (not memory)."""
    import io
    import queue

    from autograd_lab.grading import sandbox

    lines: queue.Queue = queue.Queue()
    sandbox._read_lines(io.BytesIO(b'{"cell": "' + b"x" * sandbox._LINE_LIMIT + b'"}\n'), lines)
    first = lines.get_nowait()
    assert len(first) == sandbox._LINE_LIMIT and sandbox._message(first) is None
