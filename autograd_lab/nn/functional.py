"""torch.nn.functional: the stateless form of layers and losses."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from autograd_lab import _dtype, _ops
from autograd_lab import _grad_mode as grad_mode
from autograd_lab._fma import fma32, fma64
from autograd_lab._ops import _cascade_sum, activations, addmm, losses, sigmoid, tanh
from autograd_lab._ops.copies import constant_pad_nd
from autograd_lab._ops.inplace import _modify
from autograd_lab._ops.losses import BinaryCrossEntropyWithLogits, MseLoss
from autograd_lab._ops.pointwise import AddScalar, where, xlogy
from autograd_lab._ops.reductions import Norm, vector_norm
from autograd_lab._ops.vectorized import c_function
from autograd_lab._tensor import Tensor, wrap_dim
from autograd_lab._torch_function import overridable
from autograd_lab._torch_warnings import user_stacklevel
from autograd_lab.autograd.function import Function
from autograd_lab.nn import _reduction as _Reduction  # (PyTorch calls it so)

__all__ = ["batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits", "celu", "cosine_similarity",
           "cross_entropy", "dropout", "elu", "embedding", "gelu", "glu", "hardshrink", "hardsigmoid", "hardswish",
           "hardtanh", "huber_loss", "kl_div", "l1_loss", "layer_norm", "leaky_relu", "linear", "log_softmax",
           "logsigmoid", "mish", "mse_loss", "nll_loss", "normalize", "one_hot", "pad", "pairwise_distance", "relu",
           "relu6", "relu_", "selu", "sigmoid", "silu", "smooth_l1_loss", "softmax", "softmin", "softplus",
           "softshrink", "softsign", "tanh", "tanhshrink", "threshold"]

_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction: str, size_average: bool | None = None, reduce: bool | None = None) -> str:
    """``reduction`` as PyTorch reads it: the 0.4 name 'elementwise_mean' is 'mean' (with PyTorch's warning);
    the older ``size_average``/``reduce``, when given, decide instead (with theirs)."""
    if size_average is not None or reduce is not None:  # (the warning shows this line: PyTorch's has the same text)
        reduction = _Reduction.legacy_get_string(size_average, reduce)
        return reduction
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
                      stacklevel=3)  # (names the loss function's line, as PyTorch's does)
        return "mean"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _warn_if_broadcast(input: Tensor, target: Tensor) -> None:
    """PyTorch's warning when a regression loss would pair the wrong elements by broadcasting."""
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
                      "same size.", UserWarning, stacklevel=user_stacklevel())


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias, the way PyTorch records it (one addmm node for 2-d input)."""
    if bias is None:
        return input.matmul(weight.t())
    if input.ndim == 2:
        return addmm(bias, input, weight.t())
    rows = input.reshape(-1, input.shape[-1])
    return addmm(bias, rows, weight.t()).view(*input.shape[:-1], weight.shape[0])


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(input, 0); with ``inplace=True``, written into input (``relu_``)."""
    return _ops.relu_(input) if inplace else _ops.relu(input)


