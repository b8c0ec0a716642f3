"""gradcheck: compare a backward with finite differences, the way torch.autograd.gradcheck does.

For every input element, nudge it by ±eps and watch the outputs move: that is
the numerical Jacobian. Then ask backward for one row at a time: the analytical
Jacobian. They must agree (``allclose`` with ``atol``/``rtol``). Use float64:
in float32 the finite differences are too noisy to tell a bug from rounding.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd_lab._tensor import Tensor
from autograd_lab.autograd.engine import grad


class GradcheckError(RuntimeError):
    """Raised by gradcheck and gradgradcheck when the gradients disagree."""


def _as_tuple(x: Any) -> tuple:
    return x if isinstance(x, tuple) else tuple(x) if isinstance(x, list) else (x,)


def _differentiable_outputs(outputs: tuple) -> list[Tensor]:
    return [o for o in outputs if isinstance(o, Tensor) and o.requires_grad]


def _tensor_outputs(outputs: tuple) -> list[Tensor]:
    return [o for o in outputs if isinstance(o, Tensor)]


def _numerical_jacobian(func: Callable, inputs: tuple, i: int, outputs: list[Tensor], eps: float,
                        pick: Callable[[tuple], list[Tensor]] = _differentiable_outputs) -> list[np.ndarray]:
    """d(outputs)/d(inputs[i]) by central differences; one (input numel × output numel) matrix per output.

    ``pick`` chooses, among what ``func`` returns, the ``outputs`` to differentiate.
    """
    x = inputs[i]._data  # nudged in place, behind autograd's back (no version bump)
    columns: list[list[np.ndarray]] = [[] for _ in outputs]
    for j in range(x.size):
        original = x.flat[j]
        x.flat[j] = original - eps  # in the input's own dtype: in float32 this rounding is the noise
        # flatten() copies: an output that is a view of x would change when x is nudged again
        minus = [o._data.flatten() for o in pick(_as_tuple(func(*inputs)))]
        x.flat[j] = original + eps
        plus = [o._data.flatten() for o in pick(_as_tuple(func(*inputs)))]
        x.flat[j] = original
        for k in range(len(outputs)):
            columns[k].append((plus[k] - minus[k]) / (2 * eps))
    return [np.array(c, dtype=o._data.dtype).reshape(x.size, o.numel()) for c, o in zip(columns, outputs)]


def _analytical_jacobian(inputs: tuple, diff: list[int], output: Tensor) -> list[np.ndarray]:
    """d(output)/d(each input) from backward, one unit grad_output at a time."""
    rows = [np.zeros((inputs[i].numel(), output.numel()), inputs[i]._data.dtype) for i in diff]
    for k in range(output.numel()):
        unit = np.zeros(output._data.shape, output._data.dtype)
        unit.flat[k] = 1
        grads = grad(output, [inputs[i] for i in diff], Tensor(unit), retain_graph=True, allow_unused=True)
        for r, g in zip(rows, grads):
            if g is not None:
                r[:, k] = g._data.ravel()
    return rows


def gradcheck(func: Callable[..., Any], inputs: Tensor | Sequence[Any], *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, nondet_tol: float = 0.0) -> bool:
    """True if ``func``'s backward matches finite differences for every input that requires grad."""
    inputs = _as_tuple(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    for i in diff:
        if inputs[i].dtype.name != "float64":
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point or complex. "
                          "This check will likely fail if all the inputs are not of double precision floating point "
                          "or complex. ", UserWarning, stacklevel=2)
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them have "
                         "requires_grad=True.")
    returned = _as_tuple(func(*inputs))
    outputs = _differentiable_outputs(returned)
    try:
        if not outputs:  # nothing to ask backward about: then the function must not depend on its inputs
            _check_no_differentiable_outputs(func, inputs, diff, _tensor_outputs(returned), eps)
        for k, out in enumerate(outputs):
            analytical = _analytical_jacobian(inputs, diff, out)
            again = _analytical_jacobian(inputs, diff, out)
            for n, i in enumerate(diff):
                numerical = _numerical_jacobian(func, inputs, i, outputs, eps)[k]
                if not np.allclose(analytical[n], numerical, rtol=rtol, atol=atol):
                    raise GradcheckError(f"Jacobian mismatch for output {k:d} with respect to input {i:d},\n"
                                         f"numerical:{Tensor(numerical)}\nanalytical:{Tensor(analytical[n])}\n")
                if np.abs(analytical[n] - again[n]).max(initial=0) > nondet_tol:
                    raise GradcheckError("Backward is not reentrant, i.e., running backward with same input and "
                                         "grad_output multiple times gives different values, although analytical "
                                         f"gradient matches numerical gradient.The tolerance for nondeterminism was "
                                         f"{nondet_tol}.")
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _check_no_differentiable_outputs(func: Callable, inputs: tuple, diff: list[int], outputs: list[Tensor],
                                     eps: float) -> None:
    """No output requires grad (e.g. a ``.detach()`` at the end): passing would be vacuous, unless the
    outputs really do not move when the inputs do."""
    for i in diff:
        for jacobian in _numerical_jacobian(func, inputs, i, outputs, eps, pick=_tensor_outputs):
            if np.count_nonzero(jacobian):
                raise GradcheckError("Numerical gradient for function expected to be zero")


def gradgradcheck(func: Callable[..., Any], inputs: Tensor | Sequence[Any], grad_outputs: Any = None, *,
                  eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
                  nondet_tol: float = 0.0) -> bool:
    """gradcheck of the backward pass itself: checks second derivatives (needs create_graph support)."""
    inputs = _as_tuple(inputs)
    outputs = _differentiable_outputs(_as_tuple(func(*inputs)))
    if grad_outputs is None:  # random vectors in [-1, 1], as PyTorch's make_tensor(low=-1, high=1)
        rng = np.random.default_rng(0)
        grad_outputs = tuple(Tensor(rng.uniform(-1, 1, o._data.shape).astype(o._data.dtype), requires_grad=True)
                             for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    n_out = len(grad_outputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]

    def first_derivative(*args: Any) -> tuple:
        outs = _differentiable_outputs(_as_tuple(func(*args[:-n_out])))
        wrt = [args[i] for i in diff]
        grads = grad(outs, wrt, list(args[-n_out:]), create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol)
