"""``torch.multiprocessing``: Python's ``multiprocessing``, re-exported, as torch's is, with torch's
additions: the sharing-strategy switches and ``spawn`` / ``start_processes``.

chainrule tensors are NumPy arrays: they cross process boundaries by pickling (copies), not by
shared memory, so the sharing strategy is recorded and reported back but changes nothing.
"""

import multiprocessing as _multiprocessing
import sys as _sys
from multiprocessing import *  # noqa: F403

from .spawn import (  # noqa: F401 (torch's attributes, not in its __all__)
    ProcessContext,
    ProcessExitedException,
    ProcessRaisedException,
    spawn,
    start_processes,
)

# torch's list: its additions and the standard library's names (spawn and friends are attributes)
__all__ = [
    "set_sharing_strategy",
    "get_sharing_strategy",
    "get_all_sharing_strategies",
    *_multiprocessing.__all__,
]

_STRATEGIES = {"file_descriptor", "file_system"} if _sys.platform != "darwin" else {"file_system"}
_strategy = ["file_descriptor" if _sys.platform != "darwin" else "file_system"]


def set_sharing_strategy(new_strategy: str) -> None:
    """Choose how tensors would be shared between processes (recorded; see the module's note)."""
    if new_strategy not in _STRATEGIES:
        raise AssertionError(f"invalid sharing strategy {new_strategy!r}, expected one of {_STRATEGIES}")
    _strategy[0] = new_strategy


def get_sharing_strategy() -> str:
    return _strategy[0]


def get_all_sharing_strategies() -> set[str]:
    return set(_STRATEGIES)
