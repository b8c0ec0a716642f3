"""torch.func: gradients and vectorisation as function transforms (``grad(f)`` is a new function).

Each transform here is built on the autograd engine the course is about: ``grad(f)(x)`` runs f on a
tensor that requires grad and calls ``autograd.grad``; inside another transform (``grad(grad(f))``) it
records its own backward (``create_graph``) so the outer one can differentiate it again. ``vmap(f)`` runs
f once per slice of the batch and stacks the results: the same values as PyTorch's batching rules (up to
the last bits of what those sum in another order), with Python's loop instead of batched kernels.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from autograd_lab import _grad_mode
from autograd_lab._creation import zeros_like
from autograd_lab._ops.joining import stack
from autograd_lab._tensor import Tensor
from autograd_lab.autograd.engine import grad as _autograd_grad

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "vjp", "vmap"]


def _argnums_tuple(argnums: int | tuple[int, ...], count: int) -> tuple[tuple[int, ...], bool]:
    single = isinstance(argnums, int)
    numbers = (argnums,) if single else tuple(argnums)
    for n in numbers:
        if not isinstance(n, int) or not -count <= n < count:
            raise RuntimeError(f"Got argnums={argnums}, but only {count} positional inputs")
    return tuple(n % count for n in numbers), single


def _leaves(tree: Any) -> list[Any]:
    """The tensors (and other leaves) of a nest of tuples, lists and dicts, in order (PyTorch's pytrees)."""
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in _leaves(item)]
    if isinstance(tree, dict):
        return [leaf for item in tree.values() for leaf in _leaves(item)]
    return [tree]


def _rebuilt(tree: Any, leaves: Iterator[Any]) -> Any:
    """``tree``'s shape, with its leaves taken in order from ``leaves``."""
    if isinstance(tree, (tuple, list)):
        return type(tree)(_rebuilt(item, leaves) for item in tree)
    if isinstance(tree, dict):
        return {key: _rebuilt(item, leaves) for key, item in tree.items()}
    return next(leaves)


def _mapped(tree: Any, f: Callable[[Any], Any]) -> Any:
    return _rebuilt(tree, iter([f(leaf) for leaf in _leaves(tree)]))


def _tracked(t: Tensor) -> Tensor:
    """A tensor to differentiate with respect to: inside an outer transform (t requires grad) a view that keeps
    the link, else a fresh leaf."""
    return t.view_as(t) if t.requires_grad else t.detach().requires_grad_(True)


def _done(t: Any, nested: bool, inner: tuple[Tensor, ...] = ()) -> Any:
    """What a transform returns: cut from the graph unless something outside it will differentiate it (an outer
    transform, or a tensor f used that requires grad: PyTorch keeps that link)."""
    if isinstance(t, Tensor):
        return t if nested or (t.grad_fn is not None and _reaches_beyond(t, inner)) else t.detach()
    if isinstance(t, (tuple, list, dict)):
        return _mapped(t, lambda v: _done(v, nested, inner))
    return t


