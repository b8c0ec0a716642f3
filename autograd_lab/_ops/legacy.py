"""PyTorch's older tensor API, still in PyTorch 2 and used by the book's 2018-2021 editions.

``torch.Tensor(2, 3)`` (a constructor that takes sizes *or* data), ``x.new(...)``, the type classes
``torch.FloatTensor`` & co, ``set_default_tensor_type``, and storages: ``x.storage()``,
``x.storage_offset()``, ``x.data_ptr()`` show that a tensor is a view of flat memory.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from autograd_lab import _device, _dtype
from autograd_lab._creation import tensor
from autograd_lab._ops.operands import argument_types
from autograd_lab._ops.views import Alias
from autograd_lab._tensor import Size, Tensor, size_args, wrap_dim
from autograd_lab._torch_warnings import triggered_at, warn_once


def as_subclass(self: Tensor, cls: type) -> Tensor:
    """``x`` seen as a ``cls`` (a Tensor subclass): the same memory and graph (``AliasBackward0``)."""
    out = Alias.apply(self)
    out.__class__ = cls
    return out


class TypedStorage:
    """The flat memory a tensor and all its views look into (``x.storage()``)."""

    __slots__ = ("_memory",)

    def __init__(self, memory: np.ndarray) -> None:
        self._memory = memory  # 1-d

    @property
    def dtype(self) -> _dtype.dtype:
        return _dtype.from_numpy_dtype(self._memory.dtype)

    @property
    def device(self) -> _device.device:
        return _device.cpu

    def size(self) -> int:
        return self._memory.size

    def __len__(self) -> int:
        return self._memory.size

    def __getitem__(self, i: int) -> Any:
        return self._memory[i].item()

    def __setitem__(self, i: int, value: Any) -> None:
        self._memory[i] = value

    def __iter__(self) -> Iterator[Any]:
        return iter(self.tolist())

    def tolist(self) -> list:
        return self._memory.tolist()

    def data_ptr(self) -> int:
        return self._memory.__array_interface__["data"][0]

    def element_size(self) -> int:
        return self._memory.itemsize

    def nbytes(self) -> int:
        return self._memory.nbytes

    def __repr__(self) -> str:
        values = " " + "\n ".join(str(v) for v in self.tolist())
        return f"{values}\n[torch.storage.TypedStorage(dtype={self.dtype}, device=cpu) of size {len(self)}]"


_STORAGE_WARNING = (
    "TypedStorage is deprecated. It will be removed in the future and UntypedStorage will be the only storage "
    "class. This should only matter to you if you are using storages directly.  To access UntypedStorage "
    "directly, use tensor.untyped_storage() instead of tensor.storage()")


def _memory_owner(a: np.ndarray) -> np.ndarray:
    """The array that owns the memory ``a`` looks into (views of views lead back to it)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def storage(self: Tensor) -> TypedStorage:
    """The flat memory this tensor is a view of: a view, a slice and their base give the same object."""
    warn_once(_STORAGE_WARNING, stacklevel=2)
    root = self if self._base is None else self._base
    if root._storage is None:
        root._storage = TypedStorage(_memory_owner(root._data).reshape(-1, order="A"))
    return root._storage


def data_ptr(self: Tensor) -> int:
    """The address of the first element (a slice's is further into its base's memory)."""
    return self._data.__array_interface__["data"][0]


def stride(self: Tensor, dim: int | None = None) -> tuple[int, ...] | int:
    """How many elements to step in memory for one step along each dimension (NumPy counts bytes)."""
    steps = tuple(s // self._data.itemsize for s in self._data.strides)
    return steps if dim is None else steps[wrap_dim(dim, self.ndim)]


def dim_order(self: Tensor) -> tuple[int, ...]:
    """The dimensions from the outermost in memory to the innermost (largest stride first)."""
    steps = stride(self)
    return tuple(sorted(range(self.ndim), key=lambda d: -steps[d]))


def resize_(self: Tensor, *sizes: Any) -> Tensor:
    """Give the tensor a new shape over its memory from where it starts; a larger one gets new memory
    (the old values first). An old API: it can't be part of a graph."""
    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    shape = size_args(sizes)
    memory, start, n = _memory_owner(self._data).reshape(-1, order="A"), storage_offset(self), math.prod(shape)
    if start + n > memory.size:
        memory, start = np.concatenate([memory[start:], np.zeros(start + n - memory.size, memory.dtype)]), 0
    self._data = memory[start:start + n].reshape(shape)
    self._version_counter[0] += 1
    return self


def type_as(self: Tensor, other: Tensor) -> Tensor:
    """This tensor in other's dtype (itself when it already is)."""
    return self.to(other.dtype)


def storage_offset(self: Tensor) -> int:
    """How many elements into its storage this tensor starts."""
    start = _memory_owner(self._data).__array_interface__["data"][0]
    return (data_ptr(self) - start) // self._data.itemsize


def legacy_new(cls: type, args: tuple, device: Any = None, dtype: _dtype.dtype | None = None) -> Tensor:
    """``torch.Tensor(*args)``: sizes, data, a tensor or a storage (see ``Tensor.__new__``)."""
    _device.check(device)
    asked, dtype = dtype, dtype or _dtype.get_default_dtype()
    if not args:
        return cls._wrap(np.zeros(0, dtype.numpy))
    data = args[0]
    if len(args) == 1 and isinstance(data, Tensor):
        if asked is not None and data.dtype is not asked:
            raise TypeError(f"expected {asked} (got {data.dtype})")
        return Alias.apply(data)
    if len(args) == 1 and isinstance(data, TypedStorage):
        if data.dtype is not dtype:
            raise RuntimeError(f"Expected a Storage of type {dtype._scalar_name} or an UntypedStorage, but got type "
                               f"{data.dtype._scalar_name} for argument 1 'storage'")
        out = cls._wrap(data._memory)
        out._storage = data
        return out
    if all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in args) or (
            len(args) == 1 and isinstance(data, Size)):
        shape = tuple(int(s) for s in (data if isinstance(data, Size) else args))
        for s in shape:
            if s < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")
        return cls._wrap(np.zeros(shape, dtype.numpy))  # uninitialised memory in PyTorch
    if len(args) > 1:
        raise _invalid_combination(args, {})
    if isinstance(data, str):
        raise TypeError("new(): invalid data type 'str'")
    if isinstance(data, np.ndarray):
        if data.dtype == dtype.numpy:
            return cls._wrap(data)  # the same dtype: shares the array's memory, as from_numpy does
        return cls._wrap(data.astype(dtype.numpy))
    if not isinstance(data, (list, tuple)):
        kind = type(data)
        name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
        raise TypeError(f"new(): data must be a sequence (got {name})")
    return cls._wrap(tensor(data, dtype=dtype)._data)


