"""Numbers and shapes in every explanation (the local factor's value beside its formula; the
matrix rules with their operands' shapes), check_by_hand against torch's gradients, and the
notebook views (_repr_html_ self-contained)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from viz_helpers import LECTURE, lecture_by_hand, lecture_network

import chainrule
from chainrule import viz


def _torch_lecture():
    """The lecture's network in torch, every intermediate keeping its gradient."""
    t = lecture_network(torch)
    for k in ("z1", "a1", "z2"):
        t[k].retain_grad()
    t["l"].backward()
    return t


def _down(step, name: str):
    (d,) = [d for d in step.downstream if d.input.name == name]
    return d


# ---- values ---------------------------------------------------------------------------------
def test_the_sigmoid_step_shows_a1_times_one_minus_a1_with_torchs_numbers():
    ref = _torch_lecture()
    # the local derivative d a1 / d z1, as torch computes it
    z = ref["z1"].detach().requires_grad_()
    (local,) = torch.autograd.grad(torch.sigmoid(z), z)
    t = lecture_network()
    e = viz.explain(t["l"], names={k: v for k, v in t.items() if k != "l"})
    d = _down(e.step("a1"), "z1")
    assert float(d.factor) == pytest.approx(local.item(), rel=1e-12)
    up, down = ref["a1"].grad.item(), ref["z1"].grad.item()
    assert d.shown == f"dl/dz1 = dl/da1 * a1 * (1 - a1) = {up:.4g} * {local.item():.4g} = {down:.4g}"
    assert d.shown == "dl/dz1 = dl/da1 * a1 * (1 - a1) = 0.3234 * 0.232 = 0.07503"  # the line
    # the other steps say their numbers too: w2's gradient is dl/dz2 times a1
    mul = _down(e.steps[3], "w2")  # w2 * a1, an unnamed product (t1)
    assert mul.shown == f"dl/dw2 = dl/dt1 * a1 = {ref['z2'].grad.item():.4g} * {ref['a1'].item():.4g} = " + (
        f"{ref['w2'].grad.item():.4g}"
    )
    text, md = str(e), e.to_markdown()
    assert d.shown in text  # one line of the table
    assert f"`{d.shown}`" in md


def test_values_of_larger_tensors_are_abbreviated_by_their_shape():
    x = chainrule.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    y = chainrule.tanh(x)
    small = chainrule.tensor([0.5, -2.0], requires_grad=True)
    loss = y.sum() + (small * small).sum()
    e = viz.explain(loss)
    assert (
        _down(e.step("y"), "x").shown
        == "dl/dx = dl/dy * (1 - y^2) = (2x3) values * (2x3) values = (2x3) values"
    )
    sq = [s for s in e.steps if s.op == "mul"][0]
    ref = torch.tensor([0.5, -2.0], requires_grad=True)
    (ref * ref).sum().backward()
    # x * x: each input's local factor is the other, written in full (two elements)
    parts = {d.shown for d in sq.downstream}
    assert parts == {f"dl/dsmall = dl/d{sq.output.name} * small = [1, 1] * [0.5, -2] = [0.5, -2]"}
    assert np.allclose(e.leaf("small").grad, ref.grad.numpy())


# ---- shapes in the matrix rules ---------------------------------------------------------------
def _batch(lib):
    rng = np.random.default_rng(3)
    A0 = lib.tensor(rng.normal(size=(4, 3)))
    W1 = lib.tensor(rng.normal(size=(3, 5)), requires_grad=True)
    b1 = lib.tensor(rng.normal(size=(5,)), requires_grad=True)
    Z1 = A0 @ W1 + b1  # Z = A W + 1 b^T
    A1 = lib.sigmoid(Z1)
    W2 = lib.tensor(rng.normal(size=(5, 2)), requires_grad=True)
    Y = lib.tensor(rng.normal(size=(4, 2)))
    loss = ((A1 @ W2 - Y) ** 2).mean()
    return A0, W1, b1, Z1, A1, W2, Y, loss


