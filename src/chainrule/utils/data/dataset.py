"""Datasets: indexable (map-style) and iterable collections of samples (``torch.utils.data``)."""

from __future__ import annotations

import bisect
import itertools
import math
import numbers
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Generic, TypeVar

from ..._random import Generator, default_generator
from ..._tensor import Tensor

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "StackDataset",
    "ConcatDataset",
    "ChainDataset",
    "Subset",
    "random_split",
]

T_co = TypeVar("T_co", covariant=True)
T = TypeVar("T")


class Dataset(Generic[T_co]):
    """A map-style dataset: subclasses define ``__getitem__(index)`` and usually ``__len__``.

    ``dataset_a + dataset_b`` concatenates (a ``ConcatDataset``).
    """

    def __getitem__(self, index) -> T_co:
        raise NotImplementedError(
            f"{type(self).__name__}: subclasses of Dataset should implement __getitem__"
        )

    def __add__(self, other: Dataset[T_co]) -> ConcatDataset[T_co]:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co], Iterable[T_co]):
    """A dataset that is a stream of samples: subclasses define ``__iter__``.

    A DataLoader over it takes the samples in the order the stream yields them (no sampler, no
    shuffle), batching them when ``batch_size`` is set.
    """

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(
            f"{type(self).__name__}: subclasses of IterableDataset should implement __iter__"
        )

    def __add__(self, other: Dataset[T_co]) -> ChainDataset:  # type: ignore[override]
        return ChainDataset([self, other])


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Samples are the rows of several tensors: item ``i`` is ``(t[i] for t in tensors)``.

    A DataLoader with the default collate gathers a whole batch of a TensorDataset with one index
    operation per tensor (fast), instead of indexing each row and stacking.

    Parameters
    ----------
    *tensors : Tensor
        Tensors with the same size in dim 0 (e.g. inputs and targets).

    Examples
    --------
    >>> ds = TensorDataset(chainrule.zeros(4, 3), chainrule.arange(4))
    >>> len(ds), ds[1][1]
    (4, tensor(1))
    """

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise IndexError("TensorDataset: needs at least one tensor, e.g. TensorDataset(inputs, targets)")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"TensorDataset: argument {i} is a {type(t).__module__}."
                    f"{type(t).__qualname__}, not a chainrule Tensor; convert it first "
                    "(chainrule.as_tensor(x))"
                )
            if t.ndim == 0:
                raise TypeError(
                    f"TensorDataset: argument {i} is a 0-d tensor; every tensor needs a "
                    "first dimension to index samples along"
                )
        sizes = [t.shape[0] for t in tensors]
        if any(s != sizes[0] for s in sizes):
            raise AssertionError(
                f"TensorDataset: Size mismatch between tensors: sizes in dim 0 are "
                f"{sizes}; every tensor needs one row per sample"
            )
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class StackDataset(Dataset):
    """Samples combine the same index of several datasets: a tuple (positional) or dict (keywords).

    Examples
    --------
    >>> StackDataset(images=a, labels=b)[0]   # {'images': a[0], 'labels': b[0]}
    """

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError(
                "StackDataset: give datasets either positionally (tuple samples) or as "
                "keywords (dict samples), not both"
            )
        if not args and not kwargs:
            raise ValueError("StackDataset: at least one dataset should be passed")
        parts = list(args) if args else list(kwargs.values())
        self._length = len(parts[0])  # type: ignore[arg-type]
        lengths = [len(d) for d in parts]  # type: ignore[arg-type]
        if any(n != self._length for n in lengths):
            raise ValueError(f"StackDataset: Size mismatch between datasets: lengths {lengths}")
        self.datasets: tuple | dict = args if args else kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self) -> int:
        return self._length


class ConcatDataset(Dataset[T_co]):
    """Several map-style datasets one after another.

    Parameters
    ----------
    datasets : Iterable[Dataset]
        The parts, in order (not IterableDatasets; use ChainDataset for those).
    """

    @staticmethod
    def cumsum(sequence) -> list[int]:
        return list(itertools.accumulate(len(e) for e in sequence))

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset; use ChainDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise ValueError(
                    f"ConcatDataset: absolute value of index {idx} should not exceed dataset length {n}"
                )
            idx = n + idx
        if idx >= n:
            raise IndexError(f"ConcatDataset: index {idx} is out of range for a dataset of length {n}")
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """Several IterableDatasets, streamed one after another."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset; use ConcatDataset")
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)  # type: ignore[arg-type]


class Subset(Dataset[T_co]):
    """The samples of ``dataset`` at ``indices``, in that order: ``Subset(ds, idx)[i] == ds[idx[i]]``.

    Parameters
    ----------
    dataset : Dataset
        The whole dataset.
    indices : Sequence[int]
        Which of its samples to keep.
    """

    def __init__(self, dataset: Dataset[T_co], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list:
        inner = [self.indices[i] for i in indices]
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__(inner)  # type: ignore[attr-defined]
        return [self.dataset[i] for i in inner]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(
    dataset: Dataset[T], lengths: Sequence[int | float], generator: Generator | None = default_generator
) -> list[Subset[T]]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    Parameters
    ----------
    dataset : Dataset
        What to split.
    lengths : Sequence[int or float]
        Sizes summing to ``len(dataset)``, or fractions summing to 1: ``floor(len * f)`` each, and
        the remainder dealt out one by one from the first split, as torch does.
    generator : chainrule.Generator, optional
        The stream for the permutation (default: chainrule's default generator). Which samples land
        in which split is chainrule's draw, not torch's, for the same seed.

    Returns
    -------
    list of Subset
    """
    n = len(dataset)  # type: ignore[arg-type]
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"random_split: fraction at index {i} ({frac}) is not between 0 and 1")
            sizes.append(math.floor(n * frac))
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(
                    f"random_split: length of split at index {i} is 0. This might result in "
                    "an empty dataset.",
                    stacklevel=2,
                )
        lengths = sizes
    if any(not isinstance(x, numbers.Integral) or x < 0 for x in lengths):
        raise ValueError(
            f"random_split: lengths must be non-negative integers or fractions summing to 1, got {lengths}"
        )
    lengths = [int(x) for x in lengths]
    if sum(lengths) != n:
        raise ValueError(
            f"random_split: Sum of input lengths ({sum(lengths)}) does not equal the length "
            f"of the input dataset ({n})!"
        )
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(
            f"random_split: generator must be a chainrule.Generator, got {type(generator).__qualname__}"
        )
    indices = (generator or default_generator)._rng.permutation(n).tolist()
    return [
        Subset(dataset, indices[end - size : end])
        for end, size in zip(itertools.accumulate(lengths), lengths)
    ]
