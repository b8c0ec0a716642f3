"""torch.functional: a few tensor functions PyTorch keeps in this module (also found as torch.*)."""

from autograd_lab._ops.reductions import norm
from autograd_lab._ops.sorting import unique

__all__ = ["norm", "unique"]
