"""docs/lecture.ipynb runs in a Jupyter kernel, computes the lecture's gradients right, and is
committed with its current outputs.

One run (one test: a kernel start costs seconds, and xdist's workers would each start their own
for a module-scoped fixture) executes a temporary copy of the notebook through
``tools/run_notebook.py`` (nbclient and a python3 ipykernel, a time limit per cell), with one
extra cell before the last (which builds section 1's network again under the same names) that
prints the notebook's variables as JSON. The tests check those values
against the hand-derived formulas (Python floats) and against real torch on the same numbers, and
check that the committed file holds the outputs this run gives.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "lecture.ipynb"
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "tests" / "viz")]

import run_notebook  # noqa: E402
from viz_helpers import LECTURE, lecture_by_hand, need_dot  # noqa: E402

CELL_TIMEOUT_S = 90  # per cell: the slowest (500 training steps) takes about a second
MARK = "LECTURE-CHECK "
RERUN = "run `python tools/run_notebook.py` and commit docs/lecture.ipynb"

# inserted into the temporary copy: the variables the lecture computed, read back as JSON
CHECK_CELL = r"""
import json as _json

_hand = {"dl/dz2": dl_dz2, "dl/da1": dl_da1, "dl/dz1": dl_dz1, "dl/dw2": dl_dw2, "dl/db2": dl_db2,
         "dl/dw1": dl_dw1, "dl/db1": dl_db1}
_list = lambda t: t.detach().tolist()
print("LECTURE-CHECK " + _json.dumps({
    "hand": _hand,
    "explain_leaves": {lg.tensor.name: float(lg.grad) for lg in explanation.leaves},
    "explain_dl_dz1": float(explanation.step("a1").downstream[0].grad),
    "batch": {k: _list(v) for k, v in dict(A=A, W=W, b=b, T=T, dA=dA, dW=dW, db=db,
                                            dl_dA=dl_dA, dl_dW=dl_dW, dl_db=dl_db).items()},
    "df": [df_dx.item(), df_dy.item()],
    "logdet": {"X": _list(X), "grad": _list(X.grad), "numeric": _list(numeric)},
    "regression": {"x": _list(x), "y": _list(y), "bhat": _list(bhat), "losses": losses,
                   "module_losses": module_losses, "model_bhat": _list(model.bhat),
                   "least_squares": _list(least_squares)},
}))
"""


def execute_copy(work: Path) -> dict:
    """Execute a copy of the notebook with the check cell; returns the executed notebook (as
    tools/run_notebook.py saves it, without the check cell) and the values the check cell printed."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    last_code = max(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells.insert(last_code, nbformat.v4.new_code_cell(CHECK_CELL))
    copy, executed = work / "lecture.ipynb", work / "executed.ipynb"
    nbformat.write(nb, copy)
    args = ["--notebook", str(copy), "--output", str(executed), "--timeout", str(CELL_TIMEOUT_S)]
    assert run_notebook.main(args) == 0
    out = nbformat.read(executed, as_version=4)
    check = out.cells.pop(last_code)
    line = next(ln for ln in _stream(check).splitlines() if ln.startswith(MARK))
    return {"nb": out, "values": json.loads(line[len(MARK) :])}


def _code_cell(nb, starts: str):
    return next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith(starts))


def _stream(cell) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream")


# ---- what the notebook computed -----------------------------------------------------------------
def check_hand_derived_scalar_network(run: dict) -> None:
    """The notebook's plain-Python backward pass gives the lecture's formulas' numbers, and the
    autograd gradients (as explain recorded them) equal them, to float32's precision."""
    v, expected = run["values"], lecture_by_hand()
    for key, value in v["hand"].items():
        assert value == pytest.approx(expected[key], rel=1e-12), key
    for name in ("w1", "b1", "w2", "b2"):
        assert v["explain_leaves"][name] == pytest.approx(expected[f"dl/d{name}"], rel=1e-6), name
    assert v["explain_dl_dz1"] == pytest.approx(expected["dl/dz1"], rel=1e-6)
    # and torch agrees (float32, as in the notebook)
    t = {k: torch.tensor(val, requires_grad=k not in ("x", "y")) for k, val in LECTURE.items()}
    ((t["y"] - (t["w2"] * torch.sigmoid(t["w1"] * t["x"] + t["b1"]) + t["b2"])) ** 2).backward()
    for name in ("w1", "b1", "w2", "b2"):
        assert v["explain_leaves"][name] == pytest.approx(t[name].grad.item(), rel=1e-6), name


