"""Max/min-like reductions: max, min (full, per dim with indices, or element-wise), amax, amin,
argmax, argmin.

Two derivative rules, as in torch: reductions that return only values (``max(x)``, ``amax``)
split the upstream gradient evenly among tied maxima; those that also return indices
(``max(x, dim)``) send it to the selected index only.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd.graph import defop
from ._common import Tensor, as_array, as_tensor, make_result, normalize_dim, save_outputs, shape_str, wrap
from .elementwise import maximum, minimum
from .reduce import keep_dims, reduce_axes

__all__ = ["max", "min", "amax", "amin", "argmax", "argmin", "return_types"]


class return_types:  # noqa: N801  (torch.return_types)
    """The named tuples of reductions that return values and indices, like torch.return_types."""

    max = namedtuple("max", ["values", "indices"])
    min = namedtuple("min", ["values", "indices"])
    sort = namedtuple("sort", ["values", "indices"])
    topk = namedtuple("topk", ["values", "indices"])
    kthvalue = namedtuple("kthvalue", ["values", "indices"])
    median = namedtuple("median", ["values", "indices"])
    nanmedian = namedtuple("nanmedian", ["values", "indices"])
    mode = namedtuple("mode", ["values", "indices"])
    cummax = namedtuple("cummax", ["values", "indices"])
    cummin = namedtuple("cummin", ["values", "indices"])
    aminmax = namedtuple("aminmax", ["min", "max"])
    histogram = namedtuple("histogram", ["hist", "bin_edges"])


def values_and_indices(result_type, values: Tensor, indices: np.ndarray):
    """``result_type(values, indices)``, the indices as an int64 tensor that the values' node
    saved (as torch does): changing them in place fails that backward (``save_outputs``)."""
    indices = wrap(indices.astype(np.int64, copy=False))
    save_outputs(values, indices)
    return result_type(values, indices)


# ---- derivatives --------------------------------------------------------------------------------
def _spread_ties(F, g, xs, out, p, needs):
    """dl/dx = dl/dy * [x == y] / (number of ties): the gradient is shared evenly among ties."""
    axes, keepdim, nan_aware = p
    x = xs[0]
    nd = x.ndim
    y = keep_dims(F, out, axes, keepdim, nd)
    hit = x == y
    if nan_aware:  # torch's max()/min(): a nan result selects the nan elements
        hit = hit | (F.isnan(x) & F.isnan(y))
    count = F.sum(hit, axes, True)
    return ((keep_dims(F, g, axes, keepdim, nd) / count) * hit,)


_TIES = "{g0} = {gy} * [{x0} == {y}] / count({x0} == {y})  (ties share the gradient)"
max_op = defop("max", saves_out=True, formula=_TIES)(_spread_ties)
min_op = defop("min", saves_out=True, formula=_TIES)(_spread_ties)
amax_op = defop("amax", saves_out=True, formula=_TIES)(_spread_ties)
amin_op = defop("amin", saves_out=True, formula=_TIES)(_spread_ties)


def _to_selected(F, g, xs, out, p, needs):
    """dl/dx = dl/dy at the returned index along the dim, 0 elsewhere."""
    shape, axis, keepdim, indices = p
    if not shape:
        return (g,)
    lane = [1] * len(shape)
    lane[axis] = shape[axis]
    chosen = np.arange(shape[axis]).reshape(lane) == (indices if keepdim else np.expand_dims(indices, axis))
    return (F.where(chosen, keep_dims(F, g, (axis,), keepdim, len(shape)), 0.0),)


_SELECT = "{g0} = {gy} at the selected index, 0 elsewhere"
max_dim_op = defop("max_dim", saves_inputs=False, formula=_SELECT)(_to_selected)
min_dim_op = defop("min_dim", saves_inputs=False, formula=_SELECT)(_to_selected)


# ---- forwards -----------------------------------------------------------------------------------
def _needs_dim(who: str, x: np.ndarray, error=RuntimeError) -> None:
    if x.size == 0:
        raise error(
            f"{who}(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
            "reduction dim with the 'dim' argument."
        )


def _full(who: str, op, fn, input: Tensor, axes, keepdim: bool, nan_aware: bool) -> Tensor:
    x = input._data
    if axes is None or axes:
        _needs_dim(who, x) if axes is None else _nonempty_dims(who, x, axes)
    out = as_array(fn(x, axis=axes, keepdims=keepdim))
    return make_result(out, op, (input,), (axes, keepdim, nan_aware))


def _nonempty_dims(who: str, x: np.ndarray, axes) -> None:
    for a in axes:
        if x.shape[a] == 0:
            raise IndexError(
                f"{who}(): Expected reduction dim {a} to have non-zero size (input shape "
                f"{shape_str(x.shape)}); this reduction has no identity for empty dims"
            )


def _with_indices(who: str, op, fn, argfn, result_type, input: Tensor, dim, keepdim: bool):
    x = input._data
    axis = normalize_dim(int(dim), x.ndim, who)
    if x.ndim == 0:
        values = make_result(x.copy(), op, (input,), ((), 0, keepdim, None))
        return values_and_indices(result_type, values, np.asarray(0, dtype=np.int64))
    if x.shape[axis] == 0:
        _nonempty_dims(who, x, (axis,))
    indices = argfn(x, axis=axis, keepdims=True)
    values = np.take_along_axis(x, indices, axis)
    if not keepdim:
        indices = np.squeeze(indices, axis)
        values = np.squeeze(values, axis)
    out = make_result(values, op, (input,), (x.shape, axis, keepdim, indices))
    return values_and_indices(result_type, out, indices)


def _extremum(who: str, full_op, dim_op, fn, argfn, binary, result_type):
    def apply(input: Tensor, dim=None, keepdim: bool = False, *, other=None):
        input = as_tensor(input, who)
        if other is not None or isinstance(dim, Tensor):
            return binary(input, dim if other is None else other)
        if dim is None:
            if keepdim:
                raise TypeError(
                    f"{who}() received an invalid combination of arguments: keepdim "
                    f"needs a dim; use a{who}(x, dim=(...), keepdim=True) to keep all "
                    "dims"
                )
            return _full(who, full_op, fn, input, None, False, True)
        return _with_indices(who, dim_op, fn, argfn, result_type, input, dim, keepdim)

    apply.__name__ = who
    apply.__doc__ = (
        f"{who}(input): the {who}imum of all elements (0-d; ties share the gradient).\n"
        f"{who}(input, dim, keepdim=False): a named tuple (values, indices) along ``dim`` (the "
        "gradient goes to the returned index).\n"
        f"{who}(input, other): the element-wise {who}imum (``{binary.__name__}``)."
    )
    return apply


max = _extremum("max", max_op, max_dim_op, np.max, np.argmax, maximum, return_types.max)  # noqa: A001
min = _extremum("min", min_op, min_dim_op, np.min, np.argmin, minimum, return_types.min)  # noqa: A001


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """The maximum over ``dim`` (an int or a tuple; all when empty); ties share the gradient."""
    input = as_tensor(input, "amax")
    return _full("amax", amax_op, np.max, input, reduce_axes(dim, input.ndim, "amax"), keepdim, False)


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """The minimum over ``dim`` (an int or a tuple; all when empty); ties share the gradient."""
    input = as_tensor(input, "amin")
    return _full("amin", amin_op, np.min, input, reduce_axes(dim, input.ndim, "amin"), keepdim, False)


def _arg(who: str, fn):
    def apply(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
        input = as_tensor(input, who)
        x = input._data
        if x.dtype.kind == "b":
            raise RuntimeError(f"{who}(): does not support bool input; convert first, e.g. x.int()")
        if dim is None:
            _needs_dim(who, x, IndexError)
            out = as_array(fn(x), np.int64)
            return wrap(out.reshape((1,) * x.ndim) if keepdim else out)
        axis = normalize_dim(dim, x.ndim, who)
        if x.ndim == 0:
            return wrap(np.asarray(0, dtype=np.int64))
        if x.shape[axis] == 0:
            _nonempty_dims(who, x, (axis,))
        return wrap(as_array(fn(x, axis=axis, keepdims=keepdim), np.int64))

    apply.__name__ = who
    apply.__doc__ = (
        f"The index of the first {who[3:]}imum over ``dim`` (of the flattened input "
        "when None); int64, not differentiable."
    )
    return apply


argmax = _arg("argmax", np.argmax)
argmin = _arg("argmin", np.argmin)
