"""NAdam and RAdam: Adam with Nesterov momentum, and Adam with a rectified warm-up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._dtype import get_default_dtype
from .._tensor import Tensor, wrap
from .adadelta import check_betas
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

__all__ = ["NAdam", "RAdam"]


def _adam_defaults(name, lr, betas, eps, weight_decay, capturable, differentiable) -> None:
    check_lr(lr)
    check_nonnegative("epsilon value", eps)
    check_betas(betas)
    check_nonnegative("weight_decay value", weight_decay)
    no_capturable(name, capturable)
    no_differentiable(name, differentiable)


class NAdam(Optimizer):
    r"""NAdam (``torch.optim.NAdam``): Adam with Nesterov momentum and a momentum schedule.

    Each step :math:`t`, with :math:`\mu_t = \beta_1 (1 - 0.96^{t\psi} / 2)` (:math:`\psi` the
    ``momentum_decay``) and :math:`\Pi_t = \prod_{i \le t} \mu_i`:

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g, \quad v \leftarrow \beta_2 v + (1-\beta_2) g^2, \quad
        \theta \leftarrow \theta - \gamma \Big(\frac{1-\mu_t}{1-\Pi_t} g
            + \frac{\mu_{t+1}}{1-\Pi_{t+1}} m\Big) / \Big(\sqrt{v / (1-\beta_2^t)} + \epsilon\Big)

    Parameters
    ----------
    params : iterable of tensors or of param-group dicts.
    lr : learning rate :math:`\gamma` (default 2e-3).
    betas : :math:`(\beta_1, \beta_2)` (default (0.9, 0.999)).
    eps : :math:`\epsilon` (default 1e-8).
    weight_decay : :math:`\lambda` (default 0): L2, or decoupled (as AdamW) with
        ``decoupled_weight_decay``.
    momentum_decay : :math:`\psi` (default 4e-3).
    decoupled_weight_decay : shrink the parameters by :math:`1-\gamma\lambda` instead (NAdamW).
    foreach : accepted for torch compatibility.
    maximize : ascend the objective instead of descending.
    capturable, differentiable : must be False.

    Notes
    -----
    Per-parameter state: ``step``, ``mu_product`` (:math:`\Pi_t`, a 0-d tensor of the default
    dtype, as torch keeps it), ``exp_avg`` and ``exp_avg_sq``.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _adam_defaults("NAdam", lr, betas, eps, weight_decay, capturable, differentiable)
        check_nonnegative("momentum_decay value", momentum_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._group_defaults(
            maximize=False, foreach=None, capturable=False, differentiable=False, decoupled_weight_decay=False
        )
        tensor_step_states(self)
        for s in self.state.values():
            if "mu_product" in s and not isinstance(s["mu_product"], Tensor):
                s["mu_product"] = wrap(np.array(s["mu_product"], dtype=get_default_dtype().np))

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a ``.grad`` once; returns the closure's loss, if any."""
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr = scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps, weight_decay = group["eps"], group["weight_decay"]
            momentum_decay = group["momentum_decay"]
            decoupled = group["decoupled_weight_decay"]
            for p, x, grad in self._params_with_grad(group):
                x, grad = real_view(x), real_view(grad)
                s = self.state[p]
                if len(s) == 0:
                    s["step"] = step_counter()
                    s["mu_product"] = step_counter(1.0)
                    s["exp_avg"] = zeros_like(p)
                    s["exp_avg_sq"] = zeros_like(p)
                counter = s["step"]._data
                counter += 1
                t = counter.item()
                bias_correction2 = 1 - beta2**t
                if weight_decay != 0:
                    if decoupled:
                        x *= 1 - lr * weight_decay
                    else:
                        grad = grad + x * weight_decay
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * momentum_decay)))
                # the product lives in the default dtype (float32 usually), rounded there as in torch
                mu_product = s["mu_product"]._data
                mu_product *= mu
                mu_product_value = mu_product.item()
                m, v = real_view(s["exp_avg"]._data), real_view(s["exp_avg_sq"]._data)
                lerp_(m, grad, 1 - beta1)
                v *= beta2
                v += grad * grad * (1 - beta2)
                denom = np.sqrt(v / bias_correction2)
                denom += eps
                x += grad / denom * (-lr * (1.0 - mu) / (1.0 - mu_product_value))
                x += m / denom * ((-lr * mu_next) / (1.0 - mu_product_value * mu_next))
                p._bump_version()
        return loss


class RAdam(Optimizer):
    r"""RAdam (``torch.optim.RAdam``): Adam whose adaptive step is switched on, and scaled by a
    rectification term, only once the variance estimate is tractable (:math:`\rho_t > 5`).

    Parameters
    ----------
    params : iterable of tensors or of param-group dicts.
    lr : learning rate (default 1e-3).
    betas : :math:`(\beta_1, \beta_2)` (default (0.9, 0.999)).
    eps : added to the denominator (default 1e-8).
    weight_decay : L2 penalty, or decoupled (as AdamW) with ``decoupled_weight_decay`` (default 0).
    decoupled_weight_decay : shrink the parameters by :math:`1-\gamma\lambda` instead.
    foreach : accepted for torch compatibility.
    maximize : ascend the objective instead of descending.
    capturable, differentiable : must be False.

    Notes
    -----
    Per-parameter state: ``step``, ``exp_avg`` and ``exp_avg_sq``.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _adam_defaults("RAdam", lr, betas, eps, weight_decay, capturable, differentiable)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "decoupled_weight_decay": decoupled_weight_decay,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._group_defaults(
            foreach=None, maximize=False, differentiable=False, capturable=False, decoupled_weight_decay=False
        )
        tensor_step_states(self)

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a ``.grad`` once; returns the closure's loss, if any."""
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr = scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps, weight_decay = group["eps"], group["weight_decay"]
            decoupled = group["decoupled_weight_decay"]
            for p, x, grad in self._params_with_grad(group):
                x, grad = real_view(x), real_view(grad)
                s = self.state[p]
                if len(s) == 0:
                    s["step"] = step_counter()
                    s["exp_avg"] = zeros_like(p)
                    s["exp_avg_sq"] = zeros_like(p)
                counter = s["step"]._data
                counter += 1
                t = counter.item()
                if weight_decay != 0:
                    if decoupled:
                        x *= 1 - lr * weight_decay
                    else:
                        grad = grad + x * weight_decay
                m, v = real_view(s["exp_avg"]._data), real_view(s["exp_avg_sq"]._data)
                lerp_(m, grad, 1 - beta1)
                v *= beta2
                v += grad * grad * (1 - beta2)
                bias_correction1 = 1 - beta1**t
                bias_correction2 = 1 - beta2**t
                corrected = m / bias_correction1
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * t * (beta2**t) / bias_correction2
                if rho_t > 5.0:
                    rect = (
                        (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
                    ) ** 0.5
                    adaptive = (bias_correction2**0.5) / (np.sqrt(v) + eps)
                    x -= corrected * lr * adaptive * rect
                else:
                    x -= corrected * lr
                p._bump_version()
        return loss
