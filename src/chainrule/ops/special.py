"""Special functions: the error function (GELU's Gaussian CDF is built on it), as ops over the
array kernels of ``chainrule.kernels.elementwise``."""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from ..autograd.graph import defop, times
from ..kernels.elementwise import erf_array, erfc_array
from ._common import Tensor, as_tensor, make_result

__all__ = ["erf", "erfc"]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _float(input: Tensor) -> np.ndarray:
    x = input._data
    if x.dtype.kind != "f":
        x = x.astype(_dtype.get_default_dtype().np)
    return x


@defop(
    "erf",
    formula="{g0} = {gy} * 2 / sqrt(pi) * exp(-{x0}^2)",
    local=times(lambda xs, y, p: 2 / np.sqrt(np.pi) * np.exp(-xs[0] * xs[0])),
)
def _erf(F, g, xs, out, p, needs):
    x = xs[0]
    return (g * (_TWO_OVER_SQRT_PI * F.exp(-(x * x))),)


@defop(
    "erfc",
    formula="{g0} = -{gy} * 2 / sqrt(pi) * exp(-{x0}^2)",
    local=times(lambda xs, y, p: -2 / np.sqrt(np.pi) * np.exp(-xs[0] * xs[0])),
)
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
