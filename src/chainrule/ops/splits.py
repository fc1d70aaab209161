"""Shape ops beyond ops/shape.py and ops/join.py: ``rot90``, ``repeat_interleave``, the split
family (``tensor_split``, ``hsplit``/``vsplit``/``dsplit``, ``split_with_sizes``, the ``unsafe_``
forms), ``adjoint``, and the ``*_copy`` functions (the result of a view op, as a new tensor).

All are compositions of registered ops (views, ``flip``, ``index_select``, ``clone``).
"""

from __future__ import annotations

import numpy as np

from .._record import mark_multi_output_views
from ._common import Tensor, as_tensor, normalize_dim, shape_str, wrap
from .creation import clone
from .gather import index_select, narrow, select
from .join import chunk, flip, split
from .shape import (
    _unfold_windows,
    as_strided,
    diagonal,
    expand,
    flatten,
    permute,
    squeeze,
    t,
    transpose,
    unsqueeze,
    view,
)

__all__ = [
    "rot90",
    "repeat_interleave",
    "tensor_split",
    "hsplit",
    "vsplit",
    "dsplit",
    "split_with_sizes",
    "unsafe_split",
    "unsafe_chunk",
    "unsafe_split_with_sizes",
    "adjoint",
    "narrow_copy",
    "alias_copy",
    "as_strided_copy",
    "detach_copy",
    "diagonal_copy",
    "expand_copy",
    "permute_copy",
    "select_copy",
    "slice_copy",
    "split_copy",
    "split_with_sizes_copy",
    "squeeze_copy",
    "t_copy",
    "transpose_copy",
    "unbind_copy",
    "unfold_copy",
    "unsqueeze_copy",
    "view_copy",
]


