"""Group norm on float arrays in torch's CPU kernel's form (``chainrule.ops.group_norm`` holds the op).

``x`` (N, C, *) is seen two ways: as (N * G, D * HxW) rows, one per (sample, group), for the
statistics, and as (N * C, HxW) rows, one per (sample, channel), for the affine map and the
gradient sums (G groups of D = C / G channels, HxW the trailing elements).

torch's ``GroupNormKernelImplInternal`` folds the affine map into the normalization, one multiply
and one add per element:

    y = x * scale + shift,   scale = invstd * w,   shift = b - scale * mean     (per (n, c))

(with neither weight nor bias it writes ``(x - mean) * invstd``). Its backward
(``GroupNormBackwardKernelImplInternal``) reduces per (n, c) first, ``ds = sum(g x)`` and
``db = sum(g)``, then per (n, group)

    c1 = invstd w,   c2 = (sum(db w) mean - sum(ds w)) invstd^3 / (D HxW),
    c3 = -c2 mean - sum(db w) invstd / (D HxW),   dx = c1 g + c2 x + c3,
    dw = sum over n of (ds - db mean) invstd,   db_bias = sum over n of db.

Both are the textbook formulas rearranged, but they meet an inf or NaN in other places: an inf
weight multiplies ``x`` and the mean separately (``inf - inf``: NaN where the centred form gives
``+-inf``), so chainrule computes them the same way to give torch's values and NaN pattern. Each
large array is read or written once per pass: the forward reads ``x`` twice (the statistics,
centred two-pass) and writes ``y`` once; the backward reads ``g`` and ``x`` twice and writes
``dx`` once.
"""

from __future__ import annotations

import numpy as np

from . import jit
from .halves import MIN_ONE_PASS, run_in_halves

__all__ = ["group_stats", "group_affine", "group_grad_sums", "group_grad_input"]

_CHUNK = 1 << 18  # bytes per chunk of rows: cache-sized temporaries, as kernels.normalization


def _compiled(*arrays):
    """The compiled kernels (``_jit_groupnorm``) where numba is on and every array is C-contiguous
    of one float dtype; else None (the NumPy paths)."""
    dtype = arrays[0].dtype
    if all(a.flags.c_contiguous and a.dtype == dtype for a in arrays):
        return jit.load("_jit_groupnorm")
    return None


def _rows_step(rows: int, row_bytes: int) -> int:
    return max(1, min(rows, _CHUNK // max(row_bytes, 1)))


def _over_rows(kernel, rows: int, length: int, itemsize: int) -> None:
    """``kernel(first_row, end_row)`` over all rows, the two halves on two threads when large."""
    step = _rows_step(rows, length * itemsize)
    run_in_halves(
        lambda begin, end: kernel(begin // length, end // length), rows * length, step * length, MIN_ONE_PASS
    )


def group_stats(x: np.ndarray, eps: float) -> tuple:
    """``(mean, invstd)`` (R,) of the rows of ``x`` (R, M), biased two-pass variance."""
    R, M = x.shape
    dt = x.dtype.type
    mean = np.empty(R, dtype=x.dtype)
    invstd = np.empty(R, dtype=x.dtype)
    compiled = _compiled(x)
    if compiled is not None:
        _over_rows(
            lambda i, j: compiled.stats(x[i:j], dt(M), dt(eps), mean[i:j], invstd[i:j]), R, M, x.itemsize
        )
        return mean, invstd
    step = _rows_step(R, M * x.itemsize)
    buf = np.empty((step, M), dtype=x.dtype)
    for i in range(0, R, step):
        xc = x[i : i + step]
        bc = buf[: xc.shape[0]]
        m = xc.sum(axis=1) / dt(M)
        np.subtract(xc, m[:, None], out=bc)
        mean[i : i + step] = m
        invstd[i : i + step] = 1 / np.sqrt(np.vecdot(bc, bc) / dt(M) + dt(eps))
    return mean, invstd


def group_affine(x: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """``x * scale + shift`` per row of ``x`` (R, L), ``scale``/``shift`` (R,) of its dtype."""
    R, L = x.shape
    y = np.empty_like(x)
    compiled = _compiled(x, scale, shift)
    if compiled is not None:
        _over_rows(lambda i, j: compiled.affine(x[i:j], scale[i:j], shift[i:j], y[i:j]), R, L, x.itemsize)
        return y
    step = _rows_step(R, L * x.itemsize)
    for i in range(0, R, step):
        yc = y[i : i + step]
        np.multiply(x[i : i + step], scale[i : i + step, None], out=yc)
        yc += shift[i : i + step, None]
    return y


def group_grad_sums(g: np.ndarray, x: np.ndarray) -> tuple:
    """``(sum(g * x), sum(g))`` (R,) over the rows of ``g`` and ``x`` (R, L)."""
    R, L = x.shape
    compiled = _compiled(g, x)
    if compiled is not None:
        ds, db = np.empty(R, dtype=x.dtype), np.empty(R, dtype=x.dtype)
        _over_rows(lambda i, j: compiled.grad_sums(g[i:j], x[i:j], ds[i:j], db[i:j]), R, L, x.itemsize)
        return ds, db
    return np.vecdot(g, x), g.sum(axis=1)


def group_grad_input(
    g: np.ndarray, x: np.ndarray, c1: np.ndarray, c2: np.ndarray, c3: np.ndarray
) -> np.ndarray:
    """``c1 * g + c2 * x + c3`` per row of ``g`` and ``x`` (R, L), the coefficients (R,)."""
    R, L = x.shape
    dx = np.empty_like(x)
    compiled = _compiled(g, x, c1, c2, c3)
    if compiled is not None:
        _over_rows(
            lambda i, j: compiled.grad_input(g[i:j], x[i:j], c1[i:j], c2[i:j], c3[i:j], dx[i:j]),
            R,
            L,
            x.itemsize,
        )
        return dx
    step = _rows_step(R, L * x.itemsize)
    buf = np.empty((step, L), dtype=x.dtype)
    for i in range(0, R, step):
        dc = dx[i : i + step]
        bc = buf[: dc.shape[0]]
        np.multiply(g[i : i + step], c1[i : i + step, None], out=dc)
        np.multiply(x[i : i + step], c2[i : i + step, None], out=bc)
        dc += bc
        dc += c3[i : i + step, None]
    return dx
