"""The API on the first lines of PyTorch's tutorials (issue 10, item 4): one body, run under torch and autograd_lab."""

from __future__ import annotations

import math
import pickle

import pytest


def _error(call) -> tuple[type, str]:
    with pytest.raises(Exception) as info:
        call()
    return info.type, str(info.value)


# ----- devices ---------------------------------------------------------------------------------------------------
def test_device_repr_str_and_equality(backend):
    t = backend
    assert repr(t.device("cpu")) == "device(type='cpu')"
    assert repr(t.device("cpu:0")) == "device(type='cpu', index=0)"
    assert str(t.device("cpu", 0)) == "cpu:0"
    assert t.device("cpu", 0) == t.device("cpu:0")
    assert t.device("cpu") != t.device("cpu:0")
    assert t.device(t.device("cpu")).type == "cpu"
    assert {t.device("cpu"): 1}[t.device("cpu")] == 1
    assert pickle.loads(pickle.dumps(t.device("cpu:0"))) == t.device("cpu:0")


@pytest.mark.parametrize("args, kind, message", [
    (("gpu",), RuntimeError, "Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, "
                             "maia, xla, lazy, vulkan, mps, meta, hpu, mtia, privateuseone device type at start of "
                             "device string: gpu"),
    (("cpu:x",), RuntimeError, "Invalid device string: 'cpu:x'"),
    (("cuda:-1",), RuntimeError, "Invalid device string: 'cuda:-1'"),
    (("cpu", -1), RuntimeError, "Device index must not be negative"),
    ((0,), RuntimeError, "Cannot access accelerator device when none is available."),
])
def test_bad_devices(backend, args, kind, message):
    assert _error(lambda: backend.device(*args)) == (kind, message)


def test_tensors_live_on_the_cpu(backend):
    t = backend
    x = t.zeros(2, device="cpu")
    assert repr(x.device) == "device(type='cpu')"
    assert t.ones(2, device=t.device("cpu:0")).device == t.device("cpu")
    assert (x.is_cuda, x.is_cpu, x.get_device()) == (False, True, -1)
    assert x.cpu() is x


@pytest.mark.parametrize("make", [
    lambda t, d: t.tensor([1.0], device=d), lambda t, d: t.zeros(2, device=d), lambda t, d: t.ones(2, device=d),
    lambda t, d: t.empty(2, device=d), lambda t, d: t.full((2,), 1.0, device=d), lambda t, d: t.arange(3, device=d),
    lambda t, d: t.linspace(0, 1, 3, device=d), lambda t, d: t.eye(2, device=d),
    lambda t, d: t.zeros_like(t.ones(1), device=d), lambda t, d: t.ones(1).to(d), lambda t, d: t.ones(1).cuda(),
    lambda t, d: t.as_tensor([1.0], device=d),
])
def test_cuda_fails_as_in_a_cpu_only_torch(backend, make):
    assert _error(lambda: make(backend, "cuda")) == (AssertionError, "Torch not compiled with CUDA enabled")


def test_tutorial_device_selection(backend):
    t = backend
    device = "cuda" if t.cuda.is_available() else "mps" if t.backends.mps.is_available() else "cpu"
    assert device == "cpu"
    assert t.cuda.device_count() == 0
    assert (t.accelerator.is_available(), t.accelerator.current_accelerator()) == (False, None)
    assert t.backends.mps.is_built() is False and t.backends.cudnn.is_available() is False
    assert t.cuda.manual_seed(0) is None and t.cuda.manual_seed_all(0) is None
    assert _error(t.cuda.current_device) == (AssertionError, "Torch not compiled with CUDA enabled")


def test_default_device(backend):
    t = backend
    assert repr(t.get_default_device()) == "device(type='cpu')"
    t.set_default_device("cpu")
    try:
        assert t.zeros(1).device == t.device("cpu")
        t.set_default_device("cuda")
        assert _error(lambda: t.zeros(1))[0] is AssertionError
    finally:
        t.set_default_device(None)
    assert t.zeros(1).device.type == "cpu"


def test_to_device_and_dtype(backend):
    t = backend
    x = t.tensor([1.0, 2.0], requires_grad=True)
    assert x.to("cpu") is x and x.to(t.device("cpu")) is x and x.to(t.float32) is x and x.to(non_blocking=True) is x
    assert x.to("cpu", t.float64).dtype is t.float64
    assert x.to(device="cpu", dtype=t.float64).dtype is t.float64
    assert x.to(t.zeros(1, dtype=t.float64)).dtype is t.float64
    copied = x.to("cpu", copy=True)
    assert copied is not x and copied.grad_fn.name() == "ToCopyBackward0"
    assert x.to("cpu", t.float64, False, True).dtype is t.float64
    kind, message = _error(lambda: x.to("cpu", "float"))
    assert kind is TypeError and message.startswith("to() received an invalid combination of arguments - got (str, "
                                                    "str), but expected one of:")


