"""Gaussian vectors: MultivariateNormal (by covariance, precision or Cholesky factor) and
LowRankMultivariateNormal (covariance ``W @ W.T + diag(D)``)."""

from __future__ import annotations

import math

from .. import ops as _ops
from .._tensor import Size, Tensor
from ..linalg import cholesky, solve_triangular
from . import constraints
from ._base_helpers import standard_normal
from .distribution import Distribution
from .utils import lazy_property

__all__ = ["LowRankMultivariateNormal", "MultivariateNormal"]


def _batch_mv(matrix: Tensor, vector: Tensor) -> Tensor:
    """Matrix-vector product over broadcast batch dims."""
    return _ops.matmul(matrix, vector.unsqueeze(-1)).squeeze(-1)


def _batch_mahalanobis(scale_tril: Tensor, x: Tensor) -> Tensor:
    """``x^T (L L^T)^{-1} x`` over broadcast batch dims, by one triangular solve."""
    n = x.shape[-1]
    batch = _ops.broadcast_shapes(tuple(scale_tril.shape[:-2]), tuple(x.shape[:-1]))
    lower = scale_tril.expand(*batch, n, n)
    x = x.expand(*batch, n)
    return solve_triangular(lower, x.unsqueeze(-1), upper=False).squeeze(-1).pow(2).sum(-1)


def _precision_to_scale_tril(precision: Tensor) -> Tensor:
    """The lower Cholesky factor of ``precision^{-1}`` without inverting (via a flipped Cholesky)."""
    flipped = cholesky(_ops.flip(precision, (-2, -1)))
    lower_inverse = _ops.flip(flipped, (-2, -1)).transpose(-2, -1)
    identity = _ops.eye(precision.shape[-1], dtype=precision.dtype)
    return solve_triangular(lower_inverse, identity.expand_as(lower_inverse), upper=False)


def _cholesky_inverse(scale_tril: Tensor) -> Tensor:
    identity = _ops.eye(scale_tril.shape[-1], dtype=scale_tril.dtype).expand_as(scale_tril)
    inverse_lower = solve_triangular(scale_tril, identity, upper=False)
    return _ops.matmul(inverse_lower.transpose(-2, -1), inverse_lower)


def _need_matrix(name: str, value: Tensor) -> None:
    if value.dim() < 2:
        what = "scale_tril matrix" if name == "scale_tril" else name  # torch's wording
        raise ValueError(f"{what} must be at least two-dimensional, with optional leading batch dimensions")


