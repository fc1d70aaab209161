"""Attention: scaled dot-product attention and multi-head attention (torch's semantics).

``scaled_dot_product_attention`` is ``softmax(q k^T * scale + mask) v``; ``MultiheadAttention``
projects query, key and value, splits them into heads, attends per head and projects back. All of
it is chainrule's differentiable ops (matmul, softmax, masked_fill, cat ...), so gradients reach the
inputs, the weights and a float ``attn_mask`` alike.

Mask conventions differ, as in torch: for ``scaled_dot_product_attention`` a boolean mask says
which positions *take part* (True = attend); for ``MultiheadAttention`` a boolean ``attn_mask`` or
``key_padding_mask`` says which positions are *masked out* (True = ignore). Float masks are added
to the scores in both.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import ops as C
from .._tensor import Tensor, wrap
from ..ops import attention as _fused
from ..ops._common import any_true
from . import init
from .functional_activation import softmax
from .functional_linear import linear
from .functional_norm import dropout
from .linear import Linear
from .module import Module
from .parameter import Parameter

__all__ = [
    "MultiheadAttention",
    "NonDynamicallyQuantizableLinear",
    "scaled_dot_product_attention",
    "multi_head_attention_forward",
]


# ---- scaled dot-product attention ----------------------------------------------------------------
def _attend(q: Tensor, k: Tensor, v: Tensor, bias, dropout_p: float, scale: float, safe: bool) -> tuple:
    """``softmax(q k^T * scale + bias) v`` and the attention weights.

    ``bias`` is None, a float tensor to add, or a bool array of positions to drop (True = drop).
    With ``safe``, a row whose every position is masked gives zeros (torch's SDPA) instead of NaN
    (torch's ``need_weights=True`` path of multi-head attention).
    """
    scores = C.matmul(q * scale, C.transpose(k, -2, -1))
    if isinstance(bias, np.ndarray):
        scores = C.masked_fill(scores, wrap(bias), float("-inf"))
    elif bias is not None:
        scores = scores + bias
    if safe and bias is not None:
        dead = np.all(np.isneginf(scores._data), axis=-1, keepdims=True)
        if any_true(dead):  # softmax of an all -inf row is NaN: give those rows zeros, their grads too
            dead_t = wrap(dead)
            attn = softmax(C.masked_fill(scores, dead_t, 0.0), dim=-1)
            attn = C.masked_fill(attn, dead_t, 0.0)
        else:
            attn = softmax(scores, dim=-1)
    else:
        attn = softmax(scores, dim=-1)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, True)
    return C.matmul(attn, v), attn


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """``softmax(query key^T * scale + mask) value`` (``torch.nn.functional.scaled_dot_product_attention``).

    Parameters
    ----------
    query : ``(..., L, E)``.
    key : ``(..., S, E)``.
    value : ``(..., S, Ev)``.
    attn_mask : broadcastable to ``(..., L, S)``: bool (True = this position takes part) or a float
        tensor added to the scores.
    dropout_p : dropout probability on the attention weights (applied whenever > 0).
    is_causal : attend only to positions ``j <= i`` (a lower-triangular mask); not together with
        ``attn_mask``.
    scale : the score scale, ``1 / sqrt(E)`` when None.
    enable_gqa : grouped-query attention: ``key``/``value`` heads (dim -3) are repeated to match
        ``query``'s.

    Returns
    -------
    Tensor ``(..., L, Ev)``. A query row that may attend to nothing gives zeros, as in torch.
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor) or t.ndim < 2:
            raise RuntimeError(
                f"scaled_dot_product_attention: {name} must be a Tensor with at least "
                f"2 dims (..., L, E), got "
                f"{list(t.shape) if isinstance(t, Tensor) else type(t).__name__}"
            )
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{query.dtype} key.dtype: {key.dtype} and value.dtype: {value.dtype} instead."
        )
    if query.shape[-2] == 0 or value.numel() == 0:
        return _nothing_attended(query, key, value)
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: query {list(query.shape)}, key {list(key.shape)} and "
            f"value {list(value.shape)} do not fit: query and key need the same last dim (E) and "
            "key and value the same second-to-last dim (S)"
        )
    if enable_gqa and key.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        key, value = _repeat_heads(key, query.shape[-3]), _repeat_heads(value, query.shape[-3])
    try:  # the batch dims broadcast (as matmul's); NumPy's ValueError is not torch's type
        np.broadcast_shapes(*(tuple(t.shape[:-2]) for t in (query, key, value)))
    except ValueError:
        raise RuntimeError(
            f"scaled_dot_product_attention: the batch dims of query {list(query.shape)}, key "
            f"{list(key.shape)} and value {list(value.shape)} do not broadcast (all but the last two "
            "dims must be equal or 1)"
        ) from None
    L, S = query.shape[-2], key.shape[-2]
    # E = 0: every score is an empty dot product, 0 at any scale (torch scales q and k by
    # sqrt(scale), both empty), so not inf * 0 = NaN
    s = (1.0 / math.sqrt(query.shape[-1]) if scale is None else scale) if query.shape[-1] else 1.0
    if dropout_p == 0.0 and _fusable(query, key, value, attn_mask):  # one node (ops/attention.py)
        fused = _fused_mask(attn_mask, is_causal, L, S, query._data.dtype)
        if fused is not None:
            return _fused.scaled_dot_product_attention(query, key, value, fused[0], fused[1], s)
    if not _fusable(query, key, value) and type(query._data) is not np.ndarray:  # vmap's arrays
        if isinstance(attn_mask, Tensor) and attn_mask._data.dtype == np.bool_:  # (empty: answered above)
            raise RuntimeError(
                "scaled_dot_product_attention under vmap: a bool attn_mask is "
                "not batched yet (the rows that attend to nothing are not found per sample); pass a "
                "float mask (0 where attended, -inf elsewhere) or loop over the samples"
            )
    bias = None
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True"
            )
        bias = ~np.tril(np.ones((L, S), dtype=bool))
    elif attn_mask is not None:
        if attn_mask._data.dtype == np.bool_:
            bias = ~attn_mask._data
        elif attn_mask.is_floating_point():
            bias = attn_mask
        else:
            raise RuntimeError(
                f"scaled_dot_product_attention: attn_mask must be bool or float, got {attn_mask.dtype}"
            )
    return _attend(query, key, value, bias, dropout_p, s, safe=True)[0]


