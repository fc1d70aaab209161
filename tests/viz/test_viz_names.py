"""Names by default: explain and draw name tensors by the variables that hold them in the calling
frame (locals, then globals: a notebook cell's), modules' parameters by their qualified names,
and names= still wins tensor by tensor."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import weakref
from pathlib import Path

import numpy as np
import pytest
import torch
from viz_helpers import LECTURE, lecture_by_hand

import chainrule
from chainrule import viz


def test_names_come_from_the_callers_locals():
    x, y = chainrule.tensor(LECTURE["x"]), chainrule.tensor(LECTURE["y"])
    w1, b1, w2, b2 = (chainrule.tensor(LECTURE[k], requires_grad=True) for k in ("w1", "b1", "w2", "b2"))
    z1 = w1 * x + b1
    a1 = chainrule.sigmoid(z1)
    z2 = w2 * a1 + b2
    loss = (y - z2) ** 2
    e = viz.explain(loss)
    assert e.loss_name == "l"  # the lecture's dl/d..., whatever variable holds the loss
    assert e.step("a1").formula == "dl/dz1 = dl/da1 * a1 * (1 - a1)"
    assert [s.output.name for s in e.steps if not s.output.name.startswith("t")] == ["l", "z2", "a1", "z1"]
    assert [lg.tensor.name for lg in e.leaves] == ["w1", "b1", "w2", "b2"]
    assert e.step("z2").inputs[1].name == "b2"
    hand = lecture_by_hand()
    assert e.leaf("w1").grad == pytest.approx(hand["dl/dw1"], rel=1e-6)
    source = viz.draw(loss).source  # draw names the same way, the loss included
    for name in ("w1", "b1", "z1", "a1", "z2", "loss"):
        assert f"<B>{name}</B>" in source or f"\u2192 {name}" in source, name


_CELL = """
import chainrule as torch
from chainrule import viz
x = torch.tensor([[1.5, -0.5]])
w = torch.tensor([[0.5], [2.0]], requires_grad=True)
_ = w                      # IPython's last-result names start with _: never a tensor's name
h = x @ w
_7 = h
out = torch.tanh(h).sum()
expl = viz.explain(out)
"""


def test_names_come_from_a_notebook_cells_globals():
    # a notebook cell runs as code in the globals of __main__: the same frame shape as this exec
    ns = {"__name__": "__main__"}
    exec(compile(_CELL, "<cell>", "exec"), ns)
    e = ns["expl"]
    assert [lg.tensor.name for lg in e.leaves] == ["w"]
    assert e.step("h").formula == "dl/dw = x^T dl/dh"
    ref_x = torch.tensor([[1.5, -0.5]])
    ref_w = torch.tensor([[0.5], [2.0]], requires_grad=True)
    torch.tanh(ref_x @ ref_w).sum().backward()
    assert np.allclose(e.leaf("w").grad, ref_w.grad.numpy(), rtol=1e-6)


def test_module_parameters_by_their_qualified_names_and_their_gradients():
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Sigmoid(), torch.nn.Linear(4, 1))
    nn = chainrule.nn
    model = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 1))
    with chainrule.no_grad():
        for p, q in zip(model.parameters(), ref.parameters()):
            p.copy_(chainrule.tensor(q.detach().numpy()))
    data = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    inputs = chainrule.tensor(data)
    loss = model(inputs).pow(2).mean()
    e = viz.explain(loss)
    names = ["model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias"]
    assert sorted(lg.tensor.name for lg in e.leaves) == sorted(names)
    assert all(lg.tensor.kind == "parameter" for lg in e.leaves)
    ref(torch.tensor(data)).pow(2).mean().backward()
    for name, q in zip(names, ref.parameters()):
        assert np.allclose(e.leaf(name).grad, q.grad.numpy(), rtol=1e-5, atol=1e-7), name
    assert "dl/dmodel.2.weight" in str(e)
    source = viz.draw(loss).source  # draw too
    assert all(f"<B>{n}</B>" in source for n in names) and "<B>inputs</B>" in source
    # params= and names= win over the frame's names
    e2 = viz.explain(loss, params=dict(model.named_parameters()))
    assert sorted(lg.tensor.name for lg in e2.leaves) == sorted(n.removeprefix("model.") for n in names)


def test_names_override_tensor_by_tensor_and_the_rest_keep_their_variables():
    a = chainrule.tensor([0.5, -1.0], requires_grad=True)
    b = chainrule.tensor([2.0, 3.0], requires_grad=True)
    hidden = a * b
    loss = chainrule.exp(hidden).sum()
    e = viz.explain(loss, names={"p": hidden, "L": loss})
    assert e.loss_name == "L" and e.step("p").formula == "dL/da = dL/dp * b,  dL/db = dL/dp * a"
    assert [lg.tensor.name for lg in e.leaves] == ["a", "b"]
    e = viz.explain(loss, names={"b": a})  # a name taken by names= is not reused for another tensor
    assert [lg.tensor.name for lg in e.leaves] == ["b", "t0"]
    e = viz.explain(loss, auto_names=False)
    assert [lg.tensor.name for lg in e.leaves] == ["t0", "t1"]


def _explain_inside_a_helper(t: dict):
    """A helper that names the tensors itself: its own locals (t, local_loss) do not interfere."""
    local_loss = t["l"]
    return viz.explain(local_loss, names={k: v for k, v in t.items() if k != "l"})


def test_explain_inside_a_helper_with_explicit_names():
    x = chainrule.tensor(2.0)
    w = chainrule.tensor(0.25, requires_grad=True)
    z = w * x
    e = _explain_inside_a_helper({"x": x, "w": w, "z": z, "l": chainrule.sin(z)})
    assert e.loss_name == "l" and [lg.tensor.name for lg in e.leaves] == ["w"]
    assert e.step("z").formula == "dl/dw = dl/dz * x"
    assert e.leaf("w").grad == pytest.approx(np.cos(0.5) * 2.0, rel=1e-6)


def test_the_first_name_bound_to_the_tensor_wins():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    a0 = x  # the lecture's a0 = x: one tensor, two names; the first bound names it
    z = (a0 * 3.0).sum()
    e = viz.explain(z)
    assert [lg.tensor.name for lg in e.leaves] == ["x"]


class _Witness:
    pass


def _explain_and_forget() -> weakref.ref:
    witness = _Witness()  # a local of the caller: alive only while the frame is
    w = chainrule.tensor([1.0, 2.0], requires_grad=True)
    viz.explain((w * w).sum())
    viz.draw((w * 2.0).sum())
    return weakref.ref(witness)


def test_reading_the_callers_frame_keeps_no_reference_to_it():
    gc.collect()
    gc.disable()  # without the cycle collector, only plain reference counts free the frame
    try:
        ref = _explain_and_forget()
        assert ref() is None
    finally:
        gc.enable()


_IPYTHON = r"""
import json, sys
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
cells = [
    "import chainrule as torch\nfrom chainrule import viz",
    "x = torch.tensor([[1.5, -0.5]])\nw = torch.tensor([[0.5], [2.0]], requires_grad=True)",
    "h = x @ w\nout = torch.tanh(h).sum()\nh",  # the cell's value: IPython keeps it as _ and _3
    "expl = viz.explain(out)\ncheck = viz.check_by_hand(out, {'dl/dh': 0.5})",
]
for code in cells:
    result = shell.run_cell(code)
    if not result.success:
        sys.exit(f"cell failed: {code!r}: {result.error_in_exec!r}")
