"""Replaying autograd_lab nodes in torch: the diff mode's judge (and the exercise checker's)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lab as lab
from autograd_lab.autograd import Function
from autograd_lab.autograd.engine import iter_backward
from autograd_lab.autograd.function import keep_forward_inputs
from autograd_lab.graph import to_numpy
from autograd_lab.viz.torch_replay import ReplayError, compare_node, torch_gradients, torch_ops

F = lab.nn.functional

# Each expression builds a small graph from a (2, 3), p (2, 3, positive), v (3,), m (3, 4), with lab = autograd_lab.
BUILT_INS = {
    "add": lambda a, p, v, m: a + p * 2 + a.add(p, alpha=3),
    "sub": lambda a, p, v, m: a - p - lab.sub(a, p, alpha=2) + (2 - a),
    "mul_div_neg": lambda a, p, v, m: -(a * p) / p + lab.reciprocal(p),
    "powers": lambda a, p, v, m: a ** 2 + p ** a + 2 ** a,
    "math": lambda a, p, v, m: a.exp() + p.log() + a.sin() + a.cos() + a.tanh() + a.sigmoid() + a.relu()
    + a.abs() + p.sqrt(),
    "clamp_maximum_where": lambda a, p, v, m: a.clamp(-0.5, 0.5) + lab.maximum(a, p) + lab.where(a > 0, a, p),
    "reductions": lambda a, p, v, m: a.sum() + a.sum(0).sum() + a.mean() + a.mean(1).sum(),
    "max_min": lambda a, p, v, m: a.max() + a.min() + a.max(0)[0].sum() + a.min(1)[0].sum(),
    "shapes": lambda a, p, v, m: a.view(3, 2).sum() + a.permute(1, 0).sum() + a.transpose(0, 1).sum() + a.t().sum()
    + a.unsqueeze(0).squeeze().sum() + a.unsqueeze(0).squeeze(0).sum() + a[:1].expand(4, 3).sum(),
    "copies": lambda a, p, v, m: a.clone().sum() + a.double().sum(),
    "indexing": lambda a, p, v, m: a[lab.tensor([1, 0])].sum() + a[0].sum() + a[:, 1:].sum(),
    "cat_stack": lambda a, p, v, m: lab.cat([a, p]).sum() + lab.stack([a, p]).sum(),
    "products": lambda a, p, v, m: lab.dot(v, v) + lab.mm(a, m).sum() + lab.mv(a, v).sum()
    + lab.bmm(a.unsqueeze(0), m.unsqueeze(0)).sum() + lab.addmm(v, a.t(), a).sum() + (v @ m).sum()
    + (a.unsqueeze(0).expand(2, 2, 3) @ m).sum(),
    "losses": lambda a, p, v, m: F.cross_entropy(a, lab.tensor([0, 2])) + F.mse_loss(a, p)
    + F.cross_entropy(a, lab.tensor([1, 2]), weight=v.detach().abs(), ignore_index=2)
    + F.cross_entropy(a, p.detach().softmax(1)) + F.nll_loss(a.view(1, 2, 3, 1), lab.tensor([[[0], [1], [-100]]])),
    "tutorial_ops": lambda a, p, v, m: F.softmax(a, 1).sum() + a.norm() + a.norm(p=1, dim=0).sum() + a.std()
    + a.var(1).sum() + a.sort().values.sum() + a.sort(dim=0, stable=True).values.sum()
    + a.index_select(1, lab.tensor([2, 0])).sum() + a.index_add(1, lab.tensor([0, 0]), p[:, :2], alpha=2).sum()
    + F.binary_cross_entropy_with_logits(a, p / 2, pos_weight=v.detach().abs()),
    "softmax_double_backward": lambda a, p, v, m: sum(  # their backward is a node too (create_graph=True)
        lab.autograd.grad((f(a, -1) * p).sum(), a, create_graph=True)[0].pow(2).sum()
        for f in (F.softmax, F.log_softmax)),
}


def _steps(expression):
    lab.manual_seed(0)
    a, p = lab.randn(2, 3, requires_grad=True), lab.rand(2, 3).add(0.5).requires_grad_()
    v, m = lab.randn(3, requires_grad=True), lab.randn(3, 4, requires_grad=True)
    with keep_forward_inputs():
        out = expression(a, p, v, m)
    return [s for s in iter_backward(out, lab.ones_like(out)) if s.leaf is None]


def _verdict(step):
    return compare_node(step.node, [to_numpy(g) if g is not None else None for g in step.grad_outputs],
                        [to_numpy(g) if g is not None else None for g in step.grad_inputs])


@pytest.mark.parametrize("name", BUILT_INS)
def test_every_built_in_node_matches_torch(name):
    results = [(step.node.name(), _verdict(step)) for step in _steps(BUILT_INS[name])]
    assert [(node, v.matches, v.reason) for node, v in results if v.matches is not True] == []


def test_the_examples_cover_every_torch_counterpart():
    covered = {step.node.name() for expression in BUILT_INS.values() for step in _steps(expression)}
    assert set(torch_ops()) <= covered


def _book_mul():
    class Mul(Function):
        @staticmethod
        def forward(ctx, w, x, b, x_requires_grad=True):
            ctx.x_requires_grad = x_requires_grad
            ctx.save_for_backward(w, x)
            return lab.exp(w) * x + b  # a module-level name (lab) that torch must stand in for

        @staticmethod
        def backward(ctx, grad_output):
            w, x = ctx.saved_tensors
            return grad_output * lab.exp(w) * x, grad_output * lab.exp(w), grad_output, None
    return Mul


def _first_step(output):
    """The output's own node, what it received (ones) and what it sent."""
    step = next(iter_backward(output, lab.ones_like(output)))
    return step.node, [to_numpy(g) for g in step.grad_outputs], [None if g is None else to_numpy(g)
                                                                  for g in step.grad_inputs]


