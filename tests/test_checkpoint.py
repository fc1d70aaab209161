"""Activation checkpointing (``utils.checkpoint``): gradients equal torch's and the plain run's,
exactly in float64; the function runs again in backward, as often as torch runs it; activations
are not kept."""

from __future__ import annotations

import weakref

import numpy as np
import pytest
import torch
import torch.utils.checkpoint
from test_engine import leaf, same

import chainrule
import chainrule.utils.checkpoint

RNG = np.random.default_rng(0)
X = RNG.standard_normal((5, 4))
W1, W2, W3 = RNG.standard_normal((8, 4)), RNG.standard_normal((8, 8)), RNG.standard_normal((3, 8))


def ckpt(lib):
    return lib.utils.checkpoint


def mlp(lib):
    """The same MLP (float64, fixed weights) for both libraries."""
    layers = [lib.nn.Linear(4, 8), lib.nn.GELU(), lib.nn.Linear(8, 8), lib.nn.Tanh(), lib.nn.Linear(8, 3)]
    net = lib.nn.Sequential(*layers).double()
    with lib.no_grad():
        for layer, w in zip(layers[::2], (W1, W2, W3)):
            layer.weight.copy_(lib.tensor(w))
            layer.bias.fill_(0.1)
    return net


def grads(net, x) -> list:
    return [p.grad for p in net.parameters()] + [x.grad]


def test_checkpoint_matches_torch_and_the_plain_run():
    def program(lib):
        net, x = mlp(lib), leaf(lib, X)
        y = ckpt(lib).checkpoint(net, x, use_reentrant=False)
        (y * y).sum().backward()
        return y, grads(net, x)

    ours = same(program, rtol=1e-12, atol=1e-12)
    net, x = mlp(chainrule), leaf(chainrule, X)
    (net(x) ** 2).sum().backward()
    for a, b in zip(ours[1], grads(net, x)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())  # the same ops: bit for bit


def test_checkpoint_sequential_matches_torch():
    def program(lib):
        net, x = mlp(lib), leaf(lib, X)
        y = ckpt(lib).checkpoint_sequential(net, 2, x, use_reentrant=False)
        y.sum().backward()
        return y, grads(net, x)

    same(program, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("preserve", [True, False])
def test_dropout_with_the_rng_state_restored(preserve):
    net = chainrule.nn.Sequential(
        chainrule.nn.Linear(4, 8), chainrule.nn.Dropout(0.5), chainrule.nn.Linear(8, 3)
    ).double()

    def run(checkpointed: bool) -> list:
        net.zero_grad()
        x = leaf(chainrule, X)
        chainrule.manual_seed(7)
        y = (
            chainrule.utils.checkpoint.checkpoint(net, x, preserve_rng_state=preserve)
            if checkpointed
            else net(x)
        )
        chainrule.randn(3)  # the RNG moves on before backward recomputes
        y.sum().backward()
        return [g.numpy().copy() for g in grads(net, x)]

    plain, checkpointed = run(False), run(True)
    same_masks = all(np.array_equal(a, b) for a, b in zip(plain, checkpointed))
    assert same_masks == preserve  # without the state restored, the mask drawn again differs


def test_function_reruns_once_per_backward_as_in_torch():
    def program(lib):
        calls = [0]
        x = leaf(lib, X)

        def f(x):
            calls[0] += 1
            return (x.sin() * x).exp()

        y = ckpt(lib).checkpoint(f, x, use_reentrant=False)
        forward = calls[0]
        y.sum().backward(retain_graph=True)
        first = calls[0]
        y.sum().backward()
        return forward, first, calls[0], x.grad

    assert same(program)[:3] == (1, 2, 3)


def test_activations_are_not_kept():
    kept = []

    def f(x):
        h = x.sin()
        kept.append(weakref.ref(h))
        return h.sin()  # the second sin saves h

    x = leaf(chainrule, X)
    y = f(x)
    assert kept[-1]() is not None  # plain: the graph keeps h
    y = chainrule.utils.checkpoint.checkpoint(f, x)
    assert kept[-1]() is None  # checkpointed: only a handle is kept
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos(np.sin(X)) * np.cos(X))


def test_inplace_ops_and_nesting_inside():
    def program(lib):
        x = leaf(lib, X)
        cp = ckpt(lib).checkpoint

        def inner(h):
            return (h * 2).sin_()

        def outer(x):
            h = x.exp()
            h = cp(inner, h, use_reentrant=False)
            return lib.nn.functional.relu(h * x, inplace=True).tanh()

        y = cp(outer, x, use_reentrant=False)
        y.sum().backward()
        return y, x.grad

    same(program)


def test_kwargs_and_no_grad():
    def program(lib):
        x = leaf(lib, X)
        y = ckpt(lib).checkpoint(lambda x, scale: (x * scale).sin(), x, scale=3.0, use_reentrant=False)
        y.sum().backward()
        with lib.no_grad():
            z = ckpt(lib).checkpoint(lambda x: x.sin(), x, use_reentrant=False)
        return x.grad, z.requires_grad

    same(program)


def test_double_backward():
    def program(lib):
        x = leaf(lib, X)
        y = ckpt(lib).checkpoint(lambda x: (x.sin() * x).exp(), x, use_reentrant=False)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (g * g).sum().backward()
        return g, x.grad

    same(program)


@pytest.mark.parametrize("lib", [chainrule, torch])
def test_errors_match_torch(lib):
    x = leaf(lib, X) * 1
    y = ckpt(lib).checkpoint(lambda x: x.sin(), x, use_reentrant=False)
    with lib.no_grad():
        x.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()

    calls = [0]

    def changing(x):  # not the same ops when run again
        calls[0] += 1
        return x.sin() if calls[0] == 1 else x[:2].sin()

    y = ckpt(lib).checkpoint(changing, leaf(lib, X), use_reentrant=False)
    with pytest.raises(ckpt(lib).CheckpointError, match="different metadata"):
        y.sum().backward()


def test_context_fn_wraps_the_run_and_the_recomputation():
    def program(lib):
        entered = []

        class Mark:
            def __init__(self, name):
                self.name = name

            def __enter__(self):
                entered.append(self.name)

            def __exit__(self, *exc):
                return None

        x = leaf(lib, X)
        y = ckpt(lib).checkpoint(
            lambda x: x.sin() * x,
            x,
            use_reentrant=False,
            context_fn=lambda: (Mark("forward"), Mark("recompute")),
        )
        forward = list(entered)
        y.sum().backward()
        return forward, entered, x.grad

    assert same(program)[1] == ["forward", "recompute"]
