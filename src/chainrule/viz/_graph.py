"""The recorded graph as draw and explain see it: vertices in forward order, with names.

A vertex is an op (a Node), a leaf tensor that requires grad, a constant (an input tensor that
does not require grad, so no gradient flows to it) or an output (a tensor that draw or explain
was asked about). Every tensor gets a name: the user's (``names=``), a module's parameter name
(``params=``), or a generic one (t0, t1, ... in forward order; a 0-d constant is named by its
value). An op vertex carries the name of the tensor it produced, so the formulas can say
``dl/dz1`` for the gradient arriving at the op that made ``z1``.

The graph keeps only what backward needs (torch's SavedVariable): a node holds its input tensors
only when its derivative reads them. The structure comes from the nodes' edges (producer nodes
and leaves). A tensor is known when some node saved it, or it is a root, a leaf or named by the
user; otherwise only its shape and dtype are (from a consumer's ``metas``). A constant that its
op did not keep is an ``UnkeptInput``: a vertex named "constant", with a shape but no value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .._tensor import Tensor
from ..autograd.graph import Node

__all__ = ["Vertex", "Graph", "UnkeptInput", "walk", "short_value", "shape_text", "UNKEPT_NAME"]

#: the name of a constant input that its op did not keep (nothing tells which tensor it was)
UNKEPT_NAME = "constant"


class UnkeptInput:
    """Input ``index`` of ``node``: a constant (no gradient flows to it) that the node did not keep,
    because its derivative does not read it. Only its shape and dtype are known (``node.metas``)."""

    __slots__ = ("node", "index")

    def __init__(self, node: Node, index: int) -> None:
        self.node = node
        self.index = index


@dataclass(eq=False)
class Vertex:
    """One drawn node: an op or a tensor.

    ``kind`` is "op", "leaf", "parameter" (a leaf named by ``params``), "constant" or "output".
    ``inputs`` (ops only) holds, per input of the op, the vertex it came from. ``tensor`` is None
    where the graph did not keep the tensor (then ``meta`` may still give its shape and dtype).
    """

    id: str
    kind: str
    obj: object
    name: str = ""
    tensor: Tensor | None = None  # the tensor (for an op: the one it produced, when known)
    inputs: list[Vertex] = field(default_factory=list)
    overwritten: bool = False  # an op's output, since changed by a later in-place op
    meta: tuple | None = None  # (shape, dtype) when the tensor is not kept: from a consumer's metas
    freed: bool = False  # not kept any more: a node had saved it, and backward freed that node

    @property
    def shape(self) -> tuple | None:
        if self.tensor is not None:
            return tuple(self.tensor._data.shape)
        if self.kind == "op" and self.obj.out is not None:  # a saved output outlives its tensor
            return tuple(self.obj.out.shape)
        return tuple(self.meta[0]) if self.meta is not None else None

    @property
    def dtype(self) -> str | None:
        if self.tensor is not None:
            return self.tensor._data.dtype.name
        if self.kind == "op" and self.obj.out is not None:
            return self.obj.out.dtype.name
        return self.meta[1].name if self.meta is not None else None

    def value(self) -> np.ndarray | None:
        """The tensor's values now (None when unknown, or overwritten in place since)."""
        if self.overwritten:
            return None
        if self.tensor is not None:
            return self.tensor._data
        if self.kind == "op" and self.obj.out is not None:
            return self.obj.out
        return None


@dataclass
class Graph:
    """The vertices reachable from some root tensors, inputs before the ops that use them."""

    vertices: list[Vertex]
    by_obj: dict[int, Vertex]  # id(Node or Tensor) -> vertex
    outputs: list[Vertex]

    def of(self, obj) -> Vertex:
        """The vertex of a Node, a leaf tensor or a constant tensor."""
        return self.by_obj[id(obj)]

    def ops(self) -> list[Vertex]:
        return [v for v in self.vertices if v.kind == "op"]

    def leaves(self) -> list[Vertex]:
        return [v for v in self.vertices if v.kind in ("leaf", "parameter")]


def _name_map(
    names: Mapping | None, params: Mapping | None, who: str, tensors: dict[int, Tensor]
) -> dict[int, tuple[str, bool]]:
    """id of the vertex object (a tensor's grad_fn, or the leaf itself) -> (name, is a parameter).
    ``names`` wins over ``params`` for a tensor named by both. ``tensors`` gets, per vertex
    object, the tensor the user handed in."""
    out: dict[int, tuple[str, bool]] = {}
    for mapping, label, is_param in ((params, "params", True), (names, "names", False)):
        if mapping is None:
            continue
        if not isinstance(mapping, Mapping):
            raise TypeError(
                f"{who}: {label} must be a dict of name -> Tensor (e.g. "
                f"dict(model.named_parameters())), got {type(mapping).__name__}"
            )
        for name, t in mapping.items():
            if not isinstance(t, Tensor):
                raise TypeError(f"{who}: {label}[{name!r}] is a {type(t).__name__}, not a Tensor")
            obj = t.grad_fn if t.grad_fn is not None else t
            out[id(obj)] = (str(name), is_param and t.grad_fn is None)
            tensors[id(obj)] = t
    return out


