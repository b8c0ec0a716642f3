"""Making tensors: torch.tensor, zeros, ones, full, arange, eye, from_numpy."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from autograd_lab import _dtype
from autograd_lab._tensor import Tensor, size_args


def _leaf(values: np.ndarray, requires_grad: bool) -> Tensor:
    if requires_grad and values.dtype.kind != "f":
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    return Tensor(values, requires_grad=requires_grad)


def shape_of(size: tuple) -> tuple[int, ...]:
    """The shape asked for by zeros(2, 3), zeros((2, 3)) or zeros([2, 3]); PyTorch's errors for bad sizes."""
    size = size_args(size)
    for s in size:
        if not isinstance(s, (int, np.integer)):
            raise TypeError(f"expected a sequence of integers or a single integer, got '{type(s).__name__}'")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
    return tuple(int(s) for s in size)


def _inferred(values: np.ndarray) -> _dtype.dtype:
    """PyTorch's dtype for Python data: bool, int64, or the default float."""
    if values.dtype.kind == "b":
        return _dtype.bool
    if values.dtype.kind in "iu":
        return _dtype.int64
    return _dtype.get_default_dtype()


def tensor(data: Any, dtype: _dtype.dtype | None = None, requires_grad: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (numbers, nested lists, an array or a tensor)."""
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
                      "sourceTensor.detach().clone().requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
        values = data._data.copy()
        dtype = dtype or data.dtype
    elif isinstance(data, (np.ndarray, np.generic)):  # NumPy arrays and scalars keep their dtype
        values = np.array(data)
        dtype = dtype or _dtype.from_numpy_dtype(values.dtype)
    else:
        if isinstance(data, (list, tuple)):
            data = _unwrap(data)
        try:
            values = np.array(data)
        except ValueError as error:
            raise ValueError(f"expected sequence of equal lengths; {error}") from None
        if values.dtype == object:
            raise TypeError(f"Could not infer dtype of {type(data).__name__}")
        dtype = dtype or _inferred(values)
    return _leaf(values.astype(dtype.numpy, copy=False), requires_grad)


def _unwrap(data: Any) -> Any:
    """Nested lists may hold one-element tensors (PyTorch reads their values)."""
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        return [_unwrap(d) for d in data]
    return data


def as_tensor(data: Any, dtype: _dtype.dtype | None = None) -> Tensor:
    """Like tensor(), but a tensor of the right dtype is returned as is."""
    if isinstance(data, Tensor) and (dtype is None or dtype is data.dtype):
        return data
    return tensor(data._data if isinstance(data, Tensor) else data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (changes show in both)."""
    if not isinstance(array, np.ndarray):
        kind = type(array)
        name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
        raise TypeError(f"expected np.ndarray (got {name})")
    _dtype.from_numpy_dtype(array.dtype)
    return Tensor(array)


def zeros(*size: Any, dtype: _dtype.dtype | None = None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.zeros(shape_of(size), (dtype or _dtype.get_default_dtype()).numpy), requires_grad)


def ones(*size: Any, dtype: _dtype.dtype | None = None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.ones(shape_of(size), (dtype or _dtype.get_default_dtype()).numpy), requires_grad)


def empty(*size: Any, dtype: _dtype.dtype | None = None, requires_grad: bool = False) -> Tensor:
    """Uninitialized in PyTorch; zeros here, so lessons stay deterministic."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def full(size: Any, fill_value: Any, *, dtype: _dtype.dtype | None = None, requires_grad: bool = False) -> Tensor:
    dtype = dtype or _dtype.scalar_dtype(fill_value)
    return _leaf(np.full(shape_of((size,)), fill_value, dtype.numpy), requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, *, dtype: _dtype.dtype | None = None,
           requires_grad: bool = False) -> Tensor:
    """start, start + step, ... up to (not including) end."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = _dtype.int64 if is_int else _dtype.get_default_dtype()
    count = max(0, int(np.ceil((end - start) / step)))
    values = start + np.arange(count, dtype=np.float64) * step  # computed in double, as PyTorch does
    return _leaf(values.astype(dtype.numpy), requires_grad)


def eye(n: int, m: int | None = None, *, dtype: _dtype.dtype | None = None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.eye(n, m, dtype=(dtype or _dtype.get_default_dtype()).numpy), requires_grad)


def _like(make: Any) -> Any:
    """zeros_like / ones_like / rand_like: the shape (and dtype) of another tensor."""
    def like(input: Tensor, *, dtype: _dtype.dtype | None = None, requires_grad: bool = False) -> Tensor:
        return make(tuple(input.shape), dtype=dtype or input.dtype, requires_grad=requires_grad)
    like.__name__ = make.__name__ + "_like"
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
