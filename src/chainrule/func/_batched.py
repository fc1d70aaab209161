"""The batched array behind ``vmap``: a NumPy duck array that carries one vmap level's batch dim.

Every chainrule op computes with NumPy on ``tensor._data``. Inside ``vmap`` that ``_data`` is a
``BatchedArray``: it holds the *physical* value (an ndarray, or the ``BatchedArray`` of an outer
vmap level) with the batch dim in front, and presents the *logical* value, one sample, to the code
that uses it (``.shape``, ``.ndim``, ``.dtype`` ... leave the batch dim out). NumPy's dispatch
protocols (``__array_ufunc__``, NEP 13, and ``__array_function__``, NEP 18) route each NumPy call
the ops make to a batching rule that runs ONE NumPy call on the whole physical batch; the ops'
forward code and their derivative rules are thus batched without knowing it.

Levels: every vmap call gets a fresh level number, larger than any level alive when it starts, so
an inner vmap's level is larger than its outer one's. An operation sees the largest level among
its operands; operands at a smaller level (or plain arrays) are *unbatched* at that level, and
their NumPy calls dispatch again, level by level. A ``BatchedArray`` keeps levels decreasing from
the outside in (its physical value is only ever batched at smaller levels).

This module holds the class, the level helpers, the dispatch tables (``RULES``, ``IMPL``) and the
looping fallback; the rule modules fill the tables when ``vmap`` imports them: ``_batching_ufunc``
(ufuncs, matmul, ufunc methods), ``_batching_index`` (indexing, writes), ``_batching_rules``
(reductions, element-wise functions), ``_batching_shape`` (shape functions, joins, creation),
``_batching_linalg`` (np.linalg, einsum, dot), ``_batching_nn`` (the conv and pooling kernels of
``chainrule.kernels``, through ``chainrule.backend``); the ndarray methods are in
``_batching_methods``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from ._batching_methods import NdarrayMethods

__all__ = [
    "BatchedArray",
    "batched",
    "RULES",
    "rule",
    "level_of",
    "lift",
    "physical",
    "add_batch_dim",
    "remove_batch_dim",
    "normalize_axis",
    "normalize_axes",
    "data_dependent_error",
]

#: NumPy function -> batching rule (called with the function's own arguments)
RULES: dict[Callable, Callable] = {}


class _Implementations:
    """The rules that ``BatchedArray``'s protocols and operators call (ufuncs, indexing), set by
    ``_batching_ufunc`` and ``_batching_index`` as they load: they import this module, not the
    other way round (``vmap`` imports every rule module)."""

    __slots__ = (
        "elementwise",
        "gufunc",
        "matmul",
        "outer",
        "reduce_method",
        "ufunc_at",
        "getitem",
        "setitem",
    )


IMPL = _Implementations()
_WARNED: set = set()

_DATA_DEPENDENT = (
    "vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow "
    "({what}). We don't support that: the value differs from sample to sample; compute both "
    "branches and choose with where(), or move this code out of vmap."
)


def data_dependent_error(what: str) -> RuntimeError:
    return RuntimeError(_DATA_DEPENDENT.format(what=what))


def rule(*funcs: Callable):
    """Decorator: register the batching rule of the NumPy functions ``funcs``."""

    def register(fn: Callable) -> Callable:
        for f in funcs:
            RULES[f] = fn
        return fn

    return register


class _Flags:
    """The ndarray flags the library reads (``c_contiguous``, ``writeable`` ...) of a batched array."""

    __slots__ = ("_p",)

    def __init__(self, p) -> None:
        self._p = p

    def __getattr__(self, name: str):
        if name in (
            "c_contiguous",
            "contiguous",
            "f_contiguous",
            "writeable",
            "aligned",
            "owndata",
            "fortran",
            "writebackifcopy",
        ):
            return getattr(self._p.flags, name)
        raise AttributeError(name)

    def __getitem__(self, name: str):
        return self._p.flags[name]


class BatchedArray(NdarrayMethods):
    """One vmap level's batch of arrays, seen by NumPy code as a single (logical) array.

    Parameters
    ----------
    physical : the batch, an ndarray (or a ``BatchedArray`` of a smaller level) whose first dim
        is the batch dim.
    level : the vmap level this batch dim belongs to.
    """

    __slots__ = ("_p", "_level", "_b", "_shape")
    __array_priority__ = 500  # below Tensor's 1000: Tensor <op> BatchedArray stays a Tensor op

    def __init__(self, physical, level: int) -> None:
        self._p = physical
        self._level = level
        shape = physical.shape
        self._b = shape[0]
        self._shape = shape[1:]

    # ---- the logical array's attributes -------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self._shape

    @shape.setter
    def shape(self, value) -> None:  # ndarray's in-place reshape (raises when a copy is needed)
        value = (value,) if isinstance(value, int | np.integer) else tuple(value)
        self._p.shape = (self._b,) + value
        self._shape = self._p.shape[1:]

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def size(self) -> int:
        n = 1
        for s in self._shape:
            n *= s
        return n

    @property
    def dtype(self):
        return self._p.dtype

    @property
    def itemsize(self) -> int:
        return self._p.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self._p.itemsize

    @property
    def flags(self) -> _Flags:
        return _Flags(self._p)

    @property
    def base(self):
        """Not None when the physical batch is a view (ops use it to tell views from copies)."""
        return self._p.base

    @property
    def strides(self) -> tuple:
        return self._p.strides[1:]

    @property
    def T(self) -> BatchedArray:  # noqa: N802  (ndarray's name)
        return np.transpose(self)

    @property
    def mT(self) -> BatchedArray:  # noqa: N802
        if len(self._shape) < 2:
            raise ValueError(
                f"matrix transpose with ndim < 2 is undefined (a batched array of logical "
                f"shape {self._shape})"
            )
        return BatchedArray(np.swapaxes(self._p, -1, -2), self._level)

    @property
    def real(self) -> BatchedArray:
        return BatchedArray(self._p.real, self._level)

    @property
    def imag(self) -> BatchedArray:
        return BatchedArray(self._p.imag, self._level)

    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of unsized object (a 0-d batched array)")
        return self._shape[0]

    def __iter__(self):
        if not self._shape:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self._shape[0]))

    def __repr__(self) -> str:
        return f"BatchedArray(lvl={self._level}, bdim=0, value={self._p!r})"

    # ---- what cannot be batched ---------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise RuntimeError(
            f"vmap: this code path converts a batched array (logical shape {self._shape}, batch size "
            f"{self._b}) to a plain NumPy array (np.asarray, np.array, writing it into a fresh "
            "ndarray, scipy, or raw memory access such as as_strided), which vmap cannot batch. "
            "Use NumPy functions that dispatch (np.zeros_like(x, shape=...) instead of np.zeros, "
            "sliding_window_view instead of as_strided), or call this function outside vmap."
        )

    def __bool__(self) -> bool:
        raise data_dependent_error("bool() of a batched value")

    def item(self, *args):
        raise RuntimeError(
            "vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over "
            "calling .item() on a Tensor, please try to rewrite what you're doing with other "
            "operations."
        )

    def __float__(self) -> float:
        raise data_dependent_error("float() of a batched value")

    def __int__(self) -> int:
        raise data_dependent_error("int() of a batched value")

    def __index__(self) -> int:
        raise data_dependent_error("a batched value used as a Python index")

    def tolist(self):
        raise data_dependent_error(".tolist() of a batched value")

    # ---- NumPy's protocols ----------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__":
            if ufunc.signature is None:
                return IMPL.elementwise(ufunc, inputs, kwargs)
            if ufunc is np.matmul:
                return IMPL.matmul(inputs[0], inputs[1], kwargs)
            return IMPL.gufunc(ufunc, inputs, kwargs)
        if method == "reduce" or method == "accumulate":
            return IMPL.reduce_method(ufunc, method, inputs, kwargs)
        if method == "outer":
            return IMPL.outer(ufunc, inputs, kwargs)
        if method == "at":
            return IMPL.ufunc_at(ufunc, *inputs)
        return fallback(getattr(ufunc, method), inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        fn = RULES.get(func)
        if fn is None:
            return fallback(func, args, kwargs)
        return fn(*args, **kwargs)

    def _raw(self) -> np.ndarray:
        """The innermost physical ndarray: every sample of every level (for ``ops.any_true``)."""
        p = self._p
        while type(p) is BatchedArray:
            p = p._p
        return p

    def _lift(self, x) -> BatchedArray:
        """``x`` broadcast over this array's batch (a read-only view): for ``ops.lift_like``."""
        return lift(x, self._level, self._b)

    def _physical_axes(self, axis):
        """A logical ``axis`` argument (None, an int, a tuple) as the physical one."""
        return _shift(axis, self._shape)

    def _map_physical(self, fn: Callable):
        """``fn`` applied to the whole physical batch at once: the hook by which an element-wise
        kernel that NumPy's dispatch cannot batch (masks, fresh buffers) runs under vmap."""
        return BatchedArray(fn(self._p), self._level)

    # ---- indexing ------------------------------------------------------------------------------
    def __getitem__(self, index):
        return IMPL.getitem(self, index)

    def __setitem__(self, index, value) -> None:
        IMPL.setitem(self, index, value)

    # ---- operators: the ufunc rule directly (ndarray's operators defer the same way) ---------
    # one line per delegating method, so the table reads at a glance
    # fmt: off
    def __add__(self, o): return IMPL.elementwise(np.add, (self, o), {}) if _ok(o) else NotImplemented
    def __radd__(self, o): return IMPL.elementwise(np.add, (o, self), {}) if _ok(o) else NotImplemented
    def __sub__(self, o): return IMPL.elementwise(np.subtract, (self, o), {}) if _ok(o) else NotImplemented
    def __rsub__(self, o): return IMPL.elementwise(np.subtract, (o, self), {}) if _ok(o) else NotImplemented
    def __mul__(self, o): return IMPL.elementwise(np.multiply, (self, o), {}) if _ok(o) else NotImplemented
    def __rmul__(self, o): return IMPL.elementwise(np.multiply, (o, self), {}) if _ok(o) else NotImplemented
    def __truediv__(self, o):
        return IMPL.elementwise(np.true_divide, (self, o), {}) if _ok(o) else NotImplemented
    def __rtruediv__(self, o):
        return IMPL.elementwise(np.true_divide, (o, self), {}) if _ok(o) else NotImplemented
    def __floordiv__(self, o):
        return IMPL.elementwise(np.floor_divide, (self, o), {}) if _ok(o) else NotImplemented
    def __rfloordiv__(self, o):
        return IMPL.elementwise(np.floor_divide, (o, self), {}) if _ok(o) else NotImplemented
    def __mod__(self, o): return IMPL.elementwise(np.remainder, (self, o), {}) if _ok(o) else NotImplemented
    def __rmod__(self, o): return IMPL.elementwise(np.remainder, (o, self), {}) if _ok(o) else NotImplemented
    def __pow__(self, o): return IMPL.elementwise(np.power, (self, o), {}) if _ok(o) else NotImplemented
    def __rpow__(self, o): return IMPL.elementwise(np.power, (o, self), {}) if _ok(o) else NotImplemented
    def __matmul__(self, o): return IMPL.matmul(self, o, {}) if _ok(o) else NotImplemented
    def __rmatmul__(self, o): return IMPL.matmul(o, self, {}) if _ok(o) else NotImplemented
    def __and__(self, o): return IMPL.elementwise(np.bitwise_and, (self, o), {}) if _ok(o) else NotImplemented
    def __rand__(self, o):
        return IMPL.elementwise(np.bitwise_and, (o, self), {}) if _ok(o) else NotImplemented
    def __or__(self, o): return IMPL.elementwise(np.bitwise_or, (self, o), {}) if _ok(o) else NotImplemented
    def __ror__(self, o): return IMPL.elementwise(np.bitwise_or, (o, self), {}) if _ok(o) else NotImplemented
    def __xor__(self, o): return IMPL.elementwise(np.bitwise_xor, (self, o), {}) if _ok(o) else NotImplemented
    def __rxor__(self, o):
        return IMPL.elementwise(np.bitwise_xor, (o, self), {}) if _ok(o) else NotImplemented
    def __lt__(self, o): return IMPL.elementwise(np.less, (self, o), {}) if _ok(o) else NotImplemented
    def __le__(self, o): return IMPL.elementwise(np.less_equal, (self, o), {}) if _ok(o) else NotImplemented
    def __gt__(self, o): return IMPL.elementwise(np.greater, (self, o), {}) if _ok(o) else NotImplemented
    def __ge__(self, o):
        return IMPL.elementwise(np.greater_equal, (self, o), {}) if _ok(o) else NotImplemented
    def __eq__(self, o):
        return IMPL.elementwise(np.equal, (self, o), {}) if _ok(o) else NotImplemented  # type: ignore[override]
    def __ne__(self, o):
        return IMPL.elementwise(np.not_equal, (self, o), {}) if _ok(o) else NotImplemented  # type: ignore[override]
    def __neg__(self): return BatchedArray(-self._p, self._level)
    def __pos__(self): return self
    def __abs__(self): return BatchedArray(abs(self._p), self._level)
    def __invert__(self): return BatchedArray(~self._p, self._level)

    __hash__ = None  # type: ignore[assignment]  (mutable, like ndarray)

    def _inplace(self, ufunc, o):
        if not _ok(o):
            return NotImplemented
        IMPL.elementwise(ufunc, (self, o), {"out": (self,)})
        return self

    def __iadd__(self, o): return self._inplace(np.add, o)
    def __isub__(self, o): return self._inplace(np.subtract, o)
    def __imul__(self, o): return self._inplace(np.multiply, o)
    def __itruediv__(self, o): return self._inplace(np.true_divide, o)
    def __ipow__(self, o): return self._inplace(np.power, o)
    def __iand__(self, o): return self._inplace(np.bitwise_and, o)
    def __ior__(self, o): return self._inplace(np.bitwise_or, o)
    # fmt: on


