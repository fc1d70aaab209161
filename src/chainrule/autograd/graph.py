"""The recorded graph: an Op (forward's derivative rule, registered once) and a Node per op call.

Each call of a differentiable op that sees an input requiring grad makes one Node. The Node keeps
the op, the input tensors (the graph's edges, and the values backward may read), the output array
when the derivative is written in terms of it (exp, tanh, sigmoid), and the op's non-tensor
parameters. Backward asks ``op.backward(F, g, xs, out, params, needs)`` for the gradient of every
input.
"""

from __future__ import annotations

import itertools
import re
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from .grad_mode import GRAD
from .node_names import TORCH_NAMES

__all__ = [
    "Op",
    "Node",
    "AccumulateGrad",
    "REGISTRY",
    "defop",
    "SAVE_ALL_INPUTS",
    "node_class",
    "Local",
    "times",
    "over",
    "matrix",
    "ONE",
    "saved_inputs",
    "Outputs",
    "register_outputs",
]


class Local:
    """How one input's local derivative is evaluated, for ``viz.explain`` to show its value beside
    the formula (``dl/dz1 = dl/da1 * a1 * (1 - a1) = 0.3234 * 0.232 = 0.07503``).

    Written next to the op's rule and formula, from the same saved values the rule reads.
    ``factor(xs, out, params)`` (NumPy arrays in: the node's inputs, None where not kept, and its
    output, None unless ``saves_out``) is the element-wise local derivative that the upstream
    gradient is multiplied by (``divide=False``) or divided by (``divide=True``); None means the
    factor 1 (the gradient passes unchanged). ``matrix`` instead says the gradient is a matrix
    product, as a template over the formula's placeholders (``"{gy} @ {x1}^T"``) that viz prints
    with every operand's shape (``dl/dA (4x3) = dl/dZ (4x5) @ W^T (5x3)``). Use ``times``,
    ``over``, ``matrix`` and ``ONE`` to make them.
    """

    __slots__ = ("factor", "divide", "matrix")

    def __init__(self, factor: Callable | None = None, divide: bool = False, matrix: str = "") -> None:
        self.factor = factor
        self.divide = divide
        self.matrix = matrix

    def __repr__(self) -> str:
        if self.matrix:
            return f"matrix({self.matrix!r})"
        return "ONE" if self.factor is None else f"{'over' if self.divide else 'times'}(...)"


def times(factor: Callable) -> Local:
    """The upstream gradient times ``factor(xs, out, params)``, element by element."""
    return Local(factor)


def over(factor: Callable) -> Local:
    """The upstream gradient divided by ``factor(xs, out, params)``, element by element."""
    return Local(factor, divide=True)


def matrix(template: str) -> Local:
    """A matrix product such as ``"{x0}^T @ {gy}"``, shown with each operand's shape."""
    return Local(matrix=template)


