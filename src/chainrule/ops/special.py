"""Special functions: the error function (GELU's Gaussian CDF is built on it).

NumPy has no ``erf``; ``erf_array`` evaluates Cephes' rational approximations (S. L. Moshier's
``ndtr.c``, the ones SciPy compiles), accurate to about 1e-16 in float64, on whole arrays.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.graph import defop
from ._common import Tensor, as_tensor, make_result

__all__ = ["erf", "erfc"]

_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
      7.00332514112805075473e3, 5.55923013010394962768e4)
_U = (1.0, 3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
      2.26290000613890934246e4, 4.92673942608635921086e4)
_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
      4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
      9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2)
_Q = (1.0, 1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
      9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
      1.65666309194161350182e3, 5.57535340817727675546e2)
_R = (5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0,
      6.16021097993053585195e0, 7.40974269950448939160e0, 2.97886665372100240670e0)
_S = (1.0, 2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
      1.70814450747565897222e1, 9.60896809063285878198e0, 3.36907645100081516050e0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _poly(x: np.ndarray, coefficients: tuple) -> np.ndarray:
    """Horner's rule, highest power first."""
    out = np.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        out *= x
        out += c
    return out


def _erfc_tail(ax: np.ndarray) -> np.ndarray:
    """erfc(|x|) for |x| >= 1: exp(-x^2) times a rational function of |x|."""
    near = ax < 8.0
    ratio = np.empty_like(ax)
    a, b = ax[near], np.minimum(ax[~near], 1e8)  # (the ratio is ~1/(x sqrt(pi)) out there)
    ratio[near] = _poly(a, _P) / _poly(a, _Q)
    ratio[~near] = _poly(b, _R) / _poly(b, _S)
    with np.errstate(under="ignore"):
        return np.exp(-ax * ax) * ratio


def erf_array(x: np.ndarray) -> np.ndarray:
    """``erf`` of a float array, computed in float64 and returned in ``x``'s dtype."""
    if type(x) is not np.ndarray and hasattr(x, "_map_physical"):  # vmap: element-wise, one call
        return x._map_physical(erf_array)
    x64 = np.asarray(x, dtype=np.float64)
    ax = np.abs(x64)
    out = np.empty_like(x64)
    small = ax <= 1.0
    xs = x64[small]
    z = xs * xs
    out[small] = xs * _poly(z, _T) / _poly(z, _U)
    big = ~small  # nan lands here and stays nan
    xb = x64[big]
    out[big] = np.copysign(1.0 - _erfc_tail(np.abs(xb)), xb)
    return out.astype(x.dtype, copy=False) if x.dtype.kind == "f" else out


def erfc_array(x: np.ndarray) -> np.ndarray:
    """``1 - erf(x)`` without the cancellation for large x."""
    if type(x) is not np.ndarray and hasattr(x, "_map_physical"):  # vmap: element-wise, one call
        return x._map_physical(erfc_array)
    x64 = np.asarray(x, dtype=np.float64)
    ax = np.abs(x64)
    out = np.empty_like(x64)
    small = ax < 1.0
    out[small] = 1.0 - erf_array(x64[small])
    big = ~small
    xb = x64[big]
    tail = _erfc_tail(np.abs(xb))
    out[big] = np.where(xb < 0, 2.0 - tail, tail)
    return out.astype(x.dtype, copy=False) if x.dtype.kind == "f" else out


def _float(input: Tensor) -> np.ndarray:
    x = input._data
    if x.dtype.kind != "f":
        from .. import _dtype

        x = x.astype(_dtype.get_default_dtype().np)
    return x


@defop("erf", formula="{g0} = {gy} * 2 / sqrt(pi) * exp(-{x0}^2)")
def _erf(F, g, xs, out, p, needs):
    x = xs[0]
    return (g * (_TWO_OVER_SQRT_PI * F.exp(-(x * x))),)


@defop("erfc", formula="{g0} = -{gy} * 2 / sqrt(pi) * exp(-{x0}^2)")
def _erfc(F, g, xs, out, p, needs):
    x = xs[0]
    return (g * (-_TWO_OVER_SQRT_PI * F.exp(-(x * x))),)


_erf.same_shape = _erfc.same_shape = True


def erf(input: Tensor) -> Tensor:
    """The error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``, element-wise."""
    input = as_tensor(input, "erf")
    return make_result(erf_array(_float(input)), _erf, (input,))


def erfc(input: Tensor) -> Tensor:
    """The complementary error function ``1 - erf(x)``, element-wise (accurate for large x)."""
    input = as_tensor(input, "erfc")
    return make_result(erfc_array(_float(input)), _erfc, (input,))
