"""Crafted student attempts, wrong and right, for every exercise: each gets its points and a hint naming its cause.

An attempt replaces some solution cells of a master (the others keep the master's answer) and runs
the whole notebook in this process, checks included (hidden ones too), as a kernel would: the
master's setup cell makes ``import torch`` give autograd_lab, and every check returns its result
(a check cell never raises). ``points`` is the total over every check; ``cause`` is a phrase that
must appear in a failing (or warning) verdict. A few attempts also go through ``autograd-lab check``,
``pytest --nbval-lax`` and ``autograd-lab grade``.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import linecache
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

import autograd_lab.check as checker
from autograd_lab.check import CheckResult
from autograd_lab.cli import main
from autograd_lab.grading.grade import Grader
from autograd_lab.grading.notebook import BEGIN, END, Exercise, stub
from tests.grading.crafting import SOLUTIONS, master_solution, save, submission


@dataclass(frozen=True)
class Attempt:
    exercise: str
    what: str
    answers: dict[str, str]  # solution cell id -> the student's source
    points: float  # over all checks, hidden ones included
    cause: str | None = None  # a phrase of the failing (or warning) verdict that names the cause
    not_said: tuple[str, ...] = field(default=())  # phrases no verdict may say (a misleading hint, the answer)

    def __str__(self) -> str:
        return f"{self.exercise}: {self.what}"


def master(exercise: str, cell: str) -> str:
    """The master's answer in ``cell``, as a student who got it right writes it (no solution markers)."""
    lines = master_solution(exercise, cell).splitlines(keepends=True)
    return "".join(line for line in lines if line.strip() not in (BEGIN, END))


def edit(exercise: str, cell: str, old: str, new: str) -> dict[str, str]:
    """The master's answer in ``cell`` with one change (a typical mistake)."""
    source = master(exercise, cell)
    assert old in source, (exercise, cell, old)
    return {cell: source.replace(old, new)}


def stubs(exercise: str) -> dict[str, str]:
    """Every solution cell as the exercise notebook has it: the untouched exercise."""
    notebook = Exercise.load(SOLUTIONS / f"{exercise}.ipynb")
    return {notebook.cells[i]["id"]: stub(notebook.cells[i]["source"]) for i in notebook.solution_cells}


def run_cell(source: str, namespace: dict, filename: str):
    """Run a cell as IPython would; return its last expression's value (linecache: tracebacks show lines)."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, filename, "exec"), namespace)
    return None if last is None else eval(compile(ast.Expression(last.value), filename, "eval"), namespace)


def run_notebook(exercise: str, answers: dict[str, str]) -> dict[str, CheckResult]:
    """Every code cell of the master, with ``answers`` in its solution cells: each check's result."""
    notebook = Exercise.load(SOLUTIONS / f"{exercise}.ipynb")
    checks = {c.cell: c for c in notebook.checks}
    namespace, results, real_import = {"__name__": "__main__"}, {}, builtins.__import__
    was_exercise = checker._exercise
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for i, cell in enumerate(notebook.cells):
                if cell["cell_type"] != "code":
                    continue
                source = answers.get(cell["id"], cell["source"]) if i in notebook.solution_cells else cell["source"]
                value = run_cell(source, namespace, f"<{exercise} cell {i}>")
                if i in checks:
                    assert isinstance(value, CheckResult) and value.points == checks[i].points
                    results[checks[i].id] = value
    finally:
        builtins.__import__ = real_import  # the setup cell's alias is for the notebook, not for the tests
        checker._exercise = was_exercise
    return results


