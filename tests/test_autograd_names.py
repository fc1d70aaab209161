"""Forward-mode AD's API and errors, custom Functions with jvp, and the autograd / func names of
torch that chainrule added late (Variable, multithreading switch, is_grads_batched,
stack_module_state, replace_all_batch_norm_modules_, linearize), each against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import assert_close

import chainrule


def _fw(lib):
    return lib.autograd.forward_ad


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_dual_level_errors_as_torch(lib) -> None:
    fw = _fw(lib)
    with pytest.raises(RuntimeError, match="no level exists"):
        fw.make_dual(lib.ones(2), lib.ones(2))
    with fw.dual_level():
        with pytest.raises(RuntimeError, match="different size"):
            fw.make_dual(lib.ones(3), lib.ones(2))
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            with fw.dual_level():
                pass
        with pytest.raises(ValueError, match="floating point"):
            fw.make_dual(lib.arange(3), lib.arange(3))
        assert fw.unpack_dual(lib.ones(2)).tangent is None
    with pytest.raises(RuntimeError, match="positive number"):
        fw.exit_dual_level()
    assert fw.enter_dual_level() == 0
    fw.exit_dual_level()


def _chain(lib, x, v):
    fw = _fw(lib)
    with fw.dual_level():
        d = fw.make_dual(x, v)
        y = (d.sin() * d).reshape(2, 2) @ d.exp().reshape(2, 2)
        y = y.softmax(-1).sum(0)
        primal, tangent = fw.unpack_dual(y)
        assert type(fw.unpack_dual(y)).__name__ == "UnpackedDualTensor"
        return primal, tangent


def test_tangents_through_a_chain_match_torch() -> None:
    x, v = np.random.default_rng(0).standard_normal((2, 4))
    ours = _chain(chainrule, chainrule.tensor(x), chainrule.tensor(v))
    theirs = _chain(torch, torch.tensor(x), torch.tensor(v))
    for o, t in zip(ours, theirs):
        assert_close(o, t, 1e-10, 1e-12, "chain")


def test_reverse_mode_through_a_tangent_matches_torch() -> None:
    x = np.array([0.3, -0.7, 1.1])
    results = []
    for lib in (chainrule, torch):
        fw = _fw(lib)
        leaf = lib.tensor(x, requires_grad=True)
        with fw.dual_level():
            d = fw.make_dual(leaf, lib.ones(3, dtype=lib.float64))
            tangent = fw.unpack_dual((d * d.sin()).sum()).tangent
        (g,) = lib.autograd.grad(tangent, leaf)
        results.append(g)
    assert_close(results[0], results[1], 1e-10, 1e-12, "d/dx of the tangent")


def _custom_functions(lib):
    class WithJvp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_forward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g, g

        @staticmethod
        def jvp(ctx, tx, ty):
            x, y = ctx.saved_tensors
            return tx * y * 10 + ty * x  # deliberately not the true derivative: jvp is used

    class WithoutJvp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    return WithJvp, WithoutJvp


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_custom_function_jvp_is_used_and_missing_jvp_raises(lib) -> None:
    fw = _fw(lib)
    with_jvp, without = _custom_functions(lib)
    with fw.dual_level():
        d = fw.make_dual(lib.ones(3), lib.ones(3))
        tangent = fw.unpack_dual(with_jvp.apply(d, lib.full((3,), 2.0)).sin()).tangent
        np.testing.assert_allclose(tangent.numpy(), 20 * np.cos(2.0) * np.ones(3), rtol=1e-6)
        with pytest.raises(NotImplementedError, match="You must implement the jvp function"):
            without.apply(d)


def test_inplace_and_setitem_carry_tangents_as_torch() -> None:
    results = []
    for lib in (chainrule, torch):
        fw = _fw(lib)
        with fw.dual_level():
            d = fw.make_dual(lib.tensor([1.0, 2.0, 3.0]), lib.tensor([1.0, 1.0, 1.0])).clone()
            d.mul_(lib.tensor([2.0, 3.0, 4.0]))
            d[0] = fw.make_dual(lib.tensor(5.0), lib.tensor(7.0))
            d[1] = 0.5
            results.append(fw.unpack_dual(d).tangent)
    assert_close(results[0], results[1], 0, 0, "tangent after mul_ and setitem")


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_variable_and_multithreading_as_torch(lib) -> None:
    v = lib.autograd.Variable(lib.ones(2), requires_grad=True)
    assert type(v) is lib.Tensor and v.requires_grad and v.is_leaf
    assert isinstance(lib.ones(1), lib.autograd.Variable)
    with pytest.raises(RuntimeError, match="deprecated"):
        lib.autograd.variable(1.0)
    assert lib.autograd.is_multithreading_enabled()
    with lib.autograd.set_multithreading_enabled(False):
        assert not lib.autograd.is_multithreading_enabled()
    assert lib.autograd.is_multithreading_enabled()


def test_grad_is_grads_batched_matches_torch() -> None:
    x = np.array([0.1, 0.2, 0.3])
    results = []
    for lib in (chainrule, torch):
        leaf = lib.tensor(x, requires_grad=True)
        y = leaf.sin() * leaf.sum()
        results.append(lib.autograd.grad(y, leaf, lib.eye(3, dtype=lib.float64), is_grads_batched=True)[0])
        with pytest.raises(RuntimeError, match="is_grads_batched=True"):
            lib.autograd.grad(y, leaf, lib.ones(3, dtype=lib.float64), is_grads_batched=True)
    assert_close(results[0], results[1], 1e-12, 1e-14, "batched grad")


def test_stack_module_state_and_batch_norm_replacement_match_torch() -> None:
    shapes = []
    for lib in (chainrule, torch):
        models = [lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2)) for _ in range(3)]
        params, buffers = lib.func.stack_module_state(models)
        shapes.append(
            (
                {k: (tuple(v.shape), v.requires_grad, v.is_leaf) for k, v in params.items()},
                {k: tuple(v.shape) for k, v in buffers.items()},
            )
        )
        with pytest.raises(RuntimeError, match="at least one model"):
            lib.func.stack_module_state([])
        bn = lib.func.replace_all_batch_norm_modules_(models[0])[1]
        assert bn.running_mean is None and bn.running_var is None and not bn.track_running_stats
    assert shapes[0] == shapes[1]


def test_linearize_matches_torch() -> None:
    x, v = np.array([0.1, 0.2]), np.array([1.0, -2.0])
    results = []
    for lib in (chainrule, torch):
        out, jvp_fn = lib.func.linearize(lambda t: t.sin() * t, lib.tensor(x))
        results.append((out, jvp_fn(lib.tensor(v))))
    for o, t in zip(results[0], results[1]):
        assert_close(o, t, 1e-12, 1e-14, "linearize")
