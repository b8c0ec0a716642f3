"""Small fidelity leftovers of issue 10: operators with a non-number, log_softmax/softmax, CUDA without a GPU.

One body, run under torch and autograd_lab (the ``backend`` fixture): the literals below are what
torch 2.13 (CPU build) says, so the torch run checks them and the autograd_lab run must match.
"""

from __future__ import annotations

import warnings

import pytest


def _error(call) -> tuple[type, str]:
    with pytest.raises(Exception) as info:
        call()
    return info.type, str(info.value)


class Foo:
    pass


# ----- an operand that is neither a tensor nor a number: Python's own TypeError ---------------------------------
@pytest.mark.parametrize("expression, message", [
    ("None * x", "unsupported operand type(s) for *: 'NoneType' and 'Tensor'"),
    ("x * None", "unsupported operand type(s) for *: 'Tensor' and 'NoneType'"),
    ("x + 'a'", "unsupported operand type(s) for +: 'Tensor' and 'str'"),
    ("'a' + x", 'can only concatenate str (not "Tensor") to str'),
    ("[1, 2] + x", 'can only concatenate list (not "Tensor") to list'),
    ("x - None", "unsupported operand type(s) for -: 'Tensor' and 'NoneType'"),
    ("None - x", "unsupported operand type(s) for -: 'NoneType' and 'Tensor'"),
    ("x / None", "unsupported operand type(s) for /: 'Tensor' and 'NoneType'"),
    ("None / x", "unsupported operand type(s) for /: 'NoneType' and 'Tensor'"),
    ("x ** None", "unsupported operand type(s) for ** or pow(): 'Tensor' and 'NoneType'"),
    ("None ** x", "unsupported operand type(s) for ** or pow(): 'NoneType' and 'Tensor'"),
    ("x @ None", "unsupported operand type(s) for @: 'Tensor' and 'NoneType'"),
    ("x @ 2", "unsupported operand type(s) for @: 'Tensor' and 'int'"),
    ("x + Foo()", "unsupported operand type(s) for +: 'Tensor' and 'Foo'"),
    ("x * 'a'", "only integer tensors of a single element can be converted to an index"),  # str repeat wants an int
    ("x * (1, 2)", "only integer tensors of a single element can be converted to an index"),
])
def test_operator_with_a_non_operand_raises_pythons_type_error(backend, expression, message):
    x = backend.tensor([1.0, 2.0])
    assert _error(lambda: eval(expression, {"x": x, "Foo": Foo})) == (TypeError, message)


@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/=", "**=", "@="])
def test_in_place_operator_with_none_raises_pythons_type_error(backend, op):
    x = backend.tensor([1.0, 2.0])
    with pytest.raises(TypeError) as info:
        exec(f"x {op} None", {"x": x})
    assert str(info.value) == f"unsupported operand type(s) for {op}: 'Tensor' and 'NoneType'"
    assert x._version == 0


def test_dunder_methods_return_not_implemented(backend):
    x = backend.tensor([1.0, 2.0])
    for name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
                 "__rtruediv__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__", "__iadd__", "__imul__",
                 "__ipow__"):
        assert getattr(x, name)(None) is NotImplemented, name


def test_power_in_place_keeps_the_tensor(backend):
    x = backend.tensor([1.0, 2.0])
    y = x
    x **= 2
    assert y is x and x._version == 1 and x.tolist() == [1.0, 4.0]


