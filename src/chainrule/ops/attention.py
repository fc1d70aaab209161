"""Scaled dot-product attention as one recorded op with a hand-written backward.

    S = scale q k^T + mask,   P = softmax(S) (masked positions 0),   y = P v

Backward, with ``dP = g v^T`` and FlashAttention's row sums ``D = sum(g * y, -1)`` (equal to
``sum(dP * P, -1)`` since ``y = P v``, but over ``(L, Ev)`` instead of ``(L, S)``):

    dS = P (dP - D),   dq = scale dS k,   dk = scale dS^T q,   dv = P^T g,   dmask = dS

The composed form (matmul, mul, masked_fill, softmax, matmul) kept six nodes per call, each with
its own full-size temporaries (the scores, the masked scores, a broadcast bool mask, the
probabilities; forward and backward). Here the forward computes the scores in one buffer that
becomes the probabilities in place (the mask applied through ``np.add(where=)``, which
broadcasts it without materializing it), the node keeps only the probabilities, and the backward
makes one (L, S) buffer. A row that may attend to nothing gives zeros, as torch's SDPA (its
softmax denominator is 0: those rows are divided by 1).

For ``create_graph`` the rule recomputes the probabilities from ``q`` and ``k`` with
differentiable ops and writes the same formulas with them, so second derivatives work.
"""

from __future__ import annotations

import numpy as np

from ..autograd.graph import defop
from ..kernels.softmax import attention_score_grad, softmax_rows
from ._common import Tensor, all_true, make_result

__all__: list = []

_FLASH_NAME = "ScaledDotProductFlashAttentionForCpuBackward0"


@defop(
    "scaled_dot_product_attention",
    saves_out=True,
    formula=(
        "{g0} = scale dS {x1},  dS = P ({gy} {x2}^T - sum({gy} * {y}, -1)),  "
        "P = softmax(scale {x0} {x1}^T + mask)",
        "{g1} = scale dS^T {x0}",
        "{g2} = P^T {gy}",
        "{g3} = dS (a float attn_mask's)",
    ),
)
def _sdpa(F, g, xs, out, p, needs):
    scale, drop, probs = p
    q, k, v = xs[0], xs[1], xs[2]
    mask = xs[3] if len(xs) == 4 else None
    if F.is_tensor:  # create_graph: the probabilities as a function of q, k (and the mask)
        probs = _probs_tensor(F, q, k, mask, drop, scale, probs)
        dp = F.matmul(g, F.mT(v))
        ds = probs * (dp - F.sum(dp * probs, -1, True))
    else:
        ds = np.matmul(g, _transposed(v))
        fold = mask is None or not needs[3]  # the scale goes into dS unless dS is the mask's gradient
        S = ds.shape[-1]
        if (
            ds.shape == probs.shape
            and S
            and (
                attention_score_grad(
                    ds.reshape(-1, S),
                    probs.reshape(-1, S),
                    np.vecdot(g, out).reshape(-1),
                    scale if fold else 1.0,
                )
                is not None
            )
        ):
            scale = 1.0 if fold else scale
        else:
            ds -= np.sum(g * out, axis=-1, keepdims=True, dtype=ds.dtype)
            ds *= probs
    gq = _scaled(F.matmul(ds, k), scale) if needs[0] else None
    gk = _scaled(F.matmul(F.mT(ds), q), scale) if needs[1] else None
    gv = F.matmul(F.mT(probs), g) if needs[2] else None
    if mask is None:
        return gq, gk, gv
    return gq, gk, gv, (ds if needs[3] else None)


def _scaled(x, scale: float):
    return x if scale == 1.0 else x * scale


def _probs_tensor(F, q, k, mask, drop, scale, saved):
    """``softmax(scale q k^T + mask)`` with ``drop``'s positions left out, as Tensors; rows that
    attend to nothing (all zeros in the ``saved`` probabilities) are zeros."""
    if saved.shape[-1] == 0:  # no keys: nothing depends on q or k
        return F.constant(saved)
    s = F.matmul(q, F.mT(k)) * scale
    if mask is not None:
        s = s + mask
    dead = ~np.any(saved != 0, axis=-1, keepdims=True)
    if drop is not None:
        s = F.where(F.constant(np.logical_not(drop)), s, F.constant(np.array(-np.inf, saved.dtype)))
    if not dead.any():
        return F.softmax(s, -1)
    alive = F.constant(~dead)
    return F.where(alive, F.softmax(F.where(alive, s, F.constant(np.zeros((), saved.dtype))), -1), 0.0)


