"""One graph model for autograd_lab tensors *and* real torch tensors: what ``draw()`` and the stepper show.

``build_graph(loss, names=locals())`` walks back from ``loss.grad_fn`` along
``next_functions`` (with a stack, no recursion) and returns plain data: op nodes
(the book's rectangles), tensor nodes (leaves, constants and each op's output)
with their values, the edges in the forward direction, and the order in which
the forward pass created the ops (their sequence numbers). One reader serves both
libraries because autograd_lab keeps PyTorch's graph attributes: ``grad_fn``,
``next_functions``, ``name()``, ``AccumulateGrad.variable`` and the sequence number.

A tensor box can only show a value the graph can still reach. Intermediate values
come from: tensors named in ``names``, the tensors a node saved for backward, the
output itself, and — when the graph was built inside
``autograd_lab.autograd.function.keep_forward_inputs()`` — each node's forward
arguments (which also reveal the constants: inputs that need no gradient).
"""

from __future__ import annotations

import heapq
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from autograd_lab._tensor import Tensor
from autograd_lab.nn import Module

NodeKind = Literal["op", "leaf", "constant", "tensor"]


@dataclass(eq=False)
class GraphNode:
    """One box of the drawing: an op (a backward node) or a tensor (leaf, constant, or an op's output)."""

    id: str  # unique in its graph; also the drawing's ``data-node``
    kind: NodeKind
    label: str  # what the box says first: the op's name, the tensor's name ("" if unnamed)
    value: np.ndarray | None = None  # tensors: a copy of the values, None if the graph no longer reaches them
    grad: np.ndarray | None = None  # leaves: a copy of ``.grad`` when the graph was read
    shape: tuple[int, ...] | None = None  # tensors: known from the op that made it even when the value is not
    inputs: tuple[str | None, ...] = ()  # ops: the tensor node behind each entry of next_functions
    source: Any = field(default=None, repr=False)  # the library's object: backward node or tensor


@dataclass(frozen=True)
class GraphEdge:
    """A forward edge: a tensor into an op (``index``: its position in next_functions) or an op to its output."""

    src: str
    dst: str
    index: int


@dataclass(eq=False)
class Graph:
    """Nodes in forward order (every op after its inputs, its outputs right after it), edges, and the root."""

    nodes: dict[str, GraphNode]
    edges: list[GraphEdge]
    root: str
    ops: list[str]  # op ids in creation order (sequence numbers)
    library: Literal["autograd_lab", "torch"]
    backward_nodes: list[Any] = field(default_factory=list, repr=False)  # what backward runs: ops, AccumulateGrads
    _ids: dict[int, str] = field(default_factory=dict, repr=False)  # id(backward node) -> node id

    def id_of(self, backward_node: Any) -> str:
        """The graph id of a backward node; an AccumulateGrad node stands for its leaf."""
        try:
            return self._ids[id(backward_node)]
        except KeyError:
            raise KeyError(f"{backward_node!r} is not a node of this graph") from None

    def outputs(self, op: str) -> list[str]:
        """The tensor nodes an op produced (those the graph uses)."""
        return [e.dst for e in self.edges if e.src == op]


def build_graph(tensor: Any, names: Mapping[str, Any] | None = None) -> Graph:
    """Read the graph behind ``tensor`` (autograd_lab or torch); name tensors from ``names`` (e.g. ``locals()``)."""
    library = _library_of(tensor)
    if tensor.grad_fn is None and not tensor.requires_grad:
        raise ValueError("this tensor is not part of a graph: it has no grad_fn and does not require grad "
                         "(create the inputs with requires_grad=True before computing it)")
    return _GraphReader(library, _names_by_identity(names or {})).read(tensor)


