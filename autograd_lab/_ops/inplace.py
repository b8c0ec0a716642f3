"""In-place ops: add_, mul_, ..., x[key] = value, and changes made through a view."""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from autograd_lab import _grad_mode as grad_mode
from autograd_lab._creation import beyond_int64, scalar_for, zeros_like
from autograd_lab._ops.arithmetic import Add, Div, DivMode, Mul, Neg, Pow, PowTensor, Reciprocal, Sub
from autograd_lab._ops.copies import Clone
from autograd_lab._ops.indexing import (
    Index,
    IndexAdd,
    MaskedFill,
    MaskedFillTensor,
    Scatter,
    ScatterAdd,
    ScatterReduce,
    ScatterValue,
    check_along,
    check_index_add,
    masked_fill_op,
    numpy_key,
    scatter_op,
)
from autograd_lab._ops.linear_algebra import Tril, Triu
from autograd_lab._ops.operands import Number, as_tensor, broadcast_shape
from autograd_lab._ops.pointwise import (
    Abs,
    Acos,
    Asin,
    Atan,
    Ceil,
    Clamp,
    ClampMax,
    ClampMaxTensor,
    ClampMin,
    ClampMinTensor,
    ClampTensor,
    Cos,
    Cosh,
    Erf,
    Erfc,
    Erfinv,
    Exp,
    Exp2,
    Expm1,
    Floor,
    Log,
    Log1p,
    Log2,
    Log10,
    Relu,
    Round,
    RoundDecimals,
    Rsqrt,
    Sgn,
    Sigmoid,
    Sign,
    Sin,
    Sinh,
    Sqrt,
    Tan,
    Tanh,
    Trunc,
    where,
)
from autograd_lab._ops.stale_views import rebase_views
from autograd_lab._tensor import Tensor, wrap_dim
from autograd_lab._torch_warnings import triggered_at, user_stacklevel
from autograd_lab.autograd.function import (
    BACKWARD_TWICE,
    Function,
    _check_inplace,
    op_name,
    refuse_custom_view,
    refuse_stale,
    refuse_view_made_without_grad,
)

OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a single memory "
           "location. Please clone() the tensor before performing the operation.")
PARTIAL_OVERLAP = ("unsupported operation: some elements of the input tensor and the written-to tensor refer to a "
                   "single memory location. Please clone() the tensor before performing the operation.")


def overlaps_itself(x: np.ndarray) -> bool:
    """PyTorch's internal-overlap check: a dimension of size > 1 with stride 0 (an expand) would have one
    element written several times. (``fill_`` and ``zero_`` may: every write is the same value.)"""
    return x.size > 0 and any(stride == 0 and size > 1 for stride, size in zip(x.strides, x.shape))


def _refuse_partial_overlap(out: np.ndarray, args: tuple) -> None:
    """PyTorch's check before writing an op's result into a: an input whose memory overlaps a's without being
    exactly a's (``a[1:].copy_(a[:-1])``, ``a.copy_(a.t())``) would be read after parts of it were overwritten.
    Like PyTorch, it compares only dense memory (what else overlaps is too hard to tell, and passes)."""
    for x in args:
        if isinstance(x, Tensor) and x._data is not out and np.may_share_memory(x._data, out):
            src = x._data
            if not (out.size and src.size and _dense(out) and _dense(src)):
                continue
            start, other = out.__array_interface__["data"][0], src.__array_interface__["data"][0]
            if (start, out.nbytes) == (other, src.nbytes):
                if src.strides != out.strides:
                    raise RuntimeError(PARTIAL_OVERLAP)
            elif start < other + src.nbytes and other < start + out.nbytes:
                raise RuntimeError(PARTIAL_OVERLAP)


def _dense(x: np.ndarray) -> bool:
    """Its elements fill a block of memory with no gaps and no repeats, in some order of its dimensions."""
    step = x.itemsize
    for stride, size in sorted((s, n) for s, n in zip(x.strides, x.shape) if n != 1):
        if stride != step:
            return False
        step *= size
    return True


