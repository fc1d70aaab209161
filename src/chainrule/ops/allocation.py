"""Tensors with given strides (``empty_strided``, ``empty_permuted``), as torch makes them: a buffer
just big enough for the largest offset, seen through NumPy's strides."""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._device import check_device as _check_device
from .._tensor import Tensor
from .creation import _leaf

__all__ = ["empty_strided", "empty_permuted"]


def _dtype_or_default(dtype) -> np.dtype:
    return _dtype.to_numpy_dtype(dtype if dtype is not None else _dtype.get_default_dtype())


def empty_strided(
    size,
    stride,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """An uninitialised tensor of ``size`` whose ``stride()`` is ``stride`` (zero-filled here)."""
    if device is not None:
        _check_device(device)
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(
            f"empty_strided: mismatch in length of strides and shape: size {list(size)} has {len(size)} "
            f"dims, stride {list(stride)} has {len(stride)}"
        )
    if any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise RuntimeError(f"empty_strided: negative sizes or strides are not allowed: {size}, {stride}")
    dt = _dtype_or_default(dtype)
    extent = 0 if 0 in size else 1 + sum((n - 1) * s for n, s in zip(size, stride))
    buffer = np.zeros(extent, dtype=dt)
    array = np.lib.stride_tricks.as_strided(
        buffer, size, tuple(s * dt.itemsize for s in stride), writeable=True
    )
    return _leaf(array, requires_grad)


def empty_permuted(
    size,
    physical_layout,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
    pin_memory=False,
) -> Tensor:
    """An uninitialised tensor of ``size`` laid out in memory in the dim order ``physical_layout``
    (outermost first): ``empty_permuted((2, 3, 4), (0, 2, 1))`` has strides (12, 1, 3)."""
    if device is not None:
        _check_device(device)
    size, order = tuple(int(s) for s in size), tuple(int(d) for d in physical_layout)
    if sorted(order) != list(range(len(size))):
        raise RuntimeError(
            f"empty_permuted: physical_layout {list(order)} is not a permutation of the {len(size)} dims of "
            f"size {list(size)}"
        )
    dt = _dtype_or_default(dtype)
    physical = np.zeros(tuple(size[d] for d in order), dtype=dt)
    return _leaf(np.transpose(physical, np.argsort(order)), requires_grad)
