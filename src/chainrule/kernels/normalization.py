"""Batch norm and layer norm on float arrays in few passes (``chainrule.ops.normalization`` has the
math and the differentiable rule; these are its first-order fast paths).

Two layouts cover the ops:

* channels: ``x`` viewed as ``(N, C, L)``, statistics per channel over N and L, affine per channel
  (batch norm);
* rows: ``x`` viewed as ``(R, D)``, statistics per row over D, affine per column (layer norm, and
  group norm without its affine map).

Element-wise work here is memory-bound (NumPy's ufuncs are single-threaded and allocate), so the
kernels walk the data in chunks of about ``_CHUNK`` bytes: the temporaries of a chunk stay in the
L2 cache and are reused, and each large array is read or written only a few times. Batch norm's
forward on (128, 16, 1024) float32 went from 7 passes and two full-size temporaries to 3 reads of
``x`` and one write of ``y``; its backward from about 20 passes to 5.

The affine map is applied as torch's CPU kernel applies it, ``y = x * scale + shift`` with
``scale = invstd * w`` and ``shift = b - mean * scale``, and the variance is two-pass (the
centred sum of squares), so the values agree with torch's to float32 rounding.
"""

from __future__ import annotations

import numpy as np

from . import jit
from .halves import MIN_ONE_PASS, run_in_halves

__all__ = [
    "channel_forward",
    "channel_backward",
    "row_forward",
    "row_backward",
]

_CHUNK = 1 << 18  # bytes per chunk of work: 256 KiB, two or three of which fit the L2 cache


def _compiled_channels(*arrays):
    """The compiled batch-norm kernels (``_jit_batchnorm``) where they apply: numba on, and the
    arrays C-contiguous of one float dtype."""
    dtype = arrays[0].dtype
    if all(a.flags.c_contiguous and a.dtype == dtype for a in arrays):
        return jit.load("_jit_batchnorm")
    return None