def _write(a: Tensor, values: Any, key: Any = Ellipsis, may_overlap: bool = False) -> None:
    """Write ``values`` into a's memory (all views see it) and count the change."""
    if a._is_inference and not grad_mode._inference:
        raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not allowed.You can make a "
                           "clone to get a normal tensor before doing inplace update.See "
                           "https://github.com/pytorch/rfcs/pull/17 for more details.")
    values = np.asarray(values)
    if not np.can_cast(values.dtype, a._data.dtype, "same_kind"):
        raise RuntimeError(f"result type {Tensor._wrap(values).dtype._scalar_name} can't be cast to the desired "
                           f"output type {a.dtype._scalar_name}")
    if key is Ellipsis and values.shape != a._data.shape:
        target = broadcast_shape(a._data.shape, values.shape)
        if target != a._data.shape:
            raise RuntimeError(f"output with shape {list(a.shape)} doesn't match the broadcast shape {list(target)}")
    keys = key if isinstance(key, tuple) else (key,)
    advanced = key is not Ellipsis and any(isinstance(k, np.ndarray) for k in keys)
    if not may_overlap and overlaps_itself(a._data if advanced or key is Ellipsis else a._data[key]):
        raise RuntimeError(OVERLAP)
    if advanced:
        target = a._data[key].shape  # x[index] = v (index_put_): v must broadcast to x[index]'s shape
        if not _broadcasts_to(values.shape, target):
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(values.shape)} cannot be broadcast to "
                               f"indexing result of shape {list(target)}")
    elif key is not Ellipsis:  # x[i] = v: PyTorch drops v's leading size-1 dimensions first (a [1] fits a scalar;
        while values.ndim and values.shape[0] == 1:  # _setitem checked that the rest fits)
            values = values[0]
    a._data[key] = values
    count_change(a)


def count_change(a: Tensor) -> None:
    """After a's memory was written: its version counter counts the change; under no_grad its views forget
    their graph (a recorded change's graph is made after, in _connect)."""
    a._version_counter[0] += 1
    if grad_mode._enabled is False:
        rebase_views(a)


def _broadcasts_to(given: tuple[int, ...], target: tuple[int, ...]) -> bool:
    try:
        return np.broadcast_shapes(given, target) == tuple(target)
    except ValueError:
        return False


def _check_fits(given: tuple[int, ...], target: tuple[int, ...]) -> None:
    """x[key] = v: v, without its leading size-1 dimensions, must broadcast to x[key]'s shape (PyTorch's
    expand errors otherwise)."""
    while given and given[0] == 1:
        given = given[1:]
    if len(given) > len(target):
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(given)}}}, size={list(target)}): the number of sizes "
                           f"provided ({len(target)}) must be greater or equal to the number of dimensions in the "
                           f"tensor ({len(given)})")
    for i in range(1, len(given) + 1):
        if given[-i] != 1 and given[-i] != target[-i]:
            raise RuntimeError(f"The expanded size of the tensor ({target[-i]}) must match the existing size "
                               f"({given[-i]}) at non-singleton dimension {len(target) - i}.  Target sizes: "
                               f"{list(target)}.  Tensor sizes: {list(given)}")


def _changed(ctx: Any, a: Tensor) -> None:
    """Tell the graph that forward changed ``a`` in place and returns it. (Not ``ctx.mark_dirty``: that
    counts one more change, for custom Functions that write behind autograd's back; _write counted it.)"""
    ctx._dirty = (a,)


