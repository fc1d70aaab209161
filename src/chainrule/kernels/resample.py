"""Resampling along one dim with fixed taps, and its adjoint, on arrays (``chainrule.ops.resample``
makes them differentiable ops). Another array type (vmap's batched array) runs a dense matmul form
without in-place writes."""

from __future__ import annotations

import numpy as np

__all__ = ["resample_array", "resample_transpose_array"]


def _weights_shape(ndim: int, dim: int) -> list:
    shape = [1] * ndim
    shape[dim] = -1
    return shape


def _dense(rows: np.ndarray, weights: np.ndarray, n_in: int, dtype) -> np.ndarray:
    """The taps as a dense (n_out, n_in) matrix (repeated rows add up)."""
    m = np.zeros((rows.shape[1], n_in), dtype=dtype)
    for r, w in zip(rows, weights):
        np.add.at(m, (np.arange(rows.shape[1]), r), w)
    return m


def _along_last(a, dim: int, matrix: np.ndarray):
    """``a`` times ``matrix`` along ``dim`` (``a``'s dim moved last, multiplied, moved back): the
    form that another array type (vmap's batched array) runs through its matmul."""
    return np.swapaxes(np.swapaxes(a, dim, -1) @ matrix, dim, -1)


def resample_array(x: np.ndarray, dim: int, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``sum_j weights[j] * take(x, rows[j], dim)`` (weights broadcast along ``dim``)."""
    if type(x) is not np.ndarray:  # another array type: no in-place writes, one matmul
        return _along_last(x, dim, np.ascontiguousarray(_dense(rows, weights, x.shape[dim], x.dtype).T))
    shape = _weights_shape(x.ndim, dim)
    out = None
    for r, w in zip(rows, weights):
        part = np.take(x, r, axis=dim)
        part *= w.reshape(shape)
        if out is None:
            out = part
        else:
            out += part
    return out


def resample_transpose_array(g: np.ndarray, dim: int, rows: np.ndarray, weights: np.ndarray, n_in: int):
    """The adjoint of ``resample_array``: ``g``'s rows, weighted, added onto their source rows."""
    if type(g) is not np.ndarray:  # another array type: no in-place writes, one matmul
        return _along_last(g, dim, _dense(rows, weights, n_in, g.dtype))
    g_front = np.moveaxis(g, dim, 0)
    out = np.zeros((n_in,) + g_front.shape[1:], dtype=g.dtype)
    shape = [-1] + [1] * (g.ndim - 1)
    for r, w in zip(rows, weights):
        contribution = g_front * w.reshape(shape)
        if len(r) == 0:
            continue
        if np.all(r[1:] >= r[:-1]):  # runs of equal rows: one sum per run
            targets, starts = np.unique(r, return_index=True)
            out[targets] += np.add.reduceat(contribution, starts, axis=0)
        else:
            np.add.at(out, r, contribution)
    return np.ascontiguousarray(np.moveaxis(out, 0, dim))
