"""What a fourth corpus run (the book's nn chapter, PyTorch's extending notes) found missing or different.

Each program runs under torch and under autograd_lab (``tests/core/twin.py``); torch's result is the
expected one.
"""

from __future__ import annotations

import importlib
import math
import re
import warnings

import pytest

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


def test_dropout_draws_the_same_mask_as_torch():
    def program(torch):
        torch.manual_seed(0)
        x = torch.randn(3, 4, requires_grad=True)
        d = torch.nn.Dropout(0.3)
        y = d(x)
        y.sum().backward()
        z = torch.ones(4)
        seen = [repr(d), repr(y), repr(x.grad), d.eval()(x) is x, repr(torch.nn.functional.dropout(x, 1.0)),
                torch.nn.functional.dropout(z, 0.5, inplace=True) is z, repr(z), repr(torch.randn(2)),
                repr(torch.ones(2, 3).t().bernoulli_(0.4)), repr(torch.ones(2, dtype=torch.int64).bernoulli_(0.5)),
                repr(torch.nn.functional.dropout(torch.ones(100), 0.5).sum())]
        errors = [outcome(f) for p in (1.5, -1) for f in (lambda p=p: torch.ones(2).bernoulli_(p),
                                                          lambda p=p: torch.nn.Dropout(p))]
        return seen, errors
    torch_result, ours = record(program)
    assert ours == torch_result


def test_embedding_looks_up_rows_and_sums_their_gradients():
    def program(torch):
        torch.manual_seed(0)
        w = torch.randn(4, 3, requires_grad=True)
        out = torch.nn.functional.embedding(torch.tensor([[0, 2], [2, 3]]), w, padding_idx=2)
        (out * torch.arange(12.0).view(2, 2, 3)).sum().backward()
        e = torch.nn.Embedding(4, 5, padding_idx=1)
        pretrained = torch.nn.Embedding.from_pretrained(torch.arange(0, 20).view(4, 5).float())
        seen = [repr(out), out.grad_fn._saved_padding_idx, out.grad_fn._saved_weight_sym_argsize_0, repr(w.grad),
                repr(e), repr(e.weight), repr(pretrained), pretrained.weight.requires_grad,
                repr(e(torch.arange(3, 0, -1).long())), repr(torch.nn.Embedding(3, 2).weight)]
        errors = [outcome(lambda: torch.nn.functional.embedding(torch.tensor([0.0]), w)),
                  outcome(lambda: torch.nn.functional.embedding(torch.tensor([5]), w))]
        return seen, errors
    torch_result, ours = record(program)
    assert ours == torch_result


