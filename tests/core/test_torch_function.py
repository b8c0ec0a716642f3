"""``__torch_function__``: tensor-like objects and Tensor subclasses taking torch functions over.

PyTorch's notes "Extending torch with a Tensor-like type" and "Subclassing torch.Tensor" build these
(a diagonal-matrix type, a metadata wrapper, subclasses keeping their type through ops); each program
here runs under torch and under autograd_lab (``tests/core/twin.py``), torch's result is the expected one.
"""

from __future__ import annotations

import importlib
import warnings

from tests.core.twin import outcome, record


def _scalar_tensor(torch, handled):
    class Diagonal:
        """N x N diagonal, every diagonal entry ``value``: a tensor-like, not a Tensor."""

        def __init__(self, n, value):
            self.n, self.value = n, value

        def __repr__(self):
            return f"Diagonal(n={self.n}, value={self.value})"

        def tensor(self):
            return self.value * torch.eye(self.n)

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            if func not in handled or not all(issubclass(t, (torch.Tensor, Diagonal)) for t in types):
                return NotImplemented
            return handled[func](*args, **(kwargs or {}))
    return Diagonal


def test_a_tensor_like_takes_over_the_functions_it_handles():
    def program(torch):
        handled = {}
        diagonal = _scalar_tensor(torch, handled)
        handled[torch.mean] = lambda d: float(d.value) / d.n
        handled[torch.add] = lambda a, b: (diagonal(a.n, a.value + b.value) if isinstance(b, diagonal)
                                           else torch.add(a.tensor(), b))
        d = diagonal(2, 3)
        return [outcome(lambda: torch.mean(d)), repr(outcome(lambda: torch.add(d, d))),
                repr(outcome(lambda: torch.add(d, torch.ones(2, 2)))),
                outcome(lambda: torch.add(d, d, alpha=2)), outcome(lambda: torch.mul(d, 3)),
                outcome(lambda: torch.exp(d))]
    torch_result, ours = record(program)
    assert ours == torch_result


def test_objects_without_torch_function_get_the_type_error():
    def program(torch):
        class Plain:
            pass
        return [outcome(lambda: torch.mean(Plain())), outcome(lambda: torch.exp(Plain())),
                outcome(lambda: torch.sum(Plain()))]
    torch_result, ours = record(program)
    assert ours == torch_result


def test_a_plain_method_torch_function_warns_and_still_works():
    def program(torch):
        class Wrapped:
            def __init__(self, data):
                self._t = torch.as_tensor(data)

            def __torch_function__(self, func, types, args=(), kwargs=None):
                args = [a._t if hasattr(a, "_t") else a for a in args]
                return ("wrapped", func(*args, **(kwargs or {})).tolist())
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = [torch.add(torch.tensor([[1, 2]]), Wrapped([[3, 4]])), torch.mul(Wrapped([2]), 3)]
        return result, sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    torch_result, ours = record(program)
    assert ours == torch_result


def test_subclasses_keep_their_type_through_functions_operators_and_methods():
    def program(torch):
        class Sub(torch.Tensor):
            pass

        class SubSub(Sub):
            pass

        class Other(torch.Tensor):
            pass
        s = Sub([1.0, 2.0])
        x = torch.ones(2, requires_grad=True).as_subclass(Sub)
        y = (x * 2).sum()
        y.backward()
        p = torch.nn.Parameter(torch.ones(2))
        seen = [type(torch.add(Sub([0]), Sub([1]))).__name__, type(torch.add(Sub([0]), torch.tensor([1]))).__name__,
                type(torch.add(SubSub([0]), Sub([1]))).__name__, type(s + 1).__name__, type(2 * s).__name__,
                type(s.sum()).__name__, type(s[0]).__name__, type(s.max(0).values).__name__, repr(s), repr(y),
                repr(x.grad_fn), isinstance(s, torch.Tensor), type(p * 2).__name__, type(torch.add(p, 1)).__name__]
        return seen, outcome(lambda: torch.add(Sub([0]), Other([1])))
    torch_result, ours = record(program)
    assert ours == torch_result


def test_a_subclass_sees_each_call_in_its_torch_function():
    def program(torch):
        calls = []

        class Logging(torch.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                calls.append((func.__name__, [t.__name__ for t in types], kwargs))
                return super().__torch_function__(func, types, args, kwargs)
        t = Logging([1.0, 2.0])
        result = [repr(torch.mul(t, 2)), repr(t.sum())]
        return result, [c for c in calls if c[0] in ("mul", "sum")]
    torch_result, ours = record(program)
    assert ours == torch_result


def test_the_overrides_helpers():
    def program(torch):
        overrides = importlib.import_module(torch.__name__ + ".overrides")

        class Like:
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                return ("handled", func.__name__, len(args), kwargs)

        def public(a, b=1):
            if overrides.has_torch_function((a,)):
                return overrides.handle_torch_function(public, (a,), a, b=b)
            return a + b
        return [overrides.has_torch_function((torch.ones(1),)), overrides.has_torch_function((Like(),)),
                overrides.is_tensor_like(Like()), overrides.is_tensor_like(torch.ones(1)),
                overrides.is_tensor_like(1), public(1), public(Like(), b=3),
                torch.add in overrides.get_testing_overrides(),
                any(f is torch.add for f in overrides.get_overridable_functions()[torch])]
    torch_result, ours = record(program)
    assert ours == torch_result


def test_a_parameter_subclass_with_its_own_torch_function_still_takes_over_after_parameters_were_used():
    """Public functions remember that nn.Parameter opts out (a hot path): a subclass of it that opts back in
    must still get its calls, before and after plain Parameters went through the same function."""
    def program(torch):
        seen = []

        class Logged(torch.nn.Parameter):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                seen.append(func.__name__)
                return "handled by Logged"

        p = torch.nn.Parameter(torch.ones(2))
        first = torch.add(p, 1).tolist()
        logged = Logged(torch.ones(2))
        second = torch.add(logged, 1)
        third = torch.add(p, p).tolist()
        return [first, second, third, seen]
    torch_result, ours = record(program)
    assert ours == torch_result
