"""Samplers: which dataset indices a DataLoader visits, and in what order (``torch.utils.data``).

A sampler is any iterable of indices (or, for a batch sampler, of lists of indices); ``__len__``
tells the DataLoader how many. The random samplers draw from chainrule's generators (NumPy's PCG64):
a seed reproduces chainrule's order exactly, but not the order torch draws for the same seed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Generic, TypeVar

import numpy as np

from ..._random import Generator, default_generator
from ...ops.creation import as_tensor, tensor

__all__ = [
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
]

T_co = TypeVar("T_co", covariant=True)


class Sampler(Generic[T_co]):
    """Base class of samplers: subclasses define ``__iter__`` (and usually ``__len__``)."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass  # torch's signature; the argument is unused here too

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__}: Sampler subclasses must define __iter__")


class SequentialSampler(Sampler[int]):
    """Indices ``0, 1, ..., len(data_source) - 1``, always in that order.

    Parameters
    ----------
    data_source : Sized
        The dataset (anything with ``__len__``).
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def _check_generator(generator, who: str) -> None:
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(
            f"{who}: generator must be a chainrule.Generator (e.g. chainrule.Generator().manual_seed(0))"
            f" or None, got {type(generator).__module__}.{type(generator).__qualname__}"
        )


def _fresh_generator() -> np.random.Generator:
    """A new stream seeded from the default generator, as torch does when no generator is given:
    ``chainrule.manual_seed`` makes the order reproducible; every epoch still gets a new order."""
    seed = int(default_generator._rng.integers(0, 2**63))
    return np.random.Generator(np.random.PCG64(seed))


_CHUNK = 32  # torch's RandomSampler draws indices with replacement 32 at a time


class RandomSampler(Sampler[int]):
    """Indices in a random order: a new permutation each pass (or, with replacement, iid draws).

    Parameters
    ----------
    data_source : Sized
        The dataset (anything with ``__len__``).
    replacement : bool, default False
        Draw ``num_samples`` indices independently (with repeats) instead of permuting.
    num_samples : int, optional
        How many indices per pass; defaults to ``len(data_source)``. Without replacement, more
        than ``len(data_source)`` chains several permutations, as torch does.
    generator : chainrule.Generator, optional
        The stream to draw from. Without one, each pass seeds a fresh stream from the default
        generator, so ``chainrule.manual_seed`` makes the whole sequence of orders reproducible.
        The orders are chainrule's (NumPy PCG64), not the ones torch draws for the same seed.
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Generator | None = None,
    ) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(
                f"RandomSampler: replacement should be a boolean value, but got replacement={replacement!r}"
            )
        n = self.num_samples
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
            raise ValueError(
                f"RandomSampler: num_samples should be a positive integer value, but got "
                f"num_samples={n!r} (an empty dataset has nothing to sample)"
            )
        _check_generator(generator, "RandomSampler")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        # lazily, as torch: draws come in chunks of 32 (with replacement) or one permutation at a
        # time, so ``num_samples=10**10`` (an "infinite" sampler) costs no memory up front
        n = len(self.data_source)
        g = self.generator._rng if self.generator is not None else _fresh_generator()
        if self.replacement:
            full, rest = divmod(self.num_samples, _CHUNK)
            for _ in range(full):
                yield from g.integers(0, n, size=_CHUNK).tolist()
            yield from g.integers(0, n, size=rest).tolist()
            return
        full, rest = divmod(self.num_samples, n)
        for _ in range(full):
            yield from g.permutation(n).tolist()
        yield from g.permutation(n)[:rest].tolist()  # drawn even when rest is 0, as torch does

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices, in a new random order each pass (no repeats).

    Parameters
    ----------
    indices : Sequence[int]
        The dataset indices to visit.
    generator : chainrule.Generator, optional
        The stream to draw from (default: chainrule's default generator).
    """

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        _check_generator(generator, "SubsetRandomSampler")
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        g = (self.generator or default_generator)._rng
        for i in g.permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """Indices ``0 .. len(weights) - 1`` drawn with probabilities proportional to ``weights``.

    Parameters
    ----------
    weights : Sequence[float]
        Non-negative weights, one per index (need not sum to one).
    num_samples : int
        How many indices per pass.
    replacement : bool, default True
        Without replacement an index is drawn at most once (then ``num_samples`` must not exceed
        the number of non-zero weights).
    generator : chainrule.Generator, optional
        The stream to draw from (default: chainrule's default generator).
    """

    def __init__(
        self,
        weights: Sequence[float],
        num_samples: int,
        replacement: bool = True,
        generator: Generator | None = None,
    ) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(
                f"WeightedRandomSampler: num_samples should be a positive integer value, "
                f"but got num_samples={num_samples!r}"
            )
        if not isinstance(replacement, bool):
            raise ValueError(
                f"WeightedRandomSampler: replacement should be a boolean value, but got "
                f"replacement={replacement!r}"
            )
        _check_generator(generator, "WeightedRandomSampler")

        w = np.asarray(as_tensor(weights)._data, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(
                f"WeightedRandomSampler: weights should be a 1d sequence but given weights "
                f"have shape {tuple(w.shape)}"
            )
        if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise RuntimeError("WeightedRandomSampler: weights must be finite, non-negative and not all zero")
        if not replacement and num_samples > np.count_nonzero(w):
            raise RuntimeError(
                f"WeightedRandomSampler: cannot draw {num_samples} samples without "
                f"replacement from {np.count_nonzero(w)} non-zero weights"
            )

        self.weights = tensor(w)
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        w = self.weights._data
        g = (self.generator or default_generator)._rng
        return iter(g.choice(w.size, self.num_samples, replace=self.replacement, p=w / w.sum()).tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Groups another sampler's indices into lists of ``batch_size``.

    Parameters
    ----------
    sampler : Sampler or Iterable[int]
        Where the indices come from.
    batch_size : int
        Indices per batch.
    drop_last : bool
        Drop the last batch when it would be smaller than ``batch_size``.

    Examples
    --------
    >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))
    [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    """

    def __init__(self, sampler: Sampler[int] | Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(
                f"BatchSampler: batch_size should be a positive integer value, but got "
                f"batch_size={batch_size!r}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(
                f"BatchSampler: drop_last should be a boolean value, but got drop_last={drop_last!r}"
            )
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        it = iter(self.sampler)
        if self.drop_last:
            yield from (list(b) for b in zip(*[it] * self.batch_size))
            return
        batch = list(itertools.islice(it, self.batch_size))
        while batch:
            yield batch
            batch = list(itertools.islice(it, self.batch_size))

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
