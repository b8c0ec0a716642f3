"""torch.autograd.grad_mode's names, where PyTorch's docs look for them.

The switches themselves live in ``autograd_lab/_grad_mode.py``, below ``Tensor``:
a tensor must read the mode (``numpy()`` is refused only while grad mode is on),
and this package is built on top of ``Tensor``.
"""

from autograd_lab._grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

__all__ = ["enable_grad", "inference_mode", "is_grad_enabled", "is_inference_mode_enabled", "no_grad",
           "set_grad_enabled"]
