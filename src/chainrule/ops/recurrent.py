"""One LSTM or GRU layer (one direction) over a whole sequence as a single recorded op.

Composed from small ops, a 2-layer LSTM over 35 steps records ~1,000 nodes whose Python overhead
and per-node temporaries cost more than the arithmetic (3.3x torch's time for the layer's forward
and backward at hidden 256, batch 20). Here the layer is one node:

- forward: the input's part of the gates for every step in one GEMM (``x @ W_ih^T + b``), written
  into the buffer that then holds the activated gates; per step one GEMM ``h @ W_hh^T`` and the gate
  non-linearities in place. It keeps only what backward reads: the activated gates, the cell
  states and their tanh (LSTM), ``W_hn h + b_hn`` (GRU), and the output.
- backward through time: per step the gates' derivative into one preallocated ``(T, B, G)`` buffer
  and one GEMM for ``dh_{t-1}``; then the weight gradients for all steps at once, one GEMM each.

The output is packed in one array: the hidden state at every step, ``(T, B, H)``, and for LSTM a
last row holding the final cell state ``c_n`` (``(T + 1, B, H)``); the layers take views of it.

Second derivatives (``create_graph=True``): the rule then gets tensors, recomputes the forward from
its inputs with chainrule's differentiable ops and runs the same backward-through-time equations
on them (``_lstm_rule`` / ``_gru_rule`` are written against ``F``), so the gradient is
differentiable again. The fast array path is the same equations, in place.
"""

from __future__ import annotations

import functools

import numpy as np

from ..autograd.graph import defop, version_of
from ..autograd.math import ARRAY_MATH
from ..kernels import jit
from ._common import Tensor, make_result

__all__ = ["lstm_layer", "gru_layer"]


