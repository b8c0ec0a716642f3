"""Adam and AdamW: steps scaled per element by running averages of the gradient and its square."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autograd_lab._grad_mode import no_grad
from autograd_lab._ops.pointwise import maximum
from autograd_lab.optim import _pointwise
from autograd_lab.optim.optimizer import Optimizer, ParamsT, check_not_negative

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """m = lerp(m, g, 1 - beta1),  v = beta2 * v + (1 - beta2) * g²,
    p -= lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t)) + eps).

    The bias corrections undo the zeros m and v start from. ``weight_decay`` adds weight_decay * p
    to g; with ``decoupled_weight_decay`` (AdamW) it shrinks p directly instead.
    ``amsgrad`` divides by the largest v seen so far.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        check_not_negative(lr=lr, eps=eps)
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        check_not_negative(weight_decay=weight_decay)
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                                  "capturable": capturable, "differentiable": differentiable, "fused": fused,
                                  "decoupled_weight_decay": decoupled_weight_decay})

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                buffers = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if group["amsgrad"] else ("exp_avg", "exp_avg_sq")
                state = self._state(p, *buffers)
                state["step"].add_(1)
                t = state["step"].item()
                grad = -p.grad if group["maximize"] else p.grad
                if weight_decay != 0 and group["decoupled_weight_decay"]:
                    p.mul_(1 - lr * weight_decay)
                elif weight_decay != 0:
                    grad = _pointwise.add_(grad.clone(), p, weight_decay)
                _pointwise.lerp_(state["exp_avg"], grad, 1 - beta1)
                _pointwise.addcmul_(state["exp_avg_sq"].mul_(beta2), grad, grad, 1 - beta2)
                step_size = lr / (1 - beta1**t)
                v = state["exp_avg_sq"]
                if group["amsgrad"]:
                    v = state["max_exp_avg_sq"].copy_(maximum(state["max_exp_avg_sq"], v))
                denom = (v.sqrt() / (1 - beta2**t) ** 0.5).add_(eps)
                _pointwise.addcdiv_(p, state["exp_avg"], denom, -step_size)
        return loss


class AdamW(Adam):
    """Adam whose weight decay shrinks the weights directly (p *= 1 - lr * weight_decay), apart from the gradient."""

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
