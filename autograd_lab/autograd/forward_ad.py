"""Forward-mode AD (PyTorch's ``torch.autograd.forward_ad``): dual tensors.

A *dual tensor* carries a tangent ``v`` next to its value ``x``; an op applied to it gives ``f(x)``
with the tangent ``J v`` (a Jacobian-vector product). A custom ``Function`` computes ``J v`` with its
``jvp``. PyTorch writes a forward rule for every built-in op; this course is about reverse mode, so
here a built-in op gets ``J v`` from its backward instead (the "double backward trick"): ``u -> J^T u``
is linear, and differentiating it with respect to ``u`` along ``v`` gives ``J v``.
"""

from __future__ import annotations

import copy
from typing import Any, NamedTuple

import numpy as np

from autograd_lab import _grad_mode as grad_mode
from autograd_lab._tensor import Tensor
from autograd_lab.autograd import function
from autograd_lab.autograd.engine import grad
from autograd_lab.autograd.function import Function, set_tangent, tangents_made


def enter_dual_level() -> int:
    """Start the (single) forward AD level: dual tensors can be made until it is exited."""
    if grad_mode._dual_level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    grad_mode._dual_level = 0
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """End the level: every tangent made in it is dropped."""
    if grad_mode._dual_level < 0 and level is None:
        raise RuntimeError("Dual level must be a positive number.")
    if (grad_mode._dual_level if level is None else level) != grad_mode._dual_level or grad_mode._dual_level < 0:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was created. "
                           "This is not supported.")
    for t in list(tangents_made.values()):
        t._fw_grad = None
    tangents_made.clear()
    grad_mode._dual_level = -1


class dual_level:  # noqa: N801  (PyTorch's name)
    """``with dual_level():`` — make and use dual tensors inside; their tangents are gone after."""

    __module__ = "torch.autograd.forward_ad"  # (displayed as PyTorch's)

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: object) -> None:
        exit_dual_level()


class MakeDual(Function):
    """out = a new tensor over a's memory, carrying a tangent.   d/da = 1."""

    node_name = "ViewBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        return Tensor._wrap(a._data.view())

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad


class Primal(MakeDual):
    """out = a dual tensor's value, without its tangent.   d/da = 1."""

    node_name = "Identity"


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """``tensor`` with ``tangent`` as its forward gradient (``tensor`` itself is left as it was)."""
    if (grad_mode._dual_level if level is None else level) < 0:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                           "enter_dual_level() first.")
    if not tensor.is_floating_point():
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if not tangent.is_floating_point():
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if tangent.shape != tensor.shape:
        raise RuntimeError("Trying to set a forward gradient that has a different size than that of the original "
                           f"Tensor, this is not supported. Tensor is of size {list(tensor.shape)} while the given "
                           f"forward gradient is of size {list(tangent.shape)}.")
    out = _view(MakeDual, tensor)
    set_tangent(out, tangent)
    return out


class UnpackedDualTensor(NamedTuple):
    """What ``unpack_dual`` returns: the value and the tangent (None if there is none)."""

    primal: Tensor
    tangent: Tensor | None


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """A dual tensor's value (a view without the tangent) and its tangent; a plain tensor and None otherwise."""
    if (grad_mode._dual_level if level is None else level) < 0:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(_view(Primal, tensor), tensor._fw_grad)


def _view(op: type[Function], tensor: Tensor) -> Tensor:
    """op applied to ``tensor`` as to a plain tensor (its tangent, if any, is not carried over)."""
    level, grad_mode._dual_level = grad_mode._dual_level, -1
    try:
        out = op.apply(tensor)
    finally:
        grad_mode._dual_level = level
    out._version_counter = tensor._version_counter
    return out