_OPERANDS = (np.ndarray, np.generic, BatchedArray, int, float, bool, complex)


def _ok(o) -> bool:
    """Operands the operators take; anything else (a chainrule Tensor) gets its reflected operator."""
    return isinstance(o, _OPERANDS)


def _shift(axis, shape: tuple):
    """A logical ``axis`` argument (None, an int, a tuple) as the physical one."""
    nd = len(shape)
    if axis is None:
        return tuple(range(1, nd + 1))
    if isinstance(axis, int | np.integer):
        return normalize_axis(axis, nd) + 1
    return tuple(a + 1 for a in normalize_axes(axis, nd))


def batched(physical, level: int) -> BatchedArray:
    return BatchedArray(physical, level)


# ---- levels, lifting, unwrapping --------------------------------------------------------------
def level_of(values) -> tuple[int, int]:
    """The largest level among ``values`` (lists and tuples searched one deep) and its batch size;
    (-1, 0) when nothing is batched."""
    level, size = -1, 0
    for v in values:
        if type(v) is BatchedArray:
            if v._level > level:
                level, size = v._level, v._b
        elif type(v) is list or type(v) is tuple:
            for w in v:
                if type(w) is BatchedArray and w._level > level:
                    level, size = w._level, w._b
    return level, size


def physical(x, level: int, size: int):
    """``x``'s physical value at ``level`` with the batch dim in front: a batched array's own,
    an unbatched value's broadcast over the batch (a view, no copy)."""
    if type(x) is BatchedArray and x._level == level:
        return x._p
    x = x if type(x) is BatchedArray or type(x) is np.ndarray else np.asarray(x)
    return np.broadcast_to(x[None], (size,) + x.shape)


