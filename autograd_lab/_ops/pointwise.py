"""Elementwise math: exp, log, sin, asin, ..., log2, tan, rsqrt, sign, ceil, floor, clamp, maximum, where."""

from __future__ import annotations

import ctypes
import math
import operator
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from autograd_lab import _dtype
from autograd_lab import _grad_mode as grad_mode
from autograd_lab._fma import fma32, fma64
from autograd_lab._ops.operands import Number, arrays, as_tensor, floating, ieee_silent, math_function
from autograd_lab._ops.vector_math import ROUNDED_ONCE_UP_TO, vml
from autograd_lab._ops.vectorized import (
    aten_unary_kernel,
    by_aten_lanes,
    c_expf,
    c_function,
    sleef_coshf,
    sleef_exp,
    sleef_exp2f,
    sleef_expf,
    sleef_expm1f,
    sleef_log1pf,
    sleef_sinhf,
)
from autograd_lab._tensor import Tensor
from autograd_lab.autograd.function import Function

_sqrt, _atan = vml("Sqrt", np.sqrt), vml("Atan", np.arctan)


# ----- one-input math: each op is its function and its derivative (PyTorch's formulas, node for node:
# a number in them is MulScalar/AddScalar, PyTorch's MulBackward1/AddBackward1) ---------------------
class _OfSelf(Function):
    """A one-input op whose derivative reads its input (PyTorch shows it as ``_saved_self``)."""

    saved_as: ClassVar = {"self": 0}
    compute: ClassVar[Callable[[np.ndarray], np.ndarray]]

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor) -> Tensor:
        ctx.save_for_backward(a)
        return Tensor._wrap(ctx._forward_cls.compute(floating(a)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (a,) = ctx._for_backward
        return ctx._forward_cls.derivative(grad, a)


class _OfResult(_OfSelf):
    """A one-input op whose derivative reads its output (``_saved_result``)."""

    saved_as: ClassVar = {"result": 0}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor) -> Tensor:
        out = Tensor._wrap(ctx._forward_cls.compute(floating(a)))
        ctx.save_for_backward(out)
        return out


class Exp(_OfResult):
    """out = exp(a).   d/da = out."""

    node_name = "ExpBackward0"
    compute = staticmethod(vml("Exp", np.exp))
    derivative = staticmethod(lambda grad, out: grad * out)


class Log(_OfSelf):
    """out = log(a).   d/da = 1/a."""

    node_name = "LogBackward0"
    compute = staticmethod(vml("Ln", np.log))
    derivative = staticmethod(lambda grad, a: grad / a)


class Sin(_OfSelf):
    """out = sin(a).   d/da = cos(a)."""

    node_name = "SinBackward0"
    compute = staticmethod(vml("Sin", np.sin))
    derivative = staticmethod(lambda grad, a: grad * a.cos())


class Cos(_OfSelf):
    """out = cos(a).   d/da = -sin(a)."""

    node_name = "CosBackward0"
    compute = staticmethod(vml("Cos", np.cos))
    derivative = staticmethod(lambda grad, a: grad * -a.sin())


class Tanh(_OfResult):
    """out = tanh(a).   d/da = 1 - out**2."""

    node_name = "TanhBackward0"
    compute = staticmethod(vml("Tanh", np.tanh))
    derivative = staticmethod(lambda grad, out: TanhBackward.apply(grad, out))  # noqa: PLW0108 (defined below)


class TanhBackward(Function):
    """out = grad * (1 - y**2), y = tanh(a), with 1 - y**2 rounded once (PyTorch's kernel is compiled to a fused
    multiply-add there).   d/dgrad = 1 - y**2;  d/dy = -2 y grad."""

    node_name = "TanhBackwardBackward0"
    saved_as: ClassVar = {"grad_output": 0, "output": 1}

    @staticmethod
    def forward(ctx: Any, grad: Tensor, out: Tensor) -> Tensor:
        ctx.save_for_backward(grad, out)
        y = out._data
        return Tensor._wrap(grad._data * (fma32 if y.dtype == np.float32 else fma64)(-y, y, 1.0))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor]:
        grad_output, out = ctx._for_backward
        return TanhBackward.apply(grad, out), grad * (MulScalar.apply(out, -2) * grad_output)


# exp on ATen's vector lanes (SLEEF's) and on its scalar rest (the C library's), by dtype
_EXPS = {np.float32: (sleef_expf, c_expf),
         np.float64: (sleef_exp, c_function("exp", np.exp, ctypes.c_double))}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) as PyTorch's kernel computes it: SLEEF's exp where ATen uses vectors, the C library's
    elsewhere. Beyond 65536 elements NumPy's exp (last-bit differences in about 3% of values)."""
    one, zero = x.dtype.type(1), x.dtype.type(0)
    if x.dtype.type in _EXPS and x.size <= ROUNDED_ONCE_UP_TO:  # (SLEEF's steps in NumPy: ~40 ns an element)
        vector_exp, scalar_exp = _EXPS[x.dtype.type]
        return by_aten_lanes(x, lambda v: one / (one + vector_exp(zero - v)), lambda v: one / (one + scalar_exp(-v)))
    return (one / (one + np.exp(-x))).astype(x.dtype, copy=False)


