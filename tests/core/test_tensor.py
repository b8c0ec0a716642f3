"""Tensor creation, attributes, conversions and printing: one body, run under torch and autograd_lab."""

from __future__ import annotations

import warnings

import numpy as np
import pytest


@pytest.mark.parametrize("data, text", [
    ([1.0, 2.0], "tensor([1., 2.])"),
    (3.0, "tensor(3.)"),
    ([1, 2], "tensor([1, 2])"),
    ([True, False], "tensor([ True, False])"),
    ([0.1, 2.5e-5], "tensor([1.0000e-01, 2.5000e-05])"),
    ([-0.5, 100.25], "tensor([ -0.5000, 100.2500])"),
    ([1e10, 1.0], "tensor([1.0000e+10, 1.0000e+00])"),
    ([float("nan"), float("inf"), 1.0], "tensor([nan, inf, 1.])"),
    ([[1, 2], [3, 4.5]], "tensor([[1.0000, 2.0000],\n        [3.0000, 4.5000]])"),
    ([], "tensor([])"),
])
def test_repr_of_values(backend, data, text):
    assert repr(backend.tensor(data)) == text


def test_repr_suffixes(backend):
    t = backend
    x = t.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward0>)"
    assert repr(t.tensor([1.0, 2.0], dtype=t.float64)) == "tensor([1., 2.], dtype=torch.float64)"
    assert repr(t.zeros(0, 3)) == "tensor([], size=(0, 3))"
    assert repr(t.zeros(0, dtype=t.float64)) == "tensor([], dtype=torch.float64)"
    assert repr(t.float32) == "torch.float32"
    assert repr(x.shape) == "torch.Size([2])"


def test_repr_long_and_summarized(backend):
    t = backend
    text = repr(t.arange(1200.0).reshape(40, 30))
    assert text.startswith("tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 2.7000e+01, 2.8000e+01,\n")
    assert "...,\n" in text
    assert repr(t.arange(30.0)).count("\n") == 2  # 14 per line at width 80


def test_str_and_format(backend):
    x = backend.tensor(2.5)
    assert str(x) == "tensor(2.5000)"
    assert f"{x:.1f}" == "2.5"


def test_creation_functions(backend):
    t = backend
    assert t.zeros(2, 3).shape == (2, 3)
    assert t.zeros((2, 3)).tolist() == [[0.0] * 3] * 2
    assert t.ones([2]).dtype is t.float32
    assert t.full((2,), 3).dtype is t.int64
    assert t.full((2,), 3.0).tolist() == [3.0, 3.0]
    assert t.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert t.arange(5).dtype is t.int64
    assert t.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert t.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    x = t.tensor([1.0, 2.0])
    assert t.zeros_like(x).tolist() == [0.0, 0.0]
    assert t.ones_like(x, dtype=t.float64).dtype is t.float64
    assert t.tensor(3).dtype is t.int64
    assert t.tensor(True).dtype is t.bool
    assert t.tensor([1, 2.5]).dtype is t.float32
    assert t.tensor(np.array([1.0, 2.0])).dtype is t.float64
    assert t.zeros(2, requires_grad=True).requires_grad


def test_from_numpy_shares_memory(backend):
    array = np.array([1.0, 2.0])
    x = backend.from_numpy(array)
    array[0] = 5.0
    assert x.tolist() == [5.0, 2.0]
    assert x.dtype is backend.float64


def test_default_dtype(backend):
    t = backend
    assert t.get_default_dtype() is t.float32
    t.set_default_dtype(t.float64)
    try:
        assert t.tensor([1.5]).dtype is t.float64
        assert repr(t.tensor([1.5])) == "tensor([1.5000])"
        assert repr(t.tensor([1.5], dtype=t.float32)) == "tensor([1.5000], dtype=torch.float32)"
    finally:
        t.set_default_dtype(t.float32)


def test_dtype_aliases(backend):
    t = backend
    assert t.float is t.float32 and t.double is t.float64 and t.long is t.int64
    assert t.float32.is_floating_point and not t.int64.is_floating_point


def test_attributes(backend):
    t = backend
    x = t.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert x.shape == (2, 3) and x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3
    assert x.ndim == 2 and x.dim() == 2 and x.numel() == 6 and len(x) == 2
    assert x.is_leaf and x.grad_fn is None and x.grad is None
    assert x.T.shape == (3, 2)
    y = x * 2
    assert not y.is_leaf and y.requires_grad
    assert x.data.requires_grad is False
    assert t.is_tensor(x) and not t.is_tensor(1.0)


def test_conversions(backend):
    t = backend
    x = t.tensor([1.5, 2.5])
    assert x.tolist() == [1.5, 2.5]
    assert isinstance(x.numpy(), np.ndarray)
    assert t.tensor(2.5).item() == 2.5
    assert float(t.tensor([2.5])) == 2.5
    assert int(t.tensor(3)) == 3
    assert bool(t.tensor([1.0])) is True
    assert [v.item() for v in x] == [1.5, 2.5]
    assert x.float() is x
    assert x.double().dtype is t.float64
    assert x.to(t.float64).dtype is t.float64
    assert np.asarray(x).tolist() == [1.5, 2.5]


