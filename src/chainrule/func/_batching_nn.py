"""Batching rules for the convolution and pooling kernels, whose NumPy code (``as_strided``
windows, fresh buffers filled in place) cannot dispatch: registered below as the implementations
of ``chainrule.kernels``' conv and pool kernels for batched arrays (``backend.register_kernel``).

Every kernel works on ``(N, C, H, W)`` images, so the vmap batch folds into ``N`` (one call on
``B * N`` images). A batched weight (per-sample weights, or a per-sample weight gradient) uses
torch's trick: the batch folds into the channels and the groups, ``B * groups`` groups in one call.
"""

from __future__ import annotations

import numpy as np

from ..backend import register_kernel
from ..kernels import conv as K
from ..kernels import pool as P
from ._batched import BatchedArray, level_of, lift

__all__ = [
    "conv",
    "conv_weight",
    "conv_transpose",
    "pool_windows",
    "max_pool_backward",
    "max_pool_indices",
    "max_pool_flat_index",
    "avg_pool_backward",
]


def _top(x, level: int) -> bool:
    return type(x) is BatchedArray and x._level == level


def _fold(x, level: int, size: int, axis: int = 0):
    """The physical batch of ``x`` with the batch folded into its logical ``axis`` (B * n)."""
    p = lift(x, level, size)._p
    if axis:
        p = np.moveaxis(p, 0, axis)
    s = p.shape
    return p.reshape(s[:axis] + (s[axis] * s[axis + 1],) + s[axis + 2 :])


def _unfold(y, level: int, size: int, axis: int = 0) -> BatchedArray:
    """The inverse of ``_fold``: ``y``'s ``axis`` (B * n) split, the batch moved to the front."""
    s = y.shape
    y = y.reshape(s[:axis] + (size, s[axis] // size) + s[axis + 1 :])
    if axis:
        y = np.moveaxis(y, axis, 0)
    return BatchedArray(y, level)


def _to_channels(x, level: int, size: int):
    """(N, C, H, W) batched -> (N, B * C, H, W): the batch folded into the channels."""
    p = lift(x, level, size)._p  # (B, N, C, H, W)
    n, c = p.shape[1], p.shape[2]
    return np.swapaxes(p, 0, 1).reshape((n, size * c) + p.shape[3:])


def _from_channels(y, level: int, size: int) -> BatchedArray:
    """(N, B * C, H, W) -> batched (N, C, H, W)."""
    n, bc = y.shape[:2]
    return BatchedArray(np.swapaxes(y.reshape((n, size, bc // size) + y.shape[2:]), 0, 1), level)


def _add_bias(y: BatchedArray, b):
    if b is None:
        return y
    return y + np.reshape(b, (1, -1, 1, 1))


def conv(x, w, b, stride, padding, out_hw, dilation, groups):
    """``conv_array`` for batched arguments."""
    level, size = level_of((x, w, b))
    if not _top(w, level):  # the batch folds into N
        y = _unfold(
            K.conv_array(
                _fold(x, level, size),
                w,
                None if _top(b, level) else b,
                stride,
                padding,
                out_hw,
                dilation,
                groups,
            ),
            level,
            size,
        )
        return _add_bias(y, b) if _top(b, level) else y
    wp = w._p  # per-sample weights: the batch folds into the channels and the groups
    wg = wp.reshape((size * wp.shape[1],) + wp.shape[2:])
    yc = K.conv_array(
        _to_channels(x, level, size), wg, None, stride, padding, out_hw, dilation, size * groups
    )
    return _add_bias(_from_channels(yc, level, size), b)


def conv_weight(x, g, weight_shape, stride, padding, dilation, groups):
    """``conv_weight_array`` for batched arguments: one weight gradient per sample."""
    level, size = level_of((x, g))
    shape = (size * weight_shape[0],) + tuple(weight_shape[1:])
    dw = K.conv_weight_array(
        _to_channels(x, level, size),
        _to_channels(g, level, size),
        shape,
        stride,
        padding,
        dilation,
        size * groups,
    )
    return BatchedArray(dw.reshape((size,) + tuple(weight_shape)), level)


def conv_transpose(x, w, b, stride, padding, out_hw, dilation, groups):
    """``conv_transpose_array`` for batched arguments."""
    level, size = level_of((x, w, b))
    if not _top(w, level):
        y = _unfold(
            K.conv_transpose_array(
                _fold(x, level, size),
                w,
                None if _top(b, level) else b,
                stride,
                padding,
                out_hw,
                dilation,
                groups,
            ),
            level,
            size,
        )
        return _add_bias(y, b) if _top(b, level) else y
    wp = w._p
    wg = wp.reshape((size * wp.shape[1],) + wp.shape[2:])
    yc = K.conv_transpose_array(
        _to_channels(x, level, size), wg, None, stride, padding, out_hw, dilation, size * groups
    )
    return _add_bias(_from_channels(yc, level, size), b)


# ---- pooling: every kernel is per image, so the batch folds into N --------------------------------
def pool_windows(geom, x, fill):
    """``Pool.windows``: (kh * kw, N, C, Ho, Wo), N at axis 1."""
    level, size = level_of((x,))
    return _unfold(geom.windows(_fold(x, level, size), fill), level, size, axis=1)


def max_pool_backward(g, geom, t):
    level, size = level_of((g, t))
    return _unfold(
        P.max_pool_backward_array(_fold(g, level, size), geom, _fold(t, level, size, 1)), level, size
    )


def max_pool_indices(t, out, geom):
    level, size = level_of((t, out))
    return _unfold(P.max_pool2d_indices(_fold(t, level, size, 1), _fold(out, level, size), geom), level, size)


def avg_pool_backward(g, geom, divisor):
    level, size = level_of((g,))
    return _unfold(P.avg_pool_backward_array(_fold(g, level, size), geom, divisor), level, size)


def max_pool_flat_index(geom, t):
    """The flat index (into one sample's (N, C, H, W) input) of each window's maximum, batched:
    the differentiable max-pool backward (create_graph) scatters with it."""
    level, size = level_of((t,))
    tf = _fold(t, level, size, 1)  # (kh * kw, B * N, C, Ho, Wo)
    nb, c = tf.shape[1], tf.shape[2]
    if type(tf) is BatchedArray:  # a smaller level inside: its own batch of index arrays
        flat = max_pool_flat_index(geom, tf)
    else:
        flat = geom.flat_index(nb, c, P._max_positions(tf, P._window_max(tf), geom)).reshape(-1)
    per = (nb // size) * c * geom.in_hw[0] * geom.in_hw[1]  # one sample's input size
    return BatchedArray(flat.reshape((size, -1)) - (np.arange(size) * per)[:, None], level)


register_kernel(K.conv_array, BatchedArray, conv)
register_kernel(K.conv_weight_array, BatchedArray, conv_weight)
register_kernel(K.conv_transpose_array, BatchedArray, conv_transpose)
register_kernel(P.pool_windows, BatchedArray, pool_windows)
register_kernel(P.max_pool2d_indices, BatchedArray, max_pool_indices)
register_kernel(P.max_pool_backward_array, BatchedArray, max_pool_backward)
register_kernel(P.max_pool_flat_index, BatchedArray, max_pool_flat_index)
register_kernel(P.avg_pool_backward_array, BatchedArray, avg_pool_backward)
