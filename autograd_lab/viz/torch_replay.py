"""Replay one autograd_lab backward node in PyTorch: which gradients would torch's autograd return?

Each node is judged on its own: the forward arguments it recorded (build the graph
inside ``autograd_lab.autograd.function.keep_forward_inputs()``) and the
grad_outputs it received. So one wrong backward turns one node red, not every
node below it.

- A built-in op (``MulBackward0``...) runs the matching torch op (``torch_op``).
- A student's Function (``MulBackward``): torch differentiates the student's own
  *forward*, run on torch tensors. Names in the forward's module that point at
  autograd_lab (``torch``, ``F``, ``exp``...) are rebound to real torch for that run,
  so ``import autograd_lab as torch`` code replays as written.

Used by the GraphStepper's diff mode; self-contained so the exercise checker can reuse it.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_lab._dtype import dtype as lab_dtype
from autograd_lab._tensor import Tensor
from autograd_lab.autograd.function import Function

MISSING_INPUTS = (
    "{name} did not keep its forward inputs, so it cannot be replayed in torch. Build the graph inside "
    "`with autograd_lab.autograd.function.keep_forward_inputs():`, or use GraphStepper.from_function(f, *inputs)."
)
# autograd_lab's public modules and their torch counterparts (for rebinding a forward's globals)
_MODULES = {"autograd_lab": "torch", "autograd_lab.autograd": "torch.autograd", "autograd_lab.nn": "torch.nn",
            "autograd_lab.nn.functional": "torch.nn.functional"}


class ReplayError(Exception):
    """The node cannot be replayed in torch; the message says why (in words for a student)."""


@dataclass(frozen=True)
class Verdict:
    """How a node's returned gradients compare with torch's."""

    matches: bool | None  # None: not compared (see reason)
    torch_grads: tuple[np.ndarray | None, ...] = ()  # aligned with next_functions
    wrong: tuple[int, ...] = ()  # positions (in next_functions) whose gradients differ
    reason: str = ""  # why it was not compared


def compare_node(node: Any, grad_outputs: Sequence[np.ndarray | None], grad_inputs: Sequence[np.ndarray | None],
                 rtol: float = 1e-4, atol: float = 1e-5) -> Verdict:
    """Did ``node`` send the gradients torch would, given what it received? (None counts as zeros.)"""
    try:
        theirs = torch_gradients(node, grad_outputs)
    except ReplayError as error:
        return Verdict(None, reason=str(error))
    wrong = tuple(i for i, ((child, _), ours, ref) in enumerate(zip(node.next_functions, grad_inputs, theirs))
                  if child is not None and not _close(ours, ref, rtol, atol))
    return Verdict(not wrong, theirs, wrong)


def torch_gradients(node: Any, grad_outputs: Sequence[np.ndarray | None]) -> tuple[np.ndarray | None, ...]:
    """The gradient torch's autograd sends along each of ``node.next_functions`` (None where nothing flows)."""
    torch = _import_torch()
    args = getattr(node, "_forward_inputs", None)
    if args is None:
        raise ReplayError(MISSING_INPUTS.format(name=node.name()))
    needs = iter([child is not None for child, _ in node.next_functions])
    torch_args, inputs = [], []  # inputs: one per edge (tensor argument), a torch leaf if it needs a gradient
    op = node._forward_cls
    for i, a in enumerate(args):
        converted = to_torch(a)
        if a is None and i in op.optional_inputs:  # (an absent optional tensor: its edge needs nothing)
            next(needs)
            inputs.append(None)
        elif isinstance(a, Tensor) and i not in op.inputs_without_gradient:
            if next(needs):
                converted.requires_grad_(True)
                inputs.append(converted)
            else:
                inputs.append(None)
        torch_args.append(converted)
    forward = _torch_forward(node)
    with torch.enable_grad():
        try:
            outputs = forward(*torch_args)
        except Exception as error:
            raise ReplayError(f"running {_forward_name(node)} on torch tensors failed: "
                              f"{type(error).__name__}: {error}") from error
    outputs = list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]
    if any(isinstance(o, Tensor) for o in outputs):
        raise ReplayError(f"{_forward_name(node)} returned an autograd_lab tensor when run on torch tensors; "
                          "it must compute with torch operations on its inputs")
    wanted = [t for t in inputs if t is not None]
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if isinstance(o, torch.Tensor) and o.requires_grad]
    if not wanted:
        return tuple(None for _ in inputs)
    if not pairs:
        raise ReplayError(f"torch found no path from the inputs to the output of {_forward_name(node)} (does it "
                          "leave the graph, e.g. through .data, .numpy() or NumPy?)")
    grads = iter(torch.autograd.grad([o for o, _ in pairs], wanted,
                                     [torch.zeros_like(o) if g is None else torch.from_numpy(np.array(g)).to(o.dtype)
                                      for o, g in pairs], allow_unused=True))
    results = []
    for t in inputs:
        grad = None if t is None else next(grads)
        results.append(None if grad is None else grad.detach().numpy().copy())
    return tuple(results)


