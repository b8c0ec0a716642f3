"""Losses for nn.functional: softmax, log_softmax, nll_loss (cross entropy), mse_loss, BCE with logits."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from autograd_lab import _dtype
from autograd_lab import _grad_mode as grad_mode
from autograd_lab._fma import fma32
from autograd_lab._ops import _cascade_sum, vectorized
from autograd_lab._ops._cascade_sum import add_up
from autograd_lab._ops.operands import arrays, ieee_silent, type_name
from autograd_lab._ops.pointwise import AddScalar, DivScalar, MulScalar, where
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
        elif _like_aten_other_dim(x, axis):
            out = Tensor._wrap(vectorized.softmax_along(x, axis, log=True))
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

    d/dg = G - sum(G * exp(o)),   d/do = -sum(g) * exp(o) * G   (sums along ``dim``, G the incoming gradient;
    multiplied in PyTorch's order).
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
        if _like_aten_other_dim(g, axis) and o.dtype == g.dtype:
            return Tensor._wrap(vectorized.softmax_backward_along(g, o, axis, log=True))
        return Tensor._wrap(g - np.exp(o) * g.sum(axis=axis, keepdims=True))

    @staticmethod
    def backward(ctx: Any, g2: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        grad, out = ctx._for_backward
        need_grad, need_out, _ = ctx.needs_input_grad
        e = out.exp()
        d_grad = g2 - (g2 * e).sum(ctx.dim, keepdim=True) if need_grad else None
        d_out = -grad.sum(ctx.dim, keepdim=True) * e * g2 if need_out else None
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
        elif _like_aten_other_dim(x, axis):
            out = Tensor._wrap(vectorized.softmax_along(x, axis, log=False))
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

    d/dg = o * (G - sum(G * o)) (this same node),   d/do = g * G - sum(o * g) * G - g * sum(o * G)   (sums along
    ``dim``; PyTorch's softmax_double_backward, in its order).
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
        if _like_aten_other_dim(g, axis) and o.dtype == g.dtype:
            return Tensor._wrap(vectorized.softmax_backward_along(g, o, axis, log=False))
        return Tensor._wrap(o * (g - (g * o).sum(axis=axis, keepdims=True)))

    @staticmethod
    def backward(ctx: Any, g2: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        grad, out = ctx._for_backward
        need_grad, need_out, _ = ctx.needs_input_grad
        d_grad = SoftmaxBackwardData.apply(g2, out, ctx.dim) if need_grad else None
        d_out = (grad * g2 - (out * grad).sum(ctx.dim, keepdim=True) * g2
                 - grad * (out * g2).sum(ctx.dim, keepdim=True)) if need_out else None
        return d_grad, d_out, None


def _like_aten_other_dim(x: np.ndarray, axis: int) -> bool:
    """Does PyTorch's float32 kernel for another dimension apply (reproduced in ``vectorized``)?"""
    return x.dtype == np.float32 and 0 <= axis < x.ndim - 1 and 0 < x.size <= ROUNDED_ONCE_UP_TO


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
    """out = -sum(w[t] logp[t]) over the items whose target t is not ``ignore_index`` (a mean: over sum(w[t])).

    d/dlogp = -w[t] (over that sum for a mean) at each target position, 0 elsewhere. The input is (C,), (N, C),
    or, for NllLoss2d, (N, C, H, W); w is 1 without ``weight``.
    """

    node_name = "NllLossBackward0"
    inputs_without_gradient: ClassVar = frozenset({1, 2})  # (target, weight)
    saved_as: ClassVar = {"ignore_index": lambda ctx: ctx.ignore_index % 2**64,  # (PyTorch shows it unsigned)
                          "reduction": lambda ctx: _REDUCTIONS[ctx.reduction], "self": 0, "target": 1,
                          "total_weight": "total_weight", "weight": 2}
    gradient: ClassVar[type[Function]]  # NllLossBackward (set below)

    @staticmethod
    def forward(ctx: Any, logp: Tensor, target: Tensor, weight: Tensor | None, reduction: str,
                ignore_index: int) -> Tensor:
        ctx.save_for_backward(logp, target, weight)
        ctx.reduction, ctx.ignore_index = reduction, ignore_index
        items, classes, weights = _targets(logp, target, weight, ignore_index)
        picked = _by_class(logp._data)[items, classes]
        ctx.total_weight = Tensor._wrap(np.array(0, logp._data.dtype))
        if reduction == "none" and logp.ndim > 1:
            out = np.zeros(target.shape, logp._data.dtype)
            out.reshape(-1)[items] = -picked if weights is None else -picked * weights
            return Tensor._wrap(out)
        if target.numel() == 0:
            return Tensor._wrap(np.array(np.nan if reduction == "mean" else 0, logp._data.dtype))
        total, total_weight = _cascade_subtract(picked, weights, items, target.numel())
        if weights is None:
            total_weight = logp._data.dtype.type(len(items))
        ctx.total_weight._data[...] = total_weight
        with np.errstate(invalid="ignore", divide="ignore"):  # (every target ignored: 0 / 0, NaN as in PyTorch)
            return Tensor._wrap(np.asarray(total / total_weight if reduction == "mean" else total))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None, None, None]:
        logp, target, weight = ctx._for_backward
        gradient = type(ctx)._forward_cls.gradient
        total_weight = ctx.total_weight._data[()]
        return gradient.apply(grad, logp, target, weight, total_weight, ctx.reduction, ctx.ignore_index), \
            None, None, None, None


