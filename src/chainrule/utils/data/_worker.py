"""The DataLoader worker process: its loop, its seeding, and ``get_worker_info``.

A worker is started by the main process's iterator (``_multiprocess.py``) with a copy of the
dataset. It seeds Python's ``random``, chainrule and NumPy's global generator as torch's workers
do, calls ``worker_init_fn(worker_id)``, then answers tasks ``(idx, indices)`` from its own pipe
with ``(idx, batch)`` on its own result pipe until it is told to stop (``None``), or finds that the
main process has died. One pipe pair per worker (rather than one queue shared by all) means that
a worker killed in the middle of a message can only break its own channel, which the main
process sees as that worker's death, instead of holding a lock that every other worker waits on.
"""

from __future__ import annotations

import os
import pickle
import random
import signal
import sys
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._random import manual_seed
from ..._threads import set_num_threads
from ._fetch import create_fetcher
from ._shared import pack, remove_segments

__all__ = ["WorkerInfo", "get_worker_info", "numpy_seed", "worker_loop"]

#: how often an idle worker checks that the main process still exists (seconds)
WATCHDOG_INTERVAL = 1.0


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a DataLoader worker process.

    Attributes
    ----------
    id : int
        This worker's id, ``0 .. num_workers - 1``.
    num_workers : int
        How many workers the iterator started.
    seed : int
        The seed this worker's generators were given: ``base_seed + id``, where ``base_seed`` is
        drawn from the main process's generator (or the loader's ``generator``) per iterator.
    dataset : Dataset
        This process's copy of the dataset (another object than the main process's).
    """

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """Information about the DataLoader worker process this code runs in; None in the main process.

    Returns
    -------
    WorkerInfo or None
        ``id``, ``num_workers``, ``seed`` and ``dataset`` (this worker's copy), as torch's
        ``torch.utils.data.get_worker_info``. An IterableDataset uses it in ``__iter__`` to
        yield only its worker's share of the stream; a ``worker_init_fn`` to configure the copy.
    """
    return _worker_info


def numpy_seed(base_seed: int, worker_id: int) -> list[int]:
    """The four 32-bit words a worker seeds NumPy's global generator with, as torch's workers do.

    torch's ``_generate_state`` is NumPy's ``SeedSequence`` hash, rewritten in Python: the same
    words come from ``SeedSequence`` itself over the entropy ``[worker_id, low 32 bits, high 32
    bits, 0]``. A separate hash (rather than ``base_seed + worker_id``) keeps NumPy's stream from
    repeating Python's ``random`` stream, which is seeded with the same number.
    """
    mask = 0xFFFFFFFF
    entropy = [worker_id, base_seed & mask, (base_seed >> 32) & mask, 0]
    return [int(w) for w in np.random.SeedSequence(entropy).generate_state(4)]


# ---- what a worker sends back besides batches ------------------------------------------------
@dataclass(frozen=True)
class StreamEnd:
    """This worker's copy of an IterableDataset is exhausted."""

    worker_id: int


@dataclass(frozen=True)
class Resume:
    """Start a new epoch with persistent workers; the worker echoes it once its old tasks are done."""


class _KeyErrorMessage(str):
    """KeyError shows ``repr`` of its argument, which would print the traceback on one line."""

    def __repr__(self) -> str:
        return str(self)


@dataclass(frozen=True)
class WorkerError:
    """An exception raised in a worker, carried to the main process as its type and traceback."""

    exc_type: type | None  # None when the class cannot be pickled (a local class)
    type_name: str
    where: str
    text: str

    @classmethod
    def capture(cls, where: str) -> WorkerError:
        """The exception being handled now, with its traceback formatted here in the worker."""
        exc_type, exc, tb = sys.exc_info()
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        try:
            pickle.dumps(exc_type)
        except Exception:
            exc_type = None
        return cls(exc_type, getattr(exc_type, "__name__", "Exception"), where, text)

    def reraise(self) -> None:
        """Raise it in this process, with torch's message: "Caught ValueError in DataLoader
        worker process 0.\\nOriginal Traceback (most recent call last): ...". The exception has
        its original type when that type can be built from one message, else RuntimeError."""
        msg = f"Caught {self.type_name} {self.where}.\nOriginal {self.text}"
        if self.exc_type is None:
            raise RuntimeError(msg)
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exception


@dataclass(frozen=True)
class WorkerArgs:
    """Everything a worker needs besides its pipes (pickled once per worker with spawn)."""

    iterable: bool
    dataset: Any
    auto_collation: bool
    collate_fn: Any
    drop_last: bool
    base_seed: int
    init_fn: Any
    num_workers: int
    segment_prefix: str  # this iterator's; the worker adds its id


def _seed(base_seed: int, worker_id: int) -> int:
    seed = base_seed + worker_id
    random.seed(seed)
    manual_seed(seed)
    np.random.seed(numpy_seed(base_seed, worker_id))
    return seed


def worker_loop(args: WorkerArgs, worker_id: int, tasks, results, done_event) -> None:
    """Run in the worker process: answer tasks until told to stop or orphaned.

    ``tasks`` yields ``(idx, indices)``, ``Resume()`` or ``None`` (stop); ``results`` receives
    ``(idx, SharedBatch | WorkerError | StreamEnd)`` and ``(Resume(), None)`` acknowledgements.
    """
    global _worker_info
    # Ctrl-C reaches the whole process group: the main process decides (its iterator stops the
    # workers), so a worker does not die mid-batch with a traceback of its own
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    set_num_threads(1)  # the workers share the cores; one BLAS thread each, as torch's workers
    manager = os.getppid()
    seed = _seed(args.base_seed, worker_id)
    _worker_info = WorkerInfo(worker_id, args.num_workers, seed, args.dataset)
    prefix = f"{args.segment_prefix}{worker_id}_"
    where = f"in DataLoader worker process {worker_id}"

    def new_fetcher():
        return create_fetcher(
            args.iterable, args.dataset, args.auto_collation, args.collate_fn, args.drop_last
        )

    init_error = None
    fetcher = None
    try:
        if args.init_fn is not None:
            args.init_fn(worker_id)
        fetcher = new_fetcher()
    except Exception:
        init_error = WorkerError.capture(where)

    sent = 0
    ended = False
    while True:
        try:
            if not tasks.poll(WATCHDOG_INTERVAL):
                if os.getppid() != manager:  # orphaned: nobody will read what is in flight
                    break
                continue
            task = tasks.recv()
        except (EOFError, OSError):  # the main process closed its end, or died
            break
        if task is None:
            break
        if isinstance(task, Resume):
            ended = False
            try:
                fetcher = new_fetcher()
            except Exception:
                init_error = WorkerError.capture(where)
            if not _send(results, (task, None)):
                break
            continue
        if done_event.is_set() or ended:
            continue  # shutting down, or this copy's stream is over: skip the task
        idx, indices = task
        if fetcher is None:
            reply: Any = init_error
        elif init_error is not None:
            reply, init_error = init_error, None
        else:
            try:
                reply = pack(fetcher.fetch(indices), f"{prefix}{sent:x}")
                sent += 1
            except StopIteration:
                if not args.iterable:
                    reply = WorkerError.capture(where)
                else:
                    reply, ended = StreamEnd(worker_id), True
            except Exception:
                reply = WorkerError.capture(where)
        if not _send(results, (idx, reply)):
            break
        del reply
    if os.getppid() != manager:
        remove_segments(prefix)


def _send(conn, message) -> bool:
    """Send to the main process; False when it is gone (its end closed)."""
    try:
        conn.send(message)
        return True
    except (BrokenPipeError, EOFError, OSError):
        return False
