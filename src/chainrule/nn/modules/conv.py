"""``torch.nn.modules.conv``: the import path that user code imports and subclasses from; the classes
live in ``chainrule.nn``'s own modules."""

from __future__ import annotations

from ..conv import (  # noqa: F401
    Conv1d,
    Conv2d,
    ConvTranspose1d,
    ConvTranspose2d,
)
from ..lazy import (  # noqa: F401
    LazyConv1d,
    LazyConv2d,
    LazyConvTranspose1d,
    LazyConvTranspose2d,
)

__all__ = [
    "Conv1d",
    "Conv2d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConvTranspose1d",
    "LazyConvTranspose2d",
]
