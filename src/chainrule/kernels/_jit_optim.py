"""Optimizer updates in one pass, compiled (imported through ``kernels.jit.load``).

Adam's step is eleven memory-bound passes in NumPy (decay, two for each average, the square, the
square root, the bias correction, eps, the quotient, the update); here each element of the
parameter, its gradient and the two averages is read once and written once, in torch's order of
operations (``optim/adam.py`` says which). Arrays are flat, C-contiguous, of one dtype; the
hyperparameters come as scalars of that dtype (a Python float would make the loop float64).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, cache=True, error_model="numpy")
def adam(
    x,
    g,
    m,
    v,
    vmax,
    sign,
    decay,
    weight_decay,
    beta1,
    w1,
    beta2,
    w2,
    bc2_sqrt,
    eps,
    step_size,
    decoupled,
    amsgrad,
):
    """One Adam/AdamW step in place on ``x``, ``m``, ``v`` (and ``vmax`` with ``amsgrad``).

    ``decoupled``: ``x *= decay`` first (AdamW, ``decay = 1 - lr wd``); else the direction is
    ``sign g + weight_decay x`` (L2). ``m`` moves toward the direction by ``w1 = 1 - beta1`` (torch's
    ``lerp_``, both of its formulas), ``v = beta2 v + w2 d^2`` (``w2 = 1 - beta2``; under
    ``amsgrad`` its running maximum, NaN kept as ``torch.maximum`` keeps it, takes its place below),
    and ``x -= step_size m / (sqrt(v) / bc2_sqrt + eps)``.
    """
    near_start = w1 < 0.5
    for i in range(x.size):
        p = x[i]
        d = g[i] * sign
        if decoupled:
            p = p * decay
        else:
            d = d + p * weight_decay
        mi = m[i]
        if near_start:
            mi = mi + w1 * (d - mi)
        else:
            mi = d - (d - mi) * beta1
        m[i] = mi
        vi = v[i] * beta2 + w2 * (d * d)
        v[i] = vi
        if amsgrad:
            top = vmax[i]
            vi = vi if (vi > top or vi != vi) else top
            vmax[i] = vi
        x[i] = p - step_size * (mi / (np.sqrt(vi) / bc2_sqrt + eps))