class Sigmoid(Function):
    """out = 1 / (1 + exp(-a)).   d/da = out * (1 - out)."""

    node_name = "SigmoidBackward0"
    saved_as: ClassVar = {"result": 0}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor) -> Tensor:
        out = Tensor._wrap(_sigmoid(floating(a)))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (out,) = ctx._for_backward
        return SigmoidBackward.apply(grad, out)


class SigmoidBackward(Function):
    """out = grad * (1 - y) * y, y = sigmoid(a), in that order (PyTorch's kernel: a different order rounds
    differently in a third of float32 values).   d/dgrad = (1 - y) y;  d/dy = grad (1 - 2y)."""

    node_name = "SigmoidBackwardBackward0"
    saved_as: ClassVar = {"grad_output": 0, "output": 1}

    @staticmethod
    def forward(ctx: Any, grad: Tensor, out: Tensor) -> Tensor:
        ctx.save_for_backward(grad, out)
        y = out._data
        return Tensor._wrap(grad._data * (y.dtype.type(1) - y) * y)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor]:
        grad_output, out = ctx._for_backward
        return SigmoidBackward.apply(grad, out), grad * grad_output * AddScalar.apply(MulScalar.apply(out, -2), 1)


class Relu(Function):
    """out = max(a, 0).   d/da = 1 where out > 0, else 0."""

    node_name = "ReluBackward0"
    saved_as: ClassVar = {"result": 0}

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        out = Tensor._wrap(_zero_where(a._data < 0, a._data))  # (relu(-0.0) is -0.0, as in PyTorch)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (out,) = ctx._for_backward
        if not grad_mode._enabled:  # a plain backward: ThresholdBackward's mask on the arrays, no op around it
            return Tensor._wrap(_zero_where(out._data <= 0, grad._data))
        return ThresholdBackward.apply(grad, out, 0)


class ThresholdBackward(Function):
    """out = grad where a > threshold, else 0 (ReLU's backward, PyTorch's threshold_backward: a 0 there, never
    -0.0 or nan as ``grad * mask`` would give).   d/dgrad: the same mask;  d/da: zeros (a step's slope is 0)."""

    node_name = "ThresholdBackwardBackward0"
    saved_as: ClassVar = {"self": 0, "threshold": "threshold"}

    @staticmethod
    def forward(ctx: Any, grad: Tensor, a: Tensor, threshold: Number) -> Tensor:
        ctx.save_for_backward(a)
        ctx.threshold = threshold
        return Tensor._wrap(_zero_where(a._data <= threshold, grad._data))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor, None]:
        (a,) = ctx._for_backward
        return ThresholdBackward.apply(grad, a, ctx.threshold), Tensor._wrap(np.zeros_like(grad._data)), None


