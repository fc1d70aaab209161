"""Convolution kernels on arrays: the forward, the weight gradient and the transposed convolution
(the input gradient), each in bounded workspace (``chainrule.ops.conv`` explains the math and
makes them differentiable ops).

Problems whose whole-batch window (im2col) matrix fits in twice the workspace go to
``conv_whole`` (one matrix, faster at LeNet's sizes); for larger ones no kernel holds a whole-batch
window matrix: the batch is walked in chunks whose
window buffer fits in ``WORKSPACE_BYTES`` (one buffer, reused), and each chunk's GEMMs write
straight into the output's slice. Per shape:

* 1x1 kernels with stride 1 and no padding: the input itself is the window matrix (no copy);
* depthwise convolutions (``groups == C == O``): a strided multiply-add per kernel position on
  the chunk, no GEMM (a GEMM per channel would have one row);
* stride 1 with 4-16 output channels and few input channels (``_direct_fits``, numba on): the
  compiled direct kernels of ``_jit_direct_conv``, no window matrix, the batch's pieces in two
  lanes;
* otherwise the chunk's windows are copied into the buffer and multiplied per sample.

The input gradient of a stride-1 convolution is itself a stride-1 convolution (of the output
gradient with the flipped, transposed weight), so it takes the same paths; for larger strides
each chunk's window columns are scattered back (col2im) into a chunk-sized buffer.

An argument that is not a plain ndarray (vmap's batched array) goes to the implementation that its
array type registered (``chainrule.backend.register_kernel``): these kernels' strided views and
fresh buffers do not dispatch through NumPy's protocols.
"""

from __future__ import annotations

import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..backend import override
from . import conv_whole as whole
from . import jit
from .conv_whole import span as _span
from .lanes import one_blas_thread, run_in_lanes

__all__ = ["WORKSPACE_BYTES", "conv_array", "conv_weight_array", "conv_transpose_array"]

# Bytes of the per-chunk window buffer (per thread: kernels.lanes runs two). A module-level
# setting: tests lower it so that small shapes cross chunk boundaries. Measured on the 2-core Xeon
# (2 MiB of L2 per core), ResNet-8's training step on one thread: 1 MiB chunks 241 ms, 2 MiB 270,
# 4 MiB 268, 8 MiB 286 (torch 160): a chunk's windows are written and then read by its GEMM
# while still in the cache. Before the lanes, with BLAS's two threads per GEMM, larger chunks
# had won on a loaded machine (each GEMM call waited for a descheduled BLAS thread).
WORKSPACE_BYTES = 1 << 20
# Problems whose whole-batch window matrix is at most this large go to ``conv_whole``.
WHOLE_BYTES = 1 << 23
# Scratch buffers up to this size are kept between calls (per thread and role).
KEEP_BYTES = 1 << 23


_scratch = threading.local()  # per thread: two threads' convolutions never share a buffer


def _buffer(role: str, size: int, dtype) -> np.ndarray:
    """A flat scratch array of ``size`` elements for ``role``, kept between calls (per thread and
    dtype) while it is at most ``KEEP_BYTES`` (or twice the workspace): a fresh multi-MB array
    costs its page faults on every call (LeNet's input gradient: 10 ms with fresh buffers, 2 ms
    reused; a chunk is one sample at least, 4.7 MB of windows for CIFAR's second convolution).
    The caller owns it until its kernel returns; kernels never nest with the same role."""
    dtype = np.dtype(dtype)
    if size * dtype.itemsize > max(KEEP_BYTES, 2 * WORKSPACE_BYTES):
        return np.empty(size, dtype=dtype)
    cache = _scratch.__dict__
    buf = cache.get((role, dtype))
    if buf is None or buf.size < size:
        buf = cache[(role, dtype)] = np.empty(size, dtype=dtype)
    return buf[:size]


def _whole_fits(n: int, rows: int, cols_per_sample: int, itemsize: int) -> bool:
    """Whether the whole batch's window matrix (``rows`` x ``n * cols_per_sample``) fits in
    ``WHOLE_BYTES``: then one matrix (``conv_whole``) beats the chunks (their copies run along
    rows of Wo elements; LeNet's layers measured 1.5x slower chunked)."""
    return rows * n * cols_per_sample * itemsize <= WHOLE_BYTES


