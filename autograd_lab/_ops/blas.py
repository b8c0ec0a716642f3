"""Matrix products summed in the order PyTorch's CPU build sums them.

A float32 product of long rows is a sum whose last bits depend on the order BLAS adds in; PyTorch's wheel
calls Intel MKL (2024.2, linked into ``libtorch_cpu.so``), NumPy calls OpenBLAS, and the printed losses of a
``x.mm(w)`` training loop drift apart after a few steps. With Intel's ``mkl`` package at that version
installed (the ``mkl`` extra pins it), we make the very call ATen makes: column-major BLAS, each operand's
memory layout turned into a transpose flag and a leading dimension as ``addmm_impl_cpu_`` and ``addmv``
(aten/src/ATen/native/LinearAlgebra.cpp, Blas.cpp) turn it. Each function returns None where MKL is
missing or the dtype is not float32/float64: the caller then uses NumPy.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable

import numpy as np

from autograd_lab._ops import vector_math
from autograd_lab._ops.vector_math import address, routine
from autograd_lab.backends.cpu import get_cpu_capability

_COLUMN_MAJOR, _N, _T = 102, 111, 112  # CBLAS_LAYOUT and CBLAS_TRANSPOSE values
_INT, _PTR = ctypes.c_int, ctypes.c_void_p


_ARGUMENTS = {"gemm": "iiiiiirpipirpi", "gemv": "iiiirpipirpi", "dot": "ipipi",  # int, real, pointer
              "axpy": "irpipi", "gemm_batch": "ipppppppppppppip"}


def _typed(name: str, dtype: np.dtype) -> Callable[..., object] | None:
    """``cblas_sgemm``/``cblas_dgemm`` for ``name`` "gemm" (also "gemv", "dot", "axpy"); None without MKL or for
    another dtype."""
    if dtype == np.float32:
        symbol, real = "cblas_s" + name, ctypes.c_float
    elif dtype == np.float64:
        symbol, real = "cblas_d" + name, ctypes.c_double
    else:
        return None
    known = vector_math._TYPED.get(symbol)  # (the common case, kept short: a product costs a few µs more in Python)
    if known is not None:
        return known
    arguments = [{"i": _INT, "r": real, "p": _PTR}[kind] for kind in _ARGUMENTS[name]]  # (gemm_batch: by pointer)
    return routine(symbol, arguments, real if name == "dot" else None)


def _elements(x: np.ndarray) -> tuple[int, ...]:
    """Strides in elements, as ATen counts them (NumPy counts bytes)."""
    return tuple(s // x.itemsize for s in x.strides)


def aligned_zeros(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A new array of zeros whose first element lies on a 64-byte boundary, where PyTorch's CPU allocator puts
    every tensor's. MKL's AVX-512 kernels peel off the first few results of a product until the output is
    aligned, and those are summed in another order: on an unaligned output (NumPy's arrays are 16-byte
    aligned) a one-row or one-column product differs in the last bits. Its memory is a new bytearray (zeros
    from the start), so a storage sees the array as the owner of that memory."""
    dtype = np.dtype(dtype)
    count = math.prod(shape)
    buffer = bytearray(count * dtype.itemsize + 64)
    skip = -ctypes.addressof(ctypes.c_char.from_buffer(buffer)) % 64
    return np.frombuffer(buffer, dtype, count, skip).reshape(shape)


