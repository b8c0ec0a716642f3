"""The built-in ops. Each one is a ``Function``, written exactly like the ones students write.

``forward`` computes with NumPy on ``x._data``; ``backward`` states the
derivative with autograd_lab's own tensor ops (never raw NumPy), so the backward
pass is itself recorded when ``create_graph=True`` and higher-order gradients
come for free. Broadcasting is undone in one place — the engine sums every
gradient back to its input's shape — so no backward here has to think about it.

Each op's docstring gives the math; ``node_name`` is the name PyTorch gives the
same node (``MulBackward0``), so graphs print the same in both libraries.
The Tensor methods and ``autograd_lab.*`` functions that apply these ops are
defined at the end of the file.
"""

from __future__ import annotations

import builtins
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from autograd_lab import _dtype
from autograd_lab import _grad_mode as grad_mode
from autograd_lab._creation import zeros_like
from autograd_lab._tensor import Size, Tensor, is_expandable_to, size_args, wrap_dim
from autograd_lab.autograd.function import Function, _among, _check_inplace, op_name

Number = int | float | bool

# NumPy warns when arithmetic meets inf or nan ("invalid value encountered in multiply"); PyTorch
# does not, it just returns inf/nan. Silence those warnings for this module's lines only.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=__name__)


# ----- helpers ---------------------------------------------------------------------------------
def _as_tensor(value: Any, like: Tensor) -> Tensor:
    """A Python number as a 0-d tensor, typed as PyTorch types a number next to ``like``."""
    if isinstance(value, Tensor):
        return value
    if type(value) is float and like._data.dtype.kind == "f":  # the common case, kept fast: x * 0.5
        return Tensor(np.array(value, like._data.dtype))
    if not isinstance(value, (int, float, bool, np.number, np.bool_)):
        raise TypeError(f"unsupported operand type: expected a Tensor or a number, got {type(value).__name__}")
    return Tensor(np.asarray(value, dtype=_dtype.python_scalar_result(like.dtype, value).numpy))


def _arrays(a: Tensor, b: Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Both operands' arrays in their common dtype, after PyTorch's broadcasting check."""
    x, y = a._data, b._data
    if x.dtype is not y.dtype and x.dtype != y.dtype:
        common = _dtype.result_type(a.dtype, x.ndim, b.dtype, y.ndim).numpy
        x, y = x.astype(common, copy=False), y.astype(common, copy=False)
    if x.shape != y.shape and x.ndim and y.ndim:  # (a 0-d operand always broadcasts)
        broadcast_shape(x.shape, y.shape)
    return x, y


def broadcast_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The shape two shapes broadcast to, or PyTorch's error naming the dimension that clashes."""
    out = []
    for i in range(1, builtins.max(len(a), len(b)) + 1):
        sa = a[-i] if i <= len(a) else 1
        sb = b[-i] if i <= len(b) else 1
        if sa != sb and sa != 1 and sb != 1:
            raise RuntimeError(f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at "
                               f"non-singleton dimension {builtins.max(len(a), len(b)) - i}")
        out.append(sa if sb == 1 else sb)
    return tuple(reversed(out))


def _view_of(x: Tensor, array: np.ndarray, replay: Callable[[Tensor], Tensor] | None) -> Tensor:
    """A tensor over the same memory as ``x`` (a view): it shares x's version counter.

    ``replay`` makes the same view of another tensor; composed along a chain of views it
    becomes ``_view_fn`` (base -> this view), which an in-place change of the view uses to
    record the change on the base, as PyTorch does (see ``_modify_view``).
    """
    out = Tensor(array)
    out._version_counter = x._version_counter
    if x._base is None:
        out._base, out._view_fn = x, replay
    else:
        parent_fn = x._view_fn
        out._base = x._base
        out._view_fn = None if parent_fn is None or replay is None else lambda base: replay(parent_fn(base))
    return out


def _floating(x: Tensor) -> np.ndarray:
    """x's values as floats: math functions of integer tensors give the default float dtype."""
    return x._data if x._data.dtype.kind == "f" else x._data.astype(_dtype.get_default_dtype().numpy)


def _dims(dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """The dimensions a reduction runs over (None or (): all of them; a 0-d tensor has none to name)."""
    if isinstance(dim, int):
        dim = (dim,)
    dims = tuple(range(ndim)) if dim is None or len(dim) == 0 else tuple(wrap_dim(d, ndim) for d in dim)
    return dims if ndim else ()


# ----- arithmetic ------------------------------------------------------------------------------
class Add(Function):
    """out = a + alpha * b.   d/da = 1,  d/db = alpha."""

    node_name = "AddBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor, alpha: Number = 1) -> Tensor:
        ctx.alpha = alpha
        x, y = _arrays(a, b)
        return Tensor(x + y if alpha == 1 else x + alpha * y)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        return grad, (grad if ctx.alpha == 1 else grad * ctx.alpha), None


class Sub(Function):
    """out = a - alpha * b.   d/da = 1,  d/db = -alpha."""

    node_name = "SubBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor, alpha: Number = 1) -> Tensor:
        ctx.alpha = alpha
        x, y = _arrays(a, b)
        return Tensor(x - y if alpha == 1 else x - alpha * y)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        return grad, (-grad if ctx.alpha == 1 else grad * -ctx.alpha), None


class Rsub(Function):
    """out = number - a   (``2 - x``).   d/da = -1."""

    node_name = "RsubBackward1"

    @staticmethod
    def forward(ctx: Any, a: Tensor, number: Number) -> Tensor:
        return Tensor(_as_tensor(number, a)._data - a._data)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return -grad, None


class Mul(Function):
    """out = a * b.   d/da = b,  d/db = a."""

    node_name = "MulBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        ctx.save_for_backward(a, b)
        x, y = _arrays(a, b)
        return Tensor(x * y)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Function):
    """out = a / b.   d/da = 1/b,  d/db = -a/b**2."""

    node_name = "DivBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        ctx.save_for_backward(a, b)
        x, y = _arrays(a, b)
        if x.dtype.kind != "f":  # true division of integers gives floats
            x, y = x.astype(_dtype.get_default_dtype().numpy), y.astype(_dtype.get_default_dtype().numpy)
        return Tensor(x / y)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad / b if need_a else None), (-grad * a / (b * b) if need_b else None)


