"""Joining and splitting: cat, stack (and hstack, vstack, ...), unbind, split, chunk, meshgrid."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from autograd_lab import _dtype
from autograd_lab._creation import empty_like
from autograd_lab._ops.indexing import Select, Slice
from autograd_lab._ops.operands import int_argument, type_name, view_of
from autograd_lab._ops.views import broadcast_shapes
from autograd_lab._tensor import Tensor, wrap_dim
from autograd_lab._torch_warnings import triggered_at, user_stacklevel, warn_once
from autograd_lab.autograd.function import Function


class Cat(Function):
    """out = the tensors joined along ``dim``.   Each input gets its slice of the gradient."""

    node_name = "CatBackward0"
    saved_as: ClassVar = {"dim": "dim"}

    @staticmethod
    def forward(ctx: Any, dim: int, *tensors: Tensor) -> Tensor:
        ctx.dim = dim
        ctx.sizes = [None if _legacy_empty(t) else t.shape[dim] for t in tensors]
        arrays = [a for a, n in zip(_common_arrays(tensors), ctx.sizes) if n is not None]
        if not arrays:  # (only legacy empty tensors: an empty result, in their common dtype)
            return Tensor._wrap(np.concatenate(_common_arrays(tensors)))
        return Tensor._wrap(np.ascontiguousarray(np.concatenate(arrays, axis=dim)))  # (contiguous, as PyTorch's)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        starts = np.cumsum([0] + [n or 0 for n in ctx.sizes])
        head = (slice(None),) * ctx.dim
        pieces = (grad.new_zeros((0,)) if n is None else Slice.apply(grad, head + (slice(int(s), int(s + n)),))
                  for s, n in zip(starts, ctx.sizes))
        return (None, *pieces)


def _legacy_empty(t: Tensor) -> bool:
    """A 1-d tensor with no elements (``torch.tensor([])``): cat skips it, whatever the others' shapes (an old
    idiom for an accumulator that PyTorch still allows)."""
    return t.ndim == 1 and t.shape[0] == 0


class Stack(Function):
    """out = the tensors stacked along a new ``dim``.   Each input gets its slice of the gradient."""

    node_name = "StackBackward0"
    saved_as: ClassVar = {"dim": "dim"}

    @staticmethod
    def forward(ctx: Any, dim: int, *tensors: Tensor) -> Tensor:
        ctx.dim = dim
        return Tensor._wrap(np.ascontiguousarray(np.stack(_common_arrays(tensors), axis=dim)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        head = (slice(None),) * ctx.dim
        return (None,) + tuple(Select.apply(grad, head + (i,)) for i in range(grad.shape[ctx.dim]))


class Unbind(Function):
    """(a[0], a[1], ...) along ``dim``: views, one per position.   d/da = their gradients stacked back."""

    node_name = "UnbindBackward0"
    saved_as: ClassVar = {"dim": "dim"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, dim: int) -> tuple[Tensor, ...]:
        ctx.dim = dim
        head = (slice(None),) * dim
        # replay None: PyTorch forbids changing one of several views made at once in place
        return tuple(view_of(a, a._data[head + (i, Ellipsis)], None) for i in range(a.shape[dim]))

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> tuple[Tensor, None]:
        return Stack.apply(ctx.dim, *grads), None


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along ``dim``, as a tuple (what ``for row in x`` iterates over)."""
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    outs = Unbind.apply(input, wrap_dim(dim, input.ndim))
    return outs if isinstance(outs, tuple) else (outs,)


class Split(Function):
    """(a[:k], a[k:2k], ...) along ``dim``: views.   d/da = their gradients joined back (zeros where none came)."""

    node_name = "SplitBackward0"
    saved_as: ClassVar = {"dim": "dim", "self_sym_sizes": "self_sizes", "split_size": "split_size"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, sizes: list[int], dim: int) -> tuple[Tensor, ...]:
        ctx.dim, ctx.self_sizes, ctx.split_size, ctx.split_sizes = dim, tuple(a.shape), sizes[0], tuple(sizes)
        ctx.dtype = a._data.dtype
        head, starts = (slice(None),) * dim, np.cumsum([0, *sizes])
        # replay None: PyTorch forbids changing one of several views made at once in place
        return tuple(view_of(a, a._data[head + (slice(int(s), int(s + n)),)], None) for s, n in zip(starts, sizes))

    @staticmethod
    def backward(ctx: Any, *grads: Tensor | None) -> tuple[Tensor, None, None]:
        shape = list(ctx.self_sizes)
        parts = []
        for grad, n in zip(grads, ctx.split_sizes):
            shape[ctx.dim] = n
            parts.append(grad if grad is not None else Tensor._wrap(np.zeros(shape, ctx.dtype)))
        return Cat.apply(ctx.dim, *parts), None, None


class SplitWithSizes(Split):
    """Split into the sizes given (``x.split([3, 7])``)."""

    node_name = "SplitWithSizesBackward0"
    saved_as: ClassVar = {"dim": "dim", "self_sym_sizes": "self_sizes", "split_sizes": "split_sizes"}


