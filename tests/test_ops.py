"""Every op against torch: forward, gradient, second derivative, and float64 finite differences.

The specs live in ``tests/specs/``; the registry test below fails when an op registered in
``chainrule.autograd.graph.REGISTRY`` is never exercised by any spec.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from oracle import OpSpec, _outputs, _tensors, check_spec, make_inputs
from specs import all_specs

import chainrule
from chainrule.autograd.graph import REGISTRY

SPECS = all_specs()


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(data=st.data())
def test_op_matches_torch(spec: OpSpec, data) -> None:
    shapes = data.draw(spec.shapes, label="shapes")
    seed = data.draw(st.integers(0, 2**31 - 1), label="seed")
    check_spec(spec, shapes, seed)


def _ops_in_graph(roots) -> set:
    """The names of the ops of every node below ``roots`` (walking the nodes' edges)."""
    seen, names = set(), set()
    stack = [t.grad_fn for t in roots]
    while stack:
        node = stack.pop()
        if not isinstance(node, chainrule.autograd.graph.Node) or id(node) in seen:
            continue  # None (a constant) or a leaf tensor
        seen.add(id(node))
        names.add(node.op.name)
        stack.extend(node.edges)
    return names


@settings(
    max_examples=1,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_every_registered_op_has_a_spec(data) -> None:
    """Run each spec once, forward and create_graph backward, and collect the ops that ran."""
    exercised: set = set()
    for spec in SPECS:
        shapes = data.draw(spec.shapes)
        arrays = make_inputs(spec, shapes, 0)
        ins = _tensors(chainrule, arrays, spec, np.float64)
        outs = [
            o
            for o in _outputs(spec.fn(chainrule, *ins))
            if isinstance(o, chainrule.Tensor) and o.requires_grad
        ]
        exercised |= _ops_in_graph(outs)
        wrt = [t for t, a in zip(ins, spec.args) if a.kind == "float" and t.requires_grad]
        if outs and wrt and spec.gradgrad:
            grads = chainrule.autograd.grad(
                outs, wrt, [chainrule.ones_like(o) for o in outs], create_graph=True, allow_unused=True
            )
            exercised |= _ops_in_graph([g for g in grads if g is not None])
    missing = sorted(set(REGISTRY) - exercised)
    assert not missing, f"registered ops without a spec in tests/specs: {missing}"
