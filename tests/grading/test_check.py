"""autograd_lab.check: each common mistake in a custom Function gets its own verdict and hint."""

from __future__ import annotations

import pytest

import autograd_lab as al
from autograd_lab import nn
from autograd_lab.autograd import Function
from autograd_lab.check import (
    CheckFailedError,
    _finite_differences,
    check_function,
    check_training,
    judge,
    measure_function,
    start_exercise,
    to_torch,
)


def three(*shape):
    return tuple(al.randn(*shape, requires_grad=True) for _ in range(3))


def mul_reference(w, x, b):
    return w * x + b


class Mul(Function):
    @staticmethod
    def forward(ctx, w, x, b, x_requires_grad=True):
        ctx.x_requires_grad = x_requires_grad
        ctx.save_for_backward(w, x)
        return w * x + b

    @staticmethod
    def backward(ctx, grad_output):
        w, x = ctx.saved_tensors
        grad_x = grad_output * w if ctx.x_requires_grad else None
        return grad_output * x, grad_x, grad_output, None


def failures(fn, inputs=lambda: three(3), **options) -> list[str]:
    result = check_function(fn, inputs, reference=options.pop("reference", mul_reference), **options)
    return [v.text for v in result.verdicts if not v.ok]


def test_a_correct_function_passes_every_verdict_and_earns_its_points(capsys):
    result = check_function(Mul, lambda: three(3), reference=mul_reference, points=3)
    assert result.passed and result.score == 3
    printed = capsys.readouterr().out.splitlines()
    assert printed == [str(v) for v in result.verdicts] and all(line.startswith("✓ ") for line in printed)
    assert repr(result) == "✓ 3/3 points"


def test_a_failing_check_earns_no_points_and_says_so():
    class NoChain(Mul):
        @staticmethod
        def backward(ctx, grad_output):
            w, x = ctx.saved_tensors
            return x, grad_output * w, grad_output, None

    result = check_function(NoChain, lambda: three(3), points=1)
    assert result.score == 0 and repr(result).startswith("✗ 0/1 point: fix the first ✗ line above")


def test_forgotten_save_for_backward_gets_its_hint():
    class NoSave(Mul):
        @staticmethod
        def forward(ctx, w, x, b, x_requires_grad=True):
            ctx.x_requires_grad = x_requires_grad
            ctx.save_for_backward()
            return w * x + b

    [failure] = failures(NoSave)
    assert "not enough values to unpack" in failure and "forward saved nothing" in failure


def test_swapped_gradients_are_recognised():
    class Swapped(Mul):
        @staticmethod
        def backward(ctx, grad_output):
            w, x = ctx.saved_tensors
            return grad_output * w, grad_output * x, grad_output, None

    found = failures(Swapped)
    assert found[0].startswith("grad of w differs by up to") and "that is the gradient of x" in found[0]
    assert found[1].startswith("grad of x differs by up to") and "that is the gradient of w" in found[1]


def test_missing_grad_output_factor_is_recognised():
    class NoChain(Mul):
        @staticmethod
        def backward(ctx, grad_output):
            w, x = ctx.saved_tensors
            return x, grad_output * w, grad_output, None

    [failure] = failures(NoChain)
    assert failure.startswith("grad of w") and "multiply by grad_output" in failure


def test_wrong_number_of_gradients_is_reported():
    class TooFew(Mul):
        @staticmethod
        def backward(ctx, grad_output):
            w, x = ctx.saved_tensors
            return grad_output * x, grad_output * w

    [failure] = failures(TooFew)
    assert failure.startswith("backward returns 2 value(s) for the 3 inputs of forward (w, x, b)")


def test_none_for_an_input_that_requires_grad_is_reported():
    class NoneForB(Mul):
        @staticmethod
        def backward(ctx, grad_output):
            w, x = ctx.saved_tensors
            return grad_output * x, grad_output * w, None, None

    assert failures(NoneForB) == ["grad of b is None, but b requires grad. Hint: return d(output)/d(b) * "
                                  "grad_output in position 3"]


def test_a_gradient_where_none_is_expected_is_reported():
    class IgnoresFlag(Mul):
        @staticmethod
        def backward(ctx, grad_output):
            w, x = ctx.saved_tensors
            return grad_output * x, grad_output * w, grad_output, None

    assert check_function(Mul, lambda: (*three(3), False), expect_none=["x"]).passed
    [failure] = failures(IgnoresFlag, lambda: (*three(3), False), expect_none=["x"], reference=None)
    assert failure.startswith("backward returns a gradient for x, but it should return None here")


