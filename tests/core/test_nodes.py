"""Backward nodes as PyTorch has them: callable, torch.autograd.graph's Node API, and built-in nodes' ``_saved_*``.

Each test runs one program under torch and under autograd_lab (``record``) and compares
what it shows: values, types, None-ness, error types and messages.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.core.twin import outcome, record, values


def _called(result: Any) -> Any:
    """What calling a node returned: a tensor, or a tuple of tensors / None."""
    if isinstance(result, tuple):
        return ("tuple", [values(g) for g in result])
    return ("single", values(result))


# ----- calling a node by hand ----------------------------------------------------------------
CALLS = {
    "mul, other needs no grad": lambda t, x, w: (x * w).grad_fn(t.ones(2)),
    "mul by a number": lambda t, x, w: (x * 2).grad_fn(t.ones(2)),
    "add of the same leaf": lambda t, x, w: (x + x).grad_fn(t.ones(2)),
    "add, other needs no grad": lambda t, x, w: (x + w).grad_fn(t.ones(2)),
    "exp (one input)": lambda t, x, w: x.exp().grad_fn(t.ones(2)),
    "pow (a number exponent)": lambda t, x, w: (x ** 3).grad_fn(t.ones(2)),
    "sum": lambda t, x, w: x.sum().grad_fn(t.tensor(1.0)),
    "a None gradient, two inputs": lambda t, x, w: (x * x).grad_fn(None),
    "a None gradient, one input": lambda t, x, w: x.exp().grad_fn(None),
    "unbind (two outputs)": lambda t, x, w: x.unbind(0)[0].grad_fn(t.tensor(1.0), t.tensor(2.0)),
    "unbind, one gradient missing": lambda t, x, w: x.unbind(0)[0].grad_fn(t.tensor(1.0), None),
}


@pytest.mark.parametrize("program", CALLS.values(), ids=CALLS.keys())
def test_a_builtin_node_is_callable(program):
    def run(t):
        x = t.tensor([1.0, 2.0], requires_grad=True)
        w = t.tensor([3.0, 4.0])
        return _called(program(t, x, w))
    torch_result, ours = record(run)
    assert ours == torch_result


def test_calling_a_node_with_the_wrong_number_of_gradients():
    def run(t):
        x = t.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        return [outcome(y.grad_fn), outcome(lambda: y.grad_fn(t.ones(2), t.ones(2)))]
    torch_result, ours = record(run)
    assert ours == torch_result


def test_calling_a_node_records_a_graph_in_grad_mode():
    def run(t):
        x = t.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        g = y.grad_fn(t.ones(2))
        with t.no_grad():
            h = y.grad_fn(t.ones(2))
        return [g.requires_grad, g.grad_fn.name(), h.requires_grad, h.grad_fn]
    torch_result, ours = record(run)
    assert ours == torch_result


def test_calling_accumulate_grad_adds_into_grad():
    def run(t):
        x = t.tensor([1.0, 2.0], requires_grad=True)
        acc = (x * 2).grad_fn.next_functions[0][0]
        returned = acc(t.tensor([5.0, 6.0]))
        return [acc.name(), returned, values(x.grad), outcome(lambda: acc.apply)]
    torch_result, ours = record(run)
    assert ours == torch_result


def test_builtin_nodes_have_no_apply_and_custom_nodes_no_call():
    def run(t):
        class Double(t.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        x = t.ones(2, requires_grad=True)
        custom, builtin = Double.apply(x).grad_fn, (x * 2).grad_fn
        return [hasattr(builtin, "apply"), callable(builtin), hasattr(custom, "apply"),
                outcome(lambda: custom(t.ones(2)))]
    torch_result, ours = record(run)
    assert ours == torch_result


def _book_multiply_add(t: Any) -> type:
    """The book's MultiplyAdd (today's spelling): z = w * x + b."""
    class MultiplyAdd(t.autograd.Function):
        @staticmethod
        def forward(ctx, w, x, b):
            ctx.save_for_backward(w, x)
            return w * x + b

        @staticmethod
        def backward(ctx, grad_output):
            w, x = ctx.saved_tensors
            return grad_output * x, grad_output * w, grad_output
    return MultiplyAdd


def test_custom_node_apply_returns_what_backward_returns():
    def run(t):
        x = t.ones(1)
        w = t.rand(1, requires_grad=True)
        b = t.rand(1, requires_grad=True)
        z = _book_multiply_add(t).apply(w, x, b)
        grads = z.grad_fn.apply(t.ones(1))
        return [_called(grads), [g.requires_grad for g in grads], outcome(z.grad_fn.apply)]
    torch_result, ours = record(run)
    assert ours == torch_result


def test_custom_node_apply_with_one_input_and_a_non_tensor_input():
    def run(t):
        class Scale(t.autograd.Function):
            @staticmethod
            def forward(ctx, a, k):
                ctx.k = k
                return a * k

            @staticmethod
            def backward(ctx, grad):
                return grad * ctx.k, None

        class Square(t.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a * a

            @staticmethod
            def backward(ctx, grad):
                (a,) = ctx.saved_tensors
                return 2 * a * grad

        x = t.tensor([1.0, 3.0], requires_grad=True)
        return [_called(Scale.apply(x, 3.0).grad_fn.apply(t.ones(2))),
                _called(Square.apply(x).grad_fn.apply(t.ones(2)))]
    torch_result, ours = record(run)
    assert ours == torch_result


def test_a_function_may_define_vjp_instead_of_backward():
    def run(t):
        class Double(t.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2

            @staticmethod
            def vjp(ctx, grad):
                return grad * 2

        x = t.ones(2, requires_grad=True)
        y = Double.apply(x)
        y.sum().backward()
        return [values(x.grad), _called(y.grad_fn.apply(t.ones(2)))]
    torch_result, ours = record(run)
    assert ours == torch_result


# ----- torch.autograd.graph.Node ------------------------------------------------------------------
def test_every_grad_fn_is_a_graph_node():
    def run(t):
        x = t.ones(2, requires_grad=True)
        custom = _book_multiply_add(t).apply(x, x, x).grad_fn
        builtin = (x * 2).grad_fn
        leaf = builtin.next_functions[0][0]
        node = t.autograd.graph.Node
        return [[isinstance(n, node) for n in (custom, builtin, leaf)], issubclass(type(builtin), node),
                [n.name() for n in (custom, builtin, leaf)], isinstance(x, node)]
    torch_result, ours = record(run)
    assert ours == torch_result


def test_node_metadata_is_a_dict_that_stays():
    def run(t):
        x = t.ones(2, requires_grad=True)
        y = x * 2
        y.grad_fn.metadata["note"] = "scaled"
        leaf = y.grad_fn.next_functions[0][0]
        return [type(y.grad_fn.metadata).__name__, y.grad_fn.metadata, leaf.metadata]
    torch_result, ours = record(run)
    assert ours == torch_result


def test_node_hooks_see_and_replace_gradients_in_torch_order():
    def run(t):
        seen = []
        x = t.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        z = (y * 3).sum()
        y.register_hook(lambda g: seen.append(("tensor hook", values(g))))
        y.grad_fn.register_prehook(lambda go: seen.append(("prehook", [values(g) for g in go])))
        y.grad_fn.register_hook(lambda gi, go: seen.append(("hook", [values(g) for g in gi], [values(g) for g in go])))
        leaf = y.grad_fn.next_functions[0][0]
        leaf.register_prehook(lambda go: seen.append(("leaf prehook", [values(g) for g in go])))
        leaf.register_hook(lambda gi, go: seen.append(("leaf hook", gi, [values(g) for g in go])))
        z.backward(retain_graph=True)
        first = values(x.grad)
        x.grad = None
        handle = y.grad_fn.register_prehook(lambda go: (go[0] * 10,))
        y.grad_fn.register_hook(lambda gi, go: (gi[0], None))  # drop the second path's gradient
        z.backward(retain_graph=True)
        second = values(x.grad)
        handle.remove()
        x.grad = None
        z.backward()
        return [seen[:5], first, second, values(x.grad)]
    torch_result, ours = record(run)
    assert ours == torch_result


def test_node_hook_results_of_the_wrong_length_are_refused():
    def run(t):
        x = t.ones(2, requires_grad=True)
        y = x * x
        y.grad_fn.register_hook(lambda gi, go: (gi[0],))
        z = x * 2
        z.grad_fn.register_prehook(lambda go: (go[0], go[0]))
        return [outcome(lambda: y.sum().backward()), outcome(lambda: z.sum().backward())]
    torch_result, ours = record(run)
    assert ours == torch_result


# ----- saved tensors: _saved_* and saved_tensors_hooks -------------------------------------------
def _a(t: Any, *shape: int, requires_grad: bool = True, shift: float = 0.0) -> Any:
    n = 1
    for s in shape:
        n *= s
    return (t.arange(n, dtype=t.float32).reshape(shape) / 3 + 0.5 + shift).requires_grad_(requires_grad)


def _set(x: Any, key: Any, value: Any) -> Any:
    x[key] = value
    return x


# Every built-in op autograd_lab has, each making one node. (A Python number multiplying a tensor is
# kept by torch as a float64 / int64 0-d tensor, by autograd_lab in the tensor's dtype: for 0-d saved
# tensors only the value is compared; the README lists this difference.)
OPS = {
    "add": lambda t: _a(t, 3) + _a(t, 3, shift=1),
    "add a number": lambda t: _a(t, 3) + 2,
    "add with alpha": lambda t: t.add(_a(t, 3), _a(t, 3, shift=1), alpha=2),
    "sub with alpha": lambda t: t.sub(_a(t, 3), _a(t, 3), alpha=3),
    "number - tensor": lambda t: 2 - _a(t, 3),
    "mul, both need grad": lambda t: _a(t, 3) * _a(t, 3, shift=1),
    "mul, only self needs grad": lambda t: _a(t, 3) * _a(t, 3, requires_grad=False),
    "mul, only other needs grad": lambda t: _a(t, 3, requires_grad=False) * _a(t, 3),
    "mul by a number": lambda t: _a(t, 3) * 0.5,
    "div": lambda t: _a(t, 3) / _a(t, 3, shift=1),
    "div, only self needs grad": lambda t: _a(t, 3) / _a(t, 3, requires_grad=False),
    "div, only other needs grad": lambda t: _a(t, 3, requires_grad=False) / _a(t, 3),
    "number / tensor": lambda t: 2 / _a(t, 3),
    "neg": lambda t: -_a(t, 3),
    "reciprocal": lambda t: _a(t, 3).reciprocal(),
    "pow int": lambda t: _a(t, 3) ** 2,
    "pow float": lambda t: _a(t, 3) ** 2.5,
    "pow tensor": lambda t: _a(t, 3) ** _a(t, 3, shift=1),
    "pow tensor, only base needs grad": lambda t: _a(t, 3) ** _a(t, 3, requires_grad=False),
    "number ** tensor": lambda t: 2 ** _a(t, 3),
    "exp": lambda t: _a(t, 3).exp(),
    "log": lambda t: _a(t, 3).log(),
    "sin": lambda t: _a(t, 3).sin(),
    "cos": lambda t: _a(t, 3).cos(),
    "tanh": lambda t: _a(t, 3).tanh(),
    "sigmoid": lambda t: _a(t, 3).sigmoid(),
    "relu": lambda t: (_a(t, 3) - 1).relu(),
    "abs": lambda t: _a(t, 3).abs(),
    "sqrt": lambda t: _a(t, 3).sqrt(),
    "clamp": lambda t: _a(t, 3).clamp(0.6, 1.0),
    "clamp min only": lambda t: _a(t, 3).clamp(min=0.6),
    "maximum": lambda t: t.maximum(_a(t, 3), _a(t, 3, shift=0.5)),
    "where": lambda t: t.where(_a(t, 3, requires_grad=False) > 1, _a(t, 3), _a(t, 3, shift=1)),
    "sum": lambda t: _a(t, 2, 3).sum(),
    "sum over a dim": lambda t: _a(t, 2, 3).sum(1),
    "sum over dims, keepdim": lambda t: _a(t, 2, 3).sum((1, 0), keepdim=True),
    "mean": lambda t: _a(t, 2, 3).mean(),
    "mean over a dim": lambda t: _a(t, 2, 3).mean(1),
    "max": lambda t: _a(t, 2, 3).max(),
    "min": lambda t: _a(t, 2, 3).min(),
    "max over a dim": lambda t: _a(t, 2, 3).max(1)[0],
    "min over a dim, keepdim": lambda t: _a(t, 2, 3).min(0, keepdim=True)[0],
    "view": lambda t: _a(t, 2, 3).view(3, 2),
    "reshape": lambda t: _a(t, 2, 3).reshape(6),
    "flatten": lambda t: _a(t, 2, 3).flatten(),
    "permute": lambda t: _a(t, 2, 3, 1).permute(2, 0, 1),
    "transpose": lambda t: _a(t, 2, 3).transpose(0, 1),
    "t": lambda t: _a(t, 2, 3).t(),
    "T": lambda t: _a(t, 2, 3).T,
    "unsqueeze": lambda t: _a(t, 3).unsqueeze(0),
    "squeeze": lambda t: _a(t, 1, 3).squeeze(),
    "squeeze a dim": lambda t: _a(t, 1, 3).squeeze(0),
    "expand": lambda t: _a(t, 1, 3).expand(2, 3),
    "select": lambda t: _a(t, 2, 3)[1],
    "select, negative index": lambda t: _a(t, 2, 3)[:, -2],
    "slice": lambda t: _a(t, 4)[1:3],
    "slice to the end": lambda t: _a(t, 4, 2)[:, 1:],
    "slice with a step": lambda t: _a(t, 4)[::2],
    "index with a tensor": lambda t: _a(t, 4)[t.tensor([0, 2])],
    "index a later dim": lambda t: _a(t, 2, 4)[:, t.tensor([0, 2])],
    "index with a mask": lambda t: _a(t, 4)[_a(t, 4, requires_grad=False) > 1],
    "cat": lambda t: t.cat([_a(t, 2), _a(t, 3)]),
    "stack": lambda t: t.stack([_a(t, 2), _a(t, 2)]),
    "unbind": lambda t: _a(t, 2, 3).unbind(0)[0],
    "dot": lambda t: t.dot(_a(t, 3), _a(t, 3, shift=1)),
    "mm": lambda t: _a(t, 2, 3).mm(_a(t, 3, 2)),
    "mm, only self needs grad": lambda t: _a(t, 2, 3).mm(_a(t, 3, 2, requires_grad=False)),
    "mm of a transposed matrix": lambda t: _a(t, 3, 2).t().mm(_a(t, 3, 2)),
    "mv": lambda t: _a(t, 2, 3).mv(_a(t, 3)),
    "bmm": lambda t: _a(t, 1, 2, 3).bmm(_a(t, 1, 3, 2)),
    "addmm": lambda t: t.addmm(_a(t, 2), _a(t, 2, 3), _a(t, 3, 2)),
    "vector @ matrix": lambda t: _a(t, 3) @ _a(t, 3, 2),
    "clone": lambda t: _a(t, 3).clone(),
    "to float64": lambda t: _a(t, 3).to(t.float64),
    "log_softmax": lambda t: t.nn.functional.log_softmax(_a(t, 2, 3), 1),
    "nll_loss": lambda t: t.nn.functional.nll_loss(_a(t, 2, 3), t.tensor([0, 2])),
    "nll_loss, sum": lambda t: t.nn.functional.nll_loss(_a(t, 2, 3), t.tensor([0, 2]), reduction="sum"),
    "mse_loss": lambda t: t.nn.functional.mse_loss(_a(t, 3), _a(t, 3, shift=1)),
    "add_": lambda t: _a(t, 3).clone().add_(_a(t, 3, requires_grad=False)),
    "sub_ with alpha": lambda t: _a(t, 3).clone().sub_(_a(t, 3), alpha=2),
    "mul_": lambda t: _a(t, 3).clone().mul_(_a(t, 3)),
    "mul_ by a number": lambda t: _a(t, 3).clone().mul_(2),
    "div_": lambda t: _a(t, 3).clone().div_(_a(t, 3)),
    "fill_": lambda t: _a(t, 3).clone().fill_(2),
    "zero_": lambda t: _a(t, 3).clone().zero_(),
    "copy_": lambda t: _a(t, 3).clone().copy_(_a(t, 3)),
    "x[i] = v": lambda t: _set(_a(t, 3).clone(), 1, _a(t, 1)),
    "x[index tensor] = v": lambda t: _set(_a(t, 3).clone(), t.tensor([0, 2]), _a(t, 2)),
}


def _saved(t: Any, y: Any) -> dict[str, Any]:
    """The node's name and every ``_saved_*`` attribute, as plain data."""
    node = y.grad_fn
    shown: dict[str, Any] = {"name()": node.name()}
    for attribute in sorted(a for a in dir(node) if a.startswith("_saved_")):
        value = getattr(node, attribute)
        if isinstance(value, t.Tensor):
            shown[attribute] = values(value)[::2] if value.ndim == 0 else values(value)  # see OPS
        elif isinstance(value, tuple):
            shown[attribute] = [values(v) if isinstance(v, t.Tensor) else v for v in value]
        else:
            shown[attribute] = value
    return shown


