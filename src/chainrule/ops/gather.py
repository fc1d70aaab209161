"""Gathering and scattering along a dim: gather, scatter, index_select, masked ops, narrow, select.

Every op here reads or writes the places named by one advanced NumPy index (``idx``), so the
derivatives come in two shapes only:

* a *read* ``y = x[idx]`` (gather, index_select, masked_select, take_along_dim, narrow, select):
  ``dl/dx = zeros with dl/dy added at idx`` (repeated indices accumulate);
* a *write* ``y = x; y[idx] = v`` (scatter, index_copy, index_fill, masked_fill):
  ``dl/dx = dl/dy with the written places zeroed`` and ``dl/dv = (dl/dy)[idx]``;
  an *add* ``y = x; y[idx] += v`` (scatter_add, index_add): ``dl/dx = dl/dy``,
  ``dl/dv = (dl/dy)[idx]``.

Both adjoints (``getitem``/``index_put_zeros``) are differentiable ops, so every rule is too.
"""

from __future__ import annotations

import numpy as np

from .._record import make_view as _make_view
from ..autograd._tables import tracked
from ..autograd.graph import defop
from ._common import (
    Tensor,
    all_samples,
    as_tensor,
    copy_for,
    full_for,
    lift_like,
    make_result,
    normalize_dim,
    shape_str,
    wrap,
)
from .creation import to
from .index_checks import (
    check_index_add_source,
    check_index_copy_source,
    check_index_fill_index,
    check_index_vector,
    index_add_out_of_range,
)
from .shape import broadcast_to, reshape

__all__ = [
    "gather",
    "scatter",
    "scatter_add",
    "index_select",
    "index_add",
    "index_copy",
    "index_fill",
    "masked_fill",
    "masked_select",
    "take_along_dim",
    "narrow",
    "select",
    "nonzero",
    "argwhere",
]


# ---- index helpers -------------------------------------------------------------------------------
def _index_array(who: str, index, *, allow_int32: bool = True) -> np.ndarray:
    """An integer index tensor's array (TypeError/RuntimeError like torch for other dtypes)."""
    if not isinstance(index, Tensor):
        if isinstance(index, list | tuple | int | np.ndarray):
            index = as_tensor(index, who)
        else:
            raise TypeError(f"{who}: index must be an integer Tensor, got {type(index).__name__}")
    a = index._data
    if a.dtype not in (np.int64, np.int32) or (a.dtype == np.int32 and not allow_int32):
        raise RuntimeError(
            f"{who}(): Expected dtype int32/int64 for index, got {index.dtype}; convert it with index.long()"
        )
    return a


def _check_bounds(who: str, a: np.ndarray, size: int, dim: int, negative_ok: bool = False) -> None:
    if a.size == 0:
        return
    lo, hi = int(all_samples(a).min()), int(all_samples(a).max())
    if hi >= size or lo < (-size if negative_ok else 0):
        bad = hi if hi >= size else lo
        raise RuntimeError(f"{who}: index {bad} is out of bounds for dimension {dim} with size {size}")


def _along(dim: int, a) -> tuple:
    """The index that applies ``a`` at ``dim`` and takes everything in the other dims."""
    return (slice(None),) * dim + (a, Ellipsis)


def _grid(index: np.ndarray, dim: int, shape: tuple) -> tuple:
    """gather/scatter's index: ``index`` at ``dim``, the position itself in every other dim."""
    grid = list(np.ogrid[tuple(slice(0, n) for n in shape)]) if shape else []
    grid[dim] = index
    return tuple(grid)


def _check_gather_shapes(
    who: str, x: np.ndarray, index: np.ndarray, dim: int, src: np.ndarray | None = None
) -> None:
    if index.ndim != max(x.ndim, 1) and not (x.ndim == 0 and index.ndim == 0):
        raise RuntimeError(
            f"{who}: index tensor must have the same number of dimensions as the input tensor "
            f"(index shape {shape_str(index.shape)}, input shape {shape_str(x.shape)})"
        )
    if index.size == 0:
        return  # nothing is read or written: torch checks no sizes either
    for d in range(x.ndim):
        too_big = (d != dim and index.shape[d] > x.shape[d]) or (
            src is not None and index.shape[d] > src.shape[d]
        )
        if too_big:
            raise RuntimeError(
                f"{who}: size does not match at dimension {d}: expected index "
                f"{list(index.shape)} to be no larger than self {list(x.shape)} apart from "
                f"dimension {dim}" + (f" and no larger than src {list(src.shape)}" if src is not None else "")
            )