# ----- 01: the backward engine ----------------------------------------------------------------------
E01 = "01_backward_engine"
BFS_ORDER = """
def topological_order(root):
    order, queue = [], [root]
    while queue:
        node = queue.pop(0)
        if node not in order:
            order.append(node)
            queue += [child for child, _ in node.next_functions if child is not None]
    return order
"""
POSTORDER = """
def topological_order(root):
    done, order, stack = set(), [], [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif node not in done:
            done.add(node)
            stack.append((node, True))
            stack += [(child, False) for child, _ in node.next_functions if child is not None]
    return order[::-1]
"""
RECURSIVE_BACKWARD = """
def backward(output):
    order = []
    def visit(node, grad):
        order.append(node)
        sent = node(grad)
        sent = sent if isinstance(sent, tuple) else (sent,)
        for (child, _), g in zip(node.next_functions, sent):
            if child is not None and g is not None:
                visit(child, g)
    visit(output.grad_fn, torch.ones_like(output))
    return order
"""
BY_SEQUENCE_NUMBER = """
def topological_order(root):
    waiting, order, ready = count_senders(root), [], [root]
    while ready:
        ready.sort(key=lambda n: n._sequence_nr)
        node = ready.pop()
        order.append(node)
        for child, _ in node.next_functions:
            if child is not None:
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)
    return order
"""
ENGINE = [
    Attempt(E01, "the master's answer", {}, 10),
    Attempt(E01, "a depth-first postorder, reversed (another valid order)", {"topological-order": POSTORDER}, 10),
    Attempt(E01, "the stub", stubs(E01), 0, "not done yet"),
    Attempt(E01, "breadth-first order: a shared node comes too early", {"topological-order": BFS_ORDER}, 7,
            "which sends it a gradient"),
    Attempt(E01, "an edge (None, 0) followed", edit(E01, "count-senders", "            if child is not None:\n",
                                                    "            if True:\n"), 3, "can be (None, 0)"),
    Attempt(E01, "gradients meeting at a node overwrite each other",
            edit(E01, "backward", "grads[child] = grads[child] + grad if child in grads else grad",
                 "grads[child] = grad"), 7, "must be added up"),
    Attempt(E01, "AccumulateGrad nodes never called",
            edit(E01, "backward", "        sent = node(grads.pop(node))\n",
                 "        if 'AccumulateGrad' in node.name():\n            continue\n"
                 "        sent = node(grads.pop(node))\n"), 4, "AccumulateGrad node is called"),
    Attempt(E01, "backward returns nothing", edit(E01, "backward", "    return order\n", ""), 4,
            "not a list of nodes"),
    Attempt(E01, "each gradient sent on at once (a recursion): a shared node runs twice",
            {"backward": RECURSIVE_BACKWARD}, 7, "more than once"),
    Attempt(E01, "ordered by autograd_lab's private _sequence_nr", {"topological-order": BY_SEQUENCE_NUMBER}, 0,
            "on PyTorch's graph"),
    Attempt(E01, "the order holds names, not nodes",
            edit(E01, "topological-order", "order.append(node)", "order.append(node.name())"), 0,
            "not a node of this graph"),
    Attempt(E01, "a node counted once per path but queued twice",
            edit(E01, "count-senders", "                if child not in seen:\n                    seen.add(child)\n"
                 "                    stack.append(child)\n", "                stack.append(child)\n"), 10),
]


# ----- 02: the book's Mul -----------------------------------------------------------------------------
E02 = "02_mul"
MUL = master(E02, "mul")
LESSON_IMPORTS = ("import torch\nfrom torch.autograd import Function\n"
                  "from torch.autograd.function import once_differentiable\n\n")