@pytest.mark.parametrize("program", OPS.values(), ids=OPS.keys())
def test_saved_attributes_of_builtin_nodes(program):
    torch_result, ours = record(lambda t: _saved(t, program(t)))
    assert ours == torch_result


def test_saved_inputs_are_the_inputs_and_saved_outputs_new_tensors():
    def run(t):
        x = t.tensor([1.0, 2.0], requires_grad=True)
        y = x.pow(2)
        e = x.exp()
        saved = e.grad_fn._saved_result
        return [y.grad_fn._saved_self is x, saved is e, saved.equal(e), saved.grad_fn is e.grad_fn,
                saved._version == e._version]
    torch_result, ours = record(run)
    assert ours == torch_result


def test_saved_attributes_after_backward_and_after_an_inplace_change():
    def run(t):
        x = t.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        z = y * 2
        z.sum().backward()
        a = x * 1
        b = a.sin()
        a.add_(1)
        return [outcome(lambda: y.grad_fn._saved_result), outcome(lambda: b.grad_fn._saved_self),
                z.grad_fn._saved_self]
    torch_result, ours = record(run)
    assert ours == torch_result


def test_saved_tensors_hooks_pack_and_unpack_every_saved_tensor():
    def run(t):
        packed, unpacked = [], []

        def pack(x):
            packed.append(values(x))
            return ("packed", x)

        def unpack(p):
            unpacked.append(p[0])
            return p[1]

        a = t.tensor([1.0, 2.0], dtype=t.float64, requires_grad=True)
        with t.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = _book_multiply_add(t).apply(a, a.exp(), a)
            z = (y * y).sum()
        z.backward()
        return [packed, len(unpacked), values(a.grad)]
    torch_result, ours = record(run)
    assert ours == torch_result