# ---- reads: y = x[idx] ---------------------------------------------------------------------------
def _read_rule(F, g, xs, out, p, needs):
    shape, idx = p
    return (F.index_put_zeros(shape, idx, g),)


_READ = "{g0} = zeros of {x0}'s shape with {gy} added at the %s places (repeats accumulate)"
# torch's gather and masked_select save their input (their rules take it for its shape), so an
# in-place change of it fails backward; index_select saves the shape alone
_gather = defop("gather", formula=_READ % "gathered")(_read_rule)
_index_select = defop("index_select", saves_inputs=False, formula=_READ % "selected")(_read_rule)
_take_along_dim = defop("take_along_dim", formula=_READ % "taken")(_read_rule)  # (torch's is gather)
_masked_select = defop("masked_select", formula=_READ % "masked")(_read_rule)
_narrow = defop("narrow", saves_inputs=False, formula=_READ % "narrowed")(_read_rule)
_select = defop("select", saves_inputs=False, formula=_READ % "selected")(_read_rule)


def _read(input: Tensor, idx: tuple, op, replay: tuple | None = None) -> Tensor:
    """``input[idx]`` recorded as ``op``; a view of ``input`` when ``replay`` (the public
    function and its arguments that make it again) is given: ``idx`` is then a basic index."""
    x = input._data
    if replay is None:
        x = lift_like(x, idx)  # vmap: the index batched, the input shared (not batched)
    out = x[idx]
    if replay is not None:
        return _make_view(out, op, input, (x.shape, idx), replay)
    if type(out) is np.ndarray and not out.flags.c_contiguous:
        # NumPy lays a mixed index's result out with the indexed dim outermost (index_select
        # along a later dim); torch's result is contiguous, and view() of it works
        out = np.ascontiguousarray(out)
    return make_result(out, op, (input,), (x.shape, idx))


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j] = input[index[i][j]][j]`` (for dim 0): pick along ``dim`` at ``index``.

    Parameters
    ----------
    input : the source tensor.
    dim : the dim to index along.
    index : int64 tensor with input's number of dims; no larger than input apart from ``dim``.
    """
    input = as_tensor(input, "gather")
    x = input._data
    d = normalize_dim(dim, x.ndim, "gather")
    a = _index_array("gather", index)
    _check_gather_shapes("gather", x, a, d)
    if x.ndim == 0:  # as a one-element vector
        return reshape(gather(reshape(input, (1,)), 0, wrap(a.reshape(-1))), a.shape)
    _check_bounds("gather", a, x.shape[d], d)
    return _read(input, _grid(a, d, a.shape), _gather)


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """Gather ``indices`` along ``dim``, broadcasting input and indices in the other dims
    (the flattened input when ``dim`` is None), like NumPy's ``take_along_axis``."""
    input = as_tensor(input, "take_along_dim")
    a = _index_array("take_along_dim", indices)
    if dim is None or input._data.ndim == 0:
        input = reshape(input, (-1,))
        a = a.reshape(-1)
        d = 0
    else:
        if a.ndim != input._data.ndim:
            raise RuntimeError(
                f"take_along_dim(): input and indices should have the same number of dimensions, "
                f"but got {input._data.ndim} dimensions for input, and {a.ndim} dimensions for "
                "indices"
            )
        d = normalize_dim(dim, a.ndim, "take_along_dim")
        xs, ids = list(input._data.shape), list(a.shape)
        xs[d] = ids[d] = 1
        try:
            common = np.broadcast_shapes(tuple(xs), tuple(ids))
        except ValueError:
            raise RuntimeError(
                f"take_along_dim(): input of shape {list(input.shape)} and indices of shape "
                f"{list(a.shape)} don't broadcast apart from dimension {d}"
            ) from None
        in_shape = common[:d] + (input._data.shape[d],) + common[d + 1 :]
        if in_shape != input._data.shape:
            input = broadcast_to(input, in_shape)
        a = np.broadcast_to(a, common[:d] + (a.shape[d],) + common[d + 1 :])
    size = input._data.shape[d]
    _check_bounds("take_along_dim", a, size, d, negative_ok=True)
    a = np.where(a < 0, a + size, a)
    return _read(input, _grid(a, d, a.shape), _take_along_dim)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries at ``index`` (a vector) along ``dim``; repeated indices repeat rows."""
    input = as_tensor(input, "index_select")
    x = input._data
    d = normalize_dim(dim, x.ndim, "index_select")
    a = _index_array("index_select", index)
    if a.ndim > 1:
        raise IndexError(f"index_select(): Index is supposed to be a vector, got shape {shape_str(a.shape)}")
    size = x.shape[d] if x.ndim else 1
    if x.ndim == 0 and a.size != 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {a.size} value(s)")
    if a.size and (all_samples(a).min() < 0 or all_samples(a).max() >= size):
        _index_select_out_of_range(x.shape, d, size, a)
    if x.ndim == 0:
        return _read(input, (Ellipsis,), _index_select)
    return _read(input, _along(d, a.reshape(-1)), _index_select)


def _index_select_out_of_range(shape: tuple, d: int, size: int, index: np.ndarray) -> None:
    """Raise torch's error for an index outside ``[0, shape[d])``. torch's CPU kernel checks the
    indices in one of two loops: the one for dim 1 (and for any dim of an empty tensor) raises
    RuntimeError naming the first bad index, the general one IndexError."""
    where = f"indices must lie in [0, {size}) for dim {d} of a tensor of shape {shape_str(shape)}"
    if len(shape) > 1 and size == 0:
        raise RuntimeError(f"index_select(): self indexing axis dim should be positive ({where})")
    if len(shape) > 1 and (d == 1 or 0 in shape):
        bad = next(int(i) for i in index.reshape(-1) if not 0 <= i < size)
        raise RuntimeError(
            f"index_select(): INDICES element is out of DATA bounds, id={bad} axis_dim={size} ({where})"
        )
    raise IndexError(f"index_select(): index out of range in self ({where})")


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """A 1-D tensor of the entries where ``mask`` (bool, broadcast with input) is True."""
    input = as_tensor(input, "masked_select")
    m = _bool_mask("masked_select", mask)
    try:
        shape = np.broadcast_shapes(input._data.shape, m.shape)
    except ValueError:
        raise RuntimeError(
            f"masked_select: the mask of shape {list(m.shape)} does not broadcast "
            f"with the input of shape {list(input.shape)}"
        ) from None
    if shape != input._data.shape:
        input = broadcast_to(input, shape)
    return _read(input, (np.broadcast_to(m, shape),), _masked_select)


def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    """The view ``input[..., start:start + length, ...]`` along ``dim`` (start may be negative)."""
    input = as_tensor(input, "narrow")
    x = input._data
    if x.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = normalize_dim(dim, x.ndim, "narrow")
    start, length, size = int(start), int(length), x.shape[d]
    if not -size <= start <= size:
        raise IndexError(
            f"narrow: start out of range (expected to be in range of [{-size}, {size}], but got {start})"
        )
    start = start + size if start < 0 else start
    if length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return _read(input, _along(d, slice(start, start + length)), _narrow, (narrow, (d, start, length)))


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The view ``input[..., index, ...]`` at ``dim``: one dim fewer."""
    input = as_tensor(input, "select")
    x = input._data
    if x.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = normalize_dim(dim, x.ndim, "select")
    i, size = int(index), x.shape[d]
    if not -size <= i < size:
        raise IndexError(
            f"select(): index {i} out of range for tensor of size {list(x.shape)} at dimension {d}"
        )
    i = i + size if i < 0 else i
    return _read(input, _along(d, i), _select, (select, (d, i)))


