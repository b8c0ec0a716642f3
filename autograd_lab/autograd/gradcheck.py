"""gradcheck: compare a backward with finite differences, the way torch.autograd.gradcheck does.

For every input element, nudge it by ±eps and watch the outputs move: that is
the numerical Jacobian. Then ask backward for one row at a time: the analytical
Jacobian (twice: the same question must get the same answer). They must agree
(``allclose`` with ``atol``/``rtol``). Two more questions follow, as in PyTorch:
a zero grad_output must give zero gradients (backward multiplies by it), and so
must a missing one (backward copes with "no gradient here"). With
``check_forward_ad=True`` forward mode is asked too: a unit tangent on one input
element at a time gives a column of the Jacobian. Use float64: in float32 the
finite differences are too noisy to tell a bug from rounding.

The checks run in PyTorch's order, with as many calls of ``func`` and of its
backward, so what a student's forward or backward prints shows up as often.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd_lab._tensor import Tensor
from autograd_lab.autograd import forward_ad
from autograd_lab.autograd.engine import grad
from autograd_lab.autograd.function import Function


class GradcheckError(RuntimeError):
    """Raised by gradcheck and gradgradcheck when the gradients disagree."""

    __module__ = "torch.autograd.gradcheck"  # a traceback names it as PyTorch's


def _as_tuple(x: Any) -> tuple:
    return x if isinstance(x, tuple) else tuple(x) if isinstance(x, list) else (x,)


def _differentiable_outputs(outputs: tuple) -> list[Tensor]:
    return [o for o in outputs if isinstance(o, Tensor) and o.requires_grad]


def _tensor_outputs(outputs: tuple) -> list[Tensor]:
    return [o for o in outputs if isinstance(o, Tensor)]


def _numerical_jacobians(func: Callable, inputs: tuple, diff: list[int], eps: float) -> list[list[np.ndarray]]:
    """d(outputs)/d(inputs[i]) by central differences, for each i in ``diff``: per input, one
    (input numel × output numel) matrix per tensor output of ``func`` (two calls of func per element)."""
    jacobians = []
    for i in diff:
        x = inputs[i]._data  # nudged in place, behind autograd's back (no version bump)
        columns: list[list[np.ndarray]] = []
        for j in range(x.size):
            original = x.flat[j]
            x.flat[j] = original - eps  # in the input's own dtype: in float32 this rounding is the noise
            # flatten() copies: an output that is a view of x would change when x is nudged again
            minus = [o._data.flatten() for o in _tensor_outputs(_as_tuple(func(*inputs)))]
            x.flat[j] = original + eps
            plus = [o._data.flatten() for o in _tensor_outputs(_as_tuple(func(*inputs)))]
            x.flat[j] = original
            columns.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
        jacobians.append([np.array(c, dtype=c[0].dtype).reshape(x.size, c[0].size) for c in zip(*columns)])
    return jacobians


def _analytical_jacobian(inputs: tuple, diff: list[int], output: Tensor) -> list[np.ndarray]:
    """d(output)/d(each input) from backward, one unit grad_output at a time."""
    rows = [np.zeros((inputs[i].numel(), output.numel()), inputs[i]._data.dtype) for i in diff]
    for k in range(output.numel()):
        unit = np.zeros(output._data.shape, output._data.dtype)
        unit.flat[k] = 1
        grads = grad(output, [inputs[i] for i in diff], Tensor._wrap(unit), retain_graph=True, allow_unused=True)
        for r, g in zip(rows, grads):
            if g is not None:
                r[:, k] = g._data.ravel()
    return rows


def _reentrant_jacobian(inputs: tuple, diff: list[int], output: Tensor, nondet_tol: float) -> list[np.ndarray]:
    """The analytical Jacobian, asked twice: backward must give the same answer again."""
    first = _analytical_jacobian(inputs, diff, output)
    again = _analytical_jacobian(inputs, diff, output)
    if any(a.size and np.abs(a - b).max() > nondet_tol for a, b in zip(first, again)):
        raise GradcheckError("Backward is not reentrant, i.e., running backward with same input and grad_output "
                             "multiple times gives different values, although analytical gradient matches numerical "
                             f"gradient.The tolerance for nondeterminism was {nondet_tol}.")
    return first


def _check_inputs(inputs: tuple) -> None:
    """PyTorch's warning for inputs to differentiate that are not float64 (as PyTorch's, it names this line)."""
    for i in _differentiated(inputs):
        if inputs[i].dtype.name != "float64":
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point or complex. "
                          "This check will likely fail if all the inputs are not of double precision floating point "
                          "or complex. ", UserWarning, stacklevel=2)
    if not _differentiated(inputs):
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them have "
                         "requires_grad=True.")


def _differentiated(inputs: tuple) -> list[int]:
    """The positions of the inputs to differentiate."""
    return [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]


def gradcheck(func: Callable[..., Any], inputs: Tensor | Sequence[Any], *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False, check_batched_grad: bool = False,
              check_batched_forward_grad: bool = False, check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked: bool | None = None) -> bool:
    """True if ``func``'s backward matches finite differences for every input that requires grad.

    Every Jacobian entry is compared (``fast_mode`` would compare one random projection of it: the slow
    check is at least as strict). Gradient dtypes are always checked; ``masked`` only matters for sparse
    inputs, which autograd_lab does not have.
    """
    _refuse_unchecked({"check_batched_grad": check_batched_grad, "check_batched_forward_grad":
                       check_batched_forward_grad})
    if not (check_backward_ad or check_forward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    tupled_inputs = _as_tuple(inputs)
    _check_inputs(tupled_inputs)
    inputs, diff = tupled_inputs, _differentiated(tupled_inputs)
    try:
        returned = _as_tuple(func(*inputs))
        outputs = _differentiable_outputs(returned)
        if check_backward_ad:
            _compare_backward(func, inputs, diff, returned, eps, atol, rtol, nondet_tol)
        if check_forward_ad:
            _compare_forward(func, inputs, diff, bool(outputs), eps, atol, rtol)
            if check_undefined_grad:
                _check_undefined_tangents(func, inputs, diff)
        if not check_backward_ad:
            return True
        _check_backward_multiplies_by_grad_output(outputs, [inputs[i] for i in diff])
        if check_undefined_grad:
            _check_undefined_grad_outputs(func, inputs, [inputs[i] for i in diff], len(outputs))
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _compare_backward(func: Callable, inputs: tuple, diff: list[int], returned: tuple, eps: float, atol: float,
                      rtol: float, nondet_tol: float) -> None:
    """Backward's Jacobian (asked one row at a time) against finite differences."""
    outputs = _differentiable_outputs(returned)
    numerical = _numerical_jacobians(func, inputs, diff, eps)
    if not outputs:
        _expect_zero(numerical)
    differentiable = [k for k, o in enumerate(_tensor_outputs(returned)) if o.requires_grad]
    for k, out in enumerate(outputs):
        analytical = _reentrant_jacobian(inputs, diff, out, nondet_tol)
        for n in range(len(diff)):
            _expect_close(analytical[n], numerical[n][differentiable[k]], k, n, "", atol, rtol)


