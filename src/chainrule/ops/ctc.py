"""Connectionist temporal classification loss: the forward-backward algorithm in log space.

For each sample, the target ``l`` (length S) is extended with blanks, ``l' = (b, l1, b, l2, ..., b)``
(length 2S + 1), and

    alpha[t, s] = lp[t, l'_s] + logsumexp(alpha[t-1, s], alpha[t-1, s-1], alpha[t-1, s-2])
    beta[t, s]  = lp[t, l'_s] + logsumexp(beta[t+1, s], beta[t+1, s+1], beta[t+1, s+2])

(the two-step move only between different labels, never onto or from a blank). The loss is
``-log p(l | x) = -logsumexp(alpha[T-1, 2S], alpha[T-1, 2S-1])``, and the gradient that torch
returns with respect to ``log_probs`` is

    exp(lp[t, c]) - exp(logsumexp_{s: l'_s = c}(alpha[t, s] + beta[t, s]) + nll - lp[t, c])

(zero for ``t`` past the sample's input length). That is the derivative with respect to the logits
of ``log_probs = log_softmax(logits)`` carried back to ``log_probs``: through the log_softmax it
gives the exact gradient, as torch's does.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.graph import defop
from ..autograd.math import register
from ._common import Tensor, any_batched, make_result, map_stacked, save_outputs, wrap

__all__: list = []


def _logsumexp(*terms: np.ndarray) -> np.ndarray:
    """torch's CTC log-sum-exp: ``log(sum exp(x - m)) + m`` with ``m`` the largest term, 0 when
    that is ``-inf`` (nothing reachable: ``-inf``); a ``+inf`` term gives ``inf - inf``, NaN, as
    torch's kernel (``np.logaddexp`` would give inf)."""
    top = terms[0]
    for x in terms[1:]:
        top = np.maximum(top, x)
    safe = np.where(top == -np.inf, 0, top)
    total = sum(np.exp(x - safe) for x in terms)
    with np.errstate(divide="ignore", invalid="ignore"):
        return safe + np.log(total)


def _shift(x: np.ndarray, k: int, fill: float) -> np.ndarray:
    """``x`` moved ``k`` places along the last dim (right for k > 0), filled with ``fill``."""
    out = np.full_like(x, fill)
    if k > 0:
        out[..., k:] = x[..., :-k]
    else:
        out[..., :k] = x[..., -k:]
    return out


def ctc_stacked(
    lp, labels: np.ndarray, input_lengths: np.ndarray, target_lengths: np.ndarray, blank: int
) -> tuple:
    """``ctc_forward_backward`` of ``lp`` ``(*, T, N, C)``: every leading dim a stack of problems
    (vmap's batch comes in as one, through ``map_stacked``)."""
    if any_batched(lp):
        return map_stacked(
            lambda a: ctc_stacked(a, labels, input_lengths, target_lengths, blank), (lp,), (3,)
        )
    if lp.ndim == 3:
        return ctc_forward_backward(lp, labels, input_lengths, target_lengths, blank)
    flat = lp.reshape((-1,) + lp.shape[-3:])
    parts = [ctc_forward_backward(one, labels, input_lengths, target_lengths, blank) for one in flat]
    nll = np.stack([nll for nll, _ in parts]).reshape(lp.shape[:-3] + lp.shape[-2:-1])
    grad = np.stack([grad for _, grad in parts]).reshape(lp.shape)
    return nll, grad


