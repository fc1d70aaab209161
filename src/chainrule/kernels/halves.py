"""Run an element-wise kernel over the two halves of a large array on two threads.

NumPy's ufuncs are single-threaded but release the GIL inside their loops, so two Python threads
that each run a chunked kernel over half of an array use both cores. It pays only where a kernel
makes many passes over cache-sized chunks (GELU's float32 erf: ~26 passes per chunk), not for one
memory-bound pass. The worker thread does not share the caller's NumPy error state (a context
variable), so it switches warnings off itself, as the ops do (chainrule._fpe).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._threads import get_num_threads

__all__ = ["run_in_halves"]

#: below this many elements one thread: handing half to another costs ~20-50 us
MIN_ELEMENTS = 1 << 18
#: the same for kernels of one or two memory-bound passes (ReLU, max pooling, batch norm, the
#: window copies), where half a pass saves less: split from 2M elements (ResNet-8's 16-channel
#: layers, CIFAR's), not LeNet's 0.1-1.3M
MIN_ONE_PASS = 1 << 21
_pool: list = []
_pool_lock = threading.Lock()  # two threads' first large GELU must not start two pools
# a forked child has no worker thread: it makes its own pool (the parent's would never run a task,
# and the child's first large kernel waited forever)
os.register_at_fork(after_in_child=_pool.clear)


def _worker(kernel: Callable[[int, int], None], start: int, stop: int) -> None:
    with np.errstate(all="ignore"):
        kernel(start, stop)


def run_in_halves(
    kernel: Callable[[int, int], None], n: int, align: int, min_elements: int = MIN_ELEMENTS
) -> None:
    """Call ``kernel(start, stop)`` over ``[0, n)``: in one call, or, for ``n >= min_elements``
    with two or more threads allowed (``chainrule.set_num_threads``), over the two halves at once
    (the split rounded to a multiple of ``align``, the kernel's chunk size)."""
    if n < min_elements or get_num_threads() < 2:
        kernel(0, n)
        return
    if not _pool:
        with _pool_lock:
            if not _pool:
                _pool.append(ThreadPoolExecutor(1, thread_name_prefix="chainrule-halves"))
    middle = (n // 2 + align - 1) // align * align
    second = _pool[0].submit(_worker, kernel, middle, n)
    try:
        kernel(0, middle)
    finally:
        second.result()
