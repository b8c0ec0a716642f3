"""torch.utils.checkpoint: keep fewer tensors for backward, and compute them again when backward needs them.

``checkpoint(fn, x, use_reentrant=False)`` gives fn's result and gradients, but the tensors fn's ops
save for backward are not kept: backward runs fn a second time (with the same random numbers) to get
them back. Memory for compute: useful when a graph's saved tensors would not fit. Two ways, as in PyTorch:

- ``use_reentrant=False`` (recommended): saved-tensor hooks drop each saved tensor and, the first time
  backward asks for one, run fn again to get them all (the graph is fn's own: ``AddmmBackward0`` ...);
- ``use_reentrant=True``: fn runs under no_grad inside one custom Function, whose backward runs fn again
  with grad on and calls backward on that (the graph shows one ``CheckpointFunctionBackward`` node).

The second run stops as soon as it has given back every saved tensor ("early stop", on by default), so
fn's code after its last op that saves something runs once. Selective checkpointing (``context_fn=``, made
by ``create_selective_checkpoint_contexts``) asks a policy about each op of the first run that makes a node,
named as PyTorch names it; PyTorch then keeps the outputs of the ops it says to save instead of computing
them again. Here every op is computed again: values and gradients are the same, memory and time differ.
"""

from __future__ import annotations

import contextlib
import copy
import enum
import warnings
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from autograd_lab import _aten
from autograd_lab._generator import default_generator
from autograd_lab._grad_mode import enable_grad, no_grad
from autograd_lab._tensor import Tensor
from autograd_lab.autograd import function as autograd_function
from autograd_lab.autograd import graph
from autograd_lab.autograd.engine import backward
from autograd_lab.autograd.function import Function
from autograd_lab.autograd.graph import saved_tensors_hooks

__all__ = ["CheckpointFunction", "CheckpointPolicy", "SelectiveCheckpointContext", "checkpoint",
           "checkpoint_sequential", "create_selective_checkpoint_contexts", "noop_context_fn",
           "set_checkpoint_early_stop"]

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
    if use_reentrant:
        if context_fn is not None or debug:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        return CheckpointFunction.apply(function, preserve_rng_state, *args)
    if debug:
        raise NotImplementedError("checkpoint's debug=True (a trace of PyTorch's ATen ops) is not part of autograd_lab")
    contexts = (context_fn or noop_context_fn)()
    stop_early = _early_stop[-1] if _early_stop else early_stop
    return _checkpoint_without_reentry(function, preserve_rng_state, args, kwargs, contexts, stop_early)


def noop_context_fn() -> tuple[contextlib.nullcontext, contextlib.nullcontext]:
    """checkpoint's default ``context_fn``: nothing around either run."""
    return contextlib.nullcontext(), contextlib.nullcontext()


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
                                kwargs: dict, contexts: tuple[Any, Any], stop_early: bool) -> Any:
    """fn runs with saved-tensor hooks that keep only a number for each saved tensor; the first unpack runs fn
    again (same inputs, same random numbers), collecting what its ops save, in the same order (with
    ``stop_early``, only until it has them all). ``contexts``: entered around the first run and the second."""
    random = _random_state(preserve_rng_state)
    again: list[Tensor] = []
    count = 0
    first_run, second_run = contexts

    def pack(t: Tensor) -> int:
        nonlocal count
        count += 1
        return count - 1

    def keep(t: Tensor) -> Tensor:
        again.append(t)
        if stop_early and len(again) == count:
            raise _Recomputed
        return t

    recomputed_for: list[Any] = []  # (a weak reference to) the backward pass that ran fn again: each pass does

    def unpack(position: int) -> Tensor:
        task = graph._graph_tasks[-1] if graph._graph_tasks else None
        if not recomputed_for or recomputed_for[0]() is not task:
            recomputed_for[:] = [weakref.ref(task) if task is not None else lambda: None]
            again.clear()
            inputs = [_detached(a) if isinstance(a, Tensor) else a for a in args]
            with contextlib.suppress(_Recomputed), second_run, saved_tensors_hooks(keep, lambda t: t), \
                    _random_numbers_as_at(random), enable_grad():
                function(*inputs, **kwargs)
        return again[position]

    with first_run, saved_tensors_hooks(pack, unpack):
        return function(*args, **kwargs)


class _Recomputed(Exception):  # noqa: N818  (not an error: the second run has given back every saved tensor)
    pass


_early_stop: list[bool] = []  # set_checkpoint_early_stop's choices, the innermost last: over checkpoint's argument


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool) -> Iterator[None]:
    """Inside, checkpoints made (without reentry) stop their second run early, or not, whatever their argument."""
    _early_stop.append(enable)
    try:
        yield
    finally:
        _early_stop.pop()


class CheckpointPolicy(enum.Enum):
    """What selective checkpointing does with an op's output: keep it, or compute it again in backward."""

    MUST_SAVE = 0
    PREFER_SAVE = 1
    MUST_RECOMPUTE = 2
    PREFER_RECOMPUTE = 3
    MUST_CPU_OFFLOAD = 4
    PREFER_CPU_OFFLOAD = 5


class SelectiveCheckpointContext:
    """The ``ctx`` a selective checkpointing policy gets: ``ctx.is_recompute`` says which run this is."""

    def __init__(self, *, is_recompute: bool, op_output: Any = None) -> None:
        self.is_recompute, self.op_output = is_recompute, op_output


def create_selective_checkpoint_contexts(policy_fn_or_list: Callable[..., Any] | list,
                                         allow_cache_entry_mutation: bool = False) -> tuple[Any, Any]:
    """``context_fn`` for checkpoint: a policy ``policy_fn(ctx, op, *args, **kwargs) -> CheckpointPolicy`` asked
    about each op (``torch.ops.aten.mm.default`` ...) of the first run, or the list of ops to save."""
    if isinstance(policy_fn_or_list, list):
        for op in policy_fn_or_list:
            if not isinstance(op, _aten.OpOverload):
                raise ValueError(f"Expected op in `op_list` to be an OpOverload but got: {op} of type {type(op)}. ")
        ops_to_save = policy_fn_or_list

        def policy_fn(ctx: SelectiveCheckpointContext, op: Any, *args: Any, **kwargs: Any) -> CheckpointPolicy:
            return CheckpointPolicy.MUST_SAVE if op in ops_to_save else CheckpointPolicy.PREFER_RECOMPUTE
    elif callable(policy_fn_or_list):
        policy_fn = policy_fn_or_list
    else:
        raise TypeError("policy_fn_or_list must be either a function or a list of ops.")

    def ask(cls: type[Function], args: tuple, kwargs: dict) -> None:
        """(The policy gets the op's tensor arguments: the others are autograd_lab's own, not ATen's.)"""
        if _aten.is_aten(cls):
            tensors = [a for a in args if isinstance(a, Tensor)]
            policy_fn(SelectiveCheckpointContext(is_recompute=False), _aten.op_of(cls), *tensors)

    return _Watching(ask), contextlib.nullcontext()  # (the second run recomputes every op: nothing to ask)


class _Watching:
    """Inside: ``watcher`` is shown every built-in op (autograd/function.py's op_watcher)."""

    def __init__(self, watcher: Callable[[type[Function], tuple, dict], None]) -> None:
        self._watcher = watcher

    def __enter__(self) -> None:
        self._before = autograd_function.op_watcher
        autograd_function.set_op_watcher(self._watcher)

    def __exit__(self, *exc: object) -> None:
        autograd_function.set_op_watcher(self._before)
