"""The book's two examples (p94, PyTorch 0.3 code) run verbatim, and behave as under PyTorch 2.13."""

from __future__ import annotations

import importlib

import pytest

# The book's Mul, exactly as printed (line breaks restored): run by the tests below, and as a script.
BOOK_MUL = """
class Mul(Function):
    @staticmethod
    def forward(ctx, w, x, b, x_requires_grad = True):
        ctx.x_requires_grad = x_requires_grad
        ctx.save_for_backward(w,x)
        output = w*x+b
        return output
    @staticmethod
    def backward(ctx, grad_output):
        w,x = ctx.saved_variables
        grad_w = grad_output * x
        if ctx.x_requires_grad:
            grad_x = grad_output * w
        else:
            grad_x = None
        grad_b = grad_output * 1
        return grad_w, grad_x, grad_b, None
"""


def _book_mul(backend):
    namespace = {"Function": backend.autograd.Function}
    exec(BOOK_MUL, namespace)
    return namespace["Mul"]


def _book_multiply_add(backend, printed: bool):
    Function = backend.autograd.Function

    class MultiplyAdd(Function):
        @staticmethod
        def forward(ctx, w, x, b):
            print('type in forward', type(x).__name__)
            if printed:
                ctx.save_for_backward()  # as printed in this copy of the book
            else:
                ctx.save_for_backward(w, x)
            output = w*x+b
            return output

        @staticmethod
        def backward(ctx, grad_output):
            w,x = ctx.saved_variables
            print('type in backward', type(x).__name__)
            grad_w = grad_output * x
            grad_x = grad_output * w
            grad_b = grad_output * 1
            return grad_w, grad_x, grad_b
    return MultiplyAdd


def test_mul_runs_and_warns_about_saved_variables(backend):
    Mul = _book_mul(backend)
    t = backend
    w, x, b = (t.tensor([2.0, 3.0], requires_grad=True) for _ in range(3))
    z = Mul.apply(w, x, b)
    assert z.grad_fn.name() == "MulBackward"
    with pytest.warns(DeprecationWarning, match="'saved_variables' is deprecated; use 'saved_tensors'"):
        z.sum().backward()
    assert w.grad.tolist() == [2.0, 3.0]
    assert x.grad.tolist() == [2.0, 3.0]
    assert b.grad.tolist() == [1.0, 1.0]


def test_mul_with_x_requires_grad_false_leaves_x_without_grad(backend):
    Mul = _book_mul(backend)
    w = backend.tensor([2.0], requires_grad=True)
    x = backend.tensor([3.0], requires_grad=True)
    b = backend.tensor([1.0], requires_grad=True)
    with pytest.warns(DeprecationWarning):
        Mul.apply(w, x, b, False).backward()
    assert x.grad is None
    assert w.grad.item() == 3.0


def test_mul_double_backward(backend):
    """backward is written with tensor ops, so the gradient of the gradient exists (the book's point)."""
    Mul = _book_mul(backend)
    w = backend.tensor([2.0, -1.0], requires_grad=True)
    x = backend.tensor([3.0, 4.0], requires_grad=True)
    b = backend.tensor([1.0, 1.0], requires_grad=True)
    with pytest.warns(DeprecationWarning):
        (gw,) = backend.autograd.grad(Mul.apply(w, x, b).sum(), w, create_graph=True)
        assert gw.tolist() == [3.0, 4.0]
        (gx,) = backend.autograd.grad((gw * gw).sum(), x)  # d/dx sum(x^2) = 2x
    assert gx.tolist() == [6.0, 8.0]


def test_multiply_add_as_printed_fails_on_unpacking(backend, capsys):
    MultiplyAdd = _book_multiply_add(backend, printed=True)
    V = backend.autograd.Variable
    t = backend
    x = V(t.ones(1))
    w = V(t.rand(1), requires_grad = True)
    b = V(t.rand(1), requires_grad = True)
    z = MultiplyAdd.apply(w, x, b)
    unpacking = r"not enough values to unpack \(expected 2, got 0\)"
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match=unpacking):
        z.backward()
    assert (x.grad, w.grad, b.grad) == (None, None, None)
    assert capsys.readouterr().out == "type in forward Tensor\n"


def test_multiply_add_fixed_runs(backend, capsys):
    MultiplyAdd = _book_multiply_add(backend, printed=False)
    V = backend.autograd.Variable
    t = backend
    x = V(t.ones(1))
    w = V(t.rand(1), requires_grad=True)
    b = V(t.rand(1), requires_grad=True)
    z = MultiplyAdd.apply(w, x, b)
    with pytest.warns(DeprecationWarning):
        z.backward()
    assert x.grad is None  # x does not require grad
    assert w.grad.tolist() == [1.0]
    assert b.grad.tolist() == [1.0]
    assert capsys.readouterr().out == "type in forward Tensor\ntype in backward Tensor\n"


def test_seeded_rand_matches_between_engines():
    """manual_seed(0); rand(1) gives PyTorch's numbers, so the book's MultiplyAdd prints the same values."""
    torch = importlib.import_module("torch")
    lab = importlib.import_module("autograd_lab")
    for module in (torch, lab):
        module.manual_seed(0)
    assert lab.rand(1).tolist() == torch.rand(1).tolist()


BOOK_SCRIPT = '''
import warnings
warnings.simplefilter("always")
import autograd_lab as t
from autograd_lab.autograd import Function, Variable as V
''' + BOOK_MUL + '''

w, x, b = (V(t.ones(1) * k, requires_grad = True) for k in (2, 3, 4))
Mul.apply(w, x, b).backward()
print("Mul:", w.grad, x.grad, b.grad)

class MultiplyAdd(Function):
    @staticmethod
    def forward(ctx, w, x, b):
        print('type in forward', type(x))
        ctx.save_for_backward()
        output = w*x+b
        return output
    @staticmethod
    def backward(ctx, grad_output):
        w,x = ctx.saved_variables
        print('type in backward', type(x))
        grad_w = grad_output * x
        grad_x = grad_output * w
        grad_b = grad_output * 1
        return grad_w, grad_x, grad_b

x = V(t.ones(1))
w = V(t.rand(1), requires_grad = True)
b = V(t.rand(1), requires_grad = True)
print('forward')
z = MultiplyAdd.apply(w,x,b)
print('backward')
z.backward()
'''


def test_the_books_code_runs_verbatim_as_a_script():
    """`python -c` with the book's code and `import autograd_lab as t`: Mul runs, MultiplyAdd fails as printed."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", BOOK_SCRIPT], check=False, capture_output=True, text=True)
    assert "Mul: tensor([3.]) tensor([2.]) tensor([1.])" in run.stdout
    assert "type in forward <class 'torch.Tensor'>\nbackward\n" in run.stdout
    assert "DeprecationWarning: 'saved_variables' is deprecated; use 'saved_tensors'" in run.stderr
    assert run.stderr.rstrip().endswith("ValueError: not enough values to unpack (expected 2, got 0)")
    assert run.returncode == 1
