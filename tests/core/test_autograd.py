"""Engine behaviour: accumulation, hooks, retain_grad, grad modes, autograd.grad, graph introspection."""

from __future__ import annotations

import pytest


def test_gradients_accumulate_until_zeroed(backend):
    x = backend.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]
    x.grad.zero_()
    assert x.grad.tolist() == [0.0, 0.0]
    x.grad = None
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_gradients_meeting_at_a_node_are_summed(backend):
    x = backend.tensor(2.0, requires_grad=True)
    y = x * x + x.exp() * 0 + x
    y.backward()
    assert x.grad.item() == 5.0


def test_backward_with_explicit_gradient(backend):
    x = backend.tensor([1.0, 2.0], requires_grad=True)
    (x * x).backward(backend.tensor([1.0, 10.0]))
    assert x.grad.tolist() == [2.0, 40.0]


def test_autograd_backward_with_several_roots(backend):
    x = backend.tensor(1.0, requires_grad=True)
    backend.autograd.backward([x * 2, x * 3], [backend.tensor(1.0), backend.tensor(2.0)])
    assert x.grad.item() == 8.0


def test_grad_does_not_touch_dot_grad(backend):
    x = backend.tensor([1.0, 2.0], requires_grad=True)
    (g,) = backend.autograd.grad((x * x).sum(), x)
    assert g.tolist() == [2.0, 4.0]
    assert x.grad is None


def test_grad_of_a_non_leaf(backend):
    x = backend.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    (g,) = backend.autograd.grad((h * h).sum(), h)
    assert g.tolist() == [4.0, 8.0]


