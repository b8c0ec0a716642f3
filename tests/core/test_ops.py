"""Built-in ops: values, dtypes, broadcasting, and gradcheck (float64) on every differentiable op."""

from __future__ import annotations

import importlib
import math

import pytest

# (name, function of (t, x, y), smooth): x and y are float64 inputs of shape (2, 3), y positive
OPS = [
    ("add", lambda t, x, y: x + y, True),
    ("add_alpha", lambda t, x, y: t.add(x, y, alpha=2.5), True),
    ("sub", lambda t, x, y: x - y, True),
    ("rsub", lambda t, x, y: 2 - x, True),
    ("mul", lambda t, x, y: x * y, True),
    ("div", lambda t, x, y: x / y, True),
    ("rdiv", lambda t, x, y: 2 / y, True),
    ("neg", lambda t, x, y: -x, True),
    ("pow_scalar", lambda t, x, y: x ** 3, True),
    ("pow_fraction", lambda t, x, y: y ** 0.5, True),
    ("pow_tensor", lambda t, x, y: y ** x, True),
    ("rpow", lambda t, x, y: 2 ** x, True),
    ("exp", lambda t, x, y: t.exp(x), True),
    ("log", lambda t, x, y: t.log(y), True),
    ("sin", lambda t, x, y: t.sin(x), True),
    ("cos", lambda t, x, y: t.cos(x), True),
    ("tanh", lambda t, x, y: t.tanh(x), True),
    ("sigmoid", lambda t, x, y: t.sigmoid(x), True),
    ("relu", lambda t, x, y: t.relu(x), False),
    ("abs", lambda t, x, y: t.abs(x), False),
    ("sqrt", lambda t, x, y: t.sqrt(y), True),
    ("clamp", lambda t, x, y: t.clamp(x, -0.5, 0.5), False),
    ("maximum", lambda t, x, y: t.maximum(x, y), False),
    ("where", lambda t, x, y: t.where(x > 0, x, y), True),
    ("sum", lambda t, x, y: t.sum(x), True),
    ("sum_dim", lambda t, x, y: x.sum(1), True),
    ("sum_keepdim", lambda t, x, y: x.sum(0, keepdim=True), True),
    ("mean", lambda t, x, y: t.mean(x), True),
    ("mean_dim", lambda t, x, y: x.mean((0, 1)), True),
    ("max", lambda t, x, y: t.max(x), False),
    ("max_dim", lambda t, x, y: x.max(1).values, False),
    ("min_dim", lambda t, x, y: x.min(0, keepdim=True).values, False),
    ("matmul_mm", lambda t, x, y: x @ y.t(), True),
    ("matmul_mv", lambda t, x, y: x @ y[0], True),
    ("matmul_vm", lambda t, x, y: x[0] @ y.t(), True),
    ("matmul_dot", lambda t, x, y: x[0] @ y[1], True),
    ("matmul_batched", lambda t, x, y: x.reshape(2, 1, 3) @ y.t(), True),
    ("matmul_bmm", lambda t, x, y: t.bmm(x.reshape(2, 1, 3), y.reshape(2, 3, 1)), True),
    ("matmul_broadcast", lambda t, x, y: x.reshape(2, 1, 1, 3) @ y.reshape(1, 2, 3, 1), True),
    ("addmm", lambda t, x, y: t.addmm(y[0, :2], x, y.t()), True),
    ("reshape", lambda t, x, y: x.reshape(3, 2), True),
    ("view", lambda t, x, y: x.view(-1), True),
    ("flatten", lambda t, x, y: x.flatten(), True),
    ("t", lambda t, x, y: x.t(), True),
    ("T", lambda t, x, y: x.T, True),
    ("permute", lambda t, x, y: x.reshape(1, 2, 3).permute(2, 0, 1), True),
    ("transpose", lambda t, x, y: x.transpose(0, 1), True),
    ("unsqueeze", lambda t, x, y: x.unsqueeze(1), True),
    ("squeeze", lambda t, x, y: x.reshape(2, 1, 3).squeeze(), True),
    ("expand", lambda t, x, y: x[:1].expand(4, 3), True),
    ("clone", lambda t, x, y: x.clone(), True),
    ("select", lambda t, x, y: x[1], True),
    ("slice", lambda t, x, y: x[:, ::2], True),
    ("negative_index", lambda t, x, y: x[-1, -2:], True),
    ("none_and_ellipsis", lambda t, x, y: x[None, ..., 1], True),
    ("index_tensor", lambda t, x, y: x[t.tensor([1, 0, 1])], True),
    ("index_list", lambda t, x, y: x[:, [2, 2, 0]], True),
    ("index_mask", lambda t, x, y: x[x > 0], True),
    ("cat", lambda t, x, y: t.cat([x, y, x], dim=1), True),
    ("stack", lambda t, x, y: t.stack([x, y], dim=1), True),
    ("broadcast_add", lambda t, x, y: x + y[0], True),
    ("broadcast_mul", lambda t, x, y: x.unsqueeze(2) * y.unsqueeze(1), True),
    ("log_softmax", lambda t, x, y: t.nn.functional.log_softmax(x, 1), True),
    ("softmax", lambda t, x, y: t.nn.functional.softmax(x, 0), True),
    ("mse_loss", lambda t, x, y: t.nn.functional.mse_loss(x, y), True),
    ("cross_entropy", lambda t, x, y: t.nn.functional.cross_entropy(x, t.tensor([2, 0])), True),
    ("linear", lambda t, x, y: t.nn.functional.linear(x, y, y[:, 0]), True),
    ("setitem", lambda t, x, y: _setitem(x, y), True),
    ("min", lambda t, x, y: t.min(x), False),
    ("squeeze_dim", lambda t, x, y: x.reshape(2, 1, 3).squeeze(1), True),
    ("expand_as", lambda t, x, y: x[:1].expand_as(y), True),
    ("view_as", lambda t, x, y: x.t().reshape(6).view_as(y), True),
    ("sum_to_size", lambda t, x, y: x.sum_to_size(1, 3), True),
    ("add_inplace", lambda t, x, y: (x * 1).add_(y, alpha=0.5), True),
    ("sub_inplace", lambda t, x, y: (x * 1).sub_(y), True),
    ("mul_inplace", lambda t, x, y: (x * 1).mul_(y), True),
    ("div_inplace", lambda t, x, y: (x * 1).div_(y), True),
    ("copy_inplace", lambda t, x, y: (x * 1).copy_(y[0]), True),
    ("fill_inplace", lambda t, x, y: (x * 1).fill_(2.0) * y, True),
    ("zero_inplace", lambda t, x, y: (x * 1).zero_() + y, True),
    ("mse_sum", lambda t, x, y: t.nn.functional.mse_loss(x, y, reduction="sum"), True),
    ("mse_none", lambda t, x, y: t.nn.functional.mse_loss(x, y, reduction="none"), True),
    ("nll_sum", lambda t, x, y: t.nn.functional.cross_entropy(x, t.tensor([1, 1]), reduction="sum"), True),
    ("nll_none", lambda t, x, y: t.nn.functional.cross_entropy(x, t.tensor([0, 2]), reduction="none"), True),
    ("cross_entropy_1d", lambda t, x, y: t.nn.functional.cross_entropy(x[0], t.tensor(1)), True),
]


