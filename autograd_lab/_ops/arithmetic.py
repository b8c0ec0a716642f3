"""Arithmetic: + - * / ** and their reflected forms."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from autograd_lab import _dtype
from autograd_lab import _grad_mode as grad_mode
from autograd_lab._creation import zeros_like
from autograd_lab._fma import fma32, fma64
from autograd_lab._ops.operands import Number, arrays, as_tensor, floating, ieee_silent, math_function
from autograd_lab._ops.pointwise import MulScalar, _sqrt, log, where
from autograd_lab._ops.vector_math import ROUNDED_ONCE_UP_TO
from autograd_lab._ops.vectorized import by_aten_lanes, c_function, sleef_powf
from autograd_lab._tensor import Tensor
from autograd_lab.autograd.function import Function


def _plus_scaled(x: np.ndarray, y: np.ndarray, alpha: Number) -> np.ndarray:
    """x + alpha * y as PyTorch's CPU kernel computes it for floats: one fused multiply-add (a single
    rounding, with alpha rounded to the dtype first), so that ``p.add_(grad, alpha=-lr)`` matches it."""
    if x.dtype.kind != "f" or y.dtype != x.dtype:
        return x + alpha * y
    y, x = np.broadcast_arrays(y, x)
    return fma32(y, np.float32(alpha), x) if x.dtype == np.float32 else fma64(y, float(alpha), x)


class Add(Function):
    """out = a + alpha * b.   d/da = 1,  d/db = alpha."""

    node_name = "AddBackward0"
    saved_as: ClassVar = {"alpha": "alpha"}  # y.grad_fn._saved_alpha

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor, alpha: Number = 1) -> Tensor:
        ctx.alpha = alpha
        x, y = arrays(a, b)
        return Tensor._wrap(x + y if alpha == 1 else _plus_scaled(x, y, alpha))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        return grad, (grad if ctx.alpha == 1 else grad * ctx.alpha), None


class Sub(Function):
    """out = a - alpha * b.   d/da = 1,  d/db = -alpha."""

    node_name = "SubBackward0"
    saved_as: ClassVar = {"alpha": "alpha"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor, alpha: Number = 1) -> Tensor:
        ctx.alpha = alpha
        x, y = arrays(a, b)
        return Tensor._wrap(x - y if alpha == 1 else _plus_scaled(x, y, -alpha))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        return grad, (-grad if ctx.alpha == 1 else grad * -ctx.alpha), None


class Rsub(Function):
    """out = number - a   (``2 - x``).   d/da = -1."""

    node_name = "RsubBackward1"
    saved_as: ClassVar = {"alpha": lambda ctx: 1}

    @staticmethod
    def forward(ctx: Any, a: Tensor, number: Number) -> Tensor:
        return Tensor._wrap(as_tensor(number, a)._data - a._data)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return -grad, None


class Mul(Function):
    """out = a * b.   d/da = b,  d/db = a."""

    node_name = "MulBackward0"
    saved_as: ClassVar = {"other": 0, "self": 1}  # y.grad_fn._saved_other is saved_tensors[0] (PyTorch's order)

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(b if need_a else None, a if need_b else None)  # each for the other's gradient
        x, y = arrays(a, b)
        return Tensor._wrap(x * y)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        b, a = ctx._for_backward
        need_a, need_b = ctx.needs_input_grad
        times = Mul.apply if grad_mode._enabled else _product  # (a plain backward: the product, no op around it)
        # b's gradient first, as PyTorch's MulBackward0: a second backward runs recorded ops newest first, so this
        # order decides how terms that meet at one tensor are added up
        grad_b = times(grad, a) if need_b else None
        return (times(grad, b) if need_a else None), grad_b


def _product(x: Tensor, y: Tensor) -> Tensor:
    """x * y as Mul's forward computes it, for a backward that records nothing."""
    return Tensor._wrap(np.multiply(*arrays(x, y)))


