"""Seeded random numbers are PyTorch's, bit for bit: the same seed prints the same tensors under both engines."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_lab

DTYPES = ["float32", "float64"]


def _draw_both(seed: int, draw) -> tuple[np.ndarray, np.ndarray]:
    """draw(module, dtype) under torch and autograd_lab, each right after manual_seed(seed)."""
    arrays = []
    for module in (torch, autograd_lab):
        module.manual_seed(seed)
        arrays.append(np.asarray(draw(module)))
    return arrays[0], arrays[1]


def _assert_identical(theirs: np.ndarray, ours: np.ndarray) -> None:
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    assert ours.tobytes() == theirs.tobytes(), f"{(ours != theirs).sum()} of {ours.size} numbers differ"


@pytest.mark.parametrize("dtype", DTYPES)
def test_randn_matches_torch_for_every_size_up_to_100(dtype):
    for n in range(1, 101):
        _assert_identical(*_draw_both(n, lambda m, n=n: m.randn(n, dtype=getattr(m, dtype)).numpy()))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), n=st.integers(1, 300), dtype=st.sampled_from(DTYPES))
def test_randn_matches_torch_for_any_seed(seed, n, dtype):
    _assert_identical(*_draw_both(seed, lambda m: m.randn(n, dtype=getattr(m, dtype)).numpy()))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shape=st.lists(st.integers(0, 9), min_size=0, max_size=3),
       dtype=st.sampled_from(DTYPES))
def test_randn_and_rand_match_torch_for_any_shape(seed, shape, dtype):
    _assert_identical(*_draw_both(seed, lambda m: m.randn(tuple(shape), dtype=getattr(m, dtype)).numpy()))
    _assert_identical(*_draw_both(seed, lambda m: m.rand(shape, dtype=getattr(m, dtype)).numpy()))
    if shape:
        _assert_identical(*_draw_both(seed, lambda m: m.randn(*shape, dtype=getattr(m, dtype)).numpy()))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 70), dtype=st.sampled_from(DTYPES),
       mean=st.floats(-5, 5), std=st.floats(1e-3, 10))
def test_normal_with_mean_and_std_matches_torch(seed, n, dtype, mean, std):
    """x * std + mean is one fused multiply-add in PyTorch's kernel: one rounding, not two."""
    _assert_identical(*_draw_both(seed, lambda m: m.empty(n, dtype=getattr(m, dtype)).normal_(mean, std).numpy()))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 70), dtype=st.sampled_from(DTYPES),
       low=st.floats(-5, 5), width=st.floats(1e-3, 10))
def test_uniform_with_bounds_matches_torch(seed, n, dtype, low, width):
    _assert_identical(*_draw_both(seed, lambda m: m.empty(n, dtype=getattr(m, dtype)).uniform_(low, low + width)
                                  .numpy()))


@pytest.mark.parametrize("dtype", DTYPES)
def test_mixed_calls_keep_the_stream_in_step(dtype):
    """rand, small and large randn, a Linear layer's init and randn_like share one stream, as in torch."""
    def draw(m):
        kind = getattr(m, dtype)
        parts = [m.rand(3, dtype=kind), m.randn(20, dtype=kind), m.randn(3, dtype=kind),
                 m.nn.Linear(7, 5).weight.detach().to(kind), m.randn(1, dtype=kind), m.randn(33, dtype=kind),
                 m.randn_like(m.zeros(4, 5, dtype=kind)), m.rand_like(m.zeros(17, dtype=kind))]
        return np.concatenate([p.numpy().ravel() for p in parts])
    _assert_identical(*_draw_both(0, draw))


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_cached_normal_sample_is_used_by_the_next_small_draw(dtype):
    """Below 16 numbers each Box-Muller pair gives two samples; an odd count leaves one for the next call."""
    def draw(m):
        kind = getattr(m, dtype)
        return np.concatenate([m.randn(3, dtype=kind).numpy(), m.randn(16, dtype=kind).numpy(),
                               m.randn(1, dtype=kind).numpy(), m.randn(2, dtype=kind).numpy()])
    _assert_identical(*_draw_both(3, draw))


@pytest.mark.parametrize("fill", ["normal_", "uniform_"])
def test_a_transposed_view_is_filled_in_memory_order(fill):
    """PyTorch fills a strided tensor in memory order, one number at a time (no blocks of 16)."""
    _assert_identical(*_draw_both(1, lambda m: getattr(m.zeros(6, 5).t(), fill)().numpy()))


@pytest.mark.parametrize("init", ["normal_", "uniform_", "xavier_uniform_", "kaiming_uniform_"])
def test_nn_init_matches_torch(init):
    args = {"normal_": (0.1, 0.02), "uniform_": (-0.3, 0.7)}.get(init, ())
    _assert_identical(*_draw_both(5, lambda m: getattr(m.nn.init, init)(m.empty(8, 6), *args).numpy()))


def test_a_large_randn_matches_torch():
    _assert_identical(*_draw_both(7, lambda m: m.randn(300, 1001).numpy()))
    _assert_identical(*_draw_both(7, lambda m: m.randn(10_007, dtype=m.float64).numpy()))


@pytest.mark.parametrize("dtype", DTYPES)
def test_uniform_never_returns_high(dtype):
    """A draw that rounds up to ``high`` (likely when high - low is a few ulps) comes out as ``low``, as in
    PyTorch (seed 68's fifth float32 number of uniform_(4, 4.001) is one)."""
    high = 4.001 if dtype == "float32" else 4 + 1e-14
    _assert_identical(*_draw_both(68, lambda m: m.empty(400, dtype=getattr(m, dtype)).uniform_(4.0, high).numpy()))