#: the local derivative 1: the upstream gradient passes unchanged (add, sum, reshape)
ONE = Local()


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
    reads : per input, the inputs whose values the rule reads for that input's gradient (mul's
        ``((1,), (0,))``: dl/da reads b, dl/db reads a), as torch's derivatives.yaml says. A node
        then counts as saving only what the gradients of its inputs that required grad read
        (``saved_inputs``), and only those have their versions checked, as torch's
        SavedVariables. None (the default): every gradient reads every input.
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
    local : how to evaluate each input's local derivative (a ``Local`` per input, or one for all,
        as ``formula``), so that ``viz.explain`` shows its value beside the formula; None where
        the op has none (its formula is shown alone).
    """

    __slots__ = (
        "name",
        "backward",
        "saves_out",
        "saves_inputs",
        "templates",
        "formula",
        "_node_name",
        "node_class",
        "_shown",
        "same_shape",
        "saves",
        "complex_rule",
        "local",
        "reads",
    )

    def __init__(
        self,
        name: str,
        backward: Callable,
        *,
        saves_out: bool = False,
        saves_inputs: bool = True,
        formula: str | tuple[str, ...] = "",
        local: Local | tuple[Local | None, ...] | None = None,
        reads: tuple[tuple[int, ...], ...] | None = None,
    ) -> None:
        self.name = name
        self.local = local
        self.backward = backward
        self.saves_out = saves_out
        self.saves_inputs = saves_inputs
        self.reads = reads
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
        self._shown: dict = {}  # torch name -> this rule shown under that name (see shown_as)
        self.node_name = TORCH_NAMES.get(name) or (
            "".join(p.capitalize() for p in name.strip("_").split("_")) + "Backward0"
        )

    @property
    def node_name(self) -> str:
        """torch's name for this op's nodes (``MulBackward0``): ``name()`` and their class's name."""
        return self._node_name

    @node_name.setter
    def node_name(self, value: str) -> None:
        self._node_name = value
        self.node_class = node_class(value)  # the class its nodes get when shown (Node.named)

    def shown_as(self, node_name: str) -> Op:
        """This rule under another of torch's node names: the forward picks it where torch's name
        depends on the call (``sum(x)`` is ``SumBackward0``, ``sum(x, 0)`` ``SumBackward1``).

        The same rule, formula and ``name`` (so every table keyed by op name applies); made once
        per name and not registered (the registry holds one op per rule).
        """
        if node_name == self._node_name:
            return self
        shown = self._shown.get(node_name)
        if shown is None:
            shown = object.__new__(Op)
            for slot in Op.__slots__:
                if slot not in ("_shown", "node_class", "_node_name"):
                    setattr(shown, slot, getattr(self, slot))
            shown._shown = self._shown  # shared: every variant finds the others
            shown.node_name = node_name
            self._shown[node_name] = shown
        return shown

    def template(self, i: int) -> str | None:
        """The template of input ``i``'s gradient (None: the op has none for it)."""
        t = self.templates
        if len(t) == 1 and (i == 0 or "{gi}" in t[0]):
            return t[0]
        return t[i] if i < len(t) and t[i] else None

    def local_of(self, i: int) -> Local | None:
        """How to evaluate input ``i``'s local derivative (None: the op does not say)."""
        loc = self.local
        if loc is None or isinstance(loc, Local):
            return loc
        return loc[i] if i < len(loc) else None

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
    name: str,
    *,
    saves_out: bool = False,
    saves_inputs: bool = True,
    formula: str | tuple[str, ...] = "",
    local: Local | tuple[Local | None, ...] | None = None,
    reads: tuple[tuple[int, ...], ...] | None = None,
):
    """Decorator: register ``backward`` as the derivative rule of op ``name``; returns the Op."""

    def register(backward: Callable) -> Op:
        if name in REGISTRY:
            raise ValueError(f"op {name!r} is registered twice")
        op = Op(
            name,
            backward,
            saves_out=saves_out,
            saves_inputs=saves_inputs,
            formula=formula,
            local=local,
            reads=reads,
        )
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

    def named(self) -> Node:
        """This node, its class now the one named as torch names it (``type(node).__name__ ==
        "MulBackward0"``); ``grad_fn`` and ``next_functions`` hand nodes out through this.

        Ops make plain ``Node`` objects: one class for every node keeps the attribute reads and
        stores of recording and backward monomorphic, which CPython's specializing interpreter
        makes fast (a class per op cost ~0.2 us per op forward and ~0.3 us backward). The class is
        named once, when the user first sees the node; the engine takes its general path for such
        a node (same result).
        """
        cls = type(self)
        if cls.kind is cls:
            self.__class__ = of_kind(self.op.node_class, cls)
        return self

    def name(self) -> str:
        """torch's name for this node (``MulBackward0``), the name of its class."""
        return self.op.node_name

    @property
    def next_functions(self) -> tuple:
        """``(node, 0)`` per input of torch's op, in torch's order: the input's grad_fn, the
        ``AccumulateGrad`` of a leaf that requires grad, None for an input that does not.

        An op whose inputs differ from torch's (``a * 2`` keeps no tensor for the 2; F.linear is
        torch's addmm of a transposed weight) shows torch's layout (``ops/grad_fn_names.py``)."""
        shown = SHOWN_EDGES.get(self.op.name)
        edges = self.edges if shown is None else shown(self)
        return tuple((shown_vertex(e), 0) for e in edges)

    def register_hook(self, hook) -> None:
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(hook)

    def unpack_saved(self) -> tuple | None:
        """``(inputs, out)`` unpacked, for a node whose saved tensors hooks packed (see
        saved_hooks.py, whose node class overrides this); None: read ``inputs`` and ``out``."""
        return None

    def __repr__(self) -> str:
        module = type(self).__module__
        where = "" if module == "builtins" or type(self).kind is type(self) else module + "."
        return f"<{where}{self.name()} object at {hex(id(self))}>"

    def __call__(self, *grads):
        raise RuntimeError("calling a grad_fn directly is not supported; use autograd.grad")


