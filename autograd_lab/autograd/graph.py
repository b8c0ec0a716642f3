"""torch.autograd.graph: the backward graph's nodes, their hooks, and hooks on saved tensors.

Every ``grad_fn`` — a built-in op's ``MulBackward0``, a custom Function's
``MulBackward``, a leaf's ``AccumulateGrad`` — is a ``Node``: it has a ``name()``,
``next_functions`` (where the gradients it computes go next), a ``metadata`` dict
for your own notes, and two kinds of hooks the engine calls around it:

- ``register_prehook(fn)``: ``fn(grad_outputs)`` before the node runs (may replace them);
- ``register_hook(fn)``: ``fn(grad_inputs, grad_outputs)`` after it ran (may replace grad_inputs).

``saved_tensors_hooks(pack, unpack)`` changes how tensors saved for backward are kept:
``pack`` runs when a tensor is saved, ``unpack`` when backward reads it back.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from autograd_lab.utils.hooks import RemovableHandle

if TYPE_CHECKING:
    from autograd_lab._tensor import Tensor

__all__ = ["Node", "disable_saved_tensors_hooks", "increment_version", "save_on_cpu", "saved_tensors_hooks"]

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


class saved_tensors_hooks:  # noqa: N801
    """Inside, each tensor saved for backward is stored as ``pack_hook(tensor)`` and read back as
    ``unpack_hook(packed)`` (to keep it elsewhere, compressed, or to watch what gets saved)."""

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

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__((lambda t: t.detach().clone()) if pin_memory else (lambda t: t), lambda packed: packed)


class disable_saved_tensors_hooks:  # noqa: N801
    """Inside, entering ``saved_tensors_hooks`` raises RuntimeError(error_message)."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> None:
        global _saved_hooks_disabled
        self._previous, _saved_hooks_disabled = _saved_hooks_disabled, self.error_message

    def __exit__(self, *exc: object) -> None:
        global _saved_hooks_disabled
        _saved_hooks_disabled = self._previous
