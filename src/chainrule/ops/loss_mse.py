"""The mean squared error as one node, as torch records it (``MseLossBackward0``).

``F.mse_loss`` could be ``mean((x - y)^2)`` built from three ops; torch records one node, and
tutorials print it (``loss.grad_fn``). One node is also one derivative step instead of three.
The forward value is the same sum of the same squares (computed without recording).
"""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import GRAD
from ..autograd.graph import defop, times
from ._common import Tensor, make_result
from .elementwise import mul, sub
from .reduce import mean as _mean
from .reduce import sum as _sum

__all__: list[str] = []


@defop(
    "mse_loss",
    formula=("{g0} = {gy} * 2 ({x0} - {x1})  (/ n for reduction='mean')", "{g1} = -{g0}"),
    local=(
        times(lambda xs, y, p: _mse_factor(xs, p)),
        times(lambda xs, y, p: -_mse_factor(xs, p)),
    ),
)
def _mse_loss(F, g, xs, out, p, needs):
    reduction, n = p
    if reduction == "mean":  # g is 0-d: it broadcasts to the difference's shape
        g = g * (2.0 / n) if n else g * float("nan")
    else:
        g = g * 2.0
    gx = g * (xs[0] - xs[1])
    return (gx if needs[0] else None), (-gx if needs[1] else None)


def _mse_factor(xs, p):
    """d loss / d input, element by element: 2 (input - target), divided by n for 'mean'."""
    reduction, n = p
    scale = (2.0 / n if n else float("nan")) if reduction == "mean" else 2.0  # (as the rule)
    return scale * (xs[0] - xs[1])


def mse_loss_node(input: Tensor, target: Tensor, reduction: str) -> Tensor:
    """``(input - target)^2`` reduced by ``reduction`` ('mean', 'sum', 'none'), one node;
    ``input`` and ``target`` float tensors of one dtype (they broadcast)."""
    recording = GRAD.enabled
    GRAD.enabled = False  # (what no_grad does, without its context manager's cost)
    try:
        d = sub(input, target)
        loss = mul(d, d)
        if reduction == "mean":
            loss = _mean(loss)
        elif reduction == "sum":
            loss = _sum(loss)
    finally:
        GRAD.enabled = recording
    data = loss._data
    if type(data) is not np.ndarray and isinstance(data, np.generic):
        data = np.asarray(data)
    return make_result(data, _mse_loss, (input, target), (reduction, d._data.size))