def split(tensor: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the sizes listed."""
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    dim = wrap_dim(dim, tensor.ndim)
    length = tensor.shape[dim]
    if not isinstance(split_size_or_sections, int):
        if not isinstance(split_size_or_sections, (list, tuple)):
            raise TypeError(f"split_with_sizes(): argument 'split_sizes' (position 2) must be tuple of ints, not "
                            f"{type_name(split_size_or_sections)}")
        sizes = list(split_size_or_sections)
        if sum(sizes) != length or any(n < 0 for n in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {length} (input tensor's size "
                               f"at dimension {dim}), but got split_sizes={sizes}")
        return _pieces(SplitWithSizes, tensor, sizes, dim)
    size = split_size_or_sections
    if size < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
    if size == 0 and length != 0:
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {length}")
    count = max(-(-length // size), 1) if size else 1
    return _pieces(Split, tensor, [size] * (count - 1) + [length - size * (count - 1)], dim)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """``chunks`` pieces of equal size along ``dim`` (the last may be smaller, and there may be fewer)."""
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    chunks = int_argument("chunk", "chunks", 1, chunks)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    length = input.shape[wrap_dim(dim, input.ndim)]
    if length == 0:
        return split(input, [0] * chunks, dim)
    return split(input, -(-length // chunks), dim)


def _pieces(op: type[Split], tensor: Tensor, sizes: list[int], dim: int) -> tuple[Tensor, ...]:
    outs = op.apply(tensor, sizes, dim)
    return outs if isinstance(outs, tuple) else (outs,)


def _joinable(tensors: Sequence[Tensor], name: str) -> list[Tensor]:
    tensors = list(tensors)
    if not tensors:
        if name == "stack":
            raise RuntimeError("stack expects a non-empty TensorList")
        raise ValueError(f"{name}(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    return tensors


def _common_arrays(tensors: Sequence[Tensor]) -> list[np.ndarray]:
    """The tensors' arrays in their common dtype: joined tensors of several dtypes are converted inside the op
    (no ToCopy nodes: each input's gradient is converted back to its dtype by the engine, as in PyTorch)."""
    common = tensors[0].dtype
    for t in tensors[1:]:
        common = _dtype.promote_types(common, t.dtype)
    return [t._data.astype(common.numpy, copy=False) for t in tensors]


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    tensors = _joinable(tensors, "torch.cat")
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    shaped = [(number, t) for number, t in enumerate(tensors) if not _legacy_empty(t)] or [(0, tensors[0])]
    first = shaped[0][1]
    ndim = first.ndim
    d = wrap_dim(dim, ndim)
    for number, t in shaped[1:]:
        if t.ndim != ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ndim} and {t.ndim}")
        for i in range(ndim):
            if i != d and t.shape[i] != first.shape[i]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{first.shape[i]} but got size {t.shape[i]} for tensor number "
                                   f"{number} in the list.")
    return Cat.apply(d, *tensors)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Stack same-shaped tensors along a new dimension."""
    tensors = _joinable(tensors, "stack")
    for i, t in enumerate(tensors[1:], 1):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} at "
                               f"entry 0 and {list(t.shape)} at entry {i}")
    return Stack.apply(wrap_dim(dim, tensors[0].ndim + 1), *tensors)


def _at_least(ndim: int) -> Any:
    """``atleast_1d``/``2d``/``3d``: each tensor given more dims, as PyTorch adds them (a tensor that has enough is
    returned as is; one tensor gives a tensor, several a tuple)."""
    def function(*tensors: Any) -> Any:
        ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
        out = tuple(_grown(t, ndim) for t in ts)
        return out[0] if len(tensors) == 1 and isinstance(tensors[0], Tensor) else out
    function.__name__ = function.__qualname__ = f"atleast_{ndim}d"
    return function


def _grown(t: Tensor, ndim: int) -> Tensor:
    if t.ndim == 0:
        return t.reshape((1,) * ndim)
    if t.ndim == 1 and ndim >= 2:
        t = t.unsqueeze(0)
        return t.unsqueeze(-1) if ndim == 3 else t
    return t.unsqueeze(-1) if t.ndim == 2 and ndim == 3 else t


atleast_1d, atleast_2d, atleast_3d = _at_least(1), _at_least(2), _at_least(3)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Joined along the columns (1-d tensors end to end)."""
    tensors = atleast_1d(tuple(_joinable(tensors, "hstack")))
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Joined along the rows (a 1-d tensor is one row)."""
    return cat(atleast_2d(tuple(_joinable(tensors, "vstack"))), 0)


row_stack = vstack


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Joined along the third dimension."""
    return cat(atleast_3d(tuple(_joinable(tensors, "dstack"))), 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """Side by side as columns (a 1-d or 0-d tensor is one column)."""
    return hstack([t.reshape(t.numel(), 1) if t.ndim <= 1 else t for t in _joinable(tensors, "column_stack")])


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids: the i-th output varies along dim i (``indexing="ij"``) with the i-th input's values;
    ``"xy"`` swaps the first two dims (as NumPy's default)."""
    ts = list(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else list(tensors)
    if indexing is None:
        warn_once("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument."
                  + triggered_at("aten/src/ATen/native/TensorShape.cpp:4215"), stacklevel=user_stacklevel())
        indexing = "ij"
    if not ts:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if any(t.dtype is not ts[0].dtype for t in ts):
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    if indexing not in ("xy", "ij"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    for t in ts:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
    shape = tuple(t.numel() for t in ts)
    grids = [t.view(tuple(-1 if j == i else 1 for j in range(len(ts)))).expand(shape) for i, t in enumerate(ts)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """Each tensor expanded to the shape they broadcast to (one already of that shape is returned as is)."""
    shape = broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return tuple(t if tuple(t.shape) == shape else t.expand(shape) for t in tensors)


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
         append: Tensor | None = None) -> Tensor:
    """Differences of neighbours along ``dim`` (n times): x[1:] - x[:-1], after joining prepend and append."""
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    if prepend is not None or append is not None:
        input = cat([t for t in (prepend, input, append) if t is not None], dim)
    d = wrap_dim(dim, input.ndim)
    if n == 0:  # (a copy, as PyTorch's)
        return empty_like(input).copy_(input)
    for _ in range(n):
        size = input.shape[d]
        if size == 0:
            break
        input = input.narrow(d, 1, size - 1) - input.narrow(d, 0, size - 1)
    return input
