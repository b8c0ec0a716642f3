"""torch.backends: the flags tutorials read or set; no accelerator backend is built in."""

from autograd_lab.backends import cudnn, mps

__all__ = ["cudnn", "mps"]
