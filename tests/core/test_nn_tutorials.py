"""What the basics tutorials use from torch.nn (and autograd's in-place message), under both engines."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("program", "named"), [
    ("y = x.exp(); y.add_(1)", "Exp"),               # a saved output: named after the node that saved it
    ("y = x.exp(); y.exp_(); y.mul_(2)", "Exp"),
    ("y = x.sigmoid(); y.mul_(2); y.mul_(3)", "Sigmoid"),
    ("y = x + 1; z = y.sin(); y.mul_(2)", "Mul"),    # a saved input: named after its grad_fn now
])
def test_inplace_error_names_the_op_as_torch_does(backend, program, named):
    scope = {"x": backend.ones(2, requires_grad=True)}
    exec(program, scope)
    with pytest.raises(RuntimeError, match=f"which is output 0 of {named}, is at version"):
        scope.get("z", scope["y"]).sum().backward()
