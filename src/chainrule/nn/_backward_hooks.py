"""Module backward hooks (``register_full_backward_hook`` / ``register_full_backward_pre_hook``).

As torch does, a module call with backward hooks passes its tensor inputs, and then its tensor
outputs, through an identity ``BackwardHookFunction``. In the backward pass the outputs' node sees
the gradients with respect to the module's outputs first: the pre-hooks run there (and may replace
them). The inputs' node sees the gradients with respect to the module's inputs, summed over every
use inside the module: the full hooks run there, with the stored output gradients, and may replace
the input gradients. When no input requires grad, the full hooks run at the outputs' node instead,
with ``None`` for every input gradient.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled

__all__ = ["BackwardHook", "BackwardHookFunction"]


def _pack_with_none(indices, values, size: int) -> tuple:
    """A ``size``-tuple with ``values`` at ``indices`` and None elsewhere (non-tensor positions)."""
    packed = [None] * size
    for i, v in zip(indices, values):
        packed[i] = v
    return tuple(packed)


class BackwardHookFunction(Function):
    """Identity on tensors; its backward is where the module's backward hooks run."""

    @staticmethod
    def forward(ctx, hook: BackwardHook, at_output: bool, *tensors):
        ctx.hook, ctx.at_output = hook, at_output
        ctx.mark_non_differentiable(*[t for t in tensors if not t.requires_grad])
        if at_output:
            ctx.set_materialize_grads(False)  # torch's hooks see None for an unused output
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        hook = ctx.hook
        grads = hook.on_outputs(grads) if ctx.at_output else hook.on_inputs(grads)
        return (None, None, *grads)


class BackwardHook:
    """The state of one module call with backward hooks: which positions held tensors, and the
    output gradients between the two nodes of the backward pass."""

    def __init__(self, module, user_hooks: list[Callable], user_pre_hooks: list[Callable]) -> None:
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs: tuple | None = None
        self.n_inputs = self.n_outputs = 0
        self.input_tensors_index: list | None = None
        self.output_tensors_index: list | None = None

    def _apply(self, args: tuple, at_output: bool) -> tuple[tuple, list | None]:
        index = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        tensors = [args[i] for i in index]
        if not (is_grad_enabled() and any(t.requires_grad for t in tensors)):
            return args, None
        new = BackwardHookFunction.apply(self, at_output, *tensors)
        new = new if isinstance(new, tuple) else (new,)
        out = list(args)
        for i, t in zip(index, new):
            out[i] = t
        return tuple(out), index

    def setup_input_hook(self, args: tuple) -> tuple:
        """The module's positional args, their tensors passed through the inputs' node."""
        result, self.input_tensors_index = self._apply(args, False)
        self.n_inputs = len(args)
        return result

    def setup_output_hook(self, result):
        """The module's output (a tensor or a tuple), its tensors passed through the outputs' node."""
        is_tuple = isinstance(result, tuple)
        args = result if is_tuple else (result,)
        new, self.output_tensors_index = self._apply(args, True)
        self.n_outputs = len(args)
        return new if is_tuple else new[0]

    def on_outputs(self, grads: tuple) -> tuple:
        self.grad_outputs = _pack_with_none(self.output_tensors_index, grads, self.n_outputs)
        for user_pre_hook in self.user_pre_hooks:
            replaced = user_pre_hook(self.module, self.grad_outputs)
            if replaced is None:
                continue
            if len(replaced) != len(self.grad_outputs):
                raise RuntimeError(
                    "Backward pre hook returned an invalid number of grad_output, "
                    f"got {len(replaced)}, but expected {len(self.grad_outputs)}"
                )
            self.grad_outputs = tuple(replaced)
        grad_outputs = self.grad_outputs
        if self.input_tensors_index is None:  # no input requires grad: the full hooks run now
            if self.user_hooks:
                warnings.warn(
                    "Full backward hook is firing when gradients are computed with respect to module "
                    "outputs since no inputs require gradients. See "
                    "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                    "#torch.nn.Module.register_full_backward_hook for more details.",
                    stacklevel=2,
                )
            grad_inputs = (None,) * self.n_inputs
            for user_hook in self.user_hooks:
                res = user_hook(self.module, grad_inputs, self.grad_outputs)
                if res is not None and not (isinstance(res, tuple) and all(r is None for r in res)):
                    raise RuntimeError(
                        "Backward hook for Modules where no input requires gradient should always return "
                        "None or None for all gradients."
                    )
            self.grad_outputs = None
        return tuple(grad_outputs[i] for i in self.output_tensors_index)

    def on_inputs(self, grads: tuple) -> tuple:
        if self.grad_outputs is None:  # the gradient reached the inputs without passing the outputs
            return grads
        grad_inputs = _pack_with_none(self.input_tensors_index, grads, self.n_inputs)
        for user_hook in self.user_hooks:
            out = user_hook(self.module, grad_inputs, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(grad_inputs):
                raise RuntimeError(
                    "Backward hook returned an invalid number of grad_input, "
                    f"got {len(out)}, but expected {len(grad_inputs)}"
                )
            grad_inputs = tuple(out)
        self.grad_outputs = None
        return tuple(grad_inputs[i] for i in self.input_tensors_index)
