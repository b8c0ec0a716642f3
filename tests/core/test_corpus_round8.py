"""What an eighth look at the corpora found: the wording of PyTorch's argument-parser errors.

Each program runs under torch and under autograd_lab (``tests/core/twin.py``); torch's result is the
expected one.
"""

from __future__ import annotations

import functools
import warnings

from tests.core.test_forward_ad import _functions
from tests.core.twin import outcome, record


def test_argument_parser_errors_name_what_was_passed_as_pytorch_does():
    """Keywords are listed last first, and after keywords alone PyTorch leaves a bare ``, ``: a tutorial's
    ``x.to(requires_grad=True)`` shows ``got (requires_grad=bool, )``. With no size, rand says a size is
    missing when one of its forms could take that many arguments, and "invalid combination" otherwise. A dtype
    is named ``torch.dtype`` in every such error."""
    class Student:  # (a class of one's own is named without its module, a C type with it)
        pass

    def program(torch):
        x = torch.ones(2)
        calls = [lambda: x.to(requires_grad=True), lambda: x.to("cpu", requires_grad=True),
                 lambda: x.to("cpu", "a", requires_grad=True, foo=1), lambda: x.to(foo=1, bar="x"),
                 lambda: x.to(torch.float32, 3, "a"), lambda: x.to(None, foo=torch.float32),
                 lambda: torch.rand(2, names=1), lambda: torch.rand(zz=1, names=1),
                 lambda: torch.randn(zz=1), torch.rand, lambda: torch.randn(requires_grad=True),
                 lambda: torch.rand(2, 3, zz=1), lambda: x.to(b=1, c=1, a=1),
                 lambda: torch.Tensor(2, foo=1), lambda: torch.Tensor(foo=1, bar=2),
                 lambda: x.to(Student()), lambda: x.to(foo=torch.float32), lambda: x.chunk(torch.float32),
                 lambda: x.lt(torch.float32)]
        return [outcome(call) for call in calls]
    torch_result, ours = record(program)
    assert ours == torch_result


def _jvp_functions(torch):
    class Square(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            ctx.x = x
            return x * x

        @staticmethod
        def backward(ctx, grad):
            return 2 * ctx.saved_tensors[0] * grad

        @staticmethod
        def jvp(ctx, tangent):
            return 2 * ctx.x * tangent

    class WrongJvp(Square):
        @staticmethod
        def jvp(ctx, tangent):
            return 3 * ctx.x * tangent

    return Square, WrongJvp, _functions(torch)[1]  # (a Function without jvp)


def test_gradcheck_checks_forward_mode_too():
    """The forward-mode AD tutorial runs ``gradcheck(..., check_forward_ad=True)``: forward mode's Jacobian
    (one unit tangent per input element) against finite differences, then inputs without a tangent, with
    PyTorch's messages and as many calls of the function (a student's print shows up as often)."""
    def program(torch):
        square, wrong, no_jvp = _jvp_functions(torch)
        check = torch.autograd.gradcheck
        x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.double, requires_grad=True)
        y = torch.tensor([[1.0, -2.0], [0.5, 4.0]], dtype=torch.double, requires_grad=True)
        c = torch.tensor([1.0, 2.0], dtype=torch.double)
        calls = []

        def counted(a):
            calls.append(1)
            return a.sin()
        with warnings.catch_warnings():  # (torch's forward-mode check scripts a helper with the deprecated jit)
            warnings.simplefilter("ignore", DeprecationWarning)
            seen = [outcome(functools.partial(check, f, inputs, **options)) for f, inputs, options in [
                (torch.exp, (x,), {"check_forward_ad": True}), (square.apply, (x,), {"check_forward_ad": True}),
                (wrong.apply, (x,), {"check_forward_ad": True}),
                (wrong.apply, (x,), {"check_forward_ad": True, "raise_exception": False}),
                (no_jvp.apply, (x,), {"check_forward_ad": True}),
                (square.apply, (x,), {"check_forward_ad": True, "check_backward_ad": False}),
                (lambda a, b: (a.sum() * b, b.t() @ b), (x, y), {"check_forward_ad": True}),
                (lambda a: (a * 2).detach(), (x,), {"check_forward_ad": True, "check_backward_ad": False}),
                (lambda a, b: a * b, (c, x[:2]), {"check_forward_ad": True}),
                (counted, (x,), {"check_forward_ad": True}), (square.apply, (x,), {"check_backward_ad": False})]]
        return [*seen, len(calls)]
    torch_result, ours = record(program)
    assert ours == torch_result


def test_gradcheck_numbers_inputs_among_those_it_differentiates():
    """"with respect to input 0" is the first input that requires grad, whatever its position."""
    def program(torch):
        class Halved(torch.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                return a * b

            @staticmethod
            def backward(ctx, grad):
                return None, grad / 2

        c = torch.tensor([1.0, 2.0], dtype=torch.double)
        y = torch.tensor([3.0, 4.0], dtype=torch.double, requires_grad=True)
        return outcome(lambda: torch.autograd.gradcheck(Halved.apply, (c, y)))
    torch_result, ours = record(program)
    assert ours == torch_result
