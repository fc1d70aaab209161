"""RNN, LSTM, GRU and their cells against torch, with torch's weights loaded into chainrule's.

Each check runs the same input (and initial state) through both, then backpropagates the same
random upstream gradients, and compares outputs, final states, input / state gradients and every
parameter's gradient.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch
from oracle import copy_torch_weights, to_numpy

import chainrule
import chainrule.nn as nn

pytestmark = pytest.mark.usefixtures("one_torch_thread")
L, N, H_IN, H = 4, 3, 5, 6


MODES = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]


def make_pair(mode: str, dtype=torch.float64, seed: int = 0, **kw):
    """A torch layer and the chainrule layer with the same settings and weights."""
    torch.manual_seed(seed)
    name = "RNN" if mode.startswith("RNN") else mode
    extra = {"nonlinearity": mode[4:].lower()} if name == "RNN" else {}
    theirs = getattr(torch.nn, name)(H_IN, H, **extra, **kw).to(dtype)
    ours = getattr(nn, name)(H_IN, H, **extra, **kw, dtype=getattr(chainrule, str(dtype)[6:]))
    copy_torch_weights(ours, theirs)
    return ours, theirs


def _flat(result) -> list:
    out, state = result
    return [out, *state] if isinstance(state, tuple) else [out, state]


def run_both(ours, theirs, x: np.ndarray, states: list | None, lstm: bool, tol: float = 1e-10):
    """Forward and backward through both layers; compare everything."""
    xo = chainrule.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    so = [chainrule.tensor(s, requires_grad=True) for s in states] if states else None
    st = [torch.tensor(s, requires_grad=True) for s in states] if states else None
    if states:
        ro = ours(xo, tuple(so) if lstm else so[0])
        rt = theirs(xt, tuple(st) if lstm else st[0])
    else:
        ro, rt = ours(xo), theirs(xt)
    outs_o, outs_t = _flat(ro), _flat(rt)
    assert len(outs_o) == len(outs_t)
    rng = np.random.default_rng(7)
    loss_o = loss_t = 0
    for k, (o, t) in enumerate(zip(outs_o, outs_t)):
        assert tuple(o.shape) == tuple(t.shape), f"output {k}: shape {o.shape} != torch's {t.shape}"
        np.testing.assert_allclose(to_numpy(o), to_numpy(t), rtol=tol, atol=tol, err_msg=f"output {k}")
        g = rng.standard_normal(tuple(t.shape)).astype(x.dtype)
        loss_o = loss_o + (o * chainrule.tensor(g)).sum()
        loss_t = loss_t + (t * torch.tensor(g)).sum()
    loss_o.backward()
    loss_t.backward()
    np.testing.assert_allclose(to_numpy(xo.grad), to_numpy(xt.grad), rtol=tol, atol=tol, err_msg="input grad")
    for a, b in zip(so or [], st or []):
        np.testing.assert_allclose(to_numpy(a.grad), to_numpy(b.grad), rtol=tol, atol=tol, err_msg="hx grad")
    params_t = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(
            to_numpy(p.grad), to_numpy(params_t[name].grad), rtol=tol, atol=tol, err_msg=f"grad of {name}"
        )


def _states(mode: str, layers: int, directions: int, batch: int | None, rng, proj: int = 0):
    shape = (layers * directions,) + ((batch,) if batch else ())
    h = rng.standard_normal(shape + (proj or H,))
    if mode == "LSTM":
        return [h, rng.standard_normal(shape + (H,))]
    return [h]


@pytest.mark.parametrize(
    "mode,num_layers,bidirectional,batch_first,with_state",
    [combo for combo in itertools.product(MODES, [1, 2], [False, True], [False, True], [False, True])],
)
def test_sequence_layers_match_torch(mode, num_layers, bidirectional, batch_first, with_state):
    ours, theirs = make_pair(
        mode, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first
    )
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, L, H_IN) if batch_first else (L, N, H_IN))
    states = _states(mode, num_layers, 1 + bidirectional, N, rng) if with_state else None
    run_both(ours, theirs, x, states, mode == "LSTM")


@pytest.mark.parametrize(
    "mode,bidirectional,with_state", list(itertools.product(MODES, [False, True], [False, True]))
)
def test_unbatched_input(mode, bidirectional, with_state):
    ours, theirs = make_pair(mode, num_layers=2, bidirectional=bidirectional, batch_first=True)
    rng = np.random.default_rng(2)
    states = _states(mode, 2, 1 + bidirectional, None, rng) if with_state else None
    run_both(ours, theirs, rng.standard_normal((L, H_IN)), states, mode == "LSTM")


@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_projection(bidirectional):
    ours, theirs = make_pair("LSTM", num_layers=2, bidirectional=bidirectional, proj_size=3)
    rng = np.random.default_rng(3)
    states = _states("LSTM", 2, 1 + bidirectional, N, rng, proj=3)
    run_both(ours, theirs, rng.standard_normal((L, N, H_IN)), states, True)
    run_both(ours, theirs, rng.standard_normal((L, N, H_IN)), None, True)


@pytest.mark.parametrize("mode", MODES)
def test_without_bias_and_single_step(mode):
    ours, theirs = make_pair(mode, bias=False, num_layers=2)
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    rng = np.random.default_rng(4)
    run_both(ours, theirs, rng.standard_normal((1, N, H_IN)), None, mode == "LSTM")


@pytest.mark.parametrize("mode,steps", [("LSTM", 40), ("GRU", 17), ("RNN_TANH", 50)])
def test_long_sequences(mode, steps):
    """More than 16 steps: the time steps are split in blocks (see ``_rnn_steps.unbind_steps``)."""
    ours, theirs = make_pair(mode, bidirectional=True, batch_first=True)
    rng = np.random.default_rng(11)
    states = _states(mode, 1, 2, 2, rng)
    run_both(ours, theirs, rng.standard_normal((2, steps, H_IN)), states, mode == "LSTM")


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_float32(mode):
    ours, theirs = make_pair(mode, dtype=torch.float32, num_layers=2, bidirectional=True)
    x = np.random.default_rng(5).standard_normal((L, N, H_IN)).astype(np.float32)
    run_both(ours, theirs, x, None, mode == "LSTM", tol=2e-5)
    assert ours(chainrule.tensor(x))[0].dtype == chainrule.float32


@pytest.mark.parametrize("mode", MODES)
def test_dropout_between_layers(mode):
    """dropout=1 zeroes the second layer's input in training mode (deterministic, like torch);
    in eval mode dropout does nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = make_pair(mode, num_layers=2, dropout=1.0)
    x = np.random.default_rng(6).standard_normal((L, N, H_IN))
    run_both(ours, theirs, x, None, mode == "LSTM")  # training mode (the default)
    ours.eval()
    theirs.eval()
    run_both(ours, theirs, x, None, mode == "LSTM")
    ours.train()
    half = make_pair(mode, num_layers=2, dropout=0.5)[0]
    chainrule.manual_seed(0)
    a = half(chainrule.tensor(x))[0]
    b = half(chainrule.tensor(x))[0]
    assert not np.allclose(to_numpy(a), to_numpy(b)), "training-mode dropout should differ between calls"
    half.eval()
    np.testing.assert_array_equal(
        to_numpy(half(chainrule.tensor(x))[0]), to_numpy(half(chainrule.tensor(x))[0])
    )


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH"])
def test_double_backward(mode):
    """Gradients of gradients (create_graph=True) equal torch's for a one-layer network."""
    ours, theirs = make_pair(mode, bidirectional=True)
    x = np.random.default_rng(8).standard_normal((3, 2, H_IN))
    xo, xt = chainrule.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    w_o, w_t = ours.weight_hh_l0, theirs.weight_hh_l0
    go = chainrule.autograd.grad((ours(xo)[0] ** 2).sum(), [xo, w_o], create_graph=True)
    gt = torch.autograd.grad((theirs(xt)[0] ** 2).sum(), [xt, w_t], create_graph=True)
    for a, b in zip(go, gt):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-10, atol=1e-10)
    ggo = chainrule.autograd.grad((go[0] ** 2).sum() + (go[1] ** 2).sum(), [xo, w_o])
    ggt = torch.autograd.grad((gt[0] ** 2).sum() + (gt[1] ** 2).sum(), [xt, w_t])
    for a, b in zip(ggo, ggt):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-9, atol=1e-10)


