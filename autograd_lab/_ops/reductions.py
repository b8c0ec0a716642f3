"""Reductions: sum, mean, max, min (and the comparisons allclose, equal)."""

from __future__ import annotations

import builtins
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, NamedTuple

import numpy as np

from autograd_lab import _dtype
from autograd_lab._ops._cascade_sum import add_up
from autograd_lab._ops.indexing import IndexPut, masked_fill
from autograd_lab._ops.joining import cat
from autograd_lab._ops.operands import ieee_silent, reduced_dims
from autograd_lab._ops.pointwise import Exp, Log, Maximum, Minimum, MulScalar, where
from autograd_lab._tensor import Size, Tensor, is_expandable_to, size_args, summed_dims, wrap_dim
from autograd_lab._torch_warnings import triggered_at, user_stacklevel
from autograd_lab.autograd.function import Function


class Sum(Function):
    """out = sum of a over ``dims``.   d/da = 1: the gradient is copied back to every element."""

    node_name = "SumBackward1"
    saved_as: ClassVar = {"dim": "dims", "keepdim": "keepdim", "self_sym_sizes": "shape"}

    @staticmethod
    @ieee_silent  # (a sum that overflows is inf, without NumPy's warning, as in PyTorch)
    def forward(ctx: Any, a: Tensor, dims: tuple[int, ...], keepdim: bool) -> Tensor:
        ctx.shape, ctx.dims, ctx.keepdim = a.shape, dims, keepdim
        return Tensor._wrap(add_up(a._data, dims, keepdim))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        return _unreduce(grad, ctx.shape, ctx.dims, ctx.keepdim), None, None


class SumAll(Sum):
    """out = sum of all elements (``x.sum()``)."""

    node_name = "SumBackward0"
    saved_as: ClassVar = {"self_sym_sizes": "shape"}


def _unreduce(grad: Tensor, shape: Size, dims: tuple[int, ...], keepdim: bool) -> Tensor:
    """Spread a reduced gradient back over the reduced dimensions (unsqueezed one by one, as PyTorch does)."""
    if not keepdim and grad.ndim > 0:
        for d in sorted(dims):
            grad = grad.unsqueeze(d)
    return grad.expand(shape)


class Mean(Function):
    """out = mean of a over ``dims``.   d/da = 1/n for each of the n averaged elements.

    Computed as PyTorch's CPU kernel does: the sum, then one division by n (not a running mean).
    """

    node_name = "MeanBackward1"
    saved_as: ClassVar = {"dim": "dims", "keepdim": "keepdim", "self_sym_numel": lambda ctx: math.prod(ctx.shape),
                          "self_sym_sizes": "shape"}

    @staticmethod
    @ieee_silent  # (an overflowing sum, the mean of nothing: inf or nan, without NumPy's warning)
    def forward(ctx: Any, a: Tensor, dims: tuple[int, ...], keepdim: bool) -> Tensor:
        if not a.dtype.is_floating_point:
            raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating "
                               f"point or complex dtype. Got: {a.dtype._scalar_name}")
        ctx.shape, ctx.dims, ctx.keepdim = a.shape, dims, keepdim
        ctx.count = math.prod(a.shape[d] for d in dims)
        return Tensor._wrap(np.true_divide(add_up(a._data, dims, keepdim), ctx.count, dtype=a._data.dtype))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        return _unreduce(grad, ctx.shape, ctx.dims, ctx.keepdim) / ctx.count, None, None


class MeanAll(Mean):
    """out = mean of all elements (``x.mean()``)."""

    node_name = "MeanBackward0"
    saved_as: ClassVar = {"self_sym_numel": lambda ctx: math.prod(ctx.shape), "self_sym_sizes": "shape"}


