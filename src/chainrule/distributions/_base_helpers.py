"""Small helpers the distribution families share: drawing base noise from chainrule's generator."""

from __future__ import annotations

import numpy as np

from .._random import default_generator
from .._tensor import Tensor, wrap


def np_dtype(x: Tensor):
    return x._data.dtype


def noise(shape, like: Tensor, draw) -> Tensor:
    """A constant tensor of ``shape`` and ``like``'s dtype filled by ``draw(rng, shape)``."""
    values = draw(default_generator._rng, tuple(shape))
    return wrap(np.asarray(values, dtype=np_dtype(like)))


def standard_normal(shape, like: Tensor) -> Tensor:
    return noise(shape, like, lambda rng, s: rng.standard_normal(s))


def uniform(shape, like: Tensor, low: float = 0.0, high: float = 1.0) -> Tensor:
    return noise(shape, like, lambda rng, s: rng.uniform(low, high, s))


def tiny(x: Tensor) -> float:
    return float(np.finfo(np_dtype(x)).tiny)


def eps(x: Tensor) -> float:
    return float(np.finfo(np_dtype(x)).eps)
