"""Matrix products: dot, mm, mv, bmm, addmm, and matmul's rules for 1-d, 2-d and batched operands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from autograd_lab import _grad_mode as grad_mode
from autograd_lab._ops import blas
from autograd_lab._ops.operands import broadcast_shape
from autograd_lab._ops.views import SqueezeAfterMatmul, UnsafeView
from autograd_lab._tensor import Tensor
from autograd_lab.autograd.function import Function


def _check_same_dtype(a: Tensor, b: Tensor) -> None:
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype._c_name} != "
                           f"{b.dtype._c_name}")


def _check_mm(a: Tensor, b: Tensor) -> None:
    x, y = a._data, b._data  # (the arrays' own shapes: this runs on every Linear layer, forward and backward)
    if x.ndim != 2 or y.ndim != 2:
        raise RuntimeError(f"{'self' if x.ndim != 2 else 'mat2'} must be a matrix")
    if x.shape[1] != y.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({x.shape[0]}x{x.shape[1]} and "
                           f"{y.shape[0]}x{y.shape[1]})")
    _check_same_dtype(a, b)


def _strides(x: np.ndarray) -> tuple[int, int]:
    """A matrix's strides in elements, as PyTorch counts them (NumPy counts bytes)."""
    return x.strides[0] // x.itemsize, x.strides[1] // x.itemsize


def _save_matrices(ctx: Any, a: Tensor, b: Tensor, need_a: bool, need_b: bool) -> None:
    """What a matrix product's node keeps, as PyTorch's does: each matrix if the other one's gradient needs
    it; both sizes; a matrix's strides (in elements) if it needs a gradient (its backward reads them)."""
    ctx.save_for_backward(a if need_b else None, b if need_a else None)
    ctx.a_sizes, ctx.b_sizes = a._data.shape, b._data.shape
    ctx.a_strides = _strides(a._data) if need_a else ()
    ctx.b_strides = _strides(b._data) if need_b else ()


def _column_major(sizes: tuple[int, ...], strides: tuple[int, ...]) -> bool:
    """Was this matrix stored column by column (e.g. ``weight.t()``)? Then PyTorch computes its gradient
    transposed, so that it arrives laid out like the matrix itself (no copy when it is accumulated)."""
    return strides[0] == 1 and strides[1] == sizes[0]


def _mm_backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
    """d/da = grad @ b.T,  d/db = a.T @ grad, each computed as PyTorch's mm_mat1/mm_mat2_backward do.

    With create_graph the products are recorded ops (for a second derivative); in a plain backward
    the very same formulas run on the arrays: no nodes, no views to keep track of.
    """
    a, b = ctx._for_backward
    if grad_mode._enabled:
        return _mm_grads(ctx, a, b, grad, Tensor.mm, Tensor.t)
    arrays = _mm_grads(ctx, *(None if x is None else x._data for x in (a, b, grad)), _array_mm, np.transpose)
    return tuple(None if x is None else Tensor._wrap(x) for x in arrays)


def _mm_grads(ctx: Any, a: Any, b: Any, grad: Any, mm: Callable, t: Callable) -> tuple[Any, Any]:
    need_a, need_b = ctx.needs_input_grad[-2:]
    grad_a = grad_b = None
    if need_a:
        grad_a = t(mm(b, t(grad))) if _column_major(ctx.a_sizes, ctx.a_strides) else mm(grad, t(b))
    if need_b:
        grad_b = t(mm(t(grad), a)) if _column_major(ctx.b_sizes, ctx.b_strides) else mm(t(a), grad)
    return grad_a, grad_b


