"""Found by running verbatim public PyTorch code under both engines (2026-12-01), one test per finding."""

from __future__ import annotations

import contextlib
import math
import warnings

from tests.core.twin import record


def test_relu_backward_gives_zero_where_the_output_is_zero_never_minus_zero_or_nan():
    """PyTorch's ReluBackward0 is threshold_backward: a 0 where the output is 0 (``grad * mask`` gives -0.0 for a
    negative gradient and nan for a nan one, which prints differently)."""
    def program(torch):
        x = torch.tensor([-1.0, 2.0, -3.0, 0.0], requires_grad=True)
        x.relu().backward(torch.tensor([-3.0, 4.0, math.nan, -1.0]))
        return repr(x.grad), [math.copysign(1, v) for v in x.grad.tolist() if v == 0]
    torch_result, ours = record(program)
    assert ours == torch_result


def test_relu_double_backward_records_threshold_backward():
    def program(torch):
        x = torch.tensor([-1.0, 2.0], requires_grad=True)
        (g,) = torch.autograd.grad(x.relu().sum(), x, create_graph=True)
        node = g.grad_fn
        saved = (node.name(), repr(node._saved_self), node._saved_threshold)
        (gg,) = torch.autograd.grad(g.sum(), x, allow_unused=True)
        v = torch.ones(2, requires_grad=True)
        (g2,) = torch.autograd.grad(torch.nn.functional.relu(x), x, v, create_graph=True)
        (gv,) = torch.autograd.grad(g2.sum(), v)
        return (saved, repr(gg),
                [n.name() if n is not None else None for n, _ in g2.grad_fn.next_functions], repr(gv))
    torch_result, ours = record(program)
    assert ours == torch_result


def test_in_place_mul_and_div_under_no_grad_as_sgd_momentum_does():
    """SGD with momentum calls buf.mul_(momentum) under no_grad from its second step on."""
    def program(torch):
        w = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
        opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
        for _ in range(3):
            opt.zero_grad()
            (w ** 2).sum().backward()
            opt.step()
        with torch.no_grad():
            b = torch.tensor([2.0, 4.0], requires_grad=True)
            b.mul_(0.5).div_(2)
        return w.tolist(), b.tolist(), b._version
    torch_result, ours = record(program)
    assert ours == torch_result


def test_broadcast_bias_gradients_summed_without_a_graph_and_with_one():
    """The engine sums a broadcast gradient back to the input's shape: on arrays normally, as a recorded
    sum with create_graph (so it can be differentiated again)."""
    def program(torch):
        # dyadic values: every product and sum is exact, so no BLAS summation order shows
        x = torch.arange(15.0).reshape(5, 3) / 4
        w = (torch.arange(6.0).reshape(2, 3) / 8).requires_grad_()
        b = torch.tensor([0.5, -1.0], requires_grad=True)
        torch.nn.functional.linear(x, w, b).pow(2).sum().backward()
        plain = b.grad.tolist()
        (g,) = torch.autograd.grad(torch.nn.functional.linear(x, w, b).pow(2).sum(), b, create_graph=True)
        (gg,) = torch.autograd.grad(g.sum(), b)
        return plain, g.tolist(), g.grad_fn.name(), gg.tolist()
    torch_result, ours = record(program)
    assert ours == torch_result


def test_sgd_on_a_0d_parameter_whose_update_lands_halfway_between_two_floats():
    """lr=1 on tensor(1.0) with grad -2**-24: 1 + 2**-24 lies exactly halfway between two float32 numbers
    (the single-rounding fix-up used to index a NumPy scalar and raise TypeError)."""
    def program(torch):
        w = torch.tensor(1.0, requires_grad=True)
        opt = torch.optim.SGD([w], lr=1.0)
        w.grad = torch.tensor(-2.0**-24)
        opt.step()
        return w.item()
    torch_result, ours = record(program)
    assert ours == torch_result


def test_gradgradcheck_draws_its_grad_outputs_from_the_seeded_generator():
    """The double-backward tutorial seeds, calls gradgradcheck, then draws more: the later draws match torch."""
    def program(torch):
        torch.manual_seed(0)
        x = torch.randn(3, dtype=torch.float64, requires_grad=True)
        ok = torch.autograd.gradgradcheck(lambda x: x**3, (x,))
        return ok, torch.rand(2).tolist(), torch.randn(2, 2, dtype=torch.float64).tolist()
    torch_result, ours = record(program)
    assert ours == torch_result


