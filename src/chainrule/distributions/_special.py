"""The implicitly reparameterised standard-gamma sampler of the distributions (torch's private
``_standard_gamma``), the one special op with no public chainrule counterpart; the distributions use
the public ``lgamma``, ``digamma``, ``erfinv`` and ``special.gammainc`` for the rest."""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._random import default_generator
from .._record import make_result
from .._tensor import Tensor, wrap
from ..autograd.graph import defop
from ._gamma_grad import standard_gamma_grad

__all__ = ["standard_gamma"]


def _float(x: Tensor) -> np.ndarray:
    data = x._data
    return data if data.dtype.kind == "f" else data.astype(_dtype.get_default_dtype().np)


@defop(
    "distributions._standard_gamma", formula="{g0} = {gy} * _standard_gamma_grad({x0}, {y})", saves_out=True
)
def _standard_gamma(F, g, xs, out, p, needs):
    alpha = xs[0]
    out_array = out._data if isinstance(out, Tensor) else out
    alpha_array = alpha._data if isinstance(alpha, Tensor) else alpha
    # like torch's, this derivative is not differentiated again (a constant under create_graph)
    grad = standard_gamma_grad(alpha_array, out_array)
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