def test_the_matrix_rules_show_shapes_in_the_table_markdown_and_page(tmp_path):
    A0, W1, b1, Z1, A1, W2, Y, loss = _batch(chainrule)
    e = viz.explain(loss)
    mm = e.step("t0")  # A0 @ W1, before the bias
    assert _down(mm, "W1").shown == "dl/dW1 (3x5) = A0^T (3x4) @ dl/dt0 (4x5)"
    add = e.step("Z1")
    assert _down(add, "b1").shown.startswith(
        "dl/db1 (5) = 1^T dl/dZ1 (4x5) = (5) values  (sum over the batch)"
    )
    top = [s for s in e.steps if s.op == "matmul" and s.output.name != "t0"][0]
    assert _down(top, "A1").shown == f"dl/dA1 (4x5) = dl/d{top.output.name} (4x2) @ W2^T (2x5)"
    assert _down(top, "W2").shown == f"dl/dW2 (5x2) = A1^T (5x4) @ dl/d{top.output.name} (4x2)"
    # Rule 0, by the numbers: torch's gradients have the shapes the rules say
    ref = _batch(torch)
    ref[-1].backward()
    for name, t in (("W1", ref[1]), ("b1", ref[2]), ("W2", ref[5])):
        assert np.allclose(e.leaf(name).grad, t.grad.numpy(), rtol=1e-10), name
    flat = " ".join(str(e).split())
    assert "dl/dW1 (3x5) = A0^T (3x4) @ dl/dt0 (4x5)" in flat
    assert "`dl/dW1 (3x5) = A0^T (3x4) @ dl/dt0 (4x5)`" in e.to_markdown()
    page = open(e.save_html(tmp_path / "batch.html"), encoding="utf-8").read()
    assert "dl/dW1 (3x5) = A0^T (3x4) @ dl/dt0 (4x5)" in page and "dl/db1 (5) = 1^T dl/dZ1 (4x5)" in page


def test_linear_shows_torchs_weight_layout():
    rng = np.random.default_rng(4)
    A0 = chainrule.tensor(rng.normal(size=(4, 3)))
    W = chainrule.tensor(rng.normal(size=(5, 3)), requires_grad=True)  # out x in, as nn.Linear
    b = chainrule.tensor(rng.normal(size=(5,)), requires_grad=True)
    Z = chainrule.nn.functional.linear(A0, W, b)
    e = viz.explain(Z.sum())
    s = e.step("Z")
    assert _down(s, "W").shown == "dl/dW (5x3) = dl/dZ^T (5x4) @ A0 (4x3)"
    assert _down(s, "b").shown == "dl/db (5) = 1^T @ dl/dZ (4x5)"
    assert np.allclose(e.leaf("b").grad, np.full(5, 4.0))  # 1^T times a matrix of ones


# ---- check_by_hand ---------------------------------------------------------------------------
def _right_by_hand() -> dict:
    """A student's derivation of the lecture's network, to four significant digits."""
    hand = lecture_by_hand()
    return {k: float(f"{v:.4g}") for k, v in hand.items() if k.startswith("dl/d")}


def test_check_by_hand_accepts_a_right_derivation():
    t = lecture_network()
    # the lecture's variables, which name the tensors (check_by_hand reads them like explain)
    l, z1, a1, z2, w1, b1, w2, b2 = (t[k] for k in ("l", "z1", "a1", "z2", "w1", "b1", "w2", "b2"))  # noqa: E741
    result = viz.check_by_hand(l, _right_by_hand())
    assert result.ok and result.first_wrong is None
    ref = _torch_lecture()
    for v in result.verdicts:  # autograd's values, against torch's
        assert float(v.expected) == pytest.approx(ref[v.key.removeprefix("dl/d")].grad.item(), rel=1e-12)
    # in backward's order: dl/dz2 (step 2), then dl/db2 and dl/da1, dl/dw2 ..., dl/dw1 last (step 7)
    steps = [v.step for v in result.verdicts]
    assert (
        steps == sorted(steps) and result.verdicts[0].key == "dl/dz2" and result.verdicts[-1].key == "dl/dw1"
    )
    assert str(result).startswith("All 7 hand-derived gradients agree with autograd")
    assert all(p.grad is None for p in (w1, b1, w2, b2))  # .grad left alone


