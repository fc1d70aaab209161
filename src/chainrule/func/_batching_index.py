"""Batching rules for indexing: ``x[index]``, ``x[index] = v``, ``ufunc.at``, take, take_along_axis.

A logical index becomes a physical one by prepending the batch dim. Basic indices (ints, slices,
None, Ellipsis) only need a leading full slice. Advanced indices (integer arrays) need more care,
because NumPy places the broadcast advanced dims first when the advanced indices are not adjacent:
the batch dim is indexed with an ``arange`` (itself an advanced index), batched index arrays give
their own batch dim, and the physical result is transposed so that it is ``(batch, *logical)``.
Writes (setitem, ``ufunc.at``) arrange the value in that physical layout instead.
"""

from __future__ import annotations

import numpy as np

from ._batched import (
    IMPL,
    BatchedArray,
    _inplace_error,
    data_dependent_error,
    fallback,
    level_of,
    lift,
    normalize_axis,
    pad_to,
    rule,
)

__all__ = ["getitem", "setitem", "ufunc_at"]

_BASIC = (int, slice, type(None), type(Ellipsis))


def _is_int(i) -> bool:
    return (type(i) is int or isinstance(i, np.integer)) and not isinstance(i, bool | np.bool_)


def _expand(index: tuple, ndim: int) -> list:
    """The index items with the Ellipsis replaced by full slices (and trailing slices added), lists
    made arrays, and unbatched bool masks made their ``nonzero()`` integer arrays."""
    items: list = []
    for i in index:
        if type(i) is list:
            i = np.asarray(i)
        if type(i) is np.ndarray and i.dtype == np.bool_:
            if i.ndim:
                items.extend(i.nonzero())
                continue
            i = np.bool_(i)  # x[True] / x[False]: a new axis of length 1 / 0, as None
        elif isinstance(i, bool):
            i = np.bool_(i)
        if type(i) is BatchedArray and i.dtype == np.bool_:
            raise RuntimeError(
                f"vmap: indexing with a boolean mask that is batched (logical shape {i.shape}) gives "
                "each sample a different number of elements, a data-dependent shape vmap cannot "
                "batch; use where(mask, x, 0) or masked_fill instead"
            )
        items.append(i)
    consumed = 0
    ellipsis = -1
    for k, i in enumerate(items):
        if i is Ellipsis:
            if ellipsis >= 0:
                raise IndexError("an index can only have a single ellipsis ('...')")
            ellipsis = k
        elif i is not None and type(i) is not np.bool_:
            consumed += 1
    if consumed > ndim:
        raise IndexError(
            f"too many indices for array: array is {ndim}-dimensional, but {consumed} were indexed"
        )
    fill = [slice(None)] * (ndim - consumed)
    if ellipsis >= 0:
        return items[:ellipsis] + fill + items[ellipsis + 1 :]
    return items + fill


class _Plan:
    """How a logical index maps onto the physical batch: the physical index, the transpose that makes
    the physical result ``(batch, *logical)``, and the logical result's number of dims."""

    __slots__ = ("index", "perm", "ndim")

    def __init__(self, index: tuple, perm, ndim: int) -> None:
        self.index = index
        self.perm = perm
        self.ndim = ndim