def _modify(a: Tensor, op: type[Function], *args: Any, through: str | None = None) -> Tensor:
    """Run the in-place ``op`` on a, after PyTorch's checks (nothing changes when they refuse).

    An in-place change of a *view* that the graph must record is recorded on the view's base:
    the base gets a new history ("its view's part was replaced"), and every view of it, this one
    too, is then made again from it (_ops/stale_views.py). That is what PyTorch's CopySlices node does.
    ``through``: x[key] = v changes the view x[key] of a, made by that op (PyTorch's messages name it).
    """
    if through is None:  # (x[key] = v: _setitem checks v against x[key])
        _refuse_partial_overlap(a._data, args)
    recorded = grad_mode._enabled and (a._requires_grad or any(isinstance(x, Tensor) and x._requires_grad
                                                                 for x in args))
    if not recorded:
        return op.apply(a, *args)
    if a._base is None:
        if through is not None and a._grad_fn is None and a._requires_grad:  # x[0] = v changes the view x[0]
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
        _check_inplace(a)
        return op.apply(a, *args)
    base = a._base
    refuse_stale(a._grad_fn)  # (its base changed since: that comes first)
    if a._made_in is not None:
        refuse_view_made_without_grad(a, through)
    if a._view_fn is refuse_custom_view:  # a custom Function's output that is one of its inputs
        refuse_custom_view(a)
    if a._view_fn is None:  # one of several views made at once (unbind: iterating over a tensor; split)
        what = (f"Output {a._output_nr} of {op_name(a._grad_fn)} is a view and is being modified inplace." if a._grad_fn
                else "A view was created in no_grad mode and is being modified inplace with grad mode enabled.")
        raise RuntimeError(f"{what} This view is the output of a function that returns multiple views. Such functions "
                           "do not allow the output views to be modified inplace. You should replace the inplace "
                           "operation by an out-of-place one.")
    if base._grad_fn is None and a._requires_grad:  # (PyTorch checks the multiple views first; its base is a leaf
        # even when the view itself was made to require grad: ``arange(12.).reshape(3, 4).requires_grad_()[0]``)
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    # The change, recorded out of place on the view made again from the base (not through a's own node: its
    # hooks belong to its old value, which nothing reads now; PyTorch's CopySlices bypasses it too).
    changed = op.apply(Clone.apply(a._view_fn(base)), *args)
    # base: its view's part replaced by `changed` (writes the memory)
    ViewCopy.apply(base, changed, a._view_fn, getattr(op, "writes_one_value", False))
    if changed._grad_fn is not None and base._grad_fn is not None:
        _embed(base._grad_fn, changed._grad_fn)
    return a  # (and a, as every view of base, now looks at base's new history: see _ops/stale_views.py)


def _embed(node: Any, op_node: Any) -> None:
    """Make the CopySlices ``node`` run the in-place op's node itself, as PyTorch's CopySlices does: its edges
    become the base's and the op's other inputs' (the op's own node, and the clone of the view it changed,
    leave the graph), and its backward calls the op's backward on the view's part of the gradient."""
    node.op_node = op_node
    node.next_functions = (node.next_functions[0], *op_node.next_functions[1:])
    node.needs_input_grad = (node.needs_input_grad[0], *(child is not None for child, _ in op_node.next_functions[1:]))
    node._tensor_positions = None  # (backward returns one gradient per edge)


class ViewCopy(Function):
    """base's values seen through a view replaced by ``values`` (in place; a's view was changed).

    d/d(old base) = grad with zeros where the view looks,  d/d(values) = the view of grad. Once ``_embed``
    has given it the op that made ``values``, it runs that op's backward on the view of grad instead: the
    base gets grad with the op's gradient for its input where the view looks, the op's other inputs theirs.
    """

    node_name = "torch::autograd::CopySlices"

    @staticmethod
    def forward(ctx: Any, base: Tensor, values: Tensor, view_fn: Callable[[Tensor], Tensor],
                may_overlap: bool) -> Tensor:
        target = view_fn(base)
        if not may_overlap and overlaps_itself(target._data):
            raise RuntimeError(OVERLAP)
        mask = Tensor._wrap(np.zeros(base.shape, bool))
        view_fn(mask)._data[...] = True  # the view's elements, marked through the same view
        ctx.mask, ctx.view_fn, ctx.op_node, ctx.may_overlap = mask, view_fn, None, may_overlap
        target._data[...] = values._data
        base._version_counter[0] += 1
        _changed(ctx, base)
        return base

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        if ctx.op_node is None:  # (an op whose result has no gradient: nothing was embedded)
            return where(ctx.mask, 0.0, grad), ctx.view_fn(grad), None, None
        if ctx._freed:  # a second backward without retain_graph (PyTorch's CopySlices drops its op)
            raise RuntimeError(BACKWARD_TWICE)
        part, *others = ctx.op_node._run([ctx.view_fn(grad).clone()])  # the op's backward, on the view's part
        if part is None or ctx.may_overlap:  # (a fill's own gradient is zero)
            return where(ctx.mask, 0.0, grad), *others
        result = grad.clone()
        ctx.view_fn(result).copy_(part.to(grad.dtype))  # the view's part: what the op sends back to its input
        return result, *others


