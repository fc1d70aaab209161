"""Custom differentiable functions: subclass ``Function`` with ``forward`` and ``backward``.

    class Exp(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad_output):
            y, = ctx.saved_tensors
            return grad_output * y
"""

from __future__ import annotations

from typing import Any

from .graph import Node, Op
from .grad_mode import GRAD

__all__ = ["Function", "FunctionCtx"]


class FunctionCtx:
    """The ``ctx`` passed to a custom Function's forward and backward."""

    def __init__(self) -> None:
        self._saved: tuple = ()
        self._versions: tuple = ()
        self.needs_input_grad: tuple = ()
        self.materialize_grads = True
        self._non_differentiable: set = set()

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors for backward; changing them in place afterwards makes backward raise."""
        self._saved = tensors
        self._versions = tuple(t._version if t is not None else 0 for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        for t, v in zip(self._saved, self._versions):
            if t is not None and t._version != v:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: a tensor of shape {list(t.shape)} saved by "
                    f"save_for_backward is at version {t._version}; expected version {v} instead."
                )
        return self._saved

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors) -> None:
        """Accepted for compatibility; in-place changes are tracked by version counters."""

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value


class Function:
    """Base class of user-defined ops; call them with ``MyFunction.apply(*args)``."""

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("Function subclasses must implement forward(ctx, *args)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError("Function subclasses must implement backward(ctx, *grads)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        from .._tensor import Tensor

        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
        previous = GRAD.enabled
        GRAD.enabled = False
        try:
            outputs = cls.forward(ctx, *args, **kwargs)
        finally:
            GRAD.enabled = previous
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
        inputs = tuple(args[i] for i in positions)
        if not (previous and any(ctx.needs_input_grad)):
            return outputs
        op = _op_for(cls)
        results = []
        for k, out in enumerate(outs):
            if not isinstance(out, Tensor) or id(out) in ctx._non_differentiable:
                results.append(out)
                continue
            if any(out is a for a in args) or out.grad_fn is not None:
                out = out.detach()  # a returned input is a new output node, as in torch
            out = _fresh(out)
            out._rg = True
            out.grad_fn = Node(op, inputs, None, (ctx, positions, k, outs), None, None)
            results.append(out)
        return results[0] if single else tuple(results)


def _fresh(t):
    from .._tensor import wrap

    return wrap(t._data)


_OPS: dict = {}


def _op_for(cls) -> Op:
    op = _OPS.get(cls)
    if op is None:
        op = Op(cls.__name__, _custom_backward(cls), saves_inputs=False)
        op.node_name = cls.__name__ + "Backward"
        _OPS[cls] = op
    return op


def _custom_backward(cls):
    def backward(F, g, xs, out, params, needs):
        from .._tensor import Tensor, wrap

        ctx, positions, k, outs = params
        g_t = g if F.is_tensor else wrap(g)
        grads_out = []
        for i, o in enumerate(outs):
            if i == k:
                grads_out.append(g_t)
            elif isinstance(o, Tensor) and ctx.materialize_grads:
                from ..ops.creation import zeros_like

                grads_out.append(zeros_like(o))
            else:
                grads_out.append(None)
        result = cls.backward(ctx, *grads_out)
        if not isinstance(result, tuple):
            result = (result,)
        n_args = len(ctx.needs_input_grad)
        if len(result) < n_args:
            raise RuntimeError(
                f"function {cls.__name__}Backward returned an incorrect number of gradients "
                f"(expected {n_args}, got {len(result)})"
            )
        grads = []
        for pos in positions:
            r = result[pos]
            if r is None:
                grads.append(None)
            elif F.is_tensor:
                grads.append(r if isinstance(r, Tensor) else wrap(r))
            else:
                grads.append(r._data if isinstance(r, Tensor) else r)
        return tuple(grads)

    return backward