# ----- sizes given as keywords, and size errors ---------------------------------------------------------------
def test_size_keyword(backend):
    t = backend
    assert t.zeros(size=(2, 3)).shape == (2, 3)
    assert t.ones(size=[2]).tolist() == [1.0, 1.0]
    assert t.empty(size=(1, 2)).shape == (1, 2)
    assert t.empty(3).shape == (3,)
    assert t.full(size=[2], fill_value=True).tolist() == [True, True]
    assert t.zeros(t.Size([2, 3])).shape == (2, 3)
    assert t.zeros(t.tensor(2)).shape == (2,)
    assert t.zeros(2, True).shape == (2, 1)
    assert t.randn(size=(2, 3)).shape == (2, 3) and t.rand(size=[4]).shape == (4,)
    assert t.rand(2, 3, dtype=t.float64).dtype is t.float64
    assert t.randn_like(t.ones(2), device="cpu").shape == (2,)


def test_random_numbers_on_the_cpu_only(backend):
    t = backend
    assert t.randn(2, device="cpu").device.type == "cpu"
    assert _error(lambda: t.rand(2, device="cuda")) == (AssertionError, "Torch not compiled with CUDA enabled")


@pytest.mark.parametrize("call, kind, message", [
    (lambda t: t.zeros(size=3), TypeError, "zeros(): argument 'size' must be tuple of ints, not int"),
    (lambda t: t.zeros(2, size=(3,)), TypeError, "zeros() got multiple values for argument 'size'"),
    (lambda t: t.zeros(), TypeError, 'zeros() missing 1 required positional arguments: "size"'),
    (lambda t: t.empty(), TypeError, 'empty() missing 1 required positional arguments: "size"'),
    (lambda t: t.ones(2.5), TypeError, "ones(): argument 'size' (position 1) must be tuple of ints, not float"),
    (lambda t: t.randn(2.5), TypeError, "randn(): argument 'size' (position 1) must be tuple of ints, not float"),
    (lambda t: t.rand(size=3), TypeError, "rand(): argument 'size' must be tuple of ints, not int"),
    (lambda t: t.zeros((2,), (3,)), TypeError, "zeros() takes 1 positional argument but 2 were given"),
    (lambda t: t.zeros(2, 3.0), TypeError, "zeros(): argument 'size' failed to unpack the object at pos 2 with error "
                                           '"type must be tuple of ints,but got float"'),
    (lambda t: t.zeros([True, 2]), TypeError, "zeros(): argument 'size' (position 1) must be tuple of ints, but "
                                              "found element of type bool at pos 0"),
    (lambda t: t.zeros(t.tensor([2, 3])), TypeError, "zeros(): argument 'size' (position 1) must be tuple of ints, "
                                                     "not Tensor"),
    (lambda t: t.zeros(2, -1), RuntimeError, "zeros: Dimension size must be non-negative."),
    (lambda t: t.ones(2, -1), RuntimeError, "Trying to create tensor with negative dimension -1: [2, -1]"),
    (lambda t: t.full(2, 1.0), TypeError, "full(): argument 'size' (position 1) must be tuple of ints, not int"),
    (lambda t: t.eye(-1), RuntimeError, "n must be greater or equal to 0, got -1"),
])
def test_size_errors(backend, call, kind, message):
    assert _error(lambda: call(backend)) == (kind, message)


def test_like_factories(backend):
    t = backend
    x = t.ones(2, 3, dtype=t.float64)
    assert t.full_like(x, 7).tolist() == [[7.0] * 3] * 2 and t.full_like(x, 7).dtype is t.float64
    assert t.full_like(t.ones(2), 7, dtype=t.int64).tolist() == [7, 7]
    assert t.empty_like(x).shape == (2, 3)
    assert t.zeros_like(x, device="cpu").dtype is t.float64


