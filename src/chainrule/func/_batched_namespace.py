"""vmap's batched array as an array namespace of ``chainrule.backend``: the overrides of the
functions that NumPy's dispatch cannot express (value checks, fresh buffers written into,
NumPy-only kernels), registered for ``BatchedArray`` when ``chainrule.func`` is imported; and its
text in ``repr`` (torch's BatchedTensor).

Arrays of several vmap levels may meet in one call: the buffers and lifts follow the most batched
(largest level) of the arrays given.
"""

from __future__ import annotations

import numpy as np

from .._format import register_array_repr, tensor_repr
from .._tensor import wrap
from ..backend import register_array_type
from ..backend.extension import PLAIN_TYPES
from ._batched import BatchedArray
from ._batching_linalg import map_stacked as _map_stacked

__all__ = ["BATCHED"]


def _most_batched(values):
    """The batched array of the largest vmap level among ``values`` (index tuples searched too)."""
    best = None
    for v in values:
        t = type(v)
        if t in PLAIN_TYPES:
            continue
        if t is tuple:
            v = _most_batched(v)
            if v is None:
                continue
        elif t is not BatchedArray:
            continue
        if best is None or v._level > best._level:
            best = v
    return best


def _higher(x, like) -> bool:
    return type(x) is BatchedArray and x._level >= like._level


class _BatchedNamespace:
    """The overrides (see ``chainrule.backend.extension`` for what each function means)."""

    @staticmethod
    def any_true(mask) -> bool:
        return bool(mask._raw().any())

    @staticmethod
    def all_true(mask) -> bool:
        return bool(mask._raw().all())

    @staticmethod
    def all_samples(a) -> np.ndarray:
        return a._raw()

    @staticmethod
    def lift_like(x, *values):
        like = _most_batched(values)
        if like is None or _higher(x, like):
            return x
        return like._lift(x)

    @staticmethod
    def zeros_for(shape, dtype, *values):
        return np.zeros_like(_most_batched(values), dtype=dtype, shape=shape)

    @staticmethod
    def full_for(shape, dtype, fill, *values):
        return np.full_like(_most_batched(values), fill, dtype=dtype, shape=shape)

    @staticmethod
    def copy_for(x, *values):
        like = _most_batched(values)
        if _higher(x, like):
            return x.copy()
        out = np.zeros_like(like, dtype=x.dtype, shape=x.shape)
        out[...] = x
        return out

    @staticmethod
    def map_elementwise(fn, x):
        return x._map_physical(fn)

    @staticmethod
    def map_stacked(fn, arrays: tuple, cores: tuple):
        return _map_stacked(fn, arrays, cores)


BATCHED = _BatchedNamespace()
register_array_type(BatchedArray, BATCHED)


def _batched_tensor_repr(t) -> str:
    """torch's text for a tensor inside vmap: ``BatchedTensor(lvl=..., bdim=0, value=...)``."""
    a = t._data
    inner = tensor_repr(wrap(a._p)).replace("\n", "\n    ")
    return f"BatchedTensor(lvl={a._level}, bdim=0, value=\n    {inner}\n)"


register_array_repr(BatchedArray, _batched_tensor_repr)