def check_matrix_rules_on_the_batch(run: dict) -> None:
    """dl/dW = A^T dl/dZ, dl/db = dl/dZ^T 1, dl/dA = dl/dZ W^T, as the notebook computed them,
    have the parameters' shapes and equal torch's autograd on the same A, W, b, T."""
    v = {k: np.array(x, dtype=np.float32) for k, x in run["values"]["batch"].items()}
    A, W, b = (torch.tensor(v[k], requires_grad=True) for k in ("A", "W", "b"))
    loss = ((torch.sigmoid(A @ W + b) - torch.tensor(v["T"])) ** 2).mean()
    grads = dict(zip(("A", "W", "b"), torch.autograd.grad(loss, (A, W, b))))
    for name, g in grads.items():
        assert v[f"dl_d{name}"].shape == v[name].shape, name  # rule 0
        np.testing.assert_allclose(v[f"dl_d{name}"], g.numpy(), rtol=1e-5, atol=1e-7, err_msg=name)
        np.testing.assert_allclose(v[f"d{name}"], g.numpy(), rtol=1e-5, atol=1e-7, err_msg=name)


def check_autograd_section(run: dict) -> None:
    """f = x + log x + sin(xy) at (1, 2): the printed autograd gradients and the no_grad formulas
    equal 1 + 1/x + y cos(xy) and x cos(xy)."""
    dfdx, dfdy = 2.0 + 2.0 * math.cos(2.0), math.cos(2.0)
    assert run["values"]["df"] == pytest.approx([dfdx, dfdy], rel=1e-6)
    printed = _stream(_code_cell(run["nb"], "x = torch.tensor([1.0]"))
    auto = re.search(r"autograd: tensor\(\[(\S+)\]\) tensor\(\[(\S+)\]\)", printed)
    assert auto, printed
    assert [float(auto[1]), float(auto[2])] == pytest.approx([dfdx, dfdy], abs=1e-4)


