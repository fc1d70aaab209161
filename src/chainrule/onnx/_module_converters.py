"""Modules exported as one ONNX operator each: the recurrent layers, BatchNorm in eval, Embedding.

The recurrent layers run as many small ops per time step in chainrule; ONNX's RNN / LSTM / GRU
operators take the whole sequence (of any length, any batch size), so these modules are caught by
forward hooks and written whole, with their weights rearranged into ONNX's gate order.
"""

from __future__ import annotations

import numpy as np

from ..nn.normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d
from ..nn.rnn import GRU, LSTM, RNN
from ..nn.sparse import Embedding
from ._builder import UnsupportedOperatorError
from ._op_converters import normalize

__all__ = ["MODULE_CONVERTERS"]


def _batch_norm(ctx, step, ins):
    m = step.obj.module
    channels = m.num_features
    dtype = ctx.idtype(step, 0)
    if m.training or m.running_mean is None or m.running_var is None:  # the batch's own statistics
        rank = len(ctx.ishape(step, 0))
        view = ctx.b.const([channels] + [1] * (rank - 2))
        w = ctx.b.add("Reshape", [ctx.param(m.weight), view]) if m.weight is not None else None
        b = ctx.b.add("Reshape", [ctx.param(m.bias), view]) if m.bias is not None else None
        axes = [0] + list(range(2, rank))
        return [normalize(ctx, step, ins[0], axes, float(m.eps), w, b)]
    scale = ctx.param(m.weight) if m.weight is not None else ctx.b.initializer(np.ones(channels, dtype))
    bias = ctx.param(m.bias) if m.bias is not None else ctx.b.initializer(np.zeros(channels, dtype))
    inputs = [ins[0], scale, bias, ctx.param(m.running_mean), ctx.param(m.running_var)]
    return [
        ctx.b.add("BatchNormalization", inputs, epsilon=float(m.eps), momentum=1.0 - float(m.momentum or 0.1))
    ]


def _embedding(ctx, step, ins):
    m = step.obj.module
    if m.max_norm is not None:
        raise UnsupportedOperatorError(
            "onnx.export: Embedding with max_norm (renormalizes in place) is not supported"
        )
    return [ctx.b.add("Gather", [ctx.param(m.weight), ins[0]], axis=0)]


# ONNX's gate order, as blocks of torch's weight rows: LSTM i,f,g,o -> i,o,f,c; GRU r,z,n -> z,r,h
_GATE_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN": (0,)}


def _reorder(w: np.ndarray, order: tuple) -> np.ndarray:
    blocks = np.split(w, len(order), axis=0)
    return np.concatenate([blocks[k] for k in order], axis=0)


def _recurrent(ctx, step, ins):
    m = step.obj.module
    kind = "LSTM" if isinstance(m, LSTM) else "GRU" if isinstance(m, GRU) else "RNN"
    if getattr(m, "proj_size", 0):
        raise UnsupportedOperatorError("onnx.export: LSTM with proj_size > 0 is not supported")
    if len(ctx.ishape(step, 0)) != 3:
        raise UnsupportedOperatorError(
            f"onnx.export: {kind} on an unbatched (2-d) input is not supported; add a batch dim"
        )
    b = ctx.b
    order = _GATE_ORDER[kind]
    nd = 2 if m.bidirectional else 1
    H = m.hidden_size
    x = ins[0]
    h0 = ins[1] if len(ins) > 1 else None
    c0 = ins[2] if len(ins) > 2 else None
    if m.batch_first:
        x = b.add("Transpose", [x], perm=[1, 0, 2])
    attrs = {"hidden_size": H, "direction": "bidirectional" if nd == 2 else "forward"}
    if kind == "GRU":
        attrs["linear_before_reset"] = 1  # torch's GRU applies the reset gate after the matmul
    if kind == "RNN":
        attrs["activations"] = ["Relu" if m.nonlinearity == "relu" else "Tanh"] * nd
    h_outs, c_outs = [], []
    for layer in range(m.num_layers):
        W, R, B = [], [], []
        for d in range(nd):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            W.append(_reorder(getattr(m, "weight_ih" + sfx)._data, order))
            R.append(_reorder(getattr(m, "weight_hh" + sfx)._data, order))
            if m.bias:
                B.append(
                    np.concatenate(
                        [
                            _reorder(getattr(m, "bias_ih" + sfx)._data, order),
                            _reorder(getattr(m, "bias_hh" + sfx)._data, order),
                        ]
                    )
                )
        hint = f"onnx::{kind}"
        inputs = [x, b.initializer(np.stack(W), hint=hint), b.initializer(np.stack(R), hint=hint)]
        inputs.append(b.initializer(np.stack(B), hint=hint) if B else "")
        inputs.append("")  # sequence_lens: every sequence is full length
        rows = (b.const([layer * nd]), b.const([(layer + 1) * nd]), b.const([0])) if h0 or c0 else ()
        inputs.append(b.add("Slice", [h0, *rows]) if h0 else "")
        if kind == "LSTM":
            inputs.append(b.add("Slice", [c0, *rows]) if c0 else "")
        outs = b.add(kind, inputs, n_outputs=3 if kind == "LSTM" else 2, **attrs)
        y = outs[0]  # (seq, nd, batch, H)
        h_outs.append(outs[1])
        if kind == "LSTM":
            c_outs.append(outs[2])
        y = b.add("Transpose", [y], perm=[0, 2, 1, 3])
        x = b.add("Reshape", [y, b.const([0, 0, -1])])  # (seq, batch, nd * H): the next layer's input
    out = b.add("Transpose", [x], perm=[1, 0, 2]) if m.batch_first else x
    h_n = b.add("Concat", h_outs, axis=0) if len(h_outs) > 1 else h_outs[0]
    if kind == "LSTM":
        c_n = b.add("Concat", c_outs, axis=0) if len(c_outs) > 1 else c_outs[0]
        return [out, h_n, c_n]
    return [out, h_n]


MODULE_CONVERTERS = {
    BatchNorm1d: _batch_norm,
    BatchNorm2d: _batch_norm,
    BatchNorm3d: _batch_norm,
    Embedding: _embedding,
    RNN: _recurrent,
    LSTM: _recurrent,
    GRU: _recurrent,
}
