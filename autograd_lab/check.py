"""Check a student's custom ``Function`` (or training code, or backward engine) against PyTorch, and say what differs.

``check_function(Mul, inputs=lambda: (w, x, b), seed=0)`` runs ``Mul`` on the same inputs four ways:

1. under autograd_lab: ``Mul.apply``, and the engine runs ``Mul.backward``;
2. under real PyTorch: the same forward and backward, rebuilt as a ``torch.autograd.Function``
   whose ``torch`` is the real one (``to_torch``);
3. PyTorch's own autograd differentiating ``Mul.forward`` directly (no custom backward): the
   gradients a correct backward must return;
4. ``Mul.backward`` called by hand with the ctx forward filled: what it returns exactly (how many
   gradients, which shapes), whether it changed ``grad_output``, and what forward kept on ``ctx``.
   The engines would quietly sum a broadcast-shaped gradient, so only this direct call tells
   whether backward reduced it.

Everything measured is plain data (a *measurement*: lists, numbers, strings), and ``judge`` turns
a measurement plus a *trusted* one into verdict lines. In a notebook both are the same
measurement. The grader measures in the student's kernel and judges in its own process against
the master solution's measurement on the same inputs (see ``autograd_lab/grading/grade.py``).
A check is worth ``points``: all of them when every verdict passes, none otherwise.
torch is imported only when a check runs.
"""

from __future__ import annotations

import builtins
import functools
import importlib
import inspect
import math
import os
import re
import sys
import sysconfig
import traceback
import types
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import autograd_lab
from autograd_lab import Tensor
from autograd_lab.autograd import Function, once_differentiable

MEASUREMENT_MIME = "application/vnd.autograd-lab.measurement+json"
_grading: dict[str, Any] | None = None  # set in a grading kernel by begin_graded_cell()
_exercise = False  # set by start_exercise()


# ----- the exercise kernel: `import torch` gives autograd_lab -------------------------------------
def _import_torch_as_autograd_lab(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (),
                                  level: int = 0) -> Any:
    """In the notebook's own code (``__main__``), ``import torch.x`` imports ``autograd_lab.x``."""
    if level == 0 and (name == "torch" or name.startswith("torch.")) and \
            isinstance(globals, dict) and globals.get("__name__") == "__main__":
        name = "autograd_lab" + name[len("torch"):]
    return _real_import(name, globals, locals, fromlist, level)


_real_import = getattr(builtins.__import__, "__wrapped__", builtins.__import__)
_import_torch_as_autograd_lab.__wrapped__ = _real_import  # type: ignore[attr-defined]


def start_exercise() -> None:
    """The first cell of every exercise calls it: the notebook becomes an exercise kernel.

    From then on the notebook's ``import torch`` gives autograd_lab, as in the lessons' left
    column; only code written in the notebook is redirected: the checker (and every library)
    still gets real PyTorch, which it needs to say what a correct answer is. And under
    ``pytest --nbval-lax`` a failing check fails its cell (in Jupyter it only prints).
    """
    global _exercise
    builtins.__import__ = _import_torch_as_autograd_lab
    _exercise = True