def _ties_keep(out: np.ndarray, x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    """``out`` (max, min or clamp of x) with PyTorch's choice where x equals the other operand, which shows in
    the sign of a zero: against a number (relu, ``clamp(min=0)``) x is kept, so relu(-0.0) is -0.0; between
    two tensors ``y`` is kept on ATen's vector lanes (what AVX's max and min instructions return) and x on its
    scalar tail. (NumPy's own choice differs between its loops.)"""
    out = np.asarray(out)  # (NumPy gives a 0-d input's result as a scalar)
    if out.dtype.kind != "f":  # (equal integers are the same integer)
        return out
    if y is None:
        np.copyto(out, x, where=out == x)
        return out
    x, y = np.broadcast_to(x, out.shape), np.broadcast_to(y, out.shape)
    return by_aten_lanes(out, lambda o, a, b: np.where(a == b, b, o), lambda o, a, b: np.where(a == b, a, o), x, y)


def _zero_where(drop: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g with +0.0 where ``drop``: its bits ANDed with a mask of all ones (keep) or all zeros (drop).
    The same values as ``np.where(drop, 0, g)``, about twice as fast on ReLU's random masks (no branches)."""
    if g.dtype.kind != "f":
        return np.where(drop, g.dtype.type(0), g)
    bits = np.dtype(f"u{g.itemsize}")
    keep = np.array(drop, dtype=bits)  # (an array even for a 0-d tensor: NumPy scalars warn on wrapping around)
    keep -= 1  # 1 (drop) -> 0, 0 (keep) -> all ones
    return np.asarray(np.bitwise_and(g.view(bits), keep)).view(g.dtype)  # (a same-size view: any layout)


class Abs(Function):
    """out = |a|.   d/da = sign(a)."""

    node_name = "AbsBackward0"
    saved_as: ClassVar = {"self": 0}

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        ctx.save_for_backward(a)
        return Tensor._wrap(np.abs(a._data))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (a,) = ctx._for_backward
        return grad * a.sgn()


class Sqrt(Function):
    """out = sqrt(a).   d/da = 1 / (2 * out)."""

    node_name = "SqrtBackward0"
    saved_as: ClassVar = {"result": 0}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor) -> Tensor:
        out = Tensor._wrap(_sqrt(floating(a)))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (out,) = ctx._for_backward
        return grad / (2 * out)


class Clamp(Function):
    """out = min(max(a, lo), hi).   d/da = 1 where lo <= a <= hi, else 0."""

    node_name = "ClampBackward1"
    saved_as: ClassVar = {"self": 0, "min": "lo", "max": "hi"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, lo: Number | None, hi: Number | None) -> Tensor:
        ctx.save_for_backward(a)
        ctx.lo, ctx.hi = lo, hi
        return Tensor._wrap(_ties_keep(np.clip(a._data, lo, hi).astype(a._data.dtype, copy=False), a._data))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        (a,) = ctx._for_backward
        lo = -math.inf if ctx.lo is None else ctx.lo
        hi = math.inf if ctx.hi is None else ctx.hi
        return where((a >= lo) & (a <= hi), grad, 0.0), None, None  # (0 outside, even if grad is nan there)


class ClampTensor(Function):
    """out = min(max(a, lo), hi) with tensor bounds (either may be None).

    d/da = 1 where lo <= a <= hi;  d/dlo = 1 where a < lo (and lo < hi);  d/dhi = 1 where a > hi, or
    everywhere hi < lo (the result is hi there).
    """

    node_name = "ClampBackward0"
    optional_inputs: ClassVar = frozenset({1, 2})  # (min, max)
    saved_as: ClassVar = {"self": 0, "min": 1, "max": 2}

    @staticmethod
    def forward(ctx: Any, a: Tensor, lo: Tensor | None, hi: Tensor | None) -> Tensor:
        ctx.save_for_backward(a, lo, hi)
        out = a
        for bound, limit in ((lo, np.maximum), (hi, np.minimum)):
            if bound is not None:
                x, y = arrays(out, bound)
                out = Tensor._wrap(_ties_keep(limit(x, y), x, y))
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        a, lo, hi = ctx._for_backward
        if lo is not None and hi is not None:
            keep = (a >= lo) & (a <= hi)
        else:
            keep = a >= lo if lo is not None else a <= hi
        to_lo = to_hi = None
        if lo is not None:
            to_lo = where((a < lo) & (lo < hi) if hi is not None else a < lo, grad, 0.0)
        if hi is not None:
            to_hi = where((a > hi) | (hi < lo) if lo is not None else a > hi, grad, 0.0)
        return where(keep, grad, 0.0), to_lo, to_hi


class ClampMin(Clamp):
    """``x.clamp_min(lo)``: clamp with a lower bound only (PyTorch's own op, so its own node)."""

    node_name = "ClampMinBackward0"
    saved_as: ClassVar = {"self": 0, "min": "lo"}


class ClampMax(Clamp):
    """``x.clamp_max(hi)``: clamp with an upper bound only."""

    node_name = "ClampMaxBackward0"
    saved_as: ClassVar = {"self": 0, "max": "hi"}


class ClampMinTensor(ClampTensor):
    """``x.clamp_min(t)``: a lower bound per element."""

    node_name = "ClampMinBackward1"
    saved_as: ClassVar = {"self": 0, "min": 1}


class ClampMaxTensor(ClampTensor):
    """``x.clamp_max(t)``: an upper bound per element."""

    node_name = "ClampMaxBackward1"
    saved_as: ClassVar = {"self": 0, "max": 2}


class Maximum(Function):
    """out = max(a, b) elementwise.   The larger input gets the gradient; a tie splits it in half."""

    node_name = "MaximumBackward0"
    saved_as: ClassVar = {"other": 0, "self": 1}
    _pick, _beats = staticmethod(np.maximum), staticmethod(operator.gt)  # (Minimum: np.minimum, <)

    @classmethod
    def forward(cls, ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        ctx.save_for_backward(b, a)
        x, y = arrays(a, b)
        return Tensor._wrap(_ties_keep(cls._pick(x, y), x, y))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor]:
        b, a = ctx._for_backward
        beats = ctx._forward_cls._beats

        def share(loses: Tensor) -> Tensor:  # PyTorch's formula for each input, b's first (see Mul)
            return where(a == b, grad / 2, grad).masked_fill(loses, 0)
        grad_b = share(beats(a, b))
        return share(beats(b, a)), grad_b


class Minimum(Maximum):
    """out = min(a, b) elementwise.   The smaller input gets the gradient; a tie splits it in half."""

    node_name = "MinimumBackward0"
    _pick, _beats = staticmethod(np.minimum), staticmethod(operator.lt)


class Where(Function):
    """out = a where condition else b.   Each input gets the gradient where it was chosen."""

    node_name = "WhereBackward0"
    inputs_without_gradient: ClassVar = frozenset({0})  # (the condition)
    saved_as: ClassVar = {"condition": 0}

    @staticmethod
    def forward(ctx: Any, condition: Tensor, a: Tensor, b: Tensor) -> Tensor:
        ctx.save_for_backward(condition)
        x, y = arrays(a, b)
        return Tensor._wrap(np.where(condition._data, x, y))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[None, Tensor, Tensor]:
        (condition,) = ctx._for_backward
        grad_b = where(condition, 0.0, grad)  # (b's first, in PyTorch's order: see Mul)
        return None, where(condition, grad, 0.0), grad_b


class Asin(Function):
    """out = asin(a).   d/da = 1 / sqrt(1 - a^2), as PyTorch computes it: rsqrt(-a * a + 1)."""

    node_name = "AsinBackward0"
    saved_as: ClassVar = {"self": 0}
    inverse, slope_sign = staticmethod(vml("Asin", np.arcsin)), 1

    @classmethod
    @ieee_silent
    def forward(cls, ctx: Any, a: Tensor) -> Tensor:
        ctx.save_for_backward(a)
        return Tensor._wrap(cls.inverse(floating(a)))

    @classmethod
    def backward(cls, ctx: Any, grad: Tensor) -> Tensor:
        (a,) = ctx._for_backward
        slope = (-a * a + 1).rsqrt()
        return grad * slope if cls.slope_sign == 1 else grad * -slope


class Acos(Asin):
    """out = acos(a).   d/da = -1 / sqrt(1 - a^2)."""

    node_name = "AcosBackward0"
    inverse, slope_sign = staticmethod(vml("Acos", np.arccos)), -1


class Atan(Function):
    """out = atan(a).   d/da = 1 / (1 + a^2)."""

    node_name = "AtanBackward0"
    saved_as: ClassVar = {"self": 0}

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        ctx.save_for_backward(a)
        return Tensor._wrap(_atan(floating(a)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (a,) = ctx._for_backward
        return grad / (1 + a * a)


class Ceil(Function):
    """out = the smallest integer >= a (integer tensors: a copy).   d/da = 0: a staircase is flat."""

    node_name = "CeilBackward0"
    rounding = staticmethod(np.ceil)

    @classmethod
    def forward(cls, ctx: Any, a: Tensor) -> Tensor:
        ctx.shape = a.shape
        data = a._data
        return Tensor._wrap(cls.rounding(data) if a.dtype.is_floating_point else data.copy())

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return Tensor._wrap(np.zeros_like(grad._data))



class Floor(Ceil):
    """out = the largest integer <= a.   d/da = 0."""

    node_name = "FloorBackward0"
    rounding = staticmethod(np.floor)


class Round(Ceil):
    """out = a rounded to the nearest integer, halves to even.   d/da = 0."""

    node_name = "RoundBackward0"
    rounding = staticmethod(np.round)


class RoundDecimals(Function):
    """out = a rounded to ``decimals`` decimal places (halves to even), in a's precision as PyTorch does.
    d/da = 0."""

    node_name = "RoundBackward1"
    saved_as: ClassVar = {"decimals": "decimals"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, decimals: int) -> Tensor:
        if not a.dtype.is_floating_point:
            raise NotImplementedError(f'"round_cpu" not implemented for \'{a.dtype._scalar_name}\'')
        ctx.decimals = decimals
        scale = a._data.dtype.type(10.0 ** (decimals if decimals > 0 else -decimals))
        if decimals > 0:
            return Tensor._wrap(np.round(a._data * scale) / scale)
        return Tensor._wrap(np.round(a._data / scale) * scale)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return Tensor._wrap(np.zeros_like(grad._data)), None


class Trunc(Ceil):
    """out = a with its fraction dropped (toward zero).   d/da = 0."""

    node_name = "TruncBackward0"
    rounding = staticmethod(np.trunc)


class MulScalar(Function):
    """out = a * number, the form PyTorch's derivative formulas use.   d/da = number."""

    node_name = "MulBackward1"
    saved_as: ClassVar = {"other": "number"}
    operation = staticmethod(operator.mul)

    @staticmethod
    def forward(ctx: Any, a: Tensor, number: Number) -> Tensor:
        ctx.number = number
        return Tensor._wrap(ctx._forward_cls.operation(a._data, number))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return ctx._forward_cls.apply(grad, ctx.number), None


class DivScalar(MulScalar):
    """out = a / number, the form PyTorch's C++ code uses (a mean over a count).   d/da = 1 / number."""

    node_name = "DivBackward1"
    operation = staticmethod(operator.truediv)


class AddScalar(Function):
    """out = a + number, the form PyTorch's derivative formulas use.   d/da = 1."""

    node_name = "AddBackward1"

    @staticmethod
    def forward(ctx: Any, a: Tensor, number: Number) -> Tensor:
        x = a._data
        if x.dtype.kind in "biu" and isinstance(number, float):  # (an integer tensor + 1e-6: the default float)
            x = x.astype(_dtype.get_default_dtype().numpy)
        return Tensor._wrap(x + number)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad, None


class Log2(_OfSelf):
    """out = log2(a).   d/da = 1 / (a ln 2)."""

    node_name = "Log2Backward0"
    compute = staticmethod(vml("Log2", np.log2))
    derivative = staticmethod(lambda grad, a: grad / MulScalar.apply(a, math.log(2)))


class Log10(_OfSelf):
    """out = log10(a).   d/da = 1 / (a ln 10)."""

    node_name = "Log10Backward0"
    compute = staticmethod(vml("Log10", np.log10))
    # 2.3025850929940456: PyTorch's constant for ln 10, one bit below math.log(10)
    derivative = staticmethod(lambda grad, a: grad / MulScalar.apply(a, 2.3025850929940456))


class Log1p(_OfSelf):
    """out = log(1 + a), exact for small a.   d/da = 1 / (a + 1)."""

    node_name = "Log1PBackward0"
    compute = staticmethod(aten_unary_kernel(sleef_log1pf, np.log1p, None))
    derivative = staticmethod(lambda grad, a: grad / AddScalar.apply(a, 1))


class Erf(_OfSelf):
    """out = erf(a) = 2/sqrt(pi) * integral of exp(-t**2) from 0 to a.   d/da = 2/sqrt(pi) * exp(-a**2)."""

    node_name = "ErfBackward0"
    compute = staticmethod(vml("Erf", np.vectorize(math.erf, otypes=[np.float64])))
    derivative = staticmethod(lambda grad, a: MulScalar.apply((-(a ** 2)).exp(), 2 / math.sqrt(math.pi)) * grad)


class Erfc(_OfSelf):
    """out = 1 - erf(a) (accurate where erf(a) is near 1).   d/da = -2/sqrt(pi) * exp(-a**2)."""

    node_name = "ErfcBackward0"
    compute = staticmethod(vml("Erfc", np.vectorize(math.erfc, otypes=[np.float64])))
    derivative = staticmethod(lambda grad, a: MulScalar.apply((-(a ** 2)).exp(), -2 / math.sqrt(math.pi)) * grad)


def _erfinv(y: np.ndarray) -> np.ndarray:
    """erf's inverse without MKL: a first guess, then Newton steps on erf (float64)."""
    x = np.arctanh(np.clip(y, -1, 1)) * math.sqrt(math.pi) / 2
    erf, two_over_root_pi = np.vectorize(math.erf, otypes=[np.float64]), 2 / math.sqrt(math.pi)
    with np.errstate(invalid="ignore", over="ignore"):
        for _ in range(40):
            x = np.where(np.isfinite(x), x - (erf(x) - y) / (two_over_root_pi * np.exp(-x * x)), x)
    return x


class Erfinv(_OfSelf):
    """out = x such that erf(x) = a.   d/da = sqrt(pi)/2 * exp(out**2)."""

    node_name = "ErfinvBackward0"
    compute = staticmethod(vml("ErfInv", _erfinv))
    derivative = staticmethod(
        lambda grad, a: MulScalar.apply((a.erfinv() ** 2).exp(), 0.5 * math.sqrt(math.pi)) * grad)


_LOGS = {np.float32: c_function("logf", np.log), np.float64: c_function("log", np.log, ctypes.c_double)}


def _float_arrays(a: Tensor, b: Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Both operands' arrays in their common dtype, integers and bools in the default float dtype."""
    x, y = arrays(a, b)
    if x.dtype.kind != "f":
        x, y = (v.astype(_dtype.get_default_dtype().numpy) for v in (x, y))
    return x, y


class Xlogy(Function):
    """out = a * log(b), 0 where a is 0 (even where log(b) is -inf; nan where b is nan).
    d/da = log(b) where a is not 0, else 0;  d/db = a / b."""

    node_name = "XlogyBackward0"
    saved_as: ClassVar = {"self": 0, "other": 1}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        ctx.save_for_backward(a, b)
        x, y = _float_arrays(a, b)
        log = _LOGS[x.dtype.type] if x.dtype.type in _LOGS and y.size <= ROUNDED_ONCE_UP_TO else np.log
        zero = x.dtype.type(0)
        return Tensor._wrap(np.where(np.isnan(y), np.nan, np.where(x == 0, zero, x * log(y))).astype(x.dtype))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx._for_backward
        need_a, need_b = ctx.needs_input_grad
        return (grad * Xlogy.apply(a != 0, b) if need_a else None), (grad * a / b if need_b else None)


class XlogyNumberSelf(Xlogy):
    """``xlogy(number, tensor)``: PyTorch's other overload, its own node (no edge for the number)."""

    node_name = "XlogyBackward1"
    inputs_without_gradient = frozenset({0})
    saved_as: ClassVar = {"self": lambda ctx: ctx._saved[0].item(), "other": 1}


class XlogyNumberOther(Xlogy):
    """``xlogy(tensor, number)``."""

    node_name = "XlogyBackward2"
    inputs_without_gradient = frozenset({1})
    saved_as: ClassVar = {"self": 0, "other": lambda ctx: ctx._saved[1].item()}


def xlogy(input: Any, other: Any) -> Tensor:
    """input * log(other), with 0 where input is 0."""
    if not isinstance(input, Tensor):
        return XlogyNumberSelf.apply(as_tensor(input, other), other)
    if not isinstance(other, Tensor):
        return XlogyNumberOther.apply(input, as_tensor(other, input))
    return Xlogy.apply(input, other)


def _fused(a: np.ndarray, b: Any, c: Any) -> np.ndarray:
    """a * b + c rounded once, in a's dtype (PyTorch's kernels for lerp and addcmul are compiled to an FMA)."""
    a, b, c = np.broadcast_arrays(a, b, c)
    return (fma32(a, b, c) if a.dtype == np.float32 else fma64(a, b, c)).astype(a.dtype, copy=False)


class Lerp(Function):
    """out = a + weight (b - a), computed from the nearer end so weight 0 and 1 are exact.
    d/da = 1 - weight,  d/db = weight,  d/dweight = b - a (a tensor weight)."""

    node_name = "LerpBackward0"
    saved_as: ClassVar = {"weight": "weight"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor, weight: Any) -> Tensor:
        x, y = arrays(a, b)
        w = weight._data if isinstance(weight, Tensor) else x.dtype.type(weight)
        if isinstance(weight, Tensor):
            ctx.save_for_backward(a, b, weight)
        ctx.weight = weight
        diff = y - x
        with np.errstate(invalid="ignore"):
            near_start = np.abs(w) < 0.5
        return Tensor._wrap(np.where(near_start, _fused(diff, w, x), _fused(-diff, x.dtype.type(1) - w, y)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        if not isinstance(ctx.weight, Tensor):
            return grad * (1 - ctx.weight), grad * ctx.weight, None
        a, b, weight = ctx._for_backward
        return grad * (1 - weight), grad * weight, grad * (b - a)


class LerpTensorWeight(Lerp):
    node_name = "LerpBackward1"
    saved_as: ClassVar = {"self": 0, "end": 1, "weight": 2}


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """input + weight * (end - input): a step of ``weight`` from input toward end."""
    return (LerpTensorWeight if isinstance(weight, Tensor) else Lerp).apply(input, end, weight)


class Addcmul(Function):
    """out = a + value * t1 * t2 (one rounding for the last add).   d/da = 1,  d/dt1 = value t2,  d/dt2 = value t1."""

    node_name = "AddcmulBackward0"
    saved_as: ClassVar = {"tensor1": 0, "tensor2": 1, "value": "value"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, t1: Tensor, t2: Tensor, value: Number) -> Tensor:
        ctx.save_for_backward(t1, t2)
        ctx.value = value
        x = a._data
        return Tensor._wrap(_fused(x.dtype.type(value) * t1._data, t2._data, x))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor, Tensor, None]:
        t1, t2 = ctx._for_backward
        return grad, grad * t2 * ctx.value, grad * t1 * ctx.value, None


class Addcdiv(Addcmul):
    """out = a + value * t1 / t2.   d/da = 1,  d/dt1 = value / t2,  d/dt2 = -value t1 / t2**2."""

    node_name = "AddcdivBackward0"

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor, t1: Tensor, t2: Tensor, value: Number) -> Tensor:
        ctx.save_for_backward(t1, t2)
        ctx.value = value
        x = a._data
        return Tensor._wrap(x + x.dtype.type(value) * t1._data / t2._data)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor, Tensor, None]:
        t1, t2 = ctx._for_backward
        return grad, grad * ctx.value / t2, -grad * ctx.value * t1 / (t2 * t2), None


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Number = 1) -> Tensor:
    return Addcmul.apply(input, tensor1, tensor2, value)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Number = 1) -> Tensor:
    return Addcdiv.apply(input, tensor1, tensor2, value)


class NanToNum(Function):
    """out = a with nan, +inf and -inf replaced by numbers (by default 0 and the dtype's largest and smallest).
    d/da = 1 where a is finite, else 0."""

    node_name = "NanToNumBackward0"
    saved_as: ClassVar = {"self": 0}

    @staticmethod
    def forward(ctx: Any, a: Tensor, nan: float, posinf: float | None, neginf: float | None) -> Tensor:
        ctx.save_for_backward(a)
        x = a._data
        if x.dtype.kind != "f":
            return Tensor._wrap(x.copy())
        return Tensor._wrap(np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None, None]:
        (a,) = ctx._for_backward
        return grad * a.isfinite(), None, None, None


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    return NanToNum.apply(input, nan, posinf, neginf)


def _lanes_or_c(name: str, numpy: Callable[..., np.ndarray], vectorised: bool = False) -> Callable[..., np.ndarray]:
    """The C library's float32 ``name`` where PyTorch's kernel calls it (its scalar loop; every element for a
    kernel without vector code, and then its float64 twin for float64: NumPy's own may differ from it, as its
    AVX-512 loops do); ``vectorised``: its vector lanes run SLEEF, replayed here by float64 rounded once (a few
    values in 10,000 differ in the last bit)."""
    scalar = c_function(name, numpy)
    double = None if vectorised else c_function(name.removesuffix("f"), numpy, ctypes.c_double)

    def compute(x: np.ndarray, *more: np.ndarray) -> np.ndarray:
        if double is not None and x.dtype == np.float64 and x.size <= ROUNDED_ONCE_UP_TO:
            return double(x, *more)
        if x.dtype != np.float32 or x.size > ROUNDED_ONCE_UP_TO:
            return np.asarray(numpy(x, *more)).astype(x.dtype, copy=False)
        if not vectorised:
            return scalar(x, *more)
        rounded = lambda v, *m: numpy(v.astype(np.float64), *m).astype(np.float32)  # noqa: E731
        return by_aten_lanes(x, rounded, scalar, *more)
    return compute


class Asinh(_OfSelf):
    """out = asinh(a).   d/da = 1 / sqrt(a**2 + 1)."""

    node_name = "AsinhBackward0"
    compute = staticmethod(_lanes_or_c("asinhf", np.arcsinh))
    derivative = staticmethod(lambda grad, a: grad * AddScalar.apply(a ** 2, 1).rsqrt())


class Acosh(_OfSelf):
    """out = acosh(a) (a >= 1).   d/da = 1 / sqrt(a**2 - 1)."""

    node_name = "AcoshBackward0"
    compute = staticmethod(_lanes_or_c("acoshf", np.arccosh))
    derivative = staticmethod(lambda grad, a: grad * AddScalar.apply(a ** 2, -1).rsqrt())


class Atanh(_OfSelf):
    """out = atanh(a) (|a| < 1).   d/da = 1 / (1 - a**2)."""

    node_name = "AtanhBackward0"
    compute = staticmethod(_lanes_or_c("atanhf", np.arctanh, vectorised=True))
    derivative = staticmethod(lambda grad, a: grad * (1 / (1 - a ** 2)))


class Atan2(Function):
    """out = the angle of the point (b, a): atan(a / b) in the right quadrant.   d/da = b / (a**2 + b**2),
    d/db = -a / (a**2 + b**2)."""

    node_name = "Atan2Backward0"
    saved_as: ClassVar = {"self": 0, "other": 1}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        ctx.save_for_backward(a, b)
        x, y = (np.ascontiguousarray(v) for v in np.broadcast_arrays(*_float_arrays(a, b)))
        return Tensor._wrap(_ATAN2(x, y))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor]:
        a, b = ctx._for_backward
        reciprocal = (a * a + b * b).reciprocal()
        return grad * b * reciprocal, grad * -a * reciprocal