def _nothing_attended(query: Tensor, key: Tensor, value: Tensor) -> Tensor:
    """torch's answer when there is no query row or no value to attend: zeros of shape
    ``(*query.shape[:-1], Ev)`` whatever the other shapes, with zero gradients for all three.

    An empty contraction ``(..., L, 0) @ (0, 1)`` gives the exact zeros (no inf or NaN of the
    inputs leaks in) and keeps query, key and value in the graph."""
    nothing = C.reshape(key, (-1,))[:0] + C.reshape(value, (-1,))[:0]
    column = C.matmul(query[..., :0], C.reshape(nothing, (0, 1)))
    return C.expand(column, (*query.shape[:-1], value.shape[-1]))


_FUSED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _fusable(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None) -> bool:
    """Whether the fused node computes this call: float32/float64 NumPy arrays (vmap's batched
    arrays and the half types take the composed path), a bool mask or a float one of q's dtype."""
    if mask is not None and not isinstance(mask, Tensor):
        return False
    arrays = (q._data, k._data, v._data) + (() if mask is None else (mask._data,))
    if any(type(a) is not np.ndarray for a in arrays) or q._data.dtype not in _FUSED_DTYPES:
        return False
    return mask is None or mask._data.dtype in (q._data.dtype, np.bool_)


def _fused_mask(attn_mask, is_causal: bool, L: int, S: int, dtype) -> tuple | None:
    """``(float mask or None, bool positions to leave out or None)`` for the fused op, or None
    where the composed path answers (an error to raise, a mask of another dtype)."""
    if is_causal:
        if attn_mask is not None:
            return None  # (the composed path raises torch's error)
        return None, np.triu(np.ones((L, S), dtype=bool), 1)
    if attn_mask is None:
        return None, None
    if not isinstance(attn_mask, Tensor):
        return None
    if attn_mask._data.dtype == np.bool_:
        return None, ~attn_mask._data
    if attn_mask._data.dtype == dtype:
        return attn_mask, None
    return None