# ----- linspace --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, kwargs, text", [
    ((0, 1, 5), {}, "tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])"),
    ((-10, 10, 7), {}, "tensor([-1.0000e+01, -6.6667e+00, -3.3333e+00,  2.3842e-07,  3.3333e+00,\n"
                       "         6.6667e+00,  1.0000e+01])"),
    ((0, 10, 1), {}, "tensor([0.])"),
    ((0, 10, 0), {}, "tensor([])"),
    ((0, 10, 4), {"dtype": "int64"}, "tensor([ 0,  3,  6, 10])"),
    ((1, 0, 5), {"dtype": "float64"}, "tensor([1.0000, 0.7500, 0.5000, 0.2500, 0.0000], dtype=torch.float64)"),
    ((0, 1, 3), {"requires_grad": True}, "tensor([0.0000, 0.5000, 1.0000], requires_grad=True)"),
])
def test_linspace(backend, args, kwargs, text):
    if "dtype" in kwargs:
        kwargs = {**kwargs, "dtype": getattr(backend, kwargs["dtype"])}
    assert repr(backend.linspace(*args, **kwargs)) == text


def test_linspace_values_are_bit_exact(backend):
    x = backend.linspace(-math.pi, math.pi, 2000)
    assert x[1234].item() == 0.7370720505714417  # PyTorch's fused multiply-add, to the last bit
    assert _error(lambda: backend.linspace(0, 1, -1)) == (RuntimeError, "number of steps must be non-negative")


# ----- norm, std, var, equal, sort ---------------------------------------------------------------------------------
def test_norm(backend):
    t = backend
    x = t.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], requires_grad=True)
    assert repr(x.norm()) == "tensor(9.5394, grad_fn=<LinalgVectorNormBackward0>)"
    assert repr(t.norm(x, dim=1)) == "tensor([3.7417, 8.7750], grad_fn=<LinalgVectorNormBackward0>)"
    assert x.norm(p=1).item() == 21.0 and x.norm(float("inf")).item() == 6.0 and x.norm(p=0).item() == 6.0
    assert x.norm(p=2, dim=0, keepdim=True).shape == (1, 3)
    assert t.linalg.vector_norm(x, ord=1, dim=1).tolist() == [6.0, 15.0]
    x.norm().backward()
    assert repr(x.grad) == "tensor([[ 0.1048, -0.2097,  0.3145],\n        [ 0.4193,  0.5241, -0.6290]])"
    assert _error(lambda: t.tensor([1, 2]).norm()) == (
        RuntimeError, "linalg.vector_norm: Expected a floating point or complex tensor as input. Got Long")


def test_norm_gradient_is_zero_at_zero(backend):
    x = backend.zeros(3, requires_grad=True)
    x.norm().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_std_and_var(backend):
    t = backend
    x = t.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], requires_grad=True)
    assert repr(x.std()) == "tensor(4.1673, grad_fn=<StdBackward0>)"
    assert repr(x.var(0, keepdim=True)) == "tensor([[ 4.5000, 24.5000, 40.5000]], grad_fn=<VarBackward0>)"
    assert repr(x.std(unbiased=False)) == "tensor(3.8042, grad_fn=<StdBackward0>)"
    assert repr(t.var(x, dim=1, correction=2)) == "tensor([12.6667, 74.0000], grad_fn=<VarBackward0>)"
    assert repr(x.var(1, False)) == "tensor([ 4.2222, 24.6667], grad_fn=<VarBackward0>)"
    x.std(dim=1).sum().backward()
    assert repr(x.grad) == "tensor([[ 0.0662, -0.5298,  0.4636],\n        [ 0.2466,  0.3288, -0.5754]])"
    assert _error(lambda: t.tensor([1, 2]).std()) == (
        RuntimeError, "std and var only support floating point and complex dtypes")


def test_std_of_one_element_warns_and_is_nan(backend):
    with pytest.warns(UserWarning, match=r"std\(\): degrees of freedom is <= 0"):
        assert math.isnan(backend.tensor([1.0]).std().item())


def test_std_gradient_is_zero_where_std_is_zero(backend):
    x = backend.ones(3, requires_grad=True)
    x.std().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_equal(backend):
    t = backend
    x = t.tensor([1.0, 2.0], requires_grad=True)
    assert x.equal(x.detach()) is True and t.equal(x, x * 1) is True
    assert x.equal(t.tensor([1.0])) is False and x.equal(t.tensor([1.0, 3.0])) is False


