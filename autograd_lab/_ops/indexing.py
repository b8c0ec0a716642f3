"""Indexing: x[key], PyTorch's way (select, slice, unsqueeze per item, then one advanced index)."""

from __future__ import annotations

import builtins
import warnings
from typing import Any, ClassVar

import numpy as np

from autograd_lab import _dtype
from autograd_lab._creation import scalar_for
from autograd_lab._ops.operands import OPERANDS, Number, broadcast_shape, type_name, view_of
from autograd_lab._ops.pointwise import where
from autograd_lab._ops.views import Alias, Unsqueeze
from autograd_lab._tensor import Tensor, wrap_dim
from autograd_lab._torch_warnings import triggered_at, user_stacklevel, warn_once
from autograd_lab.autograd.function import Function


class Index(Function):
    """out = a[key] with integer or boolean index tensors.   d/da: the gradient put back at key."""

    node_name = "IndexBackward0"
    saved_as: ClassVar = {"indices": lambda ctx: _index_tensors(ctx.key), "self_sym_sizes": "shape"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, key: tuple) -> Tensor:
        ctx.shape, ctx.key = a.shape, key
        return Tensor._wrap(a._data[key])

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return ctx._forward_cls.put.apply(grad, ctx.shape, ctx.key), None


class Select(Index):
    """out = a[..., i, ...]: one position along one dimension (a view)."""

    node_name = "SelectBackward0"
    saved_as: ClassVar = {"dim": lambda ctx: len(ctx.key) - 1, "index": lambda ctx: ctx.key[-1],
                          "self_sym_sizes": "shape"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, key: tuple) -> Tensor:
        ctx.shape, ctx.key = a.shape, key
        view = ctx._forward_cls  # Select or Slice
        return view_of(a, a._data[key + (Ellipsis,)], lambda t: view.apply(t, key))  # (...): a 0-d view, not a copy


class Slice(Select):
    """out = a[..., start:stop:step, ...] (a view)."""

    node_name = "SliceBackward0"
    saved_as: ClassVar = {"dim": lambda ctx: len(ctx.key) - 1, "start": lambda ctx: ctx.key[-1].start or 0,
                          "end": lambda ctx: _end(ctx.key[-1].stop), "step": lambda ctx: ctx.key[-1].step or 1,
                          "self_sym_sizes": "shape"}


def _index_tensors(key: tuple) -> tuple[Tensor | None, ...]:
    """An advanced index as PyTorch's IndexBackward0 keeps it: a tensor per indexed dimension, None for ``:``."""
    return tuple(None if isinstance(k, slice) else Tensor._wrap(k) for k in (key if isinstance(key, tuple) else (key,)))


def _end(stop: int | None) -> int:
    return 2**63 - 1 if stop is None else stop  # PyTorch's "to the end"


class IndexPut(Function):
    """out = zeros(shape) with ``values`` added at ``key``: the gradient of indexing.

    Its own gradient is indexing again, so second derivatives through a[key] work.
    """

    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx: Any, values: Tensor, shape: tuple[int, ...], key: tuple) -> Tensor:
        ctx.key = key
        out = np.zeros(shape, values._data.dtype)
        np.add.at(out, key, values._data)  # add.at: an index that repeats receives every gradient
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        return Index.apply(grad, ctx.key), None, None


class IndexPutImpl(IndexPut):
    """IndexPut, recorded as PyTorch records the gradient of ``x[index_tensor]``."""

    node_name = "IndexPutImplBackward0"


class SelectBackward(IndexPut):
    """IndexPut, recorded as PyTorch records the gradient of ``x[i]``."""

    node_name = "SelectBackwardBackward0"


class SliceBackward(IndexPut):
    """IndexPut, recorded as PyTorch records the gradient of ``x[a:b]``."""

    node_name = "SliceBackwardBackward0"


Index.put, Select.put, Slice.put = IndexPutImpl, SelectBackward, SliceBackward  # (what each one's backward runs)


def _dims_used(k: Any) -> int:
    """How many of the indexed tensor's dimensions one index item consumes."""
    if k is None or k is Ellipsis:
        return 0
    if isinstance(k, Tensor) and k.dtype is _dtype.bool:
        return k.ndim
    return 1


def _uint8_as_mask(k: Any) -> Any:
    """A uint8 index tensor is a mask, as PyTorch still reads it (with its warning), not a list of positions."""
    if not (isinstance(k, Tensor) and k.dtype is _dtype.uint8):
        return k
    warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool instead."
                  + triggered_at("aten/src/ATen/native/IndexingUtils.h:37"), UserWarning, stacklevel=4)
    return Tensor._wrap(k._data.astype(bool))


