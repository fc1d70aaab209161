"""The standard gamma sampler at concentrations with a deterministic draw, against torch's
``_standard_gamma``: not positive (-0.0, 0, negatives, -inf) or NaN draw 0, clamped to the dtype's
tiny; inf draws inf. NumPy's own sampler refuses -0.0 and negatives (ValueError)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from chainrule.distributions._gamma_grad import standard_gamma_grad
from chainrule.distributions._special import standard_gamma

VALUES = [-0.0, 0.0, -1.0, float("-inf"), float("nan"), float("inf")]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_deterministic_draws_match_torch(dtype: str) -> None:
    ours = standard_gamma(chainrule.tensor(VALUES + [2.0], dtype=getattr(chainrule, dtype)))
    theirs = torch._standard_gamma(torch.tensor(VALUES, dtype=getattr(torch, dtype)))
    np.testing.assert_array_equal(ours.numpy()[:-1], theirs.numpy())
    assert ours.numpy()[-1] > 0  # a valid concentration beside them still draws a sample


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradient_where_the_draw_is_deterministic_matches_torch(dtype: str) -> None:
    """At the clamped draws torch's Taylor series gives 0 (its NaN made 0), or -inf at a negative
    integer in float32 (the series divides by alpha + 1 = 0; in float64 the clamped draw's
    pdf overflows and the NaN is 0 again); at alpha = inf, NaN; at 1e38 the saddle point, 1."""
    values = VALUES + [1e38]
    alpha = chainrule.tensor(values, dtype=getattr(chainrule, dtype), requires_grad=True)
    (ours,) = chainrule.autograd.grad(standard_gamma(alpha).sum(), alpha)
    alpha_t = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)
    (theirs,) = torch.autograd.grad(torch._standard_gamma(alpha_t).sum(), alpha_t)
    np.testing.assert_array_equal(ours.numpy()[:-1], theirs.numpy()[:-1])
    # 1e38's draw is random (1e38 within float32's rounding), its gradient x / alpha ~ 1 either way
    np.testing.assert_allclose(ours.numpy()[-1], theirs.numpy()[-1], rtol=1e-6)
    assert theirs.numpy()[-1] == pytest.approx(1.0, rel=1e-6)


def _grid(dtype):
    """(alpha, x) pairs through all of torch's branches: the series (x < 0.8), the saddle point
    (alpha > 8, x within 10 % of alpha and beyond), the rational fit, their borders, and the edges."""
    alphas = [
        -0.0,
        0.0,
        -1.0,
        -2.5,
        float("-inf"),
        float("nan"),
        float("inf"),
        1e38,
        1e-45,
        0.3,
        1.0,
        7.99,
        8.0,
        8.5,
        10.0,
        100.0,
        1e6,
        1e20,
    ]
    xs = [
        1e-45,
        1.2e-38,
        0.0,
        0.1,
        0.79,
        0.8,
        0.81,
        1.0,
        5.0,
        7.2,
        8.0,
        8.8,
        9.0,
        90.0,
        100.0,
        110.0,
        1e6,
        1e38,
        float("inf"),
        float("nan"),
    ]
    pairs = np.array([(a, x) for a in alphas for x in xs], dtype)
    rng = np.random.default_rng(5)
    alpha = rng.gamma(1.0, 5.0, 400).astype(dtype)
    draws = rng.gamma(alpha.astype(np.float64)).astype(dtype)
    return np.concatenate([pairs[:, 0], alpha]), np.concatenate([pairs[:, 1], draws])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sample_gradient_is_torchs_standard_gamma_grad(dtype) -> None:
    """dx/dalpha by torch's formula: every branch, its borders and the edges to the last bit."""
    alpha, x = _grid(dtype)
    with np.errstate(all="ignore"):  # (chainrule's ops run it silently, in the backward)
        ours = standard_gamma_grad(alpha, x)
    theirs = torch._standard_gamma_grad(torch.from_numpy(alpha), torch.from_numpy(x)).numpy()
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)
    zeros = (ours == 0) & (theirs == 0)
    np.testing.assert_array_equal(np.signbit(ours[zeros]), np.signbit(theirs[zeros]))