def _reaches_beyond(t: Tensor, inner: tuple[Tensor, ...]) -> bool:
    """Does t's graph lead to a leaf other than the transform's own inputs ``inner``?"""
    own = {id(x) for x in inner}
    seen, stack = set(), [t.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        leaf = getattr(node, "variable", None)
        if leaf is not None and id(leaf) not in own:
            return True
        stack.extend(child for child, _ in node.next_functions)
    return False


def grad_and_value(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
                   has_aux: bool = False) -> Callable[..., Any]:
    """A function returning (gradient of func's scalar output with respect to args[argnums], that output). An
    argument may be a tensor or a nest of tuples, lists and dicts of them (a model's parameters by name): its
    gradient has the same shape."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        numbers, single = _argnums_tuple(argnums, len(args))
        for n in numbers:
            for leaf in _leaves(args[n]):
                if not isinstance(leaf, Tensor):
                    raise ValueError(f"Thing passed to transform API must be Tensor, got {type(leaf)}")
        nested = any(leaf.requires_grad for n in numbers for leaf in _leaves(args[n]))
        outside = _grad_mode.is_grad_enabled()
        with _grad_mode.enable_grad():
            args = tuple(_mapped(a, _tracked) if i in numbers else a for i, a in enumerate(args))
            result = func(*args, **kwargs)
            if has_aux and not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError("grad_and_value(f)(*args): output of function f should be a tuple: (output, aux) "
                                   "if has_aux is True")
            output, aux = result if has_aux else (result, None)
            if not isinstance(output, Tensor):
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                                   f"{type(output)}")
            if output.ndim != 0:
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                                   f"tensor with {output.ndim} dims. Maybe you wanted to use the vjp or jacrev APIs "
                                   "instead?")
            inputs = tuple(leaf for n in numbers for leaf in _leaves(args[n]))
            if output.requires_grad:
                grads = _autograd_grad(output, inputs, create_graph=outside, allow_unused=True)
            else:
                grads = (None,) * len(inputs)
            grads = iter([zeros_like(x) if g is None else g for g, x in zip(grads, inputs)])
            shaped = tuple(_rebuilt(args[n], grads) for n in numbers)
        gradient = _done(shaped[0] if single else shaped, nested, inputs)
        value = _done(output, nested, inputs)
        return (gradient, (value, _done(aux, nested, inputs))) if has_aux else (gradient, value)
    return wrapper


def grad(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable[..., Any]:
    """A function returning the gradient of func's scalar output with respect to args[argnums]."""
    transformed = grad_and_value(func, argnums, has_aux)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        gradient, value = transformed(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient
    return wrapper


def vjp(func: Callable[..., Any], *primals: Tensor, has_aux: bool = False) -> tuple[Any, ...]:
    """(func(*primals), vjp_fn): vjp_fn(v) is v^T J, the vector-Jacobian product, one entry per primal."""
    nested = any(p.requires_grad for p in primals)
    with _grad_mode.enable_grad():
        inputs = tuple(_tracked(p) for p in primals)
        result = func(*inputs)
    output, aux = result if has_aux else (result, None)
    outputs = output if isinstance(output, tuple) else (output,)

    def vjp_fn(*cotangents: Any) -> tuple[Tensor, ...]:
        vectors = cotangents[0] if len(cotangents) == 1 and isinstance(output, tuple) else cotangents
        pairs = [(o, v) for o, v in zip(outputs, vectors) if o.requires_grad]
        grads: tuple[Tensor | None, ...] = (None,) * len(inputs)  # (an output that does not depend on them: zeros)
        if pairs:
            with _grad_mode.enable_grad():
                grads = _autograd_grad([o for o, _ in pairs], inputs, [v for _, v in pairs], retain_graph=True,
                                       create_graph=_grad_mode.is_grad_enabled(), allow_unused=True)
        return tuple(_done(zeros_like(x) if g is None else g, nested, inputs) for g, x in zip(grads, inputs))
    done = _done(output, nested, inputs)
    return (done, vjp_fn, _done(aux, nested, inputs)) if has_aux else (done, vjp_fn)


def jvp(func: Callable[..., Any], primals: tuple[Tensor, ...], tangents: tuple[Tensor, ...],
        has_aux: bool = False) -> tuple[Any, ...]:
    """(func(*primals), J v): the Jacobian-vector product in the direction ``tangents`` (by the double-backward
    trick: the vjp u -> u^T J is linear in u, and its own vjp with v is J v)."""
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it should be valid to "
                           "call f(*primals).")
    if len(primals) != len(tangents):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have the same python "
                           f"structure. For example, if primals is a tuple of 3 tensors, tangents also must be. Got "
                           f"primals with structure {len(primals)} and tangents with structure {len(tangents)}")
    nested = any(p.requires_grad for p in primals)
    outside = _grad_mode.is_grad_enabled()
    with _grad_mode.enable_grad():
        inputs = tuple(_tracked(p) for p in primals)
        result = func(*inputs)
        output, aux = result if has_aux else (result, None)
        outputs = output if isinstance(output, tuple) else (output,)
        dummies = tuple(zeros_like(o).requires_grad_(True) for o in outputs)
        live = [(o, d) for o, d in zip(outputs, dummies) if o.requires_grad]  # (a constant output: J v is 0)
        pulled = _autograd_grad([o for o, _ in live], inputs, [d for _, d in live], create_graph=True,
                                allow_unused=True) if live else (None,) * len(inputs)
        used = [(g, v) for g, v in zip(pulled, tangents) if g is not None]
        if used:
            pushed = _autograd_grad([g for g, _ in used], dummies, [v for _, v in used], create_graph=outside,
                                    allow_unused=True)
        else:
            pushed = (None,) * len(dummies)
        pushed = tuple(zeros_like(o) if p is None else p for p, o in zip(pushed, outputs))
    tangent_out = pushed if isinstance(output, tuple) else pushed[0]
    done = (_done(output, nested, inputs + dummies), _done(tangent_out, nested, inputs + dummies))
    return (*done, _done(aux, nested, inputs)) if has_aux else done