class NllLossBackward(Function):
    """nll_loss's gradient as one node, so it can be differentiated again: -w[t] * grad (a mean: grad over
    the total weight) at each target position.   d/dgrad = nll_loss of the incoming gradient, d/dlogp = 0."""

    node_name = "NllLossBackwardBackward0"
    inputs_without_gradient: ClassVar = frozenset({2, 3})  # (target, weight)
    saved_as: ClassVar = {"ignore_index": lambda ctx: ctx.ignore_index % 2**64,
                          "reduction": lambda ctx: _REDUCTIONS[ctx.reduction], "target": 0, "weight": 1}
    loss: ClassVar[type[Function]] = NllLoss

    @staticmethod
    def forward(ctx: Any, grad: Tensor, logp: Tensor, target: Tensor, weight: Tensor | None,
                total_weight: np.generic, reduction: str, ignore_index: int) -> Tensor:
        ctx.save_for_backward(target, weight)
        ctx.reduction, ctx.ignore_index, ctx.shape = reduction, ignore_index, logp.shape
        if logp.ndim == 1 and target.ndim == 1:  # (a (C,) input with a 1-item target: PyTorch's forward takes it)
            raise RuntimeError(f"size mismatch (got input: {list(logp.shape)}, target: {list(target.shape)})")
        items, classes, weights = _targets(logp, target, weight, ignore_index)
        g = grad._data
        if reduction == "none" and logp.ndim > 1:
            per_item = -g.reshape(-1)[items]
        else:  # (PyTorch's order: grad over the total weight, negated, then times the class's weight)
            per_item = -(g / total_weight if reduction == "mean" else g).reshape(())
        out = np.zeros(logp.shape if logp.ndim < 4 else _pixels_last(logp.shape), g.dtype)
        out.reshape(-1, out.shape[-1])[items, classes] = per_item if weights is None else weights * per_item
        return Tensor._wrap(out if logp.ndim < 4 else np.ascontiguousarray(out.transpose(0, 3, 1, 2)))

    @staticmethod
    def backward(ctx: Any, g2: Tensor) -> tuple[Tensor | None, ...]:
        target, weight = ctx._for_backward
        need_grad, need_logp = ctx.needs_input_grad[:2]
        loss = type(ctx)._forward_cls.loss
        d_grad = loss.apply(g2, target, weight, ctx.reduction, ctx.ignore_index) if need_grad else None
        d_logp = Tensor._wrap(np.zeros(ctx.shape, g2._data.dtype)) if need_logp else None
        return d_grad, d_logp, None, None, None, None, None


class NllLoss2d(NllLoss):
    """NllLoss of an (N, C, H, W) input, recorded as PyTorch records it (each pixel is an item)."""

    node_name = "NllLoss2DBackward0"


class NllLoss2dBackward(NllLossBackward):
    """NllLossBackward, recorded as PyTorch records the gradient of nll_loss2d."""

    node_name = "NllLoss2DBackwardBackward0"
    loss = NllLoss2d


NllLoss.gradient, NllLoss2d.gradient = NllLossBackward, NllLoss2dBackward


