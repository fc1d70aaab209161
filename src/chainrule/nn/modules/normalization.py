"""``torch.nn.modules.normalization``: the import path user code imports and subclasses from; the classes
live in ``chainrule.nn``'s own modules."""

from __future__ import annotations

from ..normalization import (  # noqa: F401
    GroupNorm,
    LayerNorm,
)
from ..normalization_per_sample import CrossMapLRN2d, LocalResponseNorm, RMSNorm  # noqa: F401

__all__ = ["GroupNorm", "LayerNorm"]
__all__ += ["CrossMapLRN2d", "LocalResponseNorm", "RMSNorm"]
