"""``draw``: the computation graph behind some tensors, as a Graphviz digraph.

Edges run forward, from each input to the op that read it and from the last op to the output;
backward walks them the other way. Rendering (SVG, PNG, PDF, Jupyter's inline view) needs
Graphviz's ``dot`` program; the DOT text (``.source``) does not.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from .._tensor import Tensor
from ..autograd.function import FunctionCtx
from ._graph import Graph, Vertex, shape_text, short_value, walk
from ._names import caller_names

try:  # optional: `pip install chainrule[viz]`; explain works without it (with a list, not a graph)
    import graphviz
except ImportError:  # pragma: no cover - exercised only where the package is missing
    graphviz = None

__all__ = ["draw", "DotNotFoundError", "INSTALL_DOT", "INSTALL_GRAPHVIZ_PY", "NOT_KEPT", "FREED"]

#: what a label says of a tensor whose values the graph did not keep (no derivative reads them)
NOT_KEPT = "value not saved for backward"
#: ... and of one that a node had saved, until backward freed it
FREED = "value freed by backward"

INSTALL_DOT = (
    "Install Graphviz: `apt install graphviz` (Debian, Ubuntu), `brew install graphviz` "
    "(macOS), or `conda install -c conda-forge graphviz`"
)
INSTALL_GRAPHVIZ_PY = "pip install 'chainrule[viz]' (or: pip install graphviz)"

_STYLE = {  # fill colours: ops grey, leaves blue, outputs green, constants hollow
    "op": {"shape": "box", "style": "rounded,filled", "fillcolor": "#e6e6e6", "color": "#606060"},
    "leaf": {"shape": "box", "style": "filled", "fillcolor": "#cfe6fb", "color": "#3a6ea5"},
    "parameter": {"shape": "box", "style": "filled", "fillcolor": "#cfe6fb", "color": "#3a6ea5"},
    "constant": {"shape": "box", "style": "dashed", "color": "#909090", "fontcolor": "#505050"},
    "output": {"shape": "box", "style": "filled", "fillcolor": "#cdebc9", "color": "#3c8a3c"},
}
_SCALAR_OPS = {
    "mul_scalar": "{x} * {c}",
    "add_scalar": "{x} + {c}",
    "sub_scalar": "{x} - {c}",
    "rsub_scalar": "{c} - {x}",
    "div_scalar": "{x} / {c}",
}

if graphviz is not None:

    class DotNotFoundError(graphviz.ExecutableNotFound):
        """Rendering needs Graphviz's ``dot`` program, which is not on PATH.

        A subclass of graphviz's ``ExecutableNotFound`` (code that catches that still works),
        with a message that says how to install it.
        """

        def __init__(self, what: str, cmd) -> None:
            RuntimeError.__init__(
                self,
                f"draw: {what} needs Graphviz's `dot` program, which was not found on PATH "
                f"(failed to execute {cmd!r}). {INSTALL_DOT}. The graph's DOT text is in `.source` "
                "meanwhile.",
            )

    class ChainGraph(graphviz.Digraph):
        """A ``graphviz.Digraph`` whose rendering errors say how to install ``dot``."""

        def render(self, *args, **kwargs):
            try:
                return super().render(*args, **kwargs)
            except DotNotFoundError:
                raise
            except graphviz.ExecutableNotFound as e:
                raise DotNotFoundError("rendering", _cmd_of(e)) from e

        def pipe(self, *args, **kwargs):
            try:
                return super().pipe(*args, **kwargs)
            except DotNotFoundError:
                raise
            except graphviz.ExecutableNotFound as e:
                raise DotNotFoundError("rendering", _cmd_of(e)) from e

        def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
            # Jupyter without dot: show why and the DOT text rather than a traceback
            try:
                return super()._repr_mimebundle_(include, exclude, **kwargs)
            except DotNotFoundError as e:
                return {"text/plain": f"{e}\n\n{self.source}"}

else:  # pragma: no cover

    class DotNotFoundError(RuntimeError):
        """Rendering needs Graphviz (the Python package is missing too here)."""


def _cmd_of(e: Exception) -> str:
    text = str(e)
    return text.split(",")[0].removeprefix("failed to execute ").strip() or "dot"


def draw(
    *tensors: Tensor,
    params: Mapping | None = None,
    show_values: bool = False,
    names: Mapping | None = None,
    auto_names: bool = True,
):
    """The computation graph that produced ``tensors``, as a ``graphviz.Digraph``.

    Parameters
    ----------
    *tensors : the outputs to draw from (a loss, or several tensors sharing a graph).
    params : ``dict(model.named_parameters())``: leaves are labelled by their parameter names.
    show_values : add each tensor's (abbreviated) values to its label.
    names : ``{"z1": z1, ...}``: names for any tensors of the graph (leaves, intermediates,
        outputs). By default the tensors are named by the variables that hold them in the code
        that called draw (its locals, then its globals), and parameters of any ``nn.Module``
        there by their qualified names (``model.0.weight``); ``names`` and ``params`` win for
        the tensors they name. Unnamed tensors are called t0, t1, ... in forward order.
    auto_names : False: no names from the caller's variables (only ``names`` and ``params``).

    Returns
    -------
    graphviz.Digraph
        One node per op (its grad_fn name, e.g. ``MulBackward0``, and the tensor it produced),
        per leaf, per constant input and per output tensor; edges run from inputs to ops. An op's
        label lists what it saved for backward. The graph keeps only what backward needs, so a
        constant that its op does not read is drawn as "constant" with its shape only, and a
        tensor is shown with values only where the graph kept it (or it was named, or is a leaf
        or an output); under ``autograd.detect_anomaly()`` every node keeps its inputs, so all
        are shown. Node ids in the SVG are ``op<i>``, ``leaf<i>``, ``const<i>``, ``out<i>``.
        ``.source`` is the DOT text; ``.render(format="svg")`` / ``.pipe(format="png")`` need
        Graphviz's ``dot`` (an error says how to install it).
    """
    if graphviz is None:
        raise ImportError(f"draw needs the graphviz Python package: {INSTALL_GRAPHVIZ_PY}")
    if not tensors:
        raise TypeError("draw: give at least one tensor, e.g. draw(loss)")
    if auto_names:
        names, params = caller_names(1, names, params)
    return to_digraph(walk(tensors, names, params, who="draw"), show_values)


def to_digraph(g: Graph, show_values: bool = False):
    """The Digraph of an already walked graph (explain reuses the walk for its page)."""
    dot = ChainGraph(
        name="chainrule",
        graph_attr={"rankdir": "TB", "nodesep": "0.3", "ranksep": "0.35"},
        node_attr={"fontname": "Helvetica", "fontsize": "11", "margin": "0.12,0.05"},
        edge_attr={"color": "#505050", "arrowsize": "0.7"},
    )
    for v in g.vertices:
        dot.node(v.id, _label(v, show_values), id=v.id, **_STYLE[v.kind])
    for v in g.vertices:
        for i, src in enumerate(v.inputs):
            attrs = {"id": f"e-{src.id}-{v.id}-{i}"}
            if src.kind == "constant":  # no gradient flows back along this edge
                attrs.update(style="dashed", color="#a0a0a0")
            dot.edge(src.id, v.id, **attrs)
    return dot


def _label(v: Vertex, show_values: bool) -> str:
    lines = []
    if v.kind == "op":
        lines.append(f"<B>{_esc(v.obj.op.node_name)}</B>")
        scalar = _SCALAR_OPS.get(v.obj.op.name)
        if scalar and v.obj.params:
            c = short_value(v.obj.params[0])
            lines.append(_esc(scalar.format(x=v.inputs[0].name, c=c)))
        lines.append(_small(f"\u2192 {v.name}" + _meta(v)))
        saved = _saved(v)
        if saved:
            lines.append(_small(saved, "#8a4b08"))
    else:
        lines.append(f"<B>{_esc(v.name)}</B>")
        kind = {"leaf": "leaf", "parameter": "parameter", "constant": "constant", "output": ""}[v.kind]
        if v.kind == "constant" and v.tensor is None:
            kind = ""  # its name already says "constant"
        about = " ".join(p for p in (_meta(v).strip(), kind) if p)
        if about:  # nothing is known of a constant that a freed node had kept
            lines.append(_small(about))
    if show_values:
        value = v.value()
        if v.overwritten:
            lines.append(_small("value overwritten by a later in-place op", "#1a4f8a"))
        elif value is None:
            lines.append(_small(FREED if v.freed else NOT_KEPT, "#1a4f8a"))
        elif not (v.kind == "constant" and v.name == short_value(value)):
            lines.append(_small(short_value(value, max_items=6), "#1a4f8a"))
    return "<" + "<BR/>".join(lines) + ">"


def _meta(v: Vertex) -> str:
    shape, dtype = v.shape, v.dtype
    if shape is None:
        return ""
    return f"  {shape_text(shape)} {dtype}"


def _saved(v: Vertex) -> str:
    """What this op keeps for its backward: its inputs when its local derivative reads them
    (``op.saves_inputs``), its output when it reads that (``op.saves_out``), and for a custom
    ``autograd.Function`` what its forward passed to ``ctx.save_for_backward``."""
    node = v.obj
    what = []
    if node.op.saves_inputs:
        what.extend(dict.fromkeys(src.name for src in v.inputs))
    if node.op.saves_out:
        what.append(f"its output {v.name}")
    if node.inputs is None:  # backward freed the node (its params, a Function's ctx, too)
        return "saved " + ", ".join(what) + ": freed by backward" if what else ""
    ctx = node.params[0] if node.params else None
    if isinstance(ctx, FunctionCtx) and ctx._saved:
        what.append(f"{len(ctx._saved)} tensor{'s' if len(ctx._saved) > 1 else ''} (ctx.save_for_backward)")
    return "saves for backward: " + ", ".join(what) if what else ""


def _small(text: str, color: str = "#404040") -> str:
    return f'<FONT POINT-SIZE="9" COLOR="{color}">{_esc(text)}</FONT>'


def _esc(text: str) -> str:
    return html.escape(text, quote=True)
