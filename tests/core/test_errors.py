"""The errors students hit: same exception type and PyTorch's wording, under both engines."""

from __future__ import annotations

import re

import pytest


def raises(exc: type[Exception], message: str):
    """Expect ``exc`` whose message contains PyTorch's ``message`` verbatim."""
    return pytest.raises(exc, match=re.escape(message))


def _identity_function(backend, grads):
    class Identity(backend.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grads(grad)
    return Identity


def test_wrong_number_of_gradients(backend):
    F = _identity_function(backend, lambda g: g)
    x = backend.ones(2, requires_grad=True)
    with raises(RuntimeError, "function IdentityBackward returned an incorrect number of gradients "
                              "(expected 2, got 1)"):
        F.apply(x, x).sum().backward()


def test_extra_trailing_none_gradients_are_allowed(backend):
    F = _identity_function(backend, lambda g: (g, None, None))
    x = backend.ones(2, requires_grad=True)
    F.apply(x, x).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_gradient_of_the_wrong_shape(backend):
    F = _identity_function(backend, lambda g: (g[:1], None))
    x = backend.ones(3, requires_grad=True)
    with raises(RuntimeError, "Function IdentityBackward returned an invalid gradient at index 0 - got [1] but "
                              "expected shape compatible with [3]"):
        F.apply(x, x).sum().backward()


def test_broadcast_shaped_gradient_is_summed_back(backend):
    """The engine sums a gradient the input's shape broadcasts to (as PyTorch's validate_outputs does)."""
    F = _identity_function(backend, lambda g: (g.reshape(1, 3).expand(2, 3), None))
    x = backend.ones(3, requires_grad=True)
    F.apply(x, x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_backward_through_a_freed_graph(backend):
    x = backend.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with raises(RuntimeError, "Trying to backward through the graph a second time (or directly access saved "
                              "tensors after they have already been freed)"):
        y.backward()


def test_retain_graph_allows_a_second_backward(backend):
    x = backend.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_non_scalar_backward_needs_a_gradient(backend):
    x = backend.tensor([1.0, 2.0], requires_grad=True)
    with raises(RuntimeError, "grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()


def test_gradient_of_the_wrong_shape_for_backward(backend):
    x = backend.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with raises(RuntimeError, "Mismatch in shape: grad_output[0] has a shape of torch.Size([2]) and output[0] "
                              "has a shape of torch.Size([3])."):
        (x * 2).backward(backend.ones(2))


def test_backward_on_a_tensor_without_grad_fn(backend):
    with raises(RuntimeError, "element 0 of tensors does not require grad and does not have a grad_fn"):
        backend.tensor([1.0]).backward()


def test_inplace_change_of_a_saved_tensor(backend):
    x = backend.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y * y
    y.add_(1)
    with raises(RuntimeError, "one of the variables needed for gradient computation has been modified by an "
                              "inplace operation: [torch.FloatTensor [2]], which is output 0 of Add, is at "
                              "version 1; expected version 0 instead. Hint: enable anomaly detection to find the "
                              "operation that failed to compute its gradient, with "
                              "torch.autograd.set_detect_anomaly(True, check_nan=False)."):
        z.sum().backward()


def test_inplace_on_a_leaf_that_requires_grad(backend):
    x = backend.tensor([1.0, 2.0], requires_grad=True)
    with raises(RuntimeError, "a leaf Variable that requires grad is being used in an in-place operation."):
        x.add_(1)
    assert x.tolist() == [1.0, 2.0]  # nothing was changed
    with backend.no_grad():
        x.add_(1)  # allowed: this is how optimizers update parameters
    assert x.tolist() == [2.0, 3.0]


def test_changing_requires_grad_of_a_non_leaf(backend):
    x = backend.tensor([1.0], requires_grad=True)
    y = x * 2
    with raises(RuntimeError, "you can only change requires_grad flags of leaf variables. If you want to use a "
                              "computed variable in a subgraph that doesn't require differentiation use "
                              "var_no_grad = var.detach()."):
        y.requires_grad = False
    with raises(RuntimeError, "you can only change requires_grad flags of leaf variables."):
        y.requires_grad = True


def test_requires_grad_on_an_integer_tensor(backend):
    with raises(RuntimeError, "Only Tensors of floating point and complex dtype can require gradients"):
        backend.tensor([1, 2], requires_grad=True)
    with raises(RuntimeError, "only Tensors of floating point dtype can require gradients"):
        backend.tensor([1, 2]).requires_grad_()
    with raises(RuntimeError, "only Tensors of floating point and complex dtype can require gradients"):
        backend.tensor([1, 2]).requires_grad = True


def test_numpy_on_a_tensor_that_requires_grad(backend):
    x = backend.tensor([1.0], requires_grad=True)
    with raises(RuntimeError, "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0]


def test_unused_input_in_autograd_grad(backend):
    w = backend.tensor(1.0, requires_grad=True)
    u = backend.tensor(2.0, requires_grad=True)
    with raises(RuntimeError, "The differentiated Tensor at index 1 appears to not have been used in the graph. Set "
                              "allow_unused=True if this is the desired behavior."):
        backend.autograd.grad(w * 2, [w, u])
    assert backend.autograd.grad(w * 2, [w, u], allow_unused=True)[1] is None


def test_grad_wrt_a_tensor_that_does_not_require_grad(backend):
    w = backend.tensor(1.0, requires_grad=True)
    with raises(RuntimeError, "One of the differentiated Tensors does not require grad"):
        backend.autograd.grad(w * 2, [backend.tensor(1.0)])


def test_hook_on_a_tensor_that_does_not_require_grad(backend):
    with raises(RuntimeError, "cannot register a hook on a tensor that doesn't require gradient"):
        backend.tensor(1.0).register_hook(print)


def test_shape_errors(backend):
    t = backend
    x = t.tensor([1.0, 2.0, 3.0])
    m = t.ones(2, 3)
    with raises(RuntimeError, "The size of tensor a (3) must match the size of tensor b (2) at non-singleton "
                              "dimension 0"):
        x + t.ones(2)
    with raises(RuntimeError, "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"):
        m @ m
    with raises(RuntimeError, "shape '[2, 2]' is invalid for input of size 3"):
        x.view(2, 2)
    with raises(RuntimeError, "view size is not compatible with input tensor's size and stride"):
        m.t().view(6)
    with raises(RuntimeError, "t() expects a tensor with <= 2 dimensions, but self is 3D"):
        t.ones(2, 2, 2).t()
    with raises(RuntimeError, "The expanded size of the tensor (4) must match the existing size (3) at "
                              "non-singleton dimension 1.  Target sizes: [2, 4].  Tensor sizes: [3]"):
        x.expand(2, 4)
    with raises(RuntimeError, "Tensors must have same number of dimensions: got 1 and 2"):
        t.cat([x, m])
    with raises(IndexError, "Dimension out of range (expected to be in range of [-1, 0], but got 5)"):
        x.sum(5)
    with raises(IndexError, "index 5 is out of bounds for dimension 0 with size 3"):
        x[5]
    with raises(RuntimeError, "inconsistent tensor size, expected tensor [3] and src [2] to have the same number "
                              "of elements, but got 3 and 2 elements respectively"):
        x @ t.ones(2)


def test_scalar_conversion_errors(backend):
    x = backend.tensor([1.0, 2.0, 3.0])
    with raises(RuntimeError, "a Tensor with 3 elements cannot be converted to Scalar"):
        x.item()
    with raises(ValueError, "only one element tensors can be converted to Python scalars"):
        float(x)
    with raises(RuntimeError, "Boolean value of Tensor with more than one value is ambiguous"):
        bool(x)


def test_mean_of_integers(backend):
    with raises(RuntimeError, "mean(): could not infer output dtype. Input dtype must be either a floating point "
                              "or complex dtype. Got: Long"):
        backend.tensor([1, 2]).mean()


def test_integer_to_negative_power(backend):
    with raises(RuntimeError, "Integers to negative integer powers are not allowed."):
        backend.tensor([1, 2]) ** -1


def test_legacy_function_call(backend):
    class F(backend.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

    with pytest.warns(DeprecationWarning, match="should not be instantiated"):
        f = F()
    with raises(RuntimeError, "Legacy autograd function with non-static forward method is deprecated."):
        f(backend.ones(1))


def test_gradient_for_a_non_tensor_input_must_be_none(backend):
    class Scale(backend.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    x = backend.ones(2, requires_grad=True)
    with raises(RuntimeError, "function ScaleBackward returned a gradient different than None at position 2, but "
                              "the corresponding forward input was not a Variable"):
        Scale.apply(x, 3.0).sum().backward()


def test_once_differentiable_refuses_double_backward(backend):
    class Square(backend.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @backend.autograd.function.once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 2 * x

    x = backend.tensor([3.0], requires_grad=True)
    v = backend.ones(1, requires_grad=True)  # a grad_output that itself requires grad
    (g,) = backend.autograd.grad(Square.apply(x), x, v, create_graph=True)
    assert g.tolist() == [6.0]
    assert repr(g) == "tensor([6.], grad_fn=<Error>)"
    with raises(RuntimeError, "trying to differentiate twice a function that was marked with @once_differentiable"):
        g.sum().backward()


def test_indexing_a_0d_tensor(backend):
    loss = backend.tensor(3.0)
    with raises(IndexError, "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
                            "in C++ to convert a 0-dim tensor to a number"):
        loss.data[0]  # the PyTorch 0.3 idiom; today: loss.item()
    assert loss[None].tolist() == [3.0]


def test_volatile_variables_are_gone(backend):
    with pytest.warns(UserWarning, match="volatile was removed and now has no effect"):
        v = backend.autograd.Variable(backend.ones(1), volatile=True)
    assert v.tolist() == [1.0]


def test_from_numpy_needs_an_array(backend):
    import numpy as np

    with raises(TypeError, "expected np.ndarray (got list)"):
        backend.from_numpy([1.0])
    with raises(TypeError, "expected np.ndarray (got numpy.float32)"):
        backend.from_numpy(np.float32(1.0))


def test_cat_errors(backend):
    t = backend
    with raises(RuntimeError, "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for "
                              "tensor number 1 in the list."):
        t.cat([t.zeros(2, 3), t.zeros(2, 4)])
    with raises(TypeError, "expected Tensor as element 1 in argument 0, but got list"):
        t.cat([t.zeros(2), [1.0]])


def test_negative_slice_steps(backend):
    with raises(ValueError, "step must be greater than zero"):
        backend.zeros(3)[::-1]


def test_sum_to_size_needs_an_expandable_size(backend):
    with raises(RuntimeError, "size {[4]} is not expandable to size {[2, 3]}."):
        backend.ones(2, 3).sum_to_size(4)
