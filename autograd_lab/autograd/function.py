"""Function: a differentiable operation, written as a forward and a backward.

Every op in autograd_lab — ``x * y`` as much as a student's ``Mul`` — is a
``Function``. ``Function.apply`` runs ``forward`` with grad mode off; if some
input requires grad, it turns the ``ctx`` into the output's ``grad_fn``: a
backward node (the book's "rectangle in the graph") that remembers where the
gradients go next (``next_functions``) and what ``forward`` saved.

As in PyTorch, ``ctx`` *is* the node: ``y.grad_fn.saved_tensors`` works (for a custom Function's node).
"""

from __future__ import annotations

import functools
import inspect
import itertools
import pathlib
import re
import traceback
import warnings
import weakref
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from autograd_lab import _grad_mode as grad_mode
from autograd_lab._tensor import StaleView, Tensor
from autograd_lab.autograd import anomaly_mode, graph
from autograd_lab.autograd.graph import Node

_sequence = itertools.count()  # creation order of nodes; the engine runs newer nodes first
_keep_inputs = False  # see keep_forward_inputs()

BACKWARD_TWICE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


def _call_node(node: Node, *grad_outputs: Tensor | None) -> Any:
    """``y.grad_fn(grad)``: run a built-in node by hand, as the engine would (no hooks).

    As in PyTorch: one argument per output of the forward; the result is one gradient per
    forward input (None where that input needs none), a single tensor when there is one input.
    """
    if len(grad_outputs) != node._num_outputs:
        raise TypeError(f"expected {node._num_outputs} arguments, got {len(grad_outputs)} instead")
    grads = tuple(None if child is None else g
                  for g, (child, _) in zip(node._run(list(grad_outputs)), node.next_functions))
    return grads[0] if len(grads) == 1 else grads


class AccumulateGrad(Node):
    """The node behind a leaf tensor: adds the gradient that reaches it into ``variable.grad``."""

    _sequence_nr = 2**64 - 1  # as in PyTorch: run as soon as ready
    __call__ = _call_node

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable
        self._output_meta = ((variable._data.shape, variable._data.dtype),)

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    @property
    def _hooks_by_output(self) -> dict[int, dict[int, Callable]] | None:  # type: ignore[override]
        return {0: self.variable._hooks} if self.variable._hooks else None

    def _run(self, grad_outputs: list[Tensor | None]) -> tuple[()]:
        grad, var = grad_outputs[0], self.variable
        if grad is None:
            return ()
        if grad_mode.is_grad_enabled():  # create_graph=True: keep the gradient's own graph
            # a copy recorded in the graph (PyTorch's CopyBackwards), so later in-place updates can't reach `grad`
            var._grad = Tensor._wrap(np.zeros_like(grad._data)).copy_(grad) if var._grad is None else var._grad + grad
        elif var._grad is None:
            var._grad = Tensor._wrap(grad._data.copy())  # a copy: the caller may still hold `grad`
        else:
            var._grad._data = var._grad._data + grad._data
            var._grad._version_counter[0] += 1
        if var._post_accumulate_hooks:
            for hook in tuple(var._post_accumulate_hooks.values()):
                result = hook(var)  # None, or the tensor itself (as PyTorch's own example returns): nothing else
                if result is not None and not isinstance(result, Tensor):
                    raise TypeError(f"expected Variable, but hook returned '{type(result).__name__}'")
                if result is not None and result is not var:
                    raise RuntimeError("Tensor post accumulate grad hooks should return None.")
        return ()


# PyTorch's C++ nodes belong to no Python module: IPython shows them as <AccumulateGrad at 0x...>.
AccumulateGrad.__module__ = "builtins"


def accumulator_of(leaf: Tensor) -> AccumulateGrad:
    """The leaf's AccumulateGrad node, made once so every use of the leaf shares it."""
    if leaf._accumulator is None:
        leaf._accumulator = AccumulateGrad(leaf)
    return leaf._accumulator


def edge_of(t: Tensor) -> tuple[Node | None, int]:
    """Where a gradient for ``t`` must go: its grad_fn, its leaf accumulator, or nowhere."""
    if t._grad_fn is not None:
        refuse_stale(t._grad_fn)
        return t._grad_fn, t._output_nr
    if t._requires_grad and t._made_in is None:
        return accumulator_of(t), 0
    return None, 0


