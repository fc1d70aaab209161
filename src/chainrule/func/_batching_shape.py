"""Batching rules of NumPy's shape functions (reshape, transpose, expand_dims, squeeze,
broadcast_to, flip, roll, tile, pad, tril, diagonal, sliding_window_view ...), joins and splits,
creation from a prototype (zeros_like ...), and the small queries (np.shape, np.result_type ...).

Logical axes move one to the right; shapes get the batch size in front; unbatched operands of a
join are broadcast over the batch (a view) first.
"""

from __future__ import annotations

import numpy as np

from ._batched import (
    BatchedArray,
    data_dependent_error,
    fallback,
    level_of,
    lift,
    normalize_axes,
    normalize_axis,
    pad_to,
    rule,
)
from ._batching_rules import _ndim, _out, _shape, _top

__all__: list = []


# ---- shape functions ------------------------------------------------------------------------------
@rule(np.reshape)
def _reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    shape = newshape if shape is None else shape
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
    kw = {} if copy is None else {"copy": copy}
    return BatchedArray(np.reshape(a._p, (a._b,) + shape, order=order, **kw), a._level)


@rule(np.ravel)
def _ravel(a, order="C"):
    return BatchedArray(np.reshape(a._p, (a._b, -1), order=order), a._level)


@rule(np.transpose)
def _transpose(a, axes=None):
    nd = len(a._shape)
    if axes is None:
        order = (0,) + tuple(range(nd, 0, -1))
    else:
        axes = tuple(axes)
        if len(axes) != nd:
            raise ValueError(f"axes don't match array (logical ndim {nd}, axes {axes})")
        order = (0,) + tuple(normalize_axis(x, nd, "transpose") + 1 for x in axes)
    return BatchedArray(np.transpose(a._p, order), a._level)


@rule(np.permute_dims)
def _permute_dims(a, axes=None):
    return _transpose(a, axes)


@rule(np.swapaxes)
def _swapaxes(a, axis1, axis2):
    nd = len(a._shape)
    return BatchedArray(
        np.swapaxes(a._p, normalize_axis(axis1, nd) + 1, normalize_axis(axis2, nd) + 1), a._level
    )


@rule(np.moveaxis)
def _moveaxis(a, source, destination):
    nd = len(a._shape)
    src = tuple(x + 1 for x in normalize_axes(source, nd))
    dst = tuple(x + 1 for x in normalize_axes(destination, nd))
    return BatchedArray(np.moveaxis(a._p, src, dst), a._level)


@rule(np.expand_dims)
def _expand_dims(a, axis):
    nd = len(a._shape)
    axes = normalize_axes(axis, nd + (1 if isinstance(axis, int | np.integer) else len(axis)))
    return BatchedArray(np.expand_dims(a._p, tuple(x + 1 for x in axes)), a._level)


@rule(np.squeeze)
def _squeeze(a, axis=None):
    if axis is None:
        axes = tuple(i + 1 for i, n in enumerate(a._shape) if n == 1)
    else:
        axes = tuple(x + 1 for x in normalize_axes(axis, len(a._shape)))
    return BatchedArray(np.squeeze(a._p, axes), a._level)


@rule(np.broadcast_to)
def _broadcast_to(array, shape, subok=False):
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
    p = pad_to(array._p, array._b, array._shape, len(shape))
    return BatchedArray(np.broadcast_to(p, (array._b,) + shape), array._level)


@rule(np.broadcast_arrays)
def _broadcast_arrays(*args, subok=False):
    shape = np.broadcast_shapes(*(_shape(x) for x in args))
    return tuple(np.broadcast_to(x, shape) for x in args)


def _atleast(n: int):
    def atleast(*arys):
        out = []
        for a in arys:
            s = _shape(a)
            if len(s) < n:
                if n == 3 and len(s) == 2:
                    s = s + (1,)
                elif n == 3 and len(s) == 1:
                    s = (1,) + s + (1,)
                else:
                    s = (1,) * (n - len(s)) + s
                a = np.reshape(a, s)
            out.append(a)
        return out[0] if len(out) == 1 else tuple(out)

    return atleast


rule(np.atleast_1d)(_atleast(1))
rule(np.atleast_2d)(_atleast(2))
rule(np.atleast_3d)(_atleast(3))


@rule(np.flip)
def _flip(m, axis=None):
    nd = len(m._shape)
    axes = tuple(range(1, nd + 1)) if axis is None else tuple(x + 1 for x in normalize_axes(axis, nd))
    return BatchedArray(np.flip(m._p, axes), m._level)


@rule(np.roll)
def _roll(a, shift, axis=None):
    level, size = level_of((a,))
    if axis is None:
        flat = np.roll(a._p.reshape((size, -1)), shift, axis=1)
        return BatchedArray(flat.reshape(a._p.shape), level)
    nd = len(a._shape)
    axes = (
        normalize_axis(axis, nd) + 1
        if isinstance(axis, int | np.integer)
        else tuple(x + 1 for x in normalize_axes(axis, nd))
    )
    return BatchedArray(np.roll(a._p, shift, axis=axes), level)


