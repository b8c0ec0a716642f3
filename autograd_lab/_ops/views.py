"""Shapes and views: view, reshape, transpose, permute, unsqueeze, squeeze, expand (no copies)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from autograd_lab import _dtype
from autograd_lab import _grad_mode as grad_mode
from autograd_lab._ops.copies import Contiguous
from autograd_lab._ops.operands import reduced_dims, view_of
from autograd_lab._tensor import Size, Tensor, size_args, wrap_dim
from autograd_lab._torch_warnings import triggered_at, warn_once
from autograd_lab.autograd.function import Function, _check_inplace, refuse_view_made_without_grad


class View(Function):
    """out = a with a new shape (same memory).   d/da: reshape the gradient back."""

    node_name = "ViewBackward0"
    saved_as: ClassVar = {"self_sym_sizes": "shape"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, shape: tuple[int, ...]) -> Tensor:
        ctx.shape = a.shape
        try:
            return view_of(a, a._data.reshape(_infer_shape(shape, a.numel()), copy=False),
                            lambda t: View.apply(t, shape))
        except ValueError:
            raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                               "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad.reshape(ctx.shape), None


class ReshapeAlias(View):
    """``x.reshape(shape)`` of a tensor that is not contiguous yet can be seen in that shape: a view, which
    PyTorch records as _reshape_alias."""

    node_name = "ReshapeAliasBackward0"


class UnsafeView(View):
    """out = a fresh contiguous result (a product, a reshape's copy) with a new shape, sharing its memory without
    being a view of it (PyTorch's _unsafe_view: nothing else will ever see that result).   d/da: reshape back."""

    node_name = "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, shape: tuple[int, ...]) -> Tensor:
        ctx.shape = a.shape
        return Tensor._wrap(a._data.reshape(_infer_shape(shape, a.numel())))


def _infer_shape(shape: Sequence[int], numel: int) -> tuple[int, ...]:
    """Replace one -1 by the size that keeps the number of elements; PyTorch's error otherwise."""
    shape = tuple(int(s) for s in shape)
    known = math.prod(s for s in shape if s != -1)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if -1 in shape and known != 0 and numel % known == 0:
        shape = tuple(numel // known if s == -1 else s for s in shape)
    if -1 in shape or math.prod(shape) != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class Alias(Function):
    """out = a, a second tensor over the same memory (``torch.Tensor(a)``, ``a[...]``).   d/da = 1."""

    node_name = "AliasBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        return view_of(a, a._data.view(), Alias.apply)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad


class Permute(Function):
    """out = a with its dimensions reordered.   d/da: reorder the gradient back."""

    node_name = "PermuteBackward0"
    saved_as: ClassVar = {"dims": lambda ctx: tuple(np.argsort(ctx.inverse))}

    @staticmethod
    def forward(ctx: Any, a: Tensor, dims: tuple[int, ...]) -> Tensor:
        ctx.inverse = tuple(np.argsort(dims))
        return view_of(a, a._data.transpose(dims), lambda t: Permute.apply(t, dims))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad.permute(ctx.inverse), None


class Transpose(Function):
    """out = a with two dimensions swapped.   d/da: swap them back."""

    node_name = "TransposeBackward0"
    saved_as: ClassVar = {"dim0": "d0", "dim1": "d1"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, d0: int, d1: int) -> Tensor:
        ctx.d0, ctx.d1 = d0, d1
        swapped = np.swapaxes(a._data, d0, d1) if a.ndim else a._data[...]  # (a 0-d tensor: dims 0 and -1 are itself)
        return view_of(a, swapped, lambda t: Transpose.apply(t, d0, d1))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        return grad.transpose(ctx.d0, ctx.d1), None, None


class T(Function):
    """out = a transposed (a matrix's rows become columns; 0-d and 1-d stay).   d/da = grad.t()."""

    node_name = "TBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        return view_of(a, a._data.T, T.apply)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad.t()


class Unsqueeze(Function):
    """out = a with a new dimension of size 1 at ``dim``.   d/da: squeeze it away."""

    node_name = "UnsqueezeBackward0"
    saved_as: ClassVar = {"dim": "dim"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, dim: int) -> Tensor:
        ctx.dim = dim
        return view_of(a, np.expand_dims(a._data, dim), lambda t: Unsqueeze.apply(t, dim))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad.squeeze(ctx.dim), None


class Squeeze(Function):
    """out = a without its size-1 dimensions (or only ``dims``).   d/da: reshape back."""

    node_name = "SqueezeBackward0"
    saved_as: ClassVar = {"self_sym_sizes": "shape"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, dims: tuple[int, ...]) -> Tensor:
        ctx.shape, ctx.dims = a.shape, dims[0] if len(dims) == 1 else dims
        return view_of(a, np.squeeze(a._data, tuple(d for d in dims if a._data.shape[d] == 1)),
                        lambda t: ctx._forward_cls.apply(t, dims))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad.reshape(ctx.shape), None


class SqueezeDim(Squeeze):
    """``squeeze(dim)``."""

    node_name = "SqueezeBackward1"
    saved_as: ClassVar = {"dim": "dims", "self_sym_sizes": "shape"}


class SqueezeAfterMatmul(Squeeze):
    """The squeeze at the end of vector @ matrix (PyTorch does it in place: squeeze_)."""

    node_name = "SqueezeBackward4"
    saved_as: ClassVar = {"dim": "dims", "self_sym_sizes": "shape"}


class Expand(Function):
    """out = a broadcast to a larger shape (no copy).   d/da: sum the gradient back to a's shape."""

    node_name = "ExpandBackward0"
    saved_as: ClassVar = {"self_sym_sizes": "shape"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, shape: tuple[int, ...]) -> Tensor:
        ctx.shape = a.shape
        seen = np.broadcast_to(a._data, shape)  # (read-only: writing through it is checked as PyTorch checks it)
        seen = np.lib.stride_tricks.as_strided(a._data, seen.shape, seen.strides, writeable=a._data.flags.writeable)
        return view_of(a, seen, lambda t: Expand.apply(t, shape))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad.sum_to_size(ctx.shape), None


def _expand_shape(old: tuple[int, ...], sizes: Sequence[int]) -> tuple[int, ...]:
    """``expand``'s target shape (-1 keeps a size), or PyTorch's error."""
    sizes = tuple(sizes)
    if len(sizes) < len(old):
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(old)}}}, size={list(sizes)}): the number of sizes "
                           f"provided ({len(sizes)}) must be greater or equal to the number of dimensions in "
                           f"the tensor ({len(old)})")
    lead = len(sizes) - len(old)
    out = []
    for i, s in enumerate(sizes):
        have = old[i - lead] if i >= lead else None
        if s == -1:
            if have is None:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a leading, "
                                   f"non-existing dimension {i}")
            s = have
        if have is not None and have != 1 and have != s:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({have}) at "
                               f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                               f"{list(old)}")
        out.append(s)
    return tuple(out)


