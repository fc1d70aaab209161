"""Sampled-data numerics: ``torch.gradient`` (central differences) and ``torch.histogramdd``.

``gradient`` composes slices, constants and arithmetic, so it is differentiable to any order with
no op of its own; ``histogramdd`` counts (no gradient, as torch).
"""

from __future__ import annotations

from collections import namedtuple
from numbers import Number

import numpy as np

from .. import _dtype
from ._common import Tensor, as_tensor, normalize_dim
from .creation import to
from .join import cat

__all__ = ["gradient", "histogramdd"]

_WHO = "torch.gradient"


def _slice(x: Tensor, dim: int, start, stop) -> Tensor:
    index = [slice(None)] * x.ndim
    index[dim] = slice(start, stop)
    return x[tuple(index)]


def _along(values: np.ndarray, dim: int, ndim: int, dtype) -> Tensor:
    """A 1-D coefficient array shaped to broadcast along ``dim``."""
    shape = [1] * ndim
    shape[dim] = values.shape[0]
    return as_tensor(values.reshape(shape).astype(dtype))


def _one_dim(f: Tensor, dim: int, spacing, edge_order: int) -> Tensor:
    """The derivative along ``dim`` by second-order central differences inside and one-sided
    differences of order ``edge_order`` at the two ends (NumPy's and torch's formulas)."""
    dtype = f._data.dtype
    first, second, last, before_last = (_slice(f, dim, i, i + 1 or None) for i in (0, 1, -1, -2))
    if isinstance(spacing, Number):
        h = float(spacing)
        inner = (_slice(f, dim, 2, None) - _slice(f, dim, None, -2)) / (2.0 * h)
        if edge_order == 1:
            lo = (second - first) / h
            hi = (last - before_last) / h
        else:
            third, before_before = _slice(f, dim, 2, 3), _slice(f, dim, -3, -2)
            lo = (-1.5 * first + 2.0 * second - 0.5 * third) / h
            hi = (0.5 * before_before - 2.0 * before_last + 1.5 * last) / h
        return cat([lo, inner, hi], dim)
    x = np.asarray(spacing, np.float64)
    dx = np.diff(x)
    left, right = dx[:-1], dx[1:]
    a = -right / (left * (left + right))
    b = (right - left) / (left * right)
    c = left / (right * (left + right))
    inner = (
        _along(a, dim, f.ndim, dtype) * _slice(f, dim, None, -2)
        + _along(b, dim, f.ndim, dtype) * _slice(f, dim, 1, -1)
        + _along(c, dim, f.ndim, dtype) * _slice(f, dim, 2, None)
    )
    if edge_order == 1:
        lo = (second - first) / float(dx[0])
        hi = (last - before_last) / float(dx[-1])
    else:
        third, before_before = _slice(f, dim, 2, 3), _slice(f, dim, -3, -2)
        d1, d2 = dx[0], dx[1]
        lo = (
            first * float(-(2.0 * d1 + d2) / (d1 * (d1 + d2)))
            + second * float((d1 + d2) / (d1 * d2))
            + third * float(-d1 / (d2 * (d1 + d2)))
        )
        d1, d2 = dx[-2], dx[-1]
        hi = (
            before_before * float(d2 / (d1 * (d1 + d2)))
            + before_last * float(-(d2 + d1) / (d1 * d2))
            + last * float((2.0 * d2 + d1) / (d2 * (d1 + d2)))
        )
    return cat([lo, inner, hi], dim)