class Neg(Function):
    """out = -a.   d/da = -1."""

    node_name = "NegBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        return Tensor(-a._data)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return -grad


class Reciprocal(Function):
    """out = 1 / a.   d/da = -out**2."""

    node_name = "ReciprocalBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        out = Tensor(1 / _floating(a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return -grad * out * out


class Pow(Function):
    """out = a ** p for a number p.   d/da = p * a**(p-1)."""

    node_name = "PowBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, p: Number) -> Tensor:
        ctx.save_for_backward(a)
        ctx.p = p
        if a._data.dtype.kind in "iu" and isinstance(p, int) and p < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        x = a._data if a._data.dtype.kind == "f" or isinstance(p, int) else _floating(a)
        return Tensor(np.power(x, np.asarray(p, dtype=x.dtype)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (a,) = ctx.saved_tensors
        if ctx.p == 0:
            return zeros_like(a), None
        return grad * MulScalar.apply(a ** (ctx.p - 1), ctx.p), None  # PyTorch's formula, node for node


class MulScalar(Function):
    """out = a * number, the form PyTorch's derivative formulas use.   d/da = number."""

    node_name = "MulBackward1"

    @staticmethod
    def forward(ctx: Any, a: Tensor, number: Number) -> Tensor:
        ctx.number = number
        return Tensor(a._data * number)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return MulScalar.apply(grad, ctx.number), None


class PowTensor(Function):
    """out = a ** b, both tensors.   d/da = b * a**(b-1),  d/db = out * log(a)."""

    node_name = "PowBackward1"

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        x, y = _arrays(a, b)
        out = Tensor(np.power(x, y))
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad * where(b == 0, 0.0, b * a ** (b - 1)) if need_a else None  # 0 ** 0 has slope 0, not nan
        # log(0) is -inf, but 0 ** b has slope 0 in b for b > 0: PyTorch masks it the same way
        grad_b = grad * where((a == 0) & (b >= 0), 0.0, out * log(a)) if need_b else None
        return grad_a, grad_b


class RPow(Function):
    """out = number ** a   (``2 ** x``).   d/da = out * log(number)."""

    node_name = "PowBackward2"

    @staticmethod
    def forward(ctx: Any, a: Tensor, number: Number) -> Tensor:
        x = _floating(a) if isinstance(number, float) else a._data
        out = Tensor(np.power(np.asarray(number, dtype=x.dtype), x))
        ctx.save_for_backward(a, out)
        ctx.number = number
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        a, out = ctx.saved_tensors
        if ctx.number == 0:  # 0 ** a: flat for a >= 0 (PyTorch's convention), -inf slope below
            return where(a >= 0, 0.0, grad * out * -math.inf), None
        return grad * out * math.log(ctx.number), None


# ----- math functions --------------------------------------------------------------------------
class Exp(Function):
    """out = exp(a).   d/da = out."""

    node_name = "ExpBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        out = Tensor(np.exp(_floating(a)))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad * out


class Log(Function):
    """out = log(a).   d/da = 1/a."""

    node_name = "LogBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        ctx.save_for_backward(a)
        return Tensor(np.log(_floating(a)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (a,) = ctx.saved_tensors
        return grad / a


class Sin(Function):
    """out = sin(a).   d/da = cos(a)."""

    node_name = "SinBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        ctx.save_for_backward(a)
        return Tensor(np.sin(_floating(a)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (a,) = ctx.saved_tensors
        return grad * a.cos()


class Cos(Function):
    """out = cos(a).   d/da = -sin(a)."""

    node_name = "CosBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        ctx.save_for_backward(a)
        return Tensor(np.cos(_floating(a)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (a,) = ctx.saved_tensors
        return grad * -a.sin()


class Tanh(Function):
    """out = tanh(a).   d/da = 1 - out**2."""

    node_name = "TanhBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        out = Tensor(np.tanh(_floating(a)))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)


class Sigmoid(Function):
    """out = 1 / (1 + exp(-a)).   d/da = out * (1 - out)."""

    node_name = "SigmoidBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        x = _floating(a)
        out = Tensor((1 / (1 + np.exp(-x))).astype(x.dtype, copy=False))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad * out * (1 - out)


class Relu(Function):
    """out = max(a, 0).   d/da = 1 where out > 0, else 0."""

    node_name = "ReluBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        out = Tensor(np.maximum(a._data, 0).astype(a._data.dtype, copy=False))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad * (out > 0)


class Abs(Function):
    """out = |a|.   d/da = sign(a)."""

    node_name = "AbsBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        ctx.save_for_backward(a)
        return Tensor(np.abs(a._data))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (a,) = ctx.saved_tensors
        return grad * a.sign()


class Sqrt(Function):
    """out = sqrt(a).   d/da = 1 / (2 * out)."""

    node_name = "SqrtBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        out = Tensor(np.sqrt(_floating(a)))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad / (2 * out)


class Clamp(Function):
    """out = min(max(a, lo), hi).   d/da = 1 where lo <= a <= hi, else 0."""

    node_name = "ClampBackward1"

    @staticmethod
    def forward(ctx: Any, a: Tensor, lo: Number | None, hi: Number | None) -> Tensor:
        ctx.save_for_backward(a)
        ctx.lo, ctx.hi = lo, hi
        return Tensor(np.clip(a._data, lo, hi).astype(a._data.dtype, copy=False))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        (a,) = ctx.saved_tensors
        lo = -math.inf if ctx.lo is None else ctx.lo
        hi = math.inf if ctx.hi is None else ctx.hi
        return grad * ((a >= lo) & (a <= hi)), None, None


class Maximum(Function):
    """out = max(a, b) elementwise.   The larger input gets the gradient; a tie splits it in half."""

    node_name = "MaximumBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        ctx.save_for_backward(a, b)
        x, y = _arrays(a, b)
        return Tensor(np.maximum(x, y))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor]:
        a, b = ctx.saved_tensors
        shared = where(a == b, grad / 2, grad)
        return where(a < b, 0.0, shared), where(a > b, 0.0, shared)


class Where(Function):
    """out = a where condition else b.   Each input gets the gradient where it was chosen."""

    node_name = "WhereBackward0"

    @staticmethod
    def forward(ctx: Any, condition: Tensor, a: Tensor, b: Tensor) -> Tensor:
        ctx.save_for_backward(condition)
        x, y = _arrays(a, b)
        return Tensor(np.where(condition._data, x, y))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[None, Tensor, Tensor]:
        (condition,) = ctx.saved_tensors
        return None, where(condition, grad, 0.0), where(condition, 0.0, grad)


# ----- reductions ------------------------------------------------------------------------------
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


# ----- shapes and views ------------------------------------------------------------------------
class View(Function):
    """out = a with a new shape (same memory).   d/da: reshape the gradient back."""

    node_name = "ViewBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, shape: tuple[int, ...]) -> Tensor:
        ctx.shape = a.shape
        try:
            return _view_of(a, a._data.reshape(_infer_shape(shape, a.numel()), copy=False),
                            lambda t: View.apply(t, shape))
        except ValueError:
            raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                               "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad.reshape(ctx.shape), None


class Reshape(View):
    """out = a with a new shape (a view when possible, else a copy)."""

    @staticmethod
    def forward(ctx: Any, a: Tensor, shape: tuple[int, ...]) -> Tensor:
        ctx.shape = a.shape
        new = a._data.reshape(_infer_shape(shape, a.numel()))
        return _view_of(a, new, lambda t: View.apply(t, shape)) if np.shares_memory(new, a._data) else Tensor(new)


class UnsafeView(Reshape):
    """The reshape at the end of a batched matmul (PyTorch names it _unsafe_view)."""

    node_name = "UnsafeViewBackward0"


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


class Permute(Function):
    """out = a with its dimensions reordered.   d/da: reorder the gradient back."""

    node_name = "PermuteBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, dims: tuple[int, ...]) -> Tensor:
        ctx.inverse = tuple(np.argsort(dims))
        return _view_of(a, a._data.transpose(dims), lambda t: Permute.apply(t, dims))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad.permute(ctx.inverse), None


class Transpose(Function):
    """out = a with two dimensions swapped.   d/da: swap them back."""

    node_name = "TransposeBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, d0: int, d1: int) -> Tensor:
        ctx.d0, ctx.d1 = d0, d1
        return _view_of(a, np.swapaxes(a._data, d0, d1), lambda t: Transpose.apply(t, d0, d1))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        return grad.transpose(ctx.d0, ctx.d1), None, None


class T(Function):
    """out = a transposed (a matrix's rows become columns; 0-d and 1-d stay).   d/da = grad.t()."""

    node_name = "TBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        return _view_of(a, a._data.T, T.apply)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad.t()


class Unsqueeze(Function):
    """out = a with a new dimension of size 1 at ``dim``.   d/da: squeeze it away."""

    node_name = "UnsqueezeBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, dim: int) -> Tensor:
        ctx.dim = dim
        return _view_of(a, np.expand_dims(a._data, dim), lambda t: Unsqueeze.apply(t, dim))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad.squeeze(ctx.dim), None


class Squeeze(Function):
    """out = a without its size-1 dimensions (or only ``dims``).   d/da: reshape back."""

    node_name = "SqueezeBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, dims: tuple[int, ...]) -> Tensor:
        ctx.shape = a.shape
        return _view_of(a, np.squeeze(a._data, tuple(d for d in dims if a._data.shape[d] == 1)),
                        lambda t: type(ctx)._forward_cls.apply(t, dims))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad.reshape(ctx.shape), None


class SqueezeDim(Squeeze):
    """``squeeze(dim)``."""

    node_name = "SqueezeBackward1"


class SqueezeAfterMatmul(Squeeze):
    """The squeeze at the end of vector @ matrix (PyTorch does it in place: squeeze_)."""

    node_name = "SqueezeBackward4"


class Expand(Function):
    """out = a broadcast to a larger shape (no copy).   d/da: sum the gradient back to a's shape."""

    node_name = "ExpandBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, shape: tuple[int, ...]) -> Tensor:
        ctx.shape = a.shape
        return _view_of(a, np.broadcast_to(a._data, shape), lambda t: Expand.apply(t, shape))

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


class Clone(Function):
    """out = a copy of a.   d/da = 1."""

    node_name = "CloneBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        return Tensor(a._data.copy())

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad


class ToCopy(Function):
    """out = a converted to another dtype.   d/da = 1, converted back."""

    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, dtype: _dtype.dtype) -> Tensor:
        ctx.dtype = a.dtype
        return Tensor(a._data.astype(dtype.numpy))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad.to(ctx.dtype), None


# ----- indexing --------------------------------------------------------------------------------
class Index(Function):
    """out = a[key] with integer or boolean index tensors.   d/da: the gradient put back at key."""

    node_name = "IndexBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, key: tuple) -> Tensor:
        ctx.shape, ctx.key = a.shape, key
        return Tensor(a._data[key])

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return IndexPut.apply(grad, ctx.shape, ctx.key), None


class Select(Index):
    """out = a[..., i, ...]: one position along one dimension (a view)."""

    node_name = "SelectBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, key: tuple) -> Tensor:
        ctx.shape, ctx.key = a.shape, key
        view = type(ctx)._forward_cls  # Select or Slice
        return _view_of(a, a._data[key + (Ellipsis,)], lambda t: view.apply(t, key))  # (...): a 0-d view, not a copy


class Slice(Select):
    """out = a[..., start:stop:step, ...] (a view)."""

    node_name = "SliceBackward0"


class Unbind(Function):
    """(a[0], a[1], ...) along ``dim``: views, one per position.   d/da = their gradients stacked back."""

    node_name = "UnbindBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, dim: int) -> tuple[Tensor, ...]:
        ctx.dim = dim
        head = (slice(None),) * dim
        # replay None: PyTorch forbids changing one of several views made at once in place
        return tuple(_view_of(a, a._data[head + (i, Ellipsis)], None) for i in range(a.shape[dim]))

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> tuple[Tensor, None]:
        return Stack.apply(ctx.dim, *grads), None


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along ``dim``, as a tuple (what ``for row in x`` iterates over)."""
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    outs = Unbind.apply(input, wrap_dim(dim, input.ndim))
    return outs if isinstance(outs, tuple) else (outs,)


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
        return Tensor(out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        return Index.apply(grad, ctx.key), None, None


def _dims_used(k: Any) -> int:
    """How many of the indexed tensor's dimensions one index item consumes."""
    if k is None or k is Ellipsis:
        return 0
    if isinstance(k, Tensor) and k.dtype is _dtype.bool:
        return k.ndim
    return 1


def _getitem(self: Tensor, key: Any) -> Tensor:
    """``x[key]`` the way PyTorch does it: select/slice/unsqueeze per item, then one advanced index."""
    items = list(key) if isinstance(key, tuple) else [key]
    items = [Tensor(np.asarray(k)) if isinstance(k, (list, np.ndarray)) else k for k in items]
    specified = builtins.sum(_dims_used(k) for k in items)
    if self.ndim == 0 and any(isinstance(k, (int, np.integer, slice)) for k in items):
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
        else:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                             f"are valid indices (got {type(k).__name__})")
    if not advanced:
        return out
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


class CopySlices(Function):
    """``a[key] = value`` (in place).   d/d(old a) = grad with zeros at key,  d/d(value) = grad[key]."""

    node_name = "torch::autograd::CopySlices"  # PyTorch's name when key is ints and slices

    @staticmethod
    def forward(ctx: Any, a: Tensor, value: Tensor | Number, key: Any) -> Tensor:
        mask = np.zeros(a.shape, bool)
        mask[key] = True
        ctx.mask, ctx.key = Tensor(mask), key
        _write(a, value._data if isinstance(value, Tensor) else value, key)
        ctx.mark_dirty(a)
        return a

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor | None, None]:
        return where(ctx.mask, 0.0, grad), (Index.apply(grad, ctx.key) if ctx.needs_input_grad[1] else None), None


class IndexPutInplace(CopySlices):
    """``a[index_tensor] = value``: the same, under the name PyTorch gives it (index_put_)."""

    node_name = "IndexPutBackward0"


def _setitem(self: Tensor, key: Any, value: Any) -> None:
    if isinstance(value, (list, np.ndarray)):
        value = Tensor(np.asarray(value))
    np_key = _numpy_key(key)
    advanced = any(isinstance(k, np.ndarray) for k in (np_key if isinstance(np_key, tuple) else (np_key,)))
    _modify(self, IndexPutInplace if advanced else CopySlices, value, np_key)


def _numpy_key(key: Any) -> Any:
    """An index with tensors replaced by their arrays (for writing with NumPy)."""
    if isinstance(key, tuple):
        return tuple(k._data if isinstance(k, Tensor) else k for k in key)
    return key._data if isinstance(key, Tensor) else key


# ----- joining ---------------------------------------------------------------------------------
class Cat(Function):
    """out = the tensors joined along ``dim``.   Each input gets its slice of the gradient."""

    node_name = "CatBackward0"

    @staticmethod
    def forward(ctx: Any, dim: int, *tensors: Tensor) -> Tensor:
        ctx.dim = dim
        ctx.sizes = [t.shape[dim] for t in tensors]
        return Tensor(np.concatenate([t._data for t in tensors], axis=dim))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        starts = np.cumsum([0] + ctx.sizes)
        head = (slice(None),) * ctx.dim
        return (None,) + tuple(Slice.apply(grad, head + (slice(int(s), int(s + n)),))
                               for s, n in zip(starts, ctx.sizes))


class Stack(Function):
    """out = the tensors stacked along a new ``dim``.   Each input gets its slice of the gradient."""

    node_name = "StackBackward0"

    @staticmethod
    def forward(ctx: Any, dim: int, *tensors: Tensor) -> Tensor:
        ctx.dim = dim
        return Tensor(np.stack([t._data for t in tensors], axis=dim))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        head = (slice(None),) * ctx.dim
        return (None,) + tuple(Select.apply(grad, head + (i,)) for i in range(grad.shape[ctx.dim]))


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


# ----- matrix products -------------------------------------------------------------------------
def _check_same_dtype(a: Tensor, b: Tensor) -> None:
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype._c_name} != "
                           f"{b.dtype._c_name}")


def _check_mm(a: Tensor, b: Tensor) -> None:
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"{'self' if a.ndim != 2 else 'mat2'} must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
                           f"{b.shape[0]}x{b.shape[1]})")
    _check_same_dtype(a, b)


class Dot(Function):
    """out = sum(a * b) for vectors.   d/da = grad * b,  d/db = grad * a."""

    node_name = "DotBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        if a.shape != b.shape:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to "
                               f"have the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements "
                               "respectively")
        _check_same_dtype(a, b)
        ctx.save_for_backward(a, b)
        return Tensor(np.dot(a._data, b._data))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Mm(Function):
    """out = a @ b for matrices.   d/da = grad @ b.T,  d/db = a.T @ grad."""

    node_name = "MmBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        _check_mm(a, b)
        ctx.save_for_backward(a, b)
        return Tensor(a._data @ b._data)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad.mm(b.t()) if need_a else None), (a.t().mm(grad) if need_b else None)


