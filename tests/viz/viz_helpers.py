"""Shared pieces of the viz tests: the lecture's network, its hand-derived backward pass, an
independent count of a graph's nodes, and the checks that make a missing `dot` or browser a
failure where CI installs them."""

from __future__ import annotations

import math
import os
import shutil

import pytest

import chainrule
from chainrule.autograd.graph import ShownNode

# section 1 of the lecture: one data point, one hidden sigmoid unit, squared error
LECTURE = {"x": 1.5, "y": 0.8, "w1": 0.5, "b1": -0.2, "w2": 1.3, "b2": 0.1}


def lecture_network(lib=chainrule):
    """The forward pass in ``lib`` (chainrule or torch): the tensors by the lecture's names."""
    t = {k: lib.tensor(v, dtype=lib.float64, requires_grad=k not in ("x", "y")) for k, v in LECTURE.items()}
    t["z1"] = t["w1"] * t["x"] + t["b1"]
    t["a1"] = lib.sigmoid(t["z1"])
    t["z2"] = t["w2"] * t["a1"] + t["b2"]
    t["l"] = (t["y"] - t["z2"]) ** 2
    return t


def lecture_by_hand() -> dict[str, float]:
    """Section 1's backward pass in Python floats: upstream derivative x local derivative."""
    x, y, w1, b1, w2, b2 = (LECTURE[k] for k in ("x", "y", "w1", "b1", "w2", "b2"))
    z1 = w1 * x + b1
    a1 = 1.0 / (1.0 + math.exp(-z1))
    z2 = w2 * a1 + b2
    d = {"z1": z1, "a1": a1, "z2": z2, "l": (y - z2) ** 2}
    d["dl/dz2"] = -2.0 * (y - z2)
    d["dl/da1"] = d["dl/dz2"] * w2
    d["dl/dw2"] = d["dl/dz2"] * a1
    d["dl/db2"] = d["dl/dz2"]
    d["dl/dz1"] = d["dl/da1"] * a1 * (1.0 - a1)
    d["dl/dw1"] = d["dl/dz1"] * x
    d["dl/db1"] = d["dl/dz1"]
    return d


def require(tool: str, found: bool, env: str, why: str) -> None:
    """Skip when ``tool`` is missing, unless ``env`` is set (CI sets it): then fail."""
    if found:
        return
    if os.environ.get(env) == "1":
        pytest.fail(f"{tool} is required here ({env}=1) but is missing: {why}")
    pytest.skip(f"{tool} is not installed ({why}); CI installs it and sets {env}=1")


def need_dot() -> None:
    require("Graphviz's dot", shutil.which("dot") is not None, "CI_REQUIRE_DOT", "apt install graphviz")


def op_nodes(*tensors) -> list:
    """Every grad_fn below ``tensors``, found through torch's public ``next_functions`` (not
    through viz's own walk), each once."""
    seen, out, stack = set(), [], [t.grad_fn for t in tensors if t.grad_fn is not None]
    while stack:
        n = stack.pop()
        if id(n) in seen or type(n).__name__ == "AccumulateGrad":
            continue
        seen.add(id(n))
        if not isinstance(n, ShownNode):  # (a node torch records, chainrule not: linear's weight.t())
            out.append(n)
        stack.extend(f for f, _ in n.next_functions if f is not None)
    return out