class MaxAll(Function):
    """out = the largest element.   The gradient goes to it (split evenly between ties)."""

    node_name = "MaxBackward1"
    saved_as: ClassVar = {"self": 0, "result": 1}
    _reduce = staticmethod(np.max)
    _name = "max"

    @classmethod
    def forward(cls, ctx: Any, a: Tensor) -> Tensor:
        if a.numel() == 0:
            raise RuntimeError(f"{cls._name}(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        out = Tensor._wrap(cls._reduce(a._data))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, out = ctx._for_backward
        chosen = a == out  # (grad / count put there, +0 elsewhere: PyTorch's evenly_distribute_backward)
        return where(chosen, grad / chosen.sum(), 0.0)


class MinAll(MaxAll):
    """out = the smallest element.   The gradient goes to it (split evenly between ties)."""

    node_name = "MinBackward1"
    _reduce = staticmethod(np.min)
    _name = "min"


class Amax(Function):
    """out = the largest element over ``dims`` (no index).   d/da: the gradient shared equally between the
    elements that are the largest (two tied halve it), as PyTorch's amax does."""

    node_name = "AmaxBackward0"
    saved_as: ClassVar = {"dim": "shown_dims", "keepdim": "keepdim", "result": 1, "self": 0}
    _pick = staticmethod(np.max)

    @classmethod
    def forward(cls, ctx: Any, a: Tensor, dims: tuple[int, ...], keepdim: bool, shown_dims: tuple[int, ...]) -> Tensor:
        ctx.dims, ctx.keepdim, ctx.shown_dims = dims, keepdim, shown_dims
        out = Tensor._wrap(np.asarray(cls._pick(a._data, axis=dims, keepdims=keepdim)))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None, None]:
        a, out = ctx._for_backward
        if not ctx.keepdim:
            for d in sorted(ctx.dims):
                grad, out = grad.unsqueeze(d), out.unsqueeze(d)
        chosen = a == out
        return grad / chosen.sum(ctx.dims, keepdim=True) * chosen, None, None, None


class Amin(Amax):
    """out = the smallest element over ``dims``."""

    node_name = "AminBackward0"
    _pick = staticmethod(np.min)


def _extreme(op: type[Amax], name: str) -> Any:
    """``torch.amax`` / ``torch.amin``: PyTorch's checks on empty inputs, then the op."""
    def function(input: Tensor, dim: int | Sequence[int] = (), keepdim: bool = False) -> Tensor:
        given = [dim] if isinstance(dim, int) else list(dim)
        dims = reduced_dims(dim, input.ndim)
        if input.numel() == 0 and not given:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
                               "the reduction dim with the 'dim' argument.")
        for d in given:
            if input.shape[wrap_dim(d, input.ndim)] == 0:
                raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        return op.apply(input, dims, keepdim, dims if given else ())
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"The {'largest' if op is Amax else 'smallest'} element over ``dim`` (all if none)."
    return function


amax, amin = _extreme(Amax, "amax"), _extreme(Amin, "amin")


class MaxDim(Function):
    """(values, indices) = max of a along ``dim``.   The gradient goes to each chosen element."""

    node_name = "MaxBackward0"
    saved_as: ClassVar = {"dim": "dim", "indices": 0, "keepdim": "keepdim", "self_sym_sizes": "shape"}
    _arg = staticmethod(np.argmax)

    @classmethod
    def forward(cls, ctx: Any, a: Tensor, dim: int, keepdim: bool) -> tuple[Tensor, Tensor]:
        idx = np.expand_dims(cls._arg(a._data, axis=dim), dim)
        values = np.take_along_axis(a._data, idx, dim)
        if not keepdim:
            values, idx = values.squeeze(dim), idx.squeeze(dim)
        indices = Tensor._wrap(idx.astype(np.int64))
        ctx.mark_non_differentiable(indices)
        ctx.shape, ctx.dim, ctx.keepdim = a.shape, dim, keepdim
        ctx.save_for_backward(indices)
        return Tensor._wrap(values), indices

    @staticmethod
    def backward(ctx: Any, grad: Tensor, _: Tensor | None) -> tuple[Tensor, None, None]:
        (indices,) = ctx._for_backward
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


class ReturnType(_ValuesAndIndices):
    """(values, indices), named and displayed as PyTorch's ``torch.return_types.max`` & co."""

    __slots__ = ()
    kinds: ClassVar[dict[str, type[ReturnType]]] = {}  # "max": MaxResult, ... (to unpickle them)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__module__ = "torch.return_types"  # type(x.max(0)) prints <class 'torch.return_types.max'>
        ReturnType.kinds[cls.__qualname__] = cls

    def __repr__(self) -> str:
        return f"torch.return_types.{type(self).__qualname__}(\nvalues={self.values!r},\nindices={self.indices!r})"

    def __reduce__(self) -> tuple:
        return _rebuild_return_type, (type(self).__qualname__, *self)


