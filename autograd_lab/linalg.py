"""torch.linalg: vector norms, cross products, determinants (the rest is beyond this course)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from autograd_lab import _dtype
from autograd_lab._creation import zeros
from autograd_lab._ops.linear_algebra import det, linalg_cross
from autograd_lab._ops.reductions import vector_norm
from autograd_lab._tensor import Tensor, wrap_dim

__all__ = ["cross", "det", "matrix_norm", "norm", "vector_norm"]

cross = linalg_cross
_SVD_ORDERS = (2, -2, "nuc")  # norms made of singular values: svd has no backward here (README)


def norm(A: Tensor,  # noqa: N803  (PyTorch's name)
         ord: float | str | None = None, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
         dtype: _dtype.dtype | None = None) -> Tensor:
    """A vector norm (along one dim, or of a 1-d tensor) or a matrix norm (along two, or of a matrix)."""
    dims = None if dim is None else [dim] if isinstance(dim, int) else list(dim)
    if dims is not None and len(dims) not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {dims}")
    if ord is None:  # the 2-norm of a vector, Frobenius of a matrix: both the 2-norm of the elements
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dims is None and A.ndim not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                           f"Got {A.ndim}D.")
    if not isinstance(ord, str) and (A.ndim == 1 if dims is None else len(dims) == 1):
        return vector_norm(A, ord, dim, keepdim, dtype=dtype)
    return matrix_norm(A, ord, (-2, -1) if dim is None else dim, keepdim, dtype=dtype)


def matrix_norm(A: Tensor,  # noqa: N803  (PyTorch's name)
                ord: float | str = "fro", dim: int | Sequence[int] = (-2, -1), keepdim: bool = False, *,
                dtype: _dtype.dtype | None = None) -> Tensor:
    """Frobenius ("fro"), or the largest (ord 1, inf) or smallest (-1, -inf) sum of absolute values down a
    column (1) or along a row (inf), as PyTorch composes it: a vector 1-norm, then amax or amin."""
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    dims = [dim] if isinstance(dim, int) else list(dim)
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dims))}")
    d0, d1 = (wrap_dim(d, A.ndim) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dims[0]}, {dims[1]})")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim, dtype=dtype)
    if ord in _SVD_ORDERS:
        raise RuntimeError(f"autograd_lab's linalg.matrix_norm has no ord={ord!r}: it is made of singular values, "
                           "and svd has no backward here")
    if ord not in (1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if abs(ord) == math.inf:  # along rows: sum over the second dim, then the extreme over the first
        d0, d1 = d1, d0
    if ord > 0 and A.shape[d1] == 0:  # the largest of no sums: 0, made outside the graph (as PyTorch does)
        shape = [1 if i in (d0, d1) else n for i, n in enumerate(A.shape) if keepdim or i not in (d0, d1)]
        return zeros(shape, dtype=dtype or A.dtype)
    if not keepdim and d0 < d1:  # (the sum took d0 away)
        d1 -= 1
    sums = vector_norm(A, 1, d0, keepdim, dtype=dtype)
    return sums.amax(d1, keepdim) if ord > 0 else sums.amin(d1, keepdim)
