"""The implicitly reparameterised standard-gamma sampler of the distributions (torch's private
``_standard_gamma``), the one special op with no public chainrule counterpart; the distributions use
the public ``lgamma``, ``digamma``, ``erfinv`` and ``special.gammainc`` for the rest."""

from __future__ import annotations

import numpy as np
import scipy.special as sc

from .. import _dtype
from .._random import default_generator
from .._record import make_result
from .._tensor import Tensor, wrap
from ..autograd.graph import defop

__all__ = ["standard_gamma"]


def _float(x: Tensor) -> np.ndarray:
    data = x._data
    return data if data.dtype.kind == "f" else data.astype(_dtype.get_default_dtype().np)


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
    # torch draws 0 (then clamped to tiny) for a concentration that is not positive (-0.0 and -inf
    # included) or NaN, where NumPy's sampler refuses -0.0 and negatives (ValueError) and gives NaN
    invalid = ~(alpha > 0)
    shape = alpha.astype(np.float64)
    if invalid.any():
        shape = np.where(invalid, 1.0, shape)
    draws = np.asarray(rng.standard_gamma(shape)).astype(alpha.dtype)
    if invalid.any():
        draws = np.where(invalid, 0, draws).astype(alpha.dtype, copy=False)
    draws = np.maximum(draws, np.finfo(alpha.dtype).tiny)
    return make_result(np.asarray(draws), _standard_gamma, (concentration,))
