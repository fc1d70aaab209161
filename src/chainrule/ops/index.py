"""Indexing: ``x[index]`` and its adjoint, scattering the gradient back (repeats accumulate)."""

from __future__ import annotations

import numpy as np

from .._fpe import quiet as _quiet
from .._record import make_view as _make_view
from ..autograd.graph import defop
from ..kernels.elementwise import is_basic_index as _is_basic
from ._common import Tensor, copy_for, full_for, lift_like, make_result, shape_str, zeros_for


def _convert_index(index, shape: tuple | None = None) -> tuple:
    """``index`` as a NumPy index tuple that selects what torch selects.

    Tensors and lists become arrays, 0-d integer tensors ints; a trailing Ellipsis keeps even a
    full integer index returning an array (a 0-d view). Torch applies ints before advanced indices
    (``x[0, :, [1, 2]]`` has shape (x.shape[1], 2)), where NumPy counts them as advanced; given the
    indexed ``shape``, such an index is rewritten as the equivalent integer-array index.
    """
    return _convert(index, shape)[0]


def _convert(index, shape: tuple | None) -> tuple:
    """``(numpy_index, basic)``; ``basic``: only ints, slices, None and Ellipsis (a view)."""
    t = type(index)
    if t is int:  # the common cases first
        return (index, Ellipsis), True
    if t is slice and (index.step is None or index.step > 0):
        return (index, Ellipsis), True
    items = tuple(_convert_one(i) for i in index) if t is tuple else (_convert_one(index),)
    has_int = has_array = has_ellipsis = False
    basic = True
    for i in items:
        ti = type(i)
        if ti is slice:
            if i.step is not None and i.step <= 0:
                raise ValueError(
                    f"getitem: step must be greater than zero, got {i.step}; use .flip(dim) to reverse"
                )
        elif ti is int:
            has_int = True
        elif i is Ellipsis:
            has_ellipsis = True
        elif i is None:
            pass
        elif ti is np.ndarray:
            has_array = True
            basic = False
        elif isinstance(i, np.integer):
            has_int = True
        else:  # bools and anything NumPy reads as an advanced index
            basic = False
    if has_int and has_array and shape is not None and not _advanced_adjacent(items):
        return _as_positions(items, shape), False
    return (items if has_ellipsis else items + (Ellipsis,)), basic


def _convert_one(i):
    if isinstance(i, Tensor):
        a = i._data
        if a.dtype.kind not in "biu":
            raise IndexError(
                f"getitem: tensors used as indices must be long, int, byte or bool tensors, got {i.dtype}"
            )
        if a.ndim == 0 and a.dtype.kind != "b" and type(a) is np.ndarray:
            return int(a)  # torch treats a 0-d integer tensor as an int (not a batched one: vmap)
        return a
    if type(i) is list:
        a = np.asarray([int(v) if isinstance(v, Tensor) else v for v in i])
        if a.dtype.kind == "f":
            raise IndexError("getitem: tensors used as indices must be integer or bool, got floats")
        return a
    return i


def _is_int(i) -> bool:
    return isinstance(i, int | np.integer) and not isinstance(i, bool | np.bool_)


def _advanced_adjacent(items: tuple) -> bool:
    """Whether NumPy sees the advanced indices (ints among them) side by side."""
    where = [k for k, i in enumerate(items) if isinstance(i, np.ndarray) or _is_int(i)]
    return where[-1] - where[0] == len(where) - 1


def _as_positions(items: tuple, shape: tuple) -> tuple:
    """Torch's reading of a mixed int/array index (ints first, then the arrays), as the integer
    arrays of the selected positions: a plain advanced index NumPy reads the same way."""
    first: list = []
    then: list = []
    for i in items:
        if isinstance(i, np.ndarray):
            first += [slice(None)] * (i.ndim if i.dtype == np.bool_ else 1)
            then.append(i)
        elif i is Ellipsis:
            first.append(i)
            then.append(i)
        elif _is_int(i):
            first.append(i)
        else:  # a slice or None: done by the first step, kept whole by the second
            first.append(i)
            then.append(slice(None))
    positions = np.arange(int(np.prod(shape)), dtype=np.intp).reshape(shape)
    try:
        selected = positions[tuple(first)][tuple(then)]
    except IndexError as e:
        raise IndexError(f"getitem: {e} (tensor of shape {shape_str(shape)})") from None
    return np.unravel_index(selected, shape) + (Ellipsis,)


