"""torch's layout and memory-format objects. chainrule's tensors are strided NumPy arrays, so
``layout`` has one member; memory formats are accepted where torch takes them (``contiguous``,
``clone``, ``empty_like``, ``to``) and describe a request for a memory order."""

from __future__ import annotations

__all__ = [
    "layout",
    "strided",
    "memory_format",
    "contiguous_format",
    "channels_last",
    "channels_last_3d",
    "preserve_format",
    "legacy_contiguous_format",
]


class layout:
    """How a tensor's elements sit in memory (``torch.layout``); chainrule has ``strided`` only."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"chainrule.{self.name}"

    def __reduce__(self):
        return self.name  # pickles as the module-level singleton


class memory_format:
    """A requested memory order (``torch.memory_format``)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"chainrule.{self.name}"

    def __reduce__(self):
        return self.name


strided = layout("strided")
contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")
legacy_contiguous_format = contiguous_format  # one object in torch too
