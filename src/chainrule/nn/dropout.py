"""Dropout layer (``torch.nn.Dropout``)."""

from __future__ import annotations

from .._tensor import Tensor
from .functional_norm import dropout
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """During training, zero each element with probability ``p`` and scale the others by
    ``1 / (1 - p)``; the identity in eval mode.

    Parameters
    ----------
    p : probability of an element being zeroed, in [0, 1].
    inplace : overwrite the input.

    The masks come from chainrule's generator (``chainrule.manual_seed``), not torch's: the same
    seed gives other masks than torch does, with the same distribution.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
