"""torch.backends: the flags tutorials read or set; no accelerator backend is built in."""

from autograd_lab.backends import cpu, cudnn, mps

__all__ = ["cpu", "cudnn", "mps"]
