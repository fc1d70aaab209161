"""Fused loss ops: negative log-likelihood and the two binary cross-entropies.

``nll_loss`` picks ``-w[t] * logp[n, t]`` for every sample and reduces in the same node, so
``cross_entropy`` is just two nodes (``log_softmax`` and this). The binary cross-entropies return
the element-wise loss; weights and the reduction are ordinary ops on top (see
``chainrule.nn.functional``). Their derivatives are torch's formulas, finite at the clamps.
"""

from __future__ import annotations

import numpy as np

from ..autograd.graph import defop, times
from ..kernels.softmax import log_softmax_nll_rows
from ._common import Tensor, any_true, as_array, as_tensor, lift_like, make_result, shape_str
from .softmax import _log_softmax

__all__: list = []

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction; use 'none', 'mean' or 'sum'")


# ---- negative log-likelihood ---------------------------------------------------------------------
@defop(
    "nll_loss",
    saves_inputs=False,
    formula="{g0}[n, t_n] = -{gy} * w[t_n], 0 elsewhere  (divided by the sum of the w[t_n] for 'mean')",
)
def _nll_loss(F, g, xs, out, p, needs):
    index, scale, shape = p
    return (F.index_put_zeros(shape, index, g * scale),)


def _target_index(who: str, x: np.ndarray, t: np.ndarray) -> tuple:
    """The advanced index that picks ``x[n, t[n, d...], d...]`` (target-shaped)."""
    if x.ndim == 1:
        if t.ndim != 0:
            raise ValueError(
                f"{who}: for an unbatched input of shape {shape_str(x.shape)} the target "
                f"must be 0-d (one class index), got shape {shape_str(t.shape)}"
            )
        return (t,)
    if t.shape[:1] != x.shape[:1]:
        raise ValueError(
            f"Expected input batch_size ({x.shape[0]}) to match target batch_size "
            f"({t.shape[0] if t.ndim else 0})."
        )
    if t.shape != (x.shape[0],) + x.shape[2:]:
        raise RuntimeError(
            f"{who}: expected target of shape {shape_str((x.shape[0],) + x.shape[2:])} "
            f"for an input of shape {shape_str(x.shape)} (N, C, d1, ...), got "
            f"{shape_str(t.shape)}"
        )
    nd = t.ndim
    grids = [np.arange(n).reshape((-1,) + (1,) * (nd - 1 - i)) for i, n in enumerate(t.shape)]
    return (grids[0], t) + tuple(grids[1:])


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """The negative log-likelihood of class indices under log-probabilities ``input``.

    Parameters
    ----------
    input : ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)`` log-probabilities.
    target : integer class indices of shape ``()``, ``(N,)`` or ``(N, d1, ...)``.
    weight : ``(C,)`` per-class weights (a constant).
    ignore_index : targets with this value contribute nothing (nor to the mean's denominator).
    reduction : ``'mean'`` (weighted mean), ``'sum'`` or ``'none'``.
    """
    check_reduction(reduction)
    input, target = as_tensor(input, "nll_loss"), as_tensor(target, "nll_loss")
    x, t = input._data, target._data
    if t.dtype.kind not in "iu":
        raise RuntimeError(
            f"nll_loss: expected target of an integer dtype (class indices, int64), got "
            f"{target.dtype}; for class probabilities use cross_entropy"
        )
    if x.ndim == 0:
        raise ValueError(
            "nll_loss: input tensor should be 1D, 2D or more (C), (N, C), (N, C, d1...), got a 0-d tensor"
        )
    n_classes = x.shape[0 if x.ndim == 1 else 1]
    w = None
    if weight is not None:
        w = as_tensor(weight, "nll_loss")._data
        if w.shape != (n_classes,):
            raise RuntimeError(
                f"weight tensor should be defined either for all {n_classes} classes or no "
                f"classes but got weight tensor of shape: {list(w.shape)}"
            )
        w = w.astype(x.dtype, copy=False)
    if w is None and reduction == "mean" and x.ndim == 2 and type(x) is type(t) is np.ndarray:
        fast = _plain_mean_nll(x, t, ignore_index)
        if fast is not None:
            out, index, scale = fast
            return make_result(out, _nll_loss, (input,), (index, scale, x.shape))
    valid = t != ignore_index
    t_safe = np.where(valid, t, 0)
    bad = valid & ((t_safe < 0) | (t_safe >= n_classes))
    if any_true(bad):
        raise IndexError(
            f"Target {int(t[bad].reshape(-1)[0])} is out of bounds (nll_loss: {n_classes} "
            "classes, so targets must lie in [0, C) or equal ignore_index)."
        )
    index = _target_index("nll_loss", x, t_safe)
    picked = x[index]
    coef = (
        valid.astype(x.dtype)
        if w is None
        else np.where(valid, lift_like(w, t_safe)[t_safe], 0).astype(x.dtype)
    )
    losses = np.where(valid, -(picked * coef), 0).astype(x.dtype, copy=False)
    if reduction == "none":
        out, scale = losses, -coef
    elif reduction == "sum":
        out, scale = as_array(losses.sum(), x.dtype), -coef
    else:
        denom = coef.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            out = as_array(losses.sum() / denom, x.dtype)
            if any_true(denom == 0):  # every target ignored (in some sample, under vmap): no gradient
                scale = np.where(denom != 0, -coef / np.where(denom != 0, denom, 1), 0)
            else:
                scale = -coef / denom
    return make_result(out, _nll_loss, (input,), (index, scale.astype(x.dtype, copy=False), x.shape))