def _getitem(self: Tensor, key: Any) -> Tensor:
    """``x[key]`` the way PyTorch does it: select/slice/unsqueeze per item, then one advanced index."""
    items = list(key) if isinstance(key, tuple) else [key]
    items = [Tensor._wrap(np.asarray(k)) if isinstance(k, (list, range, np.ndarray)) else k for k in items]
    items = [_uint8_as_mask(k) for k in items]
    specified = builtins.sum(_dims_used(k) for k in items)
    if self.ndim == 0 and any(isinstance(k, slice) for k in items):
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    if self.ndim == 0 and any(isinstance(k, (int, np.integer)) for k in items):
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in "
                         "C++ to convert a 0-dim tensor to a number")
    if specified > self.ndim:
        raise IndexError(f"too many indices for tensor of dimension {self.ndim}")
    out, dim, advanced = self, 0, {}
    for k in items:
        if k is None:
            out = Unsqueeze.apply(out, dim)
            dim += 1
        elif k is Ellipsis:
            dim += self.ndim - specified
        elif isinstance(k, (int, np.integer)) and not isinstance(k, bool):
            size = out.shape[dim]
            if not -size <= k < size:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size {size}")
            out = Select.apply(out, (slice(None),) * dim + (int(k),))
        elif isinstance(k, slice):
            if k.step is not None and k.step <= 0:
                raise ValueError("step must be greater than zero")
            if len(items) == 1 or k != slice(None):  # PyTorch skips a full slice inside a tuple
                out = Slice.apply(out, (slice(None),) * dim + (k,))
            dim += 1
        elif isinstance(k, Tensor) and not k.dtype.is_floating_point:
            advanced[dim] = k
            dim += _dims_used(k)
        elif isinstance(k, Tensor):
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        else:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                             f"are valid indices (got {type(k).__name__})")
    if not advanced:
        return Alias.apply(out) if out is self else out  # (x[...]: a new view of x all the same)
    _check_index_bounds(out, advanced)
    key, d = [], 0
    while d < out.ndim:
        if d in advanced:
            key.append(advanced[d]._data)
            d += _dims_used(advanced[d])
        else:
            key.append(slice(None))
            d += 1
    return Index.apply(out, tuple(key))


def narrow(input: Tensor, dim: int, start: int | Tensor, length: int) -> Tensor:
    """``length`` positions along ``dim`` from ``start`` (negative: from the end): a view, as ``x[..., a:b]``."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if isinstance(start, Tensor):  # (a 0-d integer tensor, as PyTorch allows)
        start = int(start.item())
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    dim = wrap_dim(dim, input.ndim)
    size = input.shape[dim]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    start = start + size if start < 0 else start
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return Slice.apply(input, (slice(None),) * dim + (slice(start, start + length),))


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The position ``index`` along ``dim`` (that dimension goes): a view, as ``x[:, index]``."""
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = wrap_dim(dim, input.ndim)
    if not -input.shape[dim] <= index < input.shape[dim]:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
                         f"dimension {dim}")
    return Select.apply(input, (slice(None),) * dim + (int(index),))


def _check_index_bounds(x: Tensor, advanced: dict[int, Tensor]) -> None:
    for d, idx in advanced.items():
        if idx.dtype is _dtype.bool:
            if tuple(idx.shape) != tuple(x.shape[d:d + idx.ndim]):
                raise IndexError(f"The shape of the mask {list(idx.shape)} at index {d} does not match the shape "
                                 f"of the indexed tensor {list(x.shape)} at index {d}")
            continue
        size = x.shape[d]
        bad = idx._data[(idx._data >= size) | (idx._data < -size)]
        if bad.size:
            raise IndexError(f"index {int(bad.flat[0])} is out of bounds for dimension {d} with size {size}")


def numpy_key(key: Any) -> Any:
    """An index with tensors replaced by their arrays (for writing with NumPy)."""
    if isinstance(key, tuple):
        return tuple(_numpy_item(k) for k in key)
    return _numpy_item(key)


def _numpy_item(k: Any) -> Any:
    if isinstance(k, Tensor):
        return k._data
    return np.asarray(k) if isinstance(k, (list, range)) else k


