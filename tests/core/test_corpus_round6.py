"""What a sixth look at the corpora found: views made with grad mode off, ...

Each program runs under torch and under autograd_lab (``tests/core/twin.py``); torch's result is the
expected one.
"""

from __future__ import annotations

import functools
import warnings

import pytest

from tests.core.twin import outcome, record, values

# Ways to change a view in place; each runs with the view ``v`` (and a 2-d ``m``) in scope.
_CHANGES = ["v.mul_(2)", "v.add_(1)", "v.zero_()", "v.fill_(2.0)", "v.copy_(torch.zeros(2))", "v.unsqueeze_(0)",
            "v[0] = 5", "v[:1] = 5", "v[[0]] = 5", "v[...] = 5", "v[v > 0] = 5", "v[torch.tensor(0)] = 5",
            "v[:1].mul_(2)", "v.view(2).mul_(2)", "v[0].mul_(2)", "v.detach().mul_(2)", "v.data.mul_(2)",
            "v.mul_(torch.ones(2, requires_grad=True))"]


@pytest.mark.parametrize("base", ["leaf", "non-leaf", "no grad"])
@pytest.mark.parametrize("mode", ["no_grad", "inference_mode"])
def test_a_view_made_with_grad_mode_off_is_refused_in_place_with_it_on(base, mode):
    def program(torch):
        seen = []
        for change in _CHANGES:
            a = {"leaf": torch.ones(3, requires_grad=True), "non-leaf": torch.ones(3, requires_grad=True).clone(),
                 "no grad": torch.ones(3)}[base]
            with getattr(torch, mode)():
                v = a[:2]
            shown = (v.requires_grad, v.is_leaf, v.grad_fn is None, v.is_inference())
            seen.append((change, shown, outcome(functools.partial(exec, change, {"torch": torch, "v": v})), values(a)))
        return seen
    torch_result, ours = record(program)
    assert ours == torch_result


def test_views_made_with_grad_mode_off_inside_it_and_their_gradients():
    def program(torch):
        a = torch.ones(3, requires_grad=True)
        with torch.no_grad():
            v = a[:2]
            parts = a.split(1)
        y = v * 2
        edges = [str(e) for e in y.grad_fn.next_functions]
        y.sum().backward()
        unused = outcome(lambda: torch.autograd.grad((v * 3).sum(), v))
        allowed = torch.autograd.grad((v * 3).sum(), v, allow_unused=True)
        split = outcome(lambda: parts[0].mul_(2))
        with torch.no_grad():
            parts[1].mul_(3)  # inside the block: allowed, not recorded
            inside = v * 2
        return values(a), a.grad, v.grad, edges, unused, allowed, split, parts[0].requires_grad, values(inside)
    torch_result, ours = record(program)
    assert ours == torch_result


# After the base (or another view of it) changes in place, each way of reading or using the view ``v``.
_USES = ["v * 2", "str(v)", "v.grad_fn", "v.is_leaf", "v.requires_grad", "v.sum().backward()", "v.detach() * 2",
         "v[:1] * 2", "torch.autograd.grad(v.sum(), a)"]


def _shown(code: str, names: dict) -> str:
    return str(eval(code, names))


@pytest.mark.parametrize("made", ["no_grad", "inference_mode", "grad mode"])
@pytest.mark.parametrize("change", ["a.mul_(2)", "a[2] = 7", "w.add_(1)", "a.mul_(2) in no_grad",
                                    "w.add_(1) in no_grad"])
def test_a_view_whose_base_changed_in_place_follows_the_change_or_refuses(made, change):
    def program(torch):
        seen = []
        for use in _USES:
            x = torch.ones(3, requires_grad=True)
            a = x * torch.tensor([1.0, 2.0, 3.0])
            if made == "grad mode":
                v = a[:2]
            else:
                with getattr(torch, made)():
                    v = a[:2]
            w = a[1:]
            if change.endswith(" in no_grad"):
                with torch.no_grad():
                    exec(change.removesuffix(" in no_grad"), {"a": a, "w": w})
            else:
                exec(change, {"a": a, "w": w})
            shown = outcome(functools.partial(_shown, use, {"torch": torch, "v": v, "a": a}))
            seen.append((use, shown, values(x.grad)))
        return seen
    torch_result, ours = record(program)
    assert ours == torch_result


