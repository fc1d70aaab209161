"""More reductions: nansum, nanmean, aminmax, cummax, cummin, logcumsumexp, cov, corrcoef, dist,
renorm.

Most are compositions of differentiable ops, with torch's gradients by construction (cummax's
values are ``gather(x, dim, indices)``: the gradient goes back to the index each value came
from). logcumsumexp is its own op: its forward is ``logaddexp.accumulate`` (stable for any range
of values) and its derivative ``dl/dx_k = sum_{j>=k} dl/dy_j exp(x_k - y_j)`` is formed with
exponents that are never positive, so it cannot overflow. renorm is its own op too, with torch's
``renorm_backward`` (the norms again in the accumulation dtype, the gradient itself selected where
a slice is within ``maxnorm``).
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from ..autograd.graph import defop
from ._common import (
    Tensor,
    as_array,
    as_tensor,
    make_result,
    normalize_dim,
    normalize_dims,
    save_outputs,
    shape_str,
    wrap,
)
from ._linalg_common import type_name
from .reduce import _expand_back, reduce_axes
from .reduce_minmax import return_types, values_and_indices
from .reduce_norm import _norm, norm_keepdim

__all__ = [
    "nansum",
    "nanmean",
    "aminmax",
    "cummax",
    "cummin",
    "logcumsumexp",
    "cov",
    "corrcoef",
    "dist",
    "renorm",
]


# ---- NaN-ignoring sums ---------------------------------------------------------------------------
@defop("nansum", saves_inputs=False, formula="{g0} = {gy} * [{x0} is not NaN]")
def _nansum(F, g, xs, out, p, needs):
    in_shape, axes, keepdim, keep = p
    # torch multiplies by the mask (an inf upstream gradient gives NaN at NaN inputs, as there)
    return (_expand_back(F, g, in_shape, axes, keepdim) * keep,)


def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The sum treating NaN as zero; the gradient is ``dl/dy`` at the other elements, 0 at NaN."""
    from .reduce import sum as _sum

    input = as_tensor(input, "nansum")
    x = input._data
    if x.dtype.kind != "f":
        return _sum(input, dim, keepdim, dtype=dtype)
    axes = reduce_axes(dim, x.ndim, "nansum")
    keep = ~np.isnan(x)
    clean = np.where(keep, x, 0)
    out_dtype = x.dtype if dtype is None else _dtype.to_numpy_dtype(dtype)
    out = as_array(np.sum(clean, axis=axes, keepdims=keepdim, dtype=out_dtype))
    if out_dtype != x.dtype:
        from .creation import to

        input = to(input, out_dtype)
    return make_result(out, _nansum, (input,), (x.shape, axes, keepdim, keep.astype(out_dtype)))


