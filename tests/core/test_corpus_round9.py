"""What a ninth look found: the sign of a zero that max, min, clamp and relu pass on; ``torch.min(a, b)``.

Each program runs under torch and under autograd_lab (``tests/core/twin.py``); torch's result is the
expected one.
"""

from __future__ import annotations

import math
import warnings

from tests.core.twin import outcome, record


def _signs(t):
    """Each element's sign bit: tells -0.0 from 0.0 (which == does not)."""
    return [math.copysign(1, v) for v in t.reshape(-1).tolist()]


def _tie_results(torch, x, y, b):
    """Every way of taking a max, min or clamp of x against y (a tensor) or b (the same number)."""
    F = torch.nn.functional
    return [torch.maximum(x, y), torch.minimum(x, y), torch.max(x, y), torch.min(x, y), x.clamp(min=b),
            x.clamp(max=b), x.clamp(b, b), torch.clamp(x, min=y), torch.clamp(x, max=y), x.relu(), F.relu(x),
            x.clone().relu_(), x.clone().clamp_(min=b), x.clip(min=b), x.clamp_min(b), x.clamp_max(b),
            torch.clamp_min(x, y), torch.clamp_max(x, y)]


def test_ties_keep_pytorchs_operand_so_minus_zero_survives_relu_and_clamp():
    """Against a number PyTorch keeps ``self`` on a tie: relu(-0.0) prints ``-0.``. Between two tensors its
    vector lanes keep the other operand (AVX's max/min), its scalar tail ``self``. NumPy's loops chose
    otherwise (0.0 for 9 elements, -0.0 for 1)."""
    def program(torch):
        results = []
        for n in (1, 9, 40):
            for a, b in ((-0.0, 0.0), (0.0, -0.0)):
                results.append([_signs(t) for t in _tie_results(torch, torch.full((n,), a), torch.full((n,), b), b)])
        x = torch.tensor([-0.0, 0.0, -1.0, math.nan, 2.0])
        results.append([repr(x.relu()), repr(x.clamp(0, 1)), repr(torch.maximum(x, torch.zeros(5)))])
        return results
    torch_result, ours = record(program)
    assert ours == torch_result


def test_min_of_two_tensors_is_minimum_with_its_gradient():
    """``torch.min(a, b)`` / ``a.min(b)`` / ``torch.minimum``: the smaller element, a tie splitting the gradient."""
    def program(torch):
        a = torch.tensor([1.0, 5.0, 3.0, 2.0], requires_grad=True)
        b = torch.tensor([2.0, 4.0, 3.0, 0.5], requires_grad=True)
        outs = [torch.min(a, b), a.min(b), torch.minimum(a, b), a.minimum(b), torch.min(a, b.detach()[:1])]
        shown = [repr(o) for o in outs] + [outs[0].grad_fn.name(), repr(outs[0].grad_fn._saved_other)]
        (outs[0] * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
        shown += [repr(a.grad), repr(b.grad)]
        shown.append(outcome(lambda: torch.minimum(a, 2.0)))
        shown.append(outcome(lambda: torch.min(a, torch.ones(3))))
        i = torch.tensor([3, 1])
        shown.append(repr(torch.minimum(i, torch.tensor([2, 2]))))
        shown.append(repr(torch.minimum(i, torch.tensor([2.5, 0.5]))))
        return shown
    torch_result, ours = record(program)
    assert ours == torch_result


def test_clamp_min_and_clamp_max_are_their_own_ops():
    """``x.clamp_min(0.5)`` is not ``clamp(min=0.5)`` to autograd: PyTorch records ClampMinBackward0 (a number)
    or ClampMinBackward1 (a tensor), with ``_saved_min``."""
    def program(torch):
        x = torch.tensor([-1.0, 0.5, 2.0], requires_grad=True)
        shown = []
        for y in (x.clamp_min(0.5), torch.clamp_min(x, 0.5), x.clamp_max(0.5), x.clamp_min(torch.tensor(0.5)),
                  torch.clamp_max(x, torch.tensor([0.0, 1.0, 3.0]))):
            node = y.grad_fn
            shown.append((repr(y), node.name(), repr(getattr(node, "_saved_min", None)),
                          repr(getattr(node, "_saved_max", None)), repr(node._saved_self)))
            shown.append(repr(torch.autograd.grad(y.sum(), x)[0]))
        shown += [outcome(lambda: x.clamp_min(None)), outcome(lambda: x.clamp_max("a"))]
        return shown
    torch_result, ours = record(program)
    assert ours == torch_result


def test_amax_and_amin_share_the_gradient_between_ties():
    """Unlike ``max(dim)`` (one index gets it all), amax/amin split the gradient equally between the tied
    largest elements; ``_saved_dim`` is () when no dim was named (negative dims: see the README)."""
    def program(torch):
        x = torch.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]], requires_grad=True)
        shown = []
        for y in (x.amax(), x.amax(1), torch.amax(x, (0, 1), keepdim=True), torch.amin(x, 0),
                  x.amax(dim=[1], keepdim=True), x.amin(1)):
            node = y.grad_fn
            shown.append((repr(y), node.name(), node._saved_keepdim, repr(node._saved_result),
                          repr(node._saved_self)))
            shown.append(repr(torch.autograd.grad(y.sum(), x)[0]))
        shown.append(x.amax(1).grad_fn._saved_dim)
        (g,) = torch.autograd.grad(x.amax(1).sum(), x, create_graph=True)
        shown += [repr(g), repr(torch.tensor([1, 5, 2]).amax()), repr(torch.tensor(3.0).amax()),
                  repr(torch.tensor([1.0, float("nan"), 2.0]).amax()), repr(torch.empty(0, 3).amax(1))]
        shown += [outcome(lambda: torch.empty(0).amax()), outcome(lambda: torch.empty(0, 3).amax(0)),
                  outcome(lambda: torch.empty(0, 3).amin(-2, True))]
        return shown
    torch_result, ours = record(program)
    assert ours == torch_result


def test_what_a_student_trying_these_ops_runs_into():
    """A 0-d relu (no NumPy warning on the way), a dim named twice, a method called without its argument."""
    def program(torch):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # (a stray NumPy RuntimeWarning would fail here)
            shown = [repr(torch.nn.ReLU()(torch.tensor(-0.0))), repr(torch.tensor(-3.0).relu()),
                     repr(torch.tensor(2.0, requires_grad=True).relu())]
        x = torch.ones(2, 3)
        shown += [outcome(lambda: x.sum((0, 0))), outcome(lambda: x.mean((1, -1))), outcome(lambda: x.amax((0, 0))),
                  outcome(x.lt), outcome(x.pow), outcome(x.clamp_min)]
        return shown
    torch_result, ours = record(program)
    assert ours == torch_result