def _invalid_combination(args: tuple, keywords: dict) -> TypeError:
    """PyTorch's argument-parser error for torch.Tensor(...) called with what none of its forms takes."""
    wrong = ", ".join(reversed(keywords))
    why = f"      didn't match because some of the keywords were incorrect: {wrong}\n" if keywords else ""
    return TypeError(f"new() received an invalid combination of arguments - got {argument_types(args, keywords)}, "
                     "but expected one of:\n"
                     f" * (*, torch.device device = None)\n{why} * (torch.Storage storage)\n * (Tensor other)\n"
                     " * (tuple of ints size, *, torch.device device = None)\n"
                     " * (object data, *, torch.device device = None)\n")


def legacy_constructor(cls: type, *args: Any, device: Any = None, **keywords: Any) -> Tensor:
    """``torch.Tensor(...)``, PyTorch's legacy constructor: ``Tensor(2, 3)`` is a 2x3 tensor of the default dtype,
    ``Tensor([1, 2])`` or ``Tensor(array)`` that data in the default dtype (an array of that dtype is shared, as
    from_numpy does), ``Tensor(t)`` and ``Tensor(t.storage())`` share t's memory, ``Tensor()`` is empty.
    (Ops make their results with ``Tensor._wrap(array)``, which keeps the array as it is.)"""
    if keywords:
        raise _invalid_combination(args, keywords)
    return legacy_new(cls, args, device)


def new(self: Tensor, *args: Any, device: Any = None) -> Tensor:
    """``x.new(...)``: ``torch.Tensor(...)`` in x's dtype (``x.new(2, 3)``, ``x.new([1, 2])``, ``x.new()``)."""
    return legacy_new(Tensor, args, device, self.dtype)


class tensortype(type):  # noqa: N801  (PyTorch's name)
    """The metaclass of ``torch.FloatTensor`` & co: ``isinstance(x, torch.FloatTensor)`` asks for x's dtype."""

    dtype: _dtype.dtype

    def __instancecheck__(cls, other: object) -> bool:
        return isinstance(other, Tensor) and other.dtype is cls.dtype

    def __call__(cls, *args: Any, device: Any = None) -> Tensor:
        return legacy_new(Tensor, args, device, cls.dtype)

    def __repr__(cls) -> str:
        return f"<class 'torch.{cls.__name__}'>"


def _tensor_type(d: _dtype.dtype) -> tensortype:
    return tensortype(f"{d._scalar_name}Tensor", (), {"dtype": d, "__module__": "torch"})


_LEGACY_TYPES = tuple(_tensor_type(d) for d in _dtype.ALL)
FloatTensor, DoubleTensor, CharTensor, ShortTensor, IntTensor, LongTensor, ByteTensor, BoolTensor = _LEGACY_TYPES
_TYPES = {f"torch.{t.__name__}": t for t in _LEGACY_TYPES}


def set_default_tensor_type(t: str | tensortype) -> None:
    """PyTorch 1's way to make floats double: ``set_default_tensor_type('torch.DoubleTensor')``."""
    kind = _TYPES.get(t) if isinstance(t, str) else t if isinstance(t, tensortype) else None
    if kind is None:
        raise TypeError(f"invalid type: {t!r}")
    warn_once("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use torch.set_default_dtype() "
              "and torch.set_default_device() as alternatives."
              + triggered_at("torch/csrc/tensor/python_tensor.cpp:434"), stacklevel=2)
    _dtype.set_default_dtype(kind.dtype)