@rule(np.repeat)
def _repeat(a, repeats, axis=None):
    level, size = level_of((a, repeats))
    if _top(repeats, level):
        return fallback(np.repeat, (a, repeats), {"axis": axis})
    a = lift(a, level, size)
    p = a._p
    if axis is None:
        p, axis = p.reshape((size, -1)), 0
    return BatchedArray(np.repeat(p, repeats, axis=normalize_axis(axis, p.ndim - 1) + 1), level)


@rule(np.tile)
def _tile(A, reps):  # noqa: N803  (NumPy's name)
    reps = (reps,) if isinstance(reps, int | np.integer) else tuple(reps)
    d = max(len(A._shape), len(reps))
    p = pad_to(A._p, A._b, A._shape, d)
    return BatchedArray(np.tile(p, (1,) + (1,) * (d - len(reps)) + reps), A._level)


def _make_tri(func):
    def tri(m, k=0):
        if len(m._shape) < 2:  # NumPy builds a matrix from a vector: not a per-sample map
            return fallback(func, (m,), {"k": k})
        return BatchedArray(func(m._p, k), m._level)

    rule(func)(tri)


_make_tri(np.tril)
_make_tri(np.triu)


@rule(np.diagonal)
def _diagonal(a, offset=0, axis1=0, axis2=1):
    nd = len(a._shape)
    return BatchedArray(
        np.diagonal(a._p, offset, normalize_axis(axis1, nd) + 1, normalize_axis(axis2, nd) + 1), a._level
    )


@rule(np.trace)
def _trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    nd = len(a._shape)
    if out is not None:
        return fallback(
            np.trace, (a,), {"offset": offset, "axis1": axis1, "axis2": axis2, "dtype": dtype, "out": out}
        )
    return BatchedArray(
        np.trace(a._p, offset, normalize_axis(axis1, nd) + 1, normalize_axis(axis2, nd) + 1, dtype), a._level
    )


@rule(np.diag)
def _diag(v, k=0):
    if len(v._shape) == 2:
        return np.diagonal(v, k, 0, 1)
    if len(v._shape) != 1:
        raise ValueError("Input must be 1- or 2-d.")
    n = v._shape[0] + abs(k)
    out = np.zeros_like(v, shape=(n, n))
    i = np.arange(v._shape[0])
    out[(i, i + k) if k >= 0 else (i - k, i)] = v
    return out


@rule(np.outer)
def _outer(a, b, out=None):
    if out is not None:
        return fallback(np.outer, (a, b), {"out": out})
    return np.multiply(np.reshape(a, (-1, 1)), np.reshape(b, (-1,)))


@rule(np.lib.stride_tricks.sliding_window_view)
def _sliding_window_view(x, window_shape, axis=None, *, subok=False, writeable=False):
    nd = len(x._shape)
    window_shape = (window_shape,) if isinstance(window_shape, int | np.integer) else tuple(window_shape)
    axes = tuple(range(1, nd + 1)) if axis is None else tuple(a + 1 for a in normalize_axes(axis, nd))
    return BatchedArray(
        np.lib.stride_tricks.sliding_window_view(x._p, window_shape, axis=axes, writeable=writeable), x._level
    )


@rule(np.pad)
def _pad(array, pad_width, mode="constant", **kwargs):
    level, size = level_of((array,) + tuple(kwargs.values()))
    if any(_top(v, level) for v in kwargs.values()) or callable(mode):
        return fallback(np.pad, (array, pad_width), dict(kwargs, mode=mode))
    array = lift(array, level, size)
    nd = len(array._shape)
    widths = np.broadcast_to(
        np.asarray(pad_width, dtype=np.intp).reshape(-1, 2) if np.ndim(pad_width) else np.asarray(pad_width),
        (nd, 2),
    )
    widths = ((0, 0),) + tuple(tuple(int(v) for v in w) for w in widths)
    return BatchedArray(np.pad(array._p, widths, mode=mode, **kwargs), level)


# ---- joining and splitting ------------------------------------------------------------------------
def _lifted(arrays, level: int, size: int) -> list:
    return [lift(a, level, size)._p for a in arrays]


@rule(np.concatenate)
def _concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    arrays = list(arrays)
    level, size = level_of((arrays, out))
    kw = {"dtype": dtype, "casting": casting}
    if axis is None:
        arrays = [np.reshape(a, (-1,)) for a in arrays]
        axis = 0
    phys = _lifted(arrays, level, size)
    nd = phys[0].ndim - 1
    if out is not None:
        o = _out({"out": out}, level, "concatenate")
        np.concatenate(phys, axis=normalize_axis(axis, nd) + 1, out=o._p, **kw)
        return o
    return BatchedArray(np.concatenate(phys, axis=normalize_axis(axis, nd) + 1, **kw), level)


