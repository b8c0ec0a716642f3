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


__all__ = ["DisableTorchFunctionSubclass", "get_ignored_functions", "get_overridable_functions",
           "get_testing_overrides", "handle_torch_function", "has_torch_function", "is_tensor_like"]
