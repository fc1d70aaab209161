"""Counting and searching: unique, unique_consecutive, searchsorted, bucketize, histc, histogram,
bincount, isin. None of them is differentiable (their results are positions and counts), as in
torch; each result is a fresh tensor that does not require grad.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from ._common import Tensor, as_tensor, normalize_dim, shape_str, wrap
from ._linalg_common import type_name
from .reduce_minmax import return_types

__all__ = [
    "unique",
    "unique_consecutive",
    "searchsorted",
    "bucketize",
    "histc",
    "histogram",
    "bincount",
    "isin",
]


def _results(values: np.ndarray, inverse, counts, return_inverse: bool, return_counts: bool):
    out = [wrap(values)]
    if return_inverse:
        out.append(wrap(inverse.astype(np.int64)))
    if return_counts:
        out.append(wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique(
    input: Tensor,
    sorted: bool = True,  # noqa: A002
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
):
    """The distinct elements (or, with ``dim``, the distinct slices along ``dim``), sorted.

    Returns the values, then (if asked) the int64 index of each input element (or slice) in
    them, and each value's count. Every NaN counts as distinct, as in torch. The result is
    sorted whatever ``sorted`` says (torch on CPU sorts too).
    """
    x = as_tensor(input, "unique")._data
    if dim is None:
        flat = x.reshape(-1)
        values, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True, equal_nan=False)
        return _results(values, inverse.reshape(x.shape), counts, return_inverse, return_counts)
    axis = normalize_dim(dim, x.ndim, "unique")
    if x.ndim == 0:
        raise IndexError(
            f"unique: Dimension out of range (expected to be in range of [-1, 0], but got {dim})"
        )
    if x.shape[axis] == 0 or x.size == 0:
        if x.shape[axis] != 0:
            raise RuntimeError(
                f"Number of zero sized dimensions is more than one, so unique cannot be applied "
                f"(input shape {shape_str(x.shape)})"
            )
        return _results(x.copy(), np.zeros(0), np.zeros(0), return_inverse, return_counts)
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True, axis=axis)
    return _results(values, inverse.reshape(-1), counts, return_inverse, return_counts)


def unique_consecutive(
    input: Tensor, return_inverse: bool = False, return_counts: bool = False, dim: int | None = None
):
    """Collapses each run of equal consecutive elements (or slices along ``dim``) to one.

    Returns the values, then (if asked) the int64 index of each input element's run, and each
    run's length.
    """
    x = as_tensor(input, "unique_consecutive")._data
    if dim is None:
        lanes = x.reshape(-1, 1)
        axis = None
    else:
        axis = normalize_dim(dim, x.ndim, "unique_consecutive")
        lanes = np.moveaxis(x, axis, 0).reshape(x.shape[axis] if x.ndim else 1, -1)
    n = lanes.shape[0]
    if n == 0:
        new = np.zeros(0, dtype=bool)
    else:
        new = np.ones(n, dtype=bool)
        new[1:] = np.any(lanes[1:] != lanes[:-1], axis=1)
    run = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, n))
    if axis is None:
        values = x.reshape(-1)[starts]
        inverse = run.reshape(x.shape)
    else:
        values = np.take(x, starts, axis=axis)
        inverse = run
    return _results(values, inverse, counts, return_inverse, return_counts)


# ---- searching -----------------------------------------------------------------------------------
def searchsorted(
    sorted_sequence: Tensor,
    input,
    *,
    out_int32: bool = False,
    right: bool = False,
    side: str | None = None,
    sorter: Tensor | None = None,
) -> Tensor:
    """For each element of ``input``, the index where it would go in ``sorted_sequence`` (sorted
    along its last dim) to keep it sorted: before equal elements (``right=False`` or
    ``side='left'``) or after them.

    ``sorted_sequence`` is 1-D, or has ``input``'s leading dims (one sorted lane per input
    lane). ``sorter`` gives the indices that sort an unsorted ``sorted_sequence``. ``input`` may
    be a number (a 0-d result).
    """
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError(
                "torch.searchsorted(): side and right can't be set to opposites, got side of left "
                "while right was True"
            )
        right = side == "right"
    seq = as_tensor(sorted_sequence, "searchsorted")._data
    values = as_tensor(input, "searchsorted")._data
    if sorter is not None:
        order = as_tensor(sorter, "searchsorted")._data
        if order.dtype != np.int64:
            raise RuntimeError("torch.searchsorted(): sorter must be a tensor of long dtype")
        if order.shape != seq.shape:
            raise RuntimeError(
                f"torch.searchsorted(): boundary and sorter must have the same size, but got "
                f"boundary tensor {list(seq.shape)} and got sorter tensor {list(order.shape)}"
            )
        if order.size and (order.min() < 0 or order.max() >= seq.shape[-1]):
            raise RuntimeError("torch.searchsorted(): sorter index out of range")
        seq = np.take_along_axis(seq, order, -1)
    if seq.ndim == 0:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 dimension"
        )
    how = "right" if right else "left"
    out_dtype = np.int32 if out_int32 else np.int64
    if seq.ndim == 1:
        return wrap(np.searchsorted(seq, values, side=how).astype(out_dtype))
    if values.ndim != seq.ndim or values.shape[:-1] != seq.shape[:-1]:
        raise RuntimeError(
            f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            f"dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(seq.shape)} and input value tensor {list(values.shape)}"
        )
    lanes = seq.reshape(-1, seq.shape[-1])
    vals = values.reshape(-1, values.shape[-1])
    out = np.stack([np.searchsorted(s, v, side=how) for s, v in zip(lanes, vals)]) if len(lanes) else vals
    return wrap(out.reshape(values.shape).astype(out_dtype))


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each element of ``input`` among the sorted 1-D ``boundaries``: ``i`` with
    ``boundaries[i-1] < x <= boundaries[i]`` (``right=False``) or
    ``boundaries[i-1] <= x < boundaries[i]`` (``right=True``)."""
    b = as_tensor(boundaries, "bucketize")._data
    if b.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({b.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """Whether each of ``elements`` is among ``test_elements`` (either may be a number)."""
    a = as_tensor(elements, "isin")._data
    b = as_tensor(test_elements, "isin")._data
    return wrap(np.isin(a, b, invert=invert))


# ---- histograms ----------------------------------------------------------------------------------
def _float_only(who: str, kernel: str, x: np.ndarray) -> None:
    if x.dtype.kind != "f":
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{type_name(x)}'; {who} needs "
            "a floating point input: convert first, e.g. x.float()"
        )


def _linspace(start: float, end: float, steps: int, dtype) -> np.ndarray:
    """torch.linspace's values: from the nearer end, so that both ends are exact."""
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    i = np.arange(steps)
    half = steps // 2
    return np.where(i < half, start + i * step, end - (steps - 1 - i) * step).astype(dtype)


def _range_of(who: str, x: np.ndarray, low: float, high: float) -> tuple[float, float]:
    if low == high and x.size:
        low, high = float(x.min()), float(x.max())
    if low == high:
        low, high = low - 1, high + 1
    if not (np.isfinite(low) and np.isfinite(high)):
        raise RuntimeError(f"{who}: range of [{low}, {high}] is not finite")
    return low, high


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """The counts of ``input``'s elements in ``bins`` equal-width bins over ``[min, max]`` (the
    data's range when both are 0); elements outside are ignored, ``max`` falls in the last bin.
    The counts have ``input``'s (floating) dtype."""
    x = as_tensor(input, "histc")._data
    _float_only("histc", "histogram_cpu", x)
    if bins <= 0:
        raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise RuntimeError("torch.histc: max must be larger than min")
    low, high = _range_of("torch.histc", x, float(min), float(max))
    edges = _linspace(low, high, bins + 1, x.dtype)
    return wrap(_bin_counts(x.reshape(-1), edges, None).astype(x.dtype))


def _bin_counts(x: np.ndarray, edges: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """Weighted counts in the bins between ``edges`` (the last bin closed on the right)."""
    bins = len(edges) - 1
    inside = (x >= edges[0]) & (x <= edges[-1])
    xs = x[inside]
    where = np.searchsorted(edges, xs, side="right") - 1
    where = np.minimum(where, bins - 1)  # the right edge belongs to the last bin
    w = None if weight is None else weight[inside]
    return np.bincount(where, weights=w, minlength=bins)[:bins]


def histogram(
    input: Tensor,
    bins=100,
    *,
    range: tuple | None = None,  # noqa: A002
    weight: Tensor | None = None,
    density: bool = False,
):
    """A histogram of ``input``: ``(hist, bin_edges)``.

    ``bins`` is a count of equal-width bins over ``range`` (the data's range by default) or a
    1-D tensor of increasing edges. ``weight`` weighs each element; ``density`` divides by the
    total and the bin widths, so that the histogram integrates to 1.
    """
    x = as_tensor(input, "histogram")._data
    _float_only("histogram", "histogram_histc_out", x)
    w = None
    if weight is not None:
        w = as_tensor(weight, "histogram")._data
        if w.shape != x.shape:
            raise RuntimeError(
                f"torch.histogram: if weight tensor is provided it should have the same shape as "
                f"the input tensor excluding its innermost dimension, but got input with shape "
                f"{list(x.shape)} and weight with shape {list(w.shape)}"
            )
        w = w.reshape(-1)
    if isinstance(bins, Tensor):
        edges = bins._data
        if edges.ndim != 1 or edges.size < 1:
            raise RuntimeError(
                "torch.histogram(): bins tensor should have one dimension and at least 1 element"
            )
        if edges.dtype != x.dtype:
            raise RuntimeError(
                f"torch.histogram: input tensor and bins tensors should have the same dtype, but got "
                f"input {_dtype.from_numpy_dtype(x.dtype)} and bins {bins.dtype}"
            )
    else:
        if int(bins) <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
        low, high = (0.0, 0.0) if range is None else (float(range[0]), float(range[1]))
        if low > high:
            raise RuntimeError(f"torch.histogram: min should not exceed max, but got min {low} max {high}")
        low, high = _range_of("torch.histogram", x, low, high)
        edges = _linspace(low, high, int(bins) + 1, x.dtype)
    hist = _bin_counts(x.reshape(-1), edges, w).astype(x.dtype) if edges.size > 1 else np.zeros(0, x.dtype)
    if density and hist.size:
        widths = np.diff(edges)
        hist = (hist / (hist.sum() * widths)).astype(x.dtype)
    return return_types.histogram(wrap(hist), wrap(edges.copy()))


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value ``0..max(input)`` occurs in the 1-D non-negative integer ``input``
    (at least ``minlength`` counts); with ``weights``, their sums instead, in their dtype."""
    x = as_tensor(input, "bincount")._data
    if x.dtype.kind in "fb":
        raise NotImplementedError(
            f"\"bincount_cpu\" not implemented for '{type_name(x)}'; bincount counts non-negative "
            "integers: convert first, e.g. x.long()"
        )
    if x.ndim != 1 or x.dtype.kind not in "biu" or (x.size and x.min() < 0):
        raise RuntimeError(
            f"bincount only supports 1-d non-negative integral inputs (got shape {shape_str(x.shape)}, "
            f"dtype {_dtype.from_numpy_dtype(x.dtype)})."
        )
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return wrap(np.bincount(x, minlength=minlength).astype(np.int64))
    w = as_tensor(weights, "bincount")._data
    if w.shape != x.shape:
        raise RuntimeError(
            "weights should be 1-d and have the same length as input "
            f"(got {list(w.shape)} and {list(x.shape)})"
        )
    out_dtype = w.dtype if w.dtype.kind == "f" else np.float64
    return wrap(np.bincount(x, weights=w.astype(np.float64), minlength=minlength).astype(out_dtype))
