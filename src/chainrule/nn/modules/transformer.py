"""``torch.nn.modules.transformer``: the import path user code imports and subclasses from; the classes
live in ``chainrule.nn``'s own modules."""

from __future__ import annotations

from ..transformer import (  # noqa: F401
    TransformerEncoder,
    TransformerEncoderLayer,
)
from ..transformer_decoder import (  # noqa: F401
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
)

__all__ = [
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
]
