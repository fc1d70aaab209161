"""Sorting and selection along a dim: sort, argsort, topk, kthvalue, median.

NaN is ordered as torch orders it, above every number: last when ascending, first when
descending. Sorts are stable here whatever ``stable`` says (torch leaves ties' order open unless
``stable=True``, so a stable order is always one of the orders it allows).

Every op that returns values and indices has the same derivative: the upstream gradient goes back
to the selected indices, zero elsewhere. ``median()`` of all elements is the exception, as in
torch: ties share its gradient, like ``max()``.
"""

from __future__ import annotations

import numpy as np

from ..autograd.graph import defop
from ..kernels.quickselect import kth_index
from ._common import Tensor, as_array, as_tensor, make_result, normalize_dim, shape_str, wrap
from .reduce_minmax import _spread_ties, return_types, values_and_indices

__all__ = ["sort", "argsort", "topk", "kthvalue", "median"]


# ---- derivative ---------------------------------------------------------------------------------
def _to_indices(F, g, xs, out, p, needs):
    """dl/dx = dl/dy scattered back to the selected indices along the dim, 0 elsewhere."""
    shape, axis, keepdim, index = p
    if index is None:  # a 0-d input: the one element is selected
        return (g,)
    if not keepdim:
        g = F.expand_dims(g, axis)
    return (F.index_put_zeros(shape, index, g),)


_SELECT = "{g0} = {gy} written back at the selected indices of {x0}, 0 elsewhere"
sort_op = defop("sort", saves_inputs=False, formula=_SELECT)(_to_indices)
topk_op = defop("topk", saves_inputs=False, formula=_SELECT)(_to_indices)
kthvalue_op = defop("kthvalue", saves_inputs=False, formula=_SELECT)(_to_indices)
median_dim_op = defop("median_dim", saves_inputs=False, formula=_SELECT)(_to_indices)
median_dim_op.node_name = "MedianBackward1"  # torch's name for median(x, dim)
median_op = defop(
    "median",
    saves_out=True,
    formula="{g0} = {gy} * [{x0} == {y}] / count({x0} == {y})  (ties share the gradient)",
)(_spread_ties)