def _by_class(x: np.ndarray) -> np.ndarray:
    """nll_loss's input with one row per item, in PyTorch's loop order (batch, then pixels)."""
    if x.ndim == 4:
        return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
    return x.reshape(-1, x.shape[-1])


def _pixels_last(shape: tuple[int, ...]) -> tuple[int, ...]:
    """(N, C, H, W) -> (N, H, W, C): nll_loss2d's items, each with its classes in a row."""
    n, c, h, w = shape
    return n, h, w, c


def _targets(logp: Tensor, target: Tensor, weight: Tensor | None,
             ignore_index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The items not ignored (positions in the flattened target), their classes and their weights (None:
    no ``weight``), with PyTorch's IndexError for the first target out of range."""
    t = target._data.reshape(-1).astype(np.int64)
    items = np.flatnonzero(t != ignore_index)
    classes = t[items]
    bad = classes[(classes < 0) | (classes >= logp.shape[-1 if logp.ndim == 1 else 1])]
    if bad.size:
        raise IndexError(f"Target {bad[0]} is out of bounds.")
    return items, classes, None if weight is None else weight._data[classes]


def _cascade_subtract(picked: np.ndarray, weights: np.ndarray | None, items: np.ndarray,
                      count: int) -> tuple[np.generic, np.generic]:
    """-sum(weights * picked) and sum(weights), in nll_loss's order: each item subtracted into a first partial sum,
    which every 16 items (of all ``count``) moves into the next of 8 levels (every 256 into the third, ...), the
    levels added up at the end. An ignored item is skipped before it could move a level."""
    zero = picked.dtype.type(0)
    power = max(4, (count - 1).bit_length() // 8)  # (log2 of the batch, rounded up, / 8)
    loss, weight = [zero] * 8, [zero] * 8
    for k, b in enumerate(items.tolist()):
        if weights is None:
            loss[0] = loss[0] - picked[k]
        else:
            loss[0], weight[0] = loss[0] - picked[k] * weights[k], weight[0] + weights[k]
        for j in range(7):
            if b & (((1 << power) - 1) << (j * power)):
                break
            loss[j + 1], loss[j] = loss[j + 1] + loss[j], zero
            weight[j + 1], weight[j] = weight[j + 1] + weight[j], zero
    return _accumulate(loss), _accumulate(weight)


def _accumulate(partial: list[np.generic]) -> np.generic:
    """((0 + p0) + p1) + ...: the levels of a cascade added up, in order."""
    total = partial[0].dtype.type(0)
    for p in partial:
        total = total + p
    return total


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None, reduction: str, ignore_index: int) -> Tensor:
    """PyTorch's nll_loss_nd: the input is (C,), (N, C) or (N, C, d1, ...), the target one class per item; an
    input above 2-d goes to nll_loss2d (3-d and 5-d or more through a view, as PyTorch does)."""
    if input.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.ndim})")
    if input.ndim == 1 and target.ndim == 1 and target.shape[0] != 1:
        raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]}")
    if input.ndim != 1 and input.shape[0] != (target.shape[0] if target.ndim else 0):
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({target.shape[0] if target.ndim else 0}).")
    if input.ndim <= 2:
        return _checked_nll_loss(NllLoss, input, target, weight, reduction, ignore_index)
    if input.ndim == 4:
        return _checked_nll_loss(NllLoss2d, input, target, weight, reduction, ignore_index)
    n, c, pixels = input.shape[0], input.shape[1], input.shape[2:]
    if target.shape[1:] != pixels:
        raise RuntimeError(f"Expected target size {[n, *pixels]}, got {list(target.shape)}")
    flat, flat_target = ((input.contiguous().view(n, c, 1, -1), target.contiguous().view(n, 1, -1)) if input.numel()
                         else (input.view(n, c, 0, 0), target.view(n, 0, 0)))
    out = _checked_nll_loss(NllLoss2d, flat, flat_target, weight, reduction, ignore_index)
    return out.view(n, *pixels) if reduction == "none" else out


