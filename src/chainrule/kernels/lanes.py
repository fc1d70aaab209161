"""Two lanes: a batch's pieces walked by two threads, each with single-threaded BLAS.

A convolution's chunks are many mid-sized GEMMs (CIFAR's second convolution: 64 of 32 x 288 x 4096
per pass). OpenBLAS's own two threads did not share such a product here (8 of 32 x 288 x 32768:
200 ms on two threads, 200 ms on one), and each call wakes and joins its pool, which on a loaded
machine waits for a descheduled thread. Two Python threads, each running pieces of the batch's
chunks (the window copies too: NumPy's copies and the compiled kernels release the GIL) with
single-threaded GEMMs, ran the same products in 72-119 ms, and join once per kernel call
instead of once per GEMM.

OpenBLAS's thread count is process-wide (its "thread-local" setter, ``openblas_set_num_threads_local``
of 0.3.27+, changed the global count here and left it at 1 when two threads restored it), so the
lanes set it to one while any lanes run and restore the user's count when the last one ends; a
BLAS call from another thread meanwhile runs single-threaded. The scratch buffers of
``kernels.conv`` are per thread, so the lanes never share one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

from .._threads import get_num_threads, numpy_blas

__all__ = ["run_in_lanes", "lanes_available", "one_blas_thread"]

_pool: list = []
_pool_lock = threading.Lock()
# a forked child has no worker thread: it makes its own pool (the parent's would never run a task)
os.register_at_fork(after_in_child=_pool.clear)
_active = [0, 0]  # lanes running now; the BLAS thread count to restore when none are
_active_lock = threading.Lock()


def lanes_available() -> bool:
    """Two or more threads allowed (``chainrule.set_num_threads``) and NumPy's OpenBLAS, whose
    thread count the lanes can set."""
    return numpy_blas() is not None and get_num_threads() >= 2


def _enter() -> None:
    with _active_lock:
        if _active[0] == 0:
            blas = numpy_blas()
            _active[1] = blas.get_num_threads()
            blas.set_num_threads(1)
        _active[0] += 1


def _leave() -> None:
    with _active_lock:
        _active[0] -= 1
        if _active[0] == 0:
            numpy_blas().set_num_threads(_active[1])


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """NumPy's BLAS single-threaded for the block (as while lanes run; restored after), for GEMMs
    too small to share: with another process on the second core, OpenBLAS's two threads took
    10-28 ms for products that one thread does in 0.4 (64 x 32 @ 32 x 8192, 6400 x 150 @
    150 x 16): the call waits for its descheduled worker. ResNet-8's shortcut convolutions
    (``kernels.conv_whole``): 2-160 ms a call at two threads, 0.8-1.4 ms at one."""
    if not lanes_available():
        yield
        return
    _enter()
    try:
        yield
    finally:
        _leave()


def _take_pieces(work: Callable[[int, int], object], bounds: list, state: list, lock, out: list) -> None:
    """Run ``work`` on the next untaken piece of the batch until none is left."""
    while True:
        with lock:
            index = state[0]
            state[0] += 1
        if index >= len(bounds) - 1:
            return
        out.append((index, work(bounds[index], bounds[index + 1])))


def _worker(*args) -> None:
    with np.errstate(all="ignore"):  # (the worker does not share the caller's NumPy error state)
        _take_pieces(*args)


def run_in_lanes(work: Callable[[int, int], object], n: int, pieces: int = 8) -> list:
    """The results of ``work(start, stop)`` over consecutive pieces of ``[0, n)``, in the pieces'
    order (so that sums of them round the same way on every run), run on two threads with BLAS
    single-threaded meanwhile, where :func:`lanes_available` and ``n >= 2``; else
    ``[work(0, n)]``.

    The two threads take the pieces (up to ``pieces``, of about equal size) one after another from
    a shared counter rather than half each: where another process holds one core part of the
    time, the thread that runs takes over more pieces instead of the call waiting for the other
    (ResNet-8 with another process at about half a core: 2.25x torch with halves, 2.08-2.13 with
    pieces).
    """
    if n < 2 or not lanes_available():
        return [work(0, n)]
    if not _pool:
        with _pool_lock:
            if not _pool:
                _pool.append(ThreadPoolExecutor(1, thread_name_prefix="chainrule-lanes"))
    k = min(n, pieces)
    bounds = [n * i // k for i in range(k + 1)]
    state, lock, mine, theirs = [0], threading.Lock(), [], []
    _enter()
    try:
        second = _pool[0].submit(_worker, work, bounds, state, lock, theirs)
        try:
            _take_pieces(work, bounds, state, lock, mine)
        finally:
            second.result()
    finally:
        _leave()
    return [result for _, result in sorted(mine + theirs, key=lambda pair: pair[0])]
