"""Losses for nn.functional: softmax, log_softmax, nll_loss (cross entropy), mse_loss, BCE with logits."""

from __future__ import annotations

import builtins
import math
from typing import Any, ClassVar

import numpy as np

from autograd_lab import _dtype
from autograd_lab._fma import fma32
from autograd_lab._ops import _cascade_sum, vectorized
from autograd_lab._ops._cascade_sum import add_up
from autograd_lab._ops.indexing import IndexPut
from autograd_lab._ops.operands import arrays, ieee_silent, type_name
from autograd_lab._ops.pointwise import where
from autograd_lab._ops.vector_math import ROUNDED_ONCE_UP_TO
from autograd_lab._tensor import Tensor, wrap_dim
from autograd_lab.autograd.function import Function

_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}  # how PyTorch's loss nodes keep `reduction` (an enum)


class LogSoftmax(Function):
    """out = a - log(sum(exp(a))) along ``dim``.   d/da = grad - exp(out) * sum(grad)."""

    node_name = "LogSoftmaxBackward0"
    saved_as: ClassVar = {"dim": "dim", "result": 0}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor, dim: int) -> Tensor:
        x, axis = a._data, wrap_dim(dim, a.ndim)
        if _like_aten_lastdim(x, axis):
            out = Tensor._wrap(vectorized.softmax_lastdim(x, log=True))
        else:
            shifted = x - x.max(axis=axis, keepdims=True, initial=-np.inf)  # exp of at most 0: no overflow
            out = Tensor._wrap(shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True)))
        ctx.save_for_backward(out)
        ctx.dim = dim  # as given (PyTorch's _saved_dim shows -1 as given)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (out,) = ctx._for_backward
        return LogSoftmaxBackwardData.apply(grad, out, ctx.dim), None


