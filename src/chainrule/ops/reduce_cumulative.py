"""Cumulative reductions along one dim: cumsum and cumprod, and their inverse, diff.

cumsum's derivative is the reversed cumulative sum of the upstream gradient. cumprod's is
``sum_{j>=k} dl/dy_j y_j / x_k`` when no input is zero; with zeros, torch's two zero-safe forms:
an O(n) one for a plain backward and an O(n^2) polynomial one when the gradient is differentiated
again (``create_graph=True``), so that second derivatives are right at zeros too.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from ..autograd.graph import defop
from ..autograd.math import ARRAY_MATH, register, tensor_math
from ._common import Tensor, any_true, as_tensor, make_result, normalize_dim
from .reduce import flip_axis

__all__ = ["cumsum", "cumprod", "diff"]


def reversed_cumsum(F, t, axis: int):
    """``sum_{j >= k} t_j`` along ``axis``."""
    return flip_axis(F, F.cumsum(flip_axis(F, t, axis), axis), axis)


@defop("cumsum", saves_inputs=False, formula="{g0}_k = sum_{j>=k} ({gy})_j")
def _cumsum(F, g, xs, out, p, needs):
    if g.ndim == 0:
        return (g,)
    return (reversed_cumsum(F, g, p[0]),)


def _cumprod_grad_zeros(F, g, x, out, axis: int):
    """O(n), first order only: positions before the first zero get reversed_cumsum(g y) / x; the
    first zero gets prod(x before it) * sum_{j>=z} g_j prod_{z<i<=j} x_i; later positions 0."""
    zero = x == 0
    seen = F.cumsum(zero, axis)  # how many zeros up to and including each position
    before = seen == 0
    first = zero & (seen == 1)
    after = seen >= 1
    grad_before = F.where(before, reversed_cumsum(F, g * out, axis) / F.where(before, x, 1.0), 0.0)
    tail = F.cumprod(F.where(after & ~first, x, 1.0), axis)
    term = F.sum(F.where(after, g * tail, 0.0), axis, True)
    head = F.prod(F.where(before, x, 1.0), axis, True)
    return grad_before + F.where(first, head * term, 0.0)


def _cumprod_grad_polynomial(F, g, x, axis: int):
    """O(n^2) and differentiable everywhere: dl/dx_k = sum_{j>=k} g_j prod_{i<=j, i!=k} x_i,
    from the cumprod of x with x_k replaced by 1 (one row per k)."""
    n = x.shape[axis]
    lane = [1] * (x.ndim + 1)
    lane[axis] = lane[axis + 1] = n
    eye = np.eye(n, dtype=bool).reshape(lane)  # [k, i]: i == k
    upper = np.triu(np.ones((n, n), dtype=bool)).reshape(lane)  # [k, j]: j >= k
    rows = F.cumprod(F.where(eye, 1.0, F.expand_dims(x, axis)), axis + 1)
    return F.sum(F.where(upper, F.expand_dims(g, axis) * rows, 0.0), axis + 1)


@defop("cumprod", saves_out=True, formula="{g0}_k = sum_{j>=k} ({gy})_j {y}_j / {x0}_k  (zero-safe)")
def _cumprod(F, g, xs, out, p, needs):
    axis = p[0]
    x = xs[0]
    if x.ndim == 0 or x.shape[axis] <= 1:
        return (g,)
    if not any_true(x == 0):
        return (reversed_cumsum(F, g * out, axis) / x,)
    # on arrays the O(n) form, on tensors the polynomial one (its derivative is right at zeros)
    return (F.cumprod_grad_at_zeros(g, x, out, axis),)


def _cumulative(who: str, op, fn):
    def apply(input: Tensor, dim: int, *, dtype=None) -> Tensor:
        input = as_tensor(input, who)
        x = input._data
        if dtype is not None:
            x = x.astype(_dtype.to_numpy_dtype(dtype))
        elif x.dtype.kind in "biu":
            x = x.astype(np.int64)  # torch accumulates integers and bools in int64
        axis = normalize_dim(dim, x.ndim, who)
        if x.dtype in _dtype.HALF and x.ndim:  # accumulated in float32, each entry rounded (torch's)
            out = fn(x.astype(np.float32), axis=axis).astype(x.dtype)
        else:
            out = x.copy() if x.ndim == 0 else fn(x, axis=axis)
        return make_result(out, op, (input,), (axis,))

    apply.__name__ = who
    apply.__doc__ = (
        f"The cumulative {who[3:]} along ``dim``; integers and bools give int64, "
        f"``dtype`` casts the input first. Local derivative: {op.formula}."
    )
    return apply


cumsum = _cumulative("cumsum", _cumsum, np.cumsum)
cumprod = _cumulative("cumprod", _cumprod, np.cumprod)


def diff(
    input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None, append: Tensor | None = None
) -> Tensor:
    """The ``n``-th forward difference along ``dim``: ``out[i] = x[i + 1] - x[i]``, applied ``n``
    times, after ``prepend`` and ``append`` are concatenated to ``input`` along ``dim``.

    Bools give ``x[i + 1] != x[i]``. Built from narrow and subtraction, so it is differentiable to
    any order (torch's grad_fn is SubBackward0 too).
    """
    from .compare import ne
    from .elementwise import sub
    from .gather import narrow
    from .join import cat

    input = as_tensor(input, "diff")
    if input.ndim == 0:
        raise RuntimeError(
            "diff expects input to be at least one-dimensional (got a 0-d tensor); use x.reshape(1)"
        )
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    axis = normalize_dim(dim, input.ndim, "diff")
    if prepend is not None or append is not None:
        parts = [as_tensor(t, "diff") for t in (prepend, input, append) if t is not None]
        input = cat(parts, axis)
    step = ne if input.dtype == _dtype.bool_ else sub
    for _ in range(n):
        length = input.shape[axis]
        if length == 0:
            break
        input = step(narrow(input, axis, 1, length - 1), narrow(input, axis, 0, length - 1))
    return input


# cumprod's rule where x has zeros: the O(n) form on arrays, a polynomial one on tensors that can
# be differentiated again
register(
    "cumprod_grad_at_zeros",
    lambda g, x, out, axis: _cumprod_grad_zeros(ARRAY_MATH, g, x, out, axis),
    lambda g, x, out, axis: _cumprod_grad_polynomial(tensor_math(), g, x, axis),
)
