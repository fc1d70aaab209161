"""Special functions with derivatives: the gamma family (``lgamma``, ``digamma``, ``polygamma``,
``mvlgamma``, ``igamma``/``igammac``), ``erfinv``, ``erfcx``, the normal distribution's ``ndtr``,
``ndtri`` and ``log_ndtr``, the modified Bessel functions ``i0``, ``i0e``, ``i1``, ``i1e``,
``xlog1py``, ``entr`` and ``zeta``.

Values come from SciPy's ufuncs (Cephes), as torch's kernels do, in the input's float dtype.
Each rule is written against ``F``, and the functions a rule calls (digamma in lgamma's rule,
i1 in i0's, ...) are registered into the math interface here, so second derivatives work.
Where torch has no derivative (``zeta``; ``igamma`` with respect to its first input), backward
raises torch's NotImplementedError.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special as _sp

from .. import _dtype
from ..autograd.graph import defop
from ..autograd.math import register
from ._common import Tensor, as_tensor, make_result, operands, wrap
from .elementwise import _check_broadcast, add
from .reduce import sum as _sum
from .shape import unsqueeze

__all__ = [
    "lgamma",
    "digamma",
    "polygamma",
    "mvlgamma",
    "igamma",
    "igammac",
    "erfinv",
    "i0",
]

_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)
_LOG_PI = math.log(math.pi)


def _float(input, who: str) -> Tensor:
    """``input`` as a float tensor (integers and bools: the default float dtype)."""
    input = as_tensor(input, who)
    if input._data.dtype.kind != "f":
        return wrap(input._data.astype(_dtype.get_default_dtype().np))
    return input


def _ufunc(fn, x: np.ndarray) -> np.ndarray:
    """SciPy's ``fn(x)`` in ``x``'s dtype (some of SciPy's loops compute float32 in float64)."""
    return fn(x).astype(x.dtype, copy=False)


def _unary(op, fn, who: str):
    op.same_shape = True

    def apply(input: Tensor) -> Tensor:
        input = _float(input, who)
        return make_result(_ufunc(fn, input._data), op, (input,))

    apply.__name__ = who
    apply.__doc__ = f"Element-wise ``{who}``; local derivative: {op.formula}."
    return apply


def _pair(who: str, input, other):
    """Two operands (either may be a number) as float tensors of one dtype that broadcast."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{who}(): expected at least one Tensor argument")
    a, b = operands(input, other)
    # a number becomes a fresh 0-d tensor, not operands' cached constant: these ops save their
    # inputs, and a cached constant made under inference_mode would refuse to be saved
    if not isinstance(input, Tensor):
        a = wrap(np.array(a._data))
    if not isinstance(other, Tensor):
        b = wrap(np.array(b._data))
    if a._data.dtype.kind != "f":
        dt = _dtype.get_default_dtype().np
        a, b = wrap(a._data.astype(dt)), wrap(b._data.astype(dt))
    try:
        np.broadcast_shapes(a._data.shape, b._data.shape)
    except ValueError:
        _check_broadcast(who, a._data, b._data)
    return a, b


def _polygamma_array(n: int, x: np.ndarray) -> np.ndarray:
    """``psi^(n)(x) = (-1)^(n+1) n! zeta(n + 1, x)`` (SciPy's formula, written with ufuncs only,
    so that vmap's batched arrays dispatch through it)."""
    if n == 0:
        return _sp.psi(x).astype(x.dtype, copy=False)
    out = ((-1) ** (n + 1) * math.factorial(n) * _sp.zeta(n + 1, x)).astype(x.dtype, copy=False)
    if n == 1:  # torch's trigamma: NaN at -inf, where the poles pile up and no limit exists
        out = np.where(x == -np.inf, np.nan, out).astype(out.dtype, copy=False)
    return out


# ---- the gamma family -------------------------------------------------------------------------
@defop("lgamma", formula="{g0} = {gy} * digamma({x0})")
def _lgamma(F, g, xs, out, p, needs):
    return (g * F.digamma(xs[0]),)


@defop("digamma", formula="{g0} = {gy} * polygamma(1, {x0})")
def _digamma(F, g, xs, out, p, needs):
    return (g * F.polygamma(1, xs[0]),)


@defop("polygamma", formula="{g0} = {gy} * polygamma(n + 1, {x0})")
def _polygamma(F, g, xs, out, p, needs):
    return (g * F.polygamma(p[0] + 1, xs[0]),)


_polygamma.same_shape = True


def _gammaln(x):
    out = _sp.gammaln(x)
    return np.where(x == -np.inf, np.inf, out)  # torch (and the limit of |Gamma|): +inf at -inf


lgamma = _unary(_lgamma, _gammaln, "lgamma")
digamma = _unary(_digamma, _sp.psi, "digamma")


def polygamma(n: int, input: Tensor) -> Tensor:
    """The ``n``-th derivative of the digamma function (``n = 0``: digamma itself)."""
    if n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n, got n = {n}")
    input = _float(input, "polygamma")
    return make_result(_polygamma_array(n, input._data), _polygamma, (input,), (n,))


def mvlgamma(input: Tensor, p: int) -> Tensor:
    """The multivariate log-gamma function of dimension ``p``:
    ``sum_{i<p} lgamma(input - i/2) + p (p - 1) / 4 log(pi)``."""
    if p < 1:
        raise RuntimeError(f"mvlgamma: p has to be greater than or equal to 1, got p = {p}")
    input = _float(input, "mvlgamma")
    shifts = wrap(-0.5 * np.arange(p, dtype=input._data.dtype))
    terms = lgamma(add(unsqueeze(input, -1), shifts))
    return add(_sum(terms, -1), p * (p - 1) / 4 * _LOG_PI)


register("digamma", lambda x: _ufunc(_sp.psi, x), digamma)
register("polygamma", _polygamma_array, polygamma)
register("lgamma", lambda x: _ufunc(_gammaln, x), lgamma)


@defop(
    "igamma",
    formula=("{g0}: not implemented", "{g1} = {gy} * exp(-{x1}) {x1}^({x0} - 1) / Gamma({x0})"),
)
def _igamma(F, g, xs, out, p, needs):
    if needs[0]:
        raise NotImplementedError("the derivative for 'igamma: input' is not implemented.")
    a, x = xs
    return None, g * F.exp((a - 1) * F.log(x) - x - F.lgamma(a))


@defop(
    "igammac",
    formula=("{g0}: not implemented", "{g1} = -{gy} * exp(-{x1}) {x1}^({x0} - 1) / Gamma({x0})"),
)
def _igammac(F, g, xs, out, p, needs):
    if needs[0]:
        raise NotImplementedError("the derivative for 'igammac: input' is not implemented.")
    a, x = xs
    return None, -g * F.exp((a - 1) * F.log(x) - x - F.lgamma(a))


def _gamma_pair(who: str, input, other):
    for name, v in (("input", input), ("other", other)):
        if not isinstance(v, Tensor):
            raise TypeError(f"{who}(): argument '{name}' must be Tensor, not {type(v).__name__}")
    a, b = operands(input, other)
    if a._data.dtype.kind != "f":
        raise NotImplementedError(
            f"\"{who}_cpu\" not implemented for '{a.dtype}'; {who} needs floating point tensors"
        )
    return _pair(who, a, b)


def igamma(input: Tensor, other: Tensor) -> Tensor:
    """The regularized lower incomplete gamma function P(input, other) (``special.gammainc``)."""
    a, x = _gamma_pair("igamma", input, other)
    return make_result(_sp.gammainc(a._data, x._data).astype(a._data.dtype, copy=False), _igamma, (a, x))


def igammac(input: Tensor, other: Tensor) -> Tensor:
    """The regularized upper incomplete gamma function Q(input, other) (``special.gammaincc``)."""
    a, x = _gamma_pair("igammac", input, other)
    return make_result(_sp.gammaincc(a._data, x._data).astype(a._data.dtype, copy=False), _igammac, (a, x))


# ---- the error function's relatives and the normal distribution -------------------------------
@defop("erfinv", saves_out=True, saves_inputs=False, formula="{g0} = {gy} * sqrt(pi) / 2 * exp({y}^2)")
def _erfinv(F, g, xs, out, p, needs):
    return (g * (0.5 * _SQRT_PI) * F.exp(out * out),)


@defop("erfcx", saves_out=True, formula="{g0} = {gy} * (2 {x0} {y} - 2 / sqrt(pi))")
def _erfcx(F, g, xs, out, p, needs):
    return (g * (2 * xs[0] * out - 2 / _SQRT_PI),)


@defop("ndtr", formula="{g0} = {gy} * exp(-{x0}^2 / 2) / sqrt(2 pi)")
def _ndtr(F, g, xs, out, p, needs):
    x = xs[0]
    return (g * F.exp(x * x * -0.5) / _SQRT_2PI,)


@defop("ndtri", saves_out=True, saves_inputs=False, formula="{g0} = {gy} * sqrt(2 pi) * exp({y}^2 / 2)")
def _ndtri(F, g, xs, out, p, needs):
    return (g * _SQRT_2PI * F.exp(out * out * 0.5),)


@defop("log_ndtr", saves_out=True, formula="{g0} = {gy} / sqrt(2 pi) * exp(-({y} + {x0}^2 / 2))")
def _log_ndtr(F, g, xs, out, p, needs):
    x = xs[0]
    return (g / _SQRT_2PI * F.exp(-(out + x * x * 0.5)),)


erfinv = _unary(_erfinv, _sp.erfinv, "erfinv")
erfcx = _unary(_erfcx, _sp.erfcx, "erfcx")
ndtr = _unary(_ndtr, _sp.ndtr, "ndtr")
ndtri = _unary(_ndtri, _sp.ndtri, "ndtri")
log_ndtr = _unary(_log_ndtr, _sp.log_ndtr, "log_ndtr")
register("erfcx", lambda x: _ufunc(_sp.erfcx, x), erfcx)


# ---- modified Bessel functions of the first kind, orders 0 and 1 (and exponentially scaled) -----
@defop("i0", formula="{g0} = {gy} * i1({x0})")
def _i0(F, g, xs, out, p, needs):
    return (g * F.i1(xs[0]),)


@defop("i0e", saves_out=True, formula="{g0} = {gy} * (i1e({x0}) - sign({x0}) {y})")
def _i0e(F, g, xs, out, p, needs):
    x = xs[0]
    return (g * (F.i1e(x) - F.sign(x) * out),)


@defop("i1", saves_out=True, formula="{g0} = {gy} * (i0({x0}) - {y} / {x0}), 1/2 at 0")
def _i1(F, g, xs, out, p, needs):
    x = xs[0]
    # torch: the limit 1/2 wherever |x| <= eps (and at NaN), since i1(x) / x is 0 / 0 or loses
    # all precision for a tiny x
    near_zero = _not_above_eps(F, x)
    safe = F.where(near_zero, 1.0, x)
    return (g * F.where(near_zero, 0.5, F.i0(safe) - out / safe),)


def _not_above_eps(F, x):
    """Where ``|x| > eps`` of x's dtype fails (so also at NaN): the singular point of the i1 rules."""
    return ~(F.abs(x) > float(np.finfo(F.dtype_of(x)).eps))


@defop("i1e", saves_out=True, formula="{g0} = {gy} * (i0e({x0}) - {y} (sign({x0}) + 1 / {x0})), 1/2 at 0")
def _i1e(F, g, xs, out, p, needs):
    x = xs[0]
    near_zero = _not_above_eps(F, x)  # as in i1's rule
    safe = F.where(near_zero, 1.0, x)
    return (g * F.where(near_zero, 0.5, F.i0e(safe) - out * (F.sign(safe) + 1 / safe)),)


i0 = _unary(_i0, _sp.i0, "i0")
i0e = _unary(_i0e, _sp.i0e, "i0e")
i1 = _unary(_i1, _sp.i1, "i1")
i1e = _unary(_i1e, _sp.i1e, "i1e")
register("i0", lambda x: _ufunc(_sp.i0, x), i0)
register("i0e", lambda x: _ufunc(_sp.i0e, x), i0e)
register("i1", lambda x: _ufunc(_sp.i1, x), i1)
register("i1e", lambda x: _ufunc(_sp.i1e, x), i1e)


# ---- entropy terms and zeta -------------------------------------------------------------------
@defop("entr", formula="{g0} = -{gy} * (1 + log({x0}))")
def _entr(F, g, xs, out, p, needs):
    return (-g * (F.log(xs[0]) + 1),)


entr = _unary(_entr, _sp.entr, "entr")


@defop("xlog1py", formula=("{g0} = {gy} * log1p({x1}) (0 where {gy} = 0)", "{g1} = {gy} * {x0} / (1 + {x1})"))
def _xlog1py(F, g, xs, out, p, needs):
    a, b = xs
    ga = gb = None
    if needs[0]:  # torch: xlog1py(g, b), zero where a = 0 and b <= -1
        skip = (g == 0) | ((a == 0) & (b <= -1))
        ga = F.where(skip, 0.0, g * F.log1p(F.where(skip, 0.0, b)))
    if needs[1]:
        gb = g * a / (b + 1)
    return ga, gb


def xlog1py(input, other) -> Tensor:
    """``input * log1p(other)``, 0 where ``input`` is 0 (unless ``other`` is NaN)."""
    a, b = _pair("xlog1py", input, other)
    out = _sp.xlog1py(a._data, b._data).astype(a._data.dtype, copy=False)
    return make_result(out, _xlog1py, (a, b))


@defop("zeta", saves_inputs=False, formula=("{g0}: not implemented", "{g1}: not implemented"))
def _zeta(F, g, xs, out, p, needs):
    raise NotImplementedError("the derivative for 'zeta' is not implemented.")


def zeta(input, other) -> Tensor:
    """The Hurwitz zeta function ``sum_k (k + other)^-input`` (not differentiable, as in torch)."""
    a, b = _pair("zeta", input, other)
    return make_result(_sp.zeta(a._data, b._data).astype(a._data.dtype, copy=False), _zeta, (a, b))
