"""``torch.accelerator``: the device-generic queries, answered for a library with no accelerator.

``is_available()`` is False, ``current_accelerator()`` None and ``device_count()`` 0, so
``torch.accelerator.current_accelerator() if torch.accelerator.is_available() else "cpu"`` picks
the CPU. The calls that need a device raise torch's RuntimeError ("Cannot access accelerator
device when none is available.").
"""

from __future__ import annotations

from ._device import no_accelerator_error

__all__ = [
    "is_available",
    "current_accelerator",
    "device_count",
    "current_device_index",
    "current_device_idx",
    "set_device_index",
    "set_device_idx",
    "device_index",
    "synchronize",
    "current_stream",
    "set_stream",
    "empty_cache",
    "empty_host_cache",
    "get_device_capability",
    "get_memory_info",
    "memory_allocated",
    "max_memory_allocated",
    "memory_reserved",
    "max_memory_reserved",
    "memory_stats",
    "reset_accumulated_memory_stats",
    "reset_peak_memory_stats",
]


def is_available() -> bool:
    """False: chainrule computes on the CPU."""
    return False


def current_accelerator(check_available: bool = False):
    """None: there is no accelerator (the CPU is not one, in torch's terms)."""
    return None


def device_count() -> int:
    return 0


def _none(*args, **kwargs):
    raise no_accelerator_error()


current_device_index = current_device_idx = _none
set_device_index = set_device_idx = _none
synchronize = current_stream = set_stream = _none
empty_cache = empty_host_cache = get_device_capability = get_memory_info = _none
memory_allocated = max_memory_allocated = memory_reserved = max_memory_reserved = memory_stats = _none
reset_accumulated_memory_stats = reset_peak_memory_stats = _none


class device_index:
    """``with torch.accelerator.device_index(i):``: None selects nothing; an index raises on entry."""

    def __init__(self, device: int | None, /) -> None:
        self.idx = device

    def __enter__(self) -> None:
        if self.idx is not None:
            raise no_accelerator_error()

    def __exit__(self, *exc) -> None:
        pass