def _apply_with_tangents(cls: type[Function], args: tuple, kwargs: dict) -> Any:
    """apply, when an input is a dual tensor: the op's outputs, each with its tangent ``J v``."""
    level, grad_mode._dual_level = grad_mode._dual_level, -1  # inside, tensors are plain values
    try:
        if cls.node_name is None:
            output, out_tangents = _custom_function_tangents(cls, args, kwargs)
        else:
            out_tangents = _built_in_tangents(cls, args, kwargs)  # first: an in-place op changes its input
            output = cls.apply(*args, **kwargs)
    finally:
        grad_mode._dual_level = level
    outputs = output if isinstance(output, tuple) else (output,)
    out_tangents = out_tangents if isinstance(out_tangents, tuple) else (out_tangents,)
    for out, tangent in zip(outputs, out_tangents):
        if isinstance(out, Tensor) and isinstance(tangent, Tensor):
            set_tangent(out, tangent)
    return output


function.apply_with_tangents = _apply_with_tangents


def _custom_function_tangents(cls: type[Function], args: tuple, kwargs: dict) -> tuple[Any, Any]:
    """Run a custom Function, then its ``jvp`` with the inputs' tangents (zeros where an input has none).

    ``jvp`` reads the ctx that ``apply`` made for this call (what forward stored on it): to catch it,
    the Function's node class is stood in for while apply runs (apply itself stays as fast as ever)."""
    node_class, made = cls._backward_cls, []

    def catching_ctx() -> Any:
        made.append(node_class())
        return made[-1]
    cls._backward_cls = catching_ctx  # type: ignore[assignment]
    try:
        output = cls.apply(*args, **kwargs)
    finally:
        cls._backward_cls = node_class
    ctx = made[0]
    tangents = [None if not isinstance(a, Tensor) else a._fw_grad if a._fw_grad is not None
                else Tensor._wrap(np.zeros_like(a._data)) for a in args]
    for_jvp = copy.copy(ctx)  # the same ctx, but its saved_tensors are those saved for forward
    for_jvp._hooked, for_jvp._saved = None, ctx._kept_for_jvp
    for_jvp._save_versions = [None if t is None else t._version_counter[0] for t in for_jvp._saved]
    return output, cls.jvp(for_jvp, *tangents)


def _built_in_tangents(cls: type[Function], args: tuple, kwargs: dict) -> tuple[Tensor | None, ...]:
    """``J v`` for a built-in op, from its backward: on copies of the inputs, ``g(u) = J^T u`` is recorded
    (``create_graph``), and backpropagating ``v`` through ``g`` to ``u`` gives ``J v``."""
    duals = {i: a for i, a in enumerate(args) if isinstance(a, Tensor) and a._fw_grad is not None}
    leaves = {i: Tensor._wrap(a._data.copy()).requires_grad_() for i, a in duals.items()}
    copies = [leaves[i].clone() if i in leaves else a.detach().clone() if isinstance(a, Tensor) else a
              for i, a in enumerate(args)]  # copies: an in-place op must change neither the leaves nor the args
    with grad_mode.enable_grad():
        output = cls.apply(*copies, **kwargs)
        outputs = output if isinstance(output, tuple) else (output,)
        tangents: list[Tensor | None] = [None] * len(outputs)
        moving = [i for i, out in enumerate(outputs) if isinstance(out, Tensor) and out.requires_grad]
        if not moving:
            return tuple(tangents)
        us = [Tensor._wrap(np.zeros_like(outputs[i]._data)).requires_grad_() for i in moving]
        vjps = grad([outputs[i] for i in moving], list(leaves.values()), us, create_graph=True, allow_unused=True)
        linear = [(g, duals[i]._fw_grad) for g, i in zip(vjps, leaves) if g is not None and g.requires_grad]
        jvps = grad([g for g, _ in linear], us, [v for _, v in linear], allow_unused=True) if linear else ()
    for k, i in enumerate(moving):
        jvp = jvps[k] if k < len(jvps) and jvps[k] is not None else Tensor._wrap(np.zeros_like(us[k]._data))
        tangents[i] = jvp.detach()
    return tuple(tangents)


__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual"]
