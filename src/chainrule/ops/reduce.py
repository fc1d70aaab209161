"""Reductions. Each derivative spreads the upstream gradient back over the reduced dims.

Here: sum, mean, var/std (and var_mean/std_mean), prod, logsumexp, all/any, count_nonzero.
Max/min-like reductions live in ``reduce_minmax``, cumulative ones in ``reduce_cumulative``, norms
in ``reduce_norm``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _dtype
from .._fpe import IGNORE as _IGNORE
from .._fpe import reset_state as _reset_state
from .._fpe import set_state as _set_state
from .._fpe import switches_itself as _switches_itself
from .._fpe import user_stacklevel as _user_stacklevel
from .._record import make_unary_result
from ..autograd.graph import ONE, defop, over
from ._common import (
    Tensor,
    all_true,
    any_true,
    as_array,
    as_tensor,
    make_result,
    normalize_dim,
    normalize_dims,
    wrap,
)
from .complex_numbers import imag as _imag
from .complex_numbers import real as _real
from .elementwise import add as _add
from .unary import sqrt as _sqrt

__all__ = [
    "sum",
    "mean",
    "var",
    "std",
    "var_mean",
    "std_mean",
    "prod",
    "logsumexp",
    "all",
    "any",
    "count_nonzero",
]


def _expand_back(F, g, in_shape: tuple, axes, keepdim: bool):
    """Undo a reduction's shape change: re-insert reduced dims, then broadcast to input shape."""
    if axes is None:
        if not keepdim:
            g = F.reshape(g, (1,) * len(in_shape))
    elif not keepdim and axes:
        g = F.expand_dims(g, axes)
    return F.broadcast_to(g, in_shape)


def keep_dims(F, t, axes, keepdim: bool, ndim: int):
    """Re-insert a reduction's dims as size 1 (no broadcast), so ``t`` lines up with the input."""
    if keepdim:
        return t
    if axes is None:
        return F.reshape(t, (1,) * ndim)
    if axes:
        return F.expand_dims(t, axes)
    return t


def reduce_axes(dim, ndim: int, who: str):
    """``dim`` as sorted axes, with torch's rule that an empty dim list reduces everything."""
    axes = normalize_dims(dim, ndim, who)
    if axes == () and dim is not None and not isinstance(dim, int):
        return None
    return axes


def _count(shape: tuple, axes) -> int:
    """The number of elements each output element reduces over."""
    if axes is None:
        return math.prod(shape)
    return math.prod([shape[a] for a in axes])


def _as_array(out, dtype) -> np.ndarray:
    return out if type(out) is np.ndarray else as_array(out, dtype)


# ---- sum and mean ----------------------------------------------------------------------------
@defop("sum", saves_inputs=False, formula="{g0} = {gy}, copied to every summed element of {x0}", local=ONE)
def _sum(F, g, xs, out, p, needs):
    in_shape, axes, keepdim = p
    return (_expand_back(F, g, in_shape, axes, keepdim),)


def _sum_dtype(x: np.ndarray, dtype):
    if dtype is not None:
        return _dtype.to_numpy_dtype(dtype)
    if x.dtype.kind in "biu":
        return np.dtype(np.int64)  # torch sums integers and bools in int64
    return None