def _snapshot(a: Tensor) -> Tensor:
    """a's values before an in-place change, still attached where a was in the graph.

    The gradient for b in ``a *= b`` needs the old a; saving this snapshot (not a detached
    copy) keeps that gradient differentiable back through a's history, as in PyTorch.
    """
    old = Tensor._wrap(a._data.copy(), a._requires_grad)
    old._grad_fn, old._output_nr = a._grad_fn, a._output_nr
    return old


def _in_place(op: type[Function]) -> type[Function]:
    """``a.add_(b)`` from ``Add``: the same derivative; forward writes the result into a's memory.

    If the op saved a for backward (mul and div do when b needs a gradient: it uses the old a),
    it keeps a snapshot of a's old value instead.
    """
    class InPlace(op):
        @staticmethod
        def forward(ctx: Any, a: Tensor, b: Tensor, *args: Any) -> Tensor:
            result = op.forward(ctx, a, b, *args)._data
            position = op.saved_as.get("self")
            # saved for b's gradient (nothing is saved with grad mode off): keep a snapshot of the old value
            if position is not None and ctx._saved and ctx._saved[position] is a:
                saved = list(ctx._saved)
                saved[position] = _snapshot(a)  # (b may be a too: it stays a, so backward fails, as in torch)
                ctx.save_for_backward(*saved)
            _write(a, result)
            _changed(ctx, a)
            return a

    InPlace.__name__ = InPlace.__qualname__ = f"{op.__name__}Inplace"
    InPlace.__doc__ = f"In place: {op.__doc__}"
    return InPlace


AddInplace, SubInplace, MulInplace, DivInplace, DivModeInplace = (_in_place(op) for op in (Add, Sub, Mul, Div, DivMode))


class Refill(Function):
    """a's values replaced by ``draw(shape)``, written in a's memory order (the in-place random fills).
    d/da = 0: the old values no longer matter. Each fill has its own node name (``refill``)."""

    @staticmethod
    def forward(ctx: Any, a: Tensor, draw: Callable[[tuple[int, ...]], np.ndarray]) -> Tensor:
        if overlaps_itself(a._data):  # (refused before drawing: the generator stays where it was)
            raise RuntimeError(OVERLAP)
        if a._data.flags.c_contiguous:  # (memory order is the order of the elements)
            _write(a, np.asarray(draw(a._data.shape)).astype(a._data.dtype, copy=False))
        else:
            axes = sorted(range(a.ndim), key=lambda axis: -abs(a._data.strides[axis]))  # memory order, outermost first
            values = np.empty(a._data.transpose(axes).shape, a._data.dtype)
            values[...] = draw(values.shape)
            _write(a, values.transpose(np.argsort(axes)))
        _changed(ctx, a)
        return a

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return zeros_like(grad), None


@functools.cache
def refill(node_name: str) -> type[Refill]:
    """The Refill op recorded under ``node_name`` (RandomBackward0, NormalBackward0, ...)."""
    return type(re.sub(r"Backward\d$", "", node_name), (Refill,), {"node_name": node_name, "__module__": __name__})


class Fill(Function):
    """a[...] = value (in place).   The old values no longer matter: their gradient is zero."""

    node_name = "FillBackward2"
    writes_one_value = True  # so an expanded tensor may be filled (each element written many times, the same)

    @staticmethod
    def forward(ctx: Any, a: Tensor, value: Number) -> Tensor:
        _write(a, value, may_overlap=True)
        _changed(ctx, a)
        return a

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return zeros_like(grad), None


class FillTensor(Fill):
    """a[...] = value, a 0-d tensor (in place).   d/dvalue = the sum of the gradient (it went everywhere)."""

    node_name = "FillBackward3"
    writes_one_value = False  # (PyTorch refuses a tensor value for memory shared by several elements)

    @staticmethod
    def forward(ctx: Any, a: Tensor, value: Tensor) -> Tensor:
        with np.errstate(invalid="ignore", over="ignore"):  # (a tensor's value is cast unchecked, as in C++)
            _write(a, value._data.astype(a._data.dtype))
        _changed(ctx, a)
        return a

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor | None]:
        return zeros_like(grad), grad.sum() if ctx.needs_input_grad[1] else None


class Zero(Fill):
    """a[...] = 0 (in place)."""

    node_name = "ZeroBackward0"


