"""Distributions over matrices: Wishart (positive definite) and LKJCholesky (Cholesky factors of
correlation matrices)."""

from __future__ import annotations

import math
import warnings
from numbers import Number

import numpy as np

from .. import ops as _ops
from .._tensor import Size, Tensor
from ..autograd.grad_mode import no_grad
from ..linalg import cholesky, slogdet
from ..ops import digamma, lgamma, mvlgamma
from . import constraints
from ._base_helpers import standard_normal, tiny
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .gamma import Beta, Chi2
from .multivariate_normal import _precision_to_scale_tril
from .utils import broadcast_all, lazy_property

__all__ = ["LKJCholesky", "Wishart"]

_LOG_2 = math.log(2)


def _mvdigamma(x: Tensor, p: int) -> Tensor:
    """The multivariate digamma ``sum_{i<p} digamma(x - i/2)``, the derivative of ``mvlgamma``."""
    if not bool(x.gt((p - 1) / 2).all()):
        raise ValueError(f"multivariate digamma: every value must exceed (p - 1) / 2 = {(p - 1) / 2}")
    shifts = _ops.arange(p, dtype=x.dtype) / 2
    return digamma(x.unsqueeze(-1) - shifts).sum(-1)


def _eps_clamp(x: Tensor) -> Tensor:
    return x.clamp(min=float(np.finfo(x._data.dtype).eps))


