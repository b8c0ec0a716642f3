"""Linear algebra beyond matrix products: cross products, determinants, singular values."""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import numpy as np

from autograd_lab._fma import fma32, fma64
from autograd_lab._ops.operands import view_of
from autograd_lab._ops.pointwise import where
from autograd_lab._tensor import Tensor, wrap_dim
from autograd_lab._torch_warnings import triggered_at, user_stacklevel, warn_once
from autograd_lab.autograd.function import Function


class Cross(Function):
    """out = a x b along ``dim`` (3-vectors).   d/da = b x grad,  d/db = grad x a."""

    node_name = "LinalgCrossBackward0"
    saved_as: ClassVar = {"dim": "dim", "self": 0, "other": 1}

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor, dim: int) -> Tensor:
        ctx.save_for_backward(a, b)
        ctx.dim = dim
        x, y = np.broadcast_arrays(a._data, b._data)
        if x.dtype.kind != "f" or x.dtype != y.dtype or x.dtype.itemsize < 4:
            return Tensor._wrap(np.cross(x, y, axis=dim))
        # ATen's loop, whose a1 * b2 - a2 * b1 the compiler fuses: fma(a1, b2, -(a2 * b1))
        fma = fma32 if x.dtype == np.float32 else fma64
        (x0, x1, x2), (y0, y1, y2) = np.moveaxis(x, dim, 0), np.moveaxis(y, dim, 0)
        parts = [fma(x1, y2, -(x2 * y1)), fma(x2, y0, -(x0 * y2)), fma(x0, y1, -(x1 * y0))]
        return Tensor._wrap(np.stack(parts, axis=dim).astype(x.dtype, copy=False))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor, None]:
        a, b = ctx._for_backward
        grad_a = Cross.apply(b, grad, ctx.dim).sum_to_size(a.shape)
        return grad_a, Cross.apply(grad, a, ctx.dim).sum_to_size(b.shape), None


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """``torch.linalg.cross``: the cross product of 3-vectors along ``dim`` (the last by default)."""
    d = wrap_dim(dim, max(input.ndim, other.ndim))
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[d]} and "
                           f"{other.shape[d]}")
    return Cross.apply(input, other, d)


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """``torch.cross``: as linalg.cross, but without ``dim`` it takes the first dim of size 3 (and warns)."""
    if dim is None:
        warn_once("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                  "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                  "with that of linalg.cross in a future release." + triggered_at("aten/src/ATen/native/Cross.cpp:63"),
                  stacklevel=user_stacklevel())
        dim = next((d for d, n in enumerate(input.shape) if n == 3), -1)
    return linalg_cross(input, other, dim=dim)


class Det(Function):
    """out = det(A) (of each matrix in a batch).   d/dA = grad * the cofactors of A (det(A) * inverse(A)^T)."""

    node_name = "LinalgDetBackward0"
    saved_as: ClassVar = {"A": 0, "result": 1}

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        out = Tensor._wrap(np.asarray(np.linalg.det(a._data), a._data.dtype))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        a, out = ctx._for_backward
        # det * inverse^T, from NumPy (a constant: this gradient can be differentiated once, not twice); for a
        # singular matrix PyTorch's formula gives signed zeros, and so does 0 * its cofactors here.
        det, invertible = out._data, out._data != 0
        slope = np.zeros_like(a._data) if invertible.all() else 0.0 * _cofactors(a._data)
        slope[invertible] = det[invertible][..., None, None] * np.swapaxes(np.linalg.inv(a._data[invertible]), -1, -2)
        return grad.unsqueeze(-1).unsqueeze(-1) * Tensor._wrap(slope)


def _cofactors(a: np.ndarray) -> np.ndarray:
    """C[..., i, j] = (-1)^(i+j) det(A without row i and column j)."""
    n = a.shape[-1]
    if n == 1:
        return np.ones_like(a)
    c = np.empty_like(a)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(a, i, axis=-2), j, axis=-1)
            c[..., i, j] = (-1) ** (i + j) * np.linalg.det(minor)
    return c


