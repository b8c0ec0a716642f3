"""LayerNorm: each sample normalised over its last dims (torch.nn.modules.normalization)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from autograd_lab._tensor import Tensor
from autograd_lab.nn import functional as F
from autograd_lab.nn.modules.module import Module
from autograd_lab.nn.parameter import Parameter


class LayerNorm(Module):
    """Mean 0 and variance 1 over the last dims of each sample, then a learned scale and shift per element."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        self.weight = Parameter(Tensor._wrap(np.ones(shape, np.float32))) if elementwise_affine else None
        self.bias = Parameter(Tensor._wrap(np.zeros(shape, np.float32))) if elementwise_affine and bias else None

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")
