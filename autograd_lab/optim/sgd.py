"""SGD: step against the gradient, optionally with momentum (a running sum of past steps)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autograd_lab._grad_mode import no_grad
from autograd_lab.optim import _pointwise
from autograd_lab.optim.optimizer import Optimizer, ParamsT

__all__ = ["SGD"]


class SGD(Optimizer):
    """p -= lr * g, where g = grad + weight_decay * p, or with momentum the running b = momentum * b + g."""

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        # foreach / fused / differentiable choose PyTorch's kernels; kept so the settings (and repr) match
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                                  "foreach": foreach, "differentiable": differentiable, "fused": fused})
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; parameters without one are left alone.

        Each ``x + alpha * y`` is rounded once, as PyTorch's CPU kernels (single, foreach and fused alike) do.
        """
        loss = self._run_closure(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = p.grad if not group["maximize"] else -p.grad
                if group["weight_decay"] != 0:
                    d_p = _pointwise.add_(d_p.clone(), p, group["weight_decay"])
                if group["momentum"] != 0:
                    buf = self.state[p].get("momentum_buffer")
                    if buf is None:
                        buf = self.state[p]["momentum_buffer"] = d_p.clone().detach()
                    else:
                        _pointwise.add_(buf.mul_(group["momentum"]), d_p, 1 - group["dampening"])
                    d_p = _pointwise.add_(d_p.clone(), buf, group["momentum"]) if group["nesterov"] else buf
                _pointwise.add_(p, d_p, -group["lr"])
        return loss