def test_sort(backend):
    t = backend
    x = t.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], requires_grad=True)
    assert repr(x.sort()) == ("torch.return_types.sort(\nvalues=tensor([[-2.,  1.,  3.],\n        [-6.,  4.,  5.]], "
                              "grad_fn=<SortBackward0>),\nindices=tensor([[1, 0, 2],\n        [2, 0, 1]]))")
    values, indices = t.sort(x, dim=0, descending=True)
    assert values.tolist() == [[4.0, 5.0, 3.0], [1.0, -2.0, -6.0]] and indices.tolist() == [[1, 1, 0], [0, 0, 1]]
    assert x.sort(stable=True).values.grad_fn.name() == "SortBackward1"
    assert x.argsort(dim=0, descending=True).tolist() == [[1, 1, 0], [0, 0, 1]]
    (x.sort(descending=True).values * t.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [[2.0, 3.0, 1.0], [2.0, 1.0, 3.0]]


def test_sort_keeps_equal_elements_in_order(backend):
    x = backend.tensor([2.0, 1.0, 2.0, 1.0, 2.0])
    assert x.sort(stable=True).indices.tolist() == [1, 3, 0, 2, 4]
    assert x.sort(descending=True, stable=True).indices.tolist() == [0, 2, 4, 1, 3]


# ----- index_add_ and in-place pointwise ops -----------------------------------------------------------------------
def test_index_add(backend):
    t = backend
    x = t.zeros(3, 2, requires_grad=True)
    y = x * 1
    source = t.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    assert y.index_add_(0, t.tensor([0, 2, 0]), source, alpha=2.0) is y
    assert y.tolist() == [[12.0, 16.0], [0.0, 0.0], [6.0, 8.0]] and y._version == 1
    assert y.grad_fn.name() == "IndexAddBackward0" and len(y.grad_fn.next_functions) == 2
    (y * t.arange(6.0).view(3, 2)).sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    assert source.grad.tolist() == [[0.0, 2.0], [8.0, 10.0], [0.0, 2.0]]
    assert t.index_add(t.zeros(3), 0, t.tensor([0, 0]), t.tensor([1.0, 2.0])).tolist() == [3.0, 0.0, 0.0]


@pytest.mark.parametrize("call, kind, message", [
    (lambda t: t.zeros(3).index_add_(0, t.tensor([3]), t.tensor([1.0])), IndexError, "index out of range in self"),
    (lambda t: t.zeros(3).index_add_(0, t.tensor([0.0]), t.tensor([1.0])), RuntimeError,
     "index_add_(): Expected dtype int32/int64 for index but got: Float"),
    (lambda t: t.zeros(3).index_add_(0, t.tensor([0, 1]), t.tensor([1.0])), RuntimeError,
     "index_add_(): Number of indices (2) should be equal to source.size(dim): (1), for dim: 0"),
    (lambda t: t.zeros(3, dtype=t.int64).index_add_(0, t.tensor([0]), t.tensor([1.0])), RuntimeError,
     "index_add_(): self (Long) and source (Float) must have the same scalar type"),
    (lambda t: t.zeros(3, 2).index_add_(1, t.tensor([0]), t.ones(2, 1)), RuntimeError,
     "source tensor shape must match self tensor shape, excluding the specified dimension. Got self.shape = [3, 2] "
     "source.shape = [2, 1]"),
    (lambda t: t.zeros(3, requires_grad=True).index_add_(0, t.tensor([0]), t.tensor([1.0])), RuntimeError,
     "a leaf Variable that requires grad is being used in an in-place operation."),
])
def test_index_add_errors(backend, call, kind, message):
    assert _error(lambda: call(backend)) == (kind, message)


IN_PLACE = [("exp_", (), "ExpBackward0"), ("log_", (), "LogBackward0"), ("sin_", (), "SinBackward0"),
            ("cos_", (), "CosBackward0"), ("tanh_", (), "TanhBackward0"), ("sigmoid_", (), "SigmoidBackward0"),
            ("relu_", (), "ReluBackward0"), ("abs_", (), "AbsBackward0"), ("sqrt_", (), "SqrtBackward0"),
            ("neg_", (), "NegBackward0"), ("reciprocal_", (), "ReciprocalBackward0"),
            ("clamp_", (0.6, 1.5), "ClampBackward1"), ("pow_", (3,), "PowBackward0")]


@pytest.mark.parametrize("name, args, node", IN_PLACE)
def test_in_place_pointwise_op(backend, name, args, node):
    t = backend
    x = t.tensor([0.5, 2.0], requires_grad=True)
    y = x * 1
    assert getattr(y, name)(*args) is y
    assert y._version == 1 and y.grad_fn.name() == node
    expected = getattr(x.detach() * 1, name.rstrip("_"))(*args)
    assert y.tolist() == expected.tolist()
    y.sum().backward()
    reference = t.tensor([0.5, 2.0], requires_grad=True)
    getattr(reference, name.rstrip("_"))(*args).sum().backward()
    assert x.grad.tolist() == reference.grad.tolist()
    leaf = t.tensor([0.5, 2.0], requires_grad=True)
    assert _error(lambda: getattr(leaf, name)(*args)) == (
        RuntimeError, "a leaf Variable that requires grad is being used in an in-place operation.")


def test_in_place_op_saves_its_result_so_a_later_change_is_caught(backend):
    x = backend.tensor([0.5, 2.0], requires_grad=True)
    y = x * 1
    y.exp_()
    y.mul_(2)
    kind, message = _error(lambda: y.sum().backward())
    assert kind is RuntimeError and message.startswith(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        "[torch.FloatTensor [2]], which is output 0 of ")
    assert "is at version 2; expected version 1 instead." in message


def test_in_place_op_on_an_integer_tensor(backend):
    t = backend
    assert _error(lambda: t.tensor([1, 2]).exp_()) == (
        RuntimeError, "result type Float can't be cast to the desired output type Long")
    assert t.tensor([1, -2]).abs_().tolist() == [1, 2]


def test_functional_relu_in_place(backend):
    t = backend
    x = t.tensor([-0.5, 2.0], requires_grad=True)
    y = x * 1
    assert t.nn.functional.relu(y, inplace=True) is y
    assert repr(y) == "tensor([0., 2.], grad_fn=<ReluBackward0>)"
    assert repr(t.nn.ReLU(inplace=True)) == "ReLU(inplace=True)" and repr(t.nn.ReLU()) == "ReLU()"
    assert t.relu_(t.tensor([-1.0, 1.0])).tolist() == [0.0, 1.0]


# ----- binary cross entropy with logits ----------------------------------------------------------------------------
def _logits(t):
    x = t.tensor([[0.5, -1.0, 30.0], [-40.0, 2.0, 0.0]], requires_grad=True)
    return x, t.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.5]]), t.tensor([1.0, 2.0, 3.0]), t.tensor([2.0, 1.0, 0.5])


