"""gradcheck / gradgradcheck answer as PyTorch's do, and never pass vacuously.

A function whose outputs do not require grad (a backward that ends in ``.detach()``, a
``lambda x: (x * 2).detach()``) gives backward nothing to check: PyTorch then demands that
the outputs do not move when the inputs do, and raises GradcheckError otherwise.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.core.twin import outcome, record


def _detached_backward(t: Any) -> type:
    class Double(t.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return (grad * 2).detach()  # right values, but cut from the graph: no second derivative
    return Double


def _wrong_backward(t: Any) -> type:
    class Square(t.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x  # forgot the 2
    return Square


CHECKS = {
    "detached output": lambda t, x: t.autograd.gradcheck(lambda x: (x * 2).detach(), (x,)),
    "detached output, no raise": lambda t, x: t.autograd.gradcheck(lambda x: (x * 2).detach(), (x,),
                                                                   raise_exception=False),
    "constant output": lambda t, x: t.autograd.gradcheck(lambda x: t.zeros(2, dtype=t.float64), (x,)),
    "integer-valued output": lambda t, x: t.autograd.gradcheck(lambda x: (x > 0).double(), (x,)),
    "one detached output among others": lambda t, x: t.autograd.gradcheck(lambda x: (x * 2, (x * x).detach()), (x,)),
    "right backward": lambda t, x: t.autograd.gradcheck(lambda x: x * x, (x,)),
    "wrong backward": lambda t, x: t.autograd.gradcheck(_wrong_backward(t).apply, (x,)),
    "wrong backward, no raise": lambda t, x: t.autograd.gradcheck(_wrong_backward(t).apply, (x,),
                                                                  raise_exception=False),
    "detached backward: first order": lambda t, x: t.autograd.gradcheck(_detached_backward(t).apply, (x,)),
    "detached backward: second order": lambda t, x: t.autograd.gradgradcheck(_detached_backward(t).apply, (x,)),
    "detached backward: second order, no raise": lambda t, x: t.autograd.gradgradcheck(
        _detached_backward(t).apply, (x,), raise_exception=False),
    "gradgradcheck of a detached output": lambda t, x: t.autograd.gradgradcheck(lambda x: (x * 2).detach(), (x,)),
    "gradgradcheck, right": lambda t, x: t.autograd.gradgradcheck(lambda x: x * x * x, (x,)),
    "gradgradcheck, linear": lambda t, x: t.autograd.gradgradcheck(lambda x: x * 2, (x,)),
}


@pytest.mark.parametrize("check", CHECKS.values(), ids=CHECKS.keys())
def test_gradcheck_answers_as_torch(check):
    def run(t):
        x = t.tensor([1.0, 2.0], dtype=t.float64, requires_grad=True)
        result = outcome(lambda: check(t, x))
        return result.splitlines()[0] if isinstance(result, str) else result  # (the Jacobians' printout differs)
    torch_result, ours = record(run)
    assert ours == torch_result


def test_gradcheck_error_is_a_runtime_error_named_as_torchs():
    def run(t):
        x = t.tensor([1.0, 2.0], dtype=t.float64, requires_grad=True)
        try:
            t.autograd.gradcheck(lambda x: (x * 2).detach(), (x,))
        except RuntimeError as error:
            return [type(error).__module__, type(error).__qualname__, str(error)]
        return None
    torch_result, ours = record(run)
    assert ours == torch_result