@defop(
    "getitem",
    saves_inputs=False,
    formula="{g0} = {gy} written into zeros of {x0}'s shape at the indexed places",
)
def _getitem(F, g, xs, out, p, needs):
    shape, index, dtype = p
    return (F.index_put_zeros(shape, index, g),)


def getitem(input: Tensor, index) -> Tensor:
    """``input[index]`` with ints, slices, None, Ellipsis, bool masks and integer tensors."""
    x = input._data
    idx, basic = _convert(index, x.shape)
    if not basic and type(x) is np.ndarray:
        x = lift_like(x, idx)  # vmap: index arrays batched, x not
    try:
        out = x[idx]
    except IndexError as e:
        if basic:
            raise IndexError(f"getitem: {e} (tensor of shape {shape_str(x.shape)})") from None
        out, idx = _empty_selection(x, idx, e)
    shown = _basic_shown(index) if basic else _AS_INDEX
    if basic and out.base is not None:  # ints, slices, None, ...: a view, as in torch
        return _make_view(out, shown, input, (x.shape, idx, x.dtype), (getitem, (idx,)))
    if not basic and type(out) is np.ndarray and not out.flags.c_contiguous:
        # NumPy lays a mix of slices and index arrays out in its own order; torch's result is a
        # new contiguous tensor, which .view() relies on
        out = np.ascontiguousarray(out)
    return make_result(out, shown, (input,), (x.shape, idx, x.dtype))


def _empty_selection(x, idx: tuple, error: IndexError) -> tuple:
    """``x[idx]`` where an integer index is out of range (NumPy's ``error``), as torch gives it:
    torch checks each index as it copies an element, so a selection of no elements (a dim
    sliced to nothing) checks none; an index into a dim of size 0 is an error all the same.
    Returns the empty result and the index that made it (every integer index 0)."""
    zeroed = tuple(np.zeros_like(i) if isinstance(i, np.ndarray) and i.dtype.kind in "iu" else i for i in idx)
    try:
        out = x[zeroed]
    except IndexError as again:
        if "out of bounds" not in str(again):  # not a bound at all (index shapes that mismatch)
            raise IndexError(f"getitem: {error} (tensor of shape {shape_str(x.shape)})") from None
        raise IndexError(
            f"getitem: index is out of bounds for dimension with size 0 (tensor of shape "
            f"{shape_str(x.shape)})"
        ) from None
    if out.size:
        raise IndexError(f"getitem: {error} (tensor of shape {shape_str(x.shape)})") from None
    return out, zeroed


# torch's node for x[index]: that of the last step torch takes (select for an int, slice for a
# slice other than ':', unsqueeze for None; an alias when there is none), IndexBackward0 for
# integer tensors and masks
_AS_ALIAS = _getitem.shown_as("AliasBackward0")
_AS_INDEX = _getitem.shown_as("IndexBackward0")
_FULL = slice(None)


def _basic_index_steps(index) -> list[str]:
    """torch's nodes for ``x[index]`` with a basic index, in the order torch makes them: one per
    int (select), slice other than ':' (slice) and None (unsqueeze)."""
    steps = []
    for item in index if type(index) is tuple else (index,):
        if item is None:
            steps.append("UnsqueezeBackward0")
        elif type(item) is slice:
            if item != _FULL:
                steps.append("SliceBackward0")
        elif item is not Ellipsis:
            steps.append("SelectBackward0")
    return steps


