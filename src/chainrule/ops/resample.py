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
from ..kernels.resample import resample_array, resample_transpose_array
from ._common import Tensor, make_result

__all__: list = []  # internal: nn.functional.interpolate calls these


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
