"""``torch.nn.modules.fold``: the import path user code imports and subclasses from; the classes
live in ``chainrule.nn``'s own modules."""

from __future__ import annotations

from ..pixelshuffle import Fold, Unfold  # noqa: F401

__all__ = ["Fold", "Unfold"]