class Copy(Function):
    """a[...] = src (in place).   d/d(old a) = 0,  d/d(src) = grad."""

    node_name = "torch::autograd::CopyBackwards"

    @staticmethod
    def forward(ctx: Any, a: Tensor, src: Tensor) -> Tensor:
        _write(a, src._data.astype(a._data.dtype, copy=False))
        _changed(ctx, a)
        return a

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor]:
        return zeros_like(grad), grad


class CopySlices(Function):
    """``a[key] = value`` (in place).   d/d(old a) = grad with zeros at key,  d/d(value) = grad[key]."""

    node_name = "torch::autograd::CopySlices"  # PyTorch's name when key is ints and slices

    @staticmethod
    def forward(ctx: Any, a: Tensor, value: Tensor | Number, key: Any) -> Tensor:
        mask = np.zeros(a.shape, bool)
        mask[key] = True
        values = value._data.astype(a._data.dtype, copy=False) if isinstance(value, Tensor) else value  # (copy_'s cast)
        ctx.mask, ctx.key, ctx.value_ndim = Tensor._wrap(mask), key, np.ndim(values)
        _write(a, values, key)
        _changed(ctx, a)
        return a

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor | None, None]:
        if not ctx.needs_input_grad[1]:
            return where(ctx.mask, 0.0, grad), None, None
        grad_value = Index.apply(grad, ctx.key)
        extra = ctx.value_ndim - grad_value.ndim  # the value's leading size-1 dimensions, dropped by _write
        if extra > 0:
            grad_value = grad_value.reshape((1,) * extra + tuple(grad_value.shape))
        return where(ctx.mask, 0.0, grad), grad_value, None


class IndexPutInplace(CopySlices):
    """``a[index_tensor] = value``: the same, under the name PyTorch gives it (index_put_)."""

    node_name = "IndexPutBackward0"
    saved_as: ClassVar = {"accumulate": lambda ctx: False, "indices": Index.saved_as["indices"]}


def _setitem(self: Tensor, key: Any, value: Any) -> None:
    if isinstance(value, (list, np.ndarray)):
        value = Tensor._wrap(np.asarray(value))
    elif not isinstance(value, Tensor):  # a number: a tensor of self's dtype (converted as PyTorch converts it),
        if beyond_int64(value):  # (x[i] = v reads an int as a C long long)
            raise ValueError("Overflow when unpacking long long")
        value = Tensor._wrap(np.asarray(scalar_for(value, self.dtype)))  # an input of the node that writes it
    keys = numpy_key(key) if isinstance(key, tuple) else (numpy_key(key),)
    keys = tuple(int(k) if isinstance(k, np.ndarray) and k.ndim == 0 and k.dtype.kind in "iu" else k for k in keys)
    np_key = keys if isinstance(key, tuple) else keys[0]  # (a 0-d integer tensor indexes as an int does)
    if any(isinstance(k, np.ndarray) and k.dtype.kind == "f" for k in keys):
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if any(isinstance(k, np.ndarray) for k in keys):
        one_mask = len(keys) == 1 and keys[0].dtype == bool  # (x[mask] = a 0-d tensor: a masked fill, which casts)
        if isinstance(value, Tensor) and value.dtype is not self.dtype and not (one_mask and value.ndim == 0):
            raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                               f"{self.dtype._scalar_name} for the destination and {value.dtype._scalar_name} for the "
                               "source.")
        _modify(self, IndexPutInplace, value, np_key)
    else:  # PyTorch makes the view x[key] (its last step a select or a slice), then copies into it
        steps = [k for k in keys if isinstance(k, (slice, int, np.integer))]
        through = None if not steps else "Slice" if isinstance(steps[-1], slice) else "Select"
        if isinstance(value, Tensor) and self.ndim and np_key is not Ellipsis:  # (the shape is checked first)
            _check_fits(tuple(value.shape), self._data[np_key].shape)
            _refuse_partial_overlap(self._data[np_key], (value,))
        _modify(self, CopySlices, value, np_key, through=through)


def add_(self: Tensor, other: Any, *, alpha: Number = 1) -> Tensor:
    """self += alpha * other"""
    return _modify(self, AddInplace, as_tensor(other, self), alpha)


def sub_(self: Tensor, other: Any, *, alpha: Number = 1) -> Tensor:
    """self -= alpha * other"""
    return _modify(self, SubInplace, as_tensor(other, self), alpha)


def mul_(self: Tensor, other: Any) -> Tensor:
    """self *= other"""
    return _modify(self, MulInplace, as_tensor(other, self))