def test_second_and_third_derivatives(backend):
    x = backend.tensor(2.0, requires_grad=True)
    y = x ** 4
    (d1,) = backend.autograd.grad(y, x, create_graph=True)
    (d2,) = backend.autograd.grad(d1, x, create_graph=True)
    (d3,) = backend.autograd.grad(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == (32.0, 48.0, 48.0)


def test_hessian_vector_product(backend):
    x = backend.tensor([1.0, 2.0], requires_grad=True)
    v = backend.tensor([1.0, 0.5])
    f = (x ** 3).sum() + (x[0] * x[1])
    (g,) = backend.autograd.grad(f, x, create_graph=True)
    (hv,) = backend.autograd.grad((g * v).sum(), x)
    # H = [[6x0, 1], [1, 6x1]] = [[6, 1], [1, 12]]
    assert hv.tolist() == [6.5, 7.0]


def test_tensor_hook_can_replace_the_gradient(backend):
    x = backend.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    seen = []
    handle = y.register_hook(lambda g: seen.append(g.tolist()) or g * 10)
    y.sum().backward()
    assert seen == [[1.0, 1.0]] and x.grad.tolist() == [20.0, 20.0]
    handle.remove()
    x.grad = None
    y = x * 2
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_leaf_hook(backend):
    x = backend.tensor([1.0], requires_grad=True)
    x.register_hook(lambda g: g * 0.5)
    (x * 4).sum().backward()
    assert x.grad.tolist() == [2.0]


def test_retain_grad(backend):
    x = backend.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    assert h.retains_grad
    assert h.grad.tolist() == [6.0, 12.0]


def test_non_leaf_grad_warns(backend):
    x = backend.tensor([1.0], requires_grad=True)
    y = x * 2
    y.backward()
    with pytest.warns(UserWarning, match="The .grad attribute of a Tensor that is not a leaf Tensor is being accessed"):
        assert y.grad is None


def test_no_grad_context_and_decorator(backend):
    x = backend.ones(2, requires_grad=True)
    with backend.no_grad():
        assert not backend.is_grad_enabled()
        y = x * 2
        with backend.enable_grad():
            z = x * 2
    assert not y.requires_grad and z.requires_grad and backend.is_grad_enabled()

    @backend.no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad


def test_set_grad_enabled(backend):
    x = backend.ones(1, requires_grad=True)
    with backend.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert backend.is_grad_enabled()
    backend.set_grad_enabled(False)
    try:
        assert not backend.is_grad_enabled()
    finally:
        backend.set_grad_enabled(True)


def test_detach_stops_the_gradient(backend):
    x = backend.tensor([3.0], requires_grad=True)
    y = x * x.detach()
    y.backward()
    assert x.grad.tolist() == [3.0]


def test_node_names_and_next_functions(backend):
    x = backend.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    assert y.grad_fn.name() == "SumBackward0"
    (mul, index), = y.grad_fn.next_functions
    assert (mul.name(), index) == ("MulBackward0", 0)
    (acc, _), (none, _) = mul.next_functions
    assert acc.name() == "torch::autograd::AccumulateGrad" and acc.variable is x
    assert none is None


@pytest.mark.parametrize("expr, name", [
    ("x * 2", "MulBackward0"), ("2 * x", "MulBackward0"), ("x + 2", "AddBackward0"), ("x - 2", "SubBackward0"),
    ("2 - x", "RsubBackward1"), ("x / 2", "DivBackward0"), ("2 / x", "MulBackward0"), ("x ** 2", "PowBackward0"),
    ("2 ** x", "PowBackward2"), ("x ** x", "PowBackward1"), ("-x", "NegBackward0"), ("x.sum()", "SumBackward0"),
    ("x.sum(0)", "SumBackward1"), ("x.mean()", "MeanBackward0"), ("x.mean(0)", "MeanBackward1"),
    ("x.max()", "MaxBackward1"), ("t.maximum(x, x)", "MaximumBackward0"), ("x.exp()", "ExpBackward0"),
    ("x.log()", "LogBackward0"), ("x.sin()", "SinBackward0"), ("x.cos()", "CosBackward0"),
    ("x.tanh()", "TanhBackward0"), ("x.sigmoid()", "SigmoidBackward0"), ("x.relu()", "ReluBackward0"),
    ("x.abs()", "AbsBackward0"), ("x.sqrt()", "SqrtBackward0"), ("x.clamp(0, 1)", "ClampBackward1"),
    ("x.reshape(3, 1)", "ViewBackward0"), ("x.view(3, 1)", "ViewBackward0"), ("x.unsqueeze(0)", "UnsqueezeBackward0"),
    ("x[0]", "SelectBackward0"), ("x[1:]", "SliceBackward0"), ("x[None]", "UnsqueezeBackward0"),
    ("x[t.tensor([0, 1])]", "IndexBackward0"), ("x[x > 1]", "IndexBackward0"), ("x.expand(2, 3)", "ExpandBackward0"),
    ("x.clone()", "CloneBackward0"), ("x.double()", "ToCopyBackward0"), ("t.cat([x, x])", "CatBackward0"),
    ("t.stack([x, x])", "StackBackward0"), ("t.where(x > 1, x, x)", "WhereBackward0"), ("x @ x", "DotBackward0"),
    ("x.reshape(3, 1) @ x.reshape(1, 3)", "MmBackward0"), ("x.reshape(1, 3) @ x", "MvBackward0"),
    ("x @ x.reshape(3, 1).expand(3, 2)", "SqueezeBackward4"), ("x.reshape(3, 1).t()", "TBackward0"),
    ("x.reshape(3, 1).T", "PermuteBackward0"), ("x.reshape(3, 1).transpose(0, 1)", "TransposeBackward0"),
    ("x.reshape(3, 1).squeeze()", "SqueezeBackward0"), ("x.reshape(3, 1).squeeze(1)", "SqueezeBackward1"),
    ("x.reshape(1, 1, 3) @ x.reshape(3, 1)", "UnsafeViewBackward0"), ("x.pow(2)", "PowBackward0"),
    ("abs(x)", "AbsBackward0"),
])
def test_node_names_match_pytorch(backend, expr, name):
    t = backend
    x = t.tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert eval(expr, {"t": t, "x": x}).grad_fn.name() == name


def test_inplace_ops_rebase_history(backend):
    x = backend.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    y.add_(1)
    assert y.grad_fn.name() == "AddBackward0" and y._version == 1
    y.mul_(2)
    assert y.grad_fn.name() == "MulBackward0"
    y[0] = 5.0
    assert repr(y) == "tensor([5., 6.], grad_fn=<CopySlices>)"
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 2.0]