def to_torch(value: Any) -> Any:
    """An autograd_lab value as torch sees it: tensors copied (no grad), dtypes mapped, containers walked."""
    torch = _import_torch()
    if isinstance(value, Tensor):
        return torch.from_numpy(np.array(value.detach().numpy(), copy=True))
    if isinstance(value, lab_dtype):
        return getattr(torch, value.name)
    if isinstance(value, (tuple, list)):
        return type(value)(to_torch(v) for v in value)
    return value


@functools.cache
def torch_ops() -> dict[str, Callable[..., Any]]:
    """Built-in node name -> the torch call that does what that node's forward did, on the same arguments."""
    torch = _import_torch()
    functional = torch.nn.functional

    def index(a: Any, key: Any) -> Any:
        return a[key]

    def nll_loss(logp: Any, target: Any, weight: Any, reduction: str, ignore_index: int) -> Any:
        return functional.nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)

    def reduce(fn: Callable) -> Callable:  # autograd_lab records (a, dims, keepdim); an empty dims means "all"
        return lambda a, dims, keepdim: fn(a, dims, keepdim) if dims else fn(a)

    ops: dict[str, Callable[..., Any]] = {
        "AddBackward0": lambda a, b, alpha=1: torch.add(a, b, alpha=alpha),
        "SubBackward0": lambda a, b, alpha=1: torch.sub(a, b, alpha=alpha),
        "RsubBackward1": lambda a, number: number - a,
        "PowBackward2": lambda a, number: torch.pow(number, a),
        "SumBackward0": reduce(torch.sum), "SumBackward1": reduce(torch.sum),
        "MeanBackward0": reduce(torch.mean), "MeanBackward1": reduce(torch.mean),
        "ViewBackward0": torch.reshape, "UnsafeViewBackward0": torch.reshape,
        "SqueezeBackward0": torch.squeeze, "SqueezeBackward1": torch.squeeze, "SqueezeBackward4": torch.squeeze,
        "ExpandBackward0": lambda a, shape: a.expand(shape),
        "ToCopyBackward0": lambda a, dtype: a.to(dtype),
        "IndexBackward0": index, "SelectBackward0": index, "SliceBackward0": index,
        "CatBackward0": lambda dim, *tensors: torch.cat(tensors, dim),
        "StackBackward0": lambda dim, *tensors: torch.stack(tensors, dim),
        "LogSoftmaxBackward0": torch.log_softmax,
        "NllLossBackward0": nll_loss, "NllLoss2DBackward0": nll_loss,
        "DivBackward1": lambda a, number: a / number,
        "MseLossBackward0": lambda a, b, reduction: functional.mse_loss(a, b, reduction=reduction),
        "SoftmaxBackward0": torch.softmax,
        "LogSoftmaxBackwardDataBackward0": lambda g, out, dim: torch._log_softmax_backward_data(g, out, dim, out.dtype),
        "SoftmaxBackwardDataBackward0": lambda g, out, dim: torch._softmax_backward_data(g, out, dim, out.dtype),
        "LinalgVectorNormBackward0": lambda a, p, dims, keepdim, dtype: torch.linalg.vector_norm(a, p, dims, keepdim,
                                                                                                 dtype=dtype),
        "StdBackward0": lambda a, dims, correction, keepdim: torch.std(a, dims, correction=correction, keepdim=keepdim),
        "VarBackward0": lambda a, dims, correction, keepdim: torch.var(a, dims, correction=correction, keepdim=keepdim),
        "SortBackward0": lambda a, dim, descending, stable: torch.sort(a, dim, descending),
        "SortBackward1": lambda a, dim, descending, stable: torch.sort(a, dim=dim, descending=descending,
                                                                       stable=stable),
        "IndexSelectBackward0": index,
        "IndexAddBackward0": lambda a, dim, index, source, alpha: torch.index_add(a, dim, torch.from_numpy(index),
                                                                                 source, alpha=alpha),
        "BinaryCrossEntropyWithLogitsBackward0": lambda x, t, weight, pos_weight, reduction:
            functional.binary_cross_entropy_with_logits(x, t, weight, reduction=reduction, pos_weight=pos_weight),
    }
    same_arguments = {  # node name -> torch function taking the forward's arguments unchanged
        "MulBackward0": "mul", "DivBackward0": "div", "NegBackward0": "neg", "ReciprocalBackward0": "reciprocal",
        "PowBackward0": "pow", "PowBackward1": "pow", "ExpBackward0": "exp", "LogBackward0": "log",
        "SinBackward0": "sin", "CosBackward0": "cos", "TanhBackward0": "tanh", "SigmoidBackward0": "sigmoid",
        "ReluBackward0": "relu", "AbsBackward0": "abs", "SqrtBackward0": "sqrt", "ClampBackward1": "clamp",
        "MaximumBackward0": "maximum", "WhereBackward0": "where", "MaxBackward1": "max", "MinBackward1": "min",
        "MaxBackward0": "max", "MinBackward0": "min", "PermuteBackward0": "permute",
        "TransposeBackward0": "transpose", "TBackward0": "t", "UnsqueezeBackward0": "unsqueeze",
        "CloneBackward0": "clone", "DotBackward0": "dot", "MmBackward0": "mm", "MvBackward0": "mv",
        "BmmBackward0": "bmm", "AddmmBackward0": "addmm",
    }
    ops.update({name: getattr(torch, fn) for name, fn in same_arguments.items()})
    return ops


