"""Variable: PyTorch 0.3's wrapper around a tensor, kept so 2018 code (like the book's) still runs.

Since PyTorch 0.4 a Variable *is* a Tensor: ``Variable(t)`` returns a tensor and
``isinstance(x, Variable)`` is true for every tensor. PyTorch 2.13 does this
without a warning, and so does autograd_lab.
"""

from __future__ import annotations

import warnings

from autograd_lab._tensor import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, other: object) -> bool:
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(tensor, requires_grad=False)``: a new leaf tensor sharing ``tensor``'s values."""

    def __new__(cls, data: Tensor, requires_grad: bool = False, volatile: bool = False) -> Tensor:  # type: ignore[misc]
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if requires_grad and not data.is_floating_point():
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                          UserWarning, stacklevel=2)
        return data.detach().requires_grad_(requires_grad)
