"""``torch.backends.mkldnn`` (oneDNN): chainrule does not use oneDNN, so ``is_available()`` is
False (torch's CPU builds answer True); the flags can be set, with no effect."""

from __future__ import annotations

import sys

from ._flags import set_flags

__all__ = ["is_available", "flags"]

enabled = True
deterministic = False
allow_tf32 = True
fp32_precision = "none"


def is_available() -> bool:
    return False


def flags(
    enabled: bool = False, deterministic: bool = False, allow_tf32: bool = True, fp32_precision: str = "none"
):
    """``with torch.backends.mkldnn.flags(...):``: the flags set for the block, restored after."""
    return set_flags(
        sys.modules[__name__],
        enabled=enabled,
        deterministic=deterministic,
        allow_tf32=allow_tf32,
        fp32_precision=fp32_precision,
    )
