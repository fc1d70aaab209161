"""The explain page in a real browser (Debian's chromium driven by Playwright): stepping with the
buttons and the keys moves the highlight and the numbers, which equal the explanation's (and the
lecture's hand computation); the page requests nothing but itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from viz_helpers import lecture_by_hand, lecture_network, need_dot, require

import chainrule
from chainrule import viz
from chainrule.viz.html import panel_value

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
CURRENT_FILL, DONE_FILL, OP_FILL = "#ffd54f", "#fff4cc", "#e6e6e6"

_STATE = """() => {
  const shapes = el => [...el.querySelectorAll('polygon, ellipse, path')];
  const ops = [...document.querySelectorAll('#graph g.node')].filter(g => g.id.startsWith('op'));
  return {
    step: document.body.getAttribute('data-step'),
    counter: document.getElementById('counter').textContent,
    title: document.getElementById('step-title').textContent,
    current: [...document.querySelectorAll('#graph .current')].map(e => e.id),
    targets: [...document.querySelectorAll('#graph .target')].map(e => e.id).sort(),
    fills: Object.fromEntries(ops.map(g => [g.id, shapes(g).map(s => s.getAttribute('fill'))])),
    upstreamSymbol: document.getElementById('upstream-symbol').textContent,
    upstream: document.getElementById('upstream-value').textContent,
    parts: document.getElementById('upstream-parts').textContent,
    formula: document.getElementById('formula').textContent,
    localValues: document.getElementById('local-values').textContent,
    down: [...document.querySelectorAll('#downstream li')].map(li => ({
      name: li.getAttribute('data-name'),
      value: li.querySelector('pre') ? li.querySelector('pre').textContent : null,
      note: li.querySelector('.note') ? li.querySelector('.note').textContent : ''})),
    row: [...document.querySelectorAll('#steps-table tbody tr.current')].map(r => r.dataset.step),
  };
}"""


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require("playwright", False, "CI_REQUIRE_BROWSER", "pip install playwright")
    require("chromium", shutil.which(CHROMIUM) is not None, "CI_REQUIRE_BROWSER", "apt install chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _open(browser, path: Path):
    """The page, and the list every request it makes is recorded in."""
    page = browser.new_page(viewport={"width": 1400, "height": 950})
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    return page, requests, errors


def _check(page, e, k: int) -> dict:
    """The page shows step k of the explanation: highlight, counter and numbers."""
    s = page.evaluate(_STATE)
    step = e.steps[k]
    assert s["step"] == str(k) and s["counter"] == f"step {k + 1} of {len(e.steps)}"
    assert s["title"] == f"Step {k + 1}: {step.node_name} ({step.op})"
    assert s["current"] == [step.graph_id]
    assert s["row"] == [str(k)]
    assert s["targets"] == sorted({d.input.graph_id for d in step.downstream})
    for other in e.steps:  # done ops tinted, the current one highlighted, later ones untouched
        want = CURRENT_FILL if other.index == k else DONE_FILL if other.index < k else OP_FILL
        assert set(s["fills"][other.graph_id]) == {want}, (k, other.index)
    assert s["upstreamSymbol"] == f"d{e.loss_name}/d{step.output.name}"
    assert s["upstream"] == panel_value(step.upstream)
    assert s["formula"] == step.formula
    # each input's rule with its numbers (or a matrix rule with its shapes), as the table says
    assert s["localValues"] == "\n".join(d.shown or d.rule for d in step.downstream if d.rule)
    assert [d["name"] for d in s["down"]] == [d.input.name for d in step.downstream]
    assert [d["value"] for d in s["down"]] == [panel_value(d.grad) for d in step.downstream]
    return s


def test_lecture_page_steps_with_buttons_and_keys(browser, tmp_path):
    need_dot()
    t = lecture_network()
    # the lecture's variables: explain names the tensors by them (no names= needed)
    x, y, w1, b1, w2, b2, z1, a1, z2, l = (
        t[k] for k in ("x", "y", "w1", "b1", "w2", "b2", "z1", "a1", "z2", "l")
    )  # noqa: E741
    hand = lecture_by_hand()
    e = viz.explain(l)
    path = Path(e.save_html(tmp_path / "lecture.html"))
    text = path.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text  # no URL at all, not even namespaces
    page, requests, errors = _open(browser, path)
    # the upstream gradient of each step, by hand: dl/dl, dl/dd, dl/dz2, dl/dz2, dl/da1, dl/dz1, dl/dz1
    ups = [
        1.0,
        -hand["dl/dz2"],
        hand["dl/dz2"],
        hand["dl/dz2"],
        hand["dl/da1"],
        hand["dl/dz1"],
        hand["dl/dz1"],
    ]
    seen = [_check(page, e, 0)]
    page.click("#next")
    seen.append(_check(page, e, 1))
    page.keyboard.press("ArrowRight")
    seen.append(_check(page, e, 2))
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    s = _check(page, e, 4)  # the sigmoid: the lecture's rule and numbers, in its names
    assert s["formula"] == "dl/dz1 = dl/da1 * a1 * (1 - a1)"
    assert s["upstreamSymbol"] == "dl/da1" and s["title"] == "Step 5: SigmoidBackward0 (sigmoid)"
    local = hand["a1"] * (1 - hand["a1"])
    assert s["localValues"] == (
        f"dl/dz1 = dl/da1 * a1 * (1 - a1) = {hand['dl/da1']:.4g} * {local:.4g} = {hand['dl/dz1']:.4g}"
    )
    assert page.text_content("#step-output") == "computed a1 () from z1 ()"
    assert float(s["upstream"]) == pytest.approx(hand["dl/da1"], rel=1e-5)
    assert float(s["down"][0]["value"]) == pytest.approx(hand["dl/dz1"], rel=1e-5)
    page.keyboard.press("ArrowLeft")
    seen.append(_check(page, e, 3))
    assert {d["name"]: float(d["value"]) for d in seen[-1]["down"]} == pytest.approx(
        {"w2": hand["dl/dw2"], "a1": hand["dl/da1"]}, rel=1e-5
    )
    page.click("#last")
    last = _check(page, e, 6)
    assert float(last["down"][0]["value"]) == pytest.approx(hand["dl/dw1"], rel=1e-5)
    page.keyboard.press("ArrowRight")  # already at the end: stays
    _check(page, e, 6)
    assert page.is_disabled("#next") and page.is_disabled("#last") and page.is_enabled("#prev")
    page.click("#prev")
    _check(page, e, 5)
    page.keyboard.press("Home")
    _check(page, e, 0)
    assert page.is_disabled("#prev") and page.is_disabled("#first")
    page.keyboard.press("End")
    _check(page, e, 6)
    page.click("#first")
    _check(page, e, 0)
    page.click('#steps-table tbody tr[data-step="4"]')
    _check(page, e, 4)
    for k, s in enumerate(seen[:3]):
        assert float(s["upstream"]) == pytest.approx(ups[k], rel=1e-5)
    page.keyboard.press("ArrowLeft")
    _check(page, e, 3)
    page.keyboard.press("ArrowRight")  # the picture in the docs: the sigmoid's step
    _check(page, e, 4)
    shot = tmp_path / "explain-page.png"
    page.evaluate("window.scrollTo(0, 0)")  # the row click scrolled down to the table
    page.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("CHAINRULE_DOCS_IMAGES") == "1":  # regenerate the docs' picture
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS_IMAGES / "explain-page.png")
    page.close()
    assert errors == []
    assert requests == [path.as_uri()]


def test_fan_out_and_broadcast_are_shown(browser, tmp_path):
    need_dot()
    rng = np.random.default_rng(2)
    X = chainrule.tensor(rng.normal(size=(4, 3)))
    W = chainrule.tensor(rng.normal(size=(3, 2)), requires_grad=True)
    b = chainrule.tensor(rng.normal(size=(2,)), requires_grad=True)
    h = X @ W + b  # b broadcast over the batch
    loss = (h * chainrule.sin(h)).mean()  # h used twice
    e = viz.explain(loss, names={"X": X, "W": W, "b": b, "h": h})
    path = Path(e.save_html(tmp_path / "fanout.html"))
    page, requests, errors = _open(browser, path)
    k = e.step("h").index
    page.click(f'#steps-table tbody tr[data-step="{k}"]')
    s = _check(page, e, k)
    assert s["parts"].startswith("h feeds 2 ops; their gradients add up: ")
    assert s["parts"].count("(#") == 2
    (bias,) = [d for d in s["down"] if d["name"] == "b"]
    assert "summed over dim 0: (4, 2) -> (2,)" in bias["note"]
    assert "dl/db (2) = 1^T dl/dh (4x2) = [" in s["localValues"]  # the bias: a sum over the batch
    mm = e.step("t0")  # X @ W: the matrix rule with its operands' shapes
    page.click(f'#steps-table tbody tr[data-step="{mm.index}"]')
    s = _check(page, e, mm.index)
    assert s["localValues"] == "dl/dW (3x2) = X^T (3x4) @ dl/dt0 (4x2)"
    assert errors == [] and requests == [path.as_uri()]
    page.close()


_NO_DOT_PAGE = """
import sys
sys.path.insert(0, {helpers!r})
from viz_helpers import lecture_network
from chainrule import viz
t = lecture_network()
viz.explain(t["l"], names={{k: v for k, v in t.items() if k != "l"}}).save_html({target!r})
"""


def test_without_dot_the_page_lists_the_graph_and_still_steps(browser, tmp_path):
    target = tmp_path / "no-dot.html"
    code = _NO_DOT_PAGE.format(helpers=str(Path(__file__).parent), target=str(target))
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    t = lecture_network()
    e = viz.explain(t["l"], names={k: v for k, v in t.items() if k != "l"})
    page, requests, errors = _open(browser, target)
    assert "apt install graphviz" in page.text_content("#graph-missing")
    items = page.eval_on_selector_all("#graph-list li", "els => els.map(e => e.id)")
    assert items == [v.id for v in e.vertices]
    texts = page.eval_on_selector_all("#graph-list li", "els => els.map(e => e.textContent)")
    # x is kept by the mul that reads it; y is not (sub's rule does not read it): its shape only
    assert "x (constant) ()" in texts and "constant ()" in texts and "y (constant) ()" not in texts
    for k in (0, 1, 2):
        current = page.eval_on_selector_all("#graph-list li.current", "els => els.map(e => e.id)")
        assert current == [e.steps[k].graph_id]
        assert page.text_content("#upstream-value") == panel_value(e.steps[k].upstream)
        page.keyboard.press("ArrowRight")
    assert errors == [] and requests == [target.as_uri()]
    page.close()


_IN_VIEW = """() => {
  const box = document.getElementById('graph').getBoundingClientRect();
  const r = document.querySelector('#graph .current').getBoundingClientRect();
  return r.top >= box.top && r.bottom <= box.bottom && r.left >= box.left && r.right <= box.right;
}"""


def test_a_long_graph_scrolls_the_current_op_into_view(browser, tmp_path):
    need_dot()
    x = chainrule.tensor([0.1, -0.2, 0.3], requires_grad=True)
    h = x
    for _ in range(60):  # 121 ops in one column: far taller than the graph's box
        h = chainrule.tanh(h * 1.01)
    e = viz.explain(h.sum(), names={"x": x})
    path = Path(e.save_html(tmp_path / "long.html"))
    page, requests, errors = _open(browser, path)
    assert page.evaluate("document.getElementById('graph').scrollHeight > 4 * window.innerHeight")
    for key in (None, "End", "Home", "ArrowRight"):  # the loss's op, at the bottom, comes first
        if key:
            page.keyboard.press(key)
        assert page.evaluate(_IN_VIEW), key
    page.click(f'#steps-table tbody tr[data-step="{len(e.steps) // 2}"]')
    assert page.evaluate(_IN_VIEW)
    assert errors == [] and requests == [path.as_uri()]
    page.close()


def test_the_notebook_view_steps_inside_its_iframe(browser):
    need_dot()
    t = lecture_network()
    e = viz.explain(t["l"], names={k: v for k, v in t.items() if k != "l"})
    page = browser.new_page(viewport={"width": 1400, "height": 950})
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda err: errors.append(str(err)))
    # a notebook's output: the page's own HTML around the cell's _repr_html_
    page.set_content(f"<html><body><div id='cell'>{e._repr_html_()}</div></body></html>")
    frame = page.frame_locator("iframe.chainrule-explain")
    assert frame.locator("#counter").text_content() == f"step 1 of {len(e.steps)}"
    for _ in range(4):
        frame.locator("#next").click()
    assert frame.locator("#formula").text_content() == "dl/dz1 = dl/da1 * a1 * (1 - a1)"
    assert frame.locator("#local-values").text_content().endswith("= 0.3234 * 0.232 = 0.07503")
    assert page.evaluate("document.getElementById('counter')") is None  # its ids stay in the iframe
    assert errors == [] and not [u for u in requests if u.startswith(("http:", "https:"))]
    page.close()
