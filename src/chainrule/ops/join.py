"""Joining, splitting and rearranging: cat, stack, split, chunk, unbind, repeat, flip, roll, tril.

Joining ops hand each input back its own slice of the upstream gradient; splitting ops return one
view per piece (each its own ``narrow``/``select`` node), so their gradients are those views'.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._record import mark_multi_output_views
from ..autograd.graph import defop
from ._common import Tensor, as_tensor, make_result, normalize_dim, normalize_dims, shape_str
from .creation import to
from .gather import narrow, select
from .shape import reshape

__all__ = [
    "cat",
    "concat",
    "concatenate",
    "stack",
    "hstack",
    "vstack",
    "split",
    "chunk",
    "unbind",
    "repeat",
    "tile",
    "flip",
    "fliplr",
    "flipud",
    "roll",
    "tril",
    "triu",
]


def _tensor_list(who: str, tensors) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, list | tuple):
        raise TypeError(
            f"{who}(): argument 'tensors' must be a tuple or list of Tensors, not {type(tensors).__name__}"
        )
    if not tensors:
        if who == "cat":  # torch raises ValueError for cat, RuntimeError for the others
            raise ValueError(f"{who}(): expected a non-empty list of Tensors")
        raise RuntimeError(f"{who} expects a non-empty TensorList")
    return [as_tensor(t, who) for t in tensors]


def _common_dtype(tensors: list) -> list:
    """The tensors converted (differentiably) to their promoted dtype, as torch.cat does."""
    dt = tensors[0]._data.dtype
    if all(t._data.dtype == dt for t in tensors):
        return tensors
    for t in tensors[1:]:
        dt = _dtype._promote_np(dt, t._data.dtype)

    return [to(t, dt) for t in tensors]


# ---- cat / stack -------------------------------------------------------------------------------
@defop("cat", saves_inputs=False, formula="{gi} = ({gy})[the slice of {y} that {xi} fills]")
def _cat(F, g, xs, out, p, needs):
    dim, bounds, legacy = p
    grads = []
    for need, a, b, skipped in zip(needs, bounds[:-1], bounds[1:], legacy):
        piece = F.getitem(g, (slice(None),) * dim + (slice(a, b), Ellipsis)) if need else None
        grads.append(F.reshape(piece, (0,)) if need and skipped else piece)  # its own (0,) shape
    return tuple(grads)


def cat(tensors, dim: int = 0, *, out=None) -> Tensor:
    """Join tensors along an existing dim; shapes must agree in every other dim.

    Parameters
    ----------
    tensors : a sequence of tensors (1-D empty tensors are skipped, as in torch).
    dim : the dim to join along.
    """
    tensors = _tensor_list("cat", tensors)
    for i, t in enumerate(tensors):
        if not t._data.shape:
            raise RuntimeError(
                f"cat: zero-dimensional tensor (at position {i}) cannot be "
                "concatenated; unsqueeze it first or use stack"
            )
    # 1-D empty tensors take no part in the shapes (torch's legacy rule) but do in the dtype and
    # the graph: each gets its (0,)-shaped gradient
    tensors = _common_dtype(tensors)
    legacy = [t._data.shape == (0,) for t in tensors]
    if all(legacy):
        legacy[0] = False
    arrays = [t._data for t, skipped in zip(tensors, legacy) if not skipped]
    d = normalize_dim(dim, arrays[0].ndim, "cat")
    try:
        data = np.concatenate(arrays, axis=d)
    except ValueError:
        _cat_error(arrays, d)
        raise
    bounds = [0]
    for t, skipped in zip(tensors, legacy):
        bounds.append(bounds[-1] + (0 if skipped else t._data.shape[d]))
    return make_result(data, _cat, tuple(tensors), (d, tuple(bounds), tuple(legacy)))


def _cat_error(arrays: list, d: int) -> None:
    first = arrays[0].shape
    for i, a in enumerate(arrays):
        s = a.shape
        if len(s) != len(first):
            raise RuntimeError(
                f"cat: Tensors must have same number of dimensions: got {len(first)} and {len(s)} "
                f"(shapes {shape_str(first)} and {shape_str(s)})"
            )
        for k, (n, m) in enumerate(zip(first, s)):
            if k != d and n != m:
                raise RuntimeError(
                    f"cat: Sizes of tensors must match except in dimension {d}. Expected size {n} "
                    f"but got size {m} for tensor number {i} in the list (shapes "
                    f"{shape_str(first)} and {shape_str(s)})."
                )


concat = concatenate = cat


@defop("stack", saves_inputs=False, formula="{gi} = the slice of {gy} at {xi}'s place along the new dim")
def _stack(F, g, xs, out, p, needs):
    dim = p[0]
    return tuple(
        F.getitem(g, (slice(None),) * dim + (i, Ellipsis)) if need else None for i, need in enumerate(needs)
    )


def stack(tensors, dim: int = 0, *, out=None) -> Tensor:
    """Join equally shaped tensors along a new dim ``dim``."""
    tensors = _common_dtype(_tensor_list("stack", tensors))
    first = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != first:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got "
                f"{list(first)} at entry 0 and {list(t._data.shape)} at entry {i}"
            )
    d = normalize_dim(dim, len(first) + 1, "stack")
    data = np.stack([t._data for t in tensors], axis=d)
    return make_result(data, _stack, tuple(tensors), (d,))


def hstack(tensors) -> Tensor:
    """Join along dim 1 (dim 0 for 1-D tensors)."""
    tensors = [reshape(t, (1,)) if t._data.ndim == 0 else t for t in _tensor_list("hstack", tensors)]
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Join along dim 0, 1-D tensors becoming rows."""
    tensors = [reshape(t, (1, -1)) if t._data.ndim < 2 else t for t in _tensor_list("vstack", tensors)]
    return cat(tensors, 0)