# ---- cells ---------------------------------------------------------------------------------------
CELLS = [
    ("RNNCell", {}),
    ("RNNCell", {"nonlinearity": "relu"}),
    ("LSTMCell", {}),
    ("GRUCell", {}),
    ("GRUCell", {"bias": False}),
]


@pytest.mark.parametrize("name,kw", CELLS)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
def test_cells_match_torch(name, kw, batched, with_state):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(H_IN, H, **kw).double()
    ours = getattr(nn, name)(H_IN, H, **kw, dtype=chainrule.float64)
    copy_torch_weights(ours, theirs)
    rng = np.random.default_rng(9)
    lead = (N,) if batched else ()
    x = rng.standard_normal(lead + (H_IN,))
    n_states = 2 if name == "LSTMCell" else 1
    states = [rng.standard_normal(lead + (H,)) for _ in range(n_states)] if with_state else []
    xo, xt = chainrule.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    so = [chainrule.tensor(s, requires_grad=True) for s in states]
    st = [torch.tensor(s, requires_grad=True) for s in states]
    args_o = (xo,) + ((tuple(so) if n_states == 2 else so[0],) if states else ())
    args_t = (xt,) + ((tuple(st) if n_states == 2 else st[0],) if states else ())
    ro, rt = ours(*args_o), theirs(*args_t)
    ro, rt = (ro if isinstance(ro, tuple) else (ro,)), (rt if isinstance(rt, tuple) else (rt,))
    loss_o = loss_t = 0
    for o, t in zip(ro, rt):
        np.testing.assert_allclose(to_numpy(o), to_numpy(t), rtol=1e-10, atol=1e-12)
        g = rng.standard_normal(tuple(t.shape))
        loss_o = loss_o + (o * chainrule.tensor(g)).sum()
        loss_t = loss_t + (t * torch.tensor(g)).sum()
    loss_o.backward()
    loss_t.backward()
    for a, b in [(xo, xt)] + list(zip(so, st)) + list(zip(ours.parameters(), theirs.parameters())):
        np.testing.assert_allclose(to_numpy(a.grad), to_numpy(b.grad), rtol=1e-10, atol=1e-12)


