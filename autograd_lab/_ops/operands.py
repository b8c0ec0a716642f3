"""Operands: Python numbers and NumPy arrays in, PyTorch's promotion and broadcasting rules, views."""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd_lab import _dtype
from autograd_lab import _grad_mode as grad_mode
from autograd_lab._ops.stale_views import remember_view
from autograd_lab._tensor import Tensor, wrap_dim
from autograd_lab.autograd.function import Function, refuse_custom_view

Number = int | float | bool
OPERANDS = (Tensor, int, float, bool, np.number, np.bool_)  # what ``x * other`` accepts as ``other``
_HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class defined in Python
# A decorator for the forwards that can turn finite inputs into inf or nan (log(0), 1/0, sqrt(-1), exp(1000)):
# PyTorch returns those IEEE values silently, NumPy would also warn. Only there: it costs ~1 µs a call.
ieee_silent = np.errstate(divide="ignore", over="ignore", invalid="ignore")


def as_tensor(value: Any, like: Tensor) -> Tensor:
    """A Python number as a 0-d tensor, typed as PyTorch types a number next to ``like``."""
    if isinstance(value, Tensor):
        return value
    if type(value) is float and like._data.dtype.kind == "f":  # the common case, kept fast: x * 0.5
        return Tensor._wrap(np.array(value, like._data.dtype))
    if not isinstance(value, OPERANDS):
        raise TypeError(f"unsupported operand type: expected a Tensor or a number, got {type_name(value)}")
    target = _dtype.python_scalar_result(like.dtype, value).numpy
    if target.kind in "iu" and not isinstance(value, (bool, np.bool_)):  # int16 tensor * 70000: wraps, as PyTorch's
        return Tensor._wrap(np.asarray(value, np.int64).astype(target))
    return Tensor._wrap(np.asarray(value, dtype=target))


def type_name(value: Any) -> str:
    """A value's type as PyTorch's argument errors name it: ``NoneType``, ``Foo``, ``numpy.ndarray``,
    ``torch.dtype``."""
    if isinstance(value, _dtype.dtype):
        return "torch.dtype"
    cls = type(value)
    if cls.__module__ == "builtins" or cls.__flags__ & _HEAP_TYPE:
        return cls.__name__
    return f"{cls.__module__}.{cls.__qualname__}"


def argument_types(args: tuple, keywords: dict) -> str:
    """What PyTorch's argument parser says it got, for its "invalid combination of arguments" error:
    ``(str, requires_grad=bool)``; keywords last first, and a bare ``, `` after them when no positional came first."""
    got = [type_name(a) for a in args] + [f"{k}={type_name(v)}" for k, v in reversed(keywords.items())]
    return f"({', '.join(got)}{', ' if keywords and not args else ''})"


def int_argument(function: str, name: str, position: int, value: Any) -> int:
    """``value`` if it is an int, else PyTorch's TypeError: ``chunk(): argument 'chunks' (position 1) must be int,
    not float`` (a student's ``x.chunk(n / 2)``)."""
    if not isinstance(value, (int, np.integer)):
        raise TypeError(f"{function}(): argument '{name}' (position {position}) must be int, not {type_name(value)}")
    return int(value)


def operator_method(function: Callable[..., Tensor], accepts: tuple[type, ...] = OPERANDS) -> Callable[..., Any]:
    """``Tensor.__mul__`` from ``mul``: NotImplemented for an operand that is neither a tensor nor a number.

    Python then tries the other operand and, failing that, raises its own ``unsupported operand
    type(s) for *: 'NoneType' and 'Tensor'`` (``+=`` and ``**`` included), as it does for PyTorch.
    """
    def dunder(self: Tensor, other: Any) -> Any:
        return function(self, other) if isinstance(other, accepts) else NotImplemented
    return dunder


_MISSING: Any = object()  # (an argument not given at all: ``x.lt()``)