def test_unreduced_broadcast_gradient_is_caught_only_by_the_direct_call():
    class LazyLinear(Function):
        @staticmethod
        def forward(ctx, x, weight, b):
            ctx.save_for_backward(x, weight)
            return x @ weight.T + b

        @staticmethod
        def backward(ctx, grad_output):
            x, weight = ctx.saved_tensors
            return grad_output @ weight, grad_output.T @ x, grad_output  # grad of b not summed over rows

    def inputs():
        return al.randn(5, 3, requires_grad=True), al.randn(2, 3, requires_grad=True), al.randn(2, requires_grad=True)

    m = measure_function(LazyLinear, inputs, 0, None, {"backward": True, "double_backward": False,
                                                       "expect_none": [], "rtol": 1e-4, "atol": 1e-5})
    assert m["autograd_lab"]["grads"][2]["shape"] == [2]  # the engine summed it: .backward() looks right
    assert m["direct"]["returned"][2] == [5, 2]
    assert [v.text for v in judge(m, m) if not v.ok] == [
        "backward returns a gradient of shape [5, 2] for b of shape [2]. Hint: sum it over the broadcast "
        "dimensions so that it has b's shape"]


def test_deprecated_saved_variables_is_a_warning_that_costs_nothing():
    class Old(Mul):
        @staticmethod
        def backward(ctx, grad_output):
            w, x = ctx.saved_variables
            return grad_output * x, grad_output * w, grad_output, None

    result = check_function(Old, lambda: three(3), reference=mul_reference, points=3)
    [warning] = [v for v in result.verdicts if v.warning]
    assert result.score == 3 and str(warning).startswith("⚠ uses a deprecated API") and "saved_tensors" in str(warning)


def test_the_stub_gets_the_stub_hint():
    class Stub(Function):
        @staticmethod
        def forward(ctx, w, x, b):
            raise NotImplementedError

        @staticmethod
        def backward(ctx, grad_output):
            raise NotImplementedError

    [failure] = failures(Stub)
    assert failure.startswith("not done yet: forward still raises NotImplementedError")
    assert "replace `raise NotImplementedError`" in failure


def test_a_bare_not_implemented_error_in_a_double_backward_check_is_not_done_yet():
    class HalfDone(Cube):
        @staticmethod
        def backward(ctx, grad_output):
            raise NotImplementedError

    found = failures(HalfDone, vector, reference=lambda x: x**3, double_backward=True)
    assert found == ["not done yet: backward still raises NotImplementedError. Hint: replace `raise "
                     "NotImplementedError` (and the `# YOUR CODE HERE` line) with your code"]


def test_gradgradcheck_of_an_exception_without_a_message_names_its_type():
    def bare(*args):
        raise NotImplementedError

    assert _finite_differences(al.autograd.gradgradcheck, bare, (vector(),)) == "NotImplementedError"


def test_a_check_never_raises_into_its_cell(capsys):
    class NotAFunction:
        pass

    result = check_function(NotAFunction, lambda: three(3))
    assert not result.passed and "check_function checks a Function subclass" in result.verdicts[0].text


def test_under_pytest_in_a_kernel_a_failing_check_raises(monkeypatch):
    import autograd_lab.check as checker

    monkeypatch.setattr(checker, "_under_pytest", lambda: True)
    with pytest.raises(CheckFailedError, match="0/2 points"):
        check_function(Cube, vector, reference=lambda x: x**2, points=2)
    assert check_function(Cube, vector, reference=lambda x: x**3, points=2).passed


def test_a_lesson_showing_a_failing_check_never_raises(monkeypatch):
    import autograd_lab.check as checker

    monkeypatch.setattr(checker, "_exercise", False)  # start_exercise() was never called: not an exercise
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "lessons/06.ipynb::Cell 9")
    assert checker._under_pytest() is False


def test_start_exercise_makes_torch_autograd_lab_for_the_notebooks_code_only(monkeypatch):
    import builtins

    import torch

    import autograd_lab.check as checker

    monkeypatch.setattr(checker, "_exercise", False)
    real = builtins.__import__
    try:
        start_exercise()
        notebook = {"__name__": "__main__"}
        exec("import torch\nfrom torch.autograd import Function\nimport torch.nn as nn", notebook)
        assert notebook["torch"] is al and notebook["Function"] is Function and notebook["nn"] is al.nn
        library = {"__name__": "somewhere.else"}
        exec("import torch", library)
        assert library["torch"] is torch
    finally:
        builtins.__import__ = real


def test_a_wrong_forward_is_compared_with_the_reference():
    class Plus(Mul):
        @staticmethod
        def forward(ctx, w, x, b, x_requires_grad=True):
            ctx.x_requires_grad = x_requires_grad
            ctx.save_for_backward(w, x)
            return w * x - b

    assert failures(Plus)[0].startswith("forward's output differs by up to")


def test_code_that_works_only_in_autograd_lab_fails_under_real_torch():
    class Internal(Mul):
        @staticmethod
        def backward(ctx, grad_output):
            w, x = ctx.saved_tensors
            return grad_output * al.from_numpy(x._data), grad_output * w, grad_output, None

    [failure] = failures(Internal)
    assert failure.startswith("under real torch, backward raised AttributeError")


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 3 * x**2


