"""The recorded graph: an Op (forward's derivative rule, registered once) and a Node per op call.

Each call of a differentiable op that sees an input requiring grad makes one Node. The Node keeps
the op, the input tensors (the graph's edges, and the values backward may read), the output array
when the derivative is written in terms of it (exp, tanh, sigmoid), and the op's non-tensor
parameters. Backward asks ``op.backward(F, g, xs, out, params, needs)`` for the gradient of every
input.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .grad_mode import GRAD

__all__ = ["Op", "Node", "AccumulateGrad", "REGISTRY", "defop", "SAVE_ALL_INPUTS"]


class Op:
    """A differentiable operation's backward rule.

    Parameters
    ----------
    name : torch-style name (``"sin"``, ``"matmul"``); the node prints as ``SinBackward0``.
    backward : ``backward(F, g, xs, out, params, needs) -> tuple`` of input gradients (or None).
        ``F`` is the math namespace (NumPy functions on arrays for plain backward, chainrule's
        differentiable functions on tensors for ``create_graph=True``), ``g`` the upstream gradient,
        ``xs`` the inputs, ``out`` the output (when ``saves_out``), ``needs`` which inputs want one.
    saves_out : backward reads the output (so an in-place change of it is an error).
    saves_inputs : backward reads the inputs' values (so an in-place change of them is an error).
    formula : the local rule in the lecture's notation, written once: one template per input (a
        tuple, ``""`` for an input that never gets a gradient, e.g. an index), or one template (a
        str) for a one-input op or one shared by all inputs. Placeholders:
        ``{gy}`` the upstream gradient dl/dy; ``{y}`` the output; ``{x0}``, ``{x1}``, ... the
        inputs and ``{g0}``, ``{g1}``, ... their gradients; ``{xi}``, ``{gi}`` the input a shared
        template is for; ``{c}`` the op's scalar and ``{alpha}`` add's factor (``node.params[0]``;
        ``{alpha}`` shows as ``"alpha * "``, and as nothing when it is 1); ``{n}`` how many input
        elements make one output element (mean's count); ``{shape0}`` the first input's shape.
        Other braces are text (``A^{-T}``). ``viz.explain`` fills them with the tensors' names
        (``dl/dz1 = dl/da1 * a1 * (1 - a1)``); ``formula`` is the rule with generic names (x, or
        a and b, or x0, x1, ...; y; dl/dy), as docstrings show it.
    """

    __slots__ = (
        "name",
        "backward",
        "saves_out",
        "saves_inputs",
        "templates",
        "formula",
        "node_name",
        "same_shape",
        "saves",
        "complex_rule",
    )

    def __init__(
        self,
        name: str,
        backward: Callable,
        *,
        saves_out: bool = False,
        saves_inputs: bool = True,
        formula: str | tuple[str, ...] = "",
    ) -> None:
        self.name = name
        self.backward = backward
        self.saves_out = saves_out
        self.saves_inputs = saves_inputs
        self.templates = (formula,) if isinstance(formula, str) else tuple(formula)
        if self.templates == ("",):
            self.templates = ()
        generic = generic_fields(self)
        self.formula = ",  ".join(filter(None, (self.render(i, generic) for i in range(len(self.templates)))))
        # True when the rule's gradients always have the inputs' shapes and dtypes (unary
        # element-wise ops): the engine then skips its un-broadcasting check
        self.same_shape = False
        # True when a node of this op keeps tensors for backward (inputs, output, or, for a custom
        # Function, its ctx in params): backward frees those; a node that keeps none stays
        # runnable, so a second backward through ``a + b`` works as in torch
        self.saves = saves_inputs or saves_out
        # False: the rule is the holomorphic chain rule (g * f'(z)), which the engine turns into
        # torch's convention for complex gradients (g * conj(f'(z))) by conjugating around it;
        # True: the rule already follows torch's convention (abs, real, angle, casts, ...)
        self.complex_rule = False
        self.node_name = "".join(p.capitalize() for p in name.strip("_").split("_")) + "Backward0"

    def template(self, i: int) -> str | None:
        """The template of input ``i``'s gradient (None: the op has none for it)."""
        t = self.templates
        if len(t) == 1 and (i == 0 or "{gi}" in t[0]):
            return t[0]
        return t[i] if i < len(t) and t[i] else None

    def render(self, i: int, fields: dict[str, str]) -> str:
        """Input ``i``'s part of the formula with its placeholders filled from ``fields``."""
        template = self.template(i)
        if template is None:
            return ""
        try:
            return _PLACEHOLDER.sub(lambda m: fields[m.group(1)], template)
        except KeyError as e:
            raise ValueError(
                f"op {self.name!r}: unknown placeholder {{{e.args[0]}}} in its formula "
                f"{template!r}; see Op's docstring for the known ones"
            ) from None

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")  # {gy}, {x0}; not A^{-T} or sum_{j>=k}


def generic_fields(op: Op) -> dict[str, str]:
    """The placeholders' generic names: x (one input), a and b (two), x0, x1, ... (more)."""
    n = len(op.templates)
    names = ("x",) if n == 1 else ("a", "b") if n == 2 else tuple(f"x{k}" for k in range(n))
    fields = {
        "gy": "dl/dy",
        "y": "y",
        "xi": "x_i",
        "gi": "dl/dx_i",
        "c": "c",
        "n": "n",
        "alpha": "alpha * ",
        "shape0": f"{names[0] if names else 'x'}.shape",
    }
    for k, name in enumerate(names):
        fields[f"x{k}"], fields[f"g{k}"] = name, f"dl/d{name}"
    return fields


#: every differentiable op, by name: the test suite iterates it
REGISTRY: dict[str, Op] = {}


def defop(
    name: str, *, saves_out: bool = False, saves_inputs: bool = True, formula: str | tuple[str, ...] = ""
):
    """Decorator: register ``backward`` as the derivative rule of op ``name``; returns the Op."""

    def register(backward: Callable) -> Op:
        if name in REGISTRY:
            raise ValueError(f"op {name!r} is registered twice")
        op = Op(name, backward, saves_out=saves_out, saves_inputs=saves_inputs, formula=formula)
        REGISTRY[name] = op
        return op

    return register


class Node:
    """One recorded op call: the ``grad_fn`` of the tensor it produced.

    ``edges`` holds, per input, where that input's gradient goes: the input's own grad_fn at the
    time of the call, the input itself if it is a leaf that requires grad, or None.

    A node keeps only what its derivative needs, as torch's SavedVariable does: the input tensors
    when the rule reads their values (``op.saves_inputs``), the output array when it reads that
    (``op.saves_out``), and otherwise just each input's shape and dtype in ``metas`` (for
    un-broadcasting), so that an ``a + b`` node does not keep ``a`` and ``b`` alive. ``inputs`` is
    then a tuple of None, one per input. Backward sets ``inputs`` to None when it frees the node;
    the edges stay (they hold no data).
    """

    __slots__ = (
        "op",
        "inputs",
        "metas",
        "edges",
        "out",
        "params",
        "versions",
        "out_version",
        "hooks",
        "meta",
        "__weakref__",
    )

    def __init__(
        self,
        op: Op,
        inputs: tuple,
        out: Any,
        params: tuple,
        versions,
        out_version,
        edges: tuple | None = None,
    ) -> None:
        self.op = op
        self.edges = (
            edges
            if edges is not None
            else tuple((x.grad_fn if x.grad_fn is not None else x) if x._rg else None for x in inputs)
        )
        if op.saves_inputs or SAVE_ALL_INPUTS[0]:
            self.inputs = inputs
            self.metas = None
        else:
            self.inputs = _UNSAVED[len(inputs)] if len(inputs) < 4 else (None,) * len(inputs)
            if op.same_shape:
                self.metas = None
            elif len(inputs) == 2:  # (a + b: spelled out, a comprehension costs a call)
                a, b = inputs[0]._data, inputs[1]._data
                self.metas = ((a.shape, a.dtype), (b.shape, b.dtype))
            else:
                self.metas = tuple([(x._data.shape, x._data.dtype) for x in inputs])
        self.out = out
        self.params = params
        self.versions = versions  # inputs' version counters when saved (None: all were 0)
        self.out_version = out_version  # the output's shared version counter (saves_out only)
        self.hooks = None  # gradient hooks of the tensor this node produced (and Retain markers)
        self.meta = None  # a debugging observer: ``meta.after_backward(node, g, input_grads)``

    def name(self) -> str:
        return self.op.node_name

    @property
    def next_functions(self) -> tuple:
        """``(node, 0)`` per input, as torch shows it: the input's grad_fn, an ``AccumulateGrad``
        for a leaf that requires grad, None for a constant."""
        return tuple((e if e is None or isinstance(e, Node) else AccumulateGrad(e), 0) for e in self.edges)

    def register_hook(self, hook) -> None:
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(hook)

    def unpack_saved(self) -> tuple | None:
        """``(inputs, out)`` unpacked, for a node whose saved tensors hooks packed (see
        saved_hooks.py, whose node class overrides this); None: read ``inputs`` and ``out``."""
        return None

    def __repr__(self) -> str:
        return f"<{self.op.node_name} object at {hex(id(self))}>"

    def __getattr__(self, name: str):
        # only for names that are not slots or methods: torch's grad_fn._saved_self,
        # _raw_saved_result ... (autograd/saved_tensor.py, which sits above, binds the reader)
        if name.startswith(("_saved_", "_raw_saved_")) and SAVED_ATTRIBUTE[0] is not None:
            return SAVED_ATTRIBUTE[0](self, name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __call__(self, *grads):
        raise RuntimeError("calling a grad_fn directly is not supported; use autograd.grad")


_UNSAVED = ((), (None,), (None, None), (None, None, None))

#: ``saved_tensor.saved_attribute``, bound when that module loads: reads ``_saved_<x>`` and
#: ``_raw_saved_<x>`` of a node
SAVED_ATTRIBUTE: list = [None]

#: ``[True]`` while a debugging mode (anomaly mode, check_graph) needs every node's input tensors
#: kept, whatever its derivative reads; a one-element list so that readers see the switch
SAVE_ALL_INPUTS = [False]


class Retain:
    """A marker among a node's hooks: keep the gradient in ``.grad`` of this (weakly held) tensor."""

    __slots__ = ("tensor",)

    def __init__(self, tensor_ref) -> None:
        self.tensor = tensor_ref


class AccumulateGrad:
    """What torch shows in ``next_functions`` for a leaf that requires grad: the end of a path,
    where backward adds the gradient into ``variable.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable) -> None:
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    @property
    def next_functions(self) -> tuple:
        return ()

    def __eq__(self, other) -> bool:
        return type(other) is AccumulateGrad and other.variable is self.variable

    def __hash__(self) -> int:
        return id(self.variable)

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"


def version_of(t) -> int:
    vc = t._vc
    return vc[0] if vc is not None else 0


def recording() -> bool:
    return GRAD.enabled


# torch's names for the saved-tensor hooks (``saved_tensors_hooks``, ``save_on_cpu``,
# ``disable_saved_tensors_hooks``) are placed in this module by ``saved_hooks``, which sits above
