"""TransformerDecoderLayer, TransformerDecoder and the encoder-decoder Transformer against torch, with
torch's weights loaded into ours: outputs, input gradients and every parameter's gradient."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import copy_torch_weights, to_numpy

import chainrule
import chainrule.nn as nn
import chainrule.nn.functional as F

pytestmark = pytest.mark.usefixtures("one_torch_thread")
E, HEADS, T, S, B = 8, 2, 4, 5, 3


def _close(a, b, what: str, tol: float) -> None:
    assert tuple(a.shape) == tuple(b.shape), f"{what}: shape {tuple(a.shape)} != {tuple(b.shape)}"
    np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=tol, atol=tol, err_msg=what)


def _compare(ours, theirs, arrays: list, call, tol: float = 1e-9) -> None:
    """``call(module, *tensors)`` on both; compare the result, input grads and parameter grads."""
    ins_o = [chainrule.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    ins_t = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out_o, out_t = call(ours, *ins_o), call(theirs, *ins_t)
    _close(out_o, out_t, "output", tol)
    assert str(out_o.dtype).split(".")[-1] == str(out_t.dtype).split(".")[-1]
    g = np.random.default_rng(11).standard_normal(tuple(out_t.shape)).astype(arrays[0].dtype)
    (out_o * chainrule.tensor(g)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()
    for k, (a, b) in enumerate(zip(ins_o, ins_t)):
        if b.grad is not None:
            _close(a.grad, b.grad, f"grad of input {k}", tol)
    params_t = dict(theirs.named_parameters())
    names_o = [n for n, _ in ours.named_parameters()]
    assert names_o == list(params_t)
    for name, p in ours.named_parameters():
        _close(p.grad, params_t[name].grad, f"grad of {name}", tol)


def _perturb(theirs) -> None:
    """Biases and norms away from 0 and 1, so that a mix-up of them shows."""
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            if "bias" in name or "norm" in name:
                p.uniform_(-0.5, 1.0)


def decoder_layer_pair(dropout: float = 0.0, **kw):
    torch.manual_seed(0)
    theirs = torch.nn.TransformerDecoderLayer(E, HEADS, 16, dropout=dropout, **kw).double()
    ours_kw = dict(kw)
    if callable(kw.get("activation")):
        ours_kw["activation"] = F.silu
    ours = nn.TransformerDecoderLayer(E, HEADS, 16, dropout=dropout, **ours_kw, dtype=chainrule.float64)
    _perturb(theirs)
    copy_torch_weights(ours, theirs)
    return ours, theirs


def _mask(kind, rng, lq, s):
    if kind == "bool":
        m = rng.random((lq, s)) < 0.3
        m[:, 0] = False
        return m
    if kind == "float":
        return rng.standard_normal((lq, s))
    if kind == "causal":
        return np.triu(np.full((lq, s), -np.inf), 1)
    if kind == "bool3d":
        m = rng.random((B * HEADS, lq, s)) < 0.3
        m[..., 0] = False
        return m
    return None


def _kpm(on, rng, n):
    if not on:
        return None
    m = rng.random((B, n)) < 0.3
    m[:, 0] = False
    return m


DECODER_CASES = [
    ({}, {}),
    ({"norm_first": True}, {"tgt_mask": "causal"}),
    ({"activation": "gelu"}, {"memory_mask": "float"}),
    ({"activation": torch.nn.functional.silu}, {"tgt_mask": "bool"}),
    ({"batch_first": True}, {"tgt_kpm": True, "memory_kpm": True}),
    ({"bias": False, "norm_first": True}, {"tgt_mask": "bool3d", "memory_mask": "bool"}),
    ({"layer_norm_eps": 1e-3}, {"tgt_mask": "causal", "tgt_is_causal": True, "memory_kpm": True}),
]


def _decoder_call(case, present):
    def call(module, tgt, memory, *rest):
        rest = list(rest)
        masks = {k: (rest.pop(0) if present[k] else None) for k in present}
        return module(
            tgt,
            memory,
            tgt_mask=masks["tgt_mask"],
            memory_mask=masks["memory_mask"],
            tgt_key_padding_mask=masks["tgt_kpm"],
            memory_key_padding_mask=masks["memory_kpm"],
            tgt_is_causal=case.get("tgt_is_causal", False),
        )

    return call


def _decoder_arrays(kw, case, seed=5):
    rng = np.random.default_rng(seed)
    bf = kw.get("batch_first")
    tgt = rng.standard_normal((B, T, E) if bf else (T, B, E))
    mem = rng.standard_normal((B, S, E) if bf else (S, B, E))
    masks = {
        "tgt_mask": _mask(case.get("tgt_mask"), rng, T, T),
        "memory_mask": _mask(case.get("memory_mask"), rng, T, S),
        "tgt_kpm": _kpm(case.get("tgt_kpm"), rng, T),
        "memory_kpm": _kpm(case.get("memory_kpm"), rng, S),
    }
    present = {k: v is not None for k, v in masks.items()}
    return [tgt, mem] + [v for v in masks.values() if v is not None], present


@pytest.mark.parametrize("kw,case", DECODER_CASES, ids=[str(i) for i in range(len(DECODER_CASES))])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_transformer_decoder_layer(kw, case, mode):
    ours, theirs = decoder_layer_pair(dropout=0.0 if mode == "train" else 0.3, **kw)
    getattr(ours, mode)()
    getattr(theirs, mode)()
    arrays, present = _decoder_arrays(kw, case)
    _compare(ours, theirs, arrays, _decoder_call(case, present))


def test_transformer_decoder_layer_structure_unbatched_and_float32():
    ours, theirs = nn.TransformerDecoderLayer(E, HEADS), torch.nn.TransformerDecoderLayer(E, HEADS)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    copy_torch_weights(ours, theirs)
    ours.eval()
    theirs.eval()
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((T, E)).astype(np.float32), rng.standard_normal((S, E)).astype(np.float32)]
    _compare(ours, theirs, arrays, lambda m, t, mem: m(t, mem), 2e-5)
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerDecoderLayer(E, HEADS, activation="tanh")


@pytest.mark.parametrize("with_norm", [False, True])
def test_transformer_decoder(with_norm):
    torch.manual_seed(0)
    layer_t = torch.nn.TransformerDecoderLayer(E, HEADS, 16, dropout=0.0).double()
    theirs = torch.nn.TransformerDecoder(
        layer_t, 2, norm=torch.nn.LayerNorm(E).double() if with_norm else None
    )
    with torch.no_grad():  # make the two layers differ
        for p in theirs.layers[1].parameters():
            p.add_(0.1 * torch.randn_like(p))
    layer_o = nn.TransformerDecoderLayer(E, HEADS, 16, dropout=0.0, dtype=chainrule.float64)
    ours = nn.TransformerDecoder(
        layer_o, 2, norm=nn.LayerNorm(E, dtype=chainrule.float64) if with_norm else None
    )
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_torch_weights(ours, theirs)
    rng = np.random.default_rng(19)
    causal = np.triu(np.full((T, T), -np.inf), 1)
    arrays = [rng.standard_normal((T, B, E)), rng.standard_normal((S, B, E)), causal]
    _compare(ours, theirs, arrays, lambda m, t, mem, mask: m(t, mem, tgt_mask=mask))


@pytest.mark.parametrize(
    "kw",
    [{}, {"batch_first": True, "norm_first": True}, {"activation": "gelu", "bias": False}],
    ids=["default", "batch_first_norm_first", "gelu_nobias"],
)
def test_transformer(kw):
    torch.manual_seed(0)
    theirs = torch.nn.Transformer(E, HEADS, 2, 2, 16, dropout=0.0, **kw).double()
    ours = nn.Transformer(E, HEADS, 2, 2, 16, dropout=0.0, **kw, dtype=chainrule.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _perturb(theirs)
    copy_torch_weights(ours, theirs)
    rng = np.random.default_rng(23)
    bf = kw.get("batch_first")
    src = rng.standard_normal((B, S, E) if bf else (S, B, E))
    tgt = rng.standard_normal((B, T, E) if bf else (T, B, E))
    tgt_mask = to_numpy(torch.nn.Transformer.generate_square_subsequent_mask(T, dtype=torch.float64))
    src_kpm = _kpm(True, rng, S)

    def call(m, src, tgt, tgt_mask, src_kpm):
        return m(src, tgt, tgt_mask=tgt_mask, src_key_padding_mask=src_kpm, memory_key_padding_mask=src_kpm)

    _compare(ours, theirs, [src, tgt, tgt_mask, src_kpm], call)


def test_transformer_defaults_masks_and_errors():
    ours, theirs = nn.Transformer(), torch.nn.Transformer()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    assert (ours.d_model, ours.nhead, ours.batch_first) == (512, 8, False)
    # xavier_uniform_ on every matrix: the bound of the in-projection
    w = ours.encoder.layers[0].self_attn.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= np.sqrt(6 / (512 + 1536)) and w.std() > 0.02
    for sz in (0, 1, 4):
        got = nn.Transformer.generate_square_subsequent_mask(sz)
        want = torch.nn.Transformer.generate_square_subsequent_mask(sz)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        assert got.dtype == chainrule.float32
    small_o = nn.Transformer(E, HEADS, 1, 1, 16)
    small_t = torch.nn.Transformer(E, HEADS, 1, 1, 16)
    for lib, m in ((torch, small_t), (chainrule, small_o)):
        with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
            m(lib.zeros(S, 2, E), lib.zeros(T, 3, E))
        with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
            m(lib.zeros(S, 2, E), lib.zeros(T, 2, E + 1))


def test_transformer_custom_encoder_decoder():
    enc = nn.Identity()
    dec_layer = nn.TransformerDecoderLayer(E, HEADS, 16, dropout=0.0)
    model = nn.Transformer(E, HEADS, custom_encoder=enc, custom_decoder=nn.TransformerDecoder(dec_layer, 1))
    assert model.encoder is enc
    with pytest.raises(TypeError):
        model(chainrule.zeros(S, B, E), chainrule.zeros(T, B, E))  # Identity takes no masks, as torch


def test_transformer_decoder_layer_second_derivatives():
    from oracle import compare_layer

    ours, theirs = decoder_layer_pair(norm_first=True)
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal((T, 2, E)), rng.standard_normal((S, 2, E))]

    def call(layer, tgt, memory):
        if isinstance(tgt, chainrule.Tensor):
            return layer(tgt, memory)
        # torch's fused CPU attention has no second derivative: its math kernel has
        with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH):
            return layer(tgt, memory)

    compare_layer(ours, theirs, arrays, modes=("train",), call=call)


def test_transformer_unbatched_and_custom_stacks():
    torch.manual_seed(0)
    theirs = torch.nn.Transformer(E, HEADS, 1, 2, 16, dropout=0.0).double()
    ours = nn.Transformer(E, HEADS, 1, 2, 16, dropout=0.0, dtype=chainrule.float64)
    _perturb(theirs)
    copy_torch_weights(ours, theirs)
    rng = np.random.default_rng(29)
    causal = np.triu(np.full((T, T), -np.inf), 1)
    arrays = [rng.standard_normal((S, E)), rng.standard_normal((T, E)), causal]
    _compare(ours, theirs, arrays, lambda m, src, tgt, mask: m(src, tgt, tgt_mask=mask))
    # the encoder and decoder given as modules: the same numbers as the built-in stacks
    custom = nn.Transformer(
        E, HEADS, custom_encoder=ours.encoder, custom_decoder=ours.decoder, dtype=chainrule.float64
    )
    assert custom.encoder is ours.encoder and custom.decoder is ours.decoder
    src, tgt = chainrule.tensor(arrays[0]), chainrule.tensor(arrays[1])
    np.testing.assert_array_equal(custom(src, tgt).detach().numpy(), ours(src, tgt).detach().numpy())
