"""``torch.nn.modules.sparse``: the import path that user code imports and subclasses from; the classes
live in ``chainrule.nn``'s own modules."""

from __future__ import annotations

from ..sparse import (  # noqa: F401
    Embedding,
)

__all__ = ["Embedding"]
