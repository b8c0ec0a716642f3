"""draw(): valid, deterministic SVG for autograd_lab and torch graphs, with no graphviz anywhere."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from autograd_lab.viz import draw
from autograd_lab.viz.svg import format_values

SVG = "{http://www.w3.org/2000/svg}"


def _nodes(svg: str) -> list[ET.Element]:
    return [g for g in ET.fromstring(svg).iter(f"{SVG}g") if "al-node" in g.get("class", "").split()]


def test_the_drawing_parses_as_svg(backend, book_graph):
    root = ET.fromstring(draw(book_graph["z"], book_graph).svg)
    assert root.tag == f"{SVG}svg"
    assert float(root.get("width")) > 0 and float(root.get("height")) > 0


def test_every_graph_node_is_a_group_with_its_id(backend, book_graph):
    ids = [g.get("data-node") for g in _nodes(draw(book_graph["z"], book_graph).svg)]
    assert sorted(ids) == sorted(["w", "b", "MulBackward", "z"] + (["x"] if backend.__name__ == "autograd_lab" else []))


def test_ops_are_rectangles_and_tensors_rounded_boxes(backend, book_graph):
    nodes = _nodes(draw(book_graph["z"], book_graph).svg)
    corners = {g.get("data-node"): g.find(f"{SVG}rect").get("rx") for g in nodes}
    assert corners["MulBackward"] == "2"
    assert corners["w"] == corners["z"] == "9"


def test_tensor_boxes_show_their_values(backend):
    w = backend.tensor([2.0, 0.5], requires_grad=True)
    texts = [t.text for t in ET.fromstring(draw(w * 3, {"w": w}).svg).iter(f"{SVG}text")]
    assert "w (2,)" in texts
    assert "[2., 0.5]" in texts
    assert "[6., 1.5]" in texts


def test_leaf_gradients_are_shown_after_backward(backend):
    w = backend.tensor([2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    texts = [t.text for t in ET.fromstring(draw(loss, {"w": w}).svg).iter(f"{SVG}text")]
    assert "grad [4.]" in texts


def test_drawing_the_same_computation_twice_gives_the_same_svg(backend, chain):
    backend.manual_seed(3)
    first = draw(*chain(10)).svg
    backend.manual_seed(3)
    assert draw(*chain(10)).svg == first


def test_a_100_node_graph_draws_every_node(backend, chain):
    loss, names = chain(50)
    drawing = draw(loss, names)
    assert len(_nodes(drawing.svg)) == len(drawing.graph.nodes) >= 100


def test_names_with_markup_characters_are_escaped(backend):
    w = backend.tensor([1.0], requires_grad=True)
    ids = [g.get("data-node") for g in _nodes(draw(w * 2, {"w<&>": w}).svg)]
    assert "w<&>" in ids


def test_save_writes_the_svg(tmp_path, backend, book_graph):
    drawing = draw(book_graph["z"], book_graph)
    path = drawing.save(tmp_path / "graph.svg")
    assert path.read_text(encoding="utf-8") == drawing.svg


def test_save_refuses_a_name_that_is_not_svg(tmp_path, backend, book_graph):
    with pytest.raises(ValueError, match=r"ending in \.svg"):
        draw(book_graph["z"]).save(tmp_path / "graph.png")
    assert not (tmp_path / "graph.png").exists()


def test_html_repr_embeds_the_same_svg_as_an_image(backend, book_graph):
    drawing = draw(book_graph["z"], book_graph)
    encoded = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', drawing._repr_html_()).group(1)
    assert base64.b64decode(encoded).decode() == drawing._repr_svg_()


def test_text_repr_summarizes_the_graph(backend, book_graph):
    nodes = 5 if backend.__name__ == "autograd_lab" else 4  # torch does not know the constant x
    assert repr(draw(book_graph["z"], book_graph)) == f"<GraphDrawing: graph of z: 1 op, {nodes} nodes>"


def test_values_print_short_and_like_pytorch():
    assert format_values(np.array([2.0, 0.5], np.float32)) == "[2., 0.5]"
    assert format_values(np.array(3.25)) == "3.25"
    assert format_values(np.arange(6.0).reshape(2, 3)) == "[0., 1., 2., 3., …]"
    assert format_values(np.array([1, 2])) == "[1, 2]"
    assert format_values(None) == "None"


def test_drawing_a_torch_graph_needs_no_graphviz(tmp_path):
    """No `dot` on PATH and no importable graphviz package: draw() still works."""
    script = ("import sys; sys.modules['graphviz'] = None\n"
              "import torch\nfrom autograd_lab.viz import draw\n"
              "w = torch.ones(2, requires_grad=True)\n"
              "print(draw((w * 2).exp().sum(), {'w': w}).svg[:4])\n")
    env = dict(os.environ, PATH=str(tmp_path))  # an empty directory: no graphviz binary can be found
    result = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "<svg"


def test_the_drawing_scales_to_the_width_it_is_given(backend, book_graph):
    root = ET.fromstring(draw(book_graph["z"], book_graph).svg)
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert "max-width:100%" in root.get("style")


def test_an_op_box_shows_the_id_sentences_use(backend):
    w = backend.tensor([1.0], requires_grad=True)
    titles = {t.text for t in ET.fromstring(draw((w * 2) * 3, {"w": w}).svg).iter(f"{SVG}text")}
    assert {"MulBackward0", "MulBackward0#2"} <= titles


def test_a_value_not_kept_says_why_when_hovered(backend):
    w = backend.ones(4, requires_grad=True)
    svg = draw((w * 2).exp().sum(), {"w": w}).svg
    muted = [t for t in ET.fromstring(svg).iter(f"{SVG}text") if t.get("class") == "al-muted"]
    assert muted and all(t.text == "value not kept" for t in muted)
    assert all("not saved for backward" in t.find(f"{SVG}title").text for t in muted)


def test_long_values_are_cut_with_a_tooltip_holding_all_of_them(backend):
    w = backend.arange(6.0).reshape(2, 3).requires_grad_()
    svg = draw(w * 2, {"w": w}).svg
    values = next(t for t in ET.fromstring(svg).iter(f"{SVG}text") if t.text == "[0., 1., 2., 3., …]")
    assert values.find(f"{SVG}title").text == "[[0., 1., 2.],\n [3., 4., 5.]]"