def test_binary_cross_entropy_with_logits(backend):
    t = backend
    x, y, w, pw = _logits(t)
    f = t.nn.functional.binary_cross_entropy_with_logits
    assert repr(f(x, y)) == "tensor(0.2679, grad_fn=<BinaryCrossEntropyWithLogitsBackward0>)"
    assert repr(f(x, y, reduction="sum")) == "tensor(1.6074, grad_fn=<BinaryCrossEntropyWithLogitsBackward0>)"
    assert repr(f(x, y, weight=w)) == "tensor(0.5723, grad_fn=<BinaryCrossEntropyWithLogitsBackward0>)"
    assert repr(f(x, y, pos_weight=pw)) == "tensor(0.3180, grad_fn=<BinaryCrossEntropyWithLogitsBackward0>)"
    assert repr(f(x, y, w, pos_weight=pw, reduction="none")) == (
        "tensor([[9.4815e-01, 6.2652e-01, 1.4036e-13],\n        [0.0000e+00, 2.5386e-01, 1.5596e+00]],\n"
        "       grad_fn=<BinaryCrossEntropyWithLogitsBackward0>)")


@pytest.mark.parametrize("kwargs, text", [
    ({}, "tensor([[-6.2923e-02,  4.4824e-02,  0.0000e+00],\n        [ 7.0806e-19, -1.9867e-02,  0.0000e+00]])"),
    ({"pos_weight": 3}, "tensor([[-1.2585e-01,  4.4824e-02,  0.0000e+00],\n"
                        "        [ 7.0806e-19, -1.9867e-02,  2.0833e-02]])"),
    ({"weight": 2, "pos_weight": 3, "reduction": "sum"}, "tensor([[-7.5508e-01,  5.3788e-01,  0.0000e+00],\n"
                                                         "        [ 4.2484e-18, -2.3841e-01,  3.7500e-01]])"),
])
def test_binary_cross_entropy_with_logits_gradient(backend, kwargs, text):
    t = backend
    x, y, w, pw = _logits(t)
    kwargs = {k: (w if k == "weight" else pw) if v in (2, 3) else v for k, v in kwargs.items()}
    t.nn.functional.binary_cross_entropy_with_logits(x, y, **kwargs).backward()
    assert repr(x.grad) == text


def test_binary_cross_entropy_with_logits_target_gradient(backend):
    t = backend
    x, y, _, pw = _logits(t)
    y.requires_grad_()
    t.nn.functional.binary_cross_entropy_with_logits(x, y, pos_weight=pw).backward()
    assert repr(y.grad) == ("tensor([[-4.3205e-03,  1.6667e-01, -5.0000e+00],\n"
                            "        [ 1.3333e+01, -3.3333e-01, -5.7762e-02]])")


def test_binary_cross_entropy_with_logits_errors(backend):
    t = backend
    x, y, _, _ = _logits(t)
    f = t.nn.functional.binary_cross_entropy_with_logits
    assert _error(lambda: f(x, y[0])) == (
        ValueError, "Target size (torch.Size([3])) must be the same as input size (torch.Size([2, 3]))")
    assert _error(lambda: f(x, y, reduction="bad")) == (ValueError, "bad is not a valid value for reduction")


