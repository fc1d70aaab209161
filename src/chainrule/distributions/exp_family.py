"""``ExponentialFamily``: distributions with density ``h(x) exp(<theta, t(x)> - F(theta))``; the
entropy and the KL divergence between two members of one family follow from the log-normalizer F
(its gradient is the mean of the sufficient statistics), as in torch."""

from __future__ import annotations

from ..autograd.engine import grad
from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base class of the exponential families: subclasses define ``_natural_params``,
    ``_log_normalizer(*natural_params)`` and ``_mean_carrier_measure``."""

    @property
    def _natural_params(self) -> tuple:
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        """``F(theta) - <theta, grad F(theta)> - E[log h(x)]`` (the Bregman form)."""
        result = -self._mean_carrier_measure
        natural = [p.detach().requires_grad_() for p in self._natural_params]
        log_normalizer = self._log_normalizer(*natural)
        gradients = grad(log_normalizer.sum(), natural, create_graph=True)
        result = result + log_normalizer
        for param, gradient in zip(natural, gradients):
            result = result - (param * gradient).reshape(*self._batch_shape, -1).sum(-1)
        return result
