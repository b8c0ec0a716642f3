"""cross_entropy, nll_loss, CrossEntropyLoss and NLLLoss with all of PyTorch's arguments: ``weight``,
``ignore_index``, ``reduction``, ``label_smoothing``, class-probability targets, the legacy flags.

Each program runs under torch and under autograd_lab (``tests/core/twin.py``); torch's result is the
expected one. Values and gradients are compared as exact floats (``tolist``) where PyTorch's order of
operations is followed, rounded (``values``) where the README says it is not (log_softmax along dim 1
of a 3-d or larger input).
"""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.core.twin import outcome, record, values

LOGITS = [[0.3, -1.2, 2.0, 0.5], [1.0, 0.1, -0.4, 0.0], [-2.0, 0.7, 0.3, 1.1], [0.9, 0.9, -0.1, 2.5]]
WEIGHT = [0.2, 1.5, 0.7, 1.1]
PROBABILITIES = [[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25], [1.0, 0.0, 0.0, 0.0], [0.0, 0.5, 0.5, 0.0]]


def _loss_and_grad(torch, x, loss):
    """The loss as printed and as exact floats, and the gradient it sends to x, exactly."""
    (grad,) = torch.autograd.grad(loss.sum(), x)
    return repr(loss), loss.tolist(), grad.tolist()


