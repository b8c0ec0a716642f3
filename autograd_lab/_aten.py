"""``torch.ops.aten``: names for the ops, as PyTorch's dispatcher names them (``torch.ops.aten.mm.default``).

PyTorch runs every op through its dispatcher as an "ATen operator" (``aten::mm``, overload ``default``);
code that looks at ops one by one (a selective checkpointing policy, ``utils/checkpoint.py``) compares
them with ``torch.ops.aten.mm.default``. Here each built-in ``Function`` has that name, taken from its
node's name (``MmBackward0`` -> ``aten.mm.default``), and calling an op calls autograd_lab's function.
"""

from __future__ import annotations

import functools
import re
from typing import Any

# The overloads autograd_lab's ops stand for; any other name is an AttributeError, as for an overload
# PyTorch does not have.
_OVERLOADS = ("default", "Tensor", "Scalar", "Tensor_Scalar", "Tensor_Tensor", "dim", "dims", "dim_IntList", "int",
              "self", "Scalar_Tensor", "Tensor_mode", "correction", "stable", "out")
# Nodes whose op is not their name in snake case with the overload "default".
_NOT_DEFAULT = {"AddBackward0": ("add", "Tensor"), "SubBackward0": ("sub", "Tensor"), "MulBackward0": ("mul", "Tensor"),
                "DivBackward0": ("div", "Tensor"), "PowBackward0": ("pow", "Tensor_Scalar"),
                "PowBackward1": ("pow", "Tensor_Tensor"), "PowBackward2": ("pow", "Scalar"),
                "SumBackward1": ("sum", "dim_IntList"), "MeanBackward1": ("mean", "dim"),
                "LogSoftmaxBackward0": ("_log_softmax", "default"), "SoftmaxBackward0": ("_softmax", "default"),
                "NllLossBackward0": ("nll_loss_forward", "default"), "UnsafeViewBackward0": ("_unsafe_view", "default"),
                "ToCopyBackward0": ("_to_copy", "default"), "SelectBackward0": ("select", "int"),
                "SliceBackward0": ("slice", "Tensor"), "IndexBackward0": ("index", "Tensor"),
                "WhereBackward0": ("where", "self"), "ClampBackward1": ("clamp", "default"),
                "ClampBackward0": ("clamp", "Tensor"), "RsubBackward1": ("rsub", "Scalar"),
                "AddBackward1": ("add", "Scalar"), "MulBackward1": ("mul", "Scalar"), "DivBackward1": ("div", "Scalar"),
                "DivBackward2": ("div", "Tensor_mode"), "SqueezeBackward1": ("squeeze", "dim"),
                "SqueezeBackward3": ("squeeze", "dim"), "SqueezeBackward4": ("squeeze", "dims"),
                "TransposeBackward0": ("transpose", "int"), "MaxBackward0": ("max", "dim"),
                "MinBackward0": ("min", "dim"), "MaskedFillBackward0": ("masked_fill", "Scalar"),
                "MaskedFillBackward1": ("masked_fill", "Tensor"), "StdBackward0": ("std", "correction"),
                "VarBackward0": ("var", "correction"), "SortBackward1": ("sort", "stable"),
                "SplitBackward0": ("split", "Tensor"), "UnbindBackward0": ("unbind", "int")}


class OpOverload:
    """One ATen operator with one overload: ``aten.mm.default``."""

    __module__ = "torch._ops"

    def __init__(self, packet: str, overload: str) -> None:
        self._packet, self._overloadname = packet, overload
        self.__name__ = f"{packet}.{overload}"

    def name(self) -> str:
        return f"aten::{self._packet}"

    def __repr__(self) -> str:
        return f"<OpOverload(op='aten.{self._packet}', overload='{self._overloadname}')>"

    def __str__(self) -> str:
        return f"aten.{self._packet}.{self._overloadname}"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        import autograd_lab

        function = getattr(autograd_lab, self._packet.lstrip("_"), None)
        if function is None:
            raise NotImplementedError(f"autograd_lab has no function for {self}: call the op as a torch.* function")
        return function(*args, **kwargs)


class OpOverloadPacket:
    """An ATen operator with all its overloads: ``torch.ops.aten.mm`` (``.default`` is one of them)."""

    __module__ = "torch._ops"

    def __init__(self, name: str) -> None:
        self._name = name
        self._overloads: dict[str, OpOverload] = {}

    def __getattr__(self, overload: str) -> OpOverload:
        if overload.startswith("__") or overload not in _OVERLOADS:
            raise AttributeError(f"The underlying op of 'aten.{self._name}' has no overload name '{overload}'")
        return self._overloads.setdefault(overload, OpOverload(self._name, overload))

    def __repr__(self) -> str:
        return f"<OpOverloadPacket(op='aten.{self._name}')>"

    def __str__(self) -> str:
        return f"aten.{self._name}"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.default(*args, **kwargs)


class _OpNamespace:
    """``torch.ops.aten``: its attributes are the operators (one packet object per name)."""

    def __init__(self) -> None:
        self._packets: dict[str, OpOverloadPacket] = {}

    def __getattr__(self, name: str) -> OpOverloadPacket:
        if name.startswith("__") or not _is_known(name):
            raise AttributeError(f"'_OpNamespace' 'aten' object has no attribute '{name}'")
        return self._packets.setdefault(name, OpOverloadPacket(name))

    def __repr__(self) -> str:
        return "<module 'torch.ops.aten' from 'torch.ops'>"


class _Ops:
    """``torch.ops``: only the ``aten`` namespace here."""

    def __init__(self) -> None:
        self.aten = _OpNamespace()

    def __repr__(self) -> str:
        return "<module 'torch.ops' from '_ops.py'>"


ops = _Ops()


def _is_known(name: str) -> bool:
    """An op autograd_lab runs: one of its functions, or the op of one of its nodes."""
    import autograd_lab

    return hasattr(autograd_lab, name.lstrip("_")) or any(_split(cls.node_name)[0] == name
                                                         for cls in _built_in_ops() if is_aten(cls))


def is_aten(cls: type) -> bool:
    """Does the built-in Function stand for an ATen operator (not for autograd's own nodes, CopySlices ...)?"""
    return "::" not in cls.node_name


def _built_in_ops() -> list[type]:
    """Every Function subclass that names its node (the built-in ops)."""
    from autograd_lab.autograd.function import Function

    found, stack = [], [Function]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__dict__.get("node_name") is not None:
                found.append(sub)
    return found


def _split(node: str) -> tuple[str, str]:
    """(operator, overload) of a node's name: MmBackward0 -> ("mm", "default")."""
    return _NOT_DEFAULT.get(node) or (re.sub(r"(?<=[a-z])(?=[A-Z])", "_", re.sub(r"Backward\d*$", "", node)).lower(),
                                      "default")


@functools.cache
def op_of(cls: type) -> OpOverload:
    """The ATen operator a built-in Function stands for (from its node's name: ``MmBackward0`` -> aten.mm.default)."""
    packet, overload = _split(cls.node_name)
    return getattr(getattr(ops.aten, packet), overload)
