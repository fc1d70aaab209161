"""Convolution kernels over the whole batch at once, for problems whose window (im2col) matrix
is small (``kernels/conv.py`` sends them here; larger ones go through its chunks).

With the whole batch's windows in one matrix, each kernel is one GEMM per group, and the window
copy runs in two steps with long runs (per kernel column, then per window). For LeNet-sized layers
this measured faster than the chunked kernels (64 x 6 -> 16 channels, 5x5, 14x14, forward and
backward: 2.3 ms against 4.0; torch 1.0), whose copies run along rows of 10-28 elements. The
matrix is temporary: nothing of it is kept for backward. With one input channel at stride 1 (LeNet's
first layer) the forward and the weight gradient skip the window matrix: compiled direct kernels
(``_jit_direct_conv``) where numba is on.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import jit
from .halves import MIN_ONE_PASS, run_in_halves

__all__ = ["span", "conv_array", "conv_weight_array", "conv_transpose_array"]


def span(n_out: int, k: int, s: int, d: int) -> int:
    """Rows (or cols) of padded input that ``n_out`` windows of a size-``k`` kernel touch."""
    return (n_out - 1) * s + d * (k - 1) + 1 if n_out > 0 else 0


def _padded(x: np.ndarray, padding: tuple, span: tuple) -> np.ndarray:
    """``x`` with ``padding`` zero rows/cols before it and as many after as ``span`` needs."""
    (ph, pw), (hh, ww) = padding, span
    H, W = x.shape[2:]
    after_h, after_w = max(0, hh - ph - H), max(0, ww - pw - W)
    if not (ph or pw or after_h or after_w):
        return x
    out = np.zeros(x.shape[:2] + (ph + H + after_h, pw + W + after_w), dtype=x.dtype)
    out[:, :, ph : ph + H, pw : pw + W] = x
    return out


def im2col(
    x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple, out_hw: tuple, dilation: tuple, groups: int
) -> np.ndarray:
    """The windows of ``x`` (N, C, H, W) as a ``(groups, C/groups * kh * kw, N * Ho * Wo)`` array.

    The windows are a strided view of the padded input; the reshape is the one copy.
    """
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = kernel, stride, dilation, out_hw
    compiled = _compiled(x)
    if compiled is not None:  # one pass from the unpadded input, no padded copy
        N, C, H, W = x.shape
        rows, L = C * kh * kw, N * Ho * Wo
        cols = np.empty(rows * L, x.dtype)
        xf, (ph, pw) = np.ascontiguousarray(x).reshape(-1), padding

        def gather(start: int, stop: int) -> None:
            r0, r1 = start // L, stop // L
            compiled.im2col(xf, C, H, W, cols, N, 0, r0, r1, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo)

        run_in_halves(gather, cols.size, L, MIN_ONE_PASS)
        return cols.reshape(groups, rows // groups, L)
    xp = _padded(x, padding, (span(Ho, kh, sh, dh), span(Wo, kw, sw, dw)))
    N, C = xp.shape[:2]
    cg = C // groups
    bn, bc, bh, bw = xp.strides
    if sh == 1 and kw > 1 and xp.size >= 4096:
        # in two copies with longer runs than the one copy's Wo: first each kernel column's
        # (C, N, H, Wo) slice; then, as rows i..i+Ho are adjacent in it, each (c, a, b, n)
        # window is one run of Ho * Wo elements
        H = xp.shape[2]
        xb = np.ascontiguousarray(as_strided(xp, (kw, C, N, H, Wo), (dw * bw, bc, bn, bh, sw * bw)))
        e = xb.itemsize
        view = as_strided(
            xb,
            (groups, cg, kh, kw, N, Ho * Wo),
            (cg * N * H * Wo * e, N * H * Wo * e, dh * Wo * e, C * N * H * Wo * e, H * Wo * e, e),
            writeable=False,
        )
        return view.reshape(groups, cg * kh * kw, N * Ho * Wo)
    view = as_strided(
        xp,
        (groups, cg, kh, kw, N, Ho, Wo),
        (cg * bc, bc, dh * bh, dw * bw, bn, sh * bh, sw * bw),
        writeable=False,
    )
    return view.reshape(groups, cg * kh * kw, N * Ho * Wo)


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _compiled(x):
    """The compiled window kernels (``_jit_conv``) for a float32/float64 ndarray, or None."""
    if type(x) is not np.ndarray or x.dtype not in _FLOATS or x.size == 0:
        return None
    return jit.load("_jit_conv")


def _to_batch_major(y: np.ndarray, b) -> np.ndarray:
    """A (C, N, H, W) array as a contiguous (N, C, H, W) one, the bias added in the same pass."""
    yt = y.transpose(1, 0, 2, 3)
    if b is None:
        return np.ascontiguousarray(yt)
    out = np.empty(yt.shape, dtype=y.dtype)
    np.add(yt, b.reshape(1, -1, 1, 1), out=out)
    return out


def _channel_major(x: np.ndarray, groups: int) -> np.ndarray:
    """(N, C, H, W) as a contiguous (groups, C/groups, N * H * W) matrix per group."""
    N, C = x.shape[:2]
    hw = int(np.prod(x.shape[2:]))  # (explicit sizes: an empty batch has no -1 to infer)
    return np.ascontiguousarray(x.reshape(N, groups, C // groups, hw).transpose(1, 2, 0, 3)).reshape(
        groups, C // groups, N * hw
    )


# Samples per thread below which the direct kernels run on one thread (see _direct_split). At
# LeNet's batch of 64 the split lost (training step at two threads, loaded machine, medians of 7:
# 6.2 and 6.8 ms split, 5.9 and 6.2 ms on one thread): the halves are 0.2 ms of work each.
DIRECT_SPLIT_SAMPLES = 128


def _direct(x, w_shape, stride, padding, out_hw, dilation, groups):
    """The compiled direct kernels (``_jit_direct_conv``) where they beat the window matrix: one
    input channel, stride 1, float ndarrays. Measured at LeNet's first layer (64 x 1 x 28x28 ->
    6 channels, 5x5, padding 2; one thread, medians of 7 alternating): forward 1.07 ms with the
    windows, 0.42 direct (torch 0.48); weight gradient 0.68 -> 0.38 (torch 0.49). More input
    channels: ``kernels/conv.py``'s ``_direct_fits`` (LeNet's second layer takes the direct weight
    gradient, not the direct forward)."""
    return _direct_kernels(x, w_shape, stride, padding, out_hw, dilation, groups) if w_shape[1] == 1 else None


def _direct_kernels(x, w_shape, stride, padding, out_hw, dilation, groups):
    """``_jit_direct_conv`` where its kernels apply to the geometry (any number of input
    channels), or None."""
    if groups != 1 or tuple(stride) != (1, 1) or x.ndim != 4 or x.size == 0:
        return None
    if type(x) is not np.ndarray or x.dtype not in _FLOATS or min(padding) < 0:
        return None
    # the windows exactly cover the padded input (not so for some transposed convolutions'
    # gradients, whose output sizes are given)
    for size, pad, out, k, d in zip(x.shape[2:], padding, out_hw, w_shape[2:], dilation):
        if size + 2 * pad != out + d * (k - 1):
            return None
    return jit.load("_jit_direct_conv")


def _direct_split(N: int, work):
    """Run ``work(n0, n1)`` over the batch, in two halves on two threads when each has at least
    ``DIRECT_SPLIT_SAMPLES`` samples; returns the results in order."""
    results = {}

    def part(n0: int, n1: int) -> None:
        results[n0] = work(n0, n1)

    run_in_halves(part, N, 1, 2 * DIRECT_SPLIT_SAMPLES)
    return [results[k] for k in sorted(results)]


def _direct_scratch(x, w_shape, padding, out_hw):
    C, H, W = x.shape[1:]
    kw, (ph, pw), (Ho, _) = w_shape[3], padding, out_hw
    Hp, Wp = H + 2 * ph, W + 2 * pw
    return np.empty(C * Hp * Wp + kw * Wp, x.dtype), np.empty(4 * Ho * Wp, x.dtype)  # (4 channels' runs)


def _direct_conv(kernels, x, w, b, padding, out_hw, dilation):
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    y = np.empty((x.shape[0], w.shape[0]) + tuple(out_hw), dtype=x.dtype)
    (ph, pw), (dh, dw) = padding, dilation

    def work(n0: int, n1: int) -> None:
        xp, acc = _direct_scratch(x, w.shape, padding, out_hw)
        kernels.forward(x, w, y, n0, n1, ph, pw, dh, dw, xp, acc)

    _direct_split(x.shape[0], work)
    if b is not None:
        y += b.reshape(-1, 1, 1)
    return y


def _direct_weight(kernels, x, g, weight_shape, padding, dilation):
    x, g = np.ascontiguousarray(x), np.ascontiguousarray(g)
    (ph, pw), (dh, dw) = padding, dilation

    def work(n0: int, n1: int) -> np.ndarray:
        xp, acc = _direct_scratch(x, weight_shape, padding, g.shape[2:])
        part = np.zeros(weight_shape, dtype=x.dtype)
        kernels.weight_grad(x, g, part, n0, n1, ph, pw, dh, dw, xp, acc)
        return part

    parts = _direct_split(x.shape[0], work)
    return parts[0] if len(parts) == 1 else parts[0] + parts[1]


def conv_array(x, w, b, stride, padding, out_hw, dilation, groups):
    """Convolution on arrays: one matmul of the weight matrix with the windows (per group)."""
    direct = _direct(x, w.shape, stride, padding, out_hw, dilation, groups)
    if direct is not None and x.dtype == w.dtype:
        return _direct_conv(direct, x, w, b, padding, out_hw, dilation)
    O, cg, kh, kw = w.shape
    cols = im2col(x, (kh, kw), stride, padding, out_hw, dilation, groups)
    if groups == 1 and O <= 16 and cols.shape[2]:
        # (windows)^T @ weight^T, then the channels-last result read back strided: LeNet's
        # second layer (6400 x 150) @ (150 x 16) took 0.40 ms against 0.62 the other way round
        yt = np.matmul(cols[0].T, w.reshape(O, cg * kh * kw).T)
        yt = yt.reshape((x.shape[0],) + tuple(out_hw) + (O,)).transpose(0, 3, 1, 2)
        out = np.empty(yt.shape, dtype=yt.dtype)
        if b is None:
            np.copyto(out, yt)
        else:
            np.add(yt, b.reshape(1, -1, 1, 1), out=out)
        return out
    y = np.matmul(w.reshape(groups, O // groups, cg * kh * kw), cols)
    return _to_batch_major(y.reshape((O, x.shape[0]) + tuple(out_hw)), b)


def conv_weight_array(x, g, weight_shape, stride, padding, dilation, groups):
    """``dl/dw`` of a convolution: the input windows times ``g`` (N, O, Ho, Wo), one matmul."""
    direct = _direct(x, weight_shape, stride, padding, g.shape[2:], dilation, groups)
    if direct is not None and x.dtype == g.dtype:
        return _direct_weight(direct, x, g, weight_shape, padding, dilation)
    O, cg, kh, kw = weight_shape
    cols = im2col(x, (kh, kw), stride, padding, g.shape[2:], dilation, groups)
    gm = _channel_major(g, groups)  # (groups, O/groups, N * Ho * Wo)
    N, (G, K, L) = g.shape[0], cols.shape
    if gm.shape[1] * K <= 1024 and N >= 8:
        # a tiny (O/groups, K) result over a long inner dimension runs far below BLAS's peak:
        # one product per sample, summed
        a = gm.reshape(G, -1, N, L // N).transpose(0, 2, 1, 3)
        b = cols.reshape(G, K, N, L // N).transpose(0, 2, 3, 1)
        dw = np.matmul(a, b).sum(axis=1)
    else:  # (the windows as the left factor: BLAS runs this orientation faster)
        dw = np.swapaxes(np.matmul(cols, np.swapaxes(gm, 1, 2)), 1, 2)
    return dw.reshape(weight_shape)


def col2im(cols: np.ndarray, stride: tuple, padding: tuple, out_hw: tuple, dilation: tuple) -> np.ndarray:
    """The adjoint of ``im2col``: ``cols`` (C, kh, kw, N, Hi, Wi) summed into a (C, N, Ho, Wo)
    image, each kernel position's slice added in place (overlapping windows accumulate)."""
    C, kh, kw, N, Hi, Wi = cols.shape
    (sh, sw), (ph, pw), (Ho, Wo), (dh, dw) = stride, padding, out_hw, dilation
    hb = max(span(Hi, kh, sh, dh), ph + Ho)
    wb = max(span(Wi, kw, sw, dw), pw + Wo)
    buf = np.zeros((C, N, hb, wb), dtype=cols.dtype)
    h_end, w_end = (Hi - 1) * sh + 1, (Wi - 1) * sw + 1
    for a in range(kh):
        for b in range(kw):
            window = buf[:, :, a * dh : a * dh + h_end : sh, b * dw : b * dw + w_end : sw]
            window += cols[:, a, b]
    return buf[:, :, ph : ph + Ho, pw : pw + Wo]


