"""What an eighth look at the corpora found: the wording of PyTorch's argument-parser errors.

Each program runs under torch and under autograd_lab (``tests/core/twin.py``); torch's result is the
expected one.
"""

from __future__ import annotations

from tests.core.twin import outcome, record


def test_argument_parser_errors_name_what_was_passed_as_pytorch_does():
    """Keywords are listed last first, and after keywords alone PyTorch leaves a bare ``, ``: a tutorial's
    ``x.to(requires_grad=True)`` shows ``got (requires_grad=bool, )``. With no size, rand says a size is
    missing when one of its forms could take that many arguments, and "invalid combination" otherwise."""
    def program(torch):
        x = torch.ones(2)
        calls = [lambda: x.to(requires_grad=True), lambda: x.to("cpu", requires_grad=True),
                 lambda: x.to("cpu", "a", requires_grad=True, foo=1), lambda: x.to(foo=1, bar="x"),
                 lambda: x.to(torch.float32, 3, "a"), lambda: x.to(None, foo=torch.float32),
                 lambda: torch.rand(2, names=1), lambda: torch.rand(zz=1, names=1),
                 lambda: torch.randn(zz=1), torch.rand, lambda: torch.randn(requires_grad=True),
                 lambda: torch.rand(2, 3, zz=1), lambda: x.to(b=1, c=1, a=1),
                 lambda: torch.Tensor(2, foo=1), lambda: torch.Tensor(foo=1, bar=2)]
        return [outcome(call) for call in calls]
    torch_result, ours = record(program)
    assert ours == torch_result
