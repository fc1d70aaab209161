"""In-place arithmetic outside grad mode, written straight into the tensor's memory.

The manual SGD update ``p -= lr * p.grad`` under ``no_grad`` and an optimizer's ``add_`` record
nothing, so they need not go through the general in-place path (``ops/inplace.py``: the result
computed out of place, then copied in). ``Tensor``'s ``+=``, ``-=``, ``*=``, ``/=``, ``add_``,
``sub_`` and ``mul_`` try this first.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import blas as _blas

from ._fpe import quiet_numpy
from .autograd._tables import FORWARD
from .autograd.grad_mode import GRAD, GRAD_OFF, INFERENCE_VERSION

__all__ = ["inplace_no_grad", "no_grad_alpha"]

try:  # NumPy >= 2: the context variable behind np.errstate (see chainrule._fpe)
    from ._fpe import _IGNORE, _reset, _set
except ImportError:  # pragma: no cover - a NumPy that moved it: the context manager instead
    _set = None

#: the dtypes whose in-place arithmetic outside grad mode skips the general path (half types
#: compute in float32 there and round once, as torch does)
_FAST_DTYPES = frozenset((np.dtype(np.float32), np.dtype(np.float64)))
#: at or above this many elements, ``x.add_(y, alpha=a)`` is one BLAS axpy (in place, one pass:
#: 0.26 ms against NumPy's 0.50 ms for ``x += a * y`` on 400k float32); below, NumPy's call is cheaper
_AXPY_MIN = 4096
_AXPY = {np.dtype(np.float32): _blas.saxpy, np.dtype(np.float64): _blas.daxpy}


def inplace_no_grad(self, other, ufunc, alpha=None) -> bool:
    """``self <ufunc>= other`` (``self += alpha * other`` with ``alpha``) written straight into
    ``self``'s memory, when nothing is recorded (``no_grad``, as in the manual SGD update ``p -= lr *
    p.grad``): returns False, having done nothing, where the general path must run.

    The general path (``ops/inplace.py``) computes the result out of place and copies it in: two
    passes and a temporary; this is one pass (measured on the MLP 784-512-512-10's parameters: 0.44
    ms against 0.90 ms per update). Only for the plain cases: a float32/float64 NumPy array, writable,
    not an inference tensor, no forward-mode level open, and ``other`` a number or a tensor of the
    same dtype and shape (or 0-d); everything else (broadcasting errors, casts, views that cannot be
    written) keeps the general path's behaviour and messages. NumPy's ufuncs give the result as if
    ``other`` did not overlap ``self`` (``p -= p.T``), and the version counter is bumped as there.
    """
    data = self._data
    if (
        type(data) is not np.ndarray
        or data.dtype not in _FAST_DTYPES
        or self._vc is INFERENCE_VERSION
        or FORWARD.active
        or not data.flags.writeable
    ):
        return False
    kind = type(other)
    if kind is float or kind is int:
        value = other
    elif hasattr(other, "_data"):  # a Tensor (this module sits below the Tensor class)
        value = other._data
        if (
            type(value) is not np.ndarray
            or value.dtype != data.dtype
            or (value.shape != data.shape and value.ndim)
        ):
            return False
    else:
        return False
    if _set is None:  # pragma: no cover
        with quiet_numpy():
            _apply(data, value, ufunc, alpha)
    else:
        token = _set(_IGNORE)
        try:
            _apply(data, value, ufunc, alpha)
        finally:
            _reset(token)
    vc = self._vc
    if vc is None:
        self._vc = [1]
    else:
        vc[0] += 1
    return True


def _apply(data: np.ndarray, value, ufunc, alpha) -> None:
    if alpha is None:
        ufunc(data, value, out=data)
    elif (
        type(value) is np.ndarray
        and value.size >= _AXPY_MIN
        and value.shape == data.shape
        and data.flags.c_contiguous
        and value.flags.c_contiguous
        and not np.may_share_memory(data, value)
    ):
        _AXPY[data.dtype](value.reshape(-1), data.reshape(-1), a=-alpha if ufunc is np.subtract else alpha)
    else:
        ufunc(data, np.multiply(value, data.dtype.type(alpha)), out=data)


def no_grad_alpha(alpha):
    """``alpha`` of ``add_``/``sub_`` for ``inplace_no_grad``: None for 1, the number otherwise, and
    False where the general path must run (a tensor ``alpha``, a bool, or grad mode on)."""
    if not GRAD_OFF.count or GRAD._enabled:
        return False
    kind = type(alpha)
    if kind is not int and kind is not float:
        return False
    return None if alpha == 1 else alpha