# ---- structure: names, shapes, init, repr --------------------------------------------------------
@pytest.mark.parametrize(
    "name,kw",
    [
        ("RNN", {}),
        ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
        ("LSTM", {"num_layers": 2, "bidirectional": True, "proj_size": 2}),
        ("GRU", {"num_layers": 3, "bias": False, "batch_first": True, "dropout": 0.5}),
        ("LSTM", {"bidirectional": True}),
        ("RNNCell", {"nonlinearity": "relu"}),
        ("LSTMCell", {"bias": False}),
        ("GRUCell", {}),
    ],
)
def test_state_dict_shapes_and_repr_match_torch(name, kw):
    ours, theirs = getattr(nn, name)(H_IN, H, **kw), getattr(torch.nn, name)(H_IN, H, **kw)
    sd_o, sd_t = ours.state_dict(), theirs.state_dict()
    assert list(sd_o) == list(sd_t)
    for k in sd_t:
        assert tuple(sd_o[k].shape) == tuple(sd_t[k].shape), k
        assert sd_o[k].dtype == chainrule.float32
    assert repr(ours) == repr(theirs)
    bound = 1 / np.sqrt(H)
    for p in ours.parameters():  # torch's init: U(-1/sqrt(hidden), 1/sqrt(hidden))
        assert np.abs(to_numpy(p)).max() <= bound and np.abs(to_numpy(p)).max() > bound / 2
    if hasattr(theirs, "all_weights"):
        assert [[tuple(p.shape) for p in w] for w in ours.all_weights] == [
            [tuple(p.shape) for p in w] for w in theirs.all_weights
        ]