def _repeat_heads(t: Tensor, heads: int) -> Tensor:
    """``t.repeat_interleave(heads // t.size(-3), dim=-3)`` from a view and a reshape."""
    shape = tuple(t.shape)
    groups = shape[-3]
    if groups == 0 or heads % groups:
        raise RuntimeError(
            f"scaled_dot_product_attention (enable_gqa): the query's {heads} heads "
            f"are not a multiple of the key/value's {groups}"
        )
    t = C.expand(C.unsqueeze(t, -3), *shape[:-2], heads // groups, *shape[-2:])
    return C.reshape(t, shape[:-3] + (heads,) + shape[-2:])


# ---- multi-head attention ------------------------------------------------------------------------
def _canonical_mask(mask, name: str, other, other_name: str, dtype) -> Tensor | None:
    """A bool mask as floats (``-inf`` where True), float masks as they are (torch's rules)."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name} must be a Tensor, got {type(mask).__name__}")
    is_bool = mask._data.dtype == np.bool_
    if not is_bool and not mask.is_floating_point():
        raise AssertionError(
            f"only bool and floating types of {name} are supported (got "
            f"{mask.dtype}); pass a bool mask (True = ignore) or a float one"
        )
    if other is not None and other.dtype != mask.dtype:
        warnings.warn(
            f"Support for mismatched {name} and {other_name} is deprecated. Use same type for both instead.",
            stacklevel=3,
        )
    if is_bool:
        out = np.zeros(mask._data.shape, dtype=dtype)
        out[mask._data] = -np.inf
        return wrap(out)
    return mask


def _pad_last(mask: Tensor | None) -> Tensor | None:
    """``F.pad(mask, (0, 1))``: one more (zero) column for the added key."""
    if mask is None:
        return None
    zeros = C.zeros(*mask.shape[:-1], 1, dtype=mask.dtype)
    return C.cat([mask, zeros], -1)


def _in_projection(query, key, value, w, b, q_w, k_w, v_w) -> tuple:
    if w is not None:  # packed (3E, E) weight: one GEMM when query, key and value are one tensor
        E = query.shape[-1]
        if query is key and key is value:
            return tuple(C.split(linear(query, w, b), E, -1))
        w_q, w_k, w_v = C.split(w, E, 0)
        q_w, k_w, v_w = w_q, w_k, w_v
    b_q, b_k, b_v = (None, None, None) if b is None else C.split(b, b.shape[0] // 3, 0)
    return linear(query, q_w, b_q), linear(key, k_w, b_k), linear(value, v_w, b_v)


def _check_mha_shapes(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """torch's ``_mha_shape_check``: whether the input is batched (AssertionError otherwise)."""

    def dims(t):
        return None if t is None else t.ndim

    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key` and `value` to be 3-D but "
                f"found {key.ndim}-D and {value.ndim}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key_padding_mask` to be `None` "
                f"or 2-D but found {dims(key_padding_mask)}-D tensor instead"
            )
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError(
                "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D "
                f"or 3-D but found {dims(attn_mask)}-D tensor instead"
            )
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D "
                f"but found {key.ndim}-D and {value.ndim}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key_padding_mask` to be "
                f"`None` or 1-D but found {dims(key_padding_mask)}-D tensor instead"
            )
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError(
                    "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, "
                    f"2-D or 3-D but found {attn_mask.ndim}-D tensor instead"
                )
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(
                    f"Expected `attn_mask` shape to be {expected} but got {tuple(attn_mask.shape)}"
                )
        return False
    raise AssertionError(
        f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D query tensor"
    )


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple:
    """Multi-head attention on ``(L, N, E)`` / unbatched ``(L, E)`` inputs, as torch computes it
    (``torch.nn.functional.multi_head_attention_forward``; see :class:`MultiheadAttention`).

    Returns ``(attn_output, attn_weights)``; the weights are None unless ``need_weights``.
    """
    is_batched = _check_mha_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = C.unsqueeze(query, 1), C.unsqueeze(key, 1), C.unsqueeze(value, 1)
        if key_padding_mask is not None:
            key_padding_mask = C.unsqueeze(key_padding_mask, 0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    np_dtype = query._data.dtype
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", attn_mask, "attn_mask", np_dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the "
            "Transformer module method `generate_square_subsequent_mask` to create "
            "this mask."
        )
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # torch hands the hint to SDPA, which then ignores attn_mask's values
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", np_dtype)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got "
            f"{embed_dim} (query shape {list(query.shape)})"
        )
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(
                f"key's sequence and batch dims {tuple(key.shape[:2])} do not match "
                f"value's {tuple(value.shape[:2])}"
            )
        q, k, v = _in_projection(
            query, key, value, None, in_proj_bias, q_proj_weight, k_proj_weight, v_proj_weight
        )
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AssertionError(
                f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}"
            )
        q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, None, None, None)
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(
                    f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but "
                    f"should be {(tgt_len, src_len)}."
                )
            attn_mask = C.unsqueeze(attn_mask, 0)
        elif tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise RuntimeError(
                f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but "
                f"should be {(bsz * num_heads, tgt_len, src_len)} "
                "(batch * num_heads, L, S)."
            )
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key or value.")
        k = C.cat([k, C.repeat(bias_k, 1, bsz, 1)])
        v = C.cat([v, C.repeat(bias_v, 1, bsz, 1)])
        attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k and bias_v must be given together")
    q = C.transpose(C.reshape(q, (tgt_len, bsz * num_heads, head_dim)), 0, 1)
    k = _heads(k, static_k, "static_k", bsz * num_heads, head_dim)
    v = _heads(v, static_v, "static_v", bsz * num_heads, head_dim)
    if add_zero_attn:
        zeros = C.zeros(bsz * num_heads, 1, head_dim, dtype=q.dtype)
        k, v = C.cat([k, zeros], 1), C.cat([v, zeros], 1)
        attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(
                f"Expected key_padded_mask.shape to be {(bsz, src_len)} (batch, "
                f"source length), but got {tuple(key_padding_mask.shape)}"
            )
        kpm = C.reshape(
            C.expand(C.reshape(key_padding_mask, (bsz, 1, 1, src_len)), bsz, num_heads, 1, src_len),
            (bsz * num_heads, 1, src_len),
        )
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    scale = 1.0 / math.sqrt(head_dim)
    if need_weights:
        out, weights = _attend(q, k, v, attn_mask, dropout_p, scale, safe=False)
    elif dropout_p == 0.0 and _fusable(q, k, v, attn_mask):  # one node (ops/attention.py)
        drop = None
        if is_causal and attn_mask is None:
            drop = np.triu(np.ones((tgt_len, src_len), dtype=bool), 1)
        out = _fused.scaled_dot_product_attention(q, k, v, attn_mask, drop, scale, heads=True)
        weights = None
    else:
        bias = attn_mask
        if is_causal and attn_mask is None:
            bias = ~np.tril(np.ones((tgt_len, src_len), dtype=bool))
        out, weights = _attend(q, k, v, bias, dropout_p, scale, safe=True)
    out = C.reshape(C.transpose(out, 0, 1), (tgt_len * bsz, embed_dim))
    out = C.reshape(linear(out, out_proj_weight, out_proj_bias), (tgt_len, bsz, out_proj_weight.shape[0]))
    if need_weights:
        weights = C.reshape(weights, (bsz, num_heads, tgt_len, src_len))
        if average_attn_weights:
            weights = C.mean(weights, dim=1)
    else:
        weights = None
    if not is_batched:
        out = C.squeeze(out, 1)
        weights = None if weights is None else C.squeeze(weights, 0)
    return out, weights


