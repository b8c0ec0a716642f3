"""torch.nn.utils: helpers around training (gradient clipping)."""

from autograd_lab.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_"]
