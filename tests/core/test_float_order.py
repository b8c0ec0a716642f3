"""Float rounding order: sum, mean, pow and mse_loss give PyTorch's CPU results bit for bit.

Each property runs the same program under torch and under autograd_lab on the same random
data and compares the raw bytes of values and gradients (not a tolerance): a training loop
that prints ``loss.item()`` must print the same digits for hundreds of steps.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd_lab
from autograd_lab._ops import _cascade_sum

SETTINGS = settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "60")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
DTYPES = st.sampled_from([np.float32, np.float64])


def _bytes(t) -> tuple:
    """What must be identical: shape, dtype name and every bit of the values."""
    a = t.detach().numpy()
    return tuple(a.shape), a.dtype.str, np.ascontiguousarray(a).tobytes()


def _both(program, *arrays, grad: bool = True) -> None:
    """Run ``program(module, *leaves)`` under both libraries; the output and the leaves' gradients must be
    bit-identical."""
    seen = []
    for module in (torch, autograd_lab):
        leaves = [module.tensor(a, requires_grad=grad) for a in arrays]
        out = program(module, *leaves)
        result = [_bytes(out)]
        if grad:
            out.backward(module.ones_like(out))
            result += [_bytes(leaf.grad) for leaf in leaves]
        seen.append(result)
    assert seen[0] == seen[1]


@st.composite
def array_and_dims(draw, max_dims: int = 4):
    """A random array (sizes chosen to cross the 8-lane, 16-row and 4-accumulator boundaries) and dims to reduce."""
    ndim = draw(st.integers(1, max_dims))
    shape = tuple(draw(st.lists(st.integers(1, 70), min_size=ndim, max_size=ndim)))
    dtype = draw(DTYPES)
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([1.0, 1e3, 1e-3]))
    data = (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)
    dims = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return data, tuple(dims), draw(st.booleans())


@SETTINGS
@given(array_and_dims())
def test_sum_over_dims_is_bit_identical(case):
    data, dims, keepdim = case
    _both(lambda t, x: x.sum(dims, keepdim=keepdim), data)


@SETTINGS
@given(array_and_dims())
def test_mean_over_dims_is_bit_identical(case):
    data, dims, keepdim = case
    _both(lambda t, x: x.mean(dims, keepdim=keepdim), data)


@SETTINGS
@given(array_and_dims(max_dims=3), st.integers(0, 2))
def test_sum_of_a_transposed_or_broadcast_tensor_is_bit_identical(case, layout):
    """The order follows memory (strides): a transposed or expanded input is summed as PyTorch walks it."""
    data, dims, keepdim = case

    def program(t, x):
        y = x.transpose(0, -1) if layout == 1 else x.expand(3, *x.shape) if layout == 2 else x * 1
        return y.sum() + y.sum(dims, keepdim=keepdim).sum()
    _both(program, data)


@SETTINGS
@given(st.integers(0, 3000), DTYPES, st.integers(0, 2**32 - 1))
def test_full_sum_of_n_elements_is_bit_identical(n, dtype, seed):
    data = (np.random.default_rng(seed).standard_normal(n) * 10).astype(dtype)
    _both(lambda t, x: x.sum(), data, grad=False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_full_sum_of_every_n_up_to_600_is_bit_identical(dtype):
    """Every size up to 600: each mix of full vectors, leftover vectors and scalar tail, and the first cascade
    blocks. NumPy's own sum differs from PyTorch's for most of these sizes (it is not used)."""
    rng = np.random.default_rng(600)
    ours, theirs, numpys = [], [], []
    for n in range(601):
        data = (rng.standard_normal(n) * rng.choice([1, 1e4], n)).astype(dtype)
        ours.append(autograd_lab.tensor(data).sum().numpy().tobytes())
        theirs.append(torch.tensor(data).sum().numpy().tobytes())
        numpys.append(np.sum(data, dtype=dtype).tobytes())
    assert ours == theirs
    assert sum(a != b for a, b in zip(numpys, theirs)) > 100


@pytest.mark.parametrize("n", [32767, 32768, 32769, 40000, 65536 + 7, 100003])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_sums_split_between_threads_are_bit_identical(n, dtype):
    """Above 32768 elements PyTorch splits a full sum between threads (and the columns of a partial one)."""
    data = np.random.default_rng(n).standard_normal(n).astype(dtype)
    _both(lambda t, x: x.sum() + x.view(-1, 1).sum(0).sum(), data, grad=False)
    block = np.random.default_rng(n).standard_normal((n // 100, 100)).astype(dtype)
    _both(lambda t, x: x.sum(0), block, grad=False)
    _both(lambda t, x: x[:, ::3].sum(), block, grad=False)


def test_numpys_add_reduce_down_columns_is_sequential():
    """``_cascade_sum.sequential`` relies on it: over axis 0 of a C-contiguous array, add.reduce adds row after
    row. Numbers chosen so that any other order (pairwise, blocks of 8) gives another result."""
    rng = np.random.default_rng(0)
    for rows in range(2, 70):
        for cols in (2, 3, 8, 31, 128):
            a = (rng.standard_normal((rows, cols)) * rng.choice([1, 1e4, 1e8], (rows, cols))).astype(np.float32)
            expected = a[0].copy()
            for row in a[1:]:
                expected = expected + row
            assert np.add.reduce(a, axis=0).tobytes() == _cascade_sum.sequential(a).tobytes() == expected.tobytes()
            blocks = a[:rows // 3 * 3].reshape(rows // 3, 3, cols)  # and over a middle axis (_cascade_sum._blocks)
            assert np.add.reduce(blocks, axis=1).tobytes() == ((blocks[:, 0] + blocks[:, 1]) + blocks[:, 2]).tobytes()


def test_cascade_adds_blocks_of_16_then_levels():
    """The cascade's shape on a case small enough to write out: 40 rows are blocks 0-15, 16-31, then the rest."""
    rows = np.random.default_rng(1).standard_normal((40, 3)).astype(np.float32)

    def seq(block):
        total = block[0]
        for row in block[1:]:
            total = total + row
        return total
    expected = seq(rows[32:]) + (seq(rows[:16]) + seq(rows[16:32]))
    assert _cascade_sum.cascade(rows).tobytes() == expected.tobytes()


