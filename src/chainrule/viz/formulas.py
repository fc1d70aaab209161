"""Local derivative rules in the lecture's notation, with the tensors' own names.

Each step of backward is "upstream derivative x local derivative". Every op registers its rule
once, as templates (``Op`` in ``autograd/graph.py``): ``"{g0} = {gy} * {y} * (1 - {y})"`` for
sigmoid. Here the placeholders get the names of the tensors at hand, so that explain can say
``dl/dz1 = dl/da1 * a1 * (1 - a1)`` for the sigmoid that made ``a1`` from ``z1``. An op without a
rule (a custom autograd.Function) gets a generic sentence.
"""

from __future__ import annotations

import math

from ._graph import shape_text, short_value

__all__ = ["local_rule", "grad_symbol", "fields_for"]


def grad_symbol(loss: str, name: str) -> str:
    """``dl/dz1``: the derivative of the loss with respect to a tensor."""
    return f"d{loss}/d{name}"


def fields_for(
    node,
    out_name: str,
    in_names: list[str],
    loss: str,
    in_shapes: list[tuple] | None = None,
    out_shape: tuple | None = None,
) -> dict[str, str]:
    """The placeholders of ``node``'s formula (see ``Op``), filled with these tensors' names."""
    fields = {
        "gy": grad_symbol(loss, out_name),
        "y": out_name,
        "c": "c",
        "alpha": "",
        "n": "n",
        "shape0": shape_text(in_shapes[0]) if in_shapes else f"{in_names[0]}.shape",
    }
    for i, name in enumerate(in_names):
        fields[f"x{i}"] = name
        fields[f"g{i}"] = grad_symbol(loss, name)
    params = node.params
    if not isinstance(params, tuple | list):  # (an op may keep one number as its parameters)
        params = () if params is None else (params,)
    if params:
        first = params[0]
        if isinstance(first, int | float) or getattr(first, "ndim", None) == 0:
            fields["c"] = short_value(first)
            fields["alpha"] = "" if first == 1 else f"{short_value(first)} * "
    if in_shapes and out_shape is not None:
        fields["n"] = str(math.prod(in_shapes[0]) // max(math.prod(out_shape), 1))
    return fields


def local_rule(
    node,
    out_name: str,
    in_names: list[str],
    wanted: list[int],
    loss: str,
    in_shapes: list[tuple] | None = None,
    out_shape: tuple | None = None,
) -> tuple[str, dict[int, str]]:
    """The rule of one backward step.

    Returns the whole formula (the parts joined by ",  ") and, per input position in ``wanted``
    (the inputs that receive a gradient), its own part.
    """
    op = node.op
    fields = fields_for(node, out_name, in_names, loss, in_shapes, out_shape)
    if not wanted:  # nothing flows down this step: the whole rule, as a reminder
        whole = [op.render(i, dict(fields, xi=n, gi=fields[f"g{i}"])) for i, n in enumerate(in_names)]
        return ",  ".join(t for t in whole if t), {}
    parts = {}
    for i in wanted:
        text = op.render(i, dict(fields, xi=in_names[i], gi=fields[f"g{i}"]))
        parts[i] = text or (
            f"{fields[f'g{i}']} = the vector-Jacobian product of {op.node_name} with {fields['gy']}"
        )
    return ",  ".join(parts.values()), parts
