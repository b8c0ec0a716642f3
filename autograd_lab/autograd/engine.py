"""The backward engine, written as a generator of steps.

``iter_backward`` walks the graph from the roots the way PyTorch's engine does:

1. count, for every node, how many edges point at it (its dependencies);
2. run a node once all its gradients have arrived — among ready nodes the most
   recently created first (PyTorch orders its ready queue by sequence number);
3. sum gradients that meet at a node, check what each backward returned
   (shape, dtype), sum a broadcast gradient back to its input's shape, and send
   it along ``next_functions``.

It yields a ``BackwardStep`` after every node, so ``backward()`` simply runs it to
the end while the GraphStepper widget pulls one step at a time: students watch
the real engine, not a replay. Graph walks use explicit stacks, never recursion.
"""

from __future__ import annotations

import heapq
import itertools
import warnings
from collections.abc import Collection, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_lab import _dtype
from autograd_lab import _grad_mode as grad_mode
from autograd_lab._ops._cascade_sum import sum_to
from autograd_lab._tensor import Tensor, is_expandable_to, summed_dims
from autograd_lab._torch_warnings import triggered_at
from autograd_lab.autograd import anomaly_mode, graph
from autograd_lab.autograd.function import AccumulateGrad, Node, edge_of

Edge = tuple[Node | None, int]  # (node, which of its outputs); None where no gradient is needed
_warned_about_cycles = False
TensorOrTensors = Tensor | Sequence[Tensor]


@dataclass(slots=True)
class BackwardStep:
    """One node's turn: the gradients it received and the gradients it sent on."""

    node: Node
    grad_outputs: tuple[Tensor | None, ...]  # d(root)/d(each output of the node's forward)
    grad_inputs: tuple[Tensor | None, ...]  # what it sent along next_functions, summed to shape
    leaf: Tensor | None = None  # for an AccumulateGrad step: the leaf whose .grad was updated


# A gradient may be inf or nan (1/x at 0): PyTorch gives it silently, NumPy would also warn.
_IEEE_SILENT = {"divide": "ignore", "over": "ignore", "invalid": "ignore"}


