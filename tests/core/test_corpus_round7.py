"""What a seventh look at the corpora found: the 2018 book's ``grad_fn.saved_variables``, ...

Each program runs under torch and under autograd_lab (``tests/core/twin.py``); torch's result is the
expected one.
"""

from __future__ import annotations

from tests.core.twin import outcome, record


def test_a_built_in_node_has_no_saved_tensors_or_saved_variables():
    """The book's first edition reads ``y.grad_fn.saved_variables`` on a built-in node: PyTorch 2 raises
    AttributeError (a custom Function's node still has both)."""
    def program(torch):
        w, x = torch.ones(1, requires_grad=True), torch.ones(1)
        y = w * x
        seen = [outcome(lambda: y.grad_fn.saved_variables), outcome(lambda: y.grad_fn.saved_tensors),
                hasattr(y.grad_fn, "saved_tensors"), outcome(lambda: type(y.grad_fn).saved_tensors),
                y.grad_fn._saved_other.tolist()]
        y.backward()
        return [*seen, w.grad.tolist()]
    torch_result, ours = record(program)
    assert ours == torch_result


# In-place writes PyTorch allows or refuses by how the memory overlaps (each runs with torch in scope).
_OVERLAPS = ["b = torch.zeros(1); x = b.expand(3); x.fill_(2); r = (x.tolist(), b.tolist())",
             "b = torch.zeros(1); b.expand(3).zero_(); r = b.tolist()",
             "b = torch.zeros(3); b.expand(3).add_(1); r = b.tolist()",
             "b = torch.zeros(1, 3); b.expand(1, 3).mul_(2); r = b.tolist()",
             "b = torch.zeros(1); b.expand(3).add_(1); r = b.tolist()",
             "b = torch.zeros(1); b.expand(3).copy_(torch.ones(3)); r = b.tolist()",
             "b = torch.zeros(1); x = b.expand(3); x[0] = 5; r = b.tolist()",
             "b = torch.zeros(1); x = b.expand(3); x[:2] = 5; r = b.tolist()",
             "b = torch.zeros(1); b.expand(3).clamp_(1); r = b.tolist()",
             "b = torch.zeros(1, requires_grad=True).clone(); b.expand(3).fill_(2); r = (b.tolist(), b.grad_fn.name())",
             "b = torch.zeros(1, requires_grad=True).clone(); b.expand(3).mul_(2); r = b.tolist()",
             "a = torch.arange(5.); a[1:].copy_(a[:4]); r = a.tolist()",
             "a = torch.arange(5.); a[:4].copy_(a[1:]); r = a.tolist()",
             "a = torch.arange(5.); a[1:].add_(a[:4]); r = a.tolist()",
             "a = torch.arange(5.); a[1:].mul_(a[:4]); r = a.tolist()",
             "a = torch.arange(5.); a.add_(a); r = a.tolist()",
             "a = torch.arange(5.); a.add_(a.view(5)); r = a.tolist()",
             "a = torch.arange(6.); a[::2].copy_(a[1::2]); r = a.tolist()",
             "a = torch.arange(4.).reshape(2, 2); a.copy_(a.t()); r = a.tolist()",
             "a = torch.arange(8.).reshape(2, 2, 2); a.copy_(a.permute(1, 0, 2)); r = a.tolist()",
             "a = torch.arange(5., requires_grad=True).clone(); a[1:].add_(a[:4]); r = a.tolist()",
             "a = torch.arange(5.); a[1:] = a[:4]; r = a.tolist()",
             "a = torch.arange(5.); a[1:] = a[1:]; r = a.tolist()"]


def test_in_place_writes_into_overlapping_memory():
    """fill_/zero_ may write through an expand; other ops may when the expand repeats nothing; an input that
    partly overlaps the output is refused (fuzzing found all three answered otherwise)."""
    def program(torch):
        seen = []
        for line in _OVERLAPS:
            scope = {"torch": torch}
            seen.append((line, outcome(lambda line=line, scope=scope: exec(line, scope) or scope["r"])))
        return seen
    torch_result, ours = record(program)
    assert ours == torch_result
