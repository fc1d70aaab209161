"""Special functions where torch's own result at an extreme input is wrong (``TORCH_WRONG`` in
tests/test_extreme_values.py, and the poles and subnormals below): chainrule's result checked
against the mathematics instead, and against torch beside them."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import chainrule

INF = math.inf


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # silent, as torch
        return fn()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_zeta_is_zero_at_infinite_q(dtype: str) -> None:
    """zeta(s, q) = sum_k (q + k)^-s: every term is 0 for q = inf (s > 1), and for s = q = 1e38 each
    term underflows; torch's Euler-Maclaurin tail gives NaN (0 * inf)."""
    dt = getattr(chainrule, dtype)
    s = chainrule.tensor([2.0, 3.5, INF, 1e38, 2.0], dtype=dt)
    q = chainrule.tensor([INF, INF, INF, 1e38, 4.0], dtype=dt)
    out = _quiet(lambda: chainrule.special.zeta(s, q)).numpy()
    np.testing.assert_array_equal(out[:4], 0.0)
    # an ordinary value beside them: zeta(2, 4) = pi^2 / 6 - 1 - 1/4 - 1/9
    np.testing.assert_allclose(out[4], math.pi**2 / 6 - 1 - 1 / 4 - 1 / 9, rtol=1e-6)


@pytest.mark.parametrize("n", [2, 3])
def test_polygamma_tends_to_zero_at_inf(n: int) -> None:
    """polygamma(n, x) ~ (-1)^(n+1) (n-1)! / x^n as x -> inf: 0 at inf (torch: NaN, via its zeta)."""
    x = chainrule.tensor([INF, 1e30])
    out = _quiet(lambda: chainrule.polygamma(n, x)).numpy()
    np.testing.assert_array_equal(out, 0.0)


def test_trigamma_gradient_at_inf_is_zero() -> None:
    """d/dx polygamma(1, x) = polygamma(2, x) -> 0 at inf (torch: NaN)."""
    x = chainrule.tensor([INF, 2.0], requires_grad=True)
    (g,) = _quiet(lambda: chainrule.autograd.grad(chainrule.polygamma(1, x).sum(), x))
    assert g[0].item() == 0.0
    # at 2: polygamma(2, 2) = -2 zeta(3, 2) = -2 (zeta(3) - 1)
    np.testing.assert_allclose(g[1].item(), -2 * (1.2020569031595942 - 1), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_igamma_of_a_subnormal_a_is_one(dtype: str) -> None:
    """P(a, x) = gamma(a, x) / Gamma(a) ~ x^a / Gamma(a + 1) -> 1 as a -> 0 for a fixed x > 0;
    torch's float32 result underflows to 0 (its float64 gives 1), so that P + Q = 0 there."""
    dt = getattr(chainrule, dtype)
    a = chainrule.tensor([1e-45, 1e-45, 1e-30], dtype=dt)
    x = chainrule.tensor([1e-45, 0.5, 1e-30], dtype=dt)
    p = _quiet(lambda: chainrule.igamma(a, x)).numpy()
    q = _quiet(lambda: chainrule.igammac(a, x)).numpy()
    np.testing.assert_allclose(p, 1.0, rtol=1e-6)
    np.testing.assert_allclose(p + q, 1.0, rtol=1e-6)


def _trigamma_by_reflection(x: float) -> float:
    """psi_1(x) = pi^2 / sin^2(pi x) - psi_1(1 - x) in float64, with psi_1(1 - x) for 1 - x > 1 from
    the series sum_k 1 / (1 - x + k)^2 (to 10^6 terms) and its tail 1 / (1 - x + 10^6)."""
    y = 1.0 - x
    k = np.arange(1_000_000, dtype=np.float64)
    return math.pi**2 / math.sin(math.pi * x) ** 2 - (np.sum(1.0 / (y + k) ** 2) + 1.0 / (y + 1_000_000))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_trigamma_at_its_poles_is_inf_and_near_them_exact(dtype: str) -> None:
    """psi_1 has a double pole at 0, -1, -2, ...: +inf there, 1 / (x + n)^2 + ... beside. torch's
    reflection formula takes pi^2 / sin^2(pi x) in the input's dtype, so at x = -1 it divides by the
    square of sin(pi_rounded) (1.29e15 in float32, 6.6e32 in float64; at 0 it gives inf) and beside
    the pole it loses digits to that rounding (1 % at -1 + 2^-20 in float32). chainrule's value is
    the pole's and, beside it, the float64 reference's."""
    dt = getattr(chainrule, dtype)
    poles = _quiet(lambda: chainrule.polygamma(1, chainrule.tensor([0.0, -0.0, -1.0, -2.0, -3.0], dtype=dt)))
    np.testing.assert_array_equal(poles.numpy(), INF)
    near = [-1 + 2.0**-20, -2 - 2.0**-18, -0.5, -1.5, -2.3]
    out = _quiet(lambda: chainrule.polygamma(1, chainrule.tensor(near, dtype=dt))).numpy()
    np.testing.assert_allclose(out, [_trigamma_by_reflection(x) for x in near], rtol=1e-6)
    # away from the poles, torch's values (its float32 and float64 formulas are good to 1e-7 there)
    theirs = torch.polygamma(1, torch.tensor(near[2:], dtype=getattr(torch, dtype))).numpy()
    np.testing.assert_allclose(out[2:], theirs, rtol=1e-6)


def test_i1_of_the_smallest_subnormal_rounds_up() -> None:
    """I1(x) = x/2 + x^3/16 + ... is just above x/2 = 2^-150 for x = 2^-149 (1e-45), so its float32
    value is 2^-149 (SciPy's, chainrule's): torch's float32 Cephes product exp(x) x chbevl(...)
    meets the tie 2^-150 and rounds it to even, 0. At the other subnormals the two agree."""
    x = chainrule.tensor([2.0**-149, -(2.0**-149), 2.0**-148, 3 * 2.0**-149, 1e-40])
    for fn in (chainrule.special.i1, chainrule.special.i1e):
        out = _quiet(lambda fn=fn: fn(x)).numpy()
        assert out[0] == 2.0**-149 and out[1] == -(2.0**-149)
        torch_fn = getattr(torch.special, fn.__name__)
        np.testing.assert_array_equal(out[2:], torch_fn(torch.tensor(x.numpy()[2:])).numpy())
