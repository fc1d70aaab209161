"""Attention and the transformer encoder against torch, with torch's weights loaded into ours.

Outputs, attention weights, gradients of the inputs (and of a float mask) and of every parameter.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from oracle import copy_torch_weights, same_or_same_error, to_numpy

import chainrule
import chainrule.nn as nn
import chainrule.nn.functional as F

pytestmark = pytest.mark.usefixtures("one_torch_thread")
E, HEADS, LQ, S, B = 8, 2, 4, 5, 3


def _close(a, b, what: str, tol: float = 1e-10) -> None:
    assert tuple(a.shape) == tuple(b.shape), f"{what}: shape {tuple(a.shape)} != {tuple(b.shape)}"
    np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=tol, atol=tol, err_msg=what)


def _compare(ours, theirs, arrays: list, call, tol: float = 1e-10) -> None:
    """``call(lib, module, *tensors)`` on both; compare results, input grads, parameter grads."""
    ins_o = [chainrule.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    ins_t = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    ro, rt = call(chainrule, ours, *ins_o), call(torch, theirs, *ins_t)
    ro, rt = (ro if isinstance(ro, tuple) else (ro,)), (rt if isinstance(rt, tuple) else (rt,))
    rng = np.random.default_rng(11)
    loss_o = loss_t = 0
    for k, (o, t) in enumerate(zip(ro, rt)):
        assert (o is None) == (t is None), f"result {k}: {o} vs torch's {t}"
        if t is None:
            continue
        _close(o, t, f"result {k}", tol)
        g = rng.standard_normal(tuple(t.shape))
        loss_o = loss_o + (o * chainrule.tensor(g)).sum()
        loss_t = loss_t + (t * torch.tensor(g)).sum()
    loss_o.backward()
    loss_t.backward()
    for k, (a, b) in enumerate(zip(ins_o, ins_t)):
        if b.grad is not None:
            _close(a.grad, b.grad, f"grad of input {k}", tol)
    if ours is not None:
        params_t = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            _close(p.grad, params_t[name].grad, f"grad of {name}", tol)


# ---- scaled_dot_product_attention ----------------------------------------------------------------
def _rand(*shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape)


@pytest.mark.parametrize("mask", [None, "bool", "float", "causal", "bool4d"])
@pytest.mark.parametrize("scale", [None, 0.3])
def test_sdpa(mask, scale):
    q, k, v = _rand(B, HEADS, LQ, 4), _rand(B, HEADS, S, 4, seed=1), _rand(B, HEADS, S, 6, seed=2)
    arrays = [q, k, v]
    rng = np.random.default_rng(3)
    if mask == "bool":
        arrays.append(rng.random((LQ, S)) < 0.7)
        arrays[-1][:, 0] = True  # every query attends somewhere
    elif mask == "bool4d":
        arrays.append(rng.random((B, 1, LQ, S)) < 0.6)
        arrays[-1][0, 0, 1] = False  # a query that attends nowhere gives zeros, as in torch
    elif mask == "float":
        arrays.append(rng.standard_normal((LQ, S)))

    def call(lib, _, q, k, v, m=None):
        fn = F if lib is chainrule else torch.nn.functional
        return fn.scaled_dot_product_attention(q, k, v, attn_mask=m, is_causal=mask == "causal", scale=scale)

    _compare(None, None, arrays, call)


def test_sdpa_3d_gqa_dropout_and_errors():
    q, k, v = _rand(B, LQ, 4), _rand(B, S, 4, seed=1), _rand(B, S, 4, seed=2)
    _compare(
        None,
        None,
        [q, k, v],
        lambda lib, _, *t: (F if lib is chainrule else torch.nn.functional).scaled_dot_product_attention(
            *t, is_causal=True
        ),
    )
    q, k, v = _rand(1, 4, LQ, 4), _rand(1, 2, S, 4, seed=1), _rand(1, 2, S, 4, seed=2)
    _compare(
        None,
        None,
        [q, k, v],
        lambda lib, _, *t: (F if lib is chainrule else torch.nn.functional).scaled_dot_product_attention(
            *t, enable_gqa=True
        ),
    )
    qc = chainrule.tensor(q)
    out = F.scaled_dot_product_attention(qc, qc, qc, dropout_p=1.0)
    assert np.all(to_numpy(out) == 0)
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(qc, qc, qc, attn_mask=chainrule.ones(LQ, LQ).bool(), is_causal=True)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.scaled_dot_product_attention(qc.float(), qc, qc)
    with pytest.raises(RuntimeError, match="last dim"):
        F.scaled_dot_product_attention(qc, qc[..., :3], qc)


# ---- MultiheadAttention --------------------------------------------------------------------------
def mha_pair(**kw):
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(E, HEADS, **kw).double()
    ours = nn.MultiheadAttention(E, HEADS, **kw, dtype=chainrule.float64)
    if kw.get("bias", True):  # torch starts the biases at 0: make them count in the comparison
        with torch.no_grad():
            for name, p in theirs.named_parameters():
                if "bias" in name:
                    p.uniform_(-0.5, 0.5)
    copy_torch_weights(ours, theirs)
    return ours, theirs


MHA_CASES = [
    ({}, {}),
    ({"batch_first": True}, {}),
    ({}, {"need_weights": False}),
    ({}, {"average_attn_weights": False}),
    ({"bias": False}, {}),
    ({"add_bias_kv": True}, {}),
    ({"add_zero_attn": True}, {"kpm": True}),
    ({"add_bias_kv": True, "add_zero_attn": True}, {"mask": "bool"}),
    ({}, {"mask": "bool"}),
    ({}, {"mask": "float"}),
    ({}, {"mask": "bool3d"}),
    ({"batch_first": True}, {"mask": "float3d", "need_weights": False}),
    ({}, {"kpm": True}),
    ({"batch_first": True}, {"kpm": True, "mask": "bool", "need_weights": False}),
    ({}, {"mask": "causal", "is_causal": True}),
    ({}, {"mask": "causal", "is_causal": True, "need_weights": False}),
]


def _masks(case: dict, rng, batch: int | None, lq: int, s: int) -> tuple:
    mask = kpm = None
    kind = case.get("mask")
    if kind in ("bool", "bool3d"):
        shape = (lq, s) if kind == "bool" else (batch * HEADS, lq, s)
        mask = rng.random(shape) < 0.3
        mask[..., 0] = False
    elif kind in ("float", "float3d"):
        mask = rng.standard_normal((lq, s) if kind == "float" else (batch * HEADS, lq, s))
    elif kind == "causal":
        mask = np.triu(np.ones((lq, s), dtype=bool), 1)
    if case.get("kpm"):
        kpm = rng.random((batch, s) if batch else (s,)) < 0.3
        kpm[..., 0] = False
    return mask, kpm


def _mha_call(case: dict, has_mask: bool, has_kpm: bool, self_attention: bool):
    def call(lib, module, *t):
        q, k, v = (t[0], t[0], t[0]) if self_attention else t[:3]
        rest = list(t[1:] if self_attention else t[3:])
        mask = rest.pop(0) if has_mask else None
        kpm = rest.pop(0) if has_kpm else None
        return module(
            q,
            k,
            v,
            key_padding_mask=kpm,
            attn_mask=mask,
            need_weights=case.get("need_weights", True),
            average_attn_weights=case.get("average_attn_weights", True),
            is_causal=case.get("is_causal", False),
        )

    return call


@pytest.mark.parametrize("kw,case", MHA_CASES, ids=[f"{a}-{b}" for a, b in MHA_CASES])
@pytest.mark.parametrize("self_attention", [True, False])
def test_multihead_attention(kw, case, self_attention):
    ours, theirs = mha_pair(**kw)
    rng = np.random.default_rng(12)
    s = LQ if self_attention else S
    shape = (lambda n: (B, n, E)) if kw.get("batch_first") else (lambda n: (n, B, E))
    arrays = [rng.standard_normal(shape(LQ))]
    if not self_attention:
        arrays += [rng.standard_normal(shape(S)), rng.standard_normal(shape(S))]
    mask, kpm = _masks(case, rng, B, LQ, s)
    arrays += [m for m in (mask, kpm) if m is not None]
    _compare(ours, theirs, arrays, _mha_call(case, mask is not None, kpm is not None, self_attention))


@pytest.mark.parametrize(
    "case",
    [
        {},
        {"kpm": True, "mask": "bool"},
        {"mask": "bool3d"},
        {"need_weights": False, "average_attn_weights": False},
    ],
)
def test_multihead_attention_unbatched(case):
    ours, theirs = mha_pair(batch_first=True)
    rng = np.random.default_rng(13)
    mask, kpm = _masks(case, rng, 1 if case.get("mask") == "bool3d" else None, LQ, S)
    arrays = [rng.standard_normal((LQ, E)), rng.standard_normal((S, E)), rng.standard_normal((S, E))] + [
        m for m in (mask, kpm) if m is not None
    ]
    _compare(ours, theirs, arrays, _mha_call(case, mask is not None, kpm is not None, False))


def test_multihead_attention_kdim_vdim_and_float_mask_grad():
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(E, HEADS, kdim=3, vdim=5).double()
    ours = nn.MultiheadAttention(E, HEADS, kdim=3, vdim=5, dtype=chainrule.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_torch_weights(ours, theirs)
    rng = np.random.default_rng(14)
    arrays = [
        rng.standard_normal((LQ, B, E)),
        rng.standard_normal((S, B, 3)),
        rng.standard_normal((S, B, 5)),
        rng.standard_normal((LQ, S)),
    ]
    _compare(ours, theirs, arrays, lambda lib, m, q, k, v, mask: m(q, k, v, attn_mask=mask))


def test_multihead_attention_eval_ignores_dropout_and_train_dropout_is_random():
    ours, theirs = mha_pair(dropout=0.5)
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(15).standard_normal((LQ, B, E))
    _compare(ours, theirs, [x], lambda lib, m, x: m(x, x, x))
    ours.train()
    xc = chainrule.tensor(x)
    a, b = ours(xc, xc, xc)[1], ours(xc, xc, xc)[1]
    assert not np.allclose(to_numpy(a), to_numpy(b))


def test_multihead_attention_double_backward():
    """Gradients of gradients through the whole layer equal torch's."""
    ours, theirs = mha_pair()
    x = np.random.default_rng(20).standard_normal((LQ, B, E))
    mask = np.triu(np.ones((LQ, LQ), dtype=bool), 1)
    xo, xt = chainrule.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    wo, wt = ours.in_proj_weight, theirs.in_proj_weight
    out_o = ours(xo, xo, xo, attn_mask=chainrule.tensor(mask))[0]
    out_t = theirs(xt, xt, xt, attn_mask=torch.tensor(mask))[0]
    go = chainrule.autograd.grad((out_o**2).sum(), [xo, wo], create_graph=True)
    gt = torch.autograd.grad((out_t**2).sum(), [xt, wt], create_graph=True)
    for a, b in zip(go, gt):
        _close(a, b, "first derivative")
    ggo = chainrule.autograd.grad((go[0] ** 2).sum() + (go[1] ** 2).sum(), [xo, wo])
    ggt = torch.autograd.grad((gt[0] ** 2).sum() + (gt[1] ** 2).sum(), [xt, wt])
    for a, b in zip(ggo, ggt):
        _close(a, b, "second derivative", 1e-9)


