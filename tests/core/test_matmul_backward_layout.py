"""mm/addmm backward as PyTorch computes it: a column-major matrix (``weight.t()`` in a Linear layer) gets its
gradient computed transposed, ``grad.t().mm(mat1).t()``, so the graph of a gradient matches torch's node for node."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tests.core.twin import record


def _names(node, depth):
    """The node's name and its children's, ``depth`` levels down (a nested list)."""
    if node is None or depth == 0:
        return None
    return [node.name(), [_names(child, depth - 1) for child, _ in node.next_functions]]


@pytest.mark.parametrize("layer", ["linear", "mm of a transposed matrix", "mm of a row-major matrix"])
def test_gradient_graphs_and_values_match_torch(layer):
    def program(torch):
        torch.manual_seed(0)
        x = torch.randn(5, 3, requires_grad=True)
        if layer == "linear":
            model = torch.nn.Linear(3, 4)
            w = model.weight
            y = model(x)
        else:
            w = torch.randn(4, 3, requires_grad=True) if layer != "mm of a row-major matrix" else torch.randn(
                3, 4, requires_grad=True)
            y = x.mm(w.t() if layer == "mm of a transposed matrix" else w)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # create_graph=True's reference-cycle warning
            (y * y).sum().backward(create_graph=True)
        return _names(w.grad.grad_fn, 5), _names(x.grad.grad_fn, 5), w.grad.tolist(), x.grad.tolist()

    torch_result, ours = record(program)
    assert ours[:2] == torch_result[:2]
    for got, expected in zip(ours[2:], torch_result[2:]):  # (BLAS may round the last bits differently)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("layer", ["linear", "mm of a transposed matrix", "mm of a row-major matrix"])
def test_a_plain_backward_gives_the_bits_and_layout_of_a_recorded_one(layer):
    """A plain backward runs mm's backward on the arrays, create_graph on recorded ops: the same products."""
    import autograd_lab as torch

    def grads(create_graph):
        torch.manual_seed(0)
        x = torch.randn(64, 33, requires_grad=True)
        w = torch.randn(17, 33, requires_grad=True) if layer != "mm of a row-major matrix" else torch.randn(
            33, 17, requires_grad=True)
        b = torch.randn(17, requires_grad=True)
        y = torch.nn.functional.linear(x, w, b) if layer == "linear" else x.mm(
            w.t() if layer == "mm of a transposed matrix" else w)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # create_graph=True's reference-cycle warning
            (y * y).sum().backward(create_graph=create_graph)
        return [(g._data.tobytes(), g.stride()) for g in (x.grad, w.grad)]

    assert grads(False) == grads(True)
