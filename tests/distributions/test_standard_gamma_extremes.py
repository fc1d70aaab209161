"""The standard gamma sampler at concentrations with a deterministic draw, against torch's
``_standard_gamma``: not positive (-0.0, 0, negatives, -inf) or NaN draw 0, clamped to the dtype's
tiny; inf draws inf. NumPy's own sampler refuses -0.0 and negatives (ValueError)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from chainrule.distributions._special import standard_gamma

VALUES = [-0.0, 0.0, -1.0, float("-inf"), float("nan"), float("inf")]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_deterministic_draws_match_torch(dtype: str) -> None:
    ours = standard_gamma(chainrule.tensor(VALUES + [2.0], dtype=getattr(chainrule, dtype)))
    theirs = torch._standard_gamma(torch.tensor(VALUES, dtype=getattr(torch, dtype)))
    np.testing.assert_array_equal(ours.numpy()[:-1], theirs.numpy())
    assert ours.numpy()[-1] > 0  # a valid concentration beside them still draws a sample


def test_gradient_is_finite_where_the_draw_is_clamped() -> None:
    alpha = chainrule.tensor([-0.0, -1.0, float("-inf"), float("nan")], requires_grad=True)
    (grad,) = chainrule.autograd.grad(standard_gamma(alpha).sum(), alpha)
    assert np.isfinite(grad.numpy()).all()