def _per_channel(kernel, x: np.ndarray) -> None:
    """``kernel(c0, c1)`` over the channels of ``x`` (N, C, L), their two halves on two threads
    where ``x`` is large."""
    N, C, L = x.shape
    per = max(1, N * L)
    run_in_halves(lambda start, stop: kernel(start // per, stop // per), C * per, per, MIN_ONE_PASS)


def _step(rows: int, row_bytes: int) -> int:
    return max(1, min(rows, _CHUNK // max(row_bytes, 1)))


def _spread(v: np.ndarray, C: int, L: int, dtype) -> np.ndarray:
    """Per-channel values ``v`` (C,) as a contiguous (1, C, L) array. NumPy runs a binary ufunc
    against a (1, C, 1) operand broadcast over L several times slower than against a full one
    (measured on (4, 16, 1024) float32 chunks: a multiply then an add, 10.4 ms per 8 MB against
    1.8 ms), so the few constants of a pass are spread once, at C * L elements each."""
    return np.ascontiguousarray(np.broadcast_to(v.astype(dtype, copy=False).reshape(1, C, 1), (1, C, L)))


# ---- channels: (N, C, L), statistics per channel ---------------------------------------------
def channel_stats(x: np.ndarray, eps: float) -> tuple:
    """Per-channel ``(mean, biased var, invstd)`` of ``x`` (N, C, L): a sum, then the centred
    sum of squares chunk by chunk (two-pass, as exact as torch's)."""
    N, C, L = x.shape
    n = N * L
    dt = x.dtype.type
    compiled = _compiled_channels(x)
    if compiled is not None:
        flat, mean64, var64 = x.reshape(-1), np.empty(C), np.empty(C)
        _per_channel(lambda c0, c1: compiled.stats(flat, N, C, L, mean64, var64, c0, c1), x)
        mean, var = mean64.astype(x.dtype), var64.astype(x.dtype)
        return mean, var, 1 / np.sqrt(var + dt(eps))
    mean = x.sum(axis=(0, 2)) / dt(n)
    m3 = _spread(mean, C, L, x.dtype)
    step = _step(N, C * L * x.itemsize)
    buf = np.empty((step, C, L), dtype=x.dtype)
    sq = np.zeros(C, dtype=x.dtype)
    for i in range(0, N, step):
        b = buf[: min(step, N - i)]
        np.subtract(x[i : i + step], m3, out=b)
        sq += np.vecdot(b, b).sum(axis=0)
    var = sq / dt(n)
    invstd = 1 / np.sqrt(var + dt(eps))
    return mean, var, invstd


def channel_forward(x: np.ndarray, mean, invstd, w, b) -> np.ndarray:
    """``(x - mean) * invstd * w + b`` per channel as one multiply and one add per chunk."""
    N, C, L = x.shape
    scale = invstd * w if w is not None else invstd
    shift = -mean * scale
    if b is not None:
        shift += b
    compiled = _compiled_channels(x)
    if compiled is not None:
        y = np.empty(x.shape, x.dtype)
        flat_x, flat_y = x.reshape(-1), y.reshape(-1)
        scale, shift = scale.astype(x.dtype), shift.astype(x.dtype)
        _per_channel(lambda c0, c1: compiled.affine(flat_x, N, C, L, scale, shift, flat_y, c0, c1), x)
        return y
    scale, shift = _spread(scale, C, L, x.dtype), _spread(shift, C, L, x.dtype)
    y = np.empty_like(x)
    step = _step(N, C * L * x.itemsize)
    for i in range(0, N, step):
        yc = y[i : i + step]
        np.multiply(x[i : i + step], scale, out=yc)
        yc += shift
    return y


def _channel_dot(g: np.ndarray, x: np.ndarray, mean) -> np.ndarray:
    """Per-channel ``sum(g * (x - mean))``, centring each chunk in a cache-sized buffer."""
    N, C, L = x.shape
    m3 = _spread(mean, C, L, x.dtype)
    step = _step(N, C * L * x.itemsize)
    buf = np.empty((step, C, L), dtype=x.dtype)
    dot = np.zeros(C, dtype=x.dtype)
    for i in range(0, N, step):
        bc = buf[: min(step, N - i)]
        np.subtract(x[i : i + step], m3, out=bc)
        dot += np.vecdot(g[i : i + step], bc).sum(axis=0)
    return dot


def channel_backward(g, x, mean, invstd, w, training: bool, needs: tuple) -> tuple:
    """``(dx, dw, db)`` of batch norm for ``g`` and ``x`` (N, C, L); entries not in ``needs``
    (x, w, b) are None.

    ``dx = a (g - sum(g) / n - (x - mean) invstd^2 sum(g (x - mean)) / n)`` with ``a = invstd w``
    in training; ``dx = a g`` in evaluation."""
    N, C, L = x.shape
    n = N * L
    dt = x.dtype.type
    need_x, need_w, need_b = needs
    compiled = _compiled_channels(g, x) if training else None
    if compiled is not None:
        return _channel_backward_compiled(compiled, g, x, mean, invstd, w, needs)
    sum_g = g.sum(axis=(0, 2)) if (need_b or (need_x and training)) else None
    dot = _channel_dot(g, x, mean) if (need_w or (need_x and training)) else None
    dx = None
    if need_x:
        a = invstd * w if w is not None else invstd
        dx = np.empty_like(x)
        a3 = _spread(a, C, L, x.dtype)
        if not training:
            np.multiply(g, a3, out=dx)
        else:
            kx = _spread(-(invstd * invstd) * dot / dt(n), C, L, x.dtype)  # times (x - mean), then a
            k0 = _spread(-sum_g / dt(n), C, L, x.dtype)
            m3 = _spread(mean, C, L, x.dtype)
            step = _step(N, C * L * x.itemsize)
            buf = np.empty((step, C, L), dtype=x.dtype)
            for i in range(0, N, step):
                bc, dc = buf[: min(step, N - i)], dx[i : i + step]
                np.subtract(x[i : i + step], m3, out=bc)
                bc *= kx
                bc += k0
                np.add(g[i : i + step], bc, out=dc)
                dc *= a3
    dw = dot * invstd if need_w else None
    return dx, dw, (sum_g if need_b else None)


def _channel_backward_compiled(compiled, g, x, mean, invstd, w, needs: tuple) -> tuple:
    """``channel_backward`` in training through the compiled kernels: one pass for both sums, one
    for ``dx``."""
    N, C, L = x.shape
    dt = x.dtype.type
    need_x, need_w, need_b = needs
    flat_g, flat_x = g.reshape(-1), x.reshape(-1)
    mean = np.asarray(mean, dtype=x.dtype)
    sum_g, dot = np.empty(C), np.empty(C)  # (float64 accumulators)
    _per_channel(lambda c0, c1: compiled.grad_sums(flat_g, flat_x, N, C, L, mean, sum_g, dot, c0, c1), x)
    sum_g, dot = sum_g.astype(x.dtype), dot.astype(x.dtype)
    dx = None
    if need_x:
        a = (invstd * w if w is not None else invstd).astype(x.dtype)
        kx = (-(invstd * invstd) * dot / dt(N * L)).astype(x.dtype)
        k0 = (-sum_g / dt(N * L)).astype(x.dtype)
        dx = np.empty(x.shape, x.dtype)
        flat_dx = dx.reshape(-1)
        _per_channel(
            lambda c0, c1: compiled.grad_input(flat_g, flat_x, N, C, L, mean, a, kx, k0, flat_dx, c0, c1), x
        )
    dw = dot * invstd if need_w else None
    return dx, dw, (sum_g if need_b else None)


# ---- rows: (R, D), statistics per row ----------------------------------------------------------
def _compiled_rows(x: np.ndarray, *arrays):
    """The compiled layer-norm kernels (kernels/_jit_layernorm.py) where they are on and fit:
    C-contiguous float32/float64 ``x`` (R, D) and ``arrays`` of its dtype (or None); else None."""
    ok = x.dtype in (np.float32, np.float64) and x.flags.c_contiguous and x.shape[1] > 0
    if not ok or any(a is not None and (a.dtype != x.dtype or not a.flags.c_contiguous) for a in arrays):
        return None
    return jit.load("_jit_layernorm")


def _by_rows(kernel, R: int, D: int, itemsize: int) -> None:
    """``kernel(row_begin, row_end)`` over the rows, in two halves on two threads when large."""
    step = _step(R, D * itemsize)
    run_in_halves(lambda begin, end: kernel(begin // D, end // D), R * D, step * D)


def row_forward(x: np.ndarray, eps: float, w, b) -> tuple:
    """``(y, mean, invstd)`` of layer norm over the rows of ``x`` (R, D), ``w``/``b`` (D,) or
    None: each chunk of rows is centred, measured, scaled and shifted while in cache (compiled:
    each row while in L1; forward and backward 2.4 -> 0.7 ms on (2048, 192) float32, one thread,
    torch 0.8 ms)."""
    R, D = x.shape
    dt = x.dtype.type
    y = np.empty_like(x)
    mean = np.empty(R, dtype=x.dtype)
    invstd = np.empty(R, dtype=x.dtype)
    compiled = _compiled_rows(x, w, b)
    if compiled is not None:
        unused = np.zeros(1, x.dtype)
        wa, ba = (w if w is not None else unused), (b if b is not None else unused)

        def kernel(i: int, j: int) -> None:
            compiled.row_forward(
                x[i:j], dt(D), dt(eps), wa, ba, w is not None, b is not None, y[i:j], mean[i:j], invstd[i:j]
            )

        _by_rows(kernel, R, D, x.itemsize)
        return y, mean, invstd
    step = _step(R, D * x.itemsize)
    for i in range(0, R, step):
        xc, yc = x[i : i + step], y[i : i + step]
        m = xc.sum(axis=1) / dt(D)
        np.subtract(xc, m[:, None], out=yc)
        s = 1 / np.sqrt(np.vecdot(yc, yc) / dt(D) + dt(eps))
        yc *= s[:, None]
        if w is not None:
            yc *= w
        if b is not None:
            yc += b
        mean[i : i + step], invstd[i : i + step] = m, s
    return y, mean, invstd


def row_backward(g, x, mean, invstd, w, needs: tuple) -> tuple:
    """``(dx, dw, db)`` of layer norm (training statistics) for ``g`` and ``x`` (R, D):
    ``dx = invstd (gh - mean(gh) - xhat mean(gh xhat))``, ``gh = g w``, per chunk of rows."""
    R, D = x.shape
    dt = x.dtype.type
    need_x, need_w, need_b = needs
    dx = np.empty_like(x) if need_x else None
    compiled = _compiled_rows(x, g, w, mean, invstd)
    if compiled is not None:  # each half of the rows its own dw and db, added at the end
        partial = np.zeros((2, 3, D), x.dtype)
        unused = np.zeros((1, 1), x.dtype)
        wa = w if w is not None else partial[0, 0]

        def kernel(i: int, j: int) -> None:
            mine = partial[0 if i == 0 else 1]
            compiled.row_backward(
                g[i:j],
                x[i:j],
                dt(D),
                mean[i:j],
                invstd[i:j],
                wa,
                w is not None,
                need_x,
                need_w,
                need_b,
                mine[2],
                dx[i:j] if need_x else unused,
                mine[0],
                mine[1],
            )

        _by_rows(kernel, R, D, x.itemsize)
        totals = partial[0] + partial[1]
        return dx, (totals[0] if need_w else None), (totals[1] if need_b else None)
    dw = np.zeros(D, dtype=x.dtype) if need_w else None
    db = np.zeros(D, dtype=x.dtype) if need_b else None
    step = _step(R, D * x.itemsize)
    xhat = np.empty((step, D), dtype=x.dtype)
    gh = np.empty((step, D), dtype=x.dtype) if w is not None else None
    for i in range(0, R, step):
        k = min(step, R - i)
        gc, xh = g[i : i + step], xhat[:k]
        s = invstd[i : i + step, None]
        np.subtract(x[i : i + step], mean[i : i + step, None], out=xh)
        xh *= s
        if need_b:
            db += gc.sum(axis=0)
        if need_w:
            dw += np.einsum("rd,rd->d", gc, xh)
        if need_x:
            if w is not None:
                h = np.multiply(gc, w, out=gh[:k])
            else:
                h = gc
            c1 = h.sum(axis=1, keepdims=True) / dt(D)
            c2 = np.vecdot(h, xh)[:, None] / dt(D)
            xh *= c2
            dc = dx[i : i + step]
            np.subtract(h, xh, out=dc)
            dc -= c1
            dc *= s
    return dx, dw, db
