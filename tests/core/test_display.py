"""What a Jupyter student sees: IPython's display of nodes and grad-mode objects, warnings, messages.

Jupyter shows a cell's last value through IPython's pretty printer, not ``repr``: an object
whose class keeps ``object.__repr__`` shows as ``<AddBackward0 at 0x...>`` (PyTorch's C++
nodes, in no module), while ``print`` shows ``<AddBackward0 object at 0x...>``. Both are
compared, with addresses and the library's name made neutral (see ``twin.py``).
"""

from __future__ import annotations

import warnings
from typing import Any

from IPython.core.formatters import PlainTextFormatter
from IPython.lib.pretty import pretty

from tests.core.twin import outcome, record


def _shown(obj: Any) -> list[str]:
    """How Jupyter displays ``obj`` (its text formatter), how IPython's pretty() and print() show it."""
    return [PlainTextFormatter()(obj), pretty(obj), str(obj)]


def _multiply_add(t: Any) -> type:
    class MultiplyAdd(t.autograd.Function):
        @staticmethod
        def forward(ctx, w, x, b):
            ctx.save_for_backward(w, x)
            return w * x + b

        @staticmethod
        def backward(ctx, grad_output):
            MultiplyAdd.seen_ctx = _shown(ctx)
            w, x = ctx.saved_tensors
            return grad_output * x, grad_output * w, grad_output
    return MultiplyAdd


def test_nodes_display_as_in_torch():
    def run(t):
        w = t.ones(1, requires_grad=True)
        x = t.ones(1)
        y = w * x + 2
        fn = _multiply_add(t)
        z = fn.apply(w, x, y)
        z.backward()
        leaf = y.grad_fn.next_functions[0][0].next_functions[0][0]
        return {"built-in": _shown(y.grad_fn), "custom": _shown(z.grad_fn), "leaf": _shown(leaf),
                "next_functions": _shown(y.grad_fn.next_functions), "custom's next": _shown(z.grad_fn.next_functions),
                "ctx in backward": fn.seen_ctx, "tensor": _shown(z), "node classes": _shown([type(y.grad_fn),
                                                                                           type(z.grad_fn)])}
    torch_result, ours = record(run)
    assert ours == torch_result


def test_autograd_classes_display_as_in_torch():
    def run(t):
        return [_shown(t.autograd.Function), _shown(t.autograd.graph.Node), _shown(t.autograd.function.FunctionCtx())]
    torch_result, ours = record(run)
    assert ours == torch_result


def test_grad_mode_objects_display_as_in_torch():
    def run(t):
        shown = [_shown(t.no_grad()), _shown(t.enable_grad()), _shown(t.inference_mode()),
                 _shown(t.autograd.grad_mode.no_grad())]
        off = t.set_grad_enabled(False)
        on = t.set_grad_enabled(True)
        return [*shown, _shown(off), _shown(on), t.is_grad_enabled()]
    torch_result, ours = record(run)
    assert ours == torch_result


# ----- warnings and messages a 2018 (or careless) program meets -------------------------------
def test_volatile_warns_and_is_false():
    def run(t):
        x = t.ones(2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            read = x.volatile
            x.volatile = True
        return [read, [(w.category.__name__, str(w.message)) for w in caught]]
    torch_result, ours = record(run)
    assert ours == torch_result


def test_integer_tensors_cannot_require_grad():
    def run(t):
        return [outcome(lambda: t.tensor([1, 2], requires_grad=True)),
                outcome(lambda: t.ones(2, dtype=t.int64, requires_grad=True)),
                outcome(lambda: t.ones(2, dtype=t.int64).requires_grad_()),
                outcome(lambda: setattr(t.ones(2, dtype=t.int32), "requires_grad", True))]
    torch_result, ours = record(run)
    assert ours == torch_result


def test_a_setup_context_forward_called_with_a_missing_argument():
    def run(t):
        class MulAdd(t.autograd.Function):
            @staticmethod
            def forward(x, y, b):
                return x * y + b

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.save_for_backward(*inputs)

            @staticmethod
            def backward(ctx, grad):
                return grad, grad, grad

        class WithDefault(MulAdd):
            @staticmethod
            def forward(x, y, b=None):
                return x * y

            @staticmethod
            def setup_context(ctx, inputs, output):
                WithDefault.inputs = len(inputs), inputs[2]

        x = t.ones(2, requires_grad=True)
        WithDefault.apply(x, x)
        return [outcome(lambda: MulAdd.apply(x, x)), outcome(lambda: MulAdd.apply(x, x, x, x)),
                outcome(lambda: MulAdd.apply(x, x, c=x)), MulAdd.apply(x, x, b=x).tolist(), WithDefault.inputs]
    torch_result, ours = record(run)
    assert ours == torch_result
