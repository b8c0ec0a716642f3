"""A layered ("Sugiyama") layout computed in Python, so drawing a graph needs no graphviz binary.

1. Layers: a node sits one layer below its lowest input (longest path); a node
   with no inputs (a leaf, a constant) sits just above its first consumer.
2. An edge that spans several layers gets a waypoint in each layer it crosses,
   so it bends around the boxes instead of running through them. Edges from the
   same source share their waypoints: a tensor used by many later ops (a bias, a
   weight) gets one trunk line with branches, not one line per use.
3. Order within a layer: creation order first, then barycenter sweeps (each node
   moves toward the mean position of its neighbours); the order with the fewest
   crossings wins.
4. x positions: each node is pulled toward the mean of its neighbours while the
   order and the spacing are kept (a least-squares fit, solved exactly by
   pool-adjacent-violators).

Same graph in, same picture out: nothing here depends on hashing or timing.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate, pairwise
from typing import NamedTuple

H_GAP = 28.0  # between boxes in a layer
V_GAP = 38.0  # between layers (room for the arrows)
MARGIN = 12.0
WAYPOINT_WIDTH = 8.0  # the room a passing edge takes in a layer
SWEEPS = 4
SMOOTHING_ROUNDS = 6

Point = tuple[float, float]


@dataclass(frozen=True)
class Box:
    """A node's rectangle: top-left corner and size."""

    x: float
    y: float
    width: float
    height: float


class _Waypoint(NamedTuple):
    """Where the edges from ``source`` cross layer ``layer`` (a dummy node of width WAYPOINT_WIDTH)."""

    source: str
    layer: int


Vertex = str | _Waypoint


@dataclass(frozen=True)
class Layout:
    boxes: dict[str, Box]
    routes: list[list[Point]]  # one per edge, in the order given: the points the arrow passes through
    width: float
    height: float


def layered_layout(sizes: dict[str, tuple[float, float]], edges: list[tuple[str, str]]) -> Layout:
    """Place boxes of the given (width, height) in layers, edges pointing down.

    ``sizes`` lists every node after its inputs (a topological order, e.g. creation
    order); that order is also the starting left-to-right order in each layer.
    """
    ids = list(sizes)
    layer: dict[Vertex, int] = dict(_layers(ids, edges))
    up: dict[Vertex, list[Vertex]] = {n: [] for n in ids}  # neighbours one layer above (waypoints included)
    down: dict[Vertex, list[Vertex]] = {n: [] for n in ids}
    chains = []  # per edge: source, waypoints..., destination
    for src, dst in edges:
        waypoints = [_Waypoint(src, r) for r in range(layer[src] + 1, layer[dst])]
        for w in waypoints:
            if w not in layer:
                layer[w], up[w], down[w] = w.layer, [], []
        chain: list[Vertex] = [src, *waypoints, dst]
        for a, b in pairwise(chain):
            if b not in down[a]:
                down[a].append(b)
                up[b].append(a)
        chains.append(chain)

    rank = {n: i for i, n in enumerate(ids)}  # creation order; a waypoint starts beside its edge's source
    layers: list[list[Vertex]] = [[] for _ in range(max(layer.values()) + 1)]
    for n in sorted(layer, key=lambda n: (rank[n.source], 0.5) if isinstance(n, _Waypoint) else (rank[n], 0)):
        layers[layer[n]].append(n)
    layers = _untangle(layers, up, down)

    width = {n: sizes[n][0] if n in sizes else WAYPOINT_WIDTH for n in layer}
    center = _x_positions(layers, width, up, down)
    heights = [max((sizes[n][1] for n in row if n in sizes), default=0.0) for row in layers]
    tops = list(accumulate((h + V_GAP for h in heights[:-1]), initial=MARGIN))

    boxes = {}
    for r, row in enumerate(layers):
        for n in row:
            if n in sizes:
                w, h = sizes[n]
                boxes[n] = Box(_round(center[n] - w / 2), _round(tops[r] + (heights[r] - h) / 2), w, h)
    routes = [_route(chain, boxes, center, tops, heights) for chain in chains]
    _spread_arrival_points(routes, edges, boxes)
    total_width = max(center[n] + width[n] / 2 for n in center) + MARGIN  # waypoints too: edges can pass outside
    return Layout(boxes, routes, _round(total_width), _round(tops[-1] + heights[-1] + MARGIN))


