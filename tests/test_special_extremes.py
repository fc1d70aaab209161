"""Special functions where torch's own result at an extreme input is wrong (``TORCH_WRONG`` in
tests/test_extreme_values.py): chainrule's result checked against the mathematics instead."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

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