def _node_names(loss):
    """Every node under the loss, depth first (as a student walking next_functions would list them)."""
    names, stack = [], [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is not None:
            names.append(node.name())
            stack.extend(f for f, _ in node.next_functions)
    return names


def test_class_indices_with_weight_and_ignore_index_in_every_reduction():
    """A mean divides by the weights of the targets not ignored; an ignored item's loss and gradient are 0."""
    def program(torch):
        F = torch.nn.functional
        x = torch.tensor(LOGITS, requires_grad=True)
        target, weight = torch.tensor([0, 2, 3, 2]), torch.tensor(WEIGHT)
        shown = []
        for kwargs in ({}, {"weight": weight}, {"ignore_index": 2}, {"weight": weight, "ignore_index": 3}):
            for reduction in ("mean", "sum", "none"):
                shown.append(_loss_and_grad(torch, x, F.cross_entropy(x, target, reduction=reduction, **kwargs)))
                logp = x.log_softmax(1)
                shown.append(_loss_and_grad(torch, x, F.nll_loss(logp, target, reduction=reduction, **kwargs)))
        return shown
    torch_result, ours = record(program)
    assert ours == torch_result


def test_class_probabilities_as_target():
    """A float target of the input's shape is a distribution per item: -sum(p * w * log_softmax(x)), a mean
    over the items (not the weights), recorded as PyTorch's composite records it (DivBackward1 for a mean)."""
    def program(torch):
        F = torch.nn.functional
        x = torch.tensor(LOGITS, requires_grad=True)
        p = torch.tensor(PROBABILITIES)
        shown = []
        for kwargs in ({}, {"weight": torch.tensor(WEIGHT)}, {"label_smoothing": 0.2}, {"ignore_index": -7}):
            for reduction in ("mean", "sum", "none"):
                loss = F.cross_entropy(x, p, reduction=reduction, **kwargs)
                shown.append((_loss_and_grad(torch, x, loss), _node_names(loss)))
        mean = F.cross_entropy(x, p)
        shown += [mean.grad_fn._saved_other, repr(F.cross_entropy(x, p.double()))]
        shown.append(_loss_and_grad(torch, x, F.cross_entropy(x[0], p[0], label_smoothing=0.1)))
        soft = torch.tensor(PROBABILITIES, requires_grad=True)
        shown.append(_node_names(F.cross_entropy(x, soft, label_smoothing=0.3)))
        shown.append(torch.autograd.grad(F.cross_entropy(x, soft, label_smoothing=0.3), soft)[0].tolist())
        return shown
    torch_result, ours = record(program)
    assert ours == torch_result


def test_label_smoothing_with_class_indices():
    """(1 - s) * nll_loss + s / C * (the loss against a uniform target), ignored items left out of both."""
    def program(torch):
        F = torch.nn.functional
        x = torch.tensor(LOGITS, requires_grad=True)
        target, weight = torch.tensor([0, 2, 3, 2]), torch.tensor(WEIGHT)
        shown = []
        for kwargs in ({}, {"weight": weight}, {"ignore_index": 2}, {"weight": weight, "ignore_index": 2}):
            for reduction in ("mean", "sum", "none"):
                loss = F.cross_entropy(x, target, reduction=reduction, label_smoothing=0.15, **kwargs)
                shown.append((_loss_and_grad(torch, x, loss), _node_names(loss)))
        loss = F.cross_entropy(x, target, label_smoothing=0.3)
        shown.append([node._saved_other for node, _ in loss.grad_fn.next_functions])
        shown.append(_loss_and_grad(torch, x, F.cross_entropy(x[1], torch.tensor(2), label_smoothing=1.0)))
        shown.append(repr(F.cross_entropy(x, target, label_smoothing=-0.5)))  # (not checked below 0, as in PyTorch)
        return shown
    torch_result, ours = record(program)
    assert ours == torch_result


def test_nll_loss_node_and_what_it_saved():
    """NllLossBackward0's _saved_* (ignore_index shown as PyTorch shows it: unsigned), and its gradient's node,
    NllLossBackwardBackward0, which double backward goes through."""
    def program(torch):
        F = torch.nn.functional
        x = torch.tensor(LOGITS, requires_grad=True)
        target = torch.tensor([0, 2, 3, 2])
        shown = []
        for kwargs in ({}, {"weight": torch.tensor(WEIGHT), "ignore_index": 2, "reduction": "sum"},
                       {"reduction": "none", "ignore_index": 3}):
            loss = F.nll_loss(x.log_softmax(1), target, **kwargs)
            node = loss.grad_fn
            shown.append([node.name(), node.next_functions[0][0].name(), node._saved_ignore_index,
                          node._saved_reduction, repr(node._saved_self), repr(node._saved_target),
                          repr(node._saved_total_weight), repr(node._saved_weight)])
            (grad,) = torch.autograd.grad(loss.sum(), x, create_graph=True)
            inner = grad.grad_fn.next_functions[0][0]
            shown.append([repr(grad), inner.name(), inner._saved_ignore_index, inner._saved_reduction,
                          repr(inner._saved_target), repr(inner._saved_weight)])
            shown.append(values(torch.autograd.grad((grad * grad).sum(), x)[0]))  # (log_softmax's: see README)
        logp = torch.tensor(LOGITS, requires_grad=True)
        (grad,) = torch.autograd.grad(F.nll_loss(logp, target), logp, create_graph=True)
        shown.append([grad.grad_fn.name(), grad.grad_fn.next_functions[1][0].name(),
                      outcome(lambda: torch.autograd.grad(grad.sum(), logp)[0].sum().item())])
        return shown
    torch_result, ours = record(program)
    assert ours == torch_result


def test_nll_loss_sums_in_pytorchs_order_with_ignored_items():
    """nll_loss's cascade over the batch: an ignored item still counts for where the partial sums move; the
    total weight has its own cascade. Float32 losses and gradients to the bit."""
    rng = np.random.default_rng(7)
    logits = (rng.standard_normal((300, 6)) * 3).astype(np.float32)
    labels, weight = rng.integers(0, 6, 300), rng.random(6).astype(np.float32)

    def program(torch):
        F = torch.nn.functional
        x = torch.tensor(logits, requires_grad=True)
        shown = []
        for kwargs in ({}, {"weight": torch.tensor(weight)}):
            for reduction in ("mean", "sum"):
                for ignore_index in (-100, 4):
                    loss = F.cross_entropy(x, torch.tensor(labels), reduction=reduction, ignore_index=ignore_index,
                                           **kwargs)
                    shown.append((loss.item(), loss.grad_fn._saved_total_weight.item(),
                                  torch.autograd.grad(loss, x)[0].tolist()))
        return shown
    torch_result, ours = record(program)
    assert ours == torch_result


def test_unbatched_empty_and_fully_ignored_inputs():
    """A (C,) input takes a 0-d target (or one of size 1); an empty batch gives nan for a mean, as does a
    batch whose every target is ignored (0 / 0)."""
    def program(torch):
        F = torch.nn.functional
        x = torch.tensor(LOGITS, requires_grad=True)
        weight = torch.tensor(WEIGHT)
        shown = []
        for reduction in ("mean", "sum", "none"):
            shown.append(_loss_and_grad(torch, x, F.cross_entropy(x[1], torch.tensor(2), weight, reduction=reduction)))
            one = F.cross_entropy(x[1], torch.tensor([2]), weight, reduction=reduction)  # (PyTorch's backward refuses)
            shown.append([repr(one), outcome(lambda one=one: torch.autograd.grad(one, x))])
            empty = torch.empty(0, 4, requires_grad=True)
            shown.append(repr(F.cross_entropy(empty, torch.empty(0, dtype=torch.long), reduction=reduction)))
            shown.append(repr(F.cross_entropy(empty, torch.empty(0, 4), reduction=reduction)))
            shown.append(repr(F.cross_entropy(x, torch.tensor([1, 1, 1, 1]), ignore_index=1, reduction=reduction)))
        shown.append(_node_names(F.cross_entropy(torch.empty(0, 4, requires_grad=True), torch.empty(0, 4))))
        return shown
    torch_result, ours = record(program)
    assert ours == torch_result


def test_spatial_inputs_go_through_nll_loss2d():
    """(N, C, H, W) is nll_loss2d (NllLoss2DBackward0); (N, C, L) and (N, C, d1, d2, d3) are viewed as it,
    a 'none' result viewed back. Each pixel is an item, summed in PyTorch's order."""
    def program(torch):
        F = torch.nn.functional
        torch.manual_seed(0)
        x = torch.randn(2, 3, 2, 2, requires_grad=True)
        target = torch.tensor([[[0, 1], [2, 0]], [[1, 1], [-100, 2]]])
        weight = torch.tensor([0.5, 2.0, 1.25])
        shown = []
        for reduction in ("mean", "sum", "none"):
            for shape in ((2, 3, 2, 2), (2, 3, 4), (2, 3, 1, 2, 2)):
                loss = F.nll_loss(x.reshape(shape), target.reshape(2, *shape[2:]), weight, reduction=reduction)
                shown.append((_loss_and_grad(torch, x, loss), loss.grad_fn.name(), _node_names(loss)))
            loss = F.cross_entropy(x, target, reduction=reduction, label_smoothing=0.1)
            shown.append((repr(loss), values(torch.autograd.grad(loss.sum(), x)[0]), _node_names(loss)))
            loss = F.cross_entropy(x, x.detach().softmax(1), reduction=reduction)
            shown.append((repr(loss), _node_names(loss)))
        (grad,) = torch.autograd.grad(F.nll_loss(x, target), x, create_graph=True)
        shown.append((grad.grad_fn.name(), sorted(a for a in dir(grad.grad_fn) if a.startswith("_saved_"))))
        return shown
    torch_result, ours = record(program)
    assert ours == torch_result


def test_pytorchs_errors():
    def program(torch):
        F = torch.nn.functional
        x = torch.tensor(LOGITS, requires_grad=True)
        logp, target, p = x.log_softmax(1), torch.tensor([0, 2, 3, 1]), torch.tensor(PROBABILITIES)
        image = torch.zeros(2, 3, 2, 2)
        calls = [
            lambda: F.nll_loss(logp, target.float()), lambda: F.cross_entropy(x, target.int()),
            lambda: F.nll_loss(logp, torch.tensor([0, 4, 1, 1])), lambda: F.nll_loss(logp, torch.tensor([0, -1, 1, 1])),
            lambda: F.nll_loss(logp, torch.tensor([0, 1, 1, 9]), reduction="none"),  # (one: threads race to report)
            lambda: F.nll_loss(logp, torch.tensor([0, -1, 1, 9]), ignore_index=-1),
            lambda: F.nll_loss(logp, target, weight=torch.ones(3)), lambda: F.nll_loss(logp, target, torch.ones(2, 2)),
            lambda: F.cross_entropy(x, p, weight=torch.ones(3)), lambda: F.cross_entropy(x, p, ignore_index=1),
            lambda: F.cross_entropy(x, target.long().expand(4, 4).contiguous()),
            lambda: F.cross_entropy(x, target, label_smoothing=1.5), lambda: F.cross_entropy(x, p, label_smoothing=2.0),
            lambda: F.nll_loss(logp, torch.tensor([0, 1])), lambda: F.nll_loss(logp, torch.tensor(1)),
            lambda: F.nll_loss(logp, torch.rand(4, 3)), lambda: F.cross_entropy(x, torch.rand(4, 5)),
            lambda: F.nll_loss(logp[0], torch.tensor([1, 2])), lambda: F.nll_loss(logp[0, 0], torch.tensor(1)),
            lambda: F.nll_loss(logp, target, weight=torch.ones(4, requires_grad=True)),
            lambda: F.nll_loss(logp, target, weight=torch.ones(4, dtype=torch.float64)),
            lambda: F.nll_loss(logp.detach().int(), target), lambda: F.cross_entropy(x.detach().long(), target),
            lambda: F.nll_loss(logp, target, reduction="mean_please"),
            lambda: F.cross_entropy(x, target, reduction="all"),
            lambda: F.nll_loss(torch.zeros(2, 3, 4), torch.zeros(2, 5).long()),
            lambda: F.nll_loss(image, torch.zeros(2, 2).long()), lambda: F.nll_loss(image, torch.zeros(2, 2, 3).long()),
            lambda: F.nll_loss(image, torch.zeros(2, 2, 2).long(), weight=torch.ones(2)),
            lambda: F.nll_loss(image, torch.full((2, 2, 2), 3)), lambda: F.nll_loss(image.int(), torch.zeros(2, 2, 2)),
            lambda: F.nll_loss(image.int(), torch.zeros(2, 2, 2).long()),
        ]
        shown = [outcome(call) for call in calls]
        with torch.no_grad():
            shown.append(repr(F.nll_loss(logp, target, weight=torch.ones(4, requires_grad=True))))
        shown.append(repr(F.nll_loss(logp, target.to(torch.uint8))))
        return shown
    torch_result, ours = record(program)
    assert ours == torch_result


def test_legacy_size_average_and_reduce_still_work_with_a_warning():
    """The 0.3-era flags (and 0.4's reduction='elementwise_mean') are read as a reduction, with PyTorch's warnings."""
    def program(torch):
        F = torch.nn.functional
        x = torch.tensor(LOGITS, requires_grad=True)
        target = torch.tensor([0, 2, 3, 1])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            shown = [repr(F.cross_entropy(x, target, size_average=False)),
                     repr(F.nll_loss(x, target, reduce=False)),
                     repr(F.cross_entropy(x, target, size_average=True, reduce=True)),
                     repr(torch.nn.CrossEntropyLoss(size_average=False)(x, target)),
                     repr(torch.nn.NLLLoss(reduce=False)(x, target)),
                     repr(F.nll_loss(x, target, reduction="elementwise_mean"))]
        return shown, [(w.category.__name__, str(w.message)) for w in caught]
    torch_result, ours = record(program)
    assert ours == torch_result


def test_loss_modules_keep_their_arguments():
    """CrossEntropyLoss and NLLLoss keep weight as a buffer (in the state dict) and ignore_index, label_smoothing
    as attributes, and print without them."""
    def program(torch):
        nn = torch.nn
        x = torch.tensor(LOGITS, requires_grad=True)
        target, weight = torch.tensor([0, 2, 3, 1]), torch.tensor(WEIGHT)
        ce = nn.CrossEntropyLoss(weight=weight, ignore_index=3, reduction="sum", label_smoothing=0.1)
        nll = nn.NLLLoss(weight, ignore_index=2)
        shown = [repr(ce), repr(nll), repr(nn.CrossEntropyLoss().weight), ce.ignore_index, ce.label_smoothing,
                 ce.reduction, nll.ignore_index, repr(ce.state_dict()), [repr(b) for b in nll.buffers()],
                 _loss_and_grad(torch, x, ce(x, target)), _loss_and_grad(torch, x, nll(x.log_softmax(1), target)),
                 _loss_and_grad(torch, x, nn.CrossEntropyLoss(label_smoothing=0.2)(x, torch.tensor(PROBABILITIES)))]
        return shown
    torch_result, ours = record(program)
    assert ours == torch_result


def _bits(a: np.ndarray) -> bytes:
    """The array's bytes, every NaN made the same NaN."""
    return np.where(np.isnan(a), np.nan, a).astype(a.dtype).tobytes()


@st.composite
def _problems(draw):
    """A batch of logits with class indices or probabilities, and every argument cross_entropy takes."""
    n, c = draw(st.integers(0, 20)), draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    logits = (rng.standard_normal((n, c)) * 3).astype(dtype)
    probabilities = draw(st.booleans())
    if probabilities:
        target = rng.dirichlet(np.ones(c), n).astype(dtype) if n else np.zeros((0, c), dtype)
    else:
        target = rng.integers(0, c, n)
    weight = rng.random(c).astype(dtype) + 0.1 if draw(st.booleans()) else None
    return {"logits": logits, "target": target, "probabilities": probabilities, "weight": weight,
            "ignore_index": -100 if probabilities else draw(st.sampled_from([-100, 0, c - 1])),
            "reduction": draw(st.sampled_from(["mean", "sum", "none"])),
            "label_smoothing": draw(st.sampled_from([0.0, 0.1, 0.35]))}


@settings(max_examples=40, deadline=None)
@given(_problems())
def test_cross_entropy_matches_torch_on_random_problems(problem):
    """Float32 values and gradients to the bit, for any mix of the arguments; float64 to 1e-12 (its exp in
    log_softmax's backward is NumPy's, not PyTorch's SLEEF: README)."""
    def program(torch):
        x = torch.tensor(problem["logits"], requires_grad=True)
        weight = None if problem["weight"] is None else torch.tensor(problem["weight"])
        loss = torch.nn.functional.cross_entropy(
            x, torch.tensor(problem["target"]), weight, ignore_index=problem["ignore_index"],
            reduction=problem["reduction"], label_smoothing=problem["label_smoothing"])
        (grad,) = torch.autograd.grad(loss.sum(), x)
        return str(loss.dtype), loss.grad_fn.name(), loss.detach().numpy(), grad.numpy()
    (*torch_shows, torch_loss, torch_grad), (*ours_shows, our_loss, our_grad) = record(program)
    assert ours_shows == torch_shows
    if problem["logits"].dtype == np.float32:  # (a NaN's sign bit, from an empty batch, is not compared)
        assert [_bits(a) for a in (our_loss, our_grad)] == [_bits(a) for a in (torch_loss, torch_grad)]
    np.testing.assert_allclose(our_loss, torch_loss, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(our_grad, torch_grad, rtol=1e-12, atol=1e-15)