def _rebuild_return_type(kind: str, values: Tensor, indices: Tensor) -> ReturnType:
    """A pickled max/min/sort/topk result back (its displayed home, torch.return_types, is not where it lives)."""
    return ReturnType.kinds[kind](values, indices)


class MaxResult(ReturnType):
    """What ``x.max(dim)`` returns."""

    __slots__ = ()
    __qualname__ = "max"


class MinResult(ReturnType):
    __slots__ = ()
    __qualname__ = "min"


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


def min(input: Tensor, dim: int | Tensor | None = None, keepdim: bool = False) -> Tensor | MinResult:
    """The smallest element; with ``dim``, (values, indices) along it; with a tensor, minimum()."""
    if dim is None:
        return MinAll.apply(input)
    if isinstance(dim, Tensor):
        return Minimum.apply(input, dim)
    return MinResult(*MinDim.apply(input, wrap_dim(dim, input.ndim), keepdim))


def _sum_to_size(self: Tensor, *size: Any) -> Tensor:
    """Sum over the dimensions that broadcasting added or stretched, back to ``size``."""
    shape = size_args(size)
    if not is_expandable_to(shape, tuple(self.shape)):
        raise RuntimeError(f"size {{{list(shape)}}} is not expandable to size {{{list(self.shape)}}}.")
    dims = summed_dims(shape, self._data.shape)
    out = Sum.apply(self, dims, True) if dims else self
    return out.reshape(shape) if self.ndim != len(shape) else out


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """Where ``|input - other| <= atol + |rtol * other|`` (or equal), computed in the tensors' dtype as PyTorch
    does (NumPy's isclose computes in float64 and would call other pairs of float32 numbers close)."""
    if not isinstance(other, Tensor):
        raise TypeError(f"isclose(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{input.dtype._scalar_name} did not match {other.dtype._scalar_name}")
    for name, tolerance in (("rtol", rtol), ("atol", atol)):
        if tolerance < 0:
            raise RuntimeError(f"{name} must be greater than or equal to zero, but got {tolerance:g}")
    a, b = input._data, other._data
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.asarray(a == b)
        if equal_nan and a.dtype.kind == "f":
            close = close | (np.isnan(a) & np.isnan(b))
        if rtol == 0 and atol == 0:
            return Tensor._wrap(close)
        if a.dtype == np.bool_:
            a, b = (x.astype(_dtype.get_default_dtype().numpy) for x in (a, b))
        real = a.dtype if a.dtype.kind == "f" else _dtype.get_default_dtype().numpy  # (an integer times rtol)
        allowed = real.type(atol) + np.abs(real.type(rtol) * b.astype(real))
        actual = np.abs(a - b).astype(np.result_type(a.dtype, real) if a.dtype.kind == "f" else real)
        return Tensor._wrap(np.asarray(close | (np.isfinite(actual) & (actual <= allowed))))


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """All elements equal within ``atol + |rtol * other|`` (``isclose`` everywhere)."""
    if not isinstance(other, Tensor):
        raise TypeError(f"allclose(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    return builtins.bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def count_nonzero(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """How many elements are not zero (over ``dim``, else all): an int64 tensor."""
    dims = None if dim is None else reduced_dims(dim, input.ndim)
    return Tensor._wrap(np.asarray(np.count_nonzero(input._data, axis=dims), np.int64))


def equal(input: Tensor, other: Tensor) -> bool:
    """Same shape and same values."""
    return input.shape == other.shape and builtins.bool(np.array_equal(input._data, other._data))


class LinalgVectorNorm(Function):
    """out = (sum |a|**p)**(1/p) over ``dims``.   d/da = sign(a) |a|**(p-1) / out**(p-1) (p = 2: a / out)."""

    node_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, p: float, dims: tuple[int, ...], keepdim: bool, dtype: _dtype.dtype) -> Tensor:
        """(``dtype``: the result's, at least a's; the gradient goes back to a's dtype, as any gradient does.)"""
        x = np.abs(a._data).astype(np.float64)  # in double: squares of tiny float32 numbers would underflow
        if p == 2:
            values = np.sqrt(np.sum(x * x, axis=dims, keepdims=keepdim))
        elif p == 1:
            values = np.sum(x, axis=dims, keepdims=keepdim)
        elif p == math.inf:
            values = np.max(x, axis=dims, keepdims=keepdim)
        elif p == -math.inf:
            values = np.min(x, axis=dims, keepdims=keepdim)
        elif p == 0:
            values = np.sum(x != 0, axis=dims, keepdims=keepdim).astype(x.dtype)
        else:
            values = np.sum(x ** p, axis=dims, keepdims=keepdim) ** (1 / p)
        out = Tensor._wrap(np.asarray(values, dtype.numpy))
        ctx.p, ctx.shape, ctx.dims, ctx.keepdim = p, a.shape, dims, keepdim
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, None, None, None, None]:
        a, out = ctx._for_backward
        p = ctx.p
        if p == 0:  # (a count of nonzeros: PyTorch sends no gradient at all, not zeros)
            return None, None, None, None, None
        if abs(p) == math.inf:  # the gradient goes to the largest (smallest) |a|, split between ties
            grad, out = (_unreduce(t, ctx.shape, ctx.dims, ctx.keepdim) for t in (grad, out))
            chosen = a.abs() == out
            ties = Sum.apply(chosen.to(a.dtype), ctx.dims, True)
            return a.sgn() * chosen * grad / ties, None, None, None, None
        if not ctx.keepdim and a.ndim and len(ctx.dims) < a.ndim:  # (PyTorch's norm_backward from here on)
            for d in sorted(ctx.dims):
                grad, out = grad.unsqueeze(d), out.unsqueeze(d)
        if p == 1:
            return a.sgn() * grad, None, None, None, None
        if p == 2:
            return grad * masked_fill(a / out, out == 0, 0), None, None, None, None
        if p < 1:
            return a.sgn() * masked_fill(a.abs() ** (p - 1), a == 0, 0) * grad * out ** (1 - p), None, None, None, None
        scaled = a.sgn() * a.abs() ** (p - 1) if p < 2 else a * a.abs() ** (p - 2)
        return scaled * masked_fill(grad / out ** (p - 1), out == 0, 0), None, None, None, None


class Norm(LinalgVectorNorm):
    """``at::norm(x, p, dim)``, the older op (pairwise_distance's): the same norm, PyTorch's other node."""

    node_name = "NormBackward1"
    saved_as: ClassVar = {"self": 0, "result": 1, "p": "p", "dim": "dims", "keepdim": "keepdim"}


def vector_norm(x: Tensor, ord: float = 2, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
                dtype: _dtype.dtype | None = None) -> Tensor:
    """The p-norm of all elements, or along ``dim`` (torch.linalg.vector_norm)."""
    if not x.dtype.is_floating_point:
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {x.dtype._scalar_name}")
    if dtype is not None and _dtype.promote_types(x.dtype, dtype) is not dtype:
        raise RuntimeError(f"linalg.vector_norm: the dtype of the input ({x.dtype._scalar_name}) should be "
                           f"convertible without narrowing to the specified dtype ({dtype._scalar_name})")
    return LinalgVectorNorm.apply(x, float(ord), reduced_dims(dim, x.ndim), keepdim, dtype or x.dtype)


def norm(input: Tensor, p: float | str | None = "fro", dim: int | Sequence[int] | None = None, keepdim: bool = False,
         out: None = None, dtype: _dtype.dtype | None = None) -> Tensor:
    """The 2-norm (or p-norm) of all elements, or along ``dim``: ``x.norm()`` is sqrt((x**2).sum())."""
    if p == "nuc" or (isinstance(p, str) and p != "fro"):
        raise RuntimeError(f"autograd_lab's norm supports vector p-norms and 'fro', not p={p!r}")
    return vector_norm(input, 2 if p in ("fro", None) else p, dim, keepdim, dtype=dtype)


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The p-norm of input - other: how far apart two tensors are. (Its node is the norm's, not DistBackward0.)"""
    return vector_norm(input - other, p)


def _variance(a: Tensor, dims: tuple[int, ...], correction: float, keepdim: bool,
              name: str) -> tuple[np.ndarray, float]:
    """sum((a - mean)**2) / (n - correction), summed in double (as PyTorch's CPU kernels do), and the divisor."""
    if not a.dtype.is_floating_point:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    n = math.prod(a.shape[d] for d in dims)
    divisor = builtins.max(0, n - correction)
    if divisor == 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
                      "factor (input numel divided by output numel)."
                      + triggered_at("aten/src/ATen/native/ReduceOps.cpp:1861"), UserWarning,
                      stacklevel=user_stacklevel())
    x = a._data.astype(np.float64)
    if len(dims) == a.ndim and x.size > 1:  # a full reduction: PyTorch takes the mean in the tensor's dtype first
        mean = np.mean(a._data, dtype=a._data.dtype).astype(np.float64)
    else:
        mean = x.mean(axis=dims, keepdims=True) if x.size else 0.0
    deviations = x - mean
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sum(deviations * deviations, axis=dims, keepdims=keepdim) / divisor, divisor


class Var(Function):
    """out = sum((a - mean)**2) / (n - correction) over ``dims``.   d/da = 2 (a - mean) / (n - correction)."""

    node_name = "VarBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, dims: tuple[int, ...] | None, correction: float, keepdim: bool,
                name: str = "var") -> Tensor:
        ctx.all, dims = dims is None, tuple(range(a.ndim)) if dims is None else dims  # (no dim: backward differs)
        var, ctx.divisor = _variance(a, dims, correction, keepdim, name)
        ctx.shape, ctx.dims, ctx.keepdim = a.shape, dims, keepdim
        ctx.save_for_backward(a)
        return Tensor._wrap(np.asarray(var, a._data.dtype))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None, None]:
        (a,) = ctx._for_backward
        return _var_backward(ctx, grad, a), None, None, None


