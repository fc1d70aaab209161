"""View scatters: a copy of ``input`` with ``src`` written into one of its views (the diagonal, a
selected index, a slice, a strided window), and the in-place ``fill_diagonal_``.

Each is ``clone`` followed by an in-place ``copy_`` into the view, so the gradients are those of
the in-place machinery (torch's CopySlices): ``src`` receives the gradient of its region, ``input``
the gradient everywhere else.
"""

from __future__ import annotations

import numpy as np

from ._common import Tensor, as_tensor, normalize_dim, shape_str
from ._common import wrap as wrap_array  # (fill_diagonal_'s argument is torch's ``wrap``)
from .creation import clone, to
from .elementwise import where
from .index import getitem, index_put_zeros
from .inplace import apply_inplace, copy_
from .shape import _diagonal_index, _storage_places, reshape

__all__ = ["diagonal_scatter", "select_scatter", "slice_scatter", "as_strided_scatter", "fill_diagonal_"]


def _scatter_into(who: str, input, src, view_of) -> Tensor:
    """A clone of ``input`` with ``src`` copied into ``view_of(clone)`` (same shape, no broadcasting)."""
    input, src = as_tensor(input, who), as_tensor(src, who)
    out = clone(input)
    region = view_of(out)
    if tuple(region.shape) != tuple(src.shape):
        raise RuntimeError(
            f"{who}: expected src to have a size equal to the slice of self. src size = "
            f"{list(src.shape)}, slice size = {list(region.shape)}"
        )
    copy_(region, src)
    return out


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """A copy of ``input`` with ``src`` as its diagonal ``diagonal(input, offset, dim1, dim2)``
    (``torch.diagonal_scatter``; ``src`` has that view's shape).

    Written with an index rather than the diagonal view (a strided view of the storage), so that
    vmap batches it: ``where(on the diagonal, src placed there, input)``.
    """
    who = "diagonal_scatter"
    input, src = as_tensor(input, who), as_tensor(src, who)
    shape = tuple(input.shape)
    d1, d2 = normalize_dim(dim1, len(shape), who), normalize_dim(dim2, len(shape), who)
    if d1 == d2:
        raise RuntimeError(f"{who}: diagonal dimensions cannot be identical {dim1}, {dim2}")
    index = _diagonal_index(shape, offset, d1, d2)
    expected = np.broadcast_shapes(*(i.shape for i in index))
    if tuple(src.shape) != expected:
        raise RuntimeError(
            f"{who}: expected src to have a size equal to the slice of self. src size = "
            f"{list(src.shape)}, slice size = {list(expected)}"
        )
    mask = np.zeros(shape, dtype=bool)
    mask[index] = True
    placed = index_put_zeros(shape, index, to(src, input._data.dtype))
    return where(wrap_array(mask), placed, input)


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of ``input`` with ``src`` written at ``index`` along ``dim`` (``torch.select_scatter``)."""

    def view_of(t: Tensor) -> Tensor:
        d = normalize_dim(dim, t.ndim, "select_scatter")
        n = t.shape[d]
        if not -n <= index < n:
            raise IndexError(
                f"select_scatter(): index {index} out of range for tensor of size {list(t.shape)} at "
                f"dimension {d}"
            )
        return t[(slice(None),) * d + (index,)]

    return _scatter_into("select_scatter", input, src, view_of)


def slice_scatter(
    input: Tensor, src: Tensor, dim: int = 0, start: int | None = None, end: int | None = None, step: int = 1
) -> Tensor:
    """A copy of ``input`` with ``src`` written into ``input[start:end:step]`` along ``dim``
    (``torch.slice_scatter``)."""
    if step <= 0:
        raise RuntimeError(f"slice_scatter: slice step must be positive, got {step}")

    def view_of(t: Tensor) -> Tensor:
        d = normalize_dim(dim, t.ndim, "slice_scatter")
        return t[(slice(None),) * d + (slice(start, end, step),)]

    return _scatter_into("slice_scatter", input, src, view_of)


def as_strided_scatter(input: Tensor, src: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    """A copy of ``input`` with ``src`` written into ``as_strided(input, size, stride,
    storage_offset)`` (``torch.as_strided_scatter``), the storage being ``input``'s elements in
    row-major order. Where the window overlaps itself the last write wins (torch leaves that case
    unspecified); the overwritten elements of ``src`` get no gradient.

    Written with an index into the flattened input rather than a strided view, so that its
    backward never takes a strided view of an upstream gradient (which may be an expanded scalar).
    """
    who = "as_strided_scatter"
    input, src = as_tensor(input, who), as_tensor(src, who)
    size, stride = tuple(int(n) for n in size), tuple(int(n) for n in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"{who}: mismatch in length of strides and shape ({len(stride)} and {len(size)})")
    if tuple(src.shape) != size:
        raise RuntimeError(
            f"{who}: expected src to have a size equal to the slice of self. src size = "
            f"{list(src.shape)}, slice size = {list(size)}"
        )
    offset = int(storage_offset or 0)
    n = input.numel()
    places = _storage_places(size, stride, offset).reshape(-1)
    if places.size and (places.max() >= n or places.min() < 0):
        raise RuntimeError(
            f"{who}: setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset} "
            f"are out of bounds for storage of size {n}"
        )
    # the last write to each place wins: keep, for each place, the last element of src written there
    targets, last_from_end = np.unique(places[::-1], return_index=True)
    keep = places.size - 1 - last_from_end
    picked = getitem(reshape(to(src, input._data.dtype), (-1,)), (keep,))
    placed = index_put_zeros((n,), (targets,), picked)
    mask = np.zeros(n, dtype=bool)
    mask[targets] = True
    return reshape(where(wrap_array(mask), placed, reshape(input, (-1,))), tuple(input.shape))


def _diagonal_mask(shape: tuple, wrap_around: bool) -> np.ndarray:
    """Where ``fill_diagonal_`` writes: positions (i, i, ..., i); for a tall 2-D matrix with
    ``wrap_around``, the diagonal starts again every ``cols + 1`` rows (NumPy's flat stride)."""
    mask = np.zeros(shape, dtype=bool)
    n = min(shape)
    if len(shape) == 2 and wrap_around and shape[0] > shape[1] + 1:
        flat = mask.reshape(-1)
        flat[:: shape[1] + 1] = True
        return mask
    idx = np.arange(n)
    mask[(idx,) * len(shape)] = True
    return mask


def fill_diagonal_(self: Tensor, fill_value, wrap: bool = False) -> Tensor:
    """Fill the main diagonal (positions (i, i, ...)) with ``fill_value``, in place
    (``Tensor.fill_diagonal_``). ``self`` is 2-D, or has all dims of one length; with ``wrap``, a
    tall matrix's diagonal starts again after every ``cols + 1`` rows."""
    self = as_tensor(self, "fill_diagonal_")
    shape = tuple(self.shape)
    if len(shape) < 2:
        raise RuntimeError(f"fill_diagonal_: dimensions must larger than 1, got shape {shape_str(shape)}")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise RuntimeError(
            f"fill_diagonal_: all dimensions of input must be of equal length, got shape {shape_str(shape)}"
        )
    condition = wrap_array(_diagonal_mask(shape, wrap))
    value = wrap_array(np.asarray(fill_value).astype(self._data.dtype))
    return apply_inplace("fill_diagonal_", self, lambda: where(condition, value, self))
