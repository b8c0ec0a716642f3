"""RMSprop: steps divided by a running root-mean-square of the gradient."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autograd_lab._grad_mode import no_grad
from autograd_lab.optim import _pointwise
from autograd_lab.optim.optimizer import Optimizer, ParamsT, check_not_negative

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """v = alpha * v + (1 - alpha) * g²,  p -= lr * g / (sqrt(v) + eps).

    ``centered`` subtracts the squared running mean of g from v (a variance, not a second moment);
    ``momentum`` keeps a running b = momentum * b + g / (sqrt(v) + eps) and steps by lr * b.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        check_not_negative(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        super().__init__(params, {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                                  "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                                  "maximize": maximize, "differentiable": differentiable})

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, alpha, momentum = group["lr"], group["alpha"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                buffers = ["square_avg"] + ["momentum_buffer"] * (momentum > 0) + ["grad_avg"] * group["centered"]
                state = self._state(p, *buffers)
                state["step"].add_(1)
                grad = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"] != 0:
                    grad = _pointwise.add_(grad.clone(), p, group["weight_decay"])
                _pointwise.addcmul_(state["square_avg"].mul_(alpha), grad, grad, 1 - alpha)
                if group["centered"]:
                    mean = _pointwise.lerp_(state["grad_avg"], grad, 1 - alpha)
                    avg = _pointwise.addcmul_(state["square_avg"].clone(), mean, mean, -1).sqrt_()
                else:
                    avg = state["square_avg"].sqrt()
                avg.add_(group["eps"])
                if momentum > 0:
                    buf = _pointwise.addcdiv_(state["momentum_buffer"].mul_(momentum), grad, avg)
                    _pointwise.add_(p, buf, -lr)
                else:
                    _pointwise.addcdiv_(p, grad, avg, -lr)
        return loss
