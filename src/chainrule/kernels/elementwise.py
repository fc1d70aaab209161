"""Element-wise kernels on arrays that NumPy lacks: ``erf``/``erfc`` and a stable ``sigmoid``; used by
the ops (``chainrule.ops.special``, ``elementwise``, ``activation``), by the array math of derivative
rules (``chainrule.autograd.math``) and by ``nn.init``.

NumPy has no ``erf``: ``erf_array`` and ``erfc_array`` call SciPy's ufuncs (Cephes' ``ndtr.c``),
one pass in the array's own float dtype. (A rational form written with NumPy needed ~15 full-size
float64 temporaries, which dominated a GELU network's peak memory, and ran 10x slower.)
"""

from __future__ import annotations

import numpy as np
import scipy.special as _special

from ..backend import is_extended, map_elementwise

__all__ = ["erf_array", "erfc_array", "sigmoid_array", "is_basic_index"]


def sigmoid_array(x):
    """``1 / (1 + exp(-x))``, evaluating exp of a negative number only, so extreme inputs neither
    overflow nor lose precision."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def is_basic_index(index) -> bool:
    """Basic indexing (ints, slices, None, Ellipsis) makes views and never repeats an element."""
    items = index if type(index) is tuple else (index,)
    for i in items:
        t = type(i)
        if t is not slice and t is not int and i is not None and i is not Ellipsis:
            return False
    return True


def erf_array(x: np.ndarray) -> np.ndarray:
    """``erf`` of an array, in ``x``'s float dtype (float64 for integers and bools)."""
    if type(x) is not np.ndarray and is_extended(x):
        return map_elementwise(erf_array, x)
    return _in_float(_special.erf, x)


def erfc_array(x: np.ndarray) -> np.ndarray:
    """``1 - erf(x)`` without the cancellation for large x, in ``x``'s float dtype."""
    if type(x) is not np.ndarray and is_extended(x):
        return map_elementwise(erfc_array, x)
    return _in_float(_special.erfc, x)


def _in_float(ufunc, x: np.ndarray) -> np.ndarray:
    if x.dtype == np.float32 or x.dtype == np.float64:
        return ufunc(x)
    if x.dtype.kind == "f":  # float16: SciPy computes in float32
        return ufunc(x.astype(np.float32)).astype(x.dtype)
    return ufunc(np.asarray(x, dtype=np.float64))