def _chunk(N: int, per_sample: int, budget: int | None = None) -> int:
    """Samples per chunk: as many as fit in ``budget`` (the workspace), at least one."""
    return max(1, min(N, (WORKSPACE_BYTES if budget is None else budget) // max(1, per_sample)))


def _depthwise_budget() -> int:
    """The depthwise kernels' chunk budget: their ~18 passes per chunk run from cache only when
    the chunk is small (64x64x32x32 forward + both gradients: 236 ms at one sample per chunk,
    368 ms at four, i.e. 4 MiB)."""
    return WORKSPACE_BYTES // 16


class _Padder:
    """Copies batch chunks of ``x`` (N, C, H, W) into one reused buffer of ``hh x ww`` images, with
    ``before = (ph, pw)`` rows/cols of zeros first (a negative ``before`` crops instead) and the
    rows/cols past the input zero; returns ``x``'s chunk itself where nothing needs padding."""

    def __init__(self, x: np.ndarray, before: tuple, span: tuple, nb: int, dtype):
        (ph, pw), (hh, ww) = before, span
        H, W = x.shape[2:]
        self.x = x
        self.same = ph == 0 and pw == 0 and hh == H and ww == W
        if self.same:
            return
        # destination rows [dh0, dh1) take source rows [sh0, sh0 + dh1 - dh0), likewise columns
        self.dh0, self.sh0 = max(ph, 0), max(-ph, 0)
        self.dh1 = max(self.dh0, min(hh, ph + H))
        self.dw0, self.sw0 = max(pw, 0), max(-pw, 0)
        self.dw1 = max(self.dw0, min(ww, pw + W))
        self.buf = _buffer("pad", nb * x.shape[1] * hh * ww, dtype).reshape(nb, x.shape[1], hh, ww)
        self.buf.fill(0)  # (a reused buffer: its border must be zeroed once per call)

    def __call__(self, n0: int, n1: int) -> np.ndarray:
        if self.same:
            return self.x[n0:n1]
        buf = self.buf[: n1 - n0]
        nh, nw = self.dh1 - self.dh0, self.dw1 - self.dw0
        buf[:, :, self.dh0 : self.dh1, self.dw0 : self.dw1] = self.x[
            n0:n1, :, self.sh0 : self.sh0 + nh, self.sw0 : self.sw0 + nw
        ]
        return buf


def _windows(xp: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple, out_hw: tuple, groups: int):
    """The windows of padded ``xp`` (n, C, Hp, Wp) as a read-only view (n, G, C/G, kh, kw, Ho, Wo)."""
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = kernel, stride, dilation, out_hw
    n, C = xp.shape[:2]
    bn, bc, bh, bw = xp.strides
    return as_strided(
        xp,
        (n, groups, C // groups, kh, kw, Ho, Wo),
        (bn, C // groups * bc, bc, dh * bh, dw * bw, sh * bh, sw * bw),
        writeable=False,
    )


def _window_chunks(x, kernel, stride, padding, out_hw, dilation, groups, dtype):
    """Yields ``(n0, n1, i0, i1, cols)`` over the batch, ``cols`` the windows of samples
    ``[n0, n1)`` and output rows ``[i0, i1)`` as a channel-major (G, C/G * kh * kw,
    (n1 - n0) * (i1 - i0) * Wo) matrix per group, in one reused buffer (valid until the next
    chunk).

    Channel-major, so that each chunk is one GEMM per group: per-sample GEMMs (numpy's stacked
    matmul, or a loop of 2-d ones) measured 3-4x slower than one GEMM over the same columns
    (64 x (128x64 @ 64x1024): 365 ms against 90-135 ms, loaded machine), because each call
    wakes and joins BLAS's threads. For a 1x1 kernel the "windows" are the input transposed
    to channel-major: a copy of the chunk, cheaper than the per-sample GEMMs it saves.

    Where one sample's windows exceed the workspace, each chunk is a block of output rows of one
    sample, so that the windows are still in the L2 cache when the GEMM reads them (CIFAR's
    second convolution, 288 x 4096 windows per sample, one thread: 10.5 ms for 8 samples whole,
    8.1 ms in blocks of 8 rows).
    """
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = kernel, stride, dilation, out_hw
    N, C = x.shape[:2]
    K, L = C // groups * kh * kw, Ho * Wo
    rows, itemsize = groups * K, np.dtype(dtype).itemsize
    span = (_span(Ho, kh, sh, dh), _span(Wo, kw, sw, dw))
    nb = _chunk(N, (rows * L + C * span[0] * span[1]) * itemsize)
    rb = Ho if nb > 1 else _chunk(Ho, rows * Wo * itemsize)  # output rows per chunk
    buf = _buffer("cols", rows * nb * rb * Wo, dtype)
    compiled = _compiled(x, dtype)
    if compiled is not None:
        # the windows gathered from the unpadded input, padding written in the same pass
        xf = np.ascontiguousarray(x, dtype=dtype).reshape(-1)
        (ph, pw), (H, W) = padding, x.shape[2:]
        for n0 in range(0, N, nb):
            n = min(N, n0 + nb) - n0
            for i0 in range(0, Ho, rb):
                r = min(Ho, i0 + rb) - i0
                cols = buf[: rows * n * r * Wo]
                top = ph - i0 * sh  # (output rows i0... are rows 0... of the input shifted up)
                compiled.im2col(xf, C, H, W, cols, n, n0, 0, rows, kh, kw, sh, sw, top, pw, dh, dw, r, Wo)
                yield n0, n0 + n, i0, i0 + r, cols.reshape(groups, K, n * r * Wo)
        return
    pad = _Padder(x, padding, span, nb, dtype)
    for n0 in range(0, N, nb):
        n1 = min(N, n0 + nb)
        view = _windows(pad(n0, n1), kernel, stride, dilation, out_hw, groups)
        for i0 in range(0, Ho, rb):
            i1 = min(Ho, i0 + rb)
            cols = buf[: rows * (n1 - n0) * (i1 - i0) * Wo].reshape(groups, K, -1)
            # (G, cg, kh, kw, n, rows, Wo): runs of Wo elements, the batch inside the columns
            np.copyto(
                cols.reshape((groups, C // groups, kh, kw, n1 - n0, i1 - i0, Wo)),
                view[..., i0:i1, :].transpose(1, 2, 3, 4, 0, 5, 6),
            )
            yield n0, n1, i0, i1, cols


def _transposed_gemm(O: int, groups: int) -> bool:
    """Whether a forward GEMM with ``O`` output channels runs as ``(windows)^T @ weight^T``: one
    thread, (1024 x 144) @ (144 x 16) ran at 92-96 GFLOP/s against 71-79 for (16 x 144) @
    (144 x 1024), LeNet's (6400 x 150) @ (150 x 16) 0.40 ms against 0.62; at 32 channels the
    gain (5-10 %) does not pay for the strided read back of the channels-last result."""
    return groups == 1 and O <= 16


def _shifted_fits(stride: tuple, out_hw: tuple, reach: int) -> bool:
    """Whether ``_shifted_chunks`` serves a convolution: stride 1, a kernel wider than one column
    (a 1x1 kernel's windows are the input itself), and output rows short enough that their
    window runs are the cost (up to 32) but long enough that the GEMM's extra columns
    (``reach`` per row of ``Wo``) add at most a quarter."""
    Wo = out_hw[1]
    return stride == (1, 1) and 0 < reach and 0 < Wo <= 32 and 4 * reach <= Wo


def _shifted_chunks(x, kernel, stride, padding, out_hw, dilation, groups, dtype):
    """``_window_chunks`` for stride 1 with runs of ``Ho * Wp`` elements instead of ``Wo``.

    On a padded image of width ``Wp = Wo + (kw - 1) * dw``, the window of kernel position
    ``(a, b)`` over all output rows is one contiguous run of the flattened image, from
    ``a * dh * Wp + b * dw``, if each output row is computed ``Wp`` wide: its last
    ``Wp - Wo`` columns read past the row's end and are dropped from the GEMM's result (they
    never reach the output; the weight gradient keeps ``_window_chunks``, where they would
    multiply real inputs by zeros). One sample's windows for ResNet's 3x3 layers: 16 channels of
    32x32 17 us against 31 us for the row-by-row gather, 32 of 16x16 9 against 28, 64 of 8x8 9
    against 27, for 6-25 % more GEMM columns. The chunk is padded into a buffer with one extra
    zero row (the last run's overhang). Yields ``(n0, n1, i0, i1, cols)``, ``cols`` (G, K,
    n * (i1 - i0) * Wp).
    """
    (kh, kw), (dh, dw), (Ho, Wo) = kernel, dilation, out_hw
    N, C = x.shape[:2]
    K, rows, itemsize = C // groups * kh * kw, C * kh * kw, np.dtype(dtype).itemsize
    Hp, Wp = _span(Ho, kh, 1, dh), _span(Wo, kw, 1, dw)
    plane = (Hp + 1) * Wp
    nb = _chunk(N, (rows * Ho * Wp + C * plane) * itemsize)
    rb = Ho if nb > 1 else _chunk(Ho, rows * Wp * itemsize)
    pad = _Padder(x.astype(dtype, copy=False), padding, (Hp + 1, Wp), nb, dtype)
    buf = _buffer("cols", rows * nb * rb * Wp, dtype)
    e = itemsize
    for n0 in range(0, N, nb):
        n1 = min(N, n0 + nb)
        flat = np.ascontiguousarray(pad(n0, n1)).reshape(-1)
        for i0 in range(0, Ho, rb):
            i1 = min(Ho, i0 + rb)
            run = (i1 - i0) * Wp
            view = as_strided(
                flat[i0 * Wp :],
                (groups, C // groups, kh, kw, n1 - n0, run),
                (C // groups * plane * e, plane * e, dh * Wp * e, dw * e, C * plane * e, e),
                writeable=False,
            )
            cols = buf[: rows * (n1 - n0) * run]
            np.copyto(cols.reshape(view.shape), view)
            yield n0, n1, i0, i1, cols.reshape(groups, K, (n1 - n0) * run)


def _compiled(x, dtype):
    """The compiled window kernels (``_jit_conv``) where they apply: numba on, float32/float64."""
    if np.dtype(dtype) not in _FLOATS or type(x) is not np.ndarray:
        return None
    return jit.load("_jit_conv")


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _channel_major(a: np.ndarray, groups: int, out: np.ndarray) -> np.ndarray:
    """``a`` (n, C, H, W) copied into ``out``'s first elements as (G, C/G, n * H * W)."""
    n, C, H, W = a.shape
    cm = out[: a.size].reshape(groups, C // groups, n * H * W)
    np.copyto(
        cm.reshape(groups, C // groups, n, H, W),
        a.reshape(n, groups, C // groups, H, W).transpose(1, 2, 0, 3, 4),
    )
    return cm


def _gemm_per_group(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[g] = a[g] @ b[g]`` as 2-d products (numpy's stacked matmul measured far slower)."""
    for gi in range(a.shape[0]):
        np.matmul(a[gi], b[gi], out=out[gi])
    return out


def _depthwise(x, w, stride, padding, out_hw, dilation, y):
    """``y`` (N, C, Ho, Wo) = the depthwise convolution of ``x`` with ``w`` (C, 1, kh, kw): one
    strided multiply and add per kernel position on each cache-sized chunk."""
    C, _, kh, kw = w.shape
    (sh, sw), (dh, dw), (Ho, Wo) = stride, dilation, out_hw
    N, _, H, W = x.shape
    nb = _chunk(N, 4 * C * Ho * Wo * y.itemsize, _depthwise_budget())
    pad = _Padder(x, padding, (_span(Ho, kh, sh, dh), _span(Wo, kw, sw, dw)), nb, y.dtype)
    tmp = _buffer("tmp", nb * C * Ho * Wo, y.dtype).reshape(nb, C, Ho, Wo)
    taps = w.reshape(C, kh, kw, 1, 1).astype(y.dtype, copy=False)
    for n0 in range(0, N, nb):
        n1 = min(N, n0 + nb)
        xp, acc, t = pad(n0, n1), y[n0:n1], tmp[: n1 - n0]
        for a in range(kh):
            for b in range(kw):
                view = xp[
                    :, :, a * dh : a * dh + (Ho - 1) * sh + 1 : sh, b * dw : b * dw + (Wo - 1) * sw + 1 : sw
                ]
                if a == b == 0:
                    np.multiply(view, taps[:, 0, 0], out=acc)
                else:
                    np.multiply(view, taps[:, a, b], out=t)
                    acc += t


def _is_depthwise(channels: int, weight_shape: tuple, groups: int) -> bool:
    """One input and one output channel per group (``groups == C == O``)."""
    return groups > 1 and weight_shape[1] == 1 and weight_shape[0] == groups == channels


# Input channels up to which a stride-1 convolution with 4-16 output channels runs direct
# (``_jit_direct_conv``: no window matrix), by kernel width; measured per layer against the
# windows + GEMM (one thread, ms): forward 3x3 16 -> 16 at 32x32, batch 128 (ResNet) 13.8 -> 11.4,
# 3 -> 16 (its stem) 4.7 -> 2.7; 5x5 3 -> 16 at 32x32, batch 64, 3.6 -> 2.7, but 6 -> 16 at 14x14
# (LeNet's second layer) 0.81 -> 1.13 and 16 -> 16 at 8x8 1.8 -> 2.3: a 5x5 forward only for 3
# channels or fewer. Weight gradient: ResNet's 16 -> 16 14.1 -> 9.2, LeNet's second layer 0.88 ->
# 0.67, 5x5 16 -> 16 at 8x8 1.57 -> 1.21. With more than 16 outputs the GEMM wins (8 -> 32 3x3
# forward at 32x32: 5.3 -> 5.9).
DIRECT_MAX_CHANNELS = {3: 16, 5: 3}
DIRECT_MAX_CHANNELS_WEIGHT = {3: 16, 5: 16}
# Multiply-adds of a direct convolution below which it runs on one thread: two lanes' start and
# join cost more than they save on a small layer (see conv_whole.DIRECT_SPLIT_SAMPLES).
DIRECT_LANES_MIN = 1 << 24


def _direct_fits(x, w_shape, stride, padding, out_hw, dilation, groups, limits):
    """The compiled direct kernels where ``limits`` (kernel width -> input channels) admit the
    weight's shape with 4-16 output channels and ``conv_whole._direct_kernels``'s conditions
    hold; one input channel stays with ``conv_whole``'s own direct path."""
    O, cg, kh, kw = w_shape
    if not 4 <= O <= 16 or not 1 < cg <= limits.get(kw, 0):
        return None
    return whole._direct_kernels(x, w_shape, stride, padding, out_hw, dilation, groups)


def _direct_pieces(work, x, w_shape, out_hw) -> list:
    """``work(n0, n1)`` over the batch: in two lanes when the layer has ``DIRECT_LANES_MIN``
    multiply-adds or more, else in one call."""
    N, (O, cg, kh, kw) = x.shape[0], w_shape
    if N * O * cg * kh * kw * out_hw[0] * out_hw[1] < DIRECT_LANES_MIN:
        return [work(0, N)]
    return run_in_lanes(work, N)


def _direct_lanes(kernels, x, w, b, padding, out_hw, dilation):
    """The direct forward (``_jit_direct_conv.forward``)."""
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    y = np.empty((x.shape[0], w.shape[0]) + tuple(out_hw), dtype=x.dtype)
    (ph, pw), (dh, dw) = padding, dilation

    def lane(n0: int, n1: int) -> None:
        xp, acc = whole._direct_scratch(x, w.shape, padding, out_hw)
        kernels.forward(x, w, y, n0, n1, ph, pw, dh, dw, xp, acc)

    _direct_pieces(lane, x, w.shape, out_hw)
    if b is not None:
        y += b.reshape(-1, 1, 1)
    return y


def _direct_weight_lanes(kernels, x, g, weight_shape, padding, dilation):
    """The direct weight gradient (``_jit_direct_conv.weight_grad``), pieces summed in order."""
    x, g = np.ascontiguousarray(x), np.ascontiguousarray(g)
    (ph, pw), (dh, dw) = padding, dilation

    def lane(n0: int, n1: int) -> np.ndarray:
        xp, acc = whole._direct_scratch(x, weight_shape, padding, g.shape[2:])
        part = np.zeros(weight_shape, dtype=x.dtype)
        kernels.weight_grad(x, g, part, n0, n1, ph, pw, dh, dw, xp, acc)
        return part

    parts = _direct_pieces(lane, x, weight_shape, g.shape[2:])
    total = parts[0]
    for part in parts[1:]:
        total += part
    return total


def conv_array(x, w, b, stride, padding, out_hw, dilation, groups):
    """Convolution on arrays (see the module docstring for the paths taken by shape)."""
    if type(x) is not np.ndarray or type(w) is not np.ndarray or not (b is None or type(b) is np.ndarray):
        impl = override(conv_array, x, w, b)
        if impl is not None:
            return impl(x, w, b, stride, padding, out_hw, dilation, groups)
    O, cg, kh, kw = w.shape
    N, (Ho, Wo) = x.shape[0], out_hw
    dtype = np.result_type(x.dtype, w.dtype)
    y = np.empty((N, O, Ho, Wo), dtype=dtype)
    if y.size == 0:
        return y
    if _is_depthwise(x.shape[1], w.shape, groups):
        _depthwise(x, w, stride, padding, out_hw, dilation, y)
    else:
        direct = _direct_fits(x, w.shape, stride, padding, out_hw, dilation, groups, DIRECT_MAX_CHANNELS)
        if direct is not None and x.dtype == w.dtype:
            return _direct_lanes(direct, x, w, b, padding, out_hw, dilation)
        if _whole_fits(N, groups * cg * kh * kw, Ho * Wo, y.itemsize):
            cast = (x.astype(dtype, copy=False), w.astype(dtype, copy=False))
            with one_blas_thread():  # (small GEMMs: see one_blas_thread)
                y = whole.conv_array(*cast, b, stride, padding, out_hw, dilation, groups)
            return y.astype(dtype, copy=False)
        G, Og = groups, O // groups
        wm = w.reshape(G, Og, cg * kh * kw).astype(dtype, copy=False)

        shifted = _shifted_fits(stride, out_hw, (kw - 1) * dilation[1])
        width = Wo + (kw - 1) * dilation[1] if shifted else Wo  # the GEMM's output rows
        transposed = _transposed_gemm(O, groups)

        def lane(lo: int, hi: int) -> None:
            ybuf = None
            geometry = ((kh, kw), stride, padding, out_hw, dilation, groups, dtype)
            chunks = (_shifted_chunks if shifted else _window_chunks)(x[lo:hi], *geometry)
            for n0, n1, i0, i1, cols in chunks:
                n, r = n1 - n0, i1 - i0
                if transposed:
                    # (windows)^T @ weight^T: a channels-last result, read back strided
                    if ybuf is None:
                        ybuf = _buffer("out", O * cols.shape[2], dtype)
                    ymt = np.matmul(cols[0].T, wm[0].T, out=ybuf[: O * cols.shape[2]].reshape(-1, O))
                    src = ymt.reshape(n, r, width, O)[:, :, :Wo].transpose(0, 3, 1, 2)
                elif n == 1 and width == Wo:
                    # one sample's rows: the GEMM writes them in place (BLAS's row stride), no
                    # copy back from a buffer (CIFAR's step: 50 ms of such copies, one thread)
                    dst = y[lo + n0, :, i0:i1].reshape(G, Og, (i1 - i0) * Wo)
                    if not dst.flags.owndata:  # (a view of y, as these strides always give)
                        _gemm_per_group(wm, cols, dst)
                        if b is not None:
                            dst += b.reshape(G, Og, 1)
                        continue
                if not transposed:
                    if ybuf is None:  # sized by the first (largest) chunk
                        ybuf = _buffer("out", O * cols.shape[2], dtype)
                    ym = _gemm_per_group(wm, cols, ybuf[: O * cols.shape[2]].reshape(G, Og, cols.shape[2]))
                    src = ym.reshape(O, n, r, width)[..., :Wo].transpose(1, 0, 2, 3)
                # back to batch-major (the shifted windows' extra columns dropped), the bias
                # added in the same pass
                dst = y[lo + n0 : lo + n1, :, i0:i1]
                if b is None:
                    dst[...] = src
                else:
                    np.add(src, b.reshape(-1, 1, 1), out=dst)

        run_in_lanes(lane, N)
        return y
    if b is not None:
        y += b.reshape(-1, 1, 1)
    return y


def _depthwise_weight(x, g, weight_shape, stride, padding, dilation):
    """``dl/dw`` (C, 1, kh, kw) of a depthwise convolution: per kernel position, the product of
    the strided input view with ``g`` summed over the batch and the image."""
    C, _, kh, kw = weight_shape
    (sh, sw), (dh, dw) = stride, dilation
    N, _, Ho, Wo = g.shape
    dtype = np.result_type(x.dtype, g.dtype)
    nb = _chunk(N, 4 * C * Ho * Wo * np.dtype(dtype).itemsize, _depthwise_budget())
    pad = _Padder(x, padding, (_span(Ho, kh, sh, dh), _span(Wo, kw, sw, dw)), nb, dtype)
    dwt = np.zeros((C, kh, kw), dtype=dtype)
    for n0 in range(0, N, nb):
        n1 = min(N, n0 + nb)
        xp, gc = pad(n0, n1), g[n0:n1]
        for a in range(kh):
            for b in range(kw):
                view = xp[
                    :, :, a * dh : a * dh + (Ho - 1) * sh + 1 : sh, b * dw : b * dw + (Wo - 1) * sw + 1 : sw
                ]
                dwt[:, a, b] += np.einsum("ncij,ncij->c", view, gc)
    return dwt.reshape(weight_shape)


def conv_weight_array(x, g, weight_shape, stride, padding, dilation, groups):
    """``dl/dw`` of a convolution: the input windows times ``g`` (N, O, Ho, Wo), per sample,
    accumulated over the batch chunk by chunk."""
    if type(x) is not np.ndarray or type(g) is not np.ndarray:
        impl = override(conv_weight_array, x, g)
        if impl is not None:
            return impl(x, g, weight_shape, stride, padding, dilation, groups)
    O, cg, kh, kw = weight_shape
    N, _, Ho, Wo = g.shape
    dtype = np.result_type(x.dtype, g.dtype)
    if N == 0 or Ho * Wo == 0:
        return np.zeros(weight_shape, dtype=dtype)
    if _is_depthwise(x.shape[1], weight_shape, groups):
        return _depthwise_weight(x, g, weight_shape, stride, padding, dilation)
    direct = _direct_fits(
        x, weight_shape, stride, padding, (Ho, Wo), dilation, groups, DIRECT_MAX_CHANNELS_WEIGHT
    )
    if direct is not None and x.dtype == g.dtype:
        return _direct_weight_lanes(direct, x, g, weight_shape, padding, dilation)
    G, Og, K = groups, O // groups, cg * kh * kw
    if _whole_fits(N, G * K, Ho * Wo, np.dtype(dtype).itemsize):
        cast = (x.astype(dtype, copy=False), g.astype(dtype, copy=False))
        with one_blas_thread():  # (small GEMMs: see one_blas_thread)
            dw = whole.conv_weight_array(*cast, weight_shape, stride, padding, dilation, groups)
        return dw.astype(dtype, copy=False)

    def lane(lo: int, hi: int) -> np.ndarray:
        dw = np.zeros((G, Og, K), dtype=dtype)
        dwt = np.zeros((G, K, Og), dtype=dtype)  # (dw transposed: the GEMMs' orientation)
        gbuf = part = None
        chunks = _window_chunks(x[lo:hi], (kh, kw), stride, padding, (Ho, Wo), dilation, groups, dtype)
        for n0, n1, i0, i1, cols in chunks:
            if gbuf is None:
                gbuf, part = _buffer("out", O * cols.shape[2], dtype), np.empty_like(dwt)
            n = n1 - n0
            if n == 1:  # (one sample's rows are already channel-major: BLAS reads them strided)
                gm = g[lo + n0, :, i0:i1].reshape(G, Og, (i1 - i0) * Wo)
            else:
                gm = _channel_major(g[lo + n0 : lo + n1, :, i0:i1], G, gbuf)
            if Og * K <= 1024 and n >= 8 and i1 - i0 == Ho:
                # a tiny (O/groups, K) result over a long inner dimension runs far below BLAS's
                # peak (LeNet's first layer: 6 x 25 over 64 * 784): one product per sample, summed
                a = gm.reshape(G, Og, n, Ho * Wo).transpose(0, 2, 1, 3)
                b = cols.reshape(G, K, n, Ho * Wo).transpose(0, 2, 3, 1)
                dw += np.matmul(a, b).sum(axis=1)
            else:
                # the windows as the left factor, g transposed (BLAS's transpose flag, no copy):
                # one thread, (144 x 1024) @ (1024 x 16) ran at 76 GFLOP/s against 46 for
                # (16 x 1024) @ (1024 x 144); CIFAR's (288 x 512) @ (512 x 32) 106 against 70
                dwt += _gemm_per_group(cols, gm.swapaxes(1, 2), part)
        dw += dwt.swapaxes(1, 2)
        return dw

    parts = run_in_lanes(lane, N)
    dw = parts[0]
    for part in parts[1:]:
        dw += part
    return dw.reshape(weight_shape)


def _col2im_chunks(x, w, stride, padding, out_hw, dilation, groups, y):
    """``y`` (N, C, Ho, Wo) = the transposed convolution of ``x`` (N, O, Hi, Wi), any stride: per
    chunk, one GEMM per group back to window columns, then each kernel position's columns added
    into a chunk-sized padded image (overlapping windows accumulate)."""
    O, cg, kh, kw = w.shape
    N, _, Hi, Wi = x.shape
    (sh, sw), (ph, pw), (Ho, Wo), (dh, dw) = stride, padding, out_hw, dilation
    G, Og, K, L = groups, O // groups, cg * kh * kw, Hi * Wi
    C = G * cg
    hb, wb = max(_span(Hi, kh, sh, dh), ph + Ho), max(_span(Wi, kw, sw, dw), pw + Wo)
    nb = _chunk(N, (G * K * L + C * hb * wb + O * L) * y.itemsize)
    wt = np.swapaxes(w.reshape(G, Og, K), 1, 2).astype(y.dtype, copy=False)
    h_end, w_end = (Hi - 1) * sh + 1, (Wi - 1) * sw + 1
    compiled = _compiled(x, y.dtype)

    def lane(lo: int, hi: int) -> None:
        cols_buf = _buffer("cols", G * K * nb * L, y.dtype)
        x_buf = _buffer("out", O * nb * L, y.dtype)
        if compiled is None:
            img_buf = _buffer("img", C * nb * hb * wb, y.dtype)
        for n0 in range(lo, hi, nb):
            n = min(hi, n0 + nb) - n0
            xm = _channel_major(x[n0 : n0 + n], G, x_buf)
            cols = _gemm_per_group(wt, xm, cols_buf[: G * K * n * L].reshape(G, K, n * L))
            if compiled is not None:  # the columns added straight into y's samples
                geometry = (kh, kw, sh, sw, ph, pw, dh, dw)
                compiled.col2im(cols.reshape(-1), n, Hi, Wi, y.reshape(-1), C, Ho, Wo, n0, 0, C, *geometry)
                continue
            cols6 = cols.reshape(C, kh, kw, n, Hi, Wi)
            img = img_buf[: C * n * hb * wb].reshape(C, n, hb, wb)
            img.fill(0)
            for a in range(kh):
                for b in range(kw):
                    img[:, :, a * dh : a * dh + h_end : sh, b * dw : b * dw + w_end : sw] += cols6[:, a, b]
            y[n0 : n0 + n] = img[:, :, ph : ph + Ho, pw : pw + Wo].transpose(1, 0, 2, 3)

    run_in_lanes(lane, N)


def _depthwise_transpose(x, w, stride, padding, out_hw, dilation, y):
    """``y`` (N, C, Ho, Wo) = the transposed depthwise convolution of ``x`` (N, C, Hi, Wi): each
    kernel position's product added into a strided view of a chunk-sized padded image."""
    C, _, kh, kw = w.shape
    N, _, Hi, Wi = x.shape
    (sh, sw), (ph, pw), (Ho, Wo), (dh, dw) = stride, padding, out_hw, dilation
    hb, wb = max(_span(Hi, kh, sh, dh), ph + Ho), max(_span(Wi, kw, sw, dw), pw + Wo)
    nb = _chunk(N, 2 * C * (hb * wb + Hi * Wi) * y.itemsize, _depthwise_budget())
    img_buf = _buffer("img", nb * C * hb * wb, y.dtype).reshape(nb, C, hb, wb)
    tmp_buf = _buffer("tmp", nb * C * Hi * Wi, y.dtype).reshape(nb, C, Hi, Wi)
    taps = w.reshape(C, kh, kw, 1, 1).astype(y.dtype, copy=False)
    h_end, w_end = (Hi - 1) * sh + 1, (Wi - 1) * sw + 1
    for n0 in range(0, N, nb):
        n1 = min(N, n0 + nb)
        img, t, xc = img_buf[: n1 - n0], tmp_buf[: n1 - n0], x[n0:n1]
        img.fill(0)
        for a in range(kh):
            for b in range(kw):
                np.multiply(xc, taps[:, a, b], out=t)
                img[:, :, a * dh : a * dh + h_end : sh, b * dw : b * dw + w_end : sw] += t
        y[n0:n1] = img[:, :, ph : ph + Ho, pw : pw + Wo]


def conv_transpose_array(x, w, b, stride, padding, out_hw, dilation, groups):
    """Transposed convolution on arrays (the adjoint of ``conv_array`` in its input)."""
    if type(x) is not np.ndarray or type(w) is not np.ndarray or not (b is None or type(b) is np.ndarray):
        impl = override(conv_transpose_array, x, w, b)
        if impl is not None:
            return impl(x, w, b, stride, padding, out_hw, dilation, groups)
    O, cg, kh, kw = w.shape
    (dh, dw), (ph, pw) = dilation, padding
    dtype = np.result_type(x.dtype, w.dtype)
    N, _, Hi, Wi = x.shape
    C, (Ho, Wo) = groups * cg, out_hw
    whole_ok = N * Hi * Wi * O * Ho * Wo and not _is_depthwise(x.shape[1], w.shape, groups)
    if whole_ok and _whole_fits(N, groups * cg * kh * kw, Hi * Wi, np.dtype(dtype).itemsize):
        cast = (x.astype(dtype, copy=False), w.astype(dtype, copy=False))
        with one_blas_thread():  # (small GEMMs: see one_blas_thread)
            y = whole.conv_transpose_array(*cast, b, stride, padding, out_hw, dilation, groups)
        return y.astype(dtype, copy=False)
    # The stride-1 correlation below multiplies the zeros it pads ``x`` with by the weight: an
    # inf or NaN weight makes them NaN where the adjoint has no term at all (torch's reference
    # kernels, col2im, add only real products). A weight whose sum is not finite (one pass over
    # the small weight; a finite sum that overflows is only a false alarm) takes the col2im paths.
    if (
        stride == (1, 1)
        and (O * Ho * Wo <= 2 * C * Hi * Wi or _is_depthwise(O, w.shape, groups))
        and np.isfinite(np.add.reduce(w, axis=None))
    ):
        # the adjoint of a stride-1 correlation is the stride-1 correlation with the kernel
        # flipped and its channel axes swapped (per group), padded by the kernel's reach less
        # the forward's padding (a negative amount crops). Its windows hold O * kh * kw * Ho * Wo
        # values against the C * kh * kw * Hi * Wi columns that col2im makes and then scatters
        # (two passes): with few output channels (LeNet's 6 -> 16) col2im measured 10x faster.
        G, Og = groups, O // groups
        wf = w[:, :, ::-1, ::-1].reshape(G, Og, cg, kh, kw).transpose(0, 2, 1, 3, 4)
        wf = np.ascontiguousarray(wf).reshape(G * cg, Og, kh, kw)
        y = conv_array(
            x, wf, None, stride, (dh * (kh - 1) - ph, dw * (kw - 1) - pw), out_hw, dilation, groups
        )
    else:
        y = np.empty((N, groups * cg) + tuple(out_hw), dtype=dtype)
        if y.size:
            if _is_depthwise(x.shape[1], w.shape, groups):
                _depthwise_transpose(x, w, stride, padding, out_hw, dilation, y)
            elif x.shape[2] * x.shape[3] == 0 or O == 0:
                y.fill(0)
            else:
                _col2im_chunks(x, w, stride, padding, out_hw, dilation, groups, y)
    if b is not None:
        y += b.reshape(-1, 1, 1)
    return y
