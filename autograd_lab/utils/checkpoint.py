"""torch.utils.checkpoint: keep fewer tensors for backward, and compute them again when backward needs them.

``checkpoint(fn, x, use_reentrant=False)`` gives fn's result and gradients, but the tensors fn's ops
save for backward are not kept: backward runs fn a second time (with the same random numbers) to get
them back. Memory for compute: useful when a graph's saved tensors would not fit. Two ways, as in PyTorch:

- ``use_reentrant=False`` (recommended): saved-tensor hooks drop each saved tensor and, the first time
  backward asks for one, run fn again to get them all (the graph is fn's own: ``AddmmBackward0`` ...);
- ``use_reentrant=True``: fn runs under no_grad inside one custom Function, whose backward runs fn again
  with grad on and calls backward on that (the graph shows one ``CheckpointFunctionBackward`` node).
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from autograd_lab._generator import default_generator
from autograd_lab._grad_mode import enable_grad, no_grad
from autograd_lab._tensor import Tensor
from autograd_lab.autograd import graph
from autograd_lab.autograd.engine import backward
from autograd_lab.autograd.function import Function
from autograd_lab.autograd.graph import saved_tensors_hooks

__all__ = ["CheckpointFunction", "checkpoint", "checkpoint_sequential"]

_CHOOSE = ("torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in PyTorch "
           "2.9, calling checkpoint without use_reentrant will raise an exception. use_reentrant=False is "
           "recommended, but if you need to preserve the current default behavior, you can pass use_reentrant=True. "
           "Refer to docs for more details on the differences between the two variants.")


def checkpoint(function: Callable[..., Any], *args: Any, use_reentrant: bool | None = None,
               context_fn: Callable[[], Any] | None = None, determinism_check: str = "default", debug: bool = False,
               early_stop: bool = True, preserve_rng_state: bool = True, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``, keeping none of its saved tensors: backward computes them again."""
    if use_reentrant is None:
        warnings.warn(_CHOOSE, UserWarning, stacklevel=2)
        use_reentrant = True
    if context_fn is not None or debug:
        raise NotImplementedError("checkpoint's context_fn and debug are not part of autograd_lab")
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        return CheckpointFunction.apply(function, preserve_rng_state, *args)
    return _checkpoint_without_reentry(function, preserve_rng_state, args, kwargs)


def checkpoint_sequential(functions: Sequence[Callable[[Any], Any]], segments: int, input: Any,
                          use_reentrant: bool | None = None, **kwargs: Any) -> Any:
    """Run ``functions`` (e.g. an nn.Sequential) one after another in ``segments`` checkpointed pieces; the last
    piece runs normally (backward starts there anyway)."""
    if use_reentrant is None:
        warnings.warn(_CHOOSE, UserWarning, stacklevel=2)
        use_reentrant = True
    functions = list(functions.children()) if hasattr(functions, "children") else list(functions)
    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(_run_pieces(functions[start:end + 1]), input, use_reentrant=use_reentrant, **kwargs)
    return _run_pieces(functions[end + 1:])(input)


def _run_pieces(pieces: list[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    def run(x: Any) -> Any:
        for piece in pieces:
            x = piece(x)
        return x
    return run


@contextlib.contextmanager
def _random_numbers_as_at(state: dict | None) -> Iterator[None]:
    """Inside: the default generator draws what it drew from ``state`` on (then it goes on where it was)."""
    if state is None:
        yield
        return
    now = copy.deepcopy(vars(default_generator))
    vars(default_generator).update(copy.deepcopy(state))
    try:
        yield
    finally:
        vars(default_generator).update(now)


def _random_state(preserve: bool) -> dict | None:
    return copy.deepcopy(vars(default_generator)) if preserve else None


def _check_some_input_requires_grad(args: tuple) -> None:
    if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", UserWarning, stacklevel=4)


class CheckpointFunction(Function):
    """The reentrant way: forward runs fn under no_grad; backward runs it again with grad on, then backward."""

    @staticmethod
    def forward(ctx: Any, run_function: Callable[..., Any], preserve_rng_state: bool, *args: Any) -> Any:
        _check_some_input_requires_grad(args)
        ctx.run_function, ctx.random = run_function, _random_state(preserve_rng_state)
        ctx.others = [_TENSOR if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*(a for a in args if isinstance(a, Tensor)))
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Tensor) -> tuple[Tensor | None, ...]:
        if graph._graph_tasks and graph._graph_tasks[-1].needed is not None:  # grad(), or backward(inputs=)
            raise RuntimeError("When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or "
                               "passing an `inputs` parameter to .backward(). To resolve this error, you can either "
                               "set use_reentrant=False, or call .backward() without passing the `inputs` argument.")
        saved = iter(ctx._for_backward)
        inputs = [_detached(next(saved)) if o is _TENSOR else o for o in ctx.others]
        with _random_numbers_as_at(ctx.random), enable_grad():
            outputs = ctx.run_function(*inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grad_outputs, strict=False)
                 if isinstance(o, Tensor) and o.requires_grad]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None, *(i.grad if isinstance(i, Tensor) else None for i in inputs))


_TENSOR = object()  # (in ctx.others: a tensor argument, saved with save_for_backward)


def _detached(t: Tensor) -> Tensor:
    """t cut from its graph, requiring grad as t does: backward runs fn again from here."""
    return t.detach().requires_grad_(t.requires_grad)


def _checkpoint_without_reentry(function: Callable[..., Any], preserve_rng_state: bool, args: tuple,
                                kwargs: dict) -> Any:
    """fn runs with saved-tensor hooks that keep only a number for each saved tensor; the first unpack runs fn
    again (same inputs, same random numbers), collecting what its ops save, in the same order."""
    random = _random_state(preserve_rng_state)
    again: list[Tensor] = []
    count = 0

    def pack(t: Tensor) -> int:
        nonlocal count
        count += 1
        return count - 1

    def unpack(position: int) -> Tensor:
        if not again:
            inputs = [_detached(a) if isinstance(a, Tensor) else a for a in args]
            with saved_tensors_hooks(_keep_in(again), lambda t: t), _random_numbers_as_at(random), enable_grad():
                function(*inputs, **kwargs)
        return again[position]

    with saved_tensors_hooks(pack, unpack):
        return function(*args, **kwargs)


def _keep_in(kept: list[Tensor]) -> Callable[[Tensor], Tensor]:
    def keep(t: Tensor) -> Tensor:
        kept.append(t)
        return t
    return keep
