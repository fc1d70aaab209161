"""Scatter-style reductions and flat indexing: scatter_reduce, index_reduce, take, put,
masked_scatter.

``scatter_reduce(x, dim, index, src, reduce)`` combines each ``src`` element into the place of
``x`` that ``index`` names (as scatter does) with sum, prod, mean, amax or amin; with
``include_self=False`` the places that receive something forget ``x``'s value first.
``index_reduce`` is the same along a dim with a vector index (its index is spread to ``src``'s
shape). The derivatives are torch's:

* sum: ``dl/dx = dl/dy``, ``dl/dsrc = dl/dy`` gathered at index;
* mean: both divided by the number of values that met at each place;
* prod: the product of the other values that met there, computed without dividing by a zero;
* amax/amin: the gradient is shared evenly among the values (of x and src) equal to the result.

The rule is written once against ``F`` from gather, scatter_add and scatter_reduce itself, so it
is differentiable again. take, put and masked_scatter are compositions of indexing ops.
"""

from __future__ import annotations

import numpy as np

from ..autograd.graph import defop
from ..autograd.math import register, tensor_math
from ._common import Tensor, as_tensor, make_result, normalize_dim, save_outputs, shape_str, wrap
from ._linalg_common import type_name
from .gather import _check_bounds, _check_gather_shapes, _grid, _index_array
from .index_checks import check_index_add_source

__all__ = ["scatter_reduce", "index_reduce", "take", "put", "masked_scatter"]

_REDUCES = ("sum", "prod", "mean", "amax", "amin")


# ---- the array kernel ----------------------------------------------------------------------------
def _identity(reduce: str, dtype: np.dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    if dtype.kind == "b":
        return reduce == "amin"
    info = np.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


_UFUNCS = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}


def _scatter_reduce_array(x, dim: int, index, src, reduce: str, include_self: bool):
    """The forward on arrays (``src`` has ``index``'s shape)."""
    idx = _grid(index, dim, index.shape)
    out = x.copy()
    if not include_self:
        out[idx] = _identity(reduce, x.dtype)
    _UFUNCS[reduce].at(out, idx, src)
    if reduce == "mean":
        counts = _counts(x.shape, dim, index, include_self, x.dtype if x.dtype.kind == "f" else np.int64)
        out = out / counts if x.dtype.kind == "f" else np.floor_divide(out, counts).astype(x.dtype)
    return out


def _counts(shape: tuple, dim: int, index, include_self: bool, dtype):
    """How many values met at each place (at least 1)."""
    counts = np.ones(shape, dtype) if include_self else np.zeros(shape, dtype)
    np.add.at(counts, _grid(index, dim, index.shape), 1)
    counts[counts == 0] = 1
    return counts


def _gather_array(a, dim: int, index):
    return a[_grid(index, dim, index.shape)]


def _scatter_add_array(a, dim: int, index, src):
    out = a.copy()
    np.add.at(out, _grid(index, dim, index.shape), src)
    return out


# ---- derivative ----------------------------------------------------------------------------------
def _scatter_reduce_rule(F, g, xs, out, p, needs):
    dim, index, reduce, include_self, shape = p
    x, src = xs
    if reduce == "sum":
        gx, gs = g, F.gather_along(g, dim, index)
    elif reduce == "mean":
        counts = _counts(shape, dim, index, include_self, F.dtype_of(g))
        gx = g / counts
        gs = F.gather_along(gx, dim, index)
    elif reduce == "prod":
        # x's zeros: the product of everything else at their place, by scattering into ones
        masked_x = F.where(x == 0, 1.0, x)
        gx = g * F.scatter_reduce_along(masked_x, dim, index, src, "prod", include_self) / masked_x
        src_zero = src == 0
        zeros_at = _scatter_add_array(np.zeros(x.shape), dim, index, _as_numpy(src_zero).astype(float))
        single_zero = _as_numpy(src_zero) & (_gather_array(zeros_at, dim, index) == 1)
        masked_src = F.where(single_zero, 1.0, src)
        others = F.scatter_reduce_along(x, dim, index, masked_src, "prod", include_self)
        gs = F.where(
            single_zero,
            F.gather_along(g * others, dim, index),
            F.gather_along(g * out, dim, index) / F.where(src_zero, 1.0, src),
        )
    else:  # amax, amin: the gradient shared evenly among the values equal to the result
        value = F.gather_along(out, dim, index)
        x_hit = _as_numpy(x == out)
        src_hit = _as_numpy(src == value)
        dtype = F.dtype_of(g)
        ties = _scatter_add_array(x_hit.astype(dtype), dim, index, src_hit.astype(dtype))
        # torch divides by the count as it is: where the result is NaN nothing equals it, the count
        # is 0 and the gradient there is g / 0 * 0 = NaN, in x and in src
        with np.errstate(divide="ignore", invalid="ignore"):
            shared = g / ties
        gx = shared * x_hit.astype(dtype)
        gs = F.gather_along(shared, dim, index) * src_hit.astype(dtype)
    if not include_self:
        written = np.ones(shape, dtype=bool)
        written[_grid(index, dim, index.shape)] = False
        gx = F.where(F.constant(written), gx, 0.0)  # torch writes zeros there (a NaN or inf too)
    return (gx if needs[0] else None), (gs if needs[1] else None)