# ---- split / chunk / unbind: one view node per piece ---------------------------------------------
def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of ``split_size_or_sections`` along ``dim`` (an int: equal pieces, the last one
    smaller; a list: those sizes, which must add up to the dim's size)."""
    tensor = as_tensor(tensor, "split")
    x = tensor._data
    if x.ndim == 0:
        raise RuntimeError("split: the input must have at least one dimension")
    d = normalize_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int | np.integer):
        size = int(split_size_or_sections)
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
        if size == 0 and n != 0:
            raise RuntimeError(
                f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}"
            )
        sizes = [min(size, n - s) for s in range(0, n, size)] if size else [0]
        sizes = sizes or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {d}), but got split_sizes={sizes}"
            )
    pieces, start = [], 0
    for s in sizes:
        pieces.append(narrow(tensor, d, start, s))
        start += s
    return mark_multi_output_views(tuple(pieces))


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """At most ``chunks`` pieces of size ceil(n / chunks) along ``dim``; the last may be smaller."""
    input = as_tensor(input, "chunk")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = normalize_dim(dim, input._data.ndim, "chunk")
    n = input._data.shape[d]
    if n == 0:  # torch: ``chunks`` empty pieces
        return mark_multi_output_views(tuple(narrow(input, d, 0, 0) for _ in range(chunks)))
    return split(input, -(-n // chunks), d)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim`` (each without that dim), as a tuple of views."""
    input = as_tensor(input, "unbind")
    if input._data.ndim == 0:
        raise IndexError("unbind: Dimension specified as 0 but tensor has no dimensions")
    d = normalize_dim(dim, input._data.ndim, "unbind")
    return mark_multi_output_views(tuple(select(input, d, i) for i in range(input._data.shape[d])))


# ---- repeat / tile -------------------------------------------------------------------------------
@defop(
    "repeat", saves_inputs=False, formula="{g0} = sum over the copies of {gy} (each copy's block added up)"
)
def _repeat(F, g, xs, out, p, needs):
    in_shape, sizes, padded = p
    blocks = []
    for r, s in zip(sizes, padded):
        blocks += [r, s]
    g = F.reshape(g, tuple(blocks))
    g = F.sum(g, axis=tuple(range(0, 2 * len(sizes), 2)))
    return (F.reshape(g, in_shape),)


def repeat(input: Tensor, *sizes) -> Tensor:
    """Tile the tensor ``sizes[i]`` times along dim i (``Tensor.repeat``; len(sizes) >= ndim)."""
    input = as_tensor(input, "repeat")
    if len(sizes) == 1 and not isinstance(sizes[0], int | np.integer):
        sizes = sizes[0]
    sizes = tuple(int(s) for s in sizes)
    x = input._data
    if len(sizes) < x.ndim:
        raise RuntimeError(
            f"repeat: Number of dimensions of repeat dims ({len(sizes)}) can not be smaller than "
            f"number of dimensions of tensor ({x.ndim}, shape {shape_str(x.shape)})"
        )
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"repeat: trying to create tensor with negative dimension: {sizes}")
    padded = (1,) * (len(sizes) - x.ndim) + x.shape
    data = np.tile(x.reshape(padded), sizes)
    return make_result(data, _repeat, (input,), (x.shape, sizes, padded))


def tile(input: Tensor, dims) -> Tensor:
    """Like ``repeat``, but ``dims`` shorter than ndim is padded with leading 1s."""
    input = as_tensor(input, "tile")
    dims = (dims,) if isinstance(dims, int | np.integer) else tuple(dims)
    return repeat(input, (1,) * (input._data.ndim - len(dims)) + dims)


# ---- flip / roll ---------------------------------------------------------------------------------
@defop("flip", saves_inputs=False, formula="{g0} = flip({gy}) along the same dims")
def _flip(F, g, xs, out, p, needs):
    return (F.flip(g, p[0]),)


def flip(input: Tensor, *args, dims=None) -> Tensor:
    """Reverse the order of the entries along ``dims`` (a copy, as in torch).

    ``flip(x, (0, 1))``, ``flip(x, dims=[0])`` and the method form ``x.flip(0, 1)`` all work.
    """
    input = as_tensor(input, "flip")
    x = input._data
    if dims is None:
        if not args:
            raise TypeError("flip() missing required argument 'dims' (a tuple of ints)")
        dims = args[0] if len(args) == 1 else args
    dims = normalize_dims((dims,) if isinstance(dims, int | np.integer) else tuple(dims), x.ndim, "flip")
    return make_result(np.flip(x, dims).copy(), _flip, (input,), (dims,))


def fliplr(input: Tensor) -> Tensor:
    """Flip along dim 1 (at least 2-D)."""
    if as_tensor(input)._data.ndim < 2:
        raise RuntimeError("fliplr: Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    """Flip along dim 0 (at least 1-D)."""
    if as_tensor(input)._data.ndim < 1:
        raise RuntimeError("flipud: Input must be >= 1-d.")
    return flip(input, (0,))


@defop("roll", saves_inputs=False, formula="{g0} = roll({gy}) by the opposite shifts")
def _roll(F, g, xs, out, p, needs):
    shifts, dims = p
    back = tuple(-s for s in shifts) if isinstance(shifts, tuple) else -shifts
    return (F.roll(g, back, dims),)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift entries cyclically by ``shifts`` along ``dims`` (the flattened tensor when None)."""
    input = as_tensor(input, "roll")
    x = input._data
    if dims is None:
        if not isinstance(shifts, int | np.integer):
            shifts = tuple(shifts)
            if len(shifts) != 1:
                raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
            shifts = shifts[0]
        shifts, axes = int(shifts), None
    else:
        sh = (shifts,) if isinstance(shifts, int | np.integer) else tuple(shifts)
        ds = (dims,) if isinstance(dims, int | np.integer) else tuple(dims)
        if len(sh) != len(ds):
            raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(sh)}, dims:{len(ds)}")
        shifts = tuple(int(s) for s in sh)
        axes = tuple(normalize_dim(int(d), x.ndim, "roll") for d in ds)
    return make_result(np.roll(x, shifts, axes), _roll, (input,), (shifts, axes))


# ---- triangles -----------------------------------------------------------------------------------
@defop("tril", saves_inputs=False, formula="{g0} = tril({gy})")
def _tril(F, g, xs, out, p, needs):
    return (F.tril(g, p[0]),)


@defop("triu", saves_inputs=False, formula="{g0} = triu({gy})")
def _triu(F, g, xs, out, p, needs):
    return (F.triu(g, p[0]),)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (on and below ``diagonal``), zeros elsewhere."""
    input = as_tensor(input, "tril")
    if input._data.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return make_result(np.tril(input._data, diagonal), _tril, (input,), (int(diagonal),))


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (on and above ``diagonal``), zeros elsewhere."""
    input = as_tensor(input, "triu")
    if input._data.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return make_result(np.triu(input._data, diagonal), _triu, (input,), (int(diagonal),))
