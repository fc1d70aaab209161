"""Transformer encoder: TransformerEncoderLayer and a stack of them, TransformerEncoder (torch's).

A layer is self-attention then a two-layer feed-forward block, each with a residual connection and
a LayerNorm, after the block (``norm_first=False``, the original post-norm) or before it
(``norm_first=True``, pre-norm). Built from :class:`MultiheadAttention`, :class:`Linear`,
:class:`Dropout` and :class:`LayerNorm`, so it has exactly torch's parameter names.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from .. import ops as C
from .._tensor import Tensor
from . import functional as F
from .activation import GELU, ReLU
from .attention import MultiheadAttention, _canonical_mask
from .containers import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = ["TransformerEncoderLayer", "TransformerEncoder"]


def _activation(activation: str | Callable) -> Callable:
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if isinstance(activation, str) or not callable(activation):
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    return activation


def _generate_square_subsequent_mask(sz: int, dtype=None) -> Tensor:
    """The causal mask: ``-inf`` above the diagonal, 0 elsewhere (``(sz, sz)``)."""
    return C.triu(C.full((sz, sz), float("-inf"), dtype=dtype), diagonal=1)


def _detect_is_causal_mask(mask: Tensor | None, is_causal: bool | None, size: int | None) -> bool:
    """``is_causal`` if given, else whether ``mask`` equals the causal mask of ``size`` (torch's)."""
    if is_causal is not None or mask is None:
        return is_causal is True
    sz = size if size is not None else mask.shape[-2]
    causal = np.triu(np.full((sz, sz), -np.inf), 1)
    return tuple(mask.shape) == (sz, sz) and bool(np.all(mask._data == causal))


class TransformerEncoderLayer(Module):
    r"""Self-attention and feed-forward with residuals and LayerNorms (``torch.nn.TransformerEncoderLayer``)::

        norm_first=False:  x = norm1(x + sa(x));        x = norm2(x + ff(x))
        norm_first=True:   x = x + sa(norm1(x));        x = x + ff(norm2(x))
        sa(x) = dropout1(self_attn(x, x, x)),   ff(x) = dropout2(linear2(dropout(act(linear1(x)))))

    Parameters
    ----------
    d_model : the feature size.
    nhead : attention heads.
    dim_feedforward : hidden size of the feed-forward block.
    dropout : dropout probability (attention weights and the three Dropout layers).
    activation : ``'relu'``, ``'gelu'`` or a callable (a function or a module).
    layer_norm_eps : the LayerNorms' eps.
    batch_first : ``(N, S, E)`` instead of ``(S, N, E)``.
    norm_first : pre-norm instead of post-norm.
    bias : whether the Linear and LayerNorm layers (and the attention) have biases.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = F.relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **factory
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        activation = _activation(activation)
        if activation is F.relu or isinstance(activation, ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is F.gelu or isinstance(activation, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0
        self.activation = activation

    def forward(
        self,
        src: Tensor,
        src_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool = False,
    ) -> Tensor:
        """Run the layer on ``src`` ``(S, N, E)`` (``(N, S, E)`` batch-first, ``(S, E)`` unbatched).

        Parameters
        ----------
        src_mask : ``(S, S)`` or ``(N * nhead, S, S)``; bool True = may not attend, or float.
        src_key_padding_mask : ``(N, S)``; bool True = padding (ignored as a key), or float.
        is_causal : a hint that ``src_mask`` is the causal mask.
        """
        src_key_padding_mask = _canonical_mask(
            src_key_padding_mask, "src_key_padding_mask", src_mask, "src_mask", src._data.dtype
        )
        src_mask = _canonical_mask(src_mask, "src_mask", None, "", src._data.dtype)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x: Tensor, attn_mask, key_padding_mask, is_causal: bool) -> Tensor:
        x = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of ``encoder_layer`` (``torch.nn.TransformerEncoder``).

    Parameters
    ----------
    encoder_layer : the layer to copy (each copy starts with the same weights, as in torch).
    num_layers : how many layers.
    norm : an optional module (usually LayerNorm) applied to the last layer's output.
    enable_nested_tensor, mask_check : accepted for torch compatibility; they only steer torch's
        nested-tensor fast path, which chainrule does not have.
    """

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = False
        self.mask_check = mask_check

    def forward(
        self,
        src: Tensor,
        mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        """Run every layer in turn (same masks for each), then ``norm``.

        ``is_causal=None`` detects whether ``mask`` is the causal mask, as torch does.
        """
        src_key_padding_mask = _canonical_mask(
            src_key_padding_mask, "src_key_padding_mask", mask, "mask", src._data.dtype
        )
        mask = _canonical_mask(mask, "mask", None, "", src._data.dtype)
        first = self.layers[0] if len(self.layers) else None
        batch_first = first is not None and first.self_attn.batch_first
        seq_len = src.shape[0] if src.ndim == 2 else src.shape[1 if batch_first else 0]
        is_causal = _detect_is_causal_mask(mask, is_causal, seq_len)
        output = src
        for mod in self.layers:
            output = mod(
                output, src_mask=mask, is_causal=is_causal, src_key_padding_mask=src_key_padding_mask
            )
        if self.norm is not None:
            output = self.norm(output)
        return output
