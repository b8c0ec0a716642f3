"""torch.autograd.functional: jacobian, hessian, vjp, jvp, vhp and hvp give torch's values, shapes and nesting."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import autograd_lab

MODULES = (torch, autograd_lab)


def _same(ours, theirs, path="result"):
    """Same nesting (tuple vs list vs tensor), then per tensor the same printout, shape, dtype and requires_grad."""
    assert type(ours).__name__ == type(theirs).__name__, f"{path}: {type(ours).__name__} vs {type(theirs).__name__}"
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs), f"{path}: {len(ours)} items vs {len(theirs)}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _same(a, b, f"{path}[{i}]")
        return
    assert tuple(ours.shape) == tuple(theirs.shape), path
    assert str(ours.dtype) == str(theirs.dtype), path
    assert ours.requires_grad == theirs.requires_grad, path
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-7, err_msg=path)
    assert repr(ours) == repr(theirs), path


def _both(scenario):
    """scenario(module, module.autograd.functional) under autograd_lab and torch, each after manual_seed(0)."""
    results = []
    for m in (autograd_lab, torch):
        m.manual_seed(0)
        results.append(scenario(m, m.autograd.functional))
    return results


def exp_reducer(x):
    return x.exp().sum(dim=1)


def exp_adder(x, y):
    return 2 * x.exp() + 3 * y


def adder(x, y):
    return 2 * x + 3 * y


def pow_reducer(x):
    return x.pow(3).sum()


def pow_adder_reducer(x, y):
    return (2 * x.pow(2) + 3 * y.pow(2)).sum()


def two_outputs(x, y):
    return x * y, (x.sin() * y).sum()


@pytest.mark.parametrize("create_graph", [False, True])
def test_jacobian_of_one_input_and_output_is_a_tensor(create_graph):
    _same(*_both(lambda m, af: af.jacobian(exp_reducer, m.rand(2, 2), create_graph=create_graph)))


def test_jacobian_with_tuple_inputs_is_a_tuple_per_input():
    _same(*_both(lambda m, af: af.jacobian(exp_adder, (m.rand(2), m.rand(2)))))


def test_jacobian_with_tuple_outputs_is_a_tuple_per_output():
    _same(*_both(lambda m, af: af.jacobian(lambda x: (x * 2, x.exp().sum()), m.rand(3))))


@pytest.mark.parametrize("create_graph", [False, True])
def test_jacobian_of_several_outputs_and_inputs_is_a_tuple_of_tuples(create_graph):
    _same(*_both(lambda m, af: af.jacobian(two_outputs, (m.rand(3), m.rand(3, dtype=m.float64).float()),
                                         create_graph=create_graph)))


def test_jacobian_of_a_linear_model_has_output_shape_then_input_shape():
    def scenario(m, af):
        weight, bias = m.tensor([[2.0, -1.0], [0.0, 1.0]]), m.tensor([1.0, 0.5])
        return af.jacobian(lambda x: x @ weight.T + bias, m.randn(4, 2, requires_grad=True), vectorize=True)
    ours, theirs = _both(scenario)
    _same(ours, theirs)
    assert ours.shape == (4, 2, 4, 2)


def test_jacobian_of_an_unused_input_is_zeros():
    _same(*_both(lambda m, af: af.jacobian(lambda x, y: x * 2, (m.rand(2), m.rand(3)))))


def test_jacobian_in_forward_mode_gives_the_same_numbers():
    _same(*_both(lambda m, af: af.jacobian(exp_reducer, m.rand(2, 2), vectorize=True, strategy="forward-mode")))


@pytest.mark.parametrize("create_graph", [False, True])
def test_hessian_of_one_input(create_graph):
    _same(*_both(lambda m, af: af.hessian(pow_reducer, m.rand(2, 2), create_graph=create_graph)))


def test_hessian_of_tuple_inputs_is_a_tuple_of_tuples():
    _same(*_both(lambda m, af: af.hessian(pow_adder_reducer, (m.rand(2), m.rand(2)))))


def test_hessian_with_mixed_terms():
    _same(*_both(lambda m, af: af.hessian(lambda x, y: (x * y.exp()).sum() + (x ** 3).sum(),
                                        (m.rand(3), m.rand(3)))))


@pytest.mark.parametrize("fn", ["vjp", "vhp", "hvp"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_products_with_one_input(fn, create_graph):
    func = exp_reducer if fn == "vjp" else pow_reducer
    v_shape = (4,) if fn == "vjp" else (4, 4)
    _same(*_both(lambda m, af: getattr(af, fn)(func, m.rand(4, 4), m.ones(*v_shape), create_graph=create_graph)))


@pytest.mark.parametrize("create_graph", [False, True])
def test_jvp_uses_the_double_backward_trick(create_graph):
    _same(*_both(lambda m, af: af.jvp(lambda x: x.exp() * x.sin(), m.rand(4, 4), m.rand(4, 4),
                                    create_graph=create_graph)))


def test_jvp_of_a_reduction():
    _same(*_both(lambda m, af: af.jvp(exp_reducer, m.rand(4, 4), m.ones(4, 4))))


def test_jvp_of_a_reduction_with_create_graph_displays_torchs_node():
    """SumBackward1 unsqueezes its gradient back, so the double backward ends in torch's SqueezeBackward1."""
    _same(*_both(lambda m, af: af.jvp(exp_reducer, m.rand(4, 4), m.ones(4, 4), create_graph=True)))


def test_vjp_and_jvp_with_tuple_inputs():
    _same(*_both(lambda m, af: af.vjp(adder, (m.rand(2), m.rand(2)), m.ones(2))))
    _same(*_both(lambda m, af: af.jvp(adder, (m.rand(2), m.rand(2)), (m.ones(2), m.ones(2)))))


