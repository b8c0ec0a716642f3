"""The activation functions of ``torch.nn.functional`` beyond relu, sigmoid and tanh: elu, gelu, silu, softplus, ...

Each is a ``Function`` named as PyTorch names its node. Their forwards follow PyTorch's CPU kernels
(``aten/src/ATen/native/cpu/Activation.cpp``) step by step: in float32, a formula that needs ``exp`` or
``log1p`` takes SLEEF's on ATen's vector lanes and the C library's on the rest, as ``sigmoid`` does. Where
PyTorch's backward is a kernel of its own (``elu_backward``, ``softplus_backward``, ...), so is ours: a
``KernelBackward`` node computing it as that kernel does, whose own backward is PyTorch's second-derivative
formula in tensor ops; the others state the derivative with tensor ops. Either way ``create_graph=True``
differentiates them again.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple

import numpy as np

from autograd_lab import _grad_mode as grad_mode
from autograd_lab._creation import zeros_like
from autograd_lab._fma import fma32, fma64
from autograd_lab._ops.inplace import _in_place_of
from autograd_lab._ops.joining import cat
from autograd_lab._ops.operands import floating, ieee_silent
from autograd_lab._ops.pointwise import ThresholdBackward, _OfSelf, _ties_keep, where
from autograd_lab._ops.vector_math import ROUNDED_ONCE_UP_TO
from autograd_lab._ops.vectorized import (
    by_aten_lanes,
    c_expf,
    c_function,
    log_sigmoid,
    sleef_expf,
    sleef_expm1f,
    sleef_log1pf,
)
from autograd_lab._tensor import Tensor
from autograd_lab.autograd.function import Function


class _Kernels(NamedTuple):
    exp: Callable[[np.ndarray], np.ndarray]
    expm1: Callable[[np.ndarray], np.ndarray]
    log1p: Callable[[np.ndarray], np.ndarray]


_VECTOR = _Kernels(sleef_expf, sleef_expm1f, sleef_log1pf)  # float32 on ATen's vector lanes: SLEEF's
_SCALAR = _Kernels(c_expf, c_function("expm1f", np.expm1), c_function("log1pf", np.log1p))  # the C library's
_NUMPY = _Kernels(np.exp, np.expm1, np.log1p)


def _by_lanes(x: np.ndarray, formula: Callable[..., np.ndarray], *aligned: np.ndarray) -> np.ndarray:
    """``formula(x, *aligned, kernels)`` as ATen's loop evaluates it: for float32, SLEEF's exp, expm1 and log1p
    on the vector lanes and the C library's on the rest; otherwise NumPy's. (``aligned``: more arrays of x's
    shape, such as the gradient in a backward kernel.)"""
    if x.dtype == np.float32 and x.size <= ROUNDED_ONCE_UP_TO:
        return by_aten_lanes(x, lambda *v: formula(*v, _VECTOR), lambda *v: formula(*v, _SCALAR), *aligned)
    return np.asarray(formula(x, *aligned, _NUMPY)).astype(x.dtype, copy=False)


class KernelBackward(Function):
    """grad_input = kernel(grad, a), computed as PyTorch's backward kernel computes it (a node of its own, named
    ``<Op>BackwardBackward0``): d/dgrad applies the same kernel to the incoming gradient, d/da is ``second``."""

    inputs_without_gradient = frozenset({2})
    kernel: ClassVar[Callable[..., np.ndarray]]
    second: ClassVar[Callable[..., Tensor]]

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, grad: Tensor, a: Tensor, params: tuple) -> Tensor:
        ctx.save_for_backward(grad, a)
        ctx.params = params
        return Tensor._wrap(ctx._forward_cls.kernel(*_aligned(a, grad), *params))

    @staticmethod
    def backward(ctx: Any, gg: Tensor) -> tuple[Tensor, Tensor, None]:
        grad, a = ctx._for_backward
        op = ctx._forward_cls
        return op.apply(gg, a, ctx.params), op.second(gg * grad, a, *ctx.params), None


def _aligned(a: Tensor, grad: Tensor) -> tuple[np.ndarray, np.ndarray]:
    """a's and the gradient's arrays, broadcast to one shape and contiguous (as a kernel reads them)."""
    return tuple(np.ascontiguousarray(t) for t in np.broadcast_arrays(a._data, grad._data))


class Hardtanh(Function):
    """out = a clipped to [min_val, max_val].   d/da = 1 strictly inside, else 0."""

    node_name = "HardtanhBackward0"
    saved_as: ClassVar = {"self": 0, "min_val": "low", "max_val": "high"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, low: float, high: float) -> Tensor:
        ctx.save_for_backward(a)
        ctx.low, ctx.high = low, high
        x = a._data  # (clamp's kernel, as PyTorch's hardtanh: relu6(-0.0) is -0.0)
        return Tensor._wrap(_ties_keep(np.clip(x, x.dtype.type(low), x.dtype.type(high)).astype(x.dtype), x))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        (a,) = ctx._for_backward
        return HardtanhBackward.apply(grad, a, lambda x: (x > ctx.low) & (x < ctx.high)), None, None


class PiecewiseBackward(Function):
    """out = grad where ``passes(a)``, else 0: the backward of an activation made of flat and unit-slope pieces.
    d/dgrad: the same mask;  d/da = 0 (a node of its own, as PyTorch's ``...BackwardBackward0``: the subclasses
    name it)."""

    inputs_without_gradient = frozenset({2})

    @staticmethod
    def forward(ctx: Any, grad: Tensor, a: Tensor, passes: Callable[[np.ndarray], np.ndarray]) -> Tensor:
        ctx.save_for_backward(a)
        ctx.passes = passes
        g = grad._data
        return Tensor._wrap(np.where(passes(a._data), g, g.dtype.type(0)))

    @staticmethod
    def backward(ctx: Any, gg: Tensor) -> tuple[Tensor, Tensor, None]:
        (a,) = ctx._for_backward
        return ctx._forward_cls.apply(gg, a, ctx.passes), zeros_like(a), None


class HardtanhBackward(PiecewiseBackward):
    node_name = "HardtanhBackwardBackward0"


class HardshrinkBackward(PiecewiseBackward):
    node_name = "HardshrinkBackwardBackward0"


class SoftshrinkBackward(PiecewiseBackward):
    node_name = "SoftshrinkBackwardBackward0"


class Elu(Function):
    """out = scale * a for a > 0, else alpha * scale * (exp(input_scale * a) - 1) (elu, selu).
    d/da = scale, or alpha * scale * input_scale * exp(input_scale * a)."""

    node_name = "EluBackward0"
    saved_as: ClassVar = {"self": 0, "alpha": "alpha", "scale": "scale", "input_scale": "input_scale"}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor, alpha: float, scale: float, input_scale: float) -> Tensor:
        ctx.save_for_backward(a)
        ctx.alpha, ctx.scale, ctx.input_scale = alpha, scale, input_scale
        x = floating(a)
        real = x.dtype.type
        negative, positive, inner = real(alpha) * real(scale), real(scale), real(input_scale)
        return Tensor._wrap(_by_lanes(x, lambda v, k: np.where(v > 0, v * positive, k.expm1(v * inner) * negative)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None, None]:
        (a,) = ctx._for_backward
        return EluBackward.apply(grad, a, (ctx.alpha, ctx.scale, ctx.input_scale)), None, None, None


def _elu_gradient(x: np.ndarray, g: np.ndarray, alpha: float, scale: float, input_scale: float) -> np.ndarray:
    real = x.dtype.type
    negative, positive, inner = real(alpha) * real(scale), real(scale), real(input_scale)
    return _by_lanes(x, lambda v, d, k: np.where(v > 0, d * positive, d * inner * negative * k.exp(v * inner)), g)


class EluBackward(KernelBackward):
    """grad * scale where a > 0, else grad * input_scale * alpha * scale * exp(input_scale * a)."""

    node_name = "EluBackwardBackward0"
    kernel = staticmethod(_elu_gradient)
    second = staticmethod(lambda gg, a, alpha, scale, input_scale: EluBackward.apply(
        gg * input_scale, a, (alpha, scale, input_scale)) * (a < 0))


class Celu(Elu):
    """out = a for a > 0, else alpha * (exp(a / alpha) - 1): elu with input_scale 1 / alpha."""

    node_name = "CeluBackward0"
    saved_as: ClassVar = {"self": 0, "alpha": "alpha"}


class Gelu(Function):
    """out = a * P(N(0, 1) < a) = a/2 (1 + erf(a / sqrt 2)) (``approximate="tanh"``: with tanh's approximation).
    d/da = P(N(0, 1) < a) + a * pdf(a)."""

    node_name = "GeluBackward0"
    saved_as: ClassVar = {"self": 0, "approximate": "approximate"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, approximate: str) -> Tensor:
        ctx.save_for_backward(a)
        ctx.approximate = approximate
        x = floating(a).astype(np.float64)
        if approximate == "tanh":
            inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)
            out = 0.5 * x * (1 + np.tanh(inner))
        else:
            out = x * 0.5 * (1 + _erf(x * math.sqrt(0.5)))
        return Tensor._wrap(out.astype(a._data.dtype if a._data.dtype.kind == "f" else np.float32))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (a,) = ctx._for_backward
        if ctx.approximate == "tanh":
            beta, kappa = math.sqrt(2 / math.pi), 0.044715
            t = (beta * (a + kappa * a * a * a)).tanh()
            return grad * (0.5 * (1 + t) + 0.5 * a * (1 - t * t) * (beta * (1 + 3 * kappa * a * a))), None
        cdf = 0.5 * (1 + (a * math.sqrt(0.5)).erf())
        pdf = (2 / math.sqrt(math.pi) * math.sqrt(0.5) * 0.5) * (a * a * -0.5).exp()
        return grad * (cdf + a * pdf), None


def _erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[np.float64])(x) if x.size else x


def _silu_gradient(grad: Tensor, a: Tensor) -> Tensor:
    if grad_mode._enabled:  # create_graph: PyTorch's formula, recorded op by op (to differentiate again)
        s = a.sigmoid()
        return grad * s * (1.0 + a * (1.0 - s))
    one = a._data.dtype.type(1)
    fma = fma32 if a._data.dtype == np.float32 else fma64  # (PyTorch's kernel is compiled with one there)
    x, g = _aligned(a, grad)
    return Tensor._wrap(_by_lanes(x, lambda v, d, k: d * (s := one / (one + k.exp(-v))) * fma(v, one - s, one), g))


class Silu(_OfSelf):
    """out = a * sigmoid(a) = a / (1 + exp(-a)).   d/da = s (1 + a (1 - s)), s = sigmoid(a)."""

    node_name = "SiluBackward0"
    compute = staticmethod(lambda x: _by_lanes(x, lambda v, k: v / (v.dtype.type(1) + k.exp(-v))))
    derivative = staticmethod(_silu_gradient)


def _mish_gradient(grad: Tensor, a: Tensor) -> Tensor:
    t = (a.exp().log1p()).tanh()
    return grad * (t + a * a.sigmoid() * (1 - t * t))


class Mish(_OfSelf):
    """out = a * tanh(softplus(a)).   d/da = t + a * sigmoid(a) * (1 - t**2), t = tanh(softplus(a))."""

    node_name = "MishBackward0"
    compute = staticmethod(lambda x: _by_lanes(x, lambda v, k: v * np.tanh(k.log1p(k.exp(v))).astype(v.dtype)))
    derivative = staticmethod(_mish_gradient)


class Softplus(Function):
    """out = log(1 + exp(beta * a)) / beta (a itself where beta * a > threshold).   d/da = sigmoid(beta * a)."""

    node_name = "SoftplusBackward0"
    saved_as: ClassVar = {"self": 0, "beta": "beta", "threshold": "threshold"}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor, beta: float, threshold: float) -> Tensor:
        ctx.save_for_backward(a)
        ctx.beta, ctx.threshold = beta, threshold
        x = floating(a)
        b, limit = x.dtype.type(beta), x.dtype.type(threshold)
        return Tensor._wrap(_by_lanes(x, lambda v, k: np.where(v * b > limit, v, k.log1p(k.exp(v * b)) / b)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        (a,) = ctx._for_backward
        return SoftplusBackward.apply(grad, a, (ctx.beta, ctx.threshold)), None, None


def _softplus_gradient(x: np.ndarray, g: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    b, limit, one = x.dtype.type(beta), x.dtype.type(threshold), x.dtype.type(1)

    def formula(v: np.ndarray, d: np.ndarray, k: _Kernels) -> np.ndarray:
        z = k.exp(v * b)
        return np.where(v * b > limit, d, d * z / (z + one))
    return _by_lanes(x, formula, g)


class SoftplusBackward(KernelBackward):
    """grad * sigmoid(beta * a) (grad itself where beta * a > threshold)."""

    node_name = "SoftplusBackwardBackward0"
    kernel = staticmethod(_softplus_gradient)
    second = staticmethod(lambda gg, a, beta, threshold: _sigmoid_slope(gg, a * beta) * (a * beta < threshold) * beta)


def _sigmoid_slope(g: Tensor, x: Tensor) -> Tensor:
    s = x.sigmoid()
    return g * (1 - s) * s


def _relu6_of_shifted(x: np.ndarray) -> np.ndarray:
    """clip(x + 3, 0, 6), in x's dtype: hardsigmoid's and hardswish's common part."""
    real = x.dtype.type
    return np.minimum(np.maximum(x + real(3), real(0)), real(6))


class Hardsigmoid(_OfSelf):
    """out = clip(a + 3, 0, 6) / 6.   d/da = 1/6 strictly between -3 and 3, else 0."""

    node_name = "HardsigmoidBackward0"
    compute = staticmethod(lambda x: _relu6_of_shifted(x) / x.dtype.type(6))
    derivative = staticmethod(lambda grad, a: HardsigmoidBackward.apply(a, grad))


class HardsigmoidBackward(Function):
    """out = grad / 6 strictly between -3 and 3, else 0. PyTorch has no derivative for it: a second backward
    through it refuses."""

    node_name = "torch::autograd::NotImplemented"
    inputs_without_gradient = frozenset({1})

    @staticmethod
    def forward(ctx: Any, a: Tensor, grad: Tensor) -> Tensor:
        x, g = a._data, grad._data
        sixth = g.dtype.type(np.float32(1) / np.float32(6))  # (1/6 as a float32, in float64 too: PyTorch's constant)
        return Tensor._wrap(np.where((x > -3) & (x < 3), g * sixth, g.dtype.type(0)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> None:
        raise RuntimeError("derivative for aten::hardsigmoid_backward is not implemented")


class Hardswish(_OfSelf):
    """out = a * clip(a + 3, 0, 6) / 6.   d/da = 0 below -3, 1 above 3, (2a + 3) / 6 between."""

    node_name = "HardswishBackward0"
    compute = staticmethod(lambda x: x * _relu6_of_shifted(x) / x.dtype.type(6))
    derivative = staticmethod(lambda grad, a: HardswishBackward.apply(grad, a, ()))


def _hardswish_gradient(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """0 up to -3, grad from 3 on, grad * (a/3 + 1/2) between (PyTorch 2.13's kernel: both ends on the flat side)."""
    three, half, zero = x.dtype.type(3), x.dtype.type(0.5), x.dtype.type(0)
    return np.where(x <= -three, zero, np.where(x >= three, g, g * (x / three + half)))


class HardswishBackward(KernelBackward):
    node_name = "HardswishBackwardBackward0"
    kernel = staticmethod(_hardswish_gradient)
    second = staticmethod(lambda gg, a: where((a > -3) & (a < 3), gg / 3, 0.0))


class LogSigmoid(Function):
    """out = log(sigmoid(a)) = min(a, 0) - log(1 + exp(-|a|)).   d/da = 1 - sigmoid(a) = sigmoid(-a)."""

    node_name = "LogSigmoidBackward0"
    saved_as: ClassVar = {"self": 0, "buffer": 1}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor) -> Tensor:
        x = floating(a)
        # (PyTorch's loop runs SLEEF's functions on every element, the last few padded into a vector)
        exp = sleef_expf if x.dtype == np.float32 and x.size <= ROUNDED_ONCE_UP_TO else np.exp
        ctx.save_for_backward(a, Tensor._wrap(exp(-np.abs(x))))  # exp(-|a|): PyTorch keeps it for backward
        return Tensor._wrap(log_sigmoid(x))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, buffer = ctx._for_backward
        return LogSigmoidBackward.apply(grad, a, (buffer._data,))


def _log_sigmoid_gradient(x: np.ndarray, g: np.ndarray, buffer: np.ndarray) -> np.ndarray:
    """(1 - e/(1 + e)) grad for a < 0, e/(1 + e) grad otherwise, e = exp(-|a|) (the forward's buffer)."""
    one, zero = x.dtype.type(1), x.dtype.type(0)
    share = buffer / (one + buffer)
    return np.where(x < zero, (one - share) * g, (zero + share) * g)


class LogSigmoidBackward(KernelBackward):
    node_name = "LogSigmoidBackwardBackward0"
    kernel = staticmethod(_log_sigmoid_gradient)
    second = staticmethod(lambda gg, a, buffer: _log_sigmoid_curvature(gg, a.sigmoid()))


def _log_sigmoid_curvature(g: Tensor, z: Tensor) -> Tensor:
    return g * (z - 1) * z  # (PyTorch's order: the sign of a zero result follows it)


class Shrink(Function):
    """hardshrink: out = a where |a| > lambd, else 0.   d/da = 1 there, else 0."""

    node_name = "HardshrinkBackward0"
    saved_as: ClassVar = {"self": 0, "lambd": "lambd"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, lambd: float) -> Tensor:
        ctx.save_for_backward(a)
        ctx.lambd = lambd
        x, limit = a._data, a._data.dtype.type(lambd)
        return Tensor._wrap(ctx._forward_cls.shrink(x, limit))

    shrink = staticmethod(lambda x, limit: np.where((x >= -limit) & (x <= limit), x.dtype.type(0), x))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (a,) = ctx._for_backward
        inside = ctx._forward_cls.inside
        return ctx._forward_cls.gradient.apply(grad, a, lambda x: ~inside(x, ctx.lambd)), None

    inside = staticmethod(lambda x, lambd: (x >= -lambd) & (x <= lambd))
    gradient = HardshrinkBackward


class Softshrink(Shrink):
    """out = a - lambd above lambd, a + lambd below -lambd, else 0.   d/da = 1 outside [-lambd, lambd], else 0."""

    node_name = "SoftshrinkBackward0"
    gradient = SoftshrinkBackward
    shrink = staticmethod(lambda x, limit: by_aten_lanes(x, lambda v: _soft(v, limit, v.dtype.type(0)),
                                                         lambda v: _soft(v, limit, v * 0)))


def _soft(x: np.ndarray, limit: Any, inside: Any) -> np.ndarray:
    """softshrink's pieces; inside the band PyTorch's vector lanes give +0.0 (a masked AND), its scalar loop
    x * 0 (-0.0 for a negative x)."""
    return np.where(x > limit, x - limit, np.where(x < -limit, x + limit, inside))


class Threshold(Function):
    """out = a where a > threshold, else value.   d/da = 1 where a > threshold, else 0."""

    node_name = "ThresholdBackward0"
    saved_as: ClassVar = {"self": 0, "threshold": "threshold"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, threshold: float, value: float) -> Tensor:
        ctx.save_for_backward(a)
        ctx.threshold = threshold
        x = a._data
        return Tensor._wrap(np.where(x <= x.dtype.type(threshold), x.dtype.type(value), x))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        (a,) = ctx._for_backward
        return ThresholdBackward.apply(grad, a, ctx.threshold), None, None  # (relu's backward node, with its threshold)


class Glu(Function):
    """out = first half * sigmoid(second half), halves along ``dim``.   d/dfirst = sigmoid(second);
    d/dsecond = first * sigmoid(second) * (1 - sigmoid(second))."""

    node_name = "GluBackward0"
    saved_as: ClassVar = {"self": 0, "dim": lambda ctx: ctx.given_dim % 2**64}  # (-1 shows as 2**64 - 1 in PyTorch)

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor, dim: int, given_dim: int) -> Tensor:
        ctx.save_for_backward(a)
        ctx.dim, ctx.given_dim = dim, given_dim
        first, second = np.split(a._data, 2, axis=dim)
        one = second.dtype.type(1)
        return Tensor._wrap(first * _by_lanes(second, lambda v, k: one / (one + k.exp(-v))))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        (a,) = ctx._for_backward
        first, second = a.chunk(2, ctx.dim)
        s = second.sigmoid()
        return cat((grad * s, grad * first * s * (1 - s)), ctx.dim), None, None


# The in-place forms PyTorch records under the same node (``F.silu(x, inplace=True)``: SiluBackward0, saving x's
# old value). elu, selu, celu and threshold in place record other nodes in PyTorch (from the result): left out.
IN_PLACE = {op: _in_place_of(op) for op in (Hardtanh, Silu, Mish, Hardsigmoid, Hardswish)}