def test_a_view_of_a_tensor_changed_in_place_gets_the_gradient_of_its_new_values():
    def program(torch):
        x = torch.ones(3, requires_grad=True)
        s = torch.tensor([2.0, 3.0, 4.0], requires_grad=True)
        a = x.clone()
        v, t = a[:2], a.t()
        a.mul_(s)  # v and t now look at x * s
        loss = (v * torch.tensor([1.0, 10.0])).sum() + (t * 100).sum()
        nodes = [v.grad_fn.name(), t.grad_fn.name(), str(v.grad_fn.next_functions), v._version]
        loss.backward()
        b = x.clone()
        u, rows = b[1:], b.view(3, 1)
        u.mul_(s[1:])  # u itself changed: b and the other view follow
        (rows.sum() + u.sum() * 10).backward()
        return nodes, values(x.grad), values(s.grad), u.grad_fn.name(), rows.grad_fn.name(), b.grad_fn.name()
    torch_result, ours = record(program)
    assert ours == torch_result


def test_an_integer_zero_d_tensor_key_writes_as_an_int_does():
    def program(torch):
        a = torch.ones(2, 3, requires_grad=True).clone()
        a[torch.tensor(1)] = 5
        b = torch.ones(2, 3)
        b[torch.tensor(1), torch.tensor(2)] = 7
        return a.grad_fn.name(), values(a), values(b)
    torch_result, ours = record(program)
    assert ours == torch_result


def test_indexing_with_a_python_range_as_pytorch_does():
    def program(torch):
        x = torch.arange(12.0).view(3, 4).requires_grad_()
        picked = x[range(3), torch.tensor([0, 1, 2])]
        (-picked.mean()).backward()
        y = torch.zeros(3, 4)
        y[range(2)] = 1
        y[:, range(1, 3)] = 2
        return values(picked), values(x[range(2)]), values(x.grad), values(y), picked.grad_fn.name()
    torch_result, ours = record(program)
    assert ours == torch_result


def test_numpy_names_for_dim_and_keepdim():
    def program(torch):
        a = torch.arange(6, dtype=torch.float32).reshape(2, 3)
        shown = [a.sum(axis=0), a.sum(axis=1, keepdims=True), a.mean(axis=0), a.cumsum(axis=0), torch.sum(a, axis=0),
                 a.argmax(axis=1), a.all(axis=0), torch.argmax(a, axis=1), a.std(axis=0), a.max(axis=1).values,
                 torch.cat([a, a], axis=0), a.unsqueeze(axis=0), a.softmax(axis=0)]
        return [values(t) for t in shown], a.size(axis=1)
    torch_result, ours = record(program)
    assert ours == torch_result


def test_memory_layout_questions_and_the_old_resize_and_type_as():
    def program(torch):
        b = torch.arange(0, 6).view(2, 3)
        layout = [b.stride(), b.t().stride(), b.stride(1), b.stride(-2), b.element_size(), b.nbytes, b.itemsize,
                  b.ndimension(), b.dim_order(), b.t().dim_order(), b[:, 1:].stride()]
        kinds = [values(b.type_as(torch.ones(1))), values(b.type_as(torch.ones(1, dtype=torch.float64)))]
        c = torch.arange(6.0)
        shapes = [values(c.resize_(2, 3)), values(c.resize_(1, 3)), values(c.resize_(6)),
                  c.resize_(3, 3).shape, c._version]  # (grown: the new elements are uninitialised in PyTorch)
        v = torch.arange(6.0)[:3]
        v.resize_(5)
        refused = [outcome(lambda: torch.ones(3, requires_grad=True).resize_(2)),
                   outcome(lambda: (torch.ones(3, requires_grad=True) * 2).resize_(2))]
        return layout, kinds, shapes, values(v), refused
    torch_result, ours = record(program)
    assert ours == torch_result


def test_a_storage_of_another_dtype_is_refused_by_the_legacy_constructor():
    def program(torch):
        import warnings
        a = torch.arange(0, 6)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (TypedStorage is deprecated)
            storage = a.storage()
            shown = [outcome(lambda: torch.Tensor(storage)), outcome(lambda: torch.DoubleTensor(storage)),
                     values(torch.LongTensor(storage))]
        return shown
    torch_result, ours = record(program)
    assert ours == torch_result


