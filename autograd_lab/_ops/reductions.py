"""Reductions: sum, mean, max, min (and the comparisons allclose, equal)."""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from autograd_lab import _dtype
from autograd_lab._ops.indexing import IndexPut
from autograd_lab._ops.operands import reduced_dims
from autograd_lab._ops.pointwise import Maximum
from autograd_lab._tensor import Size, Tensor, is_expandable_to, size_args, wrap_dim
from autograd_lab.autograd.function import Function


class Sum(Function):
    """out = sum of a over ``dims``.   d/da = 1: the gradient is copied back to every element."""

    node_name = "SumBackward1"

    @staticmethod
    def forward(ctx: Any, a: Tensor, dims: tuple[int, ...], keepdim: bool) -> Tensor:
        ctx.shape, ctx.dims, ctx.keepdim = a.shape, dims, keepdim
        x = a._data
        return Tensor(np.sum(x, axis=dims, keepdims=keepdim, dtype=np.int64 if x.dtype.kind in "bi" else x.dtype))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        return _unreduce(grad, ctx.shape, ctx.dims, ctx.keepdim), None, None


class SumAll(Sum):
    """out = sum of all elements (``x.sum()``)."""

    node_name = "SumBackward0"


def _unreduce(grad: Tensor, shape: Size, dims: tuple[int, ...], keepdim: bool) -> Tensor:
    """Spread a reduced gradient back over the reduced dimensions."""
    if not keepdim and len(shape) > 0:
        grad = grad.reshape([1 if d in dims else s for d, s in enumerate(shape)])
    return grad.expand(shape)


class Mean(Function):
    """out = mean of a over ``dims``.   d/da = 1/n for each of the n averaged elements."""

    node_name = "MeanBackward1"

    @staticmethod
    def forward(ctx: Any, a: Tensor, dims: tuple[int, ...], keepdim: bool) -> Tensor:
        if not a.dtype.is_floating_point:
            raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating "
                               f"point or complex dtype. Got: {a.dtype._scalar_name}")
        ctx.shape, ctx.dims, ctx.keepdim = a.shape, dims, keepdim
        ctx.count = math.prod(a.shape[d] for d in dims)
        return Tensor(np.mean(a._data, axis=dims, keepdims=keepdim, dtype=a._data.dtype))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        return _unreduce(grad, ctx.shape, ctx.dims, ctx.keepdim) / ctx.count, None, None


class MeanAll(Mean):
    """out = mean of all elements (``x.mean()``)."""

    node_name = "MeanBackward0"


class MaxAll(Function):
    """out = the largest element.   The gradient goes to it (split evenly between ties)."""

    node_name = "MaxBackward1"
    _reduce = staticmethod(np.max)
    _name = "max"

    @classmethod
    def forward(cls, ctx: Any, a: Tensor) -> Tensor:
        if a.numel() == 0:
            raise RuntimeError(f"{cls._name}(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        out = Tensor(cls._reduce(a._data))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, out = ctx.saved_tensors
        chosen = a == out
        return grad * chosen / chosen.sum()


class MinAll(MaxAll):
    """out = the smallest element.   The gradient goes to it (split evenly between ties)."""

    node_name = "MinBackward1"
    _reduce = staticmethod(np.min)
    _name = "min"


class MaxDim(Function):
    """(values, indices) = max of a along ``dim``.   The gradient goes to each chosen element."""

    node_name = "MaxBackward0"
    _arg = staticmethod(np.argmax)

    @classmethod
    def forward(cls, ctx: Any, a: Tensor, dim: int, keepdim: bool) -> tuple[Tensor, Tensor]:
        idx = np.expand_dims(cls._arg(a._data, axis=dim), dim)
        values = np.take_along_axis(a._data, idx, dim)
        if not keepdim:
            values, idx = values.squeeze(dim), idx.squeeze(dim)
        indices = Tensor(idx.astype(np.int64))
        ctx.mark_non_differentiable(indices)
        ctx.shape, ctx.dim, ctx.keepdim = a.shape, dim, keepdim
        ctx.save_for_backward(indices)
        return Tensor(values), indices

    @staticmethod
    def backward(ctx: Any, grad: Tensor, _: Tensor | None) -> tuple[Tensor, None, None]:
        (indices,) = ctx.saved_tensors
        idx = indices._data if ctx.keepdim else np.expand_dims(indices._data, ctx.dim)
        grid = list(np.ix_(*[np.arange(n) for n in idx.shape]))
        grid[ctx.dim] = idx
        values = grad if ctx.keepdim else grad.unsqueeze(ctx.dim)
        return IndexPut.apply(values, ctx.shape, tuple(grid)), None, None


class MinDim(MaxDim):
    """(values, indices) = min of a along ``dim``."""

    node_name = "MinBackward0"
    _arg = staticmethod(np.argmin)


class _ValuesAndIndices(NamedTuple):
    values: Tensor
    indices: Tensor


class MaxResult(_ValuesAndIndices):
    """What ``x.max(dim)`` returns: (values, indices), printed as PyTorch prints torch.return_types.max."""

    __slots__ = ()
    _name = "max"

    def __repr__(self) -> str:
        return f"torch.return_types.{self._name}(\nvalues={self.values!r},\nindices={self.indices!r})"


class MinResult(MaxResult):
    __slots__ = ()
    _name = "min"


def sum(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
        dtype: _dtype.dtype | None = None) -> Tensor:
    """Sum of all elements, or over ``dim``."""
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        return SumAll.apply(input, reduced_dims(None, input.ndim), False)
    return Sum.apply(input, reduced_dims(dim, input.ndim), keepdim)


def mean(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    """Mean of all elements, or over ``dim``."""
    if dim is None:
        return MeanAll.apply(input, reduced_dims(None, input.ndim), False)
    return Mean.apply(input, reduced_dims(dim, input.ndim), keepdim)


def max(input: Tensor, dim: int | Tensor | None = None, keepdim: bool = False) -> Tensor | MaxResult:
    """The largest element; with ``dim``, (values, indices) along it; with a tensor, maximum()."""
    if dim is None:
        return MaxAll.apply(input)
    if isinstance(dim, Tensor):
        return Maximum.apply(input, dim)
    return MaxResult(*MaxDim.apply(input, wrap_dim(dim, input.ndim), keepdim))


def min(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor | MinResult:
    """The smallest element; with ``dim``, (values, indices) along it."""
    if dim is None:
        return MinAll.apply(input)
    return MinResult(*MinDim.apply(input, wrap_dim(dim, input.ndim), keepdim))


def _sum_to_size(self: Tensor, *size: Any) -> Tensor:
    """Sum over the dimensions that broadcasting added or stretched, back to ``size``."""
    shape = size_args(size)
    if not is_expandable_to(shape, tuple(self.shape)):
        raise RuntimeError(f"size {{{list(shape)}}} is not expandable to size {{{list(self.shape)}}}.")
    lead = self.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and self.shape[lead + i] != 1)
    out = Sum.apply(self, dims, True) if dims else self
    return out.reshape(shape) if lead else out


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """All elements equal within ``atol + rtol * |other|``."""
    return builtins.bool(np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input: Tensor, other: Tensor) -> bool:
    """Same shape and same values."""
    return input.shape == other.shape and builtins.bool(np.array_equal(input._data, other._data))
