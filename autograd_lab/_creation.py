"""Making tensors: torch.tensor, zeros, ones, full, arange, linspace, eye, from_numpy, the *_like forms."""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_lab import _device, _dtype
from autograd_lab import _grad_mode as grad_mode
from autograd_lab._fma import fma32, fma64
from autograd_lab._tensor import Tensor


def accepts_out(factory: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``torch.rand(2, 2, out=t)`` & co: make the values in ``t``'s dtype, write them into ``t``, return ``t``."""
    @functools.wraps(factory)
    def into_out(*args: Any, out: Tensor | None = None, **kwargs: Any) -> Tensor:
        if out is None:
            return factory(*args, **kwargs)
        dtype = kwargs.pop("dtype", None)
        if dtype is not None and dtype is not out.dtype:
            raise RuntimeError(f"dtype {dtype._scalar_name} does not match dtype of out parameter "
                               f"({out.dtype._scalar_name})")
        if grad_mode._enabled and out.requires_grad:
            raise RuntimeError(f"aten::{factory.__name__}(): functions with out=... arguments don't support "
                               "automatic differentiation, but one of the arguments requires grad.")
        result = factory(*args, dtype=out.dtype, **kwargs)
        if out.shape != result.shape:  # (factories resize without a warning, unlike ops)
            out._data = np.empty(result.shape, out._data.dtype)
        out._data[...] = result._data
        out._version_counter[0] += 1
        return out
    return into_out

def _leaf(values: np.ndarray, requires_grad: bool, device: Any = None) -> Tensor:
    _device.check(device)
    if requires_grad and values.dtype.kind != "f":
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    return Tensor._wrap(values, requires_grad=requires_grad)


def shape_of(sizes: tuple, size: Any = None, name: str = "empty") -> tuple[int, ...]:
    """The shape asked for by f(2, 3), f((2, 3)), f([2, 3]) or f(size=(2, 3)), with PyTorch's errors for bad sizes."""
    if size is not None:
        if sizes:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        if not isinstance(size, (tuple, list)):
            raise TypeError(f"{name}(): argument 'size' must be tuple of ints, not {type(size).__name__}")
        sizes = (size,)
    if not sizes:
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    if len(sizes) == 1 and not _is_int(sizes[0]):
        if not isinstance(sizes[0], (tuple, list)):
            raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, not "
                            f"{type(sizes[0]).__name__}")
        sizes = tuple(sizes[0])
        for i, s in enumerate(sizes):
            if isinstance(s, bool):
                raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, but found element of "
                                f"type {type(s).__name__} at pos {i}")
    elif not _is_int(sizes[0]):
        raise TypeError(f"{name}() takes 1 positional argument but {len(sizes)} were given")
    for i, s in enumerate(sizes):
        if not (_is_int(s) or isinstance(s, bool)):
            raise TypeError(f"{name}(): argument 'size' failed to unpack the object at pos {i + 1} with error "
                            f'"type must be tuple of ints,but got {type(s).__name__}"')
    shape = tuple(int(s) for s in sizes)
    for s in shape:
        if s < 0 and name == "zeros":
            raise RuntimeError("zeros: Dimension size must be non-negative.")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")
    return shape


def _is_int(s: Any) -> bool:
    """An int, a NumPy int or a one-element integer tensor (not a bool: PyTorch refuses zeros(True))."""
    if isinstance(s, Tensor):
        return s._data.size == 1 and s._data.dtype.kind in "iu"
    return isinstance(s, (int, np.integer)) and not isinstance(s, bool)


def _inferred(values: np.ndarray) -> _dtype.dtype:
    """PyTorch's dtype for Python data: bool, int64, or the default float."""
    if values.dtype.kind == "b":
        return _dtype.bool
    if values.dtype.kind in "iu":
        return _dtype.int64
    return _dtype.get_default_dtype()