def _children(v, kids_of: dict[int, list]) -> list:
    """The objects a vertex's inputs come from: producer nodes, leaves, constant tensors (when
    kept), ``UnkeptInput`` for the constants that are not; made once per node."""
    if not isinstance(v, Node):
        return []
    kids = kids_of.get(id(v))
    if kids is None:
        kids = []
        inputs = v.inputs
        for i, e in enumerate(v.edges):
            if e is not None:
                kids.append(e)
            elif inputs is not None and inputs[i] is not None:
                kids.append(inputs[i])
            else:  # not kept (or freed by backward): only its shape is known
                kids.append(UnkeptInput(v, i))
        kids_of[id(v)] = kids
    return kids


def _forward_order(root_objs: list, kids_of: dict[int, list]) -> list:
    """Iterative depth-first post-order: every vertex after all the vertices it reads."""
    order, seen = [], set()
    stack = [(o, False) for o in reversed(root_objs)]
    while stack:
        obj, expanded = stack.pop()
        if expanded:
            order.append(obj)
            continue
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        stack.append((obj, True))
        # producer ops before leaves: a leaf then comes right before the op that reads it, and the
        # order reads like the forward computation (w1, x, w1*x, b1, +, sigmoid, w2, ...)
        kids = sorted(_children(obj, kids_of), key=lambda k: not isinstance(k, Node))
        stack.extend((k, False) for k in reversed(kids) if id(k) not in seen)
    return order


def walk(
    roots: Iterable[Tensor],
    names: Mapping | None = None,
    params: Mapping | None = None,
    root_name: str | None = None,
    who: str = "draw",
) -> Graph:
    """Collect and name the graph that produced ``roots``.

    ``root_name`` names the first root when the user did not (explain calls its loss "l").
    """
    roots = list(roots)
    for i, r in enumerate(roots):
        if not isinstance(r, Tensor):
            raise TypeError(f"{who}: expected Tensors, got {type(r).__name__} at position {i}")
    produced: dict[int, Tensor] = {}  # id(node) -> the tensor it produced, where one is known
    for r in roots:
        if r.grad_fn is not None:
            produced[id(r.grad_fn)] = r
    named: dict[int, Tensor] = {}
    user = _name_map(names, params, who, named)
    for key, t in named.items():
        if t.grad_fn is not None:
            produced.setdefault(key, t)
    if root_name is not None and roots:
        key = id(roots[0].grad_fn if roots[0].grad_fn is not None else roots[0])
        user.setdefault(key, (root_name, False))
    root_objs = [r.grad_fn if r.grad_fn is not None else r for r in roots]
    kids_of: dict[int, list] = {}
    order = _forward_order(root_objs, kids_of)
    for obj in order:  # the inputs that consumers saved for their derivative
        if isinstance(obj, Node) and obj.inputs is not None:
            for x, e in zip(obj.inputs, obj.edges):
                if x is not None and isinstance(e, Node):
                    produced.setdefault(id(e), x)

    vertices: list[Vertex] = []
    by_obj: dict[int, Vertex] = {}
    counts = {"op": 0, "leaf": 0, "const": 0}
    taken = {name for name, _ in user.values()}
    generic = 0
    for obj in order:
        if isinstance(obj, Node):
            kind, tensor = "op", produced.get(id(obj))
        elif isinstance(obj, UnkeptInput):
            kind, tensor = "constant", None
        else:
            kind = "leaf" if obj._rg else "constant"
            tensor = obj
        name, is_param = user.get(id(obj), ("", False))
        if kind == "leaf" and is_param:
            kind = "parameter"
        if tensor is None and kind == "constant":
            name = UNKEPT_NAME
        elif not name:
            if kind == "constant" and obj._data.ndim == 0:
                name = short_value(obj._data)
            else:
                while f"t{generic}" in taken:  # never reuse a name the user gave
                    generic += 1
                name, generic = f"t{generic}", generic + 1
        prefix = {"op": "op", "constant": "const"}.get(kind, "leaf")  # parameters are leaves too
        v = Vertex(f"{prefix}{counts[prefix]}", kind, obj, name, tensor)
        counts[prefix] += 1
        vertices.append(v)
        by_obj[id(obj)] = v
    for v in vertices:
        if v.kind == "op":
            v.inputs = [by_obj[id(k)] for k in _children(v.obj, kids_of)]
    _infer_metas(vertices)
    _mark_overwritten(vertices)
    _mark_freed(vertices)
    outputs = []
    for i, r in enumerate(roots):
        if r.grad_fn is None:
            outputs.append(by_obj[id(r)])
            continue
        op = by_obj[id(r.grad_fn)]
        out = Vertex(f"out{i}", "output", r, op.name, r, [op])
        vertices.append(out)
        outputs.append(out)
    return Graph(vertices, by_obj, outputs)


