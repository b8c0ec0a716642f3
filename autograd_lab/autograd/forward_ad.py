"""Forward-mode AD, as far as a custom ``Function``'s ``jvp`` (PyTorch's ``torch.autograd.forward_ad``).

A *dual tensor* carries a tangent ``v`` next to its value ``x``; a Function applied to it gives
``f(x)`` with the tangent ``J v`` (a Jacobian-vector product), computed by the Function's ``jvp``.
This course is about reverse mode, so only custom Functions propagate tangents here: a built-in op
given a dual tensor says so (in PyTorch every op has its forward rule).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from autograd_lab import _grad_mode as grad_mode
from autograd_lab._tensor import Tensor
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
    for t in list(tangents_made):
        t._fw_grad = None
    tangents_made.clear()
    grad_mode._dual_level = -1


class dual_level:  # noqa: N801  (PyTorch's name)
    """``with dual_level():`` — make and use dual tensors inside; their tangents are gone after."""

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


__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual"]