class MultivariateNormal(Distribution):
    """A Gaussian vector with mean ``loc`` and exactly one of ``covariance_matrix``,
    ``precision_matrix`` or ``scale_tril`` (lower-triangular, positive diagonal)."""

    arg_constraints = {
        "loc": constraints.real_vector,
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(
        self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None
    ):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        if (covariance_matrix is not None) + (scale_tril is not None) + (precision_matrix is not None) != 1:
            raise ValueError(
                "Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified."
            )
        given = scale_tril if scale_tril is not None else covariance_matrix
        given = given if given is not None else precision_matrix
        name = (
            "scale_tril"
            if scale_tril is not None
            else "covariance_matrix"
            if covariance_matrix is not None
            else "precision_matrix"
        )
        _need_matrix(name, given)
        batch_shape = Size(_ops.broadcast_shapes(tuple(given.shape[:-2]), tuple(loc.shape[:-1])))
        setattr(self, name, given.expand(*batch_shape, -1, -1))
        self.loc = loc.expand(*batch_shape, -1)
        super().__init__(batch_shape, loc.shape[-1:], validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = Size(tuple(batch_shape))
        loc_shape = (*batch_shape, *self.event_shape)
        cov_shape = (*batch_shape, *self.event_shape, *self.event_shape)
        new.loc = self.loc.expand(loc_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(cov_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self):
        return (*self._batch_shape, *self._event_shape, *self._event_shape)

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        lower = self._unbroadcasted_scale_tril
        return _ops.matmul(lower, lower.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        return _cholesky_inverse(self._unbroadcasted_scale_tril).expand(self._matrix_shape())

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(*self._batch_shape, *self._event_shape)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = standard_normal(shape, self.loc)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        mahalanobis = _batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + mahalanobis) - half_log_det

    def entropy(self):
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        entropy = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + half_log_det
        return entropy if len(self._batch_shape) == 0 else entropy.expand(self._batch_shape)


def _capacitance_tril(cov_factor: Tensor, cov_diag: Tensor) -> Tensor:
    """Cholesky factor of ``I + W^T D^{-1} W`` (the Woodbury capacitance matrix)."""
    m = cov_factor.shape[-1]
    scaled = cov_factor.mT / cov_diag.unsqueeze(-2)
    capacitance = _ops.matmul(scaled, cov_factor) + _ops.eye(m, dtype=cov_factor.dtype)
    return cholesky(capacitance)


def _lowrank_logdet(cov_factor, cov_diag, capacitance_tril):
    """``log|W W^T + D| = log|C| + log|D|`` (matrix determinant lemma)."""
    return 2 * capacitance_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1) + cov_diag.log().sum(-1)


def _lowrank_mahalanobis(cov_factor, cov_diag, x, capacitance_tril):
    """``x^T (W W^T + D)^{-1} x`` by the Woodbury identity."""
    wt_dinv = cov_factor.mT / cov_diag.unsqueeze(-2)
    wt_dinv_x = _batch_mv(wt_dinv, x)
    return (x.pow(2) / cov_diag).sum(-1) - _batch_mahalanobis(capacitance_tril, wt_dinv_x)


class LowRankMultivariateNormal(Distribution):
    """A Gaussian vector whose covariance is ``cov_factor @ cov_factor.T + diag(cov_diag)``."""

    arg_constraints = {
        "loc": constraints.real_vector,
        "cov_factor": constraints.independent(constraints.real, 2),
        "cov_diag": constraints.independent(constraints.positive, 1),
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        event_shape = loc.shape[-1:]
        if cov_factor.dim() < 2:
            raise ValueError(
                "cov_factor must be at least two-dimensional, with optional leading batch dimensions"
            )
        if tuple(cov_factor.shape[-2:-1]) != tuple(event_shape):
            raise ValueError(f"cov_factor must be a batch of matrices with shape {event_shape[0]} x m")
        if tuple(cov_diag.shape[-1:]) != tuple(event_shape):
            raise ValueError(f"cov_diag must be a batch of vectors with shape {event_shape}")
        try:
            loc_, self.cov_factor, cov_diag_ = _ops.broadcast_tensors(
                loc.unsqueeze(-1), cov_factor, cov_diag.unsqueeze(-1)
            )
        except RuntimeError as error:
            raise ValueError(
                f"Incompatible batch shapes: loc {loc.shape}, cov_factor {cov_factor.shape}, "
                f"cov_diag {cov_diag.shape}"
            ) from error
        self.loc = loc_[..., 0]
        self.cov_diag = cov_diag_[..., 0]
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        self._capacitance_tril = _capacitance_tril(cov_factor, cov_diag)
        super().__init__(self.loc.shape[:-1], event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LowRankMultivariateNormal, _instance)
        batch_shape = Size(tuple(batch_shape))
        loc_shape = (*batch_shape, *self.event_shape)
        new.loc = self.loc.expand(loc_shape)
        new.cov_diag = self.cov_diag.expand(loc_shape)
        new.cov_factor = self.cov_factor.expand(*loc_shape, self.cov_factor.shape[-1])
        new._unbroadcasted_cov_factor = self._unbroadcasted_cov_factor
        new._unbroadcasted_cov_diag = self._unbroadcasted_cov_diag
        new._capacitance_tril = self._capacitance_tril
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self):
        return (*self._batch_shape, *self._event_shape, *self._event_shape)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        factor = self._unbroadcasted_cov_factor
        return (factor.pow(2).sum(-1) + self._unbroadcasted_cov_diag).expand(
            *self._batch_shape, *self._event_shape
        )

    @lazy_property
    def covariance_matrix(self):
        factor = self._unbroadcasted_cov_factor
        diagonal = self._unbroadcasted_cov_diag.unsqueeze(-1) * _ops.eye(factor.shape[-2], dtype=factor.dtype)
        covariance = _ops.matmul(factor, factor.mT) + diagonal
        return covariance.expand(self._matrix_shape())

    @lazy_property
    def scale_tril(self):
        # the Cholesky factor of the covariance, scaled by sqrt(D) for numerical stability (as torch)
        n = self._event_shape[0]
        cov_diag_sqrt_unsqueeze = self._unbroadcasted_cov_diag.sqrt().unsqueeze(-1)
        dinvsqrt_w = self._unbroadcasted_cov_factor / cov_diag_sqrt_unsqueeze
        k = _ops.matmul(dinvsqrt_w, dinvsqrt_w.mT) + _ops.eye(n, dtype=dinvsqrt_w.dtype)
        return (cov_diag_sqrt_unsqueeze * cholesky(k)).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        factor, diag = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        wt_dinv = factor.mT / diag.unsqueeze(-2)
        a = solve_triangular(self._capacitance_tril, wt_dinv, upper=False)
        n = self._event_shape[0]
        dinv = diag.reciprocal().unsqueeze(-1) * _ops.eye(n, dtype=diag.dtype)
        return (dinv - _ops.matmul(a.mT, a)).expand(self._matrix_shape())

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps_w = standard_normal((*shape[:-1], self.cov_factor.shape[-1]), self.loc)
        eps_d = standard_normal(shape, self.loc)
        return (
            self.loc
            + _batch_mv(self._unbroadcasted_cov_factor, eps_w)
            + self._unbroadcasted_cov_diag.sqrt() * eps_d
        )

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        mahalanobis = _lowrank_mahalanobis(
            self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag, diff, self._capacitance_tril
        )
        log_det = _lowrank_logdet(
            self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag, self._capacitance_tril
        )
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + log_det + mahalanobis)

    def entropy(self):
        log_det = _lowrank_logdet(
            self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag, self._capacitance_tril
        )
        entropy = 0.5 * (self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + log_det)
        return entropy if len(self._batch_shape) == 0 else entropy.expand(self._batch_shape)
