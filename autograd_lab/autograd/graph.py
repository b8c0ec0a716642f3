"""torch.autograd.graph: the backward graph's nodes, their hooks, and hooks on saved tensors.

Every ``grad_fn`` — a built-in op's ``MulBackward0``, a custom Function's
``MulBackward``, a leaf's ``AccumulateGrad`` — is a ``Node``: it has a ``name()``,
``next_functions`` (where the gradients it computes go next), a ``metadata`` dict
for your own notes, and two kinds of hooks the engine calls around it:

- ``register_prehook(fn)``: ``fn(grad_outputs)`` before the node runs (may replace them);
- ``register_hook(fn)``: ``fn(grad_inputs, grad_outputs)`` after it ran (may replace grad_inputs).

``saved_tensors_hooks(pack, unpack)`` changes how tensors saved for backward are kept:
``pack`` runs when a tensor is saved, ``unpack`` when backward reads it back.
``allow_mutation_on_saved_tensors()`` lets an in-place op change a saved tensor (backward
uses the values saved). ``register_multi_grad_hook(tensors, fn)`` calls ``fn`` once per
backward pass, when the gradients of all of ``tensors`` that this pass computes have arrived.
"""

from __future__ import annotations

import contextlib
import functools
import weakref
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from autograd_lab._grad_mode import enable_grad
from autograd_lab.utils.hooks import RemovableHandle

if TYPE_CHECKING:
    from autograd_lab._tensor import Tensor

__all__ = ["GradientEdge", "Node", "allow_mutation_on_saved_tensors", "disable_saved_tensors_hooks",
           "get_gradient_edge", "increment_version",
           "region_activation_memory_budget", "register_multi_grad_hook", "save_on_cpu", "saved_tensors_hooks"]

GradHook = Callable[[tuple, tuple], Any]
PreHook = Callable[[tuple], Any]


class Node:
    """A node of the backward graph: what the engine runs. Subclasses say what ``_run`` does."""

    next_functions: tuple[tuple[Node | None, int], ...] = ()
    _sequence_nr = 0
    _hooks_by_output: dict[int, dict[int, Callable]] | None = None  # tensor hooks, per output
    _retained: dict[int, weakref.ref] | None = None  # outputs that retain_grad(), per output
    _pre_hooks: dict[int, PreHook] | None = None
    _post_hooks: dict[int, GradHook] | None = None
    _num_outputs = 1
    # The shape and dtype of each tensor this node's forward produced: the engine checks the
    # gradients sent here against them (PyTorch keeps this "input metadata" on the node too).
    _output_meta: tuple[tuple[tuple[int, ...], Any], ...] = ()

    def name(self) -> str:
        return type(self).__name__

    @property
    def metadata(self) -> dict:
        """A dict that stays with the node: for your own notes (anomaly mode keeps the forward's traceback here)."""
        if "_metadata" not in self.__dict__:
            self._metadata: dict = {}
        return self._metadata

    def register_hook(self, fn: GradHook) -> RemovableHandle:
        """Call ``fn(grad_inputs, grad_outputs)`` after this node ran; a returned tuple replaces grad_inputs."""
        if self._post_hooks is None:
            self._post_hooks = {}
        return _add_hook(self._post_hooks, fn)

    def register_prehook(self, fn: PreHook) -> RemovableHandle:
        """Call ``fn(grad_outputs)`` before this node runs; a returned tuple replaces grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = {}
        return _add_hook(self._pre_hooks, fn)

    def _tensor_hooks(self, output_nr: int) -> dict[int, Callable]:
        """The hooks of this node's ``output_nr``-th output tensor (Tensor.register_hook adds to it)."""
        if self._hooks_by_output is None:
            self._hooks_by_output = {}
        return self._hooks_by_output.setdefault(output_nr, {})

    def _retain_grad(self, output_nr: int, tensor: Tensor) -> None:
        if self._retained is None:
            self._retained = {}
        self._retained[output_nr] = weakref.ref(tensor)

    def _run(self, grad_outputs: list[Tensor | None]) -> tuple[Tensor | None, ...]:
        raise NotImplementedError

    def _release(self) -> None:
        """Free what was saved for backward (called after the node ran without retain_graph)."""


def _add_hook(hooks: dict[int, Callable], fn: Callable) -> RemovableHandle:
    handle = RemovableHandle(hooks)
    hooks[handle.id] = fn
    return handle


def increment_version(tensor: Tensor | Iterable[Tensor]) -> None:
    """Count an in-place change autograd could not see (e.g. through ``.numpy()``), so that a node
    that saved the old values refuses to use them. (Inference tensors have no version to count.)"""
    for t in (tensor,) if hasattr(tensor, "_version_counter") else tensor:
        if not t._is_inference:
            t._version_counter[0] += 1