# ----- verdicts --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    """One line of a check's report: passed or not, what was seen, and (on failure) what to try.

    A *warning* passes (it costs nothing) but says what to change, e.g. a deprecated name.
    """

    ok: bool
    text: str
    warning: bool = False

    def __str__(self) -> str:
        return ("⚠ " if self.warning else "✓ " if self.ok else "✗ ") + self.text


def _fail(text: str, hint: str = "") -> Verdict:
    return Verdict(False, f"{text.rstrip('.,:')}. Hint: {hint}" if hint else text)


def points_text(x: float) -> str:
    """``1 point``, ``2.5 points``: the one scale checks, the check command and the grader speak in."""
    return f"{x:g} point" if x == 1 else f"{x:g} points"


@dataclass(frozen=True)
class CheckResult:
    """What a check found: its verdicts, and the points they earn (all when every verdict passes)."""

    verdicts: tuple[Verdict, ...]
    points: float = 1

    @property
    def passed(self) -> bool:
        return bool(self.verdicts) and all(v.ok for v in self.verdicts)

    @property
    def score(self) -> float:
        """Points earned: all of them, or none."""
        return self.points if self.passed else 0

    def __repr__(self) -> str:
        if self.passed:
            return f"✓ {self.score:g}/{points_text(self.points)}"
        return f"✗ {self.score:g}/{points_text(self.points)}: fix the first ✗ line above, then run the check again"


class CheckFailedError(AssertionError):
    """Raised by a failing check under ``pytest --nbval-lax``, so the cell fails there (never in Jupyter)."""


# ----- the checks a notebook calls ----------------------------------------------------------------
def check_function(fn: type[Function], inputs: Callable[[], Any], *, seed: int = 0,
                   reference: Callable[..., Any] | None = None, backward: bool = True,
                   double_backward: bool = False, gradcheck: bool = False, expect_none: Sequence[str] = (),
                   rtol: float = 1e-4, atol: float = 1e-5, points: float = 1) -> CheckResult | None:
    """Check a custom Function: its forward, and its gradients against PyTorch's autograd.

    ``inputs`` builds the arguments of ``fn.apply`` (called right after ``torch.manual_seed(seed)``);
    ``reference`` is the math forward must compute, in plain tensor ops; ``expect_none`` names
    inputs whose gradient must be None; ``gradcheck`` adds finite differences (float64 inputs);
    ``double_backward`` adds gradgradcheck and a Hessian-vector product. Prints one verdict per
    line and returns them with the points earned.
    """
    options = {"backward": backward, "double_backward": double_backward, "gradcheck": gradcheck,
               "expect_none": list(expect_none), "rtol": rtol, "atol": atol}
    return _report(lambda s: measure_function(fn, inputs, s, reference, options), "function", seed, points)


def check_training(train: Callable[..., Any], setup: Callable[[], tuple], *, seed: int = 0,
                   frozen: Sequence[str] = (), unchanged: Sequence[str] = (),
                   groups: Sequence[tuple[Sequence[str], float]] | None = None, rtol: float = 1e-4,
                   atol: float = 1e-5, points: float = 1) -> CheckResult | None:
    """Check code that trains chosen layers, on the parameters it leaves behind.

    ``setup`` builds ``(model, *data)`` (after ``torch.manual_seed(seed)``); ``train(model, *data)``
    trains it and may return its optimizer. Parameters named in ``frozen`` must end with
    ``requires_grad=False`` and unchanged, those in ``unchanged`` unchanged, all others changed;
    ``groups`` lists the optimizer's expected param groups as ``(parameter names, lr)``. The final
    parameters are compared with real torch running the same code.
    """
    options = {"frozen": list(frozen), "unchanged": list(unchanged), "rtol": rtol, "atol": atol,
               "groups": None if groups is None else [[list(names), lr] for names, lr in groups]}
    return _report(lambda s: measure_training(train, setup, s, options), "training", seed, points)


def check_engine(engine: Callable[[Any], Any], f: Callable[..., Any], inputs: Callable[[], Any], *, seed: int = 0,
                 order_only: bool = False, rtol: float = 1e-4, atol: float = 1e-5,
                 points: float = 1) -> CheckResult | None:
    """Check a backward engine written by hand, on the graph of ``f(*inputs())`` (a scalar).

    ``order_only``: ``engine(root)`` gets the output's ``grad_fn`` and returns the nodes in an order
    where each comes before every node it sends gradients to. Otherwise ``engine(output)`` runs the
    whole backward pass (calling each node once, its leaves' ``.grad`` filled) and returns the nodes
    in the order it called them. Both are compared with autograd_lab's engine (``iter_backward``)
    and the gradients with PyTorch's; the same engine also runs on PyTorch's graph.
    """
    options = {"order_only": order_only, "rtol": rtol, "atol": atol}
    return _report(lambda s: measure_engine(engine, f, inputs, s, options), "engine", seed, points)


def _seed(seed: int) -> int:
    """The cell's seed, unless the grader chose another one for this (hidden) check."""
    if _grading is not None and _grading["seed"] is not None:
        return _grading["seed"]
    return seed


def _report(measure: Callable[[int], dict], kind: str, seed: int, points: float) -> CheckResult | None:
    """In a notebook: print the verdicts and the points. In a grading kernel: hand the measurement over.

    Whatever the student's code does, the check cell itself never raises in Jupyter (Run All goes
    on); under ``pytest --nbval-lax`` a failing check raises ``CheckFailedError``, so that cell fails.
    """
    seed = _seed(seed)
    try:
        measurement = measure(seed)
    except Exception as error:  # the checker could not even run the code: say where, in the student's code
        measurement = {"kind": kind, "seed": seed, "crashed": _describe(error, "check")}
    if _grading is not None:
        from IPython.display import display

        display({MEASUREMENT_MIME: measurement}, raw=True)
        return None
    result = CheckResult(tuple(judge(measurement, measurement)), points)
    for verdict in result.verdicts:
        print(verdict)
    if not result.passed and _under_pytest():
        raise CheckFailedError(f"{result!r}\n" + "\n".join(str(v) for v in result.verdicts if not v.ok))
    return result


def _under_pytest() -> bool:
    """Is this an exercise kernel that pytest (nbval) runs? Then a failing check must fail its cell.

    (A lesson may show a failing check on purpose: there the cell's stored output is what nbval compares.)
    """
    if not _exercise:
        return False
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return "PYTEST_CURRENT_TEST" in os.environ and type(shell).__name__ == "ZMQInteractiveShell"


def begin_graded_cell(seed: int | None, with_answers: bool = True) -> None:
    """Called by the grader in the kernel before each check cell: measure, don't judge; use ``seed``.

    ``with_answers=False`` (a student's submission being graded): don't compute the right answers
    here, where the student's code could copy them into its own results; the grader has the master's.
    """
    global _grading
    _grading = {"seed": seed, "answers": with_answers}


def _with_answers() -> bool:
    return _grading is None or _grading["answers"]


# ----- measuring a Function ---------------------------------------------------------------------
def measure_function(fn: type[Function], make_inputs: Callable[[], Any], seed: int,
                     reference: Callable[..., Any] | None, options: dict) -> dict:
    """Run ``fn`` under both engines, torch's autograd of its forward, and its backward by hand."""
    import torch

    if not (isinstance(fn, type) and issubclass(fn, Function)):
        raise TypeError(f"check_function checks a Function subclass (class {getattr(fn, '__name__', 'Name')}"
                        f"(Function): ...), not {type(fn).__name__}")

    args = _build(make_inputs, seed)
    order = 2 if options["double_backward"] else 1
    torch_fn = to_torch(fn)
    forward = torch_fn.forward
    with_ctx = fn.setup_context is Function.setup_context  # the classic style: forward(ctx, *args)

    def forward_by_torch(*a: Any) -> Any:
        if not with_ctx:
            return forward(*a)
        ctx = torch.autograd.function.FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(x, torch.Tensor) and x.requires_grad for x in a)
        return forward(ctx, *a)

    measurement = {
        "kind": "function", "name": fn.__name__, "options": options, "seed": seed,
        "style": "classic" if with_ctx else "setup_context", "forward_params": _forward_params(fn),
        "once_differentiable": getattr(fn.backward, "__code__", None) is _ONCE_DIFFERENTIABLE_CODE,
        "params": _parameter_names(fn, len(args)),
        "inputs": [_encode_input(a) for a in args],
        "autograd_lab": _differentiate(fn.apply, _fresh(args), autograd_lab, seed, order),
        "torch": _differentiate(torch_fn.apply, _to_torch_args(args), torch, seed, order),
        "direct": _backward_by_hand(fn, _fresh(args), seed),
    }
    if _with_answers():  # the right answers (a graded submission's kernel never has them)
        measurement["autograd"] = _differentiate(forward_by_torch, _to_torch_args(args), torch, seed, order)
        if reference is not None:
            measurement["reference"] = _differentiate(to_torch(reference), _to_torch_args(args), torch, seed,
                                                      order)
    for lib, apply, engine in ((autograd_lab, fn.apply, "autograd_lab"), (torch, torch_fn.apply, "torch")):
        fresh = _fresh(args) if lib is autograd_lab else _to_torch_args(args)
        if options.get("gradcheck"):
            measurement[engine]["gradcheck"] = _finite_differences(lib.autograd.gradcheck, apply, fresh)
        if order == 2:
            measurement[engine]["gradgradcheck"] = _finite_differences(lib.autograd.gradgradcheck, apply, fresh)
    return measurement


def _build(make_inputs: Callable[[], Any], seed: int, lib: Any = autograd_lab) -> tuple:
    lib.manual_seed(seed)
    values = make_inputs()
    return values if isinstance(values, tuple) else tuple(values) if isinstance(values, list) else (values,)


def _fresh(args: tuple) -> tuple:
    """New leaves with the same values, so one run's gradients don't leak into the next."""
    return tuple(a.detach().clone().requires_grad_(a.requires_grad) if isinstance(a, Tensor) else a for a in args)


def _to_torch_args(args: tuple) -> tuple:
    return tuple(_torch_tensor(a) if isinstance(a, Tensor) else a for a in args)


def _torch_tensor(t: Tensor) -> Any:
    import torch

    return torch.from_numpy(t.detach().numpy().copy()).requires_grad_(t.requires_grad)


def _forward_params(fn: type[Function]) -> list[str]:
    try:
        return list(inspect.signature(fn.forward).parameters)
    except (TypeError, ValueError):
        return []


def _parameter_names(fn: type[Function], count: int) -> list[str]:
    """forward's parameter names (without ctx), to name inputs in verdicts; ``input 3`` beyond them."""
    params = _forward_params(fn)
    if fn.setup_context is Function.setup_context:
        params = params[1:]
    return [params[i] if i < len(params) and not params[i].startswith("*") else f"input {i + 1}"
            for i in range(count)]


