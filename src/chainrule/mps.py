"""``torch.mps`` (Apple GPUs) as torch answers without the MPS backend: ``is_available()`` False,
``device_count()`` 0, ``manual_seed`` a no-op; the calls that need the device raise torch's
RuntimeError."""

from __future__ import annotations

__all__ = [
    "is_available",
    "device_count",
    "manual_seed",
    "seed",
    "get_rng_state",
    "set_rng_state",
    "synchronize",
    "empty_cache",
    "set_per_process_memory_fraction",
    "current_allocated_memory",
    "driver_allocated_memory",
    "recommended_max_memory",
    "Event",
]


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Seed the MPS generator: there is none, so nothing happens (as in torch without MPS)."""


def _needs_mps(what: str):
    def call(*args, **kwargs):
        raise RuntimeError(f"Cannot execute {what}() without MPS backend. (chainrule computes on the CPU)")

    call.__name__ = what
    return call


seed = get_rng_state = set_rng_state = _needs_mps("getDefaultGenerator")
synchronize = _needs_mps("deviceSynchronize")
empty_cache = _needs_mps("emptyCache")
set_per_process_memory_fraction = _needs_mps("setMemoryFraction")
current_allocated_memory = _needs_mps("getCurrentAllocatedMemory")
driver_allocated_memory = _needs_mps("getDriverAllocatedMemory")
recommended_max_memory = _needs_mps("getRecommendedMaxMemory")


class Event:
    """An MPS event: there are none (torch's RuntimeError without MPS)."""

    def __init__(self, enable_timing: bool = False) -> None:
        raise RuntimeError(
            "Cannot execute acquireEvent() without MPS backend. (chainrule computes on the CPU)"
        )