def check_logdet_gradient(run: dict) -> None:
    """d logdet X / dX = X^{-T}: the notebook's autograd and finite differences agree with it."""
    v = run["values"]["logdet"]
    X = np.array(v["X"])
    inv_t = np.linalg.inv(X).T
    assert not np.allclose(inv_t, inv_t.T)  # a non-symmetric X: the transpose matters
    np.testing.assert_allclose(v["grad"], inv_t, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(v["numeric"], inv_t, atol=1e-8)


def check_gradient_descent_matches_torch(run: dict) -> None:
    """Sections 3 and 4 on the notebook's data give torch's losses and fit, and both loops give
    the same numbers; the fit approaches least squares."""
    v = run["values"]["regression"]
    x, y = torch.tensor(v["x"]), torch.tensor(v["y"])
    bhat = torch.zeros(x.shape[1], requires_grad=True)
    losses = []
    for _ in range(len(v["losses"])):
        loss = torch.mean(torch.square(y - torch.matmul(x, bhat)))
        loss.backward()
        losses.append(loss.item())
        with torch.no_grad():
            bhat -= 0.01 * bhat.grad
        bhat.grad = None
    np.testing.assert_allclose(v["losses"], losses, rtol=1e-5)
    np.testing.assert_allclose(v["bhat"], bhat.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert v["module_losses"] == v["losses"]
    assert v["model_bhat"] == v["bhat"]
    lstsq = np.linalg.lstsq(np.array(v["x"], np.float64), np.array(v["y"], np.float64), rcond=None)[0]
    np.testing.assert_allclose(v["least_squares"], lstsq, atol=1e-4)
    np.testing.assert_allclose(v["bhat"], lstsq, atol=2e-3)


# ---- the committed file -------------------------------------------------------------------------
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def _text_outputs(cell) -> list[tuple[str, str]]:
    """A cell's outputs as (kind, text); images and SVG as their kind only (they depend on the
    installed matplotlib / Graphviz versions, not on chainrule)."""
    out = []
    for o in cell.outputs:
        if o.output_type == "stream":
            out.append((o.name, o.text))
        elif o.output_type == "error":
            out.append(("error", f"{o.ename}: {o.evalue}"))
        else:
            for kind, data in sorted(o.data.items()):
                out.append((kind, data if kind.startswith("text/") else ""))
    return out


def _same_text(committed: str, fresh: str) -> bool:
    """Equal words, and numbers equal to about 4 digits (a BLAS may round the last ones apart)."""
    if NUMBER.sub("#", committed) != NUMBER.sub("#", fresh):
        return False
    pairs = zip(NUMBER.findall(committed), NUMBER.findall(fresh))
    return all(math.isclose(float(a), float(b), rel_tol=1e-3, abs_tol=1e-6) for a, b in pairs)


def check_committed_outputs_are_current(run: dict) -> None:
    """Every code cell of docs/lecture.ipynb was executed, in order, and holds the outputs that
    running it now gives: the file reads on a code host without being run."""
    committed = nbformat.read(NOTEBOOK, as_version=4)
    fresh = run["nb"].cells
    assert [c.source for c in committed.cells] == [c.source for c in fresh], RERUN
    code = [(c, f) for c, f in zip(committed.cells, fresh) if c.cell_type == "code"]
    assert [c.execution_count for c, _ in code] == list(range(1, len(code) + 1)), RERUN
    for c, f in code:
        ours, theirs = _text_outputs(c), _text_outputs(f)
        assert [k for k, _ in ours] == [k for k, _ in theirs], f"{c.source[:60]!r}: {RERUN}"
        for (kind, a), (_, b) in zip(ours, theirs):
            assert _same_text(a, b), f"{kind} of {c.source[:60]!r} is stale: {RERUN}\n{a}\n---\n{b}"
    kinds = {k for c, _ in code for k, _ in _text_outputs(c)}
    assert {"image/svg+xml", "image/png", "text/markdown", "stdout"} <= kinds  # graph, plot, table


def check_saved_file_is_deterministic(run: dict) -> None:
    """What run_notebook.py saves has no timestamps or machine-specific metadata, no memory
    addresses, and each cell's printed text in one piece."""
    nb = run["nb"]
    assert nb.metadata == run_notebook.METADATA
    for cell in nb.cells:
        assert "execution" not in cell.metadata
        if cell.cell_type != "code":
            continue
        kinds = [o.output_type for o in cell.outputs]
        assert all(not (a == b == "stream") for a, b in zip(kinds, kinds[1:])), cell.source[:60]
        for o in cell.outputs:
            assert not run_notebook.DEFAULT_REPR.search(o.get("data", {}).get("text/plain", ""))


def test_strip_volatile_joins_streams_and_drops_addresses() -> None:
    """strip_volatile on outputs as a kernel sends them: a print split across two messages, and a
    graph's SVG beside its default repr."""
    new_output = nbformat.v4.new_output
    cell = nbformat.v4.new_code_cell("print(1); print(2); draw()")
    cell.metadata["execution"] = {"iopub.status.busy": "2026-12-06T12:00:00.000000Z"}
    cell.outputs = [
        new_output("stream", name="stdout", text="1\n"),
        new_output("stream", name="stdout", text="2\n"),
        new_output("stream", name="stderr", text="warning\n"),
        new_output(
            "execute_result",
            data={"image/svg+xml": "<svg/>", "text/plain": "<graphviz.graphs.Digraph at 0x7f3a2c1d0e10>"},
            execution_count=1,
        ),
        new_output("execute_result", data={"text/plain": "<Figure size 600x350 with 1 Axes>"}),
    ]
    nb = nbformat.v4.new_notebook(
        cells=[cell], metadata={"language_info": {"name": "python", "version": "3.11.7"}}
    )
    run_notebook.strip_volatile(nb)
    assert nb.metadata == run_notebook.METADATA
    assert "execution" not in cell.metadata
    assert [(o.output_type, o.get("text")) for o in cell.outputs[:2]] == [
        ("stream", "1\n2\n"),
        ("stream", "warning\n"),
    ]
    assert cell.outputs[2].data == {"image/svg+xml": "<svg/>"}
    assert cell.outputs[3].data == {"text/plain": "<Figure size 600x350 with 1 Axes>"}


def test_lecture_notebook(tmp_path) -> None:
    """docs/lecture.ipynb runs in a kernel, and every check above holds for that one run."""
    run = execute_copy(tmp_path)
    checks = [
        check_hand_derived_scalar_network,
        check_matrix_rules_on_the_batch,
        check_autograd_section,
        check_logdet_gradient,
        check_gradient_descent_matches_torch,
        check_saved_file_is_deterministic,
    ]
    errors = []
    for check in checks:  # all of them, so one run reports every failure
        try:
            check(run)
        except AssertionError as e:
            errors.append(f"{check.__name__}: {e}")
    assert not errors, "\n\n".join(errors)
    need_dot()  # the graph's cell shows an SVG only where Graphviz's dot renders it
    check_committed_outputs_are_current(run)


def test_docs_link_the_notebook() -> None:
    """The tutorial and the README's documentation list point at the notebook."""
    for page, link in (
        (ROOT / "docs" / "tutorial.md", "lecture.ipynb"),
        (ROOT / "README.md", "docs/lecture.ipynb"),
    ):
        text = page.read_text(encoding="utf-8")
        assert f"]({link})" in text, page
        assert (page.parent / link).resolve() == NOTEBOOK