def det(input: Tensor) -> Tensor:
    """The determinant of a square matrix (or of each in a batch)."""
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        raise RuntimeError("linalg.det: A must be batches of square matrices, but they are "
                           f"{input.shape[-2] if input.ndim > 1 else 1} by {input.shape[-1]} matrices")
    return Det.apply(input)


class SvdResult(NamedTuple):
    """``torch.svd``'s result: A = U diag(S) V^T."""

    U: Tensor
    S: Tensor
    V: Tensor

    def __repr__(self) -> str:
        return f"torch.return_types.svd(\nU={self.U!r},\nS={self.S!r},\nV={self.V!r})"


def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> SvdResult:
    """Singular value decomposition (LAPACK's, through NumPy). Not differentiable here: if ``input``
    requires grad this says so, rather than give a result whose gradient would silently be missing."""
    if input.requires_grad:
        raise NotImplementedError("autograd_lab's svd has no backward: call it on input.detach()")
    u, s, vh = np.linalg.svd(input._data, full_matrices=not some)
    v = np.swapaxes(vh, -1, -2)
    if not compute_uv:
        u, v = np.zeros_like(u), np.zeros_like(v)
    return SvdResult(Tensor._wrap(u), Tensor._wrap(s), Tensor._wrap(v))


class Tril(Function):
    """out = a's lower triangle (on and below ``diagonal``), zeros above.   d/da = the gradient's triangle."""

    node_name = "TrilBackward0"
    saved_as: ClassVar = {"diagonal": "diagonal"}
    triangle = staticmethod(np.tril)

    @staticmethod
    def forward(ctx: Any, a: Tensor, diagonal: int) -> Tensor:
        ctx.diagonal = diagonal
        return Tensor._wrap(ctx._forward_cls.triangle(a._data, diagonal))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return ctx._forward_cls.apply(grad, ctx.diagonal), None


class Triu(Tril):
    """out = a's upper triangle (on and above ``diagonal``), zeros below.   d/da = the gradient's triangle."""

    node_name = "TriuBackward0"
    triangle = staticmethod(np.triu)


def _triangle(op: type[Tril], input: Tensor, diagonal: int) -> Tensor:
    if input.ndim < 2:
        raise RuntimeError(f"{op.__name__.lower()}: input tensor must have at least 2 dimensions")
    return op.apply(input, diagonal)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (``diagonal`` > 0 keeps more, < 0 fewer): a causal mask."""
    return _triangle(Tril, input, diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims."""
    return _triangle(Triu, input, diagonal)


def _diagonal_of(a: np.ndarray, offset: int, dim1: int, dim2: int) -> np.ndarray:
    """The ``offset``-th diagonal between dims dim1 and dim2, as a last dim: a view of a's memory, writable as
    PyTorch's is (NumPy hands it out read-only, for compatibility only)."""
    diagonal = np.diagonal(a, offset, dim1, dim2)
    if a.flags.writeable:
        diagonal.flags.writeable = True
    return diagonal


class Diagonal(Function):
    """out = a's ``offset``-th diagonal between dims dim1 and dim2, as a new last dim (a view of a).
    d/da = the gradient put back on that diagonal, zeros elsewhere."""

    node_name = "DiagonalBackward0"
    saved_as: ClassVar = {"dim1": "dim1", "dim2": "dim2", "offset": "offset", "self_sym_sizes": "shape"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, offset: int, dim1: int, dim2: int) -> Tensor:
        ctx.shape, ctx.offset, ctx.dim1, ctx.dim2 = tuple(a.shape), offset, dim1, dim2
        return view_of(a, _diagonal_of(a._data, offset, dim1, dim2), lambda t: Diagonal.apply(t, offset, dim1, dim2))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None, None]:
        return DiagonalScatter.apply(grad, ctx.shape, ctx.offset, ctx.dim1, ctx.dim2), None, None, None