MUL_ATTEMPTS = [
    Attempt(E02, "the master's answer", {}, 10),
    Attempt(E02, "the lessons' imports copied into the cell", {"mul": LESSON_IMPORTS + MUL}, 10),
    Attempt(E02, "the 2018 name saved_variables", edit(E02, "mul", "ctx.saved_tensors", "ctx.saved_variables"), 10,
            "deprecated API"),
    Attempt(E02, "the stub", stubs(E02), 0, "not done yet"),
    Attempt(E02, "a class without forward", {"mul": "class Mul(Function):\n    pass\n"}, 0,
            "your class has no forward"),
    Attempt(E02, "grad_output changed in place", edit(E02, "mul", "return grad_output * x, grad_x",
                                                      "return grad_output.mul_(x), grad_x"), 1,
            "changes grad_output in place", ("that is the gradient of",)),
    Attempt(E02, "a tensor returned for the flag", edit(E02, "mul", "grad_output, None", "grad_output, grad_output"), 1,
            "return None for x_requires_grad", ("value(s) for the",)),
    Attempt(E02, "tensors kept as ctx attributes, not saved",
            {"mul": MUL.replace("ctx.save_for_backward(w, x)", "ctx.w, ctx.x = w, x")
             .replace("w, x = ctx.saved_tensors", "w, x = ctx.w, ctx.x")}, 1,
            "instead of saving them with ctx.save_for_backward"),
    Attempt(E02, "the flag passed to save_for_backward", edit(E02, "mul", "ctx.save_for_backward(w, x)",
                                                               "ctx.save_for_backward(w, x, x_requires_grad)"), 0,
            "keep other values, such as flags, on ctx"),
    Attempt(E02, "the gradients of w and x swapped", edit(E02, "mul", "return grad_output * x, grad_x",
                                                          "return grad_output * w, grad_x"), 1,
            "that is the gradient of x"),
    Attempt(E02, "grad of x without grad_output", edit(E02, "mul", "grad_x = grad_output * w if", "grad_x = w if"), 5,
            "multiply by grad_output"),
    Attempt(E02, "the flag ignored", edit(E02, "mul", "grad_x = grad_output * w if ctx.x_requires_grad else None",
                                          "grad_x = grad_output * w"), 6, "should return None here"),
    Attempt(E02, "a NumPy array returned", edit(E02, "mul", "return grad_output * x, grad_x, grad_output, None",
                                                "return (grad_output * x).numpy(), grad_x, grad_output, None"), 1,
            "NumPy array"),
    Attempt(E02, "nothing saved", edit(E02, "mul", "ctx.save_for_backward(w, x)", "ctx.save_for_backward()"), 1,
            "forward saved nothing"),
    Attempt(E02, "the sign of b's gradient", edit(E02, "mul", "grad_x, grad_output, None",
                                                  "grad_x, -grad_output, None"), 1, "the sign is wrong"),
]


# ----- 03: MultiplyAdd, repaired, and two outputs --------------------------------------------------------
E03 = "03_multiply_add"
BOOK_MULTIPLY_ADD = """
class MultiplyAdd(Function):
    @staticmethod
    def forward(ctx, w, x, b):
        print('type in forward', type(x))
        ctx.save_for_backward()
        output = w*x+b
        return output

    @staticmethod
    def backward(ctx, grad_output):
        w,x = ctx.saved_variables
        print('type in backward', type(x))
        grad_w = grad_output * x
        grad_x = grad_output * w
        grad_b = grad_output * 1
        return grad_w, grad_x, grad_b
"""
WITH_NEEDS_INPUT_GRAD = """
class MultiplyAdd(Function):
    @staticmethod
    def forward(ctx, w, x, b):
        ctx.save_for_backward(w, x)
        return w * x + b

    @staticmethod
    def backward(ctx, grad_output):
        w, x = ctx.saved_tensors
        grad_w = grad_output * x if ctx.needs_input_grad[0] else None
        grad_x = grad_output * w if ctx.needs_input_grad[1] else None
        return grad_w, grad_x, grad_output
"""
MULTIPLY_ADD_ATTEMPTS = [
    Attempt(E03, "the master's answer", {}, 10),
    Attempt(E03, "the stub", stubs(E03), 0, "not done yet"),
    Attempt(E03, "the book's code as printed", {"multiply-add": BOOK_MULTIPLY_ADD}, 4, "forward saved nothing"),
    Attempt(E03, "the book's code with w, x saved (prints and saved_variables left in)",
            {"multiply-add": BOOK_MULTIPLY_ADD.replace("ctx.save_for_backward()", "ctx.save_for_backward(w, x)")}, 10,
            "deprecated API"),
    Attempt(E03, "needs_input_grad, from lesson 07, also right", {"multiply-add": WITH_NEEDS_INPUT_GRAD}, 10),
    Attempt(E03, "the lessons' imports copied into both cells",
            {c: LESSON_IMPORTS + master(E03, c) for c in ("multiply-add", "mul-and-add")}, 10),
    Attempt(E03, "the gradients of w and x swapped", edit(E03, "multiply-add", "grad_output * x, grad_output * w",
                                                          "grad_output * w, grad_output * x"), 4,
            "that is the gradient of x"),
    Attempt(E03, "two outputs, only the product's path", edit(E03, "mul-and-add",
                                                              "grad_prod * x + grad_sum, grad_prod * w + grad_sum",
                                                              "grad_prod * x, grad_prod * w"), 6,
            "collects a term along each path"),
    Attempt(E03, "two outputs, the gradients of the outputs mixed up",
            edit(E03, "mul-and-add", "grad_prod * x + grad_sum, grad_prod * w + grad_sum",
                 "grad_sum * x + grad_prod, grad_sum * w + grad_prod"), 6, "one gradient per output"),
    Attempt(E03, "two outputs, one gradient returned", edit(E03, "mul-and-add",
                                                            "return grad_prod * x + grad_sum, grad_prod * w + grad_sum",
                                                            "return grad_prod * x + grad_sum"), 6,
            "backward returns 1 value(s) for the 2 inputs"),
    Attempt(E03, "w and x kept on ctx", {"multiply-add": master(E03, "multiply-add").replace(
        "ctx.save_for_backward(w, x)", "ctx.w, ctx.x = w, x").replace("w, x = ctx.saved_tensors",
                                                                      "w, x = ctx.w, ctx.x")},
            4, "instead of saving them with ctx.save_for_backward"),
    Attempt(E03, "b's gradient forgotten", edit(E03, "multiply-add", "grad_output * w, grad_output",
                                                "grad_output * w, None"), 4, "grad of b is None"),
]