def test_constants_as_tensor_sharing_and_dist():
    def program(torch):
        import numpy as np
        constants = [torch.nan != torch.nan, torch.inf, torch.pi, torch.e, torch.newaxis]
        shared = np.array([1, 2, 3])
        torch.as_tensor(shared)[0] = -1
        copied = np.array([1.0, 2.0, 3.0])
        torch.as_tensor(copied, dtype=torch.float32)[0] = -1
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        d = torch.dist(x, torch.tensor([1.0, 0.0]))
        d.backward()
        ones = torch.ones(3)
        return (constants, shared.tolist(), copied.tolist(), values(d), values(x.grad),
                values(torch.tensor([1.0, 2.0]).dist(torch.zeros(2), 1)), values(ones[:, torch.newaxis]))
    torch_result, ours = record(program)
    assert ours == torch_result


@pytest.mark.parametrize("mode", ["floor", "trunc", None])
def test_div_with_a_rounding_mode(mode):
    def program(torch):
        a = torch.tensor([-7.0, 7.0, -3.5, 0.3, 5.0, 1e-8, -0.0], requires_grad=True)
        b = torch.tensor([2.0, -2.0, 0.7, 0.1, 0.0, 3.0, 5.0])
        y = torch.div(a, b, rounding_mode=mode)
        y.sum().backward()
        x, z = torch.randn(1000) * 100, torch.randn(1000)
        many = torch.div(x, z, rounding_mode=mode)
        ints = outcome(lambda: values(torch.div(torch.tensor([-7, 7, 5]), torch.tensor([2, -2, 3]),
                                                rounding_mode=mode)))
        return (values(y), y.grad_fn.name(), values(a.grad), many.tolist(), ints,
                values(a.div(2.0, rounding_mode=mode)), outcome(lambda: torch.div(a, b, rounding_mode="x")))
    torch_result, ours = record(program)
    assert ours == torch_result


def test_round_to_decimals():
    def program(torch):
        a = torch.tensor([-7.25, 7.0, 0.3456, 1234.5678, 0.125, 0.135], requires_grad=True)
        y = torch.round(a, decimals=2)
        y.sum().backward()
        many = [torch.round(torch.randn(1000) * 10, decimals=d).tolist() for d in (1, 3, -1)]
        return (values(y), y.grad_fn.name(), values(a.grad), many, values(a.round(decimals=-2)),
                outcome(lambda: torch.round(torch.tensor([15, 25]), decimals=-1)))
    torch_result, ours = record(program)
    assert ours == torch_result


def test_clamp_with_tensor_bounds():
    def program(torch):
        a = torch.tensor([-3.0, 5.0, 1.0, 2.0, float("nan")], requires_grad=True)
        lo = torch.tensor([0.0, 6.0, 0.0, 3.0, 0.0], requires_grad=True)
        hi = torch.tensor([1.0, 7.0, 2.0, 1.0, 1.0], requires_grad=True)
        seen = []
        for bounds in ({"min": lo}, {"max": hi}, {"min": lo, "max": hi}):
            for t in (a, lo, hi):
                t.grad = None
            y = torch.clamp(a, **bounds)
            (y * torch.arange(1.0, 6.0)).sum().backward()
            seen.append((str(y), values(a.grad), values(lo.grad), values(hi.grad)))  # (str: nan != nan)
        mixed = outcome(lambda: torch.clamp(a, min=lo, max=4.0))
        ints = values(torch.clamp(torch.tensor([1, 5]), min=torch.tensor([2, 2])))
        return seen, mixed, ints, values(torch.tensor([1, 5]).clamp(torch.tensor([2.5, 0.0])))
    torch_result, ours = record(program)
    assert ours == torch_result


def test_view_as_another_dtype():
    def program(torch):
        x = torch.tensor([1.0, -2.0], requires_grad=True)
        v = x.view(torch.int32)
        shown = [values(v), v.requires_grad, v.grad_fn, values(torch.ones(2, 4).view(torch.float64)),
                 values(torch.tensor([1.0, -2.0]).view(torch.int16)), values(torch.tensor(1.0).view(torch.int32))]
        errors = [outcome(lambda: torch.ones(3).view(torch.float64)),
                  outcome(lambda: torch.ones(2, 4).t().view(torch.float64)),
                  outcome(lambda: torch.tensor(1.0).view(torch.float64))]
        return shown, errors
    torch_result, ours = record(program)
    assert ours == torch_result


