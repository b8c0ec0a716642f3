"""sigmoid, pow, log1p, expm1, sinh, cosh, exp2, softmax and the losses built on them, bit for bit as
PyTorch's CPU kernels: SLEEF on ATen's vector lanes, the C library on its scalar rest (``_ops/vectorized.py``).

Where the C library cannot be loaded (not Linux), the scalar lanes are float64 rounded once, which differs
from glibc's float functions in up to 1 value in 10 (by an ulp, two after sigmoid's division): those
lanes are then checked to two ulps, the vector lanes still to the bit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import autograd_lab
from autograd_lab._ops import _cascade_sum, vectorized
from autograd_lab.backends.cpu import vector_bytes
from tests.core.test_float_order import SETTINGS

LAYOUTS = ["contiguous", "transposed", "sliced", "every other"]


def _view(t, layout):
    return {"contiguous": lambda: t, "transposed": t.t, "sliced": lambda: t[:, 1:],
            "every other": lambda: t[:, ::2]}[layout]()


def _compare(data: np.ndarray, layout: str, op=lambda t: t.sigmoid()) -> None:
    ours = _view(autograd_lab.from_numpy(data), layout)
    theirs = op(_view(torch.from_numpy(data), layout)).numpy()
    lanes = vectorized._vector_lanes(ours._data, 2 * vector_bytes() // 4)
    got = op(ours).numpy()
    if vectorized._c_library() is not None:
        assert got.tobytes() == theirs.tobytes()
        return
    assert got[lanes].tobytes() == theirs[lanes].tobytes()
    same_nan = np.isnan(got) & np.isnan(theirs)
    ulps = np.abs(got.view(np.int32).astype(np.int64) - theirs.view(np.int32).astype(np.int64))[~same_nan]
    assert ulps.max(initial=0) <= 2  # (expf one ulp off can move 1 / (1 + expf(-x)) by two)


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(1, 40), st.integers(1, 300), st.sampled_from(LAYOUTS))
def test_float32_sigmoid_matches_on_every_vector_lane(seed, rows, cols, layout):
    data = (np.random.default_rng(seed).standard_normal((rows, cols)) * 8).astype(np.float32)
    _compare(data, layout)


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(1, 20), st.integers(1, 200), st.sampled_from(LAYOUTS),
       st.sampled_from([4, 5, 7, 10, -3, -4, 1.5, 2.5, -1.5, 0.25, 1.0 / 3]))
def test_float32_pow_matches_on_every_vector_lane(seed, rows, cols, layout, exponent):
    """x ** 4 in "Learning PyTorch with Examples"' dynamic net: SLEEF's powf in PyTorch's vector loop."""
    data = (np.random.default_rng(seed).standard_normal((rows, cols)) * 3).astype(np.float32)
    with np.errstate(invalid="ignore"):
        _compare(data, layout, lambda t: t ** exponent)


