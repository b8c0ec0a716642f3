"""Property tests: autograd_lab and torch, fed the same random data, agree on values, gradients and printouts."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_lab

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

DTYPES = {"float32": (np.float32, 2e-4, 1e-5), "float64": (np.float64, 1e-9, 1e-11)}
# HYPOTHESIS_EXAMPLES=2000 for a long local run
SETTINGS = settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "60")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# Ops that are defined and smooth enough everywhere on [-3, 3] (log/sqrt/div are given positive arguments).
UNARY = {
    "exp": lambda t, a: t.exp(a),
    "log1p_sq": lambda t, a: t.log(a * a + 1),
    "sqrt_sq": lambda t, a: t.sqrt(a * a + 0.5),
    "sin": lambda t, a: t.sin(a),
    "cos": lambda t, a: a.cos(),
    "tanh": lambda t, a: t.tanh(a),
    "sigmoid": lambda t, a: t.sigmoid(a),
    "relu": lambda t, a: t.relu(a),
    "abs": lambda t, a: a.abs(),
    "neg": lambda t, a: -a,
    "square": lambda t, a: a ** 2,
    "cube_root_like": lambda t, a: (a * a + 1) ** 0.3,
    "clamp": lambda t, a: a.clamp(-1.0, 0.5),
    "scale": lambda t, a: 2.5 * a - 1,
    "recip": lambda t, a: 1 / (a * a + 1),
}
BINARY = {
    "add": lambda t, a, b: a + b,
    "sub": lambda t, a, b: a - b,
    "mul": lambda t, a, b: a * b,
    "div": lambda t, a, b: a / (b * b + 1),
    "maximum": lambda t, a, b: t.maximum(a, b),
    "where": lambda t, a, b: t.where(a > b, a, b * 2),
    "pow": lambda t, a, b: (a * a + 1) ** b,
}


def _close(ours: autograd_lab.Tensor, theirs: torch.Tensor, rtol: float, atol: float) -> None:
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert repr(ours.dtype) == repr(theirs.dtype)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


def _run(module, arrays, program):
    """Run ``program`` on fresh leaves made from ``arrays``; return output and leaves' grads."""
    leaves = [module.tensor(a, requires_grad=True) for a in arrays]
    out = program(module, *leaves)
    weights = module.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)).astype(arrays[0].dtype))
    (out * weights).sum().backward()
    return out, [leaf.grad for leaf in leaves]


def _compare(arrays, program, dtype):
    _, rtol, atol = DTYPES[dtype]
    ours, our_grads = _run(autograd_lab, arrays, program)
    theirs, their_grads = _run(torch, arrays, program)
    _close(ours, theirs, rtol, atol)
    for g_ours, g_theirs in zip(our_grads, their_grads):
        assert (g_ours is None) == (g_theirs is None)
        if g_ours is not None:
            _close(g_ours, g_theirs, rtol, atol)


elements = st.floats(-3, 3, allow_nan=False, width=32)


@st.composite
def broadcast_pair(draw, dtype):
    """Two arrays whose shapes broadcast together (0-d and size-0 dimensions included)."""
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3))
    np_type = DTYPES[dtype][0]
    return [draw(hnp.arrays(np_type, shape, elements=elements)) for shape in shapes.input_shapes]


@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(sorted(DTYPES)))
def test_random_programs_match_torch(data, dtype):
    a, b = data.draw(broadcast_pair(dtype))
    steps = data.draw(st.lists(st.sampled_from(sorted(UNARY) + sorted(BINARY)), min_size=1, max_size=5))

    def program(t, x, y):
        out = x
        for name in steps:
            out = UNARY[name](t, out) if name in UNARY else BINARY[name](t, out, y)
        return out

    _compare([a, b], program, dtype)


@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(sorted(DTYPES)))
def test_reductions_match_torch(data, dtype):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    a = data.draw(hnp.arrays(DTYPES[dtype][0], shape, elements=elements))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keepdim = data.draw(st.booleans())
    kind = data.draw(st.sampled_from(["sum", "mean", "sum_all", "mean_all", "max_all", "max_dim", "log_softmax"]))

    def program(t, x):
        if kind == "sum":
            return x.sum(dim, keepdim=keepdim)
        if kind == "mean":
            return x.mean(dim, keepdim=keepdim)
        if kind == "max_dim":
            return x.max(dim, keepdim=keepdim).values
        if kind == "log_softmax":
            return t.nn.functional.log_softmax(x, dim)
        return {"sum_all": x.sum, "mean_all": x.mean, "max_all": x.max}[kind]()

    _compare([a], program, dtype)


