"""Local derivative rules in the lecture's notation, with the tensors' own names.

Each step of backward is "upstream derivative x local derivative". For the common ops the rule
is written here per input, so that explain can say ``dl/dz1 = dl/da1 * a1 * (1 - a1)`` for the
sigmoid that made ``a1`` from ``z1``. Other ops fall back to their ``Op.formula`` (written with
generic symbols x, y, a, b) plus a legend naming the tensors; an op without one (a custom
autograd.Function) gets a generic sentence.
"""

from __future__ import annotations

from ._graph import shape_text, short_value

__all__ = ["RULES", "local_rule"]

# Per input position: {gy} is the upstream gradient dl/d(output), {y} the output's name, {x0}..
# the inputs' names, {g0}.. their gradients; {c} an op's scalar, {n} mean's count, {alpha} add's
# and sub's factor ("" when 1), {shape0} the first input's shape.
RULES: dict[str, tuple[str, ...]] = {
    "add": ("{g0} = {gy}", "{g1} = {alpha}{gy}"),
    "sub": ("{g0} = {gy}", "{g1} = -{alpha}{gy}"),
    "mul": ("{g0} = {gy} * {x1}", "{g1} = {gy} * {x0}"),
    "div": ("{g0} = {gy} / {x1}", "{g1} = -{gy} * {x0} / {x1}^2"),
    "pow": ("{g0} = {gy} * {x1} * {x0}^({x1} - 1)", "{g1} = {gy} * {y} * ln({x0})"),
    "matmul": ("{g0} = {gy} {x1}^T", "{g1} = {x0}^T {gy}"),
    "linear": ("{g0} = {gy} {x1}", "{g1} = ({gy})^T {x0}", "{g2} = ({gy})^T 1_n"),
    "sigmoid": ("{g0} = {gy} * {y} * (1 - {y})",),
    "tanh": ("{g0} = {gy} * (1 - {y}^2)",),
    "relu": ("{g0} = {gy} * [{x0} > 0]",),
    "exp": ("{g0} = {gy} * {y}",),
    "log": ("{g0} = {gy} / {x0}",),
    "sin": ("{g0} = {gy} * cos({x0})",),
    "cos": ("{g0} = -{gy} * sin({x0})",),
    "square": ("{g0} = {gy} * 2 * {x0}",),
    "sqrt": ("{g0} = {gy} / (2 * {y})",),
    "neg": ("{g0} = -{gy}",),
    "abs": ("{g0} = {gy} * sign({x0})",),
    "mul_scalar": ("{g0} = {gy} * {c}",),
    "div_scalar": ("{g0} = {gy} / {c}",),
    "add_scalar": ("{g0} = {gy}",),
    "sub_scalar": ("{g0} = {gy}",),
    "rsub_scalar": ("{g0} = -{gy}",),
    "clone": ("{g0} = {gy}",),
    "sum": ("{g0} = {gy}, copied to every summed element of {x0}",),
    "mean": ("{g0} = {gy} / {n}, copied to every averaged element of {x0}",),
    "reshape": ("{g0} = reshape({gy}, {shape0})",),
    "expand": ("{g0} = {gy} summed over the dims that expand added or stretched",),
}


def grad_symbol(loss: str, name: str) -> str:
    """``dl/dz1``: the derivative of the loss with respect to a tensor."""
    return f"d{loss}/d{name}"


def local_rule(node, out_name: str, in_names: list[str], wanted: list[int], loss: str,
               in_shapes: list[tuple] | None = None) -> tuple[str, dict[int, str]]:
    """The rule of one backward step.

    Returns the whole formula (the parts joined by ",  ") and, per input position in ``wanted``
    (the inputs that receive a gradient), its own part; an input has no part of its own when the
    op's generic ``Op.formula`` is shown instead.
    """
    op = node.op
    fields = {"gy": grad_symbol(loss, out_name), "y": out_name, "alpha": "", "c": "", "n": "",
              "shape0": shape_text(in_shapes[0]) if in_shapes else ""}
    for i, name in enumerate(in_names):
        fields[f"x{i}"] = name
        fields[f"g{i}"] = grad_symbol(loss, name)
    params = node.params or ()
    if op.name in ("add", "sub") and params:
        fields["alpha"] = f"{short_value(params[0])} * "
    elif op.name.endswith("_scalar") and params:
        fields["c"] = short_value(params[0])
    elif op.name == "mean" and len(params) >= 4:
        fields["n"] = str(params[3])
    templates = RULES.get(op.name)
    if templates is not None and all(i < len(templates) for i in wanted):
        parts = {i: templates[i].format(**fields) for i in wanted}
        return ",  ".join(parts.values()), parts
    if op.formula:
        return f"{op.formula}   ({_legend(out_name, in_names)})", {}
    parts = {i: f"{fields[f'g{i}']} = the vector-Jacobian product of {op.node_name} with "
                f"{fields['gy']}" for i in wanted}
    return ",  ".join(parts.values()), parts


def _legend(out_name: str, in_names: list[str]) -> str:
    """What the generic symbols of an ``Op.formula`` stand for here."""
    if len(in_names) == 1:
        return f"x = {in_names[0]}, y = {out_name}"
    if len(in_names) == 2:
        return f"a = {in_names[0]}, b = {in_names[1]}, y = {out_name}"
    return f"y = {out_name}; inputs in order: {', '.join(in_names)}"