class Wishart(ExponentialFamily):
    """The Wishart distribution over ``p x p`` positive definite matrices, with ``df > p - 1``
    degrees of freedom and a scale given by exactly one of ``covariance_matrix``,
    ``precision_matrix`` or ``scale_tril``; ``rsample`` uses Bartlett's decomposition."""

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self):
        return {
            "covariance_matrix": constraints.positive_definite,
            "precision_matrix": constraints.positive_definite,
            "scale_tril": constraints.lower_cholesky,
            "df": constraints.greater_than(self.event_shape[-1] - 1),
        }

    def __init__(
        self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None
    ):
        given = [p for p in (covariance_matrix, precision_matrix, scale_tril) if p is not None]
        if len(given) != 1:
            raise ValueError(
                "Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified."
            )
        param = given[0]
        if param.dim() < 2:
            raise ValueError(
                "scale_tril must be at least two-dimensional, with optional leading batch dimensions"
            )
        if isinstance(df, Number):
            batch_shape = Size(tuple(param.shape[:-2]))
            self.df = _ops.tensor(float(df), dtype=param.dtype)
        else:
            batch_shape = Size(_ops.broadcast_shapes(tuple(param.shape[:-2]), tuple(df.shape)))
            self.df = df.expand(batch_shape)
        event_shape = Size(tuple(param.shape[-2:]))
        p = event_shape[-1]
        if bool(self.df.le(p - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        matrix_shape = (*batch_shape, -1, -1)
        if scale_tril is not None:
            self.scale_tril = param.expand(*matrix_shape)
        elif covariance_matrix is not None:
            self.covariance_matrix = param.expand(*matrix_shape)
        else:
            self.precision_matrix = param.expand(*matrix_shape)
        if bool(self.df.lt(p).any()):
            warnings.warn(
                "Low df values detected. Singular samples are highly likely to occur for "
                "ndim - 1 < df < ndim.",
                stacklevel=2,
            )
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        self._batch_dims = [-(x + 1) for x in range(len(self._batch_shape))]
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)
        self._dist_chi2 = self._chi2(self.df, batch_shape)

    def _chi2(self, df, batch_shape):
        """The chi-squares of Bartlett's diagonal: ``df - i`` degrees of freedom for row ``i``."""
        p = self._event_shape[-1]
        offsets = _ops.arange(p, dtype=self._unbroadcasted_scale_tril.dtype).expand(*batch_shape, p)
        return Chi2(df=df.unsqueeze(-1) - offsets)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Wishart, _instance)
        batch_shape = Size(tuple(batch_shape))
        matrix_shape = (*batch_shape, *self.event_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(*matrix_shape)
        new.df = self.df.expand(batch_shape)
        new._batch_dims = [-(x + 1) for x in range(len(batch_shape))]
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(*matrix_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._dist_chi2 = new._chi2(new.df, batch_shape)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(*self._batch_shape, *self._event_shape)

    @lazy_property
    def covariance_matrix(self):
        tril = self._unbroadcasted_scale_tril
        return (tril @ tril.transpose(-2, -1)).expand(*self._batch_shape, *self._event_shape)

    @lazy_property
    def precision_matrix(self):
        identity = _ops.eye(self._event_shape[-1], dtype=self._unbroadcasted_scale_tril.dtype)
        inverse = _ops.cholesky_solve(identity, self._unbroadcasted_scale_tril)
        return inverse.expand(*self._batch_shape, *self._event_shape)

    def _per_matrix(self, values: Tensor) -> Tensor:
        return values.reshape(*self._batch_shape, 1, 1)

    @property
    def mean(self):
        return self._per_matrix(self.df) * self.covariance_matrix

    @property
    def mode(self):
        factor = self.df - self.covariance_matrix.shape[-1] - 1
        factor = _ops.where(factor <= 0, _ops.full_like(factor, math.nan), factor)
        return self._per_matrix(factor) * self.covariance_matrix

    @property
    def variance(self):
        covariance = self.covariance_matrix
        diagonal = covariance.diagonal(dim1=-2, dim2=-1)
        outer = diagonal.unsqueeze(-1) * diagonal.unsqueeze(-2)
        return self._per_matrix(self.df) * (covariance.pow(2) + outer)

    def _bartlett_sampling(self, sample_shape) -> Tensor:
        """``L A A^T L^T`` with ``A`` lower triangular: sqrt(chi2(df - i)) on the diagonal, standard
        normals below it."""
        p = self._event_shape[-1]
        diagonal = _eps_clamp(self._dist_chi2.rsample(sample_shape).sqrt())
        below = standard_normal((*sample_shape, *self._batch_shape, p, p), diagonal).tril(-1)
        factor = self._unbroadcasted_scale_tril @ (_ops.diag_embed(diagonal) + below)
        return factor @ factor.transpose(-2, -1)

    def rsample(self, sample_shape=(), max_try_correction=None):
        """Bartlett draws; samples that come out singular (possible for ``df`` close to ``p - 1``)
        are drawn again, at most ``max_try_correction`` (default 10) times."""
        max_try_correction = 10 if max_try_correction is None else max_try_correction
        sample_shape = Size(tuple(sample_shape))
        sample = self._bartlett_sampling(sample_shape)
        with no_grad():
            singular = ~self.support.check(sample)
        if bool(singular.any()):
            warnings.warn("Singular sample detected.", stacklevel=2)
            for _ in range(max_try_correction):
                sample = _ops.where(singular[..., None, None], self._bartlett_sampling(sample_shape), sample)
                with no_grad():
                    singular = ~self.support.check(sample)
                if not bool(singular.any()):
                    break
        return sample

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        nu = self.df
        p = self._event_shape[-1]
        tril = self._unbroadcasted_scale_tril
        log_det_scale = tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        trace_term = _ops.cholesky_solve(value, tril).diagonal(dim1=-2, dim2=-1).sum(dim=-1)
        return (
            -nu * (p * _LOG_2 / 2 + log_det_scale)
            - mvlgamma(nu / 2, p=p)
            + (nu - p - 1) / 2 * slogdet(value).logabsdet
            - trace_term / 2
        )

    def entropy(self):
        nu = self.df
        p = self._event_shape[-1]
        log_det_scale = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return (
            (p + 1) * (p * _LOG_2 / 2 + log_det_scale)
            + mvlgamma(nu / 2, p=p)
            - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p=p)
            + nu * p / 2
        )

    @property
    def _natural_params(self):
        p = self._event_shape[-1]
        return -self.precision_matrix / 2, (self.df - p - 1) / 2

    def _log_normalizer(self, x, y):
        p = self._event_shape[-1]
        return (y + (p + 1) / 2) * (-slogdet(-2 * x).logabsdet + _LOG_2 * p) + mvlgamma(y + (p + 1) / 2, p=p)


class LKJCholesky(Distribution):
    """The LKJ distribution over Cholesky factors of ``dim x dim`` correlation matrices, with
    density proportional to ``det(L L^T) ** (concentration - 1)``; sampled by torch's onion method."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        batch_shape = self.concentration.shape
        event_shape = Size((dim, dim))
        # the onion method's Beta marginals, one per row (row 0 is a dummy)
        marginal = self.concentration + 0.5 * (self.dim - 2)
        offset = _ops.arange(self.dim - 1, dtype=self.concentration.dtype)
        offset = _ops.cat([_ops.zeros((1,), dtype=offset.dtype), offset])
        self._beta = Beta(offset + 0.5, marginal.unsqueeze(-1) - 0.5 * offset)
        super().__init__(batch_shape, event_shape, validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = Size(tuple(batch_shape))
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand((*batch_shape, self.dim))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=()):
        with no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            u_normal = standard_normal(self._extended_shape(sample_shape), y).tril(-1)
            norms = u_normal.norm(dim=-1, keepdim=True)
            # row 0 is all zeros (0 / 0): it is set to 0 below, as torch does, without the warning
            with np.errstate(invalid="ignore", divide="ignore"):
                u_hypersphere = u_normal / norms
            row_zero = _ops.arange(self.dim) == 0
            u_hypersphere = _ops.where(row_zero.unsqueeze(-1), _ops.zeros_like(u_hypersphere), u_hypersphere)
            w = _ops.sqrt(y) * u_hypersphere
            diagonal = (1 - (w**2).sum(dim=-1)).clamp(min=tiny(w)).sqrt()
            return w + _ops.diag_embed(diagonal)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diagonal = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = _ops.arange(2, self.dim + 1)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized = (order * diagonal.log()).sum(dim=-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = lgamma(alpha) * dm1
        numerator = mvlgamma(alpha - 0.5, dm1)
        normalizer = 0.5 * dm1 * math.log(math.pi) + numerator - denominator
        return unnormalized - normalizer
