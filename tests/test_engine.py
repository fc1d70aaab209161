"""The backward engine on its own: each test runs one program with chainrule and with torch and
compares what both return (values, gradients, which .grad fields are filled, graph structure),
and checks closed forms where a derivative has one.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
import torch
from oracle import LIBS, leaf, same

import chainrule

X = [0.3, -1.2, 2.5]


# ---- accumulation --------------------------------------------------------------------------------
def test_fan_out_sums_the_gradients_of_every_use():
    def program(lib):
        x = leaf(lib, X)
        (x * 2 + lib.sin(x) + lib.exp(x)).sum().backward()  # x used 3 times
        return x.grad

    grad = same(program)
    x = np.array(X)
    np.testing.assert_allclose(grad.numpy(), 2 + np.cos(x) + np.exp(x), rtol=1e-12)


def test_diamond_graph():
    def program(lib):
        x = leaf(lib, X)
        a = x * x  # a feeds two branches that meet again
        b, c = lib.sin(a), lib.exp(a)
        (b * c).sum().backward()
        return x.grad

    grad = same(program)
    x = np.array(X)
    a = x * x  # d/dx sin(a) exp(a) = (cos a + sin a) exp(a) 2x
    np.testing.assert_allclose(grad.numpy(), (np.cos(a) + np.sin(a)) * np.exp(a) * 2 * x, rtol=1e-12)


def test_two_backward_calls_accumulate_into_the_same_grad_tensor():
    def program(lib):
        x = leaf(lib, X)
        (x * x).sum().backward()
        first = x.grad
        first_values = first.clone()
        (3 * x).sum().backward()
        return first_values, x.grad, x.grad is first  # torch adds in place: same object

    first, total, same_object = same(program)
    np.testing.assert_allclose(total.numpy(), 2 * np.array(X) + 3)
    assert same_object


def test_setting_grad_to_none_clears_it():
    def program(lib):
        x = leaf(lib, X)
        (x * x).sum().backward()
        x.grad = None
        cleared = x.grad is None
        (x * 5).sum().backward()
        return cleared, x.grad

    same(program)


def test_grad_of_a_scalar_leaf_is_a_writable_tensor():
    def program(lib):
        s = lib.tensor(2.0, requires_grad=True)
        (s * s).backward()
        first = s.grad.clone()
        s.grad.zero_()  # what optimizers' zero_grad(set_to_none=False) does
        s.grad += 1
        return first, s.grad

    same(program)


# ---- retain_graph --------------------------------------------------------------------------------
def test_retain_graph_allows_a_second_backward():
    def program(lib):
        x = leaf(lib, X)
        y = (lib.exp(x) * x).sum()
        y.backward(retain_graph=True)
        once = x.grad.clone()
        y.backward()
        return once, x.grad

    once, twice = same(program)
    np.testing.assert_allclose(twice.numpy(), 2 * once.numpy())


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_a_second_backward_without_retain_graph_raises(lib):
    x = leaf(lib, X)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_the_freed_error_names_the_node():
    x = leaf(chainrule, X)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="MulBackward0"):  # sum saved nothing: it runs again
        y.backward()


# ---- non-scalar outputs and autograd.grad --------------------------------------------------------
def test_backward_with_a_gradient_on_a_non_scalar_output():
    v = np.random.default_rng(0).standard_normal((2, 3))
    x0 = np.random.default_rng(1).standard_normal((2, 3))

    def program(lib):
        x = leaf(lib, x0)
        (x * x).backward(gradient=lib.tensor(v))
        return x.grad

    np.testing.assert_allclose(same(program).numpy(), 2 * x0 * v)


def test_grad_with_grad_outputs_and_several_outputs_and_inputs():
    rng = np.random.default_rng(2)
    a0, b0, v0, w0 = (rng.standard_normal(3) for _ in range(4))

    def program(lib):
        a, b = leaf(lib, a0), leaf(lib, b0)
        y, z = a * b, lib.sin(a)
        grads = lib.autograd.grad([y, z], [a, b], grad_outputs=[lib.tensor(v0), lib.tensor(w0)])
        return grads, a.grad, b.grad  # grad() returns, it never accumulates into .grad

    (ga, gb), a_grad, b_grad = same(program)
    np.testing.assert_allclose(ga.numpy(), v0 * b0 + w0 * np.cos(a0))
    np.testing.assert_allclose(gb.numpy(), v0 * a0)
    assert a_grad is None and b_grad is None


def test_grad_allow_unused_gives_none_and_materialize_grads_gives_zeros():
    def program(lib):
        x, unused = leaf(lib, X), leaf(lib, [1.0, 2.0])
        y = (x * x).sum()
        gx, gu = lib.autograd.grad(y, [x, unused], retain_graph=True, allow_unused=True)
        mx, mu = lib.autograd.grad(y, [x, unused], materialize_grads=True)
        return gx, gu, mx, mu

    gx, gu, mx, mu = same(program)
    assert gu is None
    np.testing.assert_array_equal(mu.numpy(), [0.0, 0.0])


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_grad_of_an_unused_input_raises_without_allow_unused(lib):
    x, unused = leaf(lib, X), leaf(lib, [1.0])
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        lib.autograd.grad((x * x).sum(), [x, unused])


def test_grad_of_an_output_with_respect_to_itself_is_the_grad_output():
    def program(lib):
        x = leaf(lib, X)
        y = x * x
        return lib.autograd.grad(y, y, lib.ones(3, dtype=lib.float64))

    same(program)


def test_third_derivatives_with_create_graph():
    def program(lib):
        x = leaf(lib, [0.7, -1.3])
        out = {}
        for name, f in (("x**4", lambda t: t**4), ("sin", lib.sin)):
            (d1,) = lib.autograd.grad(f(x).sum(), x, create_graph=True)
            (d2,) = lib.autograd.grad(d1.sum(), x, create_graph=True)
            (d3,) = lib.autograd.grad(d2.sum(), x)
            out[name] = [d1, d2, d3, d1.requires_grad, d3.requires_grad]
        return out

    out = same(program)
    x = np.array([0.7, -1.3])
    np.testing.assert_allclose(out["x**4"][2].numpy(), 24 * x, rtol=1e-12)
    np.testing.assert_allclose(out["sin"][2].numpy(), -np.cos(x), rtol=1e-12)


def test_backward_with_create_graph_gives_a_differentiable_grad():
    def program(lib):
        x = leaf(lib, X)
        (g,) = lib.autograd.grad((x**3).sum(), x, create_graph=True)  # 3 x^2
        (g * g).sum().backward()  # d/dx sum 9 x^4 = 36 x^3
        return x.grad

    np.testing.assert_allclose(same(program).numpy(), 36 * np.array(X) ** 3, rtol=1e-12)


def test_backward_of_several_roots_where_one_feeds_the_other():
    def program(lib):
        x = leaf(lib, X)
        y = x * x
        z = (y * 3).sum()
        lib.autograd.backward([y.sum(), z])
        return x.grad

    np.testing.assert_allclose(same(program).numpy(), 8 * np.array(X))


# ---- backward(inputs=...) and pruning ------------------------------------------------------------
def test_backward_inputs_only_accumulates_into_those():
    def program(lib):
        a, b = leaf(lib, [1.0, 2.0]), leaf(lib, [3.0, -1.0])
        y = a * b
        y.retain_grad()
        (y * y).sum().backward(inputs=[a])
        return a.grad, b.grad, y.grad  # b untouched; a retained grad on the path is filled

    same(program)


def test_backward_inputs_can_be_a_non_leaf():
    def program(lib):
        a = leaf(lib, [1.0, 2.0])
        y = a * 3
        (y * y).sum().backward(inputs=[y])
        return a.grad, y.grad

    same(program)


def test_grad_runs_only_the_nodes_on_a_path_to_its_inputs():
    def program(lib):
        x, w = leaf(lib, X), leaf(lib, [2.0, -1.0, 0.5])
        fired = []
        a, b = lib.sin(x), lib.cos(w)
        a.register_hook(lambda g: fired.append("a"))
        b.register_hook(lambda g: fired.append("b"))  # off the path to x: never called
        w.register_hook(lambda g: fired.append("w"))
        grads = lib.autograd.grad((a * b).sum(), x)
        return grads, fired, w.grad

    same(program)


def test_grad_with_respect_to_an_intermediate_leaves_the_graph_below_it():
    def program(lib):
        x = leaf(lib, X)
        h = lib.exp(x)
        (g,) = lib.autograd.grad((h * h).sum(), h)  # frees only the part above h
        h.backward(g)  # so the part below can still run
        return g, x.grad

    _, grad = same(program)
    np.testing.assert_allclose(grad.numpy(), 2 * np.exp(2 * np.array(X)), rtol=1e-12)


# ---- retain_grad and hooks -----------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
def test_retain_grad_on_a_non_leaf():
    def program(lib):
        x = leaf(lib, X)
        y = x * 3
        y.retain_grad()
        z = lib.sin(y)
        (z * z).sum().backward()
        return y.grad, y.retains_grad, z.grad, z.retains_grad, x.grad

    y_grad, *_ = same(program)
    y = 3 * np.array(X)
    np.testing.assert_allclose(y_grad.numpy(), 2 * np.sin(y) * np.cos(y), rtol=1e-12)


def test_hooks_on_leaf_and_non_leaf_see_and_replace_the_gradient():
    def program(lib):
        x = leaf(lib, X)
        seen = []
        x.register_hook(lambda g: seen.append(("x", g.clone())))
        y = x * 3
        handle = y.register_hook(lambda g: g * 10)  # what flows down is 10x
        (y * y).sum().backward(retain_graph=True)
        with_hook = x.grad.clone()
        handle.remove()
        x.grad = None
        (y * y).sum().backward()
        return with_hook, x.grad, seen

    with_hook, without, _ = same(program)
    np.testing.assert_allclose(with_hook.numpy(), 10 * without.numpy())


def test_a_leaf_hook_changes_what_is_accumulated():
    def program(lib):
        x = leaf(lib, X)
        x.register_hook(lambda g: g * 2)
        (x * x).sum().backward()
        return x.grad

    same(program)


# ---- detach, requires_grad_, graph structure -----------------------------------------------------
def test_detach_shares_memory_and_leaves_the_graph():
    def program(lib):
        x = leaf(lib, X)
        d = x.detach()
        with lib.no_grad():
            d[0] = 100.0  # writes through to x
        return x.detach().clone(), d.requires_grad, d.grad_fn is None, d.is_leaf

    same(program)


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_detach_shares_the_version_counter(lib):
    x = leaf(lib, X)
    y = (x * x).sum()  # mul saves x
    x.detach().mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_requires_grad_():
    def program(lib):
        x = lib.tensor([1.0, 2.0])
        before = x.requires_grad
        same_object = x.requires_grad_() is x
        y = x * x
        return before, same_object, x.requires_grad, x.is_leaf, y.requires_grad, y.is_leaf

    same(program)


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_requires_grad_false_on_a_non_leaf_raises(lib):
    y = leaf(lib, X) * 2
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables"):
        y.requires_grad_(False)


def test_is_leaf_grad_fn_and_next_functions():
    def program(lib):
        x, w = leaf(lib, X), lib.tensor(X, dtype=lib.float64)
        y = x * w
        z = lib.sin(y) + lib.exp(y)
        names = [
            [None if f is None else f.name() for f, _ in n.next_functions] for n in (y.grad_fn, z.grad_fn)
        ]
        return {
            "is_leaf": [x.is_leaf, w.is_leaf, y.is_leaf, z.is_leaf],
            "grad_fn": [x.grad_fn is None, w.grad_fn is None, y.grad_fn.name(), z.grad_fn.name()],
            "next": names,
            "indices": [i for _, i in z.grad_fn.next_functions],
            "chain": z.grad_fn.next_functions[0][0].next_functions[0][0] is y.grad_fn,
            "variable": y.grad_fn.next_functions[0][0].variable is x,
        }

    same(program)


def test_a_tensor_made_under_no_grad_has_no_grad_fn():
    def program(lib):
        x = leaf(lib, X)
        with lib.no_grad():
            y = x * 2
        z = y * x
        return y.grad_fn is None, y.requires_grad, y.is_leaf, z.requires_grad

    same(program)


# ---- deep graphs and memory ----------------------------------------------------------------------
def test_a_chain_of_100000_ops_runs_backward_without_recursion():
    n, c = 100_000, 1.000001

    def program(lib):
        x = lib.tensor(0.5, dtype=lib.float64, requires_grad=True)
        y = x
        for _ in range(n):
            y = y * c
        y.backward()
        return x.grad

    grad = same(program, rtol=1e-9)
    assert grad.item() == pytest.approx(c**n, rel=1e-9)


def test_a_chain_of_100000_two_input_ops():
    x = chainrule.tensor(1.5, dtype=chainrule.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + x
    y.backward()
    assert x.grad.item() == 100_001.0


def test_dropping_a_deep_graph_without_backward_does_not_crash():
    x = chainrule.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = chainrule.sin(y)
    probe = weakref.ref(y)
    del y
    gc.collect()
    assert probe() is None


def _graph_with_probes(retain_graph: bool):
    x = leaf(chainrule, X)
    a = chainrule.exp(x)  # exp keeps its output array for backward
    b = a * a  # mul keeps its inputs
    loss = b.sum()
    probes = [weakref.ref(a), weakref.ref(a._data), weakref.ref(b), weakref.ref(b._data)]
    del a, b
    loss.backward(retain_graph=retain_graph)
    gc.collect()
    return x, loss, probes


def test_backward_frees_the_graph():
    x, loss, probes = _graph_with_probes(retain_graph=False)
    assert [p() is None for p in probes] == [True] * 4
    mul = loss.grad_fn.next_functions[0][0]
    assert mul.name() == "MulBackward0" and mul.inputs is None  # its saved inputs are freed
    assert loss.grad_fn.inputs is not None  # sum saved nothing: it stays runnable, as in torch
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(2 * np.array(X)), rtol=1e-12)


def test_retain_graph_keeps_it():
    x, loss, probes = _graph_with_probes(retain_graph=True)
    # a (and its array) is saved by mul; b is not: sum's derivative needs only its shape, so b
    # is gone as soon as nothing else holds it (torch keeps no more than this either)
    assert [p() is not None for p in probes] == [True, True, False, False]
    loss.backward()  # and backward can run again
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp(2 * np.array(X)), rtol=1e-12)


def test_a_custom_functions_saved_tensors_are_freed_by_backward():
    class Square(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * g * x

    x = leaf(chainrule, X)
    h = x * 1.0
    out = Square.apply(h)  # kept: its node (and the ctx in it) outlives backward
    probe = weakref.ref(h)
    del h
    out.sum().backward()
    gc.collect()
    assert probe() is None
    assert out.grad_fn is not None
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array(X), rtol=1e-12)


# ---- consumers that pass no gradient -------------------------------------------------------------
def _none_grad(lib):
    class NoGrad(lib.autograd.Function):
        """Differentiable in name only: its backward passes None down."""

        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return None

    return NoGrad


def test_a_consumer_that_passes_no_gradient_neither_hangs_nor_drops_the_others():
    def program(lib):
        x = leaf(lib, X)
        y = x * 2
        index = int(np.argmax(y.detach().numpy()))  # argmax-style use: not differentiable
        mask = y > 0  # a comparison: not differentiable either
        lib.cos(y)  # an output nobody uses
        z = _none_grad(lib).apply(y) + lib.sin(y) + lib.where(mask, y, y * 0) * y[index]
        z.sum().backward()
        return x.grad

    grad = same(program)
    x = np.array(X)
    y = 2 * x
    i = int(np.argmax(y))
    expected = 2 * np.cos(y) + 2 * np.where(y > 0, 1.0, 0.0) * y[i]
    expected[i] += 2 * np.where(y > 0, y, 0).sum()
    np.testing.assert_allclose(grad.numpy(), expected, rtol=1e-12)


def test_when_no_consumer_passes_a_gradient_the_leaf_gets_none():
    def program(lib):
        x = leaf(lib, X)
        _none_grad(lib).apply(x * 3).sum().backward()
        return x.grad

    assert same(program) is None


@pytest.mark.parametrize(
    "program",
    [
        lambda m: m.randn(4, 3).t().requires_grad_(),  # a transposed leaf: grad takes its strides
        lambda m: m.randn(3, 4, requires_grad=True),
        lambda m: m.randn(2, 3, 4).permute(2, 0, 1).requires_grad_(),
    ],
)
@pytest.mark.parametrize(
    "loss",
    [lambda w: (w * 2).sum(), lambda w: w.t().exp().sum() if w.ndim == 2 else w.mT.exp().sum()],
)
def test_grad_is_laid_out_like_its_parameter(program, loss) -> None:
    """torch's AccumulateGrad: a contiguous parameter gets a contiguous .grad (p.grad.view(-1)
    works), a non-contiguous dense one a .grad with its strides."""
    strides = []
    for m in (chainrule, torch):
        w = program(m)
        loss(w).backward()
        strides.append((w.grad.stride(), w.grad.is_contiguous()))
    assert strides[0] == strides[1]


# ---- chains (the engine hands a one-input node's gradient straight to its only consumer) -----------
def test_chain_with_hooks_retained_grads_and_captures_in_the_middle():
    """A chain of one-input nodes whose middle tensors have a hook, a retained grad, a second
    consumer, or are asked for by autograd.grad: each sees what torch's does."""

    def program(lib):
        x = leaf(lib, X)
        a = lib.sin(x * 2 + 1)
        a.register_hook(lambda g: g * 3)
        b = lib.exp(a)
        b.retain_grad()
        c = lib.tanh(b) * 0.5
        d = c + b  # b has two consumers
        (ga,) = lib.autograd.grad(d.sum(), [a], retain_graph=True)
        d.sum().backward()
        return x.grad, b.grad, ga

    same(program, rtol=1e-12)


def test_chain_backward_twice_with_retain_graph_and_freed_error():
    def program(lib):
        x = leaf(lib, X)
        y = lib.exp(lib.sin(x) * 2).sum()
        y.backward(retain_graph=True)
        y.backward()
        with pytest.raises(RuntimeError, match="second time"):
            y.backward()
        return x.grad

    grad = same(program)
    x = np.array(X)
    np.testing.assert_allclose(grad.numpy(), 2 * 2 * np.cos(x) * np.exp(2 * np.sin(x)), rtol=1e-12)
