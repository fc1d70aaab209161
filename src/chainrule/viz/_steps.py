"""What an explanation is made of: the tensors as it names them, each backward step (upstream,
rule, downstream), the contributions summed into a gradient, and the leaves' final gradients."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TensorInfo", "Contribution", "Downstream", "Step", "LeafGrad"]


@dataclass(frozen=True)
class TensorInfo:
    """A tensor as the explanation names it.

    ``kind``: "leaf", "parameter" (a leaf named by ``params``), "constant" (no gradient),
    "intermediate" (produced by an op). ``graph_id``: its node in ``draw``'s graph (for an
    intermediate, the op that produced it). A constant that its op did not keep (its derivative
    does not read it) is named "constant": the graph knows only its shape and dtype.
    """

    name: str
    shape: tuple
    dtype: str
    kind: str
    graph_id: str


@dataclass(frozen=True)
class Contribution:
    """One term of a gradient: sent by step ``step`` (0-based), or the seed ``dl/dl = 1`` (None)."""

    step: int | None
    value: np.ndarray


@dataclass(frozen=True)
class Downstream:
    """The gradient one step passes to one of its inputs.

    ``local`` is what the op's rule gave, of shape ``local_shape``; ``grad`` is it summed over
    ``summed_dims`` down to the input's shape (the same array when nothing was broadcast).
    ``rule`` is this input's part of the formula; ``shown`` the same with its numbers
    (``dl/dz1 = dl/da1 * a1 * (1 - a1) = 0.3234 * 0.232 = 0.07503``) or, for a matrix product,
    its operands' shapes (``dl/dW1 (3x5) = A0^T (3x4) @ dl/dZ1 (4x5)``), where the op's registry
    entry says how to evaluate its local derivative; the rule alone otherwise. ``factor`` is the
    element-wise local derivative's value (``local`` is ``upstream * factor``, or ``/ factor``
    for a rule that divides), None where there is no such factor.
    """

    input: TensorInfo
    position: int  # which input of the op (0 for the first)
    rule: str
    local: np.ndarray
    grad: np.ndarray
    summed_dims: tuple
    shown: str = ""  # the rule as the table shows it: with values, or with shapes (matrix rules)
    factor: np.ndarray | None = None  # the local factor's value, where the op's entry gives one

    @property
    def local_shape(self) -> tuple:
        return tuple(getattr(self.local, "shape", ()))

    @property
    def broadcast(self) -> bool:
        return bool(self.summed_dims) or self.local_shape != tuple(getattr(self.grad, "shape", ()))


@dataclass(frozen=True)
class Step:
    """One node of the backward pass: upstream gradient x local derivative -> downstream.

    ``upstream`` is dl/d(output); ``upstream_parts`` the contributions that were summed into it,
    one per op that read the output (several at a fan-out; one otherwise). They add up to
    ``upstream`` unless a tensor hook changed the gradient on its way.
    """

    index: int
    node_name: str
    op: str
    graph_id: str
    output: TensorInfo
    inputs: tuple[TensorInfo, ...]
    upstream: np.ndarray
    upstream_parts: tuple[Contribution, ...]
    formula: str
    downstream: tuple[Downstream, ...]

    @property
    def fan_out(self) -> bool:
        return len(self.upstream_parts) > 1


@dataclass(frozen=True)
class LeafGrad:
    """A leaf's final gradient (what ``loss.backward()`` puts in its ``.grad``) and its parts."""

    tensor: TensorInfo
    grad: np.ndarray | None
    parts: tuple[Contribution, ...]
