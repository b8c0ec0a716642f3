"""The Tensor half of pytorch-book's chapter 3 (v2.0) and the older API it uses, run under both engines.

Each finding of the verbatim-corpus run that stopped on a missing or different API has a test here:
the legacy constructor ``torch.Tensor(...)`` and ``x.new``, the type classes and
``set_default_tensor_type``, storages, ``randperm`` (and the draws after it), ``gather``,
``scatter_``, ``masked_select``, ``cumsum``, ``%`` and ``fmod``, and a clone's layout.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.core.twin import outcome, record


def same(program):
    torch_result, ours = record(program)
    assert ours == torch_result
    return ours


def test_legacy_constructor_copies_other_dtypes_and_shares_the_default_one():
    """torch.Tensor(float64 array) is a float32 copy (the book: "copied, not shared"); a float32 array is shared,
    a tensor is aliased (AliasBackward0 when it requires grad), a Size is a shape, a number is refused."""
    def program(torch):
        doubles, floats = np.ones((2, 3)), np.ones(3, np.float32)
        a, b = torch.Tensor(doubles), torch.Tensor(floats)
        doubles[0, 1], floats[0] = -1, 5
        x = torch.ones(2, requires_grad=True)
        alias = torch.Tensor(x)
        d = torch.ones(2, dtype=torch.float64)
        shared = torch.Tensor(d)
        shared[0] = 7
        alias.sum().backward()
        return (repr(a), str(a.dtype), repr(b), repr(alias), x.grad.tolist(), repr(d), str(shared.dtype),
                tuple(torch.Tensor(torch.Size([2, 1])).shape), tuple(torch.Tensor(2).shape), repr(torch.Tensor((2, 3))),
                repr(torch.Tensor([True])), repr(torch.Tensor(torch.tensor([1, 2]))),
                *(outcome(f) for f in (lambda: torch.Tensor(2.5), lambda: torch.Tensor("a"), lambda: torch.Tensor(-1),
                                       lambda: torch.Tensor(np.float64(2)), lambda: torch.Tensor(True))))
    same(program)


def test_legacy_constructor_refuses_keywords_it_does_not_take():
    def program(torch):
        return [outcome(f).splitlines()[0] for f in (lambda: torch.Tensor([1, 2], requires_grad=True),
                                                      lambda: torch.Tensor(2, dtype=torch.float64))]
    assert all("new() received an invalid combination of arguments" in line for line in same(program))


def test_new_makes_a_tensor_of_the_same_dtype():
    def program(torch):
        a = torch.ones(2, dtype=torch.float64)
        return tuple(a.new(2, 3).shape), repr(a.new([1, 2])), repr(a.new()), str(torch.ones(1).new(1).dtype)
    same(program)


def test_type_classes_and_set_default_tensor_type():
    """The book switches the default to DoubleTensor and back, and converts with a.type(t.FloatTensor)."""
    def program(torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.set_default_tensor_type("torch.DoubleTensor")
            doubles = (str(torch.rand(2, 3).dtype), str(torch.Tensor(2).dtype), str(torch.tensor([1.0]).dtype))
            torch.set_default_tensor_type(torch.FloatTensor)
        a = torch.ones(2, dtype=torch.float64)
        return (doubles, str(torch.get_default_dtype()), str(a.type(torch.FloatTensor).dtype),
                isinstance(torch.ones(1), torch.FloatTensor), isinstance(torch.ones(1), torch.DoubleTensor),
                repr(torch.FloatTensor), str(torch.DoubleTensor.dtype), repr(torch.LongTensor([1, 2])),
                str(torch.FloatTensor(2, 3).dtype), str(torch.IntTensor([1]).dtype), str(torch.BoolTensor([1]).dtype),
                outcome(lambda: torch.set_default_tensor_type(torch.LongTensor)),
                [str(w.message).split(" (Triggered")[0] for w in caught][:1])
    same(program)


def test_storages_offsets_and_data_pointers_show_shared_memory():
    def program(torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            a = torch.arange(0, 6).float()
            b = a.view(2, 3)
            c = a[2:]
            d = torch.Tensor(c.storage())  # the whole storage: d[0] is a[0]
            d[0] = 6666
            e = b[::2, ::2]
            storage = a.storage()
            result = (id(b.storage()) == id(a.storage()), id(c.storage()) == id(a.storage()),
                      c.data_ptr() - a.data_ptr(), (a.storage_offset(), c.storage_offset(), d.storage_offset()),
                      b.tolist(), repr(storage), len(storage), storage.size(), storage[1], storage.tolist(),
                      str(storage.dtype), e.is_contiguous(), e.storage_offset(), b.t().storage_offset(),
                      c.storage().data_ptr() == a.data_ptr())
        return result, [str(w.message) for w in caught]  # (a warning once a process: an earlier test may have had it)
    same(program)


def test_randperm_shuffles_as_torch_and_keeps_the_later_draws_in_step():
    """The book's randperm(5) cell: without it every later seeded number in the notebook differed."""
    def program(torch):
        orders = []
        for seed in (0, 1, 7):
            torch.manual_seed(seed)
            orders.append((torch.randperm(5).tolist(), torch.randperm(40).tolist(), torch.rand(2).tolist()))
        g = torch.Generator().manual_seed(3)
        return (orders, repr(torch.randperm(10, generator=g)), repr(torch.randperm(4, dtype=torch.float32)),
                repr(torch.randperm(0)), repr(torch.randperm(1)), outcome(lambda: torch.randperm(-1)))
    same(program)


