"""Regenerate the docs' pictures of chainrule.viz (needs Graphviz's `dot`; the page's screenshot
also needs Playwright and Debian's chromium):

    .venv/bin/python docs/images/make_images.py

- lecture-graph.svg/.png: the lecture's one-hidden-unit network on one data point, drawn by
  ``viz.draw`` with the lecture's names and the values;
- mlp-graph.svg/.png: a small MLP (nn.Sequential) with its parameters' names;
- explain-page.png: the ``viz.explain`` page of the lecture's network, at the sigmoid's step.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import chainrule as torch
from chainrule import viz

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"


def lecture():
    """Section 1 of the lecture: a0 = x, z1 = w1 a0 + b1, a1 = sigmoid(z1), z2 = w2 a1 + b2,
    l = (y - z2)^2, on one data point."""
    t = {"x": torch.tensor(1.5), "y": torch.tensor(0.8)}
    for name, value in (("w1", 0.5), ("b1", -0.2), ("w2", 1.3), ("b2", 0.1)):
        t[name] = torch.tensor(value, requires_grad=True)
    t["z1"] = t["w1"] * t["x"] + t["b1"]
    t["a1"] = torch.sigmoid(t["z1"])
    t["z2"] = t["w2"] * t["a1"] + t["b2"]
    t["l"] = (t["y"] - t["z2"]) ** 2
    return t


def mlp():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Sigmoid(), torch.nn.Linear(4, 1))
    x, y = torch.randn(8, 3), torch.randn(8, 1)
    loss = torch.nn.functional.mse_loss(model(x), y)
    return model, {"x": x, "y": y, "loss": loss}


def render(graph, stem: str) -> None:
    for fmt in ("svg", "png"):
        (HERE / f"{stem}.{fmt}").write_bytes(graph.pipe(format=fmt))
        print("wrote", HERE / f"{stem}.{fmt}")


def screenshot(expl) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("explain-page.png skipped: pip install playwright", file=sys.stderr)
        return
    if shutil.which(CHROMIUM) is None:
        print(f"explain-page.png skipped: no browser at {CHROMIUM} (apt install chromium)", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        page_path = Path(expl.save_html(Path(tmp) / "lecture.html"))
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 950})
        page.goto(page_path.as_uri())
        for _ in range(expl.step("a1").index):  # keys, not a click in the table: no scrolling
            page.keyboard.press("ArrowRight")
        page.screenshot(path=str(HERE / "explain-page.png"))
        browser.close()
    print("wrote", HERE / "explain-page.png")


def main() -> None:
    t = lecture()
    render(viz.draw(t["l"], names=t, show_values=True), "lecture-graph")
    model, m = mlp()
    render(viz.draw(m["loss"], params=dict(model.named_parameters()), names=m), "mlp-graph")
    screenshot(viz.explain(t["l"], names=t))


if __name__ == "__main__":
    main()
