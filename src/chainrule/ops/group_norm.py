"""Group norm as one differentiable op, ``native_group_norm``, in torch's CPU kernel's form.

``x`` (N, C, *) is normalised over each sample's groups of D = C / G channels and all trailing
elements, then mapped per channel by ``w`` and ``b``. The forward folds the affine map into the
normalization as torch does, ``y = x (invstd w) + (b - invstd w mean)``; the first-order backward
is torch's ``c1 g + c2 x + c3`` (``chainrule.kernels.group_norm`` has both, with the formulas).
Where the weight, the input or the statistics hold an inf or NaN these forms give torch's NaN
pattern, which the centred ``(x - mean) invstd w + b`` does not (an inf weight meets the mean).

With ``create_graph`` the rule is the centred textbook formula written with ``F`` (the statistics
recomputed from ``x`` as tensors), as torch's ``infinitely_differentiable_native_group_norm_backward``:

    dl/dx = invstd (gh - mean(gh) - xhat mean(gh xhat)),   gh = dl/dy w,   xhat = (x - mean) invstd

(means over each group), ``dl/dw = sum(dl/dy xhat)`` and ``dl/db = sum(dl/dy)`` over N and the
trailing dims.
"""

from __future__ import annotations

import numpy as np

from ..autograd.graph import Op, defop
from ..autograd.math import ARRAY_MATH
from ..kernels.group_norm import group_affine, group_grad_input, group_grad_sums, group_stats
from ..kernels.normalization import row_forward
from . import normalization  # noqa: F401  (registers F.norm_statistics, which the rule calls)
from ._common import Tensor, make_result

__all__ = ["group_normalize", "fused_group_norm_applies"]

_FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def fused_group_norm_applies(input: Tensor, weight: Tensor | None, bias: Tensor | None) -> bool:
    """Whether ``group_normalize`` takes this call: a non-empty float32/float64 NumPy input with
    weight and bias (where given) NumPy arrays of its dtype. Other array types (vmap's batched
    array, CuPy), dtypes and empty inputs take ``nn.functional.group_norm``'s composed path."""
    x = input._data
    if type(x) is not np.ndarray or x.dtype not in _FAST_DTYPES or x.size == 0:
        return False
    return all(t is None or type(t._data) is np.ndarray and t._data.dtype == x.dtype for t in (weight, bias))


def group_normalize(
    input: Tensor, num_groups: int, weight: Tensor | None, bias: Tensor | None, eps: float
) -> Tensor:
    """``torch.nn.functional.group_norm`` on arguments that ``fused_group_norm_applies`` accepts
    (the caller has checked the shapes): one ``native_group_norm`` node."""
    x = np.ascontiguousarray(input._data)
    N, C = x.shape[:2]
    G = num_groups
    D = C // G
    HxW = x.size // (N * C)
    dt = x.dtype.type
    if weight is None and bias is None:  # torch writes (x - mean) * invstd here
        y, mean, invstd = row_forward(x.reshape(N * G, D * HxW), eps, None, None)
    else:
        mean, invstd = group_stats(x.reshape(N * G, D * HxW), eps)
        scale = np.broadcast_to(invstd.reshape(N, G, 1), (N, G, D))
        if weight is not None:
            scale = scale * weight._data.reshape(1, G, D)
        product = scale * mean.reshape(N, G, 1)
        shift = (bias._data.reshape(1, G, D) if bias is not None else dt(0)) - product
        y = group_affine(
            x.reshape(N * C, HxW),
            np.ascontiguousarray(scale, dtype=x.dtype).reshape(-1),
            np.ascontiguousarray(shift, dtype=x.dtype).reshape(-1),
        )
    inputs = (input,) + ((weight,) if weight is not None else ()) + ((bias,) if bias is not None else ())
    params = (G, eps, mean.reshape(N, G), invstd.reshape(N, G), weight is not None, bias is not None)
    # (without a weight torch's node keeps the bias as well: the plain rule reads every input)
    op = _group_norm if weight is not None else _group_norm_unweighted
    return make_result(y.reshape(x.shape), op, inputs, params)