@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(sorted(DTYPES)))
def test_shape_ops_and_indexing_match_torch(data, dtype):
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4))
    a = data.draw(hnp.arrays(DTYPES[dtype][0], shape, elements=elements))
    n0 = shape[0]
    i = data.draw(st.integers(-n0, n0 - 1))
    start = data.draw(st.integers(0, n0))
    picks = data.draw(st.lists(st.integers(-n0, n0 - 1), min_size=1, max_size=5))
    kind = data.draw(st.sampled_from(["select", "slice", "index", "mask", "transpose", "reshape", "unsqueeze",
                                      "expand_sum", "cat", "stack", "setitem", "t_matmul"]))

    def program(t, x):
        if kind == "select":
            return x[i]
        if kind == "slice":
            return x[start:, ..., ::2]
        if kind == "index":
            return x[t.tensor(picks)]
        if kind == "mask":
            return x[x > 0]
        if kind == "transpose":
            return x.transpose(0, -1) * 2
        if kind == "reshape":
            return x.reshape(-1).view(x.numel(), 1)
        if kind == "unsqueeze":
            return x.unsqueeze(1).squeeze(1)
        if kind == "expand_sum":
            return x[:1].expand(*x.shape) + x
        if kind == "cat":
            return t.cat([x, x * 2], dim=-1)
        if kind == "stack":
            return t.stack([x, -x], dim=1)
        if kind == "setitem":
            y = x * 1
            y[i] = x[0] * 3
            return y
        return x.reshape(x.shape[0], -1) @ x.reshape(x.shape[0], -1).t()

    _compare([a], program, dtype)


@SETTINGS
@given(data=st.data())
def test_second_derivatives_match_torch(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))
    a = data.draw(hnp.arrays(np.float64, shape, elements=elements))
    name = data.draw(st.sampled_from(sorted(set(UNARY) - {"relu", "abs", "clamp", "neg", "scale"})))  # curved ops

    def hvp(t):
        x = t.tensor(a, requires_grad=True)
        (g,) = t.autograd.grad(UNARY[name](t, x).sum(), x, create_graph=True)
        (h,) = t.autograd.grad((g * g).sum(), x)
        return h

    _close(hvp(autograd_lab), hvp(torch), 1e-8, 1e-10)


@SETTINGS
@given(data=st.data())
def test_repr_matches_torch(data):
    dtype = data.draw(st.sampled_from(["float32", "float64", "int64", "bool"]))
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))
    np_type = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "bool": np.bool_}[dtype]
    scale = data.draw(st.sampled_from([1e-6, 1.0, 1e3, 1e9]))
    if dtype.startswith("float"):
        values = data.draw(hnp.arrays(np_type, shape, elements=st.floats(-10, 10, width=32))) * np_type(scale)
    else:
        values = data.draw(hnp.arrays(np_type, shape))
    requires_grad = dtype.startswith("float") and data.draw(st.booleans())
    ours = autograd_lab.tensor(values, requires_grad=requires_grad)
    theirs = torch.tensor(values, requires_grad=requires_grad)
    assert repr(ours) == repr(theirs)
    if requires_grad and values.size:
        assert repr(ours * 2) == repr(theirs * 2)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), dtype=st.sampled_from(["float32", "float64"]))
def test_random_numbers_match_torch(seed, n, dtype):
    for module in (torch, autograd_lab):
        module.manual_seed(seed)
    ours = [f(n, dtype=getattr(autograd_lab, dtype)) for f in (autograd_lab.rand, autograd_lab.randn)]
    theirs = [f(n, dtype=getattr(torch, dtype)) for f in (torch.rand, torch.randn)]
    np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())
    np.testing.assert_allclose(ours[1].numpy(), theirs[1].numpy(), rtol=1e-6, atol=1e-6)