class IndexAdd(Function):
    """out = a, plus alpha * source added at ``index`` along ``dim``.   d/da = 1,  d/dsource = alpha * grad[index]."""

    node_name = "IndexAddBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, dim: int, index: np.ndarray, source: Tensor, alpha: Any) -> Tensor:
        ctx.key, ctx.alpha = (slice(None),) * dim + (index,), alpha
        out = a._data.copy()
        np.add.at(out, ctx.key, source._data if alpha == 1 else source._data * alpha)
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None, Tensor | None, None]:
        if not ctx.needs_input_grad[3]:
            return grad, None, None, None, None
        picked = Index.apply(grad, ctx.key)
        return grad, None, None, (picked if ctx.alpha == 1 else picked * ctx.alpha), None


def check_index_add(a: Tensor, dim: int, index: Tensor, source: Tensor) -> None:
    """PyTorch's checks for index_add_, in its order."""
    if index.dtype.is_floating_point or index.dtype is _dtype.bool:
        raise RuntimeError(f"index_add_(): Expected dtype int32/int64 for index but got: {index.dtype._scalar_name}")
    if index.ndim > 1:
        raise IndexError(f"index_add_(): Index is supposed to be a vector, but got dim: {index.ndim} with type: "
                         f"{index.dtype._scalar_name} and size: {list(index.shape)}")
    if source.dtype is not a.dtype:
        raise RuntimeError(f"index_add_(): self ({a.dtype._scalar_name}) and source ({source.dtype._scalar_name}) "
                           "must have the same scalar type")
    if source.ndim != a.ndim or any(s != t for d, (s, t) in enumerate(zip(source.shape, a.shape)) if d != dim):
        raise RuntimeError("source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = {list(a.shape)} source.shape = {list(source.shape)}")
    if index.numel() != source.shape[dim]:
        raise RuntimeError(f"index_add_(): Number of indices ({index.numel()}) should be equal to source.size(dim): "
                           f"({source.shape[dim]}), for dim: {dim}")
    if ((index._data < 0) | (index._data >= a.shape[dim])).any():
        raise IndexError("index out of range in self")


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices at ``index`` along ``dim`` (a copy): input[..., index, ...]."""
    dim = wrap_dim(dim, input.ndim)
    return IndexSelect.apply(input, (slice(None),) * dim + (index._data.reshape(-1),))


class IndexSelect(Index):
    """out = a[..., index, ...] along one dimension.   d/da: the gradient put back at index."""

    node_name = "IndexSelectBackward0"


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """A copy of input with alpha * source added at ``index`` along ``dim`` (repeated indices add up)."""
    dim = wrap_dim(dim, input.ndim)
    check_index_add(input, dim, index, source)
    return IndexAdd.apply(input, dim, index._data.reshape(-1), source, alpha)


def _along(dim: int, index: np.ndarray) -> tuple:
    """The NumPy key for "position index[i][j] along dim, (i, j) elsewhere": gather's and scatter's pattern."""
    return tuple(index if d == dim else where for d, where in enumerate(np.indices(index.shape, sparse=True)))


def check_along(name: str, a: Tensor, dim: int, index: Tensor, src: Tensor | None = None) -> int:
    """gather's and scatter's checks, with PyTorch's messages, in its order; returns dim as an index."""
    dim = wrap_dim(dim, a.ndim)
    if index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    if src is not None and src.dtype is not a.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    if index.ndim != a.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as "
                           f"{'input' if name == 'gather' else 'self'} tensor")
    for d, (i, s) in enumerate(zip(index.shape, a.shape)):
        if d != dim and i > s:
            raise RuntimeError(f"Size does not match at dimension {d} expected index {list(index.shape)} to be no "
                               f"larger than self {list(a.shape)} apart from dimension {dim}")
    wrong = (index._data < 0) | (index._data >= a.shape[dim])
    if wrong.any():
        raise RuntimeError(f"index {index._data[wrong].flat[0]} is out of bounds for dimension {dim} with size "
                           f"{a.shape[dim]}")
    return dim


def _cropped(src: Tensor, index: np.ndarray) -> np.ndarray:
    """The part of src that scatter uses: src[:index.size(0), :index.size(1), ...]."""
    return src._data[tuple(slice(n) for n in index.shape)]


class Gather(Function):
    """out[i][j] = a[index[i][j]][j] (for dim 0).   d/da: each gradient added back where it was picked."""

    node_name = "GatherBackward0"
    saved_as: ClassVar = {"dim": "dim", "index": lambda ctx: Tensor._wrap(ctx.index), "sparse_grad": lambda ctx: False}

    @staticmethod
    def forward(ctx: Any, a: Tensor, dim: int, index: np.ndarray) -> Tensor:
        ctx.shape, ctx.dim, ctx.index = a.shape, dim, index
        return Tensor._wrap(a._data[_along(dim, index)])

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        zeros = Tensor._wrap(np.zeros(ctx.shape, grad._data.dtype))
        return ScatterAdd.apply(zeros, ctx.dim, ctx.index, grad), None, None


