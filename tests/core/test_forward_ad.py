"""torch.autograd.forward_ad: dual tensors through custom Functions' jvp and through built-in ops.

The torch.autograd.function docstrings use ``save_for_forward`` and ``jvp`` (and, mis-indented upstream,
apply a Function without jvp to a dual tensor: torch's NotImplementedError); the forward_ad docstrings
put dual tensors through built-in ops.
"""

from __future__ import annotations

import importlib

import pytest

from tests.core.twin import outcome, record


@pytest.fixture(autouse=True, scope="module")
def _torch_decompositions_loaded() -> None:
    """torch loads its decompositions at its first make_dual, warning about torch.jit: not what is compared."""
    import warnings

    import torch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.autograd.forward_ad.dual_level():
            torch.autograd.forward_ad.make_dual(torch.ones(1), torch.ones(1))


def _functions(torch):
    class Scaled(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, y, z):
            ctx.save_for_backward(x, y)
            ctx.save_for_forward(x, y)
            ctx.z = z
            return x * y * z

        @staticmethod
        def jvp(ctx, x_t, y_t, z_t):
            x, y = ctx.saved_tensors
            return ctx.z * (y * x_t + x * y_t)

        @staticmethod
        def vjp(ctx, grad):
            x, y = ctx.saved_tensors
            return ctx.z * grad * y, ctx.z * grad * x, None

    class NoJvp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    return Scaled, NoJvp


def test_dual_tensors_through_a_custom_jvp_and_back():
    def program(torch):
        fw = importlib.import_module(torch.__name__ + ".autograd.forward_ad")
        scaled, no_jvp = _functions(torch)
        a = torch.tensor(1.0, dtype=torch.double, requires_grad=True)
        b = torch.tensor(2.0, dtype=torch.double, requires_grad=True)
        with fw.dual_level():
            dual = fw.make_dual(a, torch.tensor(1.0, dtype=torch.double))
            d = scaled.apply(dual, b, 4)
            d.backward()
            vector = fw.make_dual(torch.ones(3, dtype=torch.double), torch.arange(3.0).double())
            inside = (repr(dual), repr(fw.unpack_dual(dual).tangent), repr(fw.unpack_dual(b)), repr(d),
                      repr(fw.unpack_dual(d)), repr(vector), outcome(lambda: no_jvp.apply(dual)),
                      outcome(fw.enter_dual_level))
        return (inside, a.grad.item(), b.grad.item(), repr(fw.unpack_dual(d)),
                outcome(lambda: fw.make_dual(a, torch.ones(()))), outcome(fw.exit_dual_level))
    torch_result, ours = record(program)
    assert ours == torch_result


def test_make_dual_checks_its_arguments():
    def program(torch):
        fw = importlib.import_module(torch.__name__ + ".autograd.forward_ad")
        with fw.dual_level():
            return [outcome(f) for f in (lambda: fw.make_dual(torch.ones(2), torch.ones(3)),
                                         lambda: fw.make_dual(torch.ones(2, dtype=torch.int64), torch.ones(2)))]
    torch_result, ours = record(program)
    assert ours == torch_result


def test_built_in_ops_carry_tangents():
    """PyTorch's forward rules, against ours from the backward: the values of J v, in place and out of place."""
    def program(torch):
        fw = importlib.import_module(torch.__name__ + ".autograd.forward_ad")
        nn_f = importlib.import_module(torch.__name__ + ".nn.functional")
        with fw.dual_level():
            d = fw.make_dual(torch.tensor([1., 2.]), torch.tensor([1., 0.]))
            m = fw.make_dual(torch.tensor([[1., -2.], [3., 0.5]], dtype=torch.double),
                             torch.tensor([[0.5, 1.], [-1., 2.]], dtype=torch.double))
            x = torch.ones(2)
            x.mul_(d)
            seen = [torch.sin(d), d * 3 + 1, d * d, x, d.sum(), d.mean(), d.relu(), torch.stack([d, d]), d @ d,
                    d.max(), d > 1, nn_f.mse_loss(d, torch.zeros(2)), d[0], d.view(2, 1), d.clone(),
                    m @ m, m.t(), m.sigmoid(), m.tanh(), m.pow(3), m.abs(), m.softmax(dim=1), m.exp().sum(0)]
            return [repr(t) for t in seen] + [repr(fw.unpack_dual(t).tangent) for t in seen]
    torch_result, ours = record(program)
    assert ours == torch_result


def test_a_tangent_computed_from_the_backward_leaves_the_inputs_as_they_were():
    import autograd_lab as lab
    import autograd_lab.autograd.forward_ad as fw
    with fw.dual_level():
        d = fw.make_dual(lab.tensor([1., 2.]), lab.tensor([1., 0.]))
        plain = lab.tensor([3., 4.], requires_grad=True)
        out = plain * d
        assert fw.unpack_dual(out).tangent.tolist() == [3., 0.]
        assert (plain._version, d._version, plain.tolist(), d.tolist()) == (0, 0, [3., 4.], [1., 2.])
        out.sum().backward()
        assert plain.grad.tolist() == [1., 2.]
