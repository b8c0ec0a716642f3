"""torch.autograd.functional: Jacobians, Hessians and their products with a vector, built on ``autograd.grad``.

Reverse mode gives vector-Jacobian products (vjp) directly: one ``grad`` call.
A Jacobian is one vjp per output element (a row each). A Jacobian-vector product
(jvp) uses the *double-backward trick*, as PyTorch does: the vjp ``u -> u^T J``
is linear in ``u``, so differentiating it with respect to ``u`` in the direction
``v`` gives ``J v``. Hessians are Jacobians of gradients.

As in PyTorch, a function given one tensor gets one tensor back, and a function
given a tuple gets a tuple (of tuples, for Jacobians of several outputs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autograd_lab import _grad_mode
from autograd_lab._creation import zeros_like
from autograd_lab._ops.joining import stack
from autograd_lab._tensor import Tensor
from autograd_lab.autograd.engine import grad

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]

Tensors = tuple[Tensor, ...]


def _as_tuple(value: Any, name: str, fn: str) -> tuple[bool, Tensors]:
    """(was it a tuple?, the tensors as a tuple), with PyTorch's error for anything but tensors."""
    is_tuple = isinstance(value, tuple)
    values = value if is_tuple else (value,)
    for i, v in enumerate(values):
        if not isinstance(v, Tensor):
            which = f"value at index {i}" if is_tuple else f"given {name}"
            raise TypeError(f"The {name} given to {fn} must be either a Tensor or a tuple of Tensors but the "
                            f"{which} has type {type(v)}.")
    return is_tuple, values


def _unpack(values: Any, is_tuple: bool) -> Any:
    return values if is_tuple else values[0]


def _unpack_nested(values: Any, outer_is_tuple: bool, inner_is_tuple: bool) -> Any:
    """Undo the tupling of a tuple (per output) of tuples (per input)."""
    if not inner_is_tuple:
        values = tuple(row[0] for row in values)
    return values if outer_is_tuple else values[0]


def _differentiable_copies(inputs: Tensors, create_graph: bool) -> Tensors:
    """New tensor objects to differentiate with respect to.

    With ``create_graph`` a view keeps the link to the caller's tensor (so the
    result can be differentiated again); otherwise a detached copy suffices.
    """
    return tuple(t.view_as(t) if create_graph and t.requires_grad else t.detach().requires_grad_(True)
                 for t in inputs)


def _constants(v: Tensors, create_graph: bool) -> Tensors:
    """The vector v: kept in the graph only when the result is to be differentiated."""
    return tuple(t.view_as(t) if create_graph and t.requires_grad else t.detach() for t in v)


def _check_v(v: Tensors, like: Tensors, like_is_tuple: bool) -> None:
    if len(v) != len(like):
        if like_is_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(like)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, like)):
        if a.shape != b.shape:
            where = f"Entry {i} in " if like_is_tuple else ""
            raise RuntimeError(f"{where}v has invalid size: should be {b.shape} but got {a.shape}.")


_OF_INPUT = "the input to the user-provided function is"
_OF_OUTPUT = "the user-provided function returns"


def _vector(v: Any, like: Tensors, like_is_tuple: bool, create_graph: bool, fn: str, what: str) -> Tensors | None:
    """The user's v, checked against ``like``; None is allowed only when there is one number to multiply."""
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise RuntimeError(f"The vector v can only be None if {what} a single Tensor with a single element.")
        return None
    v = _constants(_as_tuple(v, "v", fn)[1], create_graph)
    _check_v(v, like, like_is_tuple)
    return v


def _require_grad(tensors: Any, strict: bool, message: str) -> None:
    """strict mode: fail when some tensor does not depend on the inputs (``{i}`` in message is its index)."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(_INDEPENDENT.format(i=i))
        if not t.requires_grad:
            raise RuntimeError(message.format(i=i))


_OUTPUT_NOT_DIFFERENTIABLE = ("Output {i} of the user-provided function does not require gradients. The outputs must "
                              "be computed in a differentiable manner from the input when running in strict mode.")


def _grad(outputs: Any, inputs: Tensors, grad_outputs: Any = None, create_graph: bool = False,
          retain_graph: bool | None = None) -> tuple[Tensor | None, ...]:
    """autograd.grad over the outputs that need a gradient; None for inputs nothing depends on."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    outs, grads = zip(*pairs)
    return grad(outs, inputs, grads, retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)


def _zeros_for_none(grads: tuple[Tensor | None, ...], like: Tensors, strict: bool, create_graph: bool,
                    missing: str, constant: str) -> Tensors:
    """Zeros where nothing depended on an input (the right answer), unless strict mode forbids it."""
    filled = []
    for i, (g, ref) in enumerate(zip(grads, like)):
        if g is None:
            if strict:
                raise RuntimeError(missing.format(i=i))
            g = zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            raise RuntimeError(constant.format(i=i))
        filled.append(g)
    return tuple(filled)


