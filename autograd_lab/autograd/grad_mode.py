"""torch.autograd.grad_mode's names, where PyTorch's docs look for them.

The switches themselves live in ``autograd_lab/_grad_mode.py``, below ``Tensor``:
a tensor must read the mode (``numpy()`` is refused only while grad mode is on),
and this package is built on top of ``Tensor``.
"""

from __future__ import annotations

from autograd_lab._grad_mode import (
    _GradModeContext,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

__all__ = ["enable_grad", "enforce_grad_layout_policy", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled", "no_grad", "set_grad_enabled", "set_multithreading_enabled"]


class _Unneeded(_GradModeContext):
    """A switch of PyTorch's engine that has nothing to switch here: the same calls work and change nothing."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        pass

    def clone(self) -> _Unneeded:
        return type(self)(self.mode)


class enforce_grad_layout_policy(_Unneeded):  # noqa: N801
    """PyTorch: whether a leaf's accumulated ``.grad`` must have the leaf's strides (its memory layout).
    autograd_lab's tensors have no strides to enforce or relax."""

    def __init__(self, enable: bool = True) -> None:
        super().__init__(enable)


class set_multithreading_enabled(_Unneeded):  # noqa: N801
    """PyTorch: whether backward may run on several threads. autograd_lab's engine runs on one."""