class _GraphReader:
    """Builds one Graph; holds the bookkeeping (ids, known values) while it walks."""

    def __init__(self, library: Literal["autograd_lab", "torch"], names: dict[int, tuple[str, Any]]) -> None:
        self.library = library
        self.names = names
        self.graph = Graph({}, [], "", [], library)
        self.values: dict[tuple[int, int], Any] = {}  # (id(op), output nr) -> a tensor holding that output
        self.output_ids: dict[tuple[int, int], str] = {}  # (id(op), output nr) -> node id
        self.tensor_ids: dict[int, str] = {}  # id(leaf or constant) -> node id
        self.taken: set[str] = set()

    def read(self, tensor: Any) -> Graph:
        graph = self.graph
        if tensor.grad_fn is None:  # a lone leaf
            graph.root = self._leaf(tensor)
            return graph
        ops, used = _walk(tensor.grad_fn)
        root_key = (id(tensor.grad_fn), tensor.output_nr)
        used.setdefault(id(tensor.grad_fn), set()).add(root_key[1])
        self._collect_values(tensor, ops)
        for op in ops:
            inputs = tuple(self._input(op, i, child, nr) for i, (child, nr) in enumerate(op.next_functions))
            label = _op_label(op)
            op_id = self._add(label, GraphNode("", "op", label, inputs=inputs, source=op))
            graph._ids[id(op)] = op_id
            graph.backward_nodes.append(op)
            graph.ops.append(op_id)
            graph.edges += [GraphEdge(src, op_id, i) for i, src in enumerate(inputs) if src is not None]
            for nr in sorted(used.get(id(op), ())):
                out_id = self._output(op, op_id, nr)
                graph.edges.append(GraphEdge(op_id, out_id, nr))
        graph.root = self.output_ids[root_key]
        return graph

    def _collect_values(self, root: Any, ops: list[Any]) -> None:
        """Every tensor we can still reach that is the output of one of the ops."""
        candidates = [root, *(t for _, t in self.names.values())]
        for op in ops:
            candidates += _saved_tensors(op, self.library)
            candidates += [a for a in (getattr(op, "_forward_inputs", None) or ()) if _is_tensor(a)]
        for t in candidates:
            if t.grad_fn is not None:
                self.values.setdefault((id(t.grad_fn), t.output_nr), t)

    def _input(self, op: Any, i: int, child: Any, nr: int) -> str | None:
        """The node id of input ``i`` of ``op``: a leaf, another op's output, a constant, or None."""
        if child is None:
            forward_tensors = _tensor_inputs(op)
            return None if forward_tensors is None else self._constant(forward_tensors[i])
        if hasattr(child, "variable"):  # AccumulateGrad: the edge ends at a leaf
            leaf_id = self._leaf(child.variable)
            if id(child) not in self.graph._ids:
                self.graph._ids[id(child)] = leaf_id
                self.graph.backward_nodes.append(child)
            return leaf_id
        return self.output_ids[(id(child), nr)]

    def _leaf(self, t: Any) -> str:
        if id(t) not in self.tensor_ids:
            name = self._name(t)
            grad = None if t.grad is None else to_numpy(t.grad)
            node = GraphNode("", "leaf", name or "", to_numpy(t), grad, source=t)
            self.tensor_ids[id(t)] = self._add(name or "leaf", node, numbered=name is None)
            node.label = node.label or node.id
        return self.tensor_ids[id(t)]

    def _constant(self, t: Any) -> str:
        if id(t) not in self.tensor_ids:
            name = self._name(t)
            node = GraphNode("", "constant", name or "", to_numpy(t), source=t)
            self.tensor_ids[id(t)] = self._add(name or "const", node, numbered=name is None)
        return self.tensor_ids[id(t)]

    def _output(self, op: Any, op_id: str, nr: int) -> str:
        t = self.values.get((id(op), nr))
        name = self._name(t) if t is not None else None
        node = GraphNode("", "tensor", name or "", None if t is None else to_numpy(t), source=t,
                         shape=_output_shape(op, nr))
        self.output_ids[(id(op), nr)] = self._add(name or (f"{op_id}.out" + (str(nr) if nr else "")), node)
        return self.output_ids[(id(op), nr)]

    def _name(self, t: Any) -> str | None:
        found = self.names.get(id(t))
        return found[0] if found is not None and found[1] is t else None

    def _add(self, wanted: str, node: GraphNode, numbered: bool = False) -> str:
        """Give ``node`` a unique id: ``wanted`` (or ``wanted0``, ``wanted1``... when numbered)."""
        k, candidate = 0, wanted + "0" if numbered else wanted
        while candidate in self.taken:
            k += 1
            candidate = f"{wanted}{k}" if numbered else f"{wanted}#{k + 1}"
        self.taken.add(candidate)
        node.id = candidate
        self.graph.nodes[candidate] = node
        return candidate


def _walk(root: Any) -> tuple[list[Any], dict[int, set[int]]]:
    """The op nodes behind ``root`` in creation order, and which outputs of each op are used."""
    ops, used, seen, stack = [], {}, {id(root)}, [root]
    while stack:
        node = stack.pop()
        if hasattr(node, "variable"):  # AccumulateGrad
            continue
        ops.append(node)
        for child, nr in node.next_functions:
            if child is None:
                continue
            used.setdefault(id(child), set()).add(nr)
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return _creation_order(ops), used


