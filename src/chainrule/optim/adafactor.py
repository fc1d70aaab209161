"""Adafactor: Adam-like steps from a factored (row and column) second moment, and SparseAdam."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._tensor import Tensor, wrap
from .adadelta import check_betas
from .adam import lerp_
from .optimizer import Optimizer, closure_loss, scalar, step_counter, tensor_step_states, zeros_like

__all__ = ["Adafactor", "SparseAdam"]


def _rms(a: np.ndarray) -> float:
    """Root mean square of an array, as ``a.norm(2) / sqrt(a.numel())``."""
    return float(np.sqrt(np.sum(np.square(a, dtype=np.float64)))) / (a.size**0.5)


class Adafactor(Optimizer):
    r"""Adafactor (``torch.optim.Adafactor``), in torch's variant: the relative step size
    :math:`\rho_t = \min(\gamma, 1/\sqrt t)`, scaled by the parameter's RMS; a second moment kept
    as row and column means for tensors of two or more dims (memory of one row plus one column);
    updates clipped to RMS :math:`d`; decoupled weight decay
    :math:`\theta \leftarrow \theta(1-\gamma\lambda)`.

    Parameters
    ----------
    params : iterable of tensors or of param-group dicts.
    lr : the maximum relative step size :math:`\gamma`, also the weight decay's factor (default 1e-2).
    beta2_decay : :math:`\tau` <= 0: the average's weight of the new squared gradient is
        :math:`t^\tau` (default -0.8).
    eps : :math:`(\epsilon_1, \epsilon_2)`: the floor of the variance estimate's root (None: the
        dtype's machine epsilon) and of the parameter's RMS (default (None, 1e-3)).
    d : the clipping threshold of the update's RMS, >= 1 (default 1.0).
    weight_decay : :math:`\lambda` (default 0.0).
    foreach : accepted for torch compatibility.
    maximize : ascend the objective instead of descending.

    Notes
    -----
    Per-parameter state: ``step``, and ``row_var`` and ``col_var`` (two or more dims) or
    ``variance`` (0-d and 1-d tensors).
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {
            "lr": lr,
            "beta2_decay": beta2_decay,
            "eps": eps,
            "d": d,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._group_defaults(foreach=None)
        tensor_step_states(self)

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a ``.grad`` once; returns the closure's loss, if any."""
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr = scalar(group["lr"])
            eps1, eps2 = group["eps"]
            beta2_decay, d, weight_decay = group["beta2_decay"], group["d"], group["weight_decay"]
            for p, x, grad in self._params_with_grad(group):
                if x.dtype.kind == "c":
                    raise RuntimeError("Adafactor does not support complex parameters")
                s = self.state[p]
                if len(s) == 0:
                    s["step"] = step_counter()
                    if grad.ndim > 1:
                        s["row_var"] = wrap(np.zeros(grad.shape[:-1] + (1,), dtype=grad.dtype))
                        s["col_var"] = wrap(np.zeros(grad.shape[:-2] + (1, grad.shape[-1]), dtype=grad.dtype))
                    else:
                        s["variance"] = zeros_like(p)
                if eps1 is None:  # as torch: the first parameter's dtype decides for the group
                    eps1 = float(np.finfo(x.dtype).eps)
                counter = s["step"]._data
                counter += 1
                t = counter.item()
                one_minus_beta2 = t**beta2_decay
                rho = min(lr, 1 / (t**0.5))
                alpha = max(eps2, _rms(x)) * rho
                if weight_decay != 0:
                    x *= 1 - lr * weight_decay
                if grad.ndim > 1:
                    row_var, col_var = s["row_var"]._data, s["col_var"]._data
                    lerp_(row_var, np.mean(grad * grad, axis=-1, keepdims=True), one_minus_beta2)
                    lerp_(col_var, np.mean(grad * grad, axis=-2, keepdims=True), one_minus_beta2)
                    estimate = row_var @ col_var
                    estimate /= np.maximum(np.mean(row_var, axis=-2, keepdims=True), eps1)
                else:
                    variance = s["variance"]._data
                    lerp_(variance, grad * grad, one_minus_beta2)
                    estimate = np.array(variance, copy=True)
                update = 1 / np.sqrt(np.maximum(estimate, eps1 * eps1))
                update *= grad
                denom = max(1.0, _rms(update) / d)
                x -= update * (alpha / denom)
                p._bump_version()
        return loss


class SparseAdam(Optimizer):
    """SparseAdam (``torch.optim.SparseAdam``): Adam for sparse gradients.

    chainrule has no sparse tensors, so no gradient can be given to it: ``step`` refuses dense
    gradients with torch's error, as torch does. Use :class:`~chainrule.optim.Adam`.

    Parameters
    ----------
    params : iterable of tensors or of param-group dicts.
    lr : learning rate, > 0 (default 1e-3).
    betas : (beta1, beta2), each in [0, 1) (default (0.9, 0.999)).
    eps : > 0 (default 1e-8).
    maximize : ascend the objective instead of descending.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        maximize: bool = False,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr} (it must be > 0)")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps} (it must be > 0)")
        check_betas(betas)
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize})

    def step(self, closure: Callable[[], Any] | None = None):
        """Refuse the (necessarily dense) gradients, as torch does; returns the closure's loss."""
        loss = closure_loss(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    raise RuntimeError(
                        "SparseAdam does not support dense gradients, please consider Adam instead"
                    )
        return loss
