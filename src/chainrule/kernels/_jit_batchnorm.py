"""Batch norm's passes over ``(N, C, L)`` arrays, compiled (imported through ``kernels.jit.load``).

Each kernel takes the flat C-contiguous arrays and a range of channels ``[c0, c1)`` (``run_in_halves``
gives each core half of them); a channel's data is N runs of L elements. The statistics and the
backward's two sums accumulate in float64 (more exact than the float32 pairwise sums of the NumPy
path; ``reassoc`` lets LLVM vectorize the sums). The element-wise passes keep NumPy's order of
operations (no ``contract``: no fused multiply-adds), so float32 values round as torch's.
"""

from __future__ import annotations

from numba import njit, uint64

_SUMS = dict(nogil=True, cache=True, error_model="numpy", fastmath={"reassoc"})


@njit(**_SUMS)
def stats(x, N, C, L, mean, var, c0, c1):
    """Per channel: ``mean`` and the biased variance (the centred sum of squares: two passes,
    the second over a channel that is usually still in the L2 cache)."""
    uL = uint64(L)
    for c in range(c0, c1):
        s = 0.0
        for n in range(N):
            base = uint64((n * C + c) * L)
            for k in range(uL):
                s += x[base + k]
        m = s / (N * L)
        q = 0.0
        for n in range(N):
            base = uint64((n * C + c) * L)
            for k in range(uL):
                d = x[base + k] - m
                q += d * d
        mean[c] = m
        var[c] = q / (N * L)


@njit(nogil=True, cache=True, error_model="numpy")
def affine(x, N, C, L, scale, shift, y, c0, c1):
    """``y = x * scale + shift`` per channel."""
    uL = uint64(L)
    for n in range(N):
        for c in range(c0, c1):
            base = uint64((n * C + c) * L)
            a, b = scale[c], shift[c]
            for k in range(uL):
                y[base + k] = x[base + k] * a + b


@njit(**_SUMS)
def grad_sums(g, x, N, C, L, mean, sum_g, dot, c0, c1):
    """Per channel: ``sum(g)`` and ``sum(g * (x - mean))``, reading each once."""
    uL = uint64(L)
    for c in range(c0, c1):
        m = mean[c]
        sg = 0.0
        sd = 0.0
        for n in range(N):
            base = uint64((n * C + c) * L)
            for k in range(uL):
                v = g[base + k]
                sg += v
                sd += v * (x[base + k] - m)
        sum_g[c] = sg
        dot[c] = sd


@njit(nogil=True, cache=True, error_model="numpy")
def grad_input(g, x, N, C, L, mean, a, kx, k0, dx, c0, c1):
    """``dx = (g + ((x - mean) * kx + k0)) * a`` per channel (NumPy's order of operations)."""
    uL = uint64(L)
    for n in range(N):
        for c in range(c0, c1):
            base = uint64((n * C + c) * L)
            m, kc, k, s = mean[c], kx[c], k0[c], a[c]
            for i in range(uL):
                dx[base + i] = (g[base + i] + ((x[base + i] - m) * kc + k)) * s