class Mv(Function):
    """out = a @ v for a matrix and a vector.   d/da = outer(grad, v),  d/dv = a.T @ grad."""

    node_name = "MvBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, v: Tensor) -> Tensor:
        if a.shape[1] != v.shape[0]:
            raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x{a.shape[1]}), "
                               f"vec ({v.shape[0]})")
        _check_same_dtype(a, v)
        ctx.save_for_backward(a, v)
        return Tensor(a._data @ v._data)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, v = ctx.saved_tensors
        need_a, need_v = ctx.needs_input_grad
        return (grad.unsqueeze(1) * v if need_a else None), (a.t().mv(grad) if need_v else None)


class Bmm(Function):
    """out[i] = a[i] @ b[i] for batches of matrices.   d/da = grad @ b^T,  d/db = a^T @ grad."""

    node_name = "BmmBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
            raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                               f"[{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")
        _check_same_dtype(a, b)
        ctx.save_for_backward(a, b)
        return Tensor(np.matmul(a._data, b._data))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad.bmm(b.transpose(1, 2)) if need_a else None), (a.transpose(1, 2).bmm(grad) if need_b else None)


class Addmm(Function):
    """out = bias + a @ b (a Linear layer's forward).   d/dbias = grad,  d/da = grad @ b.T,  d/db = a.T @ grad."""

    node_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx: Any, bias: Tensor, a: Tensor, b: Tensor) -> Tensor:
        _check_mm(a, b)
        ctx.save_for_backward(a, b)
        return Tensor(bias._data + a._data @ b._data)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        _, need_a, need_b = ctx.needs_input_grad
        return grad, (grad.mm(b.t()) if need_a else None), (a.t().mm(grad) if need_b else None)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with PyTorch's rules for 1-d, 2-d and batched operands."""
    a, b = input, other
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
    if a.ndim == 1 and b.ndim == 1:
        return Dot.apply(a, b)
    if a.ndim == 2 and b.ndim == 1:
        return Mv.apply(a, b)
    if a.ndim == 1 and b.ndim == 2:
        return SqueezeAfterMatmul.apply(Mm.apply(a.unsqueeze(0), b), (0,))
    if a.ndim == 2 and b.ndim == 2:
        return Mm.apply(a, b)
    if a.ndim >= 3 and b.ndim <= 2:  # fold the batch into the rows: one big mm
        rows = a.reshape(-1, a.shape[-1])
        out = Mm.apply(rows, b) if b.ndim == 2 else Mv.apply(rows, b)
        return UnsafeView.apply(out, a.shape[:-1] + b.shape[1:])
    # batched: broadcast the batch dimensions, then one bmm
    a2 = a.unsqueeze(0) if a.ndim == 1 else a
    b2 = b.unsqueeze(-1) if b.ndim == 1 else b
    batch = broadcast_shape(tuple(a2.shape[:-2]), tuple(b2.shape[:-2]))
    n, k, m = a2.shape[-2], a2.shape[-1], b2.shape[-1]
    a3 = a2.expand(batch + (n, k)).reshape(-1, n, k)
    b3 = b2.expand(batch + (b2.shape[-2], m)).reshape(-1, b2.shape[-2], m)
    out_shape = batch + ((n,) if a.ndim > 1 else ()) + ((m,) if b.ndim > 1 else ())
    return UnsafeView.apply(Bmm.apply(a3, b3), out_shape)