def test_pack_and_unpack_order_and_what_they_see():
    def run(t):
        seen = []

        def pack(x):
            seen.append(f"pack {x!r}")
            return x

        def unpack(x):
            seen.append(f"unpack {x!r}")
            return x

        class Square(t.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x * x
                ctx.save_for_backward(x, y)  # y is the output: packed once it has its grad_fn
                return y

            @staticmethod
            def backward(ctx, grad):
                x, _ = ctx.saved_tensors
                return 2 * x * grad

        a = t.tensor([1.0, 2.0], requires_grad=True)
        b = t.tensor([3.0, 4.0], requires_grad=True) * 2
        with t.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = a * b
            z = a / b
            m = t.maximum(a, b)
            s = Square.apply(a)
            with t.no_grad():
                a * a  # nothing recorded, nothing saved
        for out in (y, z, m, s):
            seen.append("backward")
            out.sum().backward(retain_graph=True)
        return seen
    torch_result, ours = record(run)
    assert ours == torch_result


def test_an_unpack_hook_decides_what_backward_sees():
    def run(t):
        a = t.tensor([1.0, 2.0], requires_grad=True)
        with t.autograd.graph.saved_tensors_hooks(lambda x: x, lambda x: x * 0 + 10):
            y = (a * a).sum()
        y.backward()
        return values(a.grad)
    torch_result, ours = record(run)
    assert ours == torch_result


def test_hooks_on_one_saved_tensor_of_a_builtin_node():
    def run(t):
        seen = []
        x = t.tensor([1.0, 2.0], dtype=t.float64, requires_grad=True)
        y = x.pow(2)
        raw = y.grad_fn._raw_saved_self
        raw.register_hooks(lambda s: (seen.append(f"pack {s!r}"), s * 10)[1],
                           lambda p: (seen.append(f"unpack {p!r}"), p)[1])
        seen.append(repr(y.grad_fn._saved_self))
        seen.append(outcome(lambda: raw.register_hooks(lambda s: s, lambda p: p)))
        y.sum().backward()
        seen.append(repr(x.grad))
        seen.append(outcome(lambda: raw.register_hooks(lambda s: s, lambda p: p)))
        seen.append(outcome(lambda: (x * 2).grad_fn._raw_saved_self.register_hooks(lambda s: s, lambda p: p)))
        e = x.exp()
        e.grad_fn._raw_saved_result.register_hooks(lambda s: s, lambda p: 1)
        seen.append(outcome(lambda: e.grad_fn._saved_result))
        return seen
    torch_result, ours = record(run)
    assert ours == torch_result


def test_saved_tensors_hooks_can_be_disabled():
    def run(t):
        graph = t.autograd.graph
        with graph.disable_saved_tensors_hooks("no hooks here"):
            refused = outcome(lambda: graph.saved_tensors_hooks(lambda x: x, lambda x: x).__enter__())
        with graph.save_on_cpu():
            a = t.tensor([1.0, 2.0], requires_grad=True)
            y = (a * a).sum()
        y.backward()
        return [refused, values(a.grad)]
    torch_result, ours = record(run)
    assert ours == torch_result
