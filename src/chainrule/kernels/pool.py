"""Pooling kernels on arrays: the window-major copy of the input, the max-pool positions (torch's
tie rule), and the two backward passes (``chainrule.ops.pool`` explains the math and makes them
differentiable ops).

An argument that is not a plain ndarray (vmap's batched array) goes to the implementation that its
array type registered (``chainrule.backend.register_kernel``): the strided views and fresh buffers
here do not dispatch through NumPy's protocols.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..backend import any_true, override
from . import jit
from .halves import MIN_ONE_PASS, run_in_halves

__all__ = [
    "Pool",
    "Argmax",
    "max_pool_tiled",
    "pool_windows",
    "max_pool2d_indices",
    "max_pool_backward_array",
    "max_pool_flat_index",
    "avg_pool_array",
    "avg_pool_backward_array",
]

_BASES: dict = {}  # (N, C, geometry) -> flat index of each window's origin


class Pool:
    """The geometry of one pooling call (immutable; kept in the graph's node)."""

    __slots__ = ("kernel", "stride", "padding", "dilation", "out_hw", "in_hw")

    def __init__(
        self, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, out_hw: tuple, in_hw: tuple
    ) -> None:
        self.kernel, self.stride, self.padding = kernel, stride, padding
        self.dilation, self.out_hw, self.in_hw = dilation, out_hw, in_hw

    def key(self) -> tuple:
        return (self.kernel, self.stride, self.padding, self.dilation, self.out_hw, self.in_hw)

    @property
    def tiles(self) -> bool:
        """The windows tile the input: stride == kernel, no padding or dilation, no overhang."""
        return (
            self.stride == self.kernel
            and self.padding == (0, 0)
            and self.dilation == (1, 1)
            and all(o * k <= n for o, k, n in zip(self.out_hw, self.kernel, self.in_hw))
        )

    @property
    def disjoint(self) -> bool:
        """No input element lies in two windows."""
        return all(s >= d * (k - 1) + 1 for s, d, k in zip(self.stride, self.dilation, self.kernel))

    def positions(self):
        kh, kw = self.kernel
        return [(a, b) for a in range(kh) for b in range(kw)]

    def slices(self, a: int, b: int) -> tuple:
        """The index of kernel position ``(a, b)``'s elements in the padded input."""
        (sh, sw), (dh, dw), (Ho, Wo) = self.stride, self.dilation, self.out_hw
        return (
            slice(None),
            slice(None),
            slice(a * dh, a * dh + (Ho - 1) * sh + 1, sh),
            slice(b * dw, b * dw + (Wo - 1) * sw + 1, sw),
        )

    def padded_size(self) -> tuple:
        """The padded input's size: the padding before, and after it as far as windows reach."""
        size = []
        for n, k, s, p, d, o in zip(
            self.in_hw, self.kernel, self.stride, self.padding, self.dilation, self.out_hw
        ):
            size.append(max(p + n, (o - 1) * s + d * (k - 1) + 1))
        return tuple(size)

    def pad(self, x: np.ndarray, value) -> np.ndarray:
        hb, wb = self.padded_size()
        (ph, pw), (H, W) = self.padding, self.in_hw
        if (hb, wb) == (H, W):
            return x
        out = np.full(x.shape[:2] + (hb, wb), value, dtype=x.dtype)
        out[:, :, ph : ph + H, pw : pw + W] = x
        return out

    def crop(self, xp: np.ndarray) -> np.ndarray:
        (ph, pw), (H, W) = self.padding, self.in_hw
        if xp.shape[2:] == (H, W):
            return xp
        return np.ascontiguousarray(xp[:, :, ph : ph + H, pw : pw + W])

    def windows(self, x: np.ndarray, fill) -> np.ndarray:
        """``(kh * kw, N, C, Ho, Wo)``: entry ``[a * kw + b, n, c, i, j]`` is the element at kernel
        position ``(a, b)`` of window ``(i, j)`` (``fill`` outside the input); one strided copy."""
        if type(x) is not np.ndarray:
            impl = override(pool_windows, x)
            if impl is not None:
                return impl(self, x, fill)
        xp = self.pad(x, fill)
        (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = self.kernel, self.stride, self.dilation, self.out_hw
        bn, bc, bh, bw = xp.strides
        view = as_strided(
            xp,
            (kh, kw) + xp.shape[:2] + (Ho, Wo),
            (dh * bh, dw * bw, bn, bc, sh * bh, sw * bw),
            writeable=False,
        )
        return np.ascontiguousarray(view).reshape((kh * kw,) + xp.shape[:2] + (Ho, Wo))

    def flat_index(self, N: int, C: int, pos: np.ndarray) -> np.ndarray:
        """Flat indices into the (N, C, H, W) input of kernel position ``pos`` of each window."""
        key = (N, C) + self.key()
        base = _BASES.get(key)
        (H, W), (sh, sw), (ph, pw), (Ho, Wo) = self.in_hw, self.stride, self.padding, self.out_hw
        if base is None:
            base = (
                np.arange(N * C).reshape(N, C, 1, 1) * (H * W)
                + (np.arange(Ho) * sh - ph).reshape(-1, 1) * W
                + (np.arange(Wo) * sw - pw)
            )
            if base.nbytes <= 1 << 22:  # keep small ones (a training loop repeats its shapes)
                if len(_BASES) >= 16:
                    _BASES.clear()
                _BASES[key] = base
        dh, dw = self.dilation
        offsets = np.array([a * dh * W + b * dw for a, b in self.positions()], dtype=np.int64)
        return base + np.take(offsets, pos)  # (take: about twice as fast as offsets[pos])


class Argmax:
    """The kernel position (row-major, int8) of each window's maximum, (N, C, Ho, Wo): what a
    tiled max pooling keeps for its backward instead of the windows (a sixteenth of a 2x2 pool's
    float32 input rather than all of it)."""

    __slots__ = ("pos",)

    def __init__(self, pos: np.ndarray) -> None:
        self.pos = pos


def _tiled_views(x: np.ndarray, geom: Pool) -> list:
    """Kernel position ``(a, b)``'s element of every window, as a strided view of ``x``, for a
    geometry whose windows tile the input (``geom.tiles``)."""
    (kh, kw), (Ho, Wo) = geom.kernel, geom.out_hw
    return [x[:, :, a : Ho * kh : kh, b : Wo * kw : kw] for a, b in geom.positions()]


_FLOATS = frozenset((np.dtype(np.float32), np.dtype(np.float64)))


def _compiled_pool(dtype, size: int, geom: Pool):
    """The compiled tiled max pooling (``_jit_pool``) for float32/float64 arrays of at least 4096
    elements (below, NumPy's few whole-array passes cost less than a call) and int8 positions."""
    if dtype not in _FLOATS or size < 4096 or geom.kernel[0] * geom.kernel[1] >= 128:
        return None
    return jit.load("_jit_pool")


def max_pool_tiled(x: np.ndarray, geom: Pool) -> tuple[np.ndarray, Argmax]:
    """Max pooling over tiling windows (stride = kernel, no padding or dilation) without a copy
    of the windows: a running maximum over the kernel's strided views of ``x``, then the winning
    position by torch's rule (the first maximum; the last NaN where there are NaNs).

    Branch-free on whole arrays: NumPy's masked writes (``copyto(where=)``, ``putmask``) run
    ~20x slower than arithmetic on a random mask (49 ms against 1.7 ms on 2M float32), so the
    position is summed from comparisons."""
    compiled = _compiled_pool(x.dtype, x.size, geom)
    if compiled is not None:
        N, C, H, W = x.shape
        (kh, kw), (Ho, Wo) = geom.kernel, geom.out_hw
        xf = np.ascontiguousarray(x).reshape(-1)
        out = np.empty((N, C, Ho, Wo), x.dtype)
        pos = np.empty((N, C, Ho, Wo), np.int8)
        flat_out, flat_pos = out.reshape(-1), pos.reshape(-1)

        def kernel(start: int, stop: int) -> None:
            first, last = start // (H * W), stop // (H * W)
            if kh == kw == 2:
                compiled.max_pool_2x2(xf, H, W, flat_out, flat_pos, Ho, Wo, first, last)
            else:
                compiled.max_pool(xf, H, W, flat_out, flat_pos, Ho, Wo, kh, kw, first, last)

        run_in_halves(kernel, x.size, H * W, MIN_ONE_PASS)
        return out, Argmax(pos)
    views = _tiled_views(x, geom)
    out = views[0].copy()
    for v in views[1:]:
        np.maximum(out, v, out=out)  # (propagates NaN, as torch's values do)
    kind = np.int8 if len(views) < 128 else np.int32
    pos = np.zeros(out.shape, dtype=kind)
    if len(views) > 1:
        found = np.equal(views[0], out)
        eq = np.empty(out.shape, dtype=bool)
        for p in range(1, len(views)):
            np.equal(views[p], out, out=eq)
            np.greater(eq, found, out=eq)  # holds the maximum, and no earlier position does
            pos += eq * kind(p)
            found |= eq
        if out.dtype.kind == "f" and any_true(np.isnan(out)):
            for p, v in enumerate(views):  # torch keeps the last NaN (rare: masked writes are fine)
                np.putmask(pos, np.isnan(v), p)
    return out, Argmax(pos)


def max_pool_tiled_backward(g: np.ndarray, geom: Pool, argmax: Argmax) -> np.ndarray:
    """``dl/dx`` of ``max_pool_tiled``: ``g`` at each window's maximum, zeros elsewhere (the
    windows are disjoint: one product with a mask per kernel position, written strided)."""
    N, C = g.shape[:2]
    (kh, kw), (Ho, Wo), (H, W) = geom.kernel, geom.out_hw, geom.in_hw
    covered = Ho * kh == H and Wo * kw == W  # else the rows and columns left over stay zero
    dx = (np.empty if covered else np.zeros)((N, C) + geom.in_hw, dtype=g.dtype)
    pos = argmax.pos
    compiled = _compiled_pool(g.dtype, dx.size, geom)
    if compiled is not None and pos.dtype == np.int8 and pos.flags.c_contiguous:
        gf, flat_pos, flat_dx = np.ascontiguousarray(g).reshape(-1), pos.reshape(-1), dx.reshape(-1)
        H, W = geom.in_hw

        def kernel(start: int, stop: int) -> None:
            first, last = start // (H * W), stop // (H * W)
            compiled.max_pool_backward(gf, flat_pos, Ho, Wo, flat_dx, H, W, kh, kw, first, last)

        run_in_halves(kernel, dx.size, H * W, MIN_ONE_PASS)
        return dx
    hit = np.empty(pos.shape, dtype=bool)
    for p, view in enumerate(_tiled_views(dx, geom)):
        np.multiply(g, np.equal(pos, p, out=hit), out=view)
    return dx


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


# ---- max pooling ---------------------------------------------------------------------------------
def _max_positions(t: np.ndarray, out: np.ndarray, geom: Pool) -> np.ndarray:
    """The kernel position of each window's maximum, by torch's rule: the first one in row-major
    window order; the last NaN where there are NaNs; a real element, never padding.

    Branch-free on whole arrays: ``eq[p]`` marks where position p holds the maximum; a position
    wins where it holds it and no earlier one did."""
    eq = t == out
    if geom.padded_size() != geom.in_hw and any_true(out == _lowest(out.dtype)):
        # padding ties only with the lowest value: keep real elements only
        eq &= geom.windows(np.ones((1, 1) + geom.in_hw, dtype=bool), False)
    kk = t.shape[0]
    kind = np.int8 if kk < 128 else np.int32
    pos = np.zeros(out.shape, dtype=kind)
    found = eq[0].copy()
    for p in range(1, kk):
        new = np.greater(eq[p], found)  # holds the maximum, and no earlier position does
        pos += new * kind(p)
        if p < kk - 1:
            found |= new
    if out.dtype.kind == "f" and any_true(np.isnan(out)):
        for p in range(kk):  # torch keeps the last NaN
            np.putmask(pos, np.isnan(t[p]), p)
    return pos


def max_pool2d_indices(t: np.ndarray, out: np.ndarray, geom: Pool) -> np.ndarray:
    """torch's ``return_indices``: each maximum's flat index within its (H, W) plane (int64)."""
    N, C = out.shape[:2]
    H, W = geom.in_hw
    if type(t) is Argmax:
        return geom.flat_index(N, C, t.pos) % (H * W)
    if type(t) is not np.ndarray or type(out) is not np.ndarray:
        impl = override(max_pool2d_indices, t, out)
        if impl is not None:
            return impl(t, out, geom)
    return geom.flat_index(N, C, _max_positions(t, out, geom)) % (H * W)


def _window_max(t: np.ndarray) -> np.ndarray:
    return t[0].copy() if t.shape[0] == 1 else t.max(axis=0)


def max_pool_backward_array(g: np.ndarray, geom: Pool, t: np.ndarray) -> np.ndarray:
    """``dl/dx`` of max pooling: ``g`` added at each window's maximum (windows ``t``, or the
    ``Argmax`` of a tiled pooling)."""
    if type(t) is Argmax and type(g) is np.ndarray:
        return max_pool_tiled_backward(g, geom, t)
    if type(g) is not np.ndarray or type(t) is not np.ndarray:
        impl = override(max_pool_backward_array, g, t)
        if impl is not None:
            return impl(g, geom, t)
    N, C = g.shape[:2]
    idx = geom.flat_index(N, C, _max_positions(t, _window_max(t), geom)).reshape(-1)
    size = N * C * geom.in_hw[0] * geom.in_hw[1]
    if geom.disjoint:  # no element is the maximum of two windows
        dx = np.zeros(size, dtype=g.dtype)
        dx[idx] = g.reshape(-1)
    else:
        dx = np.bincount(idx, weights=g.reshape(-1), minlength=size).astype(g.dtype, copy=False)
    return dx.reshape((N, C) + geom.in_hw)


def max_pool_flat_index(geom: Pool, t: np.ndarray) -> np.ndarray:
    """The flat index (into the (N, C, H, W) input) of each window's maximum, for windows ``t``
    ``(kh * kw, N, C, Ho, Wo)`` (or an ``Argmax``): the differentiable max-pool backward scatters
    with it."""
    if type(t) is Argmax:
        return geom.flat_index(t.pos.shape[0], t.pos.shape[1], t.pos).reshape(-1)
    if type(t) is not np.ndarray:
        impl = override(max_pool_flat_index, t)
        if impl is not None:
            return impl(geom, t)
    return geom.flat_index(t.shape[1], t.shape[2], _max_positions(t, _window_max(t), geom)).reshape(-1)


def pool_windows(geom: Pool, x: np.ndarray, fill) -> np.ndarray:
    """``geom.windows(x, fill)``: the kernel that another array type may implement for itself."""
    return geom.windows(x, fill)


# ---- average pooling -----------------------------------------------------------------------------
def avg_pool_array(x: np.ndarray, geom: Pool, divisor) -> np.ndarray:
    """Window sums divided by ``divisor`` (a number, or an (Ho, Wo) array)."""
    if type(x) is np.ndarray and geom.tiles and x.dtype.kind == "f" and x.size:
        views = _tiled_views(x, geom)  # summed in place: no copy of the windows
        total = views[0].copy()
        for v in views[1:]:
            total += v
    else:
        t = geom.windows(x, 0)
        total = t[0] if t.shape[0] == 1 else t.sum(axis=0)
    if x.dtype.kind != "f":  # integers: torch divides and truncates toward zero
        return np.trunc(total / divisor).astype(x.dtype)
    return (total / divisor).astype(x.dtype, copy=False)


def avg_pool_backward_array(g: np.ndarray, geom: Pool, divisor) -> np.ndarray:
    """``dl/dx`` of average pooling: ``g / divisor`` spread over each window."""
    if type(g) is not np.ndarray:
        impl = override(avg_pool_backward_array, g)
        if impl is not None:
            return impl(g, geom, divisor)
    share = (g / divisor).astype(g.dtype, copy=False)
    N, C = g.shape[:2]
    (kh, kw), (Ho, Wo) = geom.kernel, geom.out_hw
    if geom.tiles:  # each window's share repeated over its kh x kw block
        dx = np.repeat(np.repeat(share, kh, axis=2), kw, axis=3)
        if dx.shape[2:] == geom.in_hw:
            return dx
        full = np.zeros((N, C) + geom.in_hw, dtype=g.dtype)
        full[:, :, : Ho * kh, : Wo * kw] = dx
        return full
    dx = np.zeros((N, C) + geom.padded_size(), dtype=g.dtype)
    for a, b in geom.positions():
        dx[geom.slices(a, b)] += share
    return geom.crop(dx)