def _array_mm(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = blas.mm(x, y)
    return x @ y if out is None else out


class Dot(Function):
    """out = sum(a * b) for vectors.   d/da = grad * b,  d/db = grad * a."""

    node_name = "DotBackward0"
    saved_as: ClassVar = {"tensor": 0, "self": 1}  # (laid out as Mul's)

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        if a.shape != b.shape:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to "
                               f"have the same number of elements, but got {a.shape[0]} and {b.shape[0]} elements "
                               "respectively")
        _check_same_dtype(a, b)
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(b if need_a else None, a if need_b else None)
        out = blas.dot(a._data, b._data)
        return Tensor._wrap(np.dot(a._data, b._data) if out is None else out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        b, a = ctx._for_backward
        need_a, need_b = ctx.needs_input_grad  # (a's first: PyTorch's DotBackward0 records them in this order)
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Mm(Function):
    """out = a @ b for matrices.   d/da = grad @ b.T,  d/db = a.T @ grad."""

    node_name = "MmBackward0"
    saved_as: ClassVar = {"self": 0, "mat2": 1, "self_sym_sizes": "a_sizes", "self_sym_strides": "a_strides",
                          "mat2_sym_sizes": "b_sizes", "mat2_sym_strides": "b_strides"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        _check_mm(a, b)
        _save_matrices(ctx, a, b, *ctx.needs_input_grad)
        out = blas.mm(a._data, b._data)  # (None: NumPy's sum order)
        return Tensor._wrap(a._data @ b._data if out is None else out)

    backward = staticmethod(_mm_backward)


class Mv(Function):
    """out = a @ v for a matrix and a vector.   d/da = outer(grad, v),  d/dv = a.T @ grad."""

    node_name = "MvBackward0"
    saved_as: ClassVar = {"self": 0, "vec": 1}

    @staticmethod
    def forward(ctx: Any, a: Tensor, v: Tensor) -> Tensor:
        if a.shape[1] != v.shape[0]:
            raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x{a.shape[1]}), "
                               f"vec ({v.shape[0]})")
        _check_same_dtype(a, v)
        need_a, need_v = ctx.needs_input_grad
        ctx.save_for_backward(a if need_v else None, v if need_a else None)
        out = blas.mv(a._data, v._data)
        return Tensor._wrap(a._data @ v._data if out is None else out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, v = ctx._for_backward
        need_a, need_v = ctx.needs_input_grad
        return (grad.unsqueeze(1) * v if need_a else None), (a.t().mv(grad) if need_v else None)


class Bmm(Function):
    """out[i] = a[i] @ b[i] for batches of matrices.   d/da = grad @ b^T,  d/db = a^T @ grad."""

    node_name = "BmmBackward0"
    saved_as: ClassVar = {"self": 0, "mat2": 1}

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
            raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                               f"[{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")
        _check_same_dtype(a, b)
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        out = blas.bmm(a._data, b._data)  # (None: NumPy's sum order)
        return Tensor._wrap(np.matmul(a._data, b._data) if out is None else out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx._for_backward
        need_a, need_b = ctx.needs_input_grad
        return (grad.bmm(b.transpose(1, 2)) if need_a else None), (a.transpose(1, 2).bmm(grad) if need_b else None)


class Addmm(Function):
    """out = bias + a @ b (a Linear layer's forward).   d/dbias = grad,  d/da = grad @ b.T,  d/db = a.T @ grad."""

    node_name = "AddmmBackward0"
    saved_as: ClassVar = {"alpha": lambda ctx: 1, "beta": lambda ctx: 1, "mat1": 0, "mat2": 1,
                          "mat1_sym_sizes": "a_sizes", "mat1_sym_strides": "a_strides",
                          "mat2_sym_sizes": "b_sizes", "mat2_sym_strides": "b_strides"}

    @staticmethod
    def forward(ctx: Any, bias: Tensor, a: Tensor, b: Tensor) -> Tensor:
        _check_mm(a, b)
        _save_matrices(ctx, a, b, *ctx.needs_input_grad[1:])
        target = (a._data.shape[0], b._data.shape[1])
        if not _fits(bias._data.shape, target):
            bias.expand(target)  # (raises PyTorch's error)
        out = blas.mm(a._data, b._data, bias._data) if bias._data.dtype == a._data.dtype else None
        return Tensor._wrap(bias._data + a._data @ b._data if out is None else out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor | None, Tensor | None]:
        return grad, *_mm_backward(ctx, grad)


def _fits(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Does ``shape`` broadcast to ``target`` (without growing it)?"""
    return len(shape) <= len(target) and all(s in (1, t) for s, t in zip(shape[::-1], target[::-1]))


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with PyTorch's rules for 1-d, 2-d and batched operands (ATen's _matmul_impl, step by step,
    so the same products are summed and the same nodes recorded)."""
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
    if _should_fold(a, b):  # the batch folded into the rows of one matrix: one mm (or mv)
        transpose = b.ndim > a.ndim  # (then the product is computed transposed: b.mT @ a.mT)
        t1 = b.mT if transpose else a
        t2 = (a.t() if a.ndim == 2 else a) if transpose else b
        shape = tuple(t1.shape[:-1])
        folded = t1.reshape(-1, t1.shape[-1])
        if t2.ndim == 1:
            return UnsafeView.apply(Mv.apply(folded, t2), shape)
        out = UnsafeView.apply(Mm.apply(folded, t2), shape + (t2.shape[1],))
        return out.mT.contiguous() if transpose else out
    if a.ndim == 3 and b.ndim == 3 and a.shape[0] != b.shape[0]:  # a batch of 1 that needs a gradient: squeezed
        if a.shape[0] == 1 and a.requires_grad:
            return matmul(a.squeeze(0), b)
        if b.shape[0] == 1 and b.requires_grad:
            return matmul(a, b.squeeze(0))
    # batched: broadcast the batch dimensions, then one bmm
    n, k = (a.shape[-2] if a.ndim > 1 else 1), a.shape[-1]
    m, p = (b.shape[-2], b.shape[-1]) if b.ndim > 1 else (b.shape[0], 1)
    batch = broadcast_shape(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
    a3 = a.expand(batch + (n, k)).reshape(-1, n, k)
    if b.ndim == 1:
        b3 = b.expand(batch + (m,)).reshape(-1, m).unsqueeze(2)
    else:
        b3 = b.expand(batch + (m, p)).reshape(-1, m, p)
    out_shape = batch + ((n,) if a.ndim > 1 else ()) + ((p,) if b.ndim > 1 else ())
    product = Bmm.apply(a3, b3)
    return UnsafeView.apply(product.squeeze(-1) if b.ndim == 1 else product, out_shape)


def _should_fold(a: Tensor, b: Tensor) -> bool:
    """ATen's should_fold: may the larger operand (or b transposed, when b is the larger) become one matrix, the
    other being at most a matrix? Always when that other operand needs a gradient (no large expanded gradient);
    otherwise when the larger's batch dimensions lie in memory as one (no copy), never for a 2-d ``a``."""
    larger = a.ndim >= b.ndim
    t1 = a._data if larger else np.swapaxes(b._data, -1, -2)
    if not (t1.ndim >= 3 and (b if larger else a).ndim <= 2):
        return False
    if (b if larger else a).requires_grad:
        return True
    if a.ndim == 2:
        return False
    if t1.size == 0:
        return True
    strides = [s // t1.itemsize for s in t1.strides]
    return all(strides[i] == strides[i + 1] * t1.shape[i + 1] for i in range(t1.ndim - 2))


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
