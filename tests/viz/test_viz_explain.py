"""viz.explain against hand-derived numbers (the lecture's section 1), against what
loss.backward() puts in .grad, and against torch's gradients of the same graph."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from oracle import cube_function
from viz_helpers import lecture_by_hand, lecture_network, op_nodes

import chainrule
from chainrule import viz


def _names(t: dict) -> dict:
    return {k: v for k, v in t.items() if k != "l"}


def _close(a, b) -> bool:
    return np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-12, atol=1e-14)


def _down(step, name: str) -> np.ndarray:
    (d,) = [d for d in step.downstream if d.input.name == name]
    return d.grad


# ---- the lecture's network: every step equals the hand computation -----------------------------
def test_lecture_steps_equal_the_hand_computation():
    t = lecture_network()
    hand = lecture_by_hand()
    e = viz.explain(t["l"], names=_names(t))
    assert [s.node_name for s in e.steps] == [
        "PowBackward0",
        "SubBackward0",
        "AddBackward0",
        "MulBackward0",
        "SigmoidBackward0",
        "AddBackward0",
        "MulBackward0",
    ]
    assert e.loss_name == "l" and e.loss_value == pytest.approx(hand["l"], rel=1e-14)
    pow_, sub, add2, mul2, sig, add1, mul1 = e.steps
    # l = d^2 with d = y - z2: dl/dd = 2 d, then dl/dz2 = -dl/dd = -2 (y - z2)
    assert _close(pow_.upstream, 1.0)
    assert _close(pow_.downstream[0].grad, -hand["dl/dz2"])
    assert _close(sub.upstream, -hand["dl/dz2"]) and _close(_down(sub, "z2"), hand["dl/dz2"])
    assert [d.input.name for d in sub.downstream] == ["z2"]  # y is a constant: no gradient
    # z2 = w2 a1 + b2
    assert add2.output.name == "z2" and _close(add2.upstream, hand["dl/dz2"])
    assert _close(_down(add2, "b2"), hand["dl/db2"])
    assert _close(mul2.upstream, hand["dl/dz2"])
    assert _close(_down(mul2, "w2"), hand["dl/dw2"]) and _close(_down(mul2, "a1"), hand["dl/da1"])
    # a1 = sigmoid(z1): the lecture's rule, in its names
    assert sig.output.name == "a1" and _close(sig.upstream, hand["dl/da1"])
    assert sig.formula == "dl/dz1 = dl/da1 * a1 * (1 - a1)"
    assert _close(_down(sig, "z1"), hand["dl/dz1"])
    # z1 = w1 x + b1
    assert _close(add1.upstream, hand["dl/dz1"]) and _close(_down(add1, "b1"), hand["dl/db1"])
    assert _close(mul1.upstream, hand["dl/dz1"]) and _close(_down(mul1, "w1"), hand["dl/dw1"])
    assert [d.input.name for d in mul1.downstream] == ["w1"]  # x is data
    assert mul1.formula.startswith("dl/dw1 = dl/d") and mul1.formula.endswith(" * x")
    # the leaves, by the lecture's names
    assert [lg.tensor.name for lg in e.leaves] == ["w1", "b1", "w2", "b2"]
    for lg in e.leaves:
        assert _close(lg.grad, hand["dl/d" + lg.tensor.name]), lg.tensor.name
        assert lg.tensor.kind == "leaf" and lg.tensor.shape == ()


def test_explain_leaves_grad_alone_and_matches_backward_and_torch():
    t = lecture_network()
    e = viz.explain(t["l"], names=_names(t))
    assert all(t[k].grad is None for k in ("w1", "b1", "w2", "b2"))  # explain does not touch .grad
    t["l"].backward()  # the graph was kept: backward still works, once, as usual
    ref = lecture_network(torch)
    ref["l"].backward()
    for lg in e.leaves:
        k = lg.tensor.name
        assert _close(lg.grad, t[k].grad.numpy()), k
        assert _close(lg.grad, ref[k].grad.numpy()), k


def test_lecture_text_and_markdown_show_the_steps():
    t = lecture_network()
    hand = lecture_by_hand()
    e = viz.explain(t["l"], names=_names(t))
    text = str(e)
    assert "dl/dz1 = dl/da1 * a1 * (1 - a1)" in text
    assert f"dl/dz1 = {hand['dl/dz1']:.4g}" in text and f"dl/dw1 = {hand['dl/dw1']:.4g}" in text
    md = e.to_markdown()
    # the rule with its numbers: upstream x the local factor a1 (1 - a1) = downstream
    a1 = hand["a1"]
    shown = (
        f"dl/dz1 = dl/da1 * a1 * (1 - a1) = {hand['dl/da1']:.4g} * {a1 * (1 - a1):.4g} = {hand['dl/dz1']:.4g}"
    )
    assert f"`{shown}`" in md
    assert md.count("\n| `") == len(e.steps) + len(e.leaves)  # one table row per step and leaf
    assert e._repr_markdown_() == md


def _rows(text: str) -> list[tuple[int, str]]:
    return [(int(m.group(1)), m.group(2)) for m in re.finditer(r"^(\d+)\s+(\w+Backward\d*)", text, re.M)]


@pytest.mark.parametrize("case", ["lecture", "mlp", "fanout"])
def test_table_lists_every_node_exactly_once(case):
    if case == "lecture":
        loss = lecture_network()["l"]
    elif case == "mlp":
        chainrule.manual_seed(0)
        model = chainrule.nn.Sequential(
            chainrule.nn.Linear(3, 4), chainrule.nn.Tanh(), chainrule.nn.Linear(4, 1)
        )
        loss = chainrule.nn.functional.mse_loss(model(chainrule.randn(5, 3)), chainrule.randn(5, 1))
    else:
        x = chainrule.tensor([0.3, -1.2, 2.0], requires_grad=True)
        h = x * 2.0
        loss = (h * h.sin()).sum() + x.mean()
    nodes = op_nodes(loss)
    e = viz.explain(loss)
    assert len(e.steps) == len(nodes)
    assert len({s.graph_id for s in e.steps}) == len(nodes)
    assert sorted(s.node_name for s in e.steps) == sorted(n.name() for n in nodes)
    assert _rows(str(e)) == [(s.index + 1, s.node_name) for s in e.steps]


# ---- broadcasting: a bias added to a batch ------------------------------------------------------
def _batch_graph(lib):
    rng = np.random.default_rng(1)
    X = lib.tensor(rng.normal(size=(4, 3)))
    W = lib.tensor(rng.normal(size=(3, 2)), requires_grad=True)
    b = lib.tensor(rng.normal(size=(2,)), requires_grad=True)
    XW = X @ W
    Z = XW + b
    A = lib.sigmoid(Z)
    loss = (A * A).mean()
    return {"X": X, "W": W, "b": b, "XW": XW, "Z": Z, "A": A, "loss": loss}


def test_broadcast_step_shows_both_shapes_and_sums_to_the_grad():
    t = _batch_graph(chainrule)
    e = viz.explain(t["loss"], names={k: v for k, v in t.items() if k != "loss"})
    add = e.step("Z")
    (d,) = [d for d in add.downstream if d.input.name == "b"]
    assert d.local_shape == (4, 2) and d.grad.shape == (2,) and d.summed_dims == (0,)
    assert d.broadcast and _close(d.grad, d.local.sum(axis=0))
    (dxw,) = [d for d in add.downstream if d.input.name == "XW"]
    assert not dxw.broadcast and dxw.summed_dims == ()
    assert "summed over dim 0: (4, 2) -> (2,)" in str(e)
    # the matmul rule in the lecture's "practice" form (dl/dW = A^T dl/dZ), in these names
    assert e.step("XW").formula == "dl/dW = X^T dl/dXW"
    t["loss"].backward()
    ref = _batch_graph(torch)
    ref["loss"].backward()
    for k in ("W", "b"):
        lg = e.leaf(k)
        assert _close(sum(p.value for p in lg.parts), lg.grad)
        assert _close(lg.grad, t[k].grad.numpy()) and _close(lg.grad, ref[k].grad.numpy())


# ---- fan-out: a tensor used several times -------------------------------------------------------
def _fanout_graph(lib):
    x = lib.tensor([0.3, -1.2, 2.0], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([1.5, 0.5, -0.7], dtype=lib.float64, requires_grad=True)
    h = x * w
    loss = (h * lib.sin(h)).sum() + (x**2).mean() + lib.sin(x).sum()
    return {"x": x, "w": w, "h": h, "loss": loss}


def test_fan_out_contributions_sum_to_the_grad():
    t = _fanout_graph(chainrule)
    e = viz.explain(t["loss"], names={"x": t["x"], "w": t["w"], "h": t["h"]})
    x = e.leaf("x")
    assert len(x.parts) == 3  # x feeds x * w, x ** 2 and sin(x)
    assert sorted(e.steps[p.step].node_name for p in x.parts) == [
        "MulBackward0",
        "PowBackward0",
        "SinBackward0",
    ]
    h = e.step("h")  # h feeds h * sin(h) twice over: as a factor and inside sin
    assert h.fan_out and len(h.upstream_parts) == 2
    assert _close(sum(p.value for p in h.upstream_parts), h.upstream)
    assert all(p.step < h.index for p in h.upstream_parts)  # both arrived before h's step ran
    assert " + " in str(e) and "(#" in str(e)
    t["loss"].backward()
    ref = _fanout_graph(torch)
    ref["loss"].backward()
    for k in ("x", "w"):
        lg = e.leaf(k)
        assert _close(sum(p.value for p in lg.parts), lg.grad)
        assert _close(lg.grad, t[k].grad.numpy()) and _close(lg.grad, ref[k].grad.numpy())


def test_every_step_upstream_is_the_sum_of_what_its_consumers_sent():
    t = _fanout_graph(chainrule)
    e = viz.explain(t["loss"])
    sent = {}
    for s in e.steps:
        for d in s.downstream:
            sent.setdefault(d.input.graph_id, []).append(d.grad)
    for s in e.steps[1:]:
        assert _close(sum(sent[s.graph_id]), s.upstream), s.node_name
        assert [p.step for p in s.upstream_parts] == sorted(p.step for p in s.upstream_parts)
    assert e.steps[0].upstream_parts[0].step is None  # the seed dl/dl = 1


def _odd_graph(lib):
    """A multi-output custom Function and an in-place op: explain must follow what backward does."""

    class Split(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * 2, a.sin()

        @staticmethod
        def backward(ctx, g1, g2):
            (a,) = ctx.saved_tensors
            return g1 * 2 + g2 * a.cos()

    x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
    p, q = Split.apply(x)
    h = p * q
    h.add_(1.0)  # h now comes from the in-place add
    return x, (h.relu() * x).sum()


def test_custom_function_and_in_place_ops():
    x, loss = _odd_graph(chainrule)
    e = viz.explain(loss, names={"x": x})
    # chainrule records a two-output Function as a node per output feeding one hidden node that
    # runs the user's backward (torch shows one node): backward visits all three
    assert [s.node_name for s in e.steps].count("SplitBackward") == 3
    assert len(e.steps) == len(op_nodes(loss)) + 1 == 8
    assert "SplitBackward" in str(e)
    loss.backward()
    tx, tloss = _odd_graph(torch)
    tloss.backward()
    assert _close(e.leaf("x").grad, x.grad.numpy()) and _close(e.leaf("x").grad, tx.grad.numpy())
    assert _close(sum(p.value for p in e.leaf("x").parts), e.leaf("x").grad)


# ---- parameters, observers, errors --------------------------------------------------------------
def test_parameter_names_from_a_module():
    chainrule.manual_seed(0)
    model = chainrule.nn.Sequential(
        chainrule.nn.Linear(3, 4), chainrule.nn.Sigmoid(), chainrule.nn.Linear(4, 1)
    )
    loss = chainrule.nn.functional.mse_loss(model(chainrule.randn(5, 3)), chainrule.randn(5, 1))
    e = viz.explain(loss, dict(model.named_parameters()))
    assert {lg.tensor.name for lg in e.leaves} == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert all(lg.tensor.kind == "parameter" for lg in e.leaves)
    loss.backward()
    for name, p in model.named_parameters():
        assert _close(e.leaf(name).grad, p.grad.numpy()), name
    assert "dl/d0.weight" in str(e)


def test_an_existing_observer_is_chained_and_restored():
    t = lecture_network()

    class Seen:
        def __init__(self):
            self.calls = []

        def after_backward(self, node, g, input_grads):
            self.calls.append((node.name(), float(np.asarray(g))))

    seen = Seen()
    sig = t["a1"].grad_fn
    sig.meta = seen
    e = viz.explain(t["l"], names=_names(t))
    assert sig.meta is seen and seen.calls == [("SigmoidBackward0", float(e.step("a1").upstream))]
    assert all(n.meta is None for n in op_nodes(t["l"]) if n is not sig)


@pytest.mark.filterwarnings(
    "ignore:Anomaly Detection has been enabled", "ignore:Error detected in", "ignore:divide by zero"
)
def test_explain_under_anomaly_mode_keeps_its_checks_and_observers():
    with chainrule.autograd.detect_anomaly():
        t = lecture_network()
        nodes = op_nodes(t["l"])
        before = [n.meta for n in nodes]
        e = viz.explain(t["l"], names=_names(t))
        assert [n.meta for n in nodes] == before  # the same objects, nothing of explain's left
        assert e.leaf("w1").grad == pytest.approx(lecture_by_hand()["dl/dw1"], rel=1e-12)
        x = chainrule.tensor([0.0, 1.0], dtype=chainrule.float64, requires_grad=True)
        y = chainrule.sqrt(x).sum()  # d sqrt(x)/dx = inf at 0: anomaly mode's check raises
        metas = [n.meta for n in op_nodes(y)]
        with pytest.raises(RuntimeError, match="SqrtBackward0"):
            viz.explain(y)
        assert [n.meta for n in op_nodes(y)] == metas


def test_explain_errors_say_what_to_do():
    t = lecture_network()
    with pytest.raises(RuntimeError, match="one element"):
        viz.explain(t["w1"] * chainrule.ones(2, dtype=chainrule.float64))
    with pytest.raises(RuntimeError, match="no graph"):
        viz.explain(t["w1"])
    with pytest.raises(TypeError, match=r"names\['z'\] is a float"):
        viz.explain(t["l"], names={"z": 1.0})
    t["l"].backward()
    with pytest.raises(RuntimeError, match="freed by an earlier backward"):
        viz.explain(t["l"])


# ---- what the graph did not keep ----------------------------------------------------------------
def _unkept_graph(lib):
    a = lib.tensor([[0.5], [1.0], [-2.0]], dtype=lib.float64, requires_grad=True)
    c = lib.tensor([0.5, 0.25, 2.0, 4.0], dtype=lib.float64)
    h = a * 3.0  # (3, 1), kept by no node: add's rule reads no input
    z = h + c  # (3, 4): c is kept by no node either
    return {"a": a, "z": z, "loss": lib.sigmoid(z).sum()}


def test_un_broadcasting_to_an_input_the_graph_did_not_keep():
    t = _unkept_graph(chainrule)
    assert t["z"].grad_fn.inputs == (None, None)  # what this test is about
    e = viz.explain(t["loss"], names={"a": t["a"], "z": t["z"]})
    add = e.step("z")
    assert [(i.name, i.shape, i.kind) for i in add.inputs] == [
        ("t0", (3, 1), "intermediate"),
        ("constant", (4,), "constant"),
    ]
    (d,) = add.downstream  # no gradient for the constant
    assert d.position == 0 and d.local_shape == (3, 4) and d.grad.shape == (3, 1)
    assert d.summed_dims == (1,) and _close(d.grad, d.local.sum(axis=1, keepdims=True))
    assert "summed over dim 1: (3, 4) -> (3, 1)" in str(e)
    assert e.step("t0").output.shape == (3, 1) and _close(e.step("t0").upstream, d.grad)
    ref = _unkept_graph(torch)
    ref["loss"].backward()
    assert _close(e.leaf("a").grad, ref["a"].grad.numpy())


def test_a_custom_function_says_what_it_saved():
    Cube = cube_function(chainrule)
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x)
    source = viz.draw(y.sum(), names={"x": x}).source
    assert "CubeBackward" in source and "saves for backward: 1 tensor (ctx.save_for_backward)" in source
    e = viz.explain(y.sum(), names={"x": x})
    assert _close(e.leaf("x").grad, [3.0, 12.0])