def _differentiate(call: Callable[..., Any], args: tuple, lib: Any, seed: int, order: int) -> dict:
    """``call(*args)`` with grad enabled, differentiated by ``lib``: output, gradients (and an HVP).

    The gradient flowing in is random (seeded), not ones: a backward that forgets to multiply by
    ``grad_output`` must not pass by luck.
    """
    rng = np.random.default_rng(seed)
    run: dict[str, Any] = {}
    stage = "forward"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = call(*args)
            outs = out if isinstance(out, tuple) else (out,)
            run["output"] = [_encode(o) if isinstance(o, lib.Tensor) else {"type": type(o).__name__} for o in outs]
            stage = "backward"
            pairs = [(o, _random_like(lib, o, rng)) for o in outs if isinstance(o, lib.Tensor) and o.requires_grad]
            wanted = [a for a in args if isinstance(a, lib.Tensor) and a.requires_grad]
            if not pairs:
                raise TypeError("forward returned no tensor that requires grad")
            # sum(o * g) sends each output o the gradient g exactly, as grad_outputs=g would; torch checks given
            # grad_outputs with its symbolic-shape helpers, whose import (sympy) costs every graded kernel 0.5 s
            total = functools.reduce(lambda s, t: s + t, [(o * g).sum() for o, g in pairs])
            grads = lib.autograd.grad(total, wanted, create_graph=order == 2, allow_unused=True)
            run["grads"] = _per_input(args, wanted, grads, lib)
            if order == 2:
                stage = "double backward"
                vs = [_random_like(lib, a, rng) for a in wanted]
                terms = [(g * v).sum() for g, v in zip(grads, vs) if g is not None]
                if not terms:
                    raise TypeError("backward returned no gradient to differentiate")
                hvp = lib.autograd.grad(functools.reduce(lambda s, t: s + t, terms), wanted, allow_unused=True)
                run["hvp"] = _per_input(args, wanted, hvp, lib)
        except Exception as error:
            run["error"] = _describe(error, stage)
    deprecated = {f"{w.category.__name__}: {w.message}" for w in caught
                  if issubclass(w.category, (DeprecationWarning, FutureWarning))}
    run["warnings"] = sorted(deprecated)
    return run


def _random_like(lib: Any, t: Any, rng: np.random.Generator) -> Any:
    return lib.from_numpy(rng.standard_normal(tuple(t.shape)).astype(t.detach().numpy().dtype))


def _per_input(args: tuple, wanted: list, grads: Sequence[Any], lib: Any) -> list[dict | None]:
    """One entry per forward input: the gradient's data, or None (not wanted, or none came back)."""
    by_id = {id(a): _encode(g) if isinstance(g, lib.Tensor) else None for a, g in zip(wanted, grads)}
    return [by_id.get(id(a)) if isinstance(a, lib.Tensor) else None for a in args]


def _backward_by_hand(fn: type[Function], args: tuple, seed: int) -> dict:
    """Call ``fn.backward`` ourselves with the ctx that forward filled, and record what comes back.

    Also what forward kept: each saved tensor is an input, the output, or something else (computed
    inside forward: it has no history, so double backward cannot go through it), and which ctx
    attributes hold an input or the output (they belong in ``save_for_backward``).
    """
    rng = np.random.default_rng(seed)
    try:
        out = fn.apply(*args)
        outs = out if isinstance(out, tuple) else (out,)
        ctx = next(o.grad_fn for o in outs if isinstance(o, Tensor) and o.grad_fn is not None)
    except Exception:  # forward's own failure is reported by the engine runs
        return {"skipped": True}

    def kind(t: Any) -> str:
        if any(t is a for a in args):
            return "input"
        return "output" if any(t is o for o in outs) else "other"

    try:
        saved = [kind(t) for t in ctx.saved_tensors if isinstance(t, Tensor)]
    except Exception:  # e.g. a saved tensor changed in place: backward's own call reports it
        saved = []
    kept = sorted(name for name, value in vars(ctx).items()
                  if not name.startswith("_") and isinstance(value, Tensor) and kind(value) != "other")
    grad_outputs = [_random_like(autograd_lab, o, rng) if isinstance(o, Tensor) else None for o in outs]
    before = [g.numpy().copy() if g is not None else None for g in grad_outputs]
    found: dict[str, Any] = {"saved": saved, "ctx_tensors": kept}
    try:
        with autograd_lab.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            returned = fn.backward(ctx, *grad_outputs)
    except Exception as error:
        return {**found, "error": _describe(error, "backward")}
    found["grad_output_changed"] = any(g is not None and not np.array_equal(g.numpy(), b, equal_nan=True)
                                       for g, b in zip(grad_outputs, before))
    returned = returned if isinstance(returned, tuple) else (returned,)
    found["returned"] = [None if r is None else list(r.shape) if isinstance(r, Tensor) else type(r).__name__
                         for r in returned]
    return found


def _finite_differences(check: Callable[..., Any], apply: Callable[..., Any], args: tuple) -> str:
    """gradcheck or gradgradcheck: "ok", or the first line of why not."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check(apply, args)
        return "ok"
    except Exception as error:
        line = _first_line(error)
        return _one_line(type(error).__name__ + (f": {line}" if line else ""))


def _first_line(error: BaseException) -> str:
    """The first line of an exception's message ('' for a bare ``raise NotImplementedError``)."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else ""


# ----- measuring training code ------------------------------------------------------------------
def measure_training(train: Callable[..., Any], setup: Callable[[], tuple], seed: int, options: dict) -> dict:
    """Train under autograd_lab and under real torch from the same start; record the parameters."""
    import torch

    ours = _build(setup, seed)
    theirs = _build(to_torch(setup), seed, torch)
    start = {name: _encode(p) for name, p in _named_parameters(ours[0])}
    with torch.no_grad():  # the same start under both engines, whatever torch's initialisation did
        for (_, p), (_, q) in zip(_named_parameters(ours[0]), _named_parameters(theirs[0])):
            q.copy_(_torch_tensor(p))
    theirs = (theirs[0], *(_torch_tensor(v) if isinstance(v, Tensor) else v for v in ours[1:]))
    return {"kind": "training", "name": getattr(train, "__name__", "train"), "options": options, "seed": seed,
            "start": start, "autograd_lab": _train(train, ours), "torch": _train(to_torch(train), theirs)}


def _named_parameters(model: Any) -> list[tuple[str, Any]]:
    if not hasattr(model, "named_parameters"):
        raise TypeError(f"setup must return (model, *data) with an nn.Module first, not {type(model).__name__}")
    return list(model.named_parameters())


def _train(train: Callable[..., Any], values: tuple) -> dict:
    names = {id(p): name for name, p in _named_parameters(values[0])}
    run: dict[str, Any] = {}
    try:
        optimizer = train(*values)
    except Exception as error:
        run["error"] = _describe(error, "training")
        return run
    params = _named_parameters(values[0])
    run["final"] = {name: _encode(p) for name, p in params}
    run["requires_grad"] = {name: bool(p.requires_grad) for name, p in params}
    if hasattr(optimizer, "param_groups"):
        run["groups"] = [[[names.get(id(p), "?") for p in g["params"]], g["lr"]] for g in optimizer.param_groups]
    return run


# ----- measuring a backward engine written by hand -------------------------------------------------
def measure_engine(engine: Callable[[Any], Any], f: Callable[..., Any], make_inputs: Callable[[], Any], seed: int,
                   options: dict) -> dict:
    """Run the student's engine on autograd_lab's graph of ``f`` and on torch's; record orders and gradients.

    A node is named by its index in ``_graph_nodes`` (the same walk in both libraries' graphs).
    """
    import torch

    from autograd_lab.autograd.engine import iter_backward

    args = _build(make_inputs, seed)
    params, leaves = _function_params(f, len(args)), _fresh(args)
    output = f(*leaves)
    nodes = _graph_nodes(output.grad_fn)
    index = {id(n): i for i, n in enumerate(nodes)}
    leaf_names = {id(leaf): name for leaf, name in zip(leaves, params)}
    graph = {"names": [f"the AccumulateGrad of {leaf_names.get(id(n.variable), 'a leaf')}"
                       if hasattr(n, "variable") else n.name() for n in nodes],
             "edges": [[i, index[id(child)]] for i, n in enumerate(nodes) for child, _ in n.next_functions
                       if child is not None],
             "engine_order": [index[id(step.node)] for step in iter_backward(output)]}
    measurement = {"kind": "engine", "name": getattr(engine, "__name__", "engine"), "options": options,
                   "seed": seed, "inputs": [_encode_input(a) for a in args], "graph": graph,
                   "params": params,
                   "autograd_lab": _run_engine(engine, f, _fresh(args), options, autograd_lab),
                   "torch": _run_engine(to_torch(engine), to_torch(f), _to_torch_args(args), options, torch)}
    if _with_answers():  # PyTorch's own backward on the same graph
        theirs = _to_torch_args(args)
        to_torch(f)(*theirs).backward()
        measurement["autograd"] = {"grads": [_encode(a.grad) if isinstance(a, torch.Tensor) and a.grad is not None
                                             else None for a in theirs]}
    return measurement


