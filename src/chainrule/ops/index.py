"""Indexing: ``x[index]`` and its adjoint, scattering the gradient back (repeats accumulate)."""

from __future__ import annotations

import numpy as np

from ..autograd.graph import defop
from ._common import Tensor, as_tensor, make_result, shape_str


def _convert_index(index):
    """Tensors in an index become NumPy arrays; lists become integer/bool arrays."""
    if type(index) is tuple:
        return tuple(_convert_one(i) for i in index)
    return _convert_one(index)


def _convert_one(i):
    if isinstance(i, Tensor):
        a = i._data
        if a.dtype.kind not in "biu":
            raise IndexError(
                f"getitem: tensors used as indices must be long, int, byte or bool tensors, got "
                f"{i.dtype}"
            )
        return a
    if type(i) is list:
        a = np.asarray(i)
        if a.dtype.kind == "f":
            raise IndexError("getitem: tensors used as indices must be integer or bool, got floats")
        return a
    return i


def _is_basic(index) -> bool:
    """Basic indexing (ints, slices, None, Ellipsis) makes views and never repeats an element."""
    items = index if type(index) is tuple else (index,)
    for i in items:
        if isinstance(i, np.ndarray) or (not isinstance(i, int | slice) and i is not None
                                         and i is not Ellipsis):
            return False
    return True


@defop("getitem", saves_inputs=False, formula="dl/dx = dl/dy scattered back to the indexed places")
def _getitem(F, g, xs, out, p, needs):
    shape, index, dtype = p
    return (F.index_put_zeros(shape, index, g),)


def getitem(input: Tensor, index) -> Tensor:
    """``input[index]`` with ints, slices, None, Ellipsis, bool masks and integer tensors."""
    x = input._data
    idx = _convert_index(index)
    try:
        out = x[idx]
    except IndexError as e:
        raise IndexError(f"getitem: {e} (tensor of shape {shape_str(x.shape)})") from None
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    t = make_result(out, _getitem, (input,), (x.shape, idx, x.dtype))
    if out.base is not None and _is_basic(idx):
        t._vc = input._shared_vc()
    return t


@defop("index_put_zeros", saves_inputs=False, formula="dl/dg = (dl/dy)[index]")
def _index_put_zeros(F, g, xs, out, p, needs):
    shape, index = p
    return (F.getitem(g, index),)


def index_put_zeros(shape: tuple, index, values: Tensor) -> Tensor:
    """Zeros of ``shape`` with ``values`` added at ``index`` (getitem's adjoint, differentiable)."""
    v = values._data
    out = np.zeros(shape, dtype=v.dtype)
    if _is_basic(index):
        out[index] = v
    else:
        np.add.at(out, index, v)
    return make_result(out, _index_put_zeros, (values,), (shape, index))


@defop("index_put", saves_inputs=False,
       formula="dl/dx = dl/dy with the written places zeroed,  dl/dv = (dl/dy)[index]")
def _index_put(F, g, xs, out, p, needs):
    index, keep = p
    return (g * keep if needs[0] else None), (F.getitem(g, index) if needs[1] else None)


def index_put(input: Tensor, index, values: Tensor) -> Tensor:
    """A copy of ``input`` with ``values`` written at ``index`` (out-of-place ``x[index] = v``)."""
    x = input._data
    v = values._data
    out = x.copy()
    try:
        out[index] = v
    except ValueError as e:
        raise RuntimeError(
            f"index_put: can't assign values of shape {shape_str(v.shape)} to the indexed part "
            f"of a tensor of shape {shape_str(x.shape)}: {e}"
        ) from None
    keep = np.ones(x.shape, dtype=bool)
    keep[index] = False
    return make_result(out, _index_put, (input, values), (index, keep))