def iter_backward(
    tensors: TensorOrTensors,
    grad_tensors: TensorOrTensors | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> Generator[BackwardStep, None, None]:
    """``backward()`` one node at a time: the same engine, paused after each node.

    ``for step in iter_backward(loss): print(step.node.name(), step.grad_inputs)``
    prints the graph's nodes in the order the engine runs them. Leaves' ``.grad``
    fill in as the AccumulateGrad steps go by, exactly as in ``loss.backward()``.
    """
    outputs = _tuple(tensors, 1)
    grads = _make_grads(outputs, _tuple(grad_tensors, len(outputs)))
    steps = _run_nodes(_roots(outputs), grads, create_graph if retain_graph is None else retain_graph, create_graph,
                       pause=True)
    while True:
        with np.errstate(**_IEEE_SILENT):  # only while a node runs: not around the caller's code between steps
            step = next(steps, None)
        if step is None:
            return
        node, received, sent = step
        yield BackwardStep(node, tuple(received), tuple(sent), node.variable if type(node) is AccumulateGrad else None)


def _run_to_end(steps: Generator[Any, None, list[Tensor | None]]) -> list[Tensor | None]:
    """Run an engine made without ``pause`` (backward() and grad()) in one go; return what it captured.

    NumPy's inf/nan warnings are off here, once for the whole backward pass (cheaper than per node).
    """
    try:
        with np.errstate(**_IEEE_SILENT):
            while True:
                next(steps)
    except StopIteration as finished:
        return finished.value


def _run_nodes(
    roots: Sequence[Edge],
    grad_roots: Sequence[Tensor | None],
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Edge] | None = None,
    targets: set[Node] | None = None,
    pause: bool = False,
) -> Generator[tuple[Node, list[Tensor | None], list[Tensor | None]], None, list[Tensor | None]]:
    """The engine itself: with ``pause``, after each node it yields (node, gradients received, gradients sent).

    Without ``pause`` (backward(), grad()) it runs to the end in one go, in the grad mode a
    backward runs in; with it (the stepper), the caller's grad mode is back between steps.

    With ``inputs`` (autograd.grad), the gradients arriving at those edges are
    captured and returned instead of being accumulated into ``.grad``. With
    ``targets`` (``backward(inputs=...)``), those nodes run and fill in ``.grad``.
    Either way, nodes that lead to none of them are not run, nor their hooks.
    """
    root_nodes = list(dict.fromkeys(node for node, _ in roots))
    dependencies = _count_dependencies(root_nodes)
    captures: dict[Node, list[tuple[int, int]]] = {}
    for i, (node, nr) in enumerate(inputs or ()):
        captures.setdefault(node, []).append((nr, i))
    needed = None
    if inputs is not None:
        needed = _leading_to(root_nodes, dependencies, captures)
    elif targets is not None:
        needed = _leading_to(root_nodes, dependencies, targets) | targets
    captured: list[Tensor | None] = [None] * len(inputs or ())

    buffers: dict[Node, list[Tensor | None]] = {}
    for (node, nr), grad in zip(roots, grad_roots):
        _add(buffers, node, nr, grad)
    ready: list[tuple[int, int, Node]] = []  # a heap: the newest node (highest sequence number) first;
    pushes = itertools.count()  # ties (all AccumulateGrad nodes share a number) go first come, first served
    for node in root_nodes:
        if node not in dependencies:
            heapq.heappush(ready, (-node._sequence_nr, next(pushes), node))

    task = graph._GraphTask(root_nodes, dependencies, needed, captures)  # for register_multi_grad_hook
    graph._graph_tasks.append(task)
    previous, dual = grad_mode._enabled, grad_mode._dual_level
    try:
        while ready:
            node = heapq.heappop(ready)[2]
            grads = buffers.pop(node)
            if needed is not None and node not in needed and node not in captures:
                continue  # on no path to the inputs: PyTorch skips it, hooks included
            grad_mode._enabled = create_graph  # (the caller's mode comes back when the engine stops or pauses)
            grad_mode._dual_level = -1  # a backward computes gradients only (no forward-mode tangents)
            try:
                if captures:  # autograd.grad's inputs, taken where PyTorch's engine takes them:
                    if node not in needed:  # a path ends here: after the node's tensor hooks (they run alone)
                        if node._hooks_by_output or node._retained:
                            _run_tensor_hooks(node, grads)
                        for nr, i in captures.get(node, ()):
                            captured[i] = grads[nr]
                        continue
                    for nr, i in captures.get(node, ()):  # the node runs on: before any of its hooks
                        captured[i] = grads[nr]
                if node._hooks_by_output or node._retained:
                    _run_tensor_hooks(node, grads)
                if node._pre_hooks:
                    grads = _run_pre_hooks(node, grads)
                sent = list(node._run(grads))
                edges = node.next_functions
                if len(sent) != len(edges):
                    raise RuntimeError(f"invalid number of gradients - expected {len(edges)}, but got {len(sent)}")
                if node._post_hooks:  # they see (and may replace) the gradients as fitted to the inputs
                    sent = _run_post_hooks(node, _fitted(node, sent), grads)
                if anomaly_mode._enabled and anomaly_mode._check_nan:
                    _refuse_nan(node, sent)
                for i, (child, nr) in enumerate(edges):
                    if child is None:  # an input that needs no gradient
                        sent[i] = None
                        continue
                    grad = sent[i]
                    buffer = buffers.get(child)
                    if buffer is None:
                        buffer = buffers[child] = [None] * child._num_outputs
                    if grad is not None:
                        shape, dtype = child._output_meta[nr]
                        if not isinstance(grad, Tensor) or grad._data.shape != shape or grad._data.dtype is not dtype:
                            grad = sent[i] = _fit(node, i, grad, shape, dtype)
                        buffer[nr] = grad if buffer[nr] is None else buffer[nr] + grad  # (_add, inlined: every edge)
                    dependencies[child] -= 1
                    if dependencies[child] == 0:
                        heapq.heappush(ready, (-child._sequence_nr, next(pushes), child))
            except Exception:
                if anomaly_mode._enabled:  # anything failing here (the node, its hooks): say where it was made
                    _warn_where_made(node)
                raise
            if not retain_graph:
                node._release()
            if pause:
                grad_mode._enabled, grad_mode._dual_level = previous, dual
                yield node, grads, sent
                previous, dual = grad_mode._enabled, grad_mode._dual_level
    finally:
        grad_mode._enabled, grad_mode._dual_level = previous, dual
        graph._graph_tasks.remove(task)
    return captured


