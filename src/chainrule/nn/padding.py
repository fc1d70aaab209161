"""Padding layers: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad, CircularPad (1-3 d), as
torch's; each calls ``nn.functional.pad`` with its mode."""

from __future__ import annotations

from .._tensor import Tensor
from .functional_pad import pad
from .module import Module

__all__ = [
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
]


def _amounts(padding, nd: int) -> tuple:
    """An int (all sides) or ``2 * nd`` ints (last dim's before/after first), as a tuple."""
    if isinstance(padding, int):
        return (padding,) * (2 * nd)
    padding = tuple(int(p) for p in padding)
    if len(padding) != 2 * nd:
        raise ValueError(f"padding must be an int or a tuple of {2 * nd} ints, got {padding}")
    return padding


class _PadNd(Module):
    """A padding layer: ``padding`` (int or ``2 * nd`` ints: last dim's (before, after) first)."""

    _nd = 1
    _mode = "constant"

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _amounts(padding, self._nd)

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ConstantPad1d(_PadNd):
    """Pad the last dim with ``value``, as ``torch.nn.ConstantPad1d``."""

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad2d(ConstantPad1d):
    """Pad the last two dims with ``value``, as ``torch.nn.ConstantPad2d``."""

    _nd = 2


class ConstantPad3d(ConstantPad1d):
    """Pad the last three dims with ``value``, as ``torch.nn.ConstantPad3d``."""

    _nd = 3


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros, as ``torch.nn.ZeroPad1d``."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ZeroPad1d):
    """Pad the last two dims with zeros, as ``torch.nn.ZeroPad2d``."""

    _nd = 2


class ZeroPad3d(ZeroPad1d):
    """Pad the last three dims with zeros, as ``torch.nn.ZeroPad3d``."""

    _nd = 3


class ReflectionPad1d(_PadNd):
    """Mirror the last dim at its ends (without repeating the edge), as ``torch.nn.ReflectionPad1d``."""

    _mode = "reflect"


class ReflectionPad2d(ReflectionPad1d):
    """Mirror the last two dims, as ``torch.nn.ReflectionPad2d``."""

    _nd = 2


class ReflectionPad3d(ReflectionPad1d):
    """Mirror the last three dims, as ``torch.nn.ReflectionPad3d``."""

    _nd = 3


class ReplicationPad1d(_PadNd):
    """Repeat the edge of the last dim, as ``torch.nn.ReplicationPad1d``."""

    _mode = "replicate"


class ReplicationPad2d(ReplicationPad1d):
    """Repeat the edges of the last two dims, as ``torch.nn.ReplicationPad2d``."""

    _nd = 2


class ReplicationPad3d(ReplicationPad1d):
    """Repeat the edges of the last three dims, as ``torch.nn.ReplicationPad3d``."""

    _nd = 3


class CircularPad1d(_PadNd):
    """Wrap the last dim around, as ``torch.nn.CircularPad1d``."""

    _mode = "circular"


class CircularPad2d(CircularPad1d):
    """Wrap the last two dims around, as ``torch.nn.CircularPad2d``."""

    _nd = 2


class CircularPad3d(CircularPad1d):
    """Wrap the last three dims around, as ``torch.nn.CircularPad3d``."""

    _nd = 3