def _compare_forward(func: Callable, inputs: tuple, diff: list[int], differentiable: bool, eps: float,
                     atol: float, rtol: float) -> None:
    """Forward mode's Jacobian (one unit tangent per input element) against finite differences."""
    numerical = _numerical_jacobians(func, inputs, diff, eps)
    if not differentiable:
        _expect_zero(numerical)
        return
    forward = _forward_jacobians(func, inputs, diff)
    for n in range(len(diff)):
        for k, (a, expected) in enumerate(zip(forward[n], numerical[n])):
            _expect_close(a, expected, k, n, "computed with forward mode ", atol, rtol)


def _expect_zero(numerical: list[list[np.ndarray]]) -> None:
    """No output to ask about: then the function must not depend on its inputs."""
    if any(np.count_nonzero(j) for per_input in numerical for j in per_input):
        raise GradcheckError("Numerical gradient for function expected to be zero")


def _expect_close(analytical: np.ndarray, numerical: np.ndarray, output: int, input: int, mode: str, atol: float,
                  rtol: float) -> None:
    if not np.allclose(analytical, numerical, rtol=rtol, atol=atol):
        raise GradcheckError(f"Jacobian {mode}mismatch for output {output:d} with respect to input {input:d},\n"
                             f"numerical:{Tensor._wrap(numerical)}\nanalytical:{Tensor._wrap(analytical)}\n")