def _function_params(f: Callable[..., Any], count: int) -> list[str]:
    try:
        params = [p for p in inspect.signature(f).parameters if not p.startswith("*")]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"input {i + 1}" for i in range(count)]


def _run_engine(engine: Callable[[Any], Any], f: Callable[..., Any], args: tuple, options: dict, lib: Any) -> dict:
    """The student's engine on one graph: the nodes it returned (as indices), the leaves' gradients."""
    run: dict[str, Any] = {}
    try:
        output = f(*args)
        index = {id(n): i for i, n in enumerate(_graph_nodes(output.grad_fn))}
        order = engine(output.grad_fn if options["order_only"] else output)
        run["order"] = [index.get(id(n), -1) for n in order] if isinstance(order, list | tuple) else \
            type(order).__name__
        if not options["order_only"]:
            run["grads"] = [_encode(a.grad) if isinstance(a, lib.Tensor) and a.grad is not None else None
                            for a in args]
    except Exception as error:
        run["error"] = _describe(error, "your engine")
    return run


def _graph_nodes(root: Any) -> list:
    """Every node reachable from ``root``, in the order a walk along ``next_functions`` finds them."""
    nodes, seen, stack = [root], {id(root)}, [root]
    while stack:
        for child, _ in stack.pop().next_functions:
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
                nodes.append(child)
    return nodes


# ----- judging ----------------------------------------------------------------------------------
def judge(measured: dict, trusted: dict) -> list[Verdict]:
    """Verdicts on ``measured``, with the expected values and options taken from ``trusted``.

    In a notebook ``trusted`` is ``measured`` itself; the grader passes the master's measurement,
    so nothing the student's kernel reported about its own options or expectations is believed.
    """
    if measured.get("kind") != trusted["kind"] or measured.get("seed") != trusted["seed"]:
        return [_fail("this check's measurement is not the one the grader asked for",
                      "code that changes the checker is flagged for review")]
    if "crashed" in measured:
        return [_error_verdict("the check", measured["crashed"], measured)]
    if trusted["kind"] == "training":
        if measured.get("start") != trusted["start"]:
            return [_fail("training started from other parameters than the grader's",
                          "does your code change torch's random generator or default dtype?")]
        return _judge_training(measured, trusted)
    if measured.get("inputs") != trusted["inputs"]:
        return [_fail("the check ran on other inputs than the grader's",
                      "does your code change torch's random generator or default dtype?")]
    return _judge_engine(measured, trusted) if trusted["kind"] == "engine" else _judge_function(measured, trusted)


def _judge_function(m: dict, t: dict) -> list[Verdict]:
    names, options = t["params"], t["options"]
    tol = options["rtol"], options["atol"]
    ours = m["autograd_lab"]
    style = _style_verdict(m)
    if style is not None:
        return [style]
    if "error" in ours and ours["error"]["stage"] == "forward":
        return [_error_verdict("forward", ours["error"], m)]
    verdicts = [_forward_verdict(ours, _expected(t, "output"), tol)]
    if not options["backward"] or "values" not in ours["output"][0]:
        return verdicts
    direct = m["direct"]
    if "error" in direct:
        return [*verdicts, _error_verdict("backward", direct["error"], m)]
    if direct.get("grad_output_changed"):
        return [*verdicts, _fail("backward changes grad_output in place, so every gradient computed from it is "
                                 "off", "never modify grad_output (PyTorch's docs forbid it): compute new "
                                 "tensors from it instead of calling in-place methods (those ending in _)")]
    if "returned" in direct:
        verdicts.append(_count_verdict(direct["returned"], names, m.get("forward_params", []), m.get("style")))
        if not verdicts[-1].ok:
            return verdicts
        shapes = [_shape_verdict(name, spec, got) for name, spec, got in zip(names, t["inputs"], direct["returned"])]
        if any(v is not None for v in shapes):
            return [*verdicts, *(v for v in shapes if v is not None)]
    if "error" in ours and ours["error"]["stage"] != "double backward":
        return [*verdicts, _error_verdict(ours["error"]["stage"], ours["error"], m)]
    expected = _expected(t, "grads")
    for i, name in enumerate(names):
        verdict = _input_verdict(i, name, t, ours["grads"], expected, direct.get("returned"), tol)
        if verdict is not None:
            verdicts.append(verdict)
    if direct.get("ctx_tensors"):
        kept = ", ".join(f"ctx.{n}" for n in direct["ctx_tensors"])
        plural = len(direct["ctx_tensors"]) > 1
        verdicts.append(_fail(f"forward keeps {kept} as {'ctx attributes' if plural else 'a ctx attribute'} "
                              f"instead of saving {'them' if plural else 'it'} with ctx.save_for_backward",
                              "the task asks for save_for_backward: it is how autograd "
                              "knows what backward needs (it checks that nothing changed it in place, and frees "
                              "it after backward)"))
    elif "saved" in direct:
        verdicts.append(Verdict(True, "forward saves what backward needs with ctx.save_for_backward"))
    verdicts.append(_torch_verdict(m["torch"], ours, names, tol))
    for warning in sorted(set(ours["warnings"]) | set(m["torch"]["warnings"]))[:1]:
        verdicts.append(Verdict(True, f"uses a deprecated API ({warning}): it still works today, but use "
                                      "today's name (ctx.saved_tensors)", warning=True))
    first_order_ok = all(v.ok for v in verdicts)
    if options.get("gradcheck"):
        verdicts += _finite_difference_verdicts(m, "gradcheck", "compare your backward with the derivative you "
                                                "derived, term by term")
    if options["double_backward"]:
        if not first_order_ok:
            verdicts.append(_fail("second derivatives not checked yet", "first make the first derivatives above "
                                                                         "right"))
        else:
            verdicts += _second_order_verdicts(m, _expected(t, "hvp"), names, tol)
    return verdicts


def _style_verdict(m: dict) -> Verdict | None:
    """A PyTorch-2-style Function (with setup_context) whose forward still takes ctx."""
    params = m.get("forward_params") or []
    if m.get("style") == "setup_context" and params and params[0] == "ctx":
        return _fail("forward takes ctx, but this Function has setup_context, so forward gets only the inputs "
                     f"(forward({', '.join(params[1:])}))", "in the PyTorch 2 style, forward has no ctx: "
                     "setup_context(ctx, inputs, output) is where ctx is filled")
    return None


def _expected(t: dict, key: str) -> Any:
    """What a correct Function gives: the reference's value if the check has one, else torch's autograd."""
    for source in (("reference", "autograd") if key == "output" else ("autograd", "reference")):
        run = t.get(source)
        if run is not None and key in run:
            return run[key]
    return None


