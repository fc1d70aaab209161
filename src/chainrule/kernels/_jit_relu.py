"""ReLU and its derivative, compiled (imported through ``kernels.jit.load``): one pass each.

Flat C-contiguous arrays of one length and dtype; each kernel writes ``out``.
"""

from __future__ import annotations

from numba import njit


@njit(nogil=True, cache=True, error_model="numpy")
def relu(x, out):
    """``max(x, 0)`` as torch's: NaN stays NaN, -0.0 stays -0.0 (only ``x < 0`` becomes 0)."""
    zero = x.dtype.type(0)
    for i in range(x.size):
        v = x[i]
        out[i] = zero if v < zero else v


@njit(nogil=True, cache=True, error_model="numpy")
def relu_grad(g, y, out):
    """torch's ``threshold_backward(g, y, 0)``: 0 where the output ``y <= 0``, else ``g`` (a NaN
    output passes ``g``; an infinite ``g`` where ``y <= 0`` gives 0, not NaN)."""
    zero = g.dtype.type(0)
    for i in range(g.size):
        out[i] = zero if y[i] <= zero else g[i]