def _checked_nll_loss(op: type[NllLoss], input: Tensor, target: Tensor, weight: Tensor | None, reduction: str,
                      ignore_index: int) -> Tensor:
    """nll_loss or nll_loss2d, after PyTorch's checks of their arguments (in its order)."""
    name = "nll_loss2d" if op is NllLoss2d else "nll_loss"
    refuse_gradient(f"{name}_forward", weight=weight)
    if op is NllLoss2d and target.ndim != 3:
        raise RuntimeError(f"only batches of spatial targets supported (3D tensors) but got targets of dimension: "
                           f"{target.ndim}")
    if op is NllLoss and target.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if target.dtype not in (_dtype.int64, _dtype.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {target.dtype._scalar_name}")
    classes = input.shape[-1 if input.ndim == 1 else 1]
    if op is NllLoss2d:
        if weight is not None and weight.numel() != classes:
            raise RuntimeError("weight tensor should be defined either for all or no classes")
        if input.shape[0] != target.shape[0] or input.shape[2:] != target.shape[1:]:
            raise RuntimeError(f"size mismatch (got input: {list(input.shape)} , target: {list(target.shape)}")
    elif weight is not None and (weight.ndim != 1 or weight.numel() != classes):
        raise RuntimeError(f"weight tensor should be defined either for all {classes} classes or no classes but "
                               f"got weight tensor of shape: {list(weight.shape)}")
    if not input.dtype.is_floating_point:
        kernel = "nll_loss2d_forward_out_frame" if op is NllLoss2d else "nll_loss_out_frame"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{input.dtype._scalar_name}\'')
    if weight is not None and weight.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {input.dtype._scalar_name} but found {weight.dtype._scalar_name}")
    return op.apply(input, target, weight, reduction, ignore_index)


