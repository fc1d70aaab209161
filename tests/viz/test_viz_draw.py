"""viz.draw: the DOT graph's nodes and labels, rendering through a real `dot`, and the error
when `dot` is missing (a subprocess with an empty PATH)."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import graphviz
import pytest
from viz_helpers import lecture_network, need_dot, op_nodes

import chainrule
from chainrule import viz
from chainrule.viz._graph import shape_text, short_value

_NODE = re.compile(r"^\t(\w+) \[label=<(.*)> .*\]$")
_EDGE = re.compile(r"^\t(\w+) -> (\w+)")


def _nodes(g) -> dict[str, str]:
    """DOT node id -> its label as plain text (tags dropped, lines joined by ' | ')."""
    out = {}
    for line in g.source.splitlines():
        m = _NODE.match(line)
        if m:
            text = re.sub(r"<BR/>", " | ", m.group(2))
            out[m.group(1)] = html.unescape(re.sub(r"<[^>]+>", "", text))
    return out


def _edges(g) -> list[tuple[str, str]]:
    return [m.groups() for m in map(_EDGE.match, g.source.splitlines()) if m]


def _lecture_graph(**kwargs):
    t = lecture_network()
    return t, viz.draw(t["l"], names=t, **kwargs)


def test_one_node_per_op_leaf_constant_and_output():
    t, g = _lecture_graph()
    assert isinstance(g, graphviz.Digraph)
    nodes = _nodes(g)
    ops = {k: v for k, v in nodes.items() if k.startswith("op")}
    assert len(ops) == len(op_nodes(t["l"])) == 7
    assert Counter(v.split(" | ")[0] for v in ops.values()) == Counter(n.name() for n in op_nodes(t["l"]))
    leaves = {v.split(" | ")[0] for k, v in nodes.items() if k.startswith("leaf")}
    assert leaves == {"w1", "b1", "w2", "b2"}
    # x and the exponent 2 are kept (mul's and pow's rules read them); y is not (sub's rule does
    # not), so the graph knows only its shape: it is drawn as an unnamed constant
    assert {v.split(" | ")[0] for k, v in nodes.items() if k.startswith("const")} == {"x", "constant", "2"}
    (unkept,) = [k for k, v in nodes.items() if v.startswith("constant |")]
    assert nodes[unkept] == "constant | () float64"
    (sub_id,) = [k for k, v in ops.items() if v.startswith("SubBackward0")]
    assert [e for e in _edges(g) if e[0] == unkept] == [(unkept, sub_id)]
    assert nodes["out0"].startswith("l | () float64")
    assert len(nodes) == 7 + 4 + 3 + 1
    # every op has one edge per input it keeps (its ``edges``: next_functions shows torch's inputs,
    # without pow's exponent), plus the edge into the output
    assert len(_edges(g)) == sum(len(n.edges) for n in op_nodes(t["l"])) + 1
    (pow_id,) = [k for k, v in ops.items() if v.startswith("PowBackward0")]
    assert [e for e in _edges(g) if e[1] == "out0"] == [(pow_id, "out0")]


def test_labels_name_shape_dtype_and_what_is_saved():
    _, g = _lecture_graph()
    nodes = _nodes(g)
    by_name = {v.split(" | ")[0]: v for v in nodes.values()}
    assert "() float64 leaf" in by_name["w1"]
    assert "() float64 constant" in by_name["x"]
    sig = by_name["SigmoidBackward0"]
    assert "\u2192 a1" in sig and "saves for backward: its output a1" in sig
    # z1 and z2 are read only by ops that keep no inputs: named through their grad_fn
    adds = sorted(v for v in nodes.values() if v.startswith("AddBackward0"))
    assert ["\u2192 z1  () float64" in v for v in adds] == [True, False]
    assert ["\u2192 z2  () float64" in v for v in adds] == [False, True]
    muls = [v for v in nodes.values() if v.startswith("MulBackward0")]
    assert any("saves for backward: w1, x" in v for v in muls)
    assert any("saves for backward: w2, a1" in v for v in muls)
    adds = [v for v in nodes.values() if v.startswith("AddBackward0")]
    assert len(adds) == 2 and not any("saves" in v for v in adds)  # add's rule reads no values


def test_show_values_adds_the_values():
    _, plain = _lecture_graph()
    _, valued = _lecture_graph(show_values=True)
    w1 = [v for v in _nodes(valued).values() if v.startswith("w1 |")][0]
    assert w1.endswith("| 0.5")
    assert not any(v.endswith("| 0.5") for v in _nodes(plain).values())
    sig = [v for v in _nodes(valued).values() if v.startswith("SigmoidBackward0")][0]
    assert sig.endswith(f"| {1 / (1 + 2.718281828459045**-0.55):.4g}")


def test_show_values_does_not_show_a_value_that_an_in_place_op_overwrote():
    a = chainrule.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 2  # [2, 4, 6]
    early = b.sin()  # sin keeps b, the tensor a * 2 made, to draw: its values are overwritten below
    b.add_(1)  # [3, 5, 7]: kept only as a copy by mul_(a), whose rule reads it
    b.mul_(a)  # [3, 10, 21]: kept by nobody (mul by a number reads no input)
    b.mul_(3)  # [9, 30, 63]: the one array holds only this now
    v = b.sum_to_size(3)  # an op whose output is b's very array, read by exp (which keeps none)
    g = viz.draw(v.exp().sum(), early, names={"a": a, "b": b}, show_values=True, auto_names=False)
    ops = [
        label
        for k, label in _nodes(g).items()
        if k.startswith("op") and not label.startswith(("SinBackward0", "ExpBackward0", "SumBackward0"))
    ]
    assert ops[0].startswith("MulBackward0 | a * 2")
    assert ops[0].endswith("| value overwritten by a later in-place op"), ops[0]
    assert ops[1].startswith("AddBackward0 | t0 + 1") and ops[1].endswith("| [3, 5, 7]")
    assert ops[2].startswith("MulBackward0 | \u2192 t2") and ops[2].endswith("| value not saved for backward")
    assert ops[3].startswith("MulBackward0 | t2 * 3 | \u2192 b") and ops[3].endswith("| [9, 30, 63]")
    assert v._data is b._data and ops[4].startswith("SumBackward1")
    assert ops[4].endswith("| value not saved for backward")
    assert not any("[9, 30, 63]" in label for label in ops[:3] + ops[4:])


def test_parameter_names_from_a_sequential():
    chainrule.manual_seed(0)
    model = chainrule.nn.Sequential(
        chainrule.nn.Linear(3, 4), chainrule.nn.Sigmoid(), chainrule.nn.Linear(4, 1)
    )
    loss = chainrule.nn.functional.mse_loss(model(chainrule.randn(5, 3)), chainrule.randn(5, 1))
    g = viz.draw(loss, params=dict(model.named_parameters()))
    nodes = _nodes(g)
    leaves = sorted(v for k, v in nodes.items() if k.startswith("leaf"))
    assert leaves == [
        "0.bias | (4,) float32 parameter",
        "0.weight | (4, 3) float32 parameter",
        "2.bias | (1,) float32 parameter",
        "2.weight | (1, 4) float32 parameter",
    ]
    ops = Counter(v.split(" | ")[0] for k, v in nodes.items() if k.startswith("op"))
    assert ops == Counter(n.name() for n in op_nodes(loss)) and ops["AddmmBackward0"] == 2


def test_unnamed_tensors_get_generic_names_and_several_outputs_share_a_graph():
    a = chainrule.tensor([1.0, 2.0], requires_grad=True)
    h = a * 3.0
    g = viz.draw(h.sum(), h.exp().mean(), auto_names=False)
    nodes = _nodes(g)
    assert nodes["leaf0"].startswith("t0 | (2,) float32 leaf")
    assert [k for k in nodes if k.startswith("out")] == ["out0", "out1"]
    assert sum(1 for k in nodes if k.startswith("op")) == 4  # mul, sum, exp, mean: mul once
    assert "t0 * 3" in nodes["op0"]


def test_tensors_the_graph_did_not_keep_have_their_shapes_and_no_values():
    a = chainrule.tensor([[0.0], [1.0], [2.0]], requires_grad=True)
    c = chainrule.tensor([0.5, 0.25, 2.0, 4.0])
    h = a + c  # add keeps neither input: c is known by its shape only
    k = -h  # neg keeps nothing and records no shapes: h is shaped like k, k like exp's output
    m = k.exp()  # exp keeps its output
    n = m.sum(0) * c  # sum records its input's shape; mul keeps both inputs
    loss = n.sum()
    nodes = _nodes(viz.draw(loss, show_values=True, auto_names=False))
    ops = [v for k_, v in nodes.items() if k_.startswith("op")]
    assert [v.split(" | ")[0] for v in ops] == [
        "AddBackward0",
        "NegBackward0",
        "ExpBackward0",
        "SumBackward1",
        "MulBackward0",
        "SumBackward0",
    ]
    for label, t in zip(ops, (h, k, m, m.sum(0), n, loss)):
        assert f"  {shape_text(tuple(t.shape))} float32 |" in label, label
    kept = {0: False, 1: False, 2: True, 3: True, 4: False, 5: True}  # by exp, mul, the root
    for i, label in enumerate(ops):
        assert label.endswith("| value not saved for backward") != kept[i], label
    assert ops[2].endswith("| " + short_value(m._data))
    consts = sorted(v for k_, v in nodes.items() if k_.startswith("const"))
    assert consts == [
        "constant | (4,) float32 | value not saved for backward",
        "t5 | (4,) float32 constant | [0.5, 0.25, 2, 4]",
    ]  # c, as add and mul saw it
    # a name finds its tensor through the tensor's grad_fn, kept or not; a constant that no node
    # kept cannot be told from another of its shape, so it stays unnamed
    named = _nodes(viz.draw(loss, names={"h": h, "c": c}, show_values=True, auto_names=False))
    assert [v for v in named.values() if v.startswith("AddBackward0")] == [
        "AddBackward0 | \u2192 h  (3, 4) float32 | [[0.5, ..., 4], ..., [2.5, ..., 6]]"
    ]
    assert sorted(v.split(" | ")[0] for k_, v in named.items() if k_.startswith("const")) == ["c", "constant"]


def test_anomaly_mode_keeps_every_input_so_every_constant_is_named():
    with pytest.warns(UserWarning, match="Anomaly Detection"), chainrule.autograd.detect_anomaly():
        t = lecture_network()
    nodes = _nodes(viz.draw(t["l"], names=t, show_values=True))
    assert {v.split(" | ")[0] for k, v in nodes.items() if k.startswith("const")} == {"x", "y", "2"}
    assert [v for v in nodes.values() if v.startswith("y |")] == ["y | () float64 constant | 0.8"]
    # what an op saves for its derivative is what its rule reads, not what anomaly mode keeps
    assert not any("saves" in v for v in nodes.values() if v.startswith(("AddBackward0", "SubBackward0")))


def test_a_freed_graph_still_draws_its_ops():
    t = lecture_network()
    t["l"].backward()
    g = viz.draw(t["l"], names=t, show_values=True)
    nodes = _nodes(g)
    ops = [v for k, v in nodes.items() if k.startswith("op")]
    assert len(ops) == 7 and sum(1 for k in nodes if k.startswith("leaf")) == 4
    for label in ops:
        saved = label.startswith(("MulBackward0", "SigmoidBackward0", "PowBackward0"))
        assert (": freed by backward" in label) == saved, label
        assert saved or "save" not in label, label
    (sig,) = [v for v in ops if v.startswith("SigmoidBackward0")]
    assert "saved its output a1: freed by backward | 0.6341" in sig  # a1 is named: still known
    (sub,) = [v for v in ops if v.startswith("SubBackward0")]
    assert sub.endswith("| value freed by backward")  # pow had kept it
    # the three constants: y's shape was recorded by sub; x and 2, kept by mul and pow, are gone
    assert sorted(v for k, v in nodes.items() if k.startswith("const")) == [
        "constant | () float64 | value not saved for backward",
        "constant | value freed by backward",
        "constant | value freed by backward",
    ]


def test_draw_errors():
    with pytest.raises(TypeError, match="at least one tensor"):
        viz.draw()
    with pytest.raises(TypeError, match="expected Tensors, got float"):
        viz.draw(1.0)


def test_render_svg_png_pdf_with_dot(tmp_path):
    need_dot()
    _, g = _lecture_graph(show_values=True)
    svg = g.pipe(format="svg", encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for node_id in _nodes(g):  # the ids the explain page highlights by
        assert f'id="{node_id}"' in svg
    assert "SigmoidBackward0" in svg and "w1" in svg
    png = Path(g.render(tmp_path / "lecture", format="png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert g.pipe(format="pdf")[:5] == b"%PDF-"
    bundle = g._repr_mimebundle_()  # what Jupyter shows inline
    assert bundle["image/svg+xml"].count("<svg") == 1


_NO_DOT = """
import json, sys
sys.path.insert(0, {helpers!r})
import graphviz
from viz_helpers import lecture_network
from chainrule import viz
t = lecture_network()
g = viz.draw(t["l"])
out = {{"source": g.source}}
try:
    g.render({target!r}, format="svg")
except Exception as e:
    out.update(type=type(e).__name__, message=str(e),
               is_graphviz_error=isinstance(e, graphviz.ExecutableNotFound))
out["jupyter"] = g._repr_mimebundle_()
print(json.dumps(out))
"""


def test_without_dot_the_source_is_made_and_render_says_how_to_install(tmp_path):
    code = _NO_DOT.format(helpers=str(Path(__file__).parent), target=str(tmp_path / "g"))
    env = {**os.environ, "PATH": ""}  # no dot to be found
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["source"].startswith("digraph") and "SigmoidBackward0" in out["source"]
    assert out["type"] == "DotNotFoundError" and out["is_graphviz_error"]
    for hint in ("apt install graphviz", "brew install graphviz", "conda install", "`dot`", ".source"):
        assert hint in out["message"], hint
    assert "apt install graphviz" in out["jupyter"]["text/plain"]
    assert not (tmp_path / "g.svg").exists()
