"""The ops added for PyTorch's tutorials, against torch on random shapes and values (values and gradients)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_lab
from tests.core.test_differential import DTYPES, SETTINGS, _compare, broadcast_pair, elements

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@st.composite
def array_and_dim(draw, dtype, min_side=1):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=min_side, max_side=4))
    a = draw(hnp.arrays(DTYPES[dtype][0], shape, elements=elements))
    return a, draw(st.integers(-len(shape), len(shape) - 1))


@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(sorted(DTYPES)))
def test_norm_matches_torch(data, dtype):
    a, dim = data.draw(array_and_dim(dtype))
    p = data.draw(st.sampled_from([2, 1, 3, 0.5, float("inf"), "fro"]))
    over = data.draw(st.sampled_from([None, dim]))
    keepdim = data.draw(st.booleans())
    a = np.where(np.abs(a) < 1e-3, 0, a).astype(a.dtype)  # squares of tiny float32 numbers underflow (differently)
    if p == 0.5:
        a = np.abs(a) + 0.5  # |a|**(p-1) is infinite at 0 for p < 1 (both libraries give inf/nan there)
    _compare([a], lambda t, x: x.norm(p=p, dim=over, keepdim=keepdim), dtype)


@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(sorted(DTYPES)))
def test_std_and_var_match_torch(data, dtype):
    a, dim = data.draw(array_and_dim(dtype, min_side=2))
    # Where all values are equal, std's gradient is 0/0, and whether the mean comes out exactly equal to them depends
    # on the order of the sum (std sums with NumPy here, PyTorch in its cascade order). Only the spread-out case is
    # comparable.
    assume(np.ptp(a, axis=None if a.ndim == 1 else dim).min() > 1e-3)
    kind = data.draw(st.sampled_from(["std", "var"]))
    over = data.draw(st.sampled_from([None, dim, (0, -1)] if a.ndim > 1 else [None, dim]))
    correction = data.draw(st.sampled_from([0, 1]))
    keepdim = data.draw(st.booleans())
    _compare([a], lambda t, x: getattr(x, kind)(over, keepdim=keepdim, correction=correction), dtype)


@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(sorted(DTYPES)))
def test_sort_matches_torch(data, dtype):
    a, dim = data.draw(array_and_dim(dtype))
    descending = data.draw(st.booleans())
    _compare([a], lambda t, x: x.sort(dim=dim, descending=descending, stable=True).values, dtype)
    ours = autograd_lab.tensor(a).sort(dim=dim, descending=descending, stable=True).indices
    theirs = torch.tensor(a).sort(dim=dim, descending=descending, stable=True).indices
    assert ours.tolist() == theirs.tolist()


@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(sorted(DTYPES)))
def test_index_add_matches_torch(data, dtype):
    a, dim = data.draw(array_and_dim(dtype))
    n = data.draw(st.integers(0, 5))
    index = np.array(data.draw(st.lists(st.integers(0, a.shape[dim] - 1), min_size=n, max_size=n)), np.int64)
    source_shape = list(a.shape)
    source_shape[dim] = n
    source = data.draw(hnp.arrays(DTYPES[dtype][0], tuple(source_shape), elements=elements))
    alpha = data.draw(st.sampled_from([1, 2.5]))
    _compare([a, source], lambda t, x, s: (x * 1).index_add_(dim, t.tensor(index), s, alpha=alpha), dtype)


IN_PLACE = {"exp_": (), "log_": (), "sin_": (), "cos_": (), "tanh_": (), "sigmoid_": (), "relu_": (), "abs_": (),
            "sqrt_": (), "neg_": (), "reciprocal_": (), "clamp_": (-1.0, 0.5), "pow_": (3,)}


@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(sorted(DTYPES)), name=st.sampled_from(sorted(IN_PLACE)))
def test_in_place_ops_match_torch(data, dtype, name):
    a, _ = data.draw(array_and_dim(dtype))
    if name in ("log_", "sqrt_", "reciprocal_"):
        a = np.abs(a) + 0.5

    def program(t, x):
        y = x * 1
        getattr(y, name)(*IN_PLACE[name])
        return y * 2  # used again after the change: backward reads what the in-place op saved

    _compare([a], program, dtype)
    versions = []
    for t in (autograd_lab, torch):
        y = t.tensor(a, requires_grad=True) * 1
        getattr(y, name)(*IN_PLACE[name])
        versions.append((y._version, y.grad_fn.name()))
    assert versions[0] == versions[1]


@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(sorted(DTYPES)))
def test_bce_with_logits_matches_torch(data, dtype):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    np_type = DTYPES[dtype][0]
    logits = data.draw(hnp.arrays(np_type, shape, elements=st.floats(-20, 20, width=32)))
    target = data.draw(hnp.arrays(np_type, shape, elements=st.floats(0, 1, width=32)))
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))
    weighted = data.draw(st.sampled_from(["none", "weight", "pos_weight", "both"]))
    weight = np.linspace(0.5, 2, shape[-1]).astype(np_type)
    pos_weight = np.linspace(3, 0.25, shape[-1]).astype(np_type)

    def program(t, x, y):
        kwargs = {}
        if weighted in ("weight", "both"):
            kwargs["weight"] = t.tensor(weight)
        if weighted in ("pos_weight", "both"):
            kwargs["pos_weight"] = t.tensor(pos_weight)
        return t.nn.functional.binary_cross_entropy_with_logits(x, y, reduction=reduction, **kwargs)

    _compare([logits, target], program, dtype)


@SETTINGS
@given(start=st.floats(-1e3, 1e3, width=32), end=st.floats(-1e3, 1e3, width=32), steps=st.integers(0, 3000),
       dtype=st.sampled_from(["float32", "float64", "int64"]))
def test_linspace_matches_torch_bit_for_bit(start, end, steps, dtype):
    if dtype == "int64":
        start, end = round(start), round(end)
    ours = autograd_lab.linspace(start, end, steps, dtype=getattr(autograd_lab, dtype)).numpy()
    theirs = torch.linspace(start, end, steps, dtype=getattr(torch, dtype)).numpy()
    np.testing.assert_array_equal(ours, theirs)


@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(sorted(DTYPES)))
def test_more_unary_math_matches_torch(data, dtype):
    a, _ = data.draw(array_and_dim(dtype))
    name = data.draw(st.sampled_from(["log2", "log10", "log1p", "sinh", "cosh", "expm1", "exp2", "tan", "rsqrt",
                                      "square", "sign"]))
    if name in ("log2", "log10", "rsqrt"):
        a = (np.abs(a) + 0.5).astype(a.dtype)  # (positive, away from the pole)
    elif name == "log1p":
        a = (np.abs(a) - 0.5).astype(a.dtype)
    elif name == "tan":
        a = np.clip(a, -1.2, 1.2).astype(a.dtype)
    elif name in ("sinh", "cosh", "exp2", "expm1"):
        a = np.clip(a, -5, 5).astype(a.dtype)
    _compare([a], lambda t, x: getattr(x, name)(), dtype)


@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(sorted(DTYPES)))
def test_split_topk_tril_and_masked_fill_match_torch(data, dtype):
    a, dim = data.draw(array_and_dim(dtype))
    length = a.shape[dim]
    kind = data.draw(st.sampled_from(["split", "chunk", "topk", "tril", "masked_fill"]))
    if kind == "split":
        size = data.draw(st.integers(1, length))
        _compare([a], lambda t, x: t.stack([p.sum() * (i + 1) for i, p in enumerate(x.split(size, dim))]), dtype)
    elif kind == "chunk":
        chunks = data.draw(st.integers(1, length + 1))
        _compare([a], lambda t, x: t.stack([p.sum() * (i + 1) for i, p in enumerate(x.chunk(chunks, dim))]), dtype)
    elif kind == "topk":
        assume(len(np.unique(a)) == a.size)  # (the order of equal values is PyTorch's to choose)
        k = data.draw(st.integers(0, length))
        largest = data.draw(st.booleans())
        _compare([a], lambda t, x: x.topk(k, dim, largest=largest).values, dtype)
    elif kind == "tril":
        assume(a.ndim >= 2)
        diagonal = data.draw(st.integers(-3, 3))
        _compare([a], lambda t, x: x.tril(diagonal) * 2 + x.triu(diagonal), dtype)
    else:
        mask = data.draw(hnp.arrays(np.bool_, a.shape[-1:]))
        _compare([a], lambda t, x: x.masked_fill(t.tensor(mask), 0.5), dtype)


@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(sorted(DTYPES)))
def test_rounded_division_and_rounding_match_torch_bit_for_bit(data, dtype):
    a, b = data.draw(broadcast_pair(dtype))
    mode = data.draw(st.sampled_from(["floor", "trunc"]))
    decimals = data.draw(st.integers(-2, 4))
    for kind in (autograd_lab, torch):
        x, y = kind.tensor(a) * 10, kind.tensor(b)
        quotient, rounded = kind.div(x, y, rounding_mode=mode), kind.round(x, decimals=decimals)
        if kind is autograd_lab:
            ours = (quotient.numpy(), rounded.numpy())
    np.testing.assert_array_equal(ours[0], quotient.numpy())
    np.testing.assert_array_equal(ours[1], rounded.numpy())


@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(sorted(DTYPES)))
def test_clamp_with_tensor_bounds_matches_torch(data, dtype):
    a, lo = data.draw(broadcast_pair(dtype))
    hi = lo + data.draw(st.sampled_from([-1.0, 0.0, 1.0]))  # (hi < lo too: the result is hi there)
    which = data.draw(st.sampled_from(["min", "max", "both"]))

    def program(t, x, low, high):
        bounds = {"min": {"min": low}, "max": {"max": high}, "both": {"min": low, "max": high}}[which]
        return t.clamp(x, **bounds)

    _compare([a, lo, hi.astype(lo.dtype)], program, dtype)


_VIEWS = {"slice": lambda v: v[1:], "step": lambda v: v[::2], "row": lambda v: v[0], "t": lambda v: v.t(),
          "view": lambda v: v.reshape(-1), "unsqueeze": lambda v: v.unsqueeze(0), "alias": lambda v: v[...]}
_CHANGES = {"mul_": lambda v, w: v.mul_(w.sum()), "add_": lambda v, w: v.add_(w.mean()),
            "setitem": lambda v, w: v.__setitem__(0, w.sum()), "exp_": lambda v, w: v.exp_(),
            "zero_": lambda v, w: v.zero_()}


@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(sorted(DTYPES)))
def test_views_of_memory_changed_in_place_get_the_gradients_torch_gives(data, dtype):
    """Two views of a non-leaf; one of them (or the base) changes in place; both views are used after."""
    shape = data.draw(st.sampled_from([(3, 4), (2, 3)]))
    a = data.draw(hnp.arrays(DTYPES[dtype][0], shape, elements=elements))
    w = data.draw(hnp.arrays(DTYPES[dtype][0], (2,), elements=elements))
    first, second = data.draw(st.sampled_from(sorted(_VIEWS))), data.draw(st.sampled_from(sorted(_VIEWS)))
    change, where = data.draw(st.sampled_from(sorted(_CHANGES))), data.draw(st.sampled_from(["base", "view"]))

    def program(t, x, weights):
        base = x * 1
        u, v = _VIEWS[first](base), _VIEWS[second](base)
        _CHANGES[change](base if where == "base" else u, weights)
        return (u * 2).sum() + (v * 3).sum() + base.sum()

    _compare([a, w], program, dtype)