class FunctionCtx:
    """What ``forward`` hands to ``backward``: saved tensors, flags, and any attribute you set."""

    # Class-level defaults keep a fresh ctx cheap: most calls never change them.
    _saved: tuple[Tensor | None, ...] = ()
    _kept_for_jvp: tuple[Tensor | None, ...] = ()
    _save_versions: list[int | None] = []  # noqa: RUF012  (never mutated: replaced per instance; None: nothing saved)
    # Slots packed by a hook (saved_tensors_hooks, or node._raw_saved_x.register_hooks): position -> (unpack
    # hook, the saved tensor's autograd metadata, given back to what unpack returns).
    _hooked: dict[int, tuple[Callable[[Any], Any], tuple]] | None = None
    _freed = False
    _dirty: tuple[Tensor, ...] = ()
    _non_differentiable: tuple[Tensor, ...] = ()
    _materialize_grads = True
    _clear_on_access = False  # the Function's clear_saved_tensors_on_access
    needs_input_grad: tuple[bool, ...] = ()

    def save_for_forward(self, *tensors: Tensor | None) -> None:
        """Keep these tensors for ``jvp`` (forward-mode AD), where ``saved_tensors`` gives them."""
        self._kept_for_jvp = tensors

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep these tensors for backward; it checks they were not modified in place since."""
        versions = []
        for t in tensors:
            if isinstance(t, Tensor):
                versions.append(t._version_counter[0])
            elif t is None:
                versions.append(None)
            else:
                raise TypeError(f"save_for_backward can only save variables, but argument {len(versions)} is "
                                f"of type {type(t).__name__}")
        self._saved = tensors
        self._save_versions = versions

    @property
    def saved_tensors(self) -> tuple[Tensor | None, ...]:
        """What save_for_backward kept. A saved output comes back as a new tensor object at every look, as in
        PyTorch (the node can't hold its own output: a reference cycle); torchviz's drawing shows the difference."""
        saved = self._for_backward
        for t in saved:
            if t is not None and t._grad_fn is self:
                return tuple(None if t is None else self._alias_of_output(t) if t._grad_fn is self else t
                             for t in saved)
        return saved

    def _alias_of_output(self, t: Tensor) -> Tensor:
        alias = Tensor._wrap(t._data, True)
        alias._grad_fn, alias._output_nr, alias._version_counter = self, t._output_nr, t._version_counter
        return alias

    @property
    def _for_backward(self) -> tuple[Tensor | None, ...]:
        """The saved tensors as a built-in op's backward reads them (checked, not copied)."""
        if self._freed:
            raise RuntimeError(BACKWARD_TWICE)
        if self._clear_on_access:  # the Function asked to let go of them after one look
            if self._saved is None:
                raise RuntimeError(ACCESSED_TWICE)
            self._clear_on_access = False
            try:
                return self._for_backward
            finally:
                self._saved, self._clear_on_access = None, True
        if self._hooked is not None:  # packed by a hook: versions can't be followed through it (PyTorch neither)
            return tuple(_unpacked(p, *self._hooked[i]) if i in self._hooked else p for i, p in enumerate(self._saved))
        for t, version in zip(self._saved, self._save_versions):
            if t is not None and t._version_counter[0] != version:
                raise RuntimeError(_modified_error(t, version, self))
        return self._saved

    @property
    def saved_variables(self) -> tuple[Tensor | None, ...]:
        """The 2018 name of ``saved_tensors`` (PyTorch 0.3, as in the book)."""
        warnings.warn("'saved_variables' is deprecated; use 'saved_tensors'", DeprecationWarning, stacklevel=2)
        return self.saved_tensors


    def mark_dirty(self, *tensors: Tensor) -> None:
        """Say that forward modified these inputs in place (and returns them).

        That counts as a change of each (its version goes up, as with any in-place op), so a
        node that saved one of them earlier refuses to run backward instead of using the new
        values. Tensors saved by this forward are taken as saved after the change, as in PyTorch.
        """
        for t in tensors:
            t._version_counter[0] += 1
        self._save_versions = [t._version_counter[0] if _among(t, tensors) else version
                               for t, version in zip(self._saved, self._save_versions)]
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Say that these outputs have no gradient (e.g. indices); they won't require grad."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """If False, backward receives None (not zeros) for outputs that got no gradient."""
        self._materialize_grads = value


def op_name(node: Node) -> str:
    """The forward op a backward node stands for, as PyTorch's messages name it: MulBackward0 -> Mul."""
    return re.sub(r"Backward\d*$", "", node.name())


def _modified_error(t: Tensor, saved_version: int, saver: FunctionCtx) -> str:
    """PyTorch's message; a saved *output* is named after the node that saved it, an input after its grad_fn now."""
    node = t._grad_fn
    refuse_stale(node)  # (t is a view whose history became ambiguous: that is the error)
    while node is not None and node is not saver:  # back through the in-place ops on t: was t saver's output?
        node = node.next_functions[0][0] if node.next_functions else None
    node = node or t._grad_fn
    where = f", which is output {t._output_nr} of {op_name(node)}," if node is not None else ""
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [torch.{t.dtype._scalar_name}Tensor {list(t.shape)}]{where} is at version "
        f"{t._version_counter[0]}; expected version {saved_version} instead. Hint: enable anomaly "
        "detection to find the operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True, check_nan=False)."
    )


