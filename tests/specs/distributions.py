"""The private special-function ops of chainrule.distributions (lgamma, digamma/polygamma, erfinv,
gammainc, the standard-gamma sampler) against torch's own: values, gradients, second derivatives
and finite differences. The sampler's draws are random, so its spec checks only that its node
passes gradients through (``0 * draw + a``); tests/distributions checks its statistics."""

from __future__ import annotations

import torch
from oracle import Arg, OpSpec

from chainrule.distributions import _special
from specs.strategies import any_shape, broadcastable

POSITIVE = Arg(0.3, 5.0)
OPEN_UNIT = Arg(-0.9, 0.9)
ANY = any_shape()


def _pick(lib, ours, theirs):
    return theirs if lib is torch else ours


def _unary(name, ours, theirs, arg):
    return OpSpec(f"distributions {name}", lambda m, x: _pick(m, ours, theirs)(x), ANY, (arg,))


SPECS = [
    _unary("lgamma", _special.lgamma, torch.lgamma, POSITIVE),
    _unary("digamma", _special.digamma, torch.digamma, POSITIVE),
    OpSpec(
        "distributions polygamma(1)",
        lambda m, x: _pick(m, _special.polygamma, torch.special.polygamma)(1, x),
        ANY,
        (POSITIVE,),
    ),
    _unary("erfinv", _special.erfinv, torch.erfinv, OPEN_UNIT),
    OpSpec(
        "distributions gammainc (grad in x)",
        lambda m, a, x: _pick(m, _special.gammainc, torch.special.gammainc)(a, x),
        broadcastable(2),
        (Arg(0.5, 3.0, grad=False), POSITIVE),
    ),
    OpSpec(
        "distributions standard_gamma passes gradients",
        lambda m, a: a if m is torch else 0 * _special.standard_gamma(a) + a,
        ANY,
        (POSITIVE,),
    ),
]
