"""Two lanes: a batch split into two halves, each walked by its own thread with single-threaded BLAS.

A convolution's chunks are many mid-sized GEMMs (CIFAR's second convolution: 64 of 32 x 288 x 4096
per pass). OpenBLAS's own two threads barely shared such a product here (32 x 288 x 32768: 71 ms
on two threads, 72 ms on one), and each call wakes and joins its pool, which on a loaded machine
waits for a descheduled thread. Two Python threads, each running half of the batch's chunks (the
window copies too: NumPy's copies and the compiled kernels release the GIL) with its GEMMs on one
BLAS thread (OpenBLAS's thread-local setting), ran the same products in 37 ms, and join once per
kernel call instead of once per GEMM.

The scratch buffers of ``kernels.conv`` are per thread, so the lanes never share one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._threads import get_num_threads, numpy_blas

__all__ = ["run_in_lanes", "lanes_available"]

_pool: list = []
_pool_lock = threading.Lock()
# a forked child has no worker thread: it makes its own pool (the parent's would never run a task)
os.register_at_fork(after_in_child=_pool.clear)


def lanes_available() -> bool:
    """Two or more threads allowed (``chainrule.set_num_threads``) and a BLAS whose thread count
    can be set per thread (NumPy's OpenBLAS >= 0.3.27)."""
    blas = numpy_blas()
    return blas is not None and blas.set_num_threads_local is not None and get_num_threads() >= 2


def _lane(work: Callable[[int, int], object], start: int, stop: int, worker: bool) -> object:
    local = numpy_blas().set_num_threads_local
    previous = local(1)
    try:
        if worker:  # (the worker does not share the caller's NumPy error state: chainrule._fpe)
            with np.errstate(all="ignore"):
                return work(start, stop)
        return work(start, stop)
    finally:
        local(previous)


def run_in_lanes(work: Callable[[int, int], object], n: int) -> list:
    """``[work(0, m), work(m, n)]`` on two threads (``m`` about ``n / 2``), each with one BLAS
    thread, where :func:`lanes_available` and ``n >= 2``; else ``[work(0, n)]``."""
    if n < 2 or not lanes_available():
        return [work(0, n)]
    if not _pool:
        with _pool_lock:
            if not _pool:
                _pool.append(ThreadPoolExecutor(1, thread_name_prefix="chainrule-lanes"))
    middle = (n + 1) // 2
    second = _pool[0].submit(_lane, work, middle, n, True)
    try:
        first = _lane(work, 0, middle, False)
    finally:
        other = second.result()
    return [first, other]
