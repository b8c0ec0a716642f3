"""Optimizer: parameters in groups, each group with its own settings, and a state per parameter."""

from __future__ import annotations

import copy
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from autograd_lab import _dtype
from autograd_lab._creation import tensor, zeros_like
from autograd_lab._grad_mode import enable_grad
from autograd_lab._tensor import Tensor
from autograd_lab.nn.modules.module import forget_grad

__all__ = ["Optimizer"]

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]


_NAMED = {"lr": "learning rate", "eps": "epsilon value"}


def check_not_negative(**settings: float) -> None:
    """PyTorch's ValueError for the first of these settings below 0 (or nan), named as its messages name it."""
    for name, value in settings.items():
        if not value >= 0.0:
            raise ValueError(f"Invalid {_NAMED.get(name, name + ' value')}: {value}")


class Optimizer:
    """Holds ``param_groups`` (lists of parameters with settings such as lr) and ``state`` (per parameter).

    A subclass states its defaults and writes ``step``: the update rule, one parameter at a time.
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got torch.{params.dtype._scalar_name}Tensor")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add parameters with settings of their own (the defaults fill in the rest): e.g. a layer's own lr."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        params = [params] if isinstance(params, Tensor) else list(params)
        if params and isinstance(params[0], tuple):  # model.named_parameters(): the names are kept too
            param_group["param_names"] = [name for name, _ in params]
            params = [p for _, p in params]
        param_group["params"] = params
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {_typename(p)}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        if len(params) != len({id(p) for p in params}):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          UserWarning, stacklevel=3)
        if any(p is q for group in self.param_groups for q in group["params"] for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients before the next backward (they would add up): None, or zeros if asked."""
        for group in self.param_groups:
            for p in group["params"]:
                forget_grad(p, set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        raise NotImplementedError

    def _run_closure(self, closure: Callable[[], Any] | None) -> Any:
        """What every step does first: run the closure (it recomputes the loss) with grad mode on; its loss."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _state(self, p: Tensor, *buffers: str) -> dict[str, Any]:
        """The parameter's state; before its first step: a step count (a tensor, as in PyTorch) and zero buffers."""
        state = self.state[p]
        if not state:
            state["step"] = tensor(0.0, dtype=_dtype.get_default_dtype())
            for name in buffers:
                state[name] = zeros_like(p)
        return state

    def state_dict(self) -> dict[str, Any]:
        """State and settings, with parameters replaced by their position (0, 1, ...) so it can be saved."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Take back what ``state_dict`` gave: the same settings and state, for this optimizer's parameters."""
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(self.param_groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        param_of = {i: p for g, s in zip(self.param_groups, saved_groups) for i, p in zip(s["params"], g["params"])}
        self.state = defaultdict(dict)
        for i, saved in state_dict["state"].items():
            p = param_of[i]
            self.state[p] = {k: v.to(p.dtype) if k != "step" and isinstance(v, Tensor) and v.dtype.is_floating_point
                             else v for k, v in saved.items()}
        for group, saved in zip(self.param_groups, saved_groups):
            saved["params"] = group["params"]
        self.param_groups = saved_groups

    def __repr__(self) -> str:
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            text += "".join(f"    {key}: {group[key]}\n" for key in sorted(group) if key != "params")
        return text + ")"


def _typename(value: Any) -> str:
    """How PyTorch names a value's type in messages (torch.typename)."""
    module = type(value).__module__
    return type(value).__qualname__ if module == "builtins" else f"{module}.{type(value).__qualname__}"
