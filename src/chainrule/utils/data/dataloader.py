"""DataLoader: mini-batches from a dataset, in this process or in worker processes (``torch.utils.data``).

With ``num_workers=0`` the calling process fetches each batch when it is asked for. With
``num_workers > 0`` worker processes fetch and collate batches ahead of time and hand them over
through shared memory (``_multiprocess.py``, ``_worker.py``, ``_shared.py``; docs/data-loading.md).
Collation lives in ``_collate.py``, dataset access (and the one-index-per-tensor fast path for a
``TensorDataset``) in ``_fetch.py``.
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from ..._random import default_generator
from ._collate import collate, default_collate, default_collate_fn_map, default_convert
from ._fetch import create_fetcher
from ._multiprocess import MultiProcessIter
from ._worker import get_worker_info
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = [
    "DataLoader",
    "default_collate",
    "default_convert",
    "collate",
    "default_collate_fn_map",
    "get_worker_info",
]


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
        Worker processes that load batches ahead of the training loop (0: load in this process
        when each batch is asked for). Each worker gets a copy of the dataset; batches come back
        through shared memory, in the sampler's order.
    collate_fn : callable, optional
        Turns a list of samples into a batch (default: ``default_collate``).
    pin_memory : bool, default False
        Accepted and ignored (there is no pinned memory on the CPU).
    drop_last : bool, default False
        Drop the last incomplete batch.
    generator : chainrule.Generator, optional
        The stream shuffling draws from; with a seeded generator the sequence of epoch orders is
        reproducible (chainrule's orders, not torch's for the same seed).
    timeout : float, default 0
        With workers, seconds to wait for a batch before raising RuntimeError (0: no limit).
    worker_init_fn : callable, optional
        Called as ``worker_init_fn(worker_id)`` in each worker after it is seeded, before it
        loads anything.
    multiprocessing_context : str or multiprocessing context, optional
        How workers start: ``"fork"``, ``"spawn"``, ``"forkserver"`` or a context object
        (default: ``multiprocessing``'s default start method). With spawn and forkserver the
        dataset, collate_fn and worker_init_fn are pickled to each worker.
    prefetch_factor : int, optional
        Batches each worker loads ahead (default 2 with workers; must be None without).
    persistent_workers : bool, default False
        Keep the workers (and their dataset copies) alive from one epoch to the next.
    in_order : bool, default True
        With workers, return batches in the sampler's order; False returns each as it arrives.
    pin_memory_device : str
        Accepted for compatibility and ignored.

    Notes
    -----
    Each iterator draws a ``base_seed`` from ``generator`` (the default generator without one),
    with workers or without, as torch does; worker ``i`` seeds Python's ``random`` and chainrule
    with ``base_seed + i`` and NumPy's global generator with torch's hash of both.
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
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("DataLoader: prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
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
        self.multiprocessing_context = multiprocessing_context  # validated by the property
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self._iterator: MultiProcessIter | None = None  # the persistent workers' iterator
        self._initialized = True
        self._check_worker_number()

    @property
    def multiprocessing_context(self):
        """The multiprocessing context workers start from (None: the default start method)."""
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context) -> None:
        if context is not None:
            if self.num_workers == 0:
                raise ValueError(
                    "DataLoader: multiprocessing_context can only be used with multi-process "
                    f"loading (num_workers > 0), but got num_workers={self.num_workers}"
                )
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError(
                        f"DataLoader: multiprocessing_context option should specify a valid start "
                        f"method in {methods!r}, but got multiprocessing_context={context!r}"
                    )
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError(
                    "DataLoader: multiprocessing_context option should be a valid context object "
                    f"or a string specifying the start method, but got multiprocessing_context={context!r}"
                )
        self._multiprocessing_context = context

    def _check_worker_number(self) -> None:
        """torch's warning when there are more workers than cores this process may run on."""
        if self.num_workers == 0:
            return
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        if cores and self.num_workers > cores:
            warnings.warn(
                f"This DataLoader will create {self.num_workers} worker processes in total. Our "
                f"suggested max number of worker in current system is {cores}, which is smaller "
                "than what this DataLoader is going to create. Please be aware that excessive "
                "worker creation might get DataLoader running slow or even freeze, lower the "
                "worker number to avoid potential slowness/freeze if necessary.",
                stacklevel=3,
            )

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

    @property
    def _is_iterable(self) -> bool:
        return isinstance(self.dataset, IterableDataset)

    def _base_seed(self) -> int:
        """One draw per iterator, from the loader's generator or the default one, as torch's
        ``random_()`` on an int64 (so the stream moves the same with or without workers)."""
        return int((self.generator or default_generator)._rng.integers(0, 2**63))

    def __iter__(self) -> _SingleProcessIter | MultiProcessIter:
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if self.prefetch_factor == 0:  # torch lets the constructor pass and refuses here
            raise AssertionError(
                "DataLoader: prefetch_factor must be greater than 0 with worker processes (num_workers > 0)"
            )
        if not self.persistent_workers:
            return MultiProcessIter(self, self._base_seed())
        if self._iterator is None or self._iterator.stopped:
            self._iterator = MultiProcessIter(self, self._base_seed())
        else:
            self._iterator._reset(self)
        return self._iterator

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


class _SingleProcessIter:
    """One pass over a DataLoader in the calling process (an epoch)."""

    def __init__(self, loader: DataLoader) -> None:
        if loader.timeout != 0:  # torch asserts this too: a timeout only applies to workers
            raise AssertionError(
                f"DataLoader: timeout={loader.timeout} needs worker processes (num_workers > 0); "
                "without workers each batch is loaded when it is asked for"
            )
        self._loader_len = loader.__len__
        self._sampler_iter = iter(loader._index_sampler)
        loader._base_seed()  # drawn and unused, as torch: the same stream as with workers
        self._fetcher = create_fetcher(
            loader._is_iterable, loader.dataset, loader._auto_collation, loader.collate_fn, loader.drop_last
        )

    def __iter__(self) -> _SingleProcessIter:
        return self

    def __len__(self) -> int:
        return self._loader_len()

    def __next__(self):
        return self._fetcher.fetch(next(self._sampler_iter))