ns = shell.user_ns
bundle, _ = shell.display_formatter.format(ns["expl"])
check, _ = shell.display_formatter.format(ns["check"])
print(json.dumps({
    "leaves": [lg.tensor.name for lg in ns["expl"].leaves],
    "rule": ns["expl"].step("h").formula,
    "html": bundle.get("text/html", ""),
    "markdown": bundle.get("text/markdown", ""),
    "check_html": check.get("text/html", ""),
    "check_first": ns["check"].first_wrong.key if ns["check"].first_wrong else None,
}))
"""


def test_in_a_real_ipython_shell_the_cells_variables_name_the_tensors(tmp_path):
    """IPython runs each cell in the user's namespace (its __main__ globals), keeps cell values as
    _ and _3, and shows an object by its _repr_html_: all real, in a fresh process."""
    script = tmp_path / "shell.py"
    script.write_text(_IPYTHON, encoding="utf-8")
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "IPYTHONDIR": str(tmp_path / "ipython"), "PYTHONPATH": src}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["leaves"] == ["w"] and got["rule"] == "dl/dw = x^T dl/dh"
    assert got["html"].startswith("<iframe") and "https://" not in got["html"]
    assert got["markdown"].startswith("**Backward pass of l")
    assert got["check_first"] == "dl/dh" and "dl/dh" in got["check_html"]