def test_adadelta_steps_as_pytorch():
    from tests.core.twin import torch_square_roots

    def program(torch):
        w = torch.randn(50, requires_grad=True)
        opt = torch.optim.Adadelta([w], lr=1.0, weight_decay=0.01)
        for _ in range(20):
            opt.zero_grad()
            (w * w * torch.arange(50.0)).sum().backward()
            opt.step()
        errors = [outcome(lambda k=k, v=v: torch.optim.Adadelta([w], **{k: v}))
                  for k, v in (("lr", -1), ("rho", 2), ("eps", -1), ("weight_decay", -1))]
        return w.tolist(), repr(opt), sorted(opt.state[w]), errors
    with torch_square_roots():
        torch_result, ours = record(program)
    assert ours == torch_result


def test_gradcheck_takes_pytorchs_keywords():
    def program(torch):
        a = torch.rand(2, 3, dtype=torch.double, requires_grad=True)
        check, twice = torch.autograd.gradcheck, torch.autograd.gradgradcheck
        return (check(torch.sin, (a,), fast_mode=False), check(torch.sin, (a,), fast_mode=True),
                check(torch.sin, (a,), check_grad_dtypes=True, masked=False),
                twice(torch.sin, (a,), fast_mode=True, gen_non_contig_grad_outputs=True),
                outcome(lambda: check(torch.sin, (a,), check_backward_ad=False)))
    torch_result, ours = record(program)
    assert ours == torch_result


