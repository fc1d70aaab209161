"""Shared plumbing of the op modules: argument conversion, type promotion and constants, and the
array-namespace helpers of ``chainrule.backend`` that ops use."""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._record import make_result, save_outputs
from .._tensor import Tensor, wrap
from ..backend import all_samples, any_batched, copy_for, full_for, lift_like, map_stacked, zeros_for
from ..backend import all_true as _all_true
from ..backend import any_true as _any_true
from .creation import _to_array, to

__all__ = [
    "Tensor",
    "make_result",
    "save_outputs",
    "wrap",
    "operands",
    "as_tensor",
    "constant",
    "shape_str",
    "normalize_dim",
    "normalize_dims",
    "as_array",
    "any_true",
    "all_true",
    "all_samples",
    "lift_like",
    "zeros_for",
    "full_for",
    "copy_for",
    "any_batched",
    "map_stacked",
]

_CONSTANTS: dict = {}


def constant(value, np_dtype) -> Tensor:
    """A cached 0-d constant tensor (Python numbers in ops become these; they never require grad)."""
    key = (value, np_dtype)
    t = _CONSTANTS.get(key)
    if t is None:
        t = wrap(np.array(value, dtype=np_dtype))
        # skip nan and +-0.0; and the half dtypes: their ops with numbers compute in float32 (the
        # elementwise fast paths look for a cached constant first)
        # and never one made under inference_mode: it is an inference tensor, which ops outside
        # inference mode may not save for backward
        if (
            value == value
            and value != 0
            and len(_CONSTANTS) < 4096
            and t._data.itemsize > 2
            and t._vc is None
        ):
            _CONSTANTS[key] = t
    return t


def as_array(value, dtype=None):
    """``np.asarray(value, dtype)`` for op results (NumPy gives scalars for 0-d results), except that
    a duck array that dispatches NumPy functions itself (vmap's batched array) is kept as it is
    (cast to ``dtype``): converting it would drop its batch."""
    if type(value) is np.ndarray or (
        not isinstance(value, np.generic) and hasattr(value, "__array_function__")
    ):
        return value if dtype is None or value.dtype == dtype else value.astype(dtype)
    return np.asarray(value, dtype=dtype)


# ---- what NumPy's dispatch cannot express: through the array-namespace seam of chainrule.backend ----
# (plain NumPy by default; an extending array type, such as vmap's batched array, registers its own)
def any_true(mask) -> bool:
    """``bool(mask.any())`` of an array or a Tensor's data (see ``chainrule.backend.any_true``)."""
    if isinstance(mask, Tensor):
        mask = mask._data
    return _any_true(mask)


def all_true(mask) -> bool:
    """``bool(mask.all())`` of an array or a Tensor's data (see ``chainrule.backend.all_true``)."""
    if isinstance(mask, Tensor):
        mask = mask._data
    return _all_true(mask)


def as_tensor(x, who: str = "") -> Tensor:
    """A Tensor argument as is; a number, list or array as a constant tensor."""
    if type(x) is Tensor or isinstance(x, Tensor):
        return x

    try:
        return wrap(_to_array(x, None, copy=False))
    except (TypeError, ValueError) as e:
        raise TypeError(f"{who}: expected a Tensor or a number, got {type(x).__name__}") from e


def _cast(t: Tensor, np_dtype) -> Tensor:
    if t._data.dtype == np_dtype:
        return t

    return to(t, np_dtype)


def operands(a, b):
    """Both operands of a binary op as tensors of one dtype, promoted as torch does.

    Fast paths for the common cases (same dtype; a float tensor with a Python number) skip the
    general promotion.
    """
    ta = type(a)
    tb = type(b)
    if ta is Tensor:
        if tb is Tensor:
            if a._data.dtype == b._data.dtype:
                return a, b
        elif tb is float or tb is int:
            dt = a._data.dtype
            if dt.kind == "f" or (tb is int and dt.kind in "iu"):
                return a, constant(b, dt)
    elif tb is Tensor and (ta is float or ta is int):
        dt = b._data.dtype
        if dt.kind == "f" or (ta is int and dt.kind in "iu"):
            return constant(a, dt), b
    if not isinstance(a, Tensor) and not isinstance(a, _NUMBERS):
        a = as_tensor(a)
    if not isinstance(b, Tensor) and not isinstance(b, _NUMBERS):
        b = as_tensor(b)
    target = _dtype.result_type(a, b)
    a = _cast(a, target) if isinstance(a, Tensor) else constant(a, target)
    b = _cast(b, target) if isinstance(b, Tensor) else constant(b, target)
    return a, b


_NUMBERS = (bool, int, float, complex, np.number, np.bool_)


def shape_str(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def normalize_dim(dim: int, ndim: int, who: str) -> int:
    """A possibly negative dim as an index into ``ndim`` dimensions (IndexError like torch)."""
    lo = -max(ndim, 1)
    hi = max(ndim, 1) - 1
    if not lo <= dim <= hi:
        raise IndexError(
            f"{who}: Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})"
        )
    return dim + max(ndim, 1) if dim < 0 else dim


def normalize_dims(dim, ndim: int, who: str) -> tuple | None:
    """``dim`` (None, an int, or a sequence) as a sorted tuple of non-negative axes, or None."""
    if dim is None:
        return None
    if isinstance(dim, int):
        axis = normalize_dim(dim, ndim, who)  # a 0-d tensor takes dims 0 and -1 only, as in torch
        return (axis,) if ndim else ()
    dims = tuple(sorted(normalize_dim(d, ndim, who) for d in dim))
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{who}: dim {tuple(dim)} appears multiple times in the list of dims")
    return dims if ndim else ()
