"""Convolution as one GEMM over an im2col view, and its two adjoints, each a differentiable op.

For ``y = conv(x, w)`` (cross-correlation, as in torch) with stride ``s``, dilation ``d`` and
``p`` rows/cols of zero padding before the input:

    y[n, o, i, j] = sum_{c, a, b} w[o, c, a, b] * x[n, c, i*s + a*d - p, j*s + b*d - p]

* forward: the windows of the padded input form a strided view ``cols[c, a, b, n, i, j]`` (no
  copy); one reshape copies it into a ``(K, N * H_out * W_out)`` matrix (K = C * kh * kw) and ONE
  matmul with the ``(O, K)`` weight matrix gives the output (per group);
* ``dl/dx`` is the transposed convolution of ``dl/dy`` with the same weight: one matmul back to
  window columns, then ``col2im`` adds each kernel position's slice into place (a loop over the
  kh * kw kernel positions, never over pixels);
* ``dl/dw`` is the correlation of the input windows with ``dl/dy``: one matmul with the forward's
  window matrix (op ``convolution_weight``).

Matrices keep the batch inside the columns (channel-major), so each product is one large GEMM
that BLAS can spread over its threads. The three ops' rules call each other (the adjoint of an
adjoint is the op itself), so gradients of any order work. Every op here takes explicit
geometry: ``stride``, ``padding`` (rows/cols of zeros before the input; the end is padded as far
as the windows need), the output's spatial size ``out_hw``, ``dilation`` and ``groups``;
``nn.functional`` turns torch's arguments into it.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd.graph import defop
from ..autograd.math import register
from ._common import Tensor, make_result

__all__ = ["convolution", "convolution_transpose", "convolution_weight"]


# ---- array kernels ------------------------------------------------------------------------------
def _span(n_out: int, k: int, s: int, d: int) -> int:
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
    out[:, :, ph:ph + H, pw:pw + W] = x
    return out


def im2col(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple, out_hw: tuple,
           dilation: tuple, groups: int) -> np.ndarray:
    """The windows of ``x`` (N, C, H, W) as a ``(groups, C/groups * kh * kw, N * Ho * Wo)`` array.

    The windows are a strided view of the padded input; the reshape is the one copy.
    """
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = kernel, stride, dilation, out_hw
    xp = _padded(x, padding, (_span(Ho, kh, sh, dh), _span(Wo, kw, sw, dw)))
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
        view = as_strided(xb, (groups, cg, kh, kw, N, Ho * Wo),
                          (cg * N * H * Wo * e, N * H * Wo * e, dh * Wo * e, C * N * H * Wo * e,
                           H * Wo * e, e), writeable=False)
        return view.reshape(groups, cg * kh * kw, N * Ho * Wo)
    view = as_strided(xp, (groups, cg, kh, kw, N, Ho, Wo),
                      (cg * bc, bc, dh * bh, dw * bw, bn, sh * bh, sw * bw), writeable=False)
    return view.reshape(groups, cg * kh * kw, N * Ho * Wo)


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
    return np.ascontiguousarray(x.reshape(N, groups, C // groups, -1).transpose(1, 2, 0, 3)
                                ).reshape(groups, C // groups, -1)


def conv_array(x, w, b, stride, padding, out_hw, dilation, groups, cols=None):
    """Convolution on arrays: one matmul of the weight matrix with the windows (per group)."""
    if type(x) is not np.ndarray or type(w) is not np.ndarray or not (b is None or type(b) is np.ndarray):
        from ..func._batching_nn import conv  # vmap: batched arguments

        return conv(x, w, b, stride, padding, out_hw, dilation, groups)
    O, cg, kh, kw = w.shape
    if cols is None:
        cols = im2col(x, (kh, kw), stride, padding, out_hw, dilation, groups)
    y = np.matmul(w.reshape(groups, O // groups, cg * kh * kw), cols)
    return _to_batch_major(y.reshape((O, x.shape[0]) + tuple(out_hw)), b)


def conv_weight_array(x, g, weight_shape, stride, padding, dilation, groups, cols=None):
    """``dl/dw`` of a convolution: the input windows times ``g`` (N, O, Ho, Wo), one matmul."""
    if type(x) is not np.ndarray or type(g) is not np.ndarray:
        from ..func._batching_nn import conv_weight  # vmap: one weight gradient per sample

        return conv_weight(x, g, weight_shape, stride, padding, dilation, groups)
    O, cg, kh, kw = weight_shape
    if cols is None:
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


def col2im(cols: np.ndarray, stride: tuple, padding: tuple, out_hw: tuple,
           dilation: tuple) -> np.ndarray:
    """The adjoint of ``im2col``: ``cols`` (C, kh, kw, N, Hi, Wi) summed into a (C, N, Ho, Wo)
    image, each kernel position's slice added in place (overlapping windows accumulate)."""
    C, kh, kw, N, Hi, Wi = cols.shape
    (sh, sw), (ph, pw), (Ho, Wo), (dh, dw) = stride, padding, out_hw, dilation
    hb = max(_span(Hi, kh, sh, dh), ph + Ho)
    wb = max(_span(Wi, kw, sw, dw), pw + Wo)
    buf = np.zeros((C, N, hb, wb), dtype=cols.dtype)
    h_end, w_end = (Hi - 1) * sh + 1, (Wi - 1) * sw + 1
    for a in range(kh):
        for b in range(kw):
            window = buf[:, :, a * dh:a * dh + h_end:sh, b * dw:b * dw + w_end:sw]
            window += cols[:, a, b]
    return buf[:, :, ph:ph + Ho, pw:pw + Wo]


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
    cols = cols.reshape(-1, kh, kw, run)
    over = (kh - 1) * dh * wb + (kw - 1) * dw
    flat = np.zeros((cols.shape[0], run + over), dtype=cols.dtype)
    for a in range(kh):
        for b in range(kw):
            start = a * dh * wb + b * dw
            flat[:, start:start + run] += cols[:, a, b]
    return flat[:, :run].reshape(-1, N, hb, wb)[:, :, ph:ph + Ho, pw:pw + Wo]


