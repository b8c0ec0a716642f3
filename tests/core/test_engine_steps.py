"""The engine as a generator of steps (autograd_lab only: this is what the GraphStepper drives)."""

from __future__ import annotations

import pytest

import autograd_lab as torch
from autograd_lab.autograd.engine import BackwardStep, iter_backward


def _graph():
    w = torch.tensor([2.0], requires_grad=True)
    x = torch.tensor([3.0], requires_grad=True)
    b = torch.tensor([1.0], requires_grad=True)
    return w, x, b, (w * x + b).sum()


def test_one_step_per_node_in_pytorch_order():
    w, x, b, loss = _graph()
    steps = list(iter_backward(loss))
    assert all(isinstance(s, BackwardStep) for s in steps)
    names = [s.node.name() for s in steps]
    assert names[:3] == ["SumBackward0", "AddBackward0", "torch::autograd::AccumulateGrad"]
    assert names.count("torch::autograd::AccumulateGrad") == 3
    assert "MulBackward0" in names


def test_steps_report_what_each_node_received_and_sent():
    w, x, b, loss = _graph()
    steps = {s.node.name(): s for s in iter_backward(loss)}
    mul = steps["MulBackward0"]
    assert [g.tolist() for g in mul.grad_outputs] == [[1.0]]
    assert [g.tolist() for g in mul.grad_inputs] == [[3.0], [2.0]]


def test_leaves_fill_in_as_accumulate_steps_go_by():
    w, x, b, loss = _graph()
    seen = []
    for step in iter_backward(loss):
        if step.leaf is not None:
            seen.append((step.leaf is b, step.leaf.grad.tolist()))
    assert seen[0] == (True, [1.0])  # b is reached first: the AddBackward0 sends to it directly
    assert w.grad.tolist() == [3.0] and x.grad.tolist() == [2.0]


def test_pausing_between_steps_leaves_grad_mode_alone():
    w, x, b, loss = _graph()
    steps = iter_backward(loss)
    next(steps)
    assert torch.is_grad_enabled()
    y = w * 2
    assert y.requires_grad
    for _ in steps:
        pass


def test_grad_mode_is_the_callers_between_steps_and_after_a_failure():
    w, x, b, loss = _graph()
    steps = iter_backward(loss, retain_graph=True)
    with torch.no_grad():
        next(steps)
        assert not torch.is_grad_enabled()  # the caller's mode, even though the engine sets its own per node
    assert torch.is_grad_enabled()
    for _ in steps:
        pass
    assert torch.is_grad_enabled()

    def fail(grad):
        raise ValueError("hook failed")

    w.register_hook(fail)
    with pytest.raises(ValueError, match="hook failed"):
        loss.backward()
    assert torch.is_grad_enabled()  # backward() ran the whole graph in one go, then gave the mode back


def test_steps_equal_backward():
    w, x, b, loss = _graph()
    for _ in iter_backward(loss, retain_graph=True):
        pass
    first = [t.grad.tolist() for t in (w, x, b)]
    for t in (w, x, b):
        t.grad = None
    loss.backward()
    assert [t.grad.tolist() for t in (w, x, b)] == first


def test_a_chain_of_100000_ops_backwards_without_recursion():
    x = torch.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.tolist() == [1.0]


def test_keep_forward_inputs_records_each_nodes_arguments():
    from autograd_lab.autograd.function import keep_forward_inputs

    w, x, b, _ = _graph()
    with keep_forward_inputs():
        y = w * x
    z = y + b
    assert y.grad_fn._forward_inputs == (w, x)
    assert z.grad_fn._forward_inputs is None