def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The mean of the non-NaN elements (NaN where every element is NaN)."""
    from .compare import isnan, logical_not
    from .elementwise import div
    from .reduce import sum as _sum

    input = as_tensor(input, "nanmean")
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(
            f"nanmean(): expected input to have floating point or complex dtype but got {input.dtype}; "
            "convert first, e.g. x.float()"
        )
    count = _sum(logical_not(isnan(input)), dim, keepdim)
    total = nansum(input, dim, keepdim, dtype=dtype)
    return div(total, count.to(total.dtype))


# ---- min and max together ------------------------------------------------------------------------
def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False):
    """``(amin, amax)`` over ``dim`` (all elements when None); ties share each gradient."""
    from .reduce_minmax import amax, amin
    from .shape import reshape

    input = as_tensor(input, "aminmax")
    x = input._data
    if dim is None:
        if x.size == 0:
            raise RuntimeError(
                "aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity."
            )
        lo, hi = amin(input), amax(input)
        if keepdim:
            lo, hi = reshape(lo, (1,) * x.ndim), reshape(hi, (1,) * x.ndim)
        return _saving_each_other(lo, hi)
    axis = normalize_dim(dim, x.ndim, "aminmax")
    if x.ndim and x.shape[axis] == 0:
        raise IndexError(f"aminmax: Expected reduction dim {axis} to have non-zero size.")
    if x.ndim == 0:
        return _saving_each_other(amin(input), amax(input))
    return _saving_each_other(amin(input, axis, keepdim), amax(input, axis, keepdim))


def _saving_each_other(lo: Tensor, hi: Tensor):
    """torch's one aminmax node saves both results: an in-place change of either fails the
    backward of both."""
    save_outputs(lo, hi)
    save_outputs(hi, lo)
    return return_types.aminmax(lo, hi)


# ---- running extrema -----------------------------------------------------------------------------
def _running(who: str, input: Tensor, dim: int, better):
    from .gather import gather

    input = as_tensor(input, who)
    x = input._data
    axis = normalize_dim(dim, x.ndim, who)
    result_type = getattr(return_types, who)
    if x.ndim == 0:
        index = np.zeros((), np.int64)
        return values_and_indices(result_type, gather(input, 0, wrap(index)), index)
    lanes = np.moveaxis(x, axis, 0)
    if lanes.shape[0]:
        best = lanes[0]
        steps = [np.zeros_like(best, dtype=np.int64)]  # (zeros_like and stack: vmap's arrays too)
        floats = x.dtype.kind == "f"
        for k in range(1, lanes.shape[0]):
            v = lanes[k]
            # torch: a NaN always takes over; otherwise ties move the index forward
            take = better(v, best)
            if floats:
                take = np.isnan(v) | (~np.isnan(best) & take)
            best = np.where(take, v, best)
            steps.append(np.where(take, k, steps[-1]))
        index = np.moveaxis(np.stack(steps), 0, axis)
    else:
        index = np.zeros_like(x, dtype=np.int64)
    return values_and_indices(result_type, gather(input, axis, wrap(index)), index)


def cummax(input: Tensor, dim: int):
    """The running maximum along ``dim`` and the index it was taken from (the latest of equal
    values; a NaN propagates). The gradient goes back to that index."""
    return _running("cummax", input, dim, np.greater_equal)


def cummin(input: Tensor, dim: int):
    """The running minimum along ``dim`` and the index it was taken from (the latest of equal
    values; a NaN propagates). The gradient goes back to that index."""
    return _running("cummin", input, dim, np.less_equal)


@defop(
    "logcumsumexp",
    saves_out=True,
    formula="{g0}_k = sum_{j>=k} ({gy})_j exp({x0}_k - {y}_j)",
)
def _logcumsumexp(F, g, xs, out, p, needs):
    (axis,) = p
    x = xs[0]
    if x.ndim == 0:
        return (g,)
    n = x.shape[axis]
    lane = [1] * (x.ndim + 1)
    lane[axis] = lane[axis + 1] = n
    upper = np.triu(np.ones((n, n), dtype=bool)).reshape(lane)  # [k, j]: j >= k
    gap = F.expand_dims(x, axis + 1) - F.expand_dims(out, axis)  # x_k - y_j, <= 0 where j >= k
    gap = F.where(upper, gap, -np.inf)  # (torch too gives NaN where x_k = y_j = -inf)
    return (F.sum(F.expand_dims(g, axis) * F.exp(gap), axis + 1),)


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """``log(cumsum(exp(input), dim))``, computed without overflow."""
    input = as_tensor(input, "logcumsumexp")
    x = input._data
    if x.dtype.kind != "f":
        raise NotImplementedError(
            f"\"logcumsumexp_out_cpu\" not implemented for '{type_name(x)}'; convert first, e.g. x.float()"
        )
    axis = normalize_dim(dim, x.ndim, "logcumsumexp")
    out = x.copy() if x.ndim == 0 else np.logaddexp.accumulate(x, axis=axis)
    return make_result(out, _logcumsumexp, (input,), (axis,))


# ---- covariance ----------------------------------------------------------------------------------
def cov(
    input: Tensor, *, correction: int = 1, fweights: Tensor | None = None, aweights: Tensor | None = None
):
    """The covariance matrix of the variables in ``input``'s rows (observations in columns; a
    1-D input is one variable), with frequency and analytic weights and Bessel's ``correction``,
    as ``numpy.cov``. A non-positive number of degrees of freedom gives inf/NaN, as torch."""
    from .elementwise import div, mul, sub
    from .linalg import matmul
    from .reduce import sum as _sum
    from .shape import reshape, squeeze, transpose

    input = as_tensor(input, "cov")
    x = input._data
    if x.ndim > 2:
        raise RuntimeError(
            f"cov(): expected input to have two or fewer dimensions but got an input with {x.ndim} dimensions"
        )
    if x.ndim < 2:
        input = reshape(input, (1, -1))
    n = input.shape[1]
    weights = None
    for name, w in (("fweights", fweights), ("aweights", aweights)):
        if w is None:
            continue
        w = as_tensor(w, "cov")
        a = w._data
        if a.ndim > 1:
            raise RuntimeError(
                f"cov(): expected {name} to have one or fewer dimensions but got {a.ndim} dimensions"
            )
        if a.size != n:
            raise RuntimeError(
                f"cov(): expected {name} to have the same numel as there are observations in the "
                f"input but got {a.size} != {n}"
            )
        if name == "fweights" and a.dtype.kind not in "iu":
            raise RuntimeError("cov(): expected fweights to have integral dtype")
        if name == "aweights" and a.dtype.kind != "f":
            raise RuntimeError("cov(): expected aweights to have floating point dtype")
        if a.size and a.min() < 0:
            raise RuntimeError(f"cov(): {name} cannot be negative")
        weights = w if weights is None else mul(weights, w)
    if input._data.dtype.kind != "f":
        input = input.float()  # torch: integers give the default float dtype
    if weights is not None:
        weights = weights.to(input.dtype)
        w_sum = _sum(weights)
        if float(w_sum._data) == 0:
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
        avg = div(_sum(mul(input, weights), 1), w_sum)
    else:
        w_sum = wrap(np.asarray(float(n), input._data.dtype))
        avg = div(_sum(input, 1), w_sum)
    if weights is None:
        norm = w_sum - correction
    elif correction == 0:
        norm = w_sum
    elif aweights is None:
        norm = w_sum - correction
    else:
        aw = as_tensor(aweights).to(input.dtype)
        norm = w_sum - correction * div(_sum(mul(weights, aw)), w_sum)
    if float(norm._data) <= 0:
        norm = norm * 0  # torch warns and divides by zero (inf/NaN)
    centred = sub(input, reshape(avg, (-1, 1)))
    weighted = centred if weights is None else mul(centred, weights)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = div(matmul(weighted, transpose(centred, 0, 1)), norm)
    return squeeze(out)


def corrcoef(input: Tensor) -> Tensor:
    """The Pearson correlation coefficients of the variables in ``input``'s rows, clipped to
    [-1, 1] as torch does."""
    from .elementwise import clamp, div
    from .shape import diagonal, reshape
    from .unary import sqrt

    c = cov(input)
    if c.ndim == 0:
        return div(c, c)
    std = sqrt(diagonal(c))
    c = div(div(c, reshape(std, (-1, 1))), reshape(std, (1, -1)))
    return clamp(c, -1, 1)


# ---- norms ---------------------------------------------------------------------------------------
def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The ``p``-norm of ``input - other`` (broadcast), over all elements."""
    from .elementwise import sub
    from .reduce_norm import vector_norm

    input, other = as_tensor(input, "dist"), as_tensor(other, "dist")
    difference = sub(input, other)  # promoted as torch
    if difference._data.dtype.kind not in "fc":
        raise RuntimeError(
            f"dist: norm(): input dtype should be either floating point or complex. Got "
            f"{type_name(difference._data)} instead."
        )
    out = vector_norm(difference, p)
    save_outputs(out, input, other)  # torch's one node saves both: changing one in place fails backward
    return out


