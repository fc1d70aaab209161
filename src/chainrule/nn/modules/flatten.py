"""``torch.nn.modules.flatten``: the import path user code imports and subclasses from; the classes
live in ``chainrule.nn``'s own modules."""

from __future__ import annotations

from ..linear import (  # noqa: F401
    Flatten,
    Unflatten,
)

__all__ = ["Flatten", "Unflatten"]
