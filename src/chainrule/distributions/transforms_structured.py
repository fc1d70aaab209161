"""Transforms that act on the structure of an event: ReshapeTransform, CatTransform and
StackTransform (apply transforms to pieces of a dim), CorrCholeskyTransform (reals -> Cholesky
factors of correlation matrices) and CumulativeDistributionTransform (a distribution's cdf)."""

from __future__ import annotations

import math

from .. import ops as _ops
from .._tensor import Size
from . import constraints
from ._base_helpers import eps
from .transforms_core import Transform, _sum_rightmost
from .utils import lazy_property, softplus, tril_matrix_to_vec, vec_to_tril_matrix

__all__ = [
    "CatTransform",
    "CorrCholeskyTransform",
    "CumulativeDistributionTransform",
    "ReshapeTransform",
    "StackTransform",
]


class ReshapeTransform(Transform):
    """Reshape the rightmost ``in_shape`` dims of the input to ``out_shape`` (same number of
    elements); the Jacobian is a permutation, so log|det J| is 0."""

    bijective = True

    def __init__(self, in_shape, out_shape, cache_size: int = 0) -> None:
        self.in_shape = Size(tuple(in_shape))
        self.out_shape = Size(tuple(out_shape))
        if math.prod(self.in_shape) != math.prod(self.out_shape):
            raise ValueError("in_shape, out_shape have different numbers of elements")
        super().__init__(cache_size=cache_size)

    @constraints.dependent_property
    def domain(self):
        return constraints.independent(constraints.real, len(self.in_shape))

    @constraints.dependent_property
    def codomain(self):
        return constraints.independent(constraints.real, len(self.out_shape))

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return ReshapeTransform(self.in_shape, self.out_shape, cache_size=cache_size)

    def _call(self, x):
        batch_shape = tuple(x.shape[: x.dim() - len(self.in_shape)])
        return x.reshape(*batch_shape, *self.out_shape)

    def _inverse(self, y):
        batch_shape = tuple(y.shape[: y.dim() - len(self.out_shape)])
        return y.reshape(*batch_shape, *self.in_shape)

    def log_abs_det_jacobian(self, x, y):
        return x.new_zeros(tuple(x.shape[: x.dim() - len(self.in_shape)]))

    @staticmethod
    def _swap_event(shape, old: Size, new: Size):
        shape = tuple(shape)
        if len(shape) < len(old):
            raise ValueError("Too few dimensions on input")
        cut = len(shape) - len(old)
        if shape[cut:] != tuple(old):
            raise ValueError(f"Shape mismatch: expected {Size(shape[cut:])} but got {old}")
        return Size(shape[:cut] + tuple(new))

    def forward_shape(self, shape):
        return self._swap_event(shape, self.in_shape, self.out_shape)

    def inverse_shape(self, shape):
        return self._swap_event(shape, self.out_shape, self.in_shape)


def _pad_one_left(x):
    """``x[..., :-1]`` with a column of ones put in front (torch's ``pad(x[..., :-1], [1, 0], value=1)``)."""
    ones = _ops.ones((*x.shape[:-1], 1), dtype=x.dtype)
    return _ops.cat([ones, x[..., :-1]], dim=-1)


