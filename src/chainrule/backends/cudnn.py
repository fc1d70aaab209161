"""``torch.backends.cudnn``: no cuDNN here (``is_available()`` False, ``version()`` None); the
flags keep torch's defaults and can be set (``benchmark = True``, ``deterministic = True``) with no
effect: chainrule's convolutions are NumPy's, deterministic, with one algorithm."""

from __future__ import annotations

import sys

from ._flags import set_flags

__all__ = ["is_available", "version", "is_acceptable", "flags"]

enabled = True
benchmark = False
benchmark_limit = None
deterministic = False
allow_tf32 = True
fp32_precision = "none"


def is_available() -> bool:
    return False


def version() -> None:
    return None


def is_acceptable(tensor) -> bool:
    """Whether cuDNN could take ``tensor``: never (there is no cuDNN)."""
    return False


def flags(
    enabled: bool = False,
    benchmark: bool = False,
    benchmark_limit: int = 10,
    deterministic: bool = False,
    allow_tf32: bool = True,
    fp32_precision: str = "none",
):
    """``with torch.backends.cudnn.flags(...):``: the flags set for the block, restored after."""
    return set_flags(
        sys.modules[__name__],
        enabled=enabled,
        benchmark=benchmark,
        benchmark_limit=benchmark_limit,
        deterministic=deterministic,
        allow_tf32=allow_tf32,
        fp32_precision=fp32_precision,
    )
