"""Every registered op's derivative formula: written once (``defop(..., formula=...)``), rendered
with generic names for docstrings and with the tensors' names for ``viz.explain``.

The registry drives these tests, so an op added later without a formula in this format fails
here, by name.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from oracle import _outputs, _tensors, make_inputs
from specs import all_specs

import chainrule
from chainrule import viz
from chainrule.autograd.graph import REGISTRY, Op
from chainrule.viz.formulas import local_rule

_KNOWN = {"gy", "y", "xi", "gi", "c", "n", "alpha", "shape0"}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")
_FORMAT = (
    'write it as a template per input, e.g. formula="{g0} = {gy} * {y} * (1 - {y})" or '
    'formula=("{g0} = {gy} * {x1}", "{g1} = {gy} * {x0}"); see the placeholders in the '
    "docstring of chainrule.autograd.graph.Op"
)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_op_has_a_formula_in_the_template_format(name) -> None:
    op = REGISTRY[name]
    assert op.templates, f"op {name!r} is registered without a formula: {_FORMAT}"
    shared = len(op.templates) == 1 and "{gi}" in op.templates[0]
    arity = len(op.templates)
    for i, template in enumerate(op.templates):
        if not template:  # an input that never gets a gradient (an index, a mask)
            continue
        lhs = "{gi}" if shared else f"{{g{i}}}"
        assert template.startswith(lhs), (
            f"op {name!r}: part {i} of its formula must begin with {lhs} (whose gradient it "
            f"gives), got {template!r}: {_FORMAT}"
        )
        for key in _PLACEHOLDER.findall(template):
            m = re.fullmatch(r"[xg](\d+)", key)
            known = key in _KNOWN or (m is not None and int(m.group(1)) < arity and not shared)
            assert known, (
                f"op {name!r}: unknown placeholder {{{key}}} in {template!r} (inputs: {arity}): {_FORMAT}"
            )


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_formula_renders_with_generic_names_and_with_tensor_names(name) -> None:
    op = REGISTRY[name]
    # the plain string docstrings show: generic names, every placeholder filled
    assert op.formula and not _PLACEHOLDER.search(op.formula.replace("{-", "").replace("{+", ""))
    assert op.formula.startswith(("dl/dx", "dl/da", "dl/db")), op.formula
    # explain's rendering: the tensors' names, one part per input that gets a gradient
    n = max(len(op.templates), 3) if "{gi}" in op.templates[0] else len(op.templates)
    names = [f"in{k}" for k in range(n)]
    node = SimpleNamespace(op=op, params=())
    wanted = [i for i in range(n) if op.template(i)]
    whole, parts = local_rule(node, "out", names, wanted, "L", [(2, 3)] * n, (2, 3))
    assert sorted(parts) == wanted and whole == ",  ".join(parts.values())
    for i, part in parts.items():
        assert part.startswith(f"dL/din{i}"), part
        assert "{" not in part.replace("{-", "").replace("{+", "").replace("_{j", ""), part
        assert "dl/dy" not in part and "vector-Jacobian" not in part, part


def test_an_unknown_placeholder_fails_at_registration_naming_the_op() -> None:
    with pytest.raises(ValueError, match=r"op 'twice': unknown placeholder \{gz\}"):
        Op("twice", lambda F, g, xs, out, p, needs: (2 * g,), formula="{g0} = 2 * {gz}")
    # braces that are not identifiers are text: A^{-T}, sum_{j>=k}
    op = Op("t", lambda *a: None, formula="{g0} = {x0}^{-T} sum_{j>=k} {gy}")
    assert op.formula == "dl/dx = x^{-T} sum_{j>=k} dl/dy"


def test_the_formula_is_one_source_for_docstrings_and_explain() -> None:
    assert chainrule.sin.__doc__ == "Element-wise sin; local derivative: dl/dx = dl/dy * cos(x)."
    assert REGISTRY["mul"].formula == "dl/da = dl/dy * b,  dl/db = dl/dy * a"
    assert REGISTRY["sigmoid"].templates == ("{g0} = {gy} * {y} * (1 - {y})",)


# ---- the op's parameters, filled from the node ---------------------------------------------------
def test_parameters_are_filled_from_the_node() -> None:
    x = chainrule.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3), requires_grad=True)
    b = chainrule.tensor(np.full((2, 3), 0.5), requires_grad=True)
    y = chainrule.add(x, b, alpha=2.5)
    m = y.mean()
    e = viz.explain(m, names={"x": x, "b": b, "y": y})
    assert e.step("y").formula == "dl/dx = dl/dy,  dl/db = 2.5 * dl/dy"
    assert e.step("l").formula == "dl/dy = dl/dl / 6, copied to every averaged element of y"
    h = chainrule.nn.functional.leaky_relu(x, 0.2)
    s = (h * 3.0).sum()
    e = viz.explain(s, names={"x": x, "h": h})
    assert e.step("h").formula == "dl/dx = dl/dh * (1 if x > 0 else 0.2)"
    assert e.step("t0").formula == "dl/dh = dl/dt0 * 3"
    r = chainrule.reshape(x, (3, 2))
    e = viz.explain(r.sum(), names={"x": x, "r": r})
    assert e.step("r").formula == "dl/dx = reshape(dl/dr, (2, 3))"


def test_ops_without_a_table_entry_before_now_read_in_the_tensors_names() -> None:
    """(viz used to keep a second table for ~30 ops and show the rest with generic symbols and a
    legend: every op now reads like the sigmoid's rule)"""
    z = chainrule.tensor([[0.3, -1.2, 2.0]], dtype=chainrule.float64, requires_grad=True)
    logp = chainrule.log_softmax(z, dim=1)
    loss = chainrule.nn.functional.nll_loss(logp, chainrule.tensor([2]))
    e = viz.explain(loss, names={"z": z, "logp": logp})
    assert e.step("logp").formula == "dl/dz = dl/dlogp - exp(logp) * sum(dl/dlogp, dim)"
    assert e.step("l").formula.startswith("dl/dlogp[n, t_n] = -dl/dl * w[t_n]")
    assert "(x =" not in str(e) and "vector-Jacobian" not in str(e)


# ---- every op that the specs exercise: each gradient has its part of the rule -------------------
@settings(
    max_examples=1,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_every_step_of_every_spec_shows_its_rule_in_the_tensors_names(data) -> None:
    seen: set = set()
    valued: set = set()
    for spec in all_specs():
        arrays = make_inputs(spec, data.draw(spec.shapes), 0)
        ins = _tensors(chainrule, arrays, spec, np.float64)
        names = {f"in{i}": t for i, t in enumerate(ins) if isinstance(t, chainrule.Tensor)}
        outs = [
            o
            for o in _outputs(spec.fn(chainrule, *ins))
            if isinstance(o, chainrule.Tensor) and o.requires_grad
        ]
        if not outs:
            continue
        losses = [sum(o.sum() for o in outs)]
        wrt = [t for t, a in zip(ins, spec.args) if a.kind == "float" and t.requires_grad]
        if wrt and spec.gradgrad:  # the ops that only backward records (double backward)
            grads = chainrule.autograd.grad(losses[0], wrt, create_graph=True, allow_unused=True)
            grads = [g for g in grads if g is not None and g.requires_grad]
            if grads:
                losses.append(sum(g.sum() for g in grads))
        for loss in losses:
            try:
                e = viz.explain(loss, names=names)
            except (RuntimeError, NotImplementedError) as err:
                # vmap specs: explain reads plain arrays only; ops torch defines no derivative
                # for (zeta, heaviside): their backward raises, as torch's
                assert "vmap" in str(err) or "is not implemented" in str(err), (spec.name, err)
                continue
            for s in e.steps:
                seen.add(s.op)
                assert s.formula, (spec.name, s.node_name)
                for d in s.downstream:
                    symbol = f"d{e.loss_name}/d{d.input.name}"
                    assert d.rule.startswith(symbol) and d.rule[len(symbol)] in " [_", (
                        spec.name,
                        s.node_name,
                        d.rule,
                    )
                    assert "vector-Jacobian" not in d.rule, (spec.name, s.node_name)
                    _check_factor(s, d, valued, spec.name)
    assert len(seen) > 100, sorted(seen)
    # the registry's local factors, evaluated on the saved values, give what each rule gave
    elementwise = {"mul", "div", "pow", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "silu", "softplus"}
    assert elementwise | {"exp", "log", "mse_loss", "binary_cross_entropy", "mean"} <= valued, sorted(valued)


def _check_factor(s, d, valued: set, spec_name: str) -> None:
    """upstream * factor (or / factor) is the rule's local gradient, element by element."""
    if d.factor is None:
        return
    up = np.asarray(s.upstream, dtype=np.float64)
    with np.errstate(all="ignore"):
        want = up / d.factor if REGISTRY[s.op].local_of(d.position).divide else up * d.factor
    try:
        want = np.broadcast_to(want, d.local.shape)
    except ValueError:  # a reduction's factor: the upstream is the reduced shape
        return
    assert np.allclose(want, d.local, rtol=1e-10, atol=1e-12, equal_nan=True), (spec_name, s.op, d.shown)
    valued.add(s.op)
