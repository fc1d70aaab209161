"""The one private op of chainrule.distributions, the standard-gamma sampler (the special functions
the distributions use are the public ``lgamma``, ``digamma``, ``erfinv``, ``special.gammainc``, with
their own specs). Its draws are random, so its spec takes ``0 * draw + a`` in both libraries
(torch's ``_standard_gamma``): the values are ``a``, and the gradient ``1 + 0 * dx/da`` checks that
the node passes gradients through, and where torch's reparameterised gradient ``dx/da`` is not
finite (``a = inf``: NaN), that chainrule's is not either. tests/distributions checks the draws'
statistics and ``dx/da`` itself against torch's ``_standard_gamma_grad``."""

from __future__ import annotations

import torch
from oracle import Arg, OpSpec

from chainrule.distributions import _special
from specs.strategies import any_shape

SPECS = [
    OpSpec(
        "distributions standard_gamma passes gradients",
        lambda m, a: 0 * (torch._standard_gamma if m is torch else _special.standard_gamma)(a) + a,
        any_shape(),
        (Arg(0.3, 5.0),),
        gradgrad=False,  # torch's _standard_gamma_grad has no derivative (NotImplementedError)
    ),
]
