"""``torch.backends.mkl``: chainrule calls no MKL of its own (NumPy picks its BLAS), so False."""

from __future__ import annotations

__all__ = ["is_available"]


def is_available() -> bool:
    return False