def _heads(t: Tensor, static: Tensor | None, name: str, batch_heads: int, head_dim: int) -> Tensor:
    """``(S, N, E)`` -> ``(N * num_heads, S, head_dim)``, or the given static tensor (checked)."""
    if static is None:
        return C.transpose(C.reshape(t, (t.shape[0], batch_heads, head_dim)), 0, 1)
    if static.shape[0] != batch_heads or static.shape[2] != head_dim:
        raise AssertionError(
            f"expecting {name} of shape ({batch_heads}, S, {head_dim}), but got {list(static.shape)}"
        )
    return static


class NonDynamicallyQuantizableLinear(Linear):
    """The output projection of :class:`MultiheadAttention`: a plain :class:`Linear` (torch gives
    it this name to keep its quantization passes away)."""


class MultiheadAttention(Module):
    r"""Multi-head attention (``torch.nn.MultiheadAttention``)::

        MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O,
        head_i = softmax((Q W_i^Q)(K W_i^K)^T / sqrt(head_dim) + mask) (V W_i^V)

    Parameters
    ----------
    embed_dim : the model's feature size E (split into ``num_heads`` heads).
    num_heads : parallel heads; must divide ``embed_dim``.
    dropout : dropout probability on the attention weights (training mode only).
    bias : whether the in- and out-projections have biases.
    add_bias_kv : append a learned ``bias_k``/``bias_v`` step to key and value.
    add_zero_attn : append a step of zeros to key and value (after the heads are split).
    kdim, vdim : feature sizes of key and value (default ``embed_dim``); when they differ from it,
        the projections are ``q_proj_weight``/``k_proj_weight``/``v_proj_weight`` instead of the
        packed ``in_proj_weight``.
    batch_first : inputs and output are ``(N, L, E)`` instead of ``(L, N, E)``.

    Examples
    --------
    >>> import chainrule as torch
    >>> mha = torch.nn.MultiheadAttention(8, 2)
    >>> x = torch.randn(5, 3, 8)
    >>> out, weights = mha(x, x, x)
    >>> out.shape, weights.shape
    (chainrule.Size([5, 3, 8]), chainrule.Size([3, 5, 5]))
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim="
                f"{embed_dim} and num_heads={num_heads} instead"
            )
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError(
                f"embed_dim must be divisible by num_heads (got embed_dim={embed_dim}, num_heads={num_heads})"
            )

        def param(*shape: int) -> Parameter:
            return Parameter(C.empty(*shape, dtype=dtype, device=device))

        if not self._qkv_same_embed_dim:
            self.q_proj_weight = param(embed_dim, embed_dim)
            self.k_proj_weight = param(embed_dim, self.kdim)
            self.v_proj_weight = param(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = param(3 * embed_dim, embed_dim)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = param(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(
            embed_dim, embed_dim, bias=bias, device=device, dtype=dtype
        )
        if add_bias_kv:
            self.bias_k = param(1, 1, embed_dim)
            self.bias_v = param(1, 1, embed_dim)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple:
        """Attend from ``query`` to ``key``/``value``.

        Parameters
        ----------
        query : ``(L, N, E)`` (``(N, L, E)`` with ``batch_first``) or unbatched ``(L, E)``.
        key, value : ``(S, N, kdim)`` / ``(S, N, vdim)`` (or batch-first / unbatched alike).
        key_padding_mask : ``(N, S)`` (``(S)`` unbatched); bool True = ignore that key, or float
            (added).
        need_weights : also return the attention weights.
        attn_mask : ``(L, S)`` or ``(N * num_heads, L, S)``; bool True = may not attend, or float
            (added).
        average_attn_weights : average the returned weights over the heads.
        is_causal : a hint that ``attn_mask`` is the causal mask (it must still be given).

        Returns
        -------
        ``(attn_output, attn_weights)``: output like ``query`` with ``embed_dim`` features;
        weights ``(N, L, S)`` (``(N, num_heads, L, S)`` unaveraged) or None.
        """
        batched = query.ndim == 3
        if self.batch_first and batched:
            if key is value:
                if query is key:
                    query = key = value = C.transpose(query, 1, 0)
                else:
                    query, key = C.transpose(query, 1, 0), C.transpose(key, 1, 0)
                    value = key
            else:
                query, key, value = (C.transpose(x, 1, 0) for x in (query, key, value))
        separate = not self._qkv_same_embed_dim
        out, weights = multi_head_attention_forward(
            query,
            key,
            value,
            self.embed_dim,
            self.num_heads,
            self.in_proj_weight,
            self.in_proj_bias,
            self.bias_k,
            self.bias_v,
            self.add_zero_attn,
            self.dropout,
            self.out_proj.weight,
            self.out_proj.bias,
            training=self.training,
            key_padding_mask=key_padding_mask,
            need_weights=need_weights,
            attn_mask=attn_mask,
            use_separate_proj_weight=separate,
            q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights,
            is_causal=is_causal,
        )
        if self.batch_first and batched:
            out = C.transpose(out, 1, 0)
        return out, weights