#: torch's accumulation dtype on CPU, in which renorm's backward recomputes the norms
_ACCUMULATE = {np.dtype(np.float32): np.dtype(np.float64), np.dtype(np.float64): np.dtype(np.float64)}


@defop(
    "renorm",
    formula="{g0} = {gy} where norm <= maxnorm, else f ({gy} - d norm / norm)  (f = maxnorm / norm)",
)
def _renorm(F, g, xs, out, p, needs):
    """torch's renorm_backward: the norms again in the accumulation dtype (float64 for float32), the
    norm's derivative of ``sum(x g)``, and the gradient itself where a slice is within ``maxnorm``
    (selected, so a NaN slice's norm derivative never reaches it)."""
    ord, axes, maxnorm = p
    x = xs[0]
    dtype = F.dtype_of(x)
    wide = _ACCUMULATE.get(dtype, np.dtype(np.float32))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        norm = F.norm_keepdim(F.astype(x, wide), ord, axes)
        along = F.sum(F.astype(x * g, wide), axes, True)
        nb = _norm.backward(F, along, (x,), norm, (ord, axes, True, False), (True,))[0]
        inverse = 1.0 / (norm + 1e-7)
        scaled = (inverse * maxnorm) * (g - inverse * nb)
        return (F.astype(F.where(norm > maxnorm, scaled, g), dtype),)


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice along ``dim`` rescaled so that its ``p``-norm is at most ``maxnorm`` (slices
    already within it are kept as they are; the others are scaled by ``maxnorm / (norm + 1e-7)``,
    as torch). The gradient is torch's renorm_backward (norms in float64 for float32)."""
    input = as_tensor(input, "renorm")
    x = input._data
    if x.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {x.ndim} dimensions")
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported (got p={p})")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if x.dtype.kind != "f":
        raise RuntimeError(f"renorm: expected a floating point input, got {input.dtype} {shape_str(x.shape)}")
    axis = normalize_dim(dim, x.ndim, "renorm")
    others = normalize_dims([d for d in range(x.ndim) if d != axis], x.ndim, "renorm")
    ord = float(p)
    norms = norm_keepdim(x, ord, others)  # (float16/bfloat16: in float32, as torch's)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        limit = norms.dtype.type(maxnorm)
        factor = np.where(norms > limit, limit / (norms + norms.dtype.type(1e-7)), norms.dtype.type(1))
        out = x * factor.astype(x.dtype, copy=False)
    return make_result(out, _renorm, (input,), (ord, others, float(maxnorm)))
