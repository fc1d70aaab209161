"""docs/tutorial.md shows what the code prints now: the explain table of section 1, and the
outputs of the two example files of "When a gradient goes wrong", run as the page says."""

from __future__ import annotations

import re
from pathlib import Path

from oracle import ROOT, run_python

import chainrule as torch

TUTORIAL = (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")
SHOWN_PATH = "/tmp/example.py"  # where the page says the example files were saved


def blocks(after: str) -> list[tuple[str, str]]:
    """The fenced blocks (language, text) from the first line containing ``after`` to the next
    heading."""
    start = TUTORIAL.index(after)
    heading = re.compile(r"^#{1,6} \S", re.M).search(TUTORIAL, start)
    section = TUTORIAL[start : heading.start() if heading else None]
    return re.findall(r"```(\w*)\n(.*?)```", section, flags=re.S)


def run_code(code: str, tmp_path: Path) -> str:
    """What the tutorial's ``code`` prints, run as a script (shown under the tutorial's path)."""
    path = tmp_path / "example.py"
    path.write_text(code, encoding="utf-8")
    done = run_python(path, timeout=120, flags=("-W", "ignore"))
    return (done.stdout + done.stderr).replace(str(path), SHOWN_PATH)


def _lecture_scope() -> dict:
    """Section 1's code run as a notebook cell runs (in a module's globals), without rendering."""
    (lang, code) = blocks("In chainrule it is five lines")[0]
    assert lang == "python"
    code = code.replace('viz.draw(l, show_values=True).render("lecture-graph", format="svg")', "")
    scope: dict = {"__name__": "__main__"}
    exec(compile(code, "tutorial", "exec"), scope)
    assert scope["torch"] is torch
    return scope


def test_the_explain_table_is_what_print_shows():
    (_, shown) = blocks("In chainrule it is five lines")[1]
    scope = _lecture_scope()
    # explain called from the cell's code: the tensors are named by its variables
    exec(compile("printed = str(viz.explain(l))", "tutorial", "exec"), scope)
    assert scope["printed"].startswith(shown.rstrip("\n") + "\n\nLeaf gradients")


def test_the_check_by_hand_example_prints_what_is_shown():
    (lang, code), (_, shown) = blocks("`viz.check_by_hand(l, {...})` takes")[:2]
    assert lang == "python"
    scope = _lecture_scope()
    printed: list[str] = []
    scope["print"] = lambda *args: printed.append(" ".join(str(a) for a in args))
    exec(compile(code, "tutorial", "exec"), scope)
    assert printed == [shown.rstrip("\n")]
    assert scope["check"].first_wrong.key == "dl/dz1"


def test_the_anomaly_example_prints_what_is_shown(tmp_path):
    (lang, code), (_, shown) = blocks("**`torch.autograd.detect_anomaly()`**")[:2]
    assert lang == "python"
    output = run_code(code, tmp_path)
    assert output.rstrip("\n").endswith(shown.rstrip("\n")), output


def test_the_check_graph_example_prints_what_is_shown(tmp_path):
    (lang, code), (_, shown) = blocks("**`torch.autograd.check_graph(fn, inputs)`**")[:2]
    assert lang == "python"
    # the ok nodes' errors are rounding noise, whose last digit may differ between machines
    noise = re.compile(r"max \|err\| \d\.\de-(0[7-9]|1\d)")
    assert noise.sub("max |err| (rounding)", run_code(code, tmp_path)) == noise.sub(
        "max |err| (rounding)", shown
    )
    assert "  >> BadCubeBackward  WRONG  max |err| 3.6e+00" in shown