def mm(a: np.ndarray, b: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray | None:
    """a @ b for matrices, plus ``bias`` (broadcast) as addmm adds it: copied into the result, which BLAS
    then adds the product to (beta = 1)."""
    gemm = _typed("gemm", a.dtype)
    if gemm is None or b.dtype != a.dtype:
        return None
    (rows, inner), cols = a.shape, b.shape[1]
    out = aligned_zeros((rows, cols), a.dtype)
    if bias is not None:
        out[...] = bias
    if out.size == 0 or inner == 0:
        return out
    # The result is row-major: with more than one column, ATen computes its transpose, out.T = b.T @ a.T,
    # in column-major terms (so the operands swap); a single column is already column-major.
    swap = cols > 1
    m1, m2, m, n = (b, a, cols, rows) if swap else (a, b, rows, cols)
    ta, m1, lda = _as_operand(m1, swap, m, inner)
    tb, m2, ldb = _as_operand(m2, swap, inner, n)
    ldc = cols if swap else 1
    if n == 1:  # (ATen's normalize_last_dims: leading dimensions BLAS would otherwise refuse)
        ldc = m
    if (ta and m == 1) or (not ta and inner == 1):
        lda = inner if ta else m
    if (tb and inner == 1) or (not tb and n == 1):
        ldb = n if tb else inner
    gemm(_COLUMN_MAJOR, _T if ta else _N, _T if tb else _N, m, n, inner, 1.0, address(m1), lda,
         address(m2), ldb, 0.0 if bias is None else 1.0, address(out), ldc)
    return out


def _as_operand(x: np.ndarray, swap: bool, rows: int, cols: int) -> tuple[bool, np.ndarray, int]:
    """(transposed?, the array, its leading dimension) for a column-major ``rows`` x ``cols`` operand,
    or a contiguous copy where the layout fits neither (ATen's rule, swapped along with the operands)."""
    (s0, s1), item = x.strides, x.itemsize
    first, second = (s1 // item, s0 // item) if swap else (s0 // item, s1 // item)
    if first == 1 and second >= max(1, rows):
        return False, x, second
    if second == 1 and first >= max(1, cols):
        return True, x, first
    x = np.ascontiguousarray(x)
    return not swap, x, _elements(x)[0]


def mv(a: np.ndarray, v: np.ndarray) -> np.ndarray | None:
    """a @ v for a matrix and a vector: BLAS's gemv, with ATen's choice of layout."""
    gemv = _typed("gemv", a.dtype)
    if gemv is None or v.dtype != a.dtype:
        return None
    rows, cols = a.shape
    out = aligned_zeros((rows,), a.dtype)
    if out.size == 0 or cols == 0:
        return out
    if v.strides[0] <= 0 or v.strides[0] % v.itemsize:
        v = v.copy()
    s = _elements(a)
    if s[0] == 1 and (cols == 1 or s[1] >= max(1, rows)):
        trans, m, n, lda = _N, rows, cols, s[1]
    else:
        if not (s[1] == 1 and (rows == 1 or s[0] >= max(1, cols))):
            a = np.ascontiguousarray(a)
            s = _elements(a)
        trans, m, n, lda = _T, cols, rows, s[0]
    if n == 1:
        lda = m
    gemv(_COLUMN_MAJOR, trans, m, n, 1.0, address(a), lda, address(v), v.strides[0] // v.itemsize, 0.0,
         address(out), 1)
    return out


def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """The dot product of two vectors, BLAS's."""
    dot_product = _typed("dot", a.dtype)
    if dot_product is None or b.dtype != a.dtype:
        return None
    if a.size == 0:
        return np.zeros((), a.dtype)
    a, b = (x if x.strides[0] > 0 and x.strides[0] % x.itemsize == 0 else x.copy() for x in (a, b))
    step_a, step_b = (1, 1) if a.size == 1 else (a.strides[0] // a.itemsize, b.strides[0] // b.itemsize)
    return np.array(dot_product(a.size, address(a), step_a, address(b), step_b), a.dtype)


_ROW_MAJOR = 101
_NAIVE_BELOW = 400  # ATen multiplies batches of products with fewer multiply-adds per item than this in a plain loop


def bmm(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """a[i] @ b[i] for batches of matrices, as ATen's bmm computes them: tiny products in a plain loop (sums
    from 0, in order), others with one MKL ``gemm_batch`` call (row-major, each item's layout a transpose flag)
    where every item is stored by rows or by columns, else one ``mm`` per item."""
    if a.dtype not in (np.float32, np.float64) or b.dtype != a.dtype:
        return None
    (batch, rows, inner), cols = a.shape, b.shape[2]
    if batch * rows * cols == 0 or inner == 0:
        return aligned_zeros((batch, rows, cols), a.dtype)
    if inner * rows * cols < _NAIVE_BELOW:
        out = aligned_zeros((batch, rows, cols), a.dtype)
        for k in range(inner):
            out += a[:, :, k, None] * b[:, None, k, :]
        return out
    gemm_batch = _typed("gemm_batch", a.dtype)
    layouts = [_row_major_layout(x[0]) for x in (a, b)]
    if gemm_batch is None or None in layouts:
        items = [mm(a[i], b[i]) for i in range(batch)]
        return None if items[0] is None else np.stack(items)
    out = aligned_zeros((batch, rows, cols), a.dtype)
    real = ctypes.c_float if a.dtype == np.float32 else ctypes.c_double
    (ta, lda), (tb, ldb) = layouts
    pointers = [(ctypes.c_void_p * batch)(*(x.ctypes.data + i * x.strides[0] for i in range(batch)))
                for x in (a, b, out)]  # (each item's first element)
    numbers = [ctypes.byref(_INT(v)) for v in (ta, tb, rows, cols, inner)]
    gemm_batch(_ROW_MAJOR, *numbers, ctypes.byref(real(1)), pointers[0], ctypes.byref(_INT(lda)), pointers[1],
               ctypes.byref(_INT(ldb)), ctypes.byref(real(0)), pointers[2], ctypes.byref(_INT(cols)), 1,
               ctypes.byref(_INT(batch)))
    return out


def axpy(alpha: float, x: np.ndarray, y: np.ndarray) -> bool:
    """y += alpha * x in place, each element rounded once: MKL's axpy is a fused multiply-add on a CPU with FMA,
    as PyTorch's ``add_(x, alpha=)`` kernel (an optimizer's step), and one call does what takes NumPy five
    passes. False, with nothing written, where it does not apply (no MKL, a CPU without FMA, other dtypes or
    layouts, operands that share memory): the caller then computes it another way."""
    routine = _typed("axpy", y.dtype)
    if (routine is None or x.dtype != y.dtype or x.shape != y.shape or not 0 < y.size < 1 << 31
            or not (x.flags.c_contiguous and y.flags.c_contiguous and y.flags.writeable)
            or get_cpu_capability() == "DEFAULT"):
        return False
    at_x, at_y = address(x), address(y)
    if at_x < at_y + y.nbytes and at_y < at_x + x.nbytes:
        return False
    routine(y.size, alpha, at_x, 1, at_y, 1)
    return True


def _row_major_layout(item: np.ndarray) -> tuple[int, int] | None:
    """(transpose flag, leading dimension) of a matrix stored by rows or by columns, as ATen's _baddbmm_mkl_ reads
    them; None for any other layout."""
    (s0, s1), (rows, cols) = _elements(item), item.shape
    if s0 == 1 and s1 >= max(1, rows):  # stored by columns: the transpose of a row-major matrix
        return _T, s1
    if s1 == 1 and s0 >= max(1, cols):
        return _N, s0
    return None