def _reshape(self: Tensor, *shape: Any) -> Tensor:
    """A view when the memory allows one (``view`` for a contiguous tensor, else _reshape_alias), otherwise a
    contiguous copy given the shape (clone, then _unsafe_view): the nodes PyTorch records."""
    size = size_args(shape)
    if self._data.flags.c_contiguous:
        return View.apply(self, size)
    try:
        self._data.reshape(_infer_shape(size, self.numel()), copy=False)
    except ValueError:  # (no view fits: the copy)
        return UnsafeView.apply(Contiguous.apply(self), size)
    return ReshapeAlias.apply(self, size)


def _view(self: Tensor, *shape: Any) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        return _view_as_dtype(self, shape[0])
    return View.apply(self, size_args(shape))


def _view_as_dtype(self: Tensor, dtype: _dtype.dtype) -> Tensor:
    """``x.view(torch.int32)``: the same bytes read as another dtype (outside the graph, as in PyTorch)."""
    old, new = self._data.itemsize, dtype.numpy.itemsize
    if old != new and self.ndim:
        what = f"to view {self.dtype._scalar_name} as {dtype._scalar_name} (different element sizes), but got"
        if new > old and self.shape[-1] % (new // old):
            raise RuntimeError(f"self.size(-1) must be divisible by {new // old} {what} {self.shape[-1]}")
        if self._data.strides[-1] != old:
            raise RuntimeError(f"self.stride(-1) must be 1 {what} {self._data.strides[-1] // old}")
    elif old != new:
        raise RuntimeError(f"self.dim() cannot be 0 to view {self.dtype._scalar_name} as {dtype._scalar_name} "
                           "(different element sizes)")
    out = Tensor._wrap(self._data.view(dtype.numpy))
    out._version_counter = self._version_counter
    return out


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions start_dim..end_dim into one."""
    if input.ndim == 0:
        return input.reshape(1)
    start, end = wrap_dim(start_dim, input.ndim), wrap_dim(end_dim, input.ndim)
    if start == end:
        return input
    shape = tuple(input.shape)
    return input.reshape(shape[:start] + (-1,) + shape[end + 1:])


def _t(self: Tensor) -> Tensor:
    if self.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
    return T.apply(self)


def _matrix_transpose(name: str) -> Callable[[Tensor], Tensor]:
    """``x.mT`` (and ``x.mH``, the same for real tensors): each matrix of a batch transposed (a view)."""
    def transposed(self: Tensor) -> Tensor:
        if self.ndim < 2:
            raise RuntimeError(f"tensor.{name} is only supported on matrices or batches of matrices. Got "
                               f"{self.ndim}-D tensor.")
        return transpose(self, -2, -1)
    return transposed


def _T(self: Tensor) -> Tensor:  # noqa: N802
    if self.ndim == 0:
        warn_once("Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases."
                  + triggered_at("aten/src/ATen/native/TensorShape.cpp:4321"), stacklevel=2)
    elif self.ndim != 2:
        warn_once("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated "
                  "and it will throw an error in a future release. Consider `x.mT` to transpose batches of "
                  "matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a "
                  "tensor." + triggered_at("aten/src/ATen/native/TensorShape.cpp:4314"), stacklevel=2)
    return Permute.apply(self, tuple(range(self.ndim - 1, -1, -1)))


def _permute(self: Tensor, *dims: Any) -> Tensor:
    dims = tuple(wrap_dim(d, self.ndim) for d in size_args(dims))
    if sorted(dims) != list(range(self.ndim)):
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does not match the length "
                           "of the desired ordering of dimensions i.e. input.dim() = "
                           f"{self.ndim} is not equal to len(dims) = {len(dims)}")
    return Permute.apply(self, dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return Transpose.apply(input, wrap_dim(dim0, input.ndim), wrap_dim(dim1, input.ndim))


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    return Unsqueeze.apply(input, wrap_dim(dim, input.ndim + 1))


def squeeze(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    if dim is None:
        return Squeeze.apply(input, tuple(range(input.ndim)))
    if input.ndim == 0:
        return SqueezeDim.apply(input, ())
    return SqueezeDim.apply(input, reduced_dims(dim, input.ndim))


def reshape(input: Tensor, shape: Sequence[int]) -> Tensor:
    """``torch.reshape(x, shape)``: the function form of ``x.reshape(shape)``."""
    return _reshape(input, tuple(shape))


class UnsqueezeInPlace(Unsqueeze):
    node_name = "UnsqueezeBackward1"


class SqueezeInPlace(Squeeze):
    node_name = "SqueezeBackward3"


class SqueezeDimInPlace(SqueezeDim):
    node_name = "SqueezeBackward4"


def unsqueeze_(self: Tensor, dim: int) -> Tensor:
    d = wrap_dim(dim, self.ndim + 1)
    return _become(self, UnsqueezeInPlace.apply(self, d), lambda t: unsqueeze(t, d))


def squeeze_(self: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    if dim is None:
        return _become(self, SqueezeInPlace.apply(self, tuple(range(self.ndim))), squeeze)
    dims = reduced_dims(dim, self.ndim) if self.ndim else ()
    return _become(self, SqueezeDimInPlace.apply(self, dims), lambda t: SqueezeDim.apply(t, dims))


def _become(self: Tensor, view: Tensor, replay: Callable[[Tensor], Tensor]) -> Tensor:
    """``x.unsqueeze_(0)``: x itself takes the view's shape (and, in a graph, its node), at a new version.
    Only x's shape changes, not memory, so a view of a non-leaf may do it too (its recipe gets the step)."""
    if grad_mode.is_grad_enabled():
        if self._made_in is not None and self._requires_grad:
            refuse_view_made_without_grad(self)
        if self._grad_fn is None and self._requires_grad and self._base is not None:  # a leaf that is a view
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
        if self._base is None or self._base._grad_fn is None:
            _check_inplace(self)
    self._data = view._data
    if view._grad_fn is not None:
        self._grad_fn, self._output_nr = view._grad_fn, view._output_nr
    if self._view_fn is not None:
        recipe = self._view_fn
        self._view_fn = lambda base: replay(recipe(base))
    self._version_counter[0] += 1
    return self


def _expand(self: Tensor, *sizes: Any) -> Tensor:
    return Expand.apply(self, _expand_shape(tuple(self.shape), size_args(sizes)))


def _expand_as(self: Tensor, other: Tensor) -> Tensor:
    return _expand(self, tuple(other.shape))


def _view_as(self: Tensor, other: Tensor) -> Tensor:
    return View.apply(self, tuple(other.shape))


def movedim(input: Tensor, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """The dims ``source`` moved to positions ``destination``, the others keeping their order (a permute)."""
    if input.ndim == 0:  # (PyTorch: an alias of the tensor, after checking the dims)
        for d in ([source] if isinstance(source, int) else list(source)) + (
                [destination] if isinstance(destination, int) else list(destination)):
            wrap_dim(d, 0)
        return Alias.apply(input)
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain the "
                           f"same number of dims as destination ({dst} dims)")
    wrapped_src = [wrap_dim(d, input.ndim) for d in src]
    wrapped_dst = [wrap_dim(d, input.ndim) for d in dst]
    for name, given, wrapped in (("source", src, wrapped_src), ("destination", dst, wrapped_dst)):
        if len(set(wrapped)) != len(wrapped):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({given})")
    order = [-1] * input.ndim
    for s, d in zip(wrapped_src, wrapped_dst):
        order[d] = s
    rest = iter(d for d in range(input.ndim) if d not in wrapped_src)
    return Permute.apply(input, tuple(o if o >= 0 else next(rest) for o in order))


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Dimension ``dim`` split into ``sizes`` (one of them may be -1): a view."""
    dim = wrap_dim(dim, input.ndim)
    sizes = list(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    size = input.shape[dim]
    known = math.prod(n for n in sizes if n != -1)
    if -1 in sizes and known and size % known == 0:
        sizes = [size // known if n == -1 else n for n in sizes]
    if math.prod(sizes) != size:
        raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size of dim {dim} ({size}) "
                           "in the input tensor")
    return View.apply(input, tuple(input.shape[:dim]) + tuple(sizes) + tuple(input.shape[dim + 1:]))


def ravel(input: Tensor) -> Tensor:
    """All elements in one dimension: a view of a contiguous tensor, else a view of a contiguous copy."""
    return View.apply(input if input._data.flags.c_contiguous else Contiguous.apply(input), (-1,))


def broadcast_to(input: Tensor, size: Sequence[int]) -> Tensor:
    return _expand(input, tuple(size))


def broadcast_shapes(*shapes: int | Sequence[int]) -> Size:
    """The shape tensors of these shapes broadcast to (no tensors made)."""
    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    result = [1] * max((len(s) for s in shapes), default=0)
    for i, shape in enumerate(shapes):
        for j in range(-1, -len(shape) - 1, -1):
            if shape[j] < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension ({shape[j]}): ({shape[j]})")
            if shape[j] != 1 and result[j] not in (1, shape[j]):
                raise RuntimeError(f"Attempting to broadcast a dimension of length {shape[j]} at {j}! Mismatching "
                                   f"argument at index {i} had {shape}; but expected shape should be broadcastable "
                                   f"to {result}")
            if shape[j] != 1:
                result[j] = shape[j]
    return Size(result)