ACCESSED_TWICE = ("saved_tensors can only be accessed once when clear_saved_tensors_on_access=True is set on the "
                  "autograd.Function. Either access saved_tensors only once, or set "
                  "clear_saved_tensors_on_access=False.")


class _Unrecorded(FunctionCtx):
    """The ctx of a built-in op run with grad mode off: no node will exist, so nothing is kept."""

    _forward_cls: type[Function]  # the op (as on a node)

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        pass


class BackwardNode(FunctionCtx, Node):
    """The node a Function call leaves in the graph; it is also that call's ``ctx``.

    Each Function gets its own subclass (see ``_NodeClass``).
    """

    _forward_cls: ClassVar[type[Function]]
    _name: ClassVar[str]
    _tensor_positions: list[int] | None = None  # which forward inputs were tensors, when not all were
    _forward_inputs: tuple | None = None  # forward's arguments, kept only inside keep_forward_inputs()

    def name(self) -> str:
        return self._name

    def _unpack_saved(self, i: int) -> Tensor | None:
        """The i-th saved tensor, as a built-in node's ``_saved_*`` attribute shows it."""
        if self._save_versions[i] is None:  # nothing was saved there: None, even after backward freed the rest
            return None
        t = self._for_backward[i]
        return t if t is None or t._grad_fn is not self else self._alias_of_output(t)

    def _release(self) -> None:
        self._freed = True
        self._saved = ()

    def _run(self, grad_outputs: list[Tensor | None]) -> tuple[Tensor | None, ...]:
        fn = self._forward_cls
        for g in grad_outputs:  # (a loop, not `None in grad_outputs`: `in` would compare tensors with ==)
            if g is None:
                break
        else:  # every output received a gradient: the common case
            return self._check_count(fn.backward(self, *grad_outputs))
        if all(g is None for g in grad_outputs) and fn.node_name is not None:
            return (None,) * len(self.next_functions)  # built-in ops, like PyTorch's C++ nodes, pass "none" on
        if self._materialize_grads:
            grad_outputs = [_zeros(meta) if g is None else g for g, meta in zip(grad_outputs, self._output_meta)]
        return self._check_count(fn.backward(self, *grad_outputs))

    def _check_count(self, grads: Any) -> tuple[Tensor | None, ...]:
        """One gradient per forward input (extra trailing Nones allowed); keep the tensor inputs' ones."""
        if type(grads) is not tuple:
            grads = (grads,)
        expected = len(self.needs_input_grad)
        if len(grads) == expected and self._tensor_positions is None:
            return grads  # the common case: one gradient per input, all inputs tensors
        if len(grads) > expected and all(g is None for g in grads[expected:]):
            grads = grads[:expected]
        if len(grads) != expected:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                               f"(expected {expected}, got {len(grads)})")
        if self._tensor_positions is None:  # every forward input was a tensor
            return grads
        for i, g in enumerate(grads):
            if g is not None and i not in self._tensor_positions:
                raise RuntimeError(f"function {self.name()} returned a gradient different than None at "
                                   f"position {i + 1}, but the corresponding forward input was not a Variable")
        return tuple(grads[i] for i in self._tensor_positions)


class BackwardCFunction(BackwardNode):
    """The node of a custom Function (PyTorch's name). ``node.apply(*grads)`` calls its backward."""

    def apply(self, *grad_outputs: Any) -> Any:
        """Run the Function's ``backward`` on these gradients, returning exactly what it returns."""
        return self._forward_cls.backward(self, *grad_outputs)


