"""Randomness under vmap: every random op draws through ``chainrule._random.rng``; while vmaps run,
that returns a generator whose draws carry the batch dims of the levels that asked for
``randomness='different'`` (one draw per sample), none for ``'same'`` (one draw shared by the
batch), and raises for ``'error'`` (torch's default)."""

from __future__ import annotations

import numpy as np

from .. import _random
from ._batched import BatchedArray

__all__ = ["ACTIVE", "push", "pop"]

#: (level, batch size, randomness) of the running vmaps, outermost first
ACTIVE: list = []

_ERROR = (
    "vmap: called random operation while in randomness error mode. Please either use the "
    "'same' or 'different' randomness flags on vmap or perform the randomness operation out "
    "of vmap"
)


def push(level: int, size: int, randomness: str) -> None:
    ACTIVE.append((level, size, randomness))
    _random._vmap_hook = _batched_rng


def pop() -> None:
    ACTIVE.pop()
    if not ACTIVE:
        _random._vmap_hook = None


def _batched_rng(g: np.random.Generator):
    dims = []
    for level, size, randomness in ACTIVE:
        if randomness == "error":
            raise RuntimeError(_ERROR)
        if randomness == "different":
            dims.append((level, size))
    return _BatchedGenerator(g, dims) if dims else g


def _size(size) -> tuple:
    if size is None:
        return ()
    return (int(size),) if isinstance(size, int | np.integer) else tuple(size)


class _BatchedGenerator:
    """A NumPy Generator whose draws have one more (batch) dim per level in ``dims``."""

    __slots__ = ("_g", "_dims")

    def __init__(self, g: np.random.Generator, dims: list) -> None:
        self._g = g
        self._dims = dims

    def _wrap(self, a):
        for level, _ in self._dims:  # the outermost level is innermost in the physical value
            a = BatchedArray(a, level)
        return a

    def _lead(self) -> tuple:
        return tuple(size for _, size in self._dims)

    def random(self, size=None, dtype=np.float64, out=None):
        return self._wrap(self._g.random(self._lead() + _size(size), dtype=dtype))

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        return self._wrap(self._g.standard_normal(self._lead() + _size(size), dtype=dtype))

    def uniform(self, low=0.0, high=1.0, size=None):
        return self._wrap(self._g.uniform(low, high, self._lead() + _size(size)))

    def normal(self, loc=0.0, scale=1.0, size=None):
        return self._wrap(self._g.normal(loc, scale, self._lead() + _size(size)))

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        return self._wrap(
            self._g.integers(low, high, self._lead() + _size(size), dtype=dtype, endpoint=endpoint)
        )

    def permutation(self, x):
        n = int(x) if isinstance(x, int | np.integer) else len(x)
        base = np.broadcast_to(np.arange(n), self._lead() + (n,)).copy()
        perm = self._g.permuted(base, axis=-1)
        return self._wrap(perm if isinstance(x, int | np.integer) else np.asarray(x)[perm])

    def __getattr__(self, name: str):
        raise RuntimeError(
            f"vmap: randomness='different' does not support Generator.{name} yet; "
            "draw outside vmap, or use randomness='same'"
        )