def _basic_shown(index):
    """``_basic_index_steps(index)[-1]``'s op, without making the list (this runs per call)."""
    for item in reversed(index) if type(index) is tuple else (index,):
        if type(item) is slice:
            if item.start is not None or item.stop is not None or item.step is not None:
                return _AS_SLICE
        elif item is None:
            return _AS_UNSQUEEZE
        elif item is not Ellipsis:
            return _AS_SELECT
    return _AS_ALIAS


_AS_SELECT = _getitem.shown_as("SelectBackward0")
_AS_SLICE = _getitem.shown_as("SliceBackward0")
_AS_UNSQUEEZE = _getitem.shown_as("UnsqueezeBackward0")


@defop("index_put_zeros", saves_inputs=False, formula="{g0} = ({gy})[index]")
def _index_put_zeros(F, g, xs, out, p, needs):
    shape, index = p
    return (F.getitem(g, index),)


def index_put_zeros(shape: tuple, index, values: Tensor) -> Tensor:
    """Zeros of ``shape`` with ``values`` added at ``index`` (getitem's adjoint, differentiable)."""
    v = values._data
    out = np.zeros(shape, v.dtype) if type(v) is np.ndarray else zeros_for(shape, v.dtype, v, index)
    if _is_basic(index):
        out[index] = v
    else:
        np.add.at(out, index, v)
    return make_result(out, _index_put_zeros, (values,), (shape, index))


@defop(
    "index_put",
    saves_inputs=False,
    formula=("{g0} = {gy} with the written places zeroed", "{g1} = ({gy})[index]"),
)
def _index_put(F, g, xs, out, p, needs):
    index, keep = p
    # selects (torch): an inf upstream at a written place gives 0 there, not inf * 0 = NaN
    grad_input = F.where(keep, g, F.zeros_like(g)) if needs[0] else None
    return grad_input, (F.getitem(g, index) if needs[1] else None)


@_quiet  # accumulating adds: silent where IEEE arithmetic gives inf or NaN, as torch
def index_put(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``values`` (broadcast) written at ``indices``, the out-of-place
    ``x[indices] = values``; with ``accumulate``, added there instead (repeated indices add up).

    ``indices`` is a tuple of index tensors (integer or bool), one per leading dim, as in torch,
    or any index that ``x[...]`` accepts.
    """
    x = input._data
    index = _convert_index(tuple(indices) if type(indices) is list else indices, x.shape)
    values = values if isinstance(values, Tensor) else _lift_tensor(values, x.dtype)
    v = values._data
    if accumulate and v.dtype != x.dtype:
        raise RuntimeError(
            f"Index put requires the source and destination dtypes match, got {x.dtype} for the "
            f"destination and {v.dtype} for the source."
        )
    out = copy_for(x, v, index)
    try:
        if accumulate:
            np.add.at(out, index, np.broadcast_to(v, out[index].shape))
        else:
            out[index] = v
    except IndexError as e:
        message = str(e).replace("for axis", "for dimension")
        raise IndexError(f"index_put: {message} (tensor of shape {shape_str(x.shape)})") from None
    except ValueError as e:
        raise RuntimeError(
            f"index_put: can't assign values of shape {shape_str(v.shape)} to the indexed part "
            f"of a tensor of shape {shape_str(x.shape)}: {e}"
        ) from None
    if accumulate:
        return make_result(out, _index_put_accumulate, (input, values), (index,))
    keep = full_for(x.shape, bool, True, index)
    keep[index] = False
    return make_result(out, _index_put, (input, values), (index, keep))


@defop(
    "index_put_accumulate",
    saves_inputs=False,
    formula=("{g0} = {gy}", "{g1} = ({gy})[index]  (summed over broadcast and repeats)"),
)
def _index_put_accumulate(F, g, xs, out, p, needs):
    (index,) = p
    return g, (F.getitem(g, index) if needs[1] else None)


def _lift_tensor(value, dtype) -> Tensor:
    """A number or array as a constant tensor of ``dtype``."""
    from .._tensor import wrap

    return wrap(np.asarray(value, dtype=dtype))