@rule(np.stack)
def _stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    arrays = list(arrays)
    level, size = level_of((arrays, out))
    phys = _lifted(arrays, level, size)
    nd = phys[0].ndim - 1
    kw = {"dtype": dtype, "casting": casting}
    if out is not None:
        o = _out({"out": out}, level, "stack")
        np.stack(phys, axis=normalize_axis(axis, nd + 1) + 1, out=o._p, **kw)
        return o
    return BatchedArray(np.stack(phys, axis=normalize_axis(axis, nd + 1) + 1, **kw), level)


@rule(np.vstack)
def _vstack(tup, *, dtype=None, casting="same_kind"):
    return np.concatenate([np.atleast_2d(a) for a in tup], axis=0, dtype=dtype, casting=casting)


@rule(np.hstack)
def _hstack(tup, *, dtype=None, casting="same_kind"):
    arrs = [np.atleast_1d(a) for a in tup]
    return np.concatenate(arrs, axis=0 if _ndim(arrs[0]) == 1 else 1, dtype=dtype, casting=casting)


@rule(np.dstack)
def _dstack(tup):
    return np.concatenate([np.atleast_3d(a) for a in tup], axis=2)


@rule(np.column_stack)
def _column_stack(tup):
    return np.concatenate([np.reshape(a, _shape(a) + (1,)) if _ndim(a) < 2 else a for a in tup], axis=1)


def _make_split(func):
    def split(ary, indices_or_sections, axis=0):
        level, size = level_of((ary,))
        parts = func(ary._p, indices_or_sections, axis=normalize_axis(axis, len(ary._shape)) + 1)
        return [BatchedArray(p, level) for p in parts]

    rule(func)(split)


_make_split(np.split)
_make_split(np.array_split)


# ---- creation from a prototype ----------------------------------------------------------------------
def _make_like(func):
    def like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
        if shape is not None:
            shape = (a._b,) + ((shape,) if isinstance(shape, int | np.integer) else tuple(shape))
        return BatchedArray(func(a._p, dtype=dtype, order=order, shape=shape), a._level)

    rule(func)(like)


for _f in (np.zeros_like, np.ones_like, np.empty_like):
    _make_like(_f)


@rule(np.full_like)
def _full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    level, size = level_of((a, fill_value))
    if _top(fill_value, level):
        base = (
            np.zeros_like(a, dtype=dtype or a.dtype, shape=shape)
            if _top(a, level)
            else lift(np.zeros_like(a, dtype=dtype, shape=shape), level, size).copy()
        )
        base[...] = fill_value
        return base
    if shape is not None:
        shape = (size,) + ((shape,) if isinstance(shape, int | np.integer) else tuple(shape))
    return BatchedArray(np.full_like(a._p, fill_value, dtype=dtype, order=order, shape=shape), level)


# ---- queries ------------------------------------------------------------------------------------------
@rule(np.shape)
def _np_shape(a):
    return a._shape


@rule(np.ndim)
def _np_ndim(a):
    return len(a._shape)


@rule(np.size)
def _np_size(a, axis=None):
    return a.size if axis is None else a._shape[axis]


def _dtype_only(x):
    return x.dtype if type(x) is BatchedArray else x


@rule(np.result_type)
def _result_type(*arrays_and_dtypes):
    return np.result_type(*(_dtype_only(x) for x in arrays_and_dtypes))


@rule(np.can_cast)
def _can_cast(from_, to, casting="safe"):
    return np.can_cast(_dtype_only(from_), to, casting)


@rule(np.min_scalar_type)
def _min_scalar_type(a):
    return a.dtype


@rule(np.may_share_memory, np.shares_memory)
def _shares(a, b, max_work=None):
    pa = a._p if type(a) is BatchedArray else a
    pb = b._p if type(b) is BatchedArray else b
    return np.may_share_memory(pa, pb)


@rule(np.iscomplexobj)
def _iscomplexobj(x):
    return x.dtype.kind == "c"


@rule(np.isrealobj)
def _isrealobj(x):
    return x.dtype.kind != "c"


@rule(np.nonzero, np.argwhere, np.flatnonzero)
def _data_dependent(a, *args, **kwargs):
    raise data_dependent_error(
        "nonzero/argwhere: the number of nonzero elements differs per sample, a data-dependent shape"
    )


@rule(np.unravel_index)
def _unravel_index(indices, shape, order="C"):
    level, size = level_of((indices,))
    return tuple(BatchedArray(p, level) for p in np.unravel_index(indices._p, shape, order=order))


@rule(np.interp)
def _interp(x, xp, fp, left=None, right=None, period=None):
    level, size = level_of((x, xp, fp))
    if _top(xp, level) or _top(fp, level):
        return fallback(np.interp, (x, xp, fp), {"left": left, "right": right, "period": period})
    return BatchedArray(np.interp(x._p, xp, fp, left, right, period), level)
