"""What a sixth look at the corpora found: views made with grad mode off, ...

Each program runs under torch and under autograd_lab (``tests/core/twin.py``); torch's result is the
expected one.
"""

from __future__ import annotations

import functools

import pytest

from tests.core.twin import outcome, record, values

# Ways to change a view in place; each runs with the view ``v`` (and a 2-d ``m``) in scope.
_CHANGES = ["v.mul_(2)", "v.add_(1)", "v.zero_()", "v.fill_(2.0)", "v.copy_(torch.zeros(2))", "v.unsqueeze_(0)",
            "v[0] = 5", "v[:1] = 5", "v[[0]] = 5", "v[...] = 5", "v[v > 0] = 5", "v[torch.tensor(0)] = 5",
            "v[:1].mul_(2)", "v.view(2).mul_(2)", "v[0].mul_(2)", "v.detach().mul_(2)", "v.data.mul_(2)",
            "v.mul_(torch.ones(2, requires_grad=True))"]


@pytest.mark.parametrize("base", ["leaf", "non-leaf", "no grad"])
@pytest.mark.parametrize("mode", ["no_grad", "inference_mode"])
def test_a_view_made_with_grad_mode_off_is_refused_in_place_with_it_on(base, mode):
    def program(torch):
        seen = []
        for change in _CHANGES:
            a = {"leaf": torch.ones(3, requires_grad=True), "non-leaf": torch.ones(3, requires_grad=True).clone(),
                 "no grad": torch.ones(3)}[base]
            with getattr(torch, mode)():
                v = a[:2]
            shown = (v.requires_grad, v.is_leaf, v.grad_fn is None, v.is_inference())
            seen.append((change, shown, outcome(functools.partial(exec, change, {"torch": torch, "v": v})), values(a)))
        return seen
    torch_result, ours = record(program)
    assert ours == torch_result


def test_views_made_with_grad_mode_off_inside_it_and_their_gradients():
    def program(torch):
        a = torch.ones(3, requires_grad=True)
        with torch.no_grad():
            v = a[:2]
            parts = a.split(1)
        y = v * 2
        edges = [str(e) for e in y.grad_fn.next_functions]
        y.sum().backward()
        unused = outcome(lambda: torch.autograd.grad((v * 3).sum(), v))
        allowed = torch.autograd.grad((v * 3).sum(), v, allow_unused=True)
        split = outcome(lambda: parts[0].mul_(2))
        with torch.no_grad():
            parts[1].mul_(3)  # inside the block: allowed, not recorded
            inside = v * 2
        return values(a), a.grad, v.grad, edges, unused, allowed, split, parts[0].requires_grad, values(inside)
    torch_result, ours = record(program)
    assert ours == torch_result


# After the base (or another view of it) changes in place, each way of reading or using the view ``v``.
_USES = ["v * 2", "str(v)", "v.grad_fn", "v.is_leaf", "v.requires_grad", "v.sum().backward()", "v.detach() * 2",
         "v[:1] * 2", "torch.autograd.grad(v.sum(), a)"]


def _shown(code: str, names: dict) -> str:
    return str(eval(code, names))


@pytest.mark.parametrize("made", ["no_grad", "inference_mode", "grad mode"])
@pytest.mark.parametrize("change", ["a.mul_(2)", "a[2] = 7", "w.add_(1)", "a.mul_(2) in no_grad",
                                    "w.add_(1) in no_grad"])
def test_a_view_whose_base_changed_in_place_follows_the_change_or_refuses(made, change):
    def program(torch):
        seen = []
        for use in _USES:
            x = torch.ones(3, requires_grad=True)
            a = x * torch.tensor([1.0, 2.0, 3.0])
            if made == "grad mode":
                v = a[:2]
            else:
                with getattr(torch, made)():
                    v = a[:2]
            w = a[1:]
            if change.endswith(" in no_grad"):
                with torch.no_grad():
                    exec(change.removesuffix(" in no_grad"), {"a": a, "w": w})
            else:
                exec(change, {"a": a, "w": w})
            shown = outcome(functools.partial(_shown, use, {"torch": torch, "v": v, "a": a}))
            seen.append((use, shown, values(x.grad)))
        return seen
    torch_result, ours = record(program)
    assert ours == torch_result


def test_a_view_of_a_tensor_changed_in_place_gets_the_gradient_of_its_new_values():
    def program(torch):
        x = torch.ones(3, requires_grad=True)
        s = torch.tensor([2.0, 3.0, 4.0], requires_grad=True)
        a = x.clone()
        v, t = a[:2], a.t()
        a.mul_(s)  # v and t now look at x * s
        loss = (v * torch.tensor([1.0, 10.0])).sum() + (t * 100).sum()
        nodes = [v.grad_fn.name(), t.grad_fn.name(), str(v.grad_fn.next_functions), v._version]
        loss.backward()
        b = x.clone()
        u, rows = b[1:], b.view(3, 1)
        u.mul_(s[1:])  # u itself changed: b and the other view follow
        (rows.sum() + u.sum() * 10).backward()
        return nodes, values(x.grad), values(s.grad), u.grad_fn.name(), rows.grad_fn.name(), b.grad_fn.name()
    torch_result, ours = record(program)
    assert ours == torch_result


def test_an_integer_zero_d_tensor_key_writes_as_an_int_does():
    def program(torch):
        a = torch.ones(2, 3, requires_grad=True).clone()
        a[torch.tensor(1)] = 5
        b = torch.ones(2, 3)
        b[torch.tensor(1), torch.tensor(2)] = 7
        return a.grad_fn.name(), values(a), values(b)
    torch_result, ours = record(program)
    assert ours == torch_result