def test_gather_scatter_and_their_gradients():
    """The book's diagonal cells, then the gradients (GatherBackward0, ScatterBackward0/1, ScatterAddBackward0)."""
    def program(torch):
        a = torch.arange(0, 16).view(4, 4)
        index = torch.tensor([[0, 1, 2, 3], [3, 2, 1, 0]]).t()
        b = a.gather(1, index)
        c = torch.zeros(4, 4).long().scatter_(1, index, b)
        x = torch.arange(12.0).view(3, 4).requires_grad_()
        picked = x.gather(0, torch.tensor([[2, 0, 1, 2], [0, 0, 0, 1]]))
        weights = torch.arange(8.0).view(2, 4)
        (gx,) = torch.autograd.grad((picked * weights).sum(), x, create_graph=True)
        src, row = torch.ones(2, 4, requires_grad=True), torch.arange(4.0).view(1, 4).requires_grad_()
        written = torch.zeros(3, 4).requires_grad_().scatter(0, torch.tensor([[1, 2, 0, 1]]), row)
        added = torch.zeros(3, 4).scatter_add(0, torch.tensor([[1, 1, 0, 1], [1, 0, 0, 2]]), src)
        valued = x.scatter(1, torch.tensor([[0], [3], [1]]), 9.5)
        (written.sum() + (added * added).sum() + valued.sum()).backward()
        return (a.gather(0, torch.tensor([[0, 1, 2, 3]])).tolist(), b.tolist(), c.tolist(), picked.tolist(),
                picked.grad_fn.name(), picked.grad_fn._saved_dim, gx.tolist(), gx.requires_grad,
                written.grad_fn.name(), added.grad_fn.name(), valued.grad_fn.name(), valued.tolist(),
                src.grad.tolist(), row.grad.tolist(), x.grad.tolist(), added.tolist(),
                outcome(lambda: torch.zeros(3, 4).scatter(0, torch.tensor([[1, 2, 0, 1]]), src).sum().backward()),
                torch.gather(x, 1, torch.tensor([[1], [0], [3]])).tolist())
    same(program)


def test_gather_and_scatter_errors():
    def program(torch):
        a = torch.arange(16.0).view(4, 4)
        return [outcome(f) for f in (
            lambda: a.gather(0, torch.tensor([0, 1])), lambda: a.gather(0, torch.tensor([[4]])),
            lambda: a.gather(1, torch.tensor([[0]] * 5)), lambda: a.gather(0, torch.tensor([[0.0]])),
            lambda: a.scatter_(0, torch.tensor([[4]]), 1.0), lambda: a.gather(2, torch.tensor([[0]])),
            lambda: torch.zeros(2, 2).scatter_(0, torch.tensor([[0, 1]]), torch.ones(2, 2, dtype=torch.int64)))]
    same(program)


def test_scatter_in_place_records_the_change_and_bumps_the_version():
    def program(torch):
        w = torch.ones(2, 3, requires_grad=True)
        y = w * 2
        before = y._version
        y.scatter_(1, torch.tensor([[2], [0]]), torch.full((2, 1), 5.0, requires_grad=True))
        y.sum().backward()
        return before, y._version, y.grad_fn.name(), y.tolist(), w.grad.tolist()
    same(program)


def test_masked_select_and_its_gradient():
    def program(torch):
        x = torch.tensor([[-1.0, 2.0, 0.5], [3.0, -4.0, 1.0]], requires_grad=True)
        picked = x.masked_select(x > 0.7)
        (picked * torch.arange(1.0, 4.0)).sum().backward()
        row = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        spread = row.masked_select(torch.tensor([[True, False, True], [True, True, False]]))  # row is broadcast
        spread.sum().backward()
        return (picked.tolist(), picked.grad_fn.name(), x.grad.tolist(), spread.tolist(), row.grad.tolist(),
                torch.masked_select(x, x < 0).tolist(), outcome(lambda: x.masked_select(x)),
                outcome(lambda: x.masked_select(torch.ones(4, dtype=torch.bool))))
    same(program)