class ScatterAdd(Function):
    """out = a, with src[i][j] added at [index[i][j]][j] (dim 0).   d/da = 1,  d/dsrc: gather the gradient."""

    node_name = "ScatterAddBackward0"
    saved_as: ClassVar = {"dim": "dim", "index": lambda ctx: Tensor._wrap(ctx.index)}

    @staticmethod
    def forward(ctx: Any, a: Tensor, dim: int, index: np.ndarray, src: Tensor) -> Tensor:
        ctx.dim, ctx.index = dim, index
        out = a._data.copy()
        np.add.at(out, _along(dim, index), _cropped(src, index))
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None, Tensor | None]:
        return grad, None, None, _gathered_grad(ctx, grad, 3)


def _gathered_grad(ctx: Any, grad: Tensor, position: int) -> Tensor | None:
    """src's gradient in scatter and scatter_add: the gradient gathered from where src went."""
    return Gather.apply(grad, ctx.dim, ctx.index) if ctx.needs_input_grad[position] else None


class Scatter(Function):
    """out = a, with src[i][j] written at [index[i][j]][j] (dim 0).   d/da: 0 where written,  d/dsrc: gathered."""

    node_name = "ScatterBackward0"
    saved_as: ClassVar = {"dim": "dim", "index": lambda ctx: Tensor._wrap(ctx.index)}

    @staticmethod
    def forward(ctx: Any, a: Tensor, dim: int, index: np.ndarray, src: Tensor) -> Tensor:
        ctx.dim, ctx.index = dim, index
        out = a._data.copy()
        out[_along(dim, index)] = _cropped(src, index)
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None, Tensor | None]:
        return ScatterValue.apply(grad, ctx.dim, ctx.index, 0), None, None, _gathered_grad(ctx, grad, 3)


class ScatterValue(Function):
    """out = a, with one number written at [index[i][j]][j] (dim 0).   d/da: 0 where written, else 1."""

    node_name = "ScatterBackward1"
    saved_as: ClassVar = {"dim": "dim", "index": lambda ctx: Tensor._wrap(ctx.index), "value": "value"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, dim: int, index: np.ndarray, value: Any) -> Tensor:
        ctx.dim, ctx.index, ctx.value = dim, index, value
        out = a._data.copy()
        out[_along(dim, index)] = value
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None, None]:
        return ScatterValue.apply(grad, ctx.dim, ctx.index, 0), None, None, None


class ScatterReduce(Function):
    """out = a, with src[i][j] (or a number) added ("add") or multiplied ("multiply") in at [index[i][j]][j].
    PyTorch has no derivative for this old form (``scatter_reduce`` is the one with a gradient): backward refuses."""

    node_name = "torch::autograd::NotImplemented"
    inputs_without_gradient: ClassVar = frozenset({3})  # (src: PyTorch keeps only self's)

    @staticmethod
    def forward(ctx: Any, a: Tensor, dim: int, index: np.ndarray, src: Any, reduce: str) -> Tensor:
        out = a._data.copy()
        values = _cropped(src, index) if isinstance(src, Tensor) else src
        (np.add if reduce == "add" else np.multiply).at(out, _along(dim, index), values)
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> None:
        name = "aten::scatter_" if ctx._dirty else "aten::scatter"
        raise RuntimeError(f"derivative for {name} is not implemented")


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """out[i][j] = input[index[i][j]][j] for dim 0 (input[i][index[i][j]] for dim 1): pick along ``dim``."""
    return Gather.apply(input, check_along("gather", input, dim, index), index._data)


def scatter_op(input: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
               reduce: str | None = None) -> tuple[type[Function], tuple]:
    """Which Function ``scatter`` applies, and its arguments (src a tensor, or a number as src or value)."""
    src = value if src is None else src
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        if isinstance(src, Tensor):
            warn_once("The reduce argument of torch.scatter with Tensor src is deprecated and will be removed in a "
                      "future PyTorch release. Use torch.scatter_reduce instead for more reduction options."
                      + triggered_at("aten/src/ATen/native/TensorAdvancedIndexing.cpp:225"),
                      stacklevel=user_stacklevel())
            return ScatterReduce, (check_along("scatter", input, dim, index, src), index._data, src, reduce)
        return ScatterReduce, (check_along("scatter", input, dim, index), index._data, src, reduce)
    if isinstance(src, Tensor):
        return Scatter, (check_along("scatter", input, dim, index, src), index._data, src)
    return ScatterValue, (check_along("scatter", input, dim, index), index._data, src)


