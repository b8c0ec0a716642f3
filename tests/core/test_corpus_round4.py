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
