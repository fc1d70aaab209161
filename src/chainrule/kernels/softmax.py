"""Softmax over the last axis of a C-contiguous float array in cache-sized chunks of rows, with the
compiled kernels of ``kernels/_jit_softmax.py`` (None from each function when they are off: the
caller keeps its NumPy path).

NumPy's softmax over attention scores ((16, 6, 128, 128) float32, 1.57M elements) is seven
passes over 6.3 MB, each out of the cache, on one thread: scale, mask, max (1.5 ms alone), shift,
``exp``, sum, divide, about 5 ms. Here each chunk of 64K elements is shifted, exponentiated (NumPy's
SIMD ``exp``) and normalized while it stays in the L2 cache, and the two halves of the rows run on
two threads (``kernels.halves``).
"""

from __future__ import annotations

import numpy as np

from . import jit
from .halves import run_in_halves

__all__ = [
    "softmax_rows",
    "probs_from_lse",
    "attention_score_grad",
    "softmax_grad_rows",
    "log_softmax_rows",
    "log_softmax_grad_rows",
    "log_softmax_nll_rows",
]

_CHUNK = 1 << 16  # elements per chunk: 256 KiB of float32
_LONG_ROW = 1024  # from this row length NumPy's SIMD max along rows beats the compiled one
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _rows_per_chunk(row_length: int) -> int:
    return max(1, _CHUNK // max(row_length, 1))


def _fits(*arrays: np.ndarray) -> bool:
    """Plain C-contiguous 2-D float32/float64 NumPy arrays of one dtype."""
    dtype = arrays[0].dtype
    return all(
        type(a) is np.ndarray and a.ndim == 2 and a.dtype == dtype and a.flags.c_contiguous for a in arrays
    ) and (dtype in _FLOATS)


def _by_rows(kernel, shape: tuple, step: int) -> None:
    """``kernel(first_row, stop_row)`` over the rows of a (R, S) array, on two threads from
    ``halves.MIN_ELEMENTS`` elements (split at a multiple of ``step`` rows)."""
    S = shape[1]
    run_in_halves(lambda begin, end: kernel(begin // S, end // S), shape[0] * S, step * S)


def softmax_rows(
    s: np.ndarray,
    out: np.ndarray,
    scale: float = 1.0,
    period: int = 1,
    causal: bool = False,
    lse: np.ndarray | None = None,
    zero_dead: bool = True,
):
    """``softmax(scale * s)`` of each row of ``s`` (R, S) into ``out`` (may be ``s``); with ``causal``,
    row ``r`` keeps its first ``min(r % period + 1, S)`` entries and is 0 after them. A row of
    ``-inf`` gives zeros (attention's rows that attend to nothing), NaN without ``zero_dead``
    (softmax's). ``lse`` (R,), if given, receives each row's log-sum-exp (for ``probs_from_lse``).
    Returns ``out``, or None where the compiled kernels are off or the arrays do not fit them."""
    compiled = jit.load("_jit_softmax")
    if compiled is None or not _fits(s, out) or s.shape != out.shape or s.shape[1] == 0:
        return None
    R, S = s.shape
    step = _rows_per_chunk(S)
    k = s.dtype.type(scale)
    if lse is None:
        lse = np.empty(R, s.dtype)

    def kernel(begin: int, end: int) -> None:
        for a in range(begin, end, step):
            b = min(a + step, end)
            chunk = out[a:b]
            compiled.shift_rows(s[a:b], chunk, k, a, period, causal, lse[a:b])
            np.exp(chunk, out=chunk)
            compiled.normalize_rows(chunk, a, period, causal, lse[a:b], zero_dead)

    _by_rows(kernel, s.shape, step)
    return out


def probs_from_lse(
    s: np.ndarray,
    out: np.ndarray,
    scale: float,
    lse: np.ndarray,
    period: int,
    causal: bool,
    ds: np.ndarray | None = None,
    d: np.ndarray | None = None,
    grad_scale: float = 1.0,
):
    """The probabilities ``softmax_rows`` made, again, from the same ``s`` and its ``lse``:
    ``exp(scale s - lse)`` on the kept prefixes (one pass and an ``exp``: no maximum, no sum), into
    ``out`` (may be ``s``). With ``ds`` and ``d``, also ``attention_score_grad(ds, P, d,
    grad_scale)`` on each chunk while its probabilities are in cache. Returns ``out``, or None
    where the compiled kernels are off or the arrays do not fit."""
    compiled = jit.load("_jit_softmax")
    if compiled is None or not _fits(s, out) or s.shape != out.shape or lse.shape != s.shape[:1]:
        return None
    if ds is not None and (not _fits(s, ds) or ds.shape != s.shape or d.shape != lse.shape):
        return None
    step = _rows_per_chunk(s.shape[1])
    k = s.dtype.type(scale)
    gk = s.dtype.type(grad_scale)
    if d is not None:
        d = np.ascontiguousarray(d, s.dtype)

    def kernel(begin: int, end: int) -> None:
        for a in range(begin, end, step):
            b = min(a + step, end)
            chunk = out[a:b]
            compiled.shift_by_rows(s[a:b], chunk, k, lse[a:b], a, period, causal)
            np.exp(chunk, out=chunk)
            if ds is not None:
                compiled.attention_score_grad(ds[a:b], chunk, d[a:b], gk)

    _by_rows(kernel, s.shape, step)
    return out


def attention_score_grad(ds: np.ndarray, p: np.ndarray, d: np.ndarray, scale: float):
    """``ds = scale * p * (ds - d[:, None])`` in place for ``ds``, ``p`` (R, S) and ``d`` (R,);
    returns ``ds``, or None where the compiled kernels are off or the arrays do not fit."""
    compiled = jit.load("_jit_softmax")
    if compiled is None or not _fits(ds, p) or ds.shape != p.shape or d.shape != ds.shape[:1]:
        return None
    d = np.ascontiguousarray(d, ds.dtype)
    k = ds.dtype.type(scale)
    step = _rows_per_chunk(ds.shape[1])
    _by_rows(lambda a, b: compiled.attention_score_grad(ds[a:b], p[a:b], d[a:b], k), ds.shape, step)
    return ds


def softmax_grad_rows(g: np.ndarray, y: np.ndarray):
    """``y * (g - sum(g * y, -1))`` for ``g``, ``y`` (R, S) as a new array, or None where the
    compiled kernels are off or the arrays do not fit."""
    compiled = jit.load("_jit_softmax")
    if compiled is None or not _fits(g, y) or g.shape != y.shape:
        return None
    out = np.empty_like(y)
    step = _rows_per_chunk(y.shape[1])
    _by_rows(lambda a, b: compiled.softmax_grad_rows(g[a:b], y[a:b], out[a:b]), y.shape, step)
    return out


def log_softmax_rows(x: np.ndarray):
    """``x - max - log(sum(exp(x - max)))`` of each row of ``x`` (R, S) as a new array (a row's
    maximum +-inf shifts it by 0, as the NumPy path), or None where the compiled kernels are off or
    ``x`` does not fit. Per chunk: one pass writes the shifted rows, ``np.exp`` of the chunk goes
    to a cache-sized scratch buffer, one pass subtracts the log-sums; a (700, 10000) float32 input
    is read once and written once instead of six passes and two full-size temporaries."""
    compiled = jit.load("_jit_softmax")
    if compiled is None or not _fits(x) or x.shape[1] == 0:
        return None
    R, S = x.shape
    out = np.empty_like(x)
    step = _rows_per_chunk(S)
    one = x.dtype.type(1.0)

    def kernel(begin: int, end: int) -> None:
        e = np.empty((min(step, end - begin), S), x.dtype)
        top = np.empty(step, x.dtype)
        for a in range(begin, end, step):
            b = min(a + step, end)
            chunk, ec = out[a:b], e[: b - a]
            if S >= _LONG_ROW:
                np.max(x[a:b], axis=1, out=top[: b - a])
                compiled.subtract_rows(x[a:b], chunk, top[: b - a])
            else:
                compiled.shift_rows(x[a:b], chunk, one, 0, 1, False, top[: b - a])
            np.exp(chunk, out=ec)
            compiled.subtract_log_sums(chunk, ec)

    _by_rows(kernel, x.shape, step)
    return out


def log_softmax_grad_rows(g: np.ndarray, y: np.ndarray):
    """``g - exp(y) * sum(g, -1)`` for ``g``, ``y`` (R, S) as a new array, or None where the
    compiled kernels are off or the arrays do not fit."""
    compiled = jit.load("_jit_softmax")
    if compiled is None or not _fits(g, y) or g.shape != y.shape:
        return None
    out = np.empty_like(y)
    step = _rows_per_chunk(y.shape[1])

    def kernel(begin: int, end: int) -> None:
        for a in range(begin, end, step):
            b = min(a + step, end)
            np.exp(y[a:b], out=out[a:b])
            compiled.log_softmax_grad_rows(g[a:b], out[a:b])

    _by_rows(kernel, y.shape, step)
    return out


#: up to this many logits cross_entropy's forward is one compiled call (``log_softmax_nll_rows``):
#: there the dozen NumPy calls of log_softmax + nll_loss cost more than the arithmetic (a (32, 10)
#: batch: 23 us against torch's 8.5 us, 130 us right after an MLP's GEMMs had evicted the caches);
#: above it the chunked passes with NumPy's SIMD ``exp`` win (the kernel's ``exp`` is scalar)
SMALL_NLL = 1 << 14
_INT64 = np.dtype(np.int64)


def log_softmax_nll_rows(x: np.ndarray, t: np.ndarray, ignore_index: int):
    """``(z, total)``: the log_softmax ``z`` of the rows of a small ``x`` (R, S) and the sum of
    ``-z[r, t[r]]`` (a float), or None where the kernels are off, the arrays do not fit (``t``
    C-contiguous int64 (R,)) or a target is out of range or ignored (the general path handles it)."""
    if x.size > SMALL_NLL or x.size == 0 or not _fits(x) or t.dtype != _INT64 or t.shape != x.shape[:1]:
        return None
    compiled = jit.load("_jit_softmax")
    if compiled is None or type(t) is not np.ndarray or not t.flags.c_contiguous:
        return None
    z = np.empty_like(x)
    total, bad = compiled.log_softmax_nll(x, t, ignore_index, z)
    return None if bad >= 0 else (z, total)
