"""Random number generation: ``manual_seed`` and ``Generator`` over NumPy's PCG64.

chainrule's streams are reproducible under a seed but are not torch's streams: the same seed gives
different numbers than torch (docs/differences.md). Code that seeds and then draws runs unchanged
and is deterministic; only the drawn values differ from torch's (their distributions are the same).
"""

from __future__ import annotations

import numpy as np

from ._tensor import wrap

__all__ = [
    "Generator",
    "manual_seed",
    "seed",
    "initial_seed",
    "default_generator",
    "get_rng_state",
    "set_rng_state",
]


class Generator:
    """A random-number generator (``torch.Generator``); pass it as ``generator=`` to random ops.

    Seeded with ``manual_seed`` it reproduces its own stream exactly; that stream is NumPy's PCG64,
    not torch's Philox/MT19937, so the numbers differ from torch's for the same seed.
    """

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self._seed = 67280421310721
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed`` (an int in [-2**63, 2**64); negatives wrap as in
        torch); returns the generator."""
        seed = int(seed)
        if not -(2**63) <= seed < 2**64:
            raise ValueError(
                f"manual_seed: Overflow when unpacking long long: seed {seed} is outside [-2**63, 2**64)"
            )
        self._seed = seed % 2**64
        self._rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        s = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        state = self._rng.bit_generator.state
        return wrap(np.frombuffer(repr(state).encode(), dtype=np.uint8).copy())

    def set_state(self, state) -> Generator:
        import ast

        self._rng.bit_generator.state = ast.literal_eval(bytes(state.numpy()).decode())
        return self


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator; returns it. Reproducible, but not torch's stream: the same seed
    gives other numbers than ``torch.manual_seed`` does."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state) -> None:
    default_generator.set_state(state)


#: set by ``chainrule.func.vmap`` while it runs: gives batched draws (randomness='different'),
#: or raises (randomness='error')
_vmap_hook = None


def rng(generator: Generator | None) -> np.random.Generator:
    g = (generator or default_generator)._rng
    return g if _vmap_hook is None else _vmap_hook(g)
