"""``torch.random``: the default generator's seeding and state, and ``fork_rng``.

Scripts call ``torch.random.manual_seed(s)`` and wrap draws that must not disturb the main stream in
``with torch.random.fork_rng():``. chainrule's tensors live on the CPU, so only the CPU generator is
forked (what torch does on a machine without an accelerator).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

from ._random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)

__all__ = [
    "Generator",
    "default_generator",
    "fork_rng",
    "get_rng_state",
    "initial_seed",
    "manual_seed",
    "seed",
    "set_rng_state",
]


@contextlib.contextmanager
def fork_rng(
    devices: Iterable[int] | None = None,
    enabled: bool = True,
    _caller: str = "fork_rng",
    _devices_kw: str = "devices",
    device_type: str | None = None,
) -> Iterator[None]:
    """Restore the default generator's state on leaving the block.

    Parameters
    ----------
    devices : accelerator device indices whose generators to fork too. There are none: ``None`` or
        an empty list fork the CPU generator only; naming a device raises, as torch does without CUDA.
    enabled : if False, nothing is forked (the block runs as it is).
    device_type : the accelerator type; ignored but for ``"meta"``, which forks nothing (as torch).
    """
    if device_type == "meta" or not enabled:
        yield
        return
    devices = [] if devices is None else list(devices)
    if devices:
        # torch asks torch.cuda for each device's generator: an AssertionError without CUDA
        raise AssertionError(
            f"Torch not compiled with CUDA enabled: {_caller}({_devices_kw}={devices}) names accelerator "
            f"devices, and chainrule has none; pass {_devices_kw}=[] to fork the CPU generator only"
        )
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
