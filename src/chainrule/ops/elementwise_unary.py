"""More one-input element-wise ops: inverse hyperbolics, ``exp2``, ``sinc``, angle conversions,
``frac``/``fix``, sign tests, ``nan_to_num`` and ``logit``.

Each op with its own derivative is registered here (forward ufunc and rule side by side); the
others are compositions of differentiable ops, exact and as fast.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from ..autograd.graph import defop
from ..autograd.math import register
from ._common import Tensor, as_tensor, make_result, wrap
from .elementwise import mul, sub
from .unary import _unary, sign, trunc

__all__ = [
    "asinh",
    "acosh",
    "atanh",
    "arcsinh",
    "arccosh",
    "arctanh",
    "exp2",
    "sinc",
    "deg2rad",
    "rad2deg",
    "frac",
    "fix",
    "sgn",
    "positive",
    "signbit",
    "isneginf",
    "isposinf",
    "isreal",
    "nan_to_num",
    "logit",
]

_LN2 = math.log(2.0)
_TORCH_TYPE_NAMES = {
    "int64": "Long",
    "int32": "Int",
    "int16": "Short",
    "int8": "Char",
    "uint8": "Byte",
    "bool": "Bool",
}


def _type_name(x: np.ndarray) -> str:
    return _TORCH_TYPE_NAMES.get(x.dtype.name, x.dtype.name)


@defop("asinh", formula="{g0} = {gy} / sqrt({x0}^2 + 1)")
def _asinh(F, g, xs, out, p, needs):
    x = xs[0]
    return (g / F.sqrt(x * x + 1),)


@defop("acosh", formula="{g0} = {gy} / sqrt({x0}^2 - 1)")
def _acosh(F, g, xs, out, p, needs):
    x = xs[0]
    return (g / F.sqrt(x * x - 1),)


@defop("atanh", formula="{g0} = {gy} / (1 - {x0}^2)")
def _atanh(F, g, xs, out, p, needs):
    x = xs[0]
    return (g / (1 - x * x),)


@defop("exp2", saves_out=True, saves_inputs=False, formula="{g0} = {gy} * {y} * ln 2")
def _exp2(F, g, xs, out, p, needs):
    return (g * (out * _LN2),)


@defop("sinc", formula="{g0} = {gy} * (cos(pi {x0}) pi {x0} - sin(pi {x0})) / (pi {x0}^2), 0 at 0")
def _sinc(F, g, xs, out, p, needs):
    x = xs[0]
    # torch: 0 where the denominator pi x^2 is 0, which for a subnormal x is not only at x = 0
    at_zero = x * x * math.pi == 0
    safe = F.where(at_zero, 1.0, x)  # keeps 0/0 out of the unused branch (and its derivative)
    px = safe * math.pi
    slope = (px * F.cos(px) - F.sin(px)) / (px * safe)
    return (F.where(at_zero, 0.0, g * slope),)


def _sinc_fn(x):
    return np.sinc(x).astype(x.dtype, copy=False)


asinh = _unary(_asinh, np.arcsinh)
acosh = _unary(_acosh, np.arccosh)
atanh = _unary(_atanh, np.arctanh)
arcsinh, arccosh, arctanh = asinh, acosh, atanh
exp2 = _unary(_exp2, np.exp2)
sinc = _unary(_sinc, _sinc_fn)


def _as_float(input, who: str) -> Tensor:
    input = as_tensor(input, who)
    if input._data.dtype.kind != "f":  # integers and bools compute in the default float dtype
        return wrap(input._data.astype(_dtype.get_default_dtype().np))
    return input


def deg2rad(input: Tensor) -> Tensor:
    """Degrees to radians, ``input * pi / 180`` (integers give the default float dtype)."""
    return mul(_as_float(input, "deg2rad"), math.pi / 180.0)


def rad2deg(input: Tensor) -> Tensor:
    """Radians to degrees, ``input * 180 / pi`` (integers give the default float dtype)."""
    return mul(_as_float(input, "rad2deg"), 180.0 / math.pi)


def frac(input: Tensor) -> Tensor:
    """The fractional part ``input - trunc(input)`` (the sign of ``input``); gradient 1."""
    input = as_tensor(input, "frac")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(
            f"\"frac_cpu\" not implemented for '{_type_name(input._data)}'; frac needs a floating "
            "point tensor (convert with .float())"
        )
    return sub(input, trunc(input))


def fix(input: Tensor) -> Tensor:
    """``trunc``: round toward zero."""
    return trunc(input)


def sgn(input: Tensor) -> Tensor:
    """``sign`` (torch's complex-aware sign; chainrule's tensors are real)."""
    return sign(input)


def positive(input: Tensor) -> Tensor:
    """``input`` itself (``+x``); bool tensors are refused, as torch does."""
    input = as_tensor(input, "positive")
    if input._data.dtype.kind == "b":
        raise RuntimeError(
            "The `+` operator, on a bool tensor is not supported. If you are trying to keep a mask, "
            "use it as it is."
        )
    return input


def signbit(input: Tensor) -> Tensor:
    """True where the sign bit is set (negative numbers and -0.0): a bool tensor, no gradient."""
    return wrap(np.signbit(as_tensor(input, "signbit")._data))


def isneginf(input: Tensor) -> Tensor:
    """True where ``input`` is -inf."""
    return wrap(np.isneginf(as_tensor(input, "isneginf")._data))


def isposinf(input: Tensor) -> Tensor:
    """True where ``input`` is +inf."""
    return wrap(np.isposinf(as_tensor(input, "isposinf")._data))


def isreal(input: Tensor) -> Tensor:
    """True everywhere: chainrule's tensors are real."""
    return wrap(np.ones(as_tensor(input, "isreal")._data.shape, dtype=bool))


