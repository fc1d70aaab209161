"""Adadelta and Adamax: per-coordinate step sizes without a global second-moment bias correction."""

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

__all__ = ["Adadelta", "Adamax"]


def check_betas(betas) -> None:
    """torch's range checks of ``betas``: each in [0, 1)."""
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta} (it must be in [0, 1))")


class Adadelta(Optimizer):
    r"""Adadelta (``torch.optim.Adadelta``): steps scaled by the ratio of running RMS of past
    updates to running RMS of gradients.

    Each step, with :math:`g` the gradient (negated when ``maximize``, plus :math:`\lambda\theta`):

    .. math::
        v \leftarrow \rho v + (1-\rho) g^2, \quad
        \Delta = \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}} g, \quad
        u \leftarrow \rho u + (1-\rho) \Delta^2, \quad \theta \leftarrow \theta - \gamma\Delta

    Parameters
    ----------
    params : iterable of tensors or of param-group dicts.
    lr : the factor :math:`\gamma` of the update (default 1.0).
    rho : the averages' coefficient :math:`\rho`, in [0, 1] (default 0.9).
    eps : :math:`\epsilon` (default 1e-6).
    weight_decay : L2 penalty :math:`\lambda` (default 0).
    foreach : accepted for torch compatibility.
    capturable, differentiable : must be False.
    maximize : ascend the objective instead of descending.

    Notes
    -----
    Per-parameter state: ``step``, ``square_avg`` (:math:`v`) and ``acc_delta`` (:math:`u`).
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho} (it must be in [0, 1])")
        check_nonnegative("epsilon value", eps)
        check_nonnegative("weight_decay value", weight_decay)
        no_capturable("Adadelta", capturable)
        no_differentiable("Adadelta", differentiable)
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "capturable": capturable,
            "foreach": foreach,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._group_defaults(foreach=None, maximize=False, differentiable=False, capturable=False)
        tensor_step_states(self)

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a ``.grad`` once; returns the closure's loss, if any."""
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr = scalar(group["lr"])
            rho, eps, weight_decay = group["rho"], group["eps"], group["weight_decay"]
            for p, x, grad in self._params_with_grad(group):
                x, grad = real_view(x), real_view(grad)
                s = self.state[p]
                if len(s) == 0:
                    s["step"] = step_counter()
                    s["square_avg"] = zeros_like(p)
                    s["acc_delta"] = zeros_like(p)
                s["step"]._data += 1
                if weight_decay != 0:
                    grad = grad + x * weight_decay
                v, u = real_view(s["square_avg"]._data), real_view(s["acc_delta"]._data)
                v *= rho
                v += grad * grad * (1 - rho)
                delta = np.sqrt(u + eps)
                delta /= np.sqrt(v + eps)
                delta *= grad
                u *= rho
                u += delta * delta * (1 - rho)
                x -= delta * lr
                p._bump_version()
        return loss


class Adamax(Optimizer):
    r"""Adamax (``torch.optim.Adamax``): Adam with the infinity norm in place of the second moment.

    Each step :math:`t`, with :math:`g` the gradient (negated when ``maximize``, plus
    :math:`\lambda\theta`):

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g, \quad u \leftarrow \max(\beta_2 u, |g| + \epsilon),
        \quad \theta \leftarrow \theta - \frac{\gamma}{1 - \beta_1^t} \frac{m}{u}

    Parameters
    ----------
    params : iterable of tensors or of param-group dicts.
    lr : learning rate :math:`\gamma` (default 2e-3).
    betas : :math:`(\beta_1, \beta_2)` (default (0.9, 0.999)).
    eps : :math:`\epsilon` (default 1e-8).
    weight_decay : L2 penalty :math:`\lambda` (default 0).
    foreach : accepted for torch compatibility.
    maximize : ascend the objective instead of descending.
    capturable, differentiable : must be False.

    Notes
    -----
    Per-parameter state: ``step``, ``exp_avg`` (:math:`m`) and ``exp_inf`` (:math:`u`).
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        check_lr(lr)
        check_nonnegative("epsilon value", eps)
        check_betas(betas)
        check_nonnegative("weight_decay value", weight_decay)
        no_capturable("Adamax", capturable)
        no_differentiable("Adamax", differentiable)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._group_defaults(foreach=None, maximize=False, differentiable=False, capturable=False)
        tensor_step_states(self)

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a ``.grad`` once; returns the closure's loss, if any."""
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr = scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps, weight_decay = group["eps"], group["weight_decay"]
            for p, x, grad in self._params_with_grad(group):
                x, grad = real_view(x), real_view(grad)
                s = self.state[p]
                if len(s) == 0:
                    s["step"] = step_counter()
                    s["exp_avg"] = zeros_like(p)
                    s["exp_inf"] = zeros_like(p)
                counter = s["step"]._data
                counter += 1
                t = counter.item()
                if weight_decay != 0:
                    grad = grad + x * weight_decay
                m, u = real_view(s["exp_avg"]._data), real_view(s["exp_inf"]._data)
                lerp_(m, grad, 1 - beta1)
                u *= beta2
                np.maximum(u, np.abs(grad) + eps, out=u)
                clr = lr / (1 - beta1**t)
                x -= m / u * clr
                p._bump_version()
        return loss
