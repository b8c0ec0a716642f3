"""torch.linalg: vector norms, cross products, determinants (the rest is beyond this course)."""

from __future__ import annotations

from collections.abc import Sequence

from autograd_lab import _dtype
from autograd_lab._ops.linear_algebra import det, linalg_cross
from autograd_lab._ops.reductions import vector_norm
from autograd_lab._tensor import Tensor

__all__ = ["cross", "det", "norm", "vector_norm"]

cross = linalg_cross


def norm(A: Tensor,  # noqa: N803  (PyTorch's name)
         ord: float | str | None = None, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
         dtype: _dtype.dtype | None = None) -> Tensor:
    """The 2-norm of all elements (Frobenius for a matrix), or a vector p-norm along ``dim``."""
    if ord is None or (ord == "fro" and (dim is None or not isinstance(dim, int))):
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if A.ndim == 1 or isinstance(dim, int):
        return vector_norm(A, ord, dim, keepdim, dtype=dtype)
    raise RuntimeError(f"autograd_lab's linalg.norm supports vector norms and 'fro', not matrix ord={ord!r}")
