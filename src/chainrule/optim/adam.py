"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay and AMSGrad."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._tensor import Tensor
from ._fused import adam_job, axpy_, run_adam_jobs
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

__all__ = ["Adam", "AdamW"]


def lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """``start.lerp_(end, weight)`` with torch's two formulas (exact at weight 0 and at 1).

    Temporaries are updated with augmented assignments, which work in place on arrays and rebind
    the NumPy scalars that ufuncs return for 0-d parameters (so no ``out=`` into a temporary).
    """
    if abs(weight) < 0.5:
        diff = end - start
        diff *= weight
        start += diff
    else:
        diff = end - start
        diff *= 1 - weight
        np.subtract(end, diff, out=start)


class Adam(Optimizer):
    r"""Adam (``torch.optim.Adam``): steps scaled by running averages of the gradient and its square.

    Each step :math:`t`, with :math:`g` the gradient (negated when ``maximize``):

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g, \quad v \leftarrow \beta_2 v + (1-\beta_2) g^2, \quad
        \theta \leftarrow \theta - \frac{\gamma}{1-\beta_1^t}
            \frac{m}{\sqrt{v} / \sqrt{1-\beta_2^t} + \epsilon}

    with :math:`v` replaced by its running maximum under ``amsgrad``.

    Parameters
    ----------
    params : iterable of tensors or of param-group dicts.
    lr : learning rate :math:`\gamma` (default 1e-3).
    betas : :math:`(\beta_1, \beta_2)`, the averages' coefficients (default (0.9, 0.999)).
    eps : :math:`\epsilon`, added to the denominator (default 1e-8).
    weight_decay : :math:`\lambda`: added to the gradient as :math:`\lambda\theta` (L2), or, with
        ``decoupled_weight_decay`` (AdamW), applied as :math:`\theta \leftarrow \theta(1-\gamma\lambda)`.
    amsgrad : use the running maximum of :math:`v` (AMSGrad).
    maximize : ascend the objective instead of descending.
    foreach, fused : accepted for torch compatibility; chainrule has one NumPy implementation.
    capturable, differentiable : must be False.
    decoupled_weight_decay : True makes this AdamW.

    Notes
    -----
    Per-parameter state: ``step`` (a 0-d tensor), ``exp_avg``, ``exp_avg_sq`` and, with amsgrad,
    ``max_exp_avg_sq``, as in torch.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        name = type(self).__name__
        check_lr(lr)
        check_nonnegative("epsilon value", eps)
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]} (it must be in [0, 1))")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]} (it must be in [0, 1))")
        check_nonnegative("weight_decay value", weight_decay)
        if not (
            (isinstance(betas[0], float) and isinstance(betas[1], float))
            or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))
        ):
            raise ValueError(
                f"betas must be either both floats or both Tensors, got {betas!r}; write e.g. "
                "(0.9, 0.999), with floats"
            )
        betas = tuple(b.reshape(()) if isinstance(b, Tensor) else b for b in betas)
        no_capturable(name, capturable)
        no_differentiable(name, differentiable)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._group_defaults(
            amsgrad=False,
            maximize=False,
            foreach=None,
            capturable=False,
            differentiable=False,
            decoupled_weight_decay=False,
            fused=None,
        )
        tensor_step_states(self)

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a ``.grad`` once; returns the closure's loss, if any.

        In place. Where numba is installed, one compiled pass per parameter, the elements of all
        of them split over two threads (``_fused.run_adam_jobs``); otherwise with the optimizer's
        scratch array for the squared gradient and then the denominator: no temporaries, nine
        passes (torch's single-tensor Adam, which chainrule follows step by step for its rounding,
        makes three temporaries of the parameter's size).
        """
        loss = closure_loss(closure)
        state = self.state
        scratch = self._scratch()
        jobs, compiled = [], []  # the compiled updates, run together at the end
        for group in self.param_groups:
            lr = scalar(group["lr"])
            beta1, beta2 = (scalar(b) for b in group["betas"])
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            amsgrad = group["amsgrad"]
            decoupled = group["decoupled_weight_decay"]
            sign = -1 if group["maximize"] else 1
            for p in group["params"]:
                if p.grad is None:
                    continue
                x, grad = real_view(p._data), real_view(p.grad._data)
                s = state[p]
                if len(s) == 0:
                    s["step"] = step_counter()
                    s["exp_avg"] = zeros_like(p)
                    s["exp_avg_sq"] = zeros_like(p)
                    if amsgrad:
                        s["max_exp_avg_sq"] = zeros_like(p)
                counter = s["step"]._data
                counter += 1
                t = counter.item()
                vmax = real_view(s["max_exp_avg_sq"]._data) if amsgrad else None
                m, v = real_view(s["exp_avg"]._data), real_view(s["exp_avg_sq"]._data)
                job = adam_job(x, grad, m, v, vmax, sign, lr, weight_decay, beta1, beta2, eps, t, decoupled)
                if job is not None:
                    jobs.append(job)
                    compiled.append(p)
                    continue
                work = scratch.get(x.shape, x.dtype)
                d_sign = sign  # the direction is d_sign * grad
                if weight_decay != 0:
                    if decoupled:
                        x *= 1 - lr * weight_decay
                    else:  # grad + weight_decay * x, into the scratch array
                        np.multiply(x, weight_decay, out=work)
                        axpy_(work, grad, sign)
                        grad, d_sign = work, 1
                # m.lerp_(d, 1 - beta1) as m * beta1 + (1 - beta1) * d: two passes, no temporary
                m *= beta1
                axpy_(m, grad, d_sign * (1 - beta1))
                v *= beta2
                np.multiply(grad, grad, out=work)  # (the sign squares away; work may be grad)
                axpy_(v, work, 1 - beta2)
                bias_correction2_sqrt = (1 - beta2**t) ** 0.5
                step_size = lr / (1 - beta1**t)
                if amsgrad:
                    np.maximum(vmax, v, out=vmax)
                    v = vmax
                np.sqrt(v, out=work)
                work /= bias_correction2_sqrt
                work += eps
                np.divide(m, work, out=work)
                axpy_(x, work, -step_size)
                p._bump_version()
        run_adam_jobs(jobs)
        for p in compiled:
            p._bump_version()
        return loss


class AdamW(Adam):
    r"""AdamW (``torch.optim.AdamW``): Adam with decoupled weight decay.

    The decay shrinks the parameters directly, :math:`\theta \leftarrow \theta(1 - \gamma\lambda)`,
    instead of entering the gradient's averages. Same parameters as :class:`Adam`, but
    ``weight_decay`` defaults to 1e-2.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
