"""The engine's shortcuts give what the plain way gives, bit for bit, under both libraries.

ReLU's backward masks the gradient with bit operations (no branches), matrix products hand MKL a pointer
taken from the array's buffer: each is checked here against PyTorch on random values, specials and layouts.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from autograd_lab._ops.pointwise import _zero_where
from tests.core.test_float_order import DTYPES, SETTINGS, _both

SPECIALS = [0.0, -0.0, math.nan, math.inf, -math.inf, 1e-45, -1e-45]


@st.composite
def _values(draw, dtype):
    """A matrix of random normals with some specials (signed zeros, nan, infinities, subnormals) sprinkled in."""
    rows, cols = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    x = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal((rows, cols)).astype(dtype)
    for _ in range(draw(st.integers(0, 6))):
        x[draw(st.integers(0, rows - 1)), draw(st.integers(0, cols - 1))] = draw(st.sampled_from(SPECIALS))
    return x


@SETTINGS
@given(st.data(), DTYPES, st.booleans())
def test_relu_backward_matches_pytorch_bit_for_bit(data, dtype, transposed):
    x, grad = data.draw(_values(dtype)), data.draw(_values(dtype))
    grad = np.resize(grad, x.shape).astype(dtype)

    def program(torch, leaf):
        source = leaf.t() if transposed else leaf
        out = source.relu() * torch.tensor(grad.T if transposed else grad)  # (the gradient relu receives)
        return out

    _both(program, x)


@SETTINGS
@given(st.data(), st.sampled_from([np.float16, np.float32, np.float64, np.int32]), st.booleans())
def test_zero_where_is_np_where_to_the_bit(data, dtype, transposed):
    g = data.draw(_values(np.float64)).astype(dtype) if np.dtype(dtype).kind == "f" else \
        np.arange(12, dtype=dtype).reshape(3, 4)
    g = g.T if transposed else g
    drop = np.random.default_rng(data.draw(st.integers(0, 99))).random(g.shape) < 0.5
    expected = np.where(drop, g.dtype.type(0), g)
    got = _zero_where(drop, g)
    assert got.dtype == expected.dtype and got.strides == expected.strides
    assert got.tobytes() == expected.tobytes()


def test_mul_backward_without_create_graph_gives_the_bits_of_a_recorded_one():
    """A plain backward multiplies the arrays (no op around the product); create_graph records Mul: same bits,
    dtypes and shapes, broadcasting and a float64 0-d operand included."""
    import warnings

    import autograd_lab as torch

    def grads(create_graph):
        torch.manual_seed(0)
        x = torch.randn(4, 3, requires_grad=True)
        y = torch.randn(3, requires_grad=True)
        s = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # create_graph=True's reference-cycle warning
            (x * y * s * 0.3).sum().backward(create_graph=create_graph)
        return [(g._data.tobytes(), g.dtype, tuple(g.shape)) for g in (x.grad, y.grad, s.grad)]

    assert grads(False) == grads(True)


def test_relu_backward_without_create_graph_gives_the_bits_of_a_recorded_one():
    """A plain backward masks the arrays; create_graph records ThresholdBackward: the same bits (specials too)."""
    import warnings

    import autograd_lab as torch

    def grads(create_graph):
        x = torch.tensor([[1.5, -0.0, 0.0, -2.0], [math.nan, math.inf, -math.inf, 1e-45]], requires_grad=True)
        g = torch.tensor([[-0.0, 2.0, 3.0, 4.0], [5.0, math.nan, 7.0, -8.0]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # create_graph=True's reference-cycle warning
            x.t().relu().t().backward(g, create_graph=create_graph)
        return x.grad._data.tobytes(), x.grad.dtype, tuple(x.grad.shape)

    assert grads(False) == grads(True)


@SETTINGS
@given(DTYPES, st.integers(0, 2**32 - 1), st.integers(1, 5000), st.sampled_from([0.1, 1e-3, 3.0]),
       st.sampled_from(["contiguous", "strided", "aliased"]))
def test_an_sgd_step_rounds_each_element_once(dtype, seed, n, lr, layout):
    """SGD's ``p.add_(g, alpha=-lr)`` is one MKL axpy call where it can be (a fused multiply-add per element, as
    PyTorch's kernel): same bits as PyTorch's for any length (MKL's vector loop and its tail), and the general
    path where the gradient is strided or is the parameter's own memory."""
    import torch

    import autograd_lab
    rng = np.random.default_rng(seed)
    p0, g0 = rng.standard_normal(n).astype(dtype), rng.standard_normal(2 * n).astype(dtype)
    seen = []
    for t in (torch, autograd_lab):
        p = t.nn.Parameter(t.from_numpy(p0.copy()))
        g = {"contiguous": t.from_numpy(g0[:n].copy()), "strided": t.from_numpy(g0.copy())[::2],
             "aliased": p.detach()}[layout]
        p.grad = g
        version = p._version
        t.optim.SGD([p], lr=lr).step()
        seen.append((p.detach().numpy().tobytes(), p._version - version))
    assert seen[0] == seen[1]
