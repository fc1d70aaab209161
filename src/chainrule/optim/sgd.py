"""SGD: stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._tensor import Tensor, wrap
from .optimizer import (
    Optimizer,
    add_scaled_,
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
        """Update every parameter that has a ``.grad`` once; returns the closure's loss, if any."""
        loss = closure_loss(closure)
        state = self.state
        for group in self.param_groups:
            lr = scalar(group["lr"])
            weight_decay = scalar(group["weight_decay"])
            momentum = group["momentum"]
            dampening = group["dampening"]
            nesterov = group["nesterov"]
            for p, x, grad in self._params_with_grad(group):
                if weight_decay != 0:
                    grad = grad + x * weight_decay
                if momentum != 0:
                    s = state[p]
                    buf = s.get("momentum_buffer")
                    if buf is None:
                        s["momentum_buffer"] = buf = wrap(np.array(grad, copy=True))
                    else:
                        b = buf._data
                        b *= momentum
                        if dampening != 0:
                            b += grad * (1 - dampening)
                        else:
                            b += grad
                    grad = grad + buf._data * momentum if nesterov else buf._data
                add_scaled_(x, grad, -lr)
                p._bump_version()
        return loss
