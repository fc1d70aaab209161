"""Softmax over the rows of a 2-D array, compiled (imported through ``kernels.jit.load``).

The callers (``kernels.softmax``) walk the rows in cache-sized chunks: ``shift_rows`` writes
``scale x - max`` of each row, NumPy's SIMD ``np.exp`` runs on the chunk (LLVM vectorizes no
``exp`` here), then ``normalize_rows`` divides each row by its sum. A row may keep only a prefix:
with ``causal``, row ``r`` of a query block of ``period`` rows keeps its first
``min(r % period + 1, S)`` entries (attention's lower triangle) and the rest becomes exactly 0
(``-inf`` before the ``exp``), so the masked half is never scaled, summed or divided.

The row maximum is taken with eight independent accumulators: a single running ``max`` is one
dependent compare-select per element (36 us per 64K float32 here, NumPy's ``max`` along rows 54 us);
eight of them 11 us. Sums use ``fastmath={"reassoc"}`` (LLVM may then vectorize the additions:
2.7 us per 64K against 20 us in order); no other fast-math flag, so NaN and inf behave as in NumPy.
A NaN never wins a comparison, so the maximum skips it, but its ``exp`` makes the row's sum NaN and
with it the whole row, as torch's softmax. A row whose maximum is ``-inf`` (or that keeps no
entry) is shifted by 0 (zeros after the sum of 0 is replaced by 1); one whose maximum is ``+inf``
is shifted by it, as torch's: ``inf - inf`` is NaN, so is the row's sum, so is the whole row.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NEG_INF = np.float32(-np.inf)
ZERO = np.float32(0.0)
ONE = np.float32(1.0)


@njit(nogil=True, cache=True, error_model="numpy")
def _valid(r, period, causal, S):
    if causal:
        n = r % period + 1
        return n if n < S else S
    return S


@njit(nogil=True, cache=True, error_model="numpy")
def _row_max(x, n):
    """``max(x[:n])`` with eight accumulators (NaN entries skipped), ``-inf`` for ``n == 0``."""
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = NEG_INF
    j = 0
    while j + 8 <= n:
        v = x[j]
        a0 = v if v > a0 else a0
        v = x[j + 1]
        a1 = v if v > a1 else a1
        v = x[j + 2]
        a2 = v if v > a2 else a2
        v = x[j + 3]
        a3 = v if v > a3 else a3
        v = x[j + 4]
        a4 = v if v > a4 else a4
        v = x[j + 5]
        a5 = v if v > a5 else a5
        v = x[j + 6]
        a6 = v if v > a6 else a6
        v = x[j + 7]
        a7 = v if v > a7 else a7
        j += 8
    while j < n:
        v = x[j]
        a0 = v if v > a0 else a0
        j += 1
    a0 = a1 if a1 > a0 else a0
    a2 = a3 if a3 > a2 else a2
    a4 = a5 if a5 > a4 else a4
    a6 = a7 if a7 > a6 else a6
    a0 = a2 if a2 > a0 else a0
    a4 = a6 if a6 > a4 else a4
    return a4 if a4 > a0 else a0


@njit(nogil=True, cache=True, error_model="numpy", fastmath={"reassoc"})
def _row_sum(x, n):
    total = ZERO
    for j in range(n):
        total += x[j]
    return total


@njit(nogil=True, cache=True, error_model="numpy")
def _no_shift(m):
    """Whether a row's maximum ``m`` shifts it by 0: ``-inf`` (all ``-inf``, or no entry) or NaN.
    A ``+inf`` maximum shifts the row, which then is NaN throughout (torch's)."""
    return m == NEG_INF or m != m


@njit(nogil=True, cache=True, error_model="numpy")
def shift_rows(s, out, scale, row0, period, causal, top):
    """``out[r] = scale s[r] - max(scale s[r])`` over each row's kept prefix, ``-inf`` after it,
    and the shift into ``top[r]``; row ``r`` is row ``row0 + r`` of the whole array (for
    ``causal``). ``out`` may be ``s``."""
    R, S = s.shape
    for r in range(R):
        n = _valid(row0 + r, period, causal, S)
        src, dst = s[r], out[r]
        if scale > 0:  # rounding is monotonic: max(scale s) = scale max(s), one pass fewer
            m = _row_max(src, n) * scale
            if _no_shift(m):
                m = ZERO
            for j in range(n):
                dst[j] = src[j] * scale - m
        else:
            for j in range(n):
                dst[j] = src[j] * scale
            m = _row_max(dst, n)
            if _no_shift(m):
                m = ZERO
            for j in range(n):
                dst[j] -= m
        for j in range(n, S):
            dst[j] = NEG_INF
        top[r] = m


@njit(nogil=True, cache=True, error_model="numpy")
def normalize_rows(e, row0, period, causal, lse, zero_dead):
    """Each row of ``e`` (the exponentials) divided by its sum over the kept prefix (a sum of 0,
    a row that attends to nothing, by 1 where ``zero_dead``, as attention's; else NaN, as softmax's);
    the rest of the row stays 0 unless the sum is NaN.
    ``lse`` holds each row's shift and gets ``log(sum)`` added: the row's log-sum-exp, from which
    ``exp_minus_rows`` remakes the probabilities."""
    R, S = e.shape
    for r in range(R):
        n = _valid(row0 + r, period, causal, S)
        row = e[r]
        total = _row_sum(row, n)
        if total == 0 and zero_dead:
            total = ONE
        for j in range(n):
            row[j] /= total
        if total != total:  # a NaN in the row: the masked entries too (0 / NaN), as torch's
            for j in range(n, S):
                row[j] = total
        lse[r] += np.log(total)


@njit(nogil=True, cache=True, error_model="numpy")
def shift_by_rows(s, out, scale, lse, row0, period, causal):
    """``out[r] = scale s[r] - lse[r]`` over each row's kept prefix, ``-inf`` after it (NaN where
    ``lse[r]`` is NaN, as ``normalize_rows`` left that row): ``exp`` of it is the softmax again."""
    R, S = s.shape
    for r in range(R):
        n = _valid(row0 + r, period, causal, S)
        src, dst, m = s[r], out[r], lse[r]
        for j in range(n):
            dst[j] = src[j] * scale - m
        rest = m if m != m else NEG_INF
        for j in range(n, S):
            dst[j] = rest


@njit(nogil=True, cache=True, error_model="numpy")
def attention_score_grad(ds, p, d, scale):
    """``ds = scale p (ds - d)`` per row (``d`` one value per row): the scores' gradient from the
    probabilities' ``ds = g v^T``, in place."""
    R, S = ds.shape
    for r in range(R):
        row, prow, dr = ds[r], p[r], d[r]
        for j in range(S):
            row[j] = scale * (prow[j] * (row[j] - dr))


@njit(nogil=True, cache=True, error_model="numpy", fastmath={"reassoc"})
def _row_dot(a, b):
    total = ZERO
    for j in range(a.size):
        total += a[j] * b[j]
    return total


@njit(nogil=True, cache=True, error_model="numpy")
def softmax_grad_rows(g, y, out):
    """``out = y (g - sum(g y))`` per row: softmax's backward in one read of ``g`` and ``y``."""
    R = g.shape[0]
    for r in range(R):
        grow, yrow, orow = g[r], y[r], out[r]
        t = _row_dot(grow, yrow)
        for j in range(grow.size):
            orow[j] = yrow[j] * (grow[j] - t)


@njit(nogil=True, cache=True, error_model="numpy")
def subtract_log_sums(z, e):
    """``z[r] -= log(sum(e[r]))`` per row: log_softmax from the shifted ``z`` and ``e = exp(z)``
    (a row of -inf: NaN, as torch's)."""
    for r in range(z.shape[0]):
        row = z[r]
        c = np.log(_row_sum(e[r], e.shape[1]))
        for j in range(row.size):
            row[j] -= c


@njit(nogil=True, cache=True, error_model="numpy")
def log_softmax_grad_rows(g, e):
    """``e = g - e * sum(g)`` per row, given ``e = exp(y)``: log_softmax's backward, in place."""
    for r in range(g.shape[0]):
        grow, erow = g[r], e[r]
        t = _row_sum(grow, grow.size)
        for j in range(grow.size):
            erow[j] = grow[j] - erow[j] * t


@njit(nogil=True, cache=True, error_model="numpy")
def subtract_rows(x, out, top):
    """``out[r] = x[r] - top[r]`` (``top[r]`` -inf or NaN: 0), for a maximum NumPy took: its
    SIMD ``max`` beats the eight accumulators of ``_row_max`` on long rows (10000 floats: 0.15 ns
    an element against 0.4), not on attention's rows of 128 (1 ns)."""
    for r in range(x.shape[0]):
        m = top[r]
        if _no_shift(m):
            m = ZERO
        src, dst = x[r], out[r]
        for j in range(src.size):
            dst[j] = src[j] - m


@njit(nogil=True, cache=True, error_model="numpy")
def log_softmax_nll(x, t, ignore_index, z):
    """cross_entropy's forward on a small batch in one call: ``z[r]`` = log_softmax of row ``r`` of
    ``x`` (as ``log_softmax_rows``: shifted by the row's maximum, then by the log of the sum of the
    exponentials) and the sum of ``-z[r, t[r]]`` over the rows, accumulated in float64. Returns
    ``(sum, r)``: ``r`` the first row whose target is outside ``[0, S)`` or equals ``ignore_index``
    (the caller then takes the general path, which raises or skips it), -1 when there is none."""
    R, S = x.shape
    total = 0.0
    for r in range(R):
        k = t[r]
        if k < 0 or k >= S or k == ignore_index:
            return total, r
        src, dst = x[r], z[r]
        m = _row_max(src, S)
        if _no_shift(m):  # as shift_rows
            m = ZERO
        s = ZERO
        for j in range(S):
            v = src[j] - m
            dst[j] = v
            s += np.exp(v)
        c = np.log(s)
        for j in range(S):
            dst[j] -= c
        total -= dst[k]
    return total, -1