def test_vjp_and_jvp_with_tuple_outputs():
    _same(*_both(lambda m, af: af.vjp(two_outputs, (m.rand(3), m.rand(3)), (m.ones(3), m.tensor(2.0)))))
    _same(*_both(lambda m, af: af.jvp(two_outputs, (m.rand(3), m.rand(3)), (m.ones(3), m.rand(3)))))


@pytest.mark.parametrize("fn", ["vhp", "hvp"])
def test_hessian_products_with_tuple_inputs(fn):
    _same(*_both(lambda m, af: getattr(af, fn)(pow_adder_reducer, (m.rand(2), m.rand(2)), (m.zeros(2), m.ones(2)))))


@pytest.mark.parametrize("fn", ["vjp", "jvp", "vhp", "hvp"])
def test_v_may_be_left_out_for_a_single_number(fn):
    func = (lambda x: (x * x).sum()) if fn in ("vjp", "vhp", "hvp") else (lambda x: x.exp() * 3)
    _same(*_both(lambda m, af: getattr(af, fn)(func, m.tensor([0.5]))))


def test_products_where_an_input_is_unused_are_zeros():
    _same(*_both(lambda m, af: af.vjp(lambda x, y: x * 2, (m.rand(2), m.rand(3)), m.ones(2))))
    _same(*_both(lambda m, af: af.vhp(lambda x, y: (x ** 3).sum() + y.sum(), (m.rand(2), m.rand(3)),
                                    (m.ones(2), m.ones(3)))))


def test_results_do_not_track_the_callers_tensor_unless_create_graph():
    def scenario(m, af):
        x = m.rand(3, requires_grad=True)
        out, product = af.vjp(lambda t: (t * t).sum(), x)
        out_g, product_g = af.vjp(lambda t: (t * t).sum(), x, create_graph=True)
        (dx,) = m.autograd.grad(product_g.sum(), x)
        return out, product, out_g, product_g, dx
    _same(*_both(scenario))


def test_a_function_that_captures_the_input_is_not_differentiated_through_the_capture():
    """The inputs are copied, so a tensor the function closes over is a constant."""
    def scenario(m, af):
        x = m.rand(3)
        return af.jacobian(lambda t: t * x, x)
    _same(*_both(scenario))


def _errors(scenario):
    messages = []
    for m in (autograd_lab, torch):
        with pytest.raises(Exception) as info:
            scenario(m, m.autograd.functional)
        messages.append((type(info.value).__name__, str(info.value)))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("scenario", [
    lambda m, af: af.vjp(exp_reducer, m.rand(2, 2)),  # v needed: more than one output number
    lambda m, af: af.jvp(exp_reducer, m.rand(2, 2)),
    lambda m, af: af.vjp(exp_reducer, m.rand(2, 2), m.ones(3)),  # v of the wrong size
    lambda m, af: af.jvp(adder, (m.rand(2), m.rand(2)), (m.ones(2),)),  # a tuple too short
    lambda m, af: af.jvp(adder, (m.rand(2), m.rand(2)), (m.ones(2), m.ones(3))),
    lambda m, af: af.jacobian(exp_reducer, [m.rand(2)]),  # a list is not a tuple
    lambda m, af: af.jacobian(adder, (m.rand(2), 3.0)),
    lambda m, af: af.hessian(exp_reducer, m.rand(2, 2)),  # not a scalar function
    lambda m, af: af.hessian(lambda x: (x, x), m.rand(2)),
    lambda m, af: af.vhp(exp_reducer, m.rand(2, 2), m.ones(2, 2)),
    lambda m, af: af.jacobian(exp_reducer, m.rand(2, 2), strategy="sideways"),
    lambda m, af: af.jacobian(exp_reducer, m.rand(2, 2), strategy="forward-mode"),
    lambda m, af: af.jacobian(exp_reducer, m.rand(2, 2), create_graph=True, strategy="forward-mode"),
    lambda m, af: af.jacobian(exp_reducer, m.rand(2, 2), strict=True, vectorize=True),
], ids=["vjp-no-v", "jvp-no-v", "v-size", "v-length", "v-entry-size", "list", "not-a-tensor", "hessian-vector",
        "hessian-tuple", "vhp-vector", "strategy", "forward-needs-vectorize", "forward-create-graph",
        "strict-vectorize"])
def test_errors_match_torch(scenario):
    _errors(scenario)


@pytest.mark.parametrize("scenario", [
    lambda m, af: af.jacobian(lambda x, y: x * 2, (m.rand(2), m.rand(2)), strict=True),
    lambda m, af: af.jacobian(lambda x: m.ones(2), m.rand(2), strict=True),
    lambda m, af: af.vjp(lambda x, y: x * 2, (m.rand(2), m.rand(2)), m.ones(2), strict=True),
    lambda m, af: af.jvp(lambda x, y: x * 2, (m.rand(2), m.rand(2)), (m.ones(2), m.ones(2)), strict=True),
    lambda m, af: af.hessian(lambda x: (x * 2).sum(), m.rand(2), strict=True),
    lambda m, af: af.vhp(lambda x: (x * 2).sum(), m.rand(2), m.ones(2), strict=True),
    lambda m, af: af.hvp(lambda x, y: (x ** 3).sum() + y.sum(), (m.rand(2), m.rand(2)), (m.ones(2), m.ones(2)),
                       strict=True),
], ids=["jacobian-unused", "jacobian-constant", "vjp-unused", "jvp-unused", "hessian-linear", "vhp-linear",
        "hvp-unused"])
def test_strict_mode_errors_match_torch(scenario):
    _errors(scenario)