def test_setitem_with_a_value_that_requires_grad(backend):
    v = backend.tensor(3.0, requires_grad=True)
    z = backend.zeros(3)
    z[1] = v
    assert z.grad_fn.name() == "torch::autograd::CopySlices"
    (z * backend.tensor([1.0, 2.0, 4.0])).sum().backward()
    assert v.grad.item() == 2.0


def test_version_counter(backend):
    x = backend.ones(2)
    assert x._version == 0
    x.add_(1)
    x.mul_(2)
    x[0] = 3
    assert x._version == 3


def test_anomaly_mode_names_the_failing_forward(backend):
    class Bad(backend.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            raise ValueError("broken backward")

    x = backend.ones(1, requires_grad=True)
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        mode = backend.autograd.detect_anomaly()
    with mode:
        y = Bad.apply(x)
        with pytest.warns(UserWarning, match="Error detected in BadBackward"), pytest.raises(ValueError):
            y.backward()


def test_anomaly_mode_finds_nan(backend):
    x = backend.tensor([0.0], requires_grad=True)
    with pytest.warns(UserWarning), backend.autograd.detect_anomaly():
        y = (x.sqrt() * 0).sum()
        with pytest.raises(RuntimeError, match="returned nan values in its 0th output"), pytest.warns(UserWarning):
            y.backward()


def test_deep_chain_has_no_recursion_limit(backend):
    x = backend.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]


def test_grad_mode_decorators(backend):
    x = backend.ones(1, requires_grad=True)

    @backend.enable_grad()
    def tracked(t):
        return t * 2

    @backend.set_grad_enabled(False)
    def untracked(t):
        return t * 2

    with backend.no_grad():
        assert tracked(x).requires_grad
    assert not untracked(x).requires_grad
    assert backend.is_grad_enabled()


def test_set_detect_anomaly(backend):
    backend.autograd.set_detect_anomaly(True)
    try:
        assert backend.is_anomaly_enabled()
    finally:
        backend.autograd.set_detect_anomaly(False)
    assert not backend.is_anomaly_enabled()


def test_double_backward_graph_of_a_power_matches(backend):
    x = backend.tensor([2.0], requires_grad=True)
    (dy,) = backend.autograd.grad(x ** 3, x, create_graph=True)
    names, node = [], dy.grad_fn
    while node is not None:
        names.append(node.name())
        node = next((n for n, _ in node.next_functions if n is not None), None)
    assert names == ["MulBackward0", "MulBackward1", "PowBackward0", "torch::autograd::AccumulateGrad"]
    assert dy.tolist() == [12.0]


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")  # PyTorch warns once a process
def test_backward_with_create_graph_keeps_the_gradients_graph(backend):
    w = backend.tensor([2.0], requires_grad=True)
    (w * w).backward(create_graph=True)
    assert repr(w.grad) == "tensor([4.], grad_fn=<CopyBackwards>)"
    (w * w).backward(create_graph=True)
    assert repr(w.grad) == "tensor([8.], grad_fn=<AddBackward0>)"


def test_integer_outputs_of_a_function_do_not_require_grad(backend):
    class WithIndex(backend.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, backend.tensor([0, 1])

        @staticmethod
        def backward(ctx, grad, _):
            return grad * 2

    values, index = WithIndex.apply(backend.ones(2, requires_grad=True))
    assert values.requires_grad and not index.requires_grad and index.grad_fn is None


def test_numpy_is_allowed_when_grad_mode_is_off(backend):
    x = backend.tensor([3.0], requires_grad=True)
    with backend.no_grad():
        assert x.numpy().tolist() == [3.0]
