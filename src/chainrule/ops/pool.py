"""2-d max and average pooling, as differentiable ops over a window-major copy of the input.

Each window of a pooling layer is a regular grid over the (padded) input: the elements that kernel
position ``(a, b)`` contributes to all windows form one strided view. Forward copies these views
into one contiguous ``(kh * kw, N, C, Ho, Wo)`` array (a single strided copy, no loop over
pixels), so that the max (or sum) over windows is a reduction over its first axis, one vectorised
operation on contiguous memory. Windows that tile the input (stride = kernel, no padding or
dilation: the usual 2x2 stride 2) skip that copy: max pooling keeps a running maximum over the
kernel's strided views and saves only each maximum's position (``kernels.pool.Argmax``, 1 byte per
output), average pooling sums the views.

* max pooling: ``dl/dx`` gets ``dl/dy`` at each window's maximum, chosen as torch chooses it (the
  first maximum in row-major window order, the last NaN if any; padding never); the gradient is a
  scatter to flat indices, whose adjoint (the second derivative) is a gather;
* average pooling: ``dl/dx`` spreads ``dl/dy / divisor`` over each window; it is linear, so its own
  derivative is a transposed convolution with a kernel of ones.

Geometry is explicit: ``kernel``, ``stride``, ``padding`` (before; after as far as windows reach),
``dilation``, the output size ``out_hw``; ``nn.functional`` computes it from torch's arguments.
"""

from __future__ import annotations

import numpy as np

from ..autograd.graph import defop
from ..autograd.math import register
from ..kernels.pool import (
    Pool,
    _lowest,
    _window_max,
    avg_pool_array,
    avg_pool_backward_array,
    max_pool2d_indices,
    max_pool_backward_array,
    max_pool_flat_index,
    max_pool_tiled,
)
from ._common import Tensor, make_result, wrap
from .conv import convolution_transpose
from .index import index_put_zeros
from .shape import reshape

__all__ = ["Pool", "max_pool2d", "avg_pool2d", "max_pool2d_indices"]  # (Pool and the indices: kernels)


def max_pool_backward(g: Tensor, geom: Pool, t: np.ndarray) -> Tensor:
    """Differentiable ``max_pool_backward_array``: a scatter whose adjoint is a gather."""
    N, C = g._data.shape[:2]
    idx = max_pool_flat_index(geom, t)
    size = N * C * geom.in_hw[0] * geom.in_hw[1]
    dx = index_put_zeros((size,), (idx,), reshape(g, (-1,)))
    return reshape(dx, (N, C) + geom.in_hw)


# the node keeps its own copy of the windows: the input and the output may change in place later
@defop("max_pool2d", saves_inputs=False, formula="{g0} = {gy} at each window's maximum, 0 elsewhere")
def _max_pool2d(F, g, xs, out, p, needs):
    return (F.max_pool2d_backward(g, p[0], p[1]),)


def max_pool2d(input: Tensor, geom: Pool) -> tuple[Tensor, np.ndarray]:
    """Max pooling of ``input`` (N, C, H, W) over the windows of ``geom`` (arguments unchecked);
    returns the output and the windows or their ``Argmax`` (for ``max_pool2d_indices``)."""
    x = input._data
    if type(x) is np.ndarray and geom.tiles and x.size:
        y, argmax = max_pool_tiled(x, geom)
        return make_result(y, _max_pool2d, (input,), (geom, argmax)), argmax
    t = geom.windows(x, _lowest(x.dtype))
    return make_result(_window_max(t), _max_pool2d, (input,), (geom, t)), t


def avg_pool_backward(g: Tensor, geom: Pool, divisor) -> Tensor:
    """Differentiable ``avg_pool_backward_array``: a transposed convolution with a kernel of ones
    per channel (groups = channels)."""
    C = g._data.shape[1]
    ones = wrap(np.ones((C, 1) + geom.kernel, dtype=g._data.dtype))
    share = g / (divisor if np.ndim(divisor) else float(divisor))
    return convolution_transpose(share, ones, None, geom.stride, geom.padding, geom.in_hw, geom.dilation, C)


@defop(
    "avg_pool2d",
    saves_inputs=False,
    formula="{g0} = sum over the windows holding each element of {gy} / window size",
)
def _avg_pool2d(F, g, xs, out, p, needs):
    return (F.avg_pool2d_backward(g, p[0], p[1]),)


def avg_pool2d(input: Tensor, geom: Pool, divisor) -> Tensor:
    """Average pooling of ``input`` (N, C, H, W): window sums over ``divisor`` (arguments unchecked)."""
    return make_result(avg_pool_array(input._data, geom, divisor), _avg_pool2d, (input,), (geom, divisor))


register("max_pool2d_backward", max_pool_backward_array, max_pool_backward)
register("avg_pool2d_backward", avg_pool_backward_array, avg_pool_backward)
