"""The layered layout: boxes in layers, arrows downward, no overlaps, same picture every time."""

from __future__ import annotations

from itertools import pairwise

import pytest

from autograd_lab.graph import build_graph
from autograd_lab.viz.layout import Box, _closest_spaced, layered_layout
from autograd_lab.viz.svg import Scene

SIZES = {"w": (60.0, 30.0), "x": (40.0, 30.0), "mul": (90.0, 20.0), "y": (50.0, 30.0), "b": (40.0, 30.0),
         "add": (90.0, 20.0), "z": (50.0, 30.0)}
EDGES = [("w", "mul"), ("x", "mul"), ("mul", "y"), ("y", "add"), ("b", "add"), ("add", "z"), ("w", "add")]


def _overlap(a: Box, b: Box) -> bool:
    return a.x < b.x + b.width and b.x < a.x + a.width and a.y < b.y + b.height and b.y < a.y + a.height


def test_every_node_gets_a_box_of_its_size():
    layout = layered_layout(SIZES, EDGES)
    assert {n: (b.width, b.height) for n, b in layout.boxes.items()} == SIZES


def test_every_arrow_runs_downward_from_source_to_destination():
    layout = layered_layout(SIZES, EDGES)
    for (src, dst), route in zip(EDGES, layout.routes):
        assert route[0][1] == layout.boxes[src].y + layout.boxes[src].height
        assert route[-1][1] == layout.boxes[dst].y
        assert all(y0 <= y1 for (_, y0), (_, y1) in pairwise(route))


def test_a_source_sits_just_above_its_first_consumer():
    layout = layered_layout(SIZES, EDGES)
    assert layout.boxes["b"].y < layout.boxes["add"].y
    assert layout.boxes["b"].y > layout.boxes["mul"].y  # not up with w and x


def test_edges_from_one_source_share_their_waypoints():
    sizes = {"w": (40.0, 20.0), "a": (40.0, 20.0), "b": (40.0, 20.0), "c": (40.0, 20.0), "d": (40.0, 20.0)}
    edges = [("w", "a"), ("a", "b"), ("b", "c"), ("c", "d"), ("w", "c"), ("w", "d")]
    routes = layered_layout(sizes, edges).routes
    # two points per waypoint: the edge to d follows the edge to c, then crosses one more layer
    assert routes[4][1:-1] == routes[5][1:-3]


def test_boxes_never_overlap_in_a_100_node_graph(backend, chain):
    graph = build_graph(*chain(50))
    boxes = list(Scene(graph, grad_line=True).layout.boxes.values())
    assert len(boxes) >= 100
    assert not any(_overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_the_drawing_is_wide_enough_for_every_box_and_waypoint():
    layout = layered_layout(SIZES, EDGES)
    assert all(b.x + b.width < layout.width for b in layout.boxes.values())
    assert all(x < layout.width for route in layout.routes for x, _ in route)


def test_the_same_graph_gives_the_same_layout():
    assert layered_layout(SIZES, EDGES) == layered_layout(dict(SIZES), list(EDGES))


def test_a_node_listed_before_its_input_is_refused():
    with pytest.raises(ValueError, match="listed before one of its inputs"):
        layered_layout({"mul": (10.0, 10.0), "w": (10.0, 10.0)}, [("w", "mul")])


def test_spacing_fit_keeps_the_gaps_and_stays_centered():
    assert _closest_spaced([0.0, 0.0], [10.0]) == [-5.0, 5.0]
    assert _closest_spaced([0.0, 100.0], [10.0]) == [0.0, 100.0]  # already far enough apart: unchanged