def test_multihead_attention_structure_and_errors():
    for kw in [{}, {"add_bias_kv": True}, {"kdim": 3, "vdim": 5, "bias": False}]:
        ours, theirs = nn.MultiheadAttention(E, HEADS, **kw), torch.nn.MultiheadAttention(E, HEADS, **kw)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert [tuple(v.shape) for v in ours.state_dict().values()] == [
            tuple(v.shape) for v in theirs.state_dict().values()
        ]
        assert repr(ours) == repr(theirs)
    m = nn.MultiheadAttention(E, HEADS)
    assert np.all(to_numpy(m.in_proj_bias) == 0) and np.all(to_numpy(m.out_proj.bias) == 0)
    bound = math.sqrt(6 / (E + 3 * E))  # xavier_uniform_ on the (3E, E) in_proj_weight
    assert np.abs(to_numpy(m.in_proj_weight)).max() <= bound
    x = chainrule.randn(LQ, B, E)
    with pytest.raises(AssertionError, match="divisible"):
        nn.MultiheadAttention(5, 2)
    with pytest.raises(AssertionError, match="only bool and floating"):
        m(x, x, x, attn_mask=chainrule.zeros(LQ, LQ, dtype=chainrule.int64))
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        m(x, x, x, attn_mask=chainrule.zeros(2, LQ).bool())
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        m(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match="key_padded_mask"):
        m(x, x, x, key_padding_mask=chainrule.zeros(LQ, LQ).bool())
    with pytest.raises(AssertionError, match="embedding dimension"):
        y = chainrule.randn(LQ, B, E + 1)
        m(y, y, y)


