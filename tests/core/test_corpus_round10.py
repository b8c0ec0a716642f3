"""What a tenth look found, running the examples of PyTorch's own docstrings under both engines: ``random_``
and ``exponential_`` (the loss functions' examples draw their targets with them), ``set_printoptions(profile=)``.

Each program runs under torch and under autograd_lab (``tests/core/twin.py``); torch's result is the
expected one.
"""

from __future__ import annotations

import functools
import math
import warnings

import pytest

from tests.core.twin import outcome, record

_DTYPES = ("int64", "int32", "int16", "uint8", "int8", "float32", "float64", "bool")
_BOUNDS = ((), (5,), (2, 7), (-3, 2**30), (0, 2**40), (2,), (-200, 3), (0, 300), (5, 3), (1.5,), (3, None),
           (-3, 2**28 - 1), (0, 2**28))


@pytest.mark.parametrize("dtype", _DTYPES)
def test_random_draws_checks_and_warnings_match_torch(dtype):
    """The same draws (32- or 64-bit, modulo the range), bounds moved inward for floats, PyTorch's errors and its
    precision warning; then the generator is in the same state (the next rand agrees)."""
    def program(torch):
        t = torch.empty(20, dtype=getattr(torch, dtype))
        results = []
        for bounds in _BOUNDS:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                results.append(outcome(lambda bounds=bounds: t.random_(*bounds).tolist()))
            results.append([str(w.message) for w in caught])
        results.append(outcome(lambda: t.random_(to=4).tolist()))
        results.append(outcome(lambda: t.random_(from_=4)))
        results.append(torch.rand(2).tolist())
        return results

    torch_result, ours = record(program)
    assert ours == torch_result


def test_random_fills_a_strided_tensor_in_memory_order_and_refuses_a_leaf_that_requires_grad():
    def program(torch):
        x = torch.zeros(3, requires_grad=True)
        return (repr(torch.empty(2, 3).t().random_(10)), outcome(x.random_),
                repr(torch.empty(3, dtype=torch.long).random_(5)))

    torch_result, ours = record(program)
    assert ours == torch_result


def test_exponential_draws_and_errors_match_torch():
    def program(torch):
        results = [outcome(lambda lam=lam: torch.empty(3).exponential_(lam)) for lam in (0.0, -1.0)]
        results += [outcome(lambda dt=dt: torch.empty(3, dtype=dt).exponential_()) for dt in (torch.int64, torch.int32)]
        for dt in (torch.float32, torch.float64):
            results.append(torch.empty(2, 3, dtype=dt).exponential_(lambd=2).tolist())
            results.append(torch.empty(1000, dtype=dt).exponential_(0.3).tolist())
            results.append(repr(torch.empty(3, 2, dtype=dt).t().exponential_(0.5)))
        results.append(torch.rand(2).tolist())
        return results

    torch_result, ours = record(program)
    assert ours == torch_result


def test_set_printoptions_profile_then_the_options_given():
    def program(torch):
        shown = []
        try:
            torch.set_printoptions(precision=2, threshold=5)
            shown.append(repr(torch.arange(10.0)))
            for profile in ("default", "short", "full", "unknown"):
                torch.set_printoptions(profile=profile)
                shown.append(repr(torch.arange(1200.0) / 3))
            torch.set_printoptions(profile="short", precision=6)
            shown.append(repr(torch.tensor([1.123456789, 2.0])))
        finally:
            torch.set_printoptions(profile="default")
        return shown

    torch_result, ours = record(program)
    assert ours == torch_result


