"""The one private op of chainrule.distributions, the standard-gamma sampler (the special functions
the distributions use are the public ``lgamma``, ``digamma``, ``erfinv``, ``special.gammainc``, with
their own specs). Its draws are random, so its spec checks only that its node passes gradients
through (``0 * draw + a``); tests/distributions checks its statistics and reparameterised gradient."""

from __future__ import annotations

import torch
from oracle import Arg, OpSpec

from chainrule.distributions import _special
from specs.strategies import any_shape

SPECS = [
    OpSpec(
        "distributions standard_gamma passes gradients",
        lambda m, a: a if m is torch else 0 * _special.standard_gamma(a) + a,
        any_shape(),
        (Arg(0.3, 5.0),),
    ),
]