# ---- rot90 ---------------------------------------------------------------------------------------
def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """``input`` rotated by 90 degrees ``k`` times in the plane of ``dims``, from the first
    towards the second (``torch.rot90``)."""
    input = as_tensor(input, "rot90")
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = (normalize_dim(d, input.ndim, "rot90") for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return transpose(flip(input, (d1,)), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return transpose(flip(input, (d0,)), d0, d1)
    return clone(input)


# ---- repeat_interleave ---------------------------------------------------------------------------
def repeat_interleave(input: Tensor, repeats=None, dim: int | None = None, *, output_size: int | None = None):
    """Each element (or slice along ``dim``) repeated ``repeats`` times in place
    (``torch.repeat_interleave``). ``repeats`` is an int or a tensor (one count per slice, or a
    single count); without ``dim`` the input is flattened first. With ``input`` alone, it is the
    counts: the result repeats ``i`` ``input[i]`` times."""
    input = as_tensor(input, "repeat_interleave")
    if repeats is None:  # the one-argument form: indices repeated by the counts
        counts = input._data
        if counts.ndim != 1 or counts.dtype.kind not in "iu":
            raise RuntimeError(
                "repeat_interleave: repeats must be a 1-D integer tensor, got shape "
                f"{shape_str(counts.shape)} and dtype {counts.dtype.name}"
            )
        if counts.size and counts.min() < 0:
            raise RuntimeError("repeats can not be negative")
        return wrap(np.repeat(np.arange(counts.size, dtype=counts.dtype), counts))
    if dim is None:
        input = flatten(input)
        d = 0
    else:
        d = normalize_dim(dim, input.ndim, "repeat_interleave")
    n = input.shape[d] if input.ndim else 1
    if isinstance(repeats, Tensor):
        r = repeats._data
        if r.dtype.kind not in "iu":
            raise NotImplementedError(
                f"\"repeat_interleave_cpu\" not implemented for '{r.dtype.name}'; repeats must be integers"
            )
        if r.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        counts = np.broadcast_to(r, (n,)) if r.size == 1 else r
    else:
        counts = np.full(n, int(repeats))
    if counts.shape[0] != n:
        raise RuntimeError(
            f"repeats must have the same size as input along dim, but got repeats.size(0) = "
            f"{counts.shape[0]} and input.size({d}) = {n}"
        )
    if counts.size and counts.min() < 0:
        raise RuntimeError("repeats can not be negative")
    index = np.repeat(np.arange(n), counts)
    if output_size is not None and output_size != index.size:
        raise RuntimeError(
            f"repeat_interleave: output_size {output_size} does not match the total repeats {index.size}"
        )
    if input.ndim == 0:
        input = view(input, (1,))
    return index_select(input, d, wrap(index.astype(np.int64)))


# ---- the split family ----------------------------------------------------------------------------
def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Views of ``input`` split along ``dim`` (``torch.tensor_split``): an int ``n`` gives ``n``
    pieces whose sizes differ by at most one (the first ones larger); a list (or 1-D tensor) of
    indices splits before each index, as ``input[:i0], input[i0:i1], ..., input[ik:]``."""
    input = as_tensor(input, "tensor_split")
    if input.ndim == 0:
        raise RuntimeError(
            "tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims"
        )
    d = normalize_dim(dim, input.ndim, "tensor_split")
    n = input.shape[d]
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        if spec._data.dtype.kind not in "iu" or spec.ndim > 1:
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to have a Long dtype and be a 0-D "
                f"or 1-D tensor, got dtype {spec._data.dtype.name} and shape {shape_str(spec.shape)}"
            )
        spec = int(spec._data) if spec.ndim == 0 else [int(i) for i in spec._data]
    if isinstance(spec, int | np.integer):
        sections = int(spec)
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        size, extra = divmod(n, sections)
        bounds = np.cumsum([0] + [size + (1 if i < extra else 0) for i in range(sections)])
        starts, ends = bounds[:-1], bounds[1:]
    else:
        cuts = [int(i) for i in spec]
        starts = [0] + cuts
        ends = cuts + [n]
    pieces = []
    for s, e in zip(starts, ends):
        s = min(max(s + n if s < 0 else s, 0), n)
        e = min(max(e + n if e < 0 else e, 0), n)
        pieces.append(narrow(input, d, s, max(e - s, 0)))
    return mark_multi_output_views(tuple(pieces))


def _split_along(who: str, input, spec, d: int, min_dims: int) -> tuple:
    input = as_tensor(input, who)
    if input.ndim < min_dims:
        raise RuntimeError(
            f"torch.{who} requires a tensor with at least {min_dims} dimension, but got a tensor with "
            f"{input.ndim} dimensions!"
        )
    if isinstance(spec, int | np.integer) and (spec == 0 or input.shape[d] % spec):
        raise RuntimeError(
            f"torch.{who} attempted to split along dimension {d}, but the size of the dimension "
            f"{input.shape[d]} is not divisible by the split_size {spec}!"
        )
    return tensor_split(input, spec, d)


def hsplit(input: Tensor, indices_or_sections) -> tuple:
    """``tensor_split`` along dim 1 (dim 0 for a 1-D tensor); an int must divide the size."""
    input = as_tensor(input, "hsplit")
    return _split_along("hsplit", input, indices_or_sections, 1 if input.ndim >= 2 else 0, 1)


def vsplit(input: Tensor, indices_or_sections) -> tuple:
    """``tensor_split`` along dim 0 of a tensor with at least 2 dims; an int must divide the size."""
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input: Tensor, indices_or_sections) -> tuple:
    """``tensor_split`` along dim 2 of a tensor with at least 3 dims; an int must divide the size."""
    return _split_along("dsplit", input, indices_or_sections, 2, 3)


def split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """Views of the given sizes along ``dim``, which must add up to the dim's size."""
    return split(input, list(split_sizes), dim)


def unsafe_split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """``split`` with an int size (torch's version skips the view checks; here the pieces are
    ordinary views)."""
    if not isinstance(split_size_or_sections, int | np.integer):
        raise TypeError(
            f"unsafe_split(): argument 'split_size' (position 2) must be int, not "
            f"{type(split_size_or_sections).__name__}; use unsafe_split_with_sizes for a list"
        )
    return split(tensor, split_size_or_sections, dim)


def unsafe_split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """``split_with_sizes`` (see :func:`unsafe_split`)."""
    return split_with_sizes(input, split_sizes, dim)


def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """``chunk`` (see :func:`unsafe_split`)."""
    return chunk(input, chunks, dim)


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims, a view (for real tensors, ``mT``)."""
    input = as_tensor(input, "adjoint")
    if input.ndim < 2:
        raise RuntimeError(
            "tensor.adjoint() is only supported on matrices or batches of matrices. Got "
            f"{input.ndim}-D tensor."
        )
    return transpose(input, -2, -1)


# ---- the *_copy functions: a view op's result as a new tensor ------------------------------------
def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``narrow`` as a new tensor (not a view)."""
    return clone(narrow(input, dim, start, length))


def _copies(pieces: tuple) -> tuple:
    return tuple(clone(p) for p in pieces)


def alias_copy(input: Tensor) -> Tensor:
    """A copy of ``input`` (torch's alias, as a new tensor)."""
    return clone(as_tensor(input, "alias_copy"))


def as_strided_copy(input: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    """``as_strided`` as a new tensor."""
    return clone(as_strided(input, size, stride, storage_offset))


def detach_copy(input: Tensor) -> Tensor:
    """``detach`` as a new tensor."""
    return clone(as_tensor(input, "detach_copy").detach())


def diagonal_copy(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """``diagonal`` as a new tensor."""
    return clone(diagonal(input, offset, dim1, dim2))


def expand_copy(input: Tensor, size, *, implicit: bool = False) -> Tensor:
    """``expand`` as a new tensor."""
    return clone(expand(input, *size) if isinstance(size, list | tuple) else expand(input, size))


def permute_copy(input: Tensor, dims) -> Tensor:
    """``permute`` as a new tensor."""
    return clone(permute(input, dims))


def select_copy(input: Tensor, dim: int, index: int) -> Tensor:
    """``select`` as a new tensor."""
    return clone(select(input, dim, index))


def slice_copy(
    input: Tensor, dim: int = 0, start: int | None = None, end: int | None = None, step: int = 1
) -> Tensor:
    """``input[start:end:step]`` along ``dim`` as a new tensor."""
    input = as_tensor(input, "slice_copy")
    d = normalize_dim(dim, input.ndim, "slice_copy")
    if step <= 0:
        raise RuntimeError(f"slice step must be positive, got {step}")
    return clone(input[(slice(None),) * d + (slice(start, end, step),)])


def split_copy(tensor: Tensor, split_size, dim: int = 0) -> tuple:
    """``split`` as new tensors."""
    return _copies(split(tensor, split_size, dim))


def split_with_sizes_copy(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """``split_with_sizes`` as new tensors."""
    return _copies(split_with_sizes(input, split_sizes, dim))


def squeeze_copy(input: Tensor, dim=None) -> Tensor:
    """``squeeze`` as a new tensor."""
    return clone(squeeze(input, dim))


def t_copy(input: Tensor) -> Tensor:
    """``t`` as a new tensor."""
    return clone(t(input))


def transpose_copy(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """``transpose`` as a new tensor."""
    return clone(transpose(input, dim0, dim1))


def unbind_copy(input: Tensor, dim: int = 0) -> tuple:
    """``unbind`` as new tensors."""
    input = as_tensor(input, "unbind_copy")
    return tuple(clone(p) for p in input.unbind(dim))


def unfold_copy(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """``Tensor.unfold`` (sliding windows) as a new tensor."""
    return clone(_unfold_windows(as_tensor(input, "unfold_copy"), dimension, size, step))


def unsqueeze_copy(input: Tensor, dim: int) -> Tensor:
    """``unsqueeze`` as a new tensor."""
    return clone(unsqueeze(input, dim))


def view_copy(input: Tensor, size) -> Tensor:
    """``view`` as a new tensor."""
    return clone(view(input, size))
