"""``torch.nn.modules.lazy``: the import path user code imports and subclasses from; the classes
live in ``chainrule.nn``'s own modules."""

from __future__ import annotations

from ..lazy import (  # noqa: F401
    LazyModuleMixin,
)

__all__ = ["LazyModuleMixin"]
