"""Losses for nn.functional: log_softmax, nll_loss (cross entropy), mse_loss."""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from autograd_lab._ops.indexing import IndexPut
from autograd_lab._ops.operands import arrays
from autograd_lab._tensor import Tensor
from autograd_lab.autograd.function import Function


class LogSoftmax(Function):
    """out = a - log(sum(exp(a))) along ``dim``.   d/da = grad - exp(out) * sum(grad)."""

    node_name = "LogSoftmaxBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, dim: int) -> Tensor:
        x = a._data
        shifted = x - x.max(axis=dim, keepdims=True)
        out = Tensor(shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True)))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (out,) = ctx.saved_tensors
        return grad - out.exp() * grad.sum(ctx.dim, keepdim=True), None


class NllLoss(Function):
    """out = -mean(logp[i, target[i]]).   d/dlogp = -1/N at each target position, 0 elsewhere."""

    node_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx: Any, logp: Tensor, target: Tensor, reduction: str) -> Tensor:
        classes = logp.shape[-1]
        bad = target._data[(target._data < 0) | (target._data >= classes)]
        if bad.size:
            raise IndexError(f"Target {int(bad.flat[0])} is out of bounds.")
        key = (np.arange(logp.shape[0]), target._data) if logp.ndim == 2 else (target._data,)
        picked = -logp._data[key]
        ctx.shape, ctx.key, ctx.reduction, ctx.picked_shape = logp.shape, key, reduction, picked.shape
        if reduction == "none":
            return Tensor(picked)
        total = picked.sum(dtype=picked.dtype)
        return Tensor(total / picked.size if reduction == "mean" else total)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        per_item = -grad
        if ctx.reduction == "mean":
            per_item = per_item / builtins.max(1, math.prod(ctx.picked_shape))
        if ctx.reduction != "none":
            per_item = per_item.expand(ctx.picked_shape)
        return IndexPut.apply(per_item, ctx.shape, ctx.key), None, None


class MseLoss(Function):
    """out = mean((a - b)**2).   d/da = 2 (a - b) / n,  d/db = -2 (a - b) / n."""

    node_name = "MseLossBackward0"

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor, reduction: str) -> Tensor:
        ctx.save_for_backward(a, b)
        ctx.reduction = reduction
        x, y = arrays(a, b)
        squared = (x - y) ** 2
        ctx.count = squared.size
        if reduction == "none":
            return Tensor(squared)
        return Tensor(squared.mean(dtype=squared.dtype) if reduction == "mean" else squared.sum(dtype=squared.dtype))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        a, b = ctx.saved_tensors
        need_a, need_b, _ = ctx.needs_input_grad
        scale = 2 / ctx.count if ctx.reduction == "mean" else 2
        diff = (a - b) * grad * scale
        return (diff if need_a else None), (-diff if need_b else None), None