@defop("nan_to_num", formula="{g0} = {gy} * [{x0} is finite]")
def _nan_to_num(F, g, xs, out, p, needs):
    return (F.where(F.isfinite(xs[0]), g, 0.0),)


_nan_to_num.same_shape = True
register("isfinite", np.isfinite, lambda x: wrap(np.isfinite(x._data)))


def nan_to_num(
    input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Tensor:
    """NaN to ``nan``, +inf to ``posinf`` and -inf to ``neginf`` (by default the dtype's largest and
    smallest finite numbers); the gradient passes where ``input`` is finite."""
    input = as_tensor(input, "nan_to_num")
    x = input._data
    if x.dtype.kind != "f":
        return wrap(x.copy())  # integers and bools have no NaN or inf
    out = np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)
    return make_result(out, _nan_to_num, (input,))


@defop("logit", formula="{g0} = {gy} / ({x0} (1 - {x0})); NaN outside [0, 1], or 0 outside [eps, 1 - eps]")
def _logit(F, g, xs, out, p, needs):
    x = xs[0]
    eps = p[0]
    if eps is None:
        outside, fill = (x < 0) | (x > 1), math.nan  # torch: NaN outside the domain
        # torch: g * inf at the ends 0 and 1, whatever the sign of the zero (g / (x (1 - x))
        # would give -inf at -0.0)
        edge = (x == 0) | (x == 1)
        return (F.where(outside, fill, F.where(edge, g * math.inf, g / (x * (1 - x)))),)
    outside, fill = (x < eps) | (x > 1 - eps), 0.0  # clamped there: a zero gradient
    return (F.where(outside, fill, g / (x * (1 - x))),)


_logit.same_shape = True


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """``log(p / (1 - p))``; with ``eps``, ``p`` is first clamped to [eps, 1 - eps] (and the
    gradient is zero outside that range, as torch's)."""
    input = _as_float(input, "logit")
    x = input._data
    z = x if eps is None else np.clip(x, eps, 1.0 - eps)
    return make_result(np.log(z / (1 - z)), _logit, (input,), (eps,))
