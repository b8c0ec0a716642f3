"""An in-place op on a view: PyTorch's CopySlices node runs that op's backward itself.

Its next_functions are the base's history and the op's *other* inputs (``x[1:3].mul_(b)`` lists
CloneBackward0 and b's AccumulateGrad, not a MulBackward0 node); the gradient of the view's
part is what the op sends back to its own input, written into the base's gradient.
"""

from __future__ import annotations

import pytest

from tests.core.twin import outcome, record


def _tree(node, depth=0):
    """The graph below ``node`` as nested (name, children) tuples."""
    if node is None or depth > 6:
        return None
    return node.name(), [_tree(child, depth + 1) for child, _ in node.next_functions]


# (what is changed in place, on which view): each a program step given (torch, base, b)
CHANGES = {
    "mul_ on a slice": lambda torch, x, b: x[1:3].mul_(b),
    "add_ with alpha on a transpose": lambda torch, x, b: x.view(2, 3).t()[0].add_(b[:2], alpha=2),
    "div_ on a select": lambda torch, x, b: x.view(3, 2)[1].div_(b + 2),
    "clamp_ with tensor bounds": lambda torch, x, b: x[2:4].clamp_(min=b * 0.5),
    "clamp_ with a number": lambda torch, x, b: x[:2].clamp_(min=0.1),
    "masked_fill_ with a tensor": lambda torch, x, b: x[1:3].masked_fill_(torch.tensor([True, False]), b.sum()),
    "index_add_": lambda torch, x, b: x[1:4].index_add_(0, torch.tensor([0, 2]), b),
    "copy_": lambda torch, x, b: x[3:5].copy_(b),
    "sigmoid_ on an unsqueeze": lambda torch, x, b: x.unsqueeze(0)[:, 2:].sigmoid_(),
    "setitem on a slice": lambda torch, x, b: x[2:].__setitem__(0, b[1] * 3),
    "zero_": lambda torch, x, b: x[:2].zero_(),
    "mul_ by a number on a diagonal": lambda torch, x, b: x.view(2, 3).diagonal().mul_(-2.0),
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_copy_slices_lists_the_ops_other_inputs_and_gives_its_gradients(name):
    def program(torch):
        leaf = torch.tensor([0.5, -1.0, 2.0, -0.0, 3.0, -2.5], requires_grad=True)
        b = torch.tensor([1.5, -0.75], requires_grad=True)
        x = leaf * 1.0
        CHANGES[name](torch, x, b)
        graph = _tree(x.grad_fn)
        (x * torch.arange(1.0, 7.0)).sum().backward()
        return graph, x.tolist(), leaf.grad.tolist(), None if b.grad is None else b.grad.tolist()
    torch_result, ours = record(program)
    assert ours == torch_result


def test_copy_slices_gradients_twice_hooks_and_a_second_backward():
    def program(torch):
        leaf = torch.tensor([0.5, -1.0, 2.0, 4.0], requires_grad=True)
        b = torch.tensor([1.5, -0.75], requires_grad=True)
        x = leaf.clone()
        x[1:3].mul_(b * b)
        seen = []
        x.grad_fn.register_hook(lambda grad_inputs, grad_outputs: seen.append(
            [None if g is None else g.tolist() for g in grad_inputs]))
        y = (x * x).sum()
        g_leaf, g_b = torch.autograd.grad(y, (leaf, b), create_graph=True)
        second = torch.autograd.grad(g_b.sum(), (leaf, b))
        # the op saved b * b and the old values: without retain_graph, a second backward is refused
        z = leaf.clone()
        z[:2].mul_(b)
        (z.sum()).backward()
        again = outcome(lambda: z.sum().backward())
        # add_ saves nothing, yet PyTorch refuses a second backward through CopySlices all the same
        w = leaf.clone()
        w[:2].add_(b)
        w.sum().backward()
        twice = outcome(lambda: w.sum().backward())
        return (g_leaf.tolist(), g_b.tolist(), [t.tolist() for t in second], seen, again, twice, b.grad.tolist(),
                g_b.grad_fn.name())
    torch_result, ours = record(program)
    assert ours == torch_result


def test_copy_slices_on_a_base_that_needs_no_gradient_and_mixed_dtypes():
    def program(torch):
        b = torch.tensor([1.5, -0.75], dtype=torch.float64, requires_grad=True)
        x = torch.zeros(4)
        x[1:3].mul_(b)  # float32 memory, a float64 factor
        x[0:2].add_(b)
        graph = _tree(x.grad_fn)
        (x * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
        return graph, str(x.dtype), b.grad.tolist(), str(b.grad.dtype)
    torch_result, ours = record(program)
    assert ours == torch_result


def test_chained_changes_through_views_of_views_with_hooks_and_retain_grad():
    def program(torch):
        leaf = torch.arange(1.0, 13.0, requires_grad=True)
        b = torch.tensor([0.5, -2.0, 1.5], requires_grad=True)
        x = leaf * 1.0
        m = x.view(3, 4)
        col = m[:, 1]
        col.retain_grad()
        seen = []
        col.register_hook(lambda g: seen.append(g.tolist()))
        col.mul_(b)  # a view's change: col's own history is now CopySlices' (through AsStrided)
        m[1:, 2:].add_(b[1:].unsqueeze(1) * col[1:].unsqueeze(1))
        m.t()[3].sub_(b, alpha=0.5)
        graph = _tree(x.grad_fn)
        refused = outcome(lambda: (x.pow(2) * torch.arange(12.0)).sum().backward())  # (b * col saved col's part)
        y = leaf * 1.0
        n = y.view(3, 4)
        row = n[1]
        row.retain_grad()
        row.register_hook(lambda g: seen.append(g.tolist()))
        row.mul_(torch.cat([b, b[:1]]))
        n[:, 2:].add_(b.unsqueeze(1))
        n.t()[3].sub_(b, alpha=0.5)
        (y.pow(2) * torch.arange(12.0)).sum().backward()
        return graph, refused, _tree(y.grad_fn), y.tolist(), leaf.grad.tolist(), b.grad.tolist(), row.grad, seen
    torch_result, ours = record(program)
    assert ours == torch_result


def test_a_change_through_a_view_under_anomaly_mode_and_a_nan_check():
    def program(torch):
        import warnings
        leaf = torch.tensor([1.0, 0.0, 2.0], requires_grad=True)
        b = torch.tensor([0.0, 1.0], requires_grad=True)
        x = leaf.clone()
        x[:2].div_(b)  # 1 / 0 and 0 / 1: inf and nan in the divisor's gradient
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            with torch.autograd.detect_anomaly():
                error = outcome(lambda: x.sum().backward())
        return error.splitlines()[0] if isinstance(error, str) else error
    torch_result, ours = record(program)
    assert ours == torch_result
