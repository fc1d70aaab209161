"""autograd.SavedTensor (``grad_fn._raw_saved_self`` / ``_other`` / ``_result``) and the
``grad_fn._saved_*`` readers against torch: per-tensor pack/unpack hooks change what backward
reads, once each, and torch's errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import LIBS, raises_like_torch, to_numpy

import chainrule

A = np.array([0.3, -1.2, 2.0])


def _leaf(m):
    return m.tensor(A, requires_grad=True)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda m, x: x.exp(), "result"),
        (lambda m, x: x.sin(), "self"),
        (lambda m, x: x * (x + 1), "self"),
        (lambda m, x: x * (x + 1), "other"),
        (lambda m, x: x.tanh(), "result"),
    ],
    ids=["exp result", "sin self", "mul self", "mul other", "tanh result"],
)
@pytest.mark.parametrize("create_graph", [False, True])
def test_hooks_change_what_backward_reads(make, name, create_graph) -> None:
    """First order: backward reads what unpack returns (here twice the value). With create_graph
    the hooks keep the value (torch differentiates a changed value as if it were the saved tensor:
    docs/differences.md)."""
    scale = 1.0 if create_graph else 2.0
    results = []
    for m in LIBS:
        x = _leaf(m)
        y = make(m, x)
        calls = []
        saved = getattr(y.grad_fn, f"_raw_saved_{name}")
        assert type(saved).__name__ == "SavedTensor"
        saved.register_hooks(
            lambda t, calls=calls: (calls.append("pack"), t * scale)[1],
            lambda t, calls=calls: (calls.append("unpack"), t)[1],
        )
        assert calls == ["pack"]
        (g,) = m.autograd.grad(y.sum(), x, create_graph=create_graph)
        assert calls == ["pack", "unpack"]
        second = m.autograd.grad(g.sum(), x)[0] if create_graph and g.requires_grad else None
        results.append((to_numpy(g), None if second is None else to_numpy(second)))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    if results[1][1] is not None:
        np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


def test_saved_readers_as_torch() -> None:
    for m in LIBS:
        x = _leaf(m)
        y = x * x.exp()
        assert y.grad_fn._saved_self is x
        assert hasattr(y.grad_fn, "_raw_saved_other")
        e = x.exp()
        np.testing.assert_allclose(to_numpy(e.grad_fn._saved_result), np.exp(A))
        assert e.grad_fn._saved_result.grad_fn.name() == "ExpBackward0"
        assert not hasattr((x + x).grad_fn, "_saved_self")  # add saves nothing
        assert not hasattr(e.grad_fn, "_saved_self")  # exp saves its result only
        e.grad_fn._raw_saved_result.register_hooks(lambda t: t.detach() * 3, lambda t: t)
        np.testing.assert_allclose(to_numpy(e.grad_fn._saved_result), 3 * np.exp(A))  # unpacked


@pytest.mark.parametrize(
    "program, match",
    [
        (lambda m: _registered_twice(m), "hooks have already been set"),
        (lambda m: _in_a_hooks_context(m), "hooks have already been set"),
        (lambda m: _after_backward(m).grad_fn._raw_saved_self.register_hooks(abs, abs), "has been freed"),
        (lambda m: _after_backward(m).grad_fn._saved_self, "backward through the graph a second time"),
        (lambda m: _sine_of_leaf(m).grad_fn._raw_saved_self.register_hooks(abs, 3), "incompatible function"),
        (lambda m: m.autograd.SavedTensor(), "from Python is forbidden"),
        (lambda m: _unpack_gives(m, 3), "expected to be a Tensor but got result of type int"),
    ],
)
def test_errors_as_torch(program, match) -> None:
    raises_like_torch(program, match)


def _registered_twice(m):
    y = _leaf(m).sin()  # (kept alive: torch's SavedTensor does not keep its node alive)
    s = y.grad_fn._raw_saved_self
    s.register_hooks(lambda t: t, lambda t: t)
    s.register_hooks(lambda t: t, lambda t: t)


def _sine_of_leaf(m):
    _sine_of_leaf.kept = y = _leaf(m).sin()
    return y


def _in_a_hooks_context(m):
    with m.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        y = _leaf(m).sin()
    y.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)


def _after_backward(m):
    y = _leaf(m).sin()
    y.sum().backward()
    return y


def _unpack_gives(m, value):
    x = _leaf(m)
    y = x.sin()
    y.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: value)
    y.sum().backward()


def test_chainrule_namespace() -> None:
    assert chainrule.autograd.SavedTensor.__name__ == torch.autograd.SavedTensor.__name__
