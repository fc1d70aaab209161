"""How a transform nests inside others on one tape: levels, lifting inputs, lowering outputs.

torch.func gives each transform application a *level* and wraps tensors per level. chainrule has
one recorded graph instead, and gets the same guarantees from graph identity:

* **lift**: a transform never differentiates with respect to the caller's tensor itself, but with
  respect to a fresh vertex made for this application only: a differentiable alias
  (``x.view_as(x)``, whose gradient flows on to ``x``) when ``x`` requires grad and grad mode is on
  outside, else a new leaf ``x.detach().requires_grad_()``. ``autograd.grad`` captures gradients at
  that vertex, so paths that reach ``x`` some other way (an outer level's variable closed over by
  the function, the same tensor passed to two levels) are not counted: no perturbation confusion.
  ``grad(lambda x: grad(lambda y: x * y)(x))(x0)`` is 1, not 2.
* **escape**: the backward pass builds a graph (``create_graph=True``) only when something outside
  the level can see it: the forward graph reaches a vertex the level did not make (an outer
  level's variable, a tensor that requires grad outside, a closed-over parameter). Otherwise the
  derivative is a constant to everyone outside, and plain backward (no recording) computes it.
* **lower**: a returned tensor keeps its graph only if that graph reaches a vertex outside the
  level; otherwise it is detached, so results do not require grad unless an outer level (or an
  outer ``backward``) can differentiate them, as with ``torch.func``.

"Outside" means: a leaf that requires grad and was not made by a transform (the user's), or a leaf
made by a level that is still running (an enclosing transform's variable), or a freed node. The
leaves of a level that has finished are constants to everyone else: a result that kept its graph
because it reached outside may also reach such a leaf (``jacrev(jacrev(f, (0, 1)))`` with the outer
level differentiating one argument and the inner one two), and that must not make an outer level
believe it is being tracked.

What this guarantees: every derivative a level computes is with respect to its own vertices only,
and every result stays differentiable with respect to everything outside the level that it
depends on, through any number of nested levels (``grad(grad(f))``, ``jacrev(jacrev(f))``,
``vjp(grad(f))``, a transform inside a module trained with ``backward``). Like torch, a transform
switches grad mode on inside the function; when grad mode is off outside, results are detached.

Forward mode (``func.jvp``'s dual levels) passes through: a lifted vertex carries the tangents of
the tensor it stands for, a lowered result those of the result, so ``jvp(grad(f))`` and
``jacfwd(jacrev(f))`` differentiate the reverse-mode derivative in forward mode.
"""

from __future__ import annotations

import weakref
from typing import Any

from .._tensor import Tensor
from ..autograd._tables import FORWARD
from ..autograd.forward_ad import copy_tangents
from ..autograd.grad_mode import GRAD, enable_grad
from ..autograd.graph import Node

__all__ = ["Level", "check_tensor"]


def check_tensor(x: Any) -> Tensor:
    """torch's error for a non-tensor where a transform needs one."""
    if not isinstance(x, Tensor):
        raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
    return x


#: id(leaf) -> (weak reference to the leaf, its level's ``running`` cell), for every leaf a level
#: made; the entry goes with the leaf. The cell, not the level: no cycle keeps the leaves alive.
_MADE: dict = {}


def _forget(ref: weakref.ref, key: int) -> None:
    entry = _MADE.get(key)
    if entry is not None and entry[0] is ref:
        del _MADE[key]


class Level:
    """One application of a transform: the vertices it made, and whether grad mode was on outside.

    Use as a context manager around the call of the user's function (grad mode is on inside).
    """

    __slots__ = ("own", "grad_outside", "running", "_mode")

    def __init__(self) -> None:
        self.own: list = []  # the leaves made here, held for as long as the level lives
        self.grad_outside = GRAD.enabled
        self.running = [True]  # shared with _MADE: False once the level has finished
        self._mode = None

    def __enter__(self) -> Level:
        self._mode = enable_grad()
        self._mode.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.running[0] = False
        self._mode.__exit__(*exc)

    def lift(self, x: Any) -> Tensor:
        """A fresh vertex standing for ``x`` in this level (see the module docstring)."""
        check_tensor(x)
        if FORWARD.active:  # a dual tensor (inside func.jvp): the vertex carries its tangents
            FORWARD.active = False
            try:
                vertex = self._lift(x)
            finally:
                FORWARD.active = True
            copy_tangents(x, vertex)
            return vertex
        return self._lift(x)

    def _lift(self, x: Tensor) -> Tensor:
        if self.grad_outside and x._rg:
            with enable_grad():
                return x.view_as(x)
        if x._data.dtype.kind not in "fc":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients (a transform "
                f"differentiates with respect to an input of dtype {x.dtype}); convert it first, "
                "e.g. x.double()"
            )
        return self.own_leaf(x.detach().requires_grad_())

    def own_leaf(self, t: Tensor) -> Tensor:
        """Count ``t`` (a leaf made by the transform, e.g. a dummy cotangent) as this level's."""
        key = id(t)
        _MADE[key] = (weakref.ref(t, lambda ref, key=key: _forget(ref, key)), self.running)
        self.own.append(t)
        return t

    def _outside(self, leaf: Tensor) -> bool:
        entry = _MADE.get(id(leaf))
        if entry is None or entry[0]() is not leaf:
            return True  # the user's
        cell = entry[1]
        return cell is not self.running and cell[0]  # a running enclosing level's

    def escapes(self, tensors) -> bool:
        """Whether the graph of any of ``tensors`` reaches a vertex outside this level.

        A depth-first walk that stops at the first such vertex: cheap when the answer is yes
        (the walk runs straight into the outer history), and bounded by this level's own graph
        when it is no. A freed node is history from an earlier backward: outside.
        """
        if not self.grad_outside:
            return False
        stack = [
            t.grad_fn if t.grad_fn is not None else t for t in tensors if isinstance(t, Tensor) and t._rg
        ]
        seen: set = set()
        while stack:
            v = stack.pop()
            if not isinstance(v, Node):
                if self._outside(v):
                    return True
                continue
            if v in seen:
                continue
            seen.add(v)
            if v.inputs is None:
                return True
            stack.extend(e for e in v.edges if e is not None)
        return False

    def lower_aux(self, x: Any) -> Any:
        """``lower`` for a leaf of the aux output: torch accepts tensors only there."""
        if not isinstance(x, Tensor):
            raise RuntimeError(f"Expected tensors, got unsupported type {type(x)}")
        return self.lower(x)

    def lower(self, x: Any) -> Any:
        """A returned value as the caller sees it: a tensor keeps its graph only if that graph
        reaches outside this level (non-tensors pass unchanged)."""
        if not isinstance(x, Tensor) or not x._rg:
            return x
        if self.escapes([x]):
            return x
        lowered = x.detach()
        if FORWARD.active:  # its tangents go along, lowered as well (they may reach here too)
            copy_tangents(x, lowered, transform=self.lower)
        return lowered