def vector():
    return al.randn(4, dtype=al.float64, requires_grad=True)


def test_a_detached_backward_fails_the_second_order_checks():
    class DetachedCube(Cube):
        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 3 * x.detach() ** 2

    found = failures(DetachedCube, vector, reference=lambda x: x**3, double_backward=True)
    assert [f.split(":")[0] for f in found] == ["gradgradcheck fails under autograd_lab",
                                                "gradgradcheck fails under real torch", "double backward raised "
                                                "RuntimeError"]
    assert all("differentiable tensor ops" in f for f in found)


def test_a_double_differentiable_backward_passes_the_second_order_checks():
    result = check_function(Cube, vector, double_backward=True)
    assert result.passed
    assert "the Hessian-vector product matches torch autograd" in [v.text for v in result.verdicts]


def test_the_pytorch2_style_is_checked_too():
    class Mul2(Function):
        @staticmethod
        def forward(w, x, b):
            return w * x + b

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0], inputs[1])

        @staticmethod
        def backward(ctx, grad_output):
            w, x = ctx.saved_tensors
            return grad_output * x, grad_output * w, grad_output

    assert check_function(Mul2, lambda: three(2, 2), reference=mul_reference).passed


def test_to_torch_rebinds_the_students_globals():
    import torch

    def softplus(x):
        return al.log(1 + al.exp(x))

    twin = to_torch(softplus)
    assert twin.__globals__["al"] is torch
    assert isinstance(twin(torch.zeros(2)), torch.Tensor)
    assert issubclass(to_torch(Mul), torch.autograd.Function) and to_torch(Mul).forward.__code__ is \
        Mul.forward.__code__


def test_judge_takes_expectations_from_the_trusted_measurement():
    class ConsistentButWrong(Function):  # forward and backward agree with each other, not with the task
        @staticmethod
        def forward(ctx, w, x, b):
            ctx.save_for_backward(w, x)
            return w * x * 2 + b

        @staticmethod
        def backward(ctx, grad_output):
            w, x = ctx.saved_tensors
            return grad_output * x * 2, grad_output * w * 2, grad_output

    options = {"backward": True, "double_backward": False, "expect_none": [], "rtol": 1e-4, "atol": 1e-5}
    student = measure_function(ConsistentButWrong, lambda: three(3), 5, None, options)
    master = measure_function(Mul, lambda: three(3), 5, None, options)
    assert all(v.ok for v in judge(student, student))  # on its own, nothing to compare with
    failed = [v.text.split(" differs")[0] for v in judge(student, master) if not v.ok]
    assert failed == ["forward's output", "grad of w", "grad of x"]


def test_judge_refuses_a_measurement_on_other_inputs():
    options = {"backward": True, "double_backward": False, "expect_none": [], "rtol": 1e-4, "atol": 1e-5}
    def reseeded():  # what a kernel whose random generator was tampered with would build
        al.manual_seed(6)
        return three(3)

    master = measure_function(Mul, lambda: three(3), 5, None, options)
    other = measure_function(Mul, reseeded, 5, None, options)
    assert [v.text for v in judge(other, master)] == [
        "the check ran on other inputs than the grader's. Hint: does your code change torch's random generator or "
        "default dtype?"]


# ----- training -------------------------------------------------------------------------------------
def setup():
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    return model, al.randn(16, 4), al.randn(16, 1)


def fit(model, optimizer, x, y):
    for _ in range(3):
        optimizer.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
    return optimizer


def freeze_first(model, x, y):
    for p in model[0].parameters():
        p.requires_grad_(False)
    return fit(model, al.optim.SGD(model.parameters(), lr=0.1), x, y)


def train_all(model, x, y):
    return fit(model, al.optim.SGD(model.parameters(), lr=0.1), x, y)


def test_training_with_a_frozen_layer_passes():
    result = check_training(freeze_first, setup, frozen=["0.weight", "0.bias"])
    assert result.passed
    assert [v.text for v in result.verdicts][:3] == ["0.weight, 0.bias are frozen (requires_grad=False)",
                                                      "0.weight, 0.bias stay unchanged", "2.weight, 2.bias are trained"]


def test_training_that_moves_a_frozen_layer_fails():
    failed = [v.text for v in check_training(train_all, setup, frozen=["0.weight", "0.bias"]).verdicts if not v.ok]
    assert failed[0].startswith("0.weight, 0.bias still require(s) grad")
    assert failed[1].startswith("0.weight changed (differs by up to")


@pytest.mark.parametrize("lr", [0.1, 0.05])
def test_param_groups_are_compared_with_the_expected_ones(lr):
    def train_head(model, x, y):
        return fit(model, al.optim.SGD(model[2].parameters(), lr=lr), x, y)

    result = check_training(train_head, setup, unchanged=["0.weight", "0.bias"],
                            groups=[(["2.weight", "2.bias"], 0.1)])
    assert result.passed == (lr == 0.1)
