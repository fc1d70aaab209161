"""Batches through shared memory: how a worker hands a collated batch to the main process.

A worker pickles the batch with every large NumPy array (a Tensor pickles as its array) replaced
by a reference; the arrays themselves are written into one POSIX shared-memory segment
(``multiprocessing.shared_memory``), so only the references, shapes and dtypes cross the pipe.
The main process maps the segment, copies each array out (one memcpy, instead of pickling and
unpickling it) and unlinks the segment at once, so a segment lives from the worker's write to
the main process's read.

Segment names carry a prefix per DataLoader iterator and worker (``crdl<pid>_<token>_<worker>_``):
whatever an interrupted worker leaves behind is found by that prefix and removed
(``remove_segments``) when the iterator shuts down, or by the worker itself when it finds that
the main process has died.
"""

from __future__ import annotations

import io
import os
import pickle
from dataclasses import dataclass
from multiprocessing import shared_memory
from typing import Any

import numpy as np

__all__ = ["SharedBatch", "pack", "unpack", "release", "remove_segments", "SHM_DIR"]

#: arrays smaller than this travel inside the pickle: a segment costs a few system calls, more
#: than copying a few KiB through the pipe
INLINE_BYTES = 4096
_ALIGN = 64  # each array starts on a cache line, so the copy out is aligned
SHM_DIR = "/dev/shm"  # where Linux keeps POSIX shared memory; elsewhere the sweep is skipped


@dataclass(frozen=True)
class SharedBatch:
    """What crosses the pipe for one batch: the pickle with references in place of its large
    arrays, and where those arrays lie in the segment ``segment`` (None when there are none)."""

    payload: bytes
    segment: str | None
    layout: tuple[tuple[int, tuple[int, ...], np.dtype], ...]


class _Packer(pickle.Pickler):
    """Pickles a batch, collecting its large arrays instead of writing their bytes."""

    def __init__(self, file, arrays: list[np.ndarray]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._arrays = arrays
        self._seen: dict[int, int] = {}  # id -> slot: an array met twice is sent once

    def persistent_id(self, obj):
        if type(obj) is not np.ndarray or obj.nbytes < INLINE_BYTES or obj.dtype.hasobject:
            return None
        slot = self._seen.get(id(obj))
        if slot is None:
            slot = self._seen[id(obj)] = len(self._arrays)
            self._arrays.append(obj)
        return slot


class _Unpacker(pickle.Unpickler):
    def __init__(self, file, arrays: list[np.ndarray]) -> None:
        super().__init__(file)
        self._arrays = arrays

    def persistent_load(self, pid):
        return self._arrays[pid]


def pack(batch: Any, name: str) -> SharedBatch:
    """Pickle ``batch``, putting its large arrays into a new shared-memory segment ``name``.

    Raises
    ------
    OSError
        When shared memory has no room for the batch (``/dev/shm`` full), naming the size.
    """
    arrays: list[np.ndarray] = []
    buffer = io.BytesIO()
    _Packer(buffer, arrays).dump(batch)
    if not arrays:
        return SharedBatch(buffer.getvalue(), None, ())
    layout, size = [], 0
    for a in arrays:
        layout.append((size, a.shape, a.dtype))
        size += -(-a.nbytes // _ALIGN) * _ALIGN
    segment = shared_memory.SharedMemory(name=name, create=True, size=size)
    try:
        _reserve(segment, size)
        for a, (offset, shape, dtype) in zip(arrays, layout, strict=True):
            np.copyto(np.ndarray(shape, dtype, buffer=segment.buf, offset=offset), a, casting="no")
    except BaseException:
        segment.close()
        segment.unlink()
        raise
    segment.close()
    return SharedBatch(buffer.getvalue(), segment.name, tuple(layout))


def _reserve(segment: shared_memory.SharedMemory, size: int) -> None:
    """Allocate the segment's pages now: a write into a sparse segment on a full /dev/shm would
    kill the worker with SIGBUS instead of raising."""
    fd = getattr(segment, "_fd", -1)  # the POSIX descriptor; absent on Windows
    if fd < 0 or not hasattr(os, "posix_fallocate"):
        return
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as e:
        raise OSError(
            e.errno,
            f"DataLoader: no room for a batch of {size} bytes in shared memory ({SHM_DIR}: "
            f"{e.strerror}); give the machine or container more shared memory (docker run "
            "--shm-size=...) or lower batch_size, num_workers or prefetch_factor",
        ) from None


def unpack(shared: SharedBatch) -> Any:
    """The batch ``pack`` wrote: its arrays copied out of the segment, which is then unlinked."""
    arrays: list[np.ndarray] = []
    if shared.segment is not None:
        segment = shared_memory.SharedMemory(name=shared.segment)
        try:
            for offset, shape, dtype in shared.layout:
                view = np.ndarray(shape, dtype, buffer=segment.buf, offset=offset)
                arrays.append(view.copy())
                del view  # the segment cannot close while a view exports its buffer
        finally:
            segment.close()
            segment.unlink()
    return _Unpacker(io.BytesIO(shared.payload), arrays).load()


def release(shared: SharedBatch) -> None:
    """Drop a batch that will never be read (an abandoned epoch): unlink its segment."""
    if shared.segment is not None:
        _unlink(shared.segment)


def _unlink(name: str) -> None:
    try:
        segment = shared_memory.SharedMemory(name=name)
    except FileNotFoundError:
        return
    segment.close()
    segment.unlink()


def remove_segments(prefix: str) -> int:
    """Unlink every segment whose name starts with ``prefix``; returns how many were found."""
    try:
        names = [n for n in os.listdir(SHM_DIR) if n.startswith(prefix)]
    except OSError:  # no /dev/shm (macOS): segments are only ever removed one by one
        return 0
    for name in names:
        _unlink(name)
    return len(names)