# ---- writes: y = x; y[idx] = v -----------------------------------------------------------------
def _write_rule(F, g, xs, out, p, needs):
    idx, keep, src_shape, src_idx = p
    # where, not g * keep: an inf or NaN gradient at an overwritten place still gives 0 (torch)
    gx = F.where(keep, g, 0.0) if needs[0] else None
    if len(needs) == 1 or not needs[1]:
        return (gx,) if len(needs) == 1 else (gx, None)
    return gx, _picked(F, g, idx, src_shape, src_idx)


def _picked(F, g, idx, src_shape, src_idx):
    """``(dl/dy)[idx]``, placed back into a source larger than the index (zeros elsewhere)."""
    gv = F.getitem(g, idx)
    if src_idx is not None:
        gv = F.index_put_zeros(src_shape, src_idx, gv)
    return gv


_WRITE = ("{g0} = {gy} with the %s places zeroed", "{g1} = ({gy})[those places]")


def _written(how: str) -> tuple[str, str]:
    return (_WRITE[0] % how, _WRITE[1])


_scatter = defop("scatter", saves_inputs=False, formula=_written("scattered"))(_write_rule)
# torch's index_copy saves its source, for the shape of the source's gradient
_index_copy = defop("index_copy", reads=((), (1,)), formula=_written("copied"))(_write_rule)
_index_fill = defop("index_fill", saves_inputs=False, formula=_written("filled"))(_write_rule)
_masked_fill = defop("masked_fill", saves_inputs=False, formula=_written("masked"))(_write_rule)


