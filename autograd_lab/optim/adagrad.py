"""Adagrad: each element's steps shrink with the sum of its squared gradients so far."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autograd_lab import _dtype
from autograd_lab._creation import full_like, tensor
from autograd_lab._grad_mode import no_grad
from autograd_lab.optim import _pointwise
from autograd_lab.optim.optimizer import Optimizer, ParamsT, check_not_negative

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """s += g²,  p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)."""

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        check_not_negative(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                           initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                                  "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                                  "maximize": maximize, "differentiable": differentiable, "fused": fused})
        for group in self.param_groups:  # Adagrad's state exists from the start, as in PyTorch
            for p in group["params"]:
                self.state[p] = {"step": tensor(0.0, dtype=_dtype.get_default_dtype()),
                                 "sum": full_like(p, group["initial_accumulator_value"])}

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._run_closure(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                state["step"].add_(1)
                grad = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"] != 0:
                    grad = _pointwise.add_(grad.clone(), p, group["weight_decay"])
                lr = group["lr"] / (1 + (state["step"].item() - 1) * group["lr_decay"])
                std = _pointwise.addcmul_(state["sum"], grad, grad, 1).sqrt().add_(group["eps"])
                _pointwise.addcdiv_(p, grad, std, -lr)
        return loss