@pytest.mark.parametrize("call, message", [
    (lambda t, x: t.mul(x, None), "mul(): argument 'other' (position 2) must be Tensor, not NoneType"),
    (lambda t, x: t.add(x, "a"), "add(): argument 'other' (position 2) must be Tensor, not str"),
    (lambda t, x: t.add(x, None, alpha=2), "add(): argument 'other' (position 2) must be Tensor, not NoneType"),
    (lambda t, x: t.sub(x, [1.0]), "sub(): argument 'other' (position 2) must be Tensor, not list"),
    (lambda t, x: t.div(x, Foo()), "div(): argument 'other' (position 2) must be Tensor, not Foo"),
    (lambda t, x: t.mul(None, x), "mul(): argument 'input' (position 1) must be Tensor, not NoneType"),
    (lambda t, x: t.sub(None, x), "sub(): argument 'input' (position 1) must be Tensor, not NoneType"),
    (lambda t, x: t.matmul(x, None), "matmul(): argument 'other' (position 2) must be Tensor, not NoneType"),
    (lambda t, x: t.matmul(2, x), "matmul(): argument 'input' (position 1) must be Tensor, not int"),
    (lambda t, x: x.mul(None), "mul(): argument 'other' (position 1) must be Tensor, not NoneType"),
    (lambda t, x: t.maximum(x, None), "maximum(): argument 'other' (position 2) must be Tensor, not NoneType"),
    (lambda t, x: t.maximum(x, 2), "maximum(): argument 'other' (position 2) must be Tensor, not int"),
    (lambda t, x: x.maximum(None), "maximum(): argument 'other' (position 1) must be Tensor, not NoneType"),
    (lambda t, x: x.add("a"), "add(): argument 'other' (position 1) must be Tensor, not str"),
    (lambda t, x: x.div(None), "div(): argument 'other' (position 1) must be Tensor, not NoneType"),
    (lambda t, x: x.matmul(None), "matmul(): argument 'other' (position 1) must be Tensor, not NoneType"),
    (lambda t, x: x.mul_(None), "mul_(): argument 'other' (position 1) must be Tensor, not NoneType"),
    (lambda t, x: x.sub_("a"), "sub_(): argument 'other' (position 1) must be Tensor, not str"),
    (lambda t, x: x.add_(None), "add_(): argument 'other' (position 1) must be Tensor, not NoneType"),
    (lambda t, x: x.div_(None), "div_(): argument 'other' (position 1) must be Tensor, not NoneType"),
    (lambda t, x: x.mul(__import__("numpy").ones(2)),
     "mul(): argument 'other' (position 1) must be Tensor, not numpy.ndarray"),
])
def test_functions_and_methods_name_the_bad_argument(backend, call, message):
    assert _error(lambda: call(backend, backend.tensor([1.0, 2.0]))) == (TypeError, message)


def test_a_number_first_is_fine_in_the_function_form(backend):
    t = backend
    x, i = t.tensor([1.0, 2.0], requires_grad=True), t.tensor([1, 2])
    assert t.add(2, x).tolist() == [3.0, 4.0] and t.sub(2, x).tolist() == [1.0, 0.0]
    assert t.div(2, x).tolist() == [2.0, 1.0] and t.add(2, x, alpha=2).tolist() == [4.0, 6.0]
    y = t.mul(2.5, i)
    assert (y.dtype, y.tolist()) == (t.float32, [2.5, 5.0])
    assert t.mul(2, x).grad_fn.name() == "MulBackward0"


def test_numbers_still_work_with_operators(backend):
    import numpy as np
    x = backend.tensor([1.0, 2.0])
    assert (x * True).tolist() == [1.0, 2.0] and (x + np.float32(1)).tolist() == [2.0, 3.0]
    assert (2 - x).tolist() == [1.0, 0.0] and (2 / x).tolist() == [2.0, 1.0] and (2 ** x).tolist() == [2.0, 4.0]


# ----- log_softmax and softmax --------------------------------------------------------------------------------
def test_log_softmax_is_stable_and_recorded_as_one_node(backend):
    t = backend
    x = t.tensor([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]], requires_grad=True)
    for y in (x.log_softmax(1), x.log_softmax(dim=-1), t.log_softmax(x, 1), t.nn.functional.log_softmax(x, dim=1)):
        assert repr(y) == ("tensor([[-2.4076e+00, -1.4076e+00, -4.0761e-01],\n"
                           "        [ 0.0000e+00, -1.0000e+03, -2.0000e+03]],\n"
                           "       grad_fn=<LogSoftmaxBackward0>)")
    node = x.log_softmax(-1).grad_fn
    assert node._saved_dim == 2**64 - 1  # the dim as given, shown unsigned as PyTorch shows it
    assert node._saved_result.tolist() == x.log_softmax(-1).tolist()
    assert t.softmax(x, -1).grad_fn._saved_dim == 2**64 - 1


