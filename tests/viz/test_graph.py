"""The graph model: one reader for autograd_lab and real torch tensors (each test runs on both)."""

from __future__ import annotations

import numpy as np
import pytest
import torch as real_torch

import autograd_lab
from autograd_lab.autograd.function import keep_forward_inputs
from autograd_lab.graph import build_graph


def _w_x_b(backend):
    w = backend.tensor([2.0], requires_grad=True)
    x = backend.tensor([3.0])
    b = backend.tensor([1.0], requires_grad=True)
    return w, x, b


def test_ops_are_listed_in_creation_order(backend):
    w, x, b = _w_x_b(backend)
    loss = ((w * x).exp() + b).sum()
    assert build_graph(loss).ops == ["MulBackward0", "ExpBackward0", "AddBackward0", "SumBackward0"]


def test_leaves_and_outputs_are_named_from_the_names_dict(backend):
    w, x, b = _w_x_b(backend)
    y = w * x
    z = y + b
    graph = build_graph(z, {"w": w, "x": x, "b": b, "y": y, "z": z})
    assert graph.root == "z"
    assert [(n.id, n.kind) for n in graph.nodes.values()] == [
        ("w", "leaf"), ("MulBackward0", "op"), ("y", "tensor"), ("b", "leaf"), ("AddBackward0", "op"), ("z", "tensor")]


def test_edges_point_in_the_forward_direction(backend):
    w, x, b = _w_x_b(backend)
    z = w * x + b
    edges = {(e.src, e.dst, e.index) for e in build_graph(z, {"w": w, "b": b, "z": z}).edges}
    assert edges == {("w", "MulBackward0", 0), ("MulBackward0", "MulBackward0.out", 0),
                     ("MulBackward0.out", "AddBackward0", 0), ("b", "AddBackward0", 1), ("AddBackward0", "z", 0)}


def test_an_input_that_needs_no_gradient_has_no_edge(backend):
    w, x, _ = _w_x_b(backend)
    graph = build_graph(w * x)
    assert graph.nodes["MulBackward0"].inputs == ("leaf0", None)


def test_leaves_hold_their_values_and_grads(backend):
    w, x, b = _w_x_b(backend)
    z = (w * x + b).sum()
    z.backward(retain_graph=True)
    leaf = build_graph(z, {"w": w}).nodes["w"]
    assert leaf.value.tolist() == [2.0]
    assert leaf.grad.tolist() == [3.0]


def test_a_saved_tensor_gives_an_intermediate_value(backend):
    w, x, _ = _w_x_b(backend)
    y = (w * x).exp()  # exp saves its result, which is y
    assert build_graph(y.sum()).nodes["ExpBackward0.out"].value == pytest.approx(np.exp([6.0]))


def test_an_unreachable_intermediate_value_is_none(backend):
    w, x, b = _w_x_b(backend)
    z = (w * x + b).sum()  # nobody keeps w * x + b: add saves nothing, sum saves no tensor
    assert build_graph(z).nodes["AddBackward0.out"].value is None


def test_the_root_value_is_known(backend):
    w, x, b = _w_x_b(backend)
    z = (w * x + b).sum()
    assert build_graph(z).nodes["SumBackward0.out"].value.tolist() == 7.0


def test_unnamed_leaves_are_numbered_in_order_of_first_use(backend):
    w, x, b = _w_x_b(backend)
    graph = build_graph(w * x + b)
    assert [n.id for n in graph.nodes.values() if n.kind == "leaf"] == ["leaf0", "leaf1"]


def test_names_starting_with_an_underscore_are_ignored(backend):
    w, x, _ = _w_x_b(backend)
    z = w * x
    graph = build_graph(z, {"_": w, "_3": z, "w": w})  # IPython's locals() hold _, _3, Out...
    assert graph.root == "MulBackward0.out"
    assert "w" in graph.nodes


def test_repeated_op_names_get_numbered(backend):
    w, x, b = _w_x_b(backend)
    assert build_graph(w + b + b).ops == ["AddBackward0", "AddBackward0#2"]


def test_module_parameters_are_named_after_the_module(backend):
    backend.manual_seed(0)
    model = backend.nn.Linear(2, 1)
    loss = model(backend.ones(1, 2)).sum()
    leaves = [n.id for n in build_graph(loss, {"model": model}).nodes.values() if n.kind == "leaf"]
    assert sorted(leaves) == ["model.bias", "model.weight"]


def test_a_custom_function_node_is_named_like_in_torch(backend, book_graph):
    graph = build_graph(book_graph["z"], book_graph)
    assert graph.ops == ["MulBackward"]
    assert graph.nodes["MulBackward"].inputs[0] == "w"


def test_backward_nodes_are_mapped_to_graph_ids(backend):
    w, x, b = _w_x_b(backend)
    z = w * x + b
    graph = build_graph(z, {"w": w, "b": b})
    accumulate = z.grad_fn.next_functions[1][0]
    assert graph.id_of(accumulate) == "b"
    assert graph.id_of(z.grad_fn) == "AddBackward0"
    assert len(graph.backward_nodes) == 4  # two ops, two AccumulateGrad nodes


def test_a_lone_leaf_is_a_one_node_graph(backend):
    w, _, _ = _w_x_b(backend)
    graph = build_graph(w, {"w": w})
    assert (graph.root, graph.ops, list(graph.nodes)) == ("w", [], ["w"])


def test_a_tensor_outside_any_graph_is_refused(backend):
    with pytest.raises(ValueError, match="not part of a graph"):
        build_graph(backend.ones(2))


def test_something_that_is_not_a_tensor_is_refused():
    with pytest.raises(TypeError, match="expected an autograd_lab or torch tensor, got list"):
        build_graph([1.0, 2.0])


def test_both_libraries_give_the_same_graph():
    def read(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([0.5, 0.5], requires_grad=True)
        loss = ((w * w).sin() + b).mean()
        graph = build_graph(loss, {"w": w, "b": b, "loss": loss})
        return [(n.id, n.kind, n.inputs) for n in graph.nodes.values()], [(e.src, e.dst, e.index) for e in graph.edges]

    assert read(autograd_lab) == read(real_torch)


def test_forward_inputs_reveal_constants_and_intermediate_values():
    w = autograd_lab.tensor([2.0], requires_grad=True)
    x = autograd_lab.tensor([3.0])
    with keep_forward_inputs():
        z = (w * x + 1.0).sum()  # nothing saves w * x + 1; the sum's recorded input does
    graph = build_graph(z, {"w": w, "x": x})
    assert graph.nodes["x"].kind == "constant"
    assert graph.nodes["MulBackward0"].inputs == ("w", "x")
    assert graph.nodes["AddBackward0.out"].value.tolist() == [7.0]
