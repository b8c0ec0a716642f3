"""nn.DataParallel, as PyTorch runs it on a machine without GPUs: it simply calls the module."""

from __future__ import annotations

from typing import Any

from autograd_lab.nn.modules import Module


class DataParallel(Module):
    """Splits each batch across GPUs in PyTorch. With no GPU (always, here) it just calls ``module``."""

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0) -> None:
        super().__init__()
        self.module = module
        self.device_ids: list[int] = []

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)
