"""The explain page: one self-contained HTML file that steps through the backward pass.

Everything is inline (the graph's SVG, the script, the styles, the steps as JSON): the page loads
nothing, so it works offline and from a file:// URL. The script and styles are package data
(``static/``), read at runtime. Without Graphviz's ``dot`` the graph becomes a list of its nodes,
and the page says how to install ``dot``.
"""

from __future__ import annotations

import html
import json
import os
import re
import tempfile
from importlib import resources
from pathlib import Path

from ._graph import shape_text, short_value
from ._text import LEAF_HEAD, STEP_HEAD, downstream_lines, leaf_cells, parts_text, step_cells
from .draw import INSTALL_DOT, INSTALL_GRAPHVIZ_PY, DotNotFoundError
from .formulas import grad_symbol

__all__ = ["save_html", "page_html", "panel_value", "inline_html"]

_DIGITS = 6  # the panel shows more digits than the terminal table


def panel_value(a) -> str:
    """How the page's panel writes a gradient (arrays of up to 64 elements in full)."""
    return short_value(a, _DIGITS, max_items=64, one_line=False)


def _static(name: str) -> str:
    return resources.files("chainrule.viz").joinpath("static", name).read_text(encoding="utf-8")


def _svg(expl) -> tuple[str | None, str]:
    """The graph as inline SVG, or (None, why not)."""
    if expl.graph is None:
        return None, (
            f"The graphviz Python package is missing, so the graph is shown as a list: {INSTALL_GRAPHVIZ_PY}."
        )
    try:
        svg = expl.graph.pipe(format="svg", encoding="utf-8")
    except DotNotFoundError:
        return None, f"Graphviz's dot program was not found, so the graph is shown as a list. {INSTALL_DOT}."
    # inline SVG in HTML needs no prologue, doctype or namespace declarations (which are URLs)
    svg = re.sub(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", "", svg, flags=re.DOTALL)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    return svg.strip(), ""


def _graph_list(expl) -> str:
    items = []
    for v in expl.vertices:
        if v.kind == "op":
            what = v.obj.op.node_name + f" -> {v.name}"
        else:  # a constant the graph did not keep is already called "constant"
            what = v.name if v.name == v.kind else f"{v.name} ({v.kind})"
        shape = f" {shape_text(v.shape)}" if v.shape is not None else ""
        ins = f"  <- {', '.join(src.name for src in v.inputs)}" if v.kind == "op" else ""
        items.append(f'<li id="{v.id}">{html.escape(what + shape + ins)}</li>')
    return '<ol id="graph-list">\n' + "\n".join(items) + "\n</ol>"


def _step_data(expl, s) -> dict:
    down = []
    for d in s.downstream:
        note = "\n".join(line.strip() for line in downstream_lines(expl, d)[1:])
        if d.rule and len(s.downstream) > 1:  # which part of the formula made this one
            note = d.rule + ("\n" + note if note else "")
        down.append(
            {
                "name": d.input.name,
                "symbol": grad_symbol(expl.loss_name, d.input.name),
                "value": panel_value(d.grad),
                "note": note,
                "target": d.input.graph_id,
                "edge": f"e-{d.input.graph_id}-{s.graph_id}-{d.position}",
            }
        )
    parts = ""
    if s.fan_out:
        parts = f"{s.output.name} feeds {len(s.upstream_parts)} ops; their gradients add up: " + parts_text(
            s.upstream_parts, _DIGITS
        )
    ins = ", ".join(f"{t.name} {shape_text(t.shape)}" for t in s.inputs)
    return {
        "id": s.graph_id,
        "node": s.node_name,
        "op": s.op,
        "output": f"computed {s.output.name} {shape_text(s.output.shape)} from {ins}",
        "upstream_symbol": grad_symbol(expl.loss_name, s.output.name),
        "upstream_value": panel_value(s.upstream),
        "upstream_parts": parts,
        "formula": s.formula,
        # each input's rule with its values (or, for a matrix product, its operands' shapes)
        "local_values": "\n".join(d.shown or d.rule for d in s.downstream if d.rule),
        "downstream": down,
    }


def _table(head, rows, table_id: str, step_rows: bool = False) -> str:
    out = [
        f'<table id="{table_id}"><thead><tr>'
        + "".join(f"<th>{html.escape(h)}</th>" for h in head)
        + "</tr></thead><tbody>"
    ]
    for i, r in enumerate(rows):
        attr = f' data-step="{i}"' if step_rows else ""
        out.append(
            f"<tr{attr}>" + "".join(f"<td>{html.escape(chr(10).join(r[h]))}</td>" for h in head) + "</tr>"
        )
    out.append("</tbody></table>")
    return "\n".join(out)


def page_html(expl) -> str:
    """The whole page as a string."""
    svg, why = _svg(expl)
    graph = (
        svg
        if svg is not None
        else (f'<p class="warning" id="graph-missing">{html.escape(why)}</p>\n' + _graph_list(expl))
    )
    data = {"loss": expl.loss_name, "steps": [_step_data(expl, s) for s in expl.steps]}
    # "<" escaped: the JSON sits inside a <script> element
    blob = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    title = f"Backward pass of {expl.loss_name} = {short_value(expl.loss_value, _DIGITS)}"
    fill = {
        "TITLE": html.escape(title),
        "CSS": _static("explain.css"),
        "JS": _static("explain.js"),
        "GRAPH": graph,
        "STEPS_TABLE": _table(STEP_HEAD, [step_cells(expl, s) for s in expl.steps], "steps-table", True),
        "LEAVES_TABLE": _table(LEAF_HEAD, [leaf_cells(lg) for lg in expl.leaves], "leaves-table"),
        "DATA": blob,
    }
    # one pass, so that text put in cannot be taken for another placeholder
    return re.sub(r"\{\{([A-Z_]+)\}\}", lambda m: fill[m.group(1)], _static("page.html"))


def save_html(expl, path) -> str:
    """Write the page atomically (a temporary file in the same folder, then os.replace)."""
    path = Path(path)
    text = page_html(expl)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp's file is private; the page is for reading
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return str(path)


def inline_html(expl, height: int = 760) -> str:
    """The page for a notebook's output cell (``Explanation._repr_html_``): an iframe whose
    ``srcdoc`` holds the whole page, so its script, styles and element ids stay apart from the
    notebook's and from other explanations shown in it; it loads nothing from the network."""
    page = html.escape(page_html(expl), quote=True)
    title = html.escape(f"Backward pass of {expl.loss_name}", quote=True)
    return (
        f'<iframe class="chainrule-explain" title="{title}" sandbox="allow-scripts" '
        f'style="width: 100%; height: {int(height)}px; border: 1px solid #ccc" srcdoc="{page}"></iframe>'
    )