_ATAN2 = _lanes_or_c("atan2f", np.arctan2, vectorised=True)


class Hypot(Function):
    """out = sqrt(a**2 + b**2).   d/da = a / out,  d/db = b / out."""

    node_name = "HypotBackward0"
    saved_as: ClassVar = {"self": 0, "other": 1, "result": 2}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        x, y = arrays(a, b)
        out = Tensor._wrap(np.hypot(x, y).astype(x.dtype, copy=False))  # (correctly rounded: as PyTorch's)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor]:
        a, b, out = ctx._for_backward
        return grad * a / out, grad * b / out


def atan2(input: Tensor, other: Tensor) -> Tensor:
    return Atan2.apply(input, other)


def hypot(input: Tensor, other: Tensor) -> Tensor:
    return Hypot.apply(input, other)


class Sinh(_OfSelf):
    """out = sinh(a).   d/da = cosh(a)."""

    node_name = "SinhBackward0"
    compute = staticmethod(aten_unary_kernel(sleef_sinhf, np.sinh, "sinhf"))
    derivative = staticmethod(lambda grad, a: grad * a.cosh())


class Cosh(_OfSelf):
    """out = cosh(a).   d/da = sinh(a)."""

    node_name = "CoshBackward0"
    compute = staticmethod(aten_unary_kernel(sleef_coshf, np.cosh, "coshf"))
    derivative = staticmethod(lambda grad, a: grad * a.sinh())