def _forward_verdict(ours: dict, expected: list | None, tol: tuple[float, float]) -> Verdict:
    output = ours["output"]
    if "values" not in output[0]:
        if output[0]["type"] == "ndarray":
            return _fail("forward returned a NumPy array, not a tensor", "compute with tensor operations "
                         "(torch.* and tensor methods) so the result is a tensor autograd can follow")
        return _fail(f"forward returned {output[0]['type']}, not a tensor", "return the result tensor")
    if expected is not None:
        for got, want in zip(output, expected):
            problem = _difference(got, want, tol)
            if problem:
                return _fail(f"forward's output {problem}, compared with the expected one",
                             "compare your formula with the task; forward returns the result tensor")
    return Verdict(True, f"forward returns the expected output (shape {output[0]['shape']})")


def _count_verdict(returned: list, names: list[str], forward_params: list[str], style: str | None) -> Verdict:
    inputs = ", ".join(names)
    arrays = [names[i] if i < len(names) else f"position {i + 1}" for i, r in enumerate(returned) if r == "ndarray"]
    if arrays:
        return _fail(f"backward returns a NumPy array for {', '.join(arrays)}",
                     "return tensors: compute gradients with tensor operations on grad_output and the saved "
                     "tensors, not with NumPy")
    if len(returned) < len(names):
        return _fail(f"backward returns {len(returned)} value(s) for the {len(names)} inputs of forward ({inputs})",
                     "return one gradient per input of forward, in the same order (None for non-tensors)")
    extra = [i for i in range(len(names), len(returned)) if returned[i] is not None]
    if extra:
        params = forward_params[1:] if style == "classic" else forward_params
        i = extra[0]
        if i < len(params) and not params[i].startswith("*"):
            return _fail(f"backward returns a {returned[i]} in position {i + 1}, for {params[i]}, which is not "
                         "passed here (its default is used)", f"return None for {params[i]}: it is not a tensor, "
                         "so it never has a gradient")
        return _fail(f"backward returns {len(returned)} value(s) for the {len(names)} inputs of forward ({inputs})",
                     "return one gradient per input of forward, in the same order (None for non-tensors)")
    return Verdict(True, f"backward returns one value per input of forward ({inputs})")


def _shape_verdict(name: str, spec: dict, returned: Any) -> Verdict | None:
    """A gradient returned in another shape than its input's (None if it has the input's shape, or is None)."""
    if "shape" not in spec or not spec["requires_grad"] or not isinstance(returned, list) or \
            returned == spec["shape"]:
        return None
    text = f"backward returns a gradient of shape {returned} for {name} of shape {spec['shape']}"
    shape = spec["shape"]
    if sorted(returned) == sorted(shape):
        return _fail(text, "it has the right sizes in the wrong order: check the order of a matmul's operands, and "
                           "which one is transposed")
    if [n for n in returned if n != 1] == [n for n in shape if n != 1]:
        return _fail(text, f"a dimension of size 1 is missing or extra: {name} keeps its size-1 dimensions "
                           "(keepdim=True when you sum over one)")
    try:
        broadcasts = list(np.broadcast_shapes(tuple(shape), tuple(returned))) == returned
    except ValueError:
        broadcasts = False
    if broadcasts:
        return _fail(text, f"sum it over the broadcast dimensions so that it has {name}'s shape")
    return _fail(text, f"each gradient must have its input's shape: which dimensions of {name} did you sum over?")


def _input_verdict(i: int, name: str, t: dict, grads: list, expected: list | None, returned: list | None,
                   tol: tuple[float, float]) -> Verdict | None:
    """The verdict on input ``i``'s gradient: None where asked, else the right shape and values."""
    spec = t["inputs"][i]
    if name in t["options"]["expect_none"]:
        if grads[i] is None and (returned is None or returned[i] is None):
            return Verdict(True, f"{name} gets no gradient (None), as asked")
        return _fail(f"backward returns a gradient for {name}, but it should return None here",
                     "check the flag that says whether this input needs a gradient")
    if "shape" not in spec:  # not a tensor: its gradient must be None
        if returned is None or returned[i] is None:
            return Verdict(True, f"backward returns None for {name} (not a tensor)")
        return _fail(f"backward returns a {returned[i]} for {name}, which is not a tensor",
                     f"return None for {name}")
    if not spec["requires_grad"]:
        return None
    if grads[i] is None:
        return _fail(f"grad of {name} is None, but {name} requires grad",
                     f"return d(output)/d({name}) * grad_output in position {i + 1}")
    if returned is not None and returned[i] != spec["shape"]:
        return _fail(f"backward returns a gradient of shape {returned[i]} for {name} of shape {spec['shape']}",
                     f"sum it over the broadcast dimensions so that it has {name}'s shape")
    if expected is None or expected[i] is None:
        return _fail(f"cannot tell the expected gradient of {name}", "torch could not differentiate forward")
    problem = _difference(grads[i], expected[i], tol)
    if problem:
        return _fail(f"grad of {name} {problem}, compared with torch autograd",
                     _gradient_hint(i, grads[i], expected, t))
    return Verdict(True, f"grad of {name} matches torch autograd")


def _gradient_hint(i: int, got: dict, expected: list, t: dict) -> str:
    """Name the usual mistakes: swapped inputs, the sign, grad_output, a constant factor, a wrong term."""
    value, want = _array(got), _array(expected[i])
    for j, other in enumerate(expected):
        if j != i and other is not None and other["shape"] == got["shape"] and _close(value, _array(other)):
            return f"that is the gradient of {t['params'][j]}: return the gradients in forward's input order"
    if _close(-value, want):
        return "the sign is wrong"
    outputs = len(t["autograd_lab"].get("output") or ())
    if outputs > 1:
        return (f"forward has {outputs} outputs, so backward gets one gradient per output, and an input that "
                "feeds several outputs collects a term along each path (the chain rule adds them)")
    grad_output = _grad_output_of(t)
    if grad_output is not None and grad_output.shape == value.shape and _close(value * grad_output, want):
        return "multiply by grad_output (the chain rule)"
    if value.size > 1 and value.shape == want.shape and np.abs(want).max() > 1e-6:
        factor = float(np.vdot(want, value) / np.vdot(want, want))
        if abs(factor) > 1e-3 and _close(value, factor * want):
            return f"it is {_number(factor)} times the right gradient everywhere: a constant factor is off"
    located = _locate_term(i, value, want, grad_output, t)
    return located or "write down d(output)/d(input) for this input and multiply it by grad_output"


def _locate_term(i: int, value: np.ndarray, want: np.ndarray, grad_output: np.ndarray | None, t: dict) -> str:
    """For an elementwise function of one tensor input: which kind of term the gradient is off by, or where."""
    output, spec = t["autograd_lab"].get("output") or [{}], t["inputs"][i]
    tensors = sum("shape" in s for s in t["inputs"])
    if tensors == 1 and value.ndim and output[0].get("shape") == list(value.shape[:-1]):  # a reduction over rows
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = value / want
        row = np.broadcast_to(ratio[..., :1], ratio.shape)
        if np.isfinite(ratio).all() and _close(ratio, row) and not _close(ratio, np.full_like(ratio, ratio.flat[0])):
            return ("within each row it is off by one common factor, a different one per row: a term that depends "
                    "on the whole row (like the output) is missing or wrong")
    if tensors != 1 or grad_output is None or output[0].get("shape") != spec["shape"] or \
            grad_output.shape != value.shape:
        return ""
    x, y = _array(spec), _array(output[0])
    missing = want - value
    with np.errstate(divide="ignore", invalid="ignore"):
        kinds = {"a constant": np.ones_like(x), "x": x, "the output y": y, "y squared": y * y,
                 "y divided by x": np.where(x != 0, y / x, 0.0)}
    for label, term in kinds.items():
        basis = grad_output * term
        if not np.isfinite(basis).all() or np.abs(basis).max() < 1e-9:
            continue
        c = float(np.vdot(basis, missing) / np.vdot(basis, basis))
        if abs(c) > 1e-3 and _close(c * basis, missing):
            return (f"the difference from the right gradient is {_number(c)} × {label} (× grad_output): a term "
                    "of that kind is missing or has the wrong coefficient")
    with np.errstate(divide="ignore", invalid="ignore"):
        k = int(np.nanargmax(np.abs(missing)))
        local_got, local_want = value.flat[k] / grad_output.flat[k], want.flat[k] / grad_output.flat[k]
    return (f"check one point by hand: at x = {_number(float(x.flat[k]))} your backward gives "
            f"{_number(float(local_got))} × grad_output, the derivative there is {_number(float(local_want))}")


