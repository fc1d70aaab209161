"""ASGD (averaged SGD) and Rprop (resilient backpropagation: sign-based steps)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._dtype import get_default_dtype
from .._tensor import Tensor, wrap
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

__all__ = ["ASGD", "Rprop"]


class ASGD(Optimizer):
    r"""Averaged stochastic gradient descent (``torch.optim.ASGD``).

    Each step :math:`t`, with :math:`g` the gradient (negated when ``maximize``, plus
    :math:`\lambda_{wd}\theta`):

    .. math::
        \theta \leftarrow \theta (1 - \lambda\eta) - \eta g, \quad
        a \leftarrow a + \mu (\theta - a), \quad
        \eta \leftarrow \frac{\gamma}{(1 + \lambda\gamma t)^\alpha}, \quad
        \mu \leftarrow \frac{1}{\max(1, t - t_0)}

    Parameters
    ----------
    params : iterable of tensors or of param-group dicts.
    lr : learning rate :math:`\gamma` (default 1e-2).
    lambd : decay term :math:`\lambda` (default 1e-4).
    alpha : power :math:`\alpha` of the eta update (default 0.75).
    t0 : the step at which averaging starts (default 1e6).
    weight_decay : L2 penalty (default 0).
    foreach : accepted for torch compatibility.
    maximize : ascend the objective instead of descending.
    differentiable, capturable : must be False.

    Notes
    -----
    Per-parameter state: ``step``, ``eta``, ``mu`` (0-d tensors of the default dtype, rounded
    there as in torch) and ``ax``, the running average of the parameter.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        check_lr(lr)
        check_nonnegative("weight_decay value", weight_decay)
        no_capturable("ASGD", capturable)
        no_differentiable("ASGD", differentiable)
        defaults = {
            "lr": lr,
            "lambd": lambd,
            "alpha": alpha,
            "t0": t0,
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
        for s in self.state.values():
            for key in ("eta", "mu"):
                if key in s and not isinstance(s[key], Tensor):
                    s[key] = step_counter(float(s[key]))

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a ``.grad`` once; returns the closure's loss, if any."""
        loss = closure_loss(closure)
        scalar_dtype = get_default_dtype().np
        for group in self.param_groups:
            lr = scalar(group["lr"])
            lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
            weight_decay = group["weight_decay"]
            for p, x, grad in self._params_with_grad(group):
                x, grad = real_view(x), real_view(grad)
                s = self.state[p]
                if len(s) == 0:
                    s["step"] = step_counter()
                    s["eta"] = wrap(np.array(lr, dtype=scalar_dtype))
                    s["mu"] = step_counter(1.0)
                    s["ax"] = zeros_like(p)
                counter = s["step"]._data
                counter += 1
                t = counter.item()
                if weight_decay != 0:
                    grad = grad + x * weight_decay
                eta = s["eta"]._data
                eta_value = eta.item()
                x *= 1 - lambd * eta_value
                x -= grad * eta_value
                mu = s["mu"]._data
                ax = real_view(s["ax"]._data)
                if mu.item() != 1:
                    ax += (x - ax) * mu.item()
                else:
                    ax[...] = x
                # torch makes these numbers default-dtype tensors before copying them in: rounded
                # there even where a loaded state holds them in float64
                eta[...] = np.asarray(lr / ((1 + lambd * lr * t) ** alpha), dtype=scalar_dtype)
                mu[...] = np.asarray(1 / max(1, t - t0), dtype=scalar_dtype)
                p._bump_version()
        return loss


class Rprop(Optimizer):
    r"""Resilient backpropagation (``torch.optim.Rprop``): each coordinate moves by its own step
    size in the direction of minus the gradient's sign; the step size grows by ``etas[1]`` while
    the sign holds and shrinks by ``etas[0]`` when it flips (then that coordinate waits a step).

    Parameters
    ----------
    params : iterable of tensors or of param-group dicts.
    lr : the initial step size (default 1e-2).
    etas : (etaminus, etaplus), the factors, with 0 < etaminus < 1 < etaplus (default (0.5, 1.2)).
    step_sizes : (min, max) bounds of the step sizes (default (1e-6, 50)).
    capturable, differentiable : must be False.
    foreach : accepted for torch compatibility.
    maximize : ascend the objective instead of descending.

    Notes
    -----
    Per-parameter state: ``step``, ``prev`` (the last gradient used) and ``step_size``.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(
                f"Invalid eta values: {etas[0]}, {etas[1]} (they must satisfy 0 < etaminus < 1 < etaplus)"
            )
        no_capturable("Rprop", capturable)
        no_differentiable("Rprop", differentiable)
        defaults = {
            "lr": lr,
            "etas": etas,
            "step_sizes": step_sizes,
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
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for p, x, grad in self._params_with_grad(group):
                x, grad = real_view(x), real_view(grad)
                s = self.state[p]
                if len(s) == 0:
                    s["step"] = step_counter()
                    s["prev"] = zeros_like(p)
                    lr = scalar(group["lr"])
                    # a complex element is two real ones, each starting at lr
                    s["step_size"] = wrap(
                        np.full_like(p._data, complex(lr, lr) if p._data.dtype.kind == "c" else lr)
                    )
                s["step"]._data += 1
                prev, step_size = real_view(s["prev"]._data), real_view(s["step_size"]._data)
                sign = _sign(grad * prev)
                factor = np.where(sign > 0, etaplus, np.where(sign < 0, etaminus, 1.0)).astype(x.dtype)
                step_size *= factor
                np.clip(step_size, step_size_min, step_size_max, out=step_size)
                grad = np.where(sign < 0, 0, grad).astype(x.dtype)
                x -= _sign(grad) * step_size
                prev[...] = grad
                p._bump_version()
        return loss


def _sign(a: np.ndarray) -> np.ndarray:
    """torch's sign on the CPU: 0 for NaN (NumPy's is NaN), so a NaN gradient leaves its
    coordinate and step size where they are."""
    sign = np.sign(a)
    return np.where(np.isnan(sign), 0, sign).astype(sign.dtype, copy=False)