def _count_dependencies(roots: list[Node]) -> dict[Node, int]:
    """For every node reachable from ``roots``: how many edges point at it."""
    dependencies: dict[Node, int] = {}
    seen = set(roots)
    stack = list(roots)
    while stack:
        for child, _ in stack.pop().next_functions:
            if child is None:
                continue
            dependencies[child] = dependencies.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return dependencies


def _leading_to(roots: list[Node], dependencies: dict[Node, int], targets: Collection[Node]) -> set[Node]:
    """The nodes that must run for the gradients of ``targets``: those with a target below them."""
    remaining = dict(dependencies)
    order, stack = [], [n for n in roots if n not in dependencies]
    while stack:  # Kahn's algorithm: parents before children
        node = stack.pop()
        order.append(node)
        for child, _ in node.next_functions:
            if child is not None:
                remaining[child] -= 1
                if remaining[child] == 0:
                    stack.append(child)
    needed: set[Node] = set()
    for node in reversed(order):
        if any(c is not None and (c in needed or c in targets) for c, _ in node.next_functions):
            needed.add(node)
    return needed


def _add(buffers: dict[Node, list[Tensor | None]], node: Node, nr: int, grad: Tensor | None) -> None:
    """Gradients that meet at the same output are summed."""
    buffer = buffers.get(node)
    if buffer is None:
        buffer = buffers[node] = [None] * node._num_outputs
    if grad is not None:
        buffer[nr] = grad if buffer[nr] is None else buffer[nr] + grad


def _run_tensor_hooks(node: Node, grads: list[Tensor | None]) -> None:
    """Hooks registered on the node's output tensors may replace their gradient; retain_grad stores it."""
    hooks = node._hooks_by_output
    if hooks:
        for nr, fns in hooks.items():
            for fn in list(fns.values()):
                if grads[nr] is not None:
                    result = fn(grads[nr])
                    if result is not None:
                        grads[nr] = result
    if node._retained:
        for nr, ref in node._retained.items():
            tensor, grad = ref(), grads[nr]
            if tensor is not None and grad is not None:
                grad = grad if grad_mode.is_grad_enabled() else Tensor._wrap(grad._data.copy())
                tensor._grad = grad if tensor._grad is None else tensor._grad + grad


def _run_pre_hooks(node: Node, grads: list[Tensor | None]) -> list[Tensor | None]:
    """``node.register_prehook(fn)``: fn(grad_outputs) before the node runs; a returned tuple replaces them."""
    for fn in list(node._pre_hooks.values()):
        result = fn(tuple(grads))
        if result is not None:
            grads = list(_checked_hook_result(fn, result, len(grads)))
    return grads


def _fitted(node: Node, sent: list[Tensor | None]) -> list[Tensor | None]:
    """What ``node`` sends along next_functions, each gradient fitted to its input (None where none is needed)."""
    return [None if child is None or grad is None else _fit(node, i, grad, *child._output_meta[nr])
            for i, ((child, nr), grad) in enumerate(zip(node.next_functions, sent))]


