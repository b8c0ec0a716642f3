"""Flatten: merge dimensions into one (images into vectors before a Linear layer)."""

from __future__ import annotations

from autograd_lab._tensor import Tensor
from autograd_lab.nn.modules.module import Module


class Flatten(Module):
    """Dimensions start_dim..end_dim become one; the batch dimension (0) stays by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