class LeakyRelu(Function):
    """out = a where a > 0, else negative_slope * a.   d/da = 1 or negative_slope."""

    node_name = "LeakyReluBackward0"
    saved_as: ClassVar = {"self": 0, "negative_slope": "negative_slope"}

    @staticmethod
    def forward(ctx: Any, a: Tensor, negative_slope: float) -> Tensor:
        ctx.save_for_backward(a)
        ctx.negative_slope = negative_slope
        x = a._data
        return Tensor._wrap(np.where(x > 0, x, x * x.dtype.type(negative_slope)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (a,) = ctx._for_backward
        return where(a > 0, grad, grad * ctx.negative_slope), None


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """Like relu, but negative inputs keep a small slope, so their gradient is not zero."""
    if inplace:
        raise NotImplementedError("leaky_relu(inplace=True) is not part of autograd_lab")
    return LeakyRelu.apply(input, negative_slope)


def _floats_only(input: Tensor, kernel: str) -> None:
    """PyTorch's refusal of an integer or bool tensor, naming the CPU kernel that has no such dtype."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{input.dtype._scalar_name}\'')


def _activation(op: type[Function], input: Tensor, inplace: bool, *args: Any) -> Tensor:
    """op applied to input, or with ``inplace=True`` written into it (as PyTorch records it: the same node)."""
    if not inplace:
        return op.apply(input, *args)
    if op not in activations.IN_PLACE:
        raise NotImplementedError(f"{op.node_name[:-9].lower()}(inplace=True) is not part of autograd_lab")
    return _modify(input, activations.IN_PLACE[op], *args)


def relu_(input: Tensor) -> Tensor:
    return _ops.relu_(input)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """input clipped to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _activation(activations.Hardtanh, input, inplace, min_val, max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """input clipped to [0, 6] (PyTorch records it as hardtanh)."""
    return _activation(activations.Hardtanh, input, inplace, 0.0, 6.0)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """input where positive, else alpha * (exp(input) - 1): smooth at 0 when alpha is 1."""
    _floats_only(input, "elu_cpu")
    return _activation(activations.Elu, input, inplace, alpha, 1.0, 1.0)


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """elu with the alpha and scale that keep activations' mean and variance at 0 and 1."""
    _floats_only(input, "elu_cpu")
    return _activation(activations.Elu, input, inplace, _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """input where positive, else alpha * (exp(input / alpha) - 1)."""
    _floats_only(input, "elu_cpu")
    return _activation(activations.Celu, input, inplace, alpha, 1.0, 1.0 / alpha)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """input * P(N(0, 1) < input); ``approximate="tanh"`` uses tanh's approximation of that probability."""
    _floats_only(input, "GeluKernelImpl")
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return activations.Gelu.apply(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """input * sigmoid(input) (also called swish)."""
    _floats_only(input, "silu_cpu")
    return _activation(activations.Silu, input, inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """input * tanh(softplus(input))."""
    _floats_only(input, "mish_cpu")
    return _activation(activations.Mish, input, inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * input)) / beta: a smooth relu (input itself where beta * input > threshold)."""
    _floats_only(input, "softplus_cpu")
    return activations.Softplus.apply(input, beta, threshold)


def softsign(input: Tensor) -> Tensor:
    """input / (1 + |input|)."""
    return input / (input.abs() + 1)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """clip(input / 6 + 1/2, 0, 1): a piecewise-linear sigmoid."""
    _floats_only(input, "hardsigmoid_cpu")
    return _activation(activations.Hardsigmoid, input, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """input * hardsigmoid(input)."""
    _floats_only(input, "hardswish_cpu")
    return _activation(activations.Hardswish, input, inplace)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(input)), computed without overflow."""
    _floats_only(input, "log_sigmoid_cpu")
    return activations.LogSigmoid.apply(input)


def tanhshrink(input: Tensor) -> Tensor:
    """input - tanh(input)."""
    return input - input.tanh()


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """input where |input| > lambd, else 0."""
    _floats_only(input, "hardshrink_cpu")
    return activations.Shrink.apply(input, lambd)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """input moved lambd toward 0 (0 within lambd of it)."""
    _floats_only(input, "softshrink_check")
    if not 0 <= lambd <= np.finfo(input._data.dtype).max:
        limit = f"{float(np.finfo(input._data.dtype).max):g}"
        raise RuntimeError(f"lambda must be in range [0, {limit}] for input dtype {input.dtype._scalar_name}, but "
                           f"found {lambd:g}")
    return activations.Softshrink.apply(input, lambd)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """input where input > threshold, else value."""
    return _activation(activations.Threshold, input, inplace, threshold, value)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """softmax(-input): the smallest values get the largest weights."""
    return softmax(-input, _softmax_dim("softmin", input, dim), dtype=dtype)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """The first half of ``dim`` gated by the sigmoid of the second half."""
    _floats_only(input, "glu_cpu")
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = wrap_dim(dim, input.ndim)
    if input.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {input.shape[d]}")
    return activations.Glu.apply(input, d, dim)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None) -> Tensor:
    """input divided by its p-norm along ``dim`` (at least eps): unit vectors."""
    if out is not None:
        raise NotImplementedError("normalize(out=...) is not part of autograd_lab")
    return input / input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """The cosine of the angle between x1 and x2 along ``dim``: each divided by its norm (at least eps) first,
    then the sum of their products (PyTorch's order: it keeps the result within [-1, 1])."""
    if x1.shape != x2.shape:  # (both expanded, the one already of that shape too, as PyTorch records it)
        shape = _ops.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
        x1, x2 = x1.expand(shape), x2.expand(shape)
    norms = [vector_norm(x, 2, dim, True).clone() for x in (x1, x2)]
    with grad_mode.no_grad():  # (the norms are clamped in place, outside the graph, as PyTorch does)
        for n in norms:
            n.clamp_min_(eps)
    return ((x1 / norms[0]) * (x2 / norms[1])).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """The p-norm of x1 - x2 (+ eps) along the last dimension."""
    difference = AddScalar.apply(x1 - x2, eps)  # (PyTorch's C++ adds eps as a Scalar: AddBackward1)
    return Norm.apply(difference, float(p), (max(x1.ndim, x2.ndim) - 1,), keepdim, difference.dtype)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """``pad`` = (left, right, top, bottom, ...) more elements around the last dims (negative: crop)."""
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {input.ndim}")
    if mode != "constant":
        raise NotImplementedError(f"pad(mode={mode!r}) is not part of autograd_lab (only 'constant')")
    return constant_pad_nd(input, pad, 0.0 if value is None else value)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Each class index as a row of zeros with a 1 at the index (int64, one more dim)."""
    if tensor.dtype is not _dtype.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    values = tensor._data
    if num_classes == -1:
        if values.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(values.max()) + 1
    if values.size and values.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if values.size and values.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor._wrap((values[..., None] == np.arange(num_classes)).astype(np.int64))


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """mse / (2 beta) for errors within beta, l1 - beta / 2 beyond (beta 0: l1_loss)."""
    _floats_only(input, "smooth_l1_cpu")
    _warn_if_broadcast(input, target)
    reduction = _check_reduction(reduction, size_average, reduce)
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    return losses.SmoothL1Loss.apply(input, target, reduction, beta)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 error**2 within delta, delta * (|error| - delta / 2) beyond."""
    _floats_only(input, "huber_cpu")
    if weight is not None:
        raise NotImplementedError("huber_loss(weight=...) is not part of autograd_lab")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _warn_if_broadcast(input, target)
    return losses.HuberLoss.apply(input, target, _check_reduction(reduction), delta)


def kl_div(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence of target from input (input as log-probabilities; target too if log_target):
    sum of target * (log target - input)."""
    if size_average is not None or reduce is not None:
        reduction = _Reduction.legacy_get_string(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    elif reduction not in ("batchmean", "none", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    # (PyTorch's C++ evaluates the right operand first, and that order of nodes decides how a gradient meeting at
    # target is added up)
    if not (input.dtype.is_floating_point and target.dtype.is_floating_point):
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if log_target:
        difference = target - input
        pointwise = target.exp() * difference
    else:
        product = target * input
        pointwise = xlogy(target, target) - product
    if reduction == "none":
        return pointwise
    if reduction == "mean":
        return pointwise.mean()
    total = pointwise.sum()
    return total / input.shape[0] if reduction == "batchmean" and input.ndim else total


class NativeBatchNorm(Function):
    """out = (x - mean) / sqrt(var + eps) * weight + bias, per channel (dim 1), with the batch's statistics
    (training: the running ones, if any, move toward them) or the running ones (eval).   The backward
    recomputes the statistics from x with tensor ops, so their dependence on x is differentiated too (and
    so is the backward itself); a plain backward of an (N, C) float32 input runs PyTorch's kernel instead."""

    node_name = "NativeBatchNormBackward0"
    optional_inputs: ClassVar = frozenset({1, 2})  # (weight, bias)
    inputs_without_gradient: ClassVar = frozenset({3, 4})  # (the running statistics)
    saved_as: ClassVar = {"eps": "eps", "input": 0, "running_mean": 2, "running_var": 3, "training": "training",
                          "weight": 1}

    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor | None, bias: Tensor | None, mean: Tensor | None,
                var: Tensor | None, training: bool, momentum: float, eps: float) -> Tensor:
        ctx.save_for_backward(x, weight, *((None, None) if training else (mean, var)))  # (training: the batch's)
        ctx.training, ctx.eps = training, eps
        dtype, n = x._data.dtype, x.numel() // x.shape[1]
        if training:
            mu, var_sum = _batch_stats(x._data)
            variance = var_sum / dtype.type(n)  # (in x's dtype, then 1/sqrt in double)
            invstd = (1 / np.sqrt(variance.astype(np.float64) + eps)).astype(dtype)
            ctx.saved_stats = (mu, invstd)  # (PyTorch's save_mean and save_invstd, which its kernel reads)
            if mean is not None:
                _move_running_stats(mean, var, mu, var_sum, n, momentum)
        else:
            mu, invstd = mean._data, 1 / np.sqrt(var._data + dtype.type(eps))  # (in x's dtype, as PyTorch)
        # out = x * alpha + beta, each with one rounding (fused multiply-adds, as PyTorch's kernel runs)
        fma = fma32 if dtype == np.float32 else fma64
        alpha = invstd if weight is None else invstd * weight._data
        beta = fma(-mu, alpha, np.zeros_like(mu) if bias is None else bias._data)
        return Tensor._wrap(fma(x._data, _channels(alpha, x.ndim), _channels(beta, x.ndim)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, weight, mean, var = ctx._for_backward
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        if not grad_mode._enabled and x.ndim == 2 and x._data.dtype == grad._data.dtype == np.float32 and \
                (weight is None or weight._data.dtype == np.float32):
            stats = ctx.saved_stats if ctx.training else (mean._data, var._data)
            grads = _batch_norm_backward_rows(x._data, grad._data, *stats, weight, ctx.training, ctx.eps)
            return (*(Tensor._wrap(g) if need else None for g, need in zip(grads, (need_x, need_w, need_b))),
                    None, None, None, None, None)
        dims = (0, *range(2, x.ndim))
        if ctx.training:
            mean = x.mean(dims, keepdim=True)
            invstd = (((x - mean) ** 2).mean(dims, keepdim=True) + ctx.eps) ** -0.5
        else:
            mean, invstd = _channels(mean, x.ndim), (_channels(var, x.ndim) + ctx.eps) ** -0.5
        xhat = (x - mean) * invstd
        scale = invstd if weight is None else invstd * _channels(weight, x.ndim)
        grad_w = (grad * xhat).sum(dims) if need_w or (need_x and ctx.training) else None
        if not need_x:
            grad_x = None
        elif ctx.training:
            n = x.numel() // x.shape[1]
            grad_x = scale * (grad - grad.sum(dims, keepdim=True) / n - xhat * _channels(grad_w, x.ndim) / n)
        else:
            grad_x = grad * scale
        return grad_x, grad_w if need_w else None, grad.sum(dims) if need_b else None, None, None, None, None, None


def _batch_norm_backward_rows(x: np.ndarray, dy: np.ndarray, mean: np.ndarray, stat: np.ndarray,
                              weight: Tensor | None, training: bool, eps: float) -> tuple[np.ndarray, ...]:
    """(grad_x, grad_weight, grad_bias) of an (N, C) float32 batch norm as PyTorch's CPU kernel computes them
    (batch_norm_cpu_backward_channels_last_impl): each thread adds up its block of rows per channel in float32
    (sum of dy; (x - mean) * dy fused into the running sum), the blocks' totals are added in double; then
    dx = (dy - sum / N - (x - mean) * k) * invstd * w with k = dotp * invstd * invstd / N, fused on the full
    8-lane vectors, not on the channels left over. ``stat``: the saved invstd (training) or running_var (eval)."""
    rows, channels = x.shape
    invstd = stat if training else (1 / np.sqrt(stat.astype(np.float64) + eps)).astype(np.float32)
    w = np.ones(channels, np.float32) if weight is None else weight._data
    sums, dots = np.zeros(channels), np.zeros(channels)
    for block in _thread_blocks(rows):
        block_sum, block_dot = np.zeros(channels, np.float32), np.zeros(channels, np.float32)
        for i in block:
            block_sum = block_sum + dy[i]
            block_dot = fma32(x[i] - mean, dy[i], block_dot)
        sums, dots = sums + block_sum, dots + block_dot  # (float32 into double)
    total, dotp = sums.astype(np.float32), dots.astype(np.float32)
    if training:
        n = np.float32(rows)
        k, centered = dotp * invstd * invstd / n, x - mean
        fused = fma32(-centered, k, dy - total / n) * invstd * w
        plain = (dy - total / n - centered * k) * invstd * w
        dx = np.where(np.arange(channels) < channels - channels % 8, fused, plain)
    else:
        dx = dy * invstd * w
    return dx, dotp * invstd, total


def _thread_blocks(rows: int) -> list[range]:
    """The rows each thread takes in ATen's parallel_for (grain 1): divup(rows, threads) each, in order (5 rows
    on 4 threads: 2, 2, 1 and none)."""
    share = -(-rows // min(_cascade_sum.THREADS, rows))
    return [range(begin, min(rows, begin + share)) for begin in range(0, rows, share)]


def _move_running_stats(mean: Tensor, var: Tensor, mu: np.ndarray, var_sum: np.ndarray, n: int,
                        momentum: float) -> None:
    """running = (1 - momentum) * running + momentum * batch's (the variance unbiased), in place, rounded as
    PyTorch's kernel rounds it: the mean in the statistics' dtype, the variance in double."""
    kind = mean._data.dtype.type
    rate, keep = kind(momentum), kind(1) - kind(momentum)
    mean._data[...] = rate * mu + keep * mean._data
    var._data[...] = np.float64(rate) * (var_sum / kind(n - 1)).astype(np.float64) + (keep * var._data)
    mean._version_counter[0] += 1
    var._version_counter[0] += 1


def _batch_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each channel's mean and sum of squared deviations, rounded as PyTorch's CPU kernel rounds them: per
    element in x's dtype, sums of those in double. (N, C) inputs are summed down the rows by one partial
    sum per thread, (N, C, L) inputs channel by channel."""
    n = x.size // x.shape[1]
    if x.ndim == 2:  # each thread adds its block of rows in x's dtype; the blocks' sums are added in double
        blocks = [x[block.start:block.stop] for block in _thread_blocks(x.shape[0])]
        mu = (sum(_cascade_sum.sequential(b).astype(np.float64) for b in blocks) / n).astype(x.dtype)
        var_sum = sum(_squares_summed(b, mu).astype(np.float64) for b in blocks)
        return mu, var_sum.astype(x.dtype)
    rows = x.transpose(1, 0, 2).reshape(x.shape[1], -1)  # one row per channel, in the kernel's order
    mu = (np.add.accumulate(rows.astype(np.float64), axis=1)[:, -1] / n).astype(x.dtype)
    squares = (rows - mu[:, None]) * (rows - mu[:, None])  # products in x's dtype, added up in double
    return mu, np.add.accumulate(squares.astype(np.float64), axis=1)[:, -1].astype(x.dtype)


def _squares_summed(rows: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """sum((row - mu)^2) down the rows, one fused multiply-add per row (as PyTorch's vectorised loop)."""
    fma = fma32 if rows.dtype == np.float32 else fma64
    total = np.zeros_like(mu)
    for row in rows:
        d = row - mu
        total = fma(d, d, total)
    return total


def _channels(per_channel: Any, ndim: int) -> Any:
    """A (C,) array or tensor shaped to broadcast over dim 1 of an (N, C) or (N, C, L) input."""
    return per_channel.reshape((-1,) + (1,) * (ndim - 2))


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1); while training, also move the running statistics toward the batch's."""
    channels = input.shape[1]
    if training:
        if input.numel() // channels <= 1:
            raise ValueError("Expected more than 1 value per channel when training, got input size "
                             f"{input.shape}")
    elif running_mean is None:
        raise RuntimeError("running_mean must be defined in evaluation mode")
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and t.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {t.numel()}")
    return NativeBatchNorm.apply(input, weight, bias, running_mean, running_var, training, momentum, eps)


class NativeLayerNorm(Function):
    """out = (x - mean) / sqrt(var + eps) * weight + bias, the statistics over the last dims (``normalized_shape``)
    of each sample.   The backward recomputes them from x with tensor ops (so it is differentiable again)."""

    node_name = "NativeLayerNormBackward0"
    optional_inputs: ClassVar = frozenset({1, 2})  # (weight, bias)
    saved_as: ClassVar = {"input": 0, "weight": 1, "bias": 2, "normalized_shape": "normalized_shape",
                          "result1": lambda ctx: Tensor._wrap(ctx.mean), "result2": lambda ctx: Tensor._wrap(ctx.rstd)}

    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor | None, bias: Tensor | None, normalized_shape: tuple[int, ...],
                eps: float) -> Tensor:
        ctx.save_for_backward(x, weight, bias)
        ctx.normalized_shape, ctx.eps = normalized_shape, eps
        data = x._data.astype(np.float64)
        dims = tuple(range(x.ndim - len(normalized_shape), x.ndim))
        mean = data.mean(axis=dims, keepdims=True)
        rstd = 1 / np.sqrt(data.var(axis=dims, keepdims=True) + eps)
        ctx.mean, ctx.rstd = mean.astype(x._data.dtype), rstd.astype(x._data.dtype)
        out = (data - mean) * rstd
        if weight is not None:
            out = out * weight._data
        if bias is not None:
            out = out + bias._data
        return Tensor._wrap(np.ascontiguousarray(out, dtype=x._data.dtype))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None, None, None]:
        x, weight, bias = ctx._for_backward
        dims = tuple(range(x.ndim - len(ctx.normalized_shape), x.ndim))
        leading = tuple(range(x.ndim - len(ctx.normalized_shape)))
        centred = x - x.mean(dims, keepdim=True)
        rstd = ((centred * centred).mean(dims, keepdim=True) + ctx.eps).rsqrt()
        normalized = centred * rstd
        g = grad if weight is None else grad * weight
        grad_x = rstd * (g - g.mean(dims, keepdim=True) - normalized * (g * normalized).mean(dims, keepdim=True))
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        grad_w = (grad * normalized).sum(leading) if need_w and leading else (grad * normalized) if need_w else None
        grad_b = (grad.sum(leading) if leading else grad) if need_b else None
        return (grad_x if need_x else None), grad_w, grad_b, None, None


def layer_norm(input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise each sample over its last dims (``normalized_shape``): mean 0, variance 1, then weight and bias."""
    _floats_only(input, "LayerNormKernelImpl")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape or len(shape) > input.ndim:
        expected = ", ".join(["*"] + [str(n) for n in shape])
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape [{expected}], but got "
                           f"input of size{list(input.shape)}")
    return NativeLayerNorm.apply(input, weight, bias, shape, eps)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """While training, zero each element with probability p and scale the others by 1 / (1 - p), so the
    expected value is unchanged. PyTorch's CPU recipe: a ``bernoulli_(1 - p)`` mask, divided by 1 - p,
    multiplied in (so the node is MulBackward0); the same seed drops the same elements."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0 or input.numel() == 0:
        return input
    if p == 1:
        mask = Tensor._wrap(np.zeros((), input._data.dtype))
    else:
        mask = Tensor._wrap(np.empty_like(input._data)).bernoulli_(1 - p)
        mask.div_(1 - p)
    return input.mul_(mask) if inplace else input * mask


class Embedding(Function):
    """out = the rows of weight picked by indices.   d/dweight: each row's gradients summed into it."""

    node_name = "EmbeddingBackward0"
    inputs_without_gradient: ClassVar = frozenset({1})  # (the indices)
    saved_as: ClassVar = {"indices": 0, "padding_idx": "padding_idx", "scale_grad_by_freq": lambda ctx: False,
                          "sparse": lambda ctx: False, "weight_sym_argsize_0": "rows"}

    @staticmethod
    def forward(ctx: Any, weight: Tensor, indices: Tensor, padding_idx: int) -> Tensor:
        ctx.save_for_backward(indices)
        ctx.padding_idx, ctx.rows = padding_idx, weight.shape[0]
        return Tensor._wrap(weight._data[indices._data])

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        (indices,) = ctx._for_backward
        rows = grad.reshape(-1, grad.shape[-1])
        flat = indices.reshape(-1)
        if ctx.padding_idx >= 0:  # the padding row gets no gradient
            rows = rows * (flat != ctx.padding_idx).unsqueeze(1).to(rows.dtype)
        zeros = Tensor._wrap(np.zeros((ctx.rows, grad.shape[-1]), grad._data.dtype))
        return zeros.index_add(0, flat, rows), None, None


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Look up rows of ``weight`` (one vector per word id in ``input``)."""
    if input.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got torch.{input.dtype._scalar_name}Tensor instead (while "
                           "checking arguments for embedding)")
    if input.numel() and not 0 <= int(input._data.min()) <= int(input._data.max()) < weight.shape[0]:
        raise IndexError("index out of range in self")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    return Embedding.apply(weight, input, -1 if padding_idx is None else padding_idx)


def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
            reduction: str = "mean") -> Tensor:
    """Mean (or sum) absolute error: |input - target|, recorded as PyTorch records it (sub, abs, mean)."""
    _warn_if_broadcast(input, target)
    reduction = _check_reduction(reduction, size_average, reduce)
    loss = (input - target).abs()
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()


def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
             reduction: str = "mean") -> Tensor:
    """Mean squared error; warns, as PyTorch does, when broadcasting would pair the wrong elements."""
    _warn_if_broadcast(input, target)
    reduction = _check_reduction(reduction, size_average, reduce)
    return MseLoss.apply(input, target, reduction)


def _softmax_dim(name: str, input: Tensor, dim: int | None) -> int:
    """``dim``, or when it is missing PyTorch's old guess (0 for 0-, 1- and 3-d input, else 1) with its warning."""
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                      "as an argument.", UserWarning, stacklevel=user_stacklevel())
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return dim


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """log(softmax(input)), computed without overflow."""
    return losses.log_softmax(input, _softmax_dim("log_softmax", input, dim), dtype)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """exp(input) normalized to sum to 1 along ``dim``."""
    return losses.softmax(input, _softmax_dim("softmax", input, dim), dtype)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
             ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of the target classes, given log-probabilities (``weight``: per class; targets
    equal to ``ignore_index`` count for nothing, not even in a mean)."""
    return losses.nll_loss(input, target, weight, _check_reduction(reduction, size_average, reduce), ignore_index)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
                  ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """nll_loss(log_softmax(input)) for class indices; also takes class probabilities (a target of the input's
    shape) and ``label_smoothing``, which mixes the target with the uniform distribution."""
    if not isinstance(target, Tensor):
        raise TypeError(f"cross_entropy_loss(): argument 'target' (position 2) must be Tensor, not "
                        f"{type(target).__name__}")
    return losses.cross_entropy(input, target, weight, _check_reduction(reduction, size_average, reduce),
                                ignore_index, float(label_smoothing))


_logf, _log1pf = c_function("logf", np.log), c_function("log1pf", np.log1p)


class BinaryCrossEntropy(Function):
    """out = -w (t log(x) + (1 - t) log(1 - x)), each log at least -100 (so x = 0 or 1 stays finite).

    d/dx = w (x - t) / max(x (1 - x), 1e-12),   d/dt = w (log(1 - x) - log(x)).
    """

    node_name = "BinaryCrossEntropyBackward0"
    inputs_without_gradient: ClassVar = frozenset({2})  # (the weight)
    saved_as: ClassVar = {"reduction": lambda ctx: losses._REDUCTIONS[ctx.reduction], "self": 0, "target": 1,
                          "weight": 2}

    @staticmethod
    def forward(ctx: Any, x: Tensor, t: Tensor, weight: Tensor | None, reduction: str) -> Tensor:
        if ((x._data < 0) | (x._data > 1)).any():
            raise RuntimeError("all elements of input should be between 0 and 1")
        if ((t._data < 0) | (t._data > 1)).any():
            raise RuntimeError("all elements of target should be between 0 and 1")
        ctx.save_for_backward(x, t, weight)
        ctx.reduction, ctx.count = reduction, x.numel()
        a, b = x._data, t._data
        one, floor = a.dtype.type(1), a.dtype.type(-100)
        log, log1p = (_logf, _log1pf) if a.dtype == np.float32 else (np.log, np.log1p)  # (ATen's scalar loop: C's)
        with np.errstate(divide="ignore"):
            loss = (b - one) * np.maximum(log1p(-a), floor) - b * np.maximum(log(a), floor)
        if weight is not None:
            loss = loss * weight._data
        if reduction == "none":
            return Tensor._wrap(loss)
        total = _cascade_sum.add_up(loss, tuple(range(loss.ndim)), False)  # (PyTorch's order of the sum)
        return Tensor._wrap(np.true_divide(total, loss.size, dtype=total.dtype) if reduction == "mean" else total)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        """In PyTorch's order: grad * (x - t) / max((1 - x) x, 1e-12) and -logit(x) * grad, each then times the
        weight, then divided by n for a mean."""
        x, t, weight = ctx._for_backward
        need_x, need_t = ctx.needs_input_grad[:2]
        with np.errstate(divide="ignore", invalid="ignore"):  # log(0) = -inf, silently, as in PyTorch
            grad_x = grad * (x - t) / ((1 - x) * x).clamp(min=1e-12) if need_x else None
            grad_t = -(x / (1 - x)).log() * grad if need_t else None
        return losses.weighted_mean(grad_x, weight, ctx), losses.weighted_mean(grad_t, weight, ctx), None, None


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross entropy of probabilities (after a sigmoid); prefer the logits form, which is stable."""
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}) "
                         "is deprecated. Please ensure they have the same size.")
    reduction = _check_reduction(reduction, size_average, reduce)
    losses.refuse_gradient("binary_cross_entropy", weight=weight)
    return BinaryCrossEntropy.apply(input, target, weight, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: bool | None = None, reduce: bool | None = None,
                                     reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Binary cross entropy of sigmoid(input) against target, in one numerically stable step.

    ``pos_weight`` scales the loss of the positive targets (per class); ``weight`` scales every element.
    """
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    reduction = _check_reduction(reduction, size_average, reduce)
    if not target.dtype.is_floating_point:
        raise RuntimeError(f"result type Float can't be cast to the desired output type {target.dtype._scalar_name}")
    losses.refuse_gradient("binary_cross_entropy_with_logits", weight=weight, pos_weight=pos_weight)
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction)



# Public, as in PyTorch: an argument whose type defines __torch_function__ may take the call (Tensor subclasses,
# tensor-like objects); a plain tensor costs one look at the arguments' types.
for _name in __all__:
    globals()[_name] = overridable(globals()[_name], Tensor)
