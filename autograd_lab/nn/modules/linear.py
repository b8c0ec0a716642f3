"""Linear: y = x @ W.T + b."""

from __future__ import annotations

import math

import numpy as np

from autograd_lab._tensor import Tensor
from autograd_lab.nn import functional as F
from autograd_lab.nn import init
from autograd_lab.nn.modules.module import Module
from autograd_lab.nn.parameter import Parameter


class Linear(Module):
    """A fully connected layer, initialized as PyTorch does (so seeded layers hold the same weights)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(Tensor._wrap(np.empty((out_features, in_features), np.float32)))
        self.bias = Parameter(Tensor._wrap(np.empty(out_features, np.float32))) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
