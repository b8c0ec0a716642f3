"""LSTM and LSTMCell: a memory cell that, at each step, forgets some of its state and writes new input in.

One step, with gates computed from the input x and the last hidden state h::

    i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of (W_ih x + b_ih + W_hh h + b_hh), split in four
    c' = f * c + i * g          (forget, then write)
    h' = o * tanh(c')           (what the step shows)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd_lab import _grad_mode as grad_mode
from autograd_lab._ops import cat, stack
from autograd_lab._tensor import Tensor
from autograd_lab.autograd.engine import grad as autograd_grad
from autograd_lab.autograd.function import Function
from autograd_lab.nn import functional as F
from autograd_lab.nn import init
from autograd_lab.nn.modules.module import Module
from autograd_lab.nn.parameter import Parameter


def lstm_cell(x: Tensor, h: Tensor, c: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
              b_hh: Tensor | None) -> tuple[Tensor, Tensor]:
    """One LSTM step for a batch: (h', c'), in PyTorch's order of operations."""
    gates = F.linear(h, w_hh, b_hh) + F.linear(x, w_ih, b_ih)
    n = gates.shape[1] // 4
    i, f, g, o = (gates[:, k * n:(k + 1) * n] for k in range(4))
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


class LstmLayer(Function):
    """A whole layer over a sequence, as one node (PyTorch's CPU LSTM is one oneDNN call too).

    Its backward runs the layer again with autograd on and backpropagates through that: it stores only the
    inputs, and it can be differentiated again (each step is made of ops that can)."""

    node_name = "MkldnnRnnLayerBackward0"

    @staticmethod
    def forward(ctx: Any, x: Tensor, h: Tensor, c: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
                b_hh: Tensor | None, reverse: bool) -> tuple[Tensor, Tensor, Tensor]:
        ctx.save_for_backward(x, h, c, w_ih, w_hh, b_ih, b_hh)
        ctx.reverse = reverse
        return _run_layer(x, h, c, w_ih, w_hh, b_ih, b_hh, reverse)

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> tuple[Tensor | None, ...]:
        saved, create_graph = ctx._for_backward, grad_mode.is_grad_enabled()
        # Plain copies, unless these gradients will be differentiated again: then the saved inputs themselves,
        # so that the gradients stay connected to the graph that made them.
        inputs = saved if create_graph else [None if t is None else t.detach().requires_grad_(need)
                                             for t, need in zip(saved, ctx.needs_input_grad)]
        with grad_mode.enable_grad():
            outputs = _run_layer(*inputs, ctx.reverse)
            wanted = [t for t, need in zip(inputs, ctx.needs_input_grad) if need]
            found = iter(autograd_grad(outputs, wanted, grads, create_graph=create_graph, allow_unused=True))
        return (*(next(found) if need else None for need in ctx.needs_input_grad[:7]), None)


def _run_layer(x: Tensor, h: Tensor, c: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
               b_hh: Tensor | None, reverse: bool) -> tuple[Tensor, Tensor, Tensor]:
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    outputs: list[Tensor] = [None] * x.shape[0]  # type: ignore[list-item]
    for t in steps:
        h, c = lstm_cell(x[t], h, c, w_ih, w_hh, b_ih, b_hh)
        outputs[t] = h
    return stack(outputs), h, c


