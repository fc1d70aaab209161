"""Normalization (batch norm, layer norm) as one fused differentiable op.

Both normalise ``x`` over some ``axes`` and apply an optional per-feature affine map:

    xhat = (x - mean) * invstd,   invstd = 1 / sqrt(var + eps),   y = xhat * w + b

In training the statistics come from ``x`` itself (biased variance over ``axes``, n elements), so
the gradient has the classic three terms

    dl/dx = invstd * (gh - mean(gh) - xhat * mean(gh * xhat)),   gh = dl/dy * w

(means over ``axes``). In evaluation the statistics are constants (the running estimates) and
``dl/dx = dl/dy * w * invstd``. Either way ``dl/dw = sum(dl/dy * xhat)`` and ``dl/db = sum(dl/dy)``
over the axes that ``w`` is shared across. One rule serves both ops; written with ``F``, it is
itself differentiable (for create_graph the statistics are recomputed from ``x`` as tensors).
"""

from __future__ import annotations

import numpy as np

from ..autograd.graph import defop
from ..autograd.math import register, tensor_math
from ._common import Tensor, make_result

__all__ = ["normalize"]


def norm_forward(x: np.ndarray, axes: tuple, n: int, eps: float, mean=None, invstd=None):
    """``(xhat, mean, biased var, invstd)``; ``mean``/``invstd`` given: evaluation statistics."""
    var = None
    if mean is None:
        mean = np.sum(x, axis=axes, keepdims=True) / x.dtype.type(n)
        xc = x - mean
        var = np.sum(xc * xc, axis=axes, keepdims=True) / x.dtype.type(n)
        invstd = 1 / np.sqrt(var + x.dtype.type(eps))
    else:
        xc = x - mean
    xc *= invstd
    return xc, mean, var, invstd


def _sum_over(F, t, axes: tuple):
    return F.sum(t, axes) if axes else t  # (an empty dim list would sum everything)


def statistics(F, x, axes: tuple, n: int, eps: float) -> tuple:
    """``(mean, invstd)`` of ``x`` over ``axes`` (biased variance), in F's kind of value."""
    mean = F.sum(x, axes, True) / n
    xc = x - mean
    return mean, 1 / F.sqrt(F.sum(xc * xc, axes, True) / n + eps)


def _norm_rule(F, g, xs, out, p, needs):
    axes, n, eps, training, mean, invstd, view, w_axes, has_w, has_b = p
    x = xs[0]
    if training:  # the statistics depend on x: saved ones on arrays, recomputed on tensors
        mean, invstd = F.norm_statistics(x, axes, n, eps, mean, invstd)
    xhat = (x - mean) * invstd
    gx = gw = gb = None
    if needs[0]:
        gh = g * F.reshape(xs[1], view) if has_w else g
        if training:
            gx = (gh - F.sum(gh, axes, True) / n - xhat * (F.sum(gh * xhat, axes, True) / n)) * invstd
        else:
            gx = gh * invstd
    if has_w and needs[1]:
        gw = F.reshape(_sum_over(F, g * xhat, w_axes), tuple(xs[1].shape))
    if has_b and needs[-1]:
        gb = F.reshape(_sum_over(F, g, w_axes), tuple(xs[-1].shape))
    return (gx,) + ((gw,) if has_w else ()) + ((gb,) if has_b else ())


_FORMULA = (
    "{g0} = invstd (gh - mean(gh) - xhat mean(gh xhat)),  gh = {gy} w,  xhat = ({x0} - mean) "
    "invstd  (in eval: gh invstd)",
    "{g1} = sum of {gy} * xhat (the weight's; the bias's when there is no weight: sum of {gy})",
    "{g2} = sum of {gy}",
)
_batch_norm = defop("native_batch_norm", formula=_FORMULA)(_norm_rule)
_layer_norm = defop("native_layer_norm", formula=_FORMULA)(_norm_rule)


def normalize(
    input: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    axes: tuple,
    view: tuple,
    eps: float,
    *,
    batch: bool,
    mean=None,
    invstd=None,
) -> tuple:
    """Normalise ``input`` over ``axes`` and apply ``weight``/``bias`` reshaped to ``view``.

    Parameters
    ----------
    axes : the dims the statistics reduce over (kept as size 1 in them).
    view : the shape ``weight`` and ``bias`` take to broadcast against ``input``.
    batch : record the op as batch norm (else layer norm): only the node's name differs.
    mean, invstd : evaluation statistics (broadcastable arrays); None computes them from the input.

    Returns
    -------
    ``(output, batch mean, biased batch variance)``; both statistics are None when given.
    """
    x = input._data
    n = int(np.prod([x.shape[a] for a in axes]))
    training = mean is None
    y, mean, var, invstd = norm_forward(x, axes, n, eps, mean, invstd)
    if weight is not None:
        y *= weight._data.reshape(view)
    if bias is not None:
        y += bias._data.reshape(view)
    w_axes = tuple(
        a for a in range(x.ndim) if len(view) - x.ndim + a < 0 or view[len(view) - x.ndim + a] == 1
    )
    inputs = (input,) + ((weight,) if weight is not None else ()) + ((bias,) if bias is not None else ())
    params = (axes, n, eps, training, mean, invstd, view, w_axes, weight is not None, bias is not None)
    out = make_result(y, _batch_norm if batch else _layer_norm, inputs, params)
    return out, (mean if training else None), var


# the normalization rules' statistics: as the forward computed them (arrays), or recomputed from x
# with differentiable ops (create_graph: they depend on x)
register(
    "norm_statistics",
    lambda x, axes, n, eps, mean, invstd: (mean, invstd),
    lambda x, axes, n, eps, mean, invstd: statistics(tensor_math(), x, axes, n, eps),
)