# ----- hooks on saved tensors -------------------------------------------------------------------
# The (pack, unpack) pairs in force, innermost last; save_for_backward uses the innermost one.
_saved_hooks: list[tuple[Callable[[Tensor], Any], Callable[[Any], Tensor]]] = []
_saved_hooks_disabled: str | None = None  # the message disable_saved_tensors_hooks() raises with


class GradientEdge(NamedTuple):
    """Where a tensor's gradient goes: its node (grad_fn, or a leaf's AccumulateGrad) and which output of it
    the tensor is. ``torch.autograd.grad(loss, edge)`` asks for the gradient arriving there."""

    node: Node
    output_nr: int
    ownership_token: Any = None


GradientEdge.__module__ = "torch.autograd.graph"  # (displayed as PyTorch's)


def get_gradient_edge(tensor: Tensor) -> GradientEdge:
    """The edge a gradient for ``tensor`` flows along: ``grad(loss, get_gradient_edge(t))`` is ``grad(loss, t)``."""
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does not require gradients")
    if tensor.grad_fn is not None:
        return GradientEdge(tensor.grad_fn, tensor.output_nr)
    with enable_grad():  # a leaf: its AccumulateGrad, found the way PyTorch users find it, through a view's node
        return GradientEdge(*tensor.view_as(tensor).grad_fn.next_functions[0])

class saved_tensors_hooks:  # noqa: N801
    """Inside, each tensor saved for backward is stored as ``pack_hook(tensor)`` and read back as
    ``unpack_hook(packed)`` (to keep it elsewhere, compressed, or to watch what gets saved)."""

    __module__ = "torch.autograd.graph"  # (displayed as PyTorch's; so is save_on_cpu)

    def __init__(self, pack_hook: Callable[[Tensor], Any], unpack_hook: Callable[[Any], Tensor]) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        if _saved_hooks_disabled is not None:
            raise RuntimeError(_saved_hooks_disabled)
        _saved_hooks.append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc: object) -> None:
        _saved_hooks.pop()


class save_on_cpu(saved_tensors_hooks):  # noqa: N801
    """Keep saved tensors on the CPU until backward. Here they already are: only ``pin_memory=True``
    makes a copy (PyTorch copies into pinned memory then)."""

    __module__ = "torch.autograd.graph"

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__((lambda t: t.detach().clone()) if pin_memory else (lambda t: t), lambda packed: packed)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message: str) -> Iterator[None]:
    """Inside, entering ``saved_tensors_hooks`` raises RuntimeError(error_message)."""
    global _saved_hooks_disabled
    previous, _saved_hooks_disabled = _saved_hooks_disabled, error_message
    try:
        yield
    finally:
        _saved_hooks_disabled = previous


# ----- changing a tensor saved for backward ---------------------------------------------------------
_allow_mutation_on_saved_tensors_enabled = False


class _SavedCopy:
    """A tensor saved for backward inside allow_mutation_on_saved_tensors(): the tensor, its version then,
    and a copy of its values then (for backward, should the tensor be changed in place meanwhile)."""

    __slots__ = ("copy", "tensor", "version")

    def __init__(self, tensor: Tensor) -> None:
        self.tensor, self.version, self.copy = tensor, tensor._version, tensor.detach().clone()


class _AllowMutationOnSavedContext:
    """What allow_mutation_on_saved_tensors() yields: the tensors saved inside it (forgotten on exit)."""

    def __init__(self) -> None:
        self.saved: set[_SavedCopy] = set()

    def pack_hook(self, tensor: Tensor) -> _SavedCopy:
        saved = _SavedCopy(tensor)
        self.saved.add(saved)
        return saved

    def unpack_hook(self, saved: _SavedCopy) -> Tensor:
        if not _allow_mutation_on_saved_tensors_enabled or saved not in self.saved:
            raise AssertionError("Trying to backward outside of the 'allow_mutation_on_saved_tensors' context"
                                 "in which the graph was originally recorded.")
        return saved.tensor if saved.tensor._version == saved.version else saved.copy

    def clear(self) -> None:
        self.saved.clear()


@contextlib.contextmanager
def allow_mutation_on_saved_tensors() -> Iterator[_AllowMutationOnSavedContext]:
    """Inside, a tensor saved for backward may be changed in place: backward uses its values from when it was
    saved (outside, backward refuses: "modified by an inplace operation"). Run forward and backward inside.

    PyTorch copies a saved tensor only when an in-place op is about to change it; here every tensor saved
    inside is copied when saved (simpler, at the cost of memory), and the copy is used only if it changed.
    """
    global _allow_mutation_on_saved_tensors_enabled
    if _allow_mutation_on_saved_tensors_enabled:
        raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
    ctx = _AllowMutationOnSavedContext()
    with saved_tensors_hooks(ctx.pack_hook, ctx.unpack_hook):
        _allow_mutation_on_saved_tensors_enabled = True
        try:
            yield ctx
        finally:
            ctx.clear()
            _allow_mutation_on_saved_tensors_enabled = False