class _NoSuchAttribute:
    """An attribute a class hides from what it inherits: reading it raises AttributeError, as if never there."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, node: Any, owner: type | None = None) -> Any:
        if node is None:
            raise AttributeError(f"type object '{owner.__name__}' has no attribute '{self.name}'")
        raise AttributeError(f"'{type(node).__name__}' object has no attribute '{self.name}'")


class _BuiltinNode(BackwardNode):
    """The node of a built-in op: callable, like PyTorch's C++ nodes (``y.grad_fn(grad)``). It shows what it
    saved as ``_saved_self``, ``_saved_other``, ... and, as in PyTorch, has no ``saved_tensors``."""

    __call__ = _call_node
    saved_tensors = _NoSuchAttribute()
    saved_variables = _NoSuchAttribute()


def _zeros(meta: tuple[tuple[int, ...], np.dtype]) -> Tensor:
    shape, dt = meta
    return Tensor._wrap(np.zeros(shape, dt))


def _boxed(backward: Callable[..., Any]) -> Callable[..., Any]:
    """``backward(ctx, *grads)`` for the engine, calling a boxed_grads_call ``backward(ctx, [grads])``."""
    @functools.wraps(backward)
    def unboxing(ctx: Any, *grad_outputs: Any) -> Any:
        return backward(ctx, list(grad_outputs))
    return unboxing


class _NodeClass:
    """``MyFunction._backward_cls``: the class of the nodes ``MyFunction.apply`` records.

    Each Function gets its own subclass of ``BackwardNode``: ``<Function>Backward`` for yours,
    PyTorch's names (``MulBackward0``) for the built-in ops. It is made the first time it is needed,
    then kept on the Function (making ~100 classes up front would slow ``import autograd_lab``).
    """

    def __get__(self, instance: Any, cls: type[Function]) -> type[BackwardNode]:
        namespace: dict[str, Any] = {"_forward_cls": cls}
        if cls.node_name is None:  # a custom Function: IPython shows <...function.MulBackward at 0x...>
            name, base = cls.__name__ + "Backward", BackwardCFunction
            namespace["_clear_on_access"] = cls.clear_saved_tensors_on_access
            namespace["__module__"] = "torch.autograd.function"  # where PyTorch makes these classes
        else:  # a built-in op; PyTorch's C++ nodes are in no module: <MulBackward0 at 0x...>
            name, base = cls.node_name, _BuiltinNode
            namespace["__module__"] = "builtins"
            namespace.update({"_saved_" + key: _saved_attribute(key, where) for key, where in cls.saved_as.items()})
            namespace.update({"_raw_saved_" + key: _raw_saved(where) for key, where in cls.saved_as.items()
                              if isinstance(where, int)})
        namespace["_name"] = name
        node_class = type(name.rsplit("::", 1)[-1], (base,), namespace)  # "torch::autograd::X" is class X
        cls._backward_cls = node_class  # from now on a plain class attribute
        return node_class


class Function:
    """Subclass it with static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``.

    ``backward`` returns one gradient per ``forward`` input (None where there is
    none). Call it as ``MyFunction.apply(*args)``. The PyTorch 2 style — a
    ``forward(*args)`` without ctx plus ``setup_context(ctx, inputs, output)`` — works too.
    """

    node_name: ClassVar[str | None] = None  # set by built-in ops: PyTorch's node name, e.g. "MulBackward0"
    # Built-in ops: what the node keeps, under PyTorch's names, read as ``y.grad_fn._saved_<name>``: an int
    # is a position among the tensors given to save_for_backward, a str an attribute of ctx, or ctx -> value.
    saved_as: ClassVar[dict[str, int | str | Callable[[Any], Any]]] = {}
    # Built-in ops: positions of tensor inputs PyTorch never differentiates (an index, a mask, a target, a
    # class weight): like its nodes, ours keeps no edge for them in next_functions.
    inputs_without_gradient: ClassVar[frozenset[int]] = frozenset()
    # Built-in ops: positions of optional tensor inputs (batch_norm's weight, clamp's min): given as None, they
    # still have their edge, (None, 0), as in PyTorch's nodes.
    optional_inputs: ClassVar[frozenset[int]] = frozenset()
    # Set True in a subclass: saved_tensors can be read once, then the node lets go of them (less memory).
    clear_saved_tensors_on_access: ClassVar[bool] = False
    # Set True in a subclass: backward(ctx, grads) gets one list it may empty as it goes (less memory).
    boxed_grads_call: ClassVar[bool] = False
    _backward_cls: ClassVar[type[BackwardNode]]
    _bind: ClassVar[Callable[[tuple, dict], tuple] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.backward is Function.backward and cls.vjp is not Function.vjp:
            cls.backward = cls.vjp  # PyTorch accepts either name
        if cls.boxed_grads_call and ("backward" in vars(cls) or "vjp" in vars(cls)):
            cls.backward = staticmethod(_boxed(cls.backward))
        cls._backward_cls = _NodeClass()  # type: ignore[assignment]  # (made at first use: see _NodeClass)
        if cls.setup_context is not Function.setup_context:
            cls._bind = staticmethod(_binder(cls.forward))

    def __init__(self) -> None:
        warnings.warn(f"{type(self)} should not be instantiated. Methods on autograd functions are all "
                      "static, so you should invoke them on the class itself. Instantiating an autograd "
                      "function will raise an error in a future version of PyTorch.",
                      DeprecationWarning, stacklevel=2)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use new-style "
            "autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> None:
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward  # the other name of backward

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it "
                                  "with forward mode AD.")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run forward; if any input requires grad, record the node that will run backward."""
        if op_watcher is not None and cls.node_name is not None:
            return _watched(cls, args, kwargs)
        if grad_mode._dual_level >= 0 and _carries_tangent(args):
            return apply_with_tangents(cls, args, kwargs)
        if not grad_mode._enabled and cls.node_name is not None:
            # A built-in op with grad mode off (as inside every backward): nothing will be recorded, so
            # forward runs alone, with a ctx that drops what it saves (PyTorch's ops skip autograd likewise).
            ctx = _Unrecorded()
            ctx._forward_cls, ctx.needs_input_grad = cls, (False,) * len(args)
            return cls.forward(ctx, *args, **kwargs)
        ctx = cls._backward_cls()
        if cls._bind is not None:  # PyTorch 2 style: the inputs, defaults filled in, are what setup_context sees
            args, kwargs = cls._bind(args, kwargs), {}
        flags = []
        for a in args:  # (a plain loop: on this path a comprehension's own call costs more than the loop)
            flags.append(isinstance(a, Tensor) and a._requires_grad)
        needs = ctx.needs_input_grad = tuple(flags)
        enabled = grad_mode._enabled
        if StaleView.made and enabled and True in needs:  # (before forward: nothing changes when it refuses)
            for a in args:
                if isinstance(a, Tensor):
                    refuse_stale(a._grad_fn)
        # What no_grad() does, minus its overhead (this is the hot path). 0, not False: a view made inside
        # knows it is part of a recorded op, not made under no_grad (_ops/operands.py, view_of).
        grad_mode._enabled = 0
        try:
            if cls._bind is None:
                output = cls.forward(ctx, *args, **kwargs)
            else:
                output = cls.forward(*args)
                cls.setup_context(ctx, args, output)
        finally:
            grad_mode._enabled = enabled
        if enabled and True in needs:
            return _connect(ctx, args, output)
        if cls.node_name is None and type(output) is Tensor and _among(output, args) and not (ctx._dirty and enabled):
            return _alias(output)  # a custom forward returned an input: PyTorch gives a new tensor object (for
            # one it changed, only with grad mode off)
        return output


