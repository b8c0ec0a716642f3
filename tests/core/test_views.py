"""Views share memory; an in-place change through a view is recorded on its base (PyTorch's CopySlices)."""

from __future__ import annotations

import pytest


def test_an_element_is_a_view_not_a_copy(backend):
    x = backend.zeros(3)
    x[0].fill_(5)
    x[1].add_(2)
    v = x[2]
    x.add_(1)
    assert x.tolist() == [6.0, 3.0, 1.0] and v.item() == 1.0


def test_rows_changed_in_place_give_the_right_gradient(backend):
    w = backend.tensor([1.0, 2.0], requires_grad=True)
    out = backend.zeros(3, 2)
    for i in range(3):
        out[i].add_(w)
    assert out.grad_fn.name() == "torch::autograd::CopySlices"
    (out * w).sum().backward()
    assert w.grad.tolist() == [6.0, 12.0]


def test_augmented_assignment_to_an_element(backend):
    w = backend.tensor([1.0, 2.0], requires_grad=True)
    y = w * 2
    y[0] += 10
    assert repr(y) == "tensor([12.,  4.], grad_fn=<CopySlices>)"
    y.sum().backward()
    assert w.grad.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("make_view, values, grad", [
    (lambda b: b.view(2, 2), [10.0, 20.0, 30.0, 40.0], [0.0, 10.0, 20.0, 30.0]),
    (lambda b: b.reshape(2, 2).t()[1], [1.0, 20.0, 3.0, 40.0], [0.0, 10.0, 2.0, 30.0]),
    (lambda b: b[1:].unsqueeze(0)[0, ::2], [1.0, 20.0, 3.0, 40.0], [0.0, 10.0, 2.0, 30.0]),
])
def test_in_place_through_any_view_is_recorded_on_the_base(backend, make_view, values, grad):
    w = backend.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    base = w * 1
    make_view(base).mul_(10)
    assert base.grad_fn.name() == "torch::autograd::CopySlices"
    assert base.tolist() == values
    (base * backend.arange(4.0)).sum().backward()
    assert w.grad.tolist() == grad


def test_a_view_of_a_leaf_that_requires_grad_cannot_change(backend):
    w = backend.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being used in an in-place "
                                           r"operation\."):
        w[0].add_(1)
    assert w.tolist() == [1.0, 2.0]


def test_iterating_gives_unbind_views_that_must_not_change_in_place(backend):
    x = backend.ones(2, 2, requires_grad=True)
    rows = list(x * 1)
    assert [r.grad_fn.name() for r in rows] == ["UnbindBackward0", "UnbindBackward0"]
    with pytest.raises(RuntimeError, match=r"Output 0 of Unbind is a view and is being modified inplace\. This view "
                                           r"is the output of a function that returns multiple views\."):
        rows[0].add_(1)
    (rows[0] * 2).sum().backward()
    assert x.grad.tolist() == [[2.0, 2.0], [0.0, 0.0]]


def test_setting_with_an_index_tensor(backend):
    w = backend.tensor([3.0], requires_grad=True)
    z = backend.zeros(3)
    z[backend.tensor([0, 2])] = w
    assert z.grad_fn.name() == "IndexPutBackward0" and z.tolist() == [3.0, 0.0, 3.0]
    z.sum().backward()
    assert w.grad.tolist() == [2.0]