def region_activation_memory_budget(budget: float) -> contextlib.AbstractContextManager[None]:
    """PyTorch: how many activations torch.compile may keep for backward in a region. There is no
    torch.compile here, so, as in PyTorch outside a compiled region, it refuses."""
    if isinstance(budget, bool) or not isinstance(budget, (int, float)):
        raise TypeError(f"torch.autograd.graph.region_activation_memory_budget: expects a float, got "
                        f"{type(budget).__name__}")
    if not 0.0 <= budget <= 1.0:
        raise ValueError(f"torch.autograd.graph.region_activation_memory_budget: must be in [0, 1], got {budget}")
    raise RuntimeError("torch.autograd.graph.region_activation_memory_budget can only be used inside a "
                       "torch.compile region; it has no effect in eager mode.")


# ----- hooks on several tensors at once -----------------------------------------------------------
class _GraphTask:
    """One backward() or autograd.grad() call while it runs: the nodes it reaches, and which of them run."""

    __slots__ = ("__weakref__", "captures", "needed", "reached", "roots")

    def __init__(self, roots: list[Node], reached: Collection[Node], needed: Collection[Node] | None,
                 captures: Collection[Node]) -> None:
        self.roots, self.reached, self.needed, self.captures = roots, reached, needed, captures

    def will_execute(self, node: Node) -> bool:
        """True if this pass runs ``node`` (it is reached, and on a path to the ``inputs=`` if any were given)."""
        if node not in self.reached and node not in self.roots:
            return False
        return self.needed is None or node in self.needed or node in self.captures


_graph_tasks: list[_GraphTask] = []  # the backward passes running now, innermost last (the engine keeps it)


def _current_graph_task() -> _GraphTask:
    if not _graph_tasks:
        raise AssertionError("expected this hook to be called inside a backward call")
    return _graph_tasks[-1]


def _get_grad_fn_or_grad_acc(t: Tensor) -> Node:
    """The node that receives ``t``'s gradient: its grad_fn, or for a leaf its AccumulateGrad."""
    if t.requires_grad and t.grad_fn is None:
        with enable_grad():  # a view of a leaf points at the leaf's AccumulateGrad
            return t.view_as(t).grad_fn.next_functions[0][0]
    if t.grad_fn is None:
        raise AssertionError("Expected gradient function to be set")
    return t.grad_fn


class _MultiHandle(RemovableHandle):
    """What register_multi_grad_hook returns: ``remove()`` removes the hook from every tensor."""

    __module__ = "torch.autograd.graph"  # (displayed as PyTorch's)

    def __init__(self, handles: tuple[RemovableHandle, ...]) -> None:
        self.handles = handles

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def register_multi_grad_hook(tensors: Sequence[Tensor], fn: Callable[[Any], None], *,
                             mode: Literal["all", "any"] = "all") -> RemovableHandle:
    """Call ``fn`` once per backward pass, from hooks on each of ``tensors``.

    ``mode="all"``: once the gradients of every tensor this pass reaches have arrived, with the list of
    them (None for a tensor this pass leaves out, e.g. not on the way to ``backward(inputs=...)``).
    ``mode="any"``: with the first of their gradients to arrive.
    """
    supported_modes = ("all", "any")
    if mode not in supported_modes:
        raise ValueError(f"Expects mode to be one of {supported_modes} but got {mode}")
    if mode == "any":
        first_only = _first_grad_only(fn)
        return _MultiHandle(tuple(t.register_hook(first_only) for t in tensors if t.requires_grad))
    nodes = [_get_grad_fn_or_grad_acc(t) for t in tensors]
    # per backward pass (weakly: a pass that ends without all its gradients is forgotten with it)
    expected: weakref.WeakKeyDictionary[_GraphTask, int] = weakref.WeakKeyDictionary()  # gradients still to come
    buffers: weakref.WeakKeyDictionary[_GraphTask, list[Tensor | None]] = weakref.WeakKeyDictionary()

    def hook_for(i: int) -> Callable[[Tensor], None]:
        def inner_hook(grad: Tensor) -> None:
            task = _current_graph_task()
            if task not in expected:  # the first gradient of this pass: count the ones that will come
                expected[task] = sum(task.will_execute(node) for node in nodes)
                buffers[task] = [None] * len(nodes)
            buffers[task][i] = grad
            expected[task] -= 1
            if expected[task] == 0:
                del expected[task]
                fn(buffers.pop(task))
        return inner_hook

    return _MultiHandle(tuple(t.register_hook(hook_for(i)) for i, t in enumerate(tensors)))


def _first_grad_only(fn: Callable[[Tensor], None]) -> Callable[[Tensor], None]:
    """A tensor hook that calls ``fn`` with the first gradient of each backward pass, and ignores the others."""
    seen: weakref.WeakSet[_GraphTask] = weakref.WeakSet()

    @functools.wraps(fn)
    def wrapped_fn(grad: Tensor) -> None:
        task = _current_graph_task()
        if task not in seen:
            seen.add(task)
            fn(grad)

    return wrapped_fn