def div_(self: Tensor, other: Any, *, rounding_mode: str | None = ...) -> Tensor:  # type: ignore[assignment]
    """self /= other (rounded toward zero or down with ``rounding_mode="trunc"`` or ``"floor"``)"""
    if rounding_mode is ...:
        return _modify(self, DivInplace, as_tensor(other, self))
    if rounding_mode not in (None, "trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{rounding_mode}'")
    return _modify(self, DivModeInplace, as_tensor(other, self), rounding_mode)


def fill_(self: Tensor, value: Number | Tensor) -> Tensor:
    """Every element becomes ``value`` (a number, or a 0-d tensor: then a gradient flows to it too)."""
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} "
                               "dimensions.")
        return _modify(self, FillTensor, value)
    return _modify(self, Fill, scalar_for(value, self.dtype))


def zero_(self: Tensor) -> Tensor:
    """Every element becomes 0."""
    return _modify(self, Zero, 0)


def copy_(self: Tensor, src: Tensor) -> Tensor:
    """Copy src's values (broadcast) into self."""
    return _modify(self, Copy, src)


def _in_place_of(op: type[Function]) -> type[Function]:
    """``a.exp_()`` from ``Exp``: the same node, and forward writes the result into a's memory.

    What the op saved is kept as PyTorch keeps it: a saved result is now ``a`` itself (so a
    later change of a is caught), and a saved input a — backward needs its old value, as in
    ``sin_`` — becomes a snapshot taken before the write.
    """
    class InPlace(op):
        @staticmethod
        def forward(ctx: Any, a: Tensor, *args: Any) -> Tensor:
            out = op.forward(ctx, a, *args)
            old = _snapshot(a) if any(t is a for t in ctx._saved) else None
            _write(a, out._data)
            _changed(ctx, a)
            if ctx._saved:
                ctx.save_for_backward(*[a if t is out else old if t is a else t for t in ctx._saved])
            return a

    InPlace.__name__ = InPlace.__qualname__ = f"{op.__name__}Inplace"
    InPlace.__doc__ = f"In place: {op.__doc__}"
    return InPlace


def _method(op: type[Function], name: str) -> Any:
    """``a.exp_()``: apply the in-place form of a one-input op."""
    in_place = _in_place_of(op)

    def method(self: Tensor) -> Tensor:
        return _modify(self, in_place)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In place: {op.__doc__}"
    return method


exp_, log_, sin_, cos_, tanh_, sigmoid_, relu_, abs_, sqrt_, neg_, reciprocal_ = (
    _method(op, op.__name__.lower() + "_")
    for op in (Exp, Log, Sin, Cos, Tanh, Sigmoid, Relu, Abs, Sqrt, Neg, Reciprocal))
# The other one-input ops' in-place forms (``x.floor_()``): each records its op's own node, as in PyTorch.
ONE_INPUT_IN_PLACE = {op.__name__.lower() + "_": _method(op, op.__name__.lower() + "_") for op in (
    Floor, Ceil, Round, Trunc, Sign, Sgn, Log1p, Expm1, Log2, Log10, Exp2, Tan, Sinh, Cosh, Asin, Acos, Atan, Rsqrt,
    Erf, Erfc, Erfinv)}
ClampInplace, ClampTensorInplace, PowInplace, PowTensorInplace, IndexAddInplace, ScatterAddInplace = (
    _in_place_of(op) for op in (Clamp, ClampTensor, Pow, PowTensor, IndexAdd, ScatterAdd))
_SCATTER_INPLACE = {op: _in_place_of(op) for op in (Scatter, ScatterValue, ScatterReduce)}
RoundDecimalsInplace = _in_place_of(RoundDecimals)
_round_to_integers = ONE_INPUT_IN_PLACE["round_"]


def round_(self: Tensor, *, decimals: int = 0) -> Tensor:
    """Round to the nearest integer (halves to even), or to ``decimals`` places, in place."""
    return _round_to_integers(self) if decimals == 0 else _modify(self, RoundDecimalsInplace, decimals)


ONE_INPUT_IN_PLACE["round_"] = round_


TrilInplace, TriuInplace = _in_place_of(Tril), _in_place_of(Triu)
_MASKED_FILL_INPLACE = {op: _in_place_of(op) for op in (MaskedFill, MaskedFillTensor)}


