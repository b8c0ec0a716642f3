"""Adadelta: steps whose size is learned too, from running averages of squared gradients and steps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autograd_lab._grad_mode import no_grad
from autograd_lab.optim import _pointwise
from autograd_lab.optim.optimizer import Optimizer, ParamsT, check_not_negative

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """v = rho * v + (1 - rho) * g²,  d = sqrt(u + eps) / sqrt(v + eps) * g,  u = rho * u + (1 - rho) * d²,
    p -= lr * d.   (No learning rate is needed in theory: lr defaults to 1.)"""

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        check_not_negative(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_not_negative(eps=eps, weight_decay=weight_decay)
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                                  "maximize": maximize, "capturable": capturable, "foreach": foreach,
                                  "differentiable": differentiable})

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._run_closure(closure)
        for group in self.param_groups:
            rho, eps = group["rho"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._state(p, "square_avg", "acc_delta")
                state["step"].add_(1)
                grad = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"] != 0:
                    grad = _pointwise.add_(grad.clone(), p, group["weight_decay"])
                _pointwise.addcmul_(state["square_avg"].mul_(rho), grad, grad, 1 - rho)
                std = state["square_avg"].add(eps).sqrt_()
                delta = state["acc_delta"].add(eps).sqrt_().div_(std).mul_(grad)
                _pointwise.addcmul_(state["acc_delta"].mul_(rho), delta, delta, 1 - rho)
                _pointwise.add_(p, delta, -group["lr"])
        return loss
