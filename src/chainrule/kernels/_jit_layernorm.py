"""Layer norm over the rows of a 2-D array, compiled (imported through ``kernels.jit.load``).

The same formulas as the NumPy row kernels of ``kernels.normalization`` (two-pass variance,
``y = (x - mean) invstd w + b``; ``dx = invstd (gh - mean(gh) - xhat mean(gh xhat))``,
``gh = g w``), each row read while it is in the L1 cache: the forward reads ``x`` twice and writes
``y`` once, the backward reads ``g`` and ``x`` and writes ``dx``, accumulating ``dw`` and ``db``.
Row sums use ``fastmath={"reassoc"}`` so that LLVM vectorizes them (no other fast-math flag: NaN
and inf propagate as in NumPy). ``w`` and ``b`` are arrays of the row's length, or one element
(unused) where the op has none (``has_w``/``has_b``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

ZERO = np.float32(0.0)
ONE = np.float32(1.0)


@njit(nogil=True, cache=True, error_model="numpy", fastmath={"reassoc"})
def _sum(x):
    total = ZERO
    for j in range(x.size):
        total += x[j]
    return total


@njit(nogil=True, cache=True, error_model="numpy", fastmath={"reassoc"})
def _centred_squares(x, m):
    total = ZERO
    for j in range(x.size):
        c = x[j] - m
        total += c * c
    return total


@njit(nogil=True, cache=True, error_model="numpy", fastmath={"reassoc"})
def _dots(h, x, m, s):
    """``(sum(h), sum(h * xhat))`` with ``xhat = (x - m) s``."""
    t1 = ZERO
    t2 = ZERO
    for j in range(h.size):
        t1 += h[j]
        t2 += h[j] * ((x[j] - m) * s)
    return t1, t2


@njit(nogil=True, cache=True, error_model="numpy")
def row_forward(x, n, eps, w, b, has_w, has_b, y, mean, invstd):
    """``y``, ``mean`` and ``invstd`` (R,) of layer norm over the rows of ``x`` (R, D); ``n`` is D
    and ``eps`` epsilon, both of ``x``'s dtype (a Python number would make the arithmetic float64)."""
    R, D = x.shape
    for r in range(R):
        row, out = x[r], y[r]
        m = _sum(row) / n
        s = ONE / np.sqrt(_centred_squares(row, m) / n + eps)
        mean[r] = m
        invstd[r] = s
        if has_w and has_b:
            for j in range(D):
                out[j] = (row[j] - m) * s * w[j] + b[j]
        elif has_w:
            for j in range(D):
                out[j] = (row[j] - m) * s * w[j]
        elif has_b:
            for j in range(D):
                out[j] = (row[j] - m) * s + b[j]
        else:
            for j in range(D):
                out[j] = (row[j] - m) * s


@njit(nogil=True, cache=True, error_model="numpy")
def row_backward(g, x, n, mean, invstd, w, has_w, need_x, need_w, need_b, h, dx, dw, db):
    """Layer norm's backward over rows: ``dx`` (R, D) where ``need_x``; ``dw``/``db`` (D,)
    accumulated (added to) where wanted. ``h`` is a scratch row of D elements, ``n`` D in ``x``'s
    dtype."""
    R, D = x.shape
    for r in range(R):
        grow, xrow = g[r], x[r]
        m, s = mean[r], invstd[r]
        if need_w:
            for j in range(D):
                dw[j] += grow[j] * ((xrow[j] - m) * s)
        if need_b:
            for j in range(D):
                db[j] += grow[j]
        if need_x:
            if has_w:
                for j in range(D):
                    h[j] = grow[j] * w[j]
            else:
                for j in range(D):
                    h[j] = grow[j]
            t1, t2 = _dots(h, xrow, m, s)
            c1 = t1 / n
            c2 = t2 / n
            out = dx[r]
            for j in range(D):
                out[j] = (h[j] - c1 - ((xrow[j] - m) * s) * c2) * s
