"""Loss functions of ``chainrule.nn.functional`` with torch's arguments and reductions.

Regression losses are compositions of differentiable ops; ``nll_loss``, the binary
cross-entropies and ``log_softmax`` are fused ops (``chainrule.ops.loss``/``softmax``), so
``cross_entropy`` costs two nodes. Every function takes ``reduction`` = ``'mean'`` | ``'sum'`` |
``'none'`` and torch's deprecated ``size_average``/``reduce`` pair.
"""

from __future__ import annotations

import warnings

from .. import ops as _ops
from .._fpe import user_stacklevel as _user_stacklevel
from .._tensor import Tensor
from ..ops import loss as _loss
from ..ops.loss_mse import mse_loss_node as _mse_loss_node

__all__ = [
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
]


def legacy_get_string(size_average: bool | None, reduce: bool | None, emit_warning: bool = True) -> str:
    """torch's translation of the deprecated ``size_average``/``reduce`` flags to ``reduction``."""
    if size_average is None:
        size_average = True
    if reduce is None:
        reduce = True
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    if emit_warning:
        warnings.warn(
            f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
            stacklevel=_user_stacklevel(),
        )
    return ret


def _resolve(size_average, reduce, reduction: str) -> str:
    if size_average is not None or reduce is not None:
        return legacy_get_string(size_average, reduce)
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "mean":
        return _ops.mean(loss)
    if reduction == "sum":
        return _ops.sum(loss)
    raise ValueError(f"{reduction} is not a valid value for reduction; use 'none', 'mean' or 'sum'")


def _warn_size(input: Tensor, target: Tensor) -> None:
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            stacklevel=_user_stacklevel(),
        )


def _weighted(
    loss: Tensor, input: Tensor, weight: Tensor | None, reduction: str, mean_by_weight: bool
) -> Tensor:
    """torch's per-element ``weight`` of mse/l1/huber: 'mean' divides by the weights' sum (mse, l1)
    or by the element count (huber)."""
    if weight is None:
        return _reduce(loss, reduction)
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return _ops.sum(loss) / _ops.sum(weight)
    return _reduce(loss, reduction)


# ---- regression losses ---------------------------------------------------------------------------
def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean squared error ``(x - y)^2`` (reduced); ``weight`` scales each element."""
    _warn_size(input, target)
    reduction = _resolve(size_average, reduce, reduction)
    _loss.check_reduction(reduction)
    if (
        weight is None
        and isinstance(input, Tensor)
        and isinstance(target, Tensor)
        and input.dtype == target.dtype
        and input.dtype.is_floating_point
    ):
        return _mse_loss_node(input, target, reduction)  # one node, torch's MseLossBackward0
    d = input - target
    return _weighted(d * d, input, weight, reduction, True)


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean absolute error ``|x - y|`` (reduced); ``weight`` scales each element."""
    _warn_size(input, target)
    reduction = _resolve(size_average, reduce, reduction)
    _loss.check_reduction(reduction)
    return _weighted(_ops.abs(input - target), input, weight, reduction, True)


def smooth_l1_loss(
    input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0
) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``d = x - y``); L1 when
    ``beta == 0``."""
    _warn_size(input, target)
    reduction = _resolve(size_average, reduce, reduction)
    _loss.check_reduction(reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = input - target
    ad = _ops.abs(d)
    if beta == 0.0:
        return _reduce(ad, reduction)
    loss = _ops.where(ad < beta, d * d * (0.5 / beta), ad - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0, weight: Tensor | None = None
) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``; ``weight`` scales each
    element."""
    _warn_size(input, target)
    _loss.check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    d = input - target
    ad = _ops.abs(d)
    loss = _ops.where(ad < delta, d * d * 0.5, (ad - 0.5 * delta) * delta)
    return _weighted(loss, input, weight, reduction, False)


