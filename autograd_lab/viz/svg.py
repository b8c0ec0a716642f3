"""The graph as SVG: op nodes as rectangles (the book's "a Function is a rectangle in the graph"),
tensors as rounded boxes with their values, arrows in the forward direction.

A ``Scene`` lays the graph out once and pre-renders each box, so drawing another
state of the same graph (the stepper's next step) is only string joins. The look
lives in one style sheet; states are CSS classes (``al-node--active``, ...).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from html import escape
from pathlib import Path
from string import Template

import numpy as np

from autograd_lab.graph import Graph, GraphNode, build_graph
from autograd_lab.viz.layout import MARGIN, Point, layered_layout

CHAR_WIDTH = 7.3  # 12px monospace
LINE_HEIGHT = 15.0
PAD_X, PAD_Y = 8.0, 5.0
MAX_CHARS = 30  # longer names and values are cut with "…" (a tooltip holds the whole line)
MAX_GRAD_CHARS = 42  # the "grad ..." line may make a box wider than that
MAX_VALUES = 4  # values shown per tensor before "…"
NOT_KEPT = ("autograd did not keep this intermediate value: backward does not need it (it was not saved for "
            "backward), so nothing holds it any more. Name the tensor in names= to see it.")

# Colours a legend shows: defined once, so the legend and the drawing agree.
ACTIVE_COLOUR = "#7b2cbf"  # the current step: a purple border, never red (red means "differs from torch")
DONE_COLOUR = "#1f5fbf"

STYLE = Template("""
.al-graph text{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px;fill:#222;text-anchor:middle}
.al-graph .al-title{font-weight:bold}
.al-graph .al-muted{fill:#888;font-style:italic}
.al-graph .al-grad{fill:#b3261e}
.al-node rect{stroke:#666;stroke-width:1.2}
.al-node--op rect{fill:#fff1cc}
.al-node--leaf rect{fill:#dce9ff}
.al-node--constant rect{fill:#ffffff;stroke-dasharray:4 3}
.al-node--tensor rect{fill:#f3f3f3}
.al-node--future,.al-edge--future{visibility:hidden}
.al-node--done rect{stroke:$done;stroke-width:2}
.al-node--match rect{fill:#d3f5d3;stroke:#2e8b2e;stroke-width:2}
.al-node--mismatch rect{fill:#ffd2d2;stroke:#c62828;stroke-width:2}
.al-node--unchecked rect{fill:#e6e6e6}
.al-node--active rect{stroke:$active;stroke-width:4}
.al-edge{fill:none;stroke:#999;stroke-width:1.3;marker-end:url(#al-arrow)}
.al-edge--done{stroke:#c9a8e6}
.al-edge--active{stroke:$active;stroke-width:2.6;marker-end:none;marker-start:url(#al-arrow-grad)}
""").substitute(active=ACTIVE_COLOUR, done=DONE_COLOUR)

DEFS = ('<defs><marker id="al-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#999"/></marker>'
        '<marker id="al-arrow-grad" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
        f'orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="{ACTIVE_COLOUR}"/></marker></defs>')


def draw(tensor: object, names: Mapping[str, object] | None = None) -> GraphDrawing:
    """Draw the graph behind ``tensor`` (autograd_lab or torch) as SVG; name tensors from ``names`` (``locals()``)."""
    graph = build_graph(tensor, names)
    scene = Scene(graph, grad_line=any(n.grad is not None for n in graph.nodes.values()))
    return GraphDrawing(scene.svg(grads={n.id: n.grad for n in graph.nodes.values() if n.grad is not None}), graph)


class GraphDrawing:
    """What ``draw()`` returns: shows itself in Jupyter and saves to an .svg file."""

    def __init__(self, svg: str, graph: Graph) -> None:
        self.svg = svg
        self.graph = graph

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_html_(self) -> str:
        # An <img> of the SVG, not inline SVG: JupyterLab sanitizes the HTML of a notebook it does not
        # trust (a stored lesson) and drops inline <svg>, but it keeps an image. Full size, scrolling.
        data = base64.b64encode(self.svg.encode()).decode()
        return (f'<div style="overflow:auto"><img alt="{escape(_summary(self.graph))}" style="max-width:none" '
                f'src="data:image/svg+xml;base64,{data}"></div>')

    def save(self, path: str | Path) -> Path:
        """Write the drawing as an SVG file (open it in a browser, or put it in slides)."""
        path = Path(path)
        if path.suffix.lower() != ".svg":
            raise ValueError(f"save() writes SVG: give a file name ending in .svg (got {str(path)!r})")
        path.write_text(self.svg, encoding="utf-8")
        return path

    def __repr__(self) -> str:
        return f"<GraphDrawing: {_summary(self.graph)}>"


def _summary(graph: Graph) -> str:
    return f"graph of {graph.root}: {plural(len(graph.ops), 'op')}, {plural(len(graph.nodes), 'node')}"


def plural(count: int, word: str) -> str:
    """``1 op``, ``2 ops``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


class Scene:
    """A graph laid out once; ``svg()`` renders it in any state (classes per node and edge, gradient lines).

    The drawing scales to the width of whatever holds it (``viewBox``, ``max-width:100%``),
    so a wide graph shrinks to fit instead of hiding its root behind a scroll bar.
    """

    def __init__(self, graph: Graph, grad_line: bool) -> None:
        self.graph = graph
        lines = {n.id: box_lines(n) for n in graph.nodes.values()}
        with_grad = {n.id: grad_line and n.kind in ("leaf", "tensor") for n in graph.nodes.values()}
        sizes = {}
        self.grad_chars: dict[str, int] = {}  # how many characters of a gradient fit in each box
        for node_id, node_lines in lines.items():
            chars = min(max(len(text) for text, _, _ in node_lines), MAX_CHARS)
            if with_grad[node_id]:  # room for "grad " + a gradient of this shape
                chars = max(chars, min(len("grad ") + _values_width(_shape(graph.nodes[node_id])), MAX_GRAD_CHARS))
            chars = max(chars, 5)
            self.grad_chars[node_id] = chars
            rows = len(node_lines) + with_grad[node_id]
            sizes[node_id] = (round(chars * CHAR_WIDTH + 2 * PAD_X, 1), rows * LINE_HEIGHT + 2 * PAD_Y)
        layout = layered_layout(sizes, [(e.src, e.dst) for e in graph.edges])
        self.layout = layout
        self.width, self.height = layout.width, layout.height
        self.edge_parts = [('<path class="al-edge', f'" data-from="{escape(e.src)}" data-to="{escape(e.dst)}" '
                            f'd="{_path(route)}"/>') for e, route in zip(graph.edges, layout.routes)]
        self.node_parts = {}
        self.grad_at = {}
        for node in graph.nodes.values():
            box = layout.boxes[node.id]
            texts = "".join(_text(text, box.width / 2, _baseline(i), css, tip) for i, (text, css, tip) in
                            enumerate(lines[node.id]))
            shape = f'<rect width="{box.width}" height="{box.height}" rx="{2 if node.kind == "op" else 9}"/>'
            self.node_parts[node.id] = (f'<g class="al-node al-node--{node.kind}',
                                        f'" data-node="{escape(node.id)}" transform="translate({box.x},{box.y})">'
                                        f'{shape}{texts}')
            self.grad_at[node.id] = (box.width / 2, _baseline(len(lines[node.id])))

    def bottom(self, node_ids: Iterable[str]) -> float:
        """Where a drawing of only these nodes ends (the stepper crops the hidden rest of the forward pass)."""
        boxes = self.layout.boxes
        return round(max((boxes[n].y + boxes[n].height for n in node_ids), default=0.0) + MARGIN, 1)

    def svg(self, node_classes: Mapping[str, str] | None = None, grads: Mapping[str, np.ndarray] | None = None,
            edge_classes: Mapping[int, str] | None = None, height: float | None = None) -> str:
        """The drawing with extra CSS classes per node id / edge index, a "grad ..." line under some tensors,
        cut at ``height`` if given."""
        node_classes, grads, edge_classes = node_classes or {}, grads or {}, edge_classes or {}
        height = self.height if height is None else min(height, self.height)
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="al-graph" width="{self.width}" height="{height}" '
                 f'viewBox="0 0 {self.width} {height}" style="max-width:100%;height:auto">'
                 f"<style>{STYLE}</style>{DEFS}"]
        for k, (start, end) in enumerate(self.edge_parts):
            extra = edge_classes.get(k)
            parts.append(f"{start} {extra}{end}" if extra else start + end)
        for node_id, (start, end) in self.node_parts.items():
            extra = node_classes.get(node_id)
            parts.append(f"{start} {extra}{end}" if extra else start + end)
            grad = grads.get(node_id)
            if grad is not None:
                x, y = self.grad_at[node_id]
                parts.append(_text("grad " + format_values(grad), x, y, "al-grad", _full_values(grad),
                                   self.grad_chars[node_id]))
            parts.append("</g>")
        parts.append("</svg>")
        return "".join(parts)


def box_lines(node: GraphNode) -> list[tuple[str, str, str | None]]:
    """The text lines of a node's box: (text, CSS class, tooltip). An op's box shows its id, as the panel names it
    (``MulBackward0#2`` for the second Mul); a tensor's box its name (and shape), then its values."""
    if node.kind == "op":
        return [(node.id, "al-title", None)]
    shape = _shape(node)
    title = (node.label + ("" if not shape else " " + str(shape))).strip()
    value = [(format_values(node.value), "", _full_values(node.value))] if node.value is not None else \
        [("value not kept", "al-muted", NOT_KEPT)]
    return ([(title, "al-title", None)] if title else []) + value


def _shape(node: GraphNode) -> tuple[int, ...] | None:
    return tuple(node.value.shape) if node.value is not None else node.shape


def format_values(values: np.ndarray | None) -> str:
    """A short, PyTorch-like rendering of an array's values: ``[2., 0.5, …]``; ``None`` for a missing one."""
    if values is None:
        return "None"
    flat = values.reshape(-1)
    items = [_number(v) for v in flat[:MAX_VALUES]]
    if flat.size > MAX_VALUES:
        items.append("…")
    text = ", ".join(items)
    return text if values.ndim == 0 else f"[{text}]"


def _number(v: np.generic) -> str:
    if isinstance(v, np.bool_):
        return str(bool(v))
    if isinstance(v, np.integer):
        return str(int(v))
    text = f"{float(v):.4g}"
    return text + "." if text.lstrip("-").isdigit() else text  # 2.0 prints as "2." (as PyTorch does)


def _full_values(values: np.ndarray) -> str | None:
    """A tooltip with every value, when the box shows only the first few."""
    if values.size <= MAX_VALUES:
        return None
    return np.array2string(values, precision=4, separator=", ", threshold=64)


def _values_width(shape: tuple[int, ...] | None) -> int:
    """Characters that format_values needs for an array of this shape with typical numbers ("-0.1234")."""
    if shape is None:
        return 4 * 7 + 11  # unknown: room for four numbers
    size = int(np.prod(shape))
    shown = min(size, MAX_VALUES)
    return 7 * shown + 2 * (shown - 1) + (3 if size > MAX_VALUES else 0) + (2 if shape else 0)


def _baseline(row: int) -> float:
    return round(PAD_Y + LINE_HEIGHT * (row + 1) - 3.5, 1)


def _text(text: str, x: float, y: float, css: str, tooltip: str | None = None, limit: int = MAX_CHARS) -> str:
    """A centred line, cut with "…" past ``limit`` characters; hovering shows ``tooltip`` (the whole text if cut)."""
    if len(text) > limit:
        tooltip, text = tooltip or text, text[:limit - 1] + "…"
    cls = f' class="{css}"' if css else ""
    tip = f"<title>{escape(tooltip)}</title>" if tooltip else ""
    return f'<text{cls} x="{round(x, 1)}" y="{y}">{escape(text)}{tip}</text>'


def _path(points: list[Point]) -> str:
    """Straight down where x does not change, else an S-curve with vertical ends."""
    (x0, y0), rest = points[0], points[1:]
    d = [f"M{x0},{y0}"]
    for x1, y1 in rest:
        if x1 == x0:
            d.append(f"L{x1},{y1}")
        else:
            middle = round((y0 + y1) / 2, 1)
            d.append(f"C{x0},{middle} {x1},{middle} {x1},{y1}")
        x0, y0 = x1, y1
    return "".join(d)
