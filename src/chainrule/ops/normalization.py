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
For a first-order backward on float32/float64 arrays (``F`` is ``ARRAY_MATH``), and for every
forward, the few-pass kernels of ``chainrule.kernels.normalization`` compute the same formulas
chunk by chunk (batch norm's forward and backward about twice as fast as the rule's NumPy passes).
"""

from __future__ import annotations

import contextlib

import numpy as np

from ..autograd.graph import Op, defop
from ..autograd.math import ARRAY_MATH, register, tensor_math
from ..kernels.normalization import (
    channel_backward,
    channel_forward,
    channel_stats,
    row_backward,
    row_forward,
)
from ._common import Tensor, make_result

__all__ = ["normalize"]


def norm_forward(x: np.ndarray, axes: tuple, n: int, eps: float, mean=None, invstd=None):
    """``(xhat, mean, biased var, invstd)``; ``mean``/``invstd`` given: evaluation statistics."""
    var = None
    if mean is None:
        # over no values the statistics are 0 / 0 = nan, as torch's, without NumPy's warning
        with np.errstate(invalid="ignore") if n == 0 else contextlib.nullcontext():
            mean = np.sum(x, axis=axes, keepdims=True) / x.dtype.type(n)
            xc = x - mean
            var = np.sum(xc * xc, axis=axes, keepdims=True) / x.dtype.type(n)
        invstd = 1 / np.sqrt(var + x.dtype.type(eps))
    else:
        xc = x - mean
    xc *= invstd
    return xc, mean, var, invstd


def _fast_forward(x, weight, bias, axes: tuple, eps: float, layout: str, mean, invstd) -> tuple:
    """``norm_forward`` and the affine map through the fused kernels: ``(y, mean, var, invstd)``,
    the statistics in ``norm_forward``'s keepdims shapes (var None where not computed)."""
    w = weight._data.reshape(-1) if weight is not None else None
    b = bias._data.reshape(-1) if bias is not None else None
    keep = tuple(1 if a in axes else s for a, s in enumerate(x.shape))
    var = None
    if layout == "channels":
        N, C = x.shape[:2]
        x3 = np.ascontiguousarray(x).reshape(N, C, -1)
        if mean is None:
            mean, var, invstd = channel_stats(x3, eps)
            var = var.reshape(keep)
        else:
            mean, invstd = mean.reshape(C), invstd.reshape(C)
        y = channel_forward(x3, mean, invstd, w, b)
    else:
        D = int(np.prod(x.shape[x.ndim - len(axes) :]))
        y, mean, invstd = row_forward(np.ascontiguousarray(x).reshape(-1, D), eps, w, b)
    return y.reshape(x.shape), mean.reshape(keep), var, invstd.reshape(keep)


def _sum_over(F, t, axes: tuple):
    return F.sum(t, axes) if axes else t  # (an empty dim list would sum everything)


def statistics(F, x, axes: tuple, n: int, eps: float) -> tuple:
    """``(mean, invstd)`` of ``x`` over ``axes`` (biased variance), in F's kind of value."""
    mean = F.sum(x, axes, True) / n
    xc = x - mean
    return mean, 1 / F.sqrt(F.sum(xc * xc, axes, True) / n + eps)


def _layout(x, axes: tuple, view: tuple, batch: bool) -> str | None:
    """Which few-pass kernel of ``chainrule.kernels.normalization`` computes this call, if any:
    "channels" (batch norm), "rows" (statistics and affine map over the trailing dims), or None
    (another array type, dtype or dim list: the general path)."""
    if type(x) is not np.ndarray or x.dtype not in _FAST_DTYPES or x.size == 0:
        return None
    nd = x.ndim
    if batch and axes == (0,) + tuple(range(2, nd)):
        return "channels"
    if not batch and axes == tuple(range(nd - len(axes), nd)) and view in ((), x.shape[nd - len(axes) :]):
        return "rows"
    return None


_FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _fast_backward(g, xs, p, needs, layout: str) -> tuple:
    """The first-order rule on arrays through the fused kernels (values as ``_norm_rule``'s)."""
    axes, n, eps, training, mean, invstd, view, w_axes, has_w, has_b = p
    x = xs[0]
    w = xs[1].reshape(-1) if has_w else None
    trio = (needs[0], has_w and needs[1], has_b and needs[-1])
    if layout == "channels":
        N, C = x.shape[:2]
        shape3 = (N, C, x.size // (N * C))
        dx, dw, db = channel_backward(
            g.reshape(shape3), x.reshape(shape3), mean.reshape(C), invstd.reshape(C), w, training, trio
        )
    else:
        D = int(np.prod(x.shape[x.ndim - len(axes) :]))
        g2, x2, mean1, invstd1 = g.reshape(-1, D), x.reshape(-1, D), mean.reshape(-1), invstd.reshape(-1)
        dx, dw, db = row_backward(g2, x2, mean1, invstd1, w, trio)
        if dx is not None and not _finite_statistics(mean1, invstd1, w):
            dx = _torch_row_dx(g2, x2, mean1, invstd1, w)
    out = (dx.reshape(x.shape) if dx is not None else None,)
    if has_w:
        out += (dw.reshape(xs[1].shape) if dw is not None else None,)
    if has_b:
        out += (db.reshape(xs[-1].shape) if db is not None else None,)
    return out


def _finite_statistics(mean: np.ndarray, invstd: np.ndarray, w) -> bool:
    """Whether the rows' statistics and the weight are finite (two (R,) arrays and a (D,) one:
    no pass over the data)."""
    return bool(np.isfinite(mean).all() and np.isfinite(invstd).all() and (w is None or np.isfinite(w).all()))


def _torch_row_dx(g, x, mean, invstd, w):
    """layer norm's input gradient as torch's CPU kernel writes it, ``a g w + b x + c`` with
    ``a = invstd``, ``b = (sum(g w) mean - sum(g w x)) invstd^3 / D``, ``c = -b mean - sum(g w)
    invstd / D``: where a row's statistics or the weight hold an inf or NaN, this form's NaN
    pattern is torch's (the centred form, ``invstd (gh - mean(gh) - xhat mean(gh xhat))``,
    keeps an inf where torch's has NaN). Used only then: it cancels more for ordinary rows."""
    D = x.shape[1]
    gh = g if w is None else g * w
    with np.errstate(all="ignore"):
        ds = np.einsum("rd,rd->r", gh, x)[:, None]
        db = gh.sum(axis=1, keepdims=True)
        a, m = invstd[:, None], mean[:, None]
        b = (db * m - ds) * a * a * a / D
        c = -b * m - db * a / D
        return (a * gh + b * x + c).astype(x.dtype, copy=False)


def _norm_rule(F, g, xs, out, p, needs, batch: bool):
    axes, n, eps, training, mean, invstd, view, w_axes, has_w, has_b = p
    x = xs[0]
    if F is ARRAY_MATH and type(g) is np.ndarray and g.dtype == x.dtype:  # first order: fused
        layout = _layout(x, axes, view, batch)
        if layout is not None:
            return _fast_backward(g, xs, p, needs, layout)
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


# torch's batch norm saves the input and the weight for every gradient, never the bias (whose
# gradient sums g): an in-place change of the bias after the call passes backward. (Layer norm's
# node saves the bias too, as torch's native_layer_norm does.)
@defop("native_batch_norm", formula=_FORMULA, reads=((0, 1), (0, 1), (0, 1)))
def _batch_norm(F, g, xs, out, p, needs):
    return _norm_rule(F, g, xs, out, p, needs, True)


def without_weight(op: Op) -> Op:
    """``op`` (a normalization whose inputs are input, weight, bias) for a call without a weight:
    its inputs are then input and perhaps bias, and only the input is read."""
    variant = Op(op.name, op.backward, reads=((0,), (0,)), formula=op.templates)
    variant.node_name = op.node_name
    return variant


_batch_norm_unweighted = without_weight(_batch_norm)


@defop("native_layer_norm", formula=_FORMULA)
def _layer_norm(F, g, xs, out, p, needs):
    return _norm_rule(F, g, xs, out, p, needs, False)


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
    layout = _layout(x, axes, view, batch)
    if (
        layout == "rows"
        and not training
        or layout is not None
        and not all(
            t is None or t._data.dtype == x.dtype and type(t._data) is np.ndarray for t in (weight, bias)
        )
    ):
        layout = None
    if layout is None:
        y, mean, var, invstd = norm_forward(x, axes, n, eps, mean, invstd)
        if weight is not None:
            y *= weight._data.reshape(view)
        if bias is not None:
            y += bias._data.reshape(view)
    else:
        y, mean, var, invstd = _fast_forward(x, weight, bias, axes, eps, layout, mean, invstd)
    w_axes = tuple(
        a for a in range(x.ndim) if len(view) - x.ndim + a < 0 or view[len(view) - x.ndim + a] == 1
    )
    inputs = (input,) + ((weight,) if weight is not None else ()) + ((bias,) if bias is not None else ())
    params = (axes, n, eps, training, mean, invstd, view, w_axes, weight is not None, bias is not None)
    op = (_batch_norm if weight is not None else _batch_norm_unweighted) if batch else _layer_norm
    out = make_result(y, op, inputs, params)
    return out, (mean if training else None), var


# the normalization rules' statistics: as the forward computed them (arrays), or recomputed from x
# with differentiable ops (create_graph: they depend on x)
register(
    "norm_statistics",
    lambda x, axes, n, eps, mean, invstd: (mean, invstd),
    lambda x, axes, n, eps, mean, invstd: statistics(tensor_math(), x, axes, n, eps),
)