def test_check_by_hand_finds_the_first_wrong_step_and_gives_its_rule():
    t = lecture_network()
    l, z1, a1, z2, w1, b1, w2, b2 = (t[k] for k in ("l", "z1", "a1", "z2", "w1", "b1", "w2", "b2"))  # noqa: E741
    hand = _right_by_hand()
    a = lecture_by_hand()["a1"]
    # the classic slip: sigma'(z1) taken as a1 instead of a1 (1 - a1); dl/dw1, dl/db1 follow it
    hand["dl/dz1"] = hand["dl/da1"] * a
    hand["dl/dw1"] = hand["dl/dz1"] * LECTURE["x"]
    hand["dl/db1"] = hand["dl/dz1"]
    result = viz.check_by_hand(l, hand)
    assert not result.ok
    wrong = result.first_wrong
    assert wrong.key == "dl/dz1" and wrong.step == 5
    ref = _torch_lecture()
    assert float(wrong.expected) == pytest.approx(ref["z1"].grad.item(), rel=1e-12)
    assert wrong.rule == "dl/dz1 = dl/da1 * a1 * (1 - a1) = 0.3234 * 0.232 = 0.07503"
    assert [v.key for v in result.verdicts if not v.ok] == ["dl/dz1", "dl/db1", "dl/dw1"]
    text = str(result)
    assert text.startswith("dl/dz1 is the first wrong one, in backward's order (step 5): you have 0.2051")
    assert "autograd gives 0.07503" in text and wrong.rule in text
    assert "fix it first" in text
    assert result.verdict("dl/da1").ok and repr(result) == "<HandCheck: 4 of 7 right, first wrong: dl/dz1>"
    page = result._repr_html_()
    assert "dl/dz1" in page and "wrong" in page and "http" not in page


def test_check_by_hand_tolerances_shapes_and_unknown_names():
    A0, W1, b1, Z1, A1, W2, Y, loss = _batch(chainrule)
    ref = _batch(torch)
    ref[3].retain_grad()
    ref[-1].backward()
    dW1, dZ1 = ref[1].grad.numpy(), ref[3].grad.numpy()
    assert viz.check_by_hand(loss, {"dl/dW1": dW1, "dl/dZ1": dZ1, "dl/db1": dZ1.sum(0)}).ok
    # torch's own tensors (and chainrule's) are values too
    assert viz.check_by_hand(loss, {"dl/dW1": ref[1].grad, "dl/db1": chainrule.tensor(dZ1.sum(0))}).ok
    # the shape check of the lecture: dl/dW must have W's shape
    result = viz.check_by_hand(loss, {"dl/dZ1": dZ1, "dl/dW1": dW1.T})
    assert result.first_wrong.key == "dl/dW1" and "(3, 5) (rule 0)" in result.first_wrong.reason
    # rtol: a value off by 0.5 % passes by default, not with rtol=1e-3
    near = {"dl/dW1": dW1 * 1.005}
    assert viz.check_by_hand(loss, near).ok and not viz.check_by_hand(loss, near, rtol=1e-3).ok
    with pytest.raises(KeyError, match=re.escape("'dl/dW3' is not a gradient of this graph")) as info:
        viz.check_by_hand(loss, {"dl/dW3": 0.0})
    assert "dl/dW1" in str(info.value) and "dl/dZ1" in str(info.value)
    assert all(p.grad is None for p in (W1, b1, W2))


# ---- notebook views ----------------------------------------------------------------------------
def test_repr_html_is_the_page_inline_and_self_contained():
    t = lecture_network()
    e = viz.explain(t["l"], names={k: v for k, v in t.items() if k != "l"})
    inline = e._repr_html_()
    assert inline.startswith("<iframe") and 'srcdoc="' in inline and 'sandbox="allow-scripts"' in inline
    assert "http://" not in inline and "https://" not in inline
    assert not re.search(r"<script[^>]*\bsrc\s*=", inline, re.I)
    assert not re.search(r"&lt;script[^&]*\bsrc\s*=", inline, re.I)  # nor inside the srcdoc
    assert "dl/dz1 = dl/da1 * a1 * (1 - a1) = 0.3234 * 0.232 = 0.07503" in inline
    assert e._repr_markdown_() == e.to_markdown() and str(e).startswith("Backward pass of l")


def test_saved_tensor_hooks_are_unpacked_as_often_as_backward_does():
    """explain shows a hooked node's formula without its values rather than call the user's unpack
    hook once more than torch's backward does."""
    counts = {}
    for lib in (torch, chainrule):
        calls = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        pack = lambda t, calls=calls: (calls.append("pack"), t)[1]  # noqa: E731
        unpack = lambda t, calls=calls: (calls.append("unpack"), t)[1]  # noqa: E731
        with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = lib.sigmoid(x * x).sum()
        if lib is torch:
            y.backward()
        else:
            e = viz.explain(y)
            assert _down(e.step("t1"), "t0").shown == "dl/dt0 = dl/dt1 * t1 * (1 - t1)"
            assert np.allclose(e.leaf("x").grad, counts["grad"])  # torch's x.grad
        counts[lib.__name__] = calls
        if lib is torch:
            counts["grad"] = x.grad.numpy()
    assert counts["chainrule"] == counts["torch"]
