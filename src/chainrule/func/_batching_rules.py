"""Batching rules of NumPy's array functions: reductions (np.sum, np.max, np.argmax ...), functions
along an axis (cumsum, sort, diff), and the element-wise functions that are not ufuncs (np.where,
np.clip, np.isclose, np.round ...); shape functions are in ``_batching_shape``.

Each rule receives the arguments of the NumPy call and makes one NumPy call on the physical batch:
logical axes move one to the right (after normalising negative axes against the logical ndim),
``axis=None`` means every logical axis (never the batch dim), shapes get the batch size in front.
"""

from __future__ import annotations

import inspect

import numpy as np

from ._batched import (
    BatchedArray,
    _inplace_error,
    fallback,
    level_of,
    lift,
    normalize_axes,
    normalize_axis,
    pad_to,
    rule,
)

# C functions that have no signature before NumPy 2.4: their parameters, from their docstrings
_C_PARAMS = {"ascontiguousarray": ("a", "dtype", "like")}


def _params(func) -> tuple:
    try:
        return tuple(inspect.signature(func).parameters)
    except ValueError:
        return _C_PARAMS[func.__name__]


def _bind(names: tuple, args: tuple, kwargs: dict) -> dict:
    """NumPy's positional arguments as keywords (names from the function's signature)."""
    bound = dict(zip(names, args))
    bound.update(kwargs)
    return bound


def _top(x, level: int) -> bool:
    return type(x) is BatchedArray and x._level == level


def _ndim(x) -> int:
    return len(x._shape) if type(x) is BatchedArray else np.ndim(x)


def _shape(x) -> tuple:
    return x._shape if type(x) is BatchedArray else np.shape(x)


def _wrap(r, level: int):
    if isinstance(r, tuple):
        parts = [_wrap(x, level) for x in r]
        return type(r)(*parts) if hasattr(r, "_fields") else tuple(parts)
    if isinstance(r, list):
        return [_wrap(x, level) for x in r]
    return BatchedArray(r, level)


def _out(kw: dict, level: int, who: str):
    """An ``out=`` argument as its physical batch (it must be batched at ``level``)."""
    out = kw.get("out")
    if out is None:
        return None
    o = out[0] if type(out) is tuple else out
    if not _top(o, level):
        raise _inplace_error(who)
    kw["out"] = o._p
    return o


# ---- reductions ---------------------------------------------------------------------------------
_METHODS = {
    np.sum: "sum",
    np.prod: "prod",
    np.mean: "mean",
    np.std: "std",
    np.var: "var",
    np.max: "max",
    np.min: "min",
    np.amax: "max",
    np.amin: "min",
    np.any: "any",
    np.all: "all",
}


def _make_reduction(func, *, flat_none: bool = False):
    """A reduction over ``axis`` (an int, a tuple, or None for all logical axes). ``flat_none``:
    axis=None means the flattened array (argmax, argmin): the batch is reshaped to (B, -1)."""
    names = _params(func)
    method = _METHODS.get(func)

    def reduction(a, axis=None, *args, **kwargs):
        if (
            not args
            and type(a) is BatchedArray
            and kwargs.get("out") is None
            and "where" not in kwargs
            and not (flat_none and axis is None)
        ):
            nd = len(a._shape)  # the common call (np.sum(x, axis=..., keepdims=...)): no rebinding
            if axis is None:
                axes = tuple(range(1, nd + 1))
            elif isinstance(axis, int | np.integer):
                axes = normalize_axis(axis, nd, func.__name__) + 1
            else:
                axes = tuple(x + 1 for x in normalize_axes(axis, nd))
            p = a._p  # the ndarray method skips np.sum's Python wrapper
            r = getattr(p, method)(axes, **kwargs) if method is not None else func(p, axes, **kwargs)
            return BatchedArray(r, a._level)
        return general(a, axis, *args, **kwargs)

    def general(*args, **kwargs):
        kw = _bind(names, args, kwargs)
        a = kw.pop(names[0])
        level, size = level_of((a, kw.get("where"), kw.get("out")))
        a = lift(a, level, size)
        nd = len(a._shape)
        axis = kw.pop("axis", None)
        out = _out(kw, level, func.__name__)
        where = kw.get("where")
        if _top(where, level):
            kw["where"] = pad_to(where._p, size, where._shape, nd)
        p = a._p
        if axis is None:
            if flat_none:
                keep = kw.pop("keepdims", False)
                r = func(p.reshape((size, -1)), axis=1, **kw)
                if keep is True:
                    r = r.reshape((size,) + (1,) * nd)
                return out if out is not None else BatchedArray(r, level)
            axes = tuple(range(1, nd + 1))
        elif isinstance(axis, int | np.integer):
            axes = normalize_axis(axis, nd, func.__name__) + 1
        else:
            axes = tuple(x + 1 for x in normalize_axes(axis, nd))
        r = func(p, axis=axes, **kw)
        return out if out is not None else BatchedArray(r, level)

    rule(func)(reduction)
    return reduction


