"""exp, log, sin, sqrt, tanh, ... bit for bit as PyTorch's CPU kernels compute them.

PyTorch hands these functions to Intel MKL's vector math library (VML) in its high-accuracy mode, which is
not correctly rounded: about 5% of float32 sines, 17% of float32 square roots and 20% of float64 tanh values
differ in the last bit from the nearest float (what NumPy, or float64 rounded once, gives). A printed loss
then differs in its last digit. With Intel's ``mkl`` package installed (``pip install autograd-lab[mkl]``;
the Makefile installs it) we call the very same routines, loaded with ctypes at the first use; without it,
NumPy computes the float32 ones in float64 and rounds once, which agrees with MKL 95-99% of the time.
"""

from __future__ import annotations

import ctypes
import glob
import os
import sys
from collections.abc import Callable

import numpy as np

ROUNDED_ONCE_UP_TO = 1 << 16  # elements; above, NumPy's float32 SIMD loops (about 25x faster on 512x512)
_MODE = 0x2 | 0x140000 | 0x100  # VML_HA | VML_FTZDAZ_OFF | VML_ERRMODE_IGNORE: the mode PyTorch passes
_SEQUENTIAL, _GNU = 1, 3  # MKL_THREADING_SEQUENTIAL, MKL_THREADING_GNU (GNU OpenMP: PyTorch's wheel links MKL so)
_MAX_N = (1 << 31) - 1  # VML's element count is a C int
_VML_ARGUMENTS = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_longlong]  # (n, a, out, mode)
_TYPED: dict[str, Callable[..., object]] = {}  # MKL's functions, typed for ctypes at their first call
_library: ctypes.CDLL | bool | None = False  # False: not looked for yet; None: not installed
_threads = 1  # how many threads MKL may use: PyTorch's count (set by autograd_lab.set_num_threads)


def rounded_once(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """f(x) for float32 computed in float64 and rounded once: far closer to PyTorch's vectorised float32
    kernels than NumPy's own float32 loops (exp: 99% of values agree instead of 61%). Large tensors keep
    NumPy's fast float32 loops."""
    if x.dtype == np.float32 and x.size <= ROUNDED_ONCE_UP_TO:
        return f(x.astype(np.float64)).astype(np.float32)
    return f(x)


def mkl() -> ctypes.CDLL | None:
    """Intel MKL's runtime library, or None when the ``mkl`` package is not installed (or
    ``AUTOGRAD_LAB_MKL=0`` turns it off)."""
    global _library
    if _library is False:
        _library = None
        names = ("lib/libmkl_rt.so*", "Library/bin/mkl_rt*.dll")
        found = sorted(path for name in names for path in glob.glob(os.path.join(sys.prefix, name)))
        if found and os.environ.get("AUTOGRAD_LAB_MKL", "1") != "0":
            try:
                library = ctypes.CDLL(found[-1])
            except OSError:  # a broken install: NumPy's way still works
                return None
            # A matrix product's sums depend on how MKL splits it between threads: we split it as PyTorch
            # does, with GNU OpenMP and PyTorch's thread count (one thread where GNU OpenMP is missing).
            from ctypes.util import find_library  # (only here: it is slow to import)
            library.MKL_Set_Threading_Layer(_GNU if find_library("gomp") else _SEQUENTIAL)
            library.MKL_Set_Num_Threads(_threads)
            _library = library
    return _library


def use_threads(n: int) -> None:
    """Let MKL use n threads, as PyTorch's MKL does after ``torch.set_num_threads(n)``."""
    global _threads
    _threads = n
    if _library:
        _library.MKL_Set_Num_Threads(n)


def routine(symbol: str, argtypes: list, restype: type | None = None) -> Callable[..., object] | None:
    """MKL's function ``symbol`` (``vmsSin``, ``cblas_sgemm``), typed once; None without MKL."""
    if symbol not in _TYPED:
        library = mkl()
        if library is None:
            return None
        function = getattr(library, symbol)
        function.argtypes, function.restype = argtypes, restype
        _TYPED[symbol] = function
    return _TYPED[symbol]


def address(x: np.ndarray) -> int:
    """Where x's first element lies in memory, for MKL. ``x.ctypes.data`` builds an object each call (about
    2.5 µs, three per matrix product); a writable contiguous array (nearly every operand, every result)
    lends its buffer to ctypes in a quarter of that. A matrix stored by columns is its transpose by rows."""
    flags = x.flags
    if flags.writeable and x.size:
        if flags.c_contiguous:
            return ctypes.addressof(ctypes.c_char.from_buffer(x))
        if flags.f_contiguous:
            return ctypes.addressof(ctypes.c_char.from_buffer(x.T))
    return x.ctypes.data


def vml(name: str, fallback: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """The elementwise function VML calls ``name`` (``"Sin"``, ``"Ln"``), NumPy's ``fallback`` where MKL
    is missing."""
    def compute(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)  # (NumPy gives the result of arithmetic on 0-d arrays as a scalar)
        if x.dtype in (np.float32, np.float64) and 0 < x.size <= _MAX_N:
            vector = routine(("vms" if x.dtype == np.float32 else "vmd") + name, _VML_ARGUMENTS)
            if vector is not None:
                x = x if x.flags.c_contiguous else x.copy()  # (np.ascontiguousarray makes a 0-d array 1-d)
                out = np.empty_like(x)
                vector(x.size, address(x), address(out), _MODE)
                return out
        return rounded_once(fallback, x)
    compute.__name__ = fallback.__name__
    return compute