# Shown every built-in op while set (selective checkpointing's policy: utils/checkpoint.py): called as
# op_watcher(cls, args, kwargs), before the op runs. Ops run inside a watched op (its own parts) are not shown.
op_watcher: Callable[[type[Function], tuple, dict], None] | None = None


def _watched(cls: type[Function], args: tuple, kwargs: dict) -> Any:
    global op_watcher
    watcher, op_watcher = op_watcher, None
    try:
        watcher(cls, args, kwargs)
        return cls.apply(*args, **kwargs)
    finally:
        op_watcher = watcher


def set_op_watcher(watcher: Callable[[type[Function], tuple, dict], None] | None) -> None:
    global op_watcher
    op_watcher = watcher


_NO_EDGE = (None, 0)
_ABSENT = Tensor._wrap(np.zeros(0))  # (stands for an optional input given as None: an input needing no gradient)
# After an in-place change, re-make the grad_fn of the changed memory's other views: _ops/stale_views.py
# (which imports this module) sets it.
rebase_views: Callable[[Tensor], None] | None = None


def set_rebase_views(rebase: Callable[[Tensor], None]) -> None:
    global rebase_views
    rebase_views = rebase


def move_retained(t: Tensor, node: Node, output_nr: int) -> None:
    """t, which retains its grad, gets a new history (an in-place change): .grad keeps following t."""
    old = t._grad_fn
    if old is not None and old._retained is not None and type(old) is not StaleView:
        old._retained.pop(t._output_nr, None)
    node._retain_grad(output_nr, t)


def refuse_stale(node: Any) -> None:
    """A stale view's grad_fn (see StaleView) can't be used: raise its error."""
    if type(node) is StaleView:
        raise RuntimeError(node.error)


# The dual tensors of the current forward AD level, by id (a WeakSet would compare tensors with ==).
tangents_made: weakref.WeakValueDictionary[int, Tensor] = weakref.WeakValueDictionary()


def set_tangent(t: Tensor, tangent: Tensor) -> None:
    """Give ``t`` a tangent at the current forward AD level (dropped when the level ends)."""
    t._fw_grad = tangent
    tangents_made[id(t)] = t


def _carries_tangent(args: tuple) -> bool:
    return any(isinstance(a, Tensor) and a._fw_grad is not None for a in args)