def _forward_jacobians(func: Callable, inputs: tuple, diff: list[int]) -> list[list[np.ndarray]]:
    """d(outputs)/d(inputs[i]) for each i in ``diff``, from forward mode: one call of func per input element,
    with a unit tangent on that element (zero tangents on the other inputs)."""
    jacobians = []
    with forward_ad.dual_level():
        for i in diff:
            rows = []
            for j in range(inputs[i].numel()):
                unit = np.zeros_like(inputs[i]._data)
                unit.flat[j] = 1
                outputs = _tensor_outputs(_as_tuple(func(*_duals(inputs, diff, {i: unit}))))
                rows.append([_tangent(o) for o in outputs])
            jacobians.append([np.array(c, dtype=c[0].dtype).reshape(len(rows), -1) for c in zip(*rows)])
    return jacobians


def _duals(inputs: tuple, diff: list[int], tangents: dict[int, np.ndarray | None]) -> list[Any]:
    """The inputs, those in ``diff`` made dual: tangent ``tangents[i]`` (zeros if absent; None: not dual)."""
    duals = list(inputs)
    for i in diff:
        tangent = tangents.get(i, np.zeros_like(inputs[i]._data))
        duals[i] = inputs[i].detach() if tangent is None else forward_ad.make_dual(inputs[i].detach(),
                                                                                   Tensor._wrap(tangent))
    return duals


def _tangent(output: Tensor) -> np.ndarray:
    """An output's tangent, flat (zeros where forward mode gave it none)."""
    tangent = forward_ad.unpack_dual(output).tangent
    return np.zeros(output.numel(), output._data.dtype) if tangent is None else tangent._data.ravel()


def _check_undefined_tangents(func: Callable, inputs: tuple, diff: list[int]) -> None:
    """An input with no tangent must count as a zero tangent: func runs twice per input, once with a zero
    tangent on it and once with a plain tensor (the other inputs carry tangents), and the results must agree."""
    others = {i: np.random.default_rng(i).uniform(-1, 1, inputs[i]._data.shape).astype(inputs[i]._data.dtype)
              for i in diff}
    with forward_ad.dual_level():
        for i in diff:
            zero = _tensor_outputs(_as_tuple(func(*_duals(inputs, diff, {**others, i: np.zeros_like(others[i])}))))
            plain = _tensor_outputs(_as_tuple(func(*_duals(inputs, diff, {**others, i: None}))))
            for k, (a, b) in enumerate(zip(zero, plain)):
                if not np.allclose(_tangent(a), _tangent(b)):
                    raise GradcheckError(f"Mismatch in tangent values for output with index: {k} when input: "
                                         f"{inputs[i]} has an undefined tangent value.")


def _refuse_unchecked(asked: dict[str, bool]) -> None:
    """What autograd_lab's gradcheck can't check (vmap, forward over reverse): say so, never pass silently."""
    for name, value in asked.items():
        if value:
            raise NotImplementedError(f"gradcheck({name}=True) is not part of autograd_lab: it checks backward "
                                      "and forward mode against finite differences, one input element at a time")


