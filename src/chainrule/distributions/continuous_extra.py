"""More continuous families: VonMises (on the circle), FisherSnedecor (a ratio of chi-squares) and
GeneralizedPareto (peaks over a threshold)."""

from __future__ import annotations

import math
from numbers import Number, Real

import numpy as np

from .. import ops as _ops
from .._random import default_generator
from .._tensor import Size, wrap
from . import constraints
from ._base_helpers import np_dtype, tiny, uniform
from .distribution import Distribution
from .gamma import Gamma
from .utils import broadcast_all, lazy_property

__all__ = ["FisherSnedecor", "GeneralizedPareto", "VonMises"]


def _eval_poly(y, coefficients):
    """Horner's rule: ``sum_k coefficients[k] * y**k``."""
    result = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        result = c + y * result
    return result


# Abramowitz and Stegun 9.8.1-9.8.4: the polynomial approximations torch uses for log I0 and log I1
_I0_SMALL = [1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2]
_I0_LARGE = [
    0.39894228, 0.1328592e-1, 0.225319e-2, -0.157565e-2, 0.916281e-2,
    -0.2057706e-1, 0.2635537e-1, -0.1647633e-1, 0.392377e-2,
]  # fmt: skip
_I1_SMALL = [0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2, 0.32411e-3]
_I1_LARGE = [
    0.39894228, -0.3988024e-1, -0.362018e-2, 0.163801e-2, -0.1031555e-1,
    0.2282967e-1, -0.2895312e-1, 0.1787654e-1, -0.420059e-2,
]  # fmt: skip


def _log_modified_bessel(x, order: int = 0):
    """``log I_order(x)`` for ``x > 0``, order 0 or 1, by torch's polynomial approximations (so the
    numbers agree with torch's to the last bit, not only to the approximation's 1e-7)."""
    small_coefficients, large_coefficients = (_I0_SMALL, _I0_LARGE) if order == 0 else (_I1_SMALL, _I1_LARGE)
    y = (x / 3.75) ** 2
    small = _eval_poly(y, small_coefficients)
    if order == 1:
        small = x.abs() * small
    with np.errstate(divide="ignore", invalid="ignore"):  # both branches are evaluated, as in torch
        small = small.log()
        large = x - 0.5 * x.log() + _eval_poly(3.75 / x, large_coefficients).log()
    return _ops.where(x < 3.75, small, large)


