"""The handle that every hook registration of Module returns."""

from __future__ import annotations

import itertools

__all__ = ["RemovableHandle"]


class RemovableHandle:
    """What ``register_forward_hook`` & co. return: ``handle.remove()`` unregisters the hook
    (also usable as a context manager, which removes it on exit)."""

    _next_id = itertools.count()

    def __init__(self, *hooks_dicts: dict) -> None:
        self.hooks_dicts = hooks_dicts
        self.id = next(RemovableHandle._next_id)

    def remove(self) -> None:
        for d in self.hooks_dicts:
            d.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *args) -> None:
        self.remove()
