"""Sampling in place (``x.normal_()``, ``x.uniform_()``, ...) and the count samplers
(``poisson``, ``binomial``).

Each in-place sampler overwrites every element, so it goes through ``apply_inplace`` like
``fill_``: on a tensor with history the old values get a zero gradient, a leaf that requires grad
refuses, and a view writes its base. The draws come from chainrule's generator (NumPy's PCG64):
reproducible under a seed, with torch's distributions but not torch's stream.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._random import rng
from .._tensor import Tensor, wrap
from ._common import as_tensor
from .inplace import apply_inplace

__all__ = [
    "normal_",
    "uniform_",
    "exponential_",
    "geometric_",
    "log_normal_",
    "cauchy_",
    "random_",
    "bernoulli_",
    "poisson",
    "binomial",
]


def _float_target(who: str, self: Tensor) -> None:
    if not self.is_floating_point():  # (bfloat16 is ml_dtypes' 'V' kind: asked through the tensor)
        raise RuntimeError(
            f"{who}: expects a floating-point tensor, got {self.dtype}; sample into a float tensor "
            f"and convert (e.g. x.float().{who}(...).long())"
        )


def _fill(who: str, self: Tensor, values: np.ndarray) -> Tensor:
    return apply_inplace(who, self, lambda: wrap(values.astype(self._data.dtype, copy=False)))


def _draw_float(self: Tensor, generator, draw) -> np.ndarray:
    """``draw(numpy_generator, shape, dtype)`` in the tensor's precision where NumPy has it."""
    dt = self._data.dtype
    native = dt if dt in (np.float32, np.float64) else np.float32  # float16/bfloat16: round after
    return draw(rng(generator), self._data.shape, native)


def _like(like: np.ndarray, number: float) -> np.ndarray:
    """``number`` as a 0-d array of ``like``'s dtype: NumPy then keeps float32 float32."""
    return np.asarray(number, dtype=like.dtype)


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    """Fill with samples from N(``mean``, ``std``²)."""
    _float_target("normal_", self)
    if std < 0:
        raise RuntimeError(f"normal_ expects std >= 0.0, but found std {std}")
    values = _draw_float(self, generator, lambda g, s, d: g.standard_normal(s, dtype=d))
    return _fill("normal_", self, values * _like(values, std) + _like(values, mean))


def uniform_(self: Tensor, from_: float = 0.0, to: float = 1.0, *, generator=None, **kwargs) -> Tensor:
    """Fill with samples from U[``from``, ``to``) (torch's keyword ``from`` is accepted too)."""
    from_ = kwargs.pop("from", from_)
    if kwargs:
        raise TypeError(f"uniform_() got unexpected keyword arguments {sorted(kwargs)}")
    _float_target("uniform_", self)
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={from_} > to={to}")
    values = _draw_float(self, generator, lambda g, s, d: g.random(s, dtype=d))
    return _fill("uniform_", self, values * _like(values, to - from_) + _like(values, from_))


def exponential_(self: Tensor, lambd: float = 1.0, *, generator=None) -> Tensor:
    """Fill with samples from the exponential distribution of rate ``lambd``."""
    _float_target("exponential_", self)
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    values = _draw_float(self, generator, lambda g, s, d: g.standard_exponential(s, dtype=d))
    return _fill("exponential_", self, values / _like(values, lambd))


def geometric_(self: Tensor, p: float, *, generator=None) -> Tensor:
    """Fill with the number of Bernoulli(``p``) trials up to the first success (1, 2, ...)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return _fill("geometric_", self, rng(generator).geometric(p, self._data.shape))


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator=None) -> Tensor:
    """Fill with exp of samples from N(``mean``, ``std``²)."""
    _float_target("log_normal_", self)
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    return _fill("log_normal_", self, rng(generator).lognormal(mean, std, self._data.shape))


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator=None) -> Tensor:
    """Fill with samples from the Cauchy distribution at ``median`` with scale ``sigma``."""
    _float_target("cauchy_", self)
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    return _fill("cauchy_", self, median + sigma * rng(generator).standard_cauchy(self._data.shape))


def _random_bounds(dt: np.dtype) -> tuple[int, int]:
    """torch's default range of ``random_()``: [0, 2**mantissa] for floats, [0, max] for ints."""
    if dt.kind == "f" or dt == _dtype.bfloat16.np:
        mantissa = 7 if dt == _dtype.bfloat16.np else np.finfo(dt).nmant  # np.finfo lacks bfloat16
        return 0, 2 ** (mantissa + 1) + 1
    if dt.kind == "b":
        return 0, 2
    return 0, int(np.iinfo(dt).max) + 1


def random_(self: Tensor, from_=0, to=None, *, generator=None, **kwargs) -> Tensor:
    """Fill with integers drawn uniformly: ``random_(to)`` from [0, to), ``random_(from, to)`` from
    [from, to), ``random_()`` from torch's default range of the dtype."""
    from_ = kwargs.pop("from", from_)
    if kwargs:
        raise TypeError(f"random_() got unexpected keyword arguments {sorted(kwargs)}")
    dt = self._data.dtype
    if to is None and from_ == 0:
        low, high = _random_bounds(dt)
    elif to is None:
        low, high = 0, int(from_)  # random_(to): one argument is the exclusive upper bound
    else:
        low, high = int(from_), int(to)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if dt.kind in "iu" and (low < np.iinfo(dt).min or high - 1 > np.iinfo(dt).max):
        raise RuntimeError(f"random_: the range [{low}, {high}) does not fit the tensor's dtype {self.dtype}")
    values = rng(generator).integers(low, high, self._data.shape, dtype=np.int64, endpoint=False)
    return _fill("random_", self, values)


def bernoulli_(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    """Fill with 1 with probability ``p`` (a number, or a tensor broadcast to this shape), else 0."""
    prob = as_tensor(p, "bernoulli_")._data if isinstance(p, Tensor) else p
    if np.any((np.asarray(prob) < 0) | (np.asarray(prob) > 1)):
        raise RuntimeError("bernoulli_: expected every probability p to be in [0, 1]")
    draw = rng(generator).random(self._data.shape) < prob
    return _fill("bernoulli_", self, draw)


def poisson(input: Tensor, generator=None) -> Tensor:
    """Samples from Poisson distributions with the rates in ``input`` (same shape and dtype)."""
    input = as_tensor(input, "poisson")
    rates = input._data
    if rates.dtype.kind != "f":
        raise RuntimeError(f"poisson: expects a floating-point tensor of rates, got {input.dtype}")
    if rates.size and not (rates >= 0).all():
        raise RuntimeError("poisson: invalid Poisson rate, expected every rate to be >= 0")
    return wrap(rng(generator).poisson(rates).astype(rates.dtype))


def binomial(count: Tensor, prob: Tensor, generator=None) -> Tensor:
    """Samples from Binomial(``count``, ``prob``), element-wise, in ``count``'s dtype."""
    count, prob = as_tensor(count, "binomial"), as_tensor(prob, "binomial")
    n, p = count._data, prob._data
    if n.dtype.kind != "f" or p.dtype.kind != "f":
        raise RuntimeError(
            f"binomial: expects floating-point count and prob, got {count.dtype}, {prob.dtype}"
        )
    if p.size and not ((p >= 0) & (p <= 1)).all():
        raise RuntimeError("binomial: expected every probability to be in [0, 1]")
    draws = rng(generator).binomial(np.floor(n).astype(np.int64), p)
    return wrap(draws.astype(n.dtype))
