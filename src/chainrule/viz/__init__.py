"""See and explain backpropagation.

``draw(*tensors)`` shows the recorded graph (a ``graphviz.Digraph``); ``explain(loss)`` runs the
backward pass and records each step: upstream gradient x local derivative -> downstream.
"""

from .draw import DotNotFoundError, draw
from .explain import Contribution, Downstream, Explanation, LeafGrad, Step, TensorInfo, explain

__all__ = [
    "draw",
    "explain",
    "DotNotFoundError",
    "Explanation",
    "Step",
    "Downstream",
    "Contribution",
    "LeafGrad",
    "TensorInfo",
]
