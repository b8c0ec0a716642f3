"""Copies: clone, and conversion to another dtype."""

from __future__ import annotations

from typing import Any

from autograd_lab import _dtype
from autograd_lab._tensor import Tensor
from autograd_lab.autograd.function import Function


class Clone(Function):
    """out = a copy of a.   d/da = 1."""

    node_name = "CloneBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        return Tensor(a._data.copy())

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad


class ToCopy(Function):
    """out = a converted to another dtype.   d/da = 1, converted back."""

    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, dtype: _dtype.dtype) -> Tensor:
        ctx.dtype = a.dtype
        return Tensor(a._data.astype(dtype.numpy))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad.to(ctx.dtype), None


def clone(input: Tensor) -> Tensor:
    return Clone.apply(input)


def _to(self: Tensor, dtype: _dtype.dtype, *args: Any, **kwargs: Any) -> Tensor:
    if not isinstance(dtype, _dtype.dtype):
        if dtype in ("cpu", None):  # autograd_lab has one device
            return self
        raise TypeError(f"to() received an invalid combination of arguments - got ({type(dtype).__name__})")
    return self if dtype is self.dtype else ToCopy.apply(self, dtype)