# torch saves the inputs and the result whatever the reduction (so in-place changes of either
# raise at backward as in torch)
_scatter_reduce = defop(
    "scatter_reduce",
    saves_out=True,
    formula=(
        "{g0} = {gy} * d(reduce)/d{x0}  (prod: the others' product; amax/amin: ties share)",
        "{g1} = ({gy} * d(reduce)/d{x1}) gathered at index",
    ),
)(_scatter_reduce_rule)


def _as_numpy(t):
    """A comparison's values as a NumPy constant (they do not depend on anything differentiable)."""
    return t._data if isinstance(t, Tensor) else t


# ---- public ops ----------------------------------------------------------------------------------
def scatter_reduce(
    input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """A copy of ``input`` where each ``src[i][j]`` (dim 0) is combined into
    ``out[index[i][j]][j]`` by ``reduce``: 'sum', 'prod', 'mean', 'amax' or 'amin'.

    Parameters
    ----------
    input, src : Tensor
        The same dtype; ``src`` at least as large as ``index``.
    dim : int
    index : Tensor
        int64, with input's number of dims, no larger than input apart from ``dim``.
    reduce : str
    include_self : bool, default True
        Whether ``input``'s own value at a place takes part in its reduction (False: only the
        values scattered there; places that receive nothing keep ``input``'s value).

    Differentiable in ``input`` and ``src`` with torch's gradients (see the module docstring).
    """
    from .shape import reshape

    input, src = as_tensor(input, "scatter_reduce"), as_tensor(src, "scatter_reduce")
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # torch accepts these too
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    x = input._data
    d = normalize_dim(dim, x.ndim, "scatter_reduce")
    a = _index_array("scatter_reduce", index).astype(np.int64, copy=False)
    if src._data.dtype != x.dtype:
        raise RuntimeError(
            f"scatter_reduce(): Expected self.dtype to be equal to src.dtype (got {input.dtype} and "
            f"{src.dtype}); convert src with .to(input.dtype)"
        )
    if x.ndim == 0:  # as a one-element vector
        flat = scatter_reduce(
            reshape(input, (1,)),
            0,
            wrap(a.reshape(-1)),
            reshape(src, (-1,)),
            reduce,
            include_self=include_self,
        )
        return reshape(flat, ())
    _check_gather_shapes("scatter_reduce", x, a, d, src._data)
    _check_bounds("scatter_reduce", a, x.shape[d], d)
    if src._data.shape != a.shape:  # the part of src that is scattered (a differentiable slice)
        from .index import getitem

        src = getitem(src, np.ix_(*[np.arange(n) for n in a.shape]))
    out = _scatter_reduce_array(x, d, a, src._data, reduce, include_self)
    return make_result(out, _scatter_reduce, (input, src), (d, a, reduce, include_self, x.shape))


def index_reduce(
    input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """A copy of ``input`` where each slice ``source[..., i, ...]`` along ``dim`` is combined into
    the slice ``index[i]`` by ``reduce``: 'prod', 'mean', 'amax' or 'amin' (see
    ``scatter_reduce``, whose gradients it has)."""
    input, source = as_tensor(input, "index_reduce"), as_tensor(source, "index_reduce")
    if reduce not in _REDUCES[1:]:
        raise RuntimeError(
            f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}."
        )
    x = input._data
    d = normalize_dim(dim, x.ndim, "index_reduce")
    a = _index_array("index_reduce", index)
    if a.ndim > 1:
        raise IndexError(f"index_reduce_(): Index is supposed to be a vector, got shape {shape_str(a.shape)}")
    a = a.reshape(-1).astype(np.int64)
    s = source._data
    check_index_add_source("index_reduce", x, d, a.size, s)  # (before the indices, as torch's meta)
    size = x.shape[d] if x.ndim else 1
    if a.size and (a.min() < 0 or a.max() >= size):
        raise IndexError(
            f"index_reduce(): index out of range in self (indices must lie in [0, {size}) for dim {d} "
            f"of a tensor of shape {shape_str(x.shape)})"
        )
    if x.ndim == 0:
        return scatter_reduce(input, 0, wrap(a.reshape(())), source, reduce, include_self=include_self)
    lane = [1] * x.ndim
    lane[d] = a.size
    spread = np.broadcast_to(a.reshape(lane), s.shape).copy()
    return scatter_reduce(input, d, wrap(spread), source, reduce, include_self=include_self)


def _flat_index(who: str, index, numel: int) -> np.ndarray:
    """``index`` (int64) into a flattened tensor of ``numel`` elements, negatives wrapped."""
    a = as_tensor(index, who)._data
    if a.dtype != np.int64:
        raise RuntimeError(f"{who}(): Expected a long tensor for index, but got {type_name(a)}")
    if a.size and (a.min() < -numel or a.max() >= numel):
        bad = a.max() if a.max() >= numel else a.min()
        raise IndexError(
            f"{who}(): out of range: tried to access index {bad} on a tensor of {numel} elements."
        )
    return np.where(a < 0, a + numel, a)


def take(input: Tensor, index: Tensor) -> Tensor:
    """The elements of ``input`` read as a flat vector at ``index`` (int64; negatives count from
    the end); the result has ``index``'s shape. The gradient accumulates at repeated indices."""
    from .index import getitem
    from .shape import reshape

    input = as_tensor(input, "take")
    a = _flat_index("take", index, input._data.size)
    out = getitem(reshape(input, (-1,)), (a,))
    save_outputs(out, input)  # torch saves the input (for its shape): changing it in place fails backward
    return out


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``source``'s elements written (or, with ``accumulate``, added)
    at the flat positions ``index``."""
    from .index import index_put
    from .shape import reshape

    input, source = as_tensor(input, "put"), as_tensor(source, "put")
    a = _flat_index("put", index, input._data.size)
    if a.size != source._data.size:
        raise IndexError(
            f"put_(): Expected source and index to have the same number of elements, but got "
            f"source.numel() = {source._data.size}, index.numel() = {a.size}"
        )
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(
            f"put_(): self ({input.dtype}) and source ({source.dtype}) must have the same scalar type"
        )
    flat = index_put(reshape(input, (-1,)), (wrap(a.reshape(-1)),), reshape(source, (-1,)), accumulate)
    save_outputs(flat, source)  # torch saves the source (for its shape), as take its input
    return reshape(flat, input.shape)


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` (broadcast with ``mask``) whose places where ``mask`` is True take
    ``source``'s elements in order (row-major). ``source`` needs at least as many elements as
    ``mask`` has True values; the gradient of the unused ones is zero."""
    from .index import getitem, index_put
    from .shape import broadcast_to, reshape

    input, source = as_tensor(input, "masked_scatter"), as_tensor(source, "masked_scatter")
    m = as_tensor(mask, "masked_scatter")._data
    if m.dtype != np.bool_:
        raise RuntimeError(
            f"masked_scatter_ only supports boolean masks, but got mask with dtype {as_tensor(mask).dtype}"
        )
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(
            f"masked_scatter: expected self and source to have same dtypes but got {input.dtype} and "
            f"{source.dtype}"
        )
    try:
        shape = np.broadcast_shapes(input._data.shape, m.shape)
    except ValueError:
        raise RuntimeError(
            f"masked_scatter: the mask of shape {list(m.shape)} does not broadcast with the input "
            f"of shape {list(input.shape)}"
        ) from None
    m = np.broadcast_to(m, shape)
    count = int(m.sum())
    if count > source._data.size:
        raise RuntimeError(
            f"masked_scatter: Number of elements of source < number of ones in mask "
            f"({source._data.size} < {count})"
        )
    if shape != input._data.shape:
        input = broadcast_to(input, shape)
    values = getitem(reshape(source, (-1,)), (slice(0, count),))
    return index_put(input, (wrap(m),), values)


register(
    "gather_along",
    _gather_array,
    lambda t, dim, index: tensor_math().gather(t, dim, wrap(index)),
)
register(
    "scatter_reduce_along",
    _scatter_reduce_array,
    lambda t, dim, index, src, reduce, include_self: scatter_reduce(
        t, dim, wrap(index), src, reduce, include_self=include_self
    ),
)