def _torch_forward(node: Any) -> Callable[..., Any]:
    """A callable that redoes the node's forward in torch, taking the forward's (converted) arguments."""
    cls = node._forward_cls
    if cls.node_name is not None:  # a built-in op
        op = torch_ops().get(node.name())
        if op is None:
            raise ReplayError(f"{node.name()} has no out-of-place torch counterpart to compare with")
        return op
    static = inspect.getattr_static(cls, "forward")
    forward = _rebound(static.__func__ if isinstance(static, (staticmethod, classmethod)) else static)
    if isinstance(static, classmethod):
        forward = functools.partial(forward, cls)
    if cls.setup_context is not Function.setup_context:  # PyTorch 2 style: forward(*args), no ctx
        return forward
    torch = _import_torch()

    def with_ctx(*args: Any) -> Any:
        ctx = torch.autograd.function.FunctionCtx()
        ctx.needs_input_grad = node.needs_input_grad
        return forward(ctx, *args)
    return with_ctx


def _rebound(fn: types.FunctionType) -> types.FunctionType:
    """``fn`` with its module's autograd_lab names (``torch``, ``F``, ``exp``...) pointing at real torch."""
    names = dict(fn.__globals__)
    for key, value in fn.__globals__.items():
        counterpart = _torch_counterpart(value)
        if counterpart is not None:
            names[key] = counterpart
    clone = types.FunctionType(fn.__code__, names, fn.__name__, fn.__defaults__, fn.__closure__)
    clone.__kwdefaults__ = fn.__kwdefaults__
    return clone


def _torch_counterpart(value: Any) -> Any:
    """The torch object an autograd_lab module or public function stands for (None if it is not one)."""
    if isinstance(value, types.ModuleType):
        target = _MODULES.get(value.__name__)
        return None if target is None else importlib.import_module(target)
    name = getattr(value, "__name__", None)
    if not isinstance(name, str):
        return None
    for lab_name, torch_name in _MODULES.items():
        if getattr(importlib.import_module(lab_name), name, None) is value:
            return getattr(importlib.import_module(torch_name), name, None)
    return None


def _close(ours: np.ndarray | None, theirs: np.ndarray | None, rtol: float, atol: float) -> bool:
    if ours is None and theirs is None:
        return True
    if ours is None or theirs is None:  # a None gradient means zeros (as the engine treats it)
        present = ours if ours is not None else theirs
        return bool(np.all(present == 0))
    return ours.shape == theirs.shape and bool(np.allclose(ours.astype(np.float64), theirs.astype(np.float64),
                                                               rtol=rtol, atol=atol, equal_nan=True))


def _forward_name(node: Any) -> str:
    return f"{node._forward_cls.__name__}.forward"


def _import_torch() -> Any:
    try:
        return importlib.import_module("torch")
    except ImportError as error:
        raise ReplayError("comparing with PyTorch needs PyTorch installed (pip install torch)") from error

