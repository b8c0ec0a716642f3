"""The pointwise updates optimizers make, rounded as PyTorch's CPU kernels round them.

PyTorch computes ``lerp_``, ``addcmul_`` and ``add_(alpha=)`` with fused multiply-adds (one
rounding for ``a * b + c``), so an Adam step written with plain NumPy would drift from it in the
last bits. These helpers take the tensors' arrays, do the same arithmetic in the tensor's dtype,
and write the result back in place (the version counter counts the change).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lab._fma import fma32, fma64
from autograd_lab._ops import blas
from autograd_lab._ops.inplace import _write, count_change
from autograd_lab._tensor import Tensor

# (0-d arrays, not NumPy scalars: NumPy combines those with an array faster)
_LOW_29_BITS, _HALFWAY = np.array(0x1FFFFFFF, np.uint64), np.array(0x10000000, np.uint64)


def _fma(a: Any, b: Any, c: Any) -> np.ndarray:
    """a * b + c with a single rounding to a's dtype (float32 or float64), once written into a tensor."""
    if a.dtype.type is np.float32 and isinstance(b, np.floating) and c.shape == a.shape:
        # The common case (every SGD step), kept fast: a * b is exact in float64, and the float64 sum,
        # returned as is, is rounded once when _write stores it as float32, unless it lies exactly
        # halfway between two float32 numbers (rare): then fma32 decides.
        total = a.astype(np.float64)
        total *= float(b)
        total += c.astype(np.float64)
        if not np.count_nonzero((total.view(np.uint64) & _LOW_29_BITS) == _HALFWAY):
            return total
    a, b, c = np.broadcast_arrays(a, b, c)
    return fma32(a, b, c) if a.dtype == np.float32 else fma64(a, b, c)


def _scalar(t: Tensor, value: float) -> np.generic:
    """A Python number as the kernel sees it: in the tensor's dtype."""
    return t._data.dtype.type(value)


def add_(t: Tensor, other: Tensor, alpha: float = 1) -> Tensor:
    """t += alpha * other  (one rounding)."""
    if not t._is_inference and blas.axpy(alpha, other._data, t._data):  # (SGD's step: one BLAS call)
        count_change(t)
    else:
        _write(t, _fma(other._data, _scalar(t, alpha), t._data))
    return t


def lerp_(t: Tensor, end: Tensor, weight: float) -> Tensor:
    """t += weight * (end - t): a running average that moves ``weight`` of the way to ``end``."""
    w, diff = _scalar(t, weight), end._data - t._data
    if abs(w) < 0.5:  # from the nearer end, as PyTorch does, so weight 0 and 1 are exact
        _write(t, _fma(diff, w, t._data))
    else:
        _write(t, _fma(-diff, _scalar(t, 1) - w, end._data))
    return t


def addcmul_(t: Tensor, t1: Tensor, t2: Tensor, value: float = 1) -> Tensor:
    """t += value * t1 * t2."""
    _write(t, _fma(_scalar(t, value) * t1._data, t2._data, t._data))
    return t


def addcdiv_(t: Tensor, t1: Tensor, t2: Tensor, value: float = 1) -> Tensor:
    """t += value * t1 / t2."""
    _write(t, t._data + _scalar(t, value) * t1._data / t2._data)
    return t
