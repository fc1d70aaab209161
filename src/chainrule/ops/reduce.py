"""Reductions. Each derivative spreads the upstream gradient back over the reduced dims."""

from __future__ import annotations

import numpy as np

from .. import _dtype
from ..autograd.graph import defop
from ._common import Tensor, as_tensor, make_result, normalize_dims


def _expand_back(F, g, in_shape: tuple, axes, keepdim: bool):
    """Undo a reduction's shape change: re-insert reduced dims, then broadcast to the input shape."""
    if axes is None:
        if not keepdim:
            g = F.reshape(g, (1,) * len(in_shape))
    elif not keepdim and axes:
        g = F.expand_dims(g, axes)
    return F.broadcast_to(g, in_shape)


@defop("sum", saves_inputs=False, formula="dl/dx = dl/dy broadcast back over the summed dims")
def _sum(F, g, xs, out, p, needs):
    in_shape, axes, keepdim = p
    return (_expand_back(F, g, in_shape, axes, keepdim),)


def _sum_dtype(x: np.ndarray, dtype):
    if dtype is not None:
        return _dtype.to_numpy_dtype(dtype)
    if x.dtype.kind in "biu":
        return np.dtype(np.int64)  # torch sums integers and bools in int64
    return None


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (all dims when None)."""
    input = as_tensor(input, "sum")
    x = input._data
    axes = normalize_dims(dim, x.ndim, "sum")
    if axes == () and dim is not None and not isinstance(dim, int):
        axes = None  # torch: an empty dim list reduces everything
    out = np.sum(x, axis=axes, keepdims=keepdim, dtype=_sum_dtype(x, dtype))
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    return make_result(out, _sum, (input,), (x.shape, axes, keepdim))


@defop("mean", saves_inputs=False, formula="dl/dx = dl/dy / n broadcast back over the dims")
def _mean(F, g, xs, out, p, needs):
    in_shape, axes, keepdim, n = p
    return (_expand_back(F, g / n, in_shape, axes, keepdim),)


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Arithmetic mean over ``dim`` (all dims when None); floating dtypes only, as in torch."""
    input = as_tensor(input, "mean")
    x = input._data
    if dtype is not None:
        x = x.astype(_dtype.to_numpy_dtype(dtype))
    if x.dtype.kind != "f":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype}; use x.float().mean()"
        )
    axes = normalize_dims(dim, x.ndim, "mean")
    if axes == () and dim is not None and not isinstance(dim, int):
        axes = None
    n = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
    out = np.mean(x, axis=axes, keepdims=keepdim)
    if type(out) is not np.ndarray:
        out = np.asarray(out, dtype=x.dtype)
    return make_result(out, _mean, (input,), (x.shape, axes, keepdim, n))