def _norm_results(torch, ords):
    """linalg.norm and matrix_norm of a matrix and a batch, along pairs of dims, keepdim, dtype, and backward."""
    B = (torch.arange(9, dtype=torch.float) .reshape(3, 3) - 4).requires_grad_()
    A = torch.randn(2, 3, 4, requires_grad=True)
    norms = (lambda o: torch.linalg.norm(B, o), lambda o: torch.linalg.norm(A, o, dim=(0, 2)),
             lambda o: torch.linalg.norm(A, o, dim=(2, 0), keepdim=True), lambda o: torch.linalg.norm(A, o),
             lambda o: torch.linalg.norm(A[0, 0], o), lambda o: torch.linalg.matrix_norm(A, o),
             lambda o: torch.linalg.norm(A, o, dim=1), lambda o: torch.linalg.norm(A, o, dim=(0, 1, 2)),
             lambda o: torch.linalg.norm(B, o, dtype=torch.float64))
    results = []
    for ord in ords:
        for norm in norms[:5] + norms[6:] if ord is None else norms:  # (matrix_norm(A, None): an argument error)
            r = outcome(functools.partial(norm, ord))
            results.append(r if isinstance(r, str) else (repr(r), [n.name() for n, _ in r.grad_fn.next_functions]))
    return results


def test_matrix_norms_made_of_sums_compose_as_pytorch_composes_them():
    """ord 1, -1, inf, -inf: a vector 1-norm along one dim, then amax or amin along the other (the nodes torch
    shows); 'fro' and None; PyTorch's errors for dims and ranks; a dtype= inside the norm's node."""
    def program(torch):
        results = _norm_results(torch, (math.inf, -math.inf, 1, -1, "fro", 3, None, 0))
        A = torch.randn(2, 3, 4, requires_grad=True)
        torch.linalg.norm(A, 1, dim=(0, 2)).sum().backward()
        x = torch.randn(5, requires_grad=True)
        torch.linalg.vector_norm(x, dtype=torch.float64).backward()
        B = torch.ones(3, 3)
        results += [repr(A.grad), str(x.grad.dtype), outcome(lambda: torch.linalg.matrix_norm(B, 1, dim=(0, 0))),
                    outcome(lambda: torch.linalg.matrix_norm(B, 1, dim=(0, 5))),
                    outcome(lambda: torch.linalg.vector_norm(x.double(), dtype=torch.float32)),
                    outcome(lambda: torch.linalg.vector_norm(torch.arange(3), dtype=torch.float64))]
        z = torch.tensor([0.0, 2.0, -1.0], requires_grad=True)
        torch.linalg.vector_norm(z, 0).backward()  # (a count of nonzeros: no gradient at all)
        results += [repr(z.grad), outcome(lambda: torch.autograd.grad(torch.linalg.vector_norm(z, 0), z))]
        for shape, ord in (((3, 0), 1), ((0, 3), math.inf), ((0, 3), 1), ((3, 0), math.inf), ((0, 0), 1),
                           ((2, 3, 0), 1), ((3, 0), -1)):  # empty matrices: a largest of no sums is 0
            results.append(outcome(lambda s=shape, o=ord: repr(torch.linalg.matrix_norm(
                torch.zeros(*s, requires_grad=True), o))))
        return results

    torch_result, ours = record(program)
    assert ours == torch_result


@pytest.mark.parametrize("ord", [2, -2, "nuc"])
def test_matrix_norms_of_singular_values_say_they_are_left_out(ord):
    import autograd_lab

    with pytest.raises(RuntimeError, match=f"has no ord={ord!r}: it is made of singular values"):
        autograd_lab.linalg.norm(autograd_lab.ones(3, 3), ord)


def test_load_takes_pytorchs_pickle_arguments(tmp_path):
    """``torch.load(f, encoding="ascii", weights_only=False)`` (its docstring), ``pickle_module=`` and ``mmap=``;
    PyTorch's error and warning when they meet weights_only."""
    import pickle

    def program(torch):
        path = tmp_path / f"{torch.__name__}.pt"
        torch.save({"w": torch.ones(2), "layer": torch.nn.Linear(2, 1)}, path)
        results = [repr(torch.load(path, encoding="ascii", weights_only=False)["w"]),
                   repr(torch.load(path, pickle_module=pickle, weights_only=False, mmap=False)["layer"]),
                   repr(outcome(lambda: torch.load(path, pickle_module=pickle))),
                   outcome(lambda: torch.load(path, pickle_module=pickle, weights_only=True)),
                   repr(torch.load(path, map_location="cpu", weights_only=False)["w"])]
        torch.save([torch.zeros(1)], path)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results.append(repr(torch.load(path, encoding="latin1")))
        return results, [str(w.message) for w in caught]

    torch_result, ours = record(program)
    assert ours == torch_result


