"""The recurrent layers' fused ops: lstm_layer and gru_layer (one layer, one direction, the whole
sequence as one node), against the same recurrence written step by step in torch."""

from __future__ import annotations

from oracle import Arg, OpSpec

import chainrule
from chainrule.ops.recurrent import gru_layer, lstm_layer
from specs.strategies import fixed

FLOAT = Arg(-1.0, 1.0)


def _steps(m, x, reverse):
    return range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])


def _lstm(reverse: bool, bias: bool):
    def fn(m, x, h, c, w_ih, w_hh, *biases):
        b_ih, b_hh = biases if bias else (None, None)
        if m is chainrule:
            return lstm_layer(x, h, c, w_ih, w_hh, b_ih, b_hh, reverse)
        n, hs = h.shape[-1], [None] * x.shape[0]
        for t in _steps(m, x, reverse):
            a = x[t] @ w_ih.T + h @ w_hh.T + (b_ih + b_hh if bias else 0)
            i, f, o = a[:, :n].sigmoid(), a[:, n : 2 * n].sigmoid(), a[:, 3 * n :].sigmoid()
            c = f * c + i * a[:, 2 * n : 3 * n].tanh()
            h = hs[t] = o * c.tanh()
        return m.cat([m.stack(hs), c[None]])

    return fn


def _gru(reverse: bool, bias: bool):
    def fn(m, x, h, w_ih, w_hh, *biases):
        b_ih, b_hh = biases if bias else (None, None)
        if m is chainrule:
            return gru_layer(x, h, w_ih, w_hh, b_ih, b_hh, reverse)
        n, hs = h.shape[-1], [None] * x.shape[0]
        for t in _steps(m, x, reverse):
            gi, gh = x[t] @ w_ih.T + (b_ih if bias else 0), h @ w_hh.T + (b_hh if bias else 0)
            r, z = (gi[:, : 2 * n] + gh[:, : 2 * n]).sigmoid().chunk(2, 1)
            new = (gi[:, 2 * n :] + r * gh[:, 2 * n :]).tanh()
            h = hs[t] = (1 - z) * new + z * h
        return m.stack(hs)

    return fn


def _lstm_shapes(t, b, i, n, bias=True):
    return ((t, b, i), (b, n), (b, n), (4 * n, i), (4 * n, n)) + (((4 * n,), (4 * n,)) if bias else ())


def _gru_shapes(t, b, i, n, bias=True):
    return ((t, b, i), (b, n), (3 * n, i), (3 * n, n)) + (((3 * n,), (3 * n,)) if bias else ())


SPECS = [
    OpSpec(
        "lstm_layer",
        _lstm(False, True),
        fixed(_lstm_shapes(3, 2, 3, 2), _lstm_shapes(1, 1, 2, 3), _lstm_shapes(4, 3, 1, 1)),
        (FLOAT,) * 7,
    ),
    OpSpec("lstm_layer(reverse)", _lstm(True, True), fixed(_lstm_shapes(3, 2, 2, 2)), (FLOAT,) * 7),
    OpSpec(
        "lstm_layer(bias=False)", _lstm(False, False), fixed(_lstm_shapes(2, 2, 3, 2, False)), (FLOAT,) * 5
    ),
    OpSpec(
        "gru_layer",
        _gru(False, True),
        fixed(_gru_shapes(3, 2, 3, 2), _gru_shapes(1, 1, 2, 3), _gru_shapes(4, 3, 1, 1)),
        (FLOAT,) * 6,
    ),
    OpSpec("gru_layer(reverse)", _gru(True, True), fixed(_gru_shapes(3, 2, 2, 2)), (FLOAT,) * 6),
    OpSpec("gru_layer(bias=False)", _gru(False, False), fixed(_gru_shapes(2, 2, 3, 2, False)), (FLOAT,) * 4),
]
