"""In-place changes of a tensor's shape and strides (``t_``, ``transpose_``, ``swapaxes_``,
``swapdims_``, ``squeeze_``, ``unsqueeze_``, ``as_strided_``) and ``resize_``/``resize_as_``.

The values do not change, only how the tensor reads its memory: the tensor becomes the view op's
result (its array and, in grad mode, its history), as torch's in-place view ops do. A view of a
tensor keeps following its base; views taken of this tensor *before* the change keep the old
layout, which is what torch does too.
"""

from __future__ import annotations

import numpy as np

from .._tensor import set_history, sync_view
from ..autograd._tables import FORWARD, set_tangent, tangent_of
from ..autograd.grad_mode import GRAD, check_inplace
from ._common import Tensor, as_tensor
from .shape import as_strided, squeeze, t, transpose, unsqueeze

__all__ = [
    "t_",
    "transpose_",
    "swapaxes_",
    "swapdims_",
    "squeeze_",
    "unsqueeze_",
    "as_strided_",
    "resize_",
    "resize_as_",
]


def _restride(who: str, self: Tensor, view_fn) -> Tensor:
    """Make ``self`` the result of ``view_fn(self)`` (a view op), in place."""
    self = as_tensor(self, who)
    check_inplace(self)
    base = self._base
    if GRAD.enabled:
        if self._rg and self._grad_fn is None:
            raise RuntimeError(
                f"{who}: a leaf Variable that requires grad is being used in an in-place operation."
            )
        if base is not None and base._rg and base._grad_fn is None:
            raise RuntimeError(
                f"{who}: a view of a leaf Variable that requires grad is being used in an in-place operation."
            )
        if base is not None:
            sync_view(self)
    result = view_fn(self)
    self._data = result._data
    if base is not None:  # still a view of the same base, one step further
        self._view_steps = result._view_steps
        self._view_version = result._view_version
    set_history(self, result._grad_fn, result._rg)
    if FORWARD.active:  # forward-mode AD: the tangent takes the same layout (a view of the old one)
        tangent = tangent_of(result)
        if tangent is not None:
            set_tangent(self, tangent)
    self._bump_version()
    return self


def t_(self: Tensor) -> Tensor:
    """``t`` in place: a matrix becomes its transpose (0-d and 1-D tensors are unchanged)."""
    return _restride("t_", self, t)


def transpose_(self: Tensor, dim0: int, dim1: int) -> Tensor:
    """``transpose`` in place."""
    return _restride("transpose_", self, lambda x: transpose(x, dim0, dim1))


def swapaxes_(self: Tensor, axis0: int, axis1: int) -> Tensor:
    """``swapaxes`` in place (``transpose_``)."""
    return _restride("swapaxes_", self, lambda x: transpose(x, axis0, axis1))


def swapdims_(self: Tensor, dim0: int, dim1: int) -> Tensor:
    """``swapdims`` in place (``transpose_``)."""
    return _restride("swapdims_", self, lambda x: transpose(x, dim0, dim1))


def squeeze_(self: Tensor, dim=None) -> Tensor:
    """``squeeze`` in place."""
    return _restride("squeeze_", self, lambda x: squeeze(x, dim))


def unsqueeze_(self: Tensor, dim: int) -> Tensor:
    """``unsqueeze`` in place."""
    return _restride("unsqueeze_", self, lambda x: unsqueeze(x, dim))


def as_strided_(self: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    """``as_strided`` in place."""
    return _restride("as_strided_", self, lambda x: as_strided(x, size, stride, storage_offset))


def resize_(self: Tensor, *sizes, memory_format=None) -> Tensor:
    """Give the tensor a new shape in place, keeping its leading elements in row-major order
    (``Tensor.resize_``); new elements are zeros (torch leaves them uninitialised). Refused, as in
    torch, for a tensor that requires grad."""
    if len(sizes) == 1 and isinstance(sizes[0], list | tuple):
        sizes = tuple(sizes[0])
    shape = tuple(int(s) for s in sizes)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
    if self._rg:
        raise RuntimeError("cannot resize variables that require grad")
    check_inplace(self)
    flat = self._data.reshape(-1)
    n = int(np.prod(shape))
    if n <= flat.size and self._data.flags.c_contiguous and self._base is None:
        self._data = flat[:n].reshape(shape)  # the same memory, as torch when it need not grow
    else:
        data = np.zeros(n, dtype=self._data.dtype)
        data[: min(n, flat.size)] = flat[: min(n, flat.size)]
        self._data = data.reshape(shape)
    self._bump_version()
    return self


def resize_as_(self: Tensor, the_template: Tensor, *, memory_format=None) -> Tensor:
    """``resize_`` to the shape of ``the_template``."""
    return resize_(self, tuple(as_tensor(the_template, "resize_as_").shape))
