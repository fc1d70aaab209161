"""``chainrule.special``: torch.special's functions. Values as SciPy's (Cephes, as torch's
kernels); derivatives, and second derivatives, where torch has them (see ``ops/special_functions.py``);
the Bessel functions and orthogonal polynomials have none in torch, nor here."""

# functions that are also chainrule's top-level ops, under torch.special's names
from . import _fpe
from .ops.elementwise_binary import xlogy  # noqa: F401
from .ops.elementwise_unary import exp2, logit, sinc  # noqa: F401
from .ops.reduce import logsumexp  # noqa: F401
from .ops.softmax import log_softmax, softmax  # noqa: F401
from .ops.special import erf, erfc  # noqa: F401

# torch.special's own (not at torch's top level)
from .ops.special_functions import (  # noqa: F401
    digamma,
    entr,
    erfcx,
    erfinv,
    i0,
    i0e,
    i1,
    i1e,
    log_ndtr,
    ndtr,
    ndtri,
    polygamma,
    xlog1py,
    zeta,
)
from .ops.special_functions import digamma as psi  # noqa: F401
from .ops.special_functions import igamma as gammainc  # noqa: F401
from .ops.special_functions import igammac as gammaincc  # noqa: F401
from .ops.special_functions import lgamma as gammaln  # noqa: F401
from .ops.special_functions import mvlgamma as multigammaln  # noqa: F401
from .ops.special_polynomials import (  # noqa: F401
    airy_ai,
    bessel_j0,
    bessel_j1,
    bessel_y0,
    bessel_y1,
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    hermite_polynomial_h,
    hermite_polynomial_he,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    modified_bessel_i0,
    modified_bessel_i1,
    modified_bessel_k0,
    modified_bessel_k1,
    scaled_modified_bessel_k0,
    scaled_modified_bessel_k1,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
    spherical_bessel_j0,
)
from .ops.unary import expm1, log1p, round  # noqa: F401, A004
from .ops.unary import sigmoid as expit  # noqa: F401

_fpe.quiet_namespace(globals())  # silent where IEEE arithmetic gives inf or NaN, as torch