def _write(input: Tensor, idx: tuple, value, op, src_idx=None) -> Tensor:
    """A copy of ``input`` with ``value`` (a tensor or a number) written at ``idx``."""
    x = input._data
    v = value._data if isinstance(value, Tensor) else None
    out = copy_for(x, v, idx)
    keep = full_for(x.shape, bool, True, idx)
    keep[idx] = False
    if isinstance(value, Tensor):
        v = value._data
        out[idx] = v if src_idx is None else v[src_idx]
        return make_result(out, op, (input, value), (idx, keep, v.shape, src_idx))
    out[idx] = value
    return make_result(out, op, (input,), (idx, keep, None, None))


def _value_arg(who: str, value, dtype) -> Tensor | float | int | bool:
    """A fill value: a number, or a 0-d tensor (converted to the input's dtype, differentiably)."""
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(
                f"{who} only supports a 0-dimensional value tensor, but got tensor "
                f"with {value._data.ndim} dimension(s)."
            )
        if not tracked(value):
            return value._data.item()

        return to(value, dtype) if value._data.dtype != dtype else value
    return value


def _check_src_dtype(who: str, x: np.ndarray, src: Tensor) -> None:
    if src._data.dtype != x.dtype:
        raise RuntimeError(
            f"{who}(): Expected self.dtype to be equal to src.dtype (got "
            f"{x.dtype} and {src._data.dtype}); convert src with .to(input.dtype)"
        )


def scatter(
    input: Tensor, dim: int, index: Tensor, src=None, value=None, *, reduce: str | None = None
) -> Tensor:
    """A copy of ``input`` with ``out[index[i][j]][j] = src[i][j]`` (for dim 0).

    ``src`` may be a tensor (at least as large as ``index``) or a number (``value``).
    ``reduce='add'`` is ``scatter_add``; other reductions are not supported.
    """
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter(): missing the src tensor or the value to scatter")
    if reduce is not None:
        if reduce == "add" and isinstance(src, Tensor):
            return scatter_add(input, dim, index, src)
        raise RuntimeError(
            f"scatter: reduce={reduce!r} is not supported; use scatter_add, or scatter without reduce"
        )
    input = as_tensor(input, "scatter")
    x = input._data
    d = normalize_dim(dim, x.ndim, "scatter")
    a = _index_array("scatter", index)
    if x.ndim == 0:  # as a one-element vector
        src = reshape(src, (-1,)) if isinstance(src, Tensor) else src
        return reshape(scatter(reshape(input, (1,)), 0, wrap(a.reshape(-1)), src), ())
    if isinstance(src, Tensor):
        _check_src_dtype("scatter", x, src)
        _check_gather_shapes("scatter", x, a, d, src._data)
    else:
        _check_gather_shapes("scatter", x, a, d)
    _check_bounds("scatter", a, x.shape[d], d)
    idx = _grid(a, d, a.shape)
    src_idx = None
    if isinstance(src, Tensor) and src._data.shape != a.shape:
        src_idx = tuple(np.ogrid[tuple(slice(0, n) for n in a.shape)])
    return _write(input, idx, src, _scatter, src_idx)