# ---- Transformer encoder -------------------------------------------------------------------------
def encoder_pair(dropout: float = 0.0, **kw):
    torch.manual_seed(0)
    theirs = torch.nn.TransformerEncoderLayer(E, HEADS, 16, dropout=dropout, **kw).double()
    ours_kw = dict(kw)
    if callable(kw.get("activation")):
        ours_kw["activation"] = F.silu
    ours = nn.TransformerEncoderLayer(E, HEADS, 16, dropout=dropout, **ours_kw, dtype=chainrule.float64)
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            if "bias" in name or "norm" in name:
                p.uniform_(-0.5, 1.0)
    copy_torch_weights(ours, theirs)
    return ours, theirs


ENCODER_CASES = [
    ({}, {}),
    ({"norm_first": True}, {}),
    ({"activation": "gelu"}, {}),
    ({"activation": torch.nn.functional.silu, "norm_first": True}, {}),
    ({"batch_first": True}, {"kpm": True}),
    ({}, {"mask": "bool"}),
    ({}, {"mask": "float"}),
    ({"norm_first": True}, {"mask": "causal", "is_causal": True, "kpm": True}),
    ({"bias": False}, {}),
    ({"layer_norm_eps": 1e-3, "batch_first": True}, {"mask": "bool3d"}),
]


