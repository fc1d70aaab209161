"""``torch.nn.modules.sparse``: the import path user code imports and subclasses from; the classes
live in ``chainrule.nn``'s own modules."""

from __future__ import annotations

from ..embedding_bag import EmbeddingBag  # noqa: F401
from ..sparse import (  # noqa: F401
    Embedding,
)

__all__ = ["Embedding"]
__all__ += ["EmbeddingBag"]