def _run_post_hooks(node: Node, sent: list[Tensor | None], grads: list[Tensor | None]) -> list[Tensor | None]:
    """``node.register_hook(fn)``: fn(grad_inputs, grad_outputs) after the node ran; a returned tuple replaces
    grad_inputs (what goes on along next_functions)."""
    for fn in list(node._post_hooks.values()):
        result = fn(tuple(sent), tuple(grads))
        if result is not None:
            sent = list(_checked_hook_result(fn, result, len(sent)))
    return sent


def _checked_hook_result(fn: Any, result: Any, expected: int) -> tuple:
    name = getattr(fn, "__name__", type(fn).__name__)
    if not isinstance(result, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(result).__name__}'")
    if len(result) != expected:
        raise RuntimeError(f"hook '{name}' has returned an incorrect number of values (got {len(result)}, but "
                           f"expected {expected})")
    return result


def _refuse_nan(node: Node, sent: list[Tensor | None]) -> None:
    """detect_anomaly(check_nan=True): a node may not send NaN gradients."""
    for i, grad in enumerate(sent):
        if isinstance(grad, Tensor) and np.isnan(grad._data).any():
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")


def _warn_where_made(node: Node) -> None:
    """Anomaly mode's warning for a failing node: the forward call that created it."""
    stack = "".join(getattr(node, "metadata", {}).get("traceback_", []))
    warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n{stack}"
                  + triggered_at("torch/csrc/autograd/python_anomaly_mode.cpp:122"), UserWarning, stacklevel=3)


def _fit(node: Node, i: int, grad: object, shape: tuple[int, ...], dtype: np.dtype) -> Tensor:
    """PyTorch's checks on a gradient for a tensor of ``shape`` and ``dtype``: sum a broadcast gradient
    back to the tensor's shape, convert the dtype, refuse anything else (a fitting one is returned as is)."""
    if not isinstance(grad, Tensor):
        raise TypeError(f"function {node.name()} returned a gradient of type {type(grad).__name__} at "
                        f"index {i}; expected a Tensor or None")
    if grad._data.shape != shape:
        if not is_expandable_to(shape, grad._data.shape):
            raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {i} - got "
                               f"{list(grad._data.shape)} but expected shape compatible with {list(shape)}")
        if grad_mode._enabled:  # create_graph: the sum is recorded (a SumBackward node), to differentiate again
            grad = grad.sum_to_size(shape)
        else:  # nothing to record: sum the arrays directly (this runs for every broadcast bias, every step)
            grad = Tensor._wrap(sum_to(grad._data, shape, summed_dims(shape, grad._data.shape)))
    if grad._data.dtype != dtype:
        grad = grad.to(_dtype.from_numpy_dtype(dtype))
    return grad



# ----- the two entry points: torch.autograd.backward and torch.autograd.grad -------------------
def _tuple(tensors: TensorOrTensors | None, length: int) -> tuple:
    if tensors is None:
        return (None,) * length
    if isinstance(tensors, (Tensor, graph.GradientEdge)):  # (an edge is a tuple, but one input)
        return (tensors,)
    return tuple(tensors)


def _make_grads(outputs: tuple[Tensor, ...], grads: tuple) -> list[Tensor | None]:
    """The gradient to start each output with: given, or 1 for a scalar (PyTorch's checks)."""
    made = []
    for i, (out, grad) in enumerate(zip(outputs, grads)):
        if isinstance(grad, Tensor):
            if grad.shape != out.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {grad.shape} and "
                                   f"output[{i}] has a shape of {out.shape}.")
            made.append(grad)
        elif grad is None:
            if out.requires_grad:
                if out.numel() != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                made.append(Tensor._wrap(np.ones(out._data.shape, out._data.dtype)))
            else:
                made.append(None)
        else:
            raise TypeError(f"gradients can be either Tensors or None, but got {type(grad).__name__}")
    return made


def _roots(outputs: tuple[Tensor, ...]) -> list[Edge]:
    roots = []
    for i, out in enumerate(outputs):
        node, nr = edge_of(out)
        if node is None:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        roots.append((node, nr))
    return roots


