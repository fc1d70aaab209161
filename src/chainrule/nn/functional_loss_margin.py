"""Margin and embedding losses of ``chainrule.nn.functional`` (re-exported there): the multi-class
and multi-label margin losses, the soft margin losses, the ranking, hinge, cosine and triplet
embedding losses, and the distances they use (``pairwise_distance``, ``cosine_similarity``).

Each is a composition of differentiable ops in torch's own formula, so gradients and second
derivatives follow; the masks (which class is the target, which pair is active) are constants.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .. import ops as _ops
from .._tensor import Tensor, wrap
from ..autograd._tables import FORWARD, set_tangent, tangent_of
from ..ops._common import any_true, as_array, as_tensor, shape_str
from ..ops.activation_piecewise import TORCH_TYPE_NAMES as _TORCH_TYPE_NAMES
from ..ops.reduce_norm import vector_norm
from .functional_activation import logsigmoid
from .functional_loss import legacy_get_string

__all__ = [
    "pairwise_distance",
    "cosine_similarity",
    "margin_ranking_loss",
    "hinge_embedding_loss",
    "soft_margin_loss",
    "multilabel_soft_margin_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "cosine_embedding_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]

REDUCTION_NAMES = ("none", "mean", "sum")


def resolve_reduction(size_average, reduce, reduction: str) -> str:
    """``reduction``, or torch's translation of the deprecated flags; ValueError for an unknown one."""
    if size_average is not None or reduce is not None:
        return legacy_get_string(size_average, reduce)
    if reduction not in REDUCTION_NAMES:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def reduce_loss(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean" and loss.numel() == 0:  # NaN, as torch, without NumPy's warning
        return _ops.sum(loss) * float("nan")
    if reduction == "mean":
        return _ops.mean(loss)
    if reduction == "sum":
        return _ops.sum(loss)
    return loss


def _mask(values) -> Tensor:
    """A constant boolean tensor (``as_array`` keeps vmap's batched arrays batched)."""
    return wrap(as_array(values))


# ---- distances ----------------------------------------------------------------------------------
def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dim (torch adds ``eps`` to the difference, so that
    the distance of equal vectors has a gradient)."""
    x1, x2 = as_tensor(x1, "pairwise_distance"), as_tensor(x2, "pairwise_distance")
    ndim = max(x1.ndim, x2.ndim)
    diff = x1 - x2 + eps
    if ndim == 0:
        return _ops.abs(diff) if p != 0 else (diff != 0).to(diff.dtype)
    return vector_norm(diff, p, ndim - 1, keepdim)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps))`` along ``dim`` (broadcast inputs).

    As torch 2.x, the clamp of each norm at ``eps`` is done outside autograd: the gradient flows
    through the norm as if it were not clamped.
    """
    x1, x2 = as_tensor(x1, "cosine_similarity"), as_tensor(x2, "cosine_similarity")
    if not x1.is_floating_point() and not x2.is_floating_point():
        common = _dtype.promote_types(x1.dtype, x2.dtype)
        raise RuntimeError(
            "expected common dtype to be floating point, yet common dtype is "
            f"{_TORCH_TYPE_NAMES.get(str(common).split('.')[-1], common)} (cosine_similarity: convert "
            "the inputs, e.g. x.float())"
        )
    if not x1.is_floating_point():
        x1 = x1.to(x2.dtype if x2.is_floating_point() else _dtype.get_default_dtype())
    if not x2.is_floating_point():
        x2 = x2.to(x1.dtype)
    try:
        x1, x2 = _ops.broadcast_tensors(x1, x2)
    except (RuntimeError, ValueError):
        raise RuntimeError(
            f"cosine_similarity: the shapes of x1 {shape_str(x1.shape)} and x2 {shape_str(x2.shape)} "
            "do not broadcast; give inputs of the same shape (or broadcastable ones)"
        ) from None
    if x1.dtype != x2.dtype:
        dtype = _dtype.promote_types(x1.dtype, x2.dtype)
        x1, x2 = x1.to(dtype), x2.to(dtype)
    return _ops.sum((x1 / _clamped_norm(x1, dim, eps)) * (x2 / _clamped_norm(x2, dim, eps)), dim)


def _clamped_norm(x: Tensor, dim: int, eps: float) -> Tensor:
    """The 2-norm along ``dim`` (kept), its value raised to ``eps`` by a constant offset: torch clamps
    it in place under no_grad, so the gradient is the unclamped norm's."""
    norm = vector_norm(x, 2, dim, True)
    raw = norm._data
    low = raw < raw.dtype.type(eps)  # (an inf norm keeps an offset of 0: inf - inf would be NaN)
    offset = np.where(low, raw.dtype.type(eps) - raw, raw.dtype.type(0))
    clamped = norm + wrap(offset)
    if FORWARD.active:
        # torch's in-place clamp runs under no_grad, which stops reverse mode but not forward
        # mode: the tangent is clamp_min's, 0 where the norm was raised to eps (at each level)
        kept = wrap(raw >= raw.dtype.type(eps))
        for level in FORWARD.levels:
            tangent = tangent_of(clamped, level)
            if tangent is not None:
                set_tangent(clamped, tangent * kept, level)
    return clamped


# ---- pairwise and element-wise margin losses ----------------------------------------------------
def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """``max(0, -y (x1 - x2) + margin)``: ``y = 1`` says ``x1`` should rank higher, ``-1`` lower."""
    reduction = resolve_reduction(size_average, reduce, reduction)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} "
        )
    loss = _ops.clamp_min(-target * (input1 - input2) + margin, 0)
    return reduce_loss(loss, reduction)