def _var_backward(ctx: Any, grad: Tensor, a: Tensor) -> Tensor:
    """PyTorch's var_backward, node for node: (2 / (n - correction)) * grad * (a - mean)."""
    if ctx.all:
        mean = a.mean()
    else:
        mean = a.mean(ctx.dims, keepdim=True)
        if not ctx.keepdim:
            for d in sorted(ctx.dims):
                grad = grad.unsqueeze(d)
    return MulScalar.apply(grad, 2 / ctx.divisor if ctx.divisor else math.inf) * (a - mean)


class Std(Function):
    """out = sqrt(var(a)).   d/da = (a - mean) / ((n - correction) * out), and 0 where out is 0."""

    node_name = "StdBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, dims: tuple[int, ...] | None, correction: float, keepdim: bool,
                name: str = "std") -> Tensor:
        ctx.all, dims = dims is None, tuple(range(a.ndim)) if dims is None else dims
        var, ctx.divisor = _variance(a, dims, correction, keepdim, name)
        out = Tensor._wrap(np.asarray(np.sqrt(var), a._data.dtype))
        ctx.shape, ctx.dims, ctx.keepdim = a.shape, dims, keepdim
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None, None]:
        a, out = ctx._for_backward
        grad_var = masked_fill(grad / MulScalar.apply(out, 2), out == 0, 0)  # (PyTorch's std_backward)
        return _var_backward(ctx, grad_var, a), None, None, None


