"""Issue 10 leftovers: silent inf/nan (no NumPy RuntimeWarning), ``Tensor.type()``, ``save`` / ``load``.

One body, run under torch and autograd_lab (the ``backend`` fixture): the literals below are what
torch 2.13 (CPU build) gives, so the torch run checks them and the autograd_lab run must match.
"""

from __future__ import annotations

import io
import math
import pickle
import warnings

import numpy as np
import pytest

INF, NAN = math.inf, math.nan


def _same(got: list | float, expected: list | float) -> bool:
    """Equal, with nan equal to nan."""
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    return got.shape == expected.shape and bool(np.all((got == expected) | (np.isnan(got) & np.isnan(expected))))


# ----- inf and nan come silently, as IEEE arithmetic gives them ---------------------------------------------------
@pytest.mark.parametrize("expression, expected", [
    ("torch.log(torch.tensor(0.))", -INF),
    ("torch.log(torch.tensor([-1., 1.]))", [NAN, 0.0]),
    ("torch.tensor(1.) / 0", INF),
    ("torch.tensor(0.) / 0", NAN),
    ("1 / torch.tensor(0.)", INF),
    ("torch.tensor([1., 0., -1.]) / torch.tensor([0., 0., 0.])", [INF, NAN, -INF]),
    ("torch.tensor(1) / 0", INF),
    ("torch.sqrt(torch.tensor(-1.))", NAN),
    ("torch.exp(torch.tensor(1000.))", INF),
    ("torch.exp(torch.tensor(100., dtype=torch.float64))", math.exp(100)),
    ("torch.tensor(0.) ** -1", INF),
    ("torch.tensor(-1.) ** 0.5", NAN),
    ("torch.tensor(10.) ** torch.tensor(100.)", INF),
    ("0 ** torch.tensor(-1.)", INF),
    ("torch.tensor(0.).reciprocal()", INF),
    ("torch.sigmoid(torch.tensor(-1000.))", 0.0),
    ("torch.tensor(0.).log_()", -INF),
    ("torch.tensor(-4.).sqrt_()", NAN),
    ("torch.tensor(1.).div_(0)", INF),
    ("torch.tensor(1000.).exp_()", INF),
    ("torch.softmax(torch.tensor([INF, 1.]), 0)", [NAN, NAN]),
    ("torch.log_softmax(torch.tensor([INF, 1.]), 0)", [NAN, NAN]),
    ("torch.nn.functional.mse_loss(torch.tensor([3e38]), torch.tensor([-3e38]))", INF),
])
def test_inf_and_nan_without_warnings(backend, expression, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        result = eval(expression, {"torch": backend, "INF": INF})
    assert _same(result.tolist(), expected), result


@pytest.mark.parametrize("function, at, expected", [
    ("torch.log(x)", 0.0, INF),
    ("torch.sqrt(x)", 0.0, INF),
    ("x ** 0.5", 0.0, INF),
    ("1 / x", 0.0, -INF),
    ("torch.tensor(1.) / x", 0.0, -INF),
    ("x / torch.tensor(0.)", 1.0, INF),
    ("torch.exp(x)", 100.0, INF),
    ("torch.sqrt(x) * 0", 0.0, NAN),  # 0 / (2 * 0) in backward
])
def test_inf_and_nan_gradients_without_warnings(backend, function, at, expected):
    torch = backend
    x = torch.tensor(at, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eval(function, {"torch": torch, "x": x}).backward()
        (grad,) = torch.autograd.grad(eval(function, {"torch": torch, "x": x}), x)
    assert _same(x.grad.item(), expected) and _same(grad.item(), expected), (x.grad, grad)


def test_nan_to_integer_is_silent(backend):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = backend.tensor([NAN, INF]).long()
    assert result.dtype is backend.int64


def test_numpy_error_state_of_the_user_is_left_alone(backend):
    before = np.geterr()
    backend.log(backend.tensor(0.0, requires_grad=True)).backward()
    assert np.geterr() == before
    with pytest.warns(RuntimeWarning, match="divide by zero"):  # the user's own NumPy still warns
        np.log(np.zeros(1))


# ----- Tensor.type(): the old type names, and conversion ---------------------------------------------------------
@pytest.mark.parametrize("make, name", [
    ("torch.tensor([1., 2.])", "torch.FloatTensor"),
    ("torch.tensor([1., 2.], dtype=torch.float64)", "torch.DoubleTensor"),
    ("torch.tensor([1, 2])", "torch.LongTensor"),
    ("torch.tensor([1, 2], dtype=torch.int32)", "torch.IntTensor"),
    ("torch.tensor([True])", "torch.BoolTensor"),
    ("torch.ones(2, requires_grad=True) * 2", "torch.FloatTensor"),
])
def test_type_names(backend, make, name):
    assert eval(make, {"torch": backend}).type() == name


def test_type_converts(backend):
    torch = backend
    x = torch.tensor([1.5, -2.0], requires_grad=True)
    assert x.type(torch.float32) is x and x.type("torch.FloatTensor") is x  # already that type: itself
    y = x.type("torch.DoubleTensor")
    assert y.dtype is torch.float64 and y.grad_fn.name() == "ToCopyBackward0"
    y.sum().backward()
    assert x.grad.dtype is torch.float32 and x.grad.tolist() == [1.0, 1.0]
    z = x.detach().type(dtype=torch.int64)
    assert z.type() == "torch.LongTensor" and z.tolist() == [1, -2]
    assert x.detach().type("torch.BoolTensor").tolist() == [True, True]


@pytest.mark.parametrize("argument, error, message", [
    ("'foo'", ValueError, "invalid type: 'foo'"),
    ("'torch.float64'", ValueError, "invalid type: 'torch.float64'"),
    ("3", TypeError, "dtype must be a type, str, or dtype object"),
])
def test_type_errors(backend, argument, error, message):
    x = backend.tensor([1.0])
    with pytest.raises(error) as info:
        x.type(eval(argument))
    assert str(info.value) == message


# ----- save / load (each engine reads its own files) -------------------------------------------------------------
def _round_trip(torch, obj, **load_args):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer, **load_args)


def test_save_load_tensors(backend):
    torch = backend
    leaf = torch.tensor([[1.5, 2.0], [3.0, -4.0]], requires_grad=True)
    saved = {"leaf": leaf, "result": leaf * 2, "ints": torch.tensor([1, 2, 3]), "flags": torch.tensor([True]),
             "double": torch.tensor(0.25, dtype=torch.float64), "list": [torch.zeros(0), 1, "a", (2.5, None)]}
    loaded = _round_trip(torch, saved)
    assert sorted(loaded) == sorted(saved)
    for key in ("leaf", "result", "ints", "flags", "double"):
        got, want = loaded[key], saved[key]
        assert got is not want and got.dtype is want.dtype and got.shape == want.shape
        assert got.tolist() == want.tolist()
        assert got.requires_grad == want.requires_grad and got.is_leaf and got.grad_fn is None
    assert loaded["list"][0].shape == (0,) and loaded["list"][1:] == [1, "a", (2.5, None)]
    loaded["leaf"].sum().backward()  # a leaf of its own: its gradient
    assert loaded["leaf"].grad.tolist() == [[1.0, 1.0], [1.0, 1.0]] and leaf.grad is None


def test_save_load_state_dict_file_path(backend, tmp_path):
    torch = backend
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    path = tmp_path / "model.pt"
    torch.save(model.state_dict(), path)
    other = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    state = torch.load(path)  # weights_only by default: a state_dict is fine
    assert type(state).__name__ == "OrderedDict" and list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    other.load_state_dict(state)
    x = torch.ones(2, 3)
    assert other(x).tolist() == model(x).tolist()
    torch.save(model.state_dict(), str(path))  # a str path too
    assert torch.load(str(path), weights_only=True)["2.bias"].tolist() == model[2].bias.tolist()


def test_save_load_parameter_and_file_object(backend, tmp_path):
    torch = backend
    parameter = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    with open(tmp_path / "p.pt", "wb") as f:
        torch.save(parameter, f)
    with open(tmp_path / "p.pt", "rb") as f:
        loaded = torch.load(f)
    assert type(loaded).__name__ == "Parameter" and loaded.requires_grad and loaded.tolist() == [1.0, 2.0]


class Unknown:
    """A class no weights_only load trusts by default."""


class Trusted:
    """A class a test allowlists with add_safe_globals."""


def test_weights_only_refuses_other_objects(backend):
    torch = backend
    buffer = io.BytesIO()
    torch.save({"w": torch.ones(1), "x": Unknown()}, buffer)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError) as info:
        torch.load(buffer)
    message = str(info.value)
    assert message.startswith("Weights only load failed. This file can still be loaded, to do so you have two options, "
                              "\033[1mdo those steps only if you trust the source of the checkpoint\033[0m. \n\t(1) ")
    name = f"{__name__}.Unknown"
    assert (f"WeightsUnpickler error: Unsupported global: GLOBAL {name} was not an allowed global by default. "
            f"Please use `torch.serialization.add_safe_globals([{name}])`") in message
    buffer.seek(0)
    assert isinstance(torch.load(buffer, weights_only=False)["x"], Unknown)  # trusted on request


class TrustedInABlock:
    """A class a test allowlists only inside ``with safe_globals(...)``."""


def test_safe_globals_block(backend):
    torch = backend
    buffer = io.BytesIO()
    torch.save(TrustedInABlock(), buffer)
    with torch.serialization.safe_globals([TrustedInABlock]):
        buffer.seek(0)
        assert isinstance(torch.load(buffer), TrustedInABlock)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        torch.load(buffer)


def test_add_safe_globals(backend):
    torch = backend
    torch.serialization.add_safe_globals([Trusted])
    assert isinstance(_round_trip(torch, [Trusted()])[0], Trusted)


def test_stepping_through_backward_is_silent_too():
    """autograd_lab's own iter_backward (the stepper's engine): the same silence, node by node."""
    import autograd_lab
    from autograd_lab.autograd.engine import iter_backward

    x = autograd_lab.tensor(0.0, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        names = [step.node.name() for step in iter_backward(autograd_lab.log(x))]
    assert names == ["LogBackward0", "torch::autograd::AccumulateGrad"] and x.grad.item() == INF
