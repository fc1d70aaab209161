"""Embedding lookup as a differentiable op: ``y = weight[indices]``.

The gradient of a lookup is a scatter-add: ``dl/dweight[i]`` is the sum of ``dl/dy`` over every
position that looked up row ``i`` (repeated indices accumulate). Positions holding
``padding_idx`` contribute nothing, and ``scale_grad_by_freq`` divides each position's gradient
by how often its index occurs in the batch; both are a constant per-position factor. The scatter
(``index_put_zeros``) is itself differentiable: its adjoint is the lookup again.
"""

from __future__ import annotations

import numpy as np

from ..autograd.graph import defop
from ._common import Tensor, full_for, lift_like, make_result

__all__ = ["embedding_lookup"]


@defop(
    "embedding",
    saves_inputs=False,
    formula="{g0}[i] = sum of {gy} over the positions holding index i (0 for padding_idx)",
)
def _embedding(F, g, xs, out, p, needs):
    shape, indices, factor = p
    if not F.is_tensor and len(shape) == 2 and _summable(g, indices):
        return (_rows_summed(shape, indices, g, factor),)
    if factor is not None and F.is_tensor:
        # torch's double backward (embedding_dense_double_backward) zeroes padding_idx's positions
        # but does not divide by the frequency: the factor's value, padding's derivative
        keep = (factor != 0).astype(factor.dtype)
        g = g * keep + (g * (factor - keep)).detach()
    elif factor is not None:
        g = g * factor
    return (F.index_put_zeros(shape, (indices,), g),)


def _summable(g, indices) -> bool:
    return type(g) is np.ndarray and type(indices) is np.ndarray and g.dtype in _SPARSE_DTYPES


_SPARSE_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _rows_summed(shape: tuple, indices: np.ndarray, g: np.ndarray, factor) -> np.ndarray:
    """The scatter-add ``out[indices[k]] += factor[k] * g[k]`` as one sparse-times-dense product
    ``S @ g`` with ``S[indices[k], k] = factor[k]``: 5-8x faster than ``np.add.at`` (measured, 700
    rows of 256 into 10000: 1.1-1.4 ms against 6-10 ms; 16384 rows: 15-21 ms against 122-138 ms),
    and the padding / frequency factor rides along in S instead of a pass over g."""
    from scipy import sparse  # (imported on first use, not at chainrule's import: it is large)

    n = indices.size
    rows = g.reshape(n, shape[1])
    weights = np.ones(n, g.dtype) if factor is None else factor.reshape(n).astype(g.dtype, copy=False)
    s = sparse.csr_matrix((weights, (indices.reshape(n), np.arange(n))), shape=(shape[0], n))
    return np.asarray(s @ rows, dtype=g.dtype)


def embedding_lookup(
    weight: Tensor, indices: np.ndarray, padding_idx: int | None, scale_grad_by_freq: bool
) -> Tensor:
    """Rows ``weight[indices]`` (shape ``indices.shape + (embedding_dim,)``); ``indices`` are
    checked, non-negative ints; ``padding_idx`` is non-negative or None."""
    w = weight._data
    factor = None
    if scale_grad_by_freq or padding_idx is not None:
        factor = full_for(indices.shape + (1,), w.dtype, 1, indices)
        if scale_grad_by_freq:
            counts = np.bincount(indices.reshape(-1), minlength=w.shape[0])
            factor[..., 0] = 1 / counts[indices]
        if padding_idx is not None:
            factor[indices == padding_idx] = 0
    rows = (w if type(indices) is np.ndarray else lift_like(w, indices))[indices]
    return make_result(rows, _embedding, (weight,), (w.shape, indices, factor))
