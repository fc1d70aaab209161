"""Direct stride-1 convolution for few channels, compiled (imported through ``kernels.jit.load``).

With one input channel (LeNet's first layer: 1 -> 6 channels, 5x5, 28x28) the window matrix is
25 rows deep: its GEMM runs far below BLAS's peak and its copy costs as much as the product. Here
each sample is copied once into a zero-padded plane of width ``Wp = W + 2 * pw`` and each output
plane is computed "wide" (``Ho x Wp``, the last ``Wp - Wo`` columns of each row discarded): a
kernel position ``(a, b)`` is then one multiply-add over a contiguous run of ``Ho * Wp`` elements
of the plane, shifted by ``a * dh * Wp + b * dw``, which LLVM vectorizes. The weight gradient is
the same runs as dot products against the upstream gradient widened with zero columns.

3x3 and 5x5 kernel rows are taken in one pass for four output channels at once (``_row3x4``,
``_row5x4``; ``_dot3x4``, ``_dot5x4``): each loaded input element feeds 12 or 20 multiply-adds.
That also beats the window matrix for a few input channels (``kernels/conv.py``'s
``_direct_fits``: ResNet's stem and its 16-channel 3x3 layers, where the 144-row GEMM's
(windows)^T @ weight^T form runs at ~95 GFLOP/s but the window copy and the read back cost half
as much again). Two kernel rows per pass or eight channels measured slower (LLVM spilled or
stopped vectorizing: 16 -> 16 channels at 32x32, 128 samples, 15.3 and 22 ms against 9.4).
The rows' multiply-adds are fused (``fastmath={"contract"}``: one rounding each, as oneDNN's;
NaN and inf propagate unchanged).

Arrays: ``x`` (N, C, H, W), ``w`` (O, C, kh, kw), ``y``/``g`` (N, O, Ho, Wo), all C-contiguous;
``xp`` a flat scratch of at least ``C * Hp * Wp + kw * dw`` elements; ``acc`` of ``4 * Ho * Wp`` (the forward
computes four output channels per pass over the input).
Each kernel works on samples ``[n0, n1)`` so that two threads can take half of the batch each.
"""

from __future__ import annotations

from numba import njit, uint64


@njit(nogil=True, cache=True, error_model="numpy")
def _pad_sample(x, n, xp, ph, pw, Hp, Wp):
    """Sample ``n`` of ``x`` into ``xp`` (C, Hp, Wp), zero-padded by (ph, pw) before; the tail of
    ``xp`` beyond ``C * Hp * Wp`` (the last run's overhang) zero too."""
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    zero = xp.dtype.type(0)
    xp[:] = zero
    for c in range(C):
        for r in range(H):
            base = (c * Hp + r + ph) * Wp + pw
            for q in range(W):
                xp[base + q] = x[n, c, r, q]


@njit(nogil=True, cache=True, error_model="numpy", fastmath={"contract"})
def _row5(acc, xp, base, d, run, wr):
    """``acc += `` the five taps ``wr`` of a kernel row over the run at ``base`` (spacing ``d``):
    one load and store of ``acc`` per element instead of five (LeNet's 5x5 kernels)."""
    w0, w1, w2, w3, w4 = wr[0], wr[1], wr[2], wr[3], wr[4]
    d2 = d + d  # (uint64 sums: a signed factor would make the index a float)
    d3, d4 = d2 + d, d2 + d2
    for k in range(run):
        i = base + k
        acc[k] += w0 * xp[i] + w1 * xp[i + d] + w2 * xp[i + d2] + w3 * xp[i + d3] + w4 * xp[i + d4]


@njit(nogil=True, cache=True, error_model="numpy", fastmath={"contract"})
def _row5x4(acc, r0, r1, r2, r3, xp, base, d, run, wa, wb, wc, wd):
    """``_row5`` for four output channels at once (runs ``r0..r3`` of ``acc``, taps ``wa..wd``):
    each input element loaded once for 20 multiply-adds."""
    a0, a1, a2, a3, a4 = wa[0], wa[1], wa[2], wa[3], wa[4]
    b0, b1, b2, b3, b4 = wb[0], wb[1], wb[2], wb[3], wb[4]
    c0, c1, c2, c3, c4 = wc[0], wc[1], wc[2], wc[3], wc[4]
    e0, e1, e2, e3, e4 = wd[0], wd[1], wd[2], wd[3], wd[4]
    d2 = d + d
    d3, d4 = d2 + d, d2 + d2
    for k in range(run):
        i = base + k
        x0, x1, x2, x3, x4 = xp[i], xp[i + d], xp[i + d2], xp[i + d3], xp[i + d4]
        acc[r0 + k] += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3 + a4 * x4
        acc[r1 + k] += b0 * x0 + b1 * x1 + b2 * x2 + b3 * x3 + b4 * x4
        acc[r2 + k] += c0 * x0 + c1 * x1 + c2 * x2 + c3 * x3 + c4 * x4
        acc[r3 + k] += e0 * x0 + e1 * x1 + e2 * x2 + e3 * x3 + e4 * x4


