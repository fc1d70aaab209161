"""``check_by_hand``: compare a student's hand-derived gradients with autograd's, step by step.

The student writes down ``dl/dz2``, ``dl/da1``, ``dl/dz1``, ``dl/dw1``, ... as the lecture does;
the check runs the backward pass (as ``explain`` does: ``.grad`` is left alone), puts the
student's numbers in the order backward computes them, and reports the first one that is wrong,
with the right value and the rule that gives it, numbers included
(``dl/dz1 = dl/da1 * a1 * (1 - a1) = 0.3234 * 0.232 = 0.07503``). The values after a wrong one
are still checked: those that are wrong too may be wrong only because of it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .._tensor import Tensor
from ._graph import shape_text, short_value
from ._names import caller_names
from .explain import Explanation, explain_named
from .formulas import grad_symbol

__all__ = ["check_by_hand", "HandCheck", "Verdict", "UnknownGradientError"]


class UnknownGradientError(KeyError):
    """A hand-derived gradient names a tensor that the graph has no gradient for."""

    def __str__(self) -> str:  # KeyError's str quotes its message; this one reads as a sentence
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Verdict:
    """One hand-derived gradient against autograd's.

    ``key`` is the name the student used (``"dl/dz1"``); ``symbol`` the explanation's (the same
    unless the loss is named otherwise); ``step`` the 1-based step of backward that completes
    this gradient (0 for the loss's own, dl/dl = 1); ``rule`` that step's rule with its numbers;
    ``reason`` why it is wrong ("" when right).
    """

    key: str
    symbol: str
    given: np.ndarray
    expected: np.ndarray
    ok: bool
    step: int
    rule: str
    reason: str = ""


@dataclass(repr=False)
class HandCheck:
    """The result of ``check_by_hand``: ``ok`` (every value right), ``verdicts`` (in backward's
    order), ``first_wrong`` (the first wrong verdict, None when all are right) and the
    ``explanation`` the values were checked against. ``str()`` and Jupyter's view say which one
    is wrong first, its right value and the rule that gives it."""

    verdicts: list[Verdict]
    explanation: Explanation
    rtol: float
    atol: float
    first_wrong: Verdict | None = field(init=False)

    def __post_init__(self) -> None:
        self.first_wrong = next((v for v in self.verdicts if not v.ok), None)

    @property
    def ok(self) -> bool:
        return self.first_wrong is None

    def verdict(self, key: str) -> Verdict:
        """The verdict on the value given as ``key``."""
        for v in self.verdicts:
            if v.key == key:
                return v
        raise UnknownGradientError(
            f"HandCheck.verdict: no value was given as {key!r}; given: {[v.key for v in self.verdicts]}"
        )

    def __repr__(self) -> str:
        wrong = sum(not v.ok for v in self.verdicts)
        first = f", first wrong: {self.first_wrong.key}" if self.first_wrong else ""
        return f"<HandCheck: {len(self.verdicts) - wrong} of {len(self.verdicts)} right{first}>"

    def _tolerance(self) -> str:
        return f"rtol={self.rtol:g}, atol={self.atol:g}"

    def _summary(self) -> str:
        n = len(self.verdicts)
        if self.ok:
            return f"All {n} hand-derived gradients agree with autograd ({self._tolerance()})."
        v = self.first_wrong
        return (
            f"{v.key} is the first wrong one, in backward's order (step {v.step}): you have "
            f"{short_value(v.given)}, autograd gives {short_value(v.expected)}. {v.reason}"
        )

    def __str__(self) -> str:
        lines = [self._summary(), ""]
        if not self.ok:
            lines += [
                f"The rule that gives it (step {self.first_wrong.step}):",
                f"    {self.first_wrong.rule}",
                "",
            ]
        width = max(len(v.key) for v in self.verdicts)
        for v in self.verdicts:
            mark = "ok   " if v.ok else "WRONG"
            line = f"{mark}  step {v.step:>2}  {v.key.ljust(width)} = {short_value(v.given)}"
            if not v.ok:
                line += f"   (autograd: {short_value(v.expected)})"
            lines.append(line)
        if self.first_wrong is not None and sum(not v.ok for v in self.verdicts) > 1:
            lines += [
                "",
                f"Values after {self.first_wrong.key} may be wrong only because it is: fix it first.",
            ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = []
        for v in self.verdicts:
            color = "#e8f5e9" if v.ok else "#ffebee"
            rows.append(
                f'<tr style="background:{color}"><td>{"ok" if v.ok else "wrong"}</td><td>{v.step}</td>'
                f"<td><code>{html.escape(v.key)}</code></td><td><code>{html.escape(short_value(v.given))}"
                f"</code></td><td><code>{html.escape(short_value(v.expected))}</code></td>"
                f"<td><code>{html.escape(v.rule)}</code></td></tr>"
            )
        head = "".join(f"<th>{h}</th>" for h in ("", "step", "gradient", "yours", "autograd", "rule"))
        return (
            f'<div class="chainrule-check"><p><b>{html.escape(self._summary())}</b></p>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        )


def _as_array(value, key: str) -> np.ndarray:
    if isinstance(value, Tensor):
        return np.array(value._data, dtype=np.float64)
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, maybe requiring grad
        value = value.detach().cpu().numpy()
    try:
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"check_by_hand: the value given for {key!r} is a {type(value).__name__}; give a "
            "number, a nested list or an array"
        ) from None


def _gradients(e: Explanation) -> dict[str, tuple[np.ndarray, int, str]]:
    """Every tensor's gradient, by name: (value, the 1-based step that completes it, its rule)."""

    def rule_of(name: str, parts) -> tuple[int, str]:
        rules = []
        for c in parts:
            if c.step is None:
                continue
            for d in e.steps[c.step].downstream:
                if d.input.name == name:
                    text = d.shown or d.rule
                    if d.summed_dims and "sum over the batch" not in text:
                        dims = ", ".join(str(k) for k in d.summed_dims)
                        shapes = f"{shape_text(d.local_shape)} -> {shape_text(d.input.shape)}"
                        text += f", summed over dim {dims}: {shapes}"
                    rules.append((text, c.step + 1))
        steps = [c.step + 1 for c in parts if c.step is not None]
        if len(rules) > 1:  # a fan-out: which step sent which part
            texts = [f"the sum of what {len(rules)} ops send back:"] + [f"{t}  (step {k})" for t, k in rules]
        else:
            texts = [t for t, _ in rules]
        return (max(steps) if steps else 0), "; ".join(dict.fromkeys(texts))

    out: dict[str, tuple[np.ndarray, int, str]] = {}
    for s in e.steps:
        if s.output.name not in out:
            step, rule = rule_of(s.output.name, s.upstream_parts)
            if not s.upstream_parts or all(c.step is None for c in s.upstream_parts):
                rule = f"{grad_symbol(e.loss_name, s.output.name)} = 1 (the seed of backward)"
            out[s.output.name] = (np.asarray(s.upstream, dtype=np.float64), step, rule)
    for lg in e.leaves:
        if lg.grad is not None:
            step, rule = rule_of(lg.tensor.name, lg.parts)
            out[lg.tensor.name] = (np.asarray(lg.grad, dtype=np.float64), step, rule)
    return out


def check_by_hand(
    loss: Tensor,
    hand: Mapping,
    *,
    rtol: float = 1e-2,
    atol: float = 1e-4,
    params: Mapping | None = None,
    names: Mapping | None = None,
    auto_names: bool = True,
) -> HandCheck:
    """Compare hand-derived gradients with autograd's, in the order backward computes them.

    Parameters
    ----------
    loss : a one-element tensor with a graph (as for ``explain``).
    hand : ``{"dl/dz2": 0.2488, "dl/dz1": 0.075, "dl/dW1": [[...]], ...}``: the student's values,
        keyed ``dl/d<name>`` for any tensor that gets a gradient, leaf or intermediate, named as
        ``explain`` names it (the variables that hold the tensors, ``names=``, ``params=``).
    rtol, atol : how close a value must be: ``|hand - autograd| <= atol + rtol * |autograd|``
        element by element (the defaults suit four significant digits worked out by hand).
    params, names, auto_names : as for ``explain``.

    Returns
    -------
    HandCheck
        ``ok``, ``verdicts`` (one per given value, in backward's order), ``first_wrong`` (with the
        right value and the rule that gives it); ``print`` it to read them.

    Raises
    ------
    UnknownGradientError
        (a ``KeyError``) for a key that names no tensor with a gradient; the message lists those
        that exist.

    Notes
    -----
    Like ``explain``, the check runs backward as ``autograd.grad`` with ``retain_graph=True``:
    the leaves' ``.grad`` is not changed, and ``loss.backward()`` still works afterwards.
    """
    if not isinstance(hand, Mapping):
        raise TypeError(
            f"check_by_hand: hand must be a dict like {{'dl/dz1': 0.075}}, got {type(hand).__name__}"
        )
    if auto_names:
        names, params = caller_names(1, names, params, skip=loss if isinstance(loss, Tensor) else None)
    e = explain_named(loss, params, names)
    grads = _gradients(e)
    loss_grad = (np.ones(()), 0, f"{grad_symbol(e.loss_name, e.loss_name)} = 1 (the seed of backward)")
    prefixes = dict.fromkeys((f"d{e.loss_name}/d", "dl/d"))
    verdicts = []
    for key, value in hand.items():
        name = next((str(key)[len(p) :] for p in prefixes if str(key).startswith(p)), None)
        if name == e.loss_name:
            found = loss_grad
        else:
            found = grads.get(name) if name is not None else None
        if found is None:
            known = [grad_symbol(e.loss_name, n) for n in grads]
            raise UnknownGradientError(
                f"check_by_hand: {key!r} is not a gradient of this graph: no tensor named "
                f"{name if name is not None else key!r} gets one. The gradients are: "
                f"{', '.join(known)} (keys 'd{e.loss_name}/d<name>'; name tensors by assigning them to "
                "variables or with names=)"
            )
        expected, step, rule = found
        given = _as_array(value, str(key))
        reason = ""
        if given.shape != expected.shape and not (given.size == 1 and expected.size == 1):
            reason = (
                f"Its shape is {shape_text(given.shape)}, but a gradient has the shape of its tensor, "
                f"{shape_text(expected.shape)} (rule 0)."
            )
        elif not np.allclose(given.reshape(expected.shape), expected, rtol=rtol, atol=atol, equal_nan=True):
            worst = float(np.max(np.abs(given.reshape(expected.shape) - expected)))
            reason = f"Off by up to {short_value(worst)} (rtol={rtol:g}, atol={atol:g})."
        symbol = grad_symbol(e.loss_name, name)
        verdicts.append(Verdict(str(key), symbol, given, expected, not reason, step, rule, reason))
    verdicts.sort(key=lambda v: v.step)  # (stable: values of one step stay in the given order)
    return HandCheck(verdicts, e, rtol, atol)
