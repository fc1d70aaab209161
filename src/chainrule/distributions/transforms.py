"""Invertible maps between constrained spaces (torch.distributions.transforms): ``forward`` by
calling, ``inv`` for the inverse, ``log_abs_det_jacobian(x, y)`` for change of variables. The classes
live in ``transforms_core`` (base, element-wise, affine, simplex and matrix maps) and
``transforms_structured`` (maps over an event's structure); this module is the public namespace."""

from .transforms_core import (
    AbsTransform,
    AffineTransform,
    ComposeTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from .transforms_structured import (
    CatTransform,
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    ReshapeTransform,
    StackTransform,
)

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "CatTransform",
    "ComposeTransform",
    "CorrCholeskyTransform",
    "CumulativeDistributionTransform",
    "ExpTransform",
    "IndependentTransform",
    "LowerCholeskyTransform",
    "PositiveDefiniteTransform",
    "PowerTransform",
    "ReshapeTransform",
    "SigmoidTransform",
    "SoftmaxTransform",
    "SoftplusTransform",
    "StackTransform",
    "StickBreakingTransform",
    "TanhTransform",
    "Transform",
    "identity_transform",
]