def _grad_output_of(t: dict) -> np.ndarray | None:
    """The grad_output the measurement used (same seed, same first random draw)."""
    output = t["autograd_lab"].get("output")
    if not output or "shape" not in output[0]:
        return None
    rng = np.random.default_rng(t["seed"])
    return rng.standard_normal(tuple(output[0]["shape"])).astype(output[0]["dtype"])


def _torch_verdict(run: dict, ours: dict, names: list[str], tol: tuple[float, float]) -> Verdict:
    """Does real torch, running the same forward and backward, agree with autograd_lab?"""
    hint = "use only the PyTorch API (autograd_lab accepts a few things torch does not)"
    mine, theirs = ours.get("error"), run.get("error")
    if mine and theirs and (mine["stage"], mine["type"]) == (theirs["stage"], theirs["type"]):
        return Verdict(True, f"real torch stops at the same {mine['stage']} error")
    if theirs:
        return _fail(f"under real torch, {theirs['stage']} raised {theirs['type']}: {theirs['message']}"
                     f"{_at(theirs)}", hint)
    if mine:
        return _fail(f"real torch runs the {mine['stage']} that fails under autograd_lab", hint)
    pairs = [("forward's output", got, want) for got, want in zip(run["output"], ours["output"])]
    for key, what in (("grads", "grad"), ("hvp", "Hessian-vector product")):
        pairs += [(f"{what} of {name}", got, want)
                  for name, got, want in zip(names, run.get(key, ()), ours.get(key, ()))]
    for what, got, want in pairs:
        if (got is None) != (want is None):
            problem = "is None" if got is None else "is not None"
        else:
            problem = _difference(got, want, tol) if got is not None else ""
        if problem:
            return _fail(f"under real torch, {what} {problem}, compared with autograd_lab", hint)
    return Verdict(True, "the same Function gives the same results under real torch")


def _finite_difference_verdicts(m: dict, check: str, hint: str) -> list[Verdict]:
    verdicts = []
    for engine, label in (("autograd_lab", "autograd_lab"), ("torch", "real torch")):
        result = m[engine].get(check, "not run")
        verdicts.append(Verdict(True, f"{check} passes under {label}") if result == "ok" else
                        _fail(f"{check} fails under {label}: {result}", hint))
    return verdicts


def _second_order_verdicts(m: dict, expected: list | None, names: list[str], tol: tuple[float, float]) -> list:
    hint = _double_backward_hint(m)
    verdicts = _finite_difference_verdicts(m, "gradgradcheck", hint)
    run = m["autograd_lab"]
    if "error" in run:
        verdicts.append(_error_verdict("double backward", run["error"], m))
        return verdicts
    for i, name in enumerate(names):
        if expected is None or expected[i] is None:
            continue
        got = run["hvp"][i]
        problem = "is None" if got is None else _difference(got, expected[i], tol)
        if problem:
            verdicts.append(_fail(f"the Hessian-vector product for {name} {problem}", hint))
            return verdicts
    verdicts.append(Verdict(True, "the Hessian-vector product matches torch autograd"))
    return verdicts


_DOUBLE_BACKWARD_HINT = ("write backward with differentiable tensor ops on saved tensors "
                         "(no .data, .detach(), .numpy() or once_differentiable)")


def _double_backward_hint(m: dict) -> str:
    if m.get("once_differentiable"):
        return ("backward is marked @once_differentiable, which tells autograd it cannot be differentiated again: "
                "remove the decorator, and write backward with differentiable tensor ops")
    if "other" in m.get("direct", {}).get("saved", ()):
        return ("forward saved a tensor that is neither an input nor the output: it was computed inside forward, "
                "where nothing is recorded, so double backward cannot go through it. Save the input or the output "
                "and compute the rest in backward")
    return _DOUBLE_BACKWARD_HINT


# ----- judging training code ------------------------------------------------------------------------
def _judge_training(m: dict, t: dict) -> list[Verdict]:
    options, tol = t["options"], (t["options"]["rtol"], t["options"]["atol"])
    ours, expected = m["autograd_lab"], t["torch"].get("final")
    if "error" in ours:
        return [_error_verdict("training", ours["error"], m)]
    start, final = t["start"], ours["final"]
    verdicts = []
    frozen = options["frozen"]
    if frozen:
        still = [n for n in frozen if ours["requires_grad"].get(n, True)]
        verdicts.append(_fail(f"{', '.join(still)} still require(s) grad", "a frozen parameter no longer "
                              "requires grad; which method of a tensor changes that, and which method of a layer "
                              "lists all its parameters?") if still else
                        Verdict(True, f"{', '.join(frozen)} are frozen (requires_grad=False)"))
    keep = frozen + options["unchanged"]
    moved = [(n, _difference(final[n], start[n], (0.0, 0.0))) for n in keep]
    moved = [(n, problem) for n, problem in moved if problem]
    if keep:
        hint = ("a parameter that no longer requires grad gets no .grad, so the optimizer skips it: is every "
                "parameter of the layer frozen?") if moved and moved[0][0] in frozen else \
            "the optimizer updates every parameter it was given that has a gradient: which parameters did you give it?"
        verdicts.append(_fail(f"{moved[0][0]} changed ({moved[0][1]}), but it must stay as it was", hint) if moved else
                        Verdict(True, f"{', '.join(keep)} stay unchanged"))
    trained = [n for n in start if n not in keep]
    stuck = [n for n in trained if not _difference(final[n], start[n], (0.0, 0.0))]
    verdicts.append(_fail(f"{', '.join(stuck)} did not change", "is it in the optimizer, and does it require grad?")
                    if stuck else Verdict(True, f"{', '.join(trained)} are trained"))
    if options["groups"] is not None:
        verdicts.append(_groups_verdict(ours.get("groups"), options["groups"]))
    verdicts.append(_parameters_verdict(final, expected, tol, "the final parameters", "torch's",
                                        "check the learning rates and which parameters each step updates"))
    theirs = m["torch"]
    if "error" in theirs:
        error = theirs["error"]
        verdicts.append(_fail(f"under real torch, training raised {error['type']}: {error['message']}"
                              f"{_at(error)}", "use only the PyTorch API"))
    else:
        verdicts.append(_parameters_verdict(theirs["final"], final, tol, "under real torch, the final parameters",
                                            "autograd_lab's", "use only the PyTorch API"))
    return verdicts