@_switches_itself  # NumPy's warnings off inside, switched here (a hot op: no wrapper's frame)
def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (an int, a tuple, or None/[] for all dims).

    Integers and bools sum in int64; ``dtype`` casts the input first.
    """
    token = _set_state(_IGNORE)
    try:
        if type(input) is not Tensor:
            input = as_tensor(input, "sum")
        x = input._data
        axes = None if dim is None else reduce_axes(dim, x.ndim, "sum")
        if x.dtype in _dtype.HALF and dtype is None:  # accumulated in float32, rounded once (torch)
            out = np.asarray(np.sum(x, axis=axes, keepdims=keepdim, dtype=np.float32)).astype(x.dtype)
        elif type(x) is np.ndarray:  # what np.sum calls, without its ~0.3 us of dispatch
            out = np.add.reduce(x, axes, _sum_dtype(x, dtype), None, keepdim)
        else:  # another array type (vmap's batched array) dispatches np.sum itself
            out = np.sum(x, axis=axes, keepdims=keepdim, dtype=_sum_dtype(x, dtype))
        if type(out) is not np.ndarray and isinstance(out, np.generic):  # (not vmap's batched array)
            out = np.asarray(out)
        return make_unary_result(out, _sum if dim is None else _SUM_DIM, input, (x.shape, axes, keepdim))
    finally:
        _reset_state(token)


@defop(
    "mean",
    saves_inputs=False,
    formula="{g0} = {gy} / {n}, copied to every averaged element of {x0}",
    local=over(lambda xs, y, p: p[3]),
)
def _mean(F, g, xs, out, p, needs):
    in_shape, axes, keepdim, n = p
    return (_expand_back(F, g / n, in_shape, axes, keepdim),)


_SUM_DIM = _sum.shown_as("SumBackward1")  # torch's node for sum(x, dim), and mean(x, dim)
_MEAN_DIM = _mean.shown_as("MeanBackward1")


def _float_input(input: Tensor, dtype, who: str, what: str) -> np.ndarray:
    x = input._data
    if dtype is not None:
        x = x.astype(_dtype.to_numpy_dtype(dtype))
    if x.dtype not in _dtype.INEXACT:
        raise RuntimeError(
            f"{who}: {what} Got: {input.dtype}; convert first, e.g. x.float().{who.rstrip('()')}()"
        )
    return x


def _mean_of(x: np.ndarray, axes, keepdim: bool, n: int):
    """np.mean without its overhead (the same sum, then one division); float16 and bfloat16 in
    float32, rounded once (torch's)."""
    if x.dtype in _dtype.HALF:
        return np.asarray(_mean_of(x.astype(np.float32), axes, keepdim, n)).astype(x.dtype)
    if x.dtype.itemsize < 4:
        return np.mean(x, axis=axes, keepdims=keepdim)
    if type(x) is np.ndarray and n:  # what np.sum calls, without its dispatch
        return np.add.reduce(x, axes, None, None, keepdim) / x.dtype.type(n)
    if n:
        return np.sum(x, axis=axes, keepdims=keepdim) / x.dtype.type(n)
    # over nothing: 0 / 0 = nan, as torch's, silently (np.mean warns "Mean of empty slice")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(x, axis=axes, keepdims=keepdim) / x.dtype.type(0)


def _var_of(x: np.ndarray, axes, keepdim: bool, n: int, correction) -> np.ndarray:
    """np.var's computation (sum of squared deviations over max(0, n - correction))."""
    if x.dtype in _dtype.HALF:  # in float32, rounded by the caller (torch's)
        return _var_of(x.astype(np.float32), axes, keepdim, n, correction)
    if x.dtype.itemsize < 4 or not n:
        return np.var(x, axis=axes, keepdims=keepdim, ddof=correction)
    dev = x - np.sum(x, axis=axes, keepdims=True) / x.dtype.type(n)
    return np.sum(dev * dev, axis=axes, keepdims=keepdim) / x.dtype.type(max(0, n - correction))


_FLOAT32_TINY = np.finfo(np.float32).tiny


def _var_widened(x: np.ndarray, axes, keepdim: bool, n: int, correction, v, welford: bool):
    """The variance again in float64 where float32's is not finite or below float32's smallest
    normal number: torch's CPU kernels accumulate a float32 variance in float64 (Welford's, or two
    passes around the float32 mean over a whole tensor) and round once at the end, so the squares
    of 1e38 or 1e-30 neither overflow nor underflow there and ``std`` stays finite. Checked on the
    result (one element per output), so ordinary inputs pay nothing."""
    if x.dtype != np.float32 or not n:
        return v
    if type(x) is not np.ndarray:
        return _var_widened_per_sample(x, axes, keepdim, n, correction, v, welford)
    result = v if type(v) is np.ndarray else np.asarray(v)
    # (a NaN fails both comparisons, so it is recomputed too: torch's NaN comes out again)
    if result.size == 1:
        if _FLOAT32_TINY <= result.item() < math.inf:
            return v
    elif result.size <= 16:  # (Python floats: cheaper than two NumPy reductions on a few elements)
        for r in result.ravel().tolist():
            if not _FLOAT32_TINY <= r < math.inf:
                break
        else:
            return v
    elif _FLOAT32_TINY <= result.min() and result.max() < math.inf:
        return v
    wide = x.astype(np.float64)
    if result.size == 1 and not welford:  # torch's whole-tensor var/std centre on the float32 mean
        centre = (np.add.reduce(x, axes, None, None, True) / np.float32(n)).astype(np.float64)
    else:
        centre = np.add.reduce(wide, axes, None, None, True) / n
    dev = wide - centre
    return np.asarray(np.add.reduce(dev * dev, axes, None, None, keepdim) / max(0, n - correction))


def _var_widened_per_sample(x, axes, keepdim: bool, n: int, correction, v, welford: bool):
    """``_var_widened`` for another array type (vmap's batched arrays) through NumPy's dispatch:
    each sample's variance is recomputed in float64 where one of its elements is not finite or
    below float32's smallest normal number, as the plain op does for that sample alone."""
    ok = np.all((v >= _FLOAT32_TINY) & (v < math.inf))  # (per sample: its output's elements)
    if all_true(ok):
        return v
    wide = x.astype(np.float64)
    if v.size == 1 and not welford:  # torch's whole-tensor var/std centre on the float32 mean
        centre = (np.sum(x, axis=axes, keepdims=True) / np.float32(n)).astype(np.float64)
    else:
        centre = np.sum(wide, axis=axes, keepdims=True) / n
    dev = wide - centre
    return np.where(ok, v, np.sum(dev * dev, axis=axes, keepdims=keepdim) / max(0, n - correction))


@_switches_itself  # (see sum)
def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Arithmetic mean over ``dim`` (all dims when None); floating dtypes only, as in torch."""
    token = _set_state(_IGNORE)
    try:
        if type(input) is not Tensor:
            input = as_tensor(input, "mean")
        x = _float_input(
            input,
            dtype,
            "mean()",
            "could not infer output dtype. Input dtype must be either a floating point or complex dtype.",
        )
        axes = None if dim is None else reduce_axes(dim, x.ndim, "mean")
        n = _count(x.shape, axes)
        out = _as_array(_mean_of(x, axes, keepdim, n), x.dtype)
        return make_unary_result(out, _mean if dim is None else _MEAN_DIM, input, (x.shape, axes, keepdim, n))
    finally:
        _reset_state(token)


# ---- variance and standard deviation -----------------------------------------------------------
def _var_grad(F, g, x, axes, keepdim: bool, n: int, dof: float):
    """torch's var_backward: dl/dx = dl/dv * 2 (x - mean) / (n - correction)."""
    g = keep_dims(F, g, axes, keepdim, x.ndim)
    centered = x - F.sum(x, axes, True) / n
    if dof > 0 or (axes is not None and x.ndim):
        return g * (2.0 / dof if dof else float("inf")) * centered
    # torch, no degrees of freedom over the whole tensor: nan where x == mean, else inf
    return g * F.where(centered == 0, float("nan"), float("inf"))


@defop("var", formula="{g0} = {gy} * 2 ({x0} - mean({x0})) / (n - correction)")
def _var(F, g, xs, out, p, needs):
    axes, keepdim, n, dof = p
    return (_var_grad(F, g, xs[0], axes, keepdim, n, dof),)


@defop(
    "std",
    saves_out=True,
    formula="{g0} = {gy} * ({x0} - mean({x0})) / ((n - correction) {y})  (0 where {y} = 0)",
)
def _std(F, g, xs, out, p, needs):
    axes, keepdim, n, dof = p
    with np.errstate(divide="ignore", invalid="ignore"):
        g_var = F.where(out == 0, 0.0, g / (out * 2))  # torch: masked_fill(result == 0, 0)
        return (_var_grad(F, g_var, xs[0], axes, keepdim, n, dof),)


def _var_args(who: str, dim, unbiased, correction):
    """Resolve torch's two var/std signatures: (dim, unbiased, keepdim) and (dim, *, correction)."""
    if isinstance(dim, bool):  # var(x, True): the legacy (input, unbiased) overload
        if unbiased is not None:
            raise TypeError(f"{who}() received an invalid combination of arguments: unbiased given twice")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(
            f"{who}() received an invalid combination of arguments: pass either unbiased= (legacy)"
            " or correction=, not both"
        )
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction


def _moments(who: str, input: Tensor, dim, unbiased, correction, keepdim: bool, welford: bool = False):
    """The variance's forward: (input, axes, n, n - correction, variance array). ``welford``: as
    torch's var_mean/std_mean, whose whole-tensor mean is a float64 one too."""
    input = as_tensor(input, who)
    dim, correction = _var_args(who, dim, unbiased, correction)
    x = input._data
    if _dtype.KIND.get(x.dtype) != 2:  # (complex: torch's real result needs rules of its own)
        raise RuntimeError(
            f"{who}: std and var only support floating point and complex dtypes, "
            f"got {input.dtype}; convert first, e.g. x.float()"
        )
    axes = reduce_axes(dim, x.ndim, who)
    n = _count(x.shape, axes)
    dof = n - correction
    if dof > 0:
        v = _var_widened(x, axes, keepdim, n, correction, _var_of(x, axes, keepdim, n, correction), welford)
    else:  # torch and NumPy both divide by max(0, dof): inf, or nan where x is constant
        warnings.warn(
            f"{who}(): degrees of freedom is <= 0. Correction should be strictly less "
            "than the reduction factor (input numel divided by output numel).",
            UserWarning,
            stacklevel=_user_stacklevel(),
        )
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            v = _var_of(x, axes, keepdim, n, correction)
    if type(v) is np.ndarray:
        return input, axes, n, dof, v
    # (a variance widened to float64 stays so: var and std round it once, to the input's dtype)
    return input, axes, n, dof, as_array(v, np.float64 if v.dtype == np.float64 else x.dtype)


def var(
    input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None
) -> Tensor:
    """Variance over ``dim`` with Bessel's ``correction`` (1 by default; ``unbiased=False`` is 0).

    Accepts torch's legacy positional forms ``var(x, unbiased)`` and ``var(x, dim, unbiased,
    keepdim)``.
    """
    return _variance(input, dim, unbiased, keepdim, correction, welford=False)


def _variance(input: Tensor, dim, unbiased, keepdim: bool, correction, welford: bool) -> Tensor:
    if isinstance(input, Tensor) and input._data.dtype.kind == "c":  # torch: the parts' variances, summed
        return _complex_var(input, dim, unbiased, keepdim, correction)
    input, axes, n, dof, v = _moments("var", input, dim, unbiased, correction, keepdim, welford)
    # (a float64 variance above float32's range is inf, as torch's: the op runs with NumPy quiet)
    return make_result(v.astype(input._data.dtype, copy=False), _var, (input,), (axes, keepdim, n, dof))


def std(
    input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None
) -> Tensor:
    """Standard deviation: the square root of :func:`var` (same arguments)."""
    return _deviation(input, dim, unbiased, keepdim, correction, welford=False)


def _deviation(input: Tensor, dim, unbiased, keepdim: bool, correction, welford: bool) -> Tensor:
    if isinstance(input, Tensor) and input._data.dtype.kind == "c":
        return _sqrt(_complex_var(input, dim, unbiased, keepdim, correction))
    input, axes, n, dof, v = _moments("std", input, dim, unbiased, correction, keepdim, welford)
    out = np.sqrt(v).astype(input._data.dtype, copy=False)  # (half dtypes: from float32, rounded once)
    return make_result(out, _std, (input,), (axes, keepdim, n, dof))


def _complex_var(z: Tensor, dim, unbiased, keepdim: bool, correction) -> Tensor:
    """A complex tensor's variance (real): that of its real part plus that of its imaginary part."""
    return _add(
        var(_real(z), dim, unbiased, keepdim, correction=correction),
        var(_imag(z), dim, unbiased, keepdim, correction=correction),
    )


def var_mean(
    input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None
) -> tuple:
    """``(var(input, ...), mean(input, dim, keepdim))`` in one call."""
    d, _ = _var_args("var_mean", dim, unbiased, correction)
    return (
        _variance(input, dim, unbiased, keepdim, correction, welford=True),
        mean(input, [] if d is None else d, keepdim),
    )


def std_mean(
    input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None
) -> tuple:
    """``(std(input, ...), mean(input, dim, keepdim))`` in one call."""
    d, _ = _var_args("std_mean", dim, unbiased, correction)
    return (
        _deviation(input, dim, unbiased, keepdim, correction, welford=True),
        mean(input, [] if d is None else d, keepdim),
    )


# ---- product ------------------------------------------------------------------------------------
def flip_axis(F, t, axis: int):
    """``t`` reversed along ``axis``."""
    return F.flip(t, axis)


def _shift_in_one(F, t, axis: int):
    """``[1, t_0, ..., t_{n-2}]`` along ``axis``: the factor before each position."""
    n = t.shape[axis]
    lead = (slice(None),) * axis
    moved = F.index_put_zeros(
        tuple(t.shape), lead + (slice(1, None),), F.getitem(t, lead + (slice(0, n - 1),))
    )
    first = np.zeros(tuple(t.shape), dtype=bool)
    first[lead + (0,)] = True
    return F.where(first, 1.0, moved)


def prod_of_others(F, x, axis: int):
    """``prod_{j != i} x_j`` along ``axis`` without division, so zeros are safe (as torch's
    prod_safe_zeros_backward): exclusive cumulative products from the left and the right."""
    left = F.cumprod(_shift_in_one(F, x, axis), axis)
    right = flip_axis(F, F.cumprod(_shift_in_one(F, flip_axis(F, x, axis), axis), axis), axis)
    return left * right


@defop(
    "prod", saves_out=True, formula="{g0}_i = {gy} * prod_{j != i} {x0}_j  (= {y} / {x0}_i if {x0}_i != 0)"
)
def _prod(F, g, xs, out, p, needs):
    axis, keepdim = p
    x = xs[0]
    if x.ndim == 0:
        return (g,)
    if axis is not None:
        g = keep_dims(F, g, (axis,), keepdim, x.ndim)
        if not any_true(x == 0):
            return (g * (keep_dims(F, out, (axis,), keepdim, x.ndim) / x),)
        return (g * prod_of_others(F, x, axis),)
    if not any_true(x == 0):
        return (g * (out / x),)
    flat = F.reshape(x, (-1,))
    return (g * F.reshape(prod_of_others(F, flat, 0), tuple(x.shape)),)


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product of all elements, or over the single dim ``dim``; integers and bools give int64.

    The gradient is the product of the other elements, correct with zeros in the input.
    """
    input = as_tensor(input, "prod")
    if dim is not None and not isinstance(dim, int | np.integer):
        raise TypeError(
            f"prod(): dim must be a single int (torch.prod reduces one dim), got "
            f"{dim!r}; reduce several dims one at a time or flatten them first"
        )
    x = input._data
    np_dtype = _sum_dtype(x, dtype)
    axis = None if dim is None else normalize_dim(int(dim), x.ndim, "prod")
    if not x.ndim:
        axis = None
    out = np.prod(x, axis=axis, keepdims=keepdim, dtype=np_dtype)
    return make_result(_as_array(out, out.dtype), _prod, (input,), (axis, keepdim))


# ---- logsumexp --------------------------------------------------------------------------------
@defop("logsumexp", saves_out=True, formula="{g0} = {gy} * exp({x0} - {y})  (the softmax of {x0})")
def _logsumexp(F, g, xs, out, p, needs):
    axes, keepdim = p
    x = xs[0]
    nd = x.ndim
    return (keep_dims(F, g, axes, keepdim, nd) * F.exp(x - keep_dims(F, out, axes, keepdim, nd)),)


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(input), dim))``, computed stably by shifting by the max."""
    input = as_tensor(input, "logsumexp")
    x = input._data
    if x.dtype.kind in "biu":
        x = x.astype(_dtype.get_default_dtype().np)
    axes = reduce_axes(dim, x.ndim, "logsumexp")
    m = np.max(x, axis=axes, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0).astype(x.dtype)  # all -inf (or inf): no shift
    with np.errstate(divide="ignore"):
        shifted = x - m if x.dtype not in _dtype.HALF else x.astype(np.float32) - m  # (torch: in float32)
        s = np.log(np.sum(np.exp(shifted), axis=axes, keepdims=True))
    out = (s + m).astype(x.dtype, copy=False)
    if not keepdim:
        out = np.squeeze(out, axis=axes)
    return make_result(_as_array(out, x.dtype), _logsumexp, (input,), (axes, keepdim))


# ---- logical reductions and counting ----------------------------------------------------------
def _logical(name: str, fn):
    def apply(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
        input = as_tensor(input, name)
        x = input._data
        axes = normalize_dims(dim, x.ndim, name)
        out = as_array(fn(x, axis=axes, keepdims=keepdim))
        if x.dtype == np.uint8:  # torch keeps uint8 for uint8 inputs
            out = out.astype(np.uint8)
        return wrap(out)

    apply.__name__ = name
    apply.__doc__ = (
        f"Whether {name} elements are nonzero, over ``dim`` (an int, a tuple, or all "
        "dims when None); a bool tensor (uint8 for uint8 input)."
    )
    return apply


all = _logical("all", np.all)  # noqa: A001
any = _logical("any", np.any)  # noqa: A001


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """The number of nonzero elements over ``dim`` (an int, a tuple, or all when None), int64."""
    input = as_tensor(input, "count_nonzero")
    x = input._data
    axes = normalize_dims(dim, x.ndim, "count_nonzero")
    return wrap(as_array(np.count_nonzero(x, axis=axes), np.int64))