def _col2im_unit_stride(x, wt, kernel, padding, out_hw, dilation, groups):
    """Matmul and ``col2im`` with long rows, for stride 1: each image of the input is zero-padded
    to the size ``hb x wb`` of the uncropped output, so that each kernel position's columns are
    one contiguous run over the whole flattened batch (shifted by ``a*dh*wb + b*dw``), added in
    one slice per channel; no image's run reaches into the next one. Returns (C, N, Ho, Wo)."""
    (kh, kw), (ph, pw), (Ho, Wo), (dh, dw) = kernel, padding, out_hw, dilation
    N, O, Hi, Wi = x.shape
    wb = max(Wi + dw * (kw - 1), pw + Wo)
    hb = max(Hi + dh * (kh - 1), ph + Ho)
    xw = np.zeros((groups, O // groups, N, hb, wb), dtype=x.dtype)
    xw[..., :Hi, :Wi] = x.reshape(N, groups, O // groups, Hi, Wi).transpose(1, 2, 0, 3, 4)
    run = N * hb * wb
    cols = np.matmul(wt, xw.reshape(groups, O // groups, run))
    channels = cols.shape[0] * cols.shape[1] // (kh * kw)
    cols = cols.reshape(channels, kh, kw, run)
    over = (kh - 1) * dh * wb + (kw - 1) * dw
    flat = np.zeros((cols.shape[0], run + over), dtype=cols.dtype)
    for a in range(kh):
        for b in range(kw):
            start = a * dh * wb + b * dw
            flat[:, start : start + run] += cols[:, a, b]
    return flat[:, :run].reshape(channels, N, hb, wb)[:, :, ph : ph + Ho, pw : pw + Wo]


def conv_transpose_array(x, w, b, stride, padding, out_hw, dilation, groups):
    """Transposed convolution on arrays (the adjoint of ``conv_array`` in its input): one matmul
    with the transposed weight matrix back to window columns, then ``col2im``."""
    O, cg, kh, kw = w.shape
    N, _, Hi, Wi = x.shape
    wt = np.swapaxes(w.reshape(groups, O // groups, cg * kh * kw), 1, 2)
    compiled = _compiled(x)
    if compiled is not None and x.dtype == w.dtype:
        # the columns added straight into the batch-major result: no padded image, no crop
        (Ho, Wo), C = out_hw, groups * cg
        cols = np.matmul(wt, _channel_major(x, groups)).reshape(-1)
        y = np.empty((N, C, Ho, Wo), dtype=x.dtype)
        flat_y, geometry = y.reshape(-1), (kh, kw) + tuple(stride) + tuple(padding) + tuple(dilation)
        per = N * Ho * Wo

        def scatter(start: int, stop: int) -> None:
            compiled.col2im(cols, N, Hi, Wi, flat_y, C, Ho, Wo, 0, start // per, stop // per, *geometry)

        run_in_halves(scatter, C * per, per, MIN_ONE_PASS)
        if b is not None:
            y += b.reshape(-1, 1, 1)
        return y
    # (the unit-stride form multiplies the zeros it pads x with by the weight: an inf or NaN
    # weight would make them NaN where the adjoint has no term, so such a weight takes col2im)
    if stride == (1, 1) and np.isfinite(np.add.reduce(w, axis=None)):
        y = _col2im_unit_stride(x, wt, (kh, kw), padding, out_hw, dilation, groups)
    else:
        cols = np.matmul(wt, _channel_major(x, groups))
        y = col2im(cols.reshape(groups * cg, kh, kw, N, Hi, Wi), stride, padding, out_hw, dilation)
    return _to_batch_major(y, b)
