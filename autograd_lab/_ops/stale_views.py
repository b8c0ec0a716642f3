"""Views whose memory changed in place through another tensor: their gradient must follow the change.

``v = a[:2]; a.mul_(w)``: v's values are now a's new values, so v's gradient must flow into a's new
history (through ``MulBackward0`` to w), not the history v had when it was made. PyTorch re-makes
such a view's grad_fn: an ``AsStridedBackward0`` node (where v's elements sit in a's memory) on top
of what a is now. Here each tensor remembers its views (weakly) and they are re-made right after
every in-place change. A view whose new history would be ambiguous — made with grad mode off, or one
of several views made at once (unbind, split) — is marked stale instead: using it raises PyTorch's error.
"""

from __future__ import annotations

import math
import weakref
from typing import Any

import numpy as np

from autograd_lab import _grad_mode as grad_mode
from autograd_lab._tensor import StaleView, Tensor
from autograd_lab.autograd.function import Function, move_retained, set_rebase_views, stale_view_error


def remember_view(root: Tensor, view: Tensor) -> None:
    """Note that ``view`` shares root's memory (dead views are dropped as the list doubles)."""
    views = root._views
    if views is None:
        root._views = views = []
    views.append(weakref.ref(view))
    n = len(views)
    if n >= 64 and n & (n - 1) == 0:
        views[:] = [ref for ref in views if ref() is not None]


def rebase_views(changed: Tensor) -> None:
    """After an in-place change of ``changed`` (a tensor or a view of one): give every live view of that
    memory the grad_fn PyTorch would give it on next use."""
    root = changed if changed._base is None else changed._base
    if root._views is None:
        return
    alive = root._views = [ref for ref in root._views if ref() is not None]
    for ref in alive:
        view = ref()
        if view is None or (view._grad_fn is None and not root._requires_grad):
            continue  # (a view outside any graph stays so)
        if type(view._grad_fn) is StaleView:  # (stale already)
            continue
        if view._made_in is not None or view._view_fn is None:  # made with grad mode off; one of several views
            view._grad_fn, view._requires_grad = StaleView(stale_view_error(view)), True
            continue
        positions = _positions(root._data, view._data)
        if positions is None or grad_mode._inference:  # (root's memory was replaced: x.data = ...)
            continue
        enabled, grad_mode._enabled = grad_mode._enabled, True
        try:
            again = AsStrided.apply(root, positions)
        finally:
            grad_mode._enabled = enabled
        if view._retains_grad and again._grad_fn is not None:
            move_retained(view, again._grad_fn, 0)
        view._grad_fn, view._output_nr, view._requires_grad = again._grad_fn, 0, again._requires_grad


def _byte_offsets(a: np.ndarray) -> np.ndarray:
    """Where each element of ``a`` sits, in bytes from its first element."""
    out = np.zeros(a.shape, np.int64)
    for k, (n, stride) in enumerate(zip(a.shape, a.strides, strict=True)):
        out += (np.arange(n, dtype=np.int64) * stride).reshape((n,) + (1,) * (a.ndim - k - 1))
    return out


def _positions(root: np.ndarray, view: np.ndarray) -> np.ndarray | None:
    """For each element of ``view``: the index of the same memory in ``root`` flattened (None if not there)."""
    if view.size == 0:
        return np.zeros(view.shape, np.int64)
    if view.dtype.itemsize != root.dtype.itemsize or not np.may_share_memory(root, view):
        return None
    start = view.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    in_root = _byte_offsets(root).reshape(-1)
    order = np.argsort(in_root, kind="stable")
    where = start + _byte_offsets(view).reshape(-1)
    found = np.searchsorted(in_root[order], where).clip(0, max(in_root.size - 1, 0))
    if not np.array_equal(in_root[order][found], where):
        return None
    return order[found].reshape(view.shape)


class AsStrided(Function):
    """out = the base's elements at ``positions`` (how a view looks into its base's memory).

    d/dbase: the gradient added back at those positions (zeros elsewhere).
    """

    node_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx: Any, base: Tensor, positions: np.ndarray) -> Tensor:
        ctx.positions, ctx.shape = positions, base.shape
        return Tensor._wrap(base._data.reshape(-1)[positions])

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return AsStridedScatter.apply(grad, ctx.positions, ctx.shape), None


class AsStridedScatter(Function):
    """out = zeros of ``shape`` with ``values`` added at ``positions``.   d/dvalues: gather at positions."""

    node_name = "AsStridedBackwardBackward0"

    @staticmethod
    def forward(ctx: Any, values: Tensor, positions: np.ndarray, shape: tuple[int, ...]) -> Tensor:
        ctx.positions = positions
        out = np.zeros(math.prod(shape), values._data.dtype)
        np.add.at(out, positions.reshape(-1), values._data.reshape(-1))
        return Tensor._wrap(out.reshape(shape))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        return AsStrided.apply(grad, ctx.positions), None, None


set_rebase_views(rebase_views)  # (function.py can't import this module: this module imports it)