def lift(x, level: int, size: int) -> BatchedArray:
    """``x`` as a batched array at ``level`` (an unbatched value is broadcast: read-only)."""
    if type(x) is BatchedArray and x._level == level:
        return x
    return BatchedArray(physical(x, level, size), level)


def normalize_axis(axis, ndim: int, who: str = "") -> int:
    """A logical axis in [0, ndim) (NumPy's AxisError otherwise)."""
    a = int(axis)
    if not -ndim <= a < ndim:
        raise np.exceptions.AxisError(a, ndim, who or None)
    return a + ndim if a < 0 else a


def normalize_axes(axis, ndim: int) -> tuple:
    if isinstance(axis, int | np.integer):
        return (normalize_axis(axis, ndim),)
    return tuple(normalize_axis(a, ndim) for a in axis)


def pad_to(p, size: int, shape: tuple, nd: int):
    """A physical batch ``(size, *shape)`` with 1s inserted after the batch dim up to ``nd``
    logical dims, so that it broadcasts like its logical value against ``nd``-dim operands."""
    k = len(shape)
    if k >= nd:
        return p
    return p.reshape((size,) + (1,) * (nd - k) + shape)


def add_batch_dim(value, dim: int, level: int):
    """``value`` with its logical dim ``dim`` made the batch dim of ``level``.

    When ``value`` is batched at larger levels already (the gradient of a vmap's output arriving
    inside another vmap), the new level is pushed inside them, keeping levels decreasing inward.
    """
    if type(value) is BatchedArray and value._level > level:
        return BatchedArray(add_batch_dim(value._p, dim + 1, level), value._level)
    if type(value) is BatchedArray and value._level == level:
        raise RuntimeError(f"vmap: internal error, the value is batched at level {level} already")
    if dim != 0:
        value = np.moveaxis(value, dim, 0)
    return BatchedArray(value, level)