def _encoder_call(case, has_mask, has_kpm):
    def call(lib, module, x, *rest):
        rest = list(rest)
        mask = rest.pop(0) if has_mask else None
        kpm = rest.pop(0) if has_kpm else None
        return module(x, src_mask=mask, src_key_padding_mask=kpm, is_causal=case.get("is_causal", False))

    return call


@pytest.mark.parametrize("kw,case", ENCODER_CASES, ids=[str(i) for i in range(len(ENCODER_CASES))])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_transformer_encoder_layer(kw, case, mode):
    ours, theirs = encoder_pair(dropout=0.0 if mode == "train" else 0.3, **kw)
    getattr(ours, mode)()
    getattr(theirs, mode)()
    rng = np.random.default_rng(16)
    x = rng.standard_normal((B, LQ, E) if kw.get("batch_first") else (LQ, B, E))
    mask, kpm = _masks(case, rng, B, LQ, LQ)
    arrays = [x] + [m for m in (mask, kpm) if m is not None]
    _compare(ours, theirs, arrays, _encoder_call(case, mask is not None, kpm is not None), 1e-9)


def test_transformer_encoder_layer_unbatched_and_no_grad_fast_path():
    ours, theirs = encoder_pair(batch_first=True)
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(17).standard_normal((LQ, E))
    _compare(ours, theirs, [x], lambda lib, m, x: m(x), 1e-9)
    xb = np.random.default_rng(18).standard_normal((B, LQ, E))
    kpm = np.zeros((B, LQ), dtype=bool)
    kpm[:, -1] = True
    with torch.no_grad():  # torch's fused inference path: still the same numbers
        expected = theirs(torch.tensor(xb), src_key_padding_mask=torch.tensor(kpm))
    with chainrule.no_grad():
        got = ours(chainrule.tensor(xb), src_key_padding_mask=chainrule.tensor(kpm))
    # torch's fused path gives padded queries (all but the valid ones) zeros; compare the rest
    _close(got[:, :-1], expected[:, :-1], "fast path", 1e-9)


