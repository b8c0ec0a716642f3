"""Run one program under torch and under autograd_lab, and compare what a student would see.

``record(program)`` runs ``program(module)`` under each library and returns both results,
with memory addresses and the library's own name made neutral (``0x7f..`` -> ``0x?``,
``autograd_lab`` -> ``torch``): an object shows as ``<torch.autograd.function.MulBackward at
0x?>`` under both. Results are plain data (strings, numbers, lists), built by the program.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import warnings
from collections.abc import Callable, Iterator
from typing import Any

_ADDRESS = re.compile(r"0x[0-9a-f]+")


def neutral(value: Any) -> Any:
    """``value`` with addresses and the library name normalised, inside lists, tuples and dicts too."""
    if isinstance(value, str):
        return _ADDRESS.sub("0x?", value)
    if isinstance(value, (list, tuple)):
        return type(value)(neutral(v) for v in value)
    if isinstance(value, dict):
        return {neutral(k): neutral(v) for k, v in value.items()}
    return value


def outcome(thunk: Callable[[], Any]) -> Any:
    """What running ``thunk`` shows: its result, or the error's type and message."""
    try:
        return thunk()
    except Exception as error:  # the error is the result being compared
        return f"{type(error).__name__}: {error}"


def record(program: Callable[[Any], Any]) -> tuple[Any, Any]:
    """(torch's result, autograd_lab's result), each neutral; warnings are errors unless the program catches them."""
    results = []
    for name in ("torch", "autograd_lab"):
        module = importlib.import_module(name)
        module.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            results.append(neutral(program(module)))
    return results[0], results[1]


def values(t: Any) -> Any:
    """A tensor as plain data (shape, dtype, values rounded to 4 digits), None as None."""
    if t is None:
        return None
    return (tuple(t.shape), str(t.dtype), [round(float(v), 4) for v in t.detach().reshape(-1).tolist()])


@contextlib.contextmanager
def torch_square_roots() -> Iterator[None]:
    """Inside: autograd_lab's sqrt gives the square roots this torch build gives.

    With Intel's ``mkl`` package installed, autograd_lab's sqrt already is torch's (MKL's vector math), and
    this does nothing. Without it, NumPy's sqrt is correctly rounded and torch's is not on some CPUs (seen on
    an AVX-512 AMD EPYC: 17% of float32 results one ulp off; README, "What differs"): tests of what is built
    *on* sqrt (Adam's, RMSprop's, Adagrad's update rules) use this to still compare every other bit.
    """
    import numpy as np
    import torch

    from autograd_lab._ops import vector_math
    from autograd_lab._ops.pointwise import Sqrt
    if vector_math.mkl() is not None:
        yield
        return
    original = Sqrt.__dict__["forward"]

    def forward(ctx: Any, a: Any) -> Any:
        out = original.__func__(ctx, a)
        out._data[...] = torch.from_numpy(np.array(a._data, out._data.dtype)).sqrt().numpy()
        return out
    Sqrt.forward = staticmethod(forward)
    try:
        yield
    finally:
        Sqrt.forward = original
