"""Order statistics built on sort: nanmedian, quantile, nanquantile, mode, msort.

quantile and nanquantile are composed from ``sort`` and ``take_along_dim`` (whose derivatives
send the gradient back to the elements that were picked), so they are differentiable to any
order with torch's gradients: the two neighbours of each rank share the gradient as the
interpolation weighs them. nanmedian and mode pick one element per lane, as median does.
"""

from __future__ import annotations

import numpy as np

from ..autograd.graph import defop
from ._common import Tensor, as_array, as_tensor, make_result, normalize_dim, wrap
from .reduce_minmax import _spread_ties, return_types
from .sorting import _nonempty, _not_bool, _order, _scalar, _select, _to_indices, sort

__all__ = ["nanmedian", "quantile", "nanquantile", "mode", "msort"]

nanmedian_op = defop(
    "nanmedian",
    saves_out=True,
    formula="{g0} = {gy} * [{x0} == {y}] / count({x0} == {y})  (ties share the gradient)",
)(_spread_ties)
_SELECT = "{g0} = {gy} written back at the selected indices of {x0}, 0 elsewhere"
nanmedian_dim_op = defop("nanmedian_dim", saves_inputs=False, formula=_SELECT)(_to_indices)
mode_op = defop("mode", saves_inputs=False, formula=_SELECT)(_to_indices)


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False):
    """The median ignoring NaN: the lower of the two middle non-NaN values, as torch.

    ``nanmedian(input)`` is a 0-d tensor (NaN only when every element is NaN; ties share the
    gradient); ``nanmedian(input, dim, keepdim=False)`` returns ``(values, indices)`` along
    ``dim`` (an all-NaN lane gives NaN and the index of its first NaN).
    """
    input = as_tensor(input, "nanmedian")
    x = input._data
    _not_bool("nanmedian", "nanmedian_cpu" if dim is None else "median_out", x)
    if dim is None:
        flat = x.reshape(-1)
        if flat.dtype.kind == "f":
            flat = flat[~np.isnan(flat)]
        flat = np.sort(flat)
        if flat.size == 0:
            value = np.asarray(np.nan if x.dtype.kind == "f" else np.iinfo(x.dtype).min, x.dtype)
        else:
            value = flat[(flat.size - 1) // 2]
        return make_result(as_array(value, x.dtype), nanmedian_op, (input,), (None, False, True))
    axis = normalize_dim(dim, x.ndim, "nanmedian")
    if x.ndim == 0:
        return _scalar(nanmedian_dim_op, return_types.nanmedian, input)
    _nonempty("nanmedian", x, axis)
    order = _order(x, axis, False)
    n = x.shape[axis]
    valid = n - np.sum(np.isnan(x), axis=axis, keepdims=True) if x.dtype.kind == "f" else n
    middle = np.maximum((np.asarray(valid) - 1) // 2, 0)  # an all-NaN lane: its first NaN
    middle = np.broadcast_to(middle, order.shape[:axis] + (1,) + order.shape[axis + 1 :])
    chosen = np.take_along_axis(order, middle, axis)
    return _select(nanmedian_dim_op, return_types.nanmedian, input, axis, chosen, keepdim)


def msort(input: Tensor) -> Tensor:
    """``sort(input, dim=0).values``: the sorted rows."""
    return sort(input, 0).values


# ---- quantile ------------------------------------------------------------------------------------
_MODES = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(who: str, input: Tensor, q, dim, keepdim: bool, interpolation: str, ignore_nan: bool):
    from .elementwise import add, mul, sub, where
    from .gather import take_along_dim
    from .shape import movedim, reshape, squeeze, unsqueeze

    input = as_tensor(input, who)
    x = input._data
    if x.dtype.kind != "f":
        raise RuntimeError(f"{who}() input tensor must be either float or double dtype")
    if x.size == 0:
        raise RuntimeError(f"{who}() input tensor must be non-empty")
    if interpolation not in _MODES:
        raise RuntimeError(
            f"{who}() interpolation must be one of linear, lower, higher, midpoint or nearest, "
            f"but got {interpolation}"
        )
    if isinstance(q, Tensor):
        qa = q._data
        if qa.ndim > 1:
            raise RuntimeError(f"{who}() q must be a scalar or 1D tensor")
        if qa.dtype != x.dtype:
            raise RuntimeError(f"{who}() q tensor must be same dtype as the input tensor")
        qs = qa.astype(np.float64)
        q_shape = qa.shape
    else:
        qs = np.asarray(float(q))
        q_shape = ()
    if qs.size and (qs.min() < 0 or qs.max() > 1):
        bad = qs.min() if qs.min() < 0 else qs.max()
        raise RuntimeError(f"{who}() q must be in the range [0, 1] but got {bad}")
    # the lanes along the last dim; reduced dims remembered for keepdim
    if dim is None:
        lanes = reshape(input, (-1,))
        kept = (1,) * x.ndim if keepdim else ()
    else:
        axis = normalize_dim(dim, x.ndim, who)
        lanes = movedim(input, axis, -1) if x.ndim else reshape(input, (1,))
        kept = None
    values = sort(lanes, -1).values  # NaN last
    v = values._data
    n = v.shape[-1]
    nans = np.isnan(v).sum(-1, keepdims=True)
    qv = qs.reshape(qs.shape + (1,) * v.ndim)  # (k?, 1, ..., 1)
    if ignore_nan:
        ranks = qv * (n - nans - 1)
        ranks = np.where(ranks < 0, n - 1, ranks)  # an all-NaN lane: its last element (NaN)
    else:
        ranks = np.where(nans > 0, n - 1, qv * (n - 1))  # any NaN: the lane's result is NaN
    ranks = ranks.astype(v.dtype).astype(np.float64)  # torch computes ranks in the input's dtype
    below = np.floor(ranks)
    above = np.ceil(ranks)
    if interpolation == "lower":
        above = below
    elif interpolation == "higher":
        below = above
    elif interpolation == "nearest":
        below = above = np.round(ranks)  # halves to even, as torch's round
    src = unsqueeze(values, 0) if qs.ndim else values
    lo = take_along_dim(src, wrap(below.astype(np.int64)), -1)
    if interpolation in ("lower", "higher", "nearest"):
        result = lo
    else:
        hi = take_along_dim(src, wrap(above.astype(np.int64)), -1)
        weight = 0.5 if interpolation == "midpoint" else (ranks - below).astype(v.dtype)
        w = wrap(np.asarray(weight, v.dtype) if isinstance(weight, float) else as_array(weight, v.dtype))
        # torch's lerp: from the nearer end, so that weight 1 gives exactly hi
        diff = sub(hi, lo)
        result = where(
            wrap(as_array(np.less(weight, 0.5))), add(lo, mul(w, diff)), sub(hi, mul(sub(1.0, w), diff))
        )
    result = squeeze(result, -1)
    if dim is None:
        return reshape(result, q_shape + kept) if kept else result
    if keepdim and x.ndim:
        result = unsqueeze(result, axis + (1 if qs.ndim else 0))
    return result


def quantile(
    input: Tensor, q, dim: int | None = None, keepdim: bool = False, *, interpolation: str = "linear"
) -> Tensor:
    """The ``q``-th quantiles along ``dim`` (of all elements when None).

    Parameters
    ----------
    input : Tensor
        float32 or float64, non-empty.
    q : float or Tensor
        In [0, 1]; a 1-D tensor (of input's dtype) gives one result per q, stacked first.
    dim : int, optional
    keepdim : bool, default False
    interpolation : {'linear', 'lower', 'higher', 'midpoint', 'nearest'}
        How a rank between two elements is read: the line between them, the lower, the higher,
        their mean, or the nearer (halves to even).

    A lane with NaN gives NaN (see ``nanquantile``). Differentiable: the gradient goes to the
    elements the result was read from, weighted as the interpolation weighs them.
    """
    return _quantile("quantile", input, q, dim, keepdim, interpolation, False)


def nanquantile(
    input: Tensor, q, dim: int | None = None, keepdim: bool = False, *, interpolation: str = "linear"
) -> Tensor:
    """``quantile`` ignoring NaN: a lane's quantiles are those of its non-NaN elements (NaN
    when all are NaN)."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, True)


# ---- mode ----------------------------------------------------------------------------------------
def _lane_mode(lane: np.ndarray) -> int:
    """The index of the mode of one lane: the smallest most frequent value, its last position."""
    # each NaN counts as a value of its own (torch's choice with NaN depends on the input's order)
    values, inverse, counts = np.unique(lane, return_inverse=True, return_counts=True, equal_nan=False)
    best = int(np.argmax(counts))  # the first (smallest) of the most frequent
    return int(np.flatnonzero(inverse.reshape(-1) == best)[-1])


def mode(input: Tensor, dim: int = -1, keepdim: bool = False):
    """The most frequent value along ``dim`` (the smallest of equally frequent ones) and the
    index of its last occurrence, as torch; the gradient goes back to that index."""
    input = as_tensor(input, "mode")
    x = input._data
    axis = normalize_dim(dim, x.ndim, "mode")
    if x.ndim == 0:
        return _scalar(mode_op, return_types.mode, input)
    if x.shape[axis] == 0:
        raise IndexError(f"mode(): Expected reduction dim {axis} to have non-zero size.")
    lanes = np.moveaxis(x, axis, -1)
    flat = lanes.reshape(-1, lanes.shape[-1])
    picks = np.array([_lane_mode(row) for row in flat], dtype=np.int64).reshape(lanes.shape[:-1] + (1,))
    return _select(mode_op, return_types.mode, input, axis, np.moveaxis(picks, -1, axis), keepdim)