def _plan(items: list, level: int, size: int, target_batched: bool) -> _Plan:
    arrays = [k for k, i in enumerate(items) if type(i) is np.ndarray or type(i) is BatchedArray]
    n_basic = sum(1 for i in items if type(i) is slice or i is None or type(i) is np.bool_)
    if not arrays:  # only ints, slices, None and 0-d bools: NumPy's basic indexing
        return _Plan((slice(None),) + tuple(items), None, n_basic)
    if any(type(i) is np.bool_ for i in items):
        raise IndexError("vmap: a 0-d bool index together with index arrays is not supported")
    adv = [k for k, i in enumerate(items) if k in arrays or _is_int(i)]
    adv_nd = max(len(items[k]._shape) if type(items[k]) is BatchedArray else np.ndim(items[k]) for k in adv)
    adjacent = adv[-1] - adv[0] + 1 == len(adv)
    n_pre = adv[0]  # everything before the first advanced index is a slice or None: one dim each
    phys = list(items)
    for k in arrays:
        i = items[k]
        if type(i) is BatchedArray and i._level == level:
            phys[k] = pad_to(i._p, size, i._shape, adv_nd)
    nd = adv_nd + n_basic
    if target_batched:
        phys.insert(0, np.arange(size).reshape((size,) + (1,) * adv_nd))
        if adjacent and n_pre:  # physical (batch, *adv, *pre, *post): move the advanced dims back
            perm = (
                (0,)
                + tuple(range(1 + adv_nd, 1 + adv_nd + n_pre))
                + tuple(range(1, 1 + adv_nd))
                + tuple(range(1 + adv_nd + n_pre, 1 + nd))
            )
        else:
            perm = None
    else:  # the batch dim comes from the batched index arrays, at the advanced dims' place
        if adjacent and n_pre:
            perm = (n_pre,) + tuple(range(n_pre)) + tuple(range(n_pre + 1, 1 + nd))
        else:
            perm = None
    return _Plan(tuple(phys), perm, nd)


def getitem(x, index):
    """``x[index]`` for a batched ``x`` or a batched index (or both)."""
    idx = index if type(index) is tuple else (index,)
    level, size = level_of((x,) + idx)
    x_b = type(x) is BatchedArray and x._level == level
    if x_b:
        for i in idx:
            if not isinstance(i, _BASIC):
                break
        else:  # the common case: ints and slices only
            return BatchedArray(x._p[(slice(None),) + idx], level)
    items = _expand(idx, len(x._shape) if type(x) is BatchedArray else np.ndim(x))
    plan = _plan(items, level, size, x_b)
    source = x._p if x_b else x
    if type(source) is np.ndarray and any(type(i) is BatchedArray for i in plan.index):
        r = getitem(source, plan.index)  # smaller-level batched indices into a plain array
    else:
        r = source[plan.index]
    if plan.perm is not None:
        r = np.transpose(r, plan.perm)
    return BatchedArray(r, level)


def _value_layout(value, plan: _Plan, level: int, size: int):
    """The value to write at ``plan``'s physical index: broadcast like the logical value against the
    logical result, and in the physical result's dim order."""
    nd = plan.ndim
    if type(value) is BatchedArray and value._level == level:
        v = value._p
        vn = len(value._shape)
        if vn > nd:  # NumPy accepts extra leading 1s on the value
            v = v.reshape((size,) + value._shape[vn - nd :])
            vn = nd
        v = pad_to(v, size, v.shape[1:], nd)
    else:
        if plan.perm is None:
            return value
        v = value if isinstance(value, np.ndarray | BatchedArray) else np.asarray(value)
        vn = v.ndim
        if vn > nd:
            v = v.reshape(v.shape[vn - nd :])
        v = v.reshape((1,) * (nd + 1 - v.ndim) + v.shape)
    if plan.perm is not None:
        v = np.transpose(v, tuple(np.argsort(plan.perm)))
    return v


def _leading_mask(x: BatchedArray, idx: tuple, level: int):
    """The batched bool mask of ``x[mask] = value`` (``mask`` over x's leading dims, then only an
    Ellipsis or full slices), or None for any other index."""
    m = idx[0] if idx else None
    if not (type(m) is BatchedArray and m._level == level and m.dtype == np.bool_):
        return None
    rest = idx[1:]
    if any(not (i is Ellipsis or (type(i) is slice and i == slice(None))) for i in rest):
        return None
    if m._shape != x._shape[: len(m._shape)]:
        raise IndexError(
            f"The shape of the mask {m._shape} does not match the shape of the indexed tensor {x._shape}"
        )
    return m