for _f in (
    np.sum,
    np.prod,
    np.mean,
    np.std,
    np.var,
    np.max,
    np.min,
    np.amax,
    np.amin,
    np.any,
    np.all,
    np.nansum,
    np.nanprod,
    np.nanmean,
    np.nanstd,
    np.nanvar,
    np.nanmax,
    np.nanmin,
    np.count_nonzero,
    np.ptp,
    np.median,
    np.nanmedian,
):
    _make_reduction(_f)
for _f in (np.argmax, np.argmin, np.nanargmax, np.nanargmin):
    _make_reduction(_f, flat_none=True)


def _make_axis_function(func, default=-1, flat_none: bool = True):
    """Functions along one axis that keep the shape (cumsum, sort ...); axis=None flattens."""
    names = _params(func)

    def along(*args, **kwargs):
        kw = _bind(names, args, kwargs)
        a = kw.pop(names[0])
        level, size = level_of((a, kw.get("out")))
        a = lift(a, level, size)
        axis = kw.pop("axis", default)
        out = _out(kw, level, func.__name__)
        p = a._p
        if axis is None:
            p, axis = p.reshape((size, -1)), 0
        r = func(p, axis=normalize_axis(axis, p.ndim - 1, func.__name__) + 1, **kw)
        return out if out is not None else BatchedArray(r, level)

    rule(func)(along)
    return along


for _f in (np.cumsum, np.cumprod, np.nancumsum, np.nancumprod):
    _make_axis_function(_f, default=None)
for _f in (np.sort, np.argsort):
    _make_axis_function(_f, default=-1)


@rule(np.diff)
def _diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    if prepend is not np._NoValue or append is not np._NoValue:
        return fallback(np.diff, (a,), {"n": n, "axis": axis, "prepend": prepend, "append": append})
    level, size = level_of((a,))
    return BatchedArray(np.diff(a._p, n, axis=normalize_axis(axis, a.ndim) + 1), level)


# ---- element-wise functions that are not ufuncs -----------------------------------------------------
def _broadcasting(func, arrays: tuple, kw: dict):
    """Call ``func`` on the physical batches of ``arrays``, which broadcast together element-wise."""
    level, size = level_of(arrays)
    nd = max(_ndim(x) for x in arrays)
    phys = [pad_to(x._p, size, x._shape, nd) if _top(x, level) else x for x in arrays]
    out = kw.get("out")
    if out is not None:
        o = _out(kw, level, func.__name__)
        func(*phys, **kw)
        return o
    return BatchedArray(func(*phys, **kw), level)


@rule(np.where)
def _where(condition, x=None, y=None):
    if x is None and y is None:
        return np.nonzero(condition)
    return _broadcasting(np.where, (condition, x, y), {})


@rule(np.clip)
def _clip(a, a_min=np._NoValue, a_max=np._NoValue, out=None, **kwargs):
    lo = a_min if a_min is not np._NoValue else kwargs.pop("min", None)
    hi = a_max if a_max is not np._NoValue else kwargs.pop("max", None)
    lo = None if lo is np._NoValue else lo
    hi = None if hi is np._NoValue else hi
    kw = dict(kwargs)
    if out is not None:
        kw["out"] = out
    arrays = [a] + [v for v in (lo, hi) if v is not None]
    level, size = level_of(arrays)
    nd = max(_ndim(v) for v in arrays)
    phys = [pad_to(v._p, size, v._shape, nd) if _top(v, level) else v for v in (a, lo, hi)]
    o = _out(kw, level, "clip") if out is not None else None
    r = np.clip(phys[0], phys[1], phys[2], **kw)
    return o if o is not None else BatchedArray(r, level)


@rule(np.isclose)
def _isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return _broadcasting(np.isclose, (a, b), {"rtol": rtol, "atol": atol, "equal_nan": equal_nan})


@rule(np.allclose)
def _allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return np.all(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


@rule(np.array_equal)
def _array_equal(a1, a2, equal_nan=False):
    if _shape(a1) != _shape(a2):
        level, size = level_of((a1, a2))
        return BatchedArray(np.zeros(size, dtype=bool), level)
    eq = np.equal(a1, a2)
    if equal_nan:
        eq = eq | (np.isnan(a1) & np.isnan(a2))
    return np.all(eq)


def _elementwise_function(func):
    """Functions that act element by element on one array (np.round, np.nan_to_num ...)."""
    names = _params(func)

    def each(*args, **kwargs):
        kw = _bind(names, args, kwargs)
        a = kw.pop(names[0])
        level, size = level_of((a, kw.get("out")))
        out = _out(kw, level, func.__name__)
        r = func(lift(a, level, size)._p, **kw)
        return out if out is not None else BatchedArray(r, level)

    rule(func)(each)


for _f in (
    np.round,
    np.around,
    np.nan_to_num,
    np.real,
    np.imag,
    np.angle,
    np.fix,
    np.sinc,
    np.i0,
    np.copy,
    np.ascontiguousarray,
    np.isneginf,
    np.isposinf,
    np.iscomplex,
    np.isreal,
):
    _elementwise_function(_f)


__all__: list = []