def test_pow_special_values():
    """C99's special cases as SLEEF settles them: zeros, infinities, nan, negative bases, x = 1, p = 0."""
    specials = np.array([0, -0.0, 1, -1, np.inf, -np.inf, np.nan, 1e-40, -2.5, 3e38, 1e-30, 0.5, -0.5, 2, -2, 7],
                        np.float32)
    for exponent in (4, 5, -3, 1.5, -1.5, 0.25, 200.0, -200.0, 1e-7):
        with np.errstate(all="ignore"):
            ours = (autograd_lab.from_numpy(specials) ** exponent).numpy()
        theirs = (torch.from_numpy(specials) ** exponent).numpy()
        assert ours.tobytes() == theirs.tobytes(), exponent


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_large_tensors_are_split_between_threads_as_pytorch_splits_them(threads):
    """From 32768 elements PyTorch gives each thread one row, whose last few elements are scalar."""
    before = (torch.get_num_threads(), autograd_lab.get_num_threads())
    torch.set_num_threads(threads)
    autograd_lab.set_num_threads(threads)
    try:
        data = (np.random.default_rng(threads).standard_normal((1, 50001)) * 8).astype(np.float32)
        _compare(data, "contiguous")
        tail = vectorized._vector_lanes(data, 16).reshape(-1)
        parts = min(threads, 2)  # (50001 elements: at most two rows of at least 32768)
        assert (~tail).sum() == sum(n % 16 for n in np.diff([*range(0, 50001, -(-50001 // parts)), 50001]))
    finally:
        torch.set_num_threads(before[0])
        autograd_lab.set_num_threads(before[1])


def test_sleef_exp_edges():
    """Overflow to inf above 100 (as SLEEF decides it, not at float32's own limit), zero below -104."""
    d = np.array([0, -0.0, 1, 88.7, 89, 100, 100.5, -103.9, -104.5, np.inf, -np.inf], np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        ours = vectorized.sleef_expf(d)
    theirs = torch.from_numpy(np.concatenate([d, np.zeros(5, np.float32)])).neg().sigmoid().numpy()[:11]
    with np.errstate(over="ignore", divide="ignore"):
        assert (np.float32(1) / (np.float32(1) + ours)).tobytes() == theirs.tobytes()


def test_the_grain_size_is_pytorchs():
    assert _cascade_sum.GRAIN_SIZE == 32768


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(1, 20), st.integers(1, 200), st.sampled_from(LAYOUTS),
       st.sampled_from(["log1p", "expm1", "sinh", "cosh", "exp2"]))
def test_float32_sleef_functions_match_on_every_vector_lane(seed, rows, cols, layout, name):
    data = (np.random.default_rng(seed).standard_normal((rows, cols)) * 4).astype(np.float32)
    if name == "log1p":
        data = np.abs(data) - np.float32(0.9)
    _compare(data, layout, lambda t: getattr(t, name)())


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(1, 300), st.sampled_from(["mean", "sum", "none"]), st.booleans())
def test_binary_cross_entropy_with_logits_is_bit_identical(seed, n, reduction, weighted):
    """"Learn the Basics: Autograd"'s loss: log-sigmoid through SLEEF's exp and log1p, PyTorch's order of
    operations in the loss and in both gradients."""
    rng = np.random.default_rng(seed)
    logits, targets, weight = (rng.standard_normal(n) * 4).astype(np.float32), rng.random(n).astype(np.float32), \
        rng.random(n).astype(np.float32)
    seen = []
    for module in (torch, autograd_lab):
        x, t = module.tensor(logits, requires_grad=True), module.tensor(targets, requires_grad=True)
        w = module.tensor(weight) if weighted else None
        loss = module.nn.functional.binary_cross_entropy_with_logits(x, t, weight=w, reduction=reduction)
        loss.sum().backward()
        seen.append([a.detach().numpy().tobytes() for a in (loss, x.grad, t.grad)])
    assert seen[0] == seen[1]


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(1, 70), st.integers(1, 40), st.sampled_from(["softmax", "log_softmax"]),
       st.sampled_from([1, 2]))
def test_softmax_family_on_the_last_dim_is_bit_identical(seed, rows, cols, name, threads):
    """ATen's last-dimension kernels: SLEEF's exp, the row sums in AVX2 lane order, log_softmax's backward
    fused into one multiply-add: values and gradients to the bit. Softmax's backward adds a row's last few
    products with one rounding where its loop runs without threads (one row, or one thread): the copy of the
    kernel compiled for that case fused them."""
    rng = np.random.default_rng(seed)
    data, grad = (rng.standard_normal((rows, cols)) * 4).astype(np.float32), rng.standard_normal((rows, cols))
    before = (torch.get_num_threads(), autograd_lab.get_num_threads())
    torch.set_num_threads(threads)
    autograd_lab.set_num_threads(threads)
    try:
        seen = []
        for module in (torch, autograd_lab):
            x = module.tensor(data, requires_grad=True)
            out = getattr(module, name)(x, -1)
            out.backward(module.tensor(grad.astype(np.float32)))
            seen.append((out.detach().numpy().tobytes(), x.grad.numpy().tobytes()))
    finally:
        torch.set_num_threads(before[0])
        autograd_lab.set_num_threads(before[1])
    assert seen[0] == seen[1]


@pytest.mark.parametrize("batch", [1, 2, 15, 16, 17, 64, 256, 257, 1000])
def test_cross_entropy_sums_as_nll_loss_does(batch):
    """nll_loss's own cascade: 16 items per partial sum, 8 levels; a classifier's printed loss to the bit."""
    rng = np.random.default_rng(batch)
    logits, labels = (rng.standard_normal((batch, 10)) * 2).astype(np.float32), rng.integers(0, 10, batch)
    seen = []
    for module in (torch, autograd_lab):
        x = module.tensor(logits, requires_grad=True)
        loss = module.nn.functional.cross_entropy(x, module.tensor(labels))
        loss.backward()
        total = module.nn.functional.cross_entropy(x, module.tensor(labels), reduction="sum")
        seen.append((repr(loss.item()), repr(total.item()), x.grad.numpy().tobytes()))
    assert seen[0] == seen[1]


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(1, 20), st.integers(1, 100), st.sampled_from(["same", "one number",
                                                                                            "transposed", "mixed"]))
def test_float32_pow_of_two_tensors_is_bit_identical(seed, rows, cols, exponent):
    """x ** y with y a tensor: SLEEF's powf on the vector lanes of operands laid out alike, the C library's powf
    (of two floats) elsewhere."""
    rng = np.random.default_rng(seed)
    base = np.abs(rng.standard_normal((rows, cols)) * 3).astype(np.float32)
    power = (rng.standard_normal((rows, cols)) * 2).astype(np.float32)
    seen = []
    for module in (torch, autograd_lab):
        x, y = module.from_numpy(base), module.from_numpy(power)
        pairs = {"same": (x, y), "one number": (x, y[0, 0].clone()), "transposed": (x.t(), y.t()),
                 "mixed": (x.t(), y.t().contiguous())}
        a, b = pairs[exponent]
        seen.append((a ** b).numpy().tobytes())
    assert seen[0] == seen[1]


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(1, 20), st.integers(1, 200), st.sampled_from(LAYOUTS))
def test_float64_sigmoid_is_bit_identical(seed, rows, cols, layout):
    """float64: SLEEF's double exp (Estrin's scheme, FMAs) on the vector lanes (blocks of 8), glibc's exp on
    the rest."""
    data = np.random.default_rng(seed).standard_normal((rows, cols)) * 8
    theirs = _view(torch.from_numpy(data), layout).sigmoid().numpy()
    assert _view(autograd_lab.from_numpy(data), layout).sigmoid().numpy().tobytes() == theirs.tobytes()


def test_the_cpu_capability_is_pytorchs(backend):
    """The vector width ATen's kernels run with here (AVX-512's 16 float32 lanes or AVX2's 8) decides which
    elements SLEEF computes and the order a softmax adds: autograd_lab must see the machine as PyTorch does."""
    assert backend.backends.cpu.get_cpu_capability() == torch.backends.cpu.get_cpu_capability()
    assert backend.backends.cpu.get_cpu_capability() in ("DEFAULT", "AVX2", "AVX512")


@pytest.mark.parametrize("asked", ["avx2", "default", "nonsense"])
def test_aten_cpu_capability_lowers_the_choice_as_in_pytorch(asked):
    """``ATEN_CPU_CAPABILITY`` can lower PyTorch's choice, never raise it; an unknown value changes nothing."""
    code = "import autograd_lab, torch; print(torch.backends.cpu.get_cpu_capability(), " \
           "autograd_lab.backends.cpu.get_cpu_capability())"
    env = {**os.environ, "ATEN_CPU_CAPABILITY": asked}
    theirs, ours = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                  check=True).stdout.split()
    assert ours == theirs


@pytest.mark.skipif(torch.backends.cpu.get_cpu_capability() != "AVX512", reason="an AVX-512 CPU runs both widths")
def test_the_avx2_kernels_still_match_on_an_avx512_machine():
    """On an AVX-512 CPU this file's checks pass with the 16-lane kernels; here they run again with both
    engines lowered to AVX2 (8 lanes), the kernels an AVX2-only machine runs."""
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "avx2"}
    here = Path(__file__).parent
    tests = [__file__, f"{here / 'test_corpus_round11.py'}::test_softmax_along_another_dim_is_atens_vec_softmax",
             f"{here / 'test_corpus_round12.py'}::test_activations_match_pytorch"]
    others = "not avx2_kernels_still and not lowers_the_choice"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", others, *tests]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