Node.kind = Node  # the base a node class adds its name to (the hooked and traced kinds have their own)

_NODE_CLASSES: dict = {}


def node_class(name: str, kind: type = Node, module: str = "builtins") -> type:
    """The class of the nodes torch calls ``name``: ``type(y.grad_fn).__name__ == "MulBackward0"``.

    One class per name and kind (``Node``, or the traced and hooked classes of the debugging
    modes), made once; it adds nothing to its kind but the name (see ``Node.named``).
    ``module``: torch's built-in node classes print as ``<class 'MulBackward0'>`` (builtins), a
    custom Function's as ``<class '...autograd.function.MyFnBackward'>``.
    """
    key = (name, kind, module)
    cls = _NODE_CLASSES.get(key)
    if cls is None:
        namespace = {"__slots__": (), "__module__": module, "__qualname__": name, "__getattr__": _saved_value}
        cls = type(name, (kind,), namespace)
        _NODE_CLASSES[key] = cls
    return cls


def _saved_value(node: Node, name: str):
    """``__getattr__`` of the named node classes, which the user reaches through ``grad_fn``: torch's
    ``grad_fn._saved_self``, ``_raw_saved_result`` ... (``autograd/saved_tensor.py``, which sits
    above, binds the reader). Only there: a class with a ``__getattr__`` gets none of CPython's
    specialized attribute reads, 22 ns a read instead of 4, and the engine reads ~12 per node."""
    if name.startswith(("_saved_", "_raw_saved_")) and SAVED_ATTRIBUTE[0] is not None:
        return SAVED_ATTRIBUTE[0](node, name)
    raise AttributeError(f"'{type(node).__name__}' object has no attribute '{name}'")


def of_kind(node_cls: type, kind: type) -> type:
    """``node_cls`` (a class ``node_class`` made) as the class of that name in another kind."""
    if node_cls.kind is kind:
        return node_cls
    return node_class(node_cls.__name__, kind, node_cls.__module__)


#: op name -> ``shown(node) -> edges`` in torch's order and length, for the ops whose inputs are
#: not torch's (filled by ``ops/grad_fn_names.py``)
SHOWN_EDGES: dict[str, Callable] = {}


def shown_vertex(edge):
    """What ``next_functions`` shows for an edge: a node as it is, a leaf's AccumulateGrad."""
    if edge is None or isinstance(edge, ShownNode):
        return edge
    if isinstance(edge, Node):
        return edge.named()
    return AccumulateGrad.of(edge)