def remove_batch_dim(value, level: int, size: int, out_dim: int):
    """The physical value of ``value`` at ``level``, with the batch dim moved to ``out_dim``; a
    value not batched at ``level`` is expanded to the batch ``size`` (a broadcast view)."""
    if type(value) is BatchedArray and value._level > level:
        return BatchedArray(remove_batch_dim(value._p, level, size, out_dim + 1), value._level)
    if type(value) is BatchedArray and value._level == level:
        p = value._p
    else:
        if not isinstance(value, np.ndarray | BatchedArray):
            value = np.asarray(value)
        p = np.broadcast_to(value[None], (size,) + value.shape)
    if out_dim != 0:
        p = np.moveaxis(p, 0, out_dim)
    return p


def _inplace_error(who: str) -> RuntimeError:
    return RuntimeError(
        f"vmap: inplace arithmetic({who}) is not possible because there exists a Tensor `other` in "
        "extra_args that has more elements than `self`. This happened due to `other` being vmapped "
        "over but `self` not being vmapped over in a vmap. Please try to use out-of-place operators "
        "instead of inplace arithmetic."
    )


# ---- the fallback: a loop over the batch -----------------------------------------------------------
def _name(func) -> str:
    module = getattr(func, "__module__", None) or "numpy"
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func))
    if isinstance(func, np.ufunc):
        return f"numpy.{func.__name__}"
    if hasattr(func, "__self__") and isinstance(func.__self__, np.ufunc):
        return f"numpy.{func.__self__.__name__}.{func.__name__}"
    return f"{module}.{name}"