def _plain_mean_nll(x: np.ndarray, t: np.ndarray, ignore_index: int):
    """The commonest call, ``(N, C)`` log-probabilities, ``(N,)`` targets all in ``[0, C)``, no
    weights, the mean: ``(loss, index, scale)`` in 8 NumPy calls instead of ~25 (a (32, 10) batch's
    nll_loss cost 35 us against torch's 4), the same arithmetic as the general path below (the
    sum of ``-x[n, t_n]`` divided by ``N``, each element's gradient scale ``-1 / N``). None where a
    target is ignored or out of range (the general path then counts them or raises)."""
    n = t.shape[0] if t.ndim == 1 else -1
    if n != x.shape[0] or n == 0:
        return None
    lowest, highest = t.min(), t.max()
    if (
        lowest < 0
        or highest >= x.shape[1]
        or (lowest <= ignore_index <= highest and any_true(t == ignore_index))
    ):
        return None
    index = (np.arange(n), t)
    dtype = x.dtype.type
    denom = dtype(n)
    out = as_array(np.negative(x[index]).sum() / denom, x.dtype)
    return out, index, np.full(n, dtype(-1) / denom, x.dtype)


def small_cross_entropy(input: Tensor, target: Tensor, ignore_index: int, reduction: str) -> Tensor | None:
    """``cross_entropy`` of a small ``(N, C)`` batch of logits with class-index targets, no weights,
    'mean' or 'sum': the same two nodes as ``nll_loss(log_softmax(input, 1))`` (the same saved
    values, names, hooks and version checks), both computed by one compiled call
    (``kernels.softmax.log_softmax_nll_rows``) instead of a dozen NumPy calls: 23 -> 8 us for a
    (32, 10) batch, the lecture MLP's loss (torch 8.5 us). None where that call does not apply
    (the caller takes the general path)."""
    x, t = input._data, target._data
    if type(x) is not np.ndarray or type(t) is not np.ndarray or x.ndim != 2:
        return None
    fused = log_softmax_nll_rows(x, t, ignore_index)
    if fused is None:
        return None
    z, total = fused
    n = x.shape[0]
    dtype = x.dtype.type
    logp = make_result(z, _log_softmax, (input,), (1,))
    if reduction == "mean":
        out, scale = np.asarray(dtype(total / n)), np.full(n, dtype(-1) / dtype(n), x.dtype)
    else:
        out, scale = np.asarray(dtype(total)), np.full(n, dtype(-1), x.dtype)
    return make_result(out, _nll_loss, (logp,), ((np.arange(n), t), scale, x.shape))


# ---- binary cross-entropy on probabilities -----------------------------------------------------
_EPS = 1e-12


@defop(
    "binary_cross_entropy",
    formula=(
        "{g0} = {gy} * ({x0} - {x1}) / max({x0} (1 - {x0}), 1e-12)",
        "{g1} = {gy} * log((1 - {x0}) / {x0})",
    ),
    local=(
        times(lambda xs, y, p: (xs[0] - xs[1]) / np.maximum(xs[0] * (1 - xs[0]), _EPS)),
        times(lambda xs, y, p: np.log(1 - xs[0]) - np.log(xs[0])),
    ),
)
def _bce(F, g, xs, out, p, needs):
    x, y = xs
    gx = g * (x - y) / F.maximum(x * (1 - x), _EPS) if needs[0] else None
    gy = None
    if needs[1]:
        with np.errstate(divide="ignore"):
            gy = g * (F.log(1 - x) - F.log(x))
    return gx, gy


