"""torch.functional: a few tensor functions PyTorch keeps in this module (also found as torch.*)."""

from autograd_lab._ops.einsum import einsum, tensordot
from autograd_lab._ops.joining import atleast_1d, atleast_2d, atleast_3d, broadcast_tensors, meshgrid
from autograd_lab._ops.reductions import norm
from autograd_lab._ops.sorting import unique
from autograd_lab._ops.views import broadcast_shapes

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors", "einsum", "meshgrid",
           "norm", "tensordot", "unique"]