# How apply runs when an input carries a tangent: set by autograd/forward_ad.py (the only maker of tangents,
# it imports this module, so this module can't import it).
apply_with_tangents: Callable[[type[Function], tuple, dict], Any] | None = None


_OPS_DIR = str(pathlib.Path(__file__).parent.parent / "_ops")


def _forward_trace(fn: type[Function]) -> list[str]:
    """Where the forward call ran, as anomaly mode shows it: the caller's frames, then for a custom Function
    the ``apply`` that ran it (PyTorch's built-in ops run in C++, so their frames end at the caller)."""
    frames = traceback.extract_stack()[:-2]  # (without this function and _connect)
    apply = frames.pop()
    while frames and frames[-1].filename.startswith(_OPS_DIR):  # a built-in op's own Python frames
        frames.pop()
    if not fn.__module__.startswith("autograd_lab."):
        frames.append(apply)
    return traceback.format_list(frames)


def _connect(ctx: BackwardNode, args: tuple, output: Any) -> Any:
    """Make ``ctx`` the outputs' grad_fn, with edges to where the inputs' gradients go."""
    edges = []
    op = type(ctx)._forward_cls
    with_edges = args
    if op.inputs_without_gradient or op.optional_inputs:  # (as if the first were no tensors, the second tensors)
        with_edges = tuple(None if i in op.inputs_without_gradient else
                           _ABSENT if a is None and i in op.optional_inputs else a for i, a in enumerate(args))
    for a in with_edges:
        if isinstance(a, Tensor):
            if a._grad_fn is not None:
                edges.append((a._grad_fn, a._output_nr))
            else:
                edges.append((accumulator_of(a), 0) if a._requires_grad and a._made_in is None else _NO_EDGE)
    ctx.next_functions = tuple(edges)
    if grad_mode._inference_used:
        _refuse_inference_tensors(ctx._saved)
    if len(edges) != len(args):
        ctx._tensor_positions = [i for i, a in enumerate(with_edges) if isinstance(a, Tensor)]
    ctx._sequence_nr = next(_sequence)
    if anomaly_mode._enabled:
        ctx.metadata["traceback_"] = _forward_trace(type(ctx)._forward_cls)
    if _keep_inputs:
        ctx._forward_inputs = args

    # The common case, kept short: one new floating tensor (the loop below handles every case, this one too).
    if (type(output) is Tensor and not ctx._dirty and not ctx._non_differentiable and output._data.dtype.kind == "f"
            and not _among(output, args)):
        output._grad_fn, output._requires_grad = ctx, True
        ctx._output_meta = ((output._data.shape, output._data.dtype),)
        if graph._saved_hooks:
            _pack_saved(ctx)
        return output
    single = not isinstance(output, tuple)
    outputs = [output] if single else list(output)
    ctx._num_outputs = len(outputs)
    ctx._output_meta = tuple((o._data.shape, o._data.dtype) if isinstance(o, Tensor) else ((), np.float32)
                             for o in outputs)
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            continue
        differentiable = out._data.dtype.kind == "f" and not _among(out, ctx._non_differentiable)  # (ints: never)
        if _among(out, ctx._dirty):
            if out._grad_fn is None and out._requires_grad:  # (built-in in-place ops checked before forward)
                raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
            _check_inplace(out)
        elif _among(out, args):  # forward returned an input as is: give back an alias
            out = outputs[i] = _alias(out)
        if differentiable:
            if out._retains_grad:
                move_retained(out, ctx, i)
            out._grad_fn, out._output_nr, out._requires_grad = ctx, i, True
    for t in ctx._dirty:  # the other views of what changed: their gradients must follow the change
        rebase_views(t)
    if graph._saved_hooks:
        _pack_saved(ctx)
    return outputs[0] if single else tuple(outputs)


def _pack_saved(ctx: BackwardNode) -> None:
    """Inside saved_tensors_hooks(pack, unpack): the node keeps what pack returns (packed once the outputs
    are wired, as in PyTorch, so a saved output shows its grad_fn)."""
    pack, unpack = graph._saved_hooks[-1]
    for i, t in enumerate(ctx._saved):
        if t is not None:
            _pack_slot(ctx, i, pack(t), unpack, t)


def _pack_slot(node: BackwardNode, i: int, packed: Any, unpack: Callable[[Any], Any], t: Tensor) -> None:
    node._saved = (*node._saved[:i], packed, *node._saved[i + 1:])
    if node._hooked is None:
        node._hooked = {}
    node._hooked[i] = (unpack, (t._requires_grad, t._grad_fn, t._output_nr))


