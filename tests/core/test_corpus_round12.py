"""Findings of the twelfth round of running PyTorch's own code under both engines."""

from __future__ import annotations

from tests.core.twin import outcome, record


def _draw(torch, outputs, names):
    """The walk a graph-drawing tool (torchviz's make_dot) makes over the autograd graph, as plain text: each
    output, its ``_is_view()`` base, every node by type, a leaf's ``variable``, a custom node's ``saved_tensors``
    and a built-in node's ``_saved_*`` tensors. Objects are named by the first time they are met (identity
    decides whether two are the same, as the drawing's node ids do)."""
    ids, lines = {}, []

    def name(obj):
        return ids.setdefault(id(obj), f"n{len(ids)}")

    def label(t):
        known = [k for k, v in names.items() if v is t]
        return f"{known[0] if known else ''}{tuple(t.size())}"

    seen = set()

    def node(fn):
        if fn in seen:
            return
        seen.add(fn)
        for attr in dir(fn):
            if attr.startswith("_saved_") and torch.is_tensor(getattr(fn, attr)):
                saved = getattr(fn, attr)
                lines.append(f"{name(fn)} saved {attr} {name(saved)} {label(saved)}")
        if hasattr(fn, "variable"):
            lines.append(f"{name(fn)} leaf {name(fn.variable)} {label(fn.variable)}")
        lines.append(f"{name(fn)} {type(fn).__name__}")
        for child, _ in fn.next_functions:
            if child is not None:
                lines.append(f"{name(child)} -> {name(fn)}")
                node(child)
        if hasattr(fn, "saved_tensors"):
            for t in fn.saved_tensors:
                lines.append(f"{name(fn)} keeps {name(t)} {label(t)}")

    def output(t, kind="output"):
        lines.append(f"{kind} {name(t)} {label(t)}")
        if t.grad_fn:
            node(t.grad_fn)
            lines.append(f"{name(t.grad_fn)} -> {name(t)}")
        if t._is_view():
            output(t._base, "base")
            lines.append(f"{name(t._base)} ... {name(t)}")

    for t in outputs:
        output(t)
    return lines


def test_a_graph_drawing_sees_the_same_objects():
    """torchviz's make_dot (used by PyTorch's double backward tutorial) calls ``t._is_view()`` (missing here) and
    names a custom Function's saved output apart from the output itself: PyTorch hands back a new tensor object
    for it at every look (ours gave the output)."""
    def program(torch):
        class Exp(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                result = x.exp()
                ctx.save_for_backward(result)
                return result

            @staticmethod
            def backward(ctx, grad_out):
                (result,) = ctx.saved_tensors
                return grad_out * result

        x = torch.tensor(1.0, requires_grad=True).clone()
        out = Exp.apply(x)
        (grad_x,) = torch.autograd.grad(out, x, create_graph=True)
        y = torch.ones(2, 3, requires_grad=True)
        view = (y * 2)[0]
        saved = out.grad_fn.saved_tensors[0]
        return (_draw(torch, (grad_x, x, out), {"grad_x": grad_x, "x": x, "out": out}),
                _draw(torch, (view.exp(),), {"y": y}),
                [saved is out, saved is out.grad_fn.saved_tensors[0], saved.grad_fn is out.grad_fn,
                 saved.requires_grad, saved.is_leaf, saved._version, saved._is_view()])
    torch_result, ours = record(program)
    assert ours == torch_result


def test_which_tensors_are_views():
    """``_is_view()`` is True exactly where PyTorch makes a view (and ``_base`` is set)."""
    def program(torch):
        x = torch.ones(3, 3, requires_grad=True)
        scope = {"x": x, "y": x * 2}
        made = ["x", "y", "x.detach()", "x.data", "y[0]", "y.t()", "y.T", "y.mT", "y.view(9)", "y.reshape(9)",
                "y.flatten()", "y.clone()", "y.contiguous()", "y.t().contiguous()", "y.unsqueeze(0)",
                "y.expand(2, 3, 3)", "y.squeeze()", "y.diagonal()", "y.unbind()[0]", "y.split(1)[0]", "y.chunk(3)[0]",
                "y.permute(1, 0)", "y.transpose(0, 1)", "y.view_as(y)", "y[None]", "y[...]", "y[:, 1]", "y[[0, 1]]",
                "y.float()", "y.double()", "y.detach()[0]"]
        return {code: outcome(lambda code=code: (eval(code, scope)._is_view(), eval(code, scope)._base is not None))
                for code in made}
    torch_result, ours = record(program)
    assert ours == torch_result


def test_numpy_conversion_warns_and_refuses_as_pytorch():
    """PyTorch 2.13's ``Tensor.__array__`` takes no ``copy``: NumPy 2 warns on ``np.array(t)`` (Jupyter shows it)
    and refuses ``np.array(t, copy=False)``; ``np.asarray(t)`` shares memory silently (ours accepted ``copy``)."""
    import warnings

    import numpy as np

    def program(torch):
        t = torch.arange(3.0)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            copied = np.array(t)
            shared = np.asarray(t)
            typed = np.asarray(t, dtype=np.float64)
        shared[0] = 5
        return ([f"{w.category.__name__}: {w.message}" for w in seen], copied.tolist(), t.tolist(), typed.dtype.name,
                outcome(lambda: np.array(t, copy=False)))
    torch_result, ours = record(program)
    assert ours == torch_result