# ----- in place --------------------------------------------------------------------------------
def _write(a: Tensor, values: Any, key: Any = Ellipsis) -> None:
    """Write ``values`` into a's memory (all views see it) and count the change."""
    values = np.asarray(values)
    if not np.can_cast(values.dtype, a._data.dtype, "same_kind"):
        raise RuntimeError(f"result type {Tensor(values).dtype._scalar_name} can't be cast to the desired output type "
                           f"{a.dtype._scalar_name}")
    if key is Ellipsis and values.shape != a._data.shape:
        target = broadcast_shape(a._data.shape, values.shape)
        if target != a._data.shape:
            raise RuntimeError(f"output with shape {list(a.shape)} doesn't match the broadcast shape {list(target)}")
    if not a._data.flags.writeable:
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a single "
                           "memory location. Please clone() the tensor before performing the operation.")
    a._data[key] = values
    a._version_counter[0] += 1


def _modify(a: Tensor, op: type[Function], *args: Any) -> Tensor:
    """Run the in-place ``op`` on a, after PyTorch's checks (nothing changes when they refuse).

    An in-place change of a *view* that the graph must record is recorded on the view's base:
    the base gets a new history ("its view's part was replaced"), and the view is made again
    from it. That is what PyTorch's CopySlices node does.
    """
    recorded = grad_mode._enabled and (a._requires_grad or any(isinstance(x, Tensor) and x._requires_grad
                                                                 for x in args))
    if not recorded:
        return op.apply(a, *args)
    if a._base is None:
        _check_inplace(a)
        return op.apply(a, *args)
    base = a._base
    if base._grad_fn is None and base._requires_grad:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    if a._view_fn is None:  # one of several views made at once (unbind: iterating over a tensor)
        what = (f"Output {a._output_nr} of {op_name(a._grad_fn)} is a view and is being modified inplace." if a._grad_fn
                else "A view was created in no_grad mode and is being modified inplace with grad mode enabled.")
        raise RuntimeError(f"{what} This view is the output of a function that returns multiple views. Such functions "
                           "do not allow the output views to be modified inplace. You should replace the inplace "
                           "operation by an out-of-place one.")
    changed = op.apply(Clone.apply(a), *args)  # the change, recorded out of place
    ViewCopy.apply(base, changed, a._view_fn)  # base: its view's part replaced by `changed` (writes the memory)
    again = a._view_fn(base)
    a._grad_fn, a._output_nr, a._requires_grad = again._grad_fn, again._output_nr, again._requires_grad
    return a