def test_post_accumulate_grad_hook_may_return_its_tensor():
    """torch.Tensor.register_post_accumulate_grad_hook's own docstring example returns the tensor; an int is refused."""
    def program(torch):
        w = torch.ones(2, requires_grad=True)
        w.register_post_accumulate_grad_hook(lambda t: t)
        (w * 2).sum().backward()
        v = torch.ones(2, requires_grad=True)
        v.register_post_accumulate_grad_hook(lambda t: 5)
        try:
            (v * 2).sum().backward()
            error = None
        except Exception as e:
            error = f"{type(e).__name__}: {e}"
        return w.grad.tolist(), error
    torch_result, ours = record(program)
    assert ours == torch_result


def test_losses_accept_the_2018_size_average_and_reduce_arguments_with_the_warning():
    """The book's 0.3-era cells build MSELoss(size_average=False). The warning names the line torch's names
    (in its loss.py / functional.py), so a student sees the same two lines but for the path."""
    import linecache

    def program(torch):
        x, y = torch.tensor([1.0, 2.0, 4.0]), torch.tensor([0.0, 0.0, 1.0])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loss = torch.nn.MSELoss(size_average=False)
            per_element = torch.nn.functional.mse_loss(x, y, reduce=False)
        where = [(w.filename.rsplit("/", 1)[-1], linecache.getline(w.filename, w.lineno).strip()) for w in caught]
        return loss.reduction, loss(x, y).item(), per_element.tolist(), [str(w.message) for w in caught], where
    torch_result, ours = record(program)
    assert ours == torch_result


def test_legacy_tensor_constructor_with_sizes_and_without_arguments():
    """pytorch-book's 0.3-era cells write torch.Tensor(2, 3) (a 2x3 tensor) and torch.Tensor() (an empty one);
    the first used to give tensor(2.) requiring grad. (PyTorch leaves the values uninitialised: not compared.)"""
    def program(torch):
        a, b = torch.Tensor(2, 3), torch.Tensor(2, 3, 4)
        return (tuple(a.shape), str(a.dtype), a.requires_grad, tuple(b.shape), repr(torch.Tensor()),
                repr(torch.Tensor([1, 2])))
    torch_result, ours = record(program)
    assert ours == torch_result


def test_nelement_is_contiguous_and_contiguous():
    """pytorch-book's tensor cells: a transposed view is not contiguous; contiguous() copies it (CloneBackward0)."""
    def program(torch):
        a = torch.arange(6.0).reshape(2, 3).requires_grad_()
        b = a.t()
        c = b.contiguous()
        c.sum().backward()
        return (a.nelement(), a.is_contiguous(), b.is_contiguous(), c.is_contiguous(), a.contiguous() is a,
                c.grad_fn.name(), c.tolist(), a.grad.tolist(), torch.ones(1, 3).t().is_contiguous())
    torch_result, ours = record(program)
    assert ours == torch_result


def test_gradcheck_float32_warning_names_the_line_torch_names():
    """The book's gradcheck cell (float32 input): the warning's text and the line it points at, as in torch
    (its own gradcheck.py, the call of _check_inputs), so the two lines a student sees match but for the path."""
    import linecache

    def program(torch):
        x = torch.randn(3, 4, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.autograd.gradcheck(torch.sigmoid, (x,), eps=1e-3, atol=1e-2)
        w = caught[0]
        return str(w.message), "/".join(w.filename.split("/")[-2:]), linecache.getline(w.filename, w.lineno).strip()
    torch_result, ours = record(program)
    assert ours == torch_result


def test_anomaly_mode_names_the_forward_call_as_torch_does():
    """torch.autograd.detect_anomaly's docstring example: the warning lists the user's frames, then the custom
    Function's apply, and ends with PyTorch's "Triggered internally" note; the error itself gets no note."""
    import re

    def program(torch):
        class MyFunc(torch.autograd.Function):
            @staticmethod
            def forward(ctx, inp):
                return inp.clone()

            @staticmethod
            def backward(ctx, grad):
                raise RuntimeError("Some error in backward")

        def run_fn(a):
            return MyFunc.apply(a).sum()

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with torch.autograd.detect_anomaly():
                out = run_fn(torch.rand(4, requires_grad=True))
                try:
                    out.backward()
                except RuntimeError as error:
                    failure = str(error), getattr(error, "__notes__", None)
                (y := torch.rand(2, requires_grad=True).exp()).grad_fn.register_hook(lambda *_: 1 / 0)
                with contextlib.suppress(ZeroDivisionError):
                    y.sum().backward()
        messages = [str(w.message) for w in caught[1:]]
        # the library's own frames: compare where they are (file and function), not their line numbers or text
        frames = [re.findall(r'File "[^"]*?(test_session_findings\.py|autograd/function\.py)", line \d+, in (\w+)', m)
                  for m in messages]
        return failure, [m.splitlines()[0] for m in messages], frames, [m.splitlines()[-1] for m in messages]
    torch_result, ours = record(program)
    assert ours == torch_result
