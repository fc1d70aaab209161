"""The LSTM and GRU layers' fused path (one recorded op per layer and direction, ops/recurrent.py)
on the unhappy paths, against torch and against chainrule's own per-step composition."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import to_numpy
from test_rnn import H_IN, H, make_pair, run_both

import chainrule
import chainrule.nn as nn
from chainrule.nn import rnn as rnn_module

# each test on NumPy's kernels and on the compiled LSTM cell (kernels/_jit_recurrent.py)
pytestmark = pytest.mark.usefixtures("one_torch_thread", "jit_path")
FUSED = ["LSTM", "GRU"]


@pytest.mark.parametrize("mode", FUSED)
@pytest.mark.parametrize(
    "layers,bidirectional,batch,steps", [(3, True, 2, 3), (1, False, 1, 1), (2, True, 1, 5)]
)
def test_shapes_match_torch(mode, layers, bidirectional, batch, steps):
    ours, theirs = make_pair(mode, num_layers=layers, bidirectional=bidirectional)
    x = np.random.default_rng(2).standard_normal((steps, batch, H_IN))
    run_both(ours, theirs, x, None, mode == "LSTM")


@pytest.mark.parametrize("mode", FUSED)
def test_hidden_size_one_float32(mode):
    """Hidden size 1 makes every gate an (N, 1) column view (where NumPy 2.4's in-place float32
    negative goes wrong)."""
    torch.manual_seed(0)
    theirs = getattr(torch.nn, mode)(3, 1, 2)
    ours = getattr(nn, mode)(3, 1, 2)
    for p, q in zip(theirs.parameters(), ours.parameters()):
        with chainrule.no_grad():
            q.copy_(chainrule.tensor(p.detach().numpy()))
    x = np.random.default_rng(3).standard_normal((4, 3, 3)).astype(np.float32)
    run_both(ours, theirs, x, None, mode == "LSTM", tol=2e-5)


def _composed(monkeypatch):
    monkeypatch.setattr(rnn_module, "fused_layers_apply", lambda *a: False)


@pytest.mark.parametrize("mode", FUSED)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_equals_composed(mode, dtype, monkeypatch):
    """The fused op and the per-step composition give the same values and gradients."""
    m = getattr(nn, mode)(H_IN, H, 2, bidirectional=True)
    if dtype == np.float64:
        m = m.double()
    x = np.random.default_rng(4).standard_normal((5, 2, H_IN)).astype(dtype)
    results = []
    for composed in (False, True):
        if composed:
            _composed(monkeypatch)
        m.zero_grad()
        xt = chainrule.tensor(x, requires_grad=True)
        out, state = m(xt)
        h = state[0] + state[1] if mode == "LSTM" else state
        ((out**2).sum() + h.sum()).backward()
        grads = [to_numpy(p.grad) for p in m.parameters()]
        results.append([to_numpy(out), to_numpy(h), to_numpy(xt.grad)] + grads)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
        assert a.dtype == dtype


@pytest.mark.parametrize("mode", FUSED)
def test_some_inputs_need_no_gradient(mode):
    """Frozen weights, an input that needs no grad: only the others get gradients, as in torch."""
    ours, theirs = make_pair(mode, num_layers=2)
    for m in (ours, theirs):
        m.weight_ih_l0.requires_grad_(False)
        m.bias_hh_l1.requires_grad_(False)
    x = np.random.default_rng(5).standard_normal((3, 2, H_IN))
    (ours(chainrule.tensor(x))[0] ** 2).sum().backward()
    (theirs(torch.tensor(x))[0] ** 2).sum().backward()
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert (p.grad is None) == (q.grad is None), name
        if q.grad is not None:
            np.testing.assert_allclose(to_numpy(p.grad), to_numpy(q.grad), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", FUSED)
def test_hooks_retain_graph_and_no_grad(mode):
    ours, theirs = make_pair(mode)
    seen = []
    ours.weight_hh_l0.register_hook(lambda g: seen.append(g.shape) or g * 2)
    theirs.weight_hh_l0.register_hook(lambda g: g * 2)
    x = np.random.default_rng(6).standard_normal((3, 2, H_IN))
    lo, lt = ours(chainrule.tensor(x))[0].sum(), theirs(torch.tensor(x))[0].sum()
    lo.backward(retain_graph=True)
    lo.backward()
    lt.backward(retain_graph=True)
    lt.backward()
    assert len(seen) == 2
    w_o, w_t = ours.weight_hh_l0.grad, theirs.weight_hh_l0.grad
    np.testing.assert_allclose(to_numpy(w_o), to_numpy(w_t), rtol=1e-10)
    with chainrule.no_grad():
        out, _ = ours(chainrule.tensor(x))
    assert out.grad_fn is None and not out.requires_grad
    np.testing.assert_allclose(to_numpy(out), to_numpy(theirs(torch.tensor(x))[0]), rtol=1e-10)


@pytest.mark.parametrize("mode", FUSED)
def test_in_place_change_after_forward_is_caught(mode):
    """Changing an input or the output in place before backward raises, as in torch."""
    m = getattr(nn, mode)(H_IN, H).double()
    x = chainrule.randn(3, 2, H_IN, dtype=chainrule.float64, requires_grad=True)
    out, _ = m(x)
    with chainrule.no_grad():
        m.weight_hh_l0.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
    out, _ = m(x)
    out.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


@pytest.mark.parametrize("mode", FUSED)
def test_nan_and_extreme_inputs(mode):
    """Saturated gates (|x| ~ 1e4: exp overflows inside sigmoid) and NaN propagate as in torch."""
    ours, theirs = make_pair(mode)
    x = np.random.default_rng(7).standard_normal((3, 2, H_IN)) * 1e4
    x[1, 0, 0] = np.nan
    run_both(ours, theirs, x.astype(np.float64), None, mode == "LSTM")


def test_lstm_hidden_state_detached_between_steps():
    """The language model's loop: the state carried over, detached (repackage_hidden)."""
    ours, theirs = make_pair("LSTM", num_layers=2)
    x = np.random.default_rng(8).standard_normal((4, 2, H_IN))
    ho = ht = None
    for _ in range(3):
        oo, ho = ours(chainrule.tensor(x), ho)
        ot, ht = theirs(torch.tensor(x), ht)
        (oo**2).sum().backward()
        (ot**2).sum().backward()
        ho, ht = tuple(h.detach() for h in ho), tuple(h.detach() for h in ht)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(to_numpy(p.grad), to_numpy(q.grad), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_float32_states_given_non_contiguous(reverse):
    """float32 (the compiled cell's main case) against torch, with (h0, c0) given as transposed
    views (the kernels read C-ordered rows), a size-1 batch and both directions."""
    ours, theirs = make_pair("LSTM", dtype=torch.float32, bidirectional=reverse)
    layers = 2 if reverse else 1
    rng = np.random.default_rng(9)
    for batch, steps in ((1, 4), (3, 9)):  # (from 8 steps the recurrent weight is copied C-ordered)
        x = rng.standard_normal((steps, batch, H_IN)).astype(np.float32)
        h0, c0 = (rng.standard_normal((layers, H, batch)).astype(np.float32).transpose(0, 2, 1) for _ in "hc")
        run_both(ours, theirs, x, [h0, c0], True, tol=2e-5)
        for m in (ours, theirs):
            m.zero_grad()


def test_lstm_float32_saturated_gates_and_nan():
    """exp overflowing inside the compiled sigmoid gives 0 or 1 as in torch, and NaN propagates."""
    ours, theirs = make_pair("LSTM", dtype=torch.float32)
    x = np.random.default_rng(10).standard_normal((3, 2, H_IN)).astype(np.float32) * 1e4
    x[2, 1, 0] = np.nan
    x[1, 0, 1] = np.inf
    run_both(ours, theirs, x, None, True, tol=2e-5)


def test_lstm_upstream_gradient_broadcast():
    """An upstream gradient that is a broadcast view (stride 0, as sum's) reaches the kernels."""
    m = nn.LSTM(H_IN, H)
    x = chainrule.randn(3, 2, H_IN, requires_grad=True)
    out, (h, c) = m(x)
    (out.sum() + c.sum()).backward()
    t = torch.nn.LSTM(H_IN, H)
    copy = {k: torch.tensor(to_numpy(v)) for k, v in m.state_dict().items()}
    t.load_state_dict(copy)
    xt = torch.tensor(to_numpy(x), requires_grad=True)
    out_t, (h_t, c_t) = t(xt)
    (out_t.sum() + c_t.sum()).backward()
    np.testing.assert_allclose(to_numpy(x.grad), xt.grad.numpy(), rtol=2e-5, atol=2e-6)
    w_grad = t.weight_hh_l0.grad.numpy()
    np.testing.assert_allclose(to_numpy(m.weight_hh_l0.grad), w_grad, rtol=2e-5, atol=2e-6)
