"""``explain``: run the backward pass of a loss and record every step of it.

Each step is one node of the graph, in the order backward visits it: the upstream gradient that
arrived (with its parts when the tensor fed several ops), the local derivative rule, and the
gradients passed down to the node's inputs (with the shapes before and after summing over
broadcast dimensions). The recording uses the engine's observer protocol (``node.meta``),
chained to any observer already there (anomaly mode) and restored afterwards.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .._tensor import Tensor
from ..autograd.engine import grad as _autograd_grad
from ..autograd.math import sum_to
from ._graph import Graph, Vertex, walk
from ._local import shown_rule
from ._names import caller_names
from ._steps import Contribution, Downstream, LeafGrad, Step, TensorInfo
from ._text import to_markdown, to_text
from .draw import graphviz, to_digraph
from .formulas import fields_for, local_rule
from .html import inline_html, save_html

__all__ = ["explain", "Explanation", "Step", "Downstream", "Contribution", "LeafGrad", "TensorInfo"]


@dataclass(repr=False)
class Explanation:
    """The record of one backward pass; ``str()`` gives a table, see also ``to_markdown`` and
    ``save_html``.

    Attributes
    ----------
    loss_name, loss_value : the loss's name ("l" unless named) and value.
    steps : one ``Step`` per node, in the order backward ran them.
    leaves : one ``LeafGrad`` per leaf that requires grad, in forward order.
    graph : ``draw``'s Digraph of the same graph (None without the graphviz package).
    vertices : the graph's vertices (ops, leaves, constants, the output) in forward order, with
        the ids that ``Step.graph_id`` and ``TensorInfo.graph_id`` refer to.
    """

    loss_name: str
    loss_value: float
    steps: list[Step]
    leaves: list[LeafGrad]
    graph: object = None
    vertices: list[Vertex] = field(default_factory=list, repr=False)

    def step(self, name: str) -> Step:
        """The step of the op that produced the tensor called ``name``."""
        for s in self.steps:
            if s.output.name == name:
                return s
        raise KeyError(
            f"Explanation.step: no step produced a tensor named {name!r}; the outputs "
            f"are {[s.output.name for s in self.steps]}"
        )

    def leaf(self, name: str) -> LeafGrad:
        """The final gradient of the leaf called ``name``."""
        for lg in self.leaves:
            if lg.tensor.name == name:
                return lg
        raise KeyError(
            f"Explanation.leaf: no leaf named {name!r}; the leaves are "
            f"{[lg.tensor.name for lg in self.leaves]}"
        )

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return (
            f"<Explanation of {self.loss_name} = {self.loss_value:.6g}: {len(self.steps)} steps, "
            f"{len(self.leaves)} leaves>"
        )

    def __str__(self) -> str:
        return to_text(self)

    def to_markdown(self) -> str:
        """The steps and the leaf gradients as Markdown tables."""
        return to_markdown(self)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        """Jupyter's inline view: the step-through page of ``save_html`` in an iframe (its
        ``srcdoc``: self-contained, nothing loaded from the network)."""
        return inline_html(self)

    def save_html(self, path: str | os.PathLike) -> str:
        """Write a self-contained page that steps through the backward pass; returns its path.

        The page inlines the graph's SVG (rendered with Graphviz's ``dot``; a list stands in for
        it, saying so, when ``dot`` is missing), its script and its styles: it loads nothing from
        the network. Prev/Next/First/Last and the arrow keys (Home/End too) move through the steps;
        the current op is highlighted in the graph. The file is written atomically.
        """
        return save_html(self, path)


class _Recorder:
    """The observer put on one node. Observers chain through ``inner`` (the convention anomaly
    mode follows too): the one that was there first still sees every call."""

    __slots__ = ("inner", "owner")

    def __init__(self, inner, owner: _Explainer) -> None:
        self.inner = inner
        self.owner = owner

    def after_backward(self, node, g, input_grads) -> None:
        if self.inner is not None:
            self.inner.after_backward(node, g, input_grads)
        self.owner.record(node, g, input_grads)


def _unhook(node, rec: _Recorder) -> None:
    """Take ``rec`` out of the node's chain of observers, wherever another one put it."""
    if node.meta is rec:
        node.meta = rec.inner
        return
    meta = node.meta
    while meta is not None:
        if getattr(meta, "inner", None) is rec:
            meta.inner = rec.inner
            return
        meta = getattr(meta, "inner", None)


