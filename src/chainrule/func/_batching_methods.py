"""The ndarray methods of vmap's ``BatchedArray`` (``x.sum(axis=...)``, ``x.reshape(...)``,
``x.astype(...)`` ...): each is the NumPy function on the batched array, or directly the physical
batch's own method with the axes shifted past the batch dim (the hot ones: no dispatch)."""

from __future__ import annotations

import numpy as np

__all__ = ["NdarrayMethods"]


class NdarrayMethods:
    """Mixin of ``BatchedArray``: the methods that chainrule's ops call on arrays."""

    __slots__ = ()

    def reshape(self, *shape, order: str = "C"):
        if len(shape) == 1 and not isinstance(shape[0], int | np.integer):
            shape = tuple(shape[0])
        return type(self)(self._p.reshape((self._b,) + shape, order=order), self._level)

    def view(self, *args):
        if args:  # a dtype view reinterprets the last dim: the batch dim is not involved
            return type(self)(self._p.view(*args), self._level)
        return type(self)(self._p.view(), self._level)

    def astype(self, dtype, order: str = "K", casting: str = "unsafe", subok: bool = True, copy: bool = True):
        return type(self)(self._p.astype(dtype, order=order, casting=casting, copy=copy), self._level)

    def copy(self, order: str = "C"):
        return type(self)(self._p.copy(order=order), self._level)

    def transpose(self, *axes):
        if len(axes) == 1 and not isinstance(axes[0], int | np.integer):
            axes = axes[0]
        return np.transpose(self, axes or None)

    def swapaxes(self, axis1: int, axis2: int):
        return np.swapaxes(self, axis1, axis2)

    def squeeze(self, axis=None):
        return np.squeeze(self, axis)

    def ravel(self, order: str = "C"):
        return np.reshape(self, (-1,), order=order)

    def flatten(self, order: str = "C"):
        return np.reshape(self, (-1,), order=order).copy()

    def fill(self, value) -> None:
        self[...] = value

    def sum(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        if out is None and not kw:
            r = self._p.sum(self._physical_axes(axis), dtype, None, keepdims)
            return type(self)(r, self._level)
        return np.sum(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        return np.mean(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        return np.prod(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
        return np.var(self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kw)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
        return np.std(self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kw)

    def max(self, axis=None, out=None, keepdims=False, **kw):
        if out is None and not kw:
            return type(self)(self._p.max(self._physical_axes(axis), None, keepdims), self._level)
        return np.max(self, axis=axis, out=out, keepdims=keepdims, **kw)

    def min(self, axis=None, out=None, keepdims=False, **kw):
        if out is None and not kw:
            return type(self)(self._p.min(self._physical_axes(axis), None, keepdims), self._level)
        return np.min(self, axis=axis, out=out, keepdims=keepdims, **kw)

    def any(self, axis=None, out=None, keepdims=False, **kw):
        if out is None and not kw:
            # by keyword: ndarray.any passes positional arguments on as (axis, dtype, out, ...)
            return type(self)(self._p.any(axis=self._physical_axes(axis), keepdims=keepdims), self._level)
        return np.any(self, axis=axis, out=out, keepdims=keepdims, **kw)

    def all(self, axis=None, out=None, keepdims=False, **kw):
        if out is None and not kw:
            # by keyword: ndarray.all passes positional arguments on as (axis, dtype, out, ...)
            return type(self)(self._p.all(axis=self._physical_axes(axis), keepdims=keepdims), self._level)
        return np.all(self, axis=axis, out=out, keepdims=keepdims, **kw)

    def argmax(self, axis=None, out=None, *, keepdims=False):
        return np.argmax(self, axis=axis, out=out, keepdims=keepdims)

    def argmin(self, axis=None, out=None, *, keepdims=False):
        return np.argmin(self, axis=axis, out=out, keepdims=keepdims)

    def cumsum(self, axis=None, dtype=None, out=None):
        return np.cumsum(self, axis=axis, dtype=dtype, out=out)

    def cumprod(self, axis=None, dtype=None, out=None):
        return np.cumprod(self, axis=axis, dtype=dtype, out=out)

    def clip(self, min=None, max=None, out=None, **kw):  # noqa: A002
        return np.clip(self, min, max, out=out, **kw)

    def round(self, decimals: int = 0, out=None):
        return np.round(self, decimals, out=out)

    def repeat(self, repeats, axis=None):
        return np.repeat(self, repeats, axis=axis)

    def take(self, indices, axis=None, out=None, mode="raise"):
        return np.take(self, indices, axis=axis, out=out, mode=mode)

    def sort(self, axis=-1, kind=None, order=None) -> None:
        self[...] = np.sort(self, axis=axis, kind=kind, order=order)

    def argsort(self, axis=-1, kind=None, order=None):
        return np.argsort(self, axis=axis, kind=kind, order=order)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return np.diagonal(self, offset, axis1, axis2)

    def trace(self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        return np.trace(self, offset, axis1, axis2, dtype, out)

    def nonzero(self):
        return np.nonzero(self)

    def dot(self, b, out=None):
        return np.dot(self, b, out=out)

    def conj(self):
        return np.conjugate(self)

    conjugate = conj