def test_init_functions_keep_their_deprecated_names():
    def program(torch):
        torch.manual_seed(0)
        layer = torch.nn.Linear(3, 2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            seen = [repr(torch.nn.init.xavier_normal(layer.weight)), repr(torch.nn.init.constant(layer.bias, 0.5)),
                    repr(torch.nn.init.kaiming_uniform(layer.weight)), repr(torch.nn.init.normal(layer.bias))]
        return seen, [f"{w.category.__name__}: {w.message}" for w in caught]
    torch_result, ours = record(program)
    assert ours == torch_result


def test_registered_parameters_and_modules_live_outside_the_instance_dict():
    def program(torch):
        m = torch.nn.Module()
        m.sub = torch.nn.Linear(2, 2)
        m.p = torch.nn.Parameter(torch.ones(1))
        m.register_buffer("b", torch.zeros(1))
        m.plain = 3
        seen = ["sub" in m.__dict__, "p" in m.__dict__, "b" in m.__dict__, "plain" in m.__dict__, type(m.sub).__name__,
                repr(m.p), repr(m.b), {"sub", "p", "b"} <= set(dir(m)), outcome(lambda: m.missing)]
        del m.p
        m.sub = None
        seen += [outcome(lambda: m.p), m.sub, list(m._modules), [n for n, _ in m.named_parameters()]]
        return seen
    torch_result, ours = record(program)
    assert ours == torch_result


def test_batch_norm_1d_normalises_as_torch_does():
    """Float32 outputs and running statistics bit for bit (PyTorch's kernel: per-thread partial sums, fused
    multiply-adds); float64 (N, C, L) outputs to 12 digits and gradients to 4 (their last bits can differ)."""
    def program(torch):
        torch.manual_seed(0)
        bn = torch.nn.BatchNorm1d(4)
        x = torch.randn(6, 4, requires_grad=True) * 3 + 1
        y = bn(x)
        (y * torch.arange(24.0).view(6, 4)).sum().backward()
        x3 = torch.randn(5, 3, 7, dtype=torch.float64, requires_grad=True)
        bn3 = torch.nn.BatchNorm1d(3, momentum=None).double()
        bn3(x3)
        y3 = bn3(x3 * 2)
        seen = [repr(bn), y.tolist(), repr(bn.running_mean), repr(bn.running_var), repr(bn.num_batches_tracked),
                [n for n, _ in bn.named_buffers()], list(bn.state_dict()), repr(y.grad_fn.name()),
                [round(v, 4) for v in bn.weight.grad.tolist()], [round(v, 12) for v in y3.view(-1).tolist()],
                repr(bn3.running_var),
                torch.autograd.gradcheck(bn3.train(), (x3,)),
                torch.autograd.gradgradcheck(bn3, (x3,)),
                repr(torch.nn.BatchNorm1d(3, affine=False, momentum=None))]
        bn.eval()
        seen.append(bn(x.detach()).tolist())
        errors = [outcome(f) for f in (lambda: bn.train()(torch.randn(1, 4)), lambda: bn(torch.randn(2, 3)),
                                       lambda: bn(torch.randn(2, 4, 3, 3)))]
        return seen, errors
    torch_result, ours = record(program)
    assert ours == torch_result


def test_data_of_a_tensor_that_requires_grad_stays_floating_point():
    def program(torch):
        x = torch.ones(2, requires_grad=True)
        y = torch.ones(2)
        y.data = torch.arange(2)
        embedding = torch.nn.Embedding(4, 5)

        def set_weight():
            embedding.weight.data = torch.arange(0, 20).view(4, 5)

        def set_number():
            y.data = 5
        return [outcome(lambda: setattr(x, "data", torch.arange(2))), repr(y), outcome(set_weight),
                embedding.weight.dtype == torch.float32, outcome(set_number)]
    torch_result, ours = record(program)
    assert ours == torch_result


def test_lstm_and_lstm_cell_as_the_book_uses_them():
    def program(torch):
        torch.manual_seed(2021)
        seq = torch.randn(2, 3, 4)
        lstm = torch.nn.LSTM(4, 3, 1)
        h0, c0 = torch.randn(1, 3, 3), torch.randn(1, 3, 3)
        out1, (hn, cn) = lstm(seq, (h0, c0))
        torch.manual_seed(2021)
        seq = torch.randn(2, 3, 4)
        cell = torch.nn.LSTMCell(4, 3)
        hx, cx = torch.randn(3, 3), torch.randn(3, 3)
        steps = []
        for x in seq:
            hx, cx = cell(x, (hx, cx))
            steps.append(hx)
        out2 = torch.stack(steps)
        return [repr(out1), repr(hn), repr(cn), repr(lstm), [n for n, _ in lstm.named_parameters()],
                tuple(out2.shape), out1.allclose(out2), repr(cell), hx.grad_fn.name(), cx.grad_fn.name(),
                repr(torch.nn.LSTM(4, 3, 2, batch_first=True, bidirectional=True)),
                repr(torch.nn.LSTM(4, 3, 2, dropout=0.5)), repr(torch.nn.LSTMCell(2, 3, bias=False)),
                repr(lstm(seq[:, 0])[0])]
    torch_result, ours = record(program)
    assert ours == torch_result


def test_a_bidirectional_stacked_lstm_differentiates_twice():
    def program(torch):
        torch.manual_seed(0)
        lstm = torch.nn.LSTM(4, 2, 2, bidirectional=True, batch_first=True).double()
        x = torch.randn(3, 5, 4, dtype=torch.double, requires_grad=True)
        out, (h, c) = lstm(x)
        (out.sum() + h.sum() * 2 + c.sum()).backward()
        return [tuple(out.shape), tuple(h.shape), [round(v, 6) for v in out.sum(1).view(-1).tolist()],
                [round(v, 6) for v in x.grad.view(-1).tolist()], round(lstm.weight_hh_l1_reverse.grad.sum().item(), 6),
                torch.autograd.gradcheck(lambda t: lstm(t)[0], (x,)),
                torch.autograd.gradgradcheck(lambda t: lstm(t)[1][0], (x[:1, :2].detach().requires_grad_(),))]
    torch_result, ours = record(program)
    assert ours == torch_result


def test_the_autograd_profiler_table_has_torch_rows_and_layout():
    """The Intro to PyTorch autograd tutorial profiles ``z = (z / x) * y``: the same rows, columns and counts
    (the times themselves are masked: they differ from run to run)."""
    def program(torch):
        x = torch.randn(2, 3, requires_grad=True)
        y = torch.rand(2, 3, requires_grad=True)
        z = torch.ones(2, 3, requires_grad=True)
        with torch.autograd.profiler.profile(use_cuda=False) as prf:
            for _ in range(100):
                z = (z / x) * y
        table = re.sub(r" *[0-9.]+(us|ms|%|s)", " T", prf.key_averages().table(sort_by="count"))
        with torch.autograd.profiler.profile() as prof:
            with torch.autograd.profiler.record_function("block"):
                w = (x * 2).sum()
            w.backward()
        names = {e.key for e in prof.key_averages()}
        return table, sorted(names & {"aten::mul", "aten::sum", "block", "MulBackward0", "SumBackward0",
                                      "autograd::engine::evaluate_function: MulBackward0",
                                      "torch::autograd::AccumulateGrad"})
    torch_result, ours = record(program)
    assert ours == torch_result
    import autograd_lab
    assert autograd_lab.autograd.function.Function.__dict__["apply"].__func__.__name__ == "apply"  # swapped back


def test_factories_write_into_out():
    """``torch.rand(2, 2, out=c)`` (Intro to PyTorch, tensors in depth) fills ``c`` and returns it."""
    def program(torch):
        torch.manual_seed(0)
        c = torch.zeros(2, 2)
        d = torch.zeros(2, dtype=torch.float64)
        e = torch.zeros(3, 3)
        f, g, h = torch.empty(0, dtype=torch.int64), torch.empty(0), torch.empty(0, dtype=torch.int64)
        seen = [torch.rand(2, 2, out=c) is c, repr(c), c._version, torch.randn(2, out=d) is d, repr(d),
                repr(torch.ones(2, out=e)), repr(torch.arange(5, out=f)), repr(torch.linspace(0, 1, 3, out=g)),
                repr(torch.eye(2, out=g)), repr(torch.full((2,), 7.0, out=g)), repr(torch.randperm(4, out=h))]
        errors = [outcome(f) for f in (lambda: torch.rand(2, out=torch.zeros(2, requires_grad=True)),
                                       lambda: torch.rand(2, out=torch.zeros(2), dtype=torch.float64),
                                       lambda: torch.zeros(2, out=torch.zeros(2, requires_grad=True)))]
        return seen, errors
    torch_result, ours = record(program)
    assert ours == torch_result


def test_small_integer_dtypes():
    def program(torch):
        a = torch.ones((2, 3), dtype=torch.int16)
        b = torch.tensor([1, 200, 3], dtype=torch.uint8)
        c = torch.tensor([-1, 2, 3], dtype=torch.int8)
        return [repr(t) for t in (a, a * 2, a / 2, a + 1.5, a.sum(), a.float(), b, c, b + c, b * 2, b.short(),
                                  c.byte(), torch.ShortTensor([1, 2]), a.to(torch.int32) + a,
                                  torch.tensor([300, -5], dtype=torch.int16).to(torch.int8),
                                  torch.arange(4, dtype=torch.uint8), torch.full((2,), 3, dtype=torch.int8))] + [
            repr(torch.short), repr((b + c).dtype), torch.tensor([1], dtype=torch.int16).type(),
            outcome(lambda: torch.ones(2, dtype=torch.int16, requires_grad=True))]
    torch_result, ours = record(program)
    assert ours == torch_result


def test_the_math_of_intro_to_pytorch_tensors_in_depth():
    """Rounding, inverse trigonometry, bitwise logic, comparisons as functions, prod, unique, cross, det, svd,
    std_mean, in-place unsqueeze/squeeze, torch.reshape — with their gradients where PyTorch has them."""
    def program(torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            a = torch.tensor([[-1.6, 0.4], [2.5, -0.5]], requires_grad=True)
            b, c = torch.tensor([1, 5, 11]), torch.tensor([2, 7, 10])
            d, e = torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.ones(1, 2)
            sines = torch.sin(torch.tensor([0, math.pi / 4, math.pi / 2, 3 * math.pi / 4]))
            r = torch.tensor([[0.5, -0.2], [0.1, 0.9]])
            x = torch.rand(3, 5, 5)
            x.unsqueeze_(0)
            y = torch.ones(2, 1, 3)
            y.squeeze_()
            z = a * 2
            z.unsqueeze_(0)
            shown = [torch.ceil(a), torch.floor(a), torch.round(a), torch.trunc(a), torch.ceil(torch.tensor([1, 2])),
                     torch.asin(sines), torch.acos(torch.tensor([0.5])), torch.atan(torch.tensor([1.0])),
                     torch.bitwise_xor(b, c), b ^ c, b & c, b | c, b ^ 3, torch.bitwise_not(b),
                     torch.tensor([True, False]) ^ torch.tensor([True, True]), torch.eq(d, e), torch.ne(d, e),
                     torch.gt(d, 2), torch.prod(d), torch.prod(d, 1), d.prod(0, keepdim=True),
                     torch.tensor([1, 2, 3]).prod(), torch.unique(torch.tensor([1, 2, 1, 2, 1, 2])),
                     torch.unique(torch.tensor([[3.0, 1.0], [3.0, 2.0]]), return_inverse=True, return_counts=True),
                     torch.cross(torch.tensor([0.0, 1.0, 0.0]), torch.tensor([1.0, 0.0, 0.0])),
                     torch.cross(torch.eye(3), torch.ones(3, 3), dim=1), torch.det(r), torch.svd(3 * torch.eye(2)),
                     torch.std_mean(r), torch.var_mean(r, 0), torch.std_mean(r, dim=1, keepdim=True), z,
                     torch.reshape(torch.ones(4, 6, 10), (240,)).shape, x.shape, x._version, y.shape]
        grads = []
        for t, f in ((torch.tensor([2.0, 3.0, 0.5]), lambda t: t.prod()),
                     (torch.tensor([[2.0, 0.0], [3.0, 4.0]]), lambda t: t.prod(1).sum()),
                     (torch.tensor([2.0, 0.0, 0.5]), lambda t: t.prod()),
                     (torch.tensor([[2.0, 1.0], [1.0, 3.0]]), torch.det),
                     (torch.tensor([1.0, 2.0, 3.0]),
                      lambda t: torch.linalg.cross(t, torch.tensor([0.0, 1.0, 5.0])).sum()),
                     (torch.tensor([0.1, -0.3]), lambda t: (torch.asin(t) + torch.acos(t) * torch.atan(t)).sum()),
                     (torch.tensor([0.3, 1.7]), lambda t: torch.floor(t).sum() + torch.ceil(t).sum())):
            t.requires_grad_()
            f(t).backward()
            grads.append(t.grad)
        errors = [outcome(f) for f in (lambda: torch.tensor([1.0]) ^ torch.tensor([2.0]),
                                       lambda: torch.ones(2, requires_grad=True).unsqueeze_(0),
                                       lambda: torch.linalg.cross(torch.ones(2), torch.ones(2)),
                                       lambda: torch.det(torch.ones(2, 3)))]
        checks = [torch.autograd.gradcheck(f, (torch.tensor(v, dtype=torch.float64, requires_grad=True),))
                  for f, v in ((torch.asin, [0.1, -0.3]), (lambda t: t.prod(0), [[0.1, 0.0], [2.0, 3.0]]),
                               (torch.det, [[1.0, 2.0], [0.5, 3.0]]))]
        return [repr(s) for s in shown], [repr(g) for g in grads], errors, checks, [
            f"{w.category.__name__}: {w.message}" for w in caught]
    torch_result, ours = record(program)
    assert ours == torch_result


def test_batch_norm_matches_torch_bit_for_bit_on_random_batches():
    import numpy as np
    import torch

    import autograd_lab as lab

    rng = np.random.default_rng(0)
    for _ in range(60):
        n, c, training = int(rng.integers(2, 40)), int(rng.integers(1, 9)), bool(rng.integers(2))
        x = (rng.standard_normal((n, c)) * rng.uniform(0.1, 5) + rng.uniform(-3, 3)).astype(np.float32)
        stats = [rng.standard_normal(c).astype(np.float32), rng.uniform(0.01, 5, c).astype(np.float32)]
        affine = [rng.standard_normal(c).astype(np.float32) for _ in range(2)]
        outs = []
        for module in (torch, lab):
            running = [module.tensor(s.copy()) for s in stats]
            out = module.nn.functional.batch_norm(module.tensor(x), *running, *(module.tensor(a) for a in affine),
                                                  training, 0.1)
            outs.append([out.numpy(), *(r.numpy() for r in running)])
        for theirs, ours in zip(*outs):
            assert np.array_equal(theirs, ours)


def test_review_findings_prod_det_uint8_embedding_buffers():
    """A reviewer's findings: prod's gradient through zeros over several dims, det's gradient at a singular
    matrix, uint8 sums (int64) and uint8 masks, embedding's index dtypes, assigning a non-tensor to a buffer."""
    def program(torch):
        grads = []
        for v in ([[0.0, 2.0], [3.0, 4.0]], [[0.0, 2.0], [3.0, 0.0]], [[1.0, 2.0], [3.0, 4.0]]):
            for reduce in (lambda t: t.prod(), lambda t: t.prod(1).sum(), lambda t: t.prod(0).sum()):
                a = torch.tensor(v, requires_grad=True)
                reduce(a).backward()
                grads.append(repr(a.grad))
        d = torch.tensor([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)
        torch.det(d).backward()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            masked = torch.tensor([1.0, 2.0, 3.0])[torch.tensor([1, 0, 1], dtype=torch.uint8)]
        bn = torch.nn.BatchNorm1d(2)

        def assign():
            bn.running_mean = 5
        return grads, [repr(d.grad), repr(torch.tensor([200, 100], dtype=torch.uint8).sum()),
                       repr(torch.tensor([[200, 100]], dtype=torch.uint8).sum(1)), repr(masked),
                       [str(w.message) for w in caught], outcome(assign),
                       outcome(lambda: torch.nn.functional.embedding(torch.tensor([0], dtype=torch.int16),
                                                                     torch.ones(2, 2)))]
    torch_result, ours = record(program)
    assert ours == torch_result


def test_review_findings_forward_ad_in_place():
    def program(torch):
        fw = importlib.import_module(torch.__name__ + ".autograd.forward_ad")
        with warnings.catch_warnings(), fw.dual_level():
            warnings.simplefilter("ignore", DeprecationWarning)  # (torch.jit's, as torch loads its decompositions)
            d = fw.make_dual(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 1.0]))
            d.mul_(2)
            return repr(fw.unpack_dual(d).tangent)
    torch_result, ours = record(program)
    assert ours == torch_result


def test_nested_profiles_each_record_their_block_and_leave_nothing_behind():
    """(PyTorch's own nested profilers leave the outer one empty, with a warning; here both record.)"""
    import autograd_lab as lab
    from autograd_lab.autograd.function import Function
    from autograd_lab.autograd.profiler import profile

    with profile() as outer:
        with profile() as inner:
            lab.ones(3) * 2
        lab.ones(3) + 1
    assert sorted(e.key for e in inner.key_averages(group_by_input_shape=True)) == ["aten::mul"]
    assert sorted(e.key for e in outer.key_averages()) == ["aten::add", "aten::mul"]
    assert Function.__dict__["apply"].__func__.__name__ == "apply"
    with pytest.raises(ZeroDivisionError), profile():
        1 / 0
    assert Function.__dict__["apply"].__func__.__name__ == "apply"


def test_lstm_checks_its_hidden_state():
    def program(torch):
        lstm = torch.nn.LSTM(3, 4, num_layers=2, batch_first=True)
        cell = torch.nn.LSTMCell(3, 4)
        r = torch.randn
        calls = [lambda: lstm(r(2, 5, 3), (r(2, 4), r(2, 4))), lambda: lstm(r(2, 5, 3), (r(2, 2, 4), r(2, 3, 4))),
                 lambda: lstm(r(2, 5, 3), (r(1, 2, 4), r(1, 2, 4))), lambda: lstm(r(5, 3), (r(2, 2, 4), r(2, 2, 4))),
                 lambda: lstm(r(5, 3), (r(2, 4), r(2, 4)))[0].shape, lambda: lstm(r(2, 5, 4)),
                 lambda: cell(r(2, 3), (r(4), r(4))), lambda: cell(r(2, 3), (r(3, 4), r(3, 4))),
                 lambda: cell(r(2, 5)), lambda: cell(r(3), (r(4), r(4)))[0].shape]
        return [outcome(f) for f in calls]
    torch_result, ours = record(program)
    assert ours == torch_result


def test_python_ints_wrap_into_small_integer_dtypes():
    def program(torch):
        five = {dt: torch.tensor([5], dtype=dt) for dt in (torch.int16, torch.int8, torch.uint8, torch.int32)}
        return [repr(t) for t in (five[torch.int16] * 70000, five[torch.int8] + 1000, five[torch.uint8] + 256,
                                  five[torch.uint8] - 10, torch.tensor([True]) + 1, five[torch.int32] * True)]
    torch_result, ours = record(program)
    assert ours == torch_result


def test_in_place_view_ops_on_views_of_non_leaves():
    def program(torch):
        x = torch.arange(6.0).reshape(2, 3).requires_grad_()
        y = x * 1
        v = y[0]
        v.unsqueeze_(0)
        (v * torch.tensor([[1.0, 2.0, 3.0]])).sum().backward()
        shown = repr(v)  # (before the next in-place change: PyTorch then shows every view as AsStridedBackward0)
        w = y[1]
        w.unsqueeze_(0)
        w.mul_(2)
        return [shown, y._version, v._version, repr(x.grad), repr(y), outcome(lambda: x.unsqueeze_(0)),
                outcome(lambda: torch.ones(2, requires_grad=True).squeeze_())]
    torch_result, ours = record(program)
    assert ours == torch_result


def test_subclass_dispatch_names_operators_and_covers_softmax():
    def program(torch):
        seen = []

        class Logged(torch.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                seen.append(func.__name__)
                return super().__torch_function__(func, types, args, kwargs)
        t = torch.tensor([1.0, 2.0]).as_subclass(Logged)
        results = [type(torch.softmax(t, 0)).__name__, type(t * 3).__name__, type(t[0]).__name__]
        return results, "softmax" in seen
    torch_result, ours = record(program)
    assert ours == torch_result


def test_op_warnings_name_the_callers_line_in_function_and_method_form():
    """``torch.std(x)`` goes through one more of our frames than ``x.std()`` (the __torch_function__ check):
    the warning still names the line that called it, as PyTorch's C++ warnings do."""
    def program(torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            x = torch.ones(1)
            torch.std(x)
            x.std()
            torch.var_mean(x)
            torch.cross(torch.eye(3), torch.eye(3))
        return [(w.filename == __file__, str(w.message)[:30]) for w in caught]
    torch_result, ours = record(program)
    assert ours == torch_result
    assert all(here for here, _ in ours)


def test_std_mean_and_var_mean_backpropagate():
    def program(torch):
        x = torch.tensor([1.0, 2.0, 4.0], requires_grad=True)
        v, m = torch.var_mean(x)
        (v + m).backward()
        y = torch.tensor([[1.0, 2.0], [3.0, 5.0]], requires_grad=True)
        s, _ = torch.std_mean(y, 0, keepdim=True)
        s.sum().backward()
        return [repr(x.grad), repr(y.grad)]
    torch_result, ours = record(program)
    assert ours == torch_result