def _fast_backward(g: np.ndarray, x: np.ndarray, w, mean, invstd, G: int, needs: tuple) -> tuple:
    """``(dx, dw, db)`` in torch's kernel's order of operations (None where not in ``needs``)."""
    need_x, need_w, need_b = needs
    N, C = x.shape[:2]
    D = C // G
    HxW = x.size // (N * C)
    dt = x.dtype.type
    x2 = np.ascontiguousarray(x).reshape(N * C, HxW)
    g2 = np.ascontiguousarray(g).reshape(N * C, HxW)
    ds, db = group_grad_sums(g2, x2)
    ds, db = ds.reshape(N, G, D), db.reshape(N, G, D)
    mean3, rstd3 = mean.reshape(N, G, 1), invstd.reshape(N, G, 1)
    dx = dw = dbias = None
    if need_x:
        w3 = w.reshape(1, G, D) if w is not None else None
        ds_w = (ds * w3 if w3 is not None else ds).sum(axis=2, keepdims=True)
        db_w = (db * w3 if w3 is not None else db).sum(axis=2, keepdims=True)
        s = dt(1) / dt(D * HxW)
        c2 = (db_w * mean3 - ds_w) * rstd3 * rstd3 * rstd3 * s
        c3 = -c2 * mean3 - db_w * rstd3 * s
        c1 = np.broadcast_to(rstd3, (N, G, D)) if w3 is None else rstd3 * w3
        dx = group_grad_input(
            g2,
            x2,
            np.ascontiguousarray(c1, dtype=x.dtype).reshape(-1),
            np.ascontiguousarray(np.broadcast_to(c2, (N, G, D)), dtype=x.dtype).reshape(-1),
            np.ascontiguousarray(np.broadcast_to(c3, (N, G, D)), dtype=x.dtype).reshape(-1),
        ).reshape(x.shape)
    if need_w:
        dw = ((ds - db * mean3) * rstd3).sum(axis=0).reshape(C)
    if need_b:
        dbias = db.sum(axis=0).reshape(C)
    return dx, dw, dbias


_FORMULA = (
    "{g0} = c1 {gy} + c2 {x0} + c3 per group (torch's form of invstd (gh - mean(gh) - xhat "
    "mean(gh xhat)), gh = {gy} w, xhat = ({x0} - mean) invstd)",
    "{g1} = sum over N and the trailing dims of {gy} * xhat (without a weight: the bias's, sum of {gy})",
    "{g2} = sum over N and the trailing dims of {gy}",
)


# torch's group norm saves the input and the weight, never the bias (as batch norm)
@defop("native_group_norm", formula=_FORMULA, reads=((0, 1), (0, 1), (0, 1)))
def _group_norm(F, g, xs, out, p, needs):
    G, eps, mean, invstd, has_w, has_b = p
    x = xs[0]
    w = xs[1] if has_w else None
    need_x, need_w, need_b = needs[0], has_w and needs[1], has_b and needs[-1]
    if F is ARRAY_MATH and type(g) is np.ndarray and g.dtype == x.dtype:  # first order: torch's kernel
        dx, dw, db = _fast_backward(g, x, w, mean, invstd, G, (need_x, need_w, need_b))
        return (dx,) + ((dw,) if has_w else ()) + ((db,) if has_b else ())
    shape = tuple(x.shape)
    N, C = shape[:2]
    D = C // G
    HxW = int(np.prod(shape[2:], dtype=np.int64))
    n = D * HxW
    axes = (2, 3)
    x4 = F.reshape(x, (N, G, D, HxW))
    g4 = F.reshape(g, (N, G, D, HxW))
    mean4, invstd4 = F.norm_statistics(x4, axes, n, eps, mean.reshape(N, G, 1, 1), invstd.reshape(N, G, 1, 1))
    xhat = (x4 - mean4) * invstd4
    gx = gw = gb = None
    if need_x:
        gh = g4 * F.reshape(w, (1, G, D, 1)) if has_w else g4
        gx = (gh - F.sum(gh, axes, True) / n - xhat * (F.sum(gh * xhat, axes, True) / n)) * invstd4
        gx = F.reshape(gx, shape)
    if need_w:
        gw = F.reshape(F.sum(g4 * xhat, (0, 3)), (C,))
    if need_b:
        gb = F.reshape(F.sum(g4, (0, 3)), (C,))
    return (gx,) + ((gw,) if has_w else ()) + ((gb,) if has_b else ())


_group_norm_unweighted = Op(_group_norm.name, _group_norm.backward, formula=_group_norm.templates)
_group_norm_unweighted.node_name = _group_norm.node_name
