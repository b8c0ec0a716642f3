"""dtypes: PyTorch's names on top of NumPy's types, plus PyTorch's type promotion."""

from __future__ import annotations

import builtins

import numpy as np


class dtype:  # noqa: N801  (PyTorch spells it in lower case)
    """A tensor element type; prints as PyTorch does (``torch.float32``)."""

    __slots__ = ("_c_name", "_category", "_scalar_name", "is_floating_point", "name", "numpy")

    def __init__(self, name: str, numpy_type: type, category: int, scalar_name: str, c_name: str) -> None:
        self.name = name
        self.numpy = np.dtype(numpy_type)
        self.is_floating_point = category == _FLOAT
        self._category = category
        self._scalar_name = scalar_name  # PyTorch's messages say "Float", "torch.FloatTensor" ...
        self._c_name = c_name  # ... or, from C++, "float"

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self) -> tuple:
        return _rebuild_dtype, (self.name,)


dtype.__module__ = "torch"  # type(x.dtype) prints <class 'torch.dtype'>, as in PyTorch


_BOOL, _INT, _FLOAT = 0, 1, 2

float32 = dtype("float32", np.float32, _FLOAT, "Float", "float")
float64 = dtype("float64", np.float64, _FLOAT, "Double", "double")
int8 = dtype("int8", np.int8, _INT, "Char", "signed char")
int16 = dtype("int16", np.int16, _INT, "Short", "short int")
int32 = dtype("int32", np.int32, _INT, "Int", "int")
int64 = dtype("int64", np.int64, _INT, "Long", "long int")
uint8 = dtype("uint8", np.uint8, _INT, "Byte", "unsigned char")
bool = dtype("bool", np.bool_, _BOOL, "Bool", "bool")  # shadows the builtin, as torch.bool does

ALL = (float32, float64, int8, int16, int32, int64, uint8, bool)
_BY_NUMPY = {d.numpy: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}


def _rebuild_dtype(name: str) -> dtype:
    """A pickled dtype back, by name (the class's displayed home, torch, is not where it lives)."""
    return _BY_NAME[name]
_default_float = float32


def from_numpy_dtype(np_dtype: np.dtype) -> dtype:
    """The dtype holding NumPy's ``np_dtype``; a clear TypeError for unsupported ones."""
    try:
        return _BY_NUMPY[np_dtype]
    except KeyError:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{np_dtype}. The only supported types are: "
            "float64, float32, int64, int32, int16, int8, uint8, and bool."
        ) from None


def set_default_dtype(d: dtype) -> None:
    """Choose the dtype that Python floats become (float32 unless changed, as in PyTorch)."""
    global _default_float
    if d not in (float32, float64):
        raise TypeError("only floating-point types are supported as the default type")
    _default_float = d


def get_default_dtype() -> dtype:
    """The dtype that Python floats become."""
    return _default_float


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype that holds both (bool < int < float; then the wider one)."""
    if a is b:
        return a
    if a._category != b._category:
        return a if a._category > b._category else b
    if {a, b} == {uint8, int8}:  # neither holds the other's range
        return int16
    return a if a.numpy.itemsize >= b.numpy.itemsize else b


def scalar_dtype(value: object) -> dtype:
    """The dtype PyTorch gives a Python number: bool, int64 or the default float."""
    if isinstance(value, (builtins.bool, np.bool_)):
        return bool
    if isinstance(value, (int, np.integer)):
        return int64
    if isinstance(value, (complex, np.complexfloating)):
        raise no_complex(value)
    return _default_float


def no_complex(value: object) -> TypeError:
    """The error for a complex number: NumPy would silently keep its real part."""
    return TypeError(f"autograd_lab has no complex dtypes (PyTorch would make a complex tensor): got {value!r}")


def result_type(a: dtype, a_dim: int, b: dtype, b_dim: int) -> dtype:
    """PyTorch's promotion for two tensor operands.

    A zero-dimensional tensor only decides the result when it is of a higher
    category (bool < int < float) than the dimensioned one: float32 vector * float64
    scalar stays float32; int vector * float scalar becomes float.
    """
    if (a_dim == 0) == (b_dim == 0):
        return promote_types(a, b)
    dimmed, zero_dim = (a, b) if b_dim == 0 else (b, a)
    return zero_dim if zero_dim._category > dimmed._category else dimmed


def python_scalar_result(t: dtype, value: object) -> dtype:
    """The dtype of ``tensor op number``: the tensor's, unless the number is of a higher category."""
    s = scalar_dtype(value)
    if s._category <= t._category:
        return t
    return s


class finfo:  # noqa: N801  (PyTorch's name)
    """The limits of a floating dtype, as Python floats: ``torch.finfo(torch.float32).eps``."""

    __module__ = "torch"  # (displayed as PyTorch's)

    def __init__(self, type: dtype | None = None) -> None:
        type = _default_float if type is None else _checked(type, "finfo")
        if not type.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            "'torch.finfo'")
        info = np.finfo(type.numpy)
        self.bits, self.dtype = info.bits, type.name
        self.eps, self.resolution = float(info.eps), 10.0 ** -info.precision
        self.max, self.min = float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)

    def __eq__(self, other: object) -> builtins.bool:
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self) -> int:
        return hash(self.dtype)

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:  # noqa: N801  (PyTorch's name)
    """The limits of an integer dtype, as Python ints: ``torch.iinfo(torch.int64).max``."""

    __module__ = "torch"

    def __init__(self, type: dtype) -> None:
        type = _checked(type, "iinfo")
        if type is bool:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if type.is_floating_point:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'")
        info = np.iinfo(type.numpy)
        self.bits, self.dtype, self.max, self.min = info.bits, type.name, int(info.max), int(info.min)

    def __eq__(self, other: object) -> builtins.bool:
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __hash__(self) -> int:
        return hash(self.dtype)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def _checked(type: object, name: str) -> dtype:
    if not isinstance(type, dtype):
        given = builtins.type(type).__name__
        raise TypeError(f"{name}(): argument 'type' (position 1) must be torch.dtype, not {given}")
    return type
