"""The argument checks of index_add, index_reduce and index_copy, in torch 2.13's order and types.

torch checks the source's shape against the input before it looks at any index, and its two
families differ: index_add and index_reduce share one meta function (``index_func_meta_impl``:
a ``RuntimeError`` for a source whose shape, the indexed dim left out, is not the input's), while
index_copy has its own (an ``IndexError`` for a source of another number of dims or a wrong count
of indices, a ``RuntimeError`` for other slice shapes). Which type an index out of range raises
depends on the kernel torch runs, so it is decided here too (``index_add_out_of_range``).
"""

from __future__ import annotations

import numpy as np

from ._common import shape_str

__all__ = [
    "check_index_add_source",
    "check_index_copy_source",
    "check_index_fill_index",
    "check_index_vector",
    "index_add_out_of_range",
]


def _without(shape: tuple, dim: int) -> list:
    """``shape`` as a list with ``dim`` removed (a 0-d shape stays empty)."""
    return [n for k, n in enumerate(shape) if k != dim]


def check_index_vector(who: str, ndim: int) -> None:
    """index_add's and index_copy's index is a vector or a 0-d tensor (torch's ``IndexError``)."""
    if ndim > 1:
        if who == "index_copy":
            raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {ndim}); flatten it")
        raise IndexError(f"{who}_(): Index is supposed to be a vector, but got dim: {ndim}; flatten it")


def check_index_fill_index(index: np.ndarray) -> None:
    """index_fill's index: int64 only (``IndexError``), a vector or a 0-d tensor (``RuntimeError``)."""
    if index.dtype != np.int64:
        raise IndexError(
            f"index_fill_(): Expected dtype int64 for index, got {index.dtype}; use index.long()"
        )
    if index.ndim > 1:
        raise RuntimeError(
            f"index_fill_(): Index has to be a vector/scalar, got {index.ndim} dims; flatten it"
        )


def check_index_add_source(who: str, x: np.ndarray, dim: int, count: int, source: np.ndarray) -> None:
    """torch's checks of index_add's and index_reduce's ``source`` (``dim`` already wrapped).

    The count of indices must be ``source.size(dim)`` (1 for a 0-d source, whose size torch cannot
    name in its message: an ``IndexError``), then the shapes must agree but at ``dim``; a 0-d source
    matches only a 0-d input (torch refuses ``zeros(3).index_add(0, tensor([1]), tensor(1.))``,
    which index_copy accepts).
    """
    if dim and dim >= source.ndim:
        raise RuntimeError(
            f"{who}_(): Indexing dim {dim} is out of bounds of the source tensor with dim {source.ndim} "
            f"(source of shape {shape_str(source.shape)})"
        )
    if source.ndim == 0:
        if count != 1:
            raise IndexError(
                f"{who}_(): Number of indices ({count}) should be equal to source.size(dim), but the "
                "source is 0-d (Dimension specified as 0 but tensor has no dimensions); give it the "
                f"shape of the input {shape_str(x.shape)} with {count} at dim {dim}"
            )
    elif source.shape[dim] != count:
        raise RuntimeError(
            f"{who}_(): Number of indices ({count}) should be equal to source.size(dim): "
            f"({source.shape[dim]}), for dim: {dim} (self {shape_str(x.shape)}, source "
            f"{shape_str(source.shape)})"
        )
    keep_all = source.ndim == 0 or x.ndim == 0  # torch drops dim from both only when neither is 0-d
    ours = list(x.shape) if keep_all else _without(x.shape, dim)
    theirs = list(source.shape) if keep_all else _without(source.shape, dim)
    if ours != theirs:
        want = list(x.shape[:dim]) + [count] + list(x.shape[dim + 1 :]) if x.ndim else []
        raise RuntimeError(
            f"{who}(): source tensor shape must match self tensor shape, excluding the "
            f"specified dimension. Got self.shape = {list(x.shape)} source.shape = "
            f"{list(source.shape)} (expected {want})"
        )


def check_index_copy_source(x: np.ndarray, dim: int, index: np.ndarray, source: np.ndarray) -> None:
    """torch's checks of index_copy's ``source`` and ``index`` (``dim`` already wrapped), in its order:
    the number of dims (``IndexError``), the index's dtype (int64 only), the slice shapes
    (``RuntimeError``), the count of indices (``IndexError``). A 0-d source or input is a scalar:
    it skips the check of the number of dims."""
    count = index.size
    if source.ndim == 0 and count != 1:
        raise IndexError(f"index_copy_(): When source is scalar, index should have one element (got {count})")
    if source.ndim != x.ndim and source.ndim and x.ndim:
        raise IndexError(
            "index_copy_(): When source and destination are not scalars, their dimensionality must "
            f"match. Source dimensionality ({source.ndim}), destination dimensionality ({x.ndim})"
        )
    if index.dtype != np.int64:
        raise RuntimeError(
            f"index_copy_(): Expected a long tensor for index, but got {index.dtype}; "
            "convert it with index.long()"
        )
    ours, theirs = _without(x.shape, dim), _without(source.shape, dim)
    if ours != theirs:
        raise RuntimeError(
            "index_copy_(): Source/destination tensor must have same slice shapes. Destination slice "
            f"shape: {ours} at dimension {dim} and source slice shape: {theirs} at dimension 0."
        )
    if source.ndim and count != source.shape[dim]:
        raise IndexError(
            f"index_copy_(): Number of indices ({count}) should be equal to source.size(dim) "
            f"({source.shape[dim]})"
        )


def index_add_out_of_range(x: np.ndarray, dim: int, bad: int, index_dtype, alpha) -> Exception:
    """The error of index_add for the index ``bad`` outside ``[0, x.shape[dim])``.

    For an input of 2 or more dims indexed at its first or last dim with int64 indices and
    ``alpha`` 1, torch 2.13's CPU kernel runs as a scatter_add over the expanded index, whose bounds
    check is a ``RuntimeError``; every other call runs its serial loop, whose check is an
    ``IndexError``.
    """
    size = x.shape[dim] if x.ndim else 1
    where = f"indices must lie in [0, {size}) for dim {dim} of a tensor of shape {shape_str(x.shape)}"
    as_scatter = (
        x.ndim > 1
        and dim in (0, x.ndim - 1)
        and index_dtype == np.int64
        and not isinstance(alpha, bool | np.bool_)  # (torch's Scalar(True) is not equal to 1.0)
        and alpha == 1
    )
    if as_scatter:
        return RuntimeError(
            f"index_add(): index {bad} is out of bounds for dimension {dim} with size {size} ({where})"
        )
    return IndexError(f"index_add(): index out of range in self (index {bad}; {where})")