def test_a_complex_number_put_into_a_real_tensor_fails_as_in_pytorch():
    def program(torch):
        results = []
        for dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool, torch.float64,
                      torch.float32):
            for put in (lambda t: t.fill_(1j), lambda t: t.new_full((2,), 2j), lambda t: t.new_full((2,), 0j)):
                results.append(outcome(functools.partial(lambda p, d: repr(p(torch.zeros(2, dtype=d))), put, dtype)))
        results += [outcome(lambda: torch.ones(2).clamp(min=1j)), outcome(lambda: torch.ones(2).clamp(max=2j))]
        return results

    torch_result, ours = record(program)
    assert ours == torch_result


@pytest.mark.parametrize("make", [lambda t: t.tensor([1.2, 3j]), lambda t: t.tensor(3j), lambda t: t.full((2,), 1j),
                                  lambda t: t.ones(2) * __import__("numpy").complex64(1j),
                                  lambda t: t.tensor([[1, 2j]])])
def test_complex_data_is_refused_not_silently_made_real(make):
    """PyTorch makes a complex tensor; NumPy would keep only the real part (with a ComplexWarning at best)."""
    import autograd_lab

    with pytest.raises(TypeError, match="autograd_lab has no complex dtypes"):
        make(autograd_lab)


def _edges(y):
    """A result's node and the names along its next_functions (None where an input needs no gradient)."""
    return y.grad_fn.name(), [None if n is None else n.name() for n, _ in y.grad_fn.next_functions]