class ViewCopy(Function):
    """base's values seen through a view replaced by ``values`` (in place; a's view was changed).

    d/d(old base) = grad with zeros where the view looks,  d/d(values) = the view of grad.
    """

    node_name = "torch::autograd::CopySlices"

    @staticmethod
    def forward(ctx: Any, base: Tensor, values: Tensor, view_fn: Callable[[Tensor], Tensor]) -> Tensor:
        mask = Tensor(np.zeros(base.shape, bool))
        view_fn(mask)._data[...] = True  # the view's elements, marked through the same view
        ctx.mask, ctx.view_fn = mask, view_fn
        target = view_fn(base)
        if not target._data.flags.writeable:
            raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                               "single memory location. Please clone() the tensor before performing the operation.")
        target._data[...] = values._data
        base._version_counter[0] += 1
        ctx.mark_dirty(base)
        return base

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor, None]:
        return where(ctx.mask, 0.0, grad), ctx.view_fn(grad), None


def _snapshot(a: Tensor) -> Tensor:
    """a's values before an in-place change, still attached where a was in the graph.

    The gradient for b in ``a *= b`` needs the old a; saving this snapshot (not a detached
    copy) keeps that gradient differentiable back through a's history, as in PyTorch.
    """
    old = Tensor(a._data.copy(), a._requires_grad)
    old._grad_fn, old._output_nr = a._grad_fn, a._output_nr
    return old


