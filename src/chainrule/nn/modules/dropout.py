"""``torch.nn.modules.dropout``: the import path that user code imports and subclasses from; the classes
live in ``chainrule.nn``'s own modules."""

from __future__ import annotations

from ..dropout import (  # noqa: F401
    Dropout,
)

__all__ = ["Dropout"]