def _uniform_parameters(module: Module, hidden_size: int) -> None:
    """Every weight and bias uniform in ±1/sqrt(hidden_size), in registration order (as PyTorch)."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


def _parameter(*shape: int) -> Parameter:
    return Parameter(Tensor._wrap(np.empty(shape, np.float32)))


class LSTMCell(Module):
    """One LSTM step: ``h, c = cell(x, (h, c))``; loop over a sequence yourself."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = _parameter(4 * hidden_size, input_size)
        self.weight_hh = _parameter(4 * hidden_size, hidden_size)
        self.bias_ih = _parameter(4 * hidden_size) if bias else None
        self.bias_hh = _parameter(4 * hidden_size) if bias else None
        _uniform_parameters(self, hidden_size)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        if input.dim() not in (1, 2):
            raise ValueError(f"LSTMCell: Expected input to be 1D or 2D, got {input.dim()}D instead")
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        if x.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {x.shape[1]} expected {self.input_size}")
        if hx is not None and (hx[0].shape[0] if batched and hx[0].dim() else 1) != x.shape[0]:
            raise RuntimeError(f"Input batch size {x.shape[0]} doesn't match hidden0 batch size {hx[0].shape[0]}")
        if hx is None:
            zeros = Tensor._wrap(np.zeros((x.shape[0], self.hidden_size), x._data.dtype))
            h, c = zeros, zeros
        else:
            h, c = hx if batched else (hx[0].unsqueeze(0), hx[1].unsqueeze(0))
        h, c = lstm_cell(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


def _check_hidden(hx: tuple[Tensor, Tensor], input_dim: int, shape: tuple[int, int, int]) -> None:
    """(h_0, c_0) must be 3-D for a batch and 2-D without one, each of ``shape``: PyTorch's errors."""
    if any(t.dim() != input_dim for t in hx):
        kind = "batched 3-D" if input_dim == 3 else "unbatched 2-D"
        raise RuntimeError(f"For {kind} input, hx and cx should also be {input_dim}-D but got "
                           f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
    for k, t in enumerate(hx):
        got = tuple(t.shape) if input_dim == 3 else (t.shape[0], 1, t.shape[1])
        if got != shape:
            raise RuntimeError(f"Expected hidden[{k}] size {shape}, got {list(t.shape)}")


class LSTM(Module):
    """A stack of LSTM layers over whole sequences: ``output, (h_n, c_n) = lstm(x, (h_0, c_0))``.

    ``x`` is (seq_len, batch, input_size) — (batch, seq_len, ...) with ``batch_first`` — or unbatched
    (seq_len, input_size); ``output`` holds the last layer's h at every step, h_n and c_n every layer's last.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False) -> None:
        super().__init__()
        if not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, float(dropout), bidirectional
        directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            for suffix in ("", "_reverse")[:directions]:
                fan_in = input_size if layer == 0 else hidden_size * directions
                setattr(self, f"weight_ih_l{layer}{suffix}", _parameter(4 * hidden_size, fan_in))
                setattr(self, f"weight_hh_l{layer}{suffix}", _parameter(4 * hidden_size, hidden_size))
                if bias:
                    setattr(self, f"bias_ih_l{layer}{suffix}", _parameter(4 * hidden_size))
                    setattr(self, f"bias_hh_l{layer}{suffix}", _parameter(4 * hidden_size))
        _uniform_parameters(self, hidden_size)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        if input.dim() not in (2, 3):
            raise ValueError(f"LSTM: Expected input to be 2D or 3D, got {input.dim()}D instead")
        batched = input.dim() == 3
        x = (input.transpose(0, 1) if self.batch_first else input) if batched else input.unsqueeze(1)
        directions = 2 if self.bidirectional else 1
        if x.shape[2] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{x.shape[2]}")
        if hx is not None:
            _check_hidden(hx, input.dim(), (self.num_layers * directions, x.shape[1], self.hidden_size))
        if hx is None:
            zeros = Tensor._wrap(np.zeros((self.num_layers * directions, x.shape[1], self.hidden_size),
                                          x._data.dtype))
            h0, c0 = zeros, zeros
        else:
            h0, c0 = hx if batched else (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
        last_h, last_c = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(("", "_reverse")[:directions]):
                weights = [getattr(self, f"{kind}_l{layer}{suffix}", None)
                           for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
                k = layer * directions + direction
                out, h, c = LstmLayer.apply(x, h0[k], c0[k], *weights, direction == 1)
                outputs.append(out)
                last_h.append(h)
                last_c.append(c)
            x = outputs[0] if directions == 1 else cat(outputs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        h_n, c_n = stack(last_h), stack(last_c)
        if not batched:
            return x.squeeze(1), (h_n.squeeze(1), c_n.squeeze(1))
        return (x.transpose(0, 1) if self.batch_first else x), (h_n, c_n)

    def extra_repr(self) -> str:
        options = [f"{self.input_size}, {self.hidden_size}"]
        options += [f"num_layers={self.num_layers}"] if self.num_layers != 1 else []
        options += ["bias=False"] if not self.bias else []
        options += ["batch_first=True"] if self.batch_first else []
        options += [f"dropout={self.dropout}"] if self.dropout else []
        options += ["bidirectional=True"] if self.bidirectional else []
        return ", ".join(options)