class Expm1(_OfResult):
    """out = exp(a) - 1, exact for small a.   d/da = out + 1."""

    node_name = "Expm1Backward0"
    compute = staticmethod(aten_unary_kernel(sleef_expm1f, np.expm1, None))
    derivative = staticmethod(lambda grad, out: grad * AddScalar.apply(out, 1))


class Exp2(_OfResult):
    """out = 2 ** a.   d/da = out ln 2."""

    node_name = "Exp2Backward0"
    compute = staticmethod(aten_unary_kernel(sleef_exp2f, np.exp2, "exp2f"))
    derivative = staticmethod(lambda grad, out: MulScalar.apply(grad * out, math.log(2)))


class Tan(_OfResult):
    """out = tan(a).   d/da = 1 + out**2."""

    node_name = "TanBackward0"
    compute = staticmethod(vml("Tan", np.tan))
    derivative = staticmethod(lambda grad, out: grad * AddScalar.apply(out.pow(2), 1))


class Rsqrt(_OfResult):
    """out = 1 / sqrt(a).   d/da = -out**3 / 2."""

    node_name = "RsqrtBackward0"
    compute = staticmethod(lambda x: 1 / np.sqrt(x))
    derivative = staticmethod(lambda grad, out: -0.5 * grad * out.pow(3))


