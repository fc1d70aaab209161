"""Adagrad: steps divided by the root of the sum of all squared gradients so far."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._tensor import Tensor, wrap
from ._fused import axpy_
from .optimizer import (
    Optimizer,
    check_lr,
    check_nonnegative,
    closure_loss,
    no_differentiable,
    real_view,
    scalar,
    step_counter,
    tensor_step_states,
)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (``torch.optim.Adagrad``).

    Each step :math:`t`, with :math:`g` the gradient (negated when ``maximize``, plus
    :math:`\lambda\theta`):

    .. math::
        \tilde\gamma = \frac{\gamma}{1 + (t-1)\eta}, \quad s \leftarrow s + g^2, \quad
        \theta \leftarrow \theta - \tilde\gamma \frac{g}{\sqrt{s} + \epsilon}

    Parameters
    ----------
    params : iterable of tensors or of param-group dicts.
    lr : learning rate :math:`\gamma` (default 1e-2).
    lr_decay : :math:`\eta` (default 0).
    weight_decay : L2 penalty :math:`\lambda` (default 0).
    initial_accumulator_value : the starting value of the sum :math:`s` (default 0).
    eps : :math:`\epsilon`, added to the denominator (default 1e-10).
    foreach, fused : accepted for torch compatibility.
    maximize : ascend the objective instead of descending.
    differentiable : must be False.

    Notes
    -----
    As in torch, the state (``step`` and ``sum``) of every parameter is created by the
    constructor, and parameters added later with ``add_param_group`` start their sum from
    ``defaults['initial_accumulator_value']``.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_lr(lr)
        check_nonnegative("lr_decay value", lr_decay)
        check_nonnegative("weight_decay value", weight_decay)
        check_nonnegative("initial_accumulator_value value", initial_accumulator_value)
        check_nonnegative("epsilon value", eps)
        no_differentiable("Adagrad", differentiable)
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p: Tensor) -> dict:
        s = self.state[p]
        s["step"] = step_counter()
        s["sum"] = wrap(np.full_like(p._data, self.defaults["initial_accumulator_value"]))
        return s

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._group_defaults(foreach=None, maximize=False, differentiable=False, fused=None)
        tensor_step_states(self)

    def share_memory(self) -> None:
        """torch moves the sums to shared memory for multiprocessing; NumPy arrays stay as they are."""

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a ``.grad`` once; returns the closure's loss, if any."""
        loss = closure_loss(closure)
        state = self.state
        scratch = self._scratch()
        for group in self.param_groups:
            lr = scalar(group["lr"])
            lr_decay = group["lr_decay"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            sign = -1 if group["maximize"] else 1
            for p in group["params"]:
                if p.grad is None:
                    continue
                # in place through the scratch arrays: no temporaries (see Adam.step)
                x, grad, d_sign = real_view(p._data), real_view(p.grad._data), sign
                s = state[p]
                if len(s) == 0:
                    s = self._init_state(p)
                counter = s["step"]._data
                counter += 1
                t = counter.item()
                if weight_decay != 0:  # d = sign * grad + weight_decay * x
                    d = scratch.get(x.shape, x.dtype, 1)
                    np.multiply(x, weight_decay, out=d)
                    axpy_(d, grad, sign)
                    grad, d_sign = d, 1
                clr = lr / (1 + (t - 1) * lr_decay)
                work = scratch.get(x.shape, x.dtype)
                total = real_view(s["sum"]._data)
                np.multiply(grad, grad, out=work)
                total += work
                np.sqrt(total, out=work)
                work += eps
                np.divide(grad, work, out=work)
                axpy_(x, work, -clr * d_sign)
                p._bump_version()
        return loss