# ----- 04: double backward ----------------------------------------------------------------------------
E04 = "04_double_backward"
SIGMOID_FROM_INTERMEDIATE = """
class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        e = torch.exp(-x)
        ctx.save_for_backward(e)
        return 1 / (1 + e)

    @staticmethod
    def backward(ctx, grad_output):
        (e,) = ctx.saved_tensors
        y = 1 / (1 + e)
        return grad_output * y * (1 - y)
"""
CUBE_ONCE_DIFFERENTIABLE = """
from torch.autograd.function import once_differentiable


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 3 * x ** 2
"""
DOUBLE_BACKWARD_ATTEMPTS = [
    Attempt(E04, "the master's answer", {}, 10),
    Attempt(E04, "the stub", stubs(E04), 0, "not done yet"),
    Attempt(E04, "Cube's derivative off by a factor", edit(E04, "cube", "grad_output * 3 * x ** 2",
                                                          "grad_output * 2 * x ** 2"), 4, "a constant factor is off",
            ("no .data", "gradgradcheck fails")),
    Attempt(E04, "Cube's backward detaches x", edit(E04, "cube", "grad_output * 3 * x ** 2",
                                                   "grad_output * 3 * x.detach() ** 2"), 6, "no .data, .detach()"),
    Attempt(E04, "Cube's backward through .data", edit(E04, "cube", "grad_output * 3 * x ** 2",
                                                      "grad_output * 3 * x.data ** 2"), 6, "no .data, .detach()"),
    Attempt(E04, "Cube's backward once_differentiable, imported as lesson 04 does",
            {"cube": CUBE_ONCE_DIFFERENTIABLE}, 6, "marked @once_differentiable"),
    Attempt(E04, "Sigmoid saves an intermediate", {"sigmoid": SIGMOID_FROM_INTERMEDIATE}, 6,
            "neither an input nor the output", ("no .data",)),
    Attempt(E04, "Sigmoid's backward without grad_output", edit(E04, "sigmoid", "return grad_output * y * (1 - y)",
                                                               "return y * (1 - y)"), 6, "multiply by grad_output",
            ("gradgradcheck fails",)),
    Attempt(E04, "Sigmoid with torch.sigmoid in forward", edit(E04, "sigmoid", "y = 1 / (1 + torch.exp(-x))",
                                                              "y = torch.sigmoid(x)"), 10),
    Attempt(E04, "Cube returning a NumPy array", edit(E04, "cube", "return grad_output * 3 * x ** 2",
                                                     "return (grad_output * 3 * x ** 2).numpy()"), 4, "NumPy array"),
    Attempt(E04, "Cube's forward through NumPy", edit(E04, "cube", "return x ** 3",
                                                     "return torch.from_numpy(x.numpy() ** 3)"), 10),
    Attempt(E04, "Sigmoid's derivative in terms of x, wrongly", edit(E04, "sigmoid", "return grad_output * y * (1 - y)",
                                                                    "return grad_output * y * (1 - y) * 2"), 6,
            "a constant factor is off"),
]