@njit(nogil=True, cache=True, error_model="numpy", fastmath={"contract"})
def _row3x4(acc, r0, r1, r2, r3, xp, base, d, run, wa, wb, wc, wd):
    """``_row5x4`` for a 3-tap kernel row (ResNet's 3x3 kernels): 12 multiply-adds per input
    element for three loads of it and four of ``acc``. ``contract``: the multiply-adds fused
    (one rounding, as oneDNN's); NaN and inf are unaffected."""
    a0, a1, a2 = wa[0], wa[1], wa[2]
    b0, b1, b2 = wb[0], wb[1], wb[2]
    c0, c1, c2 = wc[0], wc[1], wc[2]
    e0, e1, e2 = wd[0], wd[1], wd[2]
    d2 = d + d
    for k in range(run):
        i = base + k
        x0, x1, x2 = xp[i], xp[i + d], xp[i + d2]
        acc[r0 + k] += a0 * x0 + a1 * x1 + a2 * x2
        acc[r1 + k] += b0 * x0 + b1 * x1 + b2 * x2
        acc[r2 + k] += c0 * x0 + c1 * x1 + c2 * x2
        acc[r3 + k] += e0 * x0 + e1 * x1 + e2 * x2


@njit(nogil=True, cache=True, error_model="numpy")
def forward(x, w, y, n0, n1, ph, pw, dh, dw, xp, acc):
    """``y[n0:n1]`` = the stride-1 correlation of ``x[n0:n1]`` with ``w`` (no bias)."""
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    O, kh, kw = w.shape[0], w.shape[2], w.shape[3]
    Ho, Wo = y.shape[2], y.shape[3]
    Hp, Wp = H + 2 * ph, W + 2 * pw
    run = uint64(Ho * Wp)
    zero = acc.dtype.type(0)
    for n in range(n0, n1):
        _pad_sample(x, n, xp, ph, pw, Hp, Wp)
        blocked = O - O % 4 if kw == 5 or kw == 3 else 0
        zero_u, run2 = uint64(0), run + run  # (uint64 offsets: with a signed one the index is a float)
        run3 = run2 + run
        for o in range(0, blocked, 4):
            for k in range(4 * run):
                acc[k] = zero
            for c in range(C):
                for a in range(kh):
                    base = uint64(c * Hp * Wp + a * dh * Wp)
                    if kw == 3:
                        _row3x4(
                            acc,
                            zero_u,
                            run,
                            run2,
                            run3,
                            xp,
                            base,
                            uint64(dw),
                            run,
                            w[o, c, a],
                            w[o + 1, c, a],
                            w[o + 2, c, a],
                            w[o + 3, c, a],
                        )
                        continue
                    _row5x4(
                        acc,
                        zero_u,
                        run,
                        run2,
                        run3,
                        xp,
                        base,
                        uint64(dw),
                        run,
                        w[o, c, a],
                        w[o + 1, c, a],
                        w[o + 2, c, a],
                        w[o + 3, c, a],
                    )
            for q in range(4):
                for i in range(Ho):
                    for j in range(Wo):
                        y[n, o + q, i, j] = acc[q * run + i * Wp + j]
        for o in range(blocked, O):
            for k in range(run):
                acc[k] = zero
            for c in range(C):
                for a in range(kh):
                    base = uint64(c * Hp * Wp + a * dh * Wp)
                    if kw == 5:  # a kernel row in one pass over the run, not five
                        _row5(acc, xp, base, uint64(dw), run, w[o, c, a])
                        continue
                    for b in range(kw):
                        wv = w[o, c, a, b]
                        shifted = base + uint64(b * dw)
                        for k in range(run):
                            acc[k] += wv * xp[shifted + k]
            for i in range(Ho):
                for j in range(Wo):
                    y[n, o, i, j] = acc[i * Wp + j]