def _unpacked(packed: Any, unpack: Callable[[Any], Any], meta: tuple) -> Tensor:
    """What unpack returns, as the saved tensor it stands for (PyTorch gives back its grad_fn / requires_grad)."""
    t = unpack(packed)
    if not isinstance(t, Tensor):
        raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor but got result of type "
                        f"{type(t).__name__}")
    out = Tensor._wrap(t._data, meta[0])
    out._grad_fn, out._output_nr, out._version_counter = meta[1], meta[2], t._version_counter
    return out


class SavedTensor:
    """``node._raw_saved_self``: one tensor a built-in node saved; ``register_hooks(pack, unpack)`` chooses how
    it is kept (pack runs now, unpack whenever backward, or ``node._saved_self``, reads it)."""

    def __init__(self, node: BackwardNode, i: int) -> None:
        self._node, self._i = node, i

    def register_hooks(self, pack_hook: Callable[[Tensor], Any], unpack_hook: Callable[[Any], Tensor]) -> None:
        node, i = self._node, self._i
        if node._freed:
            raise RuntimeError("Calling register_hooks on a saved tensor after it has been freed. Saved intermediate "
                               "values of the graph are freed when you call .backward() or autograd.grad(). Specify "
                               "retain_graph=True if you need to backward through the graph a second time or if you "
                               "need to access saved variables after calling backward.")
        if node._save_versions[i] is None:
            raise RuntimeError("Calling register_hooks on a saved tensor with value None is forbidden")
        if node._hooked is not None and i in node._hooked:
            raise RuntimeError("Calling register_hooks on a saved tensor whose hooks have already been set. Hint: "
                               "only one pair of hooks is allowed at a time.")
        t = node._saved[i]
        _pack_slot(node, i, pack_hook(t.detach()), unpack_hook, t)


def _refuse_inference_tensors(saved: tuple[Tensor | None, ...]) -> None:
    for t in saved:
        if t is not None and t._is_inference:
            raise RuntimeError(
                "Inference tensors cannot be saved for backward. Please do not use Tensors created in inference mode "
                "in computation tracked by autograd. To work around this, you can make a clone to get a normal tensor "
                "and use it in autograd, or use `torch.no_grad()` instead of `torch.inference_mode()`.")


class keep_forward_inputs:  # noqa: N801
    """Inside, every recorded node also keeps its forward's arguments (``node._forward_inputs``).

    Off by default (it keeps every intermediate tensor alive). The graph drawing
    uses it to show each tensor's value, and the stepper's diff mode to replay
    each node in PyTorch.
    """

    def __enter__(self) -> keep_forward_inputs:
        global _keep_inputs
        self._previous, _keep_inputs = _keep_inputs, True
        return self

    def __exit__(self, *exc: object) -> None:
        global _keep_inputs
        _keep_inputs = self._previous


def _alias(t: Tensor) -> Tensor:
    """A new tensor object for t's values (same memory, same version counter): a view of t that may not be
    changed in place (the custom backward would not know), as in PyTorch."""
    out = Tensor._wrap(t._data)
    out._version_counter = t._version_counter
    out._base, out._view_fn = (t if t._base is None else t._base), refuse_custom_view
    return out


def refuse_view_made_without_grad(view: Tensor, through: str | None = None) -> None:
    """What an in-place change of such a view (or of a view of it) gets when the graph would record it;
    ``through``: the change goes through a view of ``view`` that this op makes (x[0] = 1: Select)."""
    raise RuntimeError(_ambiguous_view_error(view, through, stale=False))


def stale_view_error(view: Tensor) -> str:
    """What using such a view with autograd gets after its base (or another view of it) changed in place."""
    return _ambiguous_view_error(view, None, stale=True)


def _ambiguous_view_error(view: Tensor, through: str | None, stale: bool) -> str:
    if view._made_in is None:  # one of several views made at once (unbind, split), made with grad mode on
        where = (f"Output {view._output_nr} of {op_name(view._grad_fn)} is a view" if view._grad_fn is not None
                 else "A view was created in no_grad mode")  # (PyTorch's words for such a view without a grad_fn)
        mode = "" if view._grad_fn is not None else " with grad mode enabled"
        return (f"{where} and its base or another view of its base has been modified inplace{mode}. This view is the "
                "output of a function that returns multiple views. Such functions do not allow the output views to be "
                "modified inplace. You should replace the inplace operation by an out-of-place one.")
    if through is not None:
        head = f"Output 0 of {through} is a view of a view which was"
    elif view._grad_fn is not None:
        head = f"Output {view._output_nr} of {op_name(view._grad_fn)} is a view of a view which was"
    else:
        head = "A view was"
    changed = "its base or another view of its base has been" if stale else "is being"
    if view._made_in == "no_grad":
        what, block = f"no_grad mode and {changed} modified inplace with grad mode enabled", "no_grad"
    else:
        what, block = f"inference mode and {changed} modified inplace in normal mode", "inference_mode"
    return (f"{head} created in {what}. Given that this use case is ambiguous and error-prone, it is forbidden. You "
            f"can clarify your code by moving both the view and the inplace either both inside the {block} block (if "
            "you don't want the inplace to be tracked) or both outside (if you want the inplace to be tracked).")


