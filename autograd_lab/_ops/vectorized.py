"""Float functions bit for bit as PyTorch's CPU kernels compute them: SLEEF where ATen uses vectors, the C
library elsewhere.

ATen's pointwise kernels (``cpu_kernel_vec``) run two ways over a row of contiguous memory: blocks of two
vector registers (AVX2: 16 float32, 8 float64; AVX-512, where the CPU has it: twice that, see
``autograd_lab.backends.cpu``) go through ``Vectorized<float>``, whose ``exp``, ``log1p``, ``pow``
... are SLEEF's (polynomials with fused multiply-adds: within 1 ulp, not correctly rounded); the elements
left over at the end of the row, and rows that are not contiguous, go through the C library's ``expf``,
``powf`` ... (glibc's, also not always correctly rounded). A large tensor is cut into one row per thread
first. ``by_aten_lanes`` makes the same split; ``c_function`` calls glibc through ctypes; the ``sleef_*``
functions are SLEEF's algorithms, step by step, in NumPy. The accurate ones (``logf``, ``log1pf``, ``powf``,
``expm1f``, ``sinhf``, ``coshf``) carry intermediate values in two floats (a "double-float": value +
rounding error). The reductions (softmax's row sums) follow ATen's vector lanes too (``lane_sums``).

Read in this order: where ATen uses vectors; SLEEF's single-float functions; double-float arithmetic and the
functions built on it; float64; the kernels that combine them (log-sigmoid, softmax).
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_lab._fma import fma32, fma64
from autograd_lab._ops import _cascade_sum
from autograd_lab._ops.vector_math import ROUNDED_ONCE_UP_TO, rounded_once
from autograd_lab.backends.cpu import vector_bytes

_F = np.float32
_R_LN2 = np.float32(1.442695040888963407359924681001892137426645954152985934135449406931)  # 1 / log(2)
_L2U, _L2L = np.float32(0.693145751953125), np.float32(1.428606765330187045e-06)  # log(2) = L2U + L2L
_LN2 = (_F(0.69314718246459960938), _F(-1.904654323148236017e-09))  # log(2) as a double-float
_NAN_ALL_ONES = np.array(-1, np.int32).view(np.float32)  # (SLEEF ors a nan in: every bit set)
_POLYNOMIAL = [np.float32(c) for c in (0.000198527617612853646278381, 0.00139304355252534151077271,
                                       0.00833336077630519866943359, 0.0416664853692054748535156,
                                       0.166666671633720397949219, 0.5)]


# --- where ATen uses vectors, and what it calls elsewhere ------------------------------------------------------------


def by_aten_lanes(x: np.ndarray, vector: Callable[..., np.ndarray], scalar: Callable[..., np.ndarray],
                  *aligned: np.ndarray) -> np.ndarray:
    """``vector`` where ATen's vectorised loop computes (whole blocks of two registers), ``scalar`` elsewhere;
    each gets the matching elements of ``aligned`` (further operands of x's shape) too."""
    block = 2 * vector_bytes() // x.itemsize
    out = np.empty(x.shape, x.dtype)
    if x.flags.c_contiguous and (x.size < _cascade_sum.GRAIN_SIZE or _cascade_sum.THREADS == 1):  # (the usual)
        flat, result, head = x.reshape(-1), out.reshape(-1), x.size // block * block
        others = [a.reshape(-1) for a in aligned]
        if head:
            result[:head] = vector(flat[:head], *(o[:head] for o in others))
        result[head:] = scalar(flat[head:], *(o[head:] for o in others))
        return out
    lanes = _vector_lanes(x, block)
    out[lanes] = vector(x[lanes], *(a[lanes] for a in aligned))
    out[~lanes] = scalar(x[~lanes], *(a[~lanes] for a in aligned))
    return out


def _vector_lanes(x: np.ndarray, block: int) -> np.ndarray:
    """True where ATen's loop over ``x`` (in memory order, as its TensorIterator walks it) uses vectors."""
    if x.ndim == 0:
        return np.zeros((), bool)
    order = np.argsort([-abs(s) for s in x.strides], kind="stable")  # the dimensions from outer to inner
    walked = x.transpose(order)
    if walked.flags.c_contiguous:  # dense memory: one row, or one per thread
        rows = [walked.size]
        if walked.size >= _cascade_sum.GRAIN_SIZE and _cascade_sum.THREADS > 1:
            parts = min(_cascade_sum.THREADS, -(-walked.size // _cascade_sum.GRAIN_SIZE))
            size = -(-walked.size // parts)
            rows = [min(size, walked.size - start) for start in range(0, walked.size, size)]
        lanes = np.concatenate([np.arange(n) < n // block * block for n in rows]).reshape(walked.shape)
    elif walked.strides[-1] in (0, x.itemsize):  # rows of contiguous memory: a vector loop for each
        n = walked.shape[-1]
        lanes = np.broadcast_to(np.arange(n) < n // block * block, walked.shape)
    else:
        lanes = np.zeros(walked.shape, bool)
    return lanes.transpose(np.argsort(order))


@functools.cache
def _c_library() -> ctypes.CDLL | None:
    """The C math library PyTorch's scalar loops call (glibc's on Linux), or None where it can't be loaded."""
    try:
        return ctypes.CDLL("libm.so.6")
    except OSError:
        return None


def c_function(name: str, numpy: Callable[..., np.ndarray], real: type = ctypes.c_float) -> Callable[..., np.ndarray]:
    """The C library's float32 function ``name`` (``"expf"``, ``"powf"``) over an array, as PyTorch's scalar
    loop computes it (glibc's ``expf`` and float64 rounded once differ in 1 value in 7000, its ``sinhf`` in
    1 in 10); float64 ``numpy`` rounded once where there is no such library."""
    def compute(x: np.ndarray, *more: Any) -> np.ndarray:
        library = _c_library()
        if library is None or x.size > ROUNDED_ONCE_UP_TO:  # (a ctypes call per element: ~0.5 µs each)
            return np.asarray(numpy(x.astype(np.float64), *more)).astype(x.dtype)
        function = getattr(library, name)
        function.argtypes, function.restype = [real] * (1 + len(more)), real
        columns = [x.ravel().tolist()] + [np.broadcast_to(m, x.shape).ravel().tolist() for m in more]
        return np.array([function(*args) for args in zip(*columns)], x.dtype).reshape(x.shape)
    return compute


def aten_unary_kernel(sleef: Callable[[np.ndarray], np.ndarray], numpy: Callable[[np.ndarray], np.ndarray],
                     c_name: str | None) -> Callable[[np.ndarray], np.ndarray]:
    """A unary kernel as ATen runs it: float32 through ``sleef`` on the vector lanes and the C library's
    ``c_name`` on the rest (``c_name`` None: ``sleef`` everywhere, as for log1p and expm1, whose kernels
    load a row's last few elements into a vector too); other dtypes and large tensors ``numpy`` rounded once."""
    scalar = sleef if c_name is None else c_function(c_name, numpy)

    def compute(x: np.ndarray) -> np.ndarray:
        if x.dtype == np.float32 and x.size <= ROUNDED_ONCE_UP_TO:
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                return sleef(x) if c_name is None else by_aten_lanes(x, sleef, scalar)
        return rounded_once(numpy, x)
    compute.__name__ = numpy.__name__
    return compute


# --- SLEEF's single-float functions ----------------------------------------------------------------------------------


def _power_of_two(q: np.ndarray) -> np.ndarray:
    """2**q for integers q, built from its exponent bits."""
    return ((q + 0x7F) << 23).view(np.float32)


def sleef_expf(d: np.ndarray) -> np.ndarray:
    """exp for float32 as SLEEF's ``xexpf`` computes it: exp(d) = 2**q * exp(s), s = d - q log(2) (in two
    parts, each a fused multiply-add), exp(s) from a degree-7 polynomial, then scaled in two steps."""
    q = np.rint(d * _R_LN2).astype(np.int32)
    s = fma32(q.astype(np.float32), -_L2U, d)
    s = fma32(q.astype(np.float32), -_L2L, s)
    u = np.full(d.shape, _POLYNOMIAL[0])
    for c in _POLYNOMIAL[1:]:
        u = fma32(u, s, c)
    u = np.float32(1) + fma32(s * s, u, s)
    half = q >> 1
    u = (u * _power_of_two(half)) * _power_of_two(q - half)
    u = np.where(d < -104, np.float32(0), u)
    return np.where(d > 100, np.float32(np.inf), u)


def sleef_exp2f(d: np.ndarray) -> np.ndarray:
    """2**d as SLEEF's ``xexp2f``: 2**round(d) times a polynomial in the rest."""
    u = np.rint(d)
    s = d - u
    p = np.full(d.shape, _F(0.1535920892e-3))
    for c in (0.1339262701e-2, 0.9618384764e-2, 0.5550347269e-1, 0.2402264476e+0, 0.6931471825e+0, 1.0):
        p = fma32(p, s, _F(c))
    q = np.where(np.isfinite(u), u, 0).astype(np.int64)
    out = (p.astype(np.float64) * np.exp2(q.astype(np.float64))).astype(np.float32)
    out = np.where(d >= 128, _F(np.inf), out)
    return np.where(d < -150, _F(0), out)


def _with_sign_of(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x, negated where y's sign bit is set."""
    return (x.view(np.int32) ^ (y.view(np.int32) & np.int32(-(2**31)))).view(np.float32)


# --- double-float arithmetic: a pair (hi, lo) stands for hi + lo, with |lo| below half an ulp of hi ------
DoubleFloat = tuple[np.ndarray, np.ndarray]


def _fms(a: Any, b: Any, c: Any) -> np.ndarray:
    """a * b - c, one rounding (the rounding error of a product, when c is the rounded product)."""
    return fma32(a, b, -np.asarray(c, np.float32))


def _add_exact(x: Any, y: Any) -> DoubleFloat:
    """x + y as a double-float, whichever is larger (Knuth's two-sum)."""
    s = x + y
    v = s - x
    return s, (x - (s - v)) + (y - v)


def _add_exact_df(x: DoubleFloat, y: Any) -> DoubleFloat:
    s, t = _add_exact(x[0], y)
    return s, t + x[1]


def _add_exact_dfs(x: DoubleFloat, y: DoubleFloat) -> DoubleFloat:
    s, t = _add_exact(x[0], y[0])
    return s, t + (x[1] + y[1])


def _add_dfs(x: DoubleFloat, y: DoubleFloat) -> DoubleFloat:
    """x + y for |x| >= |y| (cheaper: no two-sum)."""
    s = x[0] + y[0]
    return s, (((x[0] - s) + y[0]) + x[1]) + y[1]


def _mul_df(x: DoubleFloat, y: Any) -> DoubleFloat:
    s = x[0] * y
    return s, fma32(x[1], y, _fms(x[0], y, s))


def _mul_dfs(x: DoubleFloat, y: DoubleFloat) -> DoubleFloat:
    s = x[0] * y[0]
    return s, fma32(x[0], y[1], fma32(x[1], y[0], _fms(x[0], y[0], s)))


def _square_df(x: DoubleFloat) -> DoubleFloat:
    s = x[0] * x[0]
    return s, fma32(x[0] + x[0], x[1], _fms(x[0], x[0], s))


def _div_dfs(n: DoubleFloat, d: DoubleFloat) -> DoubleFloat:
    t = _F(1) / d[0]
    s = n[0] * t
    error = fma32(-d[1], t, fma32(-d[0], t, _F(1)))  # 1 - d t
    return s, fma32(s, error, fma32(n[1], t, _fms(t, n[0], s)))


def _reciprocal_df(d: DoubleFloat) -> DoubleFloat:
    s = _F(1) / d[0]
    return s, s * fma32(-d[1], s, fma32(-d[0], s, _F(1)))


# --- SLEEF's double-float functions ----------------------------------------------------------------------------------


def _mantissa_and_exponent(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """d = m 2**e with m in [0.75, 1.5) (subnormal d scaled up by 2**64 first), as SLEEF's logarithms split it."""
    tiny = d < np.finfo(np.float32).tiny
    scaled = np.where(tiny, d * _F(2.0**64), d)
    e = (((scaled * _F(1 / 0.75)).view(np.int32) >> 23) & 0xFF) - 0x7F
    return (scaled.view(np.int32) - (e << 23)).view(np.float32), np.where(tiny, e - 64, e)


def _log_of_mantissa(e: np.ndarray, x: DoubleFloat) -> np.ndarray:
    """e log 2 + 2 atanh(x), rounded once: the last steps of SLEEF's ``logf`` and ``log1pf``
    (x = (m - 1) / (m + 1) for the mantissa m; 2 atanh(x) = 2x + x**3 t(x**2))."""
    s = _mul_df(_LN2, e.astype(np.float32))
    x2 = x[0] * x[0]
    t = fma32(fma32(np.full(x2.shape, _F(0.3027294874)), x2, _F(0.3996108174)), x2, _F(0.6666694880))
    s = _add_dfs(s, (x[0] * 2, x[1] * 2))
    tail = x2 * x[0] * t
    high = s[0] + tail
    return high + (((s[0] - high) + tail) + s[1])


def sleef_logf(d: np.ndarray) -> np.ndarray:
    """log for float32 as SLEEF's ``xlogf_u1``: d = m 2**e, log(m) from x = (m - 1) / (m + 1) in
    double-float."""
    m, e = _mantissa_and_exponent(d)
    r = _log_of_mantissa(e, _div_dfs(_add_exact(_F(-1), m), _add_exact(_F(1), m)))
    r = np.where(np.isinf(d) & (d > 0), _F(np.inf), r)
    r = np.where((d < 0) | np.isnan(d), _F(np.nan), r)
    return np.where(d == 0, _F(-np.inf), r)


def sleef_log1pf(d: np.ndarray) -> np.ndarray:
    """log(1 + d) for float32 as SLEEF's ``xlog1pf`` computes it: 1 + d = m' 2**e, and log of the mantissa
    from x = m / (2 + m) (m = m' - 1, formed without rounding away d's small bits), in double-float."""
    dp1 = d + _F(1)
    tiny = dp1 < np.finfo(np.float32).tiny
    dp1 = np.where(tiny, dp1 * _F(2.0**64), dp1)
    e = (((dp1 * _F(1 / 0.75)).view(np.int32) >> 23) & 0xFF) - 0x7F
    t = (np.full(d.shape, _F(1)).view(np.int32) - (e << 23)).view(np.float32)  # 2**-e
    m = fma32(d, t, t - _F(1))
    e = np.where(tiny, e - 64, e)
    two_plus_m = _F(2) + m
    r = _log_of_mantissa(e, _div_dfs((m, np.zeros_like(m)), (two_plus_m, (_F(2) - two_plus_m) + m)))
    r = np.where(d > _F(1e38), _F(np.inf), r)
    r = np.where(d < -1, _NAN_ALL_ONES, r)
    r = np.where(d == -1, _F(-np.inf), r)
    return np.where((d == 0) & np.signbit(d), _F(-0.0), r)


def _log_df(d: np.ndarray) -> DoubleFloat:
    """log(d) for d > 0 as a double-float (SLEEF's ``logkf``): d = m 2**e with m in [0.75, 1.5),
    log(m) = 2 atanh(x), x = (m - 1) / (m + 1), an odd polynomial in x."""
    m, e = _mantissa_and_exponent(d)
    x = _div_dfs(_add_exact(_F(-1), m), _add_exact(_F(1), m))
    x2 = _square_df(x)
    t = fma32(fma32(np.full(d.shape, _F(0.240320354700088500976562)), x2[0], _F(0.285112679004669189453125)),
              x2[0], _F(0.400007992982864379882812))
    s = _mul_df(_LN2, e.astype(np.float32))
    s = _add_dfs(s, (x[0] * 2, x[1] * 2))
    c = (_F(0.66666662693023681640625), _F(3.69183861259614332084311e-09))
    return _add_dfs(s, _mul_dfs(_mul_dfs(x2, x), _add_exact_dfs(_mul_df(x2, t), c)))


def _exp_of_df(d: DoubleFloat) -> np.ndarray:
    """exp of a double-float (SLEEF's ``expkf``), reduced by q log 2 as ``sleef_expf`` is."""
    q = np.rint((d[0] + d[1]) * _R_LN2).astype(np.int32)
    s = _add_exact_df(d, q.astype(np.float32) * -_L2U)
    s = _add_exact_df(s, q.astype(np.float32) * -_L2L)
    high = s[0] + s[1]
    s = high, (s[0] - high) + s[1]
    u = np.full(high.shape, _F(0.00136324646882712841033936))
    for c in (0.00836596917361021041870117, 0.0416710823774337768554688, 0.166665524244308471679688,
              0.499999850988388061523438):
        u = fma32(u, s[0], _F(c))
    t = _add_dfs(s, _mul_df(_square_df(s), u))
    t = _add_dfs((np.full(high.shape, _F(1)), np.zeros(high.shape, _F)), t)
    u = np.ldexp((t[0] + t[1]).astype(np.float64), q).astype(np.float32)  # (exact, or the one rounding)
    return np.where(d[0] < -104, _F(0), u)


def sleef_powf(x: np.ndarray, p: float | np.ndarray) -> np.ndarray:
    """x ** p for float32 as SLEEF's ``xpowf`` computes it: exp(p log|x|) in double-float, a sign for a
    negative x and an odd integer p, then C99's special cases (0, inf, nan, p = 0, x = 1)."""
    y = np.broadcast_to(np.asarray(p, np.float32), x.shape)
    integer = (np.trunc(y) == y) | (np.abs(y) > _F(1 << 24))
    odd = integer & (np.abs(y) < _F(1 << 24)) & (np.trunc(np.where(integer, y, 0)).astype(np.int64) % 2 == 1)
    result = _exp_of_df(_mul_df(_log_df(np.abs(x)), y))
    result = np.where(np.isnan(result), _F(np.inf), result)
    result = result * np.where(x > 0, _F(1), np.where(integer, np.where(odd, _F(-1), _F(1)), _F(np.nan)))
    towards_one = _with_sign_of(np.abs(x) - _F(1), y)  # for p = +-inf: |x| < 1 or > 1 decides
    result = np.where(np.isinf(y), np.where(towards_one < 0, _F(0), np.where(towards_one == 0, _F(1), _F(np.inf))),
                      result)
    edge = np.where(np.signbit(y) ^ (x == 0), _F(0), _F(np.inf))  # x = 0 or +-inf
    result = np.where(np.isinf(x) | (x == 0), _with_sign_of(edge, np.where(odd, x, _F(1))), result)
    result = np.where(np.isnan(x) | np.isnan(y), _NAN_ALL_ONES, result)
    return np.where((y == 0) | (x == 1), _F(1), result)


def _exp_as_df(a: np.ndarray) -> DoubleFloat:
    """exp(a) as a double-float (SLEEF's ``expk2f``): what expm1, sinh and cosh are built on."""
    q = np.rint(a * _R_LN2).astype(np.int32)
    s = _add_exact(a, q.astype(np.float32) * -_L2U)
    s = _add_exact_df(s, q.astype(np.float32) * -_L2L)
    u = np.full(a.shape, _F(0.1980960224e-3))
    for c in (0.1394256484e-2, 0.8333456703e-2, 0.4166637361e-1):
        u = fma32(u, s[0], _F(c))
    t = _add_exact_df(_mul_df(s, u), _F(0.166666659414234244790680580464))
    t = _add_exact_df(_mul_dfs(s, t), _F(0.5))
    t = _add_exact_dfs(s, _mul_dfs(_square_df(s), t))
    t = _add_dfs((np.full(a.shape, _F(1)), np.zeros(a.shape, _F)), t)
    scale = np.exp2(q.astype(np.float64))
    high, low = ((v.astype(np.float64) * scale).astype(np.float32) for v in t)  # (exact, or the one rounding)
    return np.where(a < -104, _F(0), high), np.where(a < -104, _F(0), low)


def sleef_expm1f(a: np.ndarray) -> np.ndarray:
    """exp(a) - 1 for float32 as SLEEF's ``xexpm1f``: exp in double-float, then - 1 exactly, rounded once."""
    d = _add_exact_df(_exp_as_df(a), _F(-1))
    x = np.where(a > _F(88.72283172607421875), _F(np.inf), d[0] + d[1])
    x = np.where(a < _F(-16.635532333438687426013570), _F(-1), x)
    return np.where((a == 0) & np.signbit(a), _F(-0.0), x)


def _sinh_or_cosh(x: np.ndarray, sinh: bool) -> np.ndarray:
    """SLEEF's ``xsinhf``/``xcoshf``: (e**|x| -+ e**-|x|) / 2 in double-float."""
    e = _exp_as_df(np.abs(x))
    r = _reciprocal_df(e)
    if sinh:
        s = e[0] - r[0]
        d = s, (((e[0] - s) - r[0]) + e[1]) - r[1]
    else:
        d = _add_dfs(e, r)
    y = (d[0] + d[1]) * _F(0.5)
    y = np.where((np.abs(x) > 89) | np.isnan(y), _F(np.inf), y)
    y = _with_sign_of(y, x) if sinh else y
    return np.where(np.isnan(x), _NAN_ALL_ONES, y)


def sleef_sinhf(x: np.ndarray) -> np.ndarray:
    return _sinh_or_cosh(x, sinh=True)


def sleef_coshf(x: np.ndarray) -> np.ndarray:
    return _sinh_or_cosh(x, sinh=False)


# --- float64 ---------------------------------------------------------------------------------------------------------


_R_LN2_64, _L2U_64, _L2L_64 = 1.4426950408889634, 0.69314718055966295651160180568695068359375, \
    0.28235290563031577122588448175013436025525412068e-12
_POLYNOMIAL_64 = (0.2081276378237164457e-8, 0.2511210703042288022e-7, 0.2755762628169491192e-6,
                  0.2755723402025388239e-5, 0.2480158687479686264e-4, 0.1984126989855865850e-3,
                  0.1388888888914497797e-2, 0.8333333333314938210e-2, 0.4166666666666602598e-1,
                  0.1666666666666669072e+0)


def _fma64(a: Any, b: Any, c: Any) -> np.ndarray:
    return fma64(*np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64), np.asarray(c, np.float64)))


def sleef_exp(d: np.ndarray) -> np.ndarray:
    """exp for float64 as SLEEF's ``xexp``: 2**q exp(s), exp(s) a degree-12 polynomial whose first ten terms
    are evaluated in Estrin's scheme (pairs, then pairs of pairs: fewer dependent steps), all with FMAs."""
    u = np.rint(d * _R_LN2_64)
    q = u.astype(np.int64)
    s = _fma64(u, -_L2L_64, _fma64(u, -_L2U_64, d))
    s2 = s * s
    s4 = s2 * s2
    c = _POLYNOMIAL_64
    low = _fma64(s4, _fma64(s2, _fma64(s, c[2], c[3]), _fma64(s, c[4], c[5])),
                 _fma64(s2, _fma64(s, c[6], c[7]), _fma64(s, c[8], c[9])))
    u = _fma64(s4 * s4, _fma64(s, c[0], c[1]), low)
    for term in (0.5, 1.0, 1.0):
        u = _fma64(u, s, term)
    half = q >> 1
    u = u * np.exp2(half.astype(np.float64)) * np.exp2((q - half).astype(np.float64))
    u = np.where(d > 709.78271114955742909217217426, np.inf, u)
    return np.where(d < -1000, 0.0, u)


# --- kernels built on them -------------------------------------------------------------------------------------------


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), as PyTorch's kernel: float32 all through SLEEF's
    vector functions (its loop pads the last few elements into a vector too); other dtypes NumPy's."""
    if x.dtype != np.float32 or x.size > ROUNDED_ONCE_UP_TO:
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))
    with np.errstate(over="ignore", invalid="ignore"):
        return np.minimum(x, _F(0)) - sleef_log1pf(sleef_expf(-np.abs(x)))


def lane_sums(rows: np.ndarray, times: np.ndarray | None = None, fused_tail: bool = False) -> np.ndarray:
    """Each row's sum as ATen's ``vec::reduce_all`` adds a float32 row: below one register's worth of numbers
    (8 lanes with AVX2, 16 with AVX-512) one by one; else into the lanes, a register at a time, the last few
    into the first lanes, then the lanes by halves: with 8, (0+4, 1+5, 2+6, 3+7), then (0+2, 1+3), then 0+1.
    With ``times``, the sums of rows * times (``map2_reduce_all``); ``fused_tail``: the last few products
    added with one rounding, as the compiler fused them in the copy of the kernel that runs without threads."""
    products = rows if times is None else rows * times
    m, n = rows.shape
    width = vector_bytes() // 4
    if n < width:
        total = products[:, 0]
        for i in range(1, n):
            total = total + products[:, i]
        return total
    full = n // width * width
    lanes = np.cumsum(products[:, :full].reshape(m, -1, width), axis=1, dtype=np.float32)[:, -1]  # (in order)
    if fused_tail and times is not None:
        lanes[:, :n - full] = fma32(rows[:, full:], times[:, full:], lanes[:, :n - full])
    else:
        lanes[:, :n - full] += products[:, full:]
    while width > 1:
        width //= 2
        lanes = lanes[:, :width] + lanes[:, width:]
    return lanes[:, 0]


def softmax_lastdim(x: np.ndarray, log: bool) -> np.ndarray:
    """(log_)softmax along the last dimension of a float32 array, as ATen's ``_vec_(log_)softmax_lastdim``:
    exp(x - max) through SLEEF, its sum by ``lane_sums``; softmax multiplies by 1 / sum, log_softmax
    subtracts the max, then log(sum)."""
    rows = np.ascontiguousarray(x).reshape(-1, x.shape[-1])
    top = rows.max(axis=1, keepdims=True)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        total = lane_sums(sleef_expf(rows - top))[:, None]
        out = (rows - top) - sleef_logf(total) if log else sleef_expf(rows - top) * (_F(1) / total)
    return out.reshape(x.shape)


c_expf = c_function("expf", np.exp)  # (the C library's, where ATen's loops leave the vector lanes)


def softmax_along(x: np.ndarray, axis: int, log: bool) -> np.ndarray:
    """(log_)softmax of a float32 array along a dimension other than the last, as ATen's ``_vec_softmax`` and
    ``_vec_log_softmax``: for each position of the other dims, the max along ``axis``, then exp(x - max) added
    up in order from 0; softmax divides by that sum, log_softmax subtracts the max, then log(sum). ATen walks
    the positions a register (8 or 16) at a time with SLEEF's ``expf``; positions left over take the C
    library's ``expf`` (for softmax, those at the end of each thread's share or of a row; for log_softmax, the
    last ``n % width`` of each chunk of a row), and log_softmax takes every log from SLEEF's ``logf``."""
    shape = x.shape
    outer, size = int(np.prod(shape[:axis])), shape[axis]
    inner = x.size // max(outer * size, 1)
    v = np.ascontiguousarray(x).reshape(outer, size, inner)
    vector = _vector_positions(outer, inner, size, log).reshape(outer, 1, inner)
    top = v.max(axis=1, keepdims=True)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        shifted = v - top
        exps = _lane_exp(shifted, vector)
        total = np.zeros_like(top)
        for d in range(size):
            total = total + exps[:, d:d + 1]
        if log:
            return (shifted - sleef_logf(total)).reshape(shape)
        return (exps / total).reshape(shape)


def _lane_exp(x: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """exp as ATen's loop computes it: SLEEF's ``expf`` where ``vector`` (broadcast to x) is set, the C
    library's on the rest (one call per element: only there)."""
    out = sleef_expf(x)
    rest = ~np.broadcast_to(vector, x.shape)
    out[rest] = c_expf(x[rest])
    return out


def _vector_positions(outer: int, inner: int, size: int, log: bool) -> np.ndarray:
    """Which of the outer * inner positions ATen's loop computes with vectors (a register of float32 lanes)."""
    width = vector_bytes() // 4
    if log:  # rows cut in chunks of 128 KB over the softmax dim (a multiple of the width), each ending in its rest
        chunk = min(max(128 * 1024 // size // 4, width) // width * width, inner)
        at = np.arange(inner) % chunk
        length = np.minimum(chunk, inner - np.arange(inner) // chunk * chunk)
        return np.tile(at < length - length % width, outer)
    total = outer * inner
    vector = np.zeros(total, bool)
    share = -(-total // _cascade_sum.THREADS)  # (parallel_for: one share of the positions per thread)
    for begin in range(0, total, max(share, 1)):
        end, idx = min(total, begin + share), begin
        while idx < end:
            if idx % inner + width <= inner and idx + width <= end:
                vector[idx:idx + width] = True
                idx += width
            else:  # the rest of this row, or of this thread's share
                idx += end - idx if idx + width > end else inner - idx % inner
    return vector


def softmax_backward_along(grad: np.ndarray, out: np.ndarray, axis: int, log: bool) -> np.ndarray:
    """The gradient of (log_)softmax along a dimension other than the last, float32, as ATen's
    ``_vec_(log_)softmax_backward``: for each position of the other dims a sum along ``axis`` in order from 0
    (of grad, or of grad * out, each product fused into the sum as the compiler fuses it), then
    ``grad - exp(out) * sum`` (one fused multiply-add; SLEEF's ``expf`` on the vector lanes, the C library's
    on each chunk's rest) or ``out * (grad - sum)``."""
    shape = grad.shape
    outer, size = int(np.prod(shape[:axis])), shape[axis]
    inner = grad.size // max(outer * size, 1)
    g, o = (np.ascontiguousarray(a).reshape(outer, size, inner) for a in (grad, out))
    total = np.zeros((outer, 1, inner), grad.dtype)
    for d in range(size):
        total = total + g[:, d:d + 1] if log else fma32(g[:, d:d + 1], o[:, d:d + 1], total)
    if not log:
        return (o * (g - total)).reshape(shape)
    vector = _vector_positions(outer, inner, size, True).reshape(outer, 1, inner)
    with np.errstate(over="ignore", invalid="ignore"):
        e = _lane_exp(o, vector)
    return fma32(-e, np.broadcast_to(total, g.shape), g).reshape(shape)