def _groups_verdict(got: list | None, want: list) -> Verdict:
    def describe(groups: list) -> str:
        return "; ".join(f"lr={lr} for {', '.join(names)}" for names, lr in groups)

    if got is None:
        return _fail("the training code returns no optimizer to inspect", "return the optimizer you built")
    if [[sorted(names), lr] for names, lr in got] != [[sorted(names), lr] for names, lr in want]:
        hint = ("give the optimizer only the parameters it should train, with the task's learning rate"
                if len(want) == 1 else "a param group is a dict with its own 'params' and 'lr'; the task asks "
                f"for {len(want)} of them")
        return _fail(f"the optimizer's param groups are: {describe(got)}; expected: {describe(want)}", hint)
    return Verdict(True, f"the optimizer's param groups: {describe(want)}")


def _parameters_verdict(final: dict, expected: dict | None, tol: tuple[float, float], what: str, whose: str,
                        hint: str) -> Verdict:
    if expected is None:
        return _fail(f"cannot tell the expected {what}", "torch could not run the training code")
    for name, want in expected.items():
        problem = "is missing" if name not in final else _difference(final[name], want, tol)
        if problem:
            return _fail(f"{what}: {name} {problem}, compared with {whose}", hint)
    return Verdict(True, f"{what} match {whose}")


# ----- judging an engine ----------------------------------------------------------------------------
def _judge_engine(m: dict, t: dict) -> list[Verdict]:
    graph, options = t["graph"], t["options"]
    tol = options["rtol"], options["atol"]
    ours = m["autograd_lab"]
    what = "topological_order" if options["order_only"] else "your backward"
    if "error" in ours:
        return [_error_verdict(what, ours["error"], m)]
    verdicts = [_order_verdict(ours["order"], graph, what)]
    if not verdicts[0].ok:
        return verdicts
    if not options["order_only"]:
        expected = (t.get("autograd") or {}).get("grads")
        names = t["params"]
        for i, spec in enumerate(t["inputs"]):
            if "shape" not in spec:
                continue
            got = ours["grads"][i]
            if not spec["requires_grad"]:
                verdicts.append(Verdict(True, f"{names[i]} gets no .grad (it requires none)") if got is None else
                                _fail(f"{names[i]} does not require grad, but got a .grad",
                                      "an edge (None, 0) in next_functions leads nowhere: send nothing there"))
                continue
            want = None if expected is None else expected[i]
            if got is None:
                verdicts.append(_fail(f"no gradient reached {names[i]} (its .grad is None)",
                                      "a leaf's gradient lands in .grad only when its AccumulateGrad node is "
                                      "called with it"))
                continue
            problem = "cannot be compared" if want is None else _difference(got, want, tol)
            if problem:
                verdicts.append(_fail(f"the .grad of {names[i]} {problem}, compared with torch's backward",
                                      "where a node receives gradients along several edges, they must be added "
                                      "up before the node is called, and each node called once"))
            else:
                verdicts.append(Verdict(True, f"the .grad of {names[i]} matches torch's backward"))
    verdicts.append(_engine_torch_verdict(m["torch"], ours, options["order_only"], tol))
    return verdicts


def _order_verdict(order: Any, graph: dict, what: str) -> Verdict:
    """Each node once, and every node after all the nodes that send it gradients."""
    names, count = graph["names"], len(graph["names"])
    if not isinstance(order, list):
        return _fail(f"{what} returned {'None' if order == 'NoneType' else order}, not a list of nodes",
                     "return the nodes" + ("" if what == "topological_order" else ", in the order you called them"))
    if -1 in order:
        return _fail("the list holds something that is not a node of this graph",
                     "put the nodes themselves (grad_fn objects) in the list")
    twice = sorted({names[i] for i in order if order.count(i) > 1})
    if twice:
        return _fail(f"{twice[0]} is in the list more than once", "a node reached along two paths is still one "
                     "node: visit (and call) it once")
    missing = [names[i] for i in range(count) if i not in order]
    if missing:
        return _fail(f"{len(missing)} of the {count} nodes are missing, e.g. {missing[0]}",
                     "follow next_functions from every node you reach, not only from the first")
    position = {node: k for k, node in enumerate(order)}
    for parent, child in graph["edges"]:
        if position[parent] > position[child]:
            return _fail(f"{names[child]} comes before {names[parent]}, which sends it a gradient",
                         "a node may run only once every node that sends it a gradient has run")
    same = order == graph["engine_order"]
    return Verdict(True, f"all {count} nodes, once each, in a valid order" +
                   (" (the same as autograd_lab's engine)" if same else
                    " (autograd_lab's engine picks another valid one)"))


def _engine_torch_verdict(run: dict, ours: dict, order_only: bool, tol: tuple[float, float]) -> Verdict:
    hint = "use only the PyTorch API on nodes: next_functions, and calling a node with its gradients"
    if "error" in run:
        error = run["error"]
        return _fail(f"on PyTorch's graph, it raised {error['type']}: {error['message']}{_at(error)}", hint)
    if run["order"] != ours["order"]:
        return _fail("on PyTorch's graph it returns another order", hint)
    for got, want in zip(run.get("grads", ()), ours.get("grads", ())):
        if (got is None) != (want is None) or (got is not None and _difference(got, want, tol)):
            return _fail("on PyTorch's graph, the leaves get other gradients", hint)
    return Verdict(True, "the same code works on PyTorch's graph" + ("" if order_only else ", with the same .grad"))


# ----- comparing and describing -----------------------------------------------------------------
def _encode(t: Any) -> dict:
    """A tensor of either library as plain data (JSON-ready)."""
    a = np.asarray(t.detach().numpy())
    return {"shape": list(a.shape), "dtype": str(a.dtype), "values": a.ravel().tolist()}


def _encode_input(v: Any) -> dict:
    if isinstance(v, Tensor):
        return {**_encode(v), "requires_grad": v.requires_grad}
    return {"type": type(v).__name__, "repr": repr(v)}


def _array(data: dict) -> np.ndarray:
    return np.asarray(data["values"], dtype=np.float64).reshape(data["shape"])