def invalid_arguments(name: str, value: Any, parameter: str) -> TypeError:
    """PyTorch's TypeError for a method given neither a tensor nor a number: ``x.lt(None)``, ``x.pow("a")``,
    ``x.lt()``."""
    got = "" if value is _MISSING else type_name(value)
    mismatch = f"      didn't match because some of the arguments have invalid types: (!{got}!)\n" if got else ""
    return TypeError(f"{name}() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                     f" * (Tensor {parameter})\n{mismatch} * (Number {parameter})\n{mismatch}")


def method_of(name: str, function: Callable[[Tensor, Any], Any], parameter: str = "other") -> Callable[..., Tensor]:
    """``x.lt(other)``, ``x.pow(exponent)``: ``function`` for a tensor or a number, else PyTorch's TypeError."""
    def method(self: Tensor, other: Any = _MISSING) -> Tensor:
        if isinstance(other, OPERANDS):
            return function(self, other)
        raise invalid_arguments(name, other, parameter)
    method.__name__ = method.__qualname__ = name
    return method


def takes_operand(function: Callable[..., Tensor], position: int,
                  accepts: tuple[type, ...] = OPERANDS) -> Callable[..., Tensor]:
    """``torch.mul(x, other)`` (position 2) or ``x.mul(other)`` (position 1) with PyTorch's TypeError for an
    ``other`` that is neither a tensor nor a number: ``mul(): argument 'other' (position 2) must be Tensor, ...``."""
    @functools.wraps(function)
    def checked(input: Any, other: Any, *args: Any, **kwargs: Any) -> Tensor:
        if position == 2 and not isinstance(input, Tensor):  # torch.mul(2, x): a number first is fine too
            if not (isinstance(input, accepts) and isinstance(other, Tensor)):
                raise TypeError(f"{function.__name__}(): argument 'input' (position 1) must be Tensor, "
                                f"not {type_name(input)}")
            input = as_tensor(input, other)
        if not isinstance(other, accepts):
            raise TypeError(f"{function.__name__}(): argument 'other' (position {position}) must be Tensor, "
                            f"not {type_name(other)}")
        return function(input, other, *args, **kwargs)
    return checked


def arrays(a: Tensor, b: Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Both operands' arrays in their common dtype, after PyTorch's broadcasting check."""
    x, y = a._data, b._data
    if x.dtype is not y.dtype and x.dtype != y.dtype:
        common = _dtype.result_type(a.dtype, x.ndim, b.dtype, y.ndim).numpy
        x, y = x.astype(common, copy=False), y.astype(common, copy=False)
    if x.shape != y.shape and x.ndim and y.ndim:  # (a 0-d operand always broadcasts)
        broadcast_shape(x.shape, y.shape)
    return x, y


def broadcast_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The shape two shapes broadcast to, or PyTorch's error naming the dimension that clashes."""
    out = []
    for i in range(1, builtins.max(len(a), len(b)) + 1):
        sa = a[-i] if i <= len(a) else 1
        sb = b[-i] if i <= len(b) else 1
        if sa != sb and sa != 1 and sb != 1:
            raise RuntimeError(f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at "
                               f"non-singleton dimension {builtins.max(len(a), len(b)) - i}")
        out.append(sa if sb == 1 else sb)
    return tuple(reversed(out))


def view_of(x: Tensor, array: np.ndarray, replay: Callable[[Tensor], Tensor] | None) -> Tensor:
    """A tensor over the same memory as ``x`` (a view): it shares x's version counter.

    ``replay`` makes the same view of another tensor; composed along a chain of views it
    becomes ``_view_fn`` (base -> this view), which an in-place change of the view uses to
    record the change on the base, as PyTorch does (see ``_modify_view``).
    """
    out = Tensor._wrap(array)
    out._version_counter = x._version_counter
    if grad_mode._enabled is False:  # under no_grad or inference_mode (inside a recorded op's forward it is 0)
        _made_without_grad(out, x)
    elif x._made_in is not None:  # a view of such a view: refused in-place too
        out._made_in = x._made_in
    remember_view(x if x._base is None else x._base, out)
    if x._base is None:
        out._base, out._view_fn = x, replay
    else:
        parent_fn = x._view_fn
        out._base = x._base
        if parent_fn is refuse_custom_view:  # a view of a custom Function's pass-through output: refused too
            out._view_fn = parent_fn
        else:
            out._view_fn = None if parent_fn is None or replay is None else lambda base: replay(parent_fn(base))
    return out


def _made_without_grad(view: Tensor, x: Tensor) -> None:
    """As in PyTorch, a view made with grad mode off requires grad when x does (but is a leaf whose gradient
    goes nowhere), and an in-place change of it with grad mode on is refused: whether to record it would be
    ambiguous (autograd/function.py, refuse_view_made_without_grad)."""
    view._made_in = x._made_in or ("inference_mode" if grad_mode._inference else "no_grad")  # (the first says)
    view._requires_grad = x._requires_grad and view._data.dtype.kind == "f"
    if grad_mode._inference and not x._is_inference:  # a view of a normal tensor is normal, even in there
        view._is_inference = False


def floating(x: Tensor) -> np.ndarray:
    """x's values as floats: math functions of integer tensors give the default float dtype."""
    return x._data if x._data.dtype.kind == "f" else x._data.astype(_dtype.get_default_dtype().numpy)


def reduced_dims(dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """The dimensions a reduction runs over (None or (): all of them; a 0-d tensor has none to name)."""
    if isinstance(dim, int):
        dim = (dim,)
    dims = tuple(range(ndim)) if dim is None or len(dim) == 0 else tuple(wrap_dim(d, ndim) for d in dim)
    for i, d in enumerate(dims):
        if d in dims[:i]:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return dims if ndim else ()


def math_function(op: type[Function]) -> Any:
    """``exp(input)``, ``log(input)``, ...: apply a one-input op (named after it, with its docstring)."""
    def function(input: Tensor) -> Tensor:
        return op.apply(input)
    function.__name__ = function.__qualname__ = op.__name__.lower()
    function.__doc__ = op.__doc__
    return function
