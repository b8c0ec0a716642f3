"""Matrix products bit for bit as PyTorch's, which sums them with Intel MKL 2024.2 (``_ops/blas.py``).

Without that MKL (the ``mkl`` extra), products are NumPy's (OpenBLAS's order): the bit-for-bit tests skip
and say why; the fallback is tested on its own.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import autograd_lab
from autograd_lab._ops import blas, vector_math
from tests.core.test_float_order import DTYPES, SETTINGS, _both

needs_mkl = pytest.mark.skipif(vector_math.mkl() is None, reason="Intel's mkl package is not installed: matrix "
                               "products are NumPy's, summed in another order than PyTorch's")
LAYOUTS = st.sampled_from(["rows", "columns", "strided"])  # how a matrix lies in memory


def _wider(t):
    """t's columns, each twice: [[1, 1, 2, 2], ...]."""
    return t.unsqueeze(2).expand(*t.shape, 2).reshape(t.shape[0], 2 * t.shape[1])


def _laid_out(t, layout):
    """The same matrix, stored row by row, column by column (``w.t()``) or every other column of a wider one."""
    if layout == "columns":
        return t.t().contiguous().t()
    if layout == "strided":
        return _wider(t)[:, ::2]
    return t


@needs_mkl
@SETTINGS
@given(DTYPES, st.integers(0, 2**32 - 1), st.tuples(st.integers(1, 70), st.integers(1, 300), st.integers(1, 70)),
       LAYOUTS, LAYOUTS, st.booleans())
def test_mm_addmm_and_their_gradients_are_bit_identical(dtype, seed, shape, layout_a, layout_b, bias):
    rows, inner, cols = shape
    rng = np.random.default_rng(seed)
    a, b, c = (rng.standard_normal(s).astype(dtype) for s in ((rows, inner), (inner, cols), (cols,)))

    def program(t, x, y, z):
        x, y = _laid_out(x, layout_a), _laid_out(y, layout_b)
        return t.addmm(z, x, y) if bias else x.mm(y) + z
    _both(program, a, b, c)


@needs_mkl
@SETTINGS
@given(DTYPES, st.integers(0, 2**32 - 1), st.integers(1, 40), st.integers(1, 600), LAYOUTS)
def test_mv_dot_and_matmul_are_bit_identical(dtype, seed, rows, inner, layout):
    rng = np.random.default_rng(seed)
    a, v, w = rng.standard_normal((rows, inner)).astype(dtype), *(rng.standard_normal(inner).astype(dtype)
                                                                   for _ in range(2))
    _both(lambda t, x, y, z: _laid_out(x, layout).mv(y) * z.dot(y) + (y @ x.t())[0], a, v, w)


@needs_mkl
def test_a_training_loop_prints_the_same_losses():
    """The shape of "Learning PyTorch with Examples"' two-layer network: float32 losses printed in full."""
    def losses(t):
        t.manual_seed(0)
        x, y = t.randn(64, 1000), t.randn(64, 10)
        w1, w2 = t.randn(1000, 100, requires_grad=True), t.randn(100, 10, requires_grad=True)
        seen = []
        for _ in range(20):
            loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
            seen.append(loss.item())
            loss.backward()
            with t.no_grad():
                for w in (w1, w2):
                    w -= 1e-6 * w.grad
                    w.grad.zero_()
        return seen
    assert losses(autograd_lab) == losses(torch)


@needs_mkl
@pytest.mark.parametrize("shape", [(64, 9, 128), (3, 5, 1), (1, 7, 4)])
def test_the_result_memory_is_never_read(shape):
    """The result array is allocated uninitialised (BLAS with beta = 0 does not read it): garbage left there
    by a freed array full of nan must not show through."""
    rows, inner, cols = shape
    for _ in range(5):
        junk = np.full((rows, cols), np.nan, np.float32)
        del junk
    a, b = np.ones((rows, inner), np.float32), np.ones((inner, cols), np.float32)
    assert (blas.mm(a, b) == inner).all()


