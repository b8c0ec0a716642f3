"""Activation layers: thin Module wrappers around the functions."""

from __future__ import annotations

from typing import Any

from autograd_lab._tensor import Tensor
from autograd_lab.nn import functional as F
from autograd_lab.nn.modules.module import Module


class ReLU(Module):
    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class Sigmoid(Module):
    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Softmax(Module):
    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class LogSoftmax(Module):
    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Identity(Module):
    """Returns its input: a placeholder where a layer could go."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class _Pointwise(Module):
    """A layer that applies ``function`` (an ``F.*`` activation) with the keyword arguments it was made with
    (stored as attributes under their PyTorch names, as ``extra_repr`` shows them)."""

    function: Any
    shown: tuple[str, ...] = ()  # the attributes extra_repr lists as name=value

    def forward(self, input: Tensor) -> Tensor:
        return type(self).function(input, **self._arguments())

    def _arguments(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.startswith("_") and k != "training"}

    def extra_repr(self) -> str:
        shown = [f"{k}={getattr(self, k)!r}" for k in self.shown]
        return ", ".join(shown + (["inplace=True"] if getattr(self, "inplace", False) else []))


class _InPlaceOption(_Pointwise):
    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace


class ELU(_Pointwise):
    function, shown = staticmethod(F.elu), ("alpha",)

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace


class CELU(ELU):
    function = staticmethod(F.celu)


class SELU(_InPlaceOption):
    function = staticmethod(F.selu)


class GELU(_Pointwise):
    function, shown = staticmethod(F.gelu), ("approximate",)

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate


class SiLU(_InPlaceOption):
    function = staticmethod(F.silu)


class Mish(_InPlaceOption):
    function = staticmethod(F.mish)


class Hardsigmoid(_InPlaceOption):
    function = staticmethod(F.hardsigmoid)

    def extra_repr(self) -> str:  # (PyTorch's shows nothing, not even inplace=True)
        return ""


class Hardswish(Hardsigmoid):
    function = staticmethod(F.hardswish)


class Softplus(_Pointwise):
    function, shown = staticmethod(F.softplus), ("beta", "threshold")

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold


class Hardtanh(_Pointwise):
    function, shown = staticmethod(F.hardtanh), ("min_val", "max_val")

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace


class ReLU6(Hardtanh):
    shown = ()

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)


class Threshold(_Pointwise):
    function, shown = staticmethod(F.threshold), ("threshold", "value")

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace


class Hardshrink(_Pointwise):
    function = staticmethod(F.hardshrink)

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    function = staticmethod(F.softshrink)


class Softsign(_Pointwise):
    function = staticmethod(F.softsign)


class Tanhshrink(_Pointwise):
    function = staticmethod(F.tanhshrink)


class LogSigmoid(_Pointwise):
    function = staticmethod(F.logsigmoid)


class Softmin(_Pointwise):
    function, shown = staticmethod(F.softmin), ("dim",)

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim


class GLU(Softmin):
    function = staticmethod(F.glu)

    def __init__(self, dim: int = -1) -> None:
        super().__init__(dim)
