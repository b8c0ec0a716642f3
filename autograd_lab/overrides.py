"""torch.overrides: the helpers for writing a ``__torch_function__`` (see ``_torch_function.py``).

Which functions an override can take over, dummies with their signatures to test one, and the
checks PyTorch's own Python functions use to hand a call to an overriding argument.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable, Iterable
from typing import Any

import autograd_lab
from autograd_lab._tensor import Tensor
from autograd_lab._torch_function import DisableTorchFunctionSubclass, overloaded
from autograd_lab._torch_function import handle_torch_function as _handle


def has_torch_function(relevant_args: Iterable[Any]) -> bool:
    """True if one of these arguments would take a torch function over."""
    return bool(overloaded(relevant_args, Tensor))


def handle_torch_function(public_api: Callable, relevant_args: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
    """Hand the call ``public_api(*args, **kwargs)`` to the overriding arguments among ``relevant_args``."""
    return _handle(public_api, overloaded(relevant_args, Tensor), args, kwargs or None)


def is_tensor_like(inp: Any) -> bool:
    """A Tensor (or subclass), or an object whose type defines ``__torch_function__``."""
    return hasattr(type(inp), "__torch_function__")  # Tensor has one too


def get_ignored_functions() -> set[Callable]:
    """Public functions that never dispatch (they take no tensor)."""
    return {autograd_lab.is_tensor, autograd_lab.manual_seed, autograd_lab.set_default_dtype,
            autograd_lab.get_default_dtype, autograd_lab.set_grad_enabled, autograd_lab.no_grad}


@functools.cache
def get_overridable_functions() -> dict[Any, list[Callable]]:
    """What can be overridden, by namespace: ``torch``'s and ``torch.nn.functional``'s functions, ``torch.Tensor``'s
    methods."""
    functions = [f for name in autograd_lab.__all__ if isinstance(f := getattr(autograd_lab, name), types.FunctionType)
                 and hasattr(f, "__wrapped__")]
    methods = [m for name, m in vars(Tensor).items() if isinstance(m, types.FunctionType) and not name.startswith("_")]
    nn_functions = [getattr(autograd_lab.nn.functional, name) for name in autograd_lab.nn.functional.__all__]
    return {autograd_lab: functions, Tensor: methods, autograd_lab.nn.functional: nn_functions}


@functools.cache
def get_testing_overrides() -> dict[Callable, Callable]:
    """For each overridable function, a dummy with its signature that returns -1 (to test an override)."""
    def dummy(function: Callable) -> Callable:
        def returns_minus_one(*args: Any, **kwargs: Any) -> int:
            return -1
        signature = inspect.signature(function)
        returns_minus_one.__signature__ = signature.replace(  # type: ignore[attr-defined]  (as PyTorch's: no types)
            parameters=[p.replace(annotation=p.empty) for p in signature.parameters.values()],
            return_annotation=signature.empty)
        return returns_minus_one
    return {f: dummy(f) for fs in get_overridable_functions().values() for f in fs}


class TorchFunctionMode:
    """``with MyMode():``: every torch function and Tensor method called inside is first offered to
    ``MyMode.__torch_function__(func, types, args, kwargs)``, which usually looks at the call (logs it,
    changes it) and then runs ``func(*args, **(kwargs or {}))``. While it runs, the mode is off.

    Zero cost outside: entering the first mode puts dispatching wrappers on ``torch.*``,
    ``torch.nn.functional.*`` and the Tensor methods; leaving the last one takes them away.
    """

    def __torch_function__(self, func: Callable, types: tuple, args: tuple = (), kwargs: dict | None = None) -> Any:
        raise NotImplementedError

    def __enter__(self) -> TorchFunctionMode:
        if not _modes:
            _install()
        _modes.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _modes.pop()
        if not _modes:
            _uninstall()


_modes: list[TorchFunctionMode] = []  # the active modes, innermost last
_installed: list[tuple[Any, str, Any]] = []  # (namespace, name, what was there) while a mode is active
_names: dict[int, str] = {}  # id(function) -> what resolve_name() says: "torch.add", "torch.Tensor.mul"
# `a * 2` is offered as Tensor.mul, as in PyTorch
_OPERATORS = {"__add__": "add", "__sub__": "sub", "__mul__": "mul", "__truediv__": "div", "__matmul__": "matmul",
              "__pow__": "pow", "__neg__": "neg"}
# Methods that are Python in PyTorch (they hand over their arguments by name), and other dunders offered as such
_PYTHON_LEVEL = ("backward", "__repr__", "__format__", "__len__", "__iter__", "register_hook")
_FORWARDED = ("__radd__", "__rsub__", "__rmul__", "__rtruediv__", "__rpow__", "__getitem__", "__setitem__")


def resolve_name(f: Callable) -> str | None:
    """The name PyTorch gives a torch function or Tensor method in logs: ``torch.add``, ``torch.Tensor.mul``."""
    return _names.get(id(f)) or _public_names().get(id(f))


@functools.cache
def _public_names() -> dict[int, str]:
    names = {id(f): f"torch.{f.__name__}" for f in get_overridable_functions()[autograd_lab]}
    names.update({id(f): f"torch.nn.functional.{f.__name__}" for f in get_overridable_functions()[autograd_lab.nn
                                                                                                  .functional]})
    names.update({id(m): f"torch.Tensor.{name}" for name, m in vars(Tensor).items() if callable(m)})
    return names


def _install() -> None:
    """Put a dispatching wrapper in front of every public function, method and property (see TorchFunctionMode).
    Each wrapper is also what a mode is offered as ``func``: calling it goes on to the next mode out."""
    functions = [n for n in autograd_lab.__all__ if isinstance(getattr(autograd_lab, n), types.FunctionType)]
    for namespace, prefix, names, by_name in ((autograd_lab, "torch.", functions, False),
                                              (autograd_lab.nn.functional, "torch.nn.functional.",
                                               autograd_lab.nn.functional.__all__, True)):
        for name in names:  # (nn.functional's are Python functions in PyTorch: they hand over arguments by name)
            _wrap(namespace, name, f"{prefix}{name}", _dispatching(vars(namespace)[name], by_name))
    members = list(vars(Tensor).items())
    for name, member in members:
        if isinstance(member, property) and not name.startswith("_"):  # x.shape: offered as Tensor.shape.__get__
            through = _dispatching(member.__get__, False)
            _wrap(Tensor, name, f"torch.Tensor.{name}.__get__", through,
                  property(through, member.fset, member.fdel, member.__doc__))
        elif isinstance(member, types.FunctionType) and (not name.startswith("_") or name in _PYTHON_LEVEL
                                                         or name in _FORWARDED):
            _wrap(Tensor, name, f"torch.Tensor.{name}", _dispatching(member, name in _PYTHON_LEVEL))
    for name, member in members:  # `a * 2` is offered as Tensor.mul
        if name in _OPERATORS:
            _wrap(Tensor, name, None, _dispatching(member, False, offered=vars(Tensor)[_OPERATORS[name]]))


def _wrap(namespace: Any, name: str, shown: str | None, through: Callable, attribute: Any = None) -> None:
    if shown is not None:
        _names[id(through)] = shown
    _installed.append((namespace, name, vars(namespace)[name]))
    setattr(namespace, name, through if attribute is None else attribute)


def _uninstall() -> None:
    while _installed:
        namespace, name, original = _installed.pop()
        setattr(namespace, name, original)


def _dispatching(original: Callable, by_name: bool, offered: Callable | None = None) -> Callable:
    """Call ``original`` plainly when no mode is left on; else offer the call to the innermost mode (as ``offered``,
    by default this wrapper itself). ``by_name``: PyTorch's Python functions hand over their leading tensors by
    position and every other argument by name."""
    def through_mode(*args: Any, **kwargs: Any) -> Any:
        if not _modes:
            return original(*args, **kwargs)
        mode = _modes.pop()
        try:
            if by_name:
                bound = inspect.signature(original).bind(*args, **kwargs)
                bound.apply_defaults()
                values = list(bound.arguments.values())
                leading = next((i for i, v in enumerate(values) if not isinstance(v, Tensor)), len(values))
                args, kwargs = tuple(values[:leading]), dict(list(bound.arguments.items())[leading:])
            kinds = tuple(dict.fromkeys(type(a) for a in args if isinstance(a, Tensor) and type(a) is not Tensor))
            return mode.__torch_function__(offered or through_mode, kinds, args, kwargs or None)
        finally:
            _modes.append(mode)
    return functools.wraps(original)(through_mode) if hasattr(original, "__name__") else through_mode


__all__ = ["DisableTorchFunctionSubclass", "TorchFunctionMode", "get_ignored_functions", "get_overridable_functions",
           "get_testing_overrides", "handle_torch_function", "has_torch_function", "is_tensor_like", "resolve_name"]