def _close(a: np.ndarray, b: np.ndarray, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


def _difference(got: dict, want: dict, tol: tuple[float, float]) -> str:
    """'' if ``got`` matches ``want``; else how it differs (shape, or the largest difference)."""
    if "values" not in got or "values" not in want:
        return "is not a tensor" if "values" not in got else "cannot be compared"
    if got["shape"] != want["shape"]:
        return f"has shape {got['shape']} instead of {want['shape']}"
    a, b = _array(got), _array(want)
    if _close(a, b, *tol):
        return ""
    gap = np.abs(a - b)
    return f"differs by up to {_number(float(np.nanmax(gap)) if not np.isnan(gap).all() else math.nan)}"


def _number(x: float) -> str:
    return f"{x:.3g}"


def _one_line(text: str, limit: int = 200) -> str:
    text = re.sub(r"0x[0-9a-fA-F]+", "0x…", " ".join(str(text).split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


@functools.cache
def _library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return (os.path.dirname(autograd_lab.__file__), paths["stdlib"], paths["purelib"], paths["platlib"])


def _describe(error: BaseException, stage: str) -> dict:
    """An exception as plain data: its type, a one-line message, and where in the student's code (with the line)."""
    where, line = "", ""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if not frame.filename.startswith(_library_dirs()):
            where, line = f" (in {frame.name}, line {frame.lineno})", _one_line(frame.line or "", 120)
            break
    return {"stage": stage, "type": type(error).__name__, "message": _one_line(str(error)), "where": where,
            "line": line}


def _error_verdict(stage: str, error: dict, m: dict) -> Verdict:
    if error["type"] == "NotImplementedError" and not error["message"]:
        part = re.match(r" \(in (\w+)", error["where"])
        name = part.group(1) if part else stage
        return _fail(f"not done yet: {name} still raises NotImplementedError",
                     "replace `raise NotImplementedError` (and the `# YOUR CODE HERE` line) with your code")
    message = f": {error['message']}" if error["message"] else ""
    return _fail(f"{stage} raised {error['type']}{message}{_at(error)}", _error_hint(error, m))


def _at(error: dict) -> str:
    """Where the error happened in the student's code, with that line: `` (in backward, line 3): `...` ``."""
    return error["where"] + (f": `{error['line']}`" if error.get("line") else "")


def _error_hint(error: dict, m: dict) -> str:
    kind, message = error["type"], error["message"]
    if kind == "NotImplementedError" and "must implement the forward" in message:
        return "your class has no forward: define forward (and backward) as @staticmethod methods in it"
    if kind == "NotImplementedError":
        return "replace `raise NotImplementedError` with your code"
    position = re.search(r"different than None at position (\d+)", message)
    if position:
        params = m.get("params") or []
        i = int(position.group(1)) - 1
        name = params[i] if i < len(params) else f"input {i + 1}"
        return f"return None for {name}: it is not a tensor, so it never has a gradient"
    if "save_for_backward can only save" in message:
        return ("save_for_backward takes tensors only (or None): keep other values, such as flags, on ctx as "
                "attributes (ctx.name = value)")
    if "not enough values to unpack" in message and m.get("direct", {}).get("saved") == []:
        return "forward saved nothing: call ctx.save_for_backward(...) with the tensors backward needs"
    if "of type ndarray" in message:
        return "return tensors: compute with tensor operations, not NumPy"
    if "incorrect number of gradients" in message:
        return "return one gradient per input of forward, in order (None for non-tensors)"
    if "non-static forward" in message or "should not be instantiated" in message:
        return "make forward and backward @staticmethod and call YourFunction.apply(...)"
    if "invalid gradient" in message:
        return "each gradient must have its input's shape"
    if "differentiate twice" in message or "does not require grad" in message:
        return _double_backward_hint(m)
    if kind == "AttributeError" and message.startswith("'NoneType' object has no attribute"):
        attribute = message.rsplit(" ", 1)[-1].strip("'")
        if attribute in ("zero_grad", "step", "param_groups"):
            return "the optimizer is None: does the function that builds it end with `return` and the optimizer?"
        if attribute == "next_functions":
            return "an edge in next_functions can be (None, 0): an input that needs no gradient; skip it"
        return f"something is None where an object with .{attribute} is expected: does a function forget to return?"
    if "must match the size" in message or "broadcast" in message or "shape" in message:
        return ("print the shapes of the tensors on that line: a dimension that forward reduced must be put back "
                "(unsqueeze, or keepdim) before it lines up with the input")
    if kind == "NameError":
        return "is the cell that defines it run, and spelled the same?"
    if kind == "TypeError" and "positional argument" in message:
        return "compare the call with the function's parameters: is one missing, or one too many?"
    if error.get("line"):
        return "that line is where it stopped: read the message with it in mind"
    return "read the message: it says what was expected"
# ----- the same code under real torch -----------------------------------------------------------
_TWIN_MODULES = ("", ".autograd", ".autograd.function", ".nn", ".nn.functional", ".nn.init", ".optim")


@functools.cache
def _public_twins() -> dict[int, Any]:
    """id(autograd_lab object) -> the torch object of the same public name (modules, classes, functions)."""
    twins: dict[int, Any] = {}
    for suffix in _TWIN_MODULES:
        ours, theirs = importlib.import_module("autograd_lab" + suffix), importlib.import_module("torch" + suffix)
        twins[id(ours)] = theirs
        for name in dir(ours):
            value = getattr(ours, name)
            if name.startswith("_") or not hasattr(theirs, name):
                continue
            if isinstance(value, types.ModuleType | type | types.FunctionType | types.BuiltinFunctionType
                          | autograd_lab.dtype):
                twins.setdefault(id(value), getattr(theirs, name))
    return twins


def to_torch(obj: Any, _memo: dict[int, Any] | None = None, _home: str | None = None) -> Any:
    """``obj`` as it would be under real torch.

    autograd_lab's public objects map to torch's; the student's own functions and Function classes
    (those defined where ``obj`` was) are rebuilt with every global that names an autograd_lab
    object rebound, so ``torch.exp`` in their code means the real ``torch.exp``.
    """
    memo = {} if _memo is None else _memo
    home = _home if _home is not None else getattr(obj, "__module__", "__main__")
    if id(obj) in memo:
        return memo[id(obj)]
    twin = _public_twins().get(id(obj))
    if twin is not None:
        return twin
    if isinstance(obj, types.ModuleType) and obj.__name__.startswith("autograd_lab."):
        return importlib.import_module("torch" + obj.__name__[len("autograd_lab"):])
    if isinstance(obj, Tensor):
        return _torch_tensor(obj)
    if isinstance(obj, type) and issubclass(obj, Function) and obj.__module__ == home:
        return _torch_function_class(obj, memo, home)
    if isinstance(obj, types.FunctionType):
        if obj.__code__ is _ONCE_DIFFERENTIABLE_CODE:
            import torch

            return torch.autograd.function.once_differentiable(to_torch(obj.__wrapped__, memo, home))
        if obj.__module__ == home and not obj.__code__.co_filename.startswith(_library_dirs()):
            return _rebind(obj, memo, home)
    return obj


_ONCE_DIFFERENTIABLE_CODE = once_differentiable(lambda ctx: None).__code__  # its wrapper's code


def _rebind(fn: types.FunctionType, memo: dict[int, Any], home: str) -> types.FunctionType:
    """The same code with its globals (and defaults, closure) mapped to torch."""
    key = id(fn.__globals__)
    if key not in memo:
        memo[key] = dict(fn.__globals__)  # one rebound copy per module, filled as names are met
    globals_ = memo[key]
    defaults = tuple(to_torch(d, memo, home) for d in fn.__defaults__) if fn.__defaults__ else None
    closure = tuple(types.CellType(to_torch(c.cell_contents, memo, home)) for c in fn.__closure__) \
        if fn.__closure__ else None
    twin = types.FunctionType(fn.__code__, globals_, fn.__name__, defaults, closure)
    twin.__kwdefaults__ = fn.__kwdefaults__
    twin.__qualname__ = fn.__qualname__
    memo[id(fn)] = twin
    for name in _global_names(fn.__code__):
        if name in fn.__globals__:
            globals_[name] = to_torch(fn.__globals__[name], memo, home)
    return twin


def _global_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _torch_function_class(cls: type[Function], memo: dict[int, Any], home: str) -> type:
    """A ``torch.autograd.Function`` with the same forward, backward (and setup_context) as ``cls``."""
    import torch

    twin = type(cls.__name__, (torch.autograd.Function,), {"__module__": cls.__module__,
                                                            "__qualname__": cls.__qualname__})
    memo[id(cls)] = twin
    members: dict[str, Any] = {}
    for klass in reversed(cls.__mro__[:cls.__mro__.index(Function)]):  # the student's classes, base first
        members.update(vars(klass))
    for name, member in members.items():
        if name.startswith("__") or name == "_backward_cls":
            continue
        if isinstance(member, staticmethod):
            member = staticmethod(to_torch(member.__func__, memo, home))
        elif isinstance(member, classmethod):
            member = classmethod(to_torch(member.__func__, memo, home))
        else:
            member = to_torch(member, memo, home)
        setattr(twin, name, member)
    return twin
