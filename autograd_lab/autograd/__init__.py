"""autograd_lab.autograd: mirrors torch.autograd (Function, backward, grad, gradcheck, ...)."""

from __future__ import annotations

from collections.abc import Sequence

from autograd_lab._grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from autograd_lab._tensor import Tensor
from autograd_lab.autograd import forward_ad, function, functional, grad_mode, graph, profiler
from autograd_lab.autograd.anomaly_mode import detect_anomaly, set_detect_anomaly
from autograd_lab.autograd.engine import backward, grad
from autograd_lab.autograd.function import Function, FunctionCtx, once_differentiable
from autograd_lab.autograd.grad_mode import enforce_grad_layout_policy, set_multithreading_enabled
from autograd_lab.autograd.gradcheck import gradcheck, gradgradcheck
from autograd_lab.autograd.variable import Variable

__all__ = [
    "Function", "FunctionCtx", "Variable", "backward", "detect_anomaly", "enable_grad", "enforce_grad_layout_policy",
    "forward_ad", "function", "functional", "grad", "grad_mode", "gradcheck", "gradgradcheck", "graph",
    "inference_mode", "is_grad_enabled", "no_grad", "once_differentiable", "profiler", "set_detect_anomaly",
    "set_grad_enabled", "set_multithreading_enabled",
]


def _tensor_backward(self: Tensor, gradient: Tensor | None = None, retain_graph: bool | None = None,
                     create_graph: bool = False, inputs: Tensor | Sequence[Tensor] | None = None) -> None:
    """Compute d(self)/d(leaf) for every leaf (or only for ``inputs``), added into ``.grad``."""
    backward(self, gradient, retain_graph, create_graph, inputs=inputs)


Tensor.backward = _tensor_backward  # type: ignore[attr-defined]