def _correction(dim: Any, unbiased: bool | None, correction: float | None) -> tuple[Any, float]:
    """std/var's arguments: ``x.std(0)``, ``x.std(unbiased=False)``, ``x.std(correction=0)``, old ``x.std(False)``."""
    if isinstance(dim, bool):  # std(unbiased): the old overload
        dim, unbiased = None, dim
    if correction is None:
        correction = 0 if unbiased is False else 1
    return dim, correction


def var(input: Tensor, dim: int | Sequence[int] | None = None, unbiased: bool | None = None, keepdim: bool = False,
        *, correction: float | None = None) -> Tensor:
    """Variance over all elements or along ``dim``; divides by n - 1 unless told otherwise (Bessel's correction)."""
    dim, correction = _correction(dim, unbiased, correction)
    return Var.apply(input, None if dim is None else reduced_dims(dim, input.ndim), correction, keepdim)


def std(input: Tensor, dim: int | Sequence[int] | None = None, unbiased: bool | None = None, keepdim: bool = False,
        *, correction: float | None = None) -> Tensor:
    """Standard deviation: sqrt(var(...))."""
    dim, correction = _correction(dim, unbiased, correction)
    return Std.apply(input, None if dim is None else reduced_dims(dim, input.ndim), correction, keepdim)


