"""Version counters (``x._version``) move exactly as in PyTorch, after every kind of in-place change.

Autograd trusts a saved tensor only while its version is the one it saved: a counter that
misses a change gives a silently wrong gradient. Each program records ``_version`` after
each step; torch's record and autograd_lab's must be equal.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.core.twin import outcome, record, values


def _versions(t: Any, steps: list) -> list:
    """Run each (tensor maker, change) step and note the version afterwards, or the error."""
    seen = []
    for make, change in steps:
        x = make(t)
        seen.append(outcome(lambda x=x, change=change: (change(t, x), x._version)[1]))
    return seen


def _plain(t: Any) -> Any:
    return t.tensor([1.0, 2.0, 3.0])


def _nonleaf(t: Any) -> Any:
    return t.tensor([1.0, 2.0, 3.0], requires_grad=True) * 1


def _set(x: Any, key: Any, value: Any) -> None:
    x[key] = value


CHANGES = {
    "add_": lambda t, x: x.add_(1),
    "add_ a tensor with alpha": lambda t, x: x.add_(t.ones(3), alpha=2),
    "sub_": lambda t, x: x.sub_(1),
    "mul_": lambda t, x: x.mul_(2),
    "div_": lambda t, x: x.div_(2),
    "+=": lambda t, x: x.__iadd__(1),
    "*= then -=": lambda t, x: x.__imul__(2).__isub__(1),
    "fill_": lambda t, x: x.fill_(7),
    "zero_": lambda t, x: x.zero_(),
    "copy_": lambda t, x: x.copy_(t.zeros(3)),
    "clamp_": lambda t, x: x.clamp_(0, 2),
    "exp_": lambda t, x: x.exp_(),
    "sigmoid_": lambda t, x: x.sigmoid_(),
    "pow_": lambda t, x: x.pow_(2),
    "x[0] = number": lambda t, x: _set(x, 0, 5.0),
    "x[1:] = tensor": lambda t, x: _set(x, slice(1, None), t.zeros(2)),
    "x[index tensor] = number": lambda t, x: _set(x, t.tensor([0, 2]), 1.0),
    "x[mask] = number": lambda t, x: _set(x, x > 1, 0.0),
    "normal_": lambda t, x: x.detach().normal_() if x.requires_grad else x.normal_(),
    "uniform_": lambda t, x: x.detach().uniform_() if x.requires_grad else x.uniform_(),
    "relu_": lambda t, x: x.relu_(),
    "index_add_": lambda t, x: x.index_add_(0, t.tensor([0, 2]), t.ones(2)),
    "two changes": lambda t, x: x.add_(1).mul_(2),
    "out-of-place op": lambda t, x: x + 1,
    "requires_grad_ / detach": lambda t, x: x.detach(),
}


@pytest.mark.parametrize("make", [_plain, _nonleaf], ids=["plain tensor", "non-leaf in a graph"])
@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_an_inplace_change_bumps_the_version_once(make, change):
    torch_result, ours = record(lambda t: _versions(t, [(make, change)]))
    assert ours == torch_result


def test_views_share_the_version_counter_and_data_does_not():
    def run(t):
        x = t.tensor([[1.0, 2.0], [3.0, 4.0]])
        row, view, flipped, detached, data = x[0], x.view(4), x.t(), x.detach(), x.data
        row.add_(1)
        after_row = [x._version, view._version, flipped._version, detached._version, data._version]
        data.mul_(2)
        after_data = [x._version, data._version]
        detached.zero_()
        return [after_row, after_data, x._version]
    torch_result, ours = record(run)
    assert ours == torch_result


def test_changing_a_view_of_a_graph_tensor():
    def run(t):
        x = t.tensor([1.0, 2.0, 3.0], requires_grad=True).clone()
        v = x[1:]
        v.mul_(2)
        v[0] = 5.0
        return [x._version, v._version, x.grad_fn.name()]  # (v.grad_fn: torch's AsStridedBackward0, see README)
    torch_result, ours = record(run)
    assert ours == torch_result


def test_assigning_data_keeps_the_version():
    def run(t):
        w = t.tensor([1.0, 2.0], requires_grad=True)
        w.data = t.tensor([5.0, 6.0])
        with t.no_grad():
            w.data.add_(1)
        return [w._version, values(w)]
    torch_result, ours = record(run)
    assert ours == torch_result


def test_an_optimizer_step_changes_parameters_in_place():
    def run(t):
        w = t.tensor([1.0, 2.0], requires_grad=True)
        b = t.tensor([0.5], requires_grad=True)
        opt = t.optim.SGD([w, b], lr=0.1)
        seen = []
        for _ in range(2):
            opt.zero_grad()
            (w * 3 + b).sum().backward()
            opt.step()
            seen.append([w._version, b._version])
        with t.no_grad():
            w -= 0.1 * w.grad
        seen.append(w._version)
        opt.zero_grad(set_to_none=False)
        seen.append([w._version, w.grad._version])
        return seen
    torch_result, ours = record(run)
    assert ours == torch_result


def test_a_stale_saved_tensor_is_refused_with_torchs_message():
    def run(t):
        x = t.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        z = y.sin()
        y.add_(1)
        w = x * 1
        v = w * w
        w.mul_(w)
        return [outcome(lambda: z.sum().backward()), outcome(lambda: v.sum().backward())]
    torch_result, ours = record(run)
    assert ours == torch_result


def test_square_in_place_refuses_backward_as_torch():
    def run(t):
        y = t.tensor([1.0, 2.0], requires_grad=True) * 1
        y.mul_(y)  # torch saved y as "other" before changing it
        return [y._version, outcome(lambda: y.sum().backward())]
    torch_result, ours = record(run)
    assert ours == torch_result


# ----- custom Functions ------------------------------------------------------------------------
def _functions(t: Any) -> dict[str, type]:
    class AddOneNumpy(t.autograd.Function):
        """The mark_dirty docstring's example: changes x behind autograd's back, says so."""

        @staticmethod
        def forward(ctx, x):
            x_npy = x.detach().numpy()  # shares memory with x
            x_npy += 1
            ctx.mark_dirty(x)
            return x

        @staticmethod
        @t.autograd.function.once_differentiable
        def backward(ctx, grad_output):
            return grad_output

    class AddOneInPlace(t.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    class AddOneUnmarked(t.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    class SaveThenChange(t.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 2

    return {"numpy + mark_dirty": AddOneNumpy, "add_ + mark_dirty": AddOneInPlace, "add_, unmarked": AddOneUnmarked,
            "save, change, mark_dirty": SaveThenChange}


@pytest.mark.parametrize("name", ["numpy + mark_dirty", "add_ + mark_dirty", "add_, unmarked",
                                  "save, change, mark_dirty"])
def test_custom_function_versions(name):
    def run(t):
        fn = _functions(t)[name]
        plain = t.tensor([1.0, 2.0])
        returned = fn.apply(plain)
        graph = t.tensor([1.0, 2.0], requires_grad=True) * 1
        start = graph._version
        out = fn.apply(graph)
        result = outcome(lambda: (out.sum().backward(), "backward ran")[1])
        return [plain._version, returned is plain, graph._version - start, out is graph, out._version - start, result]
    torch_result, ours = record(run)
    assert ours == torch_result


def test_the_mark_dirty_docstring_example_is_refused():
    def run(t):
        inplace = _functions(t)["numpy + mark_dirty"]
        a = t.tensor(1.0, requires_grad=True, dtype=t.double).clone()
        b = a * a
        inplace.apply(a)
        return [a._version, outcome(b.backward)]
    torch_result, ours = record(run)
    assert ours == torch_result


def test_mark_dirty_on_a_leaf_that_requires_grad_is_refused():
    def run(t):
        inplace = _functions(t)["numpy + mark_dirty"]
        leaf = t.tensor([1.0], requires_grad=True)
        return [outcome(lambda: inplace.apply(leaf)), leaf._version]
    torch_result, ours = record(run)
    assert ours == torch_result


def test_gradient_accumulation_versions():
    def run(t):
        x = t.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        for _ in range(3):
            (x * 2).sum().backward()
            seen.append(x.grad._version)
        x.grad.zero_()
        seen.append(x.grad._version)
        return seen
    torch_result, ours = record(run)
    assert ours == torch_result


def test_increment_version_counts_a_change_autograd_could_not_see():
    def run(t):
        x = t.tensor([1.0, 2.0], requires_grad=True) * 1
        y = x.sin()
        x.detach().numpy()[0] = 5.0  # behind autograd's back
        before = outcome(lambda: (y.sum().backward(retain_graph=True), "backward ran")[1])
        t.autograd.graph.increment_version(x)
        t.autograd.graph.increment_version([x, y])
        return [before, x._version, y._version, outcome(y.sum().backward)]
    torch_result, ours = record(run)
    assert ours == torch_result
