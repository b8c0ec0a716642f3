"""Sorting: sort (values and the indices they came from), topk, argsort, unique."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from autograd_lab._ops import _std_sort
from autograd_lab._ops.indexing import IndexPut
from autograd_lab._ops.operands import int_argument
from autograd_lab._ops.reductions import ReturnType
from autograd_lab._tensor import Tensor, wrap_dim
from autograd_lab.autograd.function import Function


def _order(x: np.ndarray, dim: int, descending: bool, stable: bool = True) -> np.ndarray:
    """Sort order along ``dim`` (NaN last, or first when descending); equal elements in their original order
    (``stable``), or in the order PyTorch's unstable sort leaves them (_std_sort.py)."""
    if not descending:
        order = np.argsort(x, axis=dim, kind="stable")
    else:
        reversed_order = np.argsort(np.flip(x, dim), axis=dim, kind="stable")
        order = x.shape[dim] - 1 - np.flip(reversed_order, dim)
    if stable or x.shape[dim] <= _std_sort.THRESHOLD or _radix_sorted(x, descending):
        return order
    return _with_ties_as_in_pytorch(x, order, dim, descending, _std_sort.order)


def _with_ties_as_in_pytorch(x: np.ndarray, order: np.ndarray, dim: int, descending: bool,
                             replay: Callable[[list[int]], list[int]], every_row: bool = False) -> np.ndarray:
    """``order`` (k positions per row along ``dim``), where a row has equal elements replaced by ``replay`` of its
    ranks (the C++ library's steps, _std_sort.py): only then can two correct orders differ (unless the order
    is not sorted at all: ``every_row``)."""
    rows, orders = np.moveaxis(x, dim, -1).reshape(-1, x.shape[dim]), np.moveaxis(order, dim, -1).copy()
    flat = orders.reshape(rows.shape[0], -1)
    for r, row in enumerate(rows):
        distinct, ranks = np.unique(row, return_inverse=True)  # (NaNs are one rank, the last; -0.0 ties 0.0)
        if every_row or distinct.size < row.size:
            flat[r] = replay((-ranks if descending else ranks).tolist())
    return np.moveaxis(orders, -1, dim)


def _radix_sorted(x: np.ndarray, descending: bool) -> bool:
    """Does PyTorch sort this with its (stable) radix sort: a long 1-d integer tensor, ascending?"""
    return x.ndim == 1 and x.size >= 32768 and x.dtype.kind in "iu" and not descending


class Sort(Function):
    """(values, indices) = a sorted along ``dim``.   d/da: each value's gradient goes back to where it came from."""

    node_name = "SortBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, dim: int, descending: bool, stable: bool) -> tuple[Tensor, Tensor]:
        x = a._data if a.ndim else a._data.reshape(1)
        order = _order(x, dim, descending, stable)
        values = np.take_along_axis(x, order, dim).reshape(a.shape)
        indices = Tensor._wrap(order.astype(np.int64).reshape(a.shape))
        ctx.mark_non_differentiable(indices)
        ctx.shape, ctx.dim = a.shape, dim
        ctx.save_for_backward(indices)
        return Tensor._wrap(values), indices

    @staticmethod
    def backward(ctx: Any, grad: Tensor, _: Tensor | None) -> tuple[Tensor, None, None, None]:
        (indices,) = ctx._for_backward
        if not ctx.shape:
            return grad, None, None, None
        grid = list(np.ix_(*[np.arange(n) for n in ctx.shape]))
        grid[ctx.dim] = indices._data
        return IndexPut.apply(grad, ctx.shape, tuple(grid)), None, None, None


class StableSort(Sort):
    """The same, called with ``stable=`` (PyTorch records it under another name)."""

    node_name = "SortBackward1"


class SortResult(ReturnType):
    """What ``x.sort()`` returns: (values, indices), printed as torch.return_types.sort."""

    __slots__ = ()
    __qualname__ = "sort"


class Topk(Function):
    """(values, indices) = the k largest (or smallest) along ``dim``, in order.   d/da: each value's gradient goes
    back to where it came from; the others get none."""

    node_name = "TopkBackward0"
    saved_as: ClassVar = {"dim": "dim", "indices": 0, "self_sym_sizes": "shape"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, k: int, dim: int, largest: bool, sorted: bool) -> tuple[Tensor, Tensor]:
        x = a._data if a.ndim else a._data.reshape(1)
        order = np.take(_order(x, dim, largest), np.arange(k), axis=dim)
        if k:
            order = _with_ties_as_in_pytorch(x, order, dim, largest, lambda keys: _std_sort.top(keys, k, sorted),
                                             every_row=not sorted)
        shape = x.shape[:dim] + (k,) + x.shape[dim + 1:] if a.ndim else ()
        values = np.take_along_axis(x, order, dim).reshape(shape)
        indices = Tensor._wrap(order.astype(np.int64).reshape(shape))
        ctx.mark_non_differentiable(indices)
        ctx.shape, ctx.dim = tuple(a.shape), dim
        ctx.save_for_backward(indices)
        return Tensor._wrap(values), indices

    @staticmethod
    def backward(ctx: Any, grad: Tensor, _: Tensor | None) -> tuple[Tensor, None, None, None, None]:
        (indices,) = ctx._for_backward
        if not ctx.shape:
            return grad, None, None, None, None
        grid = list(np.ix_(*[np.arange(n) for n in indices.shape]))
        grid[ctx.dim] = indices._data
        return IndexPut.apply(grad, ctx.shape, tuple(grid)), None, None, None, None


class TopkResult(ReturnType):
    """What ``x.topk(k)`` returns."""

    __slots__ = ()
    __qualname__ = "topk"


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> TopkResult:
    """The k largest elements along ``dim`` (smallest, with largest=False), largest first, and where they were."""
    k, dim = int_argument("topk", "k", 1, k), wrap_dim(dim, input.ndim)
    if not 0 <= k <= (input.shape[dim] if input.ndim else 1):
        raise RuntimeError("selected index k out of range")
    return TopkResult(*Topk.apply(input, k, dim, largest, bool(sorted)))


def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool | None = None) -> SortResult:
    """The elements in order along ``dim``, and where each one was (equal elements keep their order only with
    ``stable=True``: otherwise they come out as PyTorch's CPU sort leaves them)."""
    op = Sort if stable is None else StableSort
    return SortResult(*op.apply(input, wrap_dim(dim, input.ndim), descending, bool(stable)))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Where each element of the sorted ``input`` came from (``sort(...).indices``)."""
    x = input._data if input.ndim else input._data.reshape(1)
    order = _order(x, wrap_dim(dim, input.ndim), descending, stable)
    return Tensor._wrap(order.astype(np.int64).reshape(input.shape))


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           dim: int | None = None) -> Tensor | tuple[Tensor, ...]:
    """The distinct elements (or slices along ``dim``), in increasing order; optionally, for each element,
    the index of its value among them (``return_inverse``) and how often each value occurs (``return_counts``).
    Not differentiable, as in PyTorch. (PyTorch may leave them unsorted with ``sorted=False``; here they
    are always sorted.)"""
    data = input._data if dim is not None else input._data.reshape(-1)
    axis = None if dim is None else wrap_dim(dim, input.ndim)
    values, inverse, counts = np.unique(data, return_inverse=True, return_counts=True, axis=axis)
    result = [Tensor._wrap(values)]
    if return_inverse:
        result.append(Tensor._wrap(inverse.astype(np.int64).reshape(input.shape if dim is None else -1)))
    if return_counts:
        result.append(Tensor._wrap(counts.astype(np.int64)))
    return result[0] if len(result) == 1 else tuple(result)