class _Explainer:
    def __init__(self, graph: Graph, loss_name: str) -> None:
        self.graph = graph
        self.loss_name = loss_name
        self.steps: list[Step] = []
        self.parts: dict[int, list[Contribution]] = {}  # id(vertex object) -> gradients sent to it

    def info(self, v: Vertex) -> TensorInfo:
        kind = "intermediate" if v.kind == "op" else v.kind
        shape = v.shape if v.shape is not None else ()
        return TensorInfo(v.name, shape, v.dtype or "", kind, v.id)

    def record(self, node, g, input_grads) -> None:
        index = len(self.steps)
        v = self.graph.of(node)
        g = _copy(g)  # copies: the engine may add into arrays in place later
        if isinstance(g, np.ndarray):
            if v.shape is None:  # a tensor the graph did not keep: its gradient has its shape
                v.meta = (g.shape, g.dtype)
            out = TensorInfo(v.name, tuple(g.shape), g.dtype.name, "intermediate", v.id)
        else:
            out = self.info(v)
        wanted = [
            i for i, (e, gx) in enumerate(zip(node.edges, input_grads)) if e is not None and gx is not None
        ]
        fitted_grads = {}
        for i in wanted:
            local = _copy(input_grads[i])
            if isinstance(local, np.ndarray):
                shape, dtype = _input_meta(node, i, local)
                fitted = sum_to(local, shape)
                if fitted.dtype.kind == "c" and np.dtype(dtype).kind != "c":
                    fitted = fitted.real  # a real input of a complex result: the engine keeps the real part
                fitted = fitted.astype(dtype, copy=False)
                dims = _summed_dims(local.shape, shape)
                src = v.inputs[i]
                if src.shape is None:
                    src.meta = (tuple(shape), np.dtype(dtype))
            else:  # a multi-output Function's gathered gradients: passed on as they are
                fitted, dims = local, ()
            fitted_grads[i] = (local, fitted, dims)
        inputs = [self.info(src) for src in v.inputs]
        formula, parts = local_rule(
            node,
            v.name,
            [t.name for t in inputs],
            wanted,
            self.loss_name,
            [t.shape for t in inputs],
            out.shape,
        )
        fields = fields_for(
            node, v.name, [t.name for t in inputs], self.loss_name, [t.shape for t in inputs], out.shape
        )
        downstream = []
        for i in wanted:
            local, fitted, dims = fitted_grads[i]
            d = Downstream(inputs[i], i, parts.get(i, ""), local, fitted, dims)
            shown, factor = shown_rule(node, i, d.rule, fields, d, g, [t.shape for t in inputs], out.shape)
            downstream.append(dataclasses.replace(d, shown=shown, factor=factor))
            self.parts.setdefault(id(node.edges[i]), []).append(Contribution(index, fitted))
        received = tuple(self.parts.pop(id(node), ()))
        self.steps.append(
            Step(
                index,
                node.op.node_name,
                node.op.name,
                v.id,
                out,
                tuple(inputs),
                g,
                received,
                formula,
                tuple(downstream),
            )
        )


def _copy(x):
    """A gradient as a NumPy copy; a multi-output Function's gathered gradients (one per
    output, None where none arrived) as a tuple of copies."""
    if isinstance(x, Tensor):
        x = x._data
    grads = getattr(x, "grads", None)
    if isinstance(grads, tuple):
        return tuple(None if a is None else _copy(a) for a in grads)
    return np.array(x, copy=True)


def _input_meta(node, i: int, local: np.ndarray) -> tuple:
    """``(shape, dtype)`` of input ``i`` when the op ran, which its gradient is summed down to (as
    the engine does): from the input if the node kept it, else from ``node.metas``; an op that
    keeps shapes (``same_shape``) records none, as its gradient already has the input's."""
    x = node.inputs[i]
    if x is not None:
        return x._data.shape, x._data.dtype
    if node.metas is not None:
        return node.metas[i]
    return local.shape, local.dtype


def _summed_dims(local_shape: tuple, shape: tuple) -> tuple:
    """The dims of the local gradient that un-broadcasting sums over (as ``sum_to`` does)."""
    lead = len(local_shape) - len(shape)
    return tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and local_shape[i + lead] != 1
    )


