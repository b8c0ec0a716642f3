"""sigmoid bit for bit as PyTorch's CPU kernel computes it: SLEEF's vector exp where ATen uses vectors.

ATen's pointwise kernels (``cpu_kernel_vec``) run two ways over a row of contiguous memory: blocks of two
AVX2 registers (16 float32) go through ``Vectorized<float>``, whose ``exp`` is SLEEF's ``expf_u10`` (a
polynomial with fused multiply-adds: within 1 ulp, not correctly rounded); the elements left over at the
end of the row, and rows that are not contiguous, go through the scalar C library (``expf``, nearly always
correctly rounded). A large tensor is cut into one row per thread first. ``by_aten_lanes`` makes the same
split; ``sleef_expf`` is SLEEF's algorithm, step by step, in NumPy.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from autograd_lab._fma import fma32
from autograd_lab._ops import _cascade_sum

_R_LN2 = np.float32(1.442695040888963407359924681001892137426645954152985934135449406931)  # 1 / log(2)
_L2U, _L2L = np.float32(0.693145751953125), np.float32(1.428606765330187045e-06)  # log(2) = L2U + L2L
_POLYNOMIAL = [np.float32(c) for c in (0.000198527617612853646278381, 0.00139304355252534151077271,
                                       0.00833336077630519866943359, 0.0416664853692054748535156,
                                       0.166666671633720397949219, 0.5)]


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


def by_aten_lanes(x: np.ndarray, vector: Callable[[np.ndarray], np.ndarray],
                  scalar: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``vector`` where ATen's vectorised loop computes (whole blocks of 32 bytes x 2), ``scalar`` elsewhere."""
    block = 2 * _cascade_sum.VECTOR_BYTES // x.itemsize
    out = np.empty(x.shape, x.dtype)
    if x.flags.c_contiguous and (x.size < _cascade_sum.GRAIN_SIZE or _cascade_sum.THREADS == 1):  # (the usual)
        flat, result, head = x.reshape(-1), out.reshape(-1), x.size // block * block
        if head:
            result[:head] = vector(flat[:head])
        result[head:] = scalar(flat[head:])
        return out
    lanes = _vector_lanes(x, block)
    out[lanes], out[~lanes] = vector(x[lanes]), scalar(x[~lanes])
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