# ----- 05: training chosen layers -----------------------------------------------------------------------
E05 = "05_train_chosen_layers"
TRAINING_ATTEMPTS = [
    Attempt(E05, "the master's answer", {}, 10),
    Attempt(E05, "the stub", stubs(E05), 0, "not done yet"),
    Attempt(E05, "freeze with the Module's requires_grad_",
            {"freeze": "def freeze(layer):\n    layer.requires_grad_(False)\n"}, 10),
    Attempt(E05, "freeze by assigning requires_grad", edit(E05, "freeze", "p.requires_grad_(False)",
                                                           "p.requires_grad = False"), 10),
    Attempt(E05, "only the weight frozen", {"freeze": "def freeze(layer):\n    layer.weight.requires_grad_(False)\n"},
            6, "still require(s) grad", ("requires_grad_(False)", "one dict per group")),
    Attempt(E05, "gradients cleared instead of frozen", edit(E05, "freeze", "p.requires_grad_(False)", "p.grad = None"),
            6, "which method of a tensor changes that", ("requires_grad_(False)",)),
    Attempt(E05, "the head optimizer not returned", edit(E05, "head-optimizer", "return torch.optim.SGD",
                                                         "torch.optim.SGD"), 7, "the optimizer is None"),
    Attempt(E05, "the head optimizer over every parameter", edit(E05, "head-optimizer", "model[4].parameters()",
                                                                 "model.parameters()"), 7,
            "which parameters did you give it", ("one dict per group",)),
    Attempt(E05, "the head optimizer with another learning rate", edit(E05, "head-optimizer", "lr=0.1", "lr=0.01"), 7,
            "with the task's learning rate", ("one dict per group",)),
    Attempt(E05, "two speeds, learning rates swapped", {"two-speed": master(E05, "two-speed").replace(
        '"lr": 0.01}', '"lr": TMP}').replace('"lr": 0.1}', '"lr": 0.01}').replace('"lr": TMP}', '"lr": 0.1}')}, 7,
            "a param group is a dict with its own 'params' and 'lr'"),
    Attempt(E05, "two speeds, the middle layer trained too", edit(E05, "two-speed", "model[0].parameters()",
                                                                  "[*model[0].parameters(), *model[2].parameters()]"),
            7, "which parameters did you give it"),
    Attempt(E05, "two speeds as one group", {"two-speed": "def two_speed_optimizer(model):\n    return torch.optim.SGD("
                                             "[*model[0].parameters(), *model[4].parameters()], lr=0.1)\n"}, 7,
            "the task asks for 2 of them"),
]


# ----- 06: derive the backward ------------------------------------------------------------------------------
E06 = "06_derive_backward"
DERIVE_ATTEMPTS = [
    Attempt(E06, "the master's answer", {}, 10),
    Attempt(E06, "the stub", stubs(E06), 0, "not done yet"),
    Attempt(E06, "tanh: 1 + y² (a sign slip in the quotient rule)", edit(E06, "tanh", "(1 - y * y)", "(1 + y * y)"), 8,
            "-2 × y squared"),
    Attempt(E06, "tanh: 1 - y", edit(E06, "tanh", "(1 - y * y)", "(1 - y)"), 8, "check one point by hand"),
    Attempt(E06, "tanh without grad_output", edit(E06, "tanh", "return grad_output * (1 - y * y)", "return 1 - y * y"),
            8, "multiply by grad_output"),
    Attempt(E06, "x·sin(x): one term of the product rule", edit(E06, "xsinx", "(torch.sin(x) + x * torch.cos(x))",
                                                              "x * torch.cos(x)"), 7, "y divided by x"),
    Attempt(E06, "x·sin(x): cos(x) alone", edit(E06, "xsinx", "(torch.sin(x) + x * torch.cos(x))", "torch.cos(x)"), 7,
            "check one point by hand", ("sin", "cos")),
    Attempt(E06, "x·sin(x): the sign of the second term", edit(E06, "xsinx", "torch.sin(x) + x * torch.cos(x)",
                                                              "-(torch.sin(x) + x * torch.cos(x))"), 7,
            "the sign is wrong"),
    Attempt(E06, "softplus: exp(x), the chain rule through log forgotten", edit(E06, "softplus", "torch.sigmoid(x)",
                                                                                "torch.exp(x)"), 8,
            "check one point by hand", ("sigmoid",)),
    Attempt(E06, "softplus: written out in full", edit(E06, "softplus", "torch.sigmoid(x)",
                                                       "torch.exp(x) / (1 + torch.exp(x))"), 10),
    Attempt(E06, "logsumexp: grad_output not unsqueezed", edit(E06, "logsumexp", "grad_output.unsqueeze(-1) *",
                                                               "grad_output *"), 7, "print the shapes"),
    Attempt(E06, "logsumexp: exp(x), not divided by the row's sum",
            edit(E06, "logsumexp", "torch.exp(x - y.unsqueeze(-1))", "torch.exp(x)"), 7,
            "off by one common factor, a different one per row"),
    Attempt(E06, "logsumexp: softmax recomputed from x", edit(E06, "logsumexp", "torch.exp(x - y.unsqueeze(-1))",
                                                              "torch.exp(x) / torch.exp(x).sum(-1, keepdim=True)"), 10),
]


