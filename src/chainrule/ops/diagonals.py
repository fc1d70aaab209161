"""Matrix diagonals beyond the ``diagonal`` view (ops/shape.py): ``diag`` in both directions and
``trace``."""

from __future__ import annotations

import numpy as np

from ..autograd.graph import defop
from ._common import Tensor, as_array, as_tensor, make_result, shape_str, zeros_for
from .creation import clone
from .shape import _diagonal_index
from .shape import diagonal as diagonal_view

__all__ = ["diag", "trace"]


@defop("diag_embed", saves_inputs=False, formula="{g0} = the diagonal of {gy}")
def _diag_embed(F, g, xs, out, p, needs):
    return (F.getitem(g, p[0]),)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D ``input`` as the ``diagonal``-th diagonal of a square matrix (zeros elsewhere), or
    the ``diagonal``-th diagonal of a 2-D ``input`` as a new 1-D tensor (a copy, not a view).

    ``diagonal``: 0 the main diagonal, > 0 above it, < 0 below it.
    """
    input = as_tensor(input, "diag")
    v = input._data
    if v.ndim == 2:
        return clone(diagonal_view(input, diagonal))
    if v.ndim != 1:
        raise RuntimeError(
            f"diag(): Supports 1D or 2D tensors. Got {v.ndim}D (shape "
            f"{shape_str(v.shape)}); use torch.diagonal or diag_embed for batches"
        )
    n = v.shape[0] + abs(diagonal)
    index = _diagonal_index((n, n), diagonal, 0, 1)
    out = zeros_for((n, n), v.dtype, v, index)  # (under vmap: batched like v)
    out[index] = v
    return make_result(out, _diag_embed, (input,), (index,))


@defop("trace", saves_inputs=False, formula="{g0} = {gy} * I")
def _trace(F, g, xs, out, p, needs):
    shape, index = p
    return (F.index_put_zeros(shape, index, F.broadcast_to(g, index[0].shape)),)


def trace(input: Tensor) -> Tensor:
    """The sum of the main diagonal of a 2-D tensor (integers sum to int64, as torch)."""
    input = as_tensor(input, "trace")
    x = input._data
    if x.ndim != 2:
        raise RuntimeError(
            f"trace: expected a matrix, but got tensor with dim {x.ndim} (shape "
            f"{shape_str(x.shape)}); use torch.diagonal(x, 0, -2, -1).sum(-1) for "
            "a batch"
        )
    if x.dtype.kind == "b":
        raise NotImplementedError("\"trace\" not implemented for 'Bool'; convert first, e.g. x.int()")
    out = as_array(np.trace(x), np.int64 if x.dtype.kind in "biu" else x.dtype)  # (vmap-safe)
    return make_result(out, _trace, (input,), (x.shape, _diagonal_index(x.shape, 0, 0, 1)))
