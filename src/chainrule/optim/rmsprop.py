"""RMSprop: steps divided by a running root-mean-square of the gradient."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._tensor import Tensor
from .adam import lerp_
from .optimizer import (
    Optimizer,
    check_lr,
    check_nonnegative,
    closure_loss,
    no_capturable,
    no_differentiable,
    real_view,
    scalar,
    step_counter,
    tensor_step_states,
    zeros_like,
)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (``torch.optim.RMSprop``).

    Each step, with :math:`g` the gradient (negated when ``maximize``, plus :math:`\lambda\theta`):

    .. math::
        v \leftarrow \alpha v + (1-\alpha) g^2, \quad
        d = \sqrt{v - \bar g^2} + \epsilon \ \text{(centered, } \bar g \leftarrow \alpha\bar g
            + (1-\alpha) g \text{)} \text{ or } \sqrt{v} + \epsilon, \quad
        \theta \leftarrow \theta - \gamma\, g / d

    or, with momentum, :math:`b \leftarrow \mu b + g/d`, :math:`\theta \leftarrow \theta - \gamma b`.

    Parameters
    ----------
    params : iterable of tensors or of param-group dicts.
    lr : learning rate :math:`\gamma` (default 1e-2).
    alpha : smoothing constant :math:`\alpha` (default 0.99).
    eps : :math:`\epsilon`, added to the denominator (default 1e-8).
    weight_decay : L2 penalty :math:`\lambda` (default 0).
    momentum : momentum factor :math:`\mu` (default 0).
    centered : normalize by an estimate of the gradient's variance instead of its second moment.
    capturable, differentiable : must be False.
    foreach : accepted for torch compatibility.
    maximize : ascend the objective instead of descending.

    Notes
    -----
    Per-parameter state: ``step``, ``square_avg``, and ``momentum_buffer`` (momentum > 0) and
    ``grad_avg`` (centered), as in torch.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_lr(lr)
        check_nonnegative("epsilon value", eps)
        check_nonnegative("momentum value", momentum)
        check_nonnegative("weight_decay value", weight_decay)
        check_nonnegative("alpha value", alpha)
        no_capturable("RMSprop", capturable)
        no_differentiable("RMSprop", differentiable)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._group_defaults(
            momentum=0, centered=False, foreach=None, maximize=False, differentiable=False, capturable=False
        )
        tensor_step_states(self)

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a ``.grad`` once; returns the closure's loss, if any."""
        loss = closure_loss(closure)
        state = self.state
        for group in self.param_groups:
            lr = scalar(group["lr"])
            alpha = group["alpha"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            momentum = group["momentum"]
            centered = group["centered"]
            for p, x, grad in self._params_with_grad(group):
                x, grad = real_view(x), real_view(grad)
                s = state[p]
                if len(s) == 0:
                    s["step"] = step_counter()
                    s["square_avg"] = zeros_like(p)
                    if momentum > 0:
                        s["momentum_buffer"] = zeros_like(p)
                    if centered:
                        s["grad_avg"] = zeros_like(p)
                s["step"]._data += 1
                if weight_decay != 0:
                    grad = grad + x * weight_decay
                v = real_view(s["square_avg"]._data)
                v *= alpha
                sq = grad * (1 - alpha)
                sq *= grad
                v += sq
                if centered:
                    mean = real_view(s["grad_avg"]._data)
                    lerp_(mean, grad, 1 - alpha)
                    avg = np.sqrt(v - mean * mean)
                else:
                    avg = np.sqrt(v)
                avg += eps
                if momentum > 0:
                    buf = real_view(s["momentum_buffer"]._data)
                    buf *= momentum
                    buf += grad / avg
                    x += buf * -lr
                else:
                    update = grad * -lr
                    update /= avg
                    x += update
                p._bump_version()
        return loss
