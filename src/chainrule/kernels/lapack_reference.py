"""LAPACK's reference (unblocked) LU and Cholesky in NumPy, for matrices holding an inf or NaN.

On finite matrices the linalg ops call LAPACK through NumPy and SciPy (OpenBLAS). On a matrix
holding an inf or NaN, OpenBLAS's blocked and reordered kernels leave other NaNs than torch,
whose MKL then behaves as LAPACK's reference algorithm: another pivot row where a column holds a
NaN (the reference ``idamax`` never picks a NaN after a number), finite entries where torch's
are NaN, a Cholesky that does not fail. These functions follow the reference algorithms step by
step (``getf2`` with ``idamax``, ``getrs``, ``potf2``), vectorised over a stack of matrices, so
the ops call them only on that rare path: they loop over the columns in Python.

Checked against torch 2.13 on random matrices with one or two infs or NaNs (tests/
test_linalg_extreme.py): the same LU, pivots, inverses, solutions and Cholesky factors.
"""

from __future__ import annotations

import numpy as np


def getf2(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LU with partial pivoting of a stack ``(b, m, n)``: ``(LU, pivots, info)``.

    ``pivots`` are 0-based row indices ``(b, min(m, n))`` (LAPACK's ``ipiv`` minus 1); ``info``
    is the 1-based index of the first exactly zero pivot, or 0. The pivot of a column is the first
    entry of the largest absolute value below the diagonal, comparing with ``>`` as BLAS's
    ``idamax`` does, so a NaN is picked only when it comes first; a zero pivot leaves its column
    unscaled (LAPACK's ``getf2``).
    """
    lu = np.array(a, copy=True)
    count, m, n = lu.shape
    k = min(m, n)
    pivots = np.zeros((count, k), dtype=np.int64)
    info = np.zeros(count, dtype=np.int32)
    every = np.arange(count)
    with np.errstate(all="ignore"):
        for j in range(k):
            column = np.abs(lu[:, j:, j])
            row = np.zeros(count, dtype=np.int64)
            best = column[:, 0].copy()
            for i in range(1, m - j):
                greater = column[:, i] > best
                row[greater] = i
                best[greater] = column[greater, i]
            row += j
            pivots[:, j] = row
            swapped = lu[every, row].copy()
            lu[every, row] = lu[:, j]
            lu[:, j] = swapped
            pivot = lu[:, j, j]
            zero = pivot == 0
            info[zero & (info == 0)] = j + 1
            scale = ~zero
            lu[scale, j + 1 :, j] *= (1 / pivot[scale])[:, None]
            lu[:, j + 1 :, j + 1 :] -= lu[:, j + 1 :, j, None] * lu[:, None, j, j + 1 :]
    return lu, pivots, info


def getrs(lu: np.ndarray, pivots: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``A^{-1} B`` from :func:`getf2`'s factors of square ``A`` ``(c, n, n)`` and ``B``
    ``(c, n, r)``: the row interchanges, then the unit lower and the upper triangular solves
    column by column, as BLAS's reference ``trsm`` orders them."""
    x = np.array(b, copy=True)
    count, n = lu.shape[0], lu.shape[-1]
    every = np.arange(count)
    with np.errstate(all="ignore"):
        for j in range(n):
            swapped = x[every, pivots[:, j]].copy()
            x[every, pivots[:, j]] = x[:, j]
            x[:, j] = swapped
        for j in range(n):
            x[:, j + 1 :] -= lu[:, j + 1 :, j, None] * x[:, j, None, :]
        for j in range(n - 1, -1, -1):
            x[:, j] = x[:, j] / lu[:, j, j, None]
            x[:, :j] -= lu[:, :j, j, None] * x[:, j, None, :]
    return x


def potf2(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The lower Cholesky factor of a stack ``(*, n, n)``, reading its lower triangle:
    ``(L, info)``.

    Pivot ``j`` fails (``info = j + 1``, the first failure per matrix) when
    ``a_jj - |l_j|^2`` is not positive or is NaN; that value is stored there and the columns from
    ``j`` on keep A's values, as LAPACK leaves them. The column below a pivot is scaled by the
    pivot's reciprocal, which MKL makes NaN for an infinite pivot (torch: a NaN column below it,
    then a failing pivot, even where the entries below are finite). The upper triangle is zero.
    """
    shape = a.shape
    n = shape[-1]
    work = np.tril(a.reshape(-1, n, n))
    info = np.zeros(work.shape[0], dtype=np.int32)
    active = np.ones(work.shape[0], dtype=bool)
    with np.errstate(all="ignore"):
        for j in range(n):
            row = work[:, j, :j]
            ajj = work[:, j, j] - np.einsum("bk,bk->b", row, row)
            failed = active & ~(ajj > 0)
            work[failed, j, j] = ajj[failed]
            info[failed] = j + 1
            active &= ~failed
            pivot = np.sqrt(ajj[active])
            work[active, j, j] = pivot
            below = work[active, j + 1 :, j] - np.einsum("bik,bk->bi", work[active, j + 1 :, :j], row[active])
            reciprocal = np.where(np.isinf(pivot), np.nan, 1 / pivot)
            work[active, j + 1 :, j] = below * reciprocal[:, None]
    return work.reshape(shape), info.reshape(shape[:-2])


def solve_nonfinite(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out`` (``A^{-1} B`` from LAPACK through NumPy, stacks broadcast to one batch shape) with
    the matrices where ``A`` holds an inf or NaN solved again by :func:`getf2` and
    :func:`getrs`, as torch's MKL solves them."""
    n = a.shape[-1]
    flat_a = a.reshape(-1, n, n)
    bad = ~np.isfinite(flat_a).all(axis=(-2, -1))
    if not bad.any():
        return out
    out = np.array(out, copy=True)
    flat_out = out.reshape(-1, *out.shape[-2:])
    lu, pivots, _ = getf2(flat_a[bad])
    flat_out[bad] = getrs(lu, pivots, b.reshape(-1, *b.shape[-2:])[bad])
    return out