def _infer_metas(vertices: list[Vertex]) -> None:
    """Shapes and dtypes of the tensors the graph did not keep, from their consumers: a node
    records each unsaved input's ``(shape, dtype)`` in ``metas``, or none when its op keeps
    shapes (``same_shape``: the input is shaped like the node's output)."""
    consumers: dict[int, list[tuple[Vertex, int]]] = {}
    for v in vertices:
        for i, src in enumerate(v.inputs):
            consumers.setdefault(id(src), []).append((v, i))
    for v in reversed(vertices):  # consumers first: a same-shape op's input is shaped like it
        if v.shape is not None:
            continue
        for c, i in consumers.get(id(v), ()):
            node = c.obj
            if node.metas is not None:
                v.meta = node.metas[i]
            elif node.op.same_shape and c.shape is not None:
                v.meta = (c.shape, c.meta[1] if c.meta is not None else np.dtype(c.dtype))
            if v.meta is not None:
                break


def _mark_freed(vertices: list[Vertex]) -> None:
    """Flag the tensors, not known otherwise, that a node saved until backward freed it."""
    for v in vertices:
        if v.kind != "op" or v.obj.inputs is not None:
            continue
        op = v.obj.op
        if op.saves_out and v.value() is None:
            v.freed = True
        if op.saves_inputs:
            for src in v.inputs:
                if src.value() is None:
                    src.freed = True


def _mark_overwritten(vertices: list[Vertex]) -> None:
    """Flag the op outputs that a later in-place op wrote over (``h = a * 2; h.add_(1)``).

    An in-place op writes into the array of the tensor it changes: the tensor now belongs to the
    in-place op (its ``grad_fn``), and the stand-in the op reads the old history through shares
    the array (unless the op's rule needed the old values, which it then copied).
    """
    for v in vertices:
        if v.kind != "op" or v.tensor is None:
            continue
        y = v.tensor
        if y.grad_fn is not None and y.grad_fn is not v.obj:  # taken over by a later in-place op
            v.overwritten = True
        if v.obj.inputs is None or not y._version:
            continue
        for x, src in zip(v.obj.inputs, v.inputs):  # this op's input, written over by it
            if x is not None and src.kind == "op" and x is not y and x._data is y._data:
                src.overwritten = True


def shape_text(shape) -> str:
    """``(2, 3)``; ``()`` for a 0-d tensor."""
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def short_value(a, digits: int = 4, max_items: int = 6, one_line: bool = True) -> str:
    """A number or an array, briefly: ``0.5``, ``[0.1, -0.2]``, ``[[1, ..., 2], ..., [3, ..., 4]]``
    (arrays of more than ``max_items`` elements show their corners only)."""
    if isinstance(a, tuple):  # a multi-output Function's gradients, one per output
        return (
            "("
            + ", ".join("None" if x is None else short_value(x, digits, max_items, one_line) for x in a)
            + ")"
        )
    a = np.asarray(a)
    if a.size == 1 and a.ndim <= 1:
        return _num(a.reshape(()).item(), digits)
    edge = 3 if a.ndim == 1 else max(1, min(3, max_items // (2 * a.ndim)))
    text = np.array2string(
        a,
        separator=", ",
        threshold=max_items,
        edgeitems=edge,
        max_line_width=10**6 if one_line else 100,
        formatter={"float_kind": lambda x: _num(x, digits), "int_kind": str, "bool": str},
    )
    return " ".join(text.split()) if one_line else text


def _num(x, digits: int) -> str:
    if isinstance(x, bool | np.bool_):
        return str(bool(x))
    if isinstance(x, int | np.integer):
        return str(int(x))
    if isinstance(x, complex | np.complexfloating):
        return f"{x:.{digits}g}"
    x = float(x)
    if np.isfinite(x) and x == int(x) and abs(x) < 1e15:  # 2.0 reads as 2
        return str(int(x))
    return f"{x:.{digits}g}"