def tensor(data: Any, dtype: _dtype.dtype | None = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
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
        data = _unwrap(data)
        try:
            values = np.array(data)
        except ValueError as error:
            raise ValueError(f"expected sequence of equal lengths; {error}") from None
        if values.dtype.kind == "c":
            raise _dtype.no_complex(data)
        if not (dtype or _dtype.int64).is_floating_point and _holds(data, beyond_int64) and not _holds(data, _float):
            raise ValueError("Overflow when unpacking long long")  # (an int beyond 64 bits in integer data)
        if values.dtype == object and not (dtype and dtype.is_floating_point):
            raise TypeError(f"Could not infer dtype of {type(data).__name__}")
        dtype = dtype or _inferred(values)
        if values.dtype == object:  # (ints beyond 64 bits, asked for as floats)
            values = np.array(data, np.float64)
        if dtype.numpy.kind in "iu":  # each number converted exactly (2**63 - 1 stays), or PyTorch's overflow error
            values = np.array(_integers(data, dtype), dtype.numpy)
    with np.errstate(over="ignore"):  # (1e300 into float32: inf, silently as in PyTorch)
        return _leaf(values.astype(dtype.numpy, copy=False), requires_grad, device)


def _holds(data: Any, test: Callable[[Any], bool]) -> bool:
    """Does nested Python data hold a number that passes ``test``?"""
    return any(_holds(d, test) for d in data) if isinstance(data, list) else test(data)


def beyond_int64(x: Any) -> bool:
    """A Python int no C long long holds (PyTorch's "Overflow when unpacking long long")."""
    return type(x) is int and not -2**63 <= x < 2**63


def _float(x: Any) -> bool:
    return isinstance(x, (float, np.floating))


def _integers(data: Any, dtype: _dtype.dtype) -> Any:
    """Python data with each number converted into the integer dtype as PyTorch converts it, or its error."""
    if isinstance(data, list):
        return [_integers(d, dtype) for d in data]
    if isinstance(data, np.ndarray):  # (a one-element tensor's values)
        return data.astype(dtype.numpy)
    whole = _integer(data, dtype.numpy.type)
    if whole is None:
        raise RuntimeError(f"value cannot be converted to type {str(dtype).removeprefix('torch.')} without overflow")
    return whole


# The C++ type each dtype's "cannot be converted" error names.
_CPP_TYPES = {"int64": "int64_t", "int32": "int", "int16": "int16_t", "int8": "int8_t", "uint8": "uint8_t",
              "float32": "float", "float64": "double"}


def scalar_for(value: Any, dtype: _dtype.dtype) -> np.generic:
    """A number converted to ``dtype`` as PyTorch converts a fill value (c10's checked_convert): truncated toward
    zero into integers, any value into bool, but its error where the value does not fit (NumPy would wrap it
    around, or silently drop an imaginary part)."""
    np_type = dtype.numpy.type
    if type(value) is int and not -2**63 <= value < 2**64:  # (what a PyTorch Scalar holds: int64, or uint64)
        raise OverflowError("int too big to convert" if value > 0 else "can't convert negative int to unsigned")
    if dtype is _dtype.bool:
        return np_type(bool(value))
    if isinstance(value, (complex, np.complexfloating)):
        if value.imag:
            raise _overflow(dtype)
        value = value.real
    if dtype.is_floating_point:
        magnitude = abs(float(value)) if isinstance(value, (float, np.floating)) else 0.0
        if math.isfinite(magnitude) and magnitude > float(np.finfo(np_type).max):
            raise _overflow(dtype)
        return np_type(value)
    whole = _integer(value, np_type)
    if whole is None:
        raise _overflow(dtype)
    return np_type(whole)


def _integer(value: Any, np_type: type) -> int | None:
    """A number as c10 converts it into an integer type: truncated toward zero; -1 into uint8 is 255; 2.0**63 into
    int64 wraps, as in C++. None where it does not fit (PyTorch's overflow error)."""
    info = np.iinfo(np_type)
    if isinstance(value, (float, np.floating)):
        if math.isnan(value) or not info.min <= value <= float(info.max):
            return None
        whole = math.trunc(float(value))
        return int(info.min) if whole > info.max else whole
    value = int(value)
    fits = -info.max <= value <= info.max if info.min == 0 else info.min <= value <= info.max
    return (value % (int(info.max) + 1) if value < 0 and info.min == 0 else value) if fits else None


def _overflow(dtype: _dtype.dtype) -> RuntimeError:
    return RuntimeError(f"value cannot be converted to type {_CPP_TYPES[str(dtype).removeprefix('torch.')]} "
                        "without overflow")


def _unwrap(data: Any) -> Any:
    """Nested lists may hold one-element tensors (PyTorch reads their values)."""
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        return [_unwrap(d) for d in data]
    return data


def as_tensor(data: Any, dtype: _dtype.dtype | None = None, device: Any = None) -> Tensor:
    """Like tensor(), but a tensor (or NumPy array) of the right dtype is used as is, not copied."""
    if isinstance(data, Tensor) and (dtype is None or dtype is data.dtype):
        _device.check(device)
        return data
    if isinstance(data, np.ndarray) and (dtype is None or dtype.numpy == data.dtype):
        _device.check(device)
        return from_numpy(data)  # the same memory, as PyTorch shares it
    return tensor(data._data if isinstance(data, Tensor) else data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (changes show in both)."""
    if not isinstance(array, np.ndarray):
        kind = type(array)
        name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
        raise TypeError(f"expected np.ndarray (got {name})")
    _dtype.from_numpy_dtype(array.dtype)
    return Tensor._wrap(array)


@accepts_out
def zeros(*sizes: Any, size: Any = None, dtype: _dtype.dtype | None = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    dtype = dtype or _dtype.get_default_dtype()
    return _leaf(np.zeros(shape_of(sizes, size, "zeros"), dtype.numpy), requires_grad, device)


@accepts_out
def ones(*sizes: Any, size: Any = None, dtype: _dtype.dtype | None = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    dtype = dtype or _dtype.get_default_dtype()
    return _leaf(np.ones(shape_of(sizes, size, "ones"), dtype.numpy), requires_grad, device)


@accepts_out
def empty(*sizes: Any, size: Any = None, dtype: _dtype.dtype | None = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Uninitialized in PyTorch; zeros here, so lessons stay deterministic."""
    dtype = dtype or _dtype.get_default_dtype()
    return _leaf(np.zeros(shape_of(sizes, size, "empty"), dtype.numpy), requires_grad, device)


@accepts_out
def full(size: Any, fill_value: Any, *, dtype: _dtype.dtype | None = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dtype = dtype or _dtype.scalar_dtype(fill_value)
    fill_value = scalar_for(fill_value, dtype)
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    return _leaf(np.full(shape_of((size,), None, "full"), fill_value, dtype.numpy), requires_grad, device)


@accepts_out
def arange(start: float = 0, end: float | None = None, step: float = 1, *,
           dtype: _dtype.dtype | None = None, device: Any = None, requires_grad: bool = False) -> Tensor:
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
    return _leaf(values.astype(dtype.numpy), requires_grad, device)


@accepts_out
def linspace(start: float, end: float, steps: int, *, dtype: _dtype.dtype | None = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced numbers from start to end (both included).

    As PyTorch's CPU kernel computes it: the first half counts up from start, the
    second half down from end (so both ends are exact), each element one fused
    multiply-add in the result's dtype.
    """
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool):
        raise TypeError(f"linspace() received an invalid combination of arguments - got ({type(start).__name__}, "
                        f"{type(end).__name__}, {type(steps).__name__})")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    start, end = (v.item() if isinstance(v, Tensor) else v for v in (start, end))
    dtype = dtype or _dtype.get_default_dtype()
    kind = dtype.numpy.type if dtype.is_floating_point else np.float64  # integer results step in double
    first, last = kind(start), kind(end)
    step = (last - first) / kind(steps - 1) if steps > 1 else kind(0)
    fma = fma32 if kind is np.float32 else fma64
    index = np.arange(steps, dtype=np.float64)
    values = np.where(index < steps // 2, fma(index, step, first), fma(steps - 1 - index, -step, last))
    values[:1] = first  # (one step: just start)
    return _leaf(values.astype(dtype.numpy), requires_grad, device)


@accepts_out
def eye(n: int, m: int | None = None, *, dtype: _dtype.dtype | None = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    return _leaf(np.eye(n, m, dtype=(dtype or _dtype.get_default_dtype()).numpy), requires_grad, device)


def like(make: Any) -> Any:
    """zeros_like / ones_like / rand_like ...: ``make`` with the shape (and dtype) of another tensor."""
    def like(input: Tensor, *args: Any, dtype: _dtype.dtype | None = None, device: Any = None,
             requires_grad: bool = False, memory_format: Any = None) -> Tensor:
        return make(tuple(input.shape), *args, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)
    like.__name__ = like.__qualname__ = make.__name__ + "_like"
    like.__doc__ = f"``{make.__name__}`` with the shape of ``input`` (and its dtype, unless ``dtype`` is given)."
    return like


zeros_like, ones_like, empty_like, full_like = like(zeros), like(ones), like(empty), like(full)


def new(make: Any) -> Any:
    """Tensor.new_zeros / new_ones / new_empty / new_full: ``make`` with this tensor's dtype unless told otherwise."""
    def new(self: Tensor, *args: Any, dtype: _dtype.dtype | None = None, device: Any = None,
            requires_grad: bool = False, **size: Any) -> Tensor:
        return make(*args, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad, **size)
    new.__name__ = new.__qualname__ = "new_" + make.__name__
    new.__doc__ = f"``{make.__name__}`` with this tensor's dtype (unless ``dtype`` is given)."
    return new


def new_tensor(self: Tensor, data: Any, dtype: _dtype.dtype | None = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """``tensor(data)`` with this tensor's dtype (unless ``dtype`` is given)."""
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
                      "sourceTensor.detach().clone().requires_grad_(True), rather than tensor.new_tensor("
                      "sourceTensor).", UserWarning, stacklevel=2)
        data = data._data
    return tensor(data, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)