class LogSoftmaxBackwardData(Function):
    """log_softmax's backward as one node, so it can be differentiated again: out = g - exp(o) * sum(g).

    d/dg = G - sum(G * exp(o)),   d/do = -G * exp(o) * sum(g)   (sums along ``dim``, G the incoming gradient).
    """

    node_name = "LogSoftmaxBackwardDataBackward0"
    saved_as: ClassVar = {"dim": "dim", "grad_output": 0, "output": 1}

    @staticmethod
    def forward(ctx: Any, grad: Tensor, out: Tensor, dim: int) -> Tensor:
        ctx.save_for_backward(grad, out)
        ctx.dim = dim
        g, o, axis = grad._data, out._data, wrap_dim(dim, grad.ndim)
        if _like_aten_lastdim(g, axis) and o.dtype == g.dtype:
            total = vectorized.lane_sums(np.ascontiguousarray(g).reshape(-1, g.shape[-1])).reshape(g.shape[:-1] + (1,))
            return Tensor._wrap(fma32(-vectorized.sleef_expf(o), total, g))  # (the compiler fuses g - e * total)
        return Tensor._wrap(g - np.exp(o) * g.sum(axis=axis, keepdims=True))

    @staticmethod
    def backward(ctx: Any, g2: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        grad, out = ctx._for_backward
        need_grad, need_out, _ = ctx.needs_input_grad
        e = out.exp()
        d_grad = g2 - (g2 * e).sum(ctx.dim, keepdim=True) if need_grad else None
        d_out = -g2 * e * grad.sum(ctx.dim, keepdim=True) if need_out else None
        return d_grad, d_out, None


class Softmax(Function):
    """out = exp(a - max) / sum(exp(a - max)) along ``dim``.   d/da = out * (grad - sum(grad * out))."""

    node_name = "SoftmaxBackward0"
    saved_as: ClassVar = {"dim": "dim", "result": 0}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor, dim: int) -> Tensor:
        x, axis = a._data, wrap_dim(dim, a.ndim)
        if _like_aten_lastdim(x, axis):
            out = Tensor._wrap(vectorized.softmax_lastdim(x, log=False))
        else:
            e = np.exp(x - x.max(axis=axis, keepdims=True, initial=-np.inf))  # (initial: an empty dim is fine)
            out = Tensor._wrap(e / e.sum(axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (out,) = ctx._for_backward
        return SoftmaxBackwardData.apply(grad, out, ctx.dim), None


class SoftmaxBackwardData(Function):
    """softmax's backward as one node, so it can be differentiated again: out = o * (g - sum(g * o)).

    d/dg = o * (G - sum(G * o)),   d/do = G * (g - sum(g * o)) - g * sum(G * o)   (sums along ``dim``).
    """

    node_name = "SoftmaxBackwardDataBackward0"
    saved_as: ClassVar = {"dim": "dim", "grad_output": 0, "output": 1}

    @staticmethod
    def forward(ctx: Any, grad: Tensor, out: Tensor, dim: int) -> Tensor:
        ctx.save_for_backward(grad, out)
        ctx.dim = dim
        g, o, axis = grad._data, out._data, wrap_dim(dim, grad.ndim)
        if _like_aten_lastdim(g, axis) and o.dtype == g.dtype:
            rows, outputs = (np.ascontiguousarray(a).reshape(-1, g.shape[-1]) for a in (g, o))
            inline = len(rows) == 1 or _cascade_sum.THREADS == 1  # (ATen's loop then runs without threads)
            dot = vectorized.lane_sums(rows, outputs, fused_tail=inline)
            return Tensor._wrap((g - dot.reshape(g.shape[:-1] + (1,))) * o)
        return Tensor._wrap(o * (g - (g * o).sum(axis=axis, keepdims=True)))

    @staticmethod
    def backward(ctx: Any, g2: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        grad, out = ctx._for_backward
        need_grad, need_out, _ = ctx.needs_input_grad
        g2_out = (g2 * out).sum(ctx.dim, keepdim=True)
        d_grad = out * g2 - out * g2_out if need_grad else None
        d_out = g2 * (grad - (grad * out).sum(ctx.dim, keepdim=True)) - grad * g2_out if need_out else None
        return d_grad, d_out, None


def _like_aten_lastdim(x: np.ndarray, axis: int) -> bool:
    """Does PyTorch's float32 last-dimension kernel apply (reproduced in ``vectorized``, up to 65536 numbers)?"""
    return x.dtype == np.float32 and x.ndim > 0 and axis == x.ndim - 1 and 0 < x.size <= ROUNDED_ONCE_UP_TO


_REQUIRED: Any = object()  # marks the ``dim`` PyTorch's torch.softmax / x.softmax cannot do without


def _softmax_input(name: str, input: Tensor, dim: Any, dtype: _dtype.dtype | None) -> Tensor:
    """The tensor (log_)softmax computes on (``dtype``: cast first), after PyTorch's checks of its arguments."""
    if dim is _REQUIRED:
        raise TypeError(f'{name}() missing 1 required positional arguments: "dim"')
    if not isinstance(dim, int):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type_name(dim)}")
    if dtype is not None:
        input = input.to(dtype)
    if not input.dtype.is_floating_point:
        kernel = f"{name}_lastdim_kernel_impl" if wrap_dim(dim, input.ndim) == input.ndim - 1 else f"{name}_kernel_impl"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{input.dtype._scalar_name}\'')
    return input


def log_softmax(input: Tensor, dim: int = _REQUIRED, dtype: _dtype.dtype | None = None) -> Tensor:
    """log(softmax(input)) along ``dim``, computed without overflow (``dtype``: cast the input first)."""
    return LogSoftmax.apply(_softmax_input("log_softmax", input, dim, dtype), dim)


def softmax(input: Tensor, dim: int = _REQUIRED, dtype: _dtype.dtype | None = None) -> Tensor:
    """exp(input) normalized to sum to 1 along ``dim`` (``dtype``: cast the input first)."""
    return Softmax.apply(_softmax_input("softmax", input, dim, dtype), dim)


class NllLoss(Function):
    """out = -mean(logp[i, target[i]]).   d/dlogp = -1/N at each target position, 0 elsewhere."""

    node_name = "NllLossBackward0"
    saved_as: ClassVar = {"ignore_index": lambda ctx: -100, "reduction": lambda ctx: _REDUCTIONS[ctx.reduction],
                          "self": 0, "target": 1, "total_weight": "total_weight", "weight": lambda ctx: None}

    @staticmethod
    def forward(ctx: Any, logp: Tensor, target: Tensor, reduction: str) -> Tensor:
        classes = logp.shape[-1]
        bad = target._data[(target._data < 0) | (target._data >= classes)]
        if bad.size:
            raise IndexError(f"Target {int(bad.flat[0])} is out of bounds.")
        key = (np.arange(logp.shape[0]), target._data) if logp.ndim == 2 else (target._data,)
        picked = -logp._data[key]
        ctx.shape, ctx.key, ctx.reduction, ctx.picked_shape = logp.shape, key, reduction, picked.shape
        ctx.save_for_backward(logp, target)  # (only for y.grad_fn._saved_self / _saved_target, as in PyTorch)
        ctx.total_weight = Tensor._wrap(np.array(0 if reduction == "none" else picked.size, logp._data.dtype))
        if reduction == "none":
            return Tensor._wrap(picked)
        total = _cascade_subtract(logp._data[key].ravel())
        return Tensor._wrap(np.asarray(total / total.dtype.type(picked.size) if reduction == "mean" else total))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        per_item = -grad
        if ctx.reduction == "mean":
            per_item = per_item / builtins.max(1, math.prod(ctx.picked_shape))
        if ctx.reduction != "none":
            per_item = per_item.expand(ctx.picked_shape)
        return IndexPut.apply(per_item, ctx.shape, ctx.key), None, None


def _cascade_subtract(values: np.ndarray) -> np.generic:
    """-sum(values) in nll_loss's order: subtracted one by one into a first partial sum, which every 16 items
    moves into the next of 8 levels (every 256 into the third, ...), the levels added up at the end."""
    zero = values.dtype.type(0)
    power = max(4, (max(values.size, 1) - 1).bit_length() // 8)  # (log2 of the batch, rounded up, / 8)
    partial = [zero] * 8
    for b, value in enumerate(values):
        partial[0] = partial[0] - value
        for j in range(7):
            if b & (((1 << power) - 1) << (j * power)):
                break
            partial[j + 1], partial[j] = partial[j + 1] + partial[j], zero
    total = zero
    for p in partial:
        total = total + p
    return total


class MseLoss(Function):
    """out = mean((a - b)**2).   d/da = 2 (a - b) / n,  d/db = -2 (a - b) / n.

    In PyTorch's order, so float32 losses match it bit for bit: d = a - b, d * d, then the sum
    (``_cascade_sum``) and one division by n; the gradient is (2/n * (a - b)) * grad.
    """

    node_name = "MseLossBackward0"
    saved_as: ClassVar = {"reduction": lambda ctx: _REDUCTIONS[ctx.reduction], "self": 0, "target": 1}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor, b: Tensor, reduction: str) -> Tensor:
        ctx.save_for_backward(a, b)
        ctx.reduction = reduction
        x, y = arrays(a, b)
        diff = x - y
        squared = diff * diff
        ctx.count = squared.size
        if reduction == "none":
            return Tensor._wrap(squared)
        total = add_up(squared, tuple(range(squared.ndim)), False)
        return Tensor._wrap(np.true_divide(total, squared.size, dtype=total.dtype) if reduction == "mean" else total)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        a, b = ctx._for_backward
        need_a, need_b, _ = ctx.needs_input_grad
        scale = 2 / ctx.count if ctx.reduction == "mean" else 2.0  # (a Python float: rounded once to the dtype)
        diff = ((a - b) * scale) * grad
        return (diff if need_a else None), (-diff if need_b else None), None


class BinaryCrossEntropyWithLogits(Function):
    """out = (1 - t) x - w log(sigmoid(x)),  w = 1 + (pos_weight - 1) t   (times ``weight``, then reduced).

    d/dx = (pos_weight t + 1 - t) sigmoid(x) - pos_weight t,   d/dt = -x - (pos_weight - 1) log(sigmoid(x)).
    log(sigmoid(x)) is computed as min(x, 0) - log1p(exp(-|x|)): no overflow, and exact for large |x|.
    """

    node_name = "BinaryCrossEntropyWithLogitsBackward0"

    @staticmethod
    def forward(ctx: Any, x: Tensor, t: Tensor, weight: Tensor | None, pos_weight: Tensor | None,
                reduction: str) -> Tensor:
        ctx.save_for_backward(x, t, weight, pos_weight)
        ctx.reduction, ctx.count = reduction, x.numel()
        a, b = arrays(x, t)
        log_sigmoid = vectorized.log_sigmoid(a)
        if pos_weight is not None:
            log_sigmoid = log_sigmoid * ((pos_weight._data - 1) * b + 1)
        loss = (1 - b) * a - log_sigmoid  # (PyTorch's order: (1 - t) * x, then minus log(sigmoid(x)))
        if weight is not None:
            loss = loss * weight._data
        loss = loss.astype(a.dtype, copy=False)
        if reduction == "none":
            return Tensor._wrap(loss)
        total = add_up(loss, tuple(range(loss.ndim)), False)
        return Tensor._wrap(np.true_divide(total, loss.size, dtype=total.dtype) if reduction == "mean" else total)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None, None, None]:
        """In PyTorch's order (so float32 gradients match it bit for bit): the slope times grad, then times
        ``weight``, then divided by the count for a mean."""
        x, t, weight, pos_weight = ctx._for_backward
        need_x, need_t = ctx.needs_input_grad[:2]
        grad_x = grad_t = None
        if need_x and pos_weight is None:
            grad_x = (x.sigmoid() - t) * grad
        elif need_x:
            pt = pos_weight * t
            grad_x = ((pt + 1 - t) * x.sigmoid() - pt) * grad
        if need_t and pos_weight is None:
            grad_t = -x * grad
        elif need_t:
            log_sigmoid = where(x < 0, x, 0.0) - (1 + (-x.abs()).exp()).log()
            grad_t = (-x - (pos_weight - 1) * log_sigmoid) * grad
        return _weighted_mean(grad_x, weight, ctx), _weighted_mean(grad_t, weight, ctx), None, None, None


def _weighted_mean(g: Tensor | None, weight: Tensor | None, ctx: Any) -> Tensor | None:
    """A loss gradient times ``weight``, then over the count for a mean."""
    if g is None:
        return None
    if weight is not None:
        g = g * weight
    return g / ctx.count if ctx.reduction == "mean" else g