def _in_place(op: type[Function]) -> type[Function]:
    """``a.add_(b)`` from ``Add``: the same derivative; forward writes the result into a's memory.

    If the op saved a for backward (mul and div use the old a for b's gradient), it keeps a
    snapshot of a's old value instead, and only when b needs a gradient.
    """
    class InPlace(op):
        @staticmethod
        def forward(ctx: Any, a: Tensor, b: Tensor, *args: Any) -> Tensor:
            result = op.forward(ctx, a, b, *args)._data
            if _among(a, ctx._saved):
                old = _snapshot(a) if ctx.needs_input_grad[1] else None
                ctx.save_for_backward(*[old if t is a else t for t in ctx._saved])
            _write(a, result)
            ctx.mark_dirty(a)
            return a

    InPlace.__name__ = InPlace.__qualname__ = f"{op.__name__}Inplace"
    InPlace.__doc__ = f"In place: {op.__doc__}"
    return InPlace


AddInplace, SubInplace, MulInplace, DivInplace = (_in_place(op) for op in (Add, Sub, Mul, Div))


class Fill(Function):
    """a[...] = value (in place).   The old values no longer matter: their gradient is zero."""

    node_name = "FillBackward2"

    @staticmethod
    def forward(ctx: Any, a: Tensor, value: Number) -> Tensor:
        _write(a, value)
        ctx.mark_dirty(a)
        return a

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return zeros_like(grad), None


class Zero(Fill):
    """a[...] = 0 (in place)."""

    node_name = "ZeroBackward0"


class Copy(Function):
    """a[...] = src (in place).   d/d(old a) = 0,  d/d(src) = grad."""

    node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx: Any, a: Tensor, src: Tensor) -> Tensor:
        _write(a, src._data.astype(a._data.dtype, copy=False))
        ctx.mark_dirty(a)
        return a

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor]:
        return zeros_like(grad), grad


# ----- neural-network losses -------------------------------------------------------------------
class LogSoftmax(Function):
    """out = a - log(sum(exp(a))) along ``dim``.   d/da = grad - exp(out) * sum(grad)."""

    node_name = "LogSoftmaxBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, dim: int) -> Tensor:
        x = a._data
        shifted = x - x.max(axis=dim, keepdims=True)
        out = Tensor(shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True)))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (out,) = ctx.saved_tensors
        return grad - out.exp() * grad.sum(ctx.dim, keepdim=True), None