def _setitem(x, y):
    z = x * 1
    z[0, 1:] = y[1, :2]
    return z


def _inputs(t):
    x = t.tensor([[0.3, -1.2, 0.8], [1.5, -0.4, 0.25]], dtype=t.float64, requires_grad=True)
    y = t.tensor([[1.1, 0.6, 2.0], [0.7, 1.3, 0.9]], dtype=t.float64, requires_grad=True)
    return x, y


@pytest.mark.parametrize("name, op, smooth", OPS, ids=[o[0] for o in OPS])
def test_gradcheck(backend, name, op, smooth):
    assert backend.autograd.gradcheck(lambda x, y: op(backend, x, y), _inputs(backend))


@pytest.mark.parametrize("name, op, smooth", [o for o in OPS if o[2]], ids=[o[0] for o in OPS if o[2]])
def test_gradgradcheck(backend, name, op, smooth):
    assert backend.autograd.gradgradcheck(lambda x, y: op(backend, x, y), _inputs(backend))


def test_gradcheck_reports_a_wrong_backward(backend):
    class WrongSquare(backend.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x  # forgot the factor 2

    x = backend.tensor([1.0, 2.0], dtype=backend.float64, requires_grad=True)
    assert not backend.autograd.gradcheck(WrongSquare.apply, (x,), raise_exception=False)
    error = importlib.import_module(backend.__name__ + ".autograd.gradcheck").GradcheckError
    with pytest.raises(error, match="Jacobian mismatch for output 0 with respect to input 0"):
        backend.autograd.gradcheck(WrongSquare.apply, (x,))


def test_gradcheck_warns_about_float32(backend):
    x = backend.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double precision"):
        backend.autograd.gradcheck(lambda v: v * 2, (x,), atol=1e-2, rtol=1e-2, eps=1e-3)


@pytest.mark.parametrize("expr, values, dtype", [
    ("t.tensor([1, 2]) * 2.5", [2.5, 5.0], "float32"),
    ("t.tensor([1, 2]) / 2", [0.5, 1.0], "float32"),
    ("t.tensor([1, 2]) + t.tensor(2.5, dtype=t.float64)", [3.5, 4.5], "float64"),
    ("t.tensor([1., 2.]) * t.tensor(2., dtype=t.float64)", [2.0, 4.0], "float32"),
    ("t.tensor([1., 2.]) * t.tensor([2.], dtype=t.float64)", [2.0, 4.0], "float64"),
    ("t.tensor([True]) + 1", [2], "int64"),
    ("t.tensor([1, 2]) ** 2", [1, 4], "int64"),
    ("t.tensor([1, 2]).sum()", 3, "int64"),
    ("t.tensor([True, True]).sum()", 2, "int64"),
    ("t.exp(t.tensor([0, 1])).round_values()", None, "float32"),
    ("t.sqrt(t.tensor([4]))", [2.0], "float32"),
    ("t.tensor([3., -1.]).clamp(min=0)", [3.0, 0.0], "float32"),
    ("t.tensor([[1., 2.], [3., 4.]]).max(1).indices", [1, 1], "int64"),
    ("t.tensor([1., 5., 3.]).max()", 5.0, "float32"),
    ("t.where(t.tensor([True, False]), 1.0, 0.0)", [1.0, 0.0], "float32"),
])
def test_values_and_dtype_promotion(backend, expr, values, dtype):
    t = backend
    if expr.endswith(".round_values()"):
        out = eval(expr.removesuffix(".round_values()"), {"t": t})
    else:
        out = eval(expr, {"t": t})
        assert out.tolist() == values
    assert out.dtype is getattr(t, dtype)


def test_grad_dtype_follows_the_input(backend):
    x = backend.tensor([1.0, 2.0], requires_grad=True)
    y = backend.tensor([1.0, 2.0], dtype=backend.float64, requires_grad=True)
    z = x * y
    assert z.dtype is backend.float64
    z.sum().backward()
    assert x.grad.dtype is backend.float32 and y.grad.dtype is backend.float64


def test_max_gradient_is_shared_between_ties(backend):
    x = backend.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5]