def _silent(fn):
    """``fn`` under ``np.errstate(over="ignore", invalid="ignore")``: torch is silent where an inf or
    a huge input overflows a gate product (the results are inf or NaN as torch's)."""

    @functools.wraps(fn)
    def silent(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore"):
            return fn(*args, **kwargs)

    return silent


def _slope_into(s: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``s (1 - s)`` (a sigmoid's derivative, given its output ``s``) into ``out``, in two passes."""
    np.multiply(s, s, out=out)
    return np.subtract(s, out, out=out)


def _sigmoid_(a: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-a))`` in place (exp(-a) may overflow to inf for a < -88: the result is then
    0, as it should be; the caller silences the warning). Not ``np.negative(a, out=a)``: NumPy 2.4
    negates a float32 (n, 1) column view in place with the wrong stride (hidden size 1)."""
    np.multiply(a, -1, out=a)
    np.exp(a, out=a)
    a += 1
    return np.reciprocal(a, out=a)


def _cat(F, parts: list):
    return F.cat(parts, -1) if F.is_tensor else np.concatenate(parts, -1)


def _stack(F, parts: list):
    return F.stack(parts, 0) if F.is_tensor else np.stack(parts, 0)


def _input_gates(F, x, w_ih, b):
    """``x @ W_ih^T (+ b)`` for all steps, ``(T, B, G)``."""
    gi = F.matmul(x, F.mT(w_ih))
    return gi if b is None else gi + b


# ---- LSTM --------------------------------------------------------------------------------------
def _lstm_rule(F, g, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse: bool, needs) -> list:
    """The gradients of (x, h0, c0, w_ih, w_hh, b_ih, b_hh) by the composed equations, against
    ``F``: forward recomputed from the inputs, then backward through time."""
    steps, hidden = x.shape[0], h0.shape[-1]
    gi = _input_gates(F, x, w_ih, None if b_ih is None else b_ih + b_hh)
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    w_hh_t = F.mT(w_hh)
    saved = [None] * steps
    h, c = h0, c0
    for t in order:
        a = gi[t] + F.matmul(h, w_hh_t)
        i, f = F.sigmoid(a[..., :hidden]), F.sigmoid(a[..., hidden : 2 * hidden])
        gg, o = F.tanh(a[..., 2 * hidden : 3 * hidden]), F.sigmoid(a[..., 3 * hidden :])
        c_prev, h_prev = c, h
        c = f * c + i * gg
        tc = F.tanh(c)
        h = o * tc
        saved[t] = (i, f, gg, o, c_prev, tc, h_prev)
    dh, dc = None, g[steps]
    das = [None] * steps
    for t in reversed(order):
        i, f, gg, o, c_prev, tc, h_prev = saved[t]
        dht = g[t] if dh is None else g[t] + dh
        dc = dc + dht * o * (1 - tc * tc)
        di, df = dc * gg * i * (1 - i), dc * c_prev * f * (1 - f)
        da = _cat(F, [di, df, dc * i * (1 - gg * gg), dht * tc * o * (1 - o)])
        dc = dc * f
        dh = F.matmul(da, w_hh)
        das[t] = da
    da = _stack(F, das)
    hprev = _stack(F, [s[6] for s in saved])
    return _grads_from_gates(F, da, da, x, hprev, w_ih, dh, dc, needs, b_ih is not None)


def _rows(t) -> int:
    """The rows of ``t`` flattened to (rows, last dim): explicit, since an empty batch leaves no
    -1 to infer."""
    return int(np.prod(t.shape[:-1]))


def _grads_from_gates(F, da_in, da_rec, x, hprev, w_ih, dh0, dc0, needs, bias: bool) -> list:
    """(dx, dh0[, dc0], dW_ih, dW_hh[, db_ih, db_hh]) from the derivative of the input's part of
    the gates (``da_in``) and of the recurrent part (``da_rec``), each (T, B, G), over all steps
    at once: one GEMM per weight."""
    gates, n_in = da_in.shape[-1], x.shape[-1]
    flat_in = F.reshape(da_in, (_rows(da_in), gates))
    grads = [F.reshape(F.matmul(flat_in, w_ih), x.shape) if needs[0] else None, dh0]
    if dc0 is not None:
        grads.append(dc0)
    k = len(grads)
    grads.append(F.matmul(F.mT(flat_in), F.reshape(x, (_rows(x), n_in))) if needs[k] else None)
    flat_rec = F.reshape(da_rec, (_rows(da_rec), gates))
    grads.append(
        F.matmul(F.mT(flat_rec), F.reshape(hprev, (_rows(hprev), hprev.shape[-1]))) if needs[k + 1] else None
    )
    if bias:
        grads.append(F.sum(flat_in, 0) if needs[k + 2] else None)
        if not F.is_tensor and da_rec is da_in and grads[-1] is not None and needs[k + 3]:
            grads.append(grads[-1].copy())  # LSTM: one sum for both biases (two inputs never share an array)
        else:
            grads.append(F.sum(flat_rec, 0) if needs[k + 3] else None)
    return grads


@_silent
def _lstm_fast(g, x, h0, c0, w_ih, w_hh, b_ih, saved, reverse: bool, needs) -> list:
    """``_lstm_rule`` on arrays, in place, from the activations forward saved."""
    acts, cs, tcs, out = saved
    steps, batch, gates = acts.shape
    dacts = np.empty_like(acts)
    compiled = _compiled_cell(acts, g, c0)
    if compiled is not None:
        dh, dc = _lstm_back_compiled(compiled, g, c0, w_hh, saved, dacts, reverse)
    else:
        dh, dc = _lstm_back_numpy(g, c0, w_hh, saved, dacts, reverse)
    # h_{t-1} for every step: the outputs shifted by one step, h0 at the first
    hprev = np.empty((steps, batch, out.shape[-1]), out.dtype)
    if reverse:
        hprev[:-1], hprev[-1] = out[1:steps], h0
    else:
        hprev[1:], hprev[0] = out[: steps - 1], h0
    return _grads_from_gates(ARRAY_MATH, dacts, dacts, x, hprev, w_ih, dh, dc, needs, b_ih is not None)


def _compiled_cell(acts: np.ndarray, *others: np.ndarray):
    """The compiled LSTM cell kernels (kernels/_jit_recurrent.py) when numba is on and the arrays
    are float32 or float64 NumPy arrays of one dtype, else None (the NumPy path)."""
    if type(acts) is not np.ndarray or (acts.dtype != np.float32 and acts.dtype != np.float64):
        return None  # (vmap's batched arrays keep the NumPy path, which raises its error)
    for a in others:
        if type(a) is not np.ndarray or a.dtype != acts.dtype:
            return None
    return jit.load("_jit_recurrent")


def _lstm_back_compiled(compiled, g, c0, w_hh, saved, dacts, reverse: bool):
    """Back through time with one compiled pass per step (``lstm_step_back``) and one GEMM:
    returns the gradients of ``(h0, c0)``."""
    acts, cs, tcs, _ = saved
    steps = acts.shape[0]
    g, c0 = np.ascontiguousarray(g), np.ascontiguousarray(c0)
    dc = g[steps].copy()
    dh = np.zeros_like(dc)
    order = range(steps) if reverse else range(steps - 1, -1, -1)
    last = steps - 1 if reverse else 0  # the step whose previous cell state is c0
    for t in order:
        c_prev = c0 if t == last else cs[t + 1 if reverse else t - 1]
        compiled.lstm_step_back(acts[t], tcs[t], c_prev, g[t], dh, dc, dacts[t])
        np.matmul(dacts[t], w_hh, out=dh)
    return dh, dc


def _lstm_back_numpy(g, c0, w_hh, saved, dacts, reverse: bool):
    """``_lstm_back_compiled`` with NumPy's ufuncs, ~20 calls per step."""
    acts, cs, tcs, _ = saved
    steps, batch, gates = acts.shape
    hidden = gates // 4
    tmp, tmp2 = np.empty((batch, hidden), acts.dtype), np.empty((batch, hidden), acts.dtype)
    dc = g[steps].copy()
    dh = None
    order = range(steps) if reverse else range(steps - 1, -1, -1)
    last = steps - 1 if reverse else 0  # the step whose previous state is (h0, c0)
    for t in order:
        a, da = acts[t], dacts[t]
        i, f, gg, o = (a[:, k * hidden : (k + 1) * hidden] for k in range(4))
        di, df, dg, do = (da[:, k * hidden : (k + 1) * hidden] for k in range(4))
        tc = tcs[t]
        c_prev = c0 if t == last else cs[t + 1 if reverse else t - 1]
        dht = g[t] if dh is None else np.add(g[t], dh, out=dh)
        # dc += dh * o * (1 - tanh(c)^2);  do = dh * tanh(c) * o (1 - o)
        np.multiply(tc, tc, out=tmp)
        np.subtract(1, tmp, out=tmp)
        tmp *= o
        tmp *= dht
        dc += tmp
        _slope_into(o, tmp)
        np.multiply(dht, tc, out=do)
        do *= tmp
        # di = dc * g * i (1 - i);  df = dc * c_prev * f (1 - f);  dg = dc * i * (1 - g^2)
        _slope_into(i, tmp)
        np.multiply(dc, gg, out=di)
        di *= tmp
        _slope_into(f, tmp)
        np.multiply(dc, c_prev, out=df)
        df *= tmp
        np.multiply(gg, gg, out=tmp2)
        np.subtract(1, tmp2, out=tmp2)
        np.multiply(dc, i, out=dg)
        dg *= tmp2
        dc *= f
        dh = np.matmul(da, w_hh)
    return dh, dc


def _check_biases(who: str, biases: tuple, versions: tuple) -> None:
    """The second-order rules recompute the forward from the inputs, the biases too; the node does
    not save the biases (torch's composed layer keeps none, so the first-order backward passes
    after an in-place change of a bias), so that path refuses a changed bias here instead of
    differentiating values the forward never saw."""
    for b, v in zip(biases, versions):
        if b is not None and version_of(b) != v:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: a bias of shape {list(b.shape)} read by {who}'s second-order "
                f"rule is at version {version_of(b)}; expected version {v} instead. Hint: clone() "
                "the bias before modifying it in place, or modify it after backward."
            )


# the rules read the biases only to recompute the forward for create_graph (_check_biases):
# torch's layer saves no bias, so the node keeps none of them (nor reads them first order)
@defop(
    "lstm_layer",
    saves_out=True,
    reads=((0, 1, 2, 3, 4),) * 7,
    formula="{gi} = the LSTM layer's gradient, back through time",
)
def _lstm_layer(F, g, xs, out, p, needs):
    reverse, bias, saved, versions = p
    x, h0, c0, w_ih, w_hh = xs[:5]
    b_ih, b_hh = (xs[5], xs[6]) if bias else (None, None)
    if F.is_tensor:
        _check_biases("lstm_layer", (b_ih, b_hh), versions)
        return _lstm_rule(F, g, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, needs)
    return _lstm_fast(g, x, h0, c0, w_ih, w_hh, b_ih, saved, reverse, needs)


def _lstm_forward_numpy(acts, h, c, w_hh_t, out, cs, tcs, order) -> np.ndarray:
    """The forward steps: the gates (saved activated in ``acts``), the cell states and their tanh,
    the outputs; returns the last cell state."""
    batch, hidden = h.shape[-2], w_hh_t.shape[0]
    rec, tmp = np.empty((batch, 4 * hidden), acts.dtype), np.empty((batch, hidden), acts.dtype)
    for t in order:
        a = acts[t]
        np.matmul(h, w_hh_t, out=rec)
        a += rec
        _sigmoid_(a[:, : 2 * hidden])
        np.tanh(a[:, 2 * hidden : 3 * hidden], out=a[:, 2 * hidden : 3 * hidden])
        _sigmoid_(a[:, 3 * hidden :])
        ct = cs[t]
        np.multiply(a[:, hidden : 2 * hidden], c, out=ct)  # f * c
        np.multiply(a[:, :hidden], a[:, 2 * hidden : 3 * hidden], out=tmp)  # i * g
        ct += tmp
        np.tanh(ct, out=tcs[t])
        np.multiply(a[:, 3 * hidden :], tcs[t], out=out[t])  # o * tanh(c)
        h, c = out[t], ct
    return c


def _lstm_forward_compiled(compiled, acts, bias, h, c, w_hh_t, out, cs, tcs, order) -> np.ndarray:
    """The forward steps with the cell's arithmetic compiled (kernels/_jit_recurrent.py) and
    NumPy's SIMD ``exp``/``tanh`` on contiguous buffers between: 52 -> ~15 us a step at batch 20 x
    hidden 256, against ~10 ufunc calls on the gate rows' column slices."""
    batch, hidden = c.shape
    rec = np.empty((batch, 4 * hidden), acts.dtype)
    s, gg = np.empty((batch, 3 * hidden), acts.dtype), np.empty((batch, hidden), acts.dtype)
    for t in order:
        a = acts[t]
        np.matmul(h, w_hh_t, out=rec)
        compiled.lstm_pre(a, bias, rec, s, gg)
        np.exp(s, out=s)
        np.tanh(gg, out=gg)
        compiled.lstm_cell(s, gg, c, a, cs[t])
        np.tanh(cs[t], out=tcs[t])
        compiled.lstm_out(a, tcs[t], out[t])
        h, c = out[t], cs[t]
    return c


@_silent
def lstm_layer(
    x: Tensor, h0: Tensor, c0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih, b_hh, reverse: bool
) -> Tensor:
    """One LSTM layer, one direction, over ``x`` ``(T, B, I)`` from the state ``(h0, c0)``
    ``(B, H)``; gates i, f, g, o as torch's. Returns ``(T + 1, B, H)``: the hidden state at every
    step, then ``c_n``. ``reverse`` runs from the last step to the first."""
    xa, h, c, wi, wh = x._data, h0._data, c0._data, w_ih._data, w_hh._data
    steps, batch = xa.shape[0], xa.shape[1]
    hidden = wh.shape[1]
    acts = np.matmul(xa.reshape(steps * batch, xa.shape[-1]), wi.T).reshape(steps, batch, 4 * hidden)
    bias = None if b_ih is None else b_ih._data + b_hh._data
    out = np.empty((steps + 1, batch, hidden), acts.dtype)
    cs, tcs = np.empty((steps, batch, hidden), acts.dtype), np.empty((steps, batch, hidden), acts.dtype)
    # h @ W_hh^T against a C-ordered copy of W_hh^T: OpenBLAS ran (20, 256) @ (256, 1024) in 84 us
    # against 121 us on the transposed view (1 thread); the copy (~0.15 ms) pays from ~5 steps on
    w_hh_t = np.ascontiguousarray(wh.T) if steps >= 8 else wh.T
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    compiled = _compiled_cell(acts, h, c, *(() if bias is None else (bias,)))
    if bias is not None and bias.shape != (4 * hidden,):
        compiled = None  # (the kernel reads one bias row)
    with np.errstate(over="ignore"):
        if compiled is not None:  # the biases added in the first compiled pass of each step
            bias = np.zeros(4 * hidden, acts.dtype) if bias is None else np.ascontiguousarray(bias)
            c = np.ascontiguousarray(c)
            c = _lstm_forward_compiled(compiled, acts, bias, h, c, w_hh_t, out, cs, tcs, order)
        else:
            if bias is not None:
                acts += bias
            c = _lstm_forward_numpy(acts, h, c, w_hh_t, out, cs, tcs, order)
    out[steps] = c
    inputs = (x, h0, c0, w_ih, w_hh) + ((b_ih, b_hh) if b_ih is not None else ())
    versions = (version_of(b_ih), version_of(b_hh)) if b_ih is not None else ()
    return make_result(out, _lstm_layer, inputs, (reverse, b_ih is not None, (acts, cs, tcs, out), versions))


# ---- GRU ---------------------------------------------------------------------------------------
def _gru_rule(F, g, x, h0, w_ih, w_hh, b_ih, b_hh, reverse: bool, needs) -> list:
    """The gradients of (x, h0, w_ih, w_hh, b_ih, b_hh) by the composed equations, against ``F``."""
    steps, hidden = x.shape[0], h0.shape[-1]
    gi = _input_gates(F, x, w_ih, b_ih)
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    w_hh_t = F.mT(w_hh)
    saved = [None] * steps
    h = h0
    for t in order:
        gh = F.matmul(h, w_hh_t)
        if b_hh is not None:
            gh = gh + b_hh
        a = gi[t]
        r = F.sigmoid(a[..., :hidden] + gh[..., :hidden])
        z = F.sigmoid(a[..., hidden : 2 * hidden] + gh[..., hidden : 2 * hidden])
        ghn = gh[..., 2 * hidden :]
        n = F.tanh(a[..., 2 * hidden :] + r * ghn)
        saved[t] = (r, z, n, ghn, h)
        h = n + z * (h - n)
    dh = None
    da_in, da_rec = [None] * steps, [None] * steps
    for t in reversed(order):
        r, z, n, ghn, h_prev = saved[t]
        dht = g[t] if dh is None else g[t] + dh
        dan = dht * (1 - z) * (1 - n * n)
        dar = dan * ghn * r * (1 - r)
        daz = dht * (h_prev - n) * z * (1 - z)
        da_in[t] = _cat(F, [dar, daz, dan])
        da_rec[t] = _cat(F, [dar, daz, dan * r])
        dh = dht * z + F.matmul(da_rec[t], w_hh)
    hprev = _stack(F, [s[4] for s in saved])
    da_in, da_rec = _stack(F, da_in), _stack(F, da_rec)
    return _grads_from_gates(F, da_in, da_rec, x, hprev, w_ih, dh, None, needs, b_ih is not None)


@_silent
def _gru_fast(g, x, h0, w_ih, w_hh, b_ih, saved, reverse: bool, needs) -> list:
    """``_gru_rule`` on arrays, in place, from the activations forward saved."""
    acts, ghns, out = saved
    steps, batch, gates = acts.shape
    hidden = gates // 3
    da_in, da_rec = np.empty_like(acts), np.empty_like(acts)
    tmp, tmp2 = np.empty((batch, hidden), acts.dtype), np.empty((batch, hidden), acts.dtype)
    dh = None
    order = range(steps) if reverse else range(steps - 1, -1, -1)
    last = steps - 1 if reverse else 0
    for t in order:
        a, di, dr_ = acts[t], da_in[t], da_rec[t]
        r, z, n = a[:, :hidden], a[:, hidden : 2 * hidden], a[:, 2 * hidden :]
        h_prev = h0 if t == last else out[t + 1 if reverse else t - 1]
        dht = g[t] if dh is None else np.add(g[t], dh, out=dh)
        dan, dar, daz = di[:, 2 * hidden :], di[:, :hidden], di[:, hidden : 2 * hidden]
        # dan = dh (1 - z)(1 - n^2)
        np.multiply(n, n, out=tmp)
        np.subtract(1, tmp, out=tmp)
        np.subtract(1, z, out=tmp2)
        tmp *= tmp2
        np.multiply(dht, tmp, out=dan)
        # daz = dh (h_prev - n) z (1 - z)
        _slope_into(z, tmp)
        np.subtract(h_prev, n, out=tmp2)
        tmp *= tmp2
        np.multiply(dht, tmp, out=daz)
        # dar = dan * (W_hn h + b_hn) * r (1 - r)
        _slope_into(r, tmp)
        tmp *= ghns[t]
        np.multiply(dan, tmp, out=dar)
        dr_[:, : 2 * hidden] = di[:, : 2 * hidden]
        np.multiply(dan, r, out=dr_[:, 2 * hidden :])
        # dh_{t-1} = dh z + da_rec W_hh
        dh_next = np.matmul(dr_, w_hh)
        np.multiply(dht, z, out=tmp)
        dh_next += tmp
        dh = dh_next
    hprev = np.empty((steps, batch, hidden), out.dtype)
    if reverse:
        hprev[:-1], hprev[-1] = out[1:], h0
    else:
        hprev[1:], hprev[0] = out[:-1], h0
    return _grads_from_gates(ARRAY_MATH, da_in, da_rec, x, hprev, w_ih, dh, None, needs, b_ih is not None)


@defop(
    "gru_layer",
    saves_out=True,
    reads=((0, 1, 2, 3),) * 6,  # (as lstm_layer's: the biases are not kept)
    formula="{gi} = the GRU layer's gradient, back through time",
)
def _gru_layer(F, g, xs, out, p, needs):
    reverse, bias, saved, versions = p
    x, h0, w_ih, w_hh = xs[:4]
    b_ih, b_hh = (xs[4], xs[5]) if bias else (None, None)
    if F.is_tensor:
        _check_biases("gru_layer", (b_ih, b_hh), versions)
        return _gru_rule(F, g, x, h0, w_ih, w_hh, b_ih, b_hh, reverse, needs)
    return _gru_fast(g, x, h0, w_ih, w_hh, b_ih, saved, reverse, needs)


@_silent
def gru_layer(x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih, b_hh, reverse: bool) -> Tensor:
    """One GRU layer, one direction, over ``x`` ``(T, B, I)`` from ``h0`` ``(B, H)``; gates r, z, n
    as torch's (``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``). Returns the hidden state at
    every step, ``(T, B, H)``."""
    xa, h, wi, wh = x._data, h0._data, w_ih._data, w_hh._data
    steps, batch = xa.shape[0], xa.shape[1]
    hidden = wh.shape[1]
    acts = np.matmul(xa.reshape(steps * batch, xa.shape[-1]), wi.T).reshape(steps, batch, 3 * hidden)
    if b_ih is not None:
        acts += b_ih._data
    bh = None if b_hh is None else b_hh._data
    out = np.empty((steps, batch, hidden), acts.dtype)
    ghns = np.empty((steps, batch, hidden), acts.dtype)
    gh, tmp = np.empty((batch, 3 * hidden), acts.dtype), np.empty((batch, hidden), acts.dtype)
    w_hh_t = wh.T
    with np.errstate(over="ignore"):
        for t in range(steps - 1, -1, -1) if reverse else range(steps):
            a = acts[t]
            np.matmul(h, w_hh_t, out=gh)
            if bh is not None:
                gh += bh
            rz = a[:, : 2 * hidden]
            rz += gh[:, : 2 * hidden]
            _sigmoid_(rz)
            ghns[t] = gh[:, 2 * hidden :]
            n = a[:, 2 * hidden :]
            np.multiply(a[:, :hidden], ghns[t], out=tmp)  # r * (W_hn h + b_hn)
            n += tmp
            np.tanh(n, out=n)
            ht = out[t]
            np.subtract(h, n, out=ht)  # n + z * (h - n)
            ht *= a[:, hidden : 2 * hidden]
            ht += n
            h = ht
    inputs = (x, h0, w_ih, w_hh) + ((b_ih, b_hh) if b_ih is not None else ())
    versions = (version_of(b_ih), version_of(b_hh)) if b_ih is not None else ()
    return make_result(out, _gru_layer, inputs, (reverse, b_ih is not None, (acts, ghns, out), versions))
