"""DataLoader: mini-batches from a dataset, and the default collate (``torch.utils.data``).

Loading runs in the calling process (``num_workers`` is accepted for compatibility; see DataLoader).
When the dataset is a ``TensorDataset`` (or a ``Subset`` of one) and the default collate is used,
each batch is gathered with one fancy index per tensor instead of indexing every sample and
stacking: the same batches, several times faster on datasets like MNIST.
"""

from __future__ import annotations

import collections.abc as abc
import copy
import re
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..._tensor import Tensor, wrap
from ...ops import stack
from ...ops.creation import as_tensor, from_numpy, tensor
from .dataset import Dataset, IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = [
    "DataLoader",
    "default_collate",
    "default_convert",
    "collate",
    "default_collate_fn_map",
    "get_worker_info",
]

_STR_OBJ = re.compile(r"[SaUO]")  # NumPy dtypes of strings and objects: not collated into tensors
_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def get_worker_info() -> None:
    """Always None: chainrule loads data in the calling process, which is not a worker."""
    return None


# ---- collation -----------------------------------------------------------------------------------
def _collate_tensor(batch, *, collate_fn_map=None):
    return stack(batch, 0)


def _collate_numpy_array(batch, *, collate_fn_map=None):
    if _STR_OBJ.search(batch[0].dtype.str) is not None:
        raise TypeError(_ERR.format(batch[0].dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def _collate_numpy_scalar(batch, *, collate_fn_map=None):
    return as_tensor(batch)


def _collate_float(batch, *, collate_fn_map=None):
    return tensor(batch, dtype=np.float64)


def _collate_int(batch, *, collate_fn_map=None):
    return tensor(batch)


def _collate_str(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    Tensor: _collate_tensor,
    np.ndarray: _collate_numpy_array,
    (np.bool_, np.number, np.object_): _collate_numpy_scalar,
    float: _collate_float,
    int: _collate_int,
    str: _collate_str,
    bytes: _collate_str,
}


def collate(batch: list, *, collate_fn_map: dict | None = None) -> Any:
    """Collate a list of samples, element type by element type (torch's ``collate``).

    ``collate_fn_map`` maps a type (or tuple of types) to ``fn(batch, *, collate_fn_map)``; an
    element's exact type is looked up first, then each key in order with ``isinstance``.
    Mappings, namedtuples and sequences are collated field by field, recursively.
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for kind, fn in collate_fn_map.items():
            if isinstance(elem, kind):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, abc.Mapping):
        fields = {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem}
        try:
            if isinstance(elem, abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update(fields)
                return clone
            return elem_type(fields)
        except TypeError:
            return fields
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(list(s), collate_fn_map=collate_fn_map) for s in zip(*batch)))
    if isinstance(elem, abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError(
                f"each element in list of batch should be of equal size (got lengths "
                f"{[len(e) for e in batch]})"
            )
        columns = [collate(list(s), collate_fn_map=collate_fn_map) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return columns  # a list, as torch returns (for backwards compatibility)
        return _same_sequence_type(elem, columns)
    raise TypeError(_ERR.format(elem_type))


def default_collate(batch: list) -> Any:
    """Stack a list of samples into a batch, as ``torch.utils.data.default_collate`` does.

    Tensors are stacked along a new dim 0; NumPy arrays and scalars become tensors (their dtype);
    Python floats a float64 tensor, ints an int64 tensor, bools a bool tensor; strings and bytes
    stay a list. Dicts are collated per key, namedtuples per field, lists per position; tuples
    per position too, returned as a list (as torch does).

    Examples
    --------
    >>> default_collate([{"x": 0, "y": 1.0}, {"x": 2, "y": 3.0}])
    {'x': tensor([0, 2]), 'y': tensor([1., 3.], dtype=chainrule.float64)}
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays (also inside dicts, lists, tuples) into tensors; the collate used when
    automatic batching is off (``batch_size=None``). Everything else is returned unchanged."""
    t = type(data)
    if isinstance(data, Tensor):
        return data
    if t.__module__ == "numpy" and t.__name__ not in ("str_", "bytes_", "string_"):
        if isinstance(data, np.ndarray) and _STR_OBJ.search(data.dtype.str) is not None:
            return data
        return as_tensor(data)
    if isinstance(data, abc.Mapping):
        fields = {key: default_convert(data[key]) for key in data}
        try:
            if isinstance(data, abc.MutableMapping):
                clone = copy.copy(data)
                clone.update(fields)
                return clone
            return t(fields)
        except TypeError:
            return fields
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return t(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, abc.Sequence) and not isinstance(data, str | bytes):
        return _same_sequence_type(data, [default_convert(d) for d in data])
    return data


def _same_sequence_type(like, items: list):
    """``items`` in a sequence of ``like``'s type, as torch rebuilds them (a list when it can't)."""
    try:
        if isinstance(like, abc.MutableSequence):
            clone = copy.copy(like)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(like)(items)
    except TypeError:
        return items


# ---- the fast path: whole batches of a TensorDataset with one index per tensor --------------------
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


class DataLoader:
    """Iterate over a dataset in mini-batches (``torch.utils.data.DataLoader``).

    Parameters
    ----------
    dataset : Dataset
        A map-style dataset (``__getitem__`` and ``__len__``) or an ``IterableDataset``.
    batch_size : int or None, default 1
        Samples per batch; None turns batching off (each sample is only converted).
    shuffle : bool, default False
        A new random order each epoch (a ``RandomSampler`` drawing from ``generator``).
    sampler : Sampler or Iterable, optional
        Where the indices come from (not with ``shuffle``).
    batch_sampler : Sampler or Iterable of lists, optional
        Yields whole batches of indices; excludes ``batch_size``, ``shuffle``, ``sampler`` and
        ``drop_last``.
    num_workers : int, default 0
        chainrule loads in the calling process; a positive value is accepted (with a warning)
        and loading still happens here, giving the same batches.
    collate_fn : callable, optional
        Turns a list of samples into a batch (default: ``default_collate``).
    pin_memory : bool, default False
        Accepted and ignored (there is no pinned memory on the CPU).
    drop_last : bool, default False
        Drop the last incomplete batch.
    generator : chainrule.Generator, optional
        The stream shuffling draws from; with a seeded generator the sequence of epoch orders is
        reproducible (chainrule's orders, not torch's for the same seed).
    timeout, worker_init_fn, multiprocessing_context, prefetch_factor, persistent_workers
        Accepted for compatibility (validated as torch does); worker options only apply with
        workers, which chainrule does not start.
    pin_memory_device, in_order
        Accepted for compatibility and ignored.
    """

    _initialized = False

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler[list] | Iterable[list] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable | None = None,
        multiprocessing_context=None,
        generator=None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if num_workers < 0:
            raise ValueError(
                "DataLoader: num_workers option should be non-negative; use num_workers=0 "
                "to disable multiprocessing."
            )
        if timeout < 0:
            raise ValueError("DataLoader: timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "DataLoader: prefetch_factor option could only be specified in "
                "multiprocessing; let num_workers > 0, or set prefetch_factor to None."
            )
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if num_workers > 0:
            warnings.warn(
                f"DataLoader: chainrule loads data in the calling process; num_workers="
                f"{num_workers} is accepted but no worker processes are started (the "
                "batches are the same)",
                stacklevel=2,
            )
        if isinstance(dataset, IterableDataset):
            if shuffle not in (False, None):
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified shuffle option, "
                    f"but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified sampler option, "
                    f"but got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified batch_sampler "
                    f"option, but got batch_sampler={batch_sampler}"
                )
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError(
                "DataLoader: sampler option is mutually exclusive with shuffle (shuffle "
                "with the sampler itself, e.g. RandomSampler, or drop sampler=)"
            )
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler option is mutually exclusive with batch_size, "
                    "shuffle, sampler, and drop_last (the batch sampler decides all "
                    "of them); pass only batch_sampler="
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "DataLoader: batch_size=None option disables auto-batching and is mutually "
                "exclusive with drop_last"
            )
        if batch_size is not None and (
            not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0
        ):
            raise ValueError(
                f"DataLoader: batch_size should be a positive integer value, but got "
                f"batch_size={batch_size!r}"
            )
        if sampler is None:
            if isinstance(dataset, IterableDataset):
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)  # type: ignore[arg-type]
            else:
                sampler = SequentialSampler(dataset)  # type: ignore[arg-type]
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self._initialized = True

    def __setattr__(self, attr: str, value) -> None:
        if self._initialized and attr in (
            "batch_size",
            "batch_sampler",
            "sampler",
            "drop_last",
            "dataset",
            "persistent_workers",
        ):
            raise ValueError(
                f"DataLoader: {attr} attribute should not be set after DataLoader is "
                "initialized; create a new DataLoader instead"
            )
        super().__setattr__(attr, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self) -> _DataLoaderIter:
        return _DataLoaderIter(self)

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # type: ignore[arg-type]
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)  # type: ignore[arg-type]


class _InfiniteConstantSampler(Sampler):
    """The sampler of an IterableDataset: the dataset itself decides what comes next."""

    def __iter__(self):
        while True:
            yield None


class _DataLoaderIter:
    """One pass over a DataLoader (an epoch)."""

    def __init__(self, loader: DataLoader) -> None:
        self._loader = loader
        self._dataset = loader.dataset
        self._collate = loader.collate_fn
        self._auto = loader._auto_collation
        self._drop_last = loader.drop_last
        self._sampler_iter = iter(loader._index_sampler)
        self._iterable = isinstance(self._dataset, IterableDataset)
        self._data_iter = iter(self._dataset) if self._iterable else None
        self._ended = False
        self._fast = None
        if self._auto and self._collate is default_collate and not self._iterable:
            self._fast = _tensor_source(self._dataset)

    def __iter__(self) -> _DataLoaderIter:
        return self

    def __len__(self) -> int:
        return len(self._loader)

    def __next__(self):
        indices = next(self._sampler_iter)
        if self._iterable:
            return self._next_from_stream(indices)
        if self._fast is not None:
            batch = _gather(self._fast, indices)
            if batch is not None:
                return batch
        ds = self._dataset
        if not self._auto:
            return self._collate(self._fetch(ds, indices))
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
            data = [self._fetch(ds, i) for i in indices]
        return self._collate(data)

    @staticmethod
    def _fetch(ds, i):
        try:
            return ds[i]
        except Exception as e:
            e.add_note(
                f"(raised by {type(ds).__name__}.__getitem__ for index {i!r}, "
                f"requested by the DataLoader's sampler)"
            )
            raise

    def _next_from_stream(self, indices):
        if self._ended:
            raise StopIteration
        if not self._auto:
            return self._collate(next(self._data_iter))
        data = []
        for _ in indices:
            try:
                data.append(next(self._data_iter))
            except StopIteration:
                self._ended = True
                break
        if not data or (self._drop_last and len(data) < len(indices)):
            raise StopIteration
        return self._collate(data)