@pytest.mark.parametrize("reentrant", [True, False, None])
def test_checkpoint_recomputes_with_the_same_random_numbers(reentrant):
    def program(torch):
        import importlib
        checkpointing = importlib.import_module(torch.__name__ + ".utils.checkpoint")
        nn = torch.nn
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2))
        x = torch.randn(3, 4, requires_grad=True)
        calls = []

        def counted(t):
            calls.append(1)
            return model(t)
        torch.manual_seed(1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y = checkpointing.checkpoint(counted, x, use_reentrant=reentrant)
        y.sum().backward()
        seen = [y.grad_fn.name(), values(y), values(x.grad), values(model[0].weight.grad), len(calls),
                [str(w.message) for w in caught]]
        x.grad = None
        torch.manual_seed(1)
        z = checkpointing.checkpoint_sequential(model, 2, x, use_reentrant=bool(reentrant))
        z.sum().backward()
        seen += [z.grad_fn.name(), values(z), values(x.grad)]
        a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        twice = checkpointing.checkpoint(lambda t, k: (t * k).exp().sin() * t, a, 2.0, use_reentrant=bool(reentrant))
        grads = outcome(lambda: values(torch.autograd.grad(twice.sum(), a, create_graph=not reentrant)[0]))
        return seen, grads, hasattr(torch.utils, "checkpoint")
    torch_result, ours = record(program)
    assert ours == torch_result


# What a differential fuzzer of views and in-place changes found (each once an internal error or a silent
# difference); every statement's printout or error is compared.
_FUZZ_FINDINGS = {
    "stale view changed again": "x = torch.ones(3, requires_grad=True); a = x * 2\nwith torch.no_grad(): v = a[:2]\n"
                                "a.mul_(2)\nwith torch.no_grad(): a.mul_(2)\nprint(a)",
    "stale view saved for backward": "x = torch.ones(3, requires_grad=True)\nwith torch.no_grad(): v = x[:]\n"
                                     "h = v.sin()\nwith torch.no_grad(): x.zero_()\nh.sum().backward()",
    "in-place through expand": "a = torch.ones(4, 1, requires_grad=True).clone(); v = a.expand(-1, 3); v.mul_(2)",
    "setitem too long": "a = torch.zeros(3, 4); a[0] = torch.ones(5)",
    "setitem column": "a = torch.zeros(3, 4); a[:, 1] = torch.ones(2)",
    "setitem too many dims": "a = torch.zeros(3, 4); a[0] = torch.ones(2, 4)",
    "setitem leading one": "a = torch.zeros(3, 4); a[0] = torch.ones(1, 4); print(a[0])",
    "unbind output after its base changed": "x = torch.ones(3, requires_grad=True); a = x * 2; v = a.unbind(0)[1]\n"
                                            "a.mul_(3); print(v.grad_fn)",
    "split output after its base changed": "x = torch.ones(4, requires_grad=True); a = x * 2; v = a.split(2)[1]\n"
                                           "a.mul_(3); (v * 2).sum().backward()",
    "out= a tensor that requires grad": "x = torch.ones(3, requires_grad=True); a = x * 2\n"
                                        "torch.mul(torch.ones(3), 5.0, out=a)",
    "x[...] is a new view": "x = torch.ones(3, requires_grad=True); s = x[...]; print(s.grad_fn.name(), s is x, "
                            "s._base is x)",
    "x[0] = v on a leaf": "x = torch.ones(3, requires_grad=True); x[0] = 1.0",
    "x[...] = v on a leaf": "x = torch.ones(3, requires_grad=True); x[...] = 1.0",
    "x[[0]] = v on a leaf": "x = torch.ones(3, requires_grad=True); x[[0]] = 1.0",
    "an empty view": "a = torch.zeros(3); e = a[1:1]; a.mul_(torch.ones(3, requires_grad=True))\n"
                     "print(e.requires_grad, e.grad_fn.name())",
    "setitem on a stale view": "x = torch.ones(3, requires_grad=True); a = x * 2\nwith torch.no_grad(): v = a[:]\n"
                               "a.mul_(2)\nv[1:] = 5.0",
    "a view of a stale view": "x = torch.ones(3, 4, requires_grad=True); a = x.clone()\n"
                              "with torch.no_grad(): v = a.t()\na.mul_(2)\nw = v.view(12)",
    "refused before writing": "x = torch.ones(3, requires_grad=True); a = x * 2\nwith torch.no_grad(): v = a[:]\n"
                              "a.mul_(2); b = x * 1\ntry:\n    b.add_(v)\nfinally:\n    print(b, b._version)",
    "hooks and retain_grad on stale views": "x = torch.ones(2, 3, requires_grad=True); a = x * 2; v = a.split(1)[0]\n"
                                            "with torch.no_grad(): u = a[0]\na.mul_(2.0)\nprint(u.retain_grad())\n"
                                            "v.register_hook(lambda g: g)",
    "retain_grad on a stale split output": "x = torch.ones(2, 3, requires_grad=True); a = x * 2; v = a.split(1)[0]\n"
                                           "a.mul_(2.0); v.retain_grad()",
    "clamp's gradient is 0 outside, not nan": "x = torch.tensor([-2.0, 0.25], requires_grad=True)\n"
                                              "x.clamp(min=-1.0).sqrt().sum().backward(); print(x.grad)\n"
                                              "z = torch.tensor([-2.0, 0.25], requires_grad=True)\n"
                                              "z.clamp(max=0.0, min=-1.0).sqrt().sum().backward(); print(z.grad)\n"
                                              "y = torch.tensor([-2.0, 0.25], requires_grad=True)\n"
                                              "y.relu().log().sum().backward(); print(y.grad)",
    "retain_grad follows an in-place change": "x = torch.ones(3, requires_grad=True); a = x * 1; a.retain_grad()\n"
                                              "a.mul_(3.0); (a * 5).sum().backward(); print(a.grad)",
    "retain_grad on views follows changes": "x = torch.ones(3, requires_grad=True); a = x * 1; v = a[:2]\n"
                                            "v.retain_grad(); v.mul_(3.0); u = a[2]; u.retain_grad(); a.add_(1.0)\n"
                                            "(v * 5).sum().backward(retain_graph=True); print(v.grad, u.grad)\n"
                                            "(u * 7).backward(); print(v.grad, u.grad)",
    "a view's hook is not called after the view changed": "x = torch.ones(3, requires_grad=True); a = x * 1\n"
                                                          "v = a[:2]; h = v.register_hook(lambda g: g * 10)\n"
                                                          "v.mul_(2.0); a.sum().backward(); print(x.grad)",
    "unbind output of a tensor without grad": "a = torch.zeros(3); v = a.unbind(0)[0]\n"
                                              "a.mul_(torch.ones(3, requires_grad=True)); v.grad_fn",
    "autograd.grad gives an input's gradient before its hooks when it runs on": (
        "x = torch.ones(2, requires_grad=True); a = x * 1; a.register_hook(lambda g: g * 2)\n"
        "print(torch.autograd.grad(a.sum(), [x, a]), torch.autograd.grad((a * 1).sum(), [a]))\n"
        "c = x * 1; c.grad_fn.register_prehook(lambda gs: (gs[0] * 3,)); c.register_hook(lambda g: g * 2)\n"
        "print(torch.autograd.grad(c.sum(), [c]), torch.autograd.grad((c * 1).sum(), [x, c]))"),
    "outputs are checked before inputs": "x = torch.ones(2)\ntry:\n    torch.autograd.grad(x.sum(), [x])\n"
                                         "except RuntimeError as e:\n    print(e)\nx.sum().backward(inputs=[x])",
    "a custom Function returning a changed input under no_grad": (
        "class Twice(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, t):\n"
        "        ctx.mark_dirty(t)\n        return t.mul_(2.0)\n    @staticmethod\n    def backward(ctx, g):\n"
        "        return g * 2.0\nx = torch.ones(3, requires_grad=True)\nwith torch.no_grad():\n"
        "    y = Twice.apply(x)\nprint(y is x, x.requires_grad, y.requires_grad, x._version)"),
    "index put of another dtype": "a = torch.zeros(3)\na[torch.tensor([0, 2])] = torch.ones(2, dtype=torch.float64)",
    "float index tensors": "a = torch.zeros(3)\ntry:\n    a[torch.tensor([0.0])]\nexcept IndexError as e:\n"
                           "    print(e)\na[torch.tensor([])] = 1.0",
    "slicing a 0-d tensor": "torch.tensor(1.0)[0:1]",
    "setitem: the shape before the leaf": "x = torch.ones(2, 3, requires_grad=True); x[1:] = torch.ones(5)",
    "detach inside inference_mode": "a = torch.ones(3, requires_grad=True) * 2\nwith torch.inference_mode():\n"
                                    "    d = a.detach()\nprint(d._version, d.is_inference())",
    "index put of the wrong shape": (
        "a = torch.zeros(3, 4)\nfor key, value in [((torch.tensor([0, 2]),), torch.ones(3)),"
        " ((torch.tensor([True, False, True]),), torch.ones(5)), ((slice(None), torch.tensor([1])), torch.ones(2, 3)),"
        " ((torch.tensor([0, 2]),), torch.ones(1, 4))]:\n    try:\n        a[key] = value\n"
        "    except RuntimeError as e:\n        print(e)\nprint(a)"),
    "inference mode first": "x = torch.ones(3, requires_grad=True); a = x * 2\nwith torch.inference_mode(): v = a[:]\n"
                            "with torch.no_grad(): v2 = v[:]\na.mul_(2); v2.grad_fn",
}


@pytest.mark.parametrize("program_text", _FUZZ_FINDINGS.values(), ids=_FUZZ_FINDINGS.keys())
def test_views_and_in_place_changes_found_by_fuzzing(program_text):
    def program(torch):
        import contextlib
        import io
        shown = io.StringIO()
        with contextlib.redirect_stdout(shown):
            result = outcome(functools.partial(exec, program_text, {"torch": torch}))
        return shown.getvalue(), result
    torch_result, ours = record(program)
    assert ours == torch_result


def test_a_torch_function_mode_sees_each_call_as_pytorch_offers_it():
    def program(torch):
        import contextlib
        import importlib
        import io
        overrides = importlib.import_module(torch.__name__ + ".overrides")

        class FunctionLog(overrides.TorchFunctionMode):
            def __torch_function__(self, func, types, args, kwargs=None):
                print(f"Function Log: {overrides.resolve_name(func)}(*{args}, **{kwargs})")
                return func(*args, **(kwargs or {}))

        class Doubling(overrides.TorchFunctionMode):  # an outer mode that changes what sum returns
            def __torch_function__(self, func, types, args, kwargs=None):
                result = func(*args, **(kwargs or {}))
                return result * 2 if overrides.resolve_name(func) == "torch.Tensor.sum" else result

        shown = io.StringIO()
        with contextlib.redirect_stdout(shown):
            with FunctionLog():
                a = torch.rand(10, requires_grad=True)
                b = a * 2
                b.sum().backward()
                x = torch.ones(2, requires_grad=True)
                y = torch.add(x, 1, alpha=2)
                print((x @ y).shape, x[0], torch.nn.functional.relu(x).shape)
            with Doubling(), FunctionLog():
                total = torch.ones(3).sum()
        after = torch.ones(2) * 3  # (nothing of the modes is left behind)
        return shown.getvalue(), values(a.grad), values(total), values(after)
    torch_result, ours = record(program)
    assert ours == torch_result


def test_diag_diagonal_and_diag_embed():
    def program(torch):
        shown = []
        v = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        m = torch.diag(v)
        shown += [str(m), torch.diag(v, 1).shape, str(torch.diag(v, -1))]
        matrix = torch.arange(9.0).reshape(3, 3).requires_grad_()
        shown += [str(torch.diag(matrix)), str(torch.diag(matrix, 1)), str(torch.diag(matrix, -2))]
        (torch.diag(matrix, 1) * torch.tensor([1.0, 2.0])).sum().backward()
        (m * torch.arange(9.0).reshape(3, 3)).sum().backward()
        shown += [str(matrix.grad), str(v.grad), str(matrix.diagonal()), str(matrix.diagonal(1, 0, 1))]
        shown += [torch.diag_embed(torch.ones(2, 2)).shape, torch.diag_embed(v).grad_fn.name(),
                  str(torch.diag_embed(torch.arange(4.0).reshape(2, 2), 1, 0, 2)),
                  outcome(lambda: torch.diag(torch.ones(2, 2, 2)))]
        x = torch.arange(24.0).reshape(2, 3, 4).requires_grad_()
        y = x.diagonal(-1, 2, 0)
        (y * y).sum().backward()
        z = torch.zeros(3, 3)
        z.diagonal().fill_(1)  # a view: the matrix changes
        w = torch.ones(3, 3, requires_grad=True).clone()
        w.diagonal().mul_(5)
        s = torch.tensor([1.0, 2.0], requires_grad=True)
        (g,) = torch.autograd.grad(torch.diag(s).pow(2).sum(), s, create_graph=True)
        return shown, str(y), str(x.grad), str(z), w.grad_fn.name(), str(torch.autograd.grad(g.sum(), s))
    torch_result, ours = record(program)
    assert ours == torch_result


def test_scatter_with_reduce_adds_or_multiplies_and_has_no_derivative():
    def program(torch):
        shown = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            index = torch.tensor([[2], [3]])
            shown += [str(torch.zeros(2, 4).scatter_(1, index, 1.23, reduce="add")),
                      str(torch.full((2, 4), 2.0).scatter_(1, index, 1.23, reduce="multiply"))]
            src = torch.arange(1.0, 11.0).reshape((2, 5))
            shown += [str(torch.ones(2, 5).scatter_(0, torch.tensor([[0, 1, 0, 0, 0], [0, 0, 0, 1, 0]]), src,
                                                    reduce="add")),
                      str(torch.ones(3, 5).scatter(0, torch.tensor([[0, 1, 0, 0, 0]]), src, reduce="multiply"))]
            x = torch.ones(2, 4, requires_grad=True).clone()
            y = x.scatter_(1, index, 1.23, reduce="add")
            shown += [y.grad_fn.name(), outcome(lambda: y.sum().backward()),
                      outcome(lambda: torch.ones(2, 4, requires_grad=True).scatter(1, index, 1.0, reduce="add")
                              .sum().backward()),
                      outcome(lambda: torch.zeros(2, 4).scatter_(1, index, 1.23, reduce="max"))]
        return shown, len({str(w.message) for w in caught})
    torch_result, ours = record(program)
    assert ours == torch_result


def test_matrix_transposes_mt_and_mh():
    def program(torch):
        x = torch.arange(6.0).reshape(2, 3).requires_grad_()
        (x.mT * torch.arange(6.0).reshape(3, 2)).sum().backward()
        return (str(x.mT), x.mH.grad_fn.name(), torch.ones(2, 3, 4).mT.shape, str(x.grad),
                outcome(lambda: torch.ones(3).mT), outcome(lambda: torch.ones(3).mH))
    torch_result, ours = record(program)
    assert ours == torch_result
