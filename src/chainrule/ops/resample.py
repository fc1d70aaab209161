"""Resampling along one dim with fixed taps (the linear and cubic modes of ``interpolate``), and
its adjoint, each a differentiable op.

For taps ``rows`` / ``weights`` of shape ``(taps, n_out)`` (``rows`` non-decreasing along each tap,
as interpolation makes them):

    y[..., i, ...] = sum_j weights[j, i] * x[..., rows[j, i], ...]          (along ``dim``)

The op is linear in ``x``, so its node keeps only the taps (no input, no intermediate: as torch's
upsampling keeps only sizes); ``dl/dx`` is the adjoint, which adds each output row's weighted
gradient onto its source rows (one ``add.reduceat`` per tap over the runs of equal rows), and the
adjoint's derivative is the op again, so gradients of any order follow.
"""

from __future__ import annotations

import numpy as np

from ..autograd.graph import defop
from ..autograd.math import register
from ._common import Tensor, make_result

__all__: list = []  # internal: nn.functional.interpolate calls these


def _weights_shape(ndim: int, dim: int) -> list:
    shape = [1] * ndim
    shape[dim] = -1
    return shape


def resample_array(x: np.ndarray, dim: int, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``sum_j weights[j] * take(x, rows[j], dim)`` (weights broadcast along ``dim``)."""
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


@defop(
    "resample_along",
    saves_inputs=False,
    formula="{g0} = {gy}'s rows times their weights, added onto their source rows",
)
def _resample_along(F, g, xs, out, p, needs):
    dim, rows, weights, n_in = p
    return (F.resample_along_transpose(g, dim, rows, weights, n_in),)


def resample_along(input: Tensor, dim: int, rows: np.ndarray, weights: np.ndarray) -> Tensor:
    """``y[.., i, ..] = sum_j weights[j, i] * input[.., rows[j, i], ..]`` along ``dim`` (arguments
    unchecked: ``nn.functional.interpolate`` makes them)."""
    x = input._data
    y = resample_array(x, dim, rows, weights.astype(x.dtype, copy=False))
    return make_result(y, _resample_along, (input,), (dim, rows, weights, x.shape[dim]))


@defop(
    "resample_along_transpose",
    saves_inputs=False,
    formula="{g0} = sum over taps of weight * {gy} at each source row",
)
def _resample_along_transpose(F, g, xs, out, p, needs):
    dim, rows, weights, n_in = p
    return (F.resample_along(g, dim, rows, weights),)


def resample_along_transpose(
    grad: Tensor, dim: int, rows: np.ndarray, weights: np.ndarray, n_in: int
) -> Tensor:
    """The adjoint of ``resample_along`` (its derivative in the input), as an op."""
    g = grad._data
    y = resample_transpose_array(g, dim, rows, weights.astype(g.dtype, copy=False), n_in)
    return make_result(y, _resample_along_transpose, (grad,), (dim, rows, weights, n_in))


register(
    "resample_along",
    lambda g, dim, rows, weights: resample_array(g, dim, rows, weights.astype(g.dtype, copy=False)),
    resample_along,
)
register(
    "resample_along_transpose",
    lambda g, dim, rows, weights, n_in: resample_transpose_array(
        g, dim, rows, weights.astype(g.dtype, copy=False), n_in
    ),
    resample_along_transpose,
)
