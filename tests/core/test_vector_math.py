"""exp, log, sin, sqrt, tanh, ...: bit for bit as PyTorch, which computes them with Intel MKL's vector math.

Without MKL (``pip install autograd-lab[mkl]`` is not there) they are NumPy's, close but not identical:
the bit-for-bit tests say so by skipping, and the fallback is tested on its own.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import autograd_lab
from autograd_lab._ops import vector_math
from autograd_lab._ops.pointwise import SigmoidBackward, TanhBackward
from tests.core.test_float_order import DTYPES, SETTINGS, _both

# op -> the inputs it is defined on (a function of standard normal numbers)
DOMAINS = {"sin": lambda z: 3 * z, "cos": lambda z: 3 * z, "tan": lambda z: z, "exp": lambda z: 4 * z,
           "log": lambda z: np.abs(z) * 50, "log2": lambda z: np.abs(z) + 1e-3, "log10": lambda z: np.abs(z) * 7,
           "sqrt": lambda z: np.abs(z) * 50, "rsqrt": lambda z: np.abs(z) + 0.1, "tanh": lambda z: 2 * z,
           "asin": np.tanh, "acos": np.tanh, "atan": lambda z: 5 * z}

needs_mkl = pytest.mark.skipif(vector_math.mkl() is None, reason="Intel's mkl package is not installed: "
                               "exp/log/sin/... are NumPy's, close to PyTorch's but not always the same bits")


@needs_mkl
@SETTINGS
@given(st.sampled_from(sorted(DOMAINS)), DTYPES, st.integers(0, 2**32 - 1), st.integers(1, 300),
       st.booleans())
def test_values_and_gradients_are_bit_identical(name, dtype, seed, n, transposed):
    z = np.random.default_rng(seed).standard_normal(n * 2 if transposed else n)
    data = DOMAINS[name](z).astype(dtype)
    if transposed:  # a strided input: PyTorch copies it into a buffer for MKL, and so do we
        data = data.reshape(2, n)

    def program(t, x):
        return getattr(x.t() if transposed else x, name)()
    _both(program, data)


@needs_mkl
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_printed_value_matches_torch_to_the_last_digit(dtype):
    """The case that was seen in tutorials: a float32 loss printed in full differs in its last digit."""
    ours = autograd_lab.linspace(-3, 3, 2000, dtype=getattr(autograd_lab, np.dtype(dtype).name)).sin().sum()
    theirs = torch.linspace(-3, 3, 2000, dtype=getattr(torch, np.dtype(dtype).name)).sin().sum()
    assert (ours.item(), repr(ours)) == (theirs.item(), repr(theirs))


def test_without_mkl_numpy_computes_them_rounded_once(monkeypatch):
    monkeypatch.setattr(vector_math, "_library", None)
    monkeypatch.setattr(vector_math, "_TYPED", {})
    x = np.linspace(-3, 3, 1000, dtype=np.float32)
    ours = autograd_lab.from_numpy(x).sin().numpy()
    assert ours.tobytes() == np.sin(x.astype(np.float64)).astype(np.float32).tobytes()
    np.testing.assert_allclose(ours, torch.from_numpy(x).sin().numpy(), rtol=2e-7, atol=0)


def test_mkl_can_be_turned_off(monkeypatch):
    monkeypatch.setattr(vector_math, "_library", False)
    monkeypatch.setenv("AUTOGRAD_LAB_MKL", "0")
    assert vector_math.mkl() is None


@pytest.mark.parametrize("shape", [(), (0,), (3, 0)])
def test_empty_and_zero_dimensional_inputs(shape, backend):
    x = backend.ones(shape) * 0.5
    for name in ("sin", "exp", "log", "sqrt", "tanh"):
        out = getattr(x, name)()
        assert (out.shape, out.dtype) == (x.shape, x.dtype)
    assert repr(backend.tensor(0.5).exp()) == "tensor(1.6487)"


@SETTINGS
@given(st.sampled_from(["tanh", "sigmoid"]), DTYPES, st.integers(0, 2**32 - 1), st.integers(1, 300))
def test_tanh_and_sigmoid_backward_kernels_are_bit_identical(name, dtype, seed, n):
    """Their gradients, given the same output: tanh's 1 - y*y is one fused multiply-add in PyTorch's kernel,
    sigmoid's is grad * (1 - y) * y in that order (sigmoid's own values are SLEEF's, not compared here)."""
    rng = np.random.default_rng(seed)
    y = np.tanh(rng.standard_normal(n)).astype(dtype)
    y = y if name == "tanh" else (y + 1) / 2
    grad = rng.standard_normal(n).astype(dtype)
    theirs = getattr(torch.ops.aten, f"{name}_backward")(torch.from_numpy(grad), torch.from_numpy(y)).numpy()
    kernel = TanhBackward if name == "tanh" else SigmoidBackward
    ours = kernel.apply(autograd_lab.from_numpy(grad), autograd_lab.from_numpy(y)).numpy()
    assert ours.tobytes() == theirs.tobytes()


@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_double_backward_goes_through_their_backward_nodes(backend, name):
    x = backend.tensor([0.5, -1.0, 2.0], dtype=backend.float64, requires_grad=True)
    y = getattr(x, name)()
    (g,) = backend.autograd.grad(y.sum(), x, create_graph=True)
    node = g.grad_fn
    assert type(node).__name__ == f"{name.capitalize()}BackwardBackward0"
    assert [type(n).__name__ if n else None for n, _ in node.next_functions] == [None, f"{name.capitalize()}Backward0"]
    assert backend.equal(node._saved_output, y)
    (gg,) = backend.autograd.grad(g.sum(), x)
    second = {"tanh": -2 * y * (1 - y * y), "sigmoid": y * (1 - y) * (1 - 2 * y)}[name]
    assert backend.allclose(gg, second)