def backward(
    tensors: TensorOrTensors,
    grad_tensors: TensorOrTensors | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    grad_variables: TensorOrTensors | None = None,
    inputs: TensorOrTensors | dict[str, Tensor] | None = None,
) -> None:
    """Add d(tensors)/d(leaf) to every leaf's ``.grad`` (``grad_variables``: the 0.3 name).

    With ``inputs``, only to theirs (a non-leaf input's ``.grad`` fills in too, as after ``retain_grad()``).
    """
    if grad_variables is not None:
        warnings.warn("`grad_variables` is deprecated. Use `grad_tensors` instead.", FutureWarning, stacklevel=2)
        if grad_tensors is not None:
            raise RuntimeError("`grad_tensors` and `grad_variables` (deprecated) arguments both passed to "
                               "`backward()`. Please only use `grad_tensors`.")
        grad_tensors = grad_variables
    outputs = _tuple(tensors, 1)
    grads = _make_grads(outputs, _tuple(grad_tensors, len(outputs)))
    roots = _roots(outputs)  # (the outputs are checked before the inputs, as in PyTorch)
    targets = None if inputs is None else _input_nodes(inputs)
    if retain_graph is None:
        retain_graph = create_graph
    global _warned_about_cycles
    if create_graph and not _warned_about_cycles:  # once a process, as PyTorch's TORCH_WARN_ONCE
        _warned_about_cycles = True
        warnings.warn("Using backward() with create_graph=True will create a reference cycle between the parameter "
                      "and its gradient which can cause a memory leak. We recommend using autograd.grad when creating "
                      "the graph to avoid this. If you have to use this function, make sure to reset the .grad fields "
                      "of your parameters to None after use to break the cycle and avoid the leak."
                      + triggered_at("torch/csrc/autograd/engine.cpp:1307"), UserWarning,
                      stacklevel=3)
    _run_to_end(_run_nodes(roots, grads, retain_graph, create_graph, targets=targets))


def _input_nodes(inputs: TensorOrTensors | dict[str, Tensor]) -> set[Node]:
    """The nodes ``backward(inputs=...)`` must reach; each input is asked to retain its grad (PyTorch's checks)."""
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    elif type(inputs) is dict:
        inputs = tuple(inputs.values())
    elif isinstance(inputs, Mapping):
        raise TypeError(f"`inputs` argument to `backward()` must be a dict, not {type(inputs).__name__}. "
                        "Other Mapping types are not supported.")
    inputs = tuple(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    nodes = set()
    for t in inputs:
        if not isinstance(t, Tensor):
            raise RuntimeError(f"all inputs have to be Tensors or GradientEdges, but got {type(t).__name__}")
        t.retain_grad()
        nodes.add(edge_of(t)[0])
    return nodes


def grad(
    outputs: TensorOrTensors,
    inputs: TensorOrTensors,
    grad_outputs: TensorOrTensors | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """Return d(outputs)/d(inputs) without touching any ``.grad``."""
    outs = _tuple(outputs, 1)
    ins = _tuple(inputs, 1)
    if allow_unused is None:
        allow_unused = materialize_grads
    grads = _make_grads(outs, _tuple(grad_outputs, len(outs)))
    roots = _roots(outs)  # (the outputs are checked before the inputs, as in PyTorch)
    for t in ins:
        if isinstance(t, graph.GradientEdge):
            if materialize_grads:
                raise RuntimeError("materialize_grads cannot be used when the given input is a GradientEdge")
        elif not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    edges = [t[:2] if isinstance(t, graph.GradientEdge) else edge_of(t) for t in ins]
    captured = _run_to_end(_run_nodes(roots, grads, retain_graph, create_graph, edges))
    result = []
    for i, (t, g) in enumerate(zip(ins, captured)):
        if g is None:
            if materialize_grads:
                g = Tensor._wrap(np.zeros(t._data.shape, t._data.dtype))
            elif not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
        result.append(g)
    return tuple(result)
