"""SGD: stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

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
    scalar,
)

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum (``torch.optim.SGD``).

    Each step, with :math:`g` the gradient (negated when ``maximize``):

    .. math::
        g \leftarrow g + \lambda\theta, \quad
        b \leftarrow \mu b + (1 - \tau) g \ (b = g \text{ at the first step}), \quad
        g \leftarrow g + \mu b \text{ (nesterov) or } b, \quad
        \theta \leftarrow \theta - \gamma g

    Parameters
    ----------
    params : iterable of tensors or of param-group dicts.
    lr : learning rate :math:`\gamma` (default 1e-3).
    momentum : momentum factor :math:`\mu` (default 0: plain SGD, no buffer).
    dampening : dampening :math:`\tau` of the momentum (default 0).
    weight_decay : L2 penalty :math:`\lambda` (default 0).
    nesterov : use Nesterov momentum (needs momentum > 0 and dampening 0).
    maximize : ascend the objective instead of descending.
    foreach, fused : accepted for torch compatibility; chainrule has one NumPy implementation.
    differentiable : must be False (no autograd through the step).

    Examples
    --------
    >>> opt = chainrule.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_lr(lr)
        check_nonnegative("momentum value", momentum)
        check_nonnegative("weight_decay value", weight_decay)
        no_differentiable("SGD", differentiable)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum and zero dampening "
                f"(got momentum={momentum}, dampening={dampening})"
            )
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._group_defaults(nesterov=False, maximize=False, foreach=None, differentiable=False, fused=False)

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a ``.grad`` once; returns the closure's loss, if any.

        The gradient is never copied: its sign (``maximize``) folds into the coefficients, and
        weight decay's ``g + wd * x`` goes into the optimizer's scratch array. Without weight decay
        plain SGD is one axpy pass, momentum three (scale the buffer, add the gradient, update).
        """
        loss = closure_loss(closure)
        state = self.state
        scratch = self._scratch()
        for group in self.param_groups:
            lr = scalar(group["lr"])
            weight_decay = scalar(group["weight_decay"])
            momentum = group["momentum"]
            dampening = group["dampening"]
            nesterov = group["nesterov"]
            sign = -1 if group["maximize"] else 1
            for p in group["params"]:
                if p.grad is None:
                    continue
                x, grad, d_sign = p._data, p.grad._data, sign  # the direction is d_sign * grad
                if weight_decay != 0:
                    d = scratch.get(x.shape, np.result_type(x, grad))
                    np.multiply(x, weight_decay, out=d)
                    axpy_(d, grad, sign)
                    grad, d_sign = d, 1
                if momentum != 0:
                    s = state[p]
                    buf = s.get("momentum_buffer")
                    if buf is None:
                        b = np.multiply(grad, d_sign) if d_sign != 1 else np.array(grad, copy=True)
                        s["momentum_buffer"] = buf = wrap(b)
                    else:
                        b = buf._data
                        b *= momentum
                        axpy_(b, grad, d_sign * (1 - dampening) if dampening != 0 else d_sign)
                    if nesterov:  # x -= lr * (d + momentum * b), as two passes over x
                        axpy_(x, grad, -lr * d_sign)
                        axpy_(x, b, -lr * momentum)
                    else:
                        axpy_(x, b, -lr)
                else:
                    axpy_(x, grad, -lr * d_sign)
                p._bump_version()
        return loss