def _sign(x: np.ndarray) -> np.ndarray:
    """-1, 0 or 1 as PyTorch gives them: 0 for NaN and for -0.0; a bool is its own sign."""
    if x.dtype == np.bool_:
        return x.copy()
    if x.dtype.kind != "f":
        return np.sign(x)
    signs = np.where(np.isnan(x), 0, np.sign(x)).astype(x.dtype)
    return signs + x.dtype.type(0)  # (-0.0 + 0.0 is 0.0)


class Sign(Function):
    """out = -1, 0 or 1.   d/da = 0."""

    node_name = "SignBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        return Tensor._wrap(_sign(a._data))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return Tensor._wrap(np.zeros_like(grad._data))


class Sgn(Sign):
    """sign under the name PyTorch's derivative formulas use (``|a|``'s: grad * a.sgn()).   d/da = 0."""

    node_name = "SgnBackward0"
    saved_as: ClassVar = {"result": 0, "self": 1}

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        out = Tensor._wrap(_sign(a._data))
        ctx.save_for_backward(out, a)
        return out

exp, log, sin, cos, tanh = (math_function(op) for op in (Exp, Log, Sin, Cos, Tanh))
asin, acos, atan = (math_function(op) for op in (Asin, Acos, Atan))
ceil, floor, trunc = (math_function(op) for op in (Ceil, Floor, Trunc))


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """The nearest integer (halves to even), or the nearest multiple of 10**-decimals."""
    return Round.apply(input) if decimals == 0 else RoundDecimals.apply(input, decimals)