class DiagonalCopy(Diagonal):
    """``torch.diag(matrix)``: the diagonal as a new tensor (a copy, not a view)."""

    node_name = "DiagonalBackward0_copy"

    @staticmethod
    def forward(ctx: Any, a: Tensor, offset: int, dim1: int, dim2: int) -> Tensor:
        ctx.shape, ctx.offset, ctx.dim1, ctx.dim2 = tuple(a.shape), offset, dim1, dim2
        return Tensor._wrap(_diagonal_of(a._data, offset, dim1, dim2).copy())


class DiagonalScatter(Function):
    """out = zeros of ``shape`` with ``values`` on the diagonal.   d/dvalues = that diagonal of the gradient."""

    node_name = "DiagonalBackwardBackward0"

    @staticmethod
    def forward(ctx: Any, values: Tensor, shape: tuple[int, ...], offset: int, dim1: int, dim2: int) -> Tensor:
        ctx.where = (offset, dim1, dim2)
        out = np.zeros(shape, values._data.dtype)
        _diagonal_of(out, offset, dim1, dim2)[...] = values._data
        return Tensor._wrap(out)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None, None, None]:
        return DiagonalCopy.apply(grad, *ctx.where), None, None, None, None


class DiagEmbed(Function):
    """out: a's last dim laid on the ``offset``-th diagonal of two new dims (zeros elsewhere).
    d/da = that diagonal of the gradient."""

    node_name = "DiagEmbedBackward0"
    saved_as: ClassVar = {"dim1": "dim1", "dim2": "dim2", "offset": "offset"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, offset: int, dim1: int, dim2: int) -> Tensor:
        ctx.offset, ctx.dim1, ctx.dim2 = offset, dim1, dim2
        n = a.shape[-1] + abs(offset)
        shape = list(a.shape[:-1])
        for d in sorted((dim1, dim2)):
            shape.insert(d, n)
        return DiagonalScatter.forward(ctx, a, tuple(shape), offset, dim1, dim2)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None, None]:
        return DiagonalCopy.apply(grad, ctx.offset, ctx.dim1, ctx.dim2), None, None, None


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The ``offset``-th diagonal of the matrices over dims dim1 and dim2 (a view)."""
    d1, d2 = wrap_dim(dim1, input.ndim), wrap_dim(dim2, input.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, offset, d1, d2)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices with ``input``'s last dim on their ``offset``-th diagonal (over dims dim1 and dim2 of the result)."""
    d1, d2 = wrap_dim(dim1, input.ndim + 1), wrap_dim(dim2, input.ndim + 1)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return DiagEmbed.apply(input, offset, d1, d2)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A vector's diagonal matrix, or a matrix's diagonal (as a new vector)."""
    if input.ndim == 1:
        return DiagEmbed.apply(input, diagonal, 0, 1)
    if input.ndim == 2:
        return DiagonalCopy.apply(input, diagonal, 0, 1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


class Trace(Function):
    """out = the sum of a's diagonal.   d/da = the gradient on the diagonal, zeros elsewhere."""

    node_name = "TraceBackward0"
    saved_as: ClassVar = {"self_sym_sizes": "shape"}

    @staticmethod
    def forward(ctx: Any, a: Tensor) -> Tensor:
        ctx.shape = tuple(a.shape)
        if a._data.dtype.kind != "f":
            return Tensor._wrap(np.asarray(np.trace(a._data), np.int64))
        total = 0.0  # ATen's loop: the diagonal in order, added up in double
        for value in np.diagonal(a._data).tolist():
            total += value
        return Tensor._wrap(np.asarray(total, a._data.dtype))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return where(Tensor._wrap(np.eye(*ctx.shape, dtype=bool)), grad, 0.0)  # (+0 off the diagonal, as PyTorch)


def trace(input: Tensor) -> Tensor:
    """The sum of the diagonal of a matrix."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return Trace.apply(input)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product of two vectors: out[i, j] = input[i] * vec2[j] (as PyTorch: a reshape and a multiply)."""
    for name, v in (("self", input), ("vec2", vec2)):
        if v.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.ndim}-D")
    return input.reshape(-1, 1) * vec2