def explain(
    loss: Tensor, params: Mapping | None = None, *, names: Mapping | None = None, auto_names: bool = True
) -> Explanation:
    """Run the backward pass of ``loss`` and record each step of it.

    Parameters
    ----------
    loss : a one-element tensor with a graph (e.g. the output of a loss function).
    params : ``dict(model.named_parameters())``: leaves are named by their parameter names.
    names : ``{"z1": z1, "a1": a1, ...}``: names for any tensors of the graph, used in the
        formulas (``dl/dz1 = dl/da1 * a1 * (1 - a1)``). By default the tensors are named by the
        variables that hold them in the code that called explain (its locals, then its
        globals), and parameters of any ``nn.Module`` there by their qualified names
        (``model.0.weight``); ``names`` (and ``params``) win for the tensors they name. Others
        are t0, t1, ... and the loss is "l" (the lecture's ``dl/dz1``) unless ``names`` names it.
    auto_names : False: no names from the caller's variables (only ``names`` and ``params``).

    Returns
    -------
    Explanation
        ``steps`` (one per node, in backward's order) and ``leaves`` (the final gradients).

    Notes
    -----
    explain runs backward once, as ``autograd.grad(loss, leaves, retain_graph=True)``: the graph
    is kept (call ``loss.backward()`` afterwards if you want ``.grad``), and the leaves' ``.grad``
    is NOT changed; the recorded leaf gradients equal what ``loss.backward()`` would put there.
    As with ``autograd.grad``, tensor hooks run and tensors that called ``retain_grad()`` get
    their ``.grad``. Values are recorded as NumPy copies. Each step's rule is shown with its
    numbers where the op's registry entry says how to evaluate its local derivative
    (``dl/dz1 = dl/da1 * a1 * (1 - a1) = 0.3234 * 0.232 = 0.07503``), and matrix products with
    their operands' shapes (``dl/dW1 (3x5) = A0^T (3x4) @ dl/dZ1 (4x5)``).
    """
    if auto_names:
        names, params = caller_names(1, names, params, skip=loss if isinstance(loss, Tensor) else None)
    return explain_named(loss, params, names)


def explain_named(loss: Tensor, params: Mapping | None, names: Mapping | None) -> Explanation:
    """``explain`` with exactly these names (no look at the caller's variables)."""
    if not isinstance(loss, Tensor):
        raise TypeError(f"explain: loss must be a Tensor, got {type(loss).__name__}")
    if loss.grad_fn is None:
        raise RuntimeError(
            "explain: loss has no graph (it is a leaf or was computed without grad); "
            "compute it from tensors with requires_grad=True, outside no_grad()"
        )
    if loss.numel() != 1:
        raise RuntimeError(
            f"explain: loss must have one element, got shape {list(loss.shape)}; "
            "reduce it first, e.g. loss.sum() or loss.mean()"
        )
    graph = walk([loss], names, params, root_name="l", who="explain")
    ops = graph.ops()
    if any(v.obj.inputs is None for v in ops):
        raise RuntimeError(
            "explain: the graph behind loss was freed by an earlier backward(); "
            "run the forward pass again (or pass retain_graph=True to that backward)"
        )
    loss_vertex = graph.of(loss.grad_fn)
    ex = _Explainer(graph, loss_vertex.name)
    seed = np.ones_like(loss._data)
    ex.parts[id(loss.grad_fn)] = [Contribution(None, seed)]
    leaves = graph.leaves()
    recorders = []
    try:
        for v in ops:
            rec = _Recorder(v.obj.meta, ex)
            v.obj.meta = rec
            recorders.append((v.obj, rec))
        grads = _autograd_grad(loss, [v.obj for v in leaves], retain_graph=True, allow_unused=True)
    finally:  # put back what was there (another observer, or None)
        for node, rec in recorders:
            _unhook(node, rec)
    leaf_grads = [
        LeafGrad(
            ex.info(v),
            None if gr is None else np.array(gr._data, copy=True),
            tuple(ex.parts.get(id(v.obj), ())),
        )
        for v, gr in zip(leaves, grads)
    ]
    graph_obj = to_digraph(graph) if graphviz is not None else None  # drawn now: .grad_fn may go
    return Explanation(
        loss_vertex.name, float(loss._data.reshape(())), ex.steps, leaf_grads, graph_obj, graph.vertices
    )
