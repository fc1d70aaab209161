"""ReLU and its first derivative on float arrays, in one pass each (``ops.elementwise``'s relu).

The derivative is torch's ``threshold_backward``: ``0 where y <= 0 else g``, a select rather than
the product ``g * (y > 0)``, which made NaN where ``g`` is infinite and ``y`` is 0, and 0 where
``y`` is NaN (torch passes ``g`` there). NumPy's select (``np.where``) ran 3x slower than a
product with a mask (41 ms against 12 on 8M float32), so the NumPy path multiplies unless ``g``
holds infinities or NaNs. The compiled kernels (``_jit_relu``) read each input once and run the
two halves of a large array on two threads (``kernels.halves``).
"""

from __future__ import annotations

import numpy as np

from . import jit
from .halves import MIN_ONE_PASS, run_in_halves

__all__ = ["relu_array", "relu_grad_array"]

_FLOATS = frozenset((np.dtype(np.float32), np.dtype(np.float64)))
_ZEROS = {np.dtype(t): np.zeros((), dtype=t) for t in (np.float16, np.float32, np.float64)}
_ALIGN = 1 << 12


def _flat(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1) if a.flags.c_contiguous else np.ascontiguousarray(a).reshape(-1)


def relu_array(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)`` of a float ndarray (NaN and -0.0 kept, as torch's)."""
    compiled = jit.load("_jit_relu") if x.dtype in _FLOATS and x.size >= _ALIGN else None
    if compiled is None:
        # against a 0-d zero of x's dtype: 0.54 us on 16 floats where a Python 0 (cast per
        # call) or a full array of zeros costs 1.6 us; on 2M float32 1.4 ms against 10.6 ms
        # for the array of zeros (calloc's fresh pages)
        return np.maximum(x, _ZEROS[x.dtype])
    out = np.empty(x.shape, x.dtype)
    flat_x, flat_out = _flat(x), out.reshape(-1)
    run_in_halves(lambda a, b: compiled.relu(flat_x[a:b], flat_out[a:b]), flat_x.size, _ALIGN, MIN_ONE_PASS)
    return out


def relu_grad_array(g: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``0 where y <= 0 else g`` (``g`` and ``y`` ndarrays of one shape)."""
    dtype = g.dtype
    compiled = None
    if dtype in _FLOATS and y.dtype == dtype and g.size >= _ALIGN and g.shape == y.shape:
        compiled = jit.load("_jit_relu")
    if compiled is None:
        keep = ~np.less_equal(y, 0)  # (y > 0 or NaN)
        if np.isfinite(g).all():
            return np.multiply(g, keep)
        # an infinite or NaN g where y <= 0 must give 0, not the product's NaN (np.where with a
        # 0-d zero took 41 ms on 8M float32 against the product's 12 ms: only for these)
        return np.where(keep, g, _ZEROS.get(dtype, 0))
    out = np.empty(g.shape, dtype)
    flat_g, flat_y, flat_out = _flat(g), _flat(y), out.reshape(-1)
    run_in_halves(
        lambda a, b: compiled.relu_grad(flat_g[a:b], flat_y[a:b], flat_out[a:b]),
        flat_g.size,
        _ALIGN,
        MIN_ONE_PASS,
    )
    return out