def _creation_order(ops: list[Any]) -> list[Any]:
    """Ops by sequence number, and never before the ops that made their inputs (Kahn's algorithm).

    Sequence numbers alone would do within one thread; torch counts them per thread.
    """
    producers = {id(op): {id(c) for c, _ in op.next_functions if c is not None and not hasattr(c, "variable")}
                 for op in ops}
    consumers: dict[int, list[Any]] = {}
    for op in ops:
        for producer in producers[id(op)]:
            consumers.setdefault(producer, []).append(op)
    position = {id(op): i for i, op in enumerate(ops)}  # breaks ties between equal sequence numbers
    ready = [(sequence_nr(op), position[id(op)], op) for op in ops if not producers[id(op)]]
    heapq.heapify(ready)
    ordered = []
    while ready:
        op = heapq.heappop(ready)[2]
        ordered.append(op)
        for consumer in consumers.get(id(op), ()):
            waiting = producers[id(consumer)]
            waiting.discard(id(op))
            if not waiting:
                heapq.heappush(ready, (sequence_nr(consumer), position[id(consumer)], consumer))
    return ordered


def _output_shape(op: Any, nr: int) -> tuple[int, ...] | None:
    """The shape of output ``nr`` of ``op``'s forward, which the node records for backward's checks."""
    meta = getattr(op, "_output_meta", None)  # autograd_lab: (shape, dtype) per output
    if meta is not None:
        return tuple(meta[nr][0]) if nr < len(meta) else None
    try:  # torch: the metadata of the gradients the node will receive
        return tuple(op._input_metadata[nr].shape)
    except (AttributeError, IndexError, RuntimeError):
        return None


def sequence_nr(node: Any) -> int:
    """When the forward pass created ``node`` (torch: a method ``_sequence_nr()``; autograd_lab: an int)."""
    nr = node._sequence_nr
    return nr() if callable(nr) else nr


def _op_label(op: Any) -> str:
    return op.name().rsplit("::", 1)[-1]  # "torch::autograd::CopySlices" -> "CopySlices"


def _tensor_inputs(op: Any) -> list[Any] | None:
    """The forward's tensor arguments, aligned with next_functions (autograd_lab inside keep_forward_inputs())."""
    args = getattr(op, "_forward_inputs", None)
    return None if args is None else [a for a in args if _is_tensor(a)]


def _saved_tensors(op: Any, library: str) -> list[Any]:
    """What the node saved for backward: ``saved_tensors`` (torch's custom Functions), torch's ``_saved_*``
    (its built-in nodes), or every autograd_lab node's ``_for_backward``."""
    attributes = ["_for_backward"]
    if library == "torch":  # built-in torch nodes expose each saved tensor as _saved_self, _saved_other...
        attributes = ["saved_tensors", *(a for a in dir(op) if a.startswith("_saved_"))]
    found = []
    for attribute in attributes:
        try:
            value = getattr(op, attribute, None)
        except RuntimeError:  # freed by an earlier backward, or modified in place since
            continue
        items = value if isinstance(value, (tuple, list)) else (value,)
        found += [t for t in items if _is_tensor(t)]
    return found


def to_numpy(t: Any) -> np.ndarray:
    """A copy of a tensor's values, either library (a snapshot: later in-place changes do not reach it)."""
    return np.array(t.detach().cpu().numpy() if not isinstance(t, Tensor) else t.detach().numpy(), copy=True)


def _library_of(t: Any) -> Literal["autograd_lab", "torch"]:
    if isinstance(t, Tensor):
        return "autograd_lab"
    if _is_torch_tensor(t):
        return "torch"
    raise TypeError(f"expected an autograd_lab or torch tensor, got {type(t).__name__}")


def _is_torch_tensor(obj: Any) -> bool:
    torch = sys.modules.get("torch")  # if torch was never imported, obj cannot be a torch tensor
    return torch is not None and isinstance(obj, torch.Tensor)


def _is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor) or _is_torch_tensor(obj)


def _is_module(obj: Any) -> bool:
    torch = sys.modules.get("torch")
    return isinstance(obj, Module) or (torch is not None and isinstance(obj, torch.nn.Module))


def _names_by_identity(names: Mapping[str, Any]) -> dict[int, tuple[str, Any]]:
    """id(tensor) -> (name, tensor); a module's parameters become ``model.0.weight``.

    ``locals()`` in a notebook also holds IPython's ``_``, ``_3``, ``Out``...: names that
    start with an underscore are skipped; the first name of a tensor wins.
    """
    found: dict[int, tuple[str, Any]] = {}
    for key, value in names.items():
        if not isinstance(key, str) or key.startswith("_"):
            continue
        pairs: Iterable[tuple[str, Any]] = ()
        if _is_tensor(value):
            pairs = [(key, value)]
        elif _is_module(value):
            pairs = ((f"{key}.{name}", p) for name, p in value.named_parameters())
        for name, t in pairs:
            found.setdefault(id(t), (name, t))
    return found