def test_without_mkl_numpy_multiplies(monkeypatch):
    monkeypatch.setattr(vector_math, "_library", None)
    monkeypatch.setattr(vector_math, "_TYPED", {})
    a, b = np.arange(6, dtype=np.float32).reshape(2, 3), np.arange(12, dtype=np.float32).reshape(3, 4)
    assert blas.mm(a, b) is None
    assert autograd_lab.from_numpy(a).mm(autograd_lab.from_numpy(b)).numpy().tobytes() == (a @ b).tobytes()


@pytest.mark.parametrize("shapes", [((0, 3), (3, 2)), ((2, 0), (0, 3)), ((2, 3), (3, 0))])
def test_empty_products(backend, shapes):
    (a, b), bias = (backend.ones(s) for s in shapes), backend.ones(shapes[1][1])
    assert backend.mm(a, b).tolist() == (a.numpy() @ b.numpy()).tolist()
    assert backend.addmm(bias, a, b).shape == (shapes[0][0], shapes[1][1])
    assert backend.addmm(bias, a, b).sum().item() == shapes[0][0] * shapes[1][1]


def test_addmm_with_a_bias_that_does_not_fit(backend):
    with pytest.raises(RuntimeError, match=r"The expanded size of the tensor \(4\) must match the existing size \(3\)"):
        backend.addmm(backend.ones(3), backend.ones(2, 3), backend.ones(3, 4))


@pytest.mark.parametrize("make", [
    lambda a: a, lambda a: a.T, lambda a: a[:, 1:], lambda a: a[::2], lambda a: a[1:, 2:].T,
    lambda a: np.broadcast_to(a[0], a.shape), lambda a: a[:0], lambda a: np.frombuffer(a.tobytes(), a.dtype),
], ids=["rows", "columns", "strided", "every other row", "offset columns", "read-only broadcast", "empty",
        "read-only"])
def test_address_is_where_the_first_element_lies_for_every_layout(make):
    """The cheap pointer MKL gets (``vector_math.address``) is NumPy's own, whatever the array."""
    x = make(np.arange(48, dtype=np.float32).reshape(6, 8))
    assert vector_math.address(x) == x.ctypes.data


@pytest.mark.parametrize("op", ["mm", "addmm", "mv", "bmm", "matmul"])
def test_a_products_result_starts_on_a_64_byte_boundary(backend, op):
    """PyTorch's allocator aligns every tensor to 64 bytes; MKL's AVX-512 kernels peel off results until the
    output is aligned, so where it starts decides how some of them are summed."""
    a, b = backend.randn(3, 5), backend.randn(5, 7)
    out = {"mm": lambda: a.mm(b), "addmm": lambda: backend.addmm(backend.ones(7), a, b), "mv": lambda: a.mv(b[:, 0]),
           "bmm": lambda: backend.stack([a] * 50).bmm(backend.stack([b] * 50)), "matmul": lambda: a @ b}[op]()
    assert out.data_ptr() % 64 == 0


@needs_mkl
@pytest.mark.parametrize("shape", [(1, 205, 39), (1, 142, 39), (67, 221, 1), (70, 194, 1)])
def test_one_row_or_one_column_products_are_bit_identical(shape):
    """Found on an AVX-512 machine: with NumPy's 16-byte aligned output, about 2 in 3 of these differed from
    PyTorch in the last bit (every layout of the operands alike)."""
    rows, inner, cols = shape
    for seed in range(20):
        rng = np.random.default_rng(seed)
        a, b = rng.standard_normal((rows, inner), np.float32), rng.standard_normal((inner, cols), np.float32)
        for x, y in ((a, b), (a, np.asfortranarray(b)), (np.asfortranarray(a), b)):
            ours = autograd_lab.from_numpy(x).mm(autograd_lab.from_numpy(y)).numpy()
            assert ours.tobytes() == torch.from_numpy(x).mm(torch.from_numpy(y)).numpy().tobytes()
