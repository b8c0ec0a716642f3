"""API that PyTorch's own docs and the book use, found missing or different by the corpus run (issue 10).

``backward(inputs=...)``, ``autograd.graph.register_multi_grad_hook``, ``allow_mutation_on_saved_tensors``,
``region_activation_memory_budget``, ``enforce_grad_layout_policy``, ``nn.DataParallel``, warning texts, and
gradcheck calling a custom Function's forward and backward as often as PyTorch's. Each program runs under torch
and under autograd_lab (``tests/core/twin.py``); torch's result is the expected one.
"""

from __future__ import annotations

import collections
import itertools
import subprocess
import sys
import warnings
from typing import Any

import pytest

from tests.core.twin import outcome, record, values


def _warnings_of(thunk: Any) -> tuple[Any, list[str]]:
    """What ``thunk`` returns (or raises), and the warnings it gave, as 'Category: message'."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = outcome(thunk)
    return result, [f"{w.category.__name__}: {w.message}" for w in caught]


# ----- backward(inputs=...) -------------------------------------------------------------------------------------
def _graph(t: Any) -> tuple[Any, Any, Any, Any]:
    """loss = sum(a * b) with b = leaf * 3 (a non-leaf), and hooks that log which gradients arrive."""
    leaf = t.tensor([1.0, 2.0], requires_grad=True)
    a = t.tensor([3.0, 4.0], requires_grad=True)
    b = leaf * 3
    return leaf, a, b, (a * b).sum()


def test_backward_inputs_fills_only_their_grad():
    def run(t):
        leaf, a, b, loss = _graph(t)
        arrived = []
        for name, x in (("leaf", leaf), ("a", a), ("b", b)):
            x.register_hook(lambda g, name=name: arrived.append(name))
        loss.backward(inputs=[a], retain_graph=True)
        first = (arrived[:], values(a.grad), values(leaf.grad))
        arrived.clear()
        loss.backward(inputs=a, retain_graph=True)  # a single tensor; accumulates
        return first, arrived, values(a.grad), values(leaf.grad)
    torch_result, ours = record(run)
    assert ours == torch_result


def test_backward_inputs_non_leaf_gets_grad_and_keeps_retaining_it():
    def run(t):
        leaf, a, b, loss = _graph(t)
        arrived = []
        leaf.register_hook(lambda g: arrived.append("leaf"))
        loss.backward(inputs=[b], retain_graph=True)
        first = (values(b.grad), b.retains_grad, values(leaf.grad), values(a.grad), arrived[:])
        loss.backward()  # b retains its grad from now on
        return first, values(b.grad), values(leaf.grad), values(a.grad), arrived
    torch_result, ours = record(run)
    assert ours == torch_result


def test_autograd_backward_inputs_forms_and_errors():
    def run(t):
        leaf, a, b, loss = _graph(t)
        unused = t.ones(2, requires_grad=True)
        results = [
            outcome(lambda: t.autograd.backward(loss, inputs={"a": a}, retain_graph=True)),  # a dict: its values
            values(a.grad),
            outcome(lambda: t.autograd.backward([loss], inputs=[unused], retain_graph=True)),  # not in the graph
            values(unused.grad),
        ]
        for inputs in ([], (), collections.OrderedDict(a=a), [3], [t.ones(2)]):
            results.append(outcome(lambda inputs=inputs: loss.backward(inputs=inputs, retain_graph=True)))
        results.append(outcome(lambda: t.autograd.backward(loss, inputs=[])))
        return results
    torch_result, ours = record(run)
    assert ours == torch_result


def test_backward_inputs_with_create_graph():
    def run(t):
        x = t.tensor([1.0, 2.0], requires_grad=True)
        y = t.tensor([3.0], requires_grad=True)
        loss = (x * x * y).sum()
        _, caught = _warnings_of(lambda: loss.backward(inputs=[x], create_graph=True))
        grad_of_grad = t.autograd.grad(x.grad.sum(), [x, y])
        return values(x.grad), x.grad.grad_fn.name(), y.grad, [values(g) for g in grad_of_grad], len(caught) <= 1
    torch_result, ours = record(run)
    assert ours == torch_result


def test_autograd_grad_runs_no_hook_off_the_path_to_its_inputs():
    def run(t):
        leaf, a, b, loss = _graph(t)
        arrived = []
        for name, x in (("leaf", leaf), ("a", a), ("b", b)):
            x.register_hook(lambda g, name=name: arrived.append(name))
        (g,) = t.autograd.grad(loss, [a])
        return values(g), arrived
    torch_result, ours = record(run)
    assert ours == torch_result


# ----- register_multi_grad_hook ---------------------------------------------------------------------------------
def test_multi_grad_hook_docstring_example(capsys):
    def run(t):
        a = t.rand(2, 3, requires_grad=True)
        b = t.rand(2, 3, requires_grad=True)
        c = a * b
        d = a * b

        def fn(grads):
            print([g is not None for g in grads])

        handle = t.autograd.graph.register_multi_grad_hook((a, b, c, d), fn)
        c.sum().backward(retain_graph=True)
        c.sum().backward(inputs=(a,), retain_graph=True)
        (c + d).sum().backward(retain_graph=True)
        c.sum().backward(inputs=(c,), retain_graph=True)
        t.autograd.grad(c.sum(), [c], retain_graph=True)
        handle.remove()
        c.sum().backward()
        shown = capsys.readouterr().out
        return (shown, type(handle).__name__, isinstance(handle, t.utils.hooks.RemovableHandle),
                len(handle.handles))
    torch_result, ours = record(run)
    assert ours == torch_result


def test_multi_grad_hook_all_gets_the_gradients_once_per_backward():
    def run(t):
        x = t.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        calls = []
        handle = t.autograd.graph.register_multi_grad_hook((x, y), lambda gs: calls.append([values(g) for g in gs]))
        (y * y).sum().backward()
        (x * 3).sum().backward()  # y is not in this graph: called with x's gradient only
        with handle:  # a handle is a context manager that removes the hook
            pass
        (x * 4).sum().backward()
        return calls
    torch_result, ours = record(run)
    assert ours == torch_result


def test_multi_grad_hook_any_gets_the_first_gradient_only():
    def run(t):
        a = t.tensor([1.0, 2.0], requires_grad=True)
        b = t.tensor([3.0, 4.0], requires_grad=True)
        c = a * b
        order = []
        handle = t.autograd.graph.register_multi_grad_hook((a, b, c), lambda g: order.append(("any", values(g))),
                                                           mode="any")
        a.register_hook(lambda g: order.append("a"))
        c.register_hook(lambda g: order.append("c"))
        (c * 2).sum().backward(retain_graph=True)
        (c * 2).sum().backward(retain_graph=True)
        handle.remove()
        (c * 2).sum().backward()
        return order
    torch_result, ours = record(run)
    assert ours == torch_result


def test_multi_grad_hook_errors():
    def run(t):
        a = t.ones(2, requires_grad=True)
        hook = t.autograd.graph.register_multi_grad_hook
        return [outcome(lambda: hook((a, t.ones(2)), print)), outcome(lambda: hook((a,), print, mode="some"))]
    torch_result, ours = record(run)
    assert ours == torch_result


# ----- allow_mutation_on_saved_tensors ---------------------------------------------------------------------------
def test_allow_mutation_on_saved_tensors_uses_the_values_saved():
    def run(t):
        with t.autograd.graph.allow_mutation_on_saved_tensors() as ctx:
            a = t.ones(2, 3, requires_grad=True)
            b = a.clone()
            out = (b**2).sum()
            b.sin_()
            out.sum().backward()
            nested = outcome(lambda: t.autograd.graph.allow_mutation_on_saved_tensors().__enter__())
        with t.autograd.graph.allow_mutation_on_saved_tensors():
            x = t.tensor([1.0, 2.0], requires_grad=True)
            y = x * 1
            z = y * y
            w = y.exp()
            y.mul_(10)
            y[0] = 5.0
            (z.sum() + w.sum()).backward()
        return values(a.grad), values(b), type(ctx).__name__, nested, values(x.grad), values(y)
    torch_result, ours = record(run)
    assert ours == torch_result


def test_allow_mutation_needs_backward_inside_and_changes_nothing_outside():
    def run(t):
        with t.autograd.graph.allow_mutation_on_saved_tensors():
            x = t.tensor([1.0, 2.0], requires_grad=True)
            z = (x * 1 * (x * 1)).sum()
        late = outcome(z.backward)
        y = x * 1
        z = (y * y).sum()
        y.add_(1)
        return late, outcome(z.backward)
    torch_result, ours = record(run)
    assert ours == torch_result


# ----- region_activation_memory_budget, enforce_grad_layout_policy, DataParallel ---------------------------------
@pytest.mark.parametrize("budget", [0.0, 1, 0.4, 1.5, -0.1, "0.5", True])
def test_region_activation_memory_budget_refuses_outside_torch_compile(budget):
    torch_result, ours = record(lambda t: outcome(lambda: t.autograd.graph.region_activation_memory_budget(budget)))
    assert ours == torch_result


def test_enforce_grad_layout_policy_as_context_and_decorator():
    def run(t):
        p = t.ones(2, 3, requires_grad=True)
        with t.autograd.enforce_grad_layout_policy(False):
            (p * 2).sum().backward()

        @t.autograd.enforce_grad_layout_policy(False)
        def step():
            (p * 3).sum().backward()

        step()
        policy = t.autograd.grad_mode.enforce_grad_layout_policy(True)
        return values(p.grad), t.autograd.enforce_grad_layout_policy is policy.clone().__class__
    torch_result, ours = record(run)
    assert ours == torch_result


def test_data_parallel_without_gpus_calls_the_module():
    def run(t):
        class Model(t.nn.Module):
            def __init__(self):
                super().__init__()
                self.layer = t.nn.Linear(2, 1)

            def forward(self, x, scale=1.0):
                return self.layer(x) * scale

        model = Model()
        net = t.nn.DataParallel(model)
        out = net(t.ones(3, 2), scale=2.0)
        out.sum().backward()
        return (repr(net), net.device_ids, net.module is model, list(net.state_dict()), values(out),
                values(model.layer.weight.grad), t.nn.parallel.DataParallel is t.nn.DataParallel)
    torch_result, ours = record(run)
    assert ours == torch_result


# ----- warning texts ----------------------------------------------------------------------------------------------
def test_warnings_raised_in_torchs_cpp_end_with_where():
    def run(t):
        a = t.ones(2, requires_grad=True)
        return [
            _warnings_of(lambda: (a * 2).grad),
            _warnings_of(lambda: t.add(t.ones(2), t.ones(2), out=t.ones(3)).shape),
            _warnings_of(lambda: t.ones(1).std().isnan().item()),
            _warnings_of(lambda: t.ones(2, 1).var(dim=1).shape),
        ]
    torch_result, ours = record(run)
    assert ours == torch_result
    assert ours[0][1][0].endswith(" (Triggered internally at /__w/pytorch/pytorch/build/aten/src/ATen/core/"
                                  "TensorBody.h:493.)")


_ONCE_PER_PROCESS = """
import sys, warnings
import {backend} as t
seen = []
for code in ("float(t.ones(1, requires_grad=True))", "t.ones(2).T", "t.tensor(1.0).T"):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            eval(code)
    seen.append([str(w.message) for w in caught])
