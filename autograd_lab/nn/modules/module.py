"""Module: a layer or model that owns Parameters and sub-Modules, found by attribute assignment."""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from autograd_lab import _device, _dtype
from autograd_lab._grad_mode import no_grad
from autograd_lab._ops.copies import to_arguments
from autograd_lab._tensor import Tensor
from autograd_lab.nn.modules._functions import BackwardHook
from autograd_lab.nn.parameter import Parameter
from autograd_lab.utils.hooks import RemovableHandle


class Module:
    """Base class of layers: ``self.w = Parameter(...)`` and ``self.sub = Linear(...)`` are registered."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_forward_pre_hooks", {})  # id -> (hook, with_kwargs), in call order
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "_backward_hooks", {})  # full backward hooks
        object.__setattr__(self, "_backward_pre_hooks", {})

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameters before Module.__init__() call")
        if name in self._parameters and not isinstance(value, Parameter) and value is not None:
            raise TypeError(f"cannot assign '{_type_name(value)}' as parameter '{name}' (torch.nn.Parameter or None "
                            "expected)")
        if name in self._buffers and not isinstance(value, Tensor) and value is not None:
            raise TypeError(f"cannot assign '{_type_name(value)}' as buffer '{name}' (torch.nn.Buffer, torch.Tensor "
                            "or None expected)")
        if name in self._modules and not isinstance(value, Module) and value is not None:
            raise TypeError(f"cannot assign '{_type_name(value)}' as child module '{name}' (torch.nn.Module or None "
                            "expected)")
        # A new value of the same kind (or None) keeps its name's place, so parameters() keeps its order
        if isinstance(value, Parameter) or (value is None and name in self._parameters):
            registry = self._parameters
        elif isinstance(value, Module) or (value is None and name in self._modules):
            registry = self._modules
        elif name in self._buffers and (value is None or isinstance(value, Tensor)):
            registry = self._buffers
        else:
            registry = None
        for other in (self._parameters, self._modules, self._buffers):
            if other is not registry:
                other.pop(name, None)
        if registry is not None:  # kept in its registry only, as in PyTorch: __getattr__ finds it there
            self.__dict__.pop(name, None)
            registry[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        """Only called when ``name`` is not an ordinary attribute: a parameter, buffer or child module."""
        registries = self.__dict__
        for kind in ("_parameters", "_buffers", "_modules"):
            if kind in registries and name in registries[kind]:
                return registries[kind][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._parameters, *self._buffers, *self._modules})

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a None placeholder, as an optional bias is) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name(self, name, "parameter", self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_type_name(param)}' object to parameter '{name}' (torch.nn.Parameter "
                            "or None required)")
        self.__dict__.pop(name, None)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Keep a tensor that is state but not a parameter (a running mean, a loss's weights): no gradient."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(self, name, "buffer", self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_type_name(tensor)}' object to buffer '{name}' (torch Tensor or None "
                            "required)")
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{module_prefix}.{name}" if module_prefix else name), b

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        """forward, with the hooks around it: a pre-hook may replace the inputs, a forward hook the output."""
        for hook, with_kwargs in list(self._forward_pre_hooks.values()):
            result = hook(self, args, kwargs) if with_kwargs else hook(self, args)
            if result is None:
                continue
            if not with_kwargs:
                args = result if isinstance(result, tuple) else (result,)
            elif isinstance(result, tuple) and len(result) == 2:
                args, kwargs = result
            else:
                raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, new_kwargs), but got "
                                   f"{result}.")
        backward_hook = None
        if self._backward_hooks or self._backward_pre_hooks:
            backward_hook = BackwardHook(self, list(self._backward_hooks.values()),
                                         list(self._backward_pre_hooks.values()))
            args = backward_hook.setup_input_hook(args)
        output = self.forward(*args, **kwargs)
        for hook, with_kwargs in list(self._forward_hooks.values()):
            result = hook(self, args, kwargs, output) if with_kwargs else hook(self, args, output)
            if result is not None:
                output = result
        if backward_hook is not None:
            if not isinstance(output, (Tensor, tuple)):
                warnings.warn("For backward hooks to be called, module output should be a Tensor or a tuple of Tensors "
                              f"but received {type(output)}", UserWarning, stacklevel=2)
            output = backward_hook.setup_output_hook(output)
        return output

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` once the gradients of the module's inputs are known; a returned
        tuple replaces grad_input."""
        return _add_hook(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_output)`` as soon as the gradients of the module's outputs are known; a returned
        tuple replaces grad_output."""
        return _add_hook(self._backward_pre_hooks, hook, prepend)

    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """``hook(module, args)`` runs before each forward; what it returns (if not None) becomes the args."""
        return _add_hook(self._forward_pre_hooks, (hook, with_kwargs), prepend)

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False) -> RemovableHandle:
        """``hook(module, args, output)`` runs after each forward; what it returns (if not None) is the output."""
        return _add_hook(self._forward_hooks, (hook, with_kwargs), prepend)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a child under ``name`` (how Sequential names its children "0", "1", ...)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_type_name(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {type(name).__name__}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name or name == "":
            raise KeyError(f'module name can\'t contain ".", got: {name}' if name else 'module name can\'t be empty '
                           'string ""')
        self.__dict__.pop(name, None)
        self._modules[name] = module

    register_module = add_module

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every child (theirs first), then on this module: ``model.apply(init_weights)``."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def get_submodule(self, target: str) -> Module:
        """The module at a dotted path such as ``"encoder.0"``."""
        module = self
        for item in target.split(".") if target else []:
            if not hasattr(module, item):
                raise AttributeError(f"{type(module).__name__} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at a dotted path such as ``"0.weight"``."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if not hasattr(module, name):
            raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")
        param = getattr(module, name)
        if not isinstance(param, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return param

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, p in module._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{module_prefix}.{name}" if module_prefix else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every module inside it, depth first (without recursion)."""
        stack: list[tuple[str, Module]] = [(prefix, self)]
        seen: set[int] = set()
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            stack.extend(reversed([(f"{name}.{n}" if name else n, m) for n, m in module._modules.items()
                                   if m is not None]))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of all parameters (before the next backward)."""
        for p in self.parameters():
            forget_grad(p, set_to_none)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter: how to train only chosen layers."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Move to a device (only the CPU exists: nothing moves) or cast floating parameters and buffers."""
        where, dtype, _ = to_arguments(args, kwargs)
        _device.check(where)
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype="
                            f"{dtype!r}")
        if dtype is not None:
            self._cast(dtype)
        return self

    def cpu(self) -> Module:
        return self

    def cuda(self, device: Any = None) -> Module:
        """Fails, as in a PyTorch built without CUDA."""
        raise AssertionError(_device.NO_CUDA)

    def float(self) -> Module:
        return self.to(_dtype.float32)

    def double(self) -> Module:
        return self.to(_dtype.float64)

    def _cast(self, dtype: _dtype.dtype) -> None:
        """Floating parameters keep their identity (their values are replaced), as in PyTorch; buffers are new."""
        with no_grad():
            for module in self.modules():
                for p in module._parameters.values():
                    if p is not None and p.dtype.is_floating_point:
                        p.data = p.to(dtype)
                        if p._grad is not None:
                            p._grad = p._grad.to(dtype)
                for name, b in list(module._buffers.items()):
                    if b is not None and b.dtype.is_floating_point:
                        module._buffers[name] = b.to(dtype)

    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def _state(self) -> dict[str, Tensor]:
        """Parameters and persistent buffers, module by module (each module's own first), by full name."""
        state = {}
        for prefix, module in self.named_modules():
            dot = f"{prefix}." if prefix else ""
            for name, t in [*module._parameters.items(), *module._buffers.items()]:
                if t is not None and name not in module._non_persistent_buffers_set:
                    state[dot + name] = t
        return state

    def state_dict(self) -> OrderedDict[str, Tensor]:
        """Every parameter and persistent buffer by its dotted name, detached: what ``torch.save`` stores."""
        return OrderedDict((name, t.detach()) for name, t in self._state().items())

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> _IncompatibleKeys:
        """Copy saved values into this model's parameters and buffers, matched by name (all of them if strict)."""
        own = self._state()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = [f"size mismatch for {name}: copying a param with shape {state_dict[name].shape} from checkpoint, "
                  f"the shape in current model is {t.shape}."
                  for name, t in own.items() if name in state_dict and state_dict[name].shape != t.shape]
        if strict and unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in unexpected)))
        if strict and missing:
            errors.insert(0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        with no_grad():
            for name, t in own.items():
                if name in state_dict:
                    t.copy_(state_dict[name])
        return _IncompatibleKeys(missing, unexpected)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        """``Name(settings)``, or one indented line per setting and child (nested children indent further)."""
        extra = self.extra_repr().split("\n") if self.extra_repr() else []
        children = [f"({name}): {_indent(repr(module))}" for name, module in self._modules.items()]
        if len(extra) == 1 and not children:
            return f"{type(self).__name__}({extra[0]})"
        lines = extra + children
        return type(self).__name__ + "(" + ("\n  " + "\n  ".join(lines) + "\n" if lines else "") + ")"


def _add_hook(hooks: dict, entry: Any, prepend: bool) -> RemovableHandle:
    """Register ``entry`` last (or first) in ``hooks``; the handle removes it."""
    handle = RemovableHandle(hooks)
    hooks[handle.id] = entry
    if prepend:
        for key in [key for key in hooks if key != handle.id]:
            hooks[key] = hooks.pop(key)  # (re-inserted: now after the new one)
    return handle


def _indent(text: str) -> str:
    """A child's repr inside its parent's: every line after the first moves two spaces right."""
    return text.replace("\n", "\n  ")


class IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


class _IncompatibleKeys(IncompatibleKeys):
    """What load_state_dict could not match; shown as ``<All keys matched successfully>`` when nothing."""

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


def _type_name(value: Any) -> str:
    """How PyTorch's messages name a value's type: 'torch.FloatTensor' for a tensor."""
    return f"torch.{value.dtype._scalar_name}Tensor" if isinstance(value, Tensor) else type(value).__name__


def _check_name(module: Module, name: Any, kind: str, registry: dict) -> None:
    """PyTorch's rules for a parameter's or buffer's name."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain "."')
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if hasattr(module, name) and name not in registry:
        raise KeyError(f"attribute '{name}' already exists")


def forget_grad(p: Tensor, set_to_none: bool = True) -> None:
    """One parameter's ``zero_grad`` (Module's and Optimizer's): None, or zeros that keep no graph."""
    if p.grad is None:
        return
    if set_to_none:
        p.grad = None
        return
    if p.grad.grad_fn is not None:  # a grad made with create_graph=True leaves its graph
        p.grad.detach_()
    else:
        p.grad.requires_grad_(False)
    p.grad.zero_()
