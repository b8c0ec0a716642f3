"""The stepper without widgets: the forward steps, the backward steps of the real engine, and what each shows.

Positions run from 0 to ``stepper.last``. Position 0 shows the leaves before any op
ran ("forward 0/N"); position k <= N shows the graph once the forward pass has
created its k-th op; position N + j shows the backward pass after the engine ran
its j-th node ("backward j/M").

**Backward on autograd_lab** comes from ``iter_backward``: the real engine, paused
after each node. A step is pulled only when you first move onto it; stepping back
shows what was recorded and never re-runs a node. The engine runs with
``retain_graph=True``, so the graph stays usable, and it fills in the leaves' ``.grad``
exactly as ``output.backward()`` does.

**What a stepper shows is what its own backward did**, never a leaf's current ``.grad``.
A stepper shares its leaves with the notebook, and after "Run All" later cells have
usually run ``backward()`` into the same leaves before anyone steps: ``b.grad`` may
already hold ``[1.]`` when the stepper's AccumulateGrad adds its ``[1.]``. So a leaf's
box shows the gradient this backward delivered to it (like every other tensor's box),
and the AccumulateGrad step records ``.grad`` just before and just after it ran, in
the past tense: true whenever the student looks, and it shows accumulation at work.
(Giving each stepper leaves of its own would hide exactly that, and would mean the
stepper's backward is not the student's.)

**Backward on torch**: torch's engine cannot pause. On the first backward step the
stepper runs ``output.backward(retain_graph=True)`` once, with a hook on every node
recording what it received and returned, then shows those records one by one.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np

from autograd_lab.autograd.engine import iter_backward
from autograd_lab.graph import Graph, build_graph, to_numpy
from autograd_lab.viz.svg import ACTIVE_COLOUR, DONE_COLOUR, Scene, format_values
from autograd_lab.viz.torch_replay import MISSING_INPUTS, Verdict, compare_node

PANEL_STYLE = """<style>
.al-panel{font:13px/1.45 system-ui,sans-serif;min-width:300px;max-width:380px;padding:0 0 0 12px}
.al-panel .al-status{font:bold 15px monospace;margin-bottom:6px}
.al-panel table{border-collapse:collapse;margin:6px 0}
.al-panel th{text-align:left;padding:2px 8px 2px 0;vertical-align:top;font-weight:600}
.al-panel td{font-family:monospace;padding:2px 0}
.al-verdict--match{color:#2e7d32}.al-verdict--mismatch{color:#c62828}.al-verdict--unchecked{color:#666}
</style>"""
# The legend is plain HTML with inline styles: it also shows in a stored notebook, whose HTML JupyterLab sanitizes.
_SWATCH = ('<span style="white-space:nowrap;margin-right:10px"><span style="display:inline-block;width:14px;'
           'height:10px;margin:0 4px -1px 0;border-radius:2px;background:{fill};border:{border}"></span>{text}</span>')
_LEGEND_STATES = [("#fff", f"3px solid {ACTIVE_COLOUR}", "current step"), ("#fff", f"2px solid {DONE_COLOUR}",
                                                                             "ran backward")]
_LEGEND_VERDICTS = [("#d3f5d3", "2px solid #2e8b2e", "same gradients as torch"),
                    ("#ffd2d2", "2px solid #c62828", "differs from torch"),
                    ("#e6e6e6", "1px solid #666", "not compared")]


@dataclass(frozen=True)
class BackwardRecord:
    """One node's turn in backward, as the stepper shows it (arrays are copies taken at that moment)."""

    node: str  # graph id of the node that ran (its leaf, for an AccumulateGrad node)
    grad_outputs: tuple[np.ndarray | None, ...] = ()  # what it received
    grad_inputs: tuple[np.ndarray | None, ...] = ()  # what it returned, aligned with next_functions
    leaf_grad: np.ndarray | None = None  # AccumulateGrad: the leaf's .grad right after
    leaf_grad_before: np.ndarray | None = None  # AccumulateGrad: the leaf's .grad right before (None: it had none)
    error: str | None = None  # the exception that stopped the engine at this node
    verdict: Verdict | None = None  # diff mode: compared with torch


class Stepper:
    """Forward then backward, one node per step; ``svg()`` and ``panel_html()`` show the current position."""

    def __init__(self, output: Any, names: Mapping[str, Any] | None = None, compare_with_torch: bool = False) -> None:
        graph = build_graph(output, names)
        _check_steppable(output, graph, compare_with_torch)
        self.graph = graph
        self.scene = Scene(graph, grad_line=True)
        self.backward = (_EngineSteps if graph.library == "autograd_lab" else _TorchRecording)(
            output, graph, compare_with_torch)
        self.compare_with_torch = compare_with_torch
        self.position = 0
        self._edges_in: dict[str, list[int]] = {n: [] for n in graph.nodes}  # node id -> indices of its edges
        self._edges_out: dict[str, list[int]] = {n: [] for n in graph.nodes}
        for k, e in enumerate(graph.edges):
            self._edges_in[e.dst].append(k)
            self._edges_out[e.src].append(k)

    # ----- moving ---------------------------------------------------------------------------
    @property
    def forward_steps(self) -> int:
        return len(self.graph.ops)

    @property
    def last(self) -> int:
        """The last position: every forward step, then every backward step."""
        return self.forward_steps + self.backward.total

    def goto(self, position: int) -> int:
        """Move to ``position`` (clamped), running the engine as far as needed; return where we are."""
        position = max(0, min(int(position), self.last))
        if position > self.forward_steps:
            self.backward.pull(position - self.forward_steps, self._failing_node)
            position = min(position, self.last)  # an error stops the engine early
        self.position = position
        return position

    def step(self) -> int:
        return self.goto(self.position + 1)

    def back(self) -> int:
        return self.goto(self.position - 1)

    def reset(self) -> int:
        return self.goto(0)

    # ----- what the current position shows -------------------------------------------------
    def status(self) -> str:
        """``forward 2/5`` or ``backward 3/5``."""
        j = self.position - self.forward_steps
        if j <= 0:
            return f"forward {self.position}/{self.forward_steps}"
        return f"backward {j}/{self.backward.total}"

    def active(self) -> str | None:
        """The node the current step is about (None before the first op)."""
        j = self.position - self.forward_steps
        if j > 0:
            return self.backward.records[j - 1].node
        return self.graph.ops[self.position - 1] if self.position else None

    def svg(self) -> str:
        """The graph in its state at the current position."""
        graph, j = self.graph, self.position - self.forward_steps
        classes: dict[str, str] = {}
        edge_classes: dict[int, str] = {}
        grads: dict[str, np.ndarray] = {}
        height = None
        if j <= 0:  # forward: ops not created yet (and their outputs) are hidden, and the drawing ends above them
            hidden = set(graph.ops[self.position:])
            hidden.update(graph.edges[k].dst for op in list(hidden) for k in self._edges_out[op])
            classes = dict.fromkeys(hidden, "al-node--future")
            edge_classes = dict.fromkeys((k for node in hidden for k in self._edges_in[node]), "al-edge--future")
            height = self.scene.bottom(n for n in graph.nodes if n not in hidden)
        else:  # backward: the nodes that ran are done; tensors show the gradient this backward sent them
            for record in self.backward.records[:j]:
                verdict = record.verdict
                classes[record.node] = "al-node--done" + (f" {_VERDICT_CLASS[verdict.matches]}" if verdict else "")
                if not record.grad_outputs:
                    continue
                if graph.nodes[record.node].kind == "leaf":  # what AccumulateGrad received, not the .grad total
                    grads[record.node] = record.grad_outputs[0]
                else:
                    for k in self._edges_out[record.node]:  # its outputs: what it received
                        grads[graph.edges[k].dst] = record.grad_outputs[graph.edges[k].index]
                    edge_classes.update(dict.fromkeys(self._carrying(record), "al-edge--done"))
        active = self.active()
        if active is not None:
            kept = [c for c in classes.get(active, "").split() if c != "al-node--done"]  # e.g. its verdict colour
            classes[active] = " ".join([*kept, "al-node--active"])
            if j > 0:
                edge_classes.update(dict.fromkeys(self._carrying(self.backward.records[j - 1]), "al-edge--active"))
        return self.scene.svg(classes, {n: g for n, g in grads.items() if g is not None}, edge_classes, height)

    def _carrying(self, record: BackwardRecord) -> list[int]:
        """The edges a node sent a gradient back along (not those where it returned None)."""
        edges = self.graph.edges
        return [k for k in self._edges_in[record.node]
                if edges[k].index < len(record.grad_inputs) and record.grad_inputs[edges[k].index] is not None]

    def explanation(self) -> str:
        """One or two sentences about the current step."""
        graph, j = self.graph, self.position - self.forward_steps
        if self.position == 0:
            return self._before_forward()
        if j <= 0:
            op = graph.ops[self.position - 1]
            inputs = ", ".join(self._name(i) for i in graph.nodes[op].inputs if i is not None)
            outputs = graph.outputs(op)
            result = f" and returned {self._name(outputs[0])} = {format_values(graph.nodes[outputs[0]].value)}" \
                if len(outputs) == 1 and graph.nodes[outputs[0]].value is not None else ""
            return (f"{_function_name(graph.nodes[op].label)} ran on ({inputs}){result}. autograd recorded "
                    f"its node {op}, with an edge back to each input that requires grad.")
        record = self.backward.records[j - 1]
        node = graph.nodes[record.node]
        if record.error is not None:
            return (f"{record.node} raised {record.error.rstrip('.')}. The engine stopped here, as "
                    f"{self._name(graph.root)}.backward() would.")
        if node.kind == "leaf":
            text = self._accumulated(record)
        else:
            root = self._name(graph.root)
            start = "The engine ran"
            if j == 1 and graph.library == "torch":
                start = (f"torch ran {root}.backward() in one go (its engine cannot pause; hooks recorded each node), "
                         "starting with gradient 1. First it ran")
            elif j == 1:
                start = f"backward() starts at {root} with gradient 1: the engine ran"
            text = (f"{start} {record.node}.backward: it received the gradient of each output (grad_output) and "
                    "returned one gradient per input, None where an input needs none.")
        if j == self.backward.total and self.backward.finished:
            text += " Backward is done (the graph was kept: retain_graph=True)."
        return text

    def panel_html(self) -> str:
        """The side panel: status, the explanation, the step's numbers and the legend."""
        parts = [PANEL_STYLE, '<div class="al-panel">', f'<div class="al-status">{escape(self.status())}</div>',
                 f'<p class="al-explain">{escape(self.explanation())}</p>']
        j = self.position - self.forward_steps
        if j > 0:
            parts.append(self._details(self.backward.records[j - 1]))
        parts += [self.legend_html(), "</div>"]
        return "".join(parts)

    def legend_html(self) -> str:
        """What the colours, the red "grad" lines and "value not kept" mean."""
        swatches = _LEGEND_STATES + (_LEGEND_VERDICTS if self.compare_with_torch else [])
        items = [_SWATCH.format(fill=fill, border=border, text=text) for fill, border, text in swatches]
        lines = [" ".join(items),
                 '<span style="color:#b3261e;font-family:monospace">grad …</span> under a tensor: the gradient this '
                 "backward sent to it (for a leaf, what it added to .grad, not the .grad total)"]
        if any(n.kind == "tensor" and n.value is None for n in self.graph.nodes.values()):
            lines.append("<i>value not kept</i>: autograd keeps only what backward needs (what was saved for "
                         "backward); this intermediate was not saved, so nothing holds its value any more. Name it "
                         "in <code>names=</code> to see it.")
        return ('<div class="al-legend" style="font:12px/1.5 system-ui,sans-serif;color:#444;margin-top:8px">'
                + "<br>".join(lines) + "</div>")

    def picture_html(self) -> str:
        """A static picture of the whole graph (the end of forward, or the current step if it is later), with the
        status, the explanation and the legend: what a stored notebook shows where the live widget is not running.
        An <img>, because JupyterLab drops inline SVG from the HTML of a notebook it does not trust."""
        position = self.position
        self.goto(max(position, self.forward_steps))  # forward positions never run the engine: nothing changes
        try:
            data = base64.b64encode(self.svg().encode()).decode()
            status, explanation = self.status(), self.explanation()
        finally:
            self.position = position
        return ('<div class="al-stepper-picture" style="display:flex;flex-wrap:wrap;align-items:flex-start;gap:12px">'
                f'<img alt="stepper of {escape(self.graph.root)} at {escape(status)}" '
                f'style="max-width:100%;flex:0 1 auto" src="data:image/svg+xml;base64,{data}">'
                '<div style="flex:1 1 300px;max-width:420px;font:13px/1.45 system-ui,sans-serif">'
                f'<b style="font:bold 15px monospace">{escape(status)}</b>'
                f"<p>{escape(explanation)}</p>"
                "<p><i>A picture of the graph. Run the cell to step through forward and backward.</i></p>"
                f"{self.legend_html()}</div></div>")

    # ----- helpers ---------------------------------------------------------------------------
    def _before_forward(self) -> str:
        nodes = self.graph.nodes.values()
        leaves = ", ".join(n.id for n in nodes if n.kind == "leaf")
        constants = ", ".join(n.id for n in nodes if n.kind == "constant")
        also = f" and the {'constant' if ',' not in constants else 'constants'} {constants}" if constants else ""
        return (f"Before the forward pass only the leaves exist: {leaves} (requires_grad=True){also}. Step to "
                "run the forward pass one op at a time, then the backward pass one node at a time.")

    def _accumulated(self, record: BackwardRecord) -> str:
        """An AccumulateGrad step, told in the past tense: true even after later cells change the leaf's .grad."""
        leaf = record.node
        arrived = format_values(record.grad_outputs[0]) if record.grad_outputs else "None"
        if record.leaf_grad_before is None:
            text = f"AccumulateGrad stored the gradient that reached {leaf}, {arrived}, in {leaf}.grad (it had none)."
        else:
            text = (f"AccumulateGrad added the gradient that reached {leaf}, {arrived}, to {leaf}.grad, which already "
                    f"held {format_values(record.leaf_grad_before)} from an earlier backward: it became "
                    f"{format_values(record.leaf_grad)}. .grad accumulates until you reset it ({leaf}.grad = None).")
        if self.graph.library == "autograd_lab":
            text += f" The real engine did it: {leaf}.grad in your notebook changed at this step."
        return text

    def _details(self, record: BackwardRecord) -> str:
        rows = []
        node = self.graph.nodes[record.node]
        if record.grad_outputs:
            received = "<br>".join(escape(format_values(g)) for g in record.grad_outputs)
            rows.append(f"<tr><th>received</th><td>grad_output = {received}</td></tr>")
        if node.kind == "op" and record.error is None:
            returned = "<br>".join(
                f"{escape(self._name(i) if i else f'input {k} (needs no gradient)')}: {escape(format_values(g))}"
                for k, (i, g) in enumerate(zip(node.inputs, record.grad_inputs)))
            rows.append(f"<tr><th>returned</th><td>{returned}</td></tr>")
        if node.kind == "leaf" and record.error is None:
            for when, grad in (("before", record.leaf_grad_before), ("after", record.leaf_grad)):
                value = escape(format_values(grad))
                rows.append(f"<tr><th>{escape(record.node)}.grad {when}</th><td>{value}</td></tr>")
        verdict = self._verdict_text(record)
        return f"<table>{''.join(rows)}</table>{verdict}"

    def _verdict_text(self, record: BackwardRecord) -> str:
        verdict = record.verdict
        if verdict is None:
            return ""
        css = _VERDICT_CLASS[verdict.matches].replace("al-node", "al-verdict")
        if verdict.matches is None:
            text = f"Not compared with torch: {verdict.reason}"
        elif verdict.matches:
            text = "✓ Same gradients as torch's autograd."
        else:
            inputs = self.graph.nodes[record.node].inputs
            text = "✗ Differs from torch: " + "; ".join(
                f"for {self._name(inputs[i]) if inputs[i] else i} you returned {format_values(record.grad_inputs[i])}, "
                f"torch {format_values(verdict.torch_grads[i])}" for i in verdict.wrong)
        return f'<p class="{css}">{escape(text)}</p>'

    def _name(self, node_id: str) -> str:
        """How a sentence names a node: ``w``, or ``the output of AddBackward0`` for an unnamed tensor."""
        node = self.graph.nodes[node_id]
        if node.kind == "tensor" and not node.label:
            producer = next(e.src for e in self.graph.edges if e.dst == node_id)
            return f"the output of {producer}"
        return node.id

    def _failing_node(self, ran: set[str]) -> str:
        """The node the engine was running when it raised: the newest op whose gradients had all arrived.

        (The engine runs the ready node with the highest sequence number first, as PyTorch's does.)
        """
        graph = self.graph
        for op in reversed(graph.ops):
            consumers = (graph.edges[k].dst for out in graph.outputs(op) for k in self._edges_out[out])
            if op not in ran and all(c in ran for c in consumers):
                return op
        return next(n for n in graph.nodes if graph.nodes[n].kind == "leaf" and n not in ran)


_VERDICT_CLASS = {True: "al-node--match", False: "al-node--mismatch", None: "al-node--unchecked"}


def _function_name(node_label: str) -> str:
    """``MulBackward0`` -> ``Mul``: the forward behind a backward node."""
    return re.sub(r"Backward\d*$", "", node_label)


def _arrays(tensors: Any) -> tuple[np.ndarray | None, ...]:
    return tuple(None if t is None else to_numpy(t) for t in tensors)


def _leaf_grads(graph: Graph) -> dict[str, np.ndarray | None]:
    """A copy of every leaf's .grad as it is now (None where it has none)."""
    grads = {}
    for node in graph.nodes.values():
        if node.kind == "leaf":
            grad = node.source.grad
            grads[node.id] = None if grad is None else to_numpy(grad)
    return grads


def _check_steppable(output: Any, graph: Graph, compare_with_torch: bool) -> None:
    if not graph.ops:
        raise ValueError(f"GraphStepper needs a computed tensor: {graph.root} is a leaf, so there is nothing to "
                         "step through (compute something from it first)")
    if output.numel() != 1:
        raise ValueError(f"GraphStepper steps through output.backward(), which needs a single number; this output "
                         f"has shape {list(output.shape)}. Step through output.sum() (or another reduction) instead.")
    if not compare_with_torch:
        return
    if graph.library == "torch":
        raise ValueError("compare_with_torch compares an autograd_lab graph with PyTorch; this graph is PyTorch's "
                         "already")
    for op in graph.ops:
        if getattr(graph.nodes[op].source, "_forward_inputs", None) is None:
            raise ValueError(MISSING_INPUTS.format(name=op))


class _EngineSteps:
    """autograd_lab: the real engine, one node per pull (``iter_backward`` with ``retain_graph=True``)."""

    def __init__(self, output: Any, graph: Graph, compare_with_torch: bool) -> None:
        self.graph = graph
        self.compare = compare_with_torch
        self.records: list[BackwardRecord] = []
        self.total = len(graph.backward_nodes)  # the engine runs every node it can reach exactly once
        self.finished = False
        self._steps = iter_backward(output, retain_graph=True)

    def pull(self, count: int, failing_node: Any) -> None:
        """Run the engine until ``count`` steps are recorded (or it ends)."""
        while len(self.records) < count and not self.finished:
            before = _leaf_grads(self.graph)  # a student may run other cells between two steps
            try:
                step = next(self._steps)
            except StopIteration:
                self._finish()
                return
            except Exception as error:  # the student's backward (or a check on what it returned) failed
                node = failing_node({r.node for r in self.records})
                self.records.append(BackwardRecord(node, error=f"{type(error).__name__}: {error}"))
                self._finish()
                return
            grad_outputs, grad_inputs = _arrays(step.grad_outputs), _arrays(step.grad_inputs)
            node_id = self.graph.id_of(step.node)
            verdict = None
            if self.compare and step.leaf is None:
                verdict = compare_node(step.node, grad_outputs, grad_inputs)
            leaf_grad = None if step.leaf is None or step.leaf.grad is None else to_numpy(step.leaf.grad)
            self.records.append(BackwardRecord(node_id, grad_outputs, grad_inputs, leaf_grad, before.get(node_id),
                                               verdict=verdict))
        if len(self.records) == self.total:
            self._finish()

    def _finish(self) -> None:
        self.finished = True
        self.total = len(self.records)


class _TorchRecording:
    """torch: one ``backward(retain_graph=True)`` with a hook on every node, replayed step by step."""

    def __init__(self, output: Any, graph: Graph, compare_with_torch: bool) -> None:
        self.output = output
        self.graph = graph
        self.records: list[BackwardRecord] = []
        self.total = len(graph.backward_nodes)  # until the recording says otherwise
        self.finished = False
        self._before: dict[str, np.ndarray | None] = {}

    def pull(self, count: int, failing_node: Any) -> None:
        if self.finished:
            return
        self._before = _leaf_grads(self.graph)  # each leaf accumulates once per backward
        handles = [node.register_hook(self._recorder(node)) for node in self.graph.backward_nodes]
        try:
            self.output.backward(retain_graph=True)
        except Exception as error:
            node = failing_node({r.node for r in self.records})
            self.records.append(BackwardRecord(node, error=f"{type(error).__name__}: {error}"))
        finally:
            for handle in handles:
                handle.remove()
        self.finished = True
        self.total = len(self.records)

    def _recorder(self, node: Any) -> Any:
        node_id = self.graph.id_of(node)
        leaf = getattr(node, "variable", None)
        edges = [child is not None for child, _ in node.next_functions]

        def hook(grad_inputs: tuple, grad_outputs: tuple) -> None:  # torch's names: inputs of *backward*
            # What went nowhere (an input that needs no gradient) is None, as autograd_lab's engine reports it.
            sent = tuple(g if edge else None for g, edge in zip(grad_inputs, edges))
            leaf_grad = None if leaf is None or leaf.grad is None else to_numpy(leaf.grad)
            self.records.append(BackwardRecord(node_id, _arrays(grad_outputs), _arrays(sent), leaf_grad,
                                               self._before.get(node_id)))
        return hook
