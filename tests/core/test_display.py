"""What a Jupyter student sees: IPython's display of nodes and grad-mode objects, warnings, messages.

Jupyter shows a cell's last value through IPython's pretty printer, not ``repr``: an object
whose class keeps ``object.__repr__`` shows as ``<AddBackward0 at 0x...>`` (PyTorch's C++
nodes, in no module), while ``print`` shows ``<AddBackward0 object at 0x...>``. Both are
compared literally, with only memory addresses made neutral (see ``twin.py``): objects show
from PyTorch's home (``torch.autograd.function.MultiplyAddBackward``), except the classes a
student opens to read (``Function``, ``Node``, nn, optim), which keep their own module so that
``inspect.getsource`` and IPython's ``??`` find their source.
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


def test_classes_students_read_keep_their_module_so_their_source_opens():
    import inspect

    import autograd_lab

    for cls in (autograd_lab.autograd.Function, autograd_lab.autograd.graph.Node, autograd_lab.nn.Linear,
                autograd_lab.optim.SGD, autograd_lab.nn.Parameter):
        assert cls.__module__.startswith("autograd_lab.")
        assert f"class {cls.__name__}" in inspect.getsource(cls)


def test_values_a_notebook_shows_display_as_in_torch():
    """``type(x)``, dtypes, sizes, devices, generators, hooks' handles, context managers: PyTorch's names."""
    def run(t):
        x = t.ones(2, requires_grad=True)
        handle = x.register_hook(lambda g: g)
        with t.autograd.profiler.profile() as prof:
            inside = _shown(prof)[:2]  # (str() of a profile still recording: "" in PyTorch until an op runs)
        return [_shown(type(x)), _shown(type(x.dtype)), _shown(type(x.shape)), _shown(type(x.device)),
                _shown(t.manual_seed(0)), _shown(type(t.Generator())), _shown(handle), inside,
                _shown(t.autograd.graph.register_multi_grad_hook((x,), lambda grads: None)),
                _shown(t.autograd.forward_ad.dual_level()), _shown(t.autograd.set_detect_anomaly(False)),
                _shown(t.autograd.graph.saved_tensors_hooks(lambda v: v, lambda v: v)),
                _shown(t.autograd.graph.save_on_cpu()), _shown(t.autograd.graph.disable_saved_tensors_hooks("no"))]
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


def test_pickled_objects_come_back_the_same():
    """Displayed from torch's home, they still pickle: tensors (as leaves), sizes, dtypes, devices, generators."""
    import pickle

    def run(t):
        x = t.tensor([[1.5, -2.0]], requires_grad=True)
        g = t.Generator().manual_seed(3)
        t.randn(3, generator=g)
        back = pickle.loads(pickle.dumps([x * 2, t.nn.Parameter(t.ones(2)), x.shape, t.int16, t.device("cpu"),
                                          t.nn.Linear(2, 1).state_dict(), t.arange(4)[1:3], g]))
        *shown, generator = back
        return [_shown(shown), t.randn(20, generator=g).tolist() == t.randn(20, generator=generator).tolist()]
    torch_result, ours = record(run)
    assert ours == torch_result