def ctc_forward_backward(
    lp: np.ndarray, labels: np.ndarray, input_lengths: np.ndarray, target_lengths: np.ndarray, blank: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(nll (N,), torch's gradient of the nll sum wrt lp (T, N, C))`` for padded ``labels`` (N, S)."""
    T, N, C = lp.shape
    if labels.shape[1] == 0:  # every target empty: one padding label keeps the arrays' shapes
        labels = np.full((N, 1), blank, dtype=np.int64)
    S = labels.shape[1]
    L = 2 * S + 1
    ext = np.full((N, L), blank, dtype=np.int64)
    ext[:, 1::2] = labels
    # the skip from s - 2 to s: allowed onto a label that differs from the label two places back
    skip = np.zeros((N, L), dtype=bool)
    skip[:, 3::2] = labels[:, 1:] != labels[:, :-1]
    skip_from = _shift(skip, -2, False)  # beta's view: s may take from s + 2
    rows = np.arange(N)[:, None]
    emit = lp.transpose(1, 0, 2)[rows[:, :, None], np.arange(T)[None, :, None], ext[:, None, :]]  # (N, T, L)
    neg_inf = -np.inf
    valid = np.arange(L)[None, :] <= 2 * target_lengths[:, None]
    alpha = np.full((T, N, L), neg_inf, dtype=lp.dtype)
    beta = np.full((T, N, L), neg_inf, dtype=lp.dtype)
    a = np.full((N, L), neg_inf, dtype=lp.dtype)
    a[:, 0] = emit[:, 0, 0]
    a[:, 1] = np.where(target_lengths > 0, emit[:, 0, 1], neg_inf)
    a = np.where(valid, a, neg_inf)
    alpha[0] = a
    for t in range(1, T):
        prev = alpha[t - 1]
        two = np.where(skip, _shift(prev, 2, neg_inf), neg_inf)
        alpha[t] = np.where(valid, emit[:, t] + _logsumexp(prev, _shift(prev, 1, neg_inf), two), neg_inf)
    last = np.clip(input_lengths - 1, 0, None)
    end = alpha[last, np.arange(N)]  # (N, L)
    i_end = 2 * target_lengths
    ll = _logsumexp(
        end[np.arange(N), i_end], np.where(target_lengths > 0, end[np.arange(N), i_end - 1], neg_inf)
    )
    ll = np.where(input_lengths > 0, ll, np.where(target_lengths == 0, 0.0, neg_inf))
    for t in range(T - 1, -1, -1):
        start = np.full((N, L), neg_inf, dtype=lp.dtype)
        start[np.arange(N), i_end] = emit[np.arange(N), t, i_end]
        has_label = target_lengths > 0
        start[np.arange(N)[has_label], i_end[has_label] - 1] = emit[np.arange(N), t, i_end - 1][has_label]
        if t + 1 < T:
            nxt = beta[t + 1]
            two = np.where(skip_from, _shift(nxt, -2, neg_inf), neg_inf)
            rec = emit[:, t] + _logsumexp(nxt, _shift(nxt, -1, neg_inf), two)
        else:
            rec = np.full((N, L), neg_inf, dtype=lp.dtype)
        here = (t == last)[:, None]
        before = (t < last)[:, None]
        beta[t] = np.where(valid & here, start, np.where(valid & before, rec, neg_inf))
    nll = -ll
    with np.errstate(invalid="ignore", over="ignore"):
        ab = alpha + beta  # (T, N, L)
        per_class = np.full((T, N, C), neg_inf, dtype=lp.dtype)
        for c in np.unique(ext):
            hit = ext == c  # (N, L)
            sel = np.where(hit[None], ab, neg_inf)
            top = sel.max(-1)
            safe = np.where(np.isfinite(top), top, 0)
            with np.errstate(divide="ignore"):
                lse = np.where(np.isfinite(top), safe + np.log(np.exp(sel - safe[..., None]).sum(-1)), top)
            cols = np.zeros((N, C), dtype=bool)
            cols[np.arange(N), c] = True
            per_class = np.where(cols[None], lse[..., None], per_class)
        grad = np.exp(lp) - np.exp(per_class + nll[None, :, None] - lp)
    in_time = np.arange(T)[:, None] < input_lengths[None, :]
    grad = np.where(in_time[..., None], grad, 0)
    return nll.astype(lp.dtype, copy=False), grad.astype(lp.dtype, copy=False)


@defop(
    "ctc_loss",
    formula="{g0} = {gy} * (exp({x0}) - exp(logsumexp over l'_s = c of alpha + beta, + nll - {x0}))",
)
def _ctc_loss(F, g, xs, out, p, needs):
    (grad,) = p
    return (F.ctc_loss_backward(F.reshape(g, (1, -1, 1)), grad, xs[0]),)


class _CtcLossBackward(Function):
    """``g * grad`` on ``g`` and ``log_probs``, whose own backward raises, as torch's does: with
    create_graph the gradient of ctc_loss is a tensor that cannot be differentiated again (rather
    than one whose dependence on log_probs would be silently dropped)."""

    @staticmethod
    def forward(ctx, g: Tensor, log_probs: Tensor, grad: np.ndarray) -> Tensor:
        return wrap(g._data * grad)

    @staticmethod
    def backward(ctx, grad_output):
        raise RuntimeError(
            "derivative for _ctc_loss_backward is not implemented: ctc_loss has no second derivative "
            "(as torch); compute its gradient without create_graph, or detach it"
        )


register(
    "ctc_loss_backward",
    lambda g, grad, log_probs: g * grad,
    lambda g, grad, log_probs: _CtcLossBackward.apply(g, log_probs, grad),
)


def ctc_loss_none(
    log_probs: Tensor,
    labels: np.ndarray,
    input_lengths: np.ndarray,
    target_lengths: np.ndarray,
    blank: int,
    zero_infinity: bool,
) -> Tensor:
    """The per-sample negative log-likelihoods ``(N,)`` of ``log_probs`` ``(T, N, C)`` (checked
    arguments: padded int64 ``labels`` (N, S) and int64 lengths)."""
    lp = log_probs._data
    nll, grad = ctc_stacked(lp, labels, input_lengths, target_lengths, blank)
    if zero_infinity:
        infinite = np.isinf(nll)
        nll = np.where(infinite, 0, nll).astype(lp.dtype, copy=False)
        grad = np.where(infinite[None, :, None], 0, grad).astype(lp.dtype, copy=False)
    loss = make_result(nll, _ctc_loss, (log_probs,), (grad,))
    save_outputs(loss, loss)  # torch's rule reads the loss it returned: changing it in place fails backward
    return loss
