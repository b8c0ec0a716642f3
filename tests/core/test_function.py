"""Custom Functions: both styles, ctx features, and what reaches forward and backward."""

from __future__ import annotations

import pytest


def test_forward_runs_without_recording(backend):
    seen = {}

    class Probe(backend.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            seen["grad_enabled"] = backend.is_grad_enabled()
            seen["x_requires_grad"] = x.requires_grad
            y = x * 2
            seen["inner_grad_fn"] = y.grad_fn
            return y

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = backend.ones(2, requires_grad=True)
    out = Probe.apply(x)
    assert seen == {"grad_enabled": False, "x_requires_grad": True, "inner_grad_fn": None}
    assert out.grad_fn.name() == "ProbeBackward"


def test_ctx_is_the_grad_fn(backend):
    class Keep(backend.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            ctx.note = "kept"
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = backend.ones(2, requires_grad=True)
    y = Keep.apply(x)
    assert y.grad_fn.note == "kept"
    assert y.grad_fn.saved_tensors[0].tolist() == [1.0, 1.0]
    assert y.grad_fn.next_functions[0][0].variable is x


def test_needs_input_grad(backend):
    recorded = []

    class Mul(backend.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, k):
            ctx.save_for_backward(a, b)
            return a * b * k

        @staticmethod
        def backward(ctx, grad):
            recorded.append(ctx.needs_input_grad)
            a, b = ctx.saved_tensors
            return (grad * b if ctx.needs_input_grad[0] else None,
                    grad * a if ctx.needs_input_grad[1] else None, None)

    a = backend.tensor([2.0], requires_grad=True)
    b = backend.tensor([3.0])
    Mul.apply(a, b, 2.0).backward()
    assert recorded == [(True, False, False)]
    assert a.grad.tolist() == [3.0]


def test_setup_context_style(backend):
    class Cube(backend.autograd.Function):
        @staticmethod
        def forward(x, power=3):
            return x ** power

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, power = inputs
            ctx.save_for_backward(x)
            ctx.power = power

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * ctx.power * x ** (ctx.power - 1), None

    x = backend.tensor([2.0], requires_grad=True)
    Cube.apply(x).backward()
    assert x.grad.tolist() == [12.0]


def test_mark_non_differentiable_and_several_outputs(backend):
    class SortWithIndex(backend.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            values = x * 1
            index = backend.tensor([0, 1])
            ctx.mark_non_differentiable(index)
            return values, index

        @staticmethod
        def backward(ctx, grad_values, grad_index):
            assert grad_index is None or grad_index.abs().sum().item() == 0
            return grad_values * 1

    x = backend.ones(2, requires_grad=True)
    values, index = SortWithIndex.apply(x)
    assert values.requires_grad and not index.requires_grad
    values.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("materialize", [True, False])
def test_set_materialize_grads(backend, materialize):
    received = []

    class Two(backend.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(materialize)
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, g1, g2):
            received.append(g2 if g2 is None else g2.tolist())
            return g1

    x = backend.ones(2, requires_grad=True)
    first, _ = Two.apply(x)
    first.sum().backward()
    assert received == ([[0.0, 0.0]] if materialize else [None])


def test_mark_dirty(backend):
    class AddOneInplace(backend.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    a = backend.tensor([1.0, 2.0], requires_grad=True)
    y = a * 1
    out = AddOneInplace.apply(y)
    assert out is y and y.tolist() == [2.0, 3.0]
    assert y.grad_fn.name() == "AddOneInplaceBackward"
    y.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0]


def test_returning_an_input_gives_a_new_tensor(backend):
    class Identity(backend.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = backend.ones(2, requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and y.grad_fn.name() == "IdentityBackward" and x.is_leaf


def test_backward_receives_tensors_and_can_be_differentiated(backend):
    """The book's point: backward works on tensors (Variables in 2018), so it can be differentiated."""
    types = []

    class Square(backend.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            types.append((type(grad).__name__, backend.is_grad_enabled()))
            return 2 * x * grad

    x = backend.tensor([3.0], requires_grad=True)
    (g,) = backend.autograd.grad(Square.apply(x), x, create_graph=True)
    (gg,) = backend.autograd.grad(g, x)
    assert types == [("Tensor", True)]
    assert (g.item(), gg.item()) == (6.0, 2.0)


def test_keyword_arguments_reach_forward(backend):
    class Scale(backend.autograd.Function):
        @staticmethod
        def forward(ctx, x, k=2):
            ctx.k = k
            return x * k

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.k, None

    x = backend.ones(1, requires_grad=True)
    Scale.apply(x, k=3).backward()
    assert x.grad.item() == 3.0


def test_saved_tensors_survive_retain_graph(backend):
    class Keep(backend.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            ctx.saved_tensors
            return grad * 2

    x = backend.ones(1, requires_grad=True)
    y = Keep.apply(x)
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 4.0
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_setup_context_sees_the_defaults(backend):
    seen = []

    class Scale(backend.autograd.Function):
        @staticmethod
        def forward(x, k=3, z=None):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            seen.append((len(inputs), inputs[1], ctx.needs_input_grad))

        @staticmethod
        def backward(ctx, grad):
            return grad * 3, None, None

    x = backend.ones(1, requires_grad=True)
    Scale.apply(x)
    Scale.apply(x, z=x)
    assert seen == [(3, 3, (True, False, False)), (3, 3, (True, False, True))]