class CorrCholeskyTransform(Transform):
    """Map a vector of ``D (D - 1) / 2`` reals onto the Cholesky factor of a ``D x D`` correlation
    matrix: tanh to (-1, 1), then a stick-breaking of each row so that it has unit norm."""

    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def _call(self, x):
        x = _ops.tanh(x)
        bound = 1 - eps(x)
        x = x.clamp(min=-bound, max=bound)
        r = vec_to_tril_matrix(x, diag=-1)
        remaining = (1 - r**2).sqrt().cumprod(-1)
        r = r + _ops.eye(r.shape[-1], dtype=r.dtype)
        return r * _pad_one_left(remaining)

    def _inverse(self, y):
        remaining = _pad_one_left(1 - _ops.cumsum(y * y, dim=-1))
        t = tril_matrix_to_vec(y, diag=-1) / tril_matrix_to_vec(remaining, diag=-1).sqrt()
        return (t.log1p() - t.neg().log1p()) / 2

    def log_abs_det_jacobian(self, x, y, intermediates=None):
        remaining = tril_matrix_to_vec(1 - (y * y).cumsum(dim=-1), diag=-2)
        stick_breaking_logdet = 0.5 * remaining.log().sum(-1)
        tanh_logdet = -2 * (x + softplus(-2 * x) - math.log(2.0)).sum(dim=-1)
        return stick_breaking_logdet + tanh_logdet

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        n = shape[-1]
        d = round((0.25 + 2 * n) ** 0.5 + 0.5)
        if d * (d - 1) // 2 != n:
            raise ValueError("Input is not a flattened lower-diagonal number")
        return Size((*tuple(shape)[:-1], d, d))

    def inverse_shape(self, shape):
        if len(shape) < 2:
            raise ValueError("Too few dimensions on input")
        if shape[-2] != shape[-1]:
            raise ValueError("Input is not square")
        d = shape[-1]
        return Size((*tuple(shape)[:-2], d * (d - 1) // 2))


def _check_transforms(tseq) -> list:
    tseq = list(tseq)
    if not all(isinstance(t, Transform) for t in tseq):
        raise TypeError("All elements of tseq must be Transform instances")
    return tseq


def _check_dim(what: str, value, dim: int, size: int, expected_name: str) -> None:
    """torch raises AssertionError for these (its own checks are asserts)."""
    if not -value.dim() <= dim < value.dim():
        raise AssertionError(f"dim {dim} out of range for {what} with {value.dim()} dimensions")
    if value.shape[dim] != size:
        raise AssertionError(f"{what}.size({dim}) = {value.shape[dim]} must equal {expected_name} {size}")


class CatTransform(Transform):
    """Apply ``tseq[i]`` to the ``i``-th piece (``lengths[i]`` long, default 1) of dim ``dim``,
    as ``torch.cat`` would join them."""

    def __init__(self, tseq, dim: int = 0, lengths=None, cache_size: int = 0) -> None:
        tseq = _check_transforms(tseq)
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms = tseq
        self.lengths = list(lengths) if lengths is not None else [1] * len(tseq)
        if len(self.lengths) != len(self.transforms):
            raise ValueError(f"lengths ({len(self.lengths)}) must match transforms ({len(self.transforms)})")
        self.dim = dim

    @lazy_property
    def event_dim(self) -> int:
        return max(t.event_dim for t in self.transforms)

    @lazy_property
    def length(self) -> int:
        return sum(self.lengths)

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return CatTransform(self.transforms, self.dim, self.lengths, cache_size)

    def _pieces(self, value, what: str):
        _check_dim(what, value, self.dim, self.length, "length")
        start = 0
        for length in self.lengths:
            yield value.narrow(self.dim, start, length)
            start += length

    def _call(self, x):
        pieces = self._pieces(x, "x")
        return _ops.cat([t(piece) for t, piece in zip(self.transforms, pieces)], dim=self.dim)

    def _inverse(self, y):
        pieces = self._pieces(y, "y")
        return _ops.cat([t.inv(piece) for t, piece in zip(self.transforms, pieces)], dim=self.dim)

    def log_abs_det_jacobian(self, x, y):
        parts = []
        for t, x_piece, y_piece in zip(self.transforms, self._pieces(x, "x"), self._pieces(y, "y")):
            part = t.log_abs_det_jacobian(x_piece, y_piece)
            if t.event_dim < self.event_dim:
                part = _sum_rightmost(part, self.event_dim - t.event_dim)
            parts.append(part)
        dim = self.dim - x.dim() if self.dim >= 0 else self.dim
        dim += self.event_dim
        # the cat dim is a batch dim of the result when it lies left of the event dims
        return _ops.cat(parts, dim=dim) if dim < 0 else sum(parts)

    @property
    def bijective(self) -> bool:
        return all(t.bijective for t in self.transforms)

    @constraints.dependent_property
    def domain(self):
        return constraints.cat([t.domain for t in self.transforms], self.dim, self.lengths)

    @constraints.dependent_property
    def codomain(self):
        return constraints.cat([t.codomain for t in self.transforms], self.dim, self.lengths)


class StackTransform(Transform):
    """Apply ``tseq[i]`` to slice ``i`` of dim ``dim``, as ``torch.stack`` would join them."""

    def __init__(self, tseq, dim: int = 0, cache_size: int = 0) -> None:
        tseq = _check_transforms(tseq)
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms = tseq
        self.dim = dim

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return StackTransform(self.transforms, self.dim, cache_size)

    def _slices(self, value, what: str):
        _check_dim(what, value, self.dim, len(self.transforms), "len(transforms)")
        return [value.select(self.dim, i) for i in range(value.shape[self.dim])]

    def _call(self, x):
        return _ops.stack([t(s) for s, t in zip(self._slices(x, "x"), self.transforms)], dim=self.dim)

    def _inverse(self, y):
        return _ops.stack([t.inv(s) for s, t in zip(self._slices(y, "y"), self.transforms)], dim=self.dim)

    def log_abs_det_jacobian(self, x, y):
        parts = [
            t.log_abs_det_jacobian(x_slice, y_slice)
            for x_slice, y_slice, t in zip(self._slices(x, "x"), self._slices(y, "y"), self.transforms)
        ]
        return _ops.stack(parts, dim=self.dim)

    @property
    def bijective(self) -> bool:
        return all(t.bijective for t in self.transforms)

    @constraints.dependent_property
    def domain(self):
        return constraints.stack([t.domain for t in self.transforms], self.dim)

    @constraints.dependent_property
    def codomain(self):
        return constraints.stack([t.codomain for t in self.transforms], self.dim)


class CumulativeDistributionTransform(Transform):
    """``y = distribution.cdf(x)``, onto the unit interval; log|det J| is ``log_prob(x)``."""

    bijective = True
    codomain = constraints.unit_interval
    sign = +1

    def __init__(self, distribution, cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        self.distribution = distribution

    @property
    def domain(self):
        return self.distribution.support

    def _call(self, x):
        return self.distribution.cdf(x)

    def _inverse(self, y):
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x, y):
        return self.distribution.log_prob(x)

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return CumulativeDistributionTransform(self.distribution, cache_size=cache_size)