class NllLoss(Function):
    """out = -mean(logp[i, target[i]]).   d/dlogp = -1/N at each target position, 0 elsewhere."""

    node_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx: Any, logp: Tensor, target: Tensor, reduction: str) -> Tensor:
        classes = logp.shape[-1]
        bad = target._data[(target._data < 0) | (target._data >= classes)]
        if bad.size:
            raise IndexError(f"Target {int(bad.flat[0])} is out of bounds.")
        key = (np.arange(logp.shape[0]), target._data) if logp.ndim == 2 else (target._data,)
        picked = -logp._data[key]
        ctx.shape, ctx.key, ctx.reduction, ctx.picked_shape = logp.shape, key, reduction, picked.shape
        if reduction == "none":
            return Tensor(picked)
        total = picked.sum(dtype=picked.dtype)
        return Tensor(total / picked.size if reduction == "mean" else total)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        per_item = -grad
        if ctx.reduction == "mean":
            per_item = per_item / builtins.max(1, math.prod(ctx.picked_shape))
        if ctx.reduction != "none":
            per_item = per_item.expand(ctx.picked_shape)
        return IndexPut.apply(per_item, ctx.shape, ctx.key), None, None


class MseLoss(Function):
    """out = mean((a - b)**2).   d/da = 2 (a - b) / n,  d/db = -2 (a - b) / n."""

    node_name = "MseLossBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor, reduction: str) -> Tensor:
        ctx.save_for_backward(a, b)
        ctx.reduction = reduction
        x, y = _arrays(a, b)
        squared = (x - y) ** 2
        ctx.count = squared.size
        if reduction == "none":
            return Tensor(squared)
        return Tensor(squared.mean(dtype=squared.dtype) if reduction == "mean" else squared.sum(dtype=squared.dtype))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        a, b = ctx.saved_tensors
        need_a, need_b, _ = ctx.needs_input_grad
        scale = 2 / ctx.count if ctx.reduction == "mean" else 2
        diff = (a - b) * grad * scale
        return (diff if need_a else None), (-diff if need_b else None), None


# ===== the functions and Tensor methods that apply these ops =====================================
def add(input: Tensor, other: Any, *, alpha: Number = 1) -> Tensor:
    """input + alpha * other"""
    return Add.apply(input, _as_tensor(other, input), alpha)


def sub(input: Tensor, other: Any, *, alpha: Number = 1) -> Tensor:
    """input - alpha * other"""
    return Sub.apply(input, _as_tensor(other, input), alpha)


def mul(input: Tensor, other: Any) -> Tensor:
    """input * other"""
    return Mul.apply(input, _as_tensor(other, input))


def div(input: Tensor, other: Any) -> Tensor:
    """input / other"""
    return Div.apply(input, _as_tensor(other, input))


def pow(input: Tensor | Number, exponent: Any) -> Tensor:
    """input ** exponent"""
    if not isinstance(input, Tensor):
        return RPow.apply(exponent, input)
    if isinstance(exponent, Tensor):
        return PowTensor.apply(input, exponent)
    return Pow.apply(input, exponent)


def _rsub(self: Tensor, other: Any) -> Tensor:
    return Rsub.apply(self, other)


def _rtruediv(self: Tensor, other: Any) -> Tensor:
    return Reciprocal.apply(self) * other  # as PyTorch: 2 / x is x.reciprocal() * 2


def _rpow(self: Tensor, other: Any) -> Tensor:
    return RPow.apply(self, other)


def _math_function(op: type[Function]) -> Any:
    """``exp(input)``, ``log(input)``, ...: apply a one-input op (named after it, with its docstring)."""
    def function(input: Tensor) -> Tensor:
        return op.apply(input)
    function.__name__ = function.__qualname__ = op.__name__.lower()
    function.__doc__ = op.__doc__
    return function


exp, log, sin, cos, tanh = (_math_function(op) for op in (Exp, Log, Sin, Cos, Tanh))
sigmoid, relu, abs, sqrt = (_math_function(op) for op in (Sigmoid, Relu, Abs, Sqrt))
neg, reciprocal = _math_function(Neg), _math_function(Reciprocal)


def clamp(input: Tensor, min: Number | None = None, max: Number | None = None) -> Tensor:
    """Limit every element to [min, max]."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        raise TypeError("autograd_lab.clamp takes numbers for min and max; for tensors use maximum()/where()")
    return Clamp.apply(input, min, max)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise larger of two tensors."""
    return Maximum.apply(input, other)


def where(condition: Tensor, input: Any, other: Any) -> Tensor:
    """input where condition is True, else other (numbers are allowed for input and other)."""
    if not isinstance(input, Tensor):
        like = other if isinstance(other, Tensor) else Tensor(np.asarray(0.0, _dtype.get_default_dtype().numpy))
        input = _as_tensor(input, like)
    other = _as_tensor(other, input)
    if condition.dtype is not _dtype.bool:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{condition.dtype._scalar_name}")
    return Where.apply(condition, input, other)


def sum(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
        dtype: _dtype.dtype | None = None) -> Tensor:
    """Sum of all elements, or over ``dim``."""
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        return SumAll.apply(input, _dims(None, input.ndim), False)
    return Sum.apply(input, _dims(dim, input.ndim), keepdim)


