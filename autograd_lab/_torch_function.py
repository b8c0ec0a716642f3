"""``__torch_function__``: how an object that is not a plain tensor takes over a torch function.

PyTorch's extension point (its docs: "Extending torch with a Tensor-like type"). When an argument of
``torch.add(...)`` — or of a method of a Tensor subclass — has a type with ``__torch_function__``, that
method gets the call instead: ``__torch_function__(func, types, args, kwargs)``, with ``func`` the public
function (``torch.add``) and ``types`` the overriding types. It returns the result, or NotImplemented to
let the next one try. ``Tensor``'s own ``__torch_function__`` (in ``_tensor.py``) runs ``func`` plainly
and gives the result the subclass's type: that is why ``SubTensor + 1`` is a ``SubTensor``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any

from autograd_lab._torch_warnings import triggered_at, warn_once

# Inside Tensor.__torch_function__: run functions plainly (else each would dispatch again, forever).
subclasses_disabled = False


class DisableTorchFunctionSubclass:
    """``with DisableTorchFunctionSubclass():`` Tensor subclasses don't dispatch inside (torch._C's name)."""

    def __enter__(self) -> None:
        global subclasses_disabled
        self._before, subclasses_disabled = subclasses_disabled, True

    def __exit__(self, *exc: object) -> None:
        global subclasses_disabled
        subclasses_disabled = self._before


# Types that never take a call (a quick look first: this is the hot path). Tensor is added by overridable(),
# a subclass that opts out (disabled_torch_function_impl) when it is first seen.
_OPTED_OUT: set[type] = {int, float, bool, type(None), tuple, list, str}


def disabled_torch_function_impl(cls: type, func: Callable, types: tuple, args: tuple = (),
                                 kwargs: dict | None = None) -> Any:
    """The ``__torch_function__`` of subclasses that opt out (``nn.Parameter``): they never dispatch."""
    return func(*args, **(kwargs or {}))


def overloaded(args: Iterable[Any], plain: type) -> list[Any]:
    """The arguments that take over: one per type with its own ``__torch_function__`` (not ``plain`` Tensor's,
    not an opted-out subclass's), a subclass before its base class, else in argument order."""
    found: list[Any] = []
    for a in args:
        kind = type(a)
        if kind is plain or any(type(f) is kind for f in found):
            continue
        impl = getattr(kind, "__torch_function__", None)
        if impl is None or getattr(impl, "__func__", impl) is disabled_torch_function_impl:
            if impl is not None:
                _OPTED_OUT.add(kind)  # (nn.Parameter: public functions skip this look from now on)
            continue
        if subclasses_disabled and isinstance(a, plain):
            continue
        before = next((i for i, f in enumerate(found) if issubclass(kind, type(f))), len(found))
        found.insert(before, a)
    return found


def handle_torch_function(public_api: Callable, overriding: list[Any], args: tuple, kwargs: dict | None) -> Any:
    """Offer the call to each overriding argument in turn; the first answer other than NotImplemented wins."""
    types = tuple(type(a) for a in overriding)
    for a in overriding:
        if not isinstance(inspect.getattr_static(type(a), "__torch_function__"), (classmethod, staticmethod)):
            warn_once("Defining your `__torch_function__` as a plain method is deprecated and will be an error in "
                      "future, please define it as a classmethod."
                      + triggered_at("torch/csrc/utils/python_arg_parser.cpp:359"), stacklevel=3)
        result = a.__torch_function__(public_api, types, args, kwargs)
        if result is not NotImplemented:
            return result
    name = public_api.__qualname__ if public_api.__qualname__.startswith("Tensor.") else public_api.__name__
    handlers = "".join(f"  - tensor subclass {t}\n" for t in types)
    raise TypeError(f"Multiple dispatch failed for 'torch.{name}'; all __torch_function__ handlers returned "
                    f"NotImplemented:\n\n{handlers}\nFor more information, try re-running with "
                    "TORCH_LOGS=not_implemented")


def overridable(function: Callable, plain: type) -> Callable:
    """``function`` as a public torch function: an argument with ``__torch_function__`` may take the call."""
    _OPTED_OUT.add(plain)

    @functools.wraps(function)
    def public(*args: Any, **kwargs: Any) -> Any:
        for a in args:
            if type(a) not in _OPTED_OUT and hasattr(type(a), "__torch_function__"):
                overriding = overloaded(args, plain)
                if overriding:
                    return handle_torch_function(public, overriding, args, kwargs or None)
                break
        try:
            return function(*args, **kwargs)
        except AttributeError:  # an input that is neither a tensor nor tensor-like: PyTorch's TypeError
            if args and not isinstance(args[0], plain):
                raise TypeError(f"{function.__name__}(): argument 'input' (position 1) must be Tensor, not "
                                f"{type(args[0]).__name__}") from None
            raise
    return public


def dispatching_method(method: Callable, plain: type) -> Callable:
    """A Tensor method as a subclass has it: the call goes through the subclass's ``__torch_function__``
    (``method`` itself, Tensor's, is what ``func`` is)."""
    @functools.wraps(method)
    def dispatching(*args: Any, **kwargs: Any) -> Any:
        if subclasses_disabled:
            return method(*args, **kwargs)
        return handle_torch_function(method, overloaded(args, plain), args, kwargs or None)
    return dispatching
