"""Fetching one batch: the dataset access that the in-process iterator and every worker share.

A fetcher turns what the sampler yields (a list of indices, one index, or, for an IterableDataset,
placeholders that only count samples) into a collated batch, as torch's ``_MapDatasetFetcher`` and
``_IterableDatasetFetcher`` do. When the dataset is a ``TensorDataset`` (or a ``Subset`` of one) and
the default collate is used, each batch is gathered with one fancy index per tensor instead of
indexing every sample and stacking: the same batches, several times faster on datasets like MNIST.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..._tensor import Tensor, wrap
from ...ops.creation import from_numpy
from ._collate import default_collate
from .dataset import Subset, TensorDataset

__all__ = ["MapFetcher", "IterableFetcher", "create_fetcher"]


def _tensor_source(dataset) -> tuple[tuple[Tensor, ...], np.ndarray | None] | None:
    """``(tensors, index map)`` when every sample of ``dataset`` is ``tuple(t[j] for t in tensors)``
    with ``j = map[i]`` (None: ``j = i``): a TensorDataset, or Subsets of one, not overriding item
    access. None otherwise."""
    maps = []
    while (
        isinstance(dataset, Subset)
        and type(dataset).__getitem__ is Subset.__getitem__
        and type(dataset).__getitems__ is Subset.__getitems__
    ):
        maps.append(dataset.indices)
        dataset = dataset.dataset
    if not isinstance(dataset, TensorDataset) or type(dataset).__getitem__ is not TensorDataset.__getitem__:
        return None
    if any(type(t._data) is not np.ndarray for t in dataset.tensors):
        return None
    index = None
    for m in reversed(maps):  # the outermost Subset's indices index into the next one's
        m = np.asarray(m)
        if m.dtype.kind not in "iu" or m.ndim != 1:
            return None
        if index is not None:
            m = index[m]
        index = m
    return dataset.tensors, index


def _gather(source, indices: list) -> list[Tensor] | None:
    """The collated batch of ``indices`` from a ``_tensor_source``; None to fall back to the
    per-sample path (indices that are not plain integers)."""
    tensors, index = source
    idx = np.asarray(indices)
    if idx.dtype.kind not in "iu" or idx.ndim != 1:
        return None
    n = len(tensors[0]) if index is None else len(index)
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = int(idx.max()) if idx.max() >= n else int(idx.min())
        raise IndexError(
            f"DataLoader: index {bad} is out of range for a dataset of {n} samples "
            f"(from the sampler's batch {indices[:8]}{'...' if len(indices) > 8 else ''})"
        )
    if index is not None:
        idx = index[idx]
    out = []
    for t in tensors:
        if t._rg:  # keep the graph, as stacking rows would
            out.append(t[from_numpy(idx)])
        else:
            out.append(wrap(t._data[idx]))
    return out


class MapFetcher:
    """Batches of a map-style dataset: ``collate([dataset[i] for i in indices])``.

    ``__getitems__`` is used when the dataset has it; errors get a note naming the indices.
    """

    def __init__(self, dataset, auto_collation: bool, collate_fn: Callable, drop_last: bool) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self._fast = None
        if auto_collation and collate_fn is default_collate:
            self._fast = _tensor_source(dataset)

    def fetch(self, indices) -> Any:
        ds = self.dataset
        if not self.auto_collation:
            return self.collate_fn(_get_item(ds, indices))
        if self._fast is not None:
            batch = _gather(self._fast, indices)
            if batch is not None:
                return batch
        getitems = getattr(ds, "__getitems__", None)
        if getitems:
            try:
                data = getitems(indices)
            except Exception as e:
                e.add_note(
                    f"(raised by {type(ds).__name__}.__getitems__ for the DataLoader batch of "
                    f"indices {indices})"
                )
                raise
        else:
            data = [_get_item(ds, i) for i in indices]
        return self.collate_fn(data)


def _get_item(ds, i):
    try:
        return ds[i]
    except Exception as e:
        e.add_note(
            f"(raised by {type(ds).__name__}.__getitem__ for index {i!r}, "
            f"requested by the DataLoader's sampler)"
        )
        raise


class IterableFetcher:
    """Batches of an IterableDataset: the next ``len(indices)`` samples of one pass over it.

    Raises StopIteration once the stream is exhausted (or, with ``drop_last``, when only a partial
    batch is left).
    """

    def __init__(self, dataset, auto_collation: bool, collate_fn: Callable, drop_last: bool) -> None:
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self._stream = iter(dataset)
        self._ended = False

    def fetch(self, indices) -> Any:
        if self._ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self._stream))
        data = []
        for _ in indices:
            try:
                data.append(next(self._stream))
            except StopIteration:
                self._ended = True
                break
        if not data or (self.drop_last and len(data) < len(indices)):
            raise StopIteration
        return self.collate_fn(data)


def create_fetcher(
    iterable: bool, dataset, auto_collation: bool, collate_fn: Callable, drop_last: bool
) -> MapFetcher | IterableFetcher:
    """The fetcher for ``dataset``: one pass over it for an IterableDataset, indexing otherwise."""
    kind = IterableFetcher if iterable else MapFetcher
    return kind(dataset, auto_collation, collate_fn, drop_last)