def hinge_embedding_loss(
    input: Tensor,
    target: Tensor,
    margin: float = 1.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """``x`` where ``y = 1``, ``max(0, margin - x)`` where ``y = -1`` (torch's formula: both terms
    where ``y`` is neither)."""
    reduction = resolve_reduction(size_average, reduce, reduction)
    input, target = as_tensor(input, "hinge_embedding_loss"), as_tensor(target, "hinge_embedding_loss")
    t = target._data
    margin_term = _ops.where(_mask(t != 1), _ops.clamp_min(margin - input, 0), 0.0)
    self_term = _ops.where(_mask(t != -1), input, 0.0)
    return reduce_loss(margin_term + self_term, reduction)


def soft_margin_loss(
    input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean"
) -> Tensor:
    """``log(1 + exp(-y x))`` (torch's plain formula: it overflows to inf where torch's does)."""
    reduction = resolve_reduction(size_average, reduce, reduction)
    if target.dtype != input.dtype and input.is_floating_point():
        target = target.to(input.dtype)  # torch's kernel computes in the input's dtype
    with np.errstate(over="ignore"):
        loss = _ops.log1p(_ops.exp(-target * input))
    return reduce_loss(loss, reduction)


def multilabel_soft_margin_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """The binary logistic loss of each class, averaged over the classes (the last dim)."""
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1
    loss = _ops.sum(loss, class_dim) / input.shape[class_dim]
    if reduction not in REDUCTION_NAMES:
        raise ValueError(reduction + " is not valid")
    return reduce_loss(loss, reduction)


# ---- multi-class margin losses ------------------------------------------------------------------
def _class_input(who: str, input: Tensor, target: Tensor) -> tuple[Tensor, np.ndarray]:
    """``input`` as ``(N, C)`` and ``target`` as ``(N, ...)`` int64, with torch's shape errors."""
    input, target = as_tensor(input, who), as_tensor(target, who)
    if target._data.dtype.kind not in "iu":
        raise RuntimeError(
            f"{who}: expected target of an integer dtype (class indices, int64), got {target.dtype}"
        )
    if input.ndim > 2:
        raise RuntimeError(
            f"{who}: Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
            f"{list(input.shape)}"
        )
    return input, target._data


def multi_margin_loss(
    input: Tensor,
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """The multi-class hinge loss ``sum_{i != y} w[y] max(0, margin - x[y] + x[i])^p / C``.

    Parameters
    ----------
    input : ``(N, C)`` or ``(C,)`` scores.
    target : ``(N,)`` (or 0-d) class indices.
    p : 1 or 2.
    weight : ``(C,)`` per-class weights (of the target class).
    """
    reduction = resolve_reduction(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    who = "multi_margin_loss"
    input, t = _class_input(who, input, target)
    x2 = input.reshape((1, -1)) if input.ndim < 2 else input
    n, c = x2.shape
    t = t.reshape(-1)
    if x2.ndim != 2 or (input.ndim == 2 and c == 0) or t.shape[0] != n:
        raise RuntimeError(
            f"{who}: inconsistent target size: {list(target.shape)} for input of size: "
            f"{list(input.shape)} (give one class index per row of the (N, C) input)"
        )
    if any_true((t < 0) | (t >= c)):
        raise RuntimeError(f"{who}: target out of range: classes must lie in [0, {c})")
    column = wrap(t.reshape((n, 1)))
    picked = x2.gather(1, column)
    z = margin - picked + x2
    not_target = np.arange(c).reshape((1, c)) != t.reshape((n, 1))
    # torch's kernel adds a term only where it is > 0: a NaN term (a NaN score) adds nothing
    z = _ops.where(_mask(not_target & (z._data > 0)), z, 0.0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight.gather(0, wrap(t)).reshape((n, 1))
    loss = _ops.sum(z, 1) / c
    if input.ndim < 2:
        loss = loss.reshape(target.shape)
    return reduce_loss(loss, reduction)


def multilabel_margin_loss(
    input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean"
) -> Tensor:
    """The multi-label hinge loss ``sum_{j in y, i not in y} max(0, 1 - (x[j] - x[i])) / C``.

    ``target`` has the input's shape and lists each sample's classes first, ended by ``-1`` (the
    rest is ignored).
    """
    reduction = resolve_reduction(size_average, reduce, reduction)
    who = "multilabel_margin_loss"
    input, t = _class_input(who, input, target)
    if tuple(t.shape) != tuple(input.shape):
        raise RuntimeError(
            f"{who}: inconsistent target size: {list(target.shape)} for input of size: "
            f"{list(input.shape)} (the target lists class indices in a tensor of the input's shape)"
        )
    x2 = input.reshape((1, -1)) if input.ndim < 2 else input
    t2 = t.reshape(x2.shape)
    n, c = x2.shape
    listed = np.cumprod(t2 >= 0, axis=1).astype(bool)  # the entries before each row's first -1
    if np.any(t2[listed] >= c):
        raise RuntimeError(f"{who}: target index {int(t2[listed].max())} is out of bounds for {c} classes")
    count = np.zeros((n, c), dtype=np.float64)  # how often each class is listed (torch counts repeats)
    rows = np.broadcast_to(np.arange(n)[:, None], t2.shape)
    np.add.at(count, (rows[listed], t2[listed]), 1)
    is_target = count > 0
    pair = count[:, :, None] * (~is_target)[:, None, :]  # (n, j, i): j listed, i not a target
    margins = 1 - x2.unsqueeze(2) + x2.unsqueeze(1)
    # torch's kernel adds a pair's term only where it is > 0: a NaN term adds nothing, and an inf
    # or NaN of a pair that is not one (weight 0) is never multiplied
    margins = _ops.where(_mask((pair > 0) & (margins._data > 0)), margins, 0.0)
    loss = _ops.sum(margins * wrap(pair.astype(input._data.dtype)), (1, 2)) / c
    if input.ndim < 2:
        loss = loss.reshape(())
    return reduce_loss(loss, reduction)


# ---- embedding losses ---------------------------------------------------------------------------
def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """``1 - cos(x1, x2)`` where ``y = 1``, ``max(0, cos(x1, x2) - margin)`` where ``y = -1`` (the
    cosine with ``1e-12`` added to each squared norm, as torch)."""
    reduction = resolve_reduction(size_average, reduce, reduction)
    who = "cosine_embedding_loss"
    input1, input2, target = (as_tensor(v, who) for v in (input1, input2, target))
    if target.ndim > 1:
        raise RuntimeError(f"{who}: Expected 0D or 1D target tensor, got {target.ndim}D instead")
    if input1.shape != input2.shape:
        raise RuntimeError(
            f"{who}: the size of tensor a ({input1.shape}) must match the size of tensor b "
            f"({input2.shape}); give inputs of one shape"
        )
    if input1.ndim != target.ndim + 1:
        raise RuntimeError(
            f"{target.ndim}D target tensor expects {target.ndim + 1}D input tensors, but found inputs "
            f"with sizes {list(input1.shape)} and {list(input2.shape)}."
        )
    dim = input1.ndim - 1
    eps = 1e-12
    prod = _ops.sum(input1 * input2, dim)
    mag1 = _ops.sum(input1 * input1, dim) + eps
    mag2 = _ops.sum(input2 * input2, dim) + eps
    cos = prod / _ops.sqrt(mag1 * mag2)
    t = target._data
    pos = _ops.where(_mask(t == 1), 1 - cos, 0.0)
    neg = _ops.where(_mask(t == -1), _ops.clamp_min(cos - margin, 0), 0.0)
    return reduce_loss(pos + neg, reduction)


def _same_ndim(anchor: Tensor, positive: Tensor, negative: Tensor) -> None:
    a, p, n = anchor.ndim, positive.ndim, negative.ndim
    if not a == p == n:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of "
            f"dimensions, but got: anchor {a}D, positive {p}D, and negative {n}D inputs"
        )


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """``max(0, margin + d(a, pos) - d(a, neg))`` with ``d`` the ``p``-norm pairwise distance;
    ``swap`` uses ``min(d(a, neg), d(pos, neg))`` for the negative distance."""
    reduction = resolve_reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _same_ndim(anchor, positive, negative)
    dist_pos = pairwise_distance(anchor, positive, p, eps)
    dist_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        dist_neg = _ops.minimum(dist_neg, pairwise_distance(positive, negative, p, eps))
    return reduce_loss(_ops.clamp_min(margin + dist_pos - dist_neg, 0), reduction)


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function=None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """``triplet_margin_loss`` with any ``distance_function(x, y)`` (default ``pairwise_distance``)."""
    if reduction not in REDUCTION_NAMES:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _same_ndim(anchor, positive, negative)
    distance = distance_function or pairwise_distance
    dist_pos = distance(anchor, positive)
    dist_neg = distance(anchor, negative)
    if swap:
        dist_neg = _ops.minimum(dist_neg, distance(positive, negative))
    return reduce_loss(_ops.clamp_min(margin + dist_pos - dist_neg, 0), reduction)
