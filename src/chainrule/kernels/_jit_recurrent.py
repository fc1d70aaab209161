"""The LSTM cell's per-step element-wise work, compiled (imported through ``kernels.jit.load``).

At batch 20 x hidden 256 a step's gate arrays hold 5K-20K floats: NumPy's ~10 forward and ~20
backward ufunc calls per step each pay a call and walk ``(B, H)`` column slices of the ``(B, 4H)``
gate rows, ~2-4 us apiece, more than their arithmetic. Each kernel here is one pass per step.
LLVM vectorizes no ``exp``/``tanh`` without Intel's SVML, so the forward leaves those to NumPy's
SIMD ufuncs on contiguous buffers between two compiled passes (``ops/recurrent.py``).

Arrays are 2-D and C-contiguous (rows of one batch element); gates in torch's order i, f, g, o.
The arithmetic is the NumPy path's, operation for operation.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# globals are frozen into the compiled code as constants; float32 ones keep float32 loops in float32
ONE = np.float32(1.0)


@njit(nogil=True, cache=True, error_model="numpy")
def lstm_pre(a, bias, rec, s, gg):
    """``a += bias + rec`` (the input's part of the gates, both biases summed ``(4H,)``, the
    recurrent part), then the sigmoid gates' ``-a`` (i, f, o) into ``s`` ``(B, 3H)`` and the cell
    gate's ``a`` into ``gg`` ``(B, H)``, for NumPy's ``exp`` and ``tanh`` on contiguous memory."""
    batch, hidden = gg.shape
    for b in range(batch):
        for j in range(2 * hidden):
            v = a[b, j] + bias[j] + rec[b, j]
            a[b, j] = v
            s[b, j] = -v
        for j in range(hidden):
            k = 2 * hidden + j
            v = a[b, k] + bias[k] + rec[b, k]
            a[b, k] = v
            gg[b, j] = v
            k += hidden
            v = a[b, k] + bias[k] + rec[b, k]
            a[b, k] = v
            s[b, 2 * hidden + j] = -v


@njit(nogil=True, cache=True, error_model="numpy")
def lstm_cell(s, gg, c_prev, a, c):
    """Given ``s = exp(-a)`` of the sigmoid gates and ``gg = tanh(a_g)``: the activated gates into
    ``a`` (what backward reads) and the new cell state ``c = f c_prev + i g``."""
    batch, hidden = c.shape
    for b in range(batch):
        for j in range(hidden):
            i = ONE / (s[b, j] + ONE)
            f = ONE / (s[b, hidden + j] + ONE)
            o = ONE / (s[b, 2 * hidden + j] + ONE)
            g = gg[b, j]
            a[b, j] = i
            a[b, hidden + j] = f
            a[b, 2 * hidden + j] = g
            a[b, 3 * hidden + j] = o
            c[b, j] = f * c_prev[b, j] + i * g


@njit(nogil=True, cache=True, error_model="numpy")
def lstm_out(a, tc, h):
    """``h = o tanh(c)``."""
    batch, hidden = h.shape
    for b in range(batch):
        for j in range(hidden):
            h[b, j] = a[b, 3 * hidden + j] * tc[b, j]


@njit(nogil=True, cache=True, error_model="numpy")
def lstm_step_back(a, tc, c_prev, g, dh, dc, da):
    """One step back through time. In: the activated gates ``a``, ``tanh(c)``, the previous cell
    state, the output's gradient ``g`` and ``dh`` (from the step after; added to ``g``), the cell
    state's gradient ``dc``. Out: the gates' derivative ``da`` ``(B, 4H)``; ``dc`` becomes the
    previous cell state's gradient."""
    batch, hidden = dc.shape
    for b in range(batch):
        for j in range(hidden):
            i = a[b, j]
            f = a[b, hidden + j]
            gv = a[b, 2 * hidden + j]
            o = a[b, 3 * hidden + j]
            t = tc[b, j]
            d = g[b, j] + dh[b, j]
            dcv = dc[b, j] + (ONE - t * t) * o * d
            da[b, j] = dcv * gv * (i - i * i)
            da[b, hidden + j] = dcv * c_prev[b, j] * (f - f * f)
            da[b, 2 * hidden + j] = dcv * i * (ONE - gv * gv)
            da[b, 3 * hidden + j] = d * t * (o - o * o)
            dc[b, j] = dcv * f
