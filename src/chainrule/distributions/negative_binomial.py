"""NegativeBinomial: the number of successes before ``total_count`` failures, sampled as a
Gamma-Poisson mixture as torch does."""

from __future__ import annotations

import numpy as np

from .. import ops as _ops
from .._random import default_generator
from .._tensor import Size, wrap
from ..autograd.grad_mode import no_grad
from ..ops import lgamma
from . import constraints
from ._base_helpers import np_dtype
from .distribution import Distribution
from .gamma import Gamma
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits, softplus

__all__ = ["NegativeBinomial"]


def _log_sigmoid(x):
    return -softplus(-x)


class NegativeBinomial(Distribution):
    """Successes before ``total_count`` failures in Bernoulli(``probs``) trials (``probs`` is the
    success probability), given by ``probs`` or ``logits``."""

    arg_constraints = {
        "total_count": constraints.greater_than_eq(0),
        "probs": constraints.half_open_interval(0.0, 1.0),
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self.total_count = self.total_count.to(self.probs.dtype)
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self.total_count = self.total_count.to(self.logits.dtype)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(NegativeBinomial, _instance)
        batch_shape = Size(tuple(batch_shape))
        new.total_count = self.total_count.expand(batch_shape)
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(batch_shape)
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(batch_shape)
            new._param = new.logits
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.total_count * _ops.exp(self.logits)

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / _ops.sigmoid(-self.logits)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self) -> Size:
        return self._param.shape

    @lazy_property
    def _gamma(self):
        return Gamma(concentration=self.total_count, rate=_ops.exp(-self.logits), validate_args=False)

    def sample(self, sample_shape=()):
        with no_grad():
            rate = self._gamma.sample(sample_shape)
            draws = default_generator._rng.poisson(rate._data.astype(np.float64))
            return wrap(np.asarray(draws, dtype=np_dtype(rate)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_unnormalized = self.total_count * _log_sigmoid(-self.logits) + value * _log_sigmoid(self.logits)
        log_normalization = -lgamma(self.total_count + value) + lgamma(1.0 + value) + lgamma(self.total_count)
        # no failures needed and none seen: probability 1 (lgamma(0) would be inf)
        log_normalization = _ops.where(
            self.total_count + value == 0.0, _ops.zeros_like(log_normalization), log_normalization
        )
        return log_unnormalized - log_normalization