# ----- 07: broadcasting -----------------------------------------------------------------------------------
E07 = "07_broadcasting"
LINEAR_PYTORCH2 = """
class LinearFunction(Function):
    @staticmethod
    def forward(x, weight, bias):
        return x @ weight.T + bias

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, weight, bias = inputs
        ctx.save_for_backward(x, weight)

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        return grad_output @ weight, grad_output.T @ x, grad_output.sum(0)
"""
BROADCASTING_ATTEMPTS = [
    Attempt(E07, "the master's answer", {}, 10),
    Attempt(E07, "the stub", stubs(E07), 0, "not done yet"),
    Attempt(E07, "the PyTorch 2 style (lesson 07)", {"linear": LINEAR_PYTORCH2}, 10),
    Attempt(E07, "the PyTorch 2 style, forward still taking ctx",
            {"linear": LINEAR_PYTORCH2.replace("def forward(x, weight, bias)", "def forward(ctx, x, weight, bias)")}, 5,
            "forward takes ctx", ("unsupported operand",)),
    Attempt(E07, "bias's gradient not summed", edit(E07, "linear", "grad_output.sum(0)", "grad_output"), 6,
            "sum it over the broadcast dimensions"),
    Attempt(E07, "bias's gradient summed over the wrong dimension", edit(E07, "linear", "grad_output.sum(0)",
                                                                         "grad_output.sum(1)"), 6,
            "which dimensions of bias did you sum over"),
    Attempt(E07, "weight's gradient transposed", edit(E07, "linear", "grad_output.T @ x", "x.T @ grad_output"), 6,
            "the right sizes in the wrong order"),
    Attempt(E07, "forward in NumPy", edit(E07, "linear", "return x @ weight.T + bias",
                                          "return x.numpy() @ weight.numpy().T + bias.numpy()"), 5,
            "forward returned a NumPy array"),
    Attempt(E07, "needs_input_grad (lesson 07), also right",
            edit(E07, "linear", "return grad_output @ weight, grad_output.T @ x, grad_output.sum(0)",
                 "return (grad_output @ weight if ctx.needs_input_grad[0] else None, grad_output.T @ x,\n"
                 "                grad_output.sum(0))"), 10),
    Attempt(E07, "unbroadcast without keepdim", edit(E07, "unbroadcast", "grad.sum(i, keepdim=True)", "grad.sum(i)"), 5,
            "keepdim=True when you sum"),
    Attempt(E07, "unbroadcast only drops leading dimensions", edit(E07, "unbroadcast",
                                                                   "        if size == 1 and grad.shape[i] != 1:\n",
                                                                   "        if False:\n"), 5,
            "sum it over the broadcast dimensions"),
    Attempt(E07, "a and b's gradients swapped in BroadcastMul",
            edit(E07, "broadcast-mul", "unbroadcast(grad_output * b, a.shape), unbroadcast(grad_output * a, b.shape)",
                 "unbroadcast(grad_output * a, a.shape), unbroadcast(grad_output * b, b.shape)"), 5,
            "compared with torch autograd"),
]


ATTEMPTS = [*ENGINE, *MUL_ATTEMPTS, *MULTIPLY_ADD_ATTEMPTS, *DOUBLE_BACKWARD_ATTEMPTS, *TRAINING_ATTEMPTS,
            *DERIVE_ATTEMPTS, *BROADCASTING_ATTEMPTS]


