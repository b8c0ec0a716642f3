"""Fused multiply-add (a * b + c with one rounding), emulated with NumPy.

PyTorch's CPU kernels are compiled with FMA instructions (randn's Box-Muller, linspace),
so matching their numbers to the last bit needs the same single rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def fma32(a: np.ndarray, b: Any, c: Any) -> np.ndarray:
    """a * b + c with a single rounding to float32.

    The float64 product is exact, so only the float64 sum rounds; rounding that
    again to float32 is wrong only when it lands exactly halfway between two
    float32 numbers, and then the sum's rounding error says which way to go.
    """
    product = np.multiply(a, b, dtype=np.float64)
    total = np.asarray(np.add(product, c, dtype=np.float64))  # (0-d: an array, not a scalar)
    halfway = (total.view(np.uint64) & np.uint64(0x1FFFFFFF)) == np.uint64(0x10000000)  # 29 = 52 - 23 bits
    if halfway.any():
        total = np.array(total)  # (writable)
        product = np.broadcast_to(product, total.shape)[halfway]
        addend = np.broadcast_to(np.asarray(c, np.float64), total.shape)[halfway]
        _, err = _two_sum(product, addend)
        total[halfway] = np.where(err == 0, total[halfway], np.nextafter(total[halfway], np.copysign(np.inf, err)))
    return total.astype(np.float32)


def fma64(a: np.ndarray, b: float, c: float) -> np.ndarray:
    """a * b + c with a single rounding, in float64 (Boldo and Melquiond's emulation)."""
    high, low = _two_product(a, np.float64(b))
    top, rest = _two_sum(np.float64(c), high)
    return top + _sum_round_to_odd(rest, low)


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """s, e with s = fl(a + b) and s + e == a + b exactly."""
    s = a + b
    b_part = s - a
    return s, (a - (s - b_part)) + (b - b_part)


def _two_product(a: np.ndarray, b: np.float64) -> tuple[np.ndarray, np.ndarray]:
    """p, e with p = fl(a * b) and p + e == a * b exactly (Dekker's splitting)."""
    def split(v: Any) -> tuple[Any, Any]:
        t = v * 134217729.0  # 2**27 + 1
        high = t - (t - v)
        return high, v - high
    p = a * b
    (ah, al), (bh, bl) = split(a), split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _sum_round_to_odd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a + b rounded to odd: an inexact sum keeps an odd last bit, so a later rounding cannot round twice."""
    s, err = _two_sum(a, b)
    bits = s.view(np.int64)
    fix = (err != 0) & (bits & 1 == 0)
    away_from_zero = np.signbit(err) == np.signbit(s)
    return (bits + fix * (2 * away_from_zero - 1)).view(np.float64)
