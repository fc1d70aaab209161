"""Backward after an in-place change of a tensor the op's node does not save passes, as in torch:
for each op, an input (or the output) is changed in place after the call, and backward runs in
both libraries with equal gradients. These were false refusals found by
``tools/saved_tensor_sweep.py`` (chainrule kept a tensor torch's node does not keep)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import to_numpy

import chainrule

RNG = np.random.default_rng(0)
M = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
B = RNG.standard_normal((3, 2))
V = RNG.standard_normal(4)

# (op on the library's module, its inputs, which input is changed in place after the call)
CASES = {
    "copysign other": (lambda m, a, b: m.copysign(a, b), (V, -V), 1),
    "linalg.solve B": (lambda m, a, b: m.linalg.solve(a, b), (M, B), 1),
    "linalg.solve left=False B": (lambda m, a, b: m.linalg.solve(a, b.T, left=False), (M, B), 1),
    # torch sums a contracted dim of size 1 first (here both of a's), even against a size 1
    "tensordot of size-1 dims": (
        lambda m, a, b: m.tensordot(a, b, ([0, 2], [1, 0])),
        (V[:2].reshape(1, 2, 1), V[:3].reshape(1, 1, 3)),
        0,
    ),
    "kron input": (lambda m, a, b: m.kron(a, b), (M, B), 0),
    "kron other": (lambda m, a, b: m.kron(a, b), (M, B), 1),
    # torch pads the input by the odd element, then convolves (and saves) the padded copy
    "conv2d padding='same' even kernel": (
        lambda m, x, w: m.nn.functional.conv2d(x, w, padding="same"),
        (RNG.standard_normal((1, 2, 5, 4)), RNG.standard_normal((3, 2, 2, 3))),
        0,
    ),
    "conv1d padding='same' even kernel, groups": (
        lambda m, x, w: m.nn.functional.conv1d(x, w, padding="same", groups=2),
        (RNG.standard_normal((2, 4, 6)), RNG.standard_normal((4, 2, 4))),
        0,
    ),
    # torch's batch norm and group norm save the input and the weight, never the bias
    "batch_norm bias": (
        lambda m, x, w, b: m.nn.functional.batch_norm(x, None, None, w, b, True),
        (RNG.standard_normal((4, 3, 2)), RNG.standard_normal(3), RNG.standard_normal(3)),
        2,
    ),
    "batch_norm bias, no weight": (
        lambda m, x, b: m.nn.functional.batch_norm(x, None, None, None, b, True),
        (RNG.standard_normal((4, 3)), RNG.standard_normal(3)),
        1,
    ),
    "group_norm bias": (
        lambda m, x, w, b: m.nn.functional.group_norm(x, 2, w, b),
        (RNG.standard_normal((2, 4, 3)), RNG.standard_normal(4), RNG.standard_normal(4)),
        2,
    ),
    # torch repeats the weight per sample even for one sample: its node saves the copy
    "instance_norm weight, one sample": (
        lambda m, x, w, b: m.nn.functional.instance_norm(x, weight=w, bias=b),
        (RNG.standard_normal((1, 2, 3, 2)), RNG.random(2) + 0.5, RNG.standard_normal(2)),
        1,
    ),
    # torch's number / tensor is reciprocal(tensor) * number: only the reciprocal is saved
    "1 / x": (lambda m, x: 1 / x, (V,), 0),
    "3 / x in a sum": (lambda m, x, y: x + y * 2 - 3 / y, (V, -V), 1),
}


def _run(m, fn, arrays, which: int):
    leaves = [m.tensor(a, requires_grad=True) for a in arrays]
    xs = [x * 1 for x in leaves]  # (not leaves: an in-place change is allowed)
    out = fn(m, *xs)
    with m.no_grad():
        xs[which].add_(1.0)
    (out.real if out.is_complex() else out).sum().backward()
    return [to_numpy(x.grad) for x in leaves]


@pytest.mark.parametrize("name", list(CASES))
def test_inplace_change_of_an_unsaved_input_passes(name) -> None:
    fn, arrays, which = CASES[name]
    ours, theirs = _run(chainrule, fn, arrays, which), _run(torch, fn, arrays, which)
    for g_ours, g_torch in zip(ours, theirs):
        np.testing.assert_allclose(g_ours, g_torch, rtol=1e-12, atol=1e-14)


def _recurrent(m, kind: str, bias_name: str, create_graph: bool = False):
    layer = getattr(m.nn, kind)(3, 2).double()
    for name, p in layer.named_parameters():  # the same numbers in both libraries
        with m.no_grad():
            p.copy_(m.tensor(np.random.default_rng(len(name)).standard_normal(tuple(p.shape))))
    x = m.tensor(np.linspace(-1.0, 1.0, 12).reshape(4, 1, 3))
    x.requires_grad_(True)
    out = layer(x)[0]
    with m.no_grad():
        getattr(layer, bias_name).add_(1.0)
    grads = m.autograd.grad(out.sum(), [x, *layer.parameters()], create_graph=create_graph)
    return [to_numpy(g.detach()) for g in grads]


@pytest.mark.parametrize("kind, bias_name", [("LSTM", "bias_ih_l0"), ("GRU", "bias_hh_l0")])
def test_inplace_change_of_a_recurrent_bias_passes(kind, bias_name) -> None:
    """torch's recurrent layers keep no bias (their gates are saved activated)."""
    for g_ours, g_torch in zip(_recurrent(chainrule, kind, bias_name), _recurrent(torch, kind, bias_name)):
        np.testing.assert_allclose(g_ours, g_torch, rtol=1e-10, atol=1e-12)


def test_second_order_after_a_recurrent_bias_change_refuses() -> None:
    """create_graph recomputes the layer from its inputs, so a changed bias would give other
    numbers than torch's: chainrule raises there (torch passes; docs/differences.md)."""
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _recurrent(chainrule, "LSTM", "bias_ih_l0", create_graph=True)
