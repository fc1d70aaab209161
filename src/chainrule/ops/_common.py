"""Shared plumbing of the op modules: argument conversion, type promotion and constants."""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import Tensor, make_result, wrap

__all__ = ["Tensor", "make_result", "wrap", "operands", "as_tensor", "constant", "shape_str",
           "normalize_dim", "normalize_dims", "as_array", "any_true", "all_true", "all_samples", "lift_like",
           "zeros_for", "full_for", "copy_for", "any_batched", "map_stacked"]

_CONSTANTS: dict = {}


def constant(value, np_dtype) -> Tensor:
    """A cached 0-d constant tensor (Python numbers in ops become these; they never require grad)."""
    key = (value, np_dtype)
    t = _CONSTANTS.get(key)
    if t is None:
        t = wrap(np.array(value, dtype=np_dtype))
        if value == value and value != 0 and len(_CONSTANTS) < 4096:  # skip nan and +-0.0
            _CONSTANTS[key] = t
    return t


def as_array(value, dtype=None):
    """``np.asarray(value, dtype)`` for op results (NumPy gives scalars for 0-d results), except that
    a duck array that dispatches NumPy functions itself (vmap's batched array) is kept as it is
    (cast to ``dtype``): converting it would drop its batch."""
    if type(value) is np.ndarray or (not isinstance(value, np.generic)
                                     and hasattr(value, "__array_function__")):
        return value if dtype is None or value.dtype == dtype else value.astype(dtype)
    return np.asarray(value, dtype=dtype)


# ---- vmap: the few places where an op's NumPy code needs to know about batched arrays ------------
# Under chainrule.func.vmap, arrays may be batched (duck arrays with ``_raw``/``_lift``, from
# chainrule.func._batched). NumPy's dispatch batches nearly everything; these helpers cover the rest:
# validation checks that read values, and fresh buffers that batched values are written into.
def _batched(v) -> bool:
    return type(v) is not np.ndarray and hasattr(v, "_raw")


_PLAIN = frozenset({np.ndarray, int, float, bool, slice, type(None), type(Ellipsis), np.bool_,
                    np.int64, np.intp, np.float64, np.float32})


def _most_batched(values):
    """The batched array of the largest vmap level among ``values`` (index tuples searched too)."""
    best = None
    for v in values:
        t = type(v)
        if t in _PLAIN:
            continue
        if t is tuple:
            v = _most_batched(v)
            if v is None:
                continue
        elif not hasattr(v, "_raw"):
            continue
        if best is None or v._level > best._level:
            best = v
    return best


def all_samples(a) -> np.ndarray:
    """``a`` as a plain array for a validation check (min/max/any); under vmap, every sample's
    values (the batch dims in front), so that the check covers the whole batch."""
    return a._raw() if _batched(a) else a


def lift_like(x, *values):
    """``x``, or, when ``values`` (index arrays) are batched more than ``x``, ``x`` broadcast over
    their batch (a read-only view), so that NumPy indexing with them dispatches."""
    like = _most_batched(values)
    if like is None or (_batched(x) and x._level >= like._level):
        return x
    return like._lift(x)


def zeros_for(shape, dtype, *values):
    """``np.zeros(shape, dtype)`` that ``values`` (arrays, index tuples) will be written into:
    under vmap, batched like the most batched of them."""
    like = _most_batched(values)
    if like is None:
        return np.zeros(shape, dtype)
    return np.zeros_like(like, dtype=dtype, shape=shape)


def full_for(shape, dtype, fill, *values):
    """``np.full(shape, fill, dtype)`` that ``values`` will be written into (see ``zeros_for``)."""
    like = _most_batched(values)
    if like is None:
        return np.full(shape, fill, dtype)
    return np.full_like(like, fill, dtype=dtype, shape=shape)


def copy_for(x, *values):
    """``x.copy()`` that ``values`` (arrays, index tuples) will be written into: under vmap,
    batched like the most batched of ``x`` and them."""
    like = _most_batched(values)
    if like is None or (_batched(x) and x._level >= like._level):
        return x.copy()
    out = np.zeros_like(like, dtype=x.dtype, shape=x.shape)
    out[...] = x
    return out


def any_batched(*values) -> bool:
    """Whether any of ``values`` (arrays, index tuples) is a vmap-batched array."""
    return _most_batched(values) is not None


def map_stacked(fn, arrays: tuple, cores: tuple):
    """``fn(*arrays)`` for a kernel that NumPy's dispatch cannot batch (SciPy, LAPACK wrappers,
    Python loops with writes into fresh buffers) but that treats every leading dim as a stack dim.

    ``cores[i]``: how many trailing dims of ``arrays[i]`` are its core (2 for a matrix, 0 for a
    per-matrix scalar). Under vmap, ``fn`` runs once on the physical batch, the vmap batch dim being
    one more stack dim: every array gets the batch dim in front of equal (broadcast) stack dims,
    and ``fn``'s array results are read back as batched. ``fn`` is called again, one level
    further in, while an argument is still batched at an outer level, so it must take this path
    itself whenever ``any_batched`` is true of its arguments.
    """
    like = _most_batched(arrays)
    if like is None:
        return fn(*arrays)
    return like._map_stacked(fn, arrays, cores)


def any_true(mask) -> bool:
    """``bool(mask.any())``, for a validation check or a fast-path choice that any element may decide.

    Under vmap ``mask`` is batched and Python's ``if`` cannot take one answer per sample: this asks
    whether any sample has a true element (raise if any sample is invalid; take the general path
    if any sample needs it), which is what each sample's own check would conclude for the batch.
    """
    if isinstance(mask, Tensor):
        mask = mask._data
    if _batched(mask):
        mask = mask._raw()
    return bool(mask.any())


def all_true(mask) -> bool:
    """``bool(mask.all())``: under vmap, whether every element of every sample is true (see
    ``any_true``)."""
    if isinstance(mask, Tensor):
        mask = mask._data
    if _batched(mask):
        mask = mask._raw()
    return bool(mask.all())


def as_tensor(x, who: str = "") -> Tensor:
    """A Tensor argument as is; a number, list or array as a constant tensor."""
    if type(x) is Tensor or isinstance(x, Tensor):
        return x
    from .creation import _to_array

    try:
        return wrap(_to_array(x, None, copy=False))
    except (TypeError, ValueError) as e:
        raise TypeError(f"{who}: expected a Tensor or a number, got {type(x).__name__}") from e


def _cast(t: Tensor, np_dtype) -> Tensor:
    if t._data.dtype == np_dtype:
        return t
    from .creation import to

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


_NUMBERS = (bool, int, float, np.number, np.bool_)


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
        return (normalize_dim(dim, ndim, who),) if ndim else ()
    dims = tuple(sorted(normalize_dim(d, ndim, who) for d in dim))
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{who}: dim {tuple(dim)} appears multiple times in the list of dims")
    return dims if ndim else ()