class Prod(Function):
    """out = product of a over ``dims`` (ints give int64).   d/da[i] = grad * the product of the others."""

    node_name = "ProdBackward1"
    saved_as: ClassVar = {"dim": lambda ctx: ctx.dims[0], "keepdim": "keepdim", "self": 0, "result": 1}

    @staticmethod
    def forward(ctx: Any, a: Tensor, dims: tuple[int, ...], keepdim: bool) -> Tensor:
        data = a._data if a.dtype.is_floating_point else a._data.astype(np.int64)
        out = Tensor._wrap(np.asarray(np.prod(data, axis=dims, keepdims=keepdim)))
        ctx.shape, ctx.dims, ctx.keepdim = a.shape, dims, keepdim
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        a, out = ctx._for_backward
        grad, out = (_unreduce(t, ctx.shape, ctx.dims, ctx.keepdim) for t in (grad, out))
        if not (a._data == 0).any():
            return grad * (out / a), None, None  # (PyTorch's order: out / a first)
        # A zero among the factors: divide nothing, multiply the others (the products before and after each one)
        return grad * Tensor._wrap(_product_of_others(a._data, ctx.dims)), None, None


def _product_of_others(x: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
    """For each element, the product of all the others in its reduced group (``dims``), without dividing."""
    last = tuple(range(x.ndim - len(dims), x.ndim))
    moved = np.moveaxis(x, dims, last)
    flat = moved.reshape(moved.shape[:x.ndim - len(dims)] + (-1,))
    ones = np.ones(flat.shape[:-1] + (1,), x.dtype)
    before = np.cumprod(np.concatenate([ones, flat[..., :-1]], -1), -1)
    after = np.flip(np.cumprod(np.flip(np.concatenate([flat[..., 1:], ones], -1), -1), -1), -1)
    return np.moveaxis((before * after).reshape(moved.shape), last, dims)


class ProdAll(Prod):
    """out = product of all elements (``x.prod()``)."""

    node_name = "ProdBackward0"
    saved_as: ClassVar = {"self": 0, "result": 1}


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: _dtype.dtype | None = None) -> Tensor:
    """Product of all elements, or along ``dim``."""
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        return ProdAll.apply(input, reduced_dims(None, input.ndim), False)
    return Prod.apply(input, reduced_dims(dim, input.ndim), keepdim)


def _with_mean(spread: type[Function], name: str) -> Callable[..., tuple[Tensor, Tensor]]:
    """``std_mean`` / ``var_mean``: (spread, mean) over the same dims, in one call."""
    def spread_and_mean(input: Tensor, dim: int | Sequence[int] | None = None, unbiased: bool | None = None,
                        keepdim: bool = False, *, correction: float | None = None) -> tuple[Tensor, Tensor]:
        dim, correction = _correction(dim, unbiased, correction)
        dims = None if dim is None else reduced_dims(dim, input.ndim)
        return spread.apply(input, dims, correction, keepdim, name=name), mean(input, dim, keepdim)
    spread_and_mean.__name__ = spread_and_mean.__qualname__ = name
    return spread_and_mean


class Cumsum(Function):
    """out[i] = a[0] + ... + a[i] along ``dim``.   d/da[i] = grad[i] + ... + grad[n-1]: a cumsum from the end."""

    node_name = "CumsumBackward0"
    saved_as: ClassVar = {"dim": "dim"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, dim: int, dtype: _dtype.dtype, reverse: bool = False) -> Tensor:
        ctx.dim = dim
        x = a._data.reshape(-1) if a.ndim == 0 else a._data  # (a 0-d tensor is its own running sum)
        x = np.flip(x, dim) if reverse else x
        # PyTorch's CPU kernel runs the sum in double for float32 (its accumulate type), rounding each result
        out = np.cumsum(x, axis=dim, dtype=np.float64 if dtype is _dtype.float32 else dtype.numpy)
        out = np.flip(out, dim) if reverse else out
        return Tensor._wrap(out.astype(dtype.numpy).reshape(a.shape))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None, None]:
        return Cumsum.apply(grad, ctx.dim, grad.dtype, True), None, None, None


def cumsum(input: Tensor, dim: int, *, dtype: _dtype.dtype | None = None) -> Tensor:
    """Running sums along ``dim`` (integers and bools sum as int64)."""
    if dtype is None:
        dtype = input.dtype if input.dtype.is_floating_point else _dtype.int64
    return Cumsum.apply(input, wrap_dim(dim, input.ndim), dtype)


