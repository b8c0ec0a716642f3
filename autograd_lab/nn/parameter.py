"""Parameter: a tensor that a Module registers as one of its learnable weights."""

from __future__ import annotations

import numpy as np

from autograd_lab import _dtype
from autograd_lab._tensor import Tensor
from autograd_lab._tensor_str import tensor_repr
from autograd_lab._torch_function import disabled_torch_function_impl


class Parameter(Tensor):
    """A leaf tensor that requires grad by default; assigning it to a Module registers it."""

    # Ops on a Parameter give plain tensors (``p * 2`` is a Tensor), as in PyTorch.
    __torch_function__ = classmethod(disabled_torch_function_impl)
    _rebuilt_from = "constructor"  # (unpickled by calling Parameter(values, requires_grad))

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        if data is None:
            data = Tensor._wrap(np.empty(0, np.float32))
        if requires_grad and data._data.dtype.kind not in "fc":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        p = cls._wrap(data._data, requires_grad)
        p._version_counter = data._version_counter  # shares memory with `data`, as in PyTorch
        return p

    def __repr__(self) -> str:
        return "Parameter containing:\n" + tensor_repr(self, _dtype.get_default_dtype())