def _layers(ids: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    inputs: dict[str, list[str]] = {n: [] for n in ids}
    consumers: dict[str, list[str]] = {n: [] for n in ids}
    for src, dst in edges:
        inputs[dst].append(src)
        consumers[src].append(dst)
    layer: dict[str, int] = {}
    for n in ids:
        if any(p not in layer for p in inputs[n]):
            raise ValueError(f"layered_layout: {n!r} is listed before one of its inputs (need a topological order)")
        layer[n] = max((layer[p] + 1 for p in inputs[n]), default=0)
    for n in ids:
        if not inputs[n] and consumers[n]:  # a source: just above its first consumer
            layer[n] = min(layer[c] for c in consumers[n]) - 1
    return layer


def _untangle(layers: list[list[Vertex]], up: dict, down: dict) -> list[list[Vertex]]:
    """Barycenter sweeps down and up; keep the ordering with the fewest crossings."""
    best, best_crossings = [list(row) for row in layers], _crossings(layers, down)
    for _ in range(SWEEPS):
        for r in range(1, len(layers)):
            _sort_by_barycenter(layers[r], up, layers[r - 1])
        for r in range(len(layers) - 2, -1, -1):
            _sort_by_barycenter(layers[r], down, layers[r + 1])
        crossings = _crossings(layers, down)
        if crossings < best_crossings:
            best, best_crossings = [list(row) for row in layers], crossings
    return best


def _sort_by_barycenter(row: list[Vertex], neighbours: dict, fixed_row: list[Vertex]) -> None:
    position = {n: i for i, n in enumerate(fixed_row)}
    own = {n: i for i, n in enumerate(row)}
    key = {}
    for n in row:
        placed = [position[m] for m in neighbours[n] if m in position]
        key[n] = (sum(placed) / len(placed) if placed else own[n], own[n])
    row.sort(key=key.__getitem__)


def _crossings(layers: list[list[Vertex]], down: dict) -> int:
    total = 0
    for upper, lower in pairwise(layers):
        position = {n: i for i, n in enumerate(lower)}
        ends = [(i, position[m]) for i, n in enumerate(upper) for m in down[n] if m in position]
        total += sum(1 for a, (i, j) in enumerate(ends) for k, m in ends[a + 1:] if (i - k) * (j - m) < 0)
    return total


def _x_positions(layers: list[list[Vertex]], width: dict, up: dict, down: dict) -> dict[Vertex, float]:
    """Centers: packed left to right, then pulled toward the neighbours' mean, keeping order and gaps."""
    center: dict[Vertex, float] = {}
    for row in layers:
        x = MARGIN
        for n in row:
            center[n] = x + width[n] / 2
            x += width[n] + H_GAP
    for _ in range(SMOOTHING_ROUNDS):
        for row in layers + layers[::-1]:
            desired = []
            for n in row:
                near = up[n] + down[n]
                desired.append(sum(center[m] for m in near) / len(near) if near else center[n])
            gaps = [(width[a] + width[b]) / 2 + H_GAP for a, b in pairwise(row)]
            for n, x in zip(row, _closest_spaced(desired, gaps)):
                center[n] = x
    shift = MARGIN - min(center[n] - width[n] / 2 for n in center)
    return {n: x + shift for n, x in center.items()}


def _closest_spaced(desired: list[float], gaps: list[float]) -> list[float]:
    """x minimising sum (x_i - desired_i)^2 subject to x[i+1] - x[i] >= gaps[i].

    With y_i = x_i - (sum of the gaps before i) the constraint is "y non-decreasing":
    an isotonic regression, which pool-adjacent-violators solves exactly.
    """
    offsets = list(accumulate(gaps, initial=0.0))
    blocks: list[list[float]] = []  # [sum, count] of pooled targets
    for target in (d - o for d, o in zip(desired, offsets)):
        blocks.append([target, 1])
        while len(blocks) > 1 and blocks[-2][0] * blocks[-1][1] > blocks[-1][0] * blocks[-2][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    fitted = [total / count for total, count in blocks for _ in range(int(count))]
    return [y + o for y, o in zip(fitted, offsets)]


def _route(chain: list[Vertex], boxes: dict[str, Box], center: dict[Vertex, float], tops: list[float],
           heights: list[float]) -> list[Point]:
    """Bottom of the source box, down through each waypoint's layer, to the top of the destination box."""
    src, dst = boxes[chain[0]], boxes[chain[-1]]  # type: ignore[index]
    points = [(_round(src.x + src.width / 2), _round(src.y + src.height))]
    for w in chain[1:-1]:
        x, r = _round(center[w]), w.layer  # type: ignore[union-attr]
        points += [(x, _round(tops[r])), (x, _round(tops[r] + heights[r]))]
    points.append((_round(dst.x + dst.width / 2), dst.y))
    return points


def _spread_arrival_points(routes: list[list[Point]], edges: list[tuple[str, str]], boxes: dict[str, Box]) -> None:
    """Arrows into one box arrive side by side along its top, ordered by where they come from."""
    arriving: dict[str, list[int]] = {}
    for k, (_, dst) in enumerate(edges):
        arriving.setdefault(dst, []).append(k)
    for dst, ks in arriving.items():
        box = boxes[dst]
        ks.sort(key=lambda k: (routes[k][-2][0], k))
        for i, k in enumerate(ks):
            routes[k][-1] = (_round(box.x + box.width * (i + 1) / (len(ks) + 1)), box.y)


def _round(v: float) -> float:
    return round(v, 1)
