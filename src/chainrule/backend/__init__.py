"""Array namespaces: NumPy on the CPU; CuPy on NVIDIA GPUs (optional).

Ops call NumPy functions; CuPy arrays implement NumPy's dispatch protocols (``__array_ufunc__``,
``__array_function__``), so the same op code runs on either. Only creation and conversion need
to know which namespace they are in. What NumPy's dispatch cannot express (value checks, fresh
buffers written into, NumPy-only kernels) goes through ``extension``: plain NumPy by default, with
overrides that an extending array type (vmap's batched array) registers from its own package.
"""

from __future__ import annotations

import numpy as np

from .extension import *  # noqa: F403
from .extension import __all__ as _extension_all

__all__ = ["is_cupy", "cupy_available", "namespace_of", "to_numpy", "to_host", "from_host", *_extension_all]


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


def to_host(array, copy: bool = False) -> np.ndarray:
    """The array in host memory: a CuPy array copied over; a NumPy one as is, or a copy."""
    if is_cupy(array):
        return array.get()
    return array.copy() if copy else array


def from_host(host: np.ndarray, xp):
    """A host array back in namespace ``xp`` (numpy: itself; cupy: copied to the current GPU)."""
    return host if xp is np else xp.asarray(host)
