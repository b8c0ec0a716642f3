"""A module's full backward hooks: see the gradients of its inputs and outputs, and replace them.

The module's tensor inputs and outputs pass through ``BackwardHookFunction``, an identity: the
gradients that reach its nodes are the module's grad_output (at the outputs) and grad_input (at the
inputs). That is how PyTorch does it (its ``torch.utils.hooks.BackwardHook``), so the tensors the
caller gets have ``grad_fn=<BackwardHookFunctionBackward>``, as there.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from autograd_lab import _grad_mode
from autograd_lab._tensor import Tensor
from autograd_lab._torch_warnings import user_stacklevel
from autograd_lab.autograd.function import Function


class BackwardHookFunction(Function):
    """Each tensor unchanged (a new tensor object that shares it); backward passes the gradients through."""

    @staticmethod
    def forward(ctx: Any, *tensors: Tensor) -> tuple[Tensor, ...]:
        ctx.mark_non_differentiable(*[t for t in tensors if not t.requires_grad])
        return tensors

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> tuple[Tensor, ...]:
        return grads


class BackwardHook:
    """One forward call's hooks: ``hook(module, grad_input, grad_output)`` once the inputs' gradients are known,
    ``pre_hook(module, grad_output)`` as soon as the outputs' are."""

    def __init__(self, module: Any, hooks: list[Callable], pre_hooks: list[Callable]) -> None:
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_outputs: tuple | None = None
        self.n_inputs = self.n_outputs = -1
        self.input_positions: list[int] | None = None
        self.output_positions: list[int] | None = None

    def setup_input_hook(self, args: tuple) -> tuple:
        args, self.input_positions = _through_identity(args, self._on_input_node)
        self.n_inputs = len(args)
        return args

    def setup_output_hook(self, result: Any) -> Any:
        single = not isinstance(result, tuple)
        outputs, self.output_positions = _through_identity((result,) if single else result, self._on_output_node)
        self.n_outputs = len(outputs)
        return outputs[0] if single else outputs

    def _on_input_node(self, node: Any) -> None:
        def hook(grad_inputs: tuple, _: tuple) -> tuple | None:
            if self.grad_outputs is None:  # (a gradient reached the inputs without passing the outputs)
                return None
            grads = _spread(self.input_positions, grad_inputs, self.n_inputs)
            for user_hook in self.hooks:
                replaced = user_hook(self.module, grads, self.grad_outputs)
                if replaced is None:
                    continue
                if len(replaced) != len(grads):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got {len(replaced)}, "
                                       f"but expected {len(grads)}")
                grads = replaced
            self.grad_outputs = None
            return tuple(grads[i] for i in self.input_positions)
        node.register_hook(hook)

    def _on_output_node(self, node: Any) -> None:
        def hook(_: tuple, grad_outputs: tuple) -> tuple | None:
            self.grad_outputs = _spread(self.output_positions, grad_outputs, self.n_outputs)
            for pre_hook in self.pre_hooks:
                replaced = pre_hook(self.module, self.grad_outputs)
                if replaced is None:
                    continue
                if len(replaced) != len(self.grad_outputs):
                    raise RuntimeError(f"Backward pre hook returned an invalid number of grad_output, got "
                                       f"{len(replaced)}, but expected {len(self.grad_outputs)}")
                self.grad_outputs = replaced
            grads = self.grad_outputs
            if self.input_positions is None:  # no input needs a gradient: the hooks run now, with grad_input None
                warnings.warn("Full backward hook is firing when gradients are computed with respect to module outputs "
                              "since no inputs require gradients. See https://docs.pytorch.org/docs/main/generated/"
                              "torch.nn.Module.html#torch.nn.Module.register_full_backward_hook for more details.",
                              UserWarning, stacklevel=user_stacklevel())
                for user_hook in self.hooks:
                    replaced = user_hook(self.module, (None,) * self.n_inputs, grads)
                    if replaced is not None and not (isinstance(replaced, tuple) and all(g is None for g in replaced)):
                        raise RuntimeError("Backward hook for Modules where no input requires gradient should always "
                                           "return None or None for all gradients.")
                self.grad_outputs = None
            return tuple(grads[i] for i in self.output_positions)
        node.register_hook(hook)


def _through_identity(args: tuple, on_node: Callable[[Any], None]) -> tuple[tuple, list[int] | None]:
    """``args`` with its tensors passed through BackwardHookFunction (if any needs a gradient), and where they are."""
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    if not (_grad_mode.is_grad_enabled() and any(args[i].requires_grad for i in positions)):
        return args, None
    passed = BackwardHookFunction.apply(*(args[i] for i in positions))
    passed = passed if isinstance(passed, tuple) else (passed,)
    on_node(next(t.grad_fn for t in passed if t.grad_fn is not None))
    result = list(args)
    for i, t in zip(positions, passed):
        result[i] = t
    return tuple(result), positions


def _spread(positions: list[int] | None, values: tuple, size: int) -> tuple:
    """The tensors' gradients back in their argument positions, None for the arguments that are not tensors."""
    spread: list[Any] = [None] * size
    for i, value in zip(positions or [], values):
        spread[i] = value
    return tuple(spread)