def _von_mises_rejection(loc: np.ndarray, concentration: np.ndarray, proposal_r: np.ndarray, shape):
    """Best and Fisher's (1979) rejection sampler, as torch runs it (in float64): propose from a
    wrapped Cauchy envelope until every element has accepted once."""
    rng = default_generator._rng
    x = np.zeros(shape)
    done = np.zeros(shape, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        while not done.all():
            u1, u2, u3 = rng.random((3, *shape))
            z = np.cos(math.pi * u1)
            f = (1 + proposal_r * z) / (proposal_r + z)
            c = concentration * (proposal_r - f)
            accept = ((c * (2 - c) - u2) > 0) | (np.log(c / u2) + 1 - c >= 0)
            accept &= ~done  # an element keeps its first accepted draw
            x = np.where(accept, np.sign(u3 - 0.5) * np.arccos(np.clip(f, -1, 1)), x)
            done |= accept
    return np.mod(x + math.pi + loc, 2 * math.pi) - math.pi


class VonMises(Distribution):
    """The von Mises distribution on the circle, with mean direction ``loc`` and concentration
    ``concentration``; ``log_prob`` is periodic in ``value``, samples lie in ``[-pi, pi)``."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, Size(()), validate_args)

    def expand(self, batch_shape, _instance=None):
        validate_args = self.__dict__.get("_validate_args")
        return type(self)(
            self.loc.expand(batch_shape), self.concentration.expand(batch_shape), validate_args=validate_args
        )

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.concentration * _ops.cos(value - self.loc)
        return log_prob - math.log(2 * math.pi) - _log_modified_bessel(self.concentration, order=0)

    @lazy_property
    def _proposal_r(self):
        kappa = self.concentration.detach()._data.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            tau = 1 + np.sqrt(1 + 4 * kappa**2)
            rho = (tau - np.sqrt(2 * tau)) / (2 * kappa)
            proposal = (1 + rho**2) / (2 * rho)
            taylor = 1 / kappa + kappa  # rho's formula cancels catastrophically for tiny kappa
        return np.where(kappa < 1e-5, taylor, proposal)

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        loc = np.broadcast_to(self.loc.detach()._data.astype(np.float64), shape)
        concentration = np.broadcast_to(self.concentration.detach()._data.astype(np.float64), shape)
        proposal_r = np.broadcast_to(self._proposal_r, shape)
        draws = _von_mises_rejection(loc, concentration, proposal_r, shape)
        return wrap(np.asarray(draws, dtype=np_dtype(self.loc)))

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        return (
            1
            - (
                _log_modified_bessel(self.concentration, order=1)
                - _log_modified_bessel(self.concentration, order=0)
            ).exp()
        )


class FisherSnedecor(Distribution):
    """Fisher-Snedecor's F distribution with ``df1`` and ``df2`` degrees of freedom: the ratio of two
    independent chi-squares, each divided by its degrees of freedom."""

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1, df2, validate_args=None):
        self.df1, self.df2 = broadcast_all(df1, df2)
        self._gamma1 = Gamma(self.df1 * 0.5, self.df1)
        self._gamma2 = Gamma(self.df2 * 0.5, self.df2)
        scalar = isinstance(df1, Number) and isinstance(df2, Number)
        super().__init__(Size(()) if scalar else self.df1.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(FisherSnedecor, _instance)
        batch_shape = Size(tuple(batch_shape))
        new.df1 = self.df1.expand(batch_shape)
        new.df2 = self.df2.expand(batch_shape)
        new._gamma1 = self._gamma1.expand(batch_shape)
        new._gamma2 = self._gamma2.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        df2 = _ops.where(self.df2 <= 2, _ops.full_like(self.df2, math.nan), self.df2)
        return df2 / (df2 - 2)

    @property
    def mode(self):
        mode = (self.df1 - 2) / self.df1 * self.df2 / (self.df2 + 2)
        return _ops.where(self.df1 <= 2, _ops.full_like(mode, math.nan), mode)

    @property
    def variance(self):
        df2 = _ops.where(self.df2 <= 4, _ops.full_like(self.df2, math.nan), self.df2)
        return 2 * df2.pow(2) * (self.df1 + df2 - 2) / (self.df1 * (df2 - 2).pow(2) * (df2 - 4))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        numerator = self._gamma1.rsample(sample_shape).reshape(shape)
        denominator = self._gamma2.rsample(sample_shape).reshape(shape)
        smallest = tiny(denominator)
        return (numerator / denominator.clamp(min=smallest)).clamp(min=smallest)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        ct1 = self.df1 * 0.5
        ct2 = self.df2 * 0.5
        ct3 = self.df1 / self.df2
        t1 = (ct1 + ct2).lgamma() - ct1.lgamma() - ct2.lgamma()
        t2 = ct1 * ct3.log() + (ct1 - 1) * _ops.log(value)
        t3 = (ct1 + ct2) * _ops.log1p(ct3 * value)
        return t1 + t2 - t3


class GeneralizedPareto(Distribution):
    """The generalised Pareto distribution with location ``loc``, scale ``scale`` and shape
    ``concentration`` (0 gives the exponential; negative bounds the support above)."""

    arg_constraints = {
        "loc": constraints.real,
        "scale": constraints.positive,
        "concentration": constraints.real,
    }
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        scalar = all(isinstance(v, Number) for v in (loc, scale, concentration))
        super().__init__(Size(()) if scalar else self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(GeneralizedPareto, _instance)
        batch_shape = Size(tuple(batch_shape))
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()):
        return self.icdf(uniform(self._extended_shape(sample_shape), self.loc))

    def _safe_concentration(self):
        """(concentration == 0 within isclose's tolerance, concentration with those replaced by 1)."""
        concentration = self.concentration
        is_zero = _ops.isclose(concentration, _ops.zeros_like(concentration))
        return is_zero, _ops.where(is_zero, _ops.ones_like(concentration), concentration)

    def _z(self, x):
        return (x - self.loc) / self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        is_zero, safe = self._safe_concentration()
        y = 1 / safe + _ops.ones_like(z)
        with np.errstate(invalid="ignore", divide="ignore"):  # outside the support, as torch: nan
            nonzero = _ops.where(y == 0, y, y * _ops.log1p(safe * z))
        log_scale = math.log(self.scale) if isinstance(self.scale, Real) else self.scale.log()
        return -log_scale - _ops.where(is_zero, z, nonzero)

    def log_survival_function(self, value):
        """``log(1 - cdf(value))``."""
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        is_zero, safe = self._safe_concentration()
        with np.errstate(invalid="ignore", divide="ignore"):
            nonzero = -_ops.log1p(safe * z) / safe
        return _ops.where(is_zero, -z, nonzero)

    def log_cdf(self, value):
        """``log(cdf(value))``."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return _ops.log1p(-_ops.exp(self.log_survival_function(value)))

    def cdf(self, value):
        return _ops.exp(self.log_cdf(value))

    def icdf(self, value):
        is_zero, safe = self._safe_concentration()
        with np.errstate(invalid="ignore", divide="ignore"):
            log_u = _ops.log1p(-value)
        nonzero = self.loc + self.scale / safe * _ops.expm1(-safe * log_u)
        zero = self.loc - self.scale * log_u
        return _ops.where(is_zero, zero, nonzero)

    @property
    def mean(self):
        valid = self.concentration < 1
        safe = _ops.where(valid, self.concentration, _ops.full_like(self.concentration, 0.5))
        return _ops.where(valid, self.loc + self.scale / (1 - safe), _ops.full_like(self.loc, math.nan))

    @property
    def variance(self):
        valid = self.concentration < 0.5
        safe = _ops.where(valid, self.concentration, _ops.full_like(self.concentration, 0.25))
        result = self.scale**2 / ((1 - safe) ** 2 * (1 - 2 * safe))
        return _ops.where(valid, result, _ops.full_like(result, math.nan))

    def entropy(self):
        return _ops.broadcast_to(_ops.log(self.scale) + self.concentration + 1, tuple(self._batch_shape))

    @property
    def mode(self):
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        lower = self.loc
        with np.errstate(divide="ignore", invalid="ignore"):
            bounded = lower - self.scale / self.concentration
        upper = _ops.where(self.concentration < 0, bounded, _ops.full_like(lower, math.inf))
        return constraints.interval(lower, upper)