def _check_backward_multiplies_by_grad_output(outputs: list[Tensor], wrt: list[Tensor]) -> None:
    """A zero grad_output must give zero gradients, of each input's dtype and shape."""
    zeros = [Tensor._wrap(np.zeros_like(o._data)) for o in outputs]
    for g, x in zip(grad(outputs, wrt, zeros, allow_unused=True), wrt):
        if g is None:
            continue
        if np.count_nonzero(g._data):
            raise GradcheckError("backward not multiplied by grad_output")
        if g.dtype != x.dtype:
            raise GradcheckError("grad is incorrect type")
        if g.shape != x.shape:
            raise GradcheckError("grad is incorrect size")


class _UndefinedGrad(Function):
    """Passes its input on; its backward says "no gradient" (None), as PyTorch's UndefinedGrad node does."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        return x

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> None:
        return None


_UNDEFINED_GRAD_HELP = ('Please look at "Notes about undefined output gradients" in "tools/autograd/'
                        'derivatives.yaml"')


def _check_undefined_grad_outputs(func: Callable, inputs: tuple, wrt: list[Tensor], n_outputs: int) -> None:
    """Backward must cope with outputs that get no gradient at all: every gradient then None or zero.
    All outputs without one first; with several outputs, then each one alone (func runs again each time)."""
    cases = [[_UndefinedGrad.apply(o) for o in _differentiable_outputs(_as_tuple(func(*inputs)))]]
    if len(cases[0]) > 1:
        for k in range(n_outputs):
            outputs = _differentiable_outputs(_as_tuple(func(*inputs)))
            cases.append([_UndefinedGrad.apply(o) if j == k else o for j, o in enumerate(outputs)])
    for outputs in cases:
        try:
            grads = grad(outputs, wrt, [Tensor._wrap(np.zeros_like(o._data)) for o in outputs], allow_unused=True)
        except RuntimeError as error:
            _warn_undefined_grad_check_is_new()
            raise GradcheckError(f"Expected backward function to handle undefined output grads. "
                                 f"{_UNDEFINED_GRAD_HELP}") from error
        if any(g is not None and np.count_nonzero(g._data) for g in grads):
            _warn_undefined_grad_check_is_new()
            raise GradcheckError("Expected all input grads to be undefined or zero when all output grads are "
                                 f"undefined or zero. {_UNDEFINED_GRAD_HELP}")


def _warn_undefined_grad_check_is_new() -> None:
    warnings.warn("Backwards compatibility: New undefined gradient support checking feature is enabled by default, "
                  "but it may break existing callers of this function. If this is true for you, you can call this "
                  'function with "check_undefined_grad=False" to disable the feature', UserWarning, stacklevel=4)


def gradgradcheck(func: Callable[..., Any], inputs: Tensor | Sequence[Any], grad_outputs: Any = None, *,
                  eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
                  check_grad_dtypes: bool = False, check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False, masked: bool = False) -> bool:
    """gradcheck of the backward pass itself: checks second derivatives (needs create_graph support).
    (Memory layout is NumPy's here, so ``gen_non_contig_grad_outputs`` changes nothing.)"""
    _refuse_unchecked({"check_batched_grad": check_batched_grad, "check_fwd_over_rev": check_fwd_over_rev})
    if not check_rev_over_rev:
        raise AssertionError("Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True")
    inputs = _as_tuple(inputs)
    if grad_outputs is None:  # random vectors in [-1, 1], as PyTorch's make_tensor(low=-1, high=1)
        outputs = _differentiable_outputs(_as_tuple(func(*inputs)))
        # drawn from the default generator, as PyTorch does (so a seeded program's later draws match it too)
        grad_outputs = tuple(Tensor._wrap(np.empty(o._data.shape, o._data.dtype)).uniform_(-1, 1).requires_grad_()
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
                     raise_exception=raise_exception, nondet_tol=nondet_tol, check_undefined_grad=check_undefined_grad)