def mean(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    """Mean of all elements, or over ``dim``."""
    if dim is None:
        return MeanAll.apply(input, _dims(None, input.ndim), False)
    return Mean.apply(input, _dims(dim, input.ndim), keepdim)


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


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """All elements equal within ``atol + rtol * |other|``."""
    return builtins.bool(np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input: Tensor, other: Tensor) -> bool:
    """Same shape and same values."""
    return input.shape == other.shape and builtins.bool(np.array_equal(input._data, other._data))


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    return Mm.apply(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    return Mv.apply(input, vec)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    return Bmm.apply(input, mat2)


def dot(input: Tensor, other: Tensor) -> Tensor:
    return Dot.apply(input, other)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor) -> Tensor:
    """input + mat1 @ mat2"""
    return Addmm.apply(input, mat1, mat2)


def _reshape(self: Tensor, *shape: Any) -> Tensor:
    return Reshape.apply(self, size_args(shape))


def _view(self: Tensor, *shape: Any) -> Tensor:
    return View.apply(self, size_args(shape))


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


def _T(self: Tensor) -> Tensor:  # noqa: N802
    if self.ndim == 0:
        warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases.",
                      UserWarning, stacklevel=2)
    elif self.ndim != 2:
        warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated "
                      "and it will throw an error in a future release. Consider `x.mT` to transpose batches of "
                      "matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a "
                      "tensor.", UserWarning, stacklevel=2)
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
    return SqueezeDim.apply(input, _dims(dim, input.ndim))


def _expand(self: Tensor, *sizes: Any) -> Tensor:
    return Expand.apply(self, _expand_shape(tuple(self.shape), size_args(sizes)))


def _expand_as(self: Tensor, other: Tensor) -> Tensor:
    return _expand(self, tuple(other.shape))


def _view_as(self: Tensor, other: Tensor) -> Tensor:
    return View.apply(self, tuple(other.shape))


def _sum_to_size(self: Tensor, *size: Any) -> Tensor:
    """Sum over the dimensions that broadcasting added or stretched, back to ``size``."""
    shape = size_args(size)
    if not is_expandable_to(shape, tuple(self.shape)):
        raise RuntimeError(f"size {{{list(shape)}}} is not expandable to size {{{list(self.shape)}}}.")
    lead = self.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and self.shape[lead + i] != 1)
    out = Sum.apply(self, dims, True) if dims else self
    return out.reshape(shape) if lead else out


def clone(input: Tensor) -> Tensor:
    return Clone.apply(input)


def _to(self: Tensor, dtype: _dtype.dtype, *args: Any, **kwargs: Any) -> Tensor:
    if not isinstance(dtype, _dtype.dtype):
        if dtype in ("cpu", None):  # autograd_lab has one device
            return self
        raise TypeError(f"to() received an invalid combination of arguments - got ({type(dtype).__name__})")
    return self if dtype is self.dtype else ToCopy.apply(self, dtype)


def add_(self: Tensor, other: Any, *, alpha: Number = 1) -> Tensor:
    """self += alpha * other"""
    return _modify(self, AddInplace, _as_tensor(other, self), alpha)


def sub_(self: Tensor, other: Any, *, alpha: Number = 1) -> Tensor:
    """self -= alpha * other"""
    return _modify(self, SubInplace, _as_tensor(other, self), alpha)


def mul_(self: Tensor, other: Any) -> Tensor:
    """self *= other"""
    return _modify(self, MulInplace, _as_tensor(other, self))


def div_(self: Tensor, other: Any) -> Tensor:
    """self /= other"""
    return _modify(self, DivInplace, _as_tensor(other, self))


def fill_(self: Tensor, value: Number | Tensor) -> Tensor:
    """Every element becomes ``value``."""
    return _modify(self, Fill, value.item() if isinstance(value, Tensor) else value)


def zero_(self: Tensor) -> Tensor:
    """Every element becomes 0."""
    return _modify(self, Zero, 0)


def copy_(self: Tensor, src: Tensor) -> Tensor:
    """Copy src's values (broadcast) into self."""
    return _modify(self, Copy, src)


_METHODS = {
    "add": add, "sub": sub, "mul": mul, "div": div, "pow": pow, "neg": neg, "reciprocal": reciprocal,
    "__add__": add, "__radd__": add, "__sub__": sub, "__rsub__": _rsub, "__mul__": mul, "__rmul__": mul,
    "__truediv__": div, "__rtruediv__": _rtruediv, "__pow__": pow, "__rpow__": _rpow, "__neg__": neg,
    "__matmul__": matmul, "__rmatmul__": lambda self, other: matmul(other, self), "__abs__": abs,
    "exp": exp, "log": log, "sin": sin, "cos": cos, "tanh": tanh, "sigmoid": sigmoid, "relu": relu, "abs": abs,
    "sqrt": sqrt, "clamp": clamp, "maximum": maximum, "sum": sum, "mean": mean, "max": max, "min": min,
    "matmul": matmul, "mm": mm, "mv": mv, "bmm": bmm, "dot": dot,
    "reshape": _reshape, "view": _view, "flatten": flatten, "view_as": _view_as, "t": _t, "T": property(_T),
    "permute": _permute,
    "transpose": transpose, "unsqueeze": unsqueeze, "squeeze": squeeze, "expand": _expand,
    "expand_as": _expand_as, "sum_to_size": _sum_to_size, "clone": clone, "to": _to,
    "float": lambda self: _to(self, _dtype.float32), "double": lambda self: _to(self, _dtype.float64),
    "long": lambda self: _to(self, _dtype.int64), "int": lambda self: _to(self, _dtype.int32),
    "bool": lambda self: _to(self, _dtype.bool),
    "__getitem__": _getitem, "__setitem__": _setitem, "unbind": unbind,
    "add_": add_, "sub_": sub_, "mul_": mul_, "div_": div_, "fill_": fill_, "zero_": zero_, "copy_": copy_,
    "__iadd__": add_, "__isub__": sub_, "__imul__": mul_, "__itruediv__": div_,
}
for _name, _method in _METHODS.items():
    setattr(Tensor, _name, _method)
