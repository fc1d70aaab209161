"""The convolution and its weight gradient summed over real input elements only: what
``kernels/conv.py`` falls back to where a padding zero meets an inf or NaN.

The fast kernels multiply the zero padding (im2col windows, padded direct kernels, the stride-1
transpose as a padded correlation through ``conv_array``) by the other operand: ``0 * inf`` is
NaN, so one infinite weight made every output whose window reaches into the padding NaN.
torch's oneDNN kernels multiply only real input elements (where the padding would be they add
nothing), so those outputs are finite or +-inf there. Here each kernel position ``(a, b)``
contributes to the outputs whose input element ``i * s + a * d - p`` lies inside the input, one
``einsum`` per position: slower than the GEMM paths, so ``kernels/conv.py`` comes here only when
the operand that meets the padding is not finite (and torch's kernel would skip the padding).

Shapes are those of ``kernels/conv.py``: ``x`` (N, C, H, W), ``w`` (O, C / groups, kh, kw), the
convolution's output (N, O, Ho, Wo); ``padding`` may be negative (a crop).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["conv_array", "conv_weight_array", "all_finite"]


def all_finite(a: np.ndarray) -> bool:
    """Whether every element of ``a`` is finite: a dot product of ``a`` with itself (one BLAS pass,
    no temporary) is finite unless an element is inf or NaN or the squares overflow; only then
    are the elements looked at one by one."""
    v = a.reshape(-1)
    if v.dtype.kind != "f" or v.dtype.itemsize < 4:  # (BLAS has no half-precision dot)
        return bool(np.isfinite(v).all())
    # (no errstate, ~1 us: the kernels run inside chainrule's ops, whose floating-point warnings
    # are off; an overflowing square is only a weight beyond 1.8e19)
    return math.isfinite(np.dot(v, v)) or bool(np.isfinite(v).all())


def _valid(n_out: int, n_in: int, offset: int, stride: int, pad: int) -> tuple[int, int, int]:
    """``(lo, hi, first)``: the outputs ``lo <= i < hi`` whose input index ``i * stride + offset -
    pad`` lies in ``[0, n_in)``, and the input index of output ``lo``."""
    lo = max(0, -((offset - pad) // stride))  # ceil((pad - offset) / stride)
    hi = min(n_out, (n_in - 1 - offset + pad) // stride + 1)
    return lo, max(lo, hi), lo * stride + offset - pad


def _positions(w_shape, in_hw, out_hw, stride, padding, dilation):
    """Per kernel position ``(a, b)`` with any real input under it: the output slices and the
    matching strided input slices."""
    _, _, kh, kw = w_shape
    for a in range(kh):
        i0, i1, h0 = _valid(out_hw[0], in_hw[0], a * dilation[0], stride[0], padding[0])
        if i0 == i1:
            continue
        rows_in = slice(h0, h0 + (i1 - i0 - 1) * stride[0] + 1, stride[0])
        for b in range(kw):
            j0, j1, w0 = _valid(out_hw[1], in_hw[1], b * dilation[1], stride[1], padding[1])
            if j0 == j1:
                continue
            cols_in = slice(w0, w0 + (j1 - j0 - 1) * stride[1] + 1, stride[1])
            yield a, b, (slice(i0, i1), slice(j0, j1)), (rows_in, cols_in)


def _grouped(a: np.ndarray, groups: int) -> np.ndarray:
    """(N, G * c, H, W) -> (N, G, c, H, W)."""
    return a.reshape(a.shape[0], groups, a.shape[1] // groups, *a.shape[2:])


def conv_array(x, w, b, stride, padding, out_hw, dilation, groups):
    """``y[n, o, i, j] = b[o] + sum w[o, c, a, q] x[n, c, i s + a d - p, j s + q d - p]`` over the
    terms whose input element exists."""
    dtype = np.result_type(x.dtype, w.dtype)
    O, cg, kh, kw = w.shape
    y = np.zeros((x.shape[0], groups, O // groups) + tuple(out_hw), dtype=dtype)
    xg, wg = _grouped(x, groups), w.reshape(groups, O // groups, cg, kh, kw)
    for a, q, out, inp in _positions(w.shape, x.shape[2:], out_hw, stride, padding, dilation):
        y[..., out[0], out[1]] += np.einsum("goc,ngchw->ngohw", wg[..., a, q], xg[..., inp[0], inp[1]])
    y = y.reshape((x.shape[0], O) + tuple(out_hw))
    if b is not None:
        y += b.reshape(-1, 1, 1)
    return y


def conv_weight_array(x, g, weight_shape, stride, padding, dilation, groups):
    """``dw[o, c, a, q] = sum g[n, o, i, j] x[n, c, i s + a d - p, j s + q d - p]`` over the terms
    whose input element exists."""
    dtype = np.result_type(x.dtype, g.dtype)
    O, cg, kh, kw = weight_shape
    dw = np.zeros((groups, O // groups, cg, kh, kw), dtype=dtype)
    xg, gg = _grouped(x, groups), _grouped(g, groups)
    for a, q, out, inp in _positions(weight_shape, x.shape[2:], g.shape[2:], stride, padding, dilation):
        dw[..., a, q] = np.einsum("ngohw,ngchw->goc", gg[..., out[0], out[1]], xg[..., inp[0], inp[1]])
    return dw.reshape(weight_shape)
