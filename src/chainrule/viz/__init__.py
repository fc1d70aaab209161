"""See and explain backpropagation.

``draw(*tensors)`` shows the recorded graph (a ``graphviz.Digraph``); ``explain(loss)`` runs the
backward pass and records each step: upstream gradient x local derivative -> downstream;
``check_by_hand(loss, {"dl/dz1": 0.075, ...})`` finds the first wrong step of a hand derivation.
"""

from .check import HandCheck, UnknownGradientError, Verdict, check_by_hand
from .draw import DotNotFoundError, draw
from .explain import Contribution, Downstream, Explanation, LeafGrad, Step, TensorInfo, explain

__all__ = [
    "draw",
    "explain",
    "check_by_hand",
    "HandCheck",
    "Verdict",
    "UnknownGradientError",
    "DotNotFoundError",
    "Explanation",
    "Step",
    "Downstream",
    "Contribution",
    "LeafGrad",
    "TensorInfo",
]
