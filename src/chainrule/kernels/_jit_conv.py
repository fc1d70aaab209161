"""The convolution's window copies, compiled (imported through ``kernels.jit.load``).

``im2col`` gathers a batch chunk's windows straight from the unpadded input, the zero padding
written in the same pass (NumPy's path first copies the chunk into a padded buffer, then copies
the strided window view: two passes, the second along runs of ``Wo`` elements). ``col2im`` is its
adjoint: the window columns added straight into the (cropped) batch-major result, with no padded
image buffer. Both work on a range of rows (``im2col``) or channels (``col2im``), so that
``run_in_halves`` can give each core half of them.

Arrays are flat (C-contiguous, 1-d) and indexed with unsigned integers: numba wraps negative
signed indices around, and that check in the inner loop kept LLVM from vectorizing the copy
(im2col of 64x64x8x8, 3x3: 1.9 ms with signed indices, 0.64 ms unsigned, NumPy's strided copy
1.9 ms). ``x`` is (N, C, H, W); ``cols`` (C * kh * kw, n * Ho * Wo), its rows ordered (channel,
kernel row, kernel column) and its columns (sample, output row, output column): the layout
``kernels.conv`` multiplies by the weight matrix, one GEMM per group.
"""

from __future__ import annotations

from numba import njit, uint64


@njit(nogil=True, cache=True, error_model="numpy")
def _valid(n_out, size, offset, step):
    """The range ``[lo, hi)`` of positions ``j < n_out`` whose ``j * step + offset`` lies in
    ``[0, size)``."""
    lo = 0
    if offset < 0:
        lo = (-offset + step - 1) // step
    hi = 0
    if size - 1 - offset >= 0:
        hi = (size - 1 - offset) // step + 1
    lo = min(lo, n_out)
    hi = min(max(hi, lo), n_out)
    return lo, hi


@njit(nogil=True, cache=True, error_model="numpy")
def im2col(x, C, H, W, cols, n, n0, r0, r1, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo):
    """Rows ``[r0, r1)`` of the windows of samples ``[n0, n0 + n)`` of ``x``, padded by
    ``(ph, pw)`` before (negative: cropped) and by zeros as far as the windows reach after."""
    zero = cols.dtype.type(0)
    L = n * Ho * Wo
    for r in range(r0, r1):
        c = r // (kh * kw)
        a = (r // kw) % kh
        b = r % kw
        off = b * dw - pw
        j_lo, j_hi = _valid(Wo, W, off, sw)
        i_lo, i_hi = _valid(Ho, H, a * dh - ph, sh)
        head, body, tail = uint64(j_lo), uint64(j_hi - j_lo), uint64(Wo - j_hi)
        usw = uint64(sw)
        for s in range(n):
            o = uint64(r * L + s * Ho * Wo)
            plane = ((n0 + s) * C + c) * H * W
            for i in range(Ho):
                if i < i_lo or i >= i_hi:
                    for j in range(uint64(Wo)):
                        cols[o + j] = zero
                    o += uint64(Wo)
                    continue
                src = uint64(plane + (i * sh + a * dh - ph) * W + j_lo * sw + off)
                for j in range(head):
                    cols[o + j] = zero
                o += head
                if sw == 1:
                    for j in range(body):
                        cols[o + j] = x[src + j]
                else:
                    for j in range(body):
                        cols[o + j] = x[src + j * usw]
                o += body
                for j in range(tail):
                    cols[o + j] = zero
                o += tail


@njit(nogil=True, cache=True, error_model="numpy")
def col2im(cols, n, Hi, Wi, y, C, Ho, Wo, n0, c0, c1, kh, kw, sh, sw, ph, pw, dh, dw):
    """Channels ``[c0, c1)`` of samples ``[n0, n0 + n)`` of ``y`` (N, C, Ho, Wo) set to the sum of
    the window columns ``cols`` (C * kh * kw, n * Hi * Wi) that land on each element: column
    ``(s, i, j)`` of row ``(c, a, b)`` lands on ``(i * sh + a * dh - ph, j * sw + b * dw - pw)``
    (outside ``y``: dropped)."""
    zero = y.dtype.type(0)
    L = n * Hi * Wi
    usw = uint64(sw)
    for c in range(c0, c1):
        for s in range(n):
            plane = uint64(((n0 + s) * C + c) * Ho * Wo)
            for k in range(uint64(Ho * Wo)):
                y[plane + k] = zero
            for a in range(kh):
                i_lo, i_hi = _valid(Hi, Ho, a * dh - ph, sh)
                for b in range(kw):
                    off = b * dw - pw
                    j_lo, j_hi = _valid(Wi, Wo, off, sw)
                    body = uint64(j_hi - j_lo)
                    row = ((c * kh + a) * kw + b) * L + s * Hi * Wi
                    for i in range(i_lo, i_hi):
                        src = uint64(row + i * Wi + j_lo)
                        dst = plane + uint64((i * sh + a * dh - ph) * Wo + j_lo * sw + off)
                        if sw == 1:
                            for j in range(body):
                                y[dst + j] += cols[src + j]
                        else:
                            for j in range(body):
                                y[dst + j * usw] += cols[src + j]