def conv_transpose_array(x, w, b, stride, padding, out_hw, dilation, groups):
    """Transposed convolution on arrays (the adjoint of ``conv_array`` in its input): one matmul
    with the transposed weight matrix back to window columns, then ``col2im``."""
    if type(x) is not np.ndarray or type(w) is not np.ndarray or not (b is None or type(b) is np.ndarray):
        from ..func._batching_nn import conv_transpose  # vmap: batched arguments

        return conv_transpose(x, w, b, stride, padding, out_hw, dilation, groups)
    O, cg, kh, kw = w.shape
    N, _, Hi, Wi = x.shape
    wt = np.swapaxes(w.reshape(groups, O // groups, cg * kh * kw), 1, 2)
    if stride == (1, 1):
        y = _col2im_unit_stride(x, wt, (kh, kw), padding, out_hw, dilation, groups)
    else:
        cols = np.matmul(wt, _channel_major(x, groups))
        y = col2im(cols.reshape(groups * cg, kh, kw, N, Hi, Wi), stride, padding, out_hw,
                   dilation)
    return _to_batch_major(y, b)


# ---- the differentiable ops ---------------------------------------------------------------------
def _geometry(p):
    return p[0], p[1], p[2], p[3]


@defop("convolution", formula=("{g0} = conv_transpose({gy}, {x1})", "{g1} = correlate({x0}, {gy})",
                               "{g2} = sum of {gy} over (N, H, W)"))
def _convolution(F, g, xs, out, p, needs):
    stride, padding, dilation, groups = _geometry(p)
    x, w = xs[0], xs[1]
    gx = gw = gb = None
    if needs[0]:
        gx = F.convolution_transpose(g, w, None, stride, padding, tuple(x.shape[2:]), dilation,
                                     groups)
    if needs[1]:
        gw = F.convolution_weight(x, g, tuple(w.shape), stride, padding, dilation, groups, p[4])
    if len(xs) > 2 and needs[2]:
        gb = F.sum(g, (0, 2, 3))
    return gx, gw, gb


@defop("convolution_transpose", formula=("{g0} = conv({gy}, {x1})", "{g1} = correlate({gy}, {x0})",
                                         "{g2} = sum of {gy} over (N, H, W)"))
def _convolution_transpose(F, g, xs, out, p, needs):
    stride, padding, dilation, groups = _geometry(p)
    x, w = xs[0], xs[1]
    gx = gw = gb = None
    if needs[0]:
        gx = F.convolution(g, w, None, stride, padding, tuple(x.shape[2:]), dilation, groups)
    if needs[1]:
        gw = F.convolution_weight(g, x, tuple(w.shape), stride, padding, dilation, groups)
    if len(xs) > 2 and needs[2]:
        gb = F.sum(g, (0, 2, 3))
    return gx, gw, gb


@defop("convolution_weight", formula=("{g0} = conv_transpose({x1}, {gy})", "{g1} = conv({x0}, {gy})"))
def _convolution_weight(F, g, xs, out, p, needs):
    stride, padding, dilation, groups = _geometry(p)
    x, gy = xs
    gx = ggy = None
    if needs[0]:
        gx = F.convolution_transpose(gy, g, None, stride, padding, tuple(x.shape[2:]), dilation,
                                     groups)
    if needs[1]:
        ggy = F.convolution(x, g, None, stride, padding, tuple(gy.shape[2:]), dilation, groups)
    return gx, ggy


def _inputs(input: Tensor, weight: Tensor, bias: Tensor | None) -> tuple:
    return (input, weight) if bias is None else (input, weight, bias)


def convolution(input: Tensor, weight: Tensor, bias: Tensor | None, stride: tuple,
                padding: tuple, out_hw: tuple, dilation: tuple, groups: int) -> Tensor:
    """2-d convolution of ``input`` (N, C, H, W) with ``weight`` (O, C/groups, kh, kw) in
    explicit geometry (see the module docstring); arguments are not validated here."""
    x, w = input._data, weight._data
    cols = im2col(x, w.shape[2:], stride, padding, out_hw, dilation, groups) \
        if type(x) is np.ndarray else None  # (vmap: the batched kernel makes its own)
    y = conv_array(x, w, None if bias is None else bias._data, stride, padding, out_hw, dilation,
                   groups, cols)
    return make_result(y, _convolution, _inputs(input, weight, bias),
                       (stride, padding, dilation, groups, cols))


def convolution_transpose(input: Tensor, weight: Tensor, bias: Tensor | None, stride: tuple,
                          padding: tuple, out_hw: tuple, dilation: tuple, groups: int) -> Tensor:
    """The transposed convolution of ``input`` (N, O, Hi, Wi) with ``weight`` (O, C/groups, kh, kw)
    to an output of spatial size ``out_hw``: the adjoint of ``convolution`` in its input."""
    y = conv_transpose_array(input._data, weight._data, None if bias is None else bias._data,
                             stride, padding, out_hw, dilation, groups)
    return make_result(y, _convolution_transpose, _inputs(input, weight, bias),
                       (stride, padding, dilation, groups))


def convolution_weight(input: Tensor, grad_output: Tensor, weight_shape: tuple, stride: tuple,
                       padding: tuple, dilation: tuple, groups: int, cols=None) -> Tensor:
    """The gradient of ``convolution`` in its weight (``torch.nn.grad.conv2d_weight``), as an op:
    ``cols`` may pass the input's windows when the forward already made them."""
    dw = conv_weight_array(input._data, grad_output._data, weight_shape, stride, padding,
                           dilation, groups, cols)
    return make_result(dw, _convolution_weight, (input, grad_output),
                       (stride, padding, dilation, groups))


register("convolution", conv_array, convolution)
register("convolution_transpose", conv_transpose_array, convolution_transpose)
register("convolution_weight", conv_weight_array, convolution_weight)
