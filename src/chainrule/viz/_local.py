"""A local rule with its numbers: ``dl/dz1 = dl/da1 * a1 * (1 - a1) = 0.3234 * 0.232 = 0.07503``.

The op's registry entry says how to evaluate each input's local derivative (``Op.local``, see
``autograd/graph.py``): an element-wise factor that the upstream gradient is multiplied or divided
by, the factor 1, or a matrix product. Here that is evaluated on the values the node kept for its
backward and written beside the formula: the upstream value, the factor's value, and the
gradient the rule gave. Matrix products are written with every operand's shape instead, as the
lecture's shape check does (``dl/dW1 (3x5) = A0^T (3x4) @ dl/dZ1 (4x5)``); a bias summed over a
batch as ``dl/db1 (5) = 1^T dl/dZ1 (4x5)``. Scalars and tensors of up to ``SMALL`` elements are
written in full, larger ones by their shape.
"""

from __future__ import annotations

import re

import numpy as np

from ..autograd.graph import Node
from ._graph import short_value

__all__ = ["shown_rule", "value_text", "shape_x", "SMALL"]

#: tensors of up to this many elements are written in full beside a rule
SMALL = 4

_OPERAND = re.compile(r"\{(gy|x\d+)\}(\^T)?")


def shape_x(shape) -> str:
    """``(3x5)``, ``(5)``, ``()`` for a scalar: a shape as the lecture writes it."""
    return "(" + "x".join(str(n) for n in shape) + ")"


def value_text(a, digits: int = 4) -> str:
    """A value beside a rule: in full when small, else its shape (``(4x5) values``)."""
    a = np.asarray(a)
    if a.size <= SMALL:
        return short_value(a, digits)
    return f"{shape_x(a.shape)} values"


def _factor_value(loc, node, out_dtype):
    """The local factor on the node's saved values; None when they are not there (an op that
    kept nothing it needs, a custom layout) or the values are complex (the engine conjugates)."""
    if type(node).unpack_saved is not Node.unpack_saved:
        # saved-tensor hooks packed the values: unpacking again would call the user's hooks
        # once more than backward did, so the formula is shown alone
        return None
    inputs, out = node.inputs, node.out
    if inputs is None:
        return None
    xs = tuple(None if x is None else x._data for x in inputs)
    if any(x is not None and np.iscomplexobj(x) for x in xs) or np.dtype(out_dtype).kind == "c":
        return None
    out = getattr(out, "_data", out)
    try:
        with np.errstate(all="ignore"):  # log(0), 0 / 0: the value shows as the rule gave it
            return np.asarray(loc.factor(xs, out, node.params or ()))
    except (TypeError, IndexError, AttributeError):  # a value the node did not keep
        return None


def _split(rule: str) -> tuple[str, str]:
    """The equation and its trailing remark (``, copied to every ...``, ``  (/ n for ...)``)."""
    cut = [k for k in (rule.find(", "), rule.find("  (")) if k >= 0]
    k = min(cut) if cut else len(rule)
    return rule[:k], rule[k:]


def _matrix(template: str, fields: dict[str, str], shapes: dict[str, tuple]) -> str:
    def annotate(m: re.Match) -> str:
        name, transposed = m.group(1), bool(m.group(2))
        shape = tuple(shapes.get(name, ()))
        if transposed and len(shape) >= 2:
            shape = shape[:-2] + (shape[-1], shape[-2])
        return f"{fields[name]}{m.group(2) or ''} {shape_x(shape)}"

    return _OPERAND.sub(annotate, template)


def shown_rule(node, i: int, rule: str, fields: dict[str, str], d, upstream, in_shapes, out_shape):
    """Input ``i``'s rule as explain shows it, with values or, for a matrix product, shapes; and
    the local factor's value (None where there is none: the factor 1, a matrix product, an op
    whose entry does not say).

    ``d`` is the step's ``Downstream`` so far (its ``local`` and ``grad`` arrays, its summed
    dims); ``fields`` the formula's placeholders filled with the tensors' names.
    """
    loc = node.op.local_of(i)
    if loc is None or not rule or not isinstance(d.local, np.ndarray):
        return rule, None
    lhs = fields[f"g{i}"]
    if loc.matrix:
        shapes = {"gy": out_shape, **{f"x{k}": s for k, s in enumerate(in_shapes)}}
        text = f"{lhs} {shape_x(d.grad.shape)} = {_matrix(loc.matrix, fields, shapes)}"
        return text + (f" = {value_text(d.grad)}" if d.grad.size <= SMALL else ""), None
    head, tail = _split(rule)
    if _batch_sum(d):  # Z = A W + 1 b^T: the bias's gradient sums dl/dZ over the batch's rows
        rhs = head.split(" = ", 1)[1] if " = " in head else head
        rhs = rhs if re.fullmatch(r"[\w/.]+", rhs) else f"({rhs})"
        text = (
            f"{lhs} {shape_x(d.grad.shape)} = 1^T {rhs} {shape_x(d.local_shape)} = "
            f"{value_text(d.grad)}  (sum over the batch){tail}"
        )
        return text, None
    if loc.factor is None:
        return f"{head} = {value_text(d.local)}{tail}", None
    factor = _factor_value(loc, node, d.local.dtype)
    if factor is None:
        return rule, None
    if factor.size == 1 and factor.reshape(()) == 1:  # add's alpha = 1: nothing to multiply
        return f"{head} = {value_text(d.local)}{tail}", factor
    sign = "/" if loc.divide else "*"
    up = value_text(upstream)
    fac = value_text(factor)
    fac = f"({fac})" if fac.startswith("-") else fac
    return f"{head} = {up} {sign} {fac} = {value_text(d.local)}{tail}", factor


def _batch_sum(d) -> bool:
    """A 1-D input whose gradient was summed over the rows of a 2-D one (a bias on a batch)."""
    return d.summed_dims == (0,) and len(d.local_shape) == 2 and len(d.input.shape) == 1