def _slice(v, level: int, i: int):
    if type(v) is BatchedArray and v._level == level:
        return v._p[i]
    if type(v) is list or type(v) is tuple:
        return type(v)(_slice(w, level, i) for w in v)
    if type(v) is dict:
        return {k: _slice(w, level, i) for k, w in v.items()}
    return v


def fallback(func, args, kwargs: dict):
    """No batching rule: call ``func`` once per sample on the unbatched slices and stack the
    results (warns once per function: the loop is slow)."""
    level, size = level_of(tuple(args) + tuple(kwargs.values()))
    name = _name(func)
    if func not in _WARNED:
        _WARNED.add(func)
        warnings.warn(
            f"There is a performance drop because we have not yet implemented the batching rule for "
            f"{name}. chainrule's vmap runs it once per sample (a Python loop over the batch).",
            UserWarning,
            stacklevel=4,
        )
    results = [func(*_slice(args, level, i), **_slice(kwargs, level, i)) for i in range(size)]
    return _stack_results(results, level, name)


def _stack_results(results: list, level: int, name: str):
    first = results[0] if results else None
    if first is None:
        return None
    if isinstance(first, tuple):  # several outputs (namedtuples too)
        parts = [_stack_results([r[k] for r in results], level, name) for k in range(len(first))]
        return type(first)(*parts) if hasattr(first, "_fields") else tuple(parts)
    if isinstance(first, list):
        return [_stack_results([r[k] for r in results], level, name) for k in range(len(first))]
    try:
        return BatchedArray(np.stack(results), level)
    except ValueError:
        shapes = sorted({np.shape(r) for r in results})
        raise RuntimeError(
            f"vmap: {name} gives results of different shapes {shapes} for different samples (a "
            "data-dependent shape), which vmap cannot batch; call it outside vmap"
        ) from None