def _jacobian(func: Callable[..., Any], argnums: int | tuple[int, ...], has_aux: bool, forward: bool,
              name: str) -> Callable[..., Any]:
    def wrapper(*args: Any) -> Any:
        numbers, single = _argnums_tuple(argnums, len(args))

        def of(*chosen: Tensor) -> Any:
            full = list(args)
            for n, c in zip(numbers, chosen):
                full[n] = c
            return func(*full)
        chosen = tuple(args[n] for n in numbers)
        if forward:
            output, _, *aux = jvp(of, chosen, tuple(zeros_like(c) for c in chosen), has_aux=has_aux)
            columns = []  # d output / d chosen[k] flat index j: one jvp each, with the basis vector e_j
            for k, c in enumerate(chosen):
                per_input = []
                for j in range(c.numel()):
                    basis = [zeros_like(x) for x in chosen]
                    basis[k].view(-1)[j] = 1
                    per_input.append(jvp(of, chosen, tuple(basis), has_aux=has_aux)[1])
                columns.append(stack(per_input, -1).reshape(tuple(output.shape) + tuple(c.shape)) if per_input else
                               zeros_like(output).reshape(tuple(output.shape) + tuple(c.shape)))
            jac = tuple(columns)
        else:
            output, pullback, *aux = vjp(of, *chosen, has_aux=has_aux)
            rows = []
            for i in range(output.numel()):
                basis = zeros_like(output)
                basis.view(-1)[i] = 1
                rows.append(pullback(basis))
            jac = tuple((stack([r[k] for r in rows]) if rows else zeros_like(c).reshape((0,) + tuple(c.shape)))
                        .reshape(tuple(output.shape) + tuple(c.shape)) for k, c in enumerate(chosen))
        result = jac[0] if single else jac
        return (result, aux[0]) if has_aux else result
    wrapper.__name__ = name
    return wrapper


def jacrev(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, *, has_aux: bool = False,
           chunk_size: int | None = None, _preallocate_and_copy: bool = False) -> Callable[..., Any]:
    """The Jacobian of func (one tensor output) with respect to args[argnums], a row per output element (vjps):
    shape output.shape + input.shape."""
    return _jacobian(func, argnums, has_aux, forward=False, name="jacrev")


