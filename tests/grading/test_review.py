"""grading.review: code that reaches for the checker is flagged, ordinary solutions are not."""

from __future__ import annotations

import pytest

from autograd_lab.grading import review
from autograd_lab.grading.notebook import Exercise
from autograd_lab.grading.review import defined_names, flags
from tests.grading.crafting import ASSIGNMENTS, SOLUTIONS

PROTECTED = frozenset({"torch", "Function", "check_function"})


@pytest.mark.parametrize(("code", "finding"), [
    ("print = lambda *a: None", "line 1: rebinds print"),
    ("import builtins\nbuiltins.print = len", "line 2: assigns to `builtins.print`"),
    ("import sys\nsys.modules['autograd_lab.check'] = None", "line 2: assigns to `sys.modules['autograd_lab.check']`"),
    ("import autograd_lab.check as c\nc.check_function = print",
     "line 1: reaches the interpreter or the checker: imports autograd_lab.check"),
    ("def check_function(*args):\n    pass", "line 1: rebinds check_function"),
    ("torch.exp = None", "line 1: assigns to `torch.exp`"),
    ("open('/etc/passwd').read()", "line 1: uses open"),
    ("import subprocess", "line 1: imports subprocess"),
    ("!ls", "line 1: has an IPython magic or shell command: `!ls`"),
    ("x = (1).__class__.__subclasses__", "line 1: uses .__subclasses__"),
])
def test_suspicious_code_is_flagged(code, finding):
    assert finding in flags(code, PROTECTED)


def test_local_names_that_shadow_builtins_are_not_flagged():
    code = "def forward(ctx, input):\n    sum = input + 1\n    max = sum * 2\n    return max\n"
    assert flags(code, PROTECTED) == []


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_masters_own_solutions_are_not_flagged(name):
    exercise = Exercise.load(SOLUTIONS / f"{name}.ipynb")
    protected = frozenset().union(*(defined_names(c["source"]) for i, c in enumerate(exercise.cells)
                                    if c["cell_type"] == "code" and i not in exercise.solution_cells))
    for i in exercise.solution_cells:
        assert flags(exercise.cells[i]["source"], protected) == []


@pytest.mark.parametrize("code, held", [
    ("import builtins\nbuiltins.print = len", True),
    ("import autograd_lab.check as c\nc.check_function = None", True),
    ("print = len", True),
    ("import sys\nsys.modules['x'] = None", True),
    ("with open('notes.txt') as f:\n    f.read()", True),  # open reaches any file: held since red team 2
    ("import os\nos.getcwd()", False),
])
def test_only_code_that_changes_the_grading_machinery_is_held_for_review(code, held):
    found = review.flags(code, frozenset({"torch", "check_function"}))
    assert found  # every one of these is worth a look
    assert any(review.tampers(f) for f in found) is held


@pytest.mark.parametrize("code", [
    "import torch",
    "from torch.autograd import Function",
    "from torch.autograd.function import once_differentiable",
    "import torch.nn as nn\nfrom torch import optim",
])
def test_the_lessons_imports_are_not_flagged(code):
    # in an exercise kernel `import torch` gives autograd_lab (autograd_lab.check.start_exercise)
    assert flags(code, PROTECTED) == []


@pytest.mark.parametrize("code", ["import torch\ntorch.exp = None", "import torch as t\nt.autograd.grad = print",
                                  "from torch.autograd import Function\nFunction.apply = None"])
def test_changing_what_torch_names_is_still_held(code):
    assert any(review.tampers(f) for f in flags(code, PROTECTED))


@pytest.mark.parametrize("code", [
    # found by an attacker: the checker reached as a module attribute, patched by a method call
    "import autograd_lab as a\nck = a.check\nck.__setattr__('measure_function', print)",
    "torch.check.measure_function = print",  # in an exercise kernel torch is autograd_lab
    "object.__setattr__(some_module, 'name', None)",
    "from autograd_lab.check import begin_graded_cell",
    "def f():\n    begin_graded_cell(0, True)",
    # found by an attacker: the check's arguments read from its frame, a message sent on the kernel's own session
    "import inspect\nL = inspect.stack()[1].frame.f_locals",
    "k = get_ipython().kernel\nk.session.send(k.iopub_socket, 'status', {}, parent=None)",
])
def test_reaching_the_checkers_machinery_by_any_spelling_is_held(code):
    assert any(review.tampers(f) for f in flags(code, PROTECTED))
