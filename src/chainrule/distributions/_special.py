"""Private differentiable special functions for the distributions: ``lgamma``, ``digamma``,
``polygamma`` (over ``scipy.special``) and the implicitly reparameterised standard-gamma sampler.

Why here: chainrule's public ``lgamma``/``digamma`` are being added by another change; these are
registered under private op names (``distributions._lgamma`` ...) so that the two can coexist and the
lead can swap these for the shared ops later.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special as sc

from .. import _dtype
from .._random import default_generator
from .._record import make_result
from .._tensor import Tensor, wrap
from ..autograd.graph import defop
from ..autograd.math import register as _register_math

__all__ = ["lgamma", "digamma", "polygamma", "erfinv", "gammainc", "standard_gamma"]


def _float(x: Tensor) -> np.ndarray:
    data = x._data
    return data if data.dtype.kind == "f" else data.astype(_dtype.get_default_dtype().np)


def _like(values, x):
    """``values`` in ``x``'s dtype (astype, not np.asarray: vmap's batched arrays must pass through)."""
    return values if values.dtype == x.dtype else values.astype(x.dtype)


def _polygamma_array(n: int, x):
    if n == 0:
        return _like(sc.digamma(x), x)
    # (-1)^(n+1) n! zeta(n+1, x): scipy's polygamma, written with the ufunc so that it dispatches
    return _like((-1.0) ** (n + 1) * math.factorial(n) * sc.zeta(n + 1, x), x)


@defop("distributions._lgamma", formula="{g0} = {gy} * digamma({x0})")
def _lgamma(F, g, xs, out, p, needs):
    return (g * F.dist_polygamma(0, xs[0]),)


@defop("distributions._polygamma", formula="{g0} = {gy} * polygamma({n} + 1, {x0})")
def _polygamma(F, g, xs, out, p, needs):
    return (g * F.dist_polygamma(p[0] + 1, xs[0]),)


_lgamma.same_shape = _polygamma.same_shape = True


def lgamma(input: Tensor) -> Tensor:
    """``log|Gamma(x)|``, element-wise, differentiable to any order."""
    x = _float(input)
    return make_result(_like(sc.gammaln(x), x), _lgamma, (input,))


def polygamma(n: int, input: Tensor) -> Tensor:
    """The ``n``-th derivative of digamma, element-wise, differentiable to any order."""
    x = _float(input)
    return make_result(_polygamma_array(n, x), _polygamma, (input,), (n,))


def digamma(input: Tensor) -> Tensor:
    """``d/dx log Gamma(x)``, element-wise."""
    return polygamma(0, input)


_register_math("dist_polygamma", _polygamma_array, polygamma)


@defop(
    "distributions._erfinv",
    formula="{g0} = {gy} * sqrt(pi) / 2 * exp({y}^2)",
    saves_out=True,
    saves_inputs=False,
)
def _erfinv(F, g, xs, out, p, needs):
    return (g * ((np.pi**0.5 / 2) * F.exp(out * out)),)


_erfinv.same_shape = True


def erfinv(input: Tensor) -> Tensor:
    """The inverse error function, element-wise (Normal's icdf)."""
    x = _float(input)
    return make_result(_like(sc.erfinv(x), x), _erfinv, (input,))


@defop(
    "distributions._gammainc", formula=("", "{g1} = {gy} * exp(({x0} - 1) * log({x1}) - {x1} - lgamma({x0}))")
)
def _gammainc(F, g, xs, out, p, needs):
    a, x = xs
    if needs[0]:  # torch has no derivative with respect to the shape either
        raise NotImplementedError(
            "the derivative for 'igamma' with respect to `self` (the concentration) is not implemented."
        )
    if F.is_tensor:
        density = F.exp((a - 1) * F.log(x) - x - lgamma(a))
    else:
        density = np.exp((a - 1) * np.log(x) - x - sc.gammaln(a))
    return (None, g * density)


def gammainc(a: Tensor, x: Tensor) -> Tensor:
    """The regularised lower incomplete gamma function P(a, x) (Gamma's cdf); differentiable in x."""
    x_array = _float(x)
    return make_result(_like(sc.gammainc(_float(a), x_array), x_array), _gammainc, (a, x))


# ---- the standard gamma sampler, reparameterised implicitly ---------------------------------------
def _gamma_sample_grad(x: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``dx/dalpha`` at fixed CDF value (implicit reparameterisation, as torch's
    ``_standard_gamma_grad``): ``-(dF/dalpha) / f``, with dF/dalpha by a central difference of the
    regularised incomplete gamma function."""
    x64 = np.maximum(x.astype(np.float64), np.finfo(np.float64).tiny)
    a64 = alpha.astype(np.float64)
    h = 1e-6 * np.maximum(a64, 1e-3)
    dcdf = (sc.gammainc(a64 + h, x64) - sc.gammainc(a64 - h, x64)) / (2 * h)
    log_pdf = (a64 - 1) * np.log(x64) - x64 - sc.gammaln(a64)
    grad = -dcdf * np.exp(-log_pdf)
    return np.nan_to_num(grad, nan=0.0, posinf=0.0, neginf=0.0).astype(x.dtype)


@defop(
    "distributions._standard_gamma", formula="{g0} = {gy} * dsample/dconcentration (implicit)", saves_out=True
)
def _standard_gamma(F, g, xs, out, p, needs):
    alpha = xs[0]
    out_array = out._data if isinstance(out, Tensor) else out
    alpha_array = alpha._data if isinstance(alpha, Tensor) else alpha
    # like torch's, this derivative is not differentiated again (a constant under create_graph)
    grad = _gamma_sample_grad(out_array, alpha_array)
    return (g * (wrap(grad) if isinstance(g, Tensor) else grad),)


_standard_gamma.same_shape = True


def standard_gamma(concentration: Tensor, generator=None) -> Tensor:
    """Draws from Gamma(concentration, 1), differentiable w.r.t. ``concentration`` by implicit
    reparameterisation; draws smaller than the dtype's tiny are clamped to it, as torch does."""
    rng = (generator or default_generator)._rng
    alpha = _float(concentration)
    draws = np.asarray(rng.standard_gamma(alpha.astype(np.float64))).astype(alpha.dtype)
    draws = np.maximum(draws, np.finfo(alpha.dtype).tiny)
    return make_result(np.asarray(draws), _standard_gamma, (concentration,))
