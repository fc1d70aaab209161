"""nn.utils.rnn against torch: padding and packing variable-length sequences, and RNN/LSTM/GRU run
over a PackedSequence (packed output, final states, gradients of inputs and of every weight)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import copy_torch_weights, to_numpy

import chainrule
import chainrule.nn as nn
from chainrule.nn.utils import rnn as R

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TR = torch.nn.utils.rnn


def _close(a, b, what: str, tol: float = 1e-10) -> None:
    assert tuple(a.shape) == tuple(b.shape), f"{what}: shape {tuple(a.shape)} != {tuple(b.shape)}"
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], f"{what}: dtype"
    np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=tol, atol=tol, err_msg=what)


def _same_packed(a, b, what: str = "packed", tol: float = 1e-10) -> None:
    assert type(a).__name__ == "PackedSequence"
    _close(a.data, b.data, f"{what}.data", tol)
    _close(a.batch_sizes, b.batch_sizes, f"{what}.batch_sizes")
    for field in ("sorted_indices", "unsorted_indices"):
        x, y = getattr(a, field), getattr(b, field)
        assert (x is None) == (y is None), field
        if y is not None:
            _close(x, y, field)


def _pair(array):
    return (chainrule.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True))


@pytest.mark.parametrize(
    "lengths,enforce_sorted",
    [([4, 3, 1], True), ([2, 4, 4, 1], False), ([1, 1, 1], True), ([3], True), ([2, 3, 2], False)],
)
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_match_torch(lengths, enforce_sorted, batch_first):
    steps, batch = max(lengths) + 1, len(lengths)
    x = np.random.default_rng(0).standard_normal((batch, steps, 2) if batch_first else (steps, batch, 2))
    xo, xt = _pair(x)
    po = R.pack_padded_sequence(xo, lengths, batch_first, enforce_sorted)
    pt = TR.pack_padded_sequence(xt, lengths, batch_first, enforce_sorted)
    _same_packed(po, pt)
    for kw in ({}, {"padding_value": -1.5, "total_length": steps + 2}):
        (yo, lo), (yt, lt) = (
            R.pad_packed_sequence(po, batch_first, **kw),
            TR.pad_packed_sequence(pt, batch_first, **kw),
        )
        _close(yo, yt, f"padded {kw}")
        _close(lo, lt, "lengths")
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    (yo * chainrule.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    _close(xo.grad, xt.grad, "grad of the padded input")
    for a, b in zip(R.unpack_sequence(po), TR.unpack_sequence(pt)):
        _close(a, b, "unpack_sequence")


def test_lengths_as_tensor_float32_and_pack_sequence():
    seqs = [
        np.random.default_rng(i).standard_normal((n, 3)).astype(np.float32) for i, n in enumerate([2, 5, 3])
    ]
    so = [chainrule.tensor(s, requires_grad=True) for s in seqs]
    st = [torch.tensor(s, requires_grad=True) for s in seqs]
    po, pt = R.pack_sequence(so, enforce_sorted=False), TR.pack_sequence(st, enforce_sorted=False)
    _same_packed(po, pt)
    assert po.data.dtype == chainrule.float32
    (po.data**2).sum().backward()
    (pt.data**2).sum().backward()
    for a, b in zip(so, st):
        _close(a.grad, b.grad, "grad of a sequence")
    x = np.random.default_rng(4).standard_normal((4, 2, 1))
    lens = np.array([4, 2])
    _same_packed(
        R.pack_padded_sequence(chainrule.tensor(x), chainrule.tensor(lens)),
        TR.pack_padded_sequence(torch.tensor(x), torch.tensor(lens)),
    )
    assert (
        po.to(chainrule.float64).data.dtype == chainrule.float64
        and po.double().data.dtype == chainrule.float64
    )
    assert not po.is_cuda and isinstance(po, tuple) and po._fields == pt._fields


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_and_unpad(batch_first, side):
    seqs = [np.random.default_rng(i).standard_normal((n, 2)) for i, n in enumerate([3, 1, 4, 0])]
    so = [chainrule.tensor(s, requires_grad=True) for s in seqs]
    st = [torch.tensor(s, requires_grad=True) for s in seqs]
    yo = R.pad_sequence(so, batch_first, 7.0, side)
    yt = TR.pad_sequence(st, batch_first, 7.0, side)
    _close(yo, yt, "pad_sequence")
    g = np.random.default_rng(9).standard_normal(tuple(yt.shape))
    (yo * chainrule.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    for a, b in zip(so, st):
        _close(a.grad, b.grad, "grad")
    if side == "right":
        lens = [3, 1, 4, 0]
        for a, b in zip(
            R.unpad_sequence(yo, chainrule.tensor(lens), batch_first),
            TR.unpad_sequence(yt, torch.tensor(lens), batch_first),
        ):
            _close(a, b, "unpad_sequence")


def test_errors_match_torch():
    def both(fn):
        with pytest.raises(Exception) as theirs:
            fn(torch, TR)
        with pytest.raises(theirs.type) as ours:
            fn(chainrule, R)
        assert str(ours.value) == str(theirs.value)

    both(lambda m, r: r.pack_padded_sequence(m.zeros(4, 3, 2), [1, 3, 2]))
    both(lambda m, r: r.pack_padded_sequence(m.zeros(4, 3, 2), [3, 2, 0]))
    both(lambda m, r: r.pack_padded_sequence(m.zeros(4, 3, 2), [3, 2]))
    both(lambda m, r: r.pad_packed_sequence(r.pack_padded_sequence(m.zeros(4, 2), [3, 2]), total_length=2))
    both(lambda m, r: r.pad_sequence([]))
    both(lambda m, r: r.pad_sequence([m.zeros(2)], padding_side="middle"))
    with pytest.raises(RuntimeError):
        TR.pad_sequence([torch.tensor(1.0)])
    with pytest.raises(RuntimeError, match="0-d"):
        R.pad_sequence([chainrule.tensor(1.0)])
    for lib, r in ((chainrule, R), (torch, TR)):  # int and bool sequences keep their dtype
        assert str(r.pad_sequence([lib.tensor([1, 2]), lib.tensor([3])], padding_value=-1).dtype).endswith(
            "int64"
        )
        assert str(r.pad_sequence([lib.tensor([True]), lib.tensor([False, True])]).dtype).endswith("bool")
    with pytest.raises(RuntimeError, match="exceeds"):  # torch reads past the input's end here
        R.pack_padded_sequence(chainrule.zeros(4, 3, 2), [5, 3, 1])


# ---- recurrent layers over packed sequences ------------------------------------------------------
LAYER_CASES = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu", "bidirectional": True}),
    ("LSTM", {}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"proj_size": 2, "batch_first": True}),
    ("GRU", {}),
    ("GRU", {"num_layers": 2, "bias": False, "bidirectional": True}),
]


@pytest.mark.parametrize("name,kw", LAYER_CASES, ids=[f"{n}{i}" for i, (n, _) in enumerate(LAYER_CASES)])
@pytest.mark.parametrize("with_hx", [False, True])
def test_rnn_layers_on_packed_sequences(name, kw, with_hx):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(3, 4, **kw).double()
    ours = getattr(nn, name)(3, 4, **kw).double()
    copy_torch_weights(ours, theirs)
    lengths, batch_first = [3, 5, 1, 5], kw.get("batch_first", False)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 5, 3) if batch_first else (5, 4, 3))
    xo, xt = _pair(x)
    po = R.pack_padded_sequence(xo, lengths, batch_first, enforce_sorted=False)
    pt = TR.pack_padded_sequence(xt, lengths, batch_first, enforce_sorted=False)
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    hxo = hxt = None
    if with_hx:
        h = rng.standard_normal((layers, 4, kw.get("proj_size") or 4))
        c = rng.standard_normal((layers, 4, 4))
        hxo, hxt = (chainrule.tensor(h), chainrule.tensor(c)), (torch.tensor(h), torch.tensor(c))
        if name != "LSTM":
            hxo, hxt = hxo[0], hxt[0]
    out_o, state_o = ours(po, hxo)
    out_t, state_t = theirs(pt, hxt)
    _same_packed(out_o, out_t, "output", 1e-9)
    states_o = state_o if name == "LSTM" else (state_o,)
    states_t = state_t if name == "LSTM" else (state_t,)
    loss_o = (out_o.data * chainrule.tensor(np.cos(to_numpy(out_t.data)))).sum()
    loss_t = (out_t.data * torch.cos(out_t.data.detach())).sum()
    for k, (a, b) in enumerate(zip(states_o, states_t)):
        _close(a, b, f"final state {k}", 1e-9)
        loss_o = loss_o + (a * chainrule.tensor(to_numpy(b))).sum()
        loss_t = loss_t + (b * b.detach()).sum()
    loss_o.backward()
    loss_t.backward()
    _close(xo.grad, xt.grad, "grad of the input", 1e-9)
    params_t = dict(theirs.named_parameters())
    for pname, p in ours.named_parameters():
        _close(p.grad, params_t[pname].grad, f"grad of {pname}", 1e-9)


def test_packed_rnn_errors():
    lstm = nn.LSTM(3, 4)
    packed = R.pack_sequence([chainrule.zeros(2, 3), chainrule.zeros(1, 3)])
    with pytest.raises(RuntimeError, match="Expected hx size"):
        lstm(packed, (chainrule.zeros(1, 3, 4), chainrule.zeros(1, 2, 4)))
    with pytest.raises(RuntimeError, match="input_size=3"):
        lstm(R.pack_sequence([chainrule.zeros(2, 5)]))


@pytest.mark.parametrize("name", ["GRU", "LSTM"])
def test_packed_rnn_second_derivatives(name):
    from oracle import compare_layer

    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(2, 3, bidirectional=True).double()
    ours = getattr(nn, name)(2, 3, bidirectional=True).double()
    copy_torch_weights(ours, theirs)

    def call(layer, x):
        utils = R if isinstance(x, chainrule.Tensor) else TR
        packed = utils.pack_padded_sequence(x, [4, 2, 3], enforce_sorted=False)
        return layer(packed)[0].data

    x = np.random.default_rng(1).standard_normal((4, 3, 2))
    compare_layer(ours, theirs, [x], modes=("train",), call=call)
