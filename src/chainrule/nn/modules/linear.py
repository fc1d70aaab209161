"""``torch.nn.modules.linear``: the import path user code imports and subclasses from; the classes
live in ``chainrule.nn``'s own modules."""

from __future__ import annotations

from ..lazy import (  # noqa: F401
    LazyLinear,
)
from ..linear import (  # noqa: F401
    Bilinear,
    Identity,
    Linear,
)

__all__ = ["Bilinear", "Identity", "Linear", "LazyLinear"]