def test_next_functions_keep_no_edge_for_inputs_pytorch_never_differentiates():
    """An index, a mask, a condition, a target, a class weight, running statistics: PyTorch's nodes keep no edge for
    them (an input it can differentiate keeps one, (None, 0) when it needs no gradient); a number written by
    index_put_ or a 0-d tensor given to fill_ is an input of the node."""
    def program(torch):
        F = torch.nn.functional
        x = torch.randn(3, 4, requires_grad=True)
        w, t = torch.randn(4), torch.tensor([0, 1, 2])
        m = torch.tensor([[True, False, True, False]] * 3)
        idx, src = torch.tensor([[0, 1], [1, 2], [2, 3]]), torch.randn(3, 2)

        def put(y, key, value):
            y[key] = value
            return y

        results = [_edges(y) for y in (
            torch.where(m, x, 0.0), torch.where(m, x, w), x.masked_fill(m, 0.0), x.masked_fill(m, torch.tensor(1.0)),
            x.masked_select(m), x[m], x[t], x.gather(1, idx), x.scatter(1, idx, src), x.scatter_add(1, idx, src),
            x.index_add(0, t, torch.ones(3, 4)), x.index_select(1, t), F.embedding(t, x), F.nll_loss(x, t),
            F.nll_loss(x, t, weight=w), F.cross_entropy(x, t, weight=w.abs()),
            F.binary_cross_entropy(x.sigmoid(), torch.rand(3, 4), weight=torch.rand(3, 4)),
            F.binary_cross_entropy_with_logits(x, torch.rand(3, 4), weight=torch.rand(3, 4), pos_weight=torch.rand(4)),
            F.mse_loss(x, torch.rand(3, 4)), x.clamp(min=w, max=w + 1), x * t.view(3, 1),
            put(x.clone(), m, 0.0), put(x.clone(), t, torch.ones(4)), x.clone().fill_(torch.tensor(1.0)),
            x.clone().masked_fill_(m, 1.0),
            F.batch_norm(x, torch.zeros(4), torch.ones(4), torch.ones(4, requires_grad=True), torch.zeros(4),
                         training=True))]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (scatter's reduce= is deprecated)
            results.append(_edges(x.scatter(1, idx, src, reduce="add")))
        v = torch.tensor(2.0, requires_grad=True)
        y = torch.zeros(3, requires_grad=True).clone()
        y.fill_(v)
        y.sum().backward()
        results.append(repr(v.grad))
        results.append(outcome(lambda: torch.zeros(3, 1).expand(3, 4).fill_(torch.tensor(1.0))))
        results.append(repr(torch.zeros(3, 1).expand(3, 4).fill_(1.0)))
        return results

    torch_result, ours = record(program)
    assert ours == torch_result


_FILL_VALUES = (300, -1, -255, -256, 127.9, 127.0, 128.5, -128.9, -129.0, 2.0**63, 2**63 - 1, 2**63, math.nan, 1e300,
                -1e300, 5, True, math.inf, -0.0, 3.7, -3.7, 1 + 0j, 2j)


@pytest.mark.parametrize("dtype", _DTYPES)
def test_fill_values_convert_or_overflow_as_in_pytorch(dtype):
    """fill_ and full check that a number fits the dtype (c10's checked conversion: -1 fits uint8, 127.9 does not fit
    int8, a float's overflow is an error but inf is not); a 0-d tensor given to fill_ is cast unchecked; a Python
    int beyond 64 bits is refused by torch.tensor."""
    def program(torch):
        d = getattr(torch, dtype)
        results = []
        for v in _FILL_VALUES:
            results.append(outcome(lambda v=v: str(torch.zeros(2, dtype=d).fill_(v).tolist())))
            results.append(outcome(lambda v=v: str(torch.full((2,), v, dtype=d).tolist())))
            if not isinstance(v, complex):
                results.append(outcome(lambda v=v: str(torch.zeros(2, dtype=d).fill_(torch.tensor(v)).tolist())))
        return results

    torch_result, ours = record(program)
    assert ours == torch_result


def test_selective_checkpointing_asks_the_policy_about_each_op_of_the_first_run():
    """``create_selective_checkpoint_contexts`` (its docstring's example): the policy sees each ATen op of the
    forward (``torch.ops.aten.mm.default``, ``aten.mul.Tensor`` ...) once, not the recomputation; gradients as
    without it; PyTorch's errors for a list that is not of ops and for a context_fn with use_reentrant=True."""
    def program(torch):
        cp = torch.utils.checkpoint

        seen = []

        def policy_fn(ctx, op, *args, **kwargs):
            seen.append((ctx.is_recompute, str(op), repr(op), len(args), sorted(kwargs)))
            mm = torch.ops.aten.mm.default
            return cp.CheckpointPolicy.MUST_SAVE if op == mm else cp.CheckpointPolicy.PREFER_RECOMPUTE

        def fn(x, y):
            return torch.sigmoid(torch.matmul(torch.matmul(x, y), y)) * y + 2.0 * x.sum()

        x, y = torch.rand(3, 3, requires_grad=True), torch.rand(3, 3, requires_grad=True)
        out = cp.checkpoint(fn, x, y, use_reentrant=False,
                            context_fn=functools.partial(cp.create_selective_checkpoint_contexts, policy_fn))
        out.sum().backward()
        grads = [repr(x.grad), repr(y.grad)]
        x.grad = y.grad = None
        out = cp.checkpoint(fn, x, y, use_reentrant=False, context_fn=functools.partial(
            cp.create_selective_checkpoint_contexts, [torch.ops.aten.mm.default]))
        out.sum().backward()
        return (seen, grads, [repr(x.grad), repr(y.grad)], [str(p) for p in cp.CheckpointPolicy],
                outcome(lambda: cp.create_selective_checkpoint_contexts(["mm"])),
                outcome(lambda: cp.checkpoint(fn, x, y, use_reentrant=True, context_fn=lambda: None)),
                outcome(lambda: torch.ops.aten.foo), outcome(lambda: torch.ops.aten.mm.bar),
                repr(torch.ops.aten.mm), repr(torch.ops.aten.mm.default(torch.ones(2, 2), torch.ones(2, 2))))

    torch_result, ours = record(program)
    assert ours == torch_result


def test_checkpoint_stops_recomputing_once_it_has_every_saved_tensor(capsys):
    """Early stop (on by default): fn's code after its last op that saves something runs once;
    ``set_checkpoint_early_stop(False)`` around the checkpoint (not around backward) makes it run again."""
    def program(torch):
        cp = torch.utils.checkpoint

        def fn(x):
            print("start")
            y = x.sin()
            print("mid")
            z = y * y
            print("end")
            return z + 1

        x = torch.ones(2, requires_grad=True)
        out = cp.checkpoint(fn, x, use_reentrant=False)
        print("backward")
        out.sum().backward()
        out = cp.checkpoint(fn, x, use_reentrant=False, early_stop=False)
        print("backward")
        out.sum().backward()
        with cp.set_checkpoint_early_stop(False):
            out = cp.checkpoint(fn, x, use_reentrant=False)
        print("backward")
        out.sum().backward()
        out = cp.checkpoint(fn, x, use_reentrant=False)
        with cp.set_checkpoint_early_stop(False):
            print("backward")
            out.sum().backward()
        return capsys.readouterr().out, repr(x.grad)

    torch_result, ours = record(program)
    assert ours == torch_result


def test_unstable_sort_orders_equal_elements_as_pytorch_does():
    """``sort()``/``argsort()`` without ``stable=True`` leave equal elements in the order of libstdc++'s
    std::sort (torch.sort's docstring: ``tensor([0, 1] * 9)``), for every dtype, both directions, NaN and -0.0,
    along any dim; a long 1-d integer tensor sorted ascending is radix-sorted (stable) by PyTorch. topk picks
    and orders equal elements as its kernel's partial_sort / nth_element do."""
    import random

    def program(torch):
        rng = random.Random(0)
        shown = [torch.tensor([0, 1] * 9).sort().indices.tolist(), torch.tensor([0, 1] * 9).argsort().tolist()]
        for _ in range(60):
            n = rng.choice([rng.randint(1, 40), rng.randint(17, 1500)])
            dtype = rng.choice(["int64", "int32", "int16", "uint8", "int8", "float32", "float64", "bool"])
            values = [rng.randint(0, rng.randint(1, 6)) for _ in range(n)]
            if dtype.startswith("float") and rng.random() < 0.5:
                values = [math.nan if rng.random() < 0.2 else -0.0 if v == 0 and rng.random() < 0.5 else v
                          for v in values]
            t = torch.tensor(values).to(getattr(torch, dtype))
            descending = rng.random() < 0.4
            shown += [t.sort(descending=descending).indices.tolist(), t.argsort(descending=descending).tolist(),
                      t.sort(descending=descending, stable=False).indices.tolist(),
                      t.sort(descending=descending, stable=True).indices.tolist()]
        m = torch.randint(0, 3, (3, 20, 4))
        for dim in (0, 1, 2):
            shown += [m.sort(dim=dim).indices.tolist(), m.float().sort(dim=dim, descending=True).indices.tolist()]
        long = torch.randint(0, 3, (40000,))
        shown += [long.sort().indices[:50].tolist(), long.sort(descending=True).indices[:50].tolist()]
        for _ in range(40):  # topk: std::partial_sort when k * 64 <= n, else nth_element and sort
            n = rng.choice([rng.randint(1, 40), rng.randint(40, 700)])
            k = rng.choice([rng.randint(0, n), rng.randint(0, max(1, n // 64))])
            values = [rng.randint(0, rng.randint(1, 5)) for _ in range(n)]
            t = torch.tensor([math.nan if rng.random() < 0.1 else v for v in values]).float()
            shown += [t.topk(k).indices.tolist(), t.topk(k, largest=False).indices.tolist()]
        shown += [m.double().topk(2, dim=dim).indices.tolist() for dim in (0, 1, 2)]
        return shown

    torch_result, ours = record(program)
    assert ours == torch_result


def test_random_fills_are_in_place_ops_of_the_graph():
    """random_, exponential_, uniform_, normal_, bernoulli_ on a tensor of a graph: a node of their own (gradient
    zero), through a view too (CopySlices); refused on a leaf that requires grad and on an inference tensor."""
    def program(torch):
        shown = []
        for fill in (lambda b: b.random_(), lambda b: b.random_(5), lambda b: b.random_(1, 5),
                     lambda b: b.random_(3, None), lambda b: b.exponential_(), lambda b: b.uniform_(),
                     lambda b: b.normal_(), lambda b: b.bernoulli_(0.3)):
            a = torch.ones(4, requires_grad=True)
            b = a * 2
            fill(b)
            b.sum().backward()
            shown.append((b.grad_fn.name(), b._version, repr(a.grad)))
            a = torch.ones(4, requires_grad=True)
            b = a * 2
            fill(b[1:3])
            b.sum().backward()
            shown.append((b.grad_fn.name(), repr(a.grad)))
            shown.append(outcome(lambda fill=fill: fill(torch.ones(2, requires_grad=True))))
            with torch.inference_mode():
                t = torch.ones(2)
            shown.append(outcome(lambda fill=fill, t=t: fill(t)))
        return shown

    torch_result, ours = record(program)
    assert ours == torch_result


def test_numbers_written_into_tensors_convert_as_in_pytorch_and_are_inputs_of_the_node():
    """x[key] = number, masked_fill(_), torch.tensor(data, dtype=): PyTorch's checked conversion (truncated into
    integers, -1 into uint8 is 255, its overflow error otherwise); the number written is an input of the node
    ((None, 0) in next_functions), as are batch_norm's and clamp's absent optional tensors."""
    def program(torch):
        F = torch.nn.functional

        def edges(t):
            return [None if n is None else n.name() for n, _ in t.grad_fn.next_functions]

        def put(dtype, value, key):
            t = torch.zeros(3, dtype=getattr(torch, dtype))
            t[key] = value
            return repr(t)

        x = torch.randn(3, 4, requires_grad=True) * 1
        shown = [edges(F.batch_norm(x, None, None, training=True)),
                 edges(F.batch_norm(x, torch.zeros(4), torch.ones(4), training=True)),
                 edges(x.clamp(min=torch.zeros(4))), edges(x.clamp(min=torch.zeros(4), max=torch.ones(4)))]
        for key in ((0, 1), 0, (slice(None), slice(1, 3))):
            z = x.clone()
            z[key] = 5.0
            shown.append(edges(z))
        mask = torch.tensor([True, False, True])
        for dtype in ("int64", "int32", "uint8", "int8", "bool", "float32"):
            for value in (2.7, 5, -1, 300, math.nan, 1 + 0j):
                shown += [outcome(lambda d=dtype, v=value: put(d, v, 0)),
                          outcome(lambda d=dtype, v=value: put(d, v, slice(1, None))),
                          outcome(lambda d=dtype, v=value: put(d, v, torch.tensor([0, 2]))),
                          outcome(lambda d=dtype, v=value: repr(torch.zeros(3, dtype=getattr(torch, d))
                                                                .masked_fill_(mask, v))),
                          outcome(lambda d=dtype, v=value: repr(torch.zeros(3, dtype=getattr(torch, d))
                                                                .masked_fill(mask, v)))]
        for data, dtype in ((300, "uint8"), (-1, "uint8"), (2.7, "int64"), (1e300, "int64"), (math.nan, "int32"),
                            ([2**63 - 1, 1.0], "int64"), ([1, 300], "uint8"), (1e300, "float32"), (2.5, "bool"),
                            ([2**63, 1.0], None), (2**64, "float32"), ([1, 2**63], None), (-2**63, None),
                            ([[1, 2], [3, 2**70]], None)):
            shown.append(outcome(lambda v=data, d=dtype: repr(torch.tensor(v, dtype=d and getattr(torch, d)))))
        return shown

    torch_result, ours = record(program)
    assert ours == torch_result


def test_review_findings_on_losses_load_and_checkpoint(tmp_path):
    """size_average/reduce on every loss (with the warning); cross_entropy of one unbatched item with weight and
    label smoothing (masked_select of a 0-d tensor); a tensor label_smoothing, a list target; load's mmap and
    pickle arguments; fill_ with ints beyond 64 bits; noop_context_fn; ATen names of transpose and squeeze."""
    import io

    def program(torch):
        F, cp = torch.nn.functional, torch.utils.checkpoint
        shown = []
        x, t = torch.tensor([[0.5, -1.0], [2.0, 0.1]]), torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        for loss in (F.binary_cross_entropy_with_logits, lambda a, b, **k: F.binary_cross_entropy(a.sigmoid(), b, **k),
                     F.l1_loss, F.mse_loss):
            for legacy in ({"size_average": False}, {"reduce": False}, {"size_average": True, "reduce": True}):
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    shown.append((repr(loss(x, t, **legacy)), [str(w.message) for w in caught]))
        v, w = torch.tensor([0.5, -1.0, 2.0, 0.1], requires_grad=True), torch.tensor([0.2, 0.5, 1.0, 0.7])
        for extra in ({}, {"ignore_index": 2}, {"reduction": "none"}):
            shown.append(repr(F.cross_entropy(v, torch.tensor(2), weight=w, label_smoothing=0.3, **extra)))
        a = torch.tensor(3.0, requires_grad=True)
        picked = a.masked_select(torch.tensor(True))
        picked.sum().backward()
        shown += [repr(picked), repr(a.grad), repr(torch.tensor(5.0).masked_select(torch.tensor([True, False, True])))]
        y = torch.randn(3, 4, requires_grad=True)
        shown += [repr(F.cross_entropy(y, torch.tensor([0, 1, 1]), label_smoothing=torch.tensor(0.1))),
                  outcome(lambda: F.cross_entropy(y, [0, 1, 1]))]
        path = tmp_path / f"{torch.__name__}.pt"
        torch.save({"a": torch.arange(3.0)}, path)
        shown += [outcome(lambda: torch.load(io.BytesIO(path.read_bytes()), mmap=True)),
                  outcome(lambda: torch.load(path, foo=1)), outcome(lambda: torch.load(path, errors="strict")),
                  repr(torch.load(path, errors="strict", weights_only=False))]
        shown += [outcome(lambda: torch.zeros(2).fill_(2**64)), outcome(lambda: torch.full((2,), -2**63 - 1)),
                  repr(torch.zeros(2).fill_(2**63)), outcome(lambda: torch.zeros(2, dtype=torch.int64).fill_(2**63))]
        shown += [[type(c).__name__ for c in cp.noop_context_fn()], str(torch.ops.aten.mm)]
        seen = []

        def policy(ctx, op, *args, **kwargs):
            seen.append(str(op))
            return cp.CheckpointPolicy.PREFER_RECOMPUTE

        out = cp.checkpoint(lambda z: z.t().unsqueeze(0).squeeze(0).sum(), y, use_reentrant=False,
                            context_fn=lambda: cp.create_selective_checkpoint_contexts(policy))
        out.backward()
        return shown, seen

    torch_result, ours = record(program)
    assert ours == torch_result


def test_checkpoint_recomputes_in_each_backward_pass():
    """backward(retain_graph=True) twice through a checkpoint: PyTorch runs fn again in each pass."""
    def program(torch):
        log = []

        def fn(x):
            log.append("run")
            a = x.sin()
            log.append("sin")
            b = a * a
            log.append("mul")
            return b.exp().sum()

        x = torch.randn(4, requires_grad=True)
        out = torch.utils.checkpoint.checkpoint(fn, x, use_reentrant=False)
        out.backward(retain_graph=True)
        out.backward()
        return log, repr(x.grad)

    torch_result, ours = record(program)
    assert ours == torch_result


def test_second_review_findings_on_fills_topk_and_losses():
    """Empty tensors fill and initialize (He initialization warns it does nothing); a refused fill draws nothing;
    fills check their dtype and bounds; topk(sorted=False) leaves the order nth_element leaves; a BCE weight that
    requires grad is refused."""
    import random

    def program(torch):
        F = torch.nn.functional
        shown = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            shown += [tuple(torch.nn.Linear(4, 0).weight.shape), tuple(torch.nn.Linear(0, 4).weight.shape),
                      repr(torch.nn.init.kaiming_normal_(torch.empty(0, 3))), repr(torch.zeros(0, 3).normal_()),
                      repr(torch.zeros(0, 3).add_(1))]
        shown.append([str(w.message) for w in caught])
        for fill in (lambda t: t.uniform_(), lambda t: t.normal_(), lambda t: t.random_(), lambda t: t.bernoulli_(),
                     lambda t: t.exponential_()):
            shown += [outcome(lambda f=fill: f(torch.zeros(3, 1).expand(3, 4))), torch.rand(2).tolist()]
        shown += [outcome(lambda: torch.zeros(3, dtype=torch.int64).normal_()),
                  outcome(lambda: torch.zeros(3, dtype=torch.int64).uniform_()),
                  outcome(lambda: torch.zeros(3).uniform_(2, 1)), outcome(lambda: torch.zeros(3).normal_(0, -1))]
        rng = random.Random(3)
        for _ in range(60):
            n = rng.choice([rng.randint(1, 40), rng.randint(40, 700)])
            k = rng.choice([rng.randint(0, n), rng.randint(0, max(1, n // 64))])
            t = torch.tensor([rng.randint(0, rng.randint(1, 50)) for _ in range(n)]).float()
            shown += [t.topk(k, sorted=False).indices.tolist(), t.topk(k, largest=False, sorted=False).indices.tolist()]
        w = torch.ones(2, requires_grad=True)
        shown += [outcome(lambda: F.binary_cross_entropy_with_logits(torch.zeros(2), torch.zeros(2), weight=w)),
                  outcome(lambda: F.binary_cross_entropy_with_logits(torch.zeros(2), torch.zeros(2), pos_weight=w)),
                  outcome(lambda: F.binary_cross_entropy(torch.zeros(2) + 0.5, torch.zeros(2), weight=w))]
        return shown

    torch_result, ours = record(program)
    assert ours == torch_result


def test_setitem_casts_a_tensor_value_as_copy_does():
    """x[key] = tensor of another dtype: cast as copy_ casts for basic indexing and for a 0-d value under a bool
    mask (a masked fill); PyTorch's dtype error for index_put_ otherwise; the gradient goes back in v's dtype."""
    def program(torch):
        def put(dtype, key, value):
            x = torch.zeros(3, dtype=dtype)
            x[key] = value
            return repr(x)

        mask = torch.tensor([True, False, True])
        shown = [outcome(lambda d=d, k=k, v=v: put(d, k, v)) for d, k, v in (
            (torch.int64, torch.tensor([0, 2]), torch.tensor([1.5, 2.5])), (torch.int64, mask, torch.tensor(2.5)),
            (torch.int64, mask, torch.tensor([1.5, 2.5])), (torch.float32, torch.tensor([0, 2]), torch.tensor([1, 2])),
            (torch.uint8, 0, torch.tensor(7)), (torch.bool, 0, torch.tensor(1)),
            (torch.int64, slice(0, 2), torch.tensor([1.7, 2.2])), (torch.float32, slice(0, 2), torch.tensor([1, 2])))]
        x = torch.zeros(3, requires_grad=True).clone()
        v = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
        x[0:2] = v
        x.sum().backward()
        mask2 = torch.tensor([True, False])
        shown += [outcome(lambda: torch.zeros(2, dtype=torch.uint8).masked_fill(mask2, torch.tensor(300))),
                  outcome(lambda: torch.zeros(2).masked_fill(mask2, None)),
                  outcome(lambda: put(torch.float32, 0, 2**63)), outcome(lambda: put(torch.float32, 0, 2**64))]
        return shown, repr(v.grad)

    torch_result, ours = record(program)
    assert ours == torch_result


def test_in_place_clamp_with_tensor_bounds_is_clamps_tensor_form():
    def program(torch):
        x, lo = torch.randn(5, requires_grad=True), torch.zeros(5, requires_grad=True)
        y = (x * 1).clamp_(lo, torch.ones(5))
        y.sum().backward()
        z = torch.randn(2, 3)
        z.clamp_(max=torch.zeros(3))
        edges = [None if n is None else n.name() for n, _ in (x * 1).clamp_(None, torch.ones(5)).grad_fn.next_functions]
        return (repr(y), repr(x.grad), repr(lo.grad), y._version, repr(z), edges,
                outcome(lambda: torch.randn(3, requires_grad=True).clamp_(min=torch.zeros(3))))

    torch_result, ours = record(program)
    assert ours == torch_result
