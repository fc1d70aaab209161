"""Array namespaces: NumPy on the CPU; CuPy on NVIDIA GPUs (optional).

Ops call NumPy functions; CuPy arrays implement NumPy's dispatch protocols (``__array_ufunc__``,
``__array_function__``), so the same op code runs on either. Only creation and conversion need
to know which namespace they are in.
"""

from __future__ import annotations

import numpy as np

__all__ = ["is_cupy", "cupy_available", "namespace_of", "to_numpy"]


def is_cupy(array) -> bool:
    return type(array) is not np.ndarray and type(array).__module__.startswith("cupy")


def cupy_available() -> bool:
    try:
        import cupy  # noqa: F401
    except ImportError:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def namespace_of(array):
    """numpy or cupy, by the array's type."""
    if is_cupy(array):
        import cupy

        return cupy
    return np


def to_numpy(array) -> np.ndarray:
    return array.get() if is_cupy(array) else array