def test_state_dict_round_trip_into_torch():
    ours = nn.GRU(H_IN, H, num_layers=2, bidirectional=True, dtype=chainrule.float64)
    theirs = torch.nn.GRU(H_IN, H, num_layers=2, bidirectional=True).double()
    theirs.load_state_dict({k: torch.tensor(to_numpy(v)) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(10).standard_normal((L, N, H_IN))
    np.testing.assert_allclose(
        to_numpy(ours(chainrule.tensor(x))[0]), to_numpy(theirs(torch.tensor(x))[0]), rtol=1e-10, atol=1e-12
    )


# ---- errors: torch's exception types, messages naming the layer and the shapes -------------------
def _raises(exc, fn, *match):
    with pytest.raises(exc) as info:
        fn()
    for m in match:
        assert m in str(info.value), str(info.value)


def test_errors():
    lstm, gru = nn.LSTM(H_IN, H, 2), nn.GRU(H_IN, H, batch_first=True)
    _raises(ValueError, lambda: lstm(chainrule.randn(L, N, H_IN, 2)), "LSTM", "2D or 3D", "4D")
    _raises(RuntimeError, lambda: lstm(chainrule.randn(L, N, 4)), "input_size", "Expected 5, got 4")
    _raises(
        RuntimeError,
        lambda: lstm(chainrule.randn(L, N, H_IN), (chainrule.zeros(2, 2, H), chainrule.zeros(2, N, H))),
        "(2, 3, 6)",
        "[2, 2, 6]",
    )
    _raises(RuntimeError, lambda: gru(chainrule.randn(N, L, H_IN), chainrule.zeros(1, H)), "3-D", "2-D")
    _raises(RuntimeError, lambda: gru(chainrule.randn(L, H_IN), chainrule.zeros(1, 1, H)), "unbatched", "2-D")
    _raises(
        ValueError, lambda: gru(chainrule.randn(N, L, H_IN, dtype=chainrule.float64)), "float64", "model.to"
    )
    _raises(RuntimeError, lambda: gru(chainrule.randn(N, 0, H_IN)), "sequence length")
    _raises(ValueError, lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), "sigmoid", "'tanh' or 'relu'")
    _raises(ValueError, lambda: nn.GRU(3, 4, proj_size=2), "only supported for LSTM")
    _raises(ValueError, lambda: nn.LSTM(3, 4, proj_size=4), "smaller than hidden_size")
    _raises(ValueError, lambda: nn.LSTM(3, 4, dropout=1.5), "[0, 1]")
    _raises(ValueError, lambda: nn.LSTM(3, 0), "hidden_size")
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.2)
    cell = nn.LSTMCell(H_IN, H)
    _raises(ValueError, lambda: cell(chainrule.randn(2, 3, H_IN)), "LSTMCell", "3D")
    _raises(RuntimeError, lambda: cell(chainrule.randn(2, 4)), "input_size: got 4 expected 5")
    _raises(
        RuntimeError,
        lambda: cell(chainrule.randn(2, H_IN), (chainrule.zeros(3, H), chainrule.zeros(3, H))),
        "batch size 2",
        "batch size 3",
    )
    for exc_o, exc_t in [(ValueError, ValueError)]:  # the same exception type torch raises
        with pytest.raises(exc_t):
            torch.nn.LSTM(H_IN, H)(torch.randn(L, N, H_IN, 2))
        with pytest.raises(exc_o):
            lstm(chainrule.randn(L, N, H_IN, 2))