def test_cumsum_values_dtypes_and_gradient():
    def program(torch):
        a = torch.arange(2, 8).view(2, 3)
        x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        y = x.cumsum(dim=1)
        (gx,) = torch.autograd.grad((y * torch.tensor([1.0, 10.0, 100.0])).sum(), x, create_graph=True)
        return (repr(a.cumsum(dim=1)), repr(torch.tensor([True, False, True]).cumsum(0)), y.grad_fn.name(),
                y.grad_fn._saved_dim, gx.tolist(), repr(torch.ones(3).cumsum(0, dtype=torch.float64)),
                repr(torch.cumsum(x, -2)), repr(torch.tensor(2.5).cumsum(0)), outcome(lambda: x.cumsum(2)))
    same(program)


def test_remainder_and_fmod_values_nodes_and_gradients():
    """The book's "a % 3" and "t.fmod(a, 3)" cell, signs, integers, division by zero and the gradients."""
    def program(torch):
        a = torch.arange(0, 6).float().view(2, 3)
        x = torch.tensor([-3.5, 3.0, 4.5, -0.5], requires_grad=True)
        d = torch.tensor([2.0, -2.0, 2.5, 0.75], requires_grad=True)
        r, f = x % d, torch.fmod(x, d)
        (r.sum() + 2 * f.sum()).backward()
        return (repr(a % 3), repr(torch.fmod(a, 3)), repr(torch.tensor([-3, 3, 7]) % 2),
                repr(5 % torch.tensor([3, -3])),
                repr(torch.fmod(torch.tensor([-3, 3]), 2)), repr(torch.remainder(torch.tensor([-3.0, 3.0]), -2)),
                repr(torch.tensor([1.0, -2.0]) % 0), r.tolist(), f.tolist(), r.grad_fn.name(), f.grad_fn.name(),
                (x % 2).grad_fn.name(), x.fmod(2).grad_fn.name(), x.grad.tolist(), d.grad.tolist(),
                outcome(lambda: torch.tensor([1, 2]) % 0), outcome(lambda: torch.fmod(torch.tensor([1, 2]), 0)))
    same(program)


def test_clone_keeps_the_layout_and_contiguous_does_not():
    def program(torch):
        t = torch.arange(6.0).view(2, 3).t()
        return (t.clone().is_contiguous(), t.contiguous().is_contiguous(), t.clone().tolist(),
                outcome(lambda: t.clone().view(-1)), t[::2].clone().is_contiguous())
    same(program)


_FLOATS = st.sampled_from([np.float32, np.float64])


@settings(max_examples=60, deadline=None)
@given(data=st.data(), dtype=_FLOATS)
def test_remainder_fmod_and_cumsum_match_torch_bit_for_bit(data, dtype):
    import torch

    import autograd_lab as lab
    shape = data.draw(hnp.array_shapes(max_dims=3, max_side=5))
    finite = st.floats(-1e4, 1e4, allow_nan=False, width=32)
    x = data.draw(hnp.arrays(dtype, shape, elements=finite))
    y = data.draw(hnp.arrays(dtype, shape, elements=finite.filter(lambda v: abs(v) > 1e-3)))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    for name, args in (("remainder", (y,)), ("fmod", (y,)), ("cumsum", (dim,))):
        theirs = getattr(torch, name)(torch.from_numpy(x), *(torch.from_numpy(a) if isinstance(a, np.ndarray) else a
                                                             for a in args)).numpy()
        ours = getattr(lab, name)(lab.from_numpy(x), *(lab.from_numpy(a) if isinstance(a, np.ndarray) else a
                                                        for a in args)).numpy()
        np.testing.assert_array_equal(ours, theirs, err_msg=name)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_gather_matches_torch_on_random_indices(data):
    import torch

    import autograd_lab as lab
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    dim = data.draw(st.integers(0, len(shape) - 1))
    index_shape = tuple(data.draw(st.integers(1, s)) if d != dim else data.draw(st.integers(1, 5))
                        for d, s in enumerate(shape))
    index = data.draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, shape[dim] - 1)))
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    results = []
    for engine in (torch, lab):
        t = engine.tensor(x, requires_grad=True)
        out = t.gather(dim, engine.tensor(index))
        out.sum().backward()
        results.append((out.tolist(), t.grad.tolist()))
    assert results[0] == results[1]


@pytest.mark.parametrize("n", [2, 17, 300])
def test_randperm_matches_torch_for_longer_permutations(n):
    def program(torch):
        torch.manual_seed(n)
        return torch.randperm(n).tolist(), torch.randn(3).tolist()
    same(program)


def test_rand_and_randn_refuse_names_with_torchs_message():
    """The book's named-tensor cell: randn(1, 2, 2, 3, names=...) is refused by torch's argument parser."""
    def program(torch):
        return [outcome(f) for f in (lambda: torch.randn(1, 2, 2, 3, names=("N", "C", "H", "W")),
                                     lambda: torch.rand(1, 2, names=("N", "C")), lambda: torch.randn(2, foo=3))]
    same(program)
