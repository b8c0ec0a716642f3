"""Grad mode: whether ops record the graph (no_grad, enable_grad, set_grad_enabled; torch.autograd.grad_mode)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_enabled = True  # do ops record the graph? (what Function.apply reads)
_requested = True  # the grad mode asked for: inside inference_mode() it records nothing even when True
_inference = False  # inside inference_mode(): new tensors are inference tensors
_inference_used = False  # has inference_mode() ever been on? (until then, nothing needs checking)
_dual_level = -1  # the forward AD level entered (autograd/forward_ad.py); -1: none, so no tangents to carry


def is_grad_enabled() -> bool:
    """True when ops on tensors that require grad record a graph (or would, outside inference_mode)."""
    return _enabled or (_inference and _requested)


def _set_enabled(mode: bool) -> bool:
    """Switch grad mode; return the previous mode (Function.apply flips ``_enabled`` directly: hot path)."""
    global _enabled, _requested
    previous = is_grad_enabled()
    _requested, _enabled = mode, mode and not _inference
    return previous


class _GradModeContext:
    """A context manager that is also a decorator, like PyTorch's _DecoratorContextManager."""

    mode = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._defined_in = cls.__module__  # (where pickle finds the class: its displayed module is torch's)
        if cls.__module__ == __name__:  # our switches display from PyTorch's home for them
            cls.__module__ = "torch.autograd.grad_mode"
        elif cls.__module__.startswith("autograd_lab."):  # (autograd/grad_mode.py, autograd/anomaly_mode.py)
            cls.__module__ = "torch" + cls.__module__.removeprefix("autograd_lab")

    def __reduce__(self) -> tuple:
        return _rebuild_switch, (type(self)._defined_in, type(self).__qualname__, dict(vars(self)))

    def __enter__(self) -> None:
        self._previous = _set_enabled(self.mode)

    def __exit__(self, *exc: object) -> None:
        _set_enabled(self._previous)

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.clone():
                return func(*args, **kwargs)
        return wrapper  # type: ignore[return-value]

    def clone(self) -> _GradModeContext:
        return type(self)()


class no_grad(_GradModeContext):  # noqa: N801
    """Nothing computed inside records a graph: for evaluation and parameter updates."""

    mode = False


class enable_grad(_GradModeContext):  # noqa: N801
    """Record the graph again, even inside ``no_grad``."""

    mode = True


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """Set grad mode to ``mode`` now; as a context manager, restore it on exit."""

    def __init__(self, mode: bool) -> None:
        self.mode = mode
        self._previous = _set_enabled(mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _set_enabled(self._previous)

    def __call__(self, func: F) -> F:
        _set_enabled(self._previous)  # as a decorator it must not change the mode now, only inside func
        return super().__call__(func)

    def clone(self) -> set_grad_enabled:
        return set_grad_enabled(self.mode)

    def __repr__(self) -> str:
        return f"{type(self).__module__}.{type(self).__qualname__}(mode={self.mode})"


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()``."""
    return _inference


class inference_mode(_GradModeContext):  # noqa: N801
    """Like ``no_grad``, and the tensors made inside can never join a graph later (PyTorch's fast eval mode).

    ``inference_mode(False)`` turns it off again inside (and turns grad mode on).
    """

    def __new__(cls, mode: bool | Callable = True) -> Any:
        if callable(mode):  # used as a bare decorator: @inference_mode
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode

    def __enter__(self) -> None:
        global _inference, _inference_used
        self._previous_inference, _inference = _inference, self.mode
        _inference_used = _inference_used or self.mode
        self._previous = _set_enabled(not self.mode)

    def __exit__(self, *exc: object) -> None:
        global _inference
        _inference = self._previous_inference
        _set_enabled(self._previous)

    def clone(self) -> inference_mode:
        return inference_mode(self.mode)


def _rebuild_switch(module: str, name: str, state: dict[str, Any]) -> _GradModeContext:
    """A pickled grad-mode switch back, without switching anything (as PyTorch's pickles do)."""
    import importlib

    cls = getattr(importlib.import_module(module), name)
    switch = cls.__new__(cls)
    switch.__dict__.update(state)
    return switch
