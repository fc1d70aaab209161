"""Likelihood losses of ``chainrule.nn.functional`` (re-exported there): Poisson and Gaussian
negative log-likelihoods, and the CTC loss (whose forward-backward op is ``chainrule.ops.ctc``)."""

from __future__ import annotations

import math

import numpy as np

from .. import ops as _ops
from .._tensor import Tensor, wrap
from ..autograd.grad_mode import no_grad
from ..ops._common import any_true, as_array, as_tensor, shape_str
from ..ops.ctc import ctc_loss_none
from .functional_loss import legacy_get_string
from .functional_loss_margin import REDUCTION_NAMES, reduce_loss

__all__ = ["poisson_nll_loss", "gaussian_nll_loss", "ctc_loss"]


def poisson_nll_loss(
    input: Tensor,
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average=None,
    eps: float = 1e-8,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """The negative log-likelihood of ``target`` under a Poisson of rate ``exp(input)``
    (``log_input``) or ``input``: ``exp(x) - t x`` or ``x - t log(x + eps)``; ``full`` adds
    Stirling's approximation ``t log t - t + log(2 pi t) / 2`` where ``t > 1``."""
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    if reduction not in REDUCTION_NAMES:
        raise ValueError(reduction + " is not a valid value for reduction")
    if log_input:
        loss = _ops.exp(input) - target * input
    else:
        loss = input - target * _ops.log(input + eps)
    if full:
        # on every target, as torch: where t <= 0 the unused term is NaN, and so is its gradient
        t = as_tensor(target, "poisson_nll_loss")
        with np.errstate(divide="ignore", invalid="ignore"):
            stirling = t * _ops.log(t) - t + 0.5 * _ops.log(2 * math.pi * t)
        loss = loss + _ops.where(wrap(as_array(t._data > 1)), stirling, 0.0)
    return reduce_loss(loss, reduction)


def gaussian_nll_loss(
    input: Tensor,
    target: Tensor,
    var: Tensor | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """``(log(max(var, eps)) + (x - t)^2 / max(var, eps)) / 2`` (+ ``log(2 pi) / 2`` with ``full``).

    ``var`` is the input's shape, or one dim short of it, or broadcastable with one mismatched
    dim (homoscedastic), or a float. The clamp at ``eps`` is outside autograd, as torch's.
    """
    if not isinstance(var, float | Tensor):
        raise TypeError(
            f"gaussian_nll_loss: var must be a Tensor or a float, got {type(var).__name__} (write 1.0, not 1)"
        )
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = _ops.ones_like(input) * var
    elif any_true(as_tensor(var, "gaussian_nll_loss")._data < 0):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in REDUCTION_NAMES:
        raise ValueError(reduction + " is not valid")
    var = _ops.clone(var)
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (_ops.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_loss(loss, reduction)


# ---- CTC ----------------------------------------------------------------------------------------
def _lengths(who: str, name: str, value, batch: int) -> np.ndarray:
    array = value._data if isinstance(value, Tensor) else np.asarray(value)
    if array.dtype.kind not in "iu":
        raise RuntimeError(f"{who}: {name} must be integers (int64 or int32), got dtype {array.dtype}")
    array = array.astype(np.int64).reshape(-1)
    if array.shape[0] != batch:
        raise RuntimeError(f"{name} must be of size batch_size")
    return array


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths,
    target_lengths,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    """Connectionist temporal classification loss.

    Parameters
    ----------
    log_probs : ``(T, N, C)`` (or unbatched ``(T, C)``) log-probabilities, e.g. from log_softmax.
    targets : ``(N, S)`` padded class indices, or all targets concatenated into one 1-D tensor.
    input_lengths, target_lengths : ``(N,)`` lengths (tensors, lists or tuples of ints).
    blank : the blank class.
    reduction : 'mean' (each loss divided by its target length, then the batch mean), 'sum' or
        'none'.
    zero_infinity : infinite losses (targets impossible in the input length) and their gradients
        become zero.
    """
    who = "ctc_loss"
    log_probs = as_tensor(log_probs, who)
    if reduction not in REDUCTION_NAMES:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    unbatched = log_probs.ndim == 2
    if log_probs.ndim not in (2, 3):
        raise RuntimeError(
            f"{who}: log_probs must be (T, N, C) or unbatched (T, C), got shape {shape_str(log_probs.shape)}"
        )
    if not log_probs.is_floating_point():
        raise NotImplementedError(
            f"\"ctc_loss_cpu\" not implemented for '{log_probs.dtype}' (log_probs must be floating point)"
        )
    if log_probs.numel() == 0:
        raise RuntimeError("log_probs tensor must not be empty")
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    T, N, C = lp.shape
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    t = as_tensor(targets, who)._data
    if unbatched:
        t = t.reshape((1, -1))
    il = _lengths(who, "input_lengths", input_lengths, N)
    tl = _lengths(who, "target_lengths", target_lengths, N)
    for name, lengths in (("input_lengths", il), ("target_lengths", tl)):
        if lengths.size and lengths.min() < 0:
            raise RuntimeError(
                f"Expected {name} to have value at least 0, but got value {int(lengths.min())} "
                "(while checking arguments for ctc_loss_allocate_outputs)"
            )
    if il.size and il.max() > T:
        raise RuntimeError(
            f"Expected input_lengths to have value at most {T}, but got value {int(il.max())} "
            "(while checking arguments for ctc_loss_allocate_outputs)"
        )
    labels = _padded_labels(t.astype(np.int64), tl, N)
    inside = np.arange(labels.shape[1])[None, :] < tl[:, None]  # the padding is never read
    used = labels[inside]
    if used.size and (used.min() < 0 or used.max() >= C):
        raise RuntimeError(
            f"{who}: target class indices must lie in [0, {C}) (C = log_probs.shape[-1]), "
            f"got values from {int(used.min())} to {int(used.max())}"
        )
    labels = np.where(inside, labels, blank)
    nll = ctc_loss_none(lp, labels, il, tl, int(blank), zero_infinity)
    if reduction == "none":
        return nll.reshape(()) if unbatched else nll
    if reduction == "sum":
        return _ops.sum(nll)
    divisor = wrap(np.maximum(tl, 1).astype(nll._data.dtype))
    return _ops.mean(nll / divisor)


def _padded_labels(t: np.ndarray, target_lengths: np.ndarray, batch: int) -> np.ndarray:
    """The targets as a padded ``(N, max S)`` array: from an ``(N, S)`` tensor or a concatenation."""
    longest = int(target_lengths.max()) if target_lengths.size else 0
    if t.ndim == 2 and not (batch == 1 and t.shape[0] != 1):
        if t.shape[1] < longest:
            raise RuntimeError(
                f"Expected tensor to have size at least {longest} at dimension 1, but got size "
                f"{t.shape[1]} for argument #2 'targets' (while checking arguments for "
                "ctc_loss_allocate_outputs)"
            )
        return t[:, :longest].reshape(batch, longest)
    flat = t.reshape(-1)
    if flat.shape[0] < int(target_lengths.sum()):
        raise RuntimeError(
            f"ctc_loss: the concatenated targets hold {flat.shape[0]} labels, but target_lengths "
            f"sum to {int(target_lengths.sum())}"
        )
    labels = np.zeros((batch, longest), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(target_lengths)[:-1]]).astype(np.int64)
    for n in range(batch):
        labels[n, : target_lengths[n]] = flat[starts[n] : starts[n] + target_lengths[n]]
    return labels
