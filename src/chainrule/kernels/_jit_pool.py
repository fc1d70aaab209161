"""Max pooling over tiling windows (stride = kernel, no padding or dilation), compiled (imported
through ``kernels.jit.load``): the forward keeps each window's maximum and its kernel position
(int8) in one pass over the input; the backward writes every input element once (``g`` at the
kept position, 0 elsewhere).

Arrays are flat C-contiguous: ``x`` and ``dx`` (planes, H, W), ``out``, ``pos`` and ``g``
(planes, Ho, Wo); each kernel takes a range of planes (``run_in_halves`` gives each core half).
Unsigned indices: numba's wraparound check on signed ones costs a branch per element. One window
at a time, its maximum kept in registers: a pass per kernel position over whole output rows (the
running maximum and position stored and reloaded each time) took 25 ms on 64x32x64x64 float32,
this 12 ms, and the unrolled 2x2 form 8 ms (NumPy's strided passes: 28 ms).
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

ONE, TWO, THREE = np.int8(1), np.int8(2), np.int8(3)


@njit(nogil=True, cache=True, error_model="numpy")
def max_pool(x, H, W, out, pos, Ho, Wo, kh, kw, p0, p1):
    """torch's rule: a position replaces the running maximum where it is greater or NaN (the
    first maximum wins; the last NaN where there are NaNs, and the value is NaN)."""
    ukw = uint64(kw)
    for plane in range(p0, p1):
        for i in range(Ho):
            o = uint64((plane * Ho + i) * Wo)
            corner = uint64(plane * H * W + i * kh * W)
            for j in range(uint64(Wo)):
                start = corner + j * ukw
                best = x[start]
                p = 0
                for a in range(kh):
                    for b in range(kw):
                        v = x[start + uint64(a * W + b)]
                        if v > best or v != v:
                            best = v
                            p = a * kw + b
                out[o + j] = best
                pos[o + j] = p


@njit(nogil=True, cache=True, error_model="numpy")
def max_pool_2x2(x, H, W, out, pos, Ho, Wo, p0, p1):
    """``max_pool`` for 2x2 windows, unrolled."""
    for plane in range(p0, p1):
        for i in range(Ho):
            o = uint64((plane * Ho + i) * Wo)
            top = uint64(plane * H * W + i * 2 * W)
            bottom = top + uint64(W)
            for j in range(uint64(Wo)):
                best = x[top + 2 * j]
                p = np.int8(0)
                v = x[top + 2 * j + 1]
                t = v > best or v != v
                best, p = (v, ONE) if t else (best, p)
                v = x[bottom + 2 * j]
                t = v > best or v != v
                best, p = (v, TWO) if t else (best, p)
                v = x[bottom + 2 * j + 1]
                t = v > best or v != v
                best, p = (v, THREE) if t else (best, p)
                out[o + j] = best
                pos[o + j] = p


@njit(nogil=True, cache=True, error_model="numpy")
def max_pool_backward(g, pos, Ho, Wo, dx, H, W, kh, kw, p0, p1):
    """``dx``'s covered rows and columns: ``g`` at each window's kept position, 0 elsewhere (the
    caller zeroes what the windows leave uncovered)."""
    ukw = uint64(kw)
    zero = dx.dtype.type(0)
    for plane in range(p0, p1):
        for i in range(Ho):
            o = uint64((plane * Ho + i) * Wo)
            corner = uint64(plane * H * W + i * kh * W)
            for j in range(uint64(Wo)):
                start = corner + j * ukw
                v = g[o + j]
                p = pos[o + j]
                for a in range(kh):
                    for b in range(kw):
                        dx[start + uint64(a * W + b)] = v if p == a * kw + b else zero