_INDEPENDENT = ("The output of the user-provided function is independent of input {i}. "
                "This is not allowed in strict mode.")
_CONSTANT_JACOBIAN = ("The jacobian of the user-provided function is independent of input {i}. "
                      "This is not allowed in strict mode when create_graph=True.")
_CONSTANT_HESSIAN = ("The hessian of the user-provided function is independent of input {i}. "
                     "This is not allowed in strict mode when create_graph=True.")


def _detached(values: Any, create_graph: bool) -> Any:
    """Results carry no history unless the caller asked for a graph (nested tuples allowed)."""
    if create_graph:
        return values
    if isinstance(values, Tensor):
        return values.detach()
    return tuple(_detached(v, create_graph) for v in values)


def _call(func: Callable[..., Any], inputs: Tensors, fn: str, strict: bool) -> tuple[bool, Tensors]:
    is_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", fn)
    _require_grad(outputs, strict, _OUTPUT_NOT_DIFFERENTIABLE)
    return is_tuple, outputs


def _scalar_output(func: Callable[..., Any], inputs: Tensors, fn: str, strict: bool) -> Tensor:
    """func's output, which vhp, hvp and hessian need to be one tensor with one element."""
    is_tuple, outputs = _call(func, inputs, fn, strict)
    if is_tuple:
        raise RuntimeError(f"The function given to {fn} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn} should contain a single element")
    return outputs[0]


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), v^T J): the vector-Jacobian product, one backward pass."""
    with _grad_mode.enable_grad():
        inputs_are_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _differentiable_copies(inputs, create_graph)
        outputs_are_tuple, outputs = _call(func, inputs, "vjp", strict)
        v = _vector(v, outputs, outputs_are_tuple, create_graph, "vjp", _OF_OUTPUT)
    with _grad_mode.set_grad_enabled(create_graph or _grad_mode.is_grad_enabled()):
        products = _zeros_for_none(_grad(outputs, inputs, v, create_graph), inputs, strict, create_graph,
                                   _INDEPENDENT, _CONSTANT_JACOBIAN)
    return (_unpack(_detached(outputs, create_graph), outputs_are_tuple),
            _unpack(_detached(products, create_graph), inputs_are_tuple))


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), J v): the Jacobian-vector product, by differentiating a vjp with respect to its vector."""
    with _grad_mode.enable_grad():
        inputs_are_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _differentiable_copies(inputs, create_graph)
        v = _vector(v, inputs, inputs_are_tuple, create_graph, "jvp", _OF_INPUT)
        outputs_are_tuple, outputs = _call(func, inputs, "jvp", strict)
        # u^T J is linear in u, so u's value does not matter: zeros keep NaN and inf out
        u = tuple(zeros_like(o, requires_grad=True) for o in outputs)
        u_jacobian = _grad(outputs, inputs, u, create_graph=True)
        _require_grad(u_jacobian, strict, "The gradient with respect to input {i} is independent of the inputs of "
                                          "the user-provided function. This is not allowed in strict mode.")
    with _grad_mode.set_grad_enabled(create_graph or _grad_mode.is_grad_enabled()):
        products = _zeros_for_none(
            _grad(u_jacobian, u, v, create_graph), outputs, strict, create_graph,
            "The gradient with respect to the input is independent of entry {i} in the grad_outputs when using the "
            "double backward trick to compute forward mode gradients. This is not allowed in strict mode.",
            _CONSTANT_JACOBIAN)
    return (_unpack(_detached(outputs, create_graph), outputs_are_tuple),
            _unpack(_detached(products, create_graph), outputs_are_tuple))


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """d func / d inputs: one vjp per output element, stacked into shape output.shape + input.shape.

    ``vectorize`` and ``strategy="forward-mode"`` are accepted for compatibility: they
    change how PyTorch computes the same numbers, not the numbers.
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                             'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                             'Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True` and '
                                      '`strategy="forward-mode"` are not supported together (yet). Please either '
                                      'set `create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` '
                               'are not supported together (yet). Please either set `strict=False` or '
                               '`strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                                      "only implemented for `vectorize=True`.")
    with _grad_mode.enable_grad():
        inputs_are_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _differentiable_copies(inputs, create_graph)
        outputs_are_tuple, outputs = _call(func, inputs, "jacobian", strict)
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
                               "supported together. Please either set `strict=False` or `vectorize=False`.")
        result = tuple(_jacobian_of(i, out, inputs, create_graph, strict) for i, out in enumerate(outputs))
    return _unpack_nested(_detached(result, create_graph), outputs_are_tuple, inputs_are_tuple)


def _jacobian_of(i: int, output: Tensor, inputs: Tensors, create_graph: bool, strict: bool) -> Tensors:
    """The Jacobian of one output with respect to each input: row k is the gradient of output element k."""
    rows: list[list[Tensor]] = [[] for _ in inputs]
    flat = output.reshape(-1)
    for k in range(output.numel()):
        for j, (g, x) in enumerate(zip(_grad((flat[k],), inputs, retain_graph=True, create_graph=create_graph),
                                       inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is independent of input {j}. "
                                       "This is not allowed in strict mode.")
                g = zeros_like(x)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(f"The jacobian of the user-provided function is independent of input {i}. "
                                   "This is not allowed in strict mode when create_graph=True.")
            rows[j].append(g)
    return tuple(stack(r).view(output.shape + x.shape) for r, x in zip(rows, inputs))


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The matrix of second derivatives of a scalar function: the Jacobian of its gradient."""
    inputs_are_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def gradient(*xs: Tensor) -> Any:
        if outer_jacobian_strategy == "forward-mode":
            xs = tuple(x.requires_grad_(True) for x in xs)
        g = jacobian(lambda *ys: _scalar_output(func, ys, "hessian", strict).squeeze(), xs, create_graph=True)
        _require_grad(_as_tuple(g, "jacobian", "hessian")[1], strict,
                      "While computing the hessian, found that the jacobian of the user-provided function with "
                      "respect to input {i} is independent of the input. This is not allowed in strict mode. You "
                      "should ensure that your function is twice differentiable and that the jacobian depends on "
                      "the inputs (this would be violated by a linear function for example).")
        return g

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                      strategy=outer_jacobian_strategy)
    return _unpack_nested(result, inputs_are_tuple, inputs_are_tuple)