def refuse_gradient(function: str, **inputs: Tensor | None) -> None:
    """PyTorch's error for an input a loss never differentiates that requires grad (a silent None otherwise)."""
    for name, t in inputs.items():
        if t is not None and t.requires_grad and grad_mode.is_grad_enabled():
            raise RuntimeError(f"The function '{function}' is not differentiable with respect to argument '{name}'. "
                               "This input cannot have requires_grad True.")


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None, reduction: str, ignore_index: int,
                  label_smoothing: float) -> Tensor:
    """PyTorch's cross_entropy_loss: log_softmax over the classes (dim 1, or 0 for one unbatched item), then
    nll_loss for class indices, or -sum(target * log_softmax) for class probabilities (a target of the
    input's shape); ``label_smoothing`` mixes the target with the uniform distribution."""
    class_dim = 0 if input.ndim == 1 else 1
    if label_smoothing > 1:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing:g}")
    if input.shape == target.shape:
        if not target.dtype.is_floating_point:
            raise RuntimeError("Expected floating point type for target with class probabilities, got "
                               f"{target.dtype._scalar_name}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _cross_entropy_of_probabilities(input, target, weight, reduction, label_smoothing, class_dim)
    logp = log_softmax(input, class_dim)
    loss = nll_loss(logp, target, weight, reduction, ignore_index)
    if label_smoothing <= 0:
        return loss
    return MulScalar.apply(loss, 1 - label_smoothing) + MulScalar.apply(
        _uniform_target_loss(logp, target, weight, reduction, ignore_index, class_dim),
        label_smoothing / input.shape[class_dim])


def _per_class(weight: Tensor, ndim: int, class_dim: int) -> Tensor:
    """``weight`` viewed to broadcast along the class dimension of an ``ndim``-d input."""
    shape = [1] * ndim
    shape[class_dim] = weight.shape[0]
    return weight.view(shape)


def _cross_entropy_of_probabilities(input: Tensor, target: Tensor, weight: Tensor | None, reduction: str,
                                    label_smoothing: float, class_dim: int) -> Tensor:
    """-sum(target * w * log_softmax(input)) over the classes; a mean is over the items (not the weights)."""
    classes = input.shape[class_dim]
    if weight is not None and (weight.ndim != 1 or weight.numel() != classes):
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all {classes} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    logp = log_softmax(input, class_dim)
    if label_smoothing > 0:
        target = AddScalar.apply(MulScalar.apply(target, 1 - label_smoothing), label_smoothing / classes)
    products = logp * target
    if weight is not None:
        products = products * _per_class(weight, input.ndim, class_dim)
    if reduction == "none":
        return -products.sum(class_dim)
    if reduction == "sum":
        return -products.sum()
    if input.numel() == 0:
        return -products.sum().fill_(math.nan)
    return DivScalar.apply(-products.sum(), input.numel() // classes)


def _uniform_target_loss(logp: Tensor, target: Tensor, weight: Tensor | None, reduction: str, ignore_index: int,
                         class_dim: int) -> Tensor:
    """The cross entropy against a uniform target, times the number of classes: -sum(w * logp) per item (0 for
    an ignored one); a mean is over the items' weights, as nll_loss's is."""
    ignored = target == ignore_index
    if weight is None:
        loss = -logp.sum(class_dim)
    else:
        loss = -(logp * _per_class(weight, logp.ndim, class_dim)).sum(class_dim)
    loss.masked_fill_(ignored, 0.0)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if weight is None:
        return loss.sum() / (~ignored).sum()
    return loss.sum() / weight.gather(0, target.masked_select(~ignored).flatten()).sum()


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
        grad_a = MseLossBackward.apply(grad, a, b, ctx.reduction, ctx.count) if need_a else None
        grad_b = MseLossBackward.apply(grad, b, a, ctx.reduction, ctx.count) if need_b else None  # (a, b swapped)
        return grad_a, grad_b, None


class MseLossBackward(Function):
    """mse_loss's backward as one node (PyTorch's mse_loss_backward), so it can be differentiated again:
    out = (scale * (a - b)) * grad, scale = 2/n for a mean, else 2 (the target's gradient swaps a and b).

    d/dgrad = this same node on G,   d/da = 2 * (G * grad) / n (no division without a mean),   d/db = minus that.
    """

    node_name = "MseLossBackwardBackward0"
    saved_as: ClassVar = {"grad_output": 0, "reduction": lambda ctx: _REDUCTIONS[ctx.reduction], "self": 1,
                          "target": 2}

    @staticmethod
    def forward(ctx: Any, grad: Tensor, a: Tensor, b: Tensor, reduction: str, count: int) -> Tensor:
        ctx.save_for_backward(grad, a, b)
        ctx.reduction, ctx.count = reduction, count
        scale = 2 / count if reduction == "mean" else 2.0  # (a Python float: rounded once to the dtype)
        return ((a - b) * scale) * grad

    @staticmethod
    def backward(ctx: Any, g2: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None, None, None]:
        grad, a, b = ctx._for_backward
        need_grad, need_a, need_b = ctx.needs_input_grad[:3]
        d_grad = MseLossBackward.apply(g2, a, b, ctx.reduction, ctx.count) if need_grad else None
        d_a = 2 * (g2 * grad)
        if ctx.reduction == "mean":
            d_a = d_a / ctx.count
        return d_grad, (d_a if need_a else None), (-d_a if need_b else None), None, None


class BinaryCrossEntropyWithLogits(Function):
    """out = (1 - t) x - w log(sigmoid(x)),  w = 1 + (pos_weight - 1) t   (times ``weight``, then reduced).

    d/dx = (pos_weight t + 1 - t) sigmoid(x) - pos_weight t,   d/dt = -x - (pos_weight - 1) log(sigmoid(x)).
    log(sigmoid(x)) is computed as min(x, 0) - log1p(exp(-|x|)): no overflow, and exact for large |x|.
    """

    node_name = "BinaryCrossEntropyWithLogitsBackward0"
    inputs_without_gradient: ClassVar = frozenset({2, 3})  # (weight, pos_weight)

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
        return weighted_mean(grad_x, weight, ctx), weighted_mean(grad_t, weight, ctx), None, None, None


def weighted_mean(g: Tensor | None, weight: Tensor | None, ctx: Any) -> Tensor | None:
    """A loss gradient times ``weight``, then over the count for a mean."""
    if g is None:
        return None
    if weight is not None:
        g = g * weight
    return g / ctx.count if ctx.reduction == "mean" else g


def _reduced(values: np.ndarray, reduction: str) -> np.ndarray:
    """A loss's elements reduced as PyTorch reduces them: the cascade sum, divided once by n for a mean."""
    if reduction == "none":
        return values
    total = add_up(values, tuple(range(values.ndim)), False)
    return np.true_divide(total, values.size, dtype=total.dtype) if reduction == "mean" else total


class SmoothL1LossBackward(Function):
    """smooth_l1_loss's backward as one node (PyTorch's), so it can be differentiated again:
    out = norm * clip(d / beta, -1, 1) * grad, d = a - b, norm = 1/n for a mean, else 1.
    d/dgrad: this same node;  d/da = G grad norm / beta where |d| < beta, else 0;  d/db = minus that."""

    node_name = "SmoothL1LossBackwardBackward0"
    saved_as: ClassVar = {"grad_output": 0, "reduction": lambda ctx: _REDUCTIONS[ctx.reduction], "self": 1,
                          "target": 2, "beta": "width"}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, grad: Tensor, a: Tensor, b: Tensor, reduction: str, width: float) -> Tensor:
        ctx.save_for_backward(grad, a, b)
        ctx.reduction, ctx.width = reduction, width
        x, y = arrays(a, b)
        g = np.broadcast_to(grad._data, np.broadcast_shapes(x.shape, y.shape))
        d, w = x - y, x.dtype.type(width)
        norm = x.dtype.type(1 / d.size) if reduction == "mean" else x.dtype.type(1)
        return Tensor._wrap(ctx._forward_cls.slope(d, w, norm, g))

    slope = staticmethod(lambda d, beta, norm, g: np.where(d <= -beta, -norm * g, np.where(
        d >= beta, norm * g, norm * d * g / beta)))

    @staticmethod
    def backward(ctx: Any, g2: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None, None, None]:
        grad, a, b = ctx._for_backward
        op = ctx._forward_cls
        inside = ((a - b).abs() < ctx.width).to(grad.dtype)
        curvature = op.inner_slope((g2 * grad) * inside, ctx.width)  # (PyTorch's order of roundings)
        if ctx.reduction == "mean":
            curvature = curvature / (a - b).numel()
        return op.apply(g2, a, b, ctx.reduction, ctx.width), curvature, -curvature, None, None

    inner_slope = staticmethod(lambda t, beta: t / beta)


class HuberLossBackward(SmoothL1LossBackward):
    """huber_loss's backward: out = norm * clip(d, -delta, delta) * grad."""

    node_name = "HuberLossBackwardBackward0"
    saved_as: ClassVar = {"grad_output": 0, "reduction": lambda ctx: _REDUCTIONS[ctx.reduction], "self": 1,
                          "target": 2, "delta": "width"}
    slope = staticmethod(lambda d, delta, norm, g: np.where(d <= -delta, -norm * g * delta, np.where(
        d >= delta, norm * g * delta, norm * d * g)))
    inner_slope = staticmethod(lambda t, delta: t)


class SmoothL1Loss(Function):
    """out = 0.5 d**2 / beta where |d| < beta, else |d| - 0.5 beta, d = a - b (then reduced): mse near 0, l1
    further out.   d/da = clip(d / beta, -1, 1) (divided by n for a mean),  d/db = minus that.
    ``HuberLoss`` is its ``delta`` times ... form: 0.5 d**2 inside, delta (|d| - 0.5 delta) outside."""

    node_name = "SmoothL1LossBackward0"
    saved_as: ClassVar = {"reduction": lambda ctx: _REDUCTIONS[ctx.reduction], "self": 0, "target": 1,
                          "beta": "width"}

    @staticmethod
    @ieee_silent
    def forward(ctx: Any, a: Tensor, b: Tensor, reduction: str, width: float) -> Tensor:
        ctx.save_for_backward(a, b)
        ctx.reduction, ctx.width = reduction, width
        x, y = arrays(a, b)
        z, w, half = np.abs(x - y), x.dtype.type(width), x.dtype.type(0.5)
        return Tensor._wrap(_reduced(ctx._forward_cls.loss(z, w, half), reduction))

    loss = staticmethod(lambda z, beta, half: np.where(z < beta, half * z * z / beta, z - half * beta))
    gradient = SmoothL1LossBackward

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None, None]:
        a, b = ctx._for_backward
        need_a, need_b = ctx.needs_input_grad[:2]
        op = ctx._forward_cls.gradient
        grad_a = op.apply(grad, a, b, ctx.reduction, ctx.width) if need_a else None
        grad_b = op.apply(grad, b, a, ctx.reduction, ctx.width) if need_b else None  # (a, b swapped)
        return grad_a, grad_b, None, None


class HuberLoss(SmoothL1Loss):
    """out = 0.5 d**2 where |d| < delta, else delta (|d| - 0.5 delta) (then reduced)."""

    node_name = "HuberLossBackward0"
    saved_as: ClassVar = {"reduction": lambda ctx: _REDUCTIONS[ctx.reduction], "self": 0, "target": 1,
                          "delta": "width"}
    loss = staticmethod(lambda z, delta, half: np.where(z < delta, half * z * z, delta * (z - half * delta)))
    gradient = HuberLossBackward