@defop("scatter_add", saves_inputs=False, formula=("{g0} = {gy}", "{g1} = ({gy}) gathered at index"))
def _scatter_add(F, g, xs, out, p, needs):
    idx, src_shape, src_idx = p
    return g, (_picked(F, g, idx, src_shape, src_idx) if needs[1] else None)


def _add_at(input: Tensor, idx: tuple, src: Tensor, src_idx, op, alpha=1) -> Tensor:
    x = input._data
    v = src._data if src_idx is None else src._data[src_idx]
    out = copy_for(x, v, idx)
    np.add.at(out, idx, v if alpha == 1 else v * alpha)
    return make_result(
        out, op, (input, src), (idx, src._data.shape, src_idx) + ((alpha,) if op is _index_add else ())
    )


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``input`` with ``out[index[i][j]][j] += src[i][j]`` (dim 0); repeats add up."""
    input = as_tensor(input, "scatter_add")
    src = as_tensor(src, "scatter_add")
    x = input._data
    d = normalize_dim(dim, x.ndim, "scatter_add")
    a = _index_array("scatter_add", index)
    _check_src_dtype("scatter_add", x, src)
    if x.ndim == 0:  # as a one-element vector
        return reshape(scatter_add(reshape(input, (1,)), 0, wrap(a.reshape(-1)), reshape(src, (-1,))), ())
    _check_gather_shapes("scatter_add", x, a, d, src._data)
    _check_bounds("scatter_add", a, x.shape[d], d)
    idx = _grid(a, d, a.shape)
    src_idx = None
    if src._data.shape != a.shape:
        src_idx = tuple(np.ogrid[tuple(slice(0, n) for n in a.shape)])
    return _add_at(input, idx, src, src_idx, _scatter_add)


@defop(
    "index_add",
    reads=((), (1,)),  # torch saves the source, for the shape of its gradient
    formula=("{g0} = {gy}", "{g1} = alpha * ({gy}) selected at index along dim"),
)
def _index_add(F, g, xs, out, p, needs):
    idx, src_shape, src_idx, alpha = p
    if not needs[1]:
        return g, None
    if idx is None:  # an empty input: the source was added nowhere (its gradient is 0)
        return g, F.broadcast_to(F.sum(g), src_shape)
    gs = F.getitem(g, idx)
    return g, (gs if alpha == 1 else gs * alpha)


def _index_along(who: str, x: np.ndarray, dim: int, index, source=None, alpha=1) -> tuple:
    """The index of index_add/index_copy/index_fill: a vector ``index`` at ``dim``, with torch's
    checks of the source first (ops/index_checks.py), then of the indices' range."""
    if who == "index_fill":  # (torch: the index's dtype, then the dim, then the index's dims)
        raw = _index_array(who, index)
        d = normalize_dim(dim, x.ndim, who)
        check_index_fill_index(raw)
    else:  # (the dim, then the index's dims, then its dtype)
        d = normalize_dim(dim, x.ndim, who)
        check_index_vector(who, index.ndim if isinstance(index, Tensor) else np.ndim(index))
        raw = _index_array(who, index)
    a = raw.reshape(-1)
    if who == "index_add":
        check_index_add_source(who, x, d, a.size, source)
    elif who == "index_copy":
        check_index_copy_source(x, d, a, source)
    size = x.shape[d] if x.ndim else 1
    lowest = -size if who == "index_fill" else 0  # torch wraps negative indices for index_fill only
    # torch looks at no index when an input of 2 or more dims is empty (nothing can be written)
    if (x.size or x.ndim < 2) and a.size and (a.min() < lowest or a.max() >= size):
        bad = int(a.max() if a.max() >= size else a.min())
        if who == "index_add":
            raise index_add_out_of_range(x, d, bad, raw.dtype, alpha)
        raise IndexError(
            f"{who}_(): index {bad} is out of bounds for dimension {d} with size {size} "
            f"(tensor of shape {shape_str(x.shape)})"
        )
    return _along(d, a) if x.ndim else (Ellipsis,)


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """A copy of ``input`` with ``alpha * source`` added at ``index`` along ``dim``; repeats add."""
    input = as_tensor(input, "index_add")
    source = as_tensor(source, "index_add")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(
            f"index_add_(): self ({input.dtype}) and source ({source.dtype}) must have the same scalar type"
        )
    idx = _index_along("index_add", input._data, dim, index, source._data, alpha)
    if input._data.size == 0 and input.ndim > 1:  # the indices may point anywhere (torch ignores them)
        out = input._data.copy()
        return make_result(out, _index_add, (input, source), (None, source._data.shape, None, alpha))
    return _add_at(input, idx, source, None, _index_add, alpha)


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` with ``source``'s slices written at ``index`` along ``dim``."""
    input = as_tensor(input, "index_copy")
    source = as_tensor(source, "index_copy")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(
            f"index_copy_(): self ({input.dtype}) and source ({source.dtype}) must have the same dtype"
        )
    idx = _index_along("index_copy", input._data, dim, index, source._data)
    if input.ndim == 0 and source.ndim:  # (torch takes a one-element source into a 0-d input)
        source = reshape(source, ())
    return _write(input, idx, source, _index_copy)


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """A copy of ``input`` with ``value`` (a number or 0-d tensor) at ``index`` along ``dim``."""
    input = as_tensor(input, "index_fill")
    idx = _index_along("index_fill", input._data, dim, index)
    if input._data.size == 0 and input.ndim > 1:  # nothing to fill, wherever the indices point
        idx = _along(normalize_dim(dim, input.ndim, "index_fill"), np.zeros(0, np.intp))
    return _write(input, idx, _value_arg("index_fill", value, input._data.dtype), _index_fill)


def _bool_mask(who: str, mask) -> np.ndarray:
    m = as_tensor(mask, who)._data
    if m.dtype != np.bool_:
        raise RuntimeError(
            f"{who} only supports boolean masks, but got mask with dtype "
            f"{as_tensor(mask).dtype}; use mask.bool()"
        )
    return m


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """``value`` (a number or 0-d tensor) where ``mask`` is True, ``input`` elsewhere; the result
    has the broadcast shape of input and mask."""
    input = as_tensor(input, "masked_fill")
    m = _bool_mask("masked_fill_", mask)
    value = _value_arg("masked_fill_", value, input._data.dtype)
    try:
        shape = np.broadcast_shapes(input._data.shape, m.shape)
    except ValueError:
        raise RuntimeError(
            f"masked_fill: the mask of shape {list(m.shape)} does not broadcast "
            f"with the input of shape {list(input.shape)}"
        ) from None
    if shape != input._data.shape:
        input = broadcast_to(input, shape)
    return _write(input, (np.broadcast_to(m, shape),), value, _masked_fill)


# ---- positions (not differentiable) --------------------------------------------------------------
def nonzero(input: Tensor, *, out=None, as_tuple: bool = False):
    """Indices of the nonzero entries: an (n, ndim) int64 tensor, or a tuple of ndim vectors."""
    x = as_tensor(input, "nonzero")._data
    if as_tuple:
        return tuple(wrap(a.astype(np.int64)) for a in np.nonzero(np.atleast_1d(x)))
    pos = np.argwhere(x).astype(np.int64)
    return wrap(pos.reshape(pos.shape[0], x.ndim))


def argwhere(input: Tensor) -> Tensor:
    """``nonzero(input)``: an (n, ndim) int64 tensor of positions."""
    return nonzero(input)