@njit(nogil=True, cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _dot5x4(gq, r0, r1, r2, r3, xp, base, d, run, out):
    """``out`` (4, 5) += the dot products of four gradient runs ``r0..r3`` of ``gq`` with the
    five shifted input runs of a kernel row: each element loaded once for 20 multiply-adds, in
    20 vector accumulators."""
    z = xp.dtype.type(0)
    a0 = a1 = a2 = a3 = a4 = b0 = b1 = b2 = b3 = b4 = z
    c0 = c1 = c2 = c3 = c4 = e0 = e1 = e2 = e3 = e4 = z
    d2 = d + d
    d3, d4 = d2 + d, d2 + d2
    for k in range(run):
        i = base + k
        x0, x1, x2, x3, x4 = xp[i], xp[i + d], xp[i + d2], xp[i + d3], xp[i + d4]
        g = gq[r0 + k]
        a0 += g * x0
        a1 += g * x1
        a2 += g * x2
        a3 += g * x3
        a4 += g * x4
        g = gq[r1 + k]
        b0 += g * x0
        b1 += g * x1
        b2 += g * x2
        b3 += g * x3
        b4 += g * x4
        g = gq[r2 + k]
        c0 += g * x0
        c1 += g * x1
        c2 += g * x2
        c3 += g * x3
        c4 += g * x4
        g = gq[r3 + k]
        e0 += g * x0
        e1 += g * x1
        e2 += g * x2
        e3 += g * x3
        e4 += g * x4
    out[0, 0] += a0
    out[0, 1] += a1
    out[0, 2] += a2
    out[0, 3] += a3
    out[0, 4] += a4
    out[1, 0] += b0
    out[1, 1] += b1
    out[1, 2] += b2
    out[1, 3] += b3
    out[1, 4] += b4
    out[2, 0] += c0
    out[2, 1] += c1
    out[2, 2] += c2
    out[2, 3] += c3
    out[2, 4] += c4
    out[3, 0] += e0
    out[3, 1] += e1
    out[3, 2] += e2
    out[3, 3] += e3
    out[3, 4] += e4


@njit(nogil=True, cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _dot3x4(gq, r0, r1, r2, r3, xp, base, d, run, out):
    """``_dot5x4`` for a 3-tap kernel row: 12 vector accumulators."""
    z = xp.dtype.type(0)
    a0 = a1 = a2 = b0 = b1 = b2 = c0 = c1 = c2 = e0 = e1 = e2 = z
    d2 = d + d
    for k in range(run):
        i = base + k
        x0, x1, x2 = xp[i], xp[i + d], xp[i + d2]
        g = gq[r0 + k]
        a0 += g * x0
        a1 += g * x1
        a2 += g * x2
        g = gq[r1 + k]
        b0 += g * x0
        b1 += g * x1
        b2 += g * x2
        g = gq[r2 + k]
        c0 += g * x0
        c1 += g * x1
        c2 += g * x2
        g = gq[r3 + k]
        e0 += g * x0
        e1 += g * x1
        e2 += g * x2
    out[0, 0] += a0
    out[0, 1] += a1
    out[0, 2] += a2
    out[1, 0] += b0
    out[1, 1] += b1
    out[1, 2] += b2
    out[2, 0] += c0
    out[2, 1] += c1
    out[2, 2] += c2
    out[3, 0] += e0
    out[3, 1] += e1
    out[3, 2] += e2


@njit(nogil=True, cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def weight_grad(x, g, dwt, n0, n1, ph, pw, dh, dw, xp, acc):
    """``dwt`` (O, C, kh, kw) += the weight gradient of samples ``[n0, n1)``."""
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    O, kh, kw = dwt.shape[0], dwt.shape[2], dwt.shape[3]
    Ho, Wo = g.shape[2], g.shape[3]
    Hp, Wp = H + 2 * ph, W + 2 * pw
    run = uint64(Ho * Wp)
    zero_u, run2 = uint64(0), run + run  # (uint64 offsets: with a signed one the index is a float)
    run3 = run2 + run
    zero = acc.dtype.type(0)
    acc[:] = zero
    for n in range(n0, n1):
        _pad_sample(x, n, xp, ph, pw, Hp, Wp)
        check = zero
        for k in range(uint64(xp.size)):
            check += xp[k] * zero  # NaN where the sample has a NaN or an inf
        finite = check == zero
        blocked = O - O % 4 if (kw == 5 or kw == 3) and finite else 0
        for o in range(0, blocked, 4):  # four channels' gradients against the rows' five taps
            for q in range(4):
                for i in range(Ho):
                    for j in range(Wo):
                        acc[q * Ho * Wp + i * Wp + j] = g[n, o + q, i, j]
            for c in range(C):
                for a in range(kh):
                    base = uint64(c * Hp * Wp + a * dh * Wp)
                    if kw == 3:
                        _dot3x4(acc, zero_u, run, run2, run3, xp, base, uint64(dw), run, dwt[o : o + 4, c, a])
                    else:
                        _dot5x4(acc, zero_u, run, run2, run3, xp, base, uint64(dw), run, dwt[o : o + 4, c, a])
        for o in range(blocked, O):
            for i in range(Ho):  # the gradient laid out as the plane's rows (extra columns 0)
                for j in range(Wo):
                    acc[i * Wp + j] = g[n, o, i, j]
            for c in range(C):
                for a in range(kh):
                    for b in range(kw):
                        base = uint64(c * Hp * Wp + a * dh * Wp + b * dw)
                        s = zero
                        if finite:  # one run: the gradient's extra columns are zeros
                            for k in range(run):
                                s += acc[k] * xp[base + k]
                        else:  # rows of Wo: a discarded column times an inf would be a NaN
                            for i in range(Ho):
                                row = uint64(i * Wp)
                                for j in range(uint64(Wo)):
                                    s += acc[row + j] * xp[base + row + j]
                        dwt[o, c, a, b] += s
