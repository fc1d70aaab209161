"""scaled_dot_product_attention, one fused op (chainrule.ops.attention): plain, causal (also with
L != S), bool and float masks broadcast from every shape, a float mask that requires grad, a given
scale, grouped-query heads, an empty sequence. torch's side runs its math kernel: its CPU flash
kernel has no second derivative."""

from __future__ import annotations

import torch.nn.attention as _attention
from hypothesis import strategies as st
from oracle import Arg, OpSpec

from specs.strategies import fixed

FLOAT = Arg()
MASK = Arg(grad=False)
BOOL = Arg(kind="bool", grad=False)


def _sdpa(m, q, k, v, **kw):
    f = m.nn.functional.scaled_dot_product_attention
    if m.__name__ == "torch":
        with _attention.sdpa_kernel(_attention.SDPBackend.MATH):
            return f(q, k, v, **kw)
    return f(q, k, v, **kw)


@st.composite
def _qkv(draw, mask: str = ""):
    """Shapes of q (..., L, E), k (..., S, E), v (..., S, Ev) and a mask broadcastable to (..., L, S)."""
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    L, S, E, Ev = (draw(st.integers(1, 4)) for _ in range(4))
    shapes = (batch + (L, E), batch + (S, E), batch + (S, Ev))
    if mask:
        full = batch + (L, S)
        keep = [draw(st.booleans()) for _ in full]
        shapes += (
            tuple(n if kept else 1 for n, kept in zip(full, keep))[draw(st.integers(0, len(batch))) :],
        )
    return shapes


SPECS = [
    OpSpec("F.scaled_dot_product_attention", lambda m, q, k, v: _sdpa(m, q, k, v), _qkv(), (FLOAT,) * 3),
    OpSpec(
        "F.scaled_dot_product_attention causal",
        lambda m, q, k, v: _sdpa(m, q, k, v, is_causal=True),
        _qkv(),
        (FLOAT,) * 3,
    ),
    OpSpec(
        "F.scaled_dot_product_attention scale",
        lambda m, q, k, v: _sdpa(m, q, k, v, scale=0.7),
        _qkv(),
        (FLOAT,) * 3,
    ),
    OpSpec(
        "F.scaled_dot_product_attention bool mask",
        lambda m, q, k, v, mask: _sdpa(m, q, k, v, attn_mask=mask),
        _qkv("bool"),
        (FLOAT,) * 3 + (BOOL,),
    ),
    OpSpec(
        "F.scaled_dot_product_attention float mask",
        lambda m, q, k, v, mask: _sdpa(m, q, k, v, attn_mask=mask),
        _qkv("float"),
        (FLOAT,) * 3 + (MASK,),
    ),
    OpSpec(
        "F.scaled_dot_product_attention float mask (grad)",
        lambda m, q, k, v, mask: _sdpa(m, q, k, v, attn_mask=mask),
        _qkv("float"),
        (FLOAT,) * 4,
    ),
    OpSpec(
        "F.scaled_dot_product_attention gqa",
        lambda m, q, k, v: _sdpa(m, q, k, v, enable_gqa=True),
        fixed(((2, 4, 3, 2), (2, 2, 5, 2), (2, 2, 5, 3)), ((6, 2, 3), (3, 4, 3), (3, 4, 1))),
        (FLOAT,) * 3,
    ),
    OpSpec(
        "F.scaled_dot_product_attention empty",
        lambda m, q, k, v: _sdpa(m, q, k, v),
        fixed(((2, 0, 3), (2, 4, 3), (2, 4, 2)), ((2, 3, 3), (2, 0, 3), (2, 0, 2))),
        (FLOAT,) * 3,
    ),
]