def test_maximum_gradient_splits_ties(backend):
    a = backend.tensor([1.0, 2.0], requires_grad=True)
    b = backend.tensor([1.0, 3.0], requires_grad=True)
    backend.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 0.0] and b.grad.tolist() == [0.5, 1.0]


def test_edge_gradients_relu_abs_sqrt(backend):
    x = backend.tensor([0.0, 2.0], requires_grad=True)
    (x.relu() + x.abs()).sum().backward()
    assert x.grad.tolist() == [0.0, 2.0]
    y = backend.tensor([0.0], requires_grad=True)
    y.sqrt().backward()
    assert y.grad.tolist() == [math.inf]


def test_index_with_repeated_positions_accumulates(backend):
    x = backend.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[backend.tensor([0, 0, 2])].sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 1.0]


def test_views_share_memory(backend):
    x = backend.zeros(2, 3)
    v = x.view(6)
    v[0] = 1.0
    row = x[1]
    row.fill_(2.0)
    assert x.tolist() == [[1.0, 0.0, 0.0], [2.0, 2.0, 2.0]]
    assert x._version == v._version == 2


def test_inplace_on_view_of_a_leaf_that_requires_grad(backend):
    x = backend.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"a view of a leaf Variable that requires grad is being used in an in-place "
                                           r"operation\."):
        x[0].add_(1)


def test_inplace_operators(backend):
    x = backend.ones(2)
    x += 1
    x *= 3
    x -= backend.tensor([1.0, 2.0])
    x /= 2
    assert x.tolist() == [2.5, 2.0]
    x.copy_(backend.tensor([7.0]))
    assert x.tolist() == [7.0, 7.0]
    x.fill_(1.5)
    assert x.tolist() == [1.5, 1.5]
    x.zero_()
    assert x.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        backend.tensor([1, 2]).add_(0.5)


def test_power_gradients_at_zero(backend):
    a = backend.tensor([0.0], requires_grad=True)
    b = backend.tensor([0.0], requires_grad=True)
    (a ** b).backward()
    assert (a.grad.item(), b.grad.item()) == (0.0, 0.0)
    x = backend.tensor([0.0, 1.0, -1.0], requires_grad=True)
    (0 ** x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, -math.inf]