# ---- helpers ------------------------------------------------------------------------------------
def _order(x: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable sorting indices along ``axis``, NaN above every number (NumPy sorts NaN last)."""
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    # descending and stable: sort the reversed lane ascending, read it backwards, map back
    n = x.shape[axis]
    up = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
    return (n - 1) - np.flip(up, axis)


def _select(op, result_type, input: Tensor, axis: int, order: np.ndarray, keepdim: bool):
    """The values at ``order`` (int64 indices along ``axis``, keepdim layout) and the indices."""
    x = input._data
    values = np.take_along_axis(x, order, axis)
    lanes = [
        np.arange(n).reshape([-1 if d == i else 1 for d in range(x.ndim)]) for i, n in enumerate(x.shape)
    ]
    lanes[axis] = order
    indices = order
    if not keepdim:
        values, indices = np.squeeze(values, axis), np.squeeze(indices, axis)
    out = make_result(values, op, (input,), (x.shape, axis, keepdim, tuple(lanes)))
    return values_and_indices(result_type, out, indices)


def _scalar(op, result_type, input: Tensor):
    """A 0-d input: torch treats it as one element along dim 0 or -1."""
    out = make_result(input._data.copy(), op, (input,), ((), 0, True, None))
    return values_and_indices(result_type, out, np.asarray(0, dtype=np.int64))


def _not_bool(who: str, kernel: str, x: np.ndarray) -> None:
    if x.dtype.kind == "b":
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for 'Bool'; {who} needs numbers: convert first, e.g. x.int()"
        )


def _nonempty(who: str, x: np.ndarray, axis: int) -> None:
    if x.shape[axis] == 0:
        raise IndexError(
            f"{who}(): Expected reduction dim {axis} to have non-zero size (input shape {shape_str(x.shape)})"
        )


# ---- ops ----------------------------------------------------------------------------------------
def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """Sort along ``dim``.

    Parameters
    ----------
    input : Tensor
    dim : int, default -1
    descending : bool, default False
    stable : bool, default False
        Ties keep their order. Sorting here is always stable.

    Returns
    -------
    return_types.sort
        ``(values, indices)``: the sorted values (differentiable: the gradient goes back to where
        each value came from) and their int64 indices in ``input``. NaN sorts above every number.
    """
    input = as_tensor(input, "sort")
    x = input._data
    axis = normalize_dim(dim, x.ndim, "sort")
    if x.ndim == 0:
        return _scalar(sort_op, return_types.sort, input)
    return _select(sort_op, return_types.sort, input, axis, _order(x, axis, descending), True)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
    """The int64 indices that sort ``input`` along ``dim`` (``sort(...).indices``)."""
    input = as_tensor(input, "argsort")
    x = input._data
    axis = normalize_dim(dim, x.ndim, "argsort")
    if x.ndim == 0:
        return wrap(np.asarray(0, dtype=np.int64))
    return wrap(_order(x, axis, descending).astype(np.int64, copy=False))


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The ``k`` largest (or smallest) elements along ``dim``.

    Parameters
    ----------
    input : Tensor
    k : int
        How many; ``0 <= k <= input.size(dim)`` (RuntimeError otherwise, as torch).
    dim : int, default -1
    largest : bool, default True
        The largest elements, in descending order; False: the smallest, ascending.
    sorted : bool, default True
        The elements are always returned in sorted order here (torch allows that for False).

    Returns
    -------
    return_types.topk
        ``(values, indices)``; the gradient goes back to the selected indices.
    """
    input = as_tensor(input, "topk")
    x = input._data
    axis = normalize_dim(dim, x.ndim, "topk")
    if x.dtype.kind == "b":
        raise RuntimeError("topk does not support bool dtypes on CPU; convert first, e.g. x.int()")
    n = x.shape[axis] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(
            f"topk: selected index k out of range (k={k}, but dim {dim} of the input "
            f"of shape {shape_str(x.shape)} has {n} elements)"
        )
    if x.ndim == 0:  # torch returns the element for k == 0 too
        return _scalar(topk_op, return_types.topk, input)
    order = np.take(_order(x, axis, largest), np.arange(k), axis)
    return _select(topk_op, return_types.topk, input, axis, order, True)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """The ``k``-th smallest element along ``dim`` (``k`` counts from 1) and its index.

    Returns
    -------
    return_types.kthvalue
        ``(values, indices)``; the gradient goes back to the selected index.
    """
    input = as_tensor(input, "kthvalue")
    x = input._data
    axis = normalize_dim(dim, x.ndim, "kthvalue")
    _not_bool("kthvalue", "kthvalue_cpu", x)
    if x.ndim:
        _nonempty("kthvalue", x, axis)
    n = x.shape[axis] if x.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(
            f"kthvalue(): selected number k out of range for dimension {axis} "
            f"(k={k}, but it has {n} elements; k counts from 1)"
        )
    if x.ndim == 0:
        return _scalar(kthvalue_op, return_types.kthvalue, input)
    order = np.take(_order(x, axis, False), [k - 1], axis)
    if type(x) is np.ndarray:  # (vmap's batched arrays keep the stable sort's choice)
        _torch_choice_among_ties(x, axis, order, k)
    return _select(kthvalue_op, return_types.kthvalue, input, axis, order, keepdim)


def _torch_choice_among_ties(x: np.ndarray, axis: int, order: np.ndarray, k: int) -> None:
    """Where the k-th value of a lane is tied, put into ``order`` (the stable sort's index, in
    place) the index torch's quickselect reports (``kernels/quickselect.py``)."""
    lanes = np.moveaxis(x, axis, -1)
    chosen = np.moveaxis(order, axis, -1)  # a view: writes land in order
    kth = np.take_along_axis(lanes, chosen, -1)
    equal = lanes == kth
    if x.dtype.kind == "f":
        equal |= np.isnan(lanes) & np.isnan(kth)  # NaNs tie with each other
    for where in map(tuple, np.argwhere(equal.sum(-1) > 1)):  # (argwhere takes a 0-d count)
        chosen[where][0] = kth_index(lanes[where], k - 1)


def median(input: Tensor, dim: int | None = None, keepdim: bool = False):
    """The median: the lower of the two middle values for an even count, as torch.

    ``median(input)`` is a 0-d tensor over all elements (NaN if any is NaN, or if the input is
    empty); ties share its gradient. ``median(input, dim, keepdim=False)`` returns
    ``(values, indices)`` along ``dim`` (a lane with NaN gives NaN and the index of its first NaN);
    the gradient goes back to the returned index.
    """
    input = as_tensor(input, "median")
    x = input._data
    _not_bool("median", "median_cpu" if dim is None else "median_out", x)
    if dim is None:
        flat = np.sort(x.reshape(-1))
        if flat.size == 0:
            # torch: NaN, or the dtype's lowest value for integers
            value = np.asarray(np.nan if x.dtype.kind == "f" else np.iinfo(x.dtype).min, x.dtype)
        else:
            value = flat[(flat.size - 1) // 2]
            if flat.dtype.kind == "f":  # NaN sorts last: any NaN makes the median NaN
                value = np.where(np.isnan(flat[-1]), flat[-1], value)
        return make_result(as_array(value, x.dtype), median_op, (input,), (None, False, True))
    axis = normalize_dim(dim, x.ndim, "median")
    if x.ndim == 0:
        return _scalar(median_dim_op, return_types.median, input)
    _nonempty("median", x, axis)
    order = _order(x, axis, False)
    n = x.shape[axis]
    middle = np.take(order, [(n - 1) // 2], axis)
    if x.dtype.kind == "f":  # NaN sorts last: a lane with NaN selects its first NaN
        nans = np.isnan(x)
        count = np.sum(nans, axis=axis, keepdims=True)
        first_nan = np.take_along_axis(order, np.minimum(n - count, n - 1), axis)
        middle = np.where(count > 0, first_nan, middle)
    order = middle
    return _select(median_dim_op, return_types.median, input, axis, order, keepdim)
