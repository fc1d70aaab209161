"""Group norm's passes, compiled (imported through ``kernels.jit.load``): the formulas of
``kernels.group_norm`` (torch's CPU kernel's form), each row read while it is in the L1 cache.

Row sums use ``fastmath={"reassoc"}`` so that LLVM vectorizes them (no other fast-math flag: NaN
and inf propagate as in NumPy). Scalars come in the arrays' dtype: a Python number would make the
arithmetic float64.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._jit_layernorm import _centred_squares, _sum

ONE = np.float32(1.0)
ZERO = np.float32(0.0)


@njit(nogil=True, cache=True, error_model="numpy")
def stats(x, n, eps, mean, invstd):
    """``mean`` and ``invstd`` (R,) of the rows of ``x`` (R, M); ``n`` is M."""
    for r in range(x.shape[0]):
        row = x[r]
        m = _sum(row) / n
        mean[r] = m
        invstd[r] = ONE / np.sqrt(_centred_squares(row, m) / n + eps)


@njit(nogil=True, cache=True, error_model="numpy")
def affine(x, scale, shift, y):
    """``y = x * scale + shift`` per row of ``x`` (R, L)."""
    R, L = x.shape
    for r in range(R):
        row, out, a, c = x[r], y[r], scale[r], shift[r]
        for j in range(L):
            out[j] = row[j] * a + c


@njit(nogil=True, cache=True, error_model="numpy", fastmath={"reassoc"})
def _dot_and_sum(g, x):
    dot = ZERO
    total = ZERO
    for j in range(x.size):
        dot += g[j] * x[j]
        total += g[j]
    return dot, total


@njit(nogil=True, cache=True, error_model="numpy")
def grad_sums(g, x, ds, db):
    """``ds = sum(g * x)`` and ``db = sum(g)`` (R,) over the rows of ``g`` and ``x`` (R, L)."""
    for r in range(x.shape[0]):
        ds[r], db[r] = _dot_and_sum(g[r], x[r])


@njit(nogil=True, cache=True, error_model="numpy")
def grad_input(g, x, c1, c2, c3, dx):
    """``dx = c1 * g + c2 * x + c3`` per row of ``g`` and ``x`` (R, L)."""
    R, L = x.shape
    for r in range(R):
        grow, xrow, out = g[r], x[r], dx[r]
        a, b, c = c1[r], c2[r], c3[r]
        for j in range(L):
            out[j] = a * grow[j] + b * xrow[j] + c