def test_log_softmax_gradient_is_differentiable_again(backend):
    t = backend
    x = t.tensor([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]], requires_grad=True)
    (g,) = t.autograd.grad((x.log_softmax(1) * t.tensor([1.0, 2.0, 3.0])).sum(), x, create_graph=True)
    assert [[round(v, 4) for v in row] for row in g.tolist()] == [[0.4598, 0.5316, -0.9914], [-5.0, 2.0, 3.0]]
    assert g.grad_fn.name() == "LogSoftmaxBackwardDataBackward0"
    assert [f and f.name() for f, _ in g.grad_fn.next_functions] == [None, "LogSoftmaxBackward0"]  # (a constant)
    assert g.grad_fn._saved_dim == 1 and g.grad_fn._saved_output.grad_fn.name() == "LogSoftmaxBackward0"


def test_softmax_gradient_is_differentiable_again(backend):
    t = backend
    x = t.tensor([[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]], requires_grad=True)
    (g,) = t.autograd.grad(x.softmax(-1).pow(2).sum(), x, create_graph=True)
    assert g.grad_fn.name() == "SoftmaxBackwardDataBackward0"
    assert [f.name() for f, _ in g.grad_fn.next_functions] == ["MulBackward0", "SoftmaxBackward0"]


@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gradcheck_and_gradgradcheck(backend, name, dim):
    t = backend
    x = t.randn(3, 4, dtype=t.float64, requires_grad=True)
    w = t.randn(3, 4, dtype=t.float64)
    f = lambda a: getattr(a, name)(dim) * w  # noqa: E731  (weights make the second derivative non-trivial)
    assert t.autograd.gradcheck(f, (x,)) and t.autograd.gradgradcheck(f, (x,))


@pytest.mark.parametrize("shape, dim", [((2,), 0), ((2, 3), 1), ((2, 2, 2), 0), ((1, 2, 1, 1), 1), ((), 0)])
def test_implicit_dim_warns_and_guesses_as_pytorch(backend, shape, dim):
    t = backend
    x = t.rand(shape)
    for name in ("log_softmax", "softmax"):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            y = getattr(t.nn.functional, name)(x)
        assert [str(w.message) for w in seen] == [f"Implicit dimension choice for {name} has been deprecated. "
                                                  "Change the call to include dim=X as an argument."]
        assert t.equal(y, getattr(x, name)(dim))


@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
def test_dtype_casts_the_input_first(backend, name):
    t = backend
    x = t.tensor([[1.0, 2.0]], requires_grad=True)
    for y in (getattr(x, name)(1, dtype=t.float64), getattr(t, name)(x, 1, t.float64),
              getattr(t.nn.functional, name)(x, dim=1, dtype=t.float64)):
        assert y.dtype == t.float64
        assert [f.name() for f, _ in y.grad_fn.next_functions] == ["ToCopyBackward0"]


