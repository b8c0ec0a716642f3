"""Bitwise logic on integer and bool tensors (&, |, ^) and logical ops on any tensor (nonzero is true): no
gradient, they are not smooth functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_lab._ops.operands import broadcast_shape, type_name
from autograd_lab._tensor import Tensor


def _bitwise(name: str, op: np.ufunc) -> Callable[[Tensor, Any], Tensor]:
    def function(input: Tensor, other: Any) -> Tensor:
        if not isinstance(other, (Tensor, int, np.integer)):
            raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type_name(other)}")
        for t in (input, other):
            if isinstance(t, Tensor) and t.dtype.is_floating_point:
                raise NotImplementedError(f'"{name}_cpu" not implemented for \'{t.dtype._scalar_name}\'')
        return Tensor._wrap(op(input._data, other._data if isinstance(other, Tensor) else other))
    function.__name__ = function.__qualname__ = name
    return function


bitwise_and = _bitwise("bitwise_and", np.bitwise_and)
bitwise_or = _bitwise("bitwise_or", np.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor)


def bitwise_not(input: Tensor) -> Tensor:
    return ~input


def _logical(name: str, op: np.ufunc) -> Callable[[Tensor, Tensor], Tensor]:
    def function(input: Tensor, other: Tensor) -> Tensor:
        if not isinstance(other, Tensor):
            raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type_name(other)}")
        broadcast_shape(input._data.shape, other._data.shape)  # (PyTorch's error for shapes that don't fit)
        return Tensor._wrap(np.asarray(op(input._data != 0, other._data != 0)))
    function.__name__ = function.__qualname__ = name
    return function


logical_and = _logical("logical_and", np.logical_and)
logical_or = _logical("logical_or", np.logical_or)
logical_xor = _logical("logical_xor", np.logical_xor)


def logical_not(input: Tensor) -> Tensor:
    return Tensor._wrap(np.asarray(input._data == 0))
