"""An Explanation as text: a fixed-width table for the terminal, and Markdown.

Both are built from the same cells (one list of lines per column), so they say the same thing:
the upstream gradient (its parts at a fan-out), the local rule, the downstream gradients (the
shapes when a broadcast was summed away), then the leaves' final gradients.
"""

from __future__ import annotations

import textwrap

from ._graph import shape_text, short_value
from .formulas import grad_symbol

__all__ = [
    "to_text",
    "to_markdown",
    "step_cells",
    "leaf_cells",
    "parts_text",
    "downstream_lines",
    "STEP_HEAD",
    "LEAF_HEAD",
]

STEP_HEAD = ("#", "node", "upstream", "local rule", "downstream")
LEAF_HEAD = ("leaf", "shape", "gradient (= .grad after loss.backward())", "sum of")
_WIDTH = {"node": 24, "upstream": 32, "local rule": 62, "downstream": 40}  # the lecture's rules fit


def _ref(step: int | None) -> str:
    return "seed" if step is None else f"#{step + 1}"


def parts_text(parts, digits: int = 4) -> str:
    """``0.2 (#2) + 0.3 (#4)``: the terms summed into a gradient, with the steps that sent them."""
    return " + ".join(f"{short_value(p.value, digits)} ({_ref(p.step)})" for p in parts)


def downstream_lines(expl, d, digits: int = 4) -> list[str]:
    lines = [f"{grad_symbol(expl.loss_name, d.input.name)} = {short_value(d.grad, digits)}"]
    if d.broadcast:
        dims = ", ".join(str(i) for i in d.summed_dims)
        lines.append(f"  summed over dim {dims}: {shape_text(d.local_shape)} -> {shape_text(d.input.shape)}")
    return lines


def step_cells(expl, step, digits: int = 4) -> dict[str, list[str]]:
    """The table cells of one step, one list of lines per column."""
    up = [f"{grad_symbol(expl.loss_name, step.output.name)} = {short_value(step.upstream, digits)}"]
    if step.fan_out:
        up.append(f"  = {parts_text(step.upstream_parts, digits)}")
    rules = [d.shown or d.rule for d in step.downstream if d.rule]
    if len(rules) != len(step.downstream) or not rules:
        rules = [step.formula]
    down = [line for d in step.downstream for line in downstream_lines(expl, d, digits)]
    return {
        "#": [str(step.index + 1)],
        "node": [step.node_name, f"-> {step.output.name} {shape_text(step.output.shape)}"],
        "upstream": up,
        "local rule": rules,
        "downstream": down or ["(no input needs a gradient)"],
    }


def leaf_cells(lg, digits: int = 4) -> dict[str, list[str]]:
    value = "unused: None" if lg.grad is None else short_value(lg.grad, digits)
    parts = parts_text(lg.parts, digits) if len(lg.parts) > 1 else ""
    return {
        "leaf": [lg.tensor.name],
        "shape": [shape_text(lg.tensor.shape)],
        LEAF_HEAD[2]: [value],
        "sum of": [parts],
    }


def _title(expl) -> str:
    return (
        f"Backward pass of {expl.loss_name} = {short_value(expl.loss_value, 6)}: {len(expl.steps)} "
        "steps, in the order backward runs them; each is upstream x local rule -> downstream"
    )


def _wrap(lines: list[str], width: int) -> list[str]:
    out = []
    for line in lines:
        out.extend(textwrap.wrap(line, width, subsequent_indent="    ", break_on_hyphens=False) or [""])
    return out


def _table(head: tuple, rows: list[dict[str, list[str]]], widths: dict[str, int]) -> list[str]:
    rows = [{k: _wrap(v, widths.get(k, 1000)) for k, v in r.items()} for r in rows]
    w = {k: max([len(k)] + [len(line) for r in rows for line in r[k]]) for k in head}
    lines = ["  ".join(k.ljust(w[k]) for k in head).rstrip(), "  ".join("-" * w[k] for k in head)]
    for r in rows:
        for i in range(max(len(r[k]) for k in head)):
            cells = [(r[k][i] if i < len(r[k]) else "").ljust(w[k]) for k in head]
            lines.append("  ".join(cells).rstrip())
    return lines


def to_text(expl) -> str:
    """The fixed-width terminal table (``str(explanation)``)."""
    lines = [_title(expl), ""]
    lines += _table(STEP_HEAD, [step_cells(expl, s) for s in expl.steps], _WIDTH)
    lines += ["", "Leaf gradients (what loss.backward() puts in .grad):", ""]
    lines += _table(LEAF_HEAD, [leaf_cells(lg) for lg in expl.leaves], {LEAF_HEAD[2]: 60, "sum of": 70})
    return "\n".join(lines)


def _md_cell(lines: list[str]) -> str:
    return "<br>".join(f"`{line.strip()}`".replace("|", "\\|") for line in lines if line.strip())


def to_markdown(expl) -> str:
    """GitHub-flavoured Markdown: a heading and two tables (steps, leaf gradients)."""
    out = [f"**{_title(expl)}**", "", "| " + " | ".join(STEP_HEAD) + " |", "|" + "---|" * len(STEP_HEAD)]
    for s in expl.steps:
        cells = step_cells(expl, s)
        out.append("| " + " | ".join(_md_cell(cells[k]) for k in STEP_HEAD) + " |")
    out += [
        "",
        "**Leaf gradients** (what `loss.backward()` puts in `.grad`)",
        "",
        "| " + " | ".join(LEAF_HEAD) + " |",
        "|" + "---|" * len(LEAF_HEAD),
    ]
    for lg in expl.leaves:
        cells = leaf_cells(lg)
        out.append("| " + " | ".join(_md_cell(cells[k]) for k in LEAF_HEAD) + " |")
    return "\n".join(out) + "\n"