def test_comparisons_are_boolean_tensors_without_graph(backend):
    x = backend.tensor([1.0, 2.0, 3.0], requires_grad=True)
    mask = x > 1.5
    assert mask.dtype is backend.bool
    assert mask.tolist() == [False, True, True]
    assert mask.grad_fn is None and not mask.requires_grad
    assert (x == 2).tolist() == [False, True, False]
    assert (x != 2).tolist() == [True, False, True]
    assert ((x >= 2) & (x <= 2)).tolist() == [False, True, False]


def test_allclose_and_equal(backend):
    t = backend
    assert t.allclose(t.tensor([1.0, 2.0]), t.tensor([1.0, 2.0 + 1e-9]))
    assert not t.allclose(t.tensor([1.0]), t.tensor([1.1]))
    assert t.equal(t.tensor([1, 2]), t.tensor([1, 2]))
    assert not t.equal(t.tensor([1, 2]), t.tensor([1, 3]))


def test_detach_shares_memory_and_version(backend):
    x = backend.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    d.zero_()
    assert x.tolist() == [0.0, 0.0]
    assert x._version == 1


def test_requires_grad_toggles_on_leaves(backend):
    x = backend.ones(2)
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad = False
    assert not x.requires_grad


def test_variable_is_a_tensor(backend):
    t = backend
    V = t.autograd.Variable
    x = t.ones(2)
    v = V(x, requires_grad=True)
    assert isinstance(v, t.Tensor) and isinstance(x, V)
    assert v.requires_grad and not x.requires_grad


def test_detach_inplace(backend):
    x = backend.tensor([1.0], requires_grad=True)
    y = x * 2
    assert y.detach_() is y
    assert y.grad_fn is None and not y.requires_grad


def test_iteration_and_len(backend):
    x = backend.tensor([[1, 2], [3, 4]])
    assert [row.tolist() for row in x] == [[1, 2], [3, 4]]
    assert len(x) == 2


def test_grad_assignment_is_checked(backend):
    x = backend.ones(2, requires_grad=True)
    x.grad = backend.tensor([0.5, 0.5])
    assert x.grad.tolist() == [0.5, 0.5]
    with pytest.raises(RuntimeError, match=r"attempting to assign a gradient of size '\[3\]' to a tensor of size "
                                           r"'\[2\]'. Please ensure that the gradient and the tensor are the same "
                                           "size"):
        x.grad = backend.ones(3)
    with pytest.raises(RuntimeError, match="attempting to assign a gradient with dtype 'double' to a tensor with "
                                           "grad_dtype 'Float'"):
        x.grad = backend.ones(2, dtype=backend.float64)
    with pytest.raises(TypeError, match="assigned grad expected to be a Tensor or None but got grad of type int"):
        x.grad = 1
    assert x.grad.tolist() == [0.5, 0.5]


def test_data_can_be_replaced(backend):
    x = backend.ones(2, requires_grad=True)
    x.data = backend.tensor([3.0, 4.0])
    assert x.tolist() == [3.0, 4.0] and x.requires_grad and x.is_leaf


def _warned_at_most_once(message: str, thunk) -> None:
    """PyTorch gives this warning once per process, maybe already in an earlier test (a fresh process:
    test_corpus_api.py::test_warnings_torch_gives_once_per_process_come_once)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        thunk()
        thunk()
    assert len(caught) <= 1 and all(message in str(w.message) for w in caught)


def test_scalar_of_a_tensor_that_requires_grad_warns(backend):
    x = backend.tensor(2.5, requires_grad=True)
    _warned_at_most_once("Converting a tensor with requires_grad=True to a scalar", lambda: float(x))
    assert float(x) == 2.5
    assert x.item() == 2.5


def test_setitem_with_tensor_index_and_broadcast_value(backend):
    x = backend.zeros(2, 3)
    x[backend.tensor([1])] = backend.tensor([1.0, 2.0, 3.0])
    x[0, 1:] = 7
    assert x.tolist() == [[0.0, 7.0, 7.0], [1.0, 2.0, 3.0]]


def test_max_with_dim_returns_values_and_indices(backend):
    result = backend.tensor([[1.0, 5.0], [3.0, 2.0]]).max(0)
    values, indices = result
    assert values.tolist() == [3.0, 5.0] and indices.tolist() == [1, 0]
    assert repr(result) == "torch.return_types.max(\nvalues=tensor([3., 5.]),\nindices=tensor([1, 0]))"
    assert repr(backend.tensor([[1.0, 5.0]]).min(1)).startswith("torch.return_types.min(\nvalues=tensor([1.])")


def test_transpose_property_warns_off_matrices(backend):
    assert backend.ones(2, 3).T.shape == (3, 2)
    _warned_at_most_once("The use of `x.T` on tensors of dimension other than 2", lambda: backend.ones(3).T)
    _warned_at_most_once("Tensor.T is deprecated on 0-D tensors", lambda: backend.tensor(1.0).T)


def test_numpy_array_copies_and_asarray_shares(backend):
    x = backend.ones(2)
    warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)  # torch's, under NumPy 2
    copied, shared = np.array(x), np.asarray(x)
    copied[0], shared[1] = 9.0, 5.0
    assert x.tolist() == [1.0, 5.0]


def test_comparing_with_none_is_plain_false(backend):
    x = backend.ones(2)
    assert (x == None) is False and (x != None) is True  # noqa: E711


def test_reductions_of_a_0d_tensor_and_over_no_dims(backend):
    t = backend
    assert t.tensor(2.0).sum(0).item() == 2.0
    assert t.tensor(2.0).mean(-1).item() == 2.0
    assert t.ones(2, 2).sum(dim=()).item() == 4.0
