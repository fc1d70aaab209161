"""``torch.nn.modules.normalization``: the import path that user code imports and subclasses from; the classes
live in ``chainrule.nn``'s own modules."""

from __future__ import annotations

from ..normalization import (  # noqa: F401
    GroupNorm,
    LayerNorm,
)

__all__ = ["GroupNorm", "LayerNorm"]
