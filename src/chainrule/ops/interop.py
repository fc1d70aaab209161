"""Tensors that share memory with other libraries' arrays and with Python buffers: DLPack
(``from_dlpack``, ``to_dlpack``; NumPy, torch, CuPy and JAX all speak it), ``frombuffer`` and
``from_file``. No copy is made where torch makes none."""

from __future__ import annotations

import warnings

import numpy as np

from .. import _dtype
from .._fpe import user_stacklevel as _user_stacklevel
from .._tensor import Tensor, wrap
from .creation import _leaf

__all__ = ["from_dlpack", "to_dlpack", "frombuffer", "from_file"]


def from_dlpack(ext_tensor) -> Tensor:
    """A tensor sharing memory with any DLPack producer (a torch tensor, a NumPy array, ...), or with
    a capsule from ``to_dlpack``."""
    if isinstance(ext_tensor, Tensor):
        return ext_tensor
    if type(ext_tensor).__name__ == "PyCapsule":
        ext_tensor = _Capsule(ext_tensor)
    try:
        return wrap(np.from_dlpack(ext_tensor))
    except (TypeError, BufferError, RuntimeError) as e:
        raise RuntimeError(
            f"from_dlpack: cannot import {type(ext_tensor).__name__} through DLPack: {e}"
        ) from None


class _Capsule:
    """A legacy DLPack capsule (what ``to_dlpack`` returns) as the protocol object NumPy imports."""

    def __init__(self, capsule) -> None:
        self.capsule = capsule

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)  # kDLCPU


def to_dlpack(tensor: Tensor):
    """A DLPack capsule of ``tensor``'s memory (shared, not copied), for another library's
    ``from_dlpack``."""
    if tensor.requires_grad:
        raise RuntimeError(
            "to_dlpack: can't export a tensor that requires grad (the other library can't see its "
            "history); use tensor.detach()"
        )
    return tensor._data.__dlpack__()


def frombuffer(buffer, *, dtype, count: int = -1, offset: int = 0, requires_grad: bool = False) -> Tensor:
    """A 1-D tensor over an object that exposes the buffer protocol (bytes, bytearray, array, mmap),
    sharing its memory."""
    dt = _dtype.to_numpy_dtype(dtype)
    view = memoryview(buffer)
    available = view.nbytes - offset
    if offset < 0 or offset > view.nbytes or (offset == view.nbytes and count != 0):
        raise ValueError(
            f"frombuffer: both buffer length ({view.nbytes}) and offset ({offset}) must be such that "
            "offset < buffer length"
        )
    if count < 0:
        if available % dt.itemsize:
            raise ValueError(
                f"frombuffer: buffer length ({available} bytes after offset {offset}) must be a multiple of "
                f"the element size ({dt.itemsize})"
            )
        count = available // dt.itemsize
    elif count * dt.itemsize > available:
        raise ValueError(
            f"frombuffer: requested buffer length ({count} * {dt.itemsize} bytes) after offset ({offset}) "
            f"must not be greater than actual buffer length ({view.nbytes})"
        )
    if view.readonly:
        warnings.warn(
            "The given buffer is not writable, and PyTorch does not support non-writable tensors. "
            "Writing to this tensor would be undefined behaviour; copy the buffer (bytearray) first.",
            UserWarning,
            stacklevel=_user_stacklevel(),
        )
    array = np.frombuffer(buffer, dtype=dt, count=count, offset=offset)
    return _leaf(array, requires_grad)


def from_file(
    filename: str,
    shared: bool | None = None,
    size: int = 0,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """``size`` elements read from a binary file; with ``shared=True`` the tensor maps the file, so
    writes to it reach the file."""
    dt = _dtype.to_numpy_dtype(dtype if dtype is not None else _dtype.get_default_dtype())
    if shared:
        array = np.memmap(filename, dtype=dt, mode="r+", shape=(size,))
    else:
        with open(filename, "rb") as f:
            array = np.fromfile(f, dtype=dt, count=size)
        if array.size < size:
            raise RuntimeError(
                f"from_file: the file {filename!r} holds {array.size} elements of {dtype}, {size} were "
                "asked for"
            )
    return _leaf(np.asarray(array) if not shared else array, requires_grad)
