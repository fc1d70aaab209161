"""In-place arithmetic outside grad mode (``p -= lr * p.grad``): the fast path that writes straight
into memory (``_inplace_no_grad.inplace_no_grad``) gives torch's values, bumps the version counter
(so a graph that saved the tensor still refuses to backward), and leaves everything it does not
handle (casts, broadcasting errors, read-only views, inference tensors) to the general path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

DTYPES = (np.float32, np.float64)


def pair(values):
    return chainrule.tensor(values), torch.tensor(values)


def _update(lib, x, op: str, other):
    with lib.no_grad():
        if op == "+=":
            x += other
        elif op == "-=":
            x -= other
        elif op == "*=":
            x *= other
        elif op == "/=":
            x /= other
        elif op == "add_":
            x.add_(other, alpha=-0.3)
        elif op == "sub_":
            x.sub_(other, alpha=0.7)
        elif op == "mul_":
            x.mul_(other)
    return x


OPS = ("+=", "-=", "*=", "/=", "add_", "sub_", "mul_")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("shape", [(), (0,), (1,), (3, 4), (5000,), (70, 90)])
def test_values_as_torch(op, dtype, shape):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(shape).astype(dtype) + 3
    ours, theirs = pair(a)
    _update(chainrule, ours, op, chainrule.tensor(b))
    _update(torch, theirs, op, torch.tensor(b))
    assert ours.dtype == chainrule.float32 if dtype is np.float32 else chainrule.float64
    # a + alpha * b may cancel: torch's vector kernel fuses the multiply-add (FMA) on some CPUs (an
    # AMD EPYC's AVX2 path), NumPy rounds the product first, so the two differ by up to an ulp of
    # the operands, not of the result
    eps = np.finfo(dtype).eps
    bound = (1e-6 if dtype is np.float32 else 1e-13) * np.abs(theirs.numpy()) + 2 * eps * (
        np.abs(a) + np.abs(b)
    )
    assert np.all(np.abs(ours.numpy() - theirs.numpy()) <= bound)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("number", [2, 0.25, 0, -1e300])
def test_with_a_number(op, number):
    a = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
    ours, theirs = pair(a)
    with np.errstate(all="raise"):  # quiet inside, as torch: 1/0, overflow
        _update(chainrule, ours, op, number)
    _update(torch, theirs, op, number)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_the_update_bumps_the_version_and_backward_refuses():
    w = chainrule.ones(3, requires_grad=True)
    y = (w * w).sum()
    with chainrule.no_grad():
        w -= 0.1 * chainrule.ones(3)
    assert w._version == 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_a_view_is_written_through_to_its_base():
    for lib in (chainrule, torch):
        base = lib.zeros(4, 3)
        with lib.no_grad():
            row = base[1]
            row += lib.ones(3)
            col = base[:, 2]  # not contiguous
            col *= 5
            col -= lib.ones(4)
        assert base._version == 3
        assert base.tolist() == [[0, 0, -1], [1, 1, 4], [0, 0, -1], [0, 0, -1]]


def test_the_manual_sgd_step_as_torch():
    results = []
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        w = lib.tensor(np.linspace(-1, 1, 80, dtype=np.float32).reshape(8, 10), requires_grad=True)
        for _ in range(3):
            loss = (w * w).sum()
            w.grad = None
            loss.backward()
            with lib.no_grad():
                w -= 0.1 * w.grad
        results.append(w.detach().numpy().copy())
        assert w.requires_grad and w.grad_fn is None and w.is_leaf
    np.testing.assert_allclose(*results, rtol=1e-6)


def test_overlapping_operands():
    for transpose in (False, True):
        a = np.arange(16, dtype=np.float64).reshape(4, 4)
        ours, theirs = pair(a)
        with chainrule.no_grad():
            ours -= ours.T if transpose else ours
            ours.add_(ours, alpha=2.0)
        expected = (a - (a.T if transpose else a)) * 3
        np.testing.assert_array_equal(ours.numpy(), expected)


@pytest.mark.parametrize("case", ["cast", "broadcast", "int", "expanded", "tensor alpha"])
def test_what_the_fast_path_leaves_to_the_general_one(case):
    """Each gives torch's outcome (a value or an error), through the general path."""
    outcomes = []
    for lib in (chainrule, torch):
        try:
            with lib.no_grad():
                if case == "cast":  # a float64 operand into float32: computed, cast back
                    x = lib.ones(3)
                    x -= lib.tensor([0.5, 1.5, 2.5], dtype=lib.float64)
                elif case == "broadcast":  # a row broadcast over the rows works; growing does not
                    x = lib.ones(2, 3)
                    x += lib.tensor([1.0, 2.0, 3.0])
                    x += lib.ones(4, 2, 3)
                elif case == "int":
                    x = lib.tensor([1, 2, 3])
                    x *= 2
                    x /= 2
                elif case == "expanded":
                    x = lib.ones(1, 3).expand(2, 3)
                    x += 1
                else:
                    x = lib.ones(3)
                    x.add_(lib.ones(3), alpha=lib.tensor(2.0))
            outcomes.append(("value", x.tolist(), str(x.dtype).rpartition(".")[2]))
        except RuntimeError as e:
            outcomes.append(("error", type(e).__name__))
    assert outcomes[0][0] == outcomes[1][0], outcomes
    if outcomes[0][0] == "value":
        assert outcomes[0] == outcomes[1]


def test_inference_tensors_keep_torch_rules():
    with chainrule.inference_mode():
        x = chainrule.ones(3)
        x -= chainrule.ones(3)  # allowed inside
    assert x.tolist() == [0, 0, 0]
    with chainrule.no_grad(), pytest.raises(RuntimeError, match="Inplace update to inference tensor"):
        x -= chainrule.ones(3)


def test_grad_mode_keeps_the_recorded_path():
    x = chainrule.ones(3, requires_grad=True) * 2
    x -= chainrule.tensor([1.0, 2.0, 3.0])
    assert x.grad_fn is not None
    x.sum().backward()


def test_the_plain_update_skips_the_general_path(monkeypatch):
    import chainrule._tensor_methods as methods

    def general(*args, **kwargs):
        raise AssertionError("the general in-place path ran")

    for name in ("add_", "sub_", "mul_", "div_"):
        monkeypatch.setattr(methods._F, name, general)
    p = chainrule.ones(100, 100, requires_grad=True)
    g = chainrule.full((100, 100), 2.0)
    with chainrule.no_grad():
        p -= 0.5 * g
        p += g
        p *= 2.0
        p /= 4
        p.add_(g, alpha=-0.5)
        p.sub_(g, alpha=0.25)
        p.mul_(g)
    assert np.allclose(p.detach().numpy(), ((1 - 1 + 2) * 2 / 4 - 1 - 0.5) * 2)