@pytest.mark.parametrize("call, kind, message", [
    (lambda t: t.log_softmax(t.ones(2)), TypeError, 'log_softmax() missing 1 required positional arguments: "dim"'),
    (lambda t: t.ones(2).softmax(), TypeError, 'softmax() missing 1 required positional arguments: "dim"'),
    (lambda t: t.ones(2).log_softmax(dim=None), TypeError, "log_softmax(): argument 'dim' must be int, not NoneType"),
    (lambda t: t.tensor([1, 2]).log_softmax(0), NotImplementedError,
     "\"log_softmax_lastdim_kernel_impl\" not implemented for 'Long'"),
    (lambda t: t.tensor([[1, 2]]).softmax(0), NotImplementedError,
     "\"softmax_kernel_impl\" not implemented for 'Long'"),
    (lambda t: t.nn.functional.log_softmax(t.ones(2, 2), 0, dtype=t.int64), NotImplementedError,
     "\"log_softmax_kernel_impl\" not implemented for 'Long'"),
    (lambda t: t.tensor([True]).log_softmax(0), NotImplementedError,
     "\"log_softmax_lastdim_kernel_impl\" not implemented for 'Bool'"),
    (lambda t: t.ones(2, 3).log_softmax(2), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
])
def test_softmax_argument_errors(backend, call, kind, message):
    assert _error(lambda: call(backend)) == (kind, message)


def test_softmax_of_an_empty_dim(backend):
    t = backend
    assert repr(t.ones(3, 0).log_softmax(1)) == "tensor([], size=(3, 0))" and repr(t.ones(0).softmax(0)) == "tensor([])"


def test_log_softmax_of_infinities(backend):
    t = backend
    assert t.tensor([float("-inf"), 1.0]).log_softmax(0).tolist() == [float("-inf"), 0.0]
    assert repr(t.tensor([float("-inf"), float("-inf")]).log_softmax(0)) == "tensor([nan, nan])"


# ----- CUDA when there is none ------------------------------------------------------------------------------------
_NO_CUDA = (AssertionError, "Torch not compiled with CUDA enabled")
_NO_ACCELERATOR = (RuntimeError, "Cannot access accelerator device when none is available.")


@pytest.mark.parametrize("call, expected", [
    # a device named "cuda" (string or torch.device): CUDA is not compiled in
    (lambda t, x: x.to("cuda:0"), _NO_CUDA), (lambda t, x: x.to(t.device("cuda")), _NO_CUDA),
    (lambda t, x: x.to(device="cuda"), _NO_CUDA), (lambda t, x: x.to("cuda", t.float64), _NO_CUDA),
    (lambda t, x: x.cuda(), _NO_CUDA), (lambda t, x: x.cuda("cuda:1"), _NO_CUDA),
    (lambda t, x: x.cuda(t.device("cuda", 1)), _NO_CUDA), (lambda t, x: t.tensor([1.0], device="cuda:0"), _NO_CUDA),
    (lambda t, x: t.randn(2, device="cuda"), _NO_CUDA), (lambda t, x: t.nn.Linear(2, 2).to("cuda"), _NO_CUDA),
    (lambda t, x: t.nn.Linear(2, 2).cuda(), _NO_CUDA),
    # a bare index means "the current accelerator": there is none
    (lambda t, x: x.to(0), _NO_ACCELERATOR), (lambda t, x: x.to(device=0), _NO_ACCELERATOR),
    (lambda t, x: x.cuda(0), _NO_ACCELERATOR), (lambda t, x: x.cuda(device=0), _NO_ACCELERATOR),
    (lambda t, x: t.tensor([1.0], device=0), _NO_ACCELERATOR), (lambda t, x: t.zeros(1, device=1), _NO_ACCELERATOR),
    (lambda t, x: t.nn.Linear(2, 2).to(0), _NO_ACCELERATOR), (lambda t, x: t.set_default_device(0), _NO_ACCELERATOR),
    # the odd ones
    (lambda t, x: x.to(-1), (RuntimeError, "Device index must not be negative")),
    (lambda t, x: x.cuda(-1), (RuntimeError, "Device index must not be negative")),
    (lambda t, x: x.cuda("cpu"), (RuntimeError, "Invalid device, must be cuda device")),
    (lambda t, x: x.to("xpu"), (AssertionError, "Torch not compiled with XPU enabled")),
    (lambda t, x: x.to("mps"), (RuntimeError, "PyTorch is not linked with support for mps devices")),
])
def test_moving_to_a_gpu_fails_as_in_a_cpu_only_torch(backend, call, expected):
    assert _error(lambda: call(backend, backend.ones(2))) == expected


def test_naming_a_cuda_device_is_fine(backend):
    t = backend
    assert repr(t.device("cuda")) == "device(type='cuda')" and str(t.device("cuda", 0)) == "cuda:0"


def test_cuda_module_without_a_gpu(backend):
    cuda = backend.cuda
    assert (cuda.is_available(), cuda.device_count(), cuda.is_initialized(), cuda.is_bf16_supported()) == (
        False, 0, False, False)
    assert (cuda.memory_allocated(), cuda.max_memory_allocated(), cuda.memory_reserved(),
            cuda.max_memory_reserved()) == (0, 0, 0, 0)
    assert (cuda.manual_seed(0), cuda.manual_seed_all(0), cuda.seed(), cuda.seed_all(), cuda.empty_cache()) == (
        None,) * 5
    for ask in (cuda.init, cuda.current_device, cuda.synchronize, cuda.get_device_name,
                lambda: cuda.get_device_properties(0), cuda.get_device_capability, cuda.current_stream):
        assert _error(ask) == _NO_CUDA


def test_numpy_scalars_on_the_left_give_tensors(backend):
    import numpy as np
    x = backend.tensor([1.0, 2.0], requires_grad=True)
    for y, node in ((np.float64(2) * x, "MulBackward0"), (np.sqrt(2) + x, "AddBackward0"),
                    (np.float32(3) - x, "RsubBackward1"), (np.int64(2) ** x, "PowBackward2")):
        assert type(y) is backend.Tensor and y.dtype == backend.float32 and y.grad_fn.name() == node


@pytest.mark.parametrize("expression, message", [
    ("x < None", "'<' not supported between instances of 'Tensor' and 'NoneType'"),
    ("x <= 'a'", "'<=' not supported between instances of 'Tensor' and 'str'"),
    ("x >= [1]", "'>=' not supported between instances of 'Tensor' and 'list'"),
    ("None < x", "'<' not supported between instances of 'NoneType' and 'Tensor'"),
    ("b & None", "unsupported operand type(s) for &: 'Tensor' and 'NoneType'"),
    ("b | None", "unsupported operand type(s) for |: 'Tensor' and 'NoneType'"),
])
def test_comparison_with_a_non_operand_raises_pythons_type_error(backend, expression, message):
    x, b = backend.tensor([1.0, 2.0]), backend.tensor([True, False])
    assert _error(lambda: eval(expression, {"x": x, "b": b})) == (TypeError, message)


def test_equality_with_a_non_operand_is_plain_false(backend):
    x = backend.tensor([1.0, 2.0])
    assert (x == None, x != None, x == "a", x != "a", None == x, x == Foo()) == (  # noqa: E711, SIM300
        False, True, False, True, False, False)
    assert (x == 1).tolist() == [True, False] and (1.5 > x).tolist() == [True, False]  # noqa: SIM300


@pytest.mark.parametrize("name, parameter, value", [
    ("lt", "other", None), ("eq", "other", None), ("ge", "other", "a"), ("pow", "exponent", None)])
def test_method_with_a_non_operand_lists_the_signatures(backend, name, parameter, value):
    got = type(value).__name__
    mismatch = f"      didn't match because some of the arguments have invalid types: (!{got}!)\n"
    message = (f"{name}() received an invalid combination of arguments - got ({got}), but expected one of:\n"
               f" * (Tensor {parameter})\n{mismatch} * (Number {parameter})\n{mismatch}")
    x = backend.tensor([1.0, 2.0])
    assert _error(lambda: getattr(x, name)(value)) == (TypeError, message)


@pytest.mark.parametrize("call, got", [
    (lambda t, x: t.pow(None, x), "NoneType, Tensor"), (lambda t, x: t.pow(x, None), "Tensor, NoneType"),
    (lambda t, x: t.pow(x, "a"), "Tensor, str"), (lambda t, x: t.pow(2, 3), "int, int"),
])
def test_torch_pow_lists_its_signatures(backend, call, got):
    t = backend
    x = t.tensor([1.0, 2.0])
    assert _error(lambda: call(t, x)) == (TypeError, (
        f"pow() received an invalid combination of arguments - got ({got}), but expected one of:\n"
        " * (Tensor input, Tensor exponent, *, Tensor out = None)\n * (Number self, Tensor exponent, *, Tensor out = "
        "None)\n * (Tensor input, Number exponent, *, Tensor out = None)\n"))
    assert t.pow(2, x).tolist() == [2.0, 4.0] and t.pow(x, 2).tolist() == [1.0, 4.0]
    assert t.pow(x, x).tolist() == [1.0, 4.0]