def setitem(x: BatchedArray, index, value) -> None:
    """``x[index] = value`` for a batched ``x`` (the value and index may be batched or not)."""
    idx = index if type(index) is tuple else (index,)
    level, size = level_of((x, value) + idx)
    if x._level != level:
        raise _inplace_error("index_put_")
    mask = _leading_mask(x, idx, level)
    if mask is not None:  # x[mask] = value with a batched mask: a masked copy, if value is one value
        nd, mn = len(x._shape), len(mask._shape)
        vshape = value.shape if isinstance(value, np.ndarray | BatchedArray) else ()
        if vshape not in ((), (1,)) and vshape != x._shape[mn:]:
            raise data_dependent_error("x[batched_mask] = values: one value per selected element")
        v = value
        if type(value) is BatchedArray and value._level == level:
            v = value._p.reshape((size,) + (1,) * (nd - len(vshape)) + vshape)
        where = mask._p.reshape(mask._p.shape + (1,) * (nd - mn))
        np.copyto(x._p, v, where=where)
        return
    items = _expand(idx, len(x._shape))
    plan = _plan(items, level, size, True)
    x._p[plan.index] = _value_layout(value, plan, level, size)


def ufunc_at(ufunc, a, indices, b=None) -> None:
    """``ufunc.at(a, indices, b)``: unbuffered in-place accumulation, for a batched target ``a``."""
    idx = indices if type(indices) is tuple else (indices,)
    level, size = level_of((a, b) + idx)
    if not (type(a) is BatchedArray and a._level == level):
        raise _inplace_error(f"{ufunc.__name__}.at")
    items = _expand(idx, len(a._shape))
    plan = _plan(items, level, size, True)
    if b is None:
        ufunc.at(a._p, plan.index)
    else:
        ufunc.at(a._p, plan.index, _value_layout(b, plan, level, size))


# ---- functions built on indexing ------------------------------------------------------------------
@rule(np.take)
def _take(a, indices, axis=None, out=None, mode="raise"):
    if out is not None or mode != "raise":
        return fallback(np.take, (a, indices), {"axis": axis, "out": out, "mode": mode})
    if axis is None:
        return getitem(np.reshape(a, (-1,)), (indices,))
    axis = normalize_axis(axis, np.ndim(a) if type(a) is not BatchedArray else a.ndim)
    return getitem(a, (slice(None),) * axis + (indices,))


@rule(np.take_along_axis)
def _take_along_axis(arr, indices, axis=-1):
    level, size = level_of((arr, indices))
    if axis is None:
        arr = np.reshape(arr, (-1,))
        axis = 0
    pa = lift(arr, level, size)._p
    pi = lift(indices, level, size)._p
    return BatchedArray(np.take_along_axis(pa, pi, axis=normalize_axis(axis, pa.ndim - 1) + 1), level)


@rule(np.put_along_axis)
def _put_along_axis(arr, indices, values, axis):
    level, size = level_of((arr, indices, values))
    if not (type(arr) is BatchedArray and arr._level == level):
        raise _inplace_error("put_along_axis")
    if axis is None:
        raise RuntimeError("vmap: np.put_along_axis(axis=None) on a batched array is not supported")
    pi = lift(indices, level, size)._p
    v = values
    if type(values) is BatchedArray and values._level == level:
        v = pad_to(values._p, size, values._shape, pi.ndim - 1)
    np.put_along_axis(arr._p, pi, v, axis=normalize_axis(axis, arr.ndim) + 1)


@rule(np.putmask)
def _putmask(a, mask, values):
    level, size = level_of((a, mask, values))
    if not (type(a) is BatchedArray and a._level == level):
        raise _inplace_error("putmask")
    vshape = np.shape(values) if type(values) is not BatchedArray else values.shape
    if vshape not in ((), a.shape):  # putmask cycles a shorter values array: no batched meaning
        raise RuntimeError(
            f"vmap: np.putmask with values of shape {vshape} (not () nor the array's "
            f"{a.shape}) is not supported on batched arrays"
        )
    np.copyto(a, values, where=mask)


@rule(np.copyto)
def _copyto(dst, src, casting="same_kind", where=True):
    level, size = level_of((dst, src, where))
    if not (type(dst) is BatchedArray and dst._level == level):
        raise _inplace_error("copyto")
    nd = len(dst._shape)
    if type(src) is BatchedArray and src._level == level:
        src = pad_to(src._p, size, src._shape, nd)
    if type(where) is BatchedArray and where._level == level:
        where = pad_to(where._p, size, where._shape, nd)
    np.copyto(dst._p, src, casting=casting, where=where)


IMPL.getitem, IMPL.setitem, IMPL.ufunc_at = getitem, setitem, ufunc_at