# ---- classification losses -----------------------------------------------------------------------
def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices ``target`` under log-probabilities ``input``
    (``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``); 'mean' is the ``weight``-weighted mean."""
    reduction = _resolve(size_average, reduce, reduction)
    return _loss.nll_loss(input, target, weight, ignore_index, reduction)


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between the softmax of logits ``input`` and ``target``.

    Parameters
    ----------
    input : logits ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``.
    target : class indices (integers, shape ``()``, ``(N,)`` or ``(N, d1, ...)``), or class
        probabilities of the input's shape (floats).
    weight : ``(C,)`` per-class weights.
    ignore_index : class-index targets equal to it are skipped (not for probabilities).
    reduction : ``'mean'``, ``'sum'`` or ``'none'``.
    label_smoothing : in [0, 1]: the target mixes ``1 - label_smoothing`` of itself with a uniform
        distribution over the classes.
    """
    reduction = _resolve(size_average, reduce, reduction)
    _loss.check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if input.ndim == 0:
        raise RuntimeError("cross_entropy: input must have at least one dim (the classes), got a 0-d tensor")
    if weight is None and label_smoothing == 0.0 and reduction != "none" and input.ndim == 2:
        small = _loss.small_cross_entropy(input, target, ignore_index, reduction)
        if small is not None:  # the commonest call, in one compiled pass (ops/loss.py)
            return small
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[class_dim]
    logp = _ops.log_softmax(input, class_dim)
    w_shape = [1] * input.ndim
    w_shape[class_dim] = n_classes
    if target.shape == input.shape:  # class probabilities
        if not target.is_floating_point():
            raise RuntimeError(
                f"Expected floating point type for target with class probabilities, got {target.dtype}"
            )
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        if label_smoothing > 0 and n_classes:  # (no classes: nothing to smooth, nothing summed)
            target = target * (1 - label_smoothing) + label_smoothing / n_classes
        prod = logp * target
        if weight is not None:
            prod = prod * weight.reshape(w_shape)
        if reduction == "none":
            return -_ops.sum(prod, class_dim)
        if reduction == "sum":
            return -_ops.sum(prod)
        return -_ops.sum(prod) / (input.numel() / n_classes if input.numel() else float("nan"))
    if target.is_floating_point():
        if input.ndim >= 2 and target.shape[:1] != input.shape[:1]:  # torch's first check: a ValueError
            raise ValueError(
                f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                f"({target.shape[0] if target.ndim else 0}). (cross_entropy: input {list(input.shape)}, "
                f"target {list(target.shape)}; class probabilities need the input's shape)"
            )
        raise RuntimeError(
            f"cross_entropy: a floating point target ({target.dtype}) must have the "
            f"input's shape {list(input.shape)} (class probabilities), got "
            f"{list(target.shape)}; class indices must be integers (target.long())"
        )
    nll = _loss.nll_loss(logp, target, weight, ignore_index, reduction)
    if label_smoothing == 0.0:
        return nll
    t = target._data
    ignored = t == ignore_index
    smooth = logp if weight is None else logp * weight.reshape(w_shape)
    smooth = _ops.masked_fill(-_ops.sum(smooth, class_dim), _ops.tensor(ignored), 0.0)
    if reduction == "none":
        ret = smooth
    elif reduction == "sum":
        ret = _ops.sum(smooth)
    elif weight is None:
        ret = _ops.sum(smooth) / float((~ignored).sum())
    else:
        ret = _ops.sum(smooth) / float(weight._data[t[~ignored]].sum())
    return nll * (1 - label_smoothing) + ret * (label_smoothing / n_classes)


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """``-w (t log p + (1 - t) log(1 - p))`` on probabilities ``p`` (logs clamped at -100)."""
    reduction = _resolve(size_average, reduce, reduction)
    _loss.check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}) is deprecated. Please ensure they have the same size."
        )
    loss = _loss.binary_cross_entropy(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy of ``sigmoid(input)``, computed from the logits directly (stable for
    any logit); ``pos_weight`` weighs the positive term per class."""
    reduction = _resolve(size_average, reduce, reduction)
    _loss.check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    loss = _loss.binary_cross_entropy_with_logits(input, target, pos_weight)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """Kullback-Leibler divergence ``t (log t - x)`` of target ``t`` from log-probabilities ``x``.

    ``reduction='batchmean'`` divides the sum by the batch size (the mathematical KL divergence);
    ``'mean'`` divides by the element count. ``log_target=True``: ``target`` holds log-probabilities.
    """
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    elif reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.",
            stacklevel=_user_stacklevel(),
        )
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(
            f"{reduction} is not a valid value for reduction; use 'none', 'batchmean', 'sum' or 'mean'"
        )
    if log_target:
        loss = _ops.exp(target) * (target - input)
    else:
        positive = target._data > 0
        safe = _ops.where(_ops.tensor(positive), target, 1.0)
        loss = _ops.where(_ops.tensor(positive), target * _ops.log(safe), 0.0) - target * input
    if reduction == "batchmean":
        total = _ops.sum(loss)
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)
