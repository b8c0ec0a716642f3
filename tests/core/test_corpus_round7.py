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