class ShownNode:
    """A node torch records where chainrule's op does the work itself (the ``TBackward0`` of
    F.linear's weight): shown in ``next_functions`` only; backward never visits it. Made with
    ``ShownNode(name, edges)``, of a class named ``name`` as torch's."""

    __slots__ = ("edges", "__weakref__")

    def __new__(cls, name: str, edges: tuple) -> ShownNode:
        shown_cls = _SHOWN_CLASSES.get(name)
        if shown_cls is None:
            namespace = {"__slots__": (), "__module__": "builtins", "__qualname__": name}
            shown_cls = _SHOWN_CLASSES[name] = type(name, (ShownNode,), namespace)
        return object.__new__(shown_cls)

    def __init__(self, name: str, edges: tuple) -> None:
        self.edges = edges

    def name(self) -> str:
        return type(self).__name__

    @property
    def next_functions(self) -> tuple:
        return tuple((shown_vertex(e), 0) for e in self.edges)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"


_SHOWN_CLASSES: dict = {}


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


class Outputs:
    """A marker among the hooks of the node of a packed multi-output result (svd's ``U, S, Vh``
    are parts of one tensor): the nodes of those parts, weakly held. When the packed node runs,
    backward calls the hooks of the parts that got no gradient with None, as torch calls the
    hooks of an output whose gradient is undefined (``register_outputs``)."""

    __slots__ = ("nodes",)

    def __init__(self, nodes: tuple) -> None:
        self.nodes = nodes


def register_outputs(packed, parts: tuple) -> None:
    """Mark ``parts`` (tensors sliced from ``packed``, one op call's outputs) as its outputs."""
    node = packed._grad_fn
    if node is not None:
        refs = tuple(weakref.ref(p._grad_fn) for p in parts if p._grad_fn is not None)
        node.hooks = [Outputs(refs), *(node.hooks or ())]


class AccumulateGrad:
    """What torch shows in ``next_functions`` for a leaf that requires grad: the end of a path,
    where backward adds the gradient into ``variable.grad``. One per leaf while anyone holds it
    (``AccumulateGrad.of``), as torch's; backward itself delivers to the leaf directly."""

    __slots__ = ("variable", "__weakref__")

    def __init__(self, variable) -> None:
        self.variable = variable

    @staticmethod
    def of(leaf) -> AccumulateGrad:
        """The leaf's AccumulateGrad: the same object while it lives. Held weakly (it holds the
        leaf, so a strong table would keep every leaf alive); keyed by the leaf's id, which
        cannot be reused while the AccumulateGrad, and so the leaf, lives."""
        ref = _ACCUMULATORS.get(id(leaf))
        acc = ref() if ref is not None else None
        if acc is None or acc.variable is not leaf:
            acc = AccumulateGrad(leaf)
            key = id(leaf)
            _ACCUMULATORS[key] = weakref.ref(acc, lambda r, key=key: _forget_accumulator(key, r))
        return acc

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


_ACCUMULATORS: dict = {}  # id(leaf) -> weakref to its AccumulateGrad


def _forget_accumulator(key: int, ref) -> None:
    if _ACCUMULATORS.get(key) is ref:
        del _ACCUMULATORS[key]


_EVERY_INPUT = itertools.repeat(True)  # (no list per node on backward's path: zip stops at the inputs)


def saved_inputs(node: Node) -> Iterable[bool]:
    """Which of ``node``'s inputs it saved, as torch decides when the op runs: those that the
    gradient of an input requiring grad reads (``Op.reads``). ``a * b`` with only ``a`` requiring
    grad saves ``b`` alone, so an in-place change of ``a`` does not fail its backward."""
    reads = node.op.reads
    if reads is None:
        return _EVERY_INPUT
    saved = [False] * len(node.edges)
    for edge, read in zip(node.edges, reads):  # (an optional last input may be absent: linear's bias)
        if edge is not None:
            for i in read:
                saved[i] = True
    return saved


def version_of(t) -> int:
    vc = t._vc
    return vc[0] if vc is not None else 0


def recording() -> bool:
    return GRAD.enabled


# torch's names for the saved-tensor hooks (``saved_tensors_hooks``, ``save_on_cpu``,
# ``disable_saved_tensors_hooks``) are placed in this module by ``saved_hooks``, which sits above
