"""Copies: clone, repeat, flip, roll, and conversion to another dtype."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from autograd_lab import _device, _dtype
from autograd_lab._ops.operands import argument_types, ieee_silent
from autograd_lab._tensor import Tensor, size_args, wrap_dim
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


class Repeat(Function):
    """out = a tiled ``repeats`` times along each dim.   d/da: the sum of the gradient over the tiles."""

    node_name = "RepeatBackward0"
    saved_as: ClassVar = {"repeats": "repeats"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, repeats: tuple[int, ...]) -> Tensor:
        ctx.repeats, ctx.shape = repeats, a.shape
        return Tensor._wrap(np.tile(a._data, repeats))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        """PyTorch's steps (so the sums add in its order): the new leading dims summed away one at a time, then
        each tiled dim split into (repeats, size) and all the repeats summed at once."""
        if 0 in ctx.repeats:
            return grad.new_zeros(ctx.shape), None
        added = len(ctx.repeats) - len(ctx.shape)
        for _ in range(added):
            grad = grad.sum(0)
        sizes, dims = [], []
        for r, n in zip(ctx.repeats[added:], ctx.shape):
            if r != 1:
                sizes.append(r)
                dims.append(len(sizes) - 1)
            sizes.append(n)
        grad = grad.reshape(sizes)
        return (grad.sum(tuple(dims)) if dims else grad), None


def repeat(self: Tensor, *repeats: Any) -> Tensor:
    """``x.repeat(2, 3)``: x tiled twice down and three times across (x's dims padded with 1s in front)."""
    if not repeats:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    repeats = size_args(repeats)
    if len(repeats) < self.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions "
                           "of tensor")
    if any(r < 0 for r in repeats):
        shape = [r * n for r, n in zip(repeats, (1,) * (len(repeats) - self.ndim) + tuple(self.shape))]
        raise RuntimeError(f"Trying to create tensor with negative dimension {next(n for n in shape if n < 0)}: "
                           f"{shape}")
    return Repeat.apply(self, repeats)


def tile(input: Tensor, dims: Any) -> Tensor:
    """``repeat`` with ``dims`` padded with 1s in front when shorter than the tensor's dims (NumPy's tile)."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


class ConstantPadNd(Function):
    """out = a with ``pad`` more elements of ``value`` on each side of its last dims (pad = (left, right,
    top, bottom, ...), from the last dim back; a negative count crops).   d/da: the gradient cropped back."""

    node_name = "ConstantPadNdBackward0"
    saved_as: ClassVar = {"pad": "pad"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, pad: tuple[int, ...], value: float) -> Tensor:
        ctx.pad = pad
        x = a._data
        shape, source, target = list(x.shape), [slice(None)] * x.ndim, [slice(None)] * x.ndim
        for i in range(len(pad) // 2):
            d, before, after = x.ndim - 1 - i, pad[2 * i], pad[2 * i + 1]
            size = x.shape[d] + before + after
            if size < 0 or (x.shape[d] + min(before, 0) < 0):
                raise RuntimeError("narrow(): length must be non-negative.")
            shape[d] = size
            source[d] = slice(max(-before, 0), x.shape[d] - max(-after, 0))
            target[d] = slice(max(before, 0), size - max(after, 0))
        out = np.full(shape, value, x.dtype)
        out[tuple(target)] = x[tuple(source)]
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        return ConstantPadNd.apply(grad, tuple(-p for p in ctx.pad), 0), None, None


def constant_pad_nd(input: Tensor, pad: Any, value: float = 0) -> Tensor:
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Length of pad must be even but instead it equals " + str(len(pad)))
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(f"Length of pad should be no more than twice the number of dimensions of the input. "
                           f"Pad length is {len(pad)}while the input has {input.ndim}dimensions.")  # (sic)
    return ConstantPadNd.apply(input, pad, value)


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
    tail = "bool non_blocking = False, bool copy = False, *, torch.memory_format memory_format = None)\n"
    raise TypeError(f"to() received an invalid combination of arguments - got {argument_types(args, kwargs)}, but "
                    f"expected one of:\n * (torch.device device = None, torch.dtype dtype = None, {tail}"
                    f" * (torch.dtype dtype, {tail} * (Tensor tensor, {tail}")


class Flip(Function):
    """out = a reversed along ``dims`` (a copy).   d/da = the gradient reversed back."""

    node_name = "FlipBackward0"
    saved_as: ClassVar = {"dims": "dims"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, dims: tuple[int, ...]) -> Tensor:
        ctx.dims = dims
        return Tensor._wrap(np.flip(a._data, dims).copy() if a.ndim else a._data.copy())

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return Flip.apply(grad, ctx.dims), None


def flip(input: Tensor, *dims: Any) -> Tensor:
    """input reversed along each of ``dims``: ``x.flip(0)``, ``torch.flip(x, [0, 1])``."""
    if not dims:
        raise TypeError('flip() missing 1 required positional arguments: "dims"')
    dims = tuple(wrap_dim(d, max(input.ndim, 1)) for d in size_args(dims))  # (a 0-d tensor: dim 0 is allowed)
    for i, d in enumerate(dims):
        if d in dims[:i]:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return Flip.apply(input, dims)


class Roll(Function):
    """out = a shifted along ``dims`` by ``shifts``, wrapping around (no dims: the flattened tensor).
    d/da = the gradient shifted back."""

    node_name = "RollBackward0"
    saved_as: ClassVar = {"dims": "dims", "shifts": "shifts"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, shifts: tuple[int, ...], dims: tuple[int, ...]) -> Tensor:
        ctx.shifts, ctx.dims = shifts, dims
        return Tensor._wrap(np.roll(a._data, shifts, dims or None))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        return Roll.apply(grad, tuple(-s for s in ctx.shifts), ctx.dims), None, None


def roll(input: Tensor, shifts: int | tuple[int, ...], dims: int | tuple[int, ...] | None = None) -> Tensor:
    """input shifted by ``shifts`` places along ``dims`` (elements that fall off one end come back at the other)."""
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = () if dims is None else (dims,) if isinstance(dims, int) else tuple(dims)
    if dims and len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    return Roll.apply(input, shifts, tuple(wrap_dim(d, input.ndim) for d in dims))