def jacfwd(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable[..., Any]:
    """The same Jacobian, a column per input element (jvps)."""
    return _jacobian(func, argnums, has_aux, forward=True, name="jacfwd")


def hessian(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The matrix of second derivatives of func's scalar output: jacfwd(jacrev(func))."""
    return jacfwd(jacrev(func, argnums), argnums)


def _mapped_size(x: Any, dim: int | None, name: str) -> int | None:
    if dim is None:
        return None
    if not isinstance(x, Tensor):
        raise ValueError(f"vmap({name}, in_dims={dim}, ...)(<inputs>): Got in_dim={dim} for an input but the input "
                         f"is of type {type(x)}. We cannot vmap over non-Tensor arguments, please use None as the "
                         "respective in_dim")
    if not -x.ndim <= dim < x.ndim:
        raise ValueError(f"vmap({name}, in_dims={dim}, ...)(<inputs>): Got in_dim={dim} for some input, but that "
                         f"input is a Tensor of dimensionality {x.ndim} so expected in_dim to satisfy "
                         f"-{x.ndim} <= in_dim < {x.ndim}.")
    return x.shape[dim]


def vmap(func: Callable[..., Any], in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable[..., Any]:
    """func applied to each slice of its inputs along ``in_dims`` (None: the same input for every slice; an
    input may be a nest of tuples, lists and dicts of tensors), the results stacked along ``out_dims``."""
    name = getattr(func, "__name__", type(func).__name__)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the "
                             f"structure of `inputs`. in_dims has structure {len(dims)} but inputs has structure "
                             f"{len(args)}.")
        pairs = [(leaf, d) for a, d in zip(args, dims) for leaf in _leaves(a)]
        sizes = [s for s in (_mapped_size(leaf, d, name) for leaf, d in pairs) if s is not None]
        if not sizes:
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): at least one input must be a Tensor "
                             "with a dimension to map over (in_dims not None)")
        if len(set(sizes)) > 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                             f"{sizes} for the mapped dimension")

        def sliced(i: int) -> list[Any]:
            return [_mapped(a, lambda t, d=d: t.select(d, i) if d is not None else t) for a, d in zip(args, dims)]
        if sizes[0] == 0:  # no slices: f runs once on a slice of zeros, for the shapes of the (empty) results
            probe = func(*[_mapped(a, lambda t, d=d: t.new_zeros(t.shape[:d] + t.shape[d + 1:]) if d is not None
                                   else t) for a, d in zip(args, dims)], **kwargs)
            return _mapped(probe, lambda r: r.unsqueeze(out_dims).narrow(out_dims, 0, 0).contiguous())
        results = [func(*sliced(i), **kwargs) for i in range(sizes[0])]
        return _stacked(results, out_dims)
    return wrapper


def _stacked(results: list[Any], out_dims: Any) -> Any:
    """The per-slice results stacked leaf by leaf, along ``out_dims`` (one int, or one per output)."""
    first = results[0]
    if isinstance(first, (tuple, list)) and isinstance(out_dims, (tuple, list)):
        return type(first)(_stacked([r[k] for r in results], d) for k, d in enumerate(out_dims))
    columns = list(zip(*(_leaves(r) for r in results)))
    for column in columns:
        if not isinstance(column[0], Tensor):
            raise ValueError(f"vmap: The returned value of a function must be a Tensor or a tuple of Tensors, "
                             f"got {type(column[0])}")
    return _rebuilt(first, iter([stack(list(column), out_dims) for column in columns]))


@contextlib.contextmanager
def _swapped(module: Any, values: dict[str, Tensor]) -> Iterator[None]:
    """Inside, ``module``'s parameters and buffers named in ``values`` are those tensors (put back after)."""
    saved = []
    for path, value in values.items():
        *owners, leaf = path.split(".")
        owner = module
        for part in owners:
            owner = getattr(owner, part)
        table = owner._parameters if leaf in owner._parameters else owner._buffers if leaf in owner._buffers else None
        if table is None:  # (not one of the module's: PyTorch ignores it, unless strict)
            continue
        saved.append((table, leaf, table[leaf]))
        table[leaf] = value
    try:
        yield
    finally:
        for table, leaf, old in reversed(saved):
            table[leaf] = old


def functional_call(module: Any, parameter_and_buffer_dicts: Any, args: Any = None, kwargs: Any = None, *,
                    tie_weights: bool = True, strict: bool = False) -> Any:
    """module(*args, **kwargs) with its parameters and buffers replaced by the given tensors (by name) for the
    call only: the module as a function of its weights."""
    dicts = parameter_and_buffer_dicts
    values = {k: v for d in (dicts if isinstance(dicts, (tuple, list)) else (dicts,)) for k, v in d.items()}
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    if strict:
        names = [n for n, _ in module.named_parameters()] + [n for n, _ in module.named_buffers()]
        missing, unexpected = [n for n in names if n not in values], [k for k in values if k not in names]
        if missing or unexpected:
            lines = ([f"\tMissing key(s): {', '.join(repr(n) for n in missing)}."] if missing else []) + (
                [f"\tUnexpected key(s): {', '.join(repr(k) for k in unexpected)}."] if unexpected else [])
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n" + "\n".join(lines))
    with _swapped(module, values):
        return module(*args, **(kwargs or {}))