def test_a_custom_forward_is_differentiated_by_torch():
    w, x, b = (lab.tensor([0.5, 1.0], requires_grad=True) for _ in range(3))
    with keep_forward_inputs():
        z = _book_mul().apply(w, x, b, True)
    grads = torch_gradients(z.grad_fn, [np.ones(2, np.float32)])
    # z = exp(w) * x + b:  dz/dw = exp(w) * x,  dz/dx = exp(w),  dz/db = 1
    assert np.allclose(grads[0], np.exp([0.5, 1.0]) * [0.5, 1.0])
    assert np.allclose(grads[1], np.exp([0.5, 1.0]))
    assert np.allclose(grads[2], [1.0, 1.0])


def test_an_input_that_needs_no_gradient_gets_none_from_torch():
    w, b = lab.ones(1, requires_grad=True), lab.ones(1, requires_grad=True)
    with keep_forward_inputs():
        z = _book_mul().apply(w, lab.ones(1), b)
    assert torch_gradients(z.grad_fn, [np.ones(1, np.float32)])[1] is None


def test_a_pytorch2_style_function_replays_without_ctx():
    class Square(Function):
        @staticmethod
        def forward(a):
            return a * a

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            return 2 * a * grad

    a = lab.tensor([3.0], requires_grad=True)
    with keep_forward_inputs():
        y = Square.apply(a)
    assert torch_gradients(y.grad_fn, [np.ones(1, np.float32)])[0].tolist() == [6.0]


def test_a_wrong_backward_is_reported_by_input_position():
    class Swapped(Function):
        @staticmethod
        def forward(ctx, w, x):
            ctx.save_for_backward(w, x)
            return w * x

        @staticmethod
        def backward(ctx, grad_output):
            w, x = ctx.saved_tensors
            return grad_output * w, grad_output * x

    w, x = lab.tensor([2.0], requires_grad=True), lab.tensor([3.0], requires_grad=True)
    with keep_forward_inputs():
        y = Swapped.apply(w, x)
    verdict = compare_node(*_first_step(y))
    assert (verdict.matches, verdict.wrong) == (False, (0, 1))
    assert [g.tolist() for g in verdict.torch_grads] == [[3.0], [2.0]]


def test_a_forward_that_leaves_torch_is_not_compared():
    class ViaNumpy(Function):
        @staticmethod
        def forward(ctx, a):
            return lab.tensor(a.detach().numpy() * 2)

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * 2

    a = lab.tensor([1.0], requires_grad=True)
    with keep_forward_inputs():
        y = ViaNumpy.apply(a)
    verdict = compare_node(*_first_step(y))
    assert verdict.matches is None
    assert "no path from the inputs" in verdict.reason


def test_a_forward_that_fails_on_torch_tensors_says_why():
    class Internal(Function):
        @staticmethod
        def forward(ctx, a):
            return lab.Tensor(a._data * 2)  # reaches into autograd_lab's insides

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * 2

    a = lab.tensor([1.0], requires_grad=True)
    with keep_forward_inputs():
        y = Internal.apply(a)
    with pytest.raises(ReplayError, match=r"running Internal\.forward on torch tensors failed: AttributeError"):
        torch_gradients(y.grad_fn, [np.ones(1, np.float32)])


def test_a_node_without_forward_inputs_cannot_be_replayed():
    a = lab.tensor([1.0], requires_grad=True)
    with pytest.raises(ReplayError, match="keep_forward_inputs"):
        torch_gradients((a * 2).grad_fn, [np.ones(1, np.float32)])


def test_a_node_without_a_torch_counterpart_is_not_compared():
    a = lab.tensor([1.0, 2.0], requires_grad=True)
    with keep_forward_inputs():
        y = a * 1
        y[0] = 5.0  # CopySlices: PyTorch has no out-of-place op to replay it with
    verdict = compare_node(*_first_step(y))
    assert verdict.matches is None
    assert "no out-of-place torch counterpart" in verdict.reason
