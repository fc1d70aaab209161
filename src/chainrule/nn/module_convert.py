"""Module conversions: ``to``, ``float``, ``double``, ``half``, ``type``, ``cpu``, ``cuda``, ``to_empty``
(``torch.nn.Module``'s dtype and device methods), all through ``_apply``.

A mixin of :class:`~chainrule.nn.Module`: it walks the children, ``_parameters`` and ``_buffers`` and
never imports the module class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _dtype
from .._device import check_device
from .._tensor import Tensor, wrap
from ..autograd.grad_mode import no_grad

__all__ = ["ConversionMixin"]


class ConversionMixin:
    """The conversion methods of ``nn.Module``; each returns the module itself."""

    _parameters: dict
    _buffers: dict

    def _apply(self, fn: Callable[[Tensor], Tensor]) -> Any:
        """Convert every parameter, gradient and buffer with ``fn``; parameters stay the same
        objects (their data is replaced), as in torch."""
        for module in self.children():  # type: ignore[attr-defined]  (Module's)
            module._apply(fn)
        for param in self._parameters.values():
            if param is None:
                continue
            with no_grad():
                new = fn(param)
            if new._data is not param._data:
                param._data = new._data
            if param.grad is not None:
                with no_grad():
                    g = fn(param.grad)
                param.grad._data = g._data
        for key, buf in self._buffers.items():
            if buf is not None:
                self._buffers[key] = fn(buf)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Any:
        """Convert floating-point parameters and buffers to a dtype (and/or device), in place.

        ``module.to(chainrule.float64)``, ``module.to("cpu")``, ``module.to(tensor)`` (its dtype),
        ``module.to(device, dtype)``. Integer buffers keep their dtype. Returns self.
        """
        dtype = kwargs.get("dtype")
        device = kwargs.get("device")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, _dtype.dtype) or a is float:
                dtype = a
            elif isinstance(a, str) or hasattr(a, "type"):
                device = a
            else:
                raise TypeError(
                    f"to() received an invalid argument {a!r}; expected a dtype, a device or a tensor"
                )
        if dtype is not None:
            np_dtype = _dtype.to_numpy_dtype(dtype)
            if np_dtype.kind != "f":
                raise TypeError(
                    "nn.Module.to only accepts floating point or complex dtypes, but got "
                    f"desired dtype={_dtype.from_numpy_dtype(np_dtype)}"
                )
        if device is not None:
            check_device(device)

        def convert(t: Tensor) -> Tensor:
            if dtype is not None and t.is_floating_point():
                return t.to(dtype)
            return t

        return self._apply(convert)

    def float(self) -> Any:
        """Cast floating-point parameters and buffers to float32."""
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def double(self) -> Any:
        """Cast floating-point parameters and buffers to float64."""
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def half(self) -> Any:
        """Cast floating-point parameters and buffers to float16."""
        return self._apply(lambda t: t.half() if t.is_floating_point() else t)

    def type(self, dst_type) -> Any:
        """Cast all parameters and buffers to ``dst_type``."""
        return self._apply(lambda t: t.type(dst_type))

    def cpu(self) -> Any:
        return self

    def share_memory(self) -> Any:
        """Move the tensors to shared memory (for multiprocessing); a no-op here: NumPy arrays are
        passed to worker processes by pickling. Returns self."""
        return self

    def to_empty(self, *, device=None, recurse: bool = True) -> Any:
        """Give every parameter and buffer fresh uninitialised storage of the same shape and dtype
        (torch uses it after building a module on the "meta" device). Returns self."""
        if device is not None:
            check_device(device)
        return self._apply(lambda t: wrap(np.empty_like(t._data)))

    def cuda(self, device=None) -> Any:
        check_device("cuda" if device is None else device)
        return self
