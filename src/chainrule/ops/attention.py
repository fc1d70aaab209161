"""Scaled dot-product attention as one recorded op with a hand-written backward.

    S = scale q k^T + mask,   P = softmax(S) (masked positions 0),   y = P v

Backward, with ``dP = g v^T`` and FlashAttention's row sums ``D = sum(g * y, -1)`` (equal to
``sum(dP * P, -1)`` since ``y = P v``, but over ``(L, Ev)`` instead of ``(L, S)``; the node of
torch's math path keeps no output, as torch's, and takes the second form):

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

import math

import numpy as np

from ..autograd.grad_mode import GRAD
from ..autograd.graph import Op, defop
from ..kernels import jit
from ..kernels.softmax import attention_score_grad, probs_from_lse, softmax_rows
from ._common import Tensor, all_true, make_result
from .elementwise import mul

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
    scale, drop, probs, lse = p
    q, k, v = xs[0], xs[1], xs[2]
    mask = xs[3] if len(xs) == 4 else None
    if F.is_tensor:  # create_graph: the probabilities as a function of q, k (and the mask)
        if probs is None:
            probs = recompute_probs(q._data, k._data, None if mask is None else mask._data, drop, scale, lse)[
                0
            ]
        probs = _probs_tensor(F, q, k, mask, drop, scale, probs)
        dp = F.matmul(g, F.mT(v))
        ds = probs * (dp - F.sum(dp * probs, -1, True))
    else:
        ds = np.matmul(g, _transposed(v))
        fold = mask is None or not needs[3]  # the scale goes into dS unless dS is the mask's gradient
        if out is not None:
            d = np.vecdot(g, out)  # FlashAttention's D = sum(dP * P) = sum(g * y)
        else:  # the math node keeps no output (see _sdpa_math): D from dP and P, over (L, S)
            if probs is None:
                probs = recompute_probs(q, k, mask, drop, scale, lse)[0]
            d = np.vecdot(ds, probs)
        grad_scale = scale if fold else 1.0
        S = ds.shape[-1]
        if probs is None:  # remade from the log-sum-exps, dS made chunk by chunk beside them
            probs, done = recompute_probs(q, k, mask, drop, scale, lse, ds, d, grad_scale)
        else:
            done = (
                ds.shape == probs.shape
                and S > 0
                and attention_score_grad(ds.reshape(-1, S), probs.reshape(-1, S), d.reshape(-1), grad_scale)
                is not None
            )
        if done:
            scale = 1.0 if fold else scale
        else:
            ds -= d[..., None].astype(ds.dtype, copy=False)
            ds *= probs
    gq = _scaled(F.matmul(ds, k), scale) if needs[0] else None
    gk = _scaled(F.matmul(F.mT(ds), q), scale) if needs[1] else None
    gv = F.matmul(F.mT(probs), g) if needs[2] else None
    if mask is None:
        return gq, gk, gv
    return gq, gk, gv, (ds if needs[3] else None)


# torch's math kernel (inputs not 4-d, or a mask that requires grad) composes matmul, softmax and
# matmul: it keeps scaled copies of q and k, the probabilities, and v, and not its output nor the
# mask; so only an in-place change of v fails its backward (its flash kernel's node saves q, k, v,
# the mask and the output)
_sdpa_math = Op(
    _sdpa.name,
    _sdpa.backward,
    reads=((1, 2), (0, 2), (), (2,)),  # (q and k: the scaled copies, see scaled_dot_product_attention)
    formula=_sdpa.templates,
)
_sdpa_math.node_name = _sdpa.node_name


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


def _scores(q: np.ndarray, k: np.ndarray, mask, drop, scale: float, fused: bool) -> tuple:
    """``(s, scale_left, causal)``: the scores ``q k^T`` with what the compiled softmax does not
    do itself applied (``scale``, the float ``mask``, ``drop``'s positions at ``-inf``; all of it
    unless ``fused``), the scale still to apply, and whether the causal mask is still to apply."""
    s = np.matmul(q, _transposed(k))
    L, S = s.shape[-2:]
    if fused and mask is None and (drop is None or _is_causal(drop, L, S)):
        return s, scale, drop is not None
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
    return s, 1.0, False


def attention_probs(q: np.ndarray, k: np.ndarray, mask, drop, scale: float) -> tuple:
    """``(P, lse)``: ``P = softmax(scale q k^T + mask)`` with ``drop``'s positions (a bool array
    broadcastable to the scores, True = leave out) at probability 0, in one buffer, and, where the
    compiled softmax made it, each row's log-sum-exp (``recompute_probs`` remakes ``P`` from it),
    else None."""
    fused = jit.enabled()
    s, scale_left, causal = _scores(q, k, mask, drop, scale, fused)
    S = s.shape[-1]
    if S == 0:
        return s, None
    if fused:
        rows = s.reshape(-1, S)  # (a view: s is C-contiguous)
        lse = np.empty(rows.shape[0], s.dtype)
        if softmax_rows(rows, rows, scale_left, s.shape[-2], causal, lse) is not None:  # in place
            return s, lse
        if scale_left != 1.0 or causal:  # (arrays the kernels do not take)
            s, _, _ = _scores(q, k, mask, drop, scale, False)
    top = np.max(s, axis=-1, keepdims=True)
    if not all_true(np.isfinite(top)):  # rows of -inf (nothing to attend to): zeros; a +inf: NaN
        top = np.where(top == -np.inf, 0, top).astype(s.dtype)  # (inf - inf), as torch's rows
    s -= top
    np.exp(s, out=s)
    total = np.sum(s, axis=-1, keepdims=True)
    if not all_true(total):  # rows that attend to nothing: 0 / 1
        total[total == 0] = 1
    s /= total
    return s, None


def recompute_probs(
    q: np.ndarray, k: np.ndarray, mask, drop, scale: float, lse: np.ndarray, ds=None, d=None, grad_scale=1.0
):
    """``(P, done)``: the probabilities ``attention_probs`` returned with ``lse``, again (the
    scores' GEMM and ``exp(scale s - lse)``, no maximum and no sum: the node keeps (R,) values, not
    (R, S)), and whether ``ds`` (given with ``d``) became ``attention_score_grad``'s in the same
    pass."""
    s, scale_left, causal = _scores(q, k, mask, drop, scale, jit.enabled())
    rows = s.reshape(-1, s.shape[-1])
    if ds is not None:
        S = ds.shape[-1]
        fused = probs_from_lse(
            rows, rows, scale_left, lse, s.shape[-2], causal, ds.reshape(-1, S), d.reshape(-1), grad_scale
        )
        if fused is not None:
            return s, True
    if probs_from_lse(rows, rows, scale_left, lse, s.shape[-2], causal) is None:
        if scale_left != 1.0 or causal:
            s, _, _ = _scores(q, k, mask, drop, scale, False)
        s -= lse.reshape(s.shape[:-1] + (1,))
        np.exp(s, out=s)
    return s, False


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


def scaled_dot_product_attention(
    q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, drop, scale: float, *, heads: bool | None = None
):
    """The fused node: ``softmax(scale q k^T + mask) v`` with ``drop`` (bool array, True = leave
    out) applied; ``mask`` a float Tensor or None. Inputs are checked by the caller
    (``nn.functional.scaled_dot_product_attention``). ``heads``: whether torch's call has 4-d
    inputs, which take its flash kernel (default: whether q is 4-d; MultiheadAttention's (B H, L,
    E) are torch's (B, H, L, E))."""
    flash = (q._data.ndim == 4 if heads is None else heads) and (mask is None or not mask.requires_grad)
    if not flash and (q.requires_grad or k.requires_grad) and GRAD.enabled:
        # torch's math kernel: backward reads copies of q and k scaled by sqrt(scale), made here
        # as torch makes them (O(L E), beside the O(L S E) products), so that an in-place change
        # of q or k after the call changes no gradient, and fails none
        root = math.sqrt(scale)
        q, k, scale = mul(q, root), mul(k, root), 1.0
    probs, lse = attention_probs(q._data, k._data, None if mask is None else mask._data, drop, scale)
    out = np.matmul(probs, v._data)
    if lse is not None and flash:  # keep (R,) log-sum-exps, not the (R, S) probabilities: 38 MB of
        probs = None  # a GPT step (the math path keeps them, as torch's: the mask is not saved)
    inputs = (q, k, v) if mask is None else (q, k, v, mask)
    op = _sdpa.shown_as(_FLASH_NAME) if flash else _sdpa_math  # torch's CPU flash kernel, or its math path
    return make_result(out, op, inputs, (scale, drop, probs, lse))