# PyTorch's own kernels for these exponents (x*x, x*x*x, 1/(x*x), 1/x, 1/sqrt, copy, ones); the gradient
# p * x**(p-1) needs x**(p-1) to be one of them too, which leaves out -2 and -0.5 (x**-3, x**-1.5: SLEEF's powf).
# x**0.5 is torch.sqrt, which PyTorch computes with MKL's vector math (not always correctly rounded): not here.
EXPONENTS_WITH_EXACT_GRADIENT = [2, 3, -1, 1, 0, 2.0, 3.0]


@SETTINGS
@given(st.sampled_from(EXPONENTS_WITH_EXACT_GRADIENT), DTYPES, st.integers(0, 2**32 - 1), st.integers(1, 300))
def test_pow_with_special_exponents_and_its_gradient_are_bit_identical(p, dtype, seed, n):
    data = np.random.default_rng(seed).uniform(0.1, 4, n).astype(dtype)  # positive: sqrt and 1/x are defined
    _both(lambda t, x: (x ** p) * 1.5 + x.pow(p), data)


@SETTINGS
@given(st.sampled_from([-2, -0.5, -2.0]), DTYPES, st.integers(0, 2**32 - 1), st.integers(1, 300))
def test_pow_with_the_other_special_exponents_is_bit_identical(p, dtype, seed, n):
    data = np.random.default_rng(seed).uniform(-4, 4, n).astype(dtype)
    _both(lambda t, x: x ** p, np.abs(data) if p == -0.5 else data, grad=False)


@SETTINGS
@given(st.sampled_from(["mean", "sum", "none"]), DTYPES, st.integers(0, 2**32 - 1),
       st.tuples(st.integers(1, 70), st.integers(1, 12)))
def test_mse_loss_and_its_gradients_are_bit_identical(reduction, dtype, seed, shape):
    rng = np.random.default_rng(seed)
    a, b = (rng.standard_normal(shape).astype(dtype) for _ in range(2))
    _both(lambda t, x, y: t.nn.functional.mse_loss(x, y, reduction=reduction), a, b)


@pytest.mark.parametrize("rows", [1, 7, 64, 333])
def test_broadcast_gradients_are_summed_in_torchs_order(rows):
    """A bias added to a batch gets the batch's gradients summed over dim 0 (the engine's sum_to_size),
    a 0-d parameter all of them."""
    def program(t, b, c):
        x = t.linspace(-3, 3, rows * 40).reshape(rows, 40) ** 3
        return ((x + b) * 0.37 + c).pow(2)
    _both(program, np.zeros(40, np.float32), np.zeros((), np.float32))


@SETTINGS
@given(DTYPES, st.integers(0, 2**32 - 1), st.integers(1, 300), st.sampled_from([-1e-6, -0.01, 0.3, 2.5, -1.7]))
def test_add_and_sub_with_alpha_round_once_as_torch_does(dtype, seed, n, alpha):
    """``p.add_(grad, alpha=-lr)`` (every optimizer step) is one fused multiply-add in PyTorch's kernel."""
    rng = np.random.default_rng(seed)
    p, g = rng.standard_normal(n).astype(dtype), (rng.standard_normal(n) * 1e3).astype(dtype)
    _both(lambda t, x, y: t.add(x, y, alpha=alpha) + t.sub(x, y, alpha=alpha), p, g)

    def in_place(t, x, y):
        with t.no_grad():
            x.add_(y, alpha=alpha).sub_(y * 0.5, alpha=alpha / 3)
        return x
    _both(in_place, p, g, grad=False)


def _fit_cubic(module, steps: int) -> list[str]:
    """A cubic fitted to sin(x) by gradient descent, printing the loss as ``loss.item()`` shows it:
    the ops of PyTorch's polynomial examples (pow 2 and 3, scalar parameters broadcast over 2000 points,
    a summed squared error and mse_loss, in-place updates by hand and by SGD)."""
    x = module.linspace(-math.pi, math.pi, 2000)
    # the same targets for both (torch.sin uses MKL's vector math, which NumPy cannot reproduce bit for bit)
    y = module.tensor(np.sin(np.linspace(-math.pi, math.pi, 2000)).astype(np.float32))
    params = [module.tensor(v, requires_grad=True) for v in (0.1, -0.2, 0.05, 0.01)]
    optimizer = module.optim.SGD(params, lr=1e-6)
    lines = []
    for step in range(steps):
        a, b, c, d = params
        prediction = a + b * x + c * x ** 2 + d * x ** 3
        loss = (prediction - y).pow(2).sum() + 0.5 * module.nn.functional.mse_loss(prediction, y)
        if step % 10 == 9:
            lines.append(f"{step} {loss.item()}")
        loss.backward()
        with module.no_grad():
            for p in params:
                p -= 1e-6 * p.grad  # by hand, as PyTorch's first examples do ...
        optimizer.step()  # ... and with an optimizer (p.add_(grad, alpha=-lr))
        optimizer.zero_grad()
    return lines + [str(p.item()) for p in params]


def test_a_polynomial_fit_prints_the_same_losses_for_200_steps():
    theirs, ours = _fit_cubic(torch, 200), _fit_cubic(autograd_lab, 200)
    assert len(theirs) == 24
    assert ours == theirs