sigmoid, relu, abs, sqrt = (math_function(op) for op in (Sigmoid, Relu, Abs, Sqrt))
log2, log10, log1p, sinh, cosh, expm1, exp2, tan, rsqrt, sign, sgn = (
    math_function(op) for op in (Log2, Log10, Log1p, Sinh, Cosh, Expm1, Exp2, Tan, Rsqrt, Sign, Sgn))
erf, erfc, erfinv = (math_function(op) for op in (Erf, Erfc, Erfinv))
asinh, acosh, atanh = (math_function(op) for op in (Asinh, Acosh, Atanh))


def clamp(input: Tensor, min: Number | None = None, max: Number | None = None) -> Tensor:
    """Limit every element to [min, max]."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):  # tensor bounds
        if not all(b is None or isinstance(b, Tensor) for b in (min, max)):
            raise TypeError(f"clamp() received an invalid combination of arguments - got (Tensor, max="
                            f"{type(max).__name__}, min={type(min).__name__}), but expected one of:\n * (Tensor input, "
                            "Tensor min = None, Tensor max = None, *, Tensor out = None)\n * (Tensor input, Number min "
                            "= None, Number max = None, *, Tensor out = None)\n")
        return ClampTensor.apply(input, min, max)
    for bound in (min, max):
        if isinstance(bound, (complex, np.complexfloating)):  # (NumPy would keep the real part)
            raise RuntimeError("value cannot be converted to type double without overflow")
    return Clamp.apply(input, min, max)


def clamp_min(input: Tensor, min: Number | Tensor) -> Tensor:
    """Every element at least ``min`` (a number, or a tensor that broadcasts)."""
    return ClampMinTensor.apply(input, min, None) if isinstance(min, Tensor) else ClampMin.apply(input, min, None)


def clamp_max(input: Tensor, max: Number | Tensor) -> Tensor:
    """Every element at most ``max``."""
    return ClampMaxTensor.apply(input, None, max) if isinstance(max, Tensor) else ClampMax.apply(input, None, max)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise larger of two tensors."""
    return Maximum.apply(input, other)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise smaller of two tensors."""
    return Minimum.apply(input, other)


_NOT_GIVEN: Any = object()


def where(condition: Tensor, input: Any = _NOT_GIVEN, other: Any = _NOT_GIVEN) -> Any:
    """input where condition is True, else other (numbers are allowed for input and other). With the condition
    alone: the indices where it is True, one tensor per dimension (``condition.nonzero(as_tuple=True)``)."""
    if input is _NOT_GIVEN and other is _NOT_GIVEN:
        return condition.nonzero(as_tuple=True)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):  # two numbers: their own common type
        if isinstance(input, bool) and isinstance(other, bool):
            kind = _dtype.bool
        elif all(isinstance(v, (int, np.integer)) for v in (input, other)):
            kind = _dtype.int64
        else:
            kind = _dtype.get_default_dtype()
        input = Tensor._wrap(np.asarray(input, kind.numpy))
    if not isinstance(input, Tensor):
        input = as_tensor(input, other)
    other = as_tensor(other, input)
    if condition.dtype is not _dtype.bool:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{condition.dtype._scalar_name}")
    return Where.apply(condition, input, other)