def test_bce_with_logits_loss_module(backend):
    t = backend
    x, y, w, pw = _logits(t)
    loss = t.nn.BCEWithLogitsLoss(weight=w, reduction="sum", pos_weight=pw)
    assert repr(loss) == "BCEWithLogitsLoss()"
    assert [name for name, _ in loss.named_buffers()] == ["weight", "pos_weight"]
    assert loss(x, y).item() == t.nn.functional.binary_cross_entropy_with_logits(
        x, y, w, reduction="sum", pos_weight=pw).item()


# ----- nn.Module: register_parameter, register_buffer ----------------------------------------------------------------
def _model(t):
    class Model(t.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = t.nn.Parameter(t.ones(1))
            self.register_parameter("b", t.nn.Parameter(t.zeros(2)))
            self.register_parameter("c", None)
            self.register_buffer("running", t.zeros(3))
            self.register_buffer("scratch", t.ones(1), persistent=False)
            self.lin = t.nn.Linear(2, 1)
    return Model()


def test_register_parameter_and_buffer(backend):
    m = _model(backend)
    assert [n for n, _ in m.named_parameters()] == ["a", "b", "lin.weight", "lin.bias"]
    assert [n for n, _ in m.named_buffers()] == ["running", "scratch"]
    assert list(m.state_dict()) == ["a", "b", "running", "lin.weight", "lin.bias"]
    assert m.c is None and m.running.requires_grad is False
    m.running = backend.ones(3)
    assert [b.tolist() for b in m.buffers()] == [[1.0, 1.0, 1.0], [1.0]]
    m.register_parameter("a", None)
    assert [n for n, _ in m.named_parameters()] == ["b", "lin.weight", "lin.bias"]


def test_reassigning_keeps_the_order(backend):
    t = backend
    m = t.nn.Linear(2, 3)
    m.weight = t.nn.Parameter(t.ones(3, 2))
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    m.weight = None
    assert [n for n, _ in m.named_parameters()] == ["bias"] and list(m.state_dict()) == ["bias"]
    s = t.nn.Sequential(t.nn.Linear(1, 1), t.nn.ReLU())
    setattr(s, "0", t.nn.Tanh())
    assert repr(s) == "Sequential(\n  (0): Tanh()\n  (1): ReLU()\n)"
    assert _error(lambda: setattr(s, "0", 3)) == (
        TypeError, "cannot assign 'int' as child module '0' (torch.nn.Module or None expected)")
    setattr(s, "0", None)
    assert [type(m).__name__ for m in s.modules()] == ["Sequential", "ReLU"]


@pytest.mark.parametrize("call, kind, message", [
    (lambda t, m: m.register_parameter("x", t.ones(1)), TypeError,
     "cannot assign 'torch.FloatTensor' object to parameter 'x' (torch.nn.Parameter or None required)"),
    (lambda t, m: m.register_parameter("a.b", t.nn.Parameter(t.ones(1))), KeyError,
     "'parameter name can\\'t contain \".\"'"),
    (lambda t, m: m.register_parameter("", t.nn.Parameter(t.ones(1))), KeyError,
     "'parameter name can\\'t be empty string \"\"'"),
    (lambda t, m: m.register_parameter(1, None), TypeError, "parameter name should be a string. Got int"),
    (lambda t, m: m.register_parameter("lin", None), KeyError, "\"attribute 'lin' already exists\""),
    (lambda t, m: m.register_buffer("z", 3), TypeError,
     "cannot assign 'int' object to buffer 'z' (torch Tensor or None required)"),
    (lambda t, m: m.register_buffer("a", t.ones(1)), KeyError, "\"attribute 'a' already exists\""),
    (lambda t, m: setattr(m, "b", t.ones(2)), TypeError,
     "cannot assign 'torch.FloatTensor' as parameter 'b' (torch.nn.Parameter or None expected)"),
])
def test_register_errors(backend, call, kind, message):
    assert _error(lambda: call(backend, _model(backend))) == (kind, message)


def test_register_before_init(backend):
    class Early(backend.nn.Module):
        def __init__(self):
            self.register_buffer("x", None)
    assert _error(Early) == (AttributeError, "cannot assign buffer before Module.__init__() call")


# ----- inference mode ------------------------------------------------------------------------------------------------
INFERENCE_SAVED = ("Inference tensors cannot be saved for backward. Please do not use Tensors created in inference "
                   "mode in computation tracked by autograd. To work around this, you can make a clone to get a "
                   "normal tensor and use it in autograd, or use `torch.no_grad()` instead of "
                   "`torch.inference_mode()`.")


def test_inference_mode(backend):
    t = backend
    w = t.ones(2, requires_grad=True)
    with t.inference_mode():
        x = t.ones(2)
        y = w * 2
        assert t.is_inference_mode_enabled() and not t.is_grad_enabled()
    assert (x.is_inference(), y.is_inference(), y.grad_fn, t.ones(1).is_inference()) == (True, True, None, False)
    assert x.detach().is_inference()
    assert _error(lambda: x._version) == (RuntimeError, "Inference tensors do not track version counter.")
    assert not t.is_inference_mode_enabled() and t.is_grad_enabled()
    assert (w + x).grad_fn.name() == "AddBackward0"  # Add saves nothing: allowed
    assert _error(lambda: w * x) == (RuntimeError, INFERENCE_SAVED)
    assert (w * x.clone()).grad_fn.name() == "MulBackward0"


def test_inference_tensors_refuse_changes_outside(backend):
    t = backend
    with t.inference_mode():
        x = t.ones(2)
    assert _error(x.requires_grad_) == (
        RuntimeError, "Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.")
    kind, message = _error(x.zero_)
    assert kind is RuntimeError and message.startswith(
        "Inplace update to inference tensor outside InferenceMode is not allowed.")


def test_inference_mode_as_decorator_and_switched_off(backend):
    t = backend

    @t.inference_mode()
    def called():
        return t.is_inference_mode_enabled()

    @t.inference_mode
    def bare():
        return t.is_inference_mode_enabled()

    assert called() and bare()
    with t.no_grad(), t.inference_mode(), t.inference_mode(False):
        assert (t.is_inference_mode_enabled(), t.is_grad_enabled(), t.ones(1).is_inference()) == (False, True, False)
    assert t.autograd.grad_mode.inference_mode is t.inference_mode


def test_enable_grad_inside_inference_mode_records_nothing(backend):
    t = backend
    with t.inference_mode(), t.enable_grad():
        a = t.ones(2, requires_grad=True)
        b = a * 2
        assert t.is_grad_enabled() and b.grad_fn is None and not b.requires_grad
    with t.no_grad(), t.inference_mode():
        assert not t.is_grad_enabled()
    assert t.is_grad_enabled()


# ----- post-accumulate-grad hooks ----------------------------------------------------------------------------------
def test_post_accumulate_grad_hook(backend):
    t = backend
    w = t.tensor([1.0, 2.0], requires_grad=True)
    log = []
    handle = w.register_post_accumulate_grad_hook(lambda p: log.append((p is w, p.grad.tolist())))
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    assert log == [(True, [3.0, 3.0]), (True, [6.0, 6.0])]
    handle.remove()
    (w * 3).sum().backward()
    assert len(log) == 2
    t.autograd.grad((w * 2).sum(), w)  # no .grad is accumulated, so no hook
    assert len(log) == 2


def test_optimizer_in_backward(backend):
    t = backend
    w = t.tensor([1.0, 2.0], requires_grad=True)

    def step(p):
        with t.no_grad():
            p.add_(p.grad, alpha=-0.1)
        p.grad = None

    w.register_post_accumulate_grad_hook(step)
    (w ** 2).sum().backward()
    assert w.tolist() == [0.800000011920929, 1.600000023841858] and w.grad is None


def test_post_accumulate_grad_hook_errors(backend):
    t = backend
    w = t.ones(1, requires_grad=True)
    assert _error(lambda: (w * 2).register_post_accumulate_grad_hook(print)) == (
        RuntimeError, "post accumulate grad hooks cannot be registered on non-leaf tensors")
    assert _error(lambda: t.ones(1).register_post_accumulate_grad_hook(print)) == (
        RuntimeError, "cannot register a hook on a tensor that doesn't require gradient")
    w.register_post_accumulate_grad_hook(lambda p: p * 2)
    assert _error(lambda: (w * 2).sum().backward()) == (
        RuntimeError, "Tensor post accumulate grad hooks should return None.")


def test_module_to_device_and_dtype(backend):
    t = backend
    model = t.nn.Sequential(t.nn.Linear(2, 3), t.nn.ReLU(), t.nn.Linear(3, 1))
    weight = model[0].weight
    device = t.device("cuda" if t.cuda.is_available() else "cpu")
    assert model.to(device) is model and model.cpu() is model
    assert next(model.parameters()).device == t.device("cpu")
    assert model.to("cpu", t.float64) is model and model[0].weight is weight and weight.dtype is t.float64
    assert type(weight).__name__ == "Parameter" and model.float()[2].bias.dtype is t.float32
    assert _error(model.cuda) == (AssertionError, "Torch not compiled with CUDA enabled")
    assert _error(lambda: model.to(t.int64)) == (
        TypeError, "nn.Module.to only accepts floating point or complex dtypes, but got desired dtype=torch.int64")


def test_module_to_casts_buffers(backend):
    t = backend
    loss = t.nn.BCEWithLogitsLoss(pos_weight=t.tensor([2.0]))
    assert loss.double().pos_weight.dtype is t.float64


# ----- Learn the Basics: Flatten, Softmax, out= --------------------------------------------------------------------
def test_flatten_and_softmax_modules(backend):
    t = backend
    assert repr(t.nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)" and repr(t.nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert t.nn.Flatten()(t.zeros(3, 28, 28)).shape == (3, 784) and t.nn.Flatten(0, 1)(t.zeros(2, 3, 4)).shape == (6, 4)
    x = t.tensor([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]], requires_grad=True)
    s = t.nn.Softmax(dim=1)(x)
    assert repr(s) == ("tensor([[0.0900, 0.2447, 0.6652],\n        [0.3333, 0.3333, 0.3333]], "
                       "grad_fn=<SoftmaxBackward0>)")
    (s * t.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert repr(x.grad) == "tensor([[-0.1418, -0.1408,  0.2826],\n        [-0.3333,  0.0000,  0.3333]])"
    assert x.softmax(-1).grad_fn.name() == "SoftmaxBackward0" and t.softmax(x, 0).shape == (2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated"):
        assert t.nn.functional.softmax(t.ones(2, 3)).sum(1).tolist() == [1.0, 1.0]


def test_out_argument(backend):
    t = backend
    a = t.ones(4, 4)
    out = t.rand_like(a)
    assert t.matmul(a, a.T, out=out) is out and out.tolist() == [[4.0] * 4] * 4 and out._version == 1
    assert t.mul(a, a, out=out) is out and out.tolist() == [[1.0] * 4] * 4
    w = t.ones(2, requires_grad=True)
    assert _error(lambda: t.mul(w, w, out=t.zeros(2))) == (
        RuntimeError, "mul(): functions with out=... arguments don't support automatic differentiation, but one of "
                      "the arguments requires grad.")
    assert _error(lambda: t.mul(t.ones(2), 2, out=t.zeros(2, dtype=t.int64))) == (
        RuntimeError, "result type Float can't be cast to the desired output type Long")
    with t.no_grad():
        assert t.mul(w, w, out=t.zeros(2)).tolist() == [1.0, 1.0]


def test_new_factories_keep_the_dtype(backend):
    t = backend
    x = t.ones(2, dtype=t.float64, requires_grad=True)
    assert repr(x.new_zeros(3)) == "tensor([0., 0., 0.], dtype=torch.float64)"
    assert repr(x.new_full((2,), 3)) == "tensor([3., 3.], dtype=torch.float64)"
    assert repr(x.new_tensor([1, 2])) == "tensor([1., 2.], dtype=torch.float64)"
    assert x.new_ones(size=(1,)).dtype is t.float64 and x.new_empty(2).shape == (2,)
    assert x.new_zeros(2, dtype=t.int64).dtype is t.int64 and x.new_zeros(2).requires_grad is False


SECOND_ORDER = {
    "norm": lambda t, a: a.norm(dim=1), "norm_p3": lambda t, a: a.norm(p=3, dim=0, keepdim=True),
    "std": lambda t, a: a.std(1), "var": lambda t, a: a.var(), "sort": lambda t, a: a.sort(dim=0).values,
    "softmax": lambda t, a: t.nn.functional.softmax(a, 1),
    "bce": lambda t, a: t.nn.functional.binary_cross_entropy_with_logits(
        a, t.full((3, 4), 0.25, dtype=t.float64), pos_weight=t.full((4,), 2.0, dtype=t.float64)),
    "sin_": lambda t, a: (a * 1).sin_(), "sigmoid_": lambda t, a: (a * 1).sigmoid_(),
    "pow_": lambda t, a: (a * 1).pow_(3), "index_add_": lambda t, a: (a * 1).index_add_(1, t.tensor([3, 0]), a[:, :2]),
}


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_new_ops_pass_gradcheck_and_gradgradcheck(backend, name):
    t = backend
    a = t.randn(3, 4, dtype=t.float64, requires_grad=True)
    function = SECOND_ORDER[name]
    assert t.autograd.gradcheck(lambda x: function(t, x), (a,))
    assert t.autograd.gradgradcheck(lambda x: function(t, x), (a,))