def _gradient_and_vector(func: Callable[..., Any], inputs: Any, v: Any, create_graph: bool, strict: bool,
                         name: str) -> tuple[bool, tuple, tuple, Any, tuple]:
    """What vhp and hvp both start from: the inputs, v checked against them, func's output and its gradient."""
    inputs_are_tuple, inputs = _as_tuple(inputs, "inputs", name)
    inputs = _differentiable_copies(inputs, create_graph)
    v = _vector(v, inputs, inputs_are_tuple, create_graph, name, _OF_INPUT)
    output = _scalar_output(func, inputs, name, strict)
    gradient = _grad((output,), inputs, create_graph=True)
    _require_grad(gradient, strict, _JACOBIAN_CONSTANT_IN_HESSIAN)
    return inputs_are_tuple, inputs, v, output, gradient


def vhp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), v^T H): a vjp of the gradient, two backward passes."""
    with _grad_mode.enable_grad():
        inputs_are_tuple, inputs, v, output, gradient = _gradient_and_vector(func, inputs, v, create_graph, strict,
                                                                             "vhp")
    with _grad_mode.set_grad_enabled(create_graph or _grad_mode.is_grad_enabled()):
        products = _zeros_for_none(_grad(gradient, inputs, v, create_graph), inputs, strict, create_graph,
                                   "The jacobian of the user-provided function is independent of input {i}. This is "
                                   "not allowed in strict mode.", _CONSTANT_HESSIAN)
    return _detached(output, create_graph), _unpack(_detached(products, create_graph), inputs_are_tuple)


def hvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), H v): the double-backward trick applied to the gradient (three backward passes)."""
    with _grad_mode.enable_grad():
        inputs_are_tuple, inputs, v, output, gradient = _gradient_and_vector(func, inputs, v, create_graph, strict,
                                                                             "hvp")
        u = tuple(zeros_like(x, requires_grad=True) for x in inputs)
        u_hessian = _grad(gradient, inputs, u, create_graph=True)
    with _grad_mode.set_grad_enabled(create_graph or _grad_mode.is_grad_enabled()):
        products = _zeros_for_none(
            _grad(u_hessian, u, v, create_graph), inputs, strict, create_graph,
            "The hessian of the user-provided function is independent of entry {i} in the grad_jacobian. This is "
            "not allowed in strict mode as it prevents from using the double backward trick to replace forward "
            "mode AD.", _CONSTANT_HESSIAN)
    return _detached(output, create_graph), _unpack(_detached(products, create_graph), inputs_are_tuple)


_JACOBIAN_CONSTANT_IN_HESSIAN = (
    "While computing the hessian, found that the jacobian of the user-provided function with respect to input {i} "
    "is independent of the input. This is not allowed in strict mode. You should ensure that your function is "
    "twice differentiable and that the jacobian depends on the inputs (this would be violated by a linear function "
    "for example).")