class Cumprod(Function):
    """out[i] = a[0] * ... * a[i] along ``dim``.   d/da[k] = sum over i >= k of grad[i] * out[i] / a[k] (the
    product without a[k], computed as such where a[k] is 0)."""

    node_name = "CumprodBackward0"
    saved_as: ClassVar = {"dim": "dim", "self": 0, "result": 1}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor, dim: int, dtype: _dtype.dtype) -> Tensor:
        ctx.dim = dim
        x = a._data.reshape(-1) if a.ndim == 0 else a._data
        # PyTorch's CPU kernel multiplies in double for float32 (its accumulate type), rounding each result
        out = np.cumprod(x, axis=dim, dtype=np.float64 if dtype is _dtype.float32 else dtype.numpy)
        out = Tensor._wrap(out.astype(dtype.numpy).reshape(a.shape))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        a, out = ctx._for_backward
        if a.numel() <= 1 or a.shape[ctx.dim] == 1:
            return grad, None, None
        if not bool((a == 0).any()):  # PyTorch's simple case: the sums from the end of out * grad, over a
            return Cumsum.apply(out * grad, ctx.dim, grad.dtype, True) / a, None, None
        parts = []  # a zero somewhere: each a[k]'s products taken with a[k] set to 1
        for k in range(a.shape[ctx.dim]):
            ones = a.narrow(ctx.dim, k, 1) * 0 + 1
            without = cat([a.narrow(ctx.dim, 0, k), ones, a.narrow(ctx.dim, k + 1, a.shape[ctx.dim] - k - 1)],
                          ctx.dim)
            products = Cumprod.apply(without, ctx.dim, grad.dtype)
            tail = (grad * products).narrow(ctx.dim, k, a.shape[ctx.dim] - k)
            parts.append(tail.sum(ctx.dim, keepdim=True))
        return cat(parts, ctx.dim), None, None


def cumprod(input: Tensor, dim: int, *, dtype: _dtype.dtype | None = None) -> Tensor:
    """Running products along ``dim`` (integers and bools multiply as int64)."""
    if dtype is None:
        dtype = input.dtype if input.dtype.is_floating_point else _dtype.int64
    return Cumprod.apply(input, wrap_dim(dim, input.ndim), dtype)


std_mean, var_mean = _with_mean(Std, "std_mean"), _with_mean(Var, "var_mean")


class Logsumexp(Function):
    """out = log(sum(exp(a))) over ``dims``, shifted by the max so that nothing overflows.
    d/da = grad * exp(a - out): the softmax of a."""

    node_name = "LogsumexpBackward0"
    saved_as: ClassVar = {"dim": "dims", "keepdim": "keepdim", "self": 0, "result": 1}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor, dims: tuple[int, ...], keepdim: bool) -> Tensor:
        x = a._data if a._data.dtype.kind == "f" else a._data.astype(_dtype.get_default_dtype().numpy)
        if x.size == 0:  # an empty sum: log(0) = -inf
            shape = np.sum(x, axis=dims, keepdims=keepdim).shape
            ctx.dims, ctx.keepdim = dims, keepdim
            out = Tensor._wrap(np.full(shape, -np.inf, x.dtype))
            ctx.save_for_backward(a, out)
            return out
        maxes = np.array(np.amax(x, axis=dims, keepdims=True))
        maxes[np.abs(maxes) == np.inf] = 0  # (an all -inf row stays -inf, an inf stays inf)
        total = add_up(Exp.compute(x - maxes), dims, keepdim)  # (torch.exp's and torch.log's own kernels)
        out = Tensor._wrap(Log.compute(total) + (maxes if keepdim else maxes.reshape(total.shape)))
        ctx.dims, ctx.keepdim = dims, keepdim
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        a, out = ctx._for_backward
        if not ctx.keepdim and a.ndim:
            for d in sorted(ctx.dims):
                grad, out = grad.unsqueeze(d), out.unsqueeze(d)
        return grad * (a - out).exp(), None, None


def logsumexp(input: Tensor, dim: int | Sequence[int], keepdim: bool = False) -> Tensor:
    """log(sum(exp(input))) along ``dim``, computed without overflow (the log of a softmax's denominator)."""
    return Logsumexp.apply(input, reduced_dims(dim, input.ndim), keepdim)
