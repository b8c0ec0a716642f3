"""Graphs the viz tests share, built with whichever library the ``backend`` fixture gives."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest

from autograd_lab.autograd.function import keep_forward_inputs


def recording(backend: Any) -> contextlib.AbstractContextManager:
    """keep_forward_inputs() for autograd_lab; torch has no such thing (and needs none)."""
    return keep_forward_inputs() if backend.__name__ == "autograd_lab" else contextlib.nullcontext()


@pytest.fixture
def book_mul(backend: Any) -> type:
    """The book's ``Mul`` (p94), spelled for today: ``saved_tensors`` instead of ``saved_variables``."""

    class Mul(backend.autograd.Function):
        @staticmethod
        def forward(ctx, w, x, b, x_requires_grad=True):
            ctx.x_requires_grad = x_requires_grad
            ctx.save_for_backward(w, x)
            return w * x + b

        @staticmethod
        def backward(ctx, grad_output):
            w, x = ctx.saved_tensors
            grad_w = grad_output * x
            grad_x = grad_output * w if ctx.x_requires_grad else None
            grad_b = grad_output * 1
            return grad_w, grad_x, grad_b, None

    return Mul


@pytest.fixture
def book_graph(backend: Any, book_mul: type) -> dict[str, Any]:
    """The book's driver: x = ones(1), w and b random leaves, z = Mul.apply(w, x, b)."""
    x = backend.ones(1)
    w = backend.rand(1, requires_grad=True)
    b = backend.rand(1, requires_grad=True)
    with recording(backend):
        z = book_mul.apply(w, x, b)
    return {"w": w, "x": x, "b": b, "z": z}


@pytest.fixture
def chain(backend: Any) -> Callable[[int], tuple[Any, dict[str, Any]]]:
    """chain(n): a loss whose graph has about 2n + 3 nodes (n ops, their outputs, two leaves, the sum)."""

    def make(n_ops: int) -> tuple[Any, dict[str, Any]]:
        w = backend.randn(4, requires_grad=True)
        b = backend.randn(4, requires_grad=True)
        y = w
        with recording(backend):
            for i in range(n_ops - 1):
                y = y * b if i % 3 == 0 else (y + b if i % 3 == 1 else y.tanh())
            loss = y.sum()
        return loss, {"w": w, "b": b, "loss": loss}
    return make
