"""``torch.backends.openmp``: chainrule parallelises through NumPy's BLAS threads, not OpenMP of
its own, so False (``torch.set_num_threads`` still sets the BLAS threads)."""

from __future__ import annotations

__all__ = ["is_available"]


def is_available() -> bool:
    return False
