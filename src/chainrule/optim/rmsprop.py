"""RMSprop: steps divided by a running root-mean-square of the gradient."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._tensor import Tensor
from ._fused import axpy_
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
        scratch = self._scratch()
        for group in self.param_groups:
            lr = scalar(group["lr"])
            alpha = group["alpha"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            momentum = group["momentum"]
            centered = group["centered"]
            sign = -1 if group["maximize"] else 1
            for p in group["params"]:
                if p.grad is None:
                    continue
                # in place through the scratch arrays: no temporaries (see Adam.step)
                x, grad, d_sign = real_view(p._data), real_view(p.grad._data), sign
                s = state[p]
                if len(s) == 0:
                    s["step"] = step_counter()
                    s["square_avg"] = zeros_like(p)
                    if momentum > 0:
                        s["momentum_buffer"] = zeros_like(p)
                    if centered:
                        s["grad_avg"] = zeros_like(p)
                s["step"]._data += 1
                if weight_decay != 0:  # d = sign * grad + weight_decay * x
                    d = scratch.get(x.shape, x.dtype, 1)
                    np.multiply(x, weight_decay, out=d)
                    axpy_(d, grad, sign)
                    grad, d_sign = d, 1
                work = scratch.get(x.shape, x.dtype)
                v = real_view(s["square_avg"]._data)
                v *= alpha
                np.multiply(grad, grad, out=work)
                axpy_(v, work, 1 - alpha)
                if centered:  # mean.lerp_(d, 1 - alpha); avg = sqrt(v - mean^2)
                    mean = real_view(s["grad_avg"]._data)
                    mean *= alpha
                    axpy_(mean, grad, d_sign * (1 - alpha))
                    np.multiply(mean, mean, out=work)
                    np.subtract(v, work, out=work)
                    np.sqrt(work, out=work)
                else:
                    np.sqrt(v, out=work)
                work += eps
                np.divide(grad, work, out=work)
                if momentum > 0:
                    buf = real_view(s["momentum_buffer"]._data)
                    buf *= momentum
                    axpy_(buf, work, d_sign)
                    axpy_(x, buf, -lr)
                else:
                    axpy_(x, work, -lr * d_sign)
                p._bump_version()
        return loss
