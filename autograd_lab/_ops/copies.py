"""Copies: clone, and conversion to another dtype."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lab import _device, _dtype
from autograd_lab._ops.operands import ieee_silent
from autograd_lab._tensor import Tensor
from autograd_lab.autograd.function import Function


class Clone(Function):
    """out = a copy of a.   d/da = 1."""

    node_name = "CloneBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        return Tensor._wrap(a._data.copy(order="K"))  # the same layout: a transposed tensor's clone is transposed

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad


class Contiguous(Clone):
    """out = a copy of a laid out row by row (``a.contiguous()``)."""

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        return Tensor._wrap(np.ascontiguousarray(a._data))


class ToCopy(Function):
    """out = a converted to another dtype.   d/da = 1, converted back."""

    node_name = "ToCopyBackward0"

    @staticmethod
    @ieee_silent  # nan or inf to an integer: PyTorch gives some integer silently
    def forward(ctx: Any, a: Tensor, dtype: _dtype.dtype) -> Tensor:
        ctx.dtype = a.dtype
        return Tensor._wrap(a._data.astype(dtype.numpy))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad.to(ctx.dtype), None


def clone(input: Tensor) -> Tensor:
    return Clone.apply(input)


def _to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``: only a new dtype (or copy=True) copies."""
    where, dtype, copy = to_arguments(args, kwargs)
    _device.check(where)
    if copy or (dtype is not None and dtype is not self.dtype):
        return ToCopy.apply(self, dtype or self.dtype)
    return self


def to_arguments(args: tuple, kwargs: dict) -> tuple[Any, _dtype.dtype | None, bool]:
    """(device, dtype, copy) from any of to()'s call forms, with PyTorch's TypeError for the others."""
    rest, where, dtype = list(args), kwargs.pop("device", None), kwargs.pop("dtype", None)
    if rest and isinstance(rest[0], Tensor):
        other = rest.pop(0)
        where, dtype = other.device, other.dtype
    elif rest and isinstance(rest[0], _dtype.dtype):
        dtype = rest.pop(0)
    elif rest and (rest[0] is None or isinstance(rest[0], (str, int, _device.device))):
        where = rest.pop(0)
        if rest and isinstance(rest[0], _dtype.dtype):
            dtype = rest.pop(0)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None), kwargs.pop("memory_format", None)  # nothing to do with one device
    if len(rest) <= 2 and all(isinstance(flag, bool) for flag in rest) and not kwargs:
        copy = rest[1] if len(rest) == 2 else copy
        return where, dtype, bool(copy)
    got = [type(a).__name__ for a in args] + [f"{k}={type(v).__name__}" for k, v in kwargs.items()]
    raise TypeError(f"to() received an invalid combination of arguments - got ({', '.join(got)}), but expected one "
                    "of:\n * (torch.device device = None, torch.dtype dtype = None, bool non_blocking = False, "
                    "bool copy = False, *, torch.memory_format memory_format = None)\n * (torch.dtype dtype, bool "
                    "non_blocking = False, bool copy = False, *, torch.memory_format memory_format = None)\n * (Tensor "
                    "tensor, bool non_blocking = False, bool copy = False, *, torch.memory_format memory_format = "
                    "None)\n")