class Div(Function):
    """out = a / b.   d/da = 1/b,  d/db = -a/b**2, computed as PyTorch does: -grad * ((a / b) / b)."""

    node_name = "DivBackward0"
    saved_as: ClassVar = {"other": 0, "self": 1}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        ctx.save_for_backward(b, a if ctx.needs_input_grad[1] else None)  # a only for b's gradient
        x, y = arrays(a, b)
        if x.dtype.kind != "f":  # true division of integers gives floats
            x, y = x.astype(_dtype.get_default_dtype().numpy), y.astype(_dtype.get_default_dtype().numpy)
        return Tensor._wrap(x / y)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        b, a = ctx._for_backward
        need_a, need_b = ctx.needs_input_grad[:2]  # (DivMode has a third input)
        grad_b = -grad * ((a / b) / b) if need_b else None  # (b's first, as in PyTorch: see Mul)
        return (grad / b if need_a else None), grad_b


class DivMode(Div):
    """out = a / b rounded toward zero ("trunc") or down ("floor"), or exact (None, asked for by name).

    A rounded quotient is a staircase: d/da = d/db = 0.
    """

    node_name = "DivBackward2"

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor, b: Tensor, mode: str | None) -> Tensor:
        ctx.mode = mode
        if mode is None:
            return Div.forward(ctx, a, b)
        x, y = arrays(a, b)
        if x.dtype.kind != "f":
            if not y.all():
                raise RuntimeError("ZeroDivisionError")
            floor = np.floor_divide(x, y)
            return Tensor._wrap(floor if mode == "floor" else floor + ((floor < 0) & (floor * y != x)))
        if mode == "trunc":
            return Tensor._wrap(np.trunc(x / y))
        return Tensor._wrap(np.where(y == 0, x / y, _floor_quotient(x, y)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        if ctx.mode is None:
            return (*Div.backward(ctx, grad), None)
        zero = Tensor._wrap(np.zeros_like(grad._data))  # (0 even where grad is inf or nan)
        need_a, need_b = ctx.needs_input_grad[:2]
        return (zero if need_a else None), (zero if need_b else None), None


def _floor_quotient(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """floor(x / y) as PyTorch computes it (its rounding decides cases like -3.5 / 0.7 in float32: -6):
    from x's remainder, in x's precision."""
    mod = np.fmod(x, y)
    div = (x - mod) / y
    div = np.where((mod != 0) & ((y < 0) != (mod < 0)), div - 1, div)
    floor = np.floor(div)
    floor = np.where(div - floor > 0.5, floor + 1, floor)
    return np.where(div != 0, floor, np.copysign(np.zeros_like(div), x / y)).astype(x.dtype, copy=False)


class Fmod(Function):
    """out = a - trunc(a / b) * b, C's fmod (the sign of a).   d/da = 1,  d/db = -trunc(a / b)."""

    node_name = "FmodBackward1"
    saved_as: ClassVar = {"other": 0, "self": 1}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        ctx.save_for_backward(b, a)
        x, y = arrays(a, b)
        _check_integer_division(y)
        return Tensor._wrap(ctx._forward_cls._kernel(x, y))

    @staticmethod
    def _kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.fmod(x, y)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        b, a = ctx._for_backward
        if not ctx.needs_input_grad[1]:
            return grad, None
        quotient = Tensor._wrap(ctx._forward_cls._quotient(a._data / b._data))
        return grad, -grad * quotient

    _quotient = staticmethod(np.trunc)


class Remainder(Fmod):
    """out = a - floor(a / b) * b, Python's % (the sign of b).   d/da = 1,  d/db = -floor(a / b)."""

    node_name = "RemainderBackward1"

    @staticmethod
    def _kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if x.dtype.kind != "f":
            return np.remainder(x, y)
        mod = np.fmod(x, y)  # PyTorch's float kernel: fmod, then b added where the signs differ
        return np.where((mod != 0) & ((y < 0) != (mod < 0)), mod + y, mod)

    _quotient = staticmethod(np.floor)


class FmodScalar(Fmod):
    """out = fmod(a, number).   d/da = 1."""

    node_name = "FmodBackward0"
    saved_as: ClassVar = {}


class RemainderScalar(Remainder):
    """out = a % number.   d/da = 1."""

    node_name = "RemainderBackward0"
    saved_as: ClassVar = {}


def _check_integer_division(y: np.ndarray) -> None:
    if y.dtype.kind != "f" and not y.all():
        raise RuntimeError("ZeroDivisionError")


def fmod(input: Tensor, other: Any) -> Tensor:
    """The remainder of input / other with the sign of input (C's fmod): fmod(-3, 2) = -1."""
    return (Fmod if isinstance(other, Tensor) else FmodScalar).apply(input, as_tensor(other, input))


def remainder(input: Tensor, other: Any) -> Tensor:
    """The remainder of input / other with the sign of other (Python's %): remainder(-3, 2) = 1."""
    return (Remainder if isinstance(other, Tensor) else RemainderScalar).apply(input, as_tensor(other, input))


def _rmod(self: Tensor, number: Any) -> Tensor:
    """number % tensor"""
    return Remainder.apply(as_tensor(number, self), self)


class Neg(Function):
    """out = -a.   d/da = -1."""

    node_name = "NegBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        return Tensor._wrap(-a._data)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return -grad


class Reciprocal(Function):
    """out = 1 / a.   d/da = -out**2."""

    node_name = "ReciprocalBackward0"
    saved_as: ClassVar = {"result": 0}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor) -> Tensor:
        out = Tensor._wrap(1 / floating(a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (out,) = ctx._for_backward
        return -grad * (out * out)  # (PyTorch's order: out * out first)


class Pow(Function):
    """out = a ** p for a number p.   d/da = p * a**(p-1).

    Float powers are computed as PyTorch's CPU kernel does, so results match it bit for bit:
    x**2 is x*x, x**3 is x*x*x, x**-2 is 1/(x*x), x**-1 is 1/x, x**0.5 is torch.sqrt (MKL's, which is
    not always correctly rounded), x**-0.5 is 1/sqrt(x) with a correctly rounded sqrt (NumPy's). Other
    float32 exponents go through SLEEF's powf where PyTorch's vector loop does (``_ops/vectorized.py``),
    and are rounded once from float64 elsewhere, as its scalar loop's std::pow.
    """

    node_name = "PowBackward0"
    saved_as: ClassVar = {"self": 0, "exponent": "p"}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor, p: Number) -> Tensor:
        ctx.save_for_backward(a)
        ctx.p = p
        if a._data.dtype.kind in "iu" and isinstance(p, int) and p < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        x = a._data if a._data.dtype.kind == "f" or isinstance(p, int) else floating(a)
        if x.dtype.kind != "f":
            return Tensor._wrap(np.power(x, np.asarray(p, dtype=x.dtype)))
        return Tensor._wrap(_float_power(x, p))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (a,) = ctx._for_backward
        if ctx.p == 0:
            return zeros_like(a), None
        return grad * MulScalar.apply(a ** (ctx.p - 1), ctx.p), None  # PyTorch's formula, node for node


def _float_power(x: np.ndarray, p: Number) -> np.ndarray:
    """x ** p for a float array, with PyTorch's special cases (see Pow)."""
    one = x.dtype.type(1)
    if p == 0:
        return np.ones_like(x)
    if p == 1:
        return x.copy()
    if p == 2:
        return x * x
    if p == 3:
        return x * x * x
    if p == -1:
        return one / x
    if p == -2:
        return one / (x * x)
    if p == 0.5:
        return _sqrt(x)  # (torch.sqrt's own kernel: MKL's, not always correctly rounded)
    if p == -0.5:
        return one / np.sqrt(x)
    return _float_power_of(x, float(p))


def _float_power_of(x: np.ndarray, p: float) -> np.ndarray:
    """x ** p for a float array and a number, as PyTorch's kernel: float32 through SLEEF's powf where ATen uses
    vectors (up to 65536 elements); elsewhere rounded once from float64, as its scalar loop's std::pow (of the
    float and a double exponent) gives."""
    if x.dtype == np.float32 and x.size <= ROUNDED_ONCE_UP_TO:
        return by_aten_lanes(x, lambda v: sleef_powf(v, p), lambda v: _rounded_power(v, p))
    return _rounded_power(x, p)


def _rounded_power(x: np.ndarray, p: float | np.ndarray) -> np.ndarray:
    return np.power(x.astype(np.float64), p).astype(x.dtype)


_c_powf = c_function("powf", np.power)


def _power_of_tensors(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x ** y for float32 tensors as PyTorch's kernel: SLEEF's powf on the vector lanes, the C library's powf
    (both floats) on the rest, where x has the result's shape and y is one number or of x's shape; otherwise
    rounded once from float64."""
    if y.dtype == np.float32 and x.size <= ROUNDED_ONCE_UP_TO and np.broadcast_shapes(x.shape, y.shape) == x.shape:
        if y.size == 1:
            p = y.reshape(())
            return by_aten_lanes(x, lambda v: sleef_powf(v, p), lambda v: _c_powf(v, p))
        if y.shape == x.shape and y.strides == x.strides:  # (laid out alike: ATen walks both in memory order)
            return by_aten_lanes(x, sleef_powf, _c_powf, y)
        if y.shape == x.shape:  # (laid out differently: ATen's scalar loop for every element)
            return _c_powf(x, y)
    return _rounded_power(x, y)


class PowTensor(Function):
    """out = a ** b, both tensors.   d/da = b * a**(b-1),  d/db = out * log(a)."""

    node_name = "PowBackward1"
    saved_as: ClassVar = {"exponent": 0, "self": 1, "result": 2}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        x, y = arrays(a, b)
        out = Tensor._wrap(_power_of_tensors(x, y) if x.dtype == np.float32 else np.power(x, y))
        ctx.save_for_backward(b, a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        b, a, out = ctx._for_backward
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad * where(b == 0, 0.0, b * a ** (b - 1)) if need_a else None  # 0 ** 0 has slope 0, not nan
        # log(0) is -inf, but 0 ** b has slope 0 in b for b > 0: PyTorch masks it the same way
        grad_b = grad * where((a == 0) & (b >= 0), 0.0, out * log(a)) if need_b else None
        return grad_a, grad_b


class RPow(Function):
    """out = number ** a   (``2 ** x``).   d/da = out * log(number)."""

    node_name = "PowBackward2"
    saved_as: ClassVar = {"self": "number", "exponent": 0, "result": 1}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor, number: Number) -> Tensor:
        x = floating(a) if isinstance(number, float) else a._data
        base = np.asarray(number, dtype=x.dtype)
        if x.dtype == np.float32 and 0 < x.size <= ROUNDED_ONCE_UP_TO and x.flags.c_contiguous:
            # PyTorch's tensor ** tensor kernel with the number as a tensor: SLEEF's powf on the vector lanes,
            # the C library's powf on the rest
            out = Tensor._wrap(by_aten_lanes(x, lambda v: sleef_powf(np.full_like(v, base), v),
                                             lambda v: _c_powf(np.full_like(v, base), v)))
        else:
            out = Tensor._wrap(np.power(base, x))
        ctx.save_for_backward(a, out)
        ctx.number = number
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        a, out = ctx._for_backward
        if ctx.number == 0:  # 0 ** a: flat for a >= 0 (PyTorch's convention), -inf slope below
            return where(a >= 0, 0.0, grad * out * -math.inf), None
        return grad * (out * math.log(ctx.number)), None  # (PyTorch's order: out * log(number) first)


def add(input: Tensor, other: Any, *, alpha: Number = 1) -> Tensor:
    """input + alpha * other"""
    return Add.apply(input, as_tensor(other, input), alpha)


def sub(input: Tensor, other: Any, *, alpha: Number = 1) -> Tensor:
    """input - alpha * other"""
    return Sub.apply(input, as_tensor(other, input), alpha)


def mul(input: Tensor, other: Any) -> Tensor:
    """input * other"""
    return Mul.apply(input, as_tensor(other, input))


def div(input: Tensor, other: Any, *, rounding_mode: Any = ...) -> Tensor:
    """input / other; ``rounding_mode="trunc"`` or ``"floor"`` rounds the quotient to an integer."""
    if rounding_mode is ...:
        return Div.apply(input, as_tensor(other, input))
    if rounding_mode not in (None, "trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{rounding_mode}'")
    return DivMode.apply(input, as_tensor(other, input), rounding_mode)


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


neg, reciprocal = math_function(Neg), math_function(Reciprocal)