def _transposed(x: np.ndarray) -> np.ndarray:
    """``x^T`` over the last two dims, copied: NumPy's batched matmul of ``(L, E) @ (E, S)`` took
    6.5 ms with a transposed view as the right operand and 1.8 ms (copy included) with a copy
    ((16, 6, 128, 32) operands, one thread): the view does not reach BLAS's GEMM."""
    return np.ascontiguousarray(np.swapaxes(x, -1, -2))


def attention_probs(q: np.ndarray, k: np.ndarray, mask, drop, scale: float) -> np.ndarray:
    """``softmax(scale q k^T + mask)`` with ``drop``'s positions (a bool array broadcastable to the
    scores, True = leave out) at probability 0, in one buffer."""
    s = np.matmul(q, _transposed(k))
    L, S = s.shape[-2:]
    if mask is None and S and (drop is None or _is_causal(drop, L, S)):
        rows = s.reshape(-1, S)  # (a view: matmul's result is C-contiguous)
        if softmax_rows(rows, rows, scale, L, drop is not None) is not None:  # compiled, in place
            return s
    s *= s.dtype.type(scale)
    if mask is not None:
        if np.broadcast_shapes(s.shape, mask.shape) == s.shape:
            s += mask
        else:  # a mask with more batch dims than q k^T
            s = s + mask
    if drop is not None:
        if np.broadcast_shapes(s.shape, drop.shape) != s.shape:
            s = np.array(np.broadcast_to(s, np.broadcast_shapes(s.shape, drop.shape)))
        np.add(s, -np.inf, out=s, where=drop)  # (a NaN score stays NaN, as torch's -inf mask)
    if s.shape[-1] == 0:
        return s
    rows = s.reshape(-1, s.shape[-1])
    if softmax_rows(rows, rows) is not None:  # compiled, in place
        return s
    top = np.max(s, axis=-1, keepdims=True)
    if not all_true(np.isfinite(top)):  # rows of -inf (nothing to attend to) or with +inf / NaN
        top = np.where(np.isfinite(top), top, 0).astype(s.dtype)
    s -= top
    np.exp(s, out=s)
    total = np.sum(s, axis=-1, keepdims=True)
    if not all_true(total):  # rows that attend to nothing: 0 / 1
        total[total == 0] = 1
    s /= total
    return s


def _is_causal(drop, L: int, S: int) -> bool:
    """Whether ``drop`` is ``is_causal``'s mask, ``triu(ones((L, S)), 1)`` (compared: ~5 us)."""
    if type(drop) is not np.ndarray or drop.shape != (L, S) or drop.dtype != np.bool_:
        return False
    causal = _CAUSAL.get((L, S))
    if causal is None:
        causal = _CAUSAL[L, S] = np.triu(np.ones((L, S), dtype=bool), 1)
        if len(_CAUSAL) > 64:  # (a few sequence lengths in practice)
            _CAUSAL.clear()
    return np.array_equal(drop, causal)


_CAUSAL: dict = {}


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, drop, scale: float):
    """The fused node: ``softmax(scale q k^T + mask) v`` with ``drop`` (bool array, True = leave
    out) applied; ``mask`` a float Tensor or None. Inputs are checked by the caller
    (``nn.functional.scaled_dot_product_attention``)."""
    probs = attention_probs(q._data, k._data, None if mask is None else mask._data, drop, scale)
    out = np.matmul(probs, v._data)
    inputs = (q, k, v) if mask is None else (q, k, v, mask)
    op = _sdpa
    if q._data.ndim == 4 and (mask is None or not mask.requires_grad):
        op = _sdpa.shown_as(_FLASH_NAME)  # torch's CPU flash kernel; other calls take its math path
    return make_result(out, op, inputs, (scale, drop, probs))
