"""BatchNorm1d: normalise each feature over the batch, then scale and shift it (learned weight and bias)."""

from __future__ import annotations

import numpy as np

from autograd_lab._tensor import Tensor
from autograd_lab.nn import functional as F
from autograd_lab.nn.modules.module import Module
from autograd_lab.nn.parameter import Parameter


class BatchNorm1d(Module):
    """Training uses the batch's mean and variance and keeps running averages of them; eval uses those."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, bias: bool = True) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.has_bias = affine and bias
        self.weight = Parameter(Tensor._wrap(np.ones(num_features, np.float32))) if affine else None
        self.bias = Parameter(Tensor._wrap(np.zeros(num_features, np.float32))) if self.has_bias else None
        if track_running_stats:
            self.register_buffer("running_mean", Tensor._wrap(np.zeros(num_features, np.float32)))
            self.register_buffer("running_var", Tensor._wrap(np.ones(num_features, np.float32)))
            self.register_buffer("num_batches_tracked", Tensor._wrap(np.array(0, np.int64)))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, input: Tensor) -> Tensor:
        if input.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if momentum is None:  # a plain average of every batch seen
                momentum = 1.0 / float(self.num_batches_tracked)
        use_batch = self.training or not self.track_running_stats
        return F.batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias, use_batch,
                            momentum or 0.0, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.has_bias}, track_running_stats={self.track_running_stats}")