def binary_cross_entropy(input: Tensor, target: Tensor) -> Tensor:
    """Element-wise ``-(t log p + (1 - t) log(1 - p))`` with each log clamped at -100, as torch."""
    input, target = as_tensor(input, "binary_cross_entropy"), as_tensor(target, "binary_cross_entropy")
    x, y = input._data, target._data
    if y.dtype != x.dtype:
        y = y.astype(x.dtype)
        target = target.to(input.dtype)
    if any_true(~((x >= 0) & (x <= 1))):  # NaN too, as torch
        raise RuntimeError(
            "all elements of input should be between 0 and 1 (binary_cross_entropy takes "
            "probabilities; for logits use binary_cross_entropy_with_logits)"
        )
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(x), -100)
        log_q = np.maximum(np.log1p(-x), -100)
    out = -(y * log_p + (1 - y) * log_q)
    return make_result(out.astype(x.dtype, copy=False), _bce, (input, target))


# ---- binary cross-entropy on logits --------------------------------------------------------------
def _softplus_neg(F, x):
    """``log(1 + exp(-x))`` without overflow (F.maximum's half-gradient at 0 makes it exact)."""
    return F.log1p(F.exp(-F.abs(x))) + F.maximum(-x, 0.0)


def _softplus(F, x):
    """``log(1 + exp(x))`` without overflow."""
    return F.log1p(F.exp(-F.abs(x))) + F.maximum(x, 0.0)


@defop(
    "binary_cross_entropy_with_logits",
    formula=(
        "{g0} = {gy} * ((1 + (pw - 1) {x1}) sigmoid({x0}) - pw {x1})  (pw = 1 without pos_weight)",
        "{g1} = {gy} * (pw softplus(-{x0}) - softplus({x0}))",
        "{g2} = {gy} * {x1} softplus(-{x0})",
    ),
)
def _bce_logits(F, g, xs, out, p, needs):
    x, y = xs[0], xs[1]
    pw = xs[2] if len(xs) == 3 else None
    gx = gy = gpw = None
    if needs[0]:
        s = F.sigmoid(x)
        gx = g * (s - y) if pw is None else g * ((1 + (pw - 1) * y) * s - pw * y)
    if needs[1] or (pw is not None and needs[2]):
        sp = _softplus_neg(F, x)
        if needs[1] and pw is None:
            gy = -(g * x)
        elif needs[1]:
            # torch's log_sigmoid(-x) - pw log_sigmoid(x), i.e. pw softplus(-x) - softplus(x):
            # the same as (pw - 1) softplus(-x) - x, but with no inf - inf at x = -inf
            gy = g * (pw * sp - _softplus(F, x))
        if pw is not None and needs[2]:
            gpw = g * y * sp
    return (gx, gy) if pw is None else (gx, gy, gpw)


def binary_cross_entropy_with_logits(
    input: Tensor, target: Tensor, pos_weight: Tensor | None = None
) -> Tensor:
    """Element-wise ``(1 - t) x + (1 + (pw - 1) t) log(1 + exp(-x))``: the binary cross-entropy of
    ``sigmoid(x)``, computed without ever forming the sigmoid (stable for any logit)."""
    input = as_tensor(input, "binary_cross_entropy_with_logits")
    target = as_tensor(target, "binary_cross_entropy_with_logits")
    x = input._data
    if target._data.dtype != x.dtype:
        target = target.to(input.dtype)
    y = target._data
    sp = np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)
    if pos_weight is None:
        out = (1 - y) * x + sp
        return make_result(out.astype(x.dtype, copy=False), _bce_logits, (input, target))
    pos_weight = as_tensor(pos_weight, "binary_cross_entropy_with_logits")
    if pos_weight._data.dtype != x.dtype:
        pos_weight = pos_weight.to(input.dtype)
    pw = pos_weight._data
    try:
        out = (1 - y) * x + (1 + (pw - 1) * y) * sp
    except ValueError:
        raise RuntimeError(
            f"binary_cross_entropy_with_logits: pos_weight of shape {shape_str(pw.shape)} "
            f"does not broadcast with the target's shape {shape_str(y.shape)}; give one "
            "weight per class (the last dim)"
        ) from None
    return make_result(out.astype(x.dtype, copy=False), _bce_logits, (input, target, pos_weight))


_bce.same_shape = True
