"""Piecewise activations at their breakpoints and at inf, -inf, 1e38 and NaN against torch: the
regression tests of the extreme-value sweep's fixes (tests/test_extreme_values.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule

pytestmark = pytest.mark.usefixtures("one_torch_thread")

INF, NAN = float("inf"), float("nan")
VALUES = [-INF, -1e38, -3.0, -2.0, -0.0, 0.0, 2.0, 3.0, 1e38, INF]


def _run(lib, fn, values: list, dtype: str, *extra):
    x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)
    args = [lib.tensor(e, dtype=getattr(lib, dtype), requires_grad=True) for e in extra]
    with warnings.catch_warnings():
        warnings.simplefilter("error" if lib is chainrule else "ignore", RuntimeWarning)
        y = fn(lib, x, *args)
        seed = lib.tensor(np.linspace(-2.0, 1.5, y.numel()).reshape(tuple(y.shape)), dtype=y.dtype)
        grads = lib.autograd.grad(y, [x, *args], seed)
    return [y.detach().numpy()] + [g.numpy() for g in grads]


def _same(fn, values, dtype="float32", *extra) -> None:
    for k, (o, t) in enumerate(
        zip(_run(chainrule, fn, values, dtype, *extra), _run(torch, fn, values, dtype, *extra))
    ):
        np.testing.assert_allclose(o, t, rtol=1e-6, atol=0, equal_nan=True, err_msg=f"output/grad {k}")


def _f(m):
    return m.nn.functional


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "name",
    ["hardswish", "hardsigmoid", "prelu(one slope)", "prelu(inf slope)", "prelu(per channel)"],
)
def test_breakpoints_and_infinities_match_torch(name: str, dtype: str) -> None:
    if name == "hardswish":
        _same(lambda m, x: _f(m).hardswish(x), VALUES, dtype)
    elif name == "hardsigmoid":
        _same(lambda m, x: _f(m).hardsigmoid(x), VALUES + [NAN], dtype)
    elif name == "prelu(one slope)":
        _same(lambda m, x, w: m.prelu(x, w), VALUES + [NAN], dtype, [0.25])
    elif name == "prelu(inf slope)":
        _same(lambda m, x, w: m.prelu(x, w), VALUES, dtype, [INF])
    else:
        rows = [[INF, -1.0, 2.0], [-INF, 3.0, -0.5]]
        _same(lambda m, x, w: m.prelu(x, w) ** 2, rows, dtype, [INF, 0.5, 2.0])


def test_nan_gradients_are_those_of_torchs_vectorized_kernels() -> None:
    """At NaN torch's gradient depends on the tensor's length: its vectorized kernel, which takes
    tensors of a vector register or more, gives hardswish NaN and hardtanh 0 there (its scalar kernel
    passes the gradient through). chainrule gives the vectorized kernel's answer at any length."""
    long = [NAN] * 64  # longer than any CPU's vector register, so torch's vectorized kernel runs
    _same(lambda m, x: _f(m).hardswish(x), long)
    _same(lambda m, x: _f(m).hardtanh(x, -0.5, 0.7), long)
    x = chainrule.tensor([NAN], requires_grad=True)  # one element: torch's scalar kernel differs
    (g,) = chainrule.autograd.grad(_f(chainrule).hardswish(x).sum(), x)
    assert np.isnan(g.item())
    (g,) = chainrule.autograd.grad(_f(chainrule).hardtanh_(x * 1, -0.5, 0.7).sum(), x)
    assert g.item() == 0.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_hardtanh_and_relu6_have_no_gradient_at_their_bounds(dtype: str) -> None:
    """torch's hardtanh backward keeps the gradient only strictly inside (min, max): relu6 at exactly
    0 or 6 has gradient 0 (clamp, with the same values, keeps it at the bounds)."""
    values = [-1.0, 0.0, 0.5, 6.0, 7.0, -0.0, INF]
    _same(lambda m, x: _f(m).relu6(x), values, dtype)
    _same(lambda m, x: _f(m).hardtanh(x, -0.5, 0.5), [-0.5, 0.5, 0.0, -1.0, 1.0], dtype)
    _same(lambda m, x: _f(m).hardtanh_(x * 1, -0.5, 0.5), [-0.5, 0.5, 0.0, -1.0, 1.0], dtype)
    ints = chainrule.nn.functional.relu6(chainrule.tensor([-3, 2, 9]))
    assert ints.dtype == chainrule.int64 and ints.tolist() == [0, 2, 6]  # torch clamps integers as they are


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_hardsigmoid_is_torchs_to_the_last_bit(dtype: str) -> None:
    """torch computes min(max(x + 3, 0), 6) / 6 (x / 6 + 1/2 is a bit off at x = 2 and -2 among
    others) and its gradient as g * float32(1/6) (float16 in float32, rounded once)."""
    rng = np.random.default_rng(4)
    values = np.concatenate([[2.0, -2.0, 2.5, -2.5, 3.0, -3.0, NAN, INF, -INF], rng.uniform(-4, 4, 300)])
    seed = rng.standard_normal(values.size)
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(values.astype(np.float32)).to(getattr(lib, dtype)).requires_grad_()
        y = lib.nn.functional.hardsigmoid(x)
        (g,) = lib.autograd.grad(y, x, lib.tensor(seed.astype(np.float32)).to(getattr(lib, dtype)))
        results.append((y.detach().double().numpy(), g.double().numpy(), str(y.dtype), str(g.dtype)))
    (y_ours, g_ours, *dtypes_ours), (y_torch, g_torch, *dtypes_torch) = results
    np.testing.assert_array_equal(y_ours, y_torch)
    np.testing.assert_array_equal(g_ours, g_torch)
    assert [d.split(".")[-1] for d in dtypes_ours] == [d.split(".")[-1] for d in dtypes_torch]


def test_hardsigmoid_refuses_complex_as_torch() -> None:
    for lib in (chainrule, torch):
        with pytest.raises(NotImplementedError, match="ComplexFloat"):
            lib.nn.functional.hardsigmoid(lib.tensor([1 + 1j]))
