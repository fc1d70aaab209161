"""Tensors built from others: diagonal matrices (``diag_embed``, ``diagflat``, ``block_diag``),
index sets (``tril_indices``, ``triu_indices``, ``unravel_index``), grids and products of sets
(``meshgrid``, ``cartesian_prod``, ``combinations``), ``vander``, the ``atleast_*d`` views, the
stacks ``column_stack``/``row_stack``/``dstack``, and trapezoidal integration.

All are compositions of registered differentiable ops (views, ``cat``, index, ``cumprod``, ...).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from .. import _dtype
from .._device import check_device as _check_device
from .._fpe import user_stacklevel as _user_stacklevel
from .._tensor import _TYPE_NAMES, Size
from ._common import Tensor, as_tensor, normalize_dim, shape_str, wrap
from .creation import to, zeros
from .diagonals import diag
from .index import getitem
from .join import cat, flip, hstack, stack, vstack
from .reduce import sum as reduce_sum
from .reduce_cumulative import cumprod, cumsum
from .scatters import diagonal_scatter
from .shape import expand, flatten, reshape, unsqueeze, view

__all__ = [
    "diag_embed",
    "diagflat",
    "tril_indices",
    "triu_indices",
    "cartesian_prod",
    "combinations",
    "block_diag",
    "meshgrid",
    "vander",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "column_stack",
    "row_stack",
    "dstack",
    "unravel_index",
    "trapezoid",
    "trapz",
    "cumulative_trapezoid",
]


# ---- diagonal matrices ---------------------------------------------------------------------------
def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices whose diagonal ``(offset, dim1, dim2)`` holds the last dim of ``input``, zeros
    elsewhere (``torch.diag_embed``): the result has one more dim than ``input``."""
    input = as_tensor(input, "diag_embed")
    nd = input.ndim + 1
    d1, d2 = normalize_dim(dim1, nd, "diag_embed"), normalize_dim(dim2, nd, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diag_embed: diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = (input.shape[-1] if input.ndim else 1) + abs(offset)
    rest = iter(input.shape[:-1])
    shape = tuple(n if d in (d1, d2) else next(rest) for d in range(nd))
    return diagonal_scatter(zeros(shape, dtype=input.dtype), input, offset, d1, d2)


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The flattened ``input`` as the ``offset``-th diagonal of a square matrix (``torch.diagflat``)."""
    return diag(flatten(as_tensor(input, "diagflat")), offset)


def block_diag(*tensors) -> Tensor:
    """A block-diagonal matrix of the given 0-d, 1-D or 2-D tensors (a 0-d one is a 1 x 1 block,
    a 1-D one a single row), in the promoted dtype (``torch.block_diag``)."""
    ts = [as_tensor(t, "block_diag") for t in tensors]
    for i, t in enumerate(ts):
        if t.ndim > 2:
            raise RuntimeError(
                f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                f"{t.ndim} dimensions"
            )
    if not ts:
        return zeros((1, 0))
    dtype = _dtype.result_type(*ts)
    blocks = [
        reshape(to(t, dtype), (1, -1) if t.ndim == 1 else (1, 1) if t.ndim == 0 else tuple(t.shape))
        for t in ts
    ]
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        r, c = b.shape
        parts = [zeros((r, left), dtype=dtype), b, zeros((r, width - left - c), dtype=dtype)]
        rows.append(cat(parts, 1))
        left += c
    return cat(rows, 0)


# ---- index sets ----------------------------------------------------------------------------------
def _triangle_indices(who: str, row: int, col: int, offset: int, dtype, upper: bool) -> Tensor:
    if row < 0 or col < 0:
        raise RuntimeError(
            f"{who}: row must be non-negative, got {row}"
            if row < 0
            else f"col must be non-negative, got {col}"
        )
    dtype = _dtype.to_numpy_dtype(dtype) if dtype is not None else np.int64
    if np.dtype(dtype).kind not in "iu":
        name = _TYPE_NAMES.get(np.dtype(dtype).name, np.dtype(dtype).name)
        raise NotImplementedError(f"\"{who}\" not implemented for '{name}'; use an integer dtype")
    rows, cols = np.nonzero(
        np.triu(np.ones((row, col), bool), offset) if upper else np.tril(np.ones((row, col), bool), offset)
    )
    return wrap(np.stack([rows, cols]).astype(dtype).reshape(2, -1))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The (2, N) coordinates of the lower triangle of a ``row`` x ``col`` matrix, row by row
    (``torch.tril_indices``); ``offset`` > 0 takes diagonals above the main one too."""
    if device is not None:
        _check_device(device)
    return _triangle_indices("tril_indices", row, col, offset, dtype, upper=False)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The (2, N) coordinates of the upper triangle of a ``row`` x ``col`` matrix, row by row
    (``torch.triu_indices``)."""
    if device is not None:
        _check_device(device)
    return _triangle_indices("triu_indices", row, col, offset, dtype, upper=True)


def unravel_index(indices: Tensor, shape) -> tuple:
    """The coordinates in an array of ``shape`` of flat (row-major) ``indices``: a tuple of int64
    tensors of ``indices``' shape (``torch.unravel_index``)."""
    indices = as_tensor(indices, "unravel_index")
    i = indices._data
    if i.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {i.dtype.name}")
    shape = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    # floor division and modulo, unchecked as in torch (out-of-range indices wrap around)
    flat = i.astype(np.int64)
    coords = []
    for size in reversed(shape):
        coords.append(flat % size if size else flat)
        flat = flat // size if size else flat
    return tuple(wrap(np.asarray(c)) for c in reversed(coords))


# ---- grids and products of sets ------------------------------------------------------------------
def _vectors(who: str, tensors) -> list:
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tensors[0]
    ts = [as_tensor(t, who) for t in tensors]
    for t in ts:
        if t.ndim > 1:
            raise RuntimeError(
                f"{who}: Expected 0D or 1D tensor in the tensor list but got a tensor of shape "
                f"{shape_str(t.shape)}"
            )
    return ts


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids: one expanded view per 1-D (or 0-d) input (``torch.meshgrid``).

    ``indexing='ij'`` gives grids of shape (len(t0), len(t1), ...); ``'xy'`` swaps the first two
    dims (NumPy's and MATLAB's convention). Without ``indexing`` it is 'ij', with torch's warning.
    """
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
            UserWarning,
            stacklevel=_user_stacklevel(),
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    ts = _vectors("torch.meshgrid", tensors)
    if not ts:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if len({t._data.dtype for t in ts}) > 1:
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    sizes = [max(t.numel(), 1) if t.ndim == 0 else t.shape[0] for t in ts]
    order = list(range(len(ts)))
    if indexing == "xy" and len(ts) >= 2:
        order[0], order[1] = 1, 0
    shape = tuple(sizes[k] for k in order)
    grids = []
    for k, t in enumerate(ts):
        pos = order.index(k)
        view = reshape(t, tuple(sizes[k] if d == pos else 1 for d in range(len(ts))))
        grids.append(expand(view, shape))
    return tuple(grids)


def cartesian_prod(*tensors) -> Tensor:
    """Every combination of one element from each 1-D tensor, as rows of a (N, k) tensor (a
    single tensor is returned as it is) (``torch.cartesian_prod``)."""
    ts = _vectors("cartesian_prod", tensors)
    for t in ts:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(ts) == 1:
        return ts[0]
    return stack([flatten(g) for g in meshgrid(*ts, indexing="ij")], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of a 1-D tensor's elements, as rows of a (N, r) tensor in
    ``itertools.combinations`` order (``torch.combinations``); ``r = 0`` gives an empty 1-D tensor."""
    input = as_tensor(input, "combinations")
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:  # (torch's result is detached here)
        return wrap(np.empty((0,), dtype=input._data.dtype))
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = np.array(list(pick(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return getitem(input, (rows,))


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of a 1-D tensor: columns ``x ** (N - 1)``, ..., ``x ** 0`` (or
    increasing powers) (``torch.vander``). Built by ``cumprod``, so x = 0 has finite gradients."""
    x = as_tensor(x, "vander")
    if x.ndim != 1:
        raise RuntimeError(f"x must be a one-dimensional tensor, got shape {shape_str(x.shape)}")
    if N is not None and N < 0:
        raise RuntimeError(f"N must be non-negative, got {N}")
    out = _powers(x, x.shape[0] if N is None else N)
    return out if increasing else flip(out, (-1,))


def _powers(x: Tensor, n: int) -> Tensor:
    """(..., len, n): x ** 0, x ** 1, ... along a new last dim (bools and ints as int64)."""
    if x._data.dtype.kind in "bu" or x._data.dtype.kind == "i":
        x = to(x, np.int64)
    if n == 0:
        return wrap(np.empty(tuple(x.shape) + (0,), dtype=x._data.dtype))
    ones = wrap(np.ones(tuple(x.shape) + (1,), dtype=x._data.dtype))
    if n == 1:
        return ones + 0 * unsqueeze(x, -1) if x.requires_grad else ones
    repeated = expand(unsqueeze(x, -1), tuple(x.shape) + (n - 1,))
    # the ones beside the product (as torch builds it), not inside it: cumprod's derivative over the
    # copies alone is torch's (g itself for one copy, where [1, inf] would give inf * 0 = NaN)
    return cat([ones, cumprod(repeated, -1)], -1)


def linalg_vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """``torch.linalg.vander``: increasing powers ``x ** 0 ... x ** (N - 1)`` along a new last
    dim, batched over ``x``'s dims."""
    x = as_tensor(x, "linalg.vander")
    if x.ndim < 1:
        raise RuntimeError("linalg.vander: x must have at least one dimension; use x.reshape(1)")
    n = x.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError(f"N must be greater than 1, got {n}")
    return _powers(x, n)


def tensor_new(self: Tensor, *args) -> Tensor:
    """``Tensor.new``, torch's legacy constructor, in ``self``'s dtype: ``x.new(2, 3)`` or
    ``x.new(size)`` a tensor of that shape (zeros here; uninitialised in torch), ``x.new(data)``
    a tensor of that data (a tuple is data, as in torch), ``x.new(tensor)`` an alias of that
    tensor (it must have ``self``'s dtype), ``x.new()`` an empty 1-D tensor."""
    dtype = self._data.dtype
    if not args:
        return wrap(np.empty((0,), dtype=dtype))
    if all(isinstance(a, int | np.integer) and not isinstance(a, bool) for a in args):
        return wrap(np.zeros(tuple(int(a) for a in args), dtype=dtype))
    if len(args) == 1:
        (data,) = args
        if isinstance(data, Size):
            return wrap(np.zeros(tuple(data), dtype=dtype))
        if isinstance(data, Tensor):
            if data._data.dtype != dtype:
                raise TypeError(
                    f"new(): expected a tensor of dtype {dtype.name} (this tensor's), got "
                    f"{data._data.dtype.name}; convert it first, e.g. data.to(x.dtype)"
                )
            return view(data, tuple(data.shape))  # an alias of ``data``, with its history (as torch)
        return wrap(np.array(data, dtype=dtype))
    raise TypeError(f"new(): expected sizes (ints), a size, or data; got {args!r}")


# ---- at least k dims, and the stacks built on them -----------------------------------------------
def _atleast(who: str, tensors, fix):
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        return tuple(fix(as_tensor(t, who)) for t in tensors[0])
    if len(tensors) == 1:
        return fix(as_tensor(tensors[0], who))
    return tuple(fix(as_tensor(t, who)) for t in tensors)


def atleast_1d(*tensors):
    """``input`` viewed with at least 1 dim (0-d becomes (1,)); several inputs give a tuple."""
    return _atleast("atleast_1d", tensors, lambda t: reshape(t, (1,)) if t.ndim == 0 else t)


def atleast_2d(*tensors):
    """``input`` viewed with at least 2 dims: () -> (1, 1), (n,) -> (1, n)."""
    return _atleast(
        "atleast_2d", tensors, lambda t: reshape(t, (1, -1) if t.ndim == 1 else (1, 1)) if t.ndim < 2 else t
    )


def _three(t: Tensor) -> Tensor:
    if t.ndim == 0:
        return reshape(t, (1, 1, 1))
    if t.ndim == 1:
        return reshape(t, (1, t.shape[0], 1))
    if t.ndim == 2:
        return unsqueeze(t, -1)
    return t


def atleast_3d(*tensors):
    """``input`` viewed with at least 3 dims: () -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    return _atleast("atleast_3d", tensors, _three)


def _list(who: str, tensors) -> list:
    if isinstance(tensors, Tensor):
        raise TypeError(f"{who}(): argument 'tensors' must be tuple of Tensors, not Tensor")
    return [as_tensor(t, who) for t in tensors]


def column_stack(tensors, *, out=None) -> Tensor:
    """The tensors side by side as columns: 0-d and 1-D ones become (n, 1) columns, then ``hstack``."""
    ts = _list("column_stack", tensors)
    if not ts:
        raise RuntimeError("column_stack expects a non-empty TensorList")
    return hstack([reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in ts])


def row_stack(tensors, *, out=None) -> Tensor:
    """``vstack`` (its alias)."""
    return vstack(_list("row_stack", tensors))


def dstack(tensors, *, out=None) -> Tensor:
    """The tensors stacked along the third dim, after ``atleast_3d`` (``torch.dstack``)."""
    ts = _list("dstack", tensors)
    if not ts:
        raise RuntimeError("dstack expects a non-empty TensorList")
    return cat([_three(t) for t in ts], 2)


# ---- trapezoidal integration ---------------------------------------------------------------------
def _spacing(who: str, y: Tensor, x, dx, dim: int):
    """(d, dim): the spacing (a number, or a tensor of the intervals along ``dim``)."""
    d = normalize_dim(dim, y.ndim, who)
    if x is not None and dx is not None:
        raise TypeError(f"{who}: pass x or dx, not both")
    if x is None:
        return d, 1.0 if dx is None else dx
    x = as_tensor(x, who)
    if x.ndim == 1:
        if x.shape[0] != y.shape[d]:
            raise RuntimeError(
                f"{who}: There must be one `x` value for each sample point, but x has {x.shape[0]} "
                f"values and y has {y.shape[d]} along dim {d}"
            )
        shape = [1] * y.ndim
        shape[d] = x.shape[0]
        x = reshape(x, tuple(shape))
    else:
        x = unsqueeze(x, 0) if x.ndim < y.ndim else x
    xd = normalize_dim(dim, x.ndim, who)
    n = x.shape[xd]
    hi = getitem(x, (slice(None),) * xd + (slice(1, n),))
    lo = getitem(x, (slice(None),) * xd + (slice(0, max(n - 1, 0)),))
    return d, hi - lo


def _halves(y: Tensor, d: int) -> Tensor:
    """(y[1:] + y[:-1]) / 2 along dim ``d``."""
    n = y.shape[d]
    hi = getitem(y, (slice(None),) * d + (slice(1, n),))
    lo = getitem(y, (slice(None),) * d + (slice(0, max(n - 1, 0)),))
    return (hi + lo) / 2


def trapezoid(y: Tensor, x: Tensor | None = None, *, dx=None, dim: int = -1) -> Tensor:
    """The trapezoidal rule along ``dim``: samples ``y`` at points ``x`` (or spaced ``dx``, 1 by
    default) (``torch.trapezoid``)."""
    y = as_tensor(y, "trapezoid")
    if y.ndim == 0:
        raise IndexError("trapezoid: Dimension out of range (expected to be in range of [-1, 0], but got -1)")
    d = normalize_dim(dim, y.ndim, "trapezoid")
    if y.shape[d] == 0 and (x is None or dx is None):
        # torch: no samples integrate to 0 of y's dtype, a constant, before x or the dtype is
        # looked at (an x of any length is accepted)
        return wrap(np.zeros(y.shape[:d] + y.shape[d + 1 :], dtype=y._data.dtype))
    if y._data.dtype.kind == "b":
        raise RuntimeError("trapezoid: received a bool input for `y`, but bool is not supported")
    d, spacing = _spacing("trapezoid", y, x, dx, dim)
    if y._data.dtype.kind in "biu":
        y = to(y, _dtype.to_numpy_dtype(_dtype.get_default_dtype()))
    if isinstance(spacing, Tensor) or y.shape[d] == 0:
        return reduce_sum(_halves(y, d) * spacing, d)
    # torch's constant-spacing form, dx (sum(y) - (y[0] + y[-1]) / 2): an inf end sample gives
    # inf - inf = NaN (and a single sample y - y), as torch's, where the sum of halves is inf
    ends = getitem(y, (slice(None),) * d + (0,)) + getitem(y, (slice(None),) * d + (-1,))
    return (reduce_sum(y, d) - ends * 0.5) * spacing


def trapz(y: Tensor, x: Tensor | None = None, *, dx=None, dim: int = -1) -> Tensor:
    """Alias of :func:`trapezoid`."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x: Tensor | None = None, *, dx=None, dim: int = -1) -> Tensor:
    """The running trapezoidal integral along ``dim`` (one element shorter than ``y``)
    (``torch.cumulative_trapezoid``)."""
    y = as_tensor(y, "cumulative_trapezoid")
    if y.ndim == 0:
        raise IndexError(
            "cumulative_trapezoid: Dimension out of range (expected to be in range of [-1, 0], but got -1)"
        )
    if y._data.dtype.kind == "b":
        raise RuntimeError("cumulative_trapezoid: received a bool input for `y`, but bool is not supported")
    d, spacing = _spacing("cumulative_trapezoid", y, x, dx, dim)
    if y._data.dtype.kind in "biu":
        y = to(y, _dtype.to_numpy_dtype(_dtype.get_default_dtype()))
    return cumsum(_halves(y, d) * spacing, d)