def gradient(input: Tensor, *, spacing=1, dim=None, edge_order: int = 1) -> tuple:
    """The derivative of a function sampled on a grid, one tensor per dim of ``dim`` (all dims by
    default), by central differences inside and one-sided differences at the edges.

    Parameters
    ----------
    spacing : number, list of numbers, or list of 1-D tensors
        The grid step (one for all dims, or one per dim), or each dim's sample coordinates.
    edge_order : int
        1 or 2: the order of accuracy of the edge differences.
    """
    f = as_tensor(input, _WHO)
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    if dim is None:
        dims = tuple(range(f.ndim))
        where = f"'self.dim() = {f.ndim}', since dim argument was not given"
    else:
        given = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = tuple(normalize_dim(d, f.ndim, _WHO) for d in given)
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"{_WHO}: dim {given} contains a repeated dimension")
        where = f"'dim.size() = {len(dims)}', since dim argument was given"
    if isinstance(spacing, (Number, Tensor)) and not (isinstance(spacing, Tensor) and spacing.ndim == 1):
        spacings = [float(spacing)] * len(dims)
    else:
        spacings = list(spacing)
        if len(spacings) != len(dims):
            raise RuntimeError(
                f"torch.gradient expected spacing to be unspecified, a scalar, or a list of length equal "
                f"to {where}, but got a list of length {len(spacings)}"
            )
    if f.dtype._kind < 2:
        f = to(f, _dtype.get_default_dtype())
    out = []
    for d, s in zip(dims, spacings):
        if f.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
        if isinstance(s, Tensor):
            if s.ndim != 1 or s.shape[0] != f.shape[d]:
                raise RuntimeError(
                    f"{_WHO}: expected each tensor of spacing to be 1-D of the size of its dim "
                    f"({f.shape[d]}), got shape {list(s.shape)}"
                )
            s = np.asarray(s.detach()._data)
        out.append(_one_dim(f, d, float(s) if isinstance(s, Number) else s, edge_order))
    return tuple(out)


histogramdd_return = namedtuple("histogramdd", ["hist", "bin_edges"])


def histogramdd(input: Tensor, bins=10, *, range=None, weight: Tensor | None = None, density: bool = False):  # noqa: A002
    """The D-dimensional histogram of the points ``input`` (..., D): counts (or weight sums, or
    densities) over a grid of bins, and each dim's bin edges.

    ``bins``: one count for all dims, a count per dim, or each dim's edges (1-D tensors).
    """
    who = "torch.histogramdd"
    x = as_tensor(input, who)
    if x.dtype._kind != 2:
        kind = {
            "int64": "Long",
            "int32": "Int",
            "int16": "Short",
            "int8": "Char",
            "uint8": "Byte",
            "bool": "Bool",
        }
        name = kind.get(str(x.dtype).split(".")[-1], str(x.dtype))
        raise NotImplementedError(
            f"\"histogramdd\" not implemented for '{name}' (convert the points with .double())"
        )
    if x.ndim < 1:
        raise RuntimeError(f"{who}: input should have at least 1 dimension")
    n_dims = x.shape[-1]
    points = np.asarray(x.detach()._data).reshape(-1, n_dims)
    dtype = points.dtype
    if isinstance(bins, int):
        bins_np = [bins] * n_dims
    else:
        bins_np = [np.asarray(b.detach()._data) if isinstance(b, Tensor) else int(b) for b in bins]
        if len(bins_np) != n_dims:
            raise RuntimeError(
                f"{who}: expected {n_dims} sequences of bin edges or counts, got {len(bins_np)}"
            )
    ranges = None
    if range is not None:
        flat = [float(v) for v in range]
        if len(flat) != 2 * n_dims:
            raise RuntimeError(
                f"{who}: expected {2 * n_dims} values in range for {n_dims} dims, got {len(flat)}"
            )
        ranges = [(flat[2 * i], flat[2 * i + 1]) for i in np.arange(n_dims)]
    weights = None
    if weight is not None:
        weights = np.asarray(as_tensor(weight, who).detach()._data).reshape(-1)
        if weights.shape[0] != points.shape[0]:
            raise RuntimeError(f"{who}: weight should have the same shape as input excluding its last dim")
    if ranges is None and points.shape[0] == 0:
        ranges = [(0.0, 1.0)] * n_dims
    hist, edges = np.histogramdd(points, bins=bins_np, range=ranges, weights=weights, density=density)
    if density and points.shape[0] == 0:
        hist = np.zeros_like(hist)
    return histogramdd_return(
        as_tensor(np.asarray(hist, dtype)), [as_tensor(np.asarray(e, dtype)) for e in edges]
    )