def masked_fill_(self: Tensor, mask: Tensor, value: Number | Tensor) -> Tensor:
    """Write ``value`` where mask (broadcast to self) is True, in place."""
    op = _MASKED_FILL_INPLACE[masked_fill_op(mask, value)]
    return _modify(self, op, mask, value if isinstance(value, Tensor) else scalar_for(value, self.dtype))


def tril_(self: Tensor, diagonal: int = 0) -> Tensor:
    """Zero what lies above ``diagonal``, in place."""
    return _modify(self, TrilInplace, diagonal)


def triu_(self: Tensor, diagonal: int = 0) -> Tensor:
    """Zero what lies below ``diagonal``, in place."""
    return _modify(self, TriuInplace, diagonal)


def clamp_(self: Tensor, min: Number | None = None, max: Number | None = None) -> Tensor:
    """Limit every element to [min, max], in place."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):  # tensor bounds: clamp's other form (ClampBackward0)
        return _modify(self, ClampTensorInplace, min, max)
    return _modify(self, ClampInplace, min, max)


ClampMinInplace, ClampMaxInplace, ClampMinTensorInplace, ClampMaxTensorInplace = (
    _in_place_of(op) for op in (ClampMin, ClampMax, ClampMinTensor, ClampMaxTensor))


def clamp_min_(self: Tensor, min: Number | Tensor) -> Tensor:
    """Every element at least ``min``, in place."""
    return _modify(self, ClampMinTensorInplace, min, None) if isinstance(min, Tensor) else _modify(
        self, ClampMinInplace, min, None)


def clamp_max_(self: Tensor, max: Number | Tensor) -> Tensor:
    """Every element at most ``max``, in place."""
    return _modify(self, ClampMaxTensorInplace, None, max) if isinstance(max, Tensor) else _modify(
        self, ClampMaxInplace, None, max)


def pow_(self: Tensor, exponent: Number | Tensor) -> Tensor:
    """self **= exponent"""
    if isinstance(exponent, Tensor):
        return _modify(self, PowTensorInplace, exponent)
    return _modify(self, PowInplace, exponent)


def index_add_(self: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Number = 1) -> Tensor:
    """Add alpha * source into self at ``index`` along ``dim`` (repeated indices add up)."""
    dim = wrap_dim(dim, self.ndim)
    check_index_add(self, dim, index, source)
    return _modify(self, IndexAddInplace, dim, index._data.reshape(-1), source, alpha)


def scatter_(self: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
             reduce: str | None = None) -> Tensor:
    """Write src[i][j] (or a number) at [index[i][j]][j] of self, for dim 0."""
    op, args = scatter_op(self, dim, index, src, value=value, reduce=reduce)
    return _modify(self, _SCATTER_INPLACE[op], *args)


def scatter_add_(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """Add src[i][j] at [index[i][j]][j] of self, for dim 0 (repeated places add up)."""
    return _modify(self, ScatterAddInplace, check_along("scatter_add", self, dim, index, src), index._data,
                   src)


def with_out(function: Any) -> Any:
    """``torch.mul(a, b, out=c)``: compute as usual, then write the result into ``c`` and return it."""
    @functools.wraps(function)
    def accepting_out(*args: Any, out: Tensor | None = None, **kwargs: Any) -> Tensor:
        result = function(*args, **kwargs)
        if out is None:
            return result
        if grad_mode._enabled and (result._requires_grad or out._requires_grad):
            raise RuntimeError(f"{function.__name__}(): functions with out=... arguments don't support automatic "
                               "differentiation, but one of the arguments requires grad.")
        if out.shape != result.shape:
            if out.numel():
                warnings.warn(f"An output with one or more elements was resized since it had shape {list(out.shape)}, "
                              f"which does not match the required output shape {list(result.shape)}. This behavior "
                              "is deprecated, and in a future PyTorch release outputs will not be resized unless they "
                              "have zero elements. You can explicitly reuse an out tensor t by resizing it, inplace, "
                              "to zero elements with t.resize_(0)."
                              + triggered_at("aten/src/ATen/native/Resize.cpp:30"), UserWarning,
                              stacklevel=user_stacklevel())
            out._data = np.empty(result.shape, out._data.dtype)
        _write(out, result._data)
        return out
    return accepting_out