def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """A copy of input with src[i][j] (or a number) written at [index[i][j]][j] for dim 0."""
    op, args = scatter_op(input, dim, index, src, value=value, reduce=reduce)
    return op.apply(input, *args)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of input with src[i][j] added at [index[i][j]][j] for dim 0 (repeated places add up)."""
    return ScatterAdd.apply(input, check_along("scatter_add", input, dim, index, src), index._data, src)


class MaskedSelect(Function):
    """out = the elements of a where mask is True, as a 1-d tensor.   d/da: the gradient put back there."""

    node_name = "MaskedSelectBackward0"
    inputs_without_gradient: ClassVar = frozenset({1})  # (the mask)
    saved_as: ClassVar = {"mask": "mask"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, mask: Tensor) -> Tensor:
        ctx.shape = np.broadcast_shapes(a.shape, mask.shape) or (1,)  # (0-d: one element, selected or not)
        ctx.mask, ctx.key = mask, np.nonzero(np.broadcast_to(mask._data, ctx.shape))
        return Tensor._wrap(np.broadcast_to(a._data, ctx.shape)[ctx.key])

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return IndexPut.apply(grad, ctx.shape, ctx.key), None  # (the engine sums a broadcast back to a's shape)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of input where mask (broadcast to it) is True, in a new 1-d tensor: ``x[mask]``."""
    if not isinstance(mask, Tensor) or mask.dtype is not _dtype.bool:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    broadcast_shape(mask.shape, input.shape)
    return MaskedSelect.apply(input, mask)


class MaskedFill(Function):
    """out = a, with ``value`` where mask is True.   d/da = the gradient where mask is False."""

    node_name = "MaskedFillBackward0"
    inputs_without_gradient: ClassVar = frozenset({1})  # (the mask)
    saved_as: ClassVar = {"mask": 0}

    @staticmethod
    def forward(ctx: Any, a: Tensor, mask: Tensor, value: Number | Tensor) -> Tensor:
        ctx.save_for_backward(mask)
        out = np.broadcast_to(a._data, np.broadcast_shapes(a.shape, mask.shape)).copy()
        if isinstance(value, Tensor):  # (its one value, converted as a number would be)
            value = scalar_for(value.item(), a.dtype)
        out[np.broadcast_to(mask._data, out.shape)] = value
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, Tensor | None]:
        (mask,) = ctx._for_backward
        return where(mask, 0.0, grad), None, None


class MaskedFillTensor(MaskedFill):
    """The value a 0-d tensor:   d/dvalue = the sum of the gradient where mask is True."""

    node_name = "MaskedFillBackward1"

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, Tensor]:
        (mask,) = ctx._for_backward
        return where(mask, 0.0, grad), None, where(mask, grad, 0.0).sum()


def masked_fill_op(mask: Tensor, value: Number | Tensor) -> type[MaskedFill]:
    """PyTorch's checks on masked_fill's arguments; the op for a number or for a 0-d tensor."""
    if not isinstance(mask, Tensor) or mask.dtype is not _dtype.bool:
        got = mask.dtype._c_name if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {got}")
    if not isinstance(value, Tensor):
        if not isinstance(value, (*OPERANDS, complex)):  # (NumPy would write None as NaN)
            got = f"(Tensor, !{type_name(value)}!)"
            raise TypeError(f"masked_fill() received an invalid combination of arguments - got (Tensor, "
                            f"{type_name(value)}), but expected one of:\n * (Tensor mask, Tensor value)\n      didn't "
                            f"match because some of the arguments have invalid types: {got}\n * (Tensor mask, Number "
                            f"value)\n      didn't match because some of the arguments have invalid types: {got}\n")
        return MaskedFill
    if value.ndim:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s).")
    return MaskedFillTensor


def masked_fill(input: Tensor, mask: Tensor, value: Number | Tensor) -> Tensor:
    """input with ``value`` where mask (broadcast to it) is True: ``scores.masked_fill(~allowed, -inf)``."""
    op = masked_fill_op(mask, value)
    return op.apply(input, mask, value if isinstance(value, Tensor) else scalar_for(value, input.dtype))


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
    """The indices of the nonzero elements: one row per element (or, as_tuple, one tensor per dimension)."""
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(input._data)))
    return Tensor._wrap(np.argwhere(input._data).astype(np.int64))