def test_transformer_encoder_layer_float32():
    torch.manual_seed(0)
    theirs = torch.nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.0, activation="gelu")
    ours = nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.0, activation="gelu")
    copy_torch_weights(ours, theirs)
    x = np.random.default_rng(21).standard_normal((LQ, B, E)).astype(np.float32)
    _compare(ours, theirs, [x], lambda lib, m, x: m(x), 2e-5)
    assert ours(chainrule.tensor(x)).dtype == chainrule.float32


@pytest.mark.parametrize("with_norm", [False, True])
def test_transformer_encoder(with_norm):
    torch.manual_seed(0)
    layer_t = torch.nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.0).double()
    theirs = torch.nn.TransformerEncoder(
        layer_t, 2, norm=torch.nn.LayerNorm(E).double() if with_norm else None, enable_nested_tensor=False
    )
    with torch.no_grad():  # make the two layers differ
        for p in theirs.layers[1].parameters():
            p.add_(0.1 * torch.randn_like(p))
    layer_o = nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.0, dtype=chainrule.float64)
    ours = nn.TransformerEncoder(
        layer_o, 2, norm=nn.LayerNorm(E, dtype=chainrule.float64) if with_norm else None
    )
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_torch_weights(ours, theirs)
    rng = np.random.default_rng(19)
    causal = np.triu(np.full((LQ, LQ), -np.inf), 1)
    _compare(
        ours, theirs, [rng.standard_normal((LQ, B, E)), causal], lambda lib, m, x, mask: m(x, mask=mask), 1e-9
    )


def test_transformer_structure():
    ours, theirs = nn.TransformerEncoderLayer(E, HEADS), torch.nn.TransformerEncoderLayer(E, HEADS)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [tuple(v.shape) for v in ours.state_dict().values()] == [
        tuple(v.shape) for v in theirs.state_dict().values()
    ]
    assert repr(ours) == repr(theirs)
    assert ours.activation_relu_or_gelu == 1
    assert nn.TransformerEncoderLayer(E, HEADS, activation="gelu").activation_relu_or_gelu == 2
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(E, HEADS, activation="tanh")


# ---- empty inputs -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shapes, kwargs",
    [
        ([(2, 3, 3), (0, 4, 3), (0, 4, 2)], {}),  # no value: zeros of the query's shape, no checks
        ([(2, 3, 3), (3, 0, 3), (3, 0, 2)], {}),
        ([(2, 3, 3), (2, 4, 3), (2, 4, 0)], {}),
        ([(2, 0, 3), (3, 4, 3), (3, 4, 2)], {}),  # no query row
        ([(2, 0, 3), (2, 4, 5), (2, 4, 2)], dict(is_causal=True)),
        ([(6, 2, 3), (0, 4, 3), (0, 4, 1)], dict(enable_gqa=True)),
        ([(6, 2, 0), (3, 4, 0), (3, 4, 1)], dict(enable_gqa=True)),  # E = 0: every score is 0
        ([(3, 2, 0), (3, 4, 0), (3, 4, 1)], {}),
        ([(2, 3, 3), (2, 0, 3), (2, 4, 2)], {}),  # key and value disagree: refused
        ([(0, 3, 3), (2, 4, 3), (2, 4, 2)], {}),  # an empty batch that does not broadcast: refused
    ],
)
def test_scaled_dot_product_attention_of_empty_inputs_as_torch(shapes, kwargs) -> None:
    same_or_same_error(
        lambda m, q, k, v: m.nn.functional.scaled_dot_product_attention(q, k, v, **kwargs), shapes
    )
