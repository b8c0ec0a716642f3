"""Joining and splitting: cat, stack, unbind, split, chunk."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from autograd_lab import _dtype
from autograd_lab._ops.indexing import Select, Slice
from autograd_lab._ops.operands import int_argument, type_name, view_of
from autograd_lab._tensor import Tensor, wrap_dim
from autograd_lab.autograd.function import Function


class Cat(Function):
    """out = the tensors joined along ``dim``.   Each input gets its slice of the gradient."""

    node_name = "CatBackward0"
    saved_as: ClassVar = {"dim": "dim"}

    @staticmethod
    def forward(ctx: Any, dim: int, *tensors: Tensor) -> Tensor:
        ctx.dim = dim
        ctx.sizes = [t.shape[dim] for t in tensors]
        return Tensor._wrap(np.concatenate([t._data for t in tensors], axis=dim))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        starts = np.cumsum([0] + ctx.sizes)
        head = (slice(None),) * ctx.dim
        return (None,) + tuple(Slice.apply(grad, head + (slice(int(s), int(s + n)),))
                               for s, n in zip(starts, ctx.sizes))


class Stack(Function):
    """out = the tensors stacked along a new ``dim``.   Each input gets its slice of the gradient."""

    node_name = "StackBackward0"
    saved_as: ClassVar = {"dim": "dim"}

    @staticmethod
    def forward(ctx: Any, dim: int, *tensors: Tensor) -> Tensor:
        ctx.dim = dim
        return Tensor._wrap(np.stack([t._data for t in tensors], axis=dim))

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
        raise RuntimeError(f"{name}(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    common = tensors[0].dtype
    for t in tensors[1:]:
        common = _dtype.promote_types(common, t.dtype)
    return [t if t.dtype is common else t.to(common) for t in tensors]


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    tensors = _joinable(tensors, "torch.cat")
    ndim = tensors[0].ndim
    d = wrap_dim(dim, ndim)
    for number, t in enumerate(tensors[1:], 1):
        if t.ndim != ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ndim} and {t.ndim}")
        for i in range(ndim):
            if i != d and t.shape[i] != tensors[0].shape[i]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{tensors[0].shape[i]} but got size {t.shape[i]} for tensor number "
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
