"""What a fourth corpus run (the book's nn chapter, PyTorch's extending notes) found missing or different.

Each program runs under torch and under autograd_lab (``tests/core/twin.py``); torch's result is the
expected one.
"""

from __future__ import annotations

from tests.core.twin import outcome, record


def test_repeat_tiles_and_sums_back():
    def program(torch):
        x = torch.arange(6.0).reshape(2, 3).requires_grad_()
        y = x.repeat(2, 1, 2)
        (y * torch.arange(24.0).reshape(2, 2, 6)).sum().backward()
        shown = [repr(y), y.grad_fn._saved_repeats, repr(x.grad), repr(torch.ones(2).repeat(2, 1)),
                 repr(torch.tensor(1.0).repeat(3)), repr(torch.tensor(1.0).repeat(())), repr(x.repeat([1, 0]))]
        errors = [outcome(f) for f in (x.repeat, lambda: x.repeat(2), lambda: x.repeat(-1, 2))]
        return shown, errors
    torch_result, ours = record(program)
    assert ours == torch_result


def test_set_num_threads_splits_large_sums_as_torch_does():
    def program(torch):
        before = torch.get_num_threads()
        x = torch.randn(300_000) * 1000  # over 32768 elements: PyTorch splits the sum between threads
        seen = []
        try:
            for n in (1, 3):  # (on 2 CPUs, 1 thread rounds this sum otherwise than the default)
                torch.set_num_threads(n)
                seen += [torch.get_num_threads(), x.sum().item(), x.view(3, -1).sum(1).tolist()]
        finally:
            torch.set_num_threads(before)
        errors = [outcome(lambda a=a: torch.set_num_threads(a)) for a in (0, -1, 2.5, "a")]
        return seen, errors, torch.get_num_threads() == before
    torch_result, ours = record(program)
    assert ours == torch_result


def _memory_saving_functions(torch):
    class Boxed(torch.autograd.Function):
        boxed_grads_call = True

        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x * w, x + w

        @staticmethod
        def backward(ctx, grads):
            x, w = ctx.saved_tensors
            kind = type(grads).__name__
            first, grads[0] = grads[0], None  # the list is the function's to empty
            return first * w + grads[1], first * x + grads[1] if kind == "list" else None

    class OneLook(torch.autograd.Function):
        clear_saved_tensors_on_access = True

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    class TwoLooks(OneLook):
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * ctx.saved_tensors[0] * grad

    return Boxed, OneLook, TwoLooks


def test_boxed_grads_and_saved_tensors_cleared_on_access():
    def program(torch):
        boxed, one_look, two_looks = _memory_saving_functions(torch)
        x = torch.tensor([1.0, 2.0], dtype=torch.double, requires_grad=True)
        w = torch.tensor([3.0, -1.0], dtype=torch.double, requires_grad=True)
        a, b = boxed.apply(x, w)
        (a.sum() + 2 * b.sum()).backward()
        seen = [x.grad.tolist(), w.grad.tolist(), torch.autograd.gradcheck(boxed.apply, (x, w))]
        y = one_look.apply(x)
        y.sum().backward(retain_graph=True)
        seen += [x.grad.tolist(), outcome(lambda: y.sum().backward()), outcome(lambda: y.grad_fn.saved_tensors)]
        z = one_look.apply(x)
        seen += [repr(z.grad_fn.saved_tensors), outcome(lambda: z.grad_fn.saved_tensors)]
        seen.append(outcome(lambda: two_looks.apply(x).sum().backward()))
        return seen
    torch_result, ours = record(program)
    assert ours == torch_result