print(seen)
"""


def test_warnings_torch_gives_once_per_process_come_once():
    """In a fresh process each: the tests before this one may have had PyTorch give them already."""
    shown = {}
    for backend in ("torch", "autograd_lab"):
        run = subprocess.run([sys.executable, "-c", _ONCE_PER_PROCESS.format(backend=backend)], capture_output=True,
                             text=True, timeout=120, check=True)
        shown[backend] = run.stdout
    assert shown["autograd_lab"] == shown["torch"]
    assert shown["torch"].count("(Triggered internally at /__w/pytorch/pytorch/") == 3


def test_int_of_a_tensor_that_requires_grad_does_not_warn():
    torch_result, ours = record(lambda t: _warnings_of(lambda: int(t.tensor(2.5, requires_grad=True))))
    assert ours == torch_result


# ----- gradcheck calls forward and backward as often as PyTorch's -------------------------------------------------
def _logged_functions(t: Any, log: list[str]) -> dict[str, Any]:
    class Sigmoid(t.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            log.append("F")
            output = 1 / (1 + t.exp(-x))
            ctx.save_for_backward(output)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            log.append("B" if grad_output.abs().sum().item() else "B0")  # B0: asked with a zero grad_output
            (output,) = ctx.saved_tensors
            return output * (1 - output) * grad_output

    class Two(t.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            log.append("F")
            ctx.save_for_backward(x, y)
            return x * y, x + y

        @staticmethod
        def backward(ctx, g1, g2):
            log.append("B" if (g1.abs().sum() + g2.abs().sum()).item() else "B0")
            x, y = ctx.saved_tensors
            return g1 * y + g2, g1 * x + g2

    class NoZeros(t.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            log.append("F")
            ctx.set_materialize_grads(False)
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            log.append("None" if grad is None else "B")
            return None if grad is None else grad * 2

    class Ignores(t.autograd.Function):  # right for unit grad_outputs, but not multiplied by grad_output
        @staticmethod
        def forward(ctx, x):
            log.append("F")
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            log.append("B")
            return grad * 2 if grad.abs().sum().item() else t.ones_like(grad)

    return {"Sigmoid": Sigmoid, "Two": Two, "NoZeros": NoZeros, "Ignores": Ignores}


CALLS = {
    "book's Sigmoid": lambda t, f, x, y, z: t.autograd.gradcheck(f["Sigmoid"].apply, (x,), eps=1e-3),
    "two outputs": lambda t, f, x, y, z: t.autograd.gradcheck(f["Two"].apply, (y, z)),
    "two outputs, one input differentiated": lambda t, f, x, y, z: t.autograd.gradcheck(f["Two"].apply,
                                                                                        (y, z.detach())),
    "check_undefined_grad=False": lambda t, f, x, y, z: t.autograd.gradcheck(f["Two"].apply, (y, z),
                                                                             check_undefined_grad=False),
    "materialize_grads off": lambda t, f, x, y, z: t.autograd.gradcheck(f["NoZeros"].apply, (y,)),
    "not multiplied by grad_output": lambda t, f, x, y, z: t.autograd.gradcheck(f["Ignores"].apply, (y,)),
    "not multiplied, no raise": lambda t, f, x, y, z: t.autograd.gradcheck(f["Ignores"].apply, (y,),
                                                                           raise_exception=False),
    "gradgradcheck": lambda t, f, x, y, z: t.autograd.gradgradcheck(f["Two"].apply, (y, z)),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_gradcheck_calls_forward_and_backward_as_torchs(call):
    def run(t):
        log: list[str] = []
        functions = _logged_functions(t, log)
        x = t.randn(3, 4, dtype=t.float64, requires_grad=True)
        y = t.randn(2, dtype=t.float64, requires_grad=True)
        z = t.randn(2, dtype=t.float64, requires_grad=True)
        result = outcome(lambda: call(t, functions, x, y, z))
        return result, [(step, len(list(run))) for step, run in itertools.groupby(log)]
    torch_result, ours = record(run)
    assert ours == torch_result


def test_gradcheck_of_the_books_sigmoid_warns_once_per_backward():
    """The book (1st edition) reads ``ctx.saved_variables``, which warns each time backward runs."""
    def run(t):
        class Sigmoid(t.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                output = 1 / (1 + t.exp(-x))
                ctx.save_for_backward(output)
                return output

            @staticmethod
            def backward(ctx, grad_output):
                (output,) = ctx.saved_variables
                return output * (1 - output) * grad_output

        x = t.randn(3, 4, requires_grad=True)  # float32, as in the book: gradcheck warns about that too
        result, caught = _warnings_of(lambda: t.autograd.gradcheck(Sigmoid.apply, (x,), eps=1e-3))
        return result, collections.Counter(caught)
    torch_result, ours = record(run)
    assert ours == torch_result
    assert sum(ours[1].values()) == 27