def refuse_custom_view(view: Tensor) -> None:
    """What an in-place change of a custom Function's output that is one of its inputs gets."""
    where = f"Output {view._output_nr} of {op_name(view._grad_fn)}" if view._grad_fn else "A view"
    raise RuntimeError(f"{where} is a view and is being modified inplace. This view was created inside a custom "
                       "Function (or because an input was returned as-is) and the autograd logic to handle "
                       "view+inplace would override the custom backward associated with the custom Function, leading "
                       "to incorrect gradients. This behavior is forbidden. You can fix this by cloning the output "
                       "of the custom Function.")


def _among(t: Tensor, items: tuple) -> bool:
    """Is ``t`` one of ``items``? (By identity: ``in`` would compare tensors elementwise.)"""
    for item in items:
        if item is t:
            return True
    return False


def _check_inplace(t: Tensor) -> None:
    """PyTorch's rules for an in-place change that the graph must record."""
    if t._grad_fn is None and t._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    base = t._base
    if base is not None and base._requires_grad:
        if base._grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        raise RuntimeError("autograd_lab does not support a custom Function that marks a view dirty "
                           "(mark_dirty) while its base requires grad: pass the base itself, or clone() the view.")


def _binder(forward: Callable) -> Callable[[tuple, dict], tuple]:
    """For setup_context: the inputs tuple as PyTorch builds it, defaults filled in (read once, here)."""
    signature = inspect.signature(forward)
    params = signature.parameters.values()
    plain = len(params) if all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params) else -1

    def bind(args: tuple, kwargs: dict) -> tuple:
        if len(args) == plain and not kwargs:  # every argument given, by position: nothing to do
            return args
        bound = signature.bind(*args, **kwargs)  # raises TypeError("missing a required argument: 'b'")
        bound.apply_defaults()
        return bound.args
    return bind


# What PyTorch's C++ nodes keep as Scalars (shown as given); every other integer they keep is an int64
# that they show as unsigned: a dim of -1 reads 18446744073709551615. Sizes and dims read as tuples.
_SCALARS = frozenset({"alpha", "beta", "exponent", "min", "max", "other", "self"})


def _saved_attribute(key: str, where: int | str | Callable[[Any], Any]) -> property:
    """A built-in node's ``_saved_<key>``: a saved tensor (by position), a ctx attribute, or computed from ctx."""
    if isinstance(where, int):
        return property(lambda node: node._unpack_saved(where))
    read = where if callable(where) else lambda node: getattr(node, where, None)
    if key in _SCALARS:
        return property(read)
    return property(lambda node: _as_int64_field(read(node)))


def _raw_saved(i: int) -> property:
    """A built-in node's ``_raw_saved_<key>``: the saved slot itself, to register pack/unpack hooks on."""
    return property(lambda node: SavedTensor(node, i))


def _as_int64_field(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_as_int64_field(v) for v in value)
    if isinstance(value, np.integer):
        value = int(value)
    if type(value) is int and value < 0:
        return value + 2**64
    return value


def once_differentiable(fn: Callable) -> Callable:
    """Mark a backward that is not itself differentiable (e.g. written in NumPy).

    It runs without recording a graph; asking for a second derivative through
    it raises a clear error instead of silently returning wrong values.
    """
    @functools.wraps(fn)
    def wrapper(ctx: Any, *args: Any) -> Any:
        with grad_mode.no_grad():
            outputs = fn(ctx, *args)
        if not grad_mode.is_grad_enabled():
            return outputs
        if not any(isinstance(a, Tensor) and a._requires_grad for a in args):
            return outputs
        single = not isinstance(outputs, tuple)
        fakes = [None if o is None else o.detach().requires_grad_() for o in ((outputs,) if single else outputs)]
        errors = DelayedError.apply(*fakes)
        return errors if single or isinstance(errors, tuple) else (errors,)
    return wrapper


class DelayedError(Function):
    """Stands in for a once_differentiable backward's outputs; differentiating it raises."""

    node_name = "torch::autograd::Error"

    @staticmethod
    def forward(ctx: Any, *tensors: Tensor | None) -> Any:
        outs = tuple(None if t is None else Tensor._wrap(t._data) for t in tensors)
        return outs[0] if len(outs) == 1 else outs

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")