def test_every_exercise_has_ten_attempts_right_and_wrong():
    names = sorted(p.stem for p in SOLUTIONS.glob("*.ipynb"))
    for name in names:
        mine = [a for a in ATTEMPTS if a.exercise == name]
        assert len(mine) >= 10, name
        assert any(a.points == 10 for a in mine) and any(a.points < 10 for a in mine), name
    assert {a.exercise for a in ATTEMPTS} == set(names)


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=str)
def test_an_attempt_gets_its_points_and_a_hint_that_names_its_cause(attempt):
    results = run_notebook(attempt.exercise, attempt.answers)
    said = [str(v) for result in results.values() for v in result.verdicts if not v.ok or v.warning]
    assert sum(r.score for r in results.values()) == attempt.points, said
    if attempt.cause is None:
        assert said == []
    else:
        assert any(attempt.cause in line for line in said), said
    assert not [line for line in said for phrase in attempt.not_said if phrase in line]


# ----- the same attempts, the ways a student and an instructor run them ---------------------------------
def attempt(exercise: str, what: str) -> Attempt:
    return next(a for a in ATTEMPTS if a.exercise == exercise and a.what == what)


def answers_of(a: Attempt) -> dict[str, str]:
    """Every solution cell as the student hands it in: the attempt's, the master's answer elsewhere."""
    notebook = Exercise.load(SOLUTIONS / f"{a.exercise}.ipynb")
    cells = [notebook.cells[i]["id"] for i in notebook.solution_cells]
    return {**{c: master(a.exercise, c) for c in cells}, **a.answers}


def notebook_of(a: Attempt, folder) -> object:
    return save(submission(a.exercise, answers_of(a)), folder / f"{a.exercise}.ipynb")


@pytest.mark.parametrize(("exercise", "what", "line"), [
    (E02, "a tensor returned for the flag", "✗ mul-backward  0/3 points"),
    (E04, "Sigmoid saves an intermediate", "✗ sigmoid-double  0/3 points"),
    (E03, "the book's code with w, x saved (prints and saved_variables left in)", "⚠ uses a deprecated API"),
    (E06, "logsumexp: grad_output not unsqueezed", "(in backward, line 11): `return grad_output * torch.exp("),
])
def test_autograd_lab_check_says_the_same(tmp_path, capsys, exercise, what, line):
    a = attempt(exercise, what)
    checks = Exercise.load(SOLUTIONS / f"{exercise}.ipynb").checks
    public = {c.id for c in checks if not c.hidden}
    expected = sum(r.score for check, r in run_notebook(exercise, a.answers).items() if check in public)
    main(["check", str(notebook_of(a, tmp_path))])
    out = capsys.readouterr().out
    assert line in out and a.cause in out
    assert f"Score: {expected:g}/{sum(c.points for c in checks if not c.hidden):g} points" in out


def test_nbval_lax_fails_exactly_the_failing_checks(tmp_path):
    a = attempt(E02, "the flag ignored")  # mul-forward and mul-backward pass, mul-flag fails
    path = notebook_of(a, tmp_path)
    report = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-p",
                             "no:xdist", "-q", "-rA", str(path)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300, check=False)
    codes = [c for c in Exercise.load(path).cells if c["cell_type"] == "code"]
    failing = {f"Cell {k}" for k, c in enumerate(codes) if c.get("id") == "check-mul-flag"}
    failed = {line.split("::")[1].split(" - ")[0].strip() for line in report.stdout.splitlines()
              if line.startswith("FAILED")}
    assert failed == failing, report.stdout[-3000:]
    assert "CheckFailedError" in report.stdout and "should return None here" in report.stdout


def test_grade_scores_lesson_imports_fully_and_still_holds_tampering(tmp_path):
    right = attempt(E02, "the lessons' imports copied into the cell")
    wrong = attempt(E02, "grad_output changed in place")
    tampering = {"mul": master(E02, "mul") + "\nimport autograd_lab.check as c\nc.check_function = print\n"}
    paths = [save(submission(E02, answers), tmp_path / f"{name}.ipynb") for name, answers in
             (("right", answers_of(right)), ("wrong", answers_of(wrong)), ("tampering", tampering))]
    grader = Grader(SOLUTIONS / f"{E02}.ipynb", seed=3, cell_timeout=60)
    results = {r.student: r for r in grader.grade_all(paths, jobs=2)}
    assert results["right"].score == 10 and results["right"].flags == []
    assert results["wrong"].score == wrong.points
    assert any(wrong.cause in str(v) for o in results["wrong"].outcomes for v in o.verdicts)
    assert results["tampering"].score == 0 and "held for review" in str(results["tampering"].outcomes[0].verdicts[0])
