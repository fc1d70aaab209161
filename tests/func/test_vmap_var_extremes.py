"""float32 var and std under vmap at values whose squares leave float32's range (1e38, 1e-30, the
subnormal 1e-45): recomputed in float64 per sample as the plain op recomputes them, so vmap gives
the plain op's values and torch.func.vmap's (torch accumulates a float32 variance in float64)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

FUNCTIONS = {
    "var": lambda m, t: t.var(),
    "std": lambda m, t: t.std(),
    "std(dim=1)": lambda m, t: t.std(1),
    "std(unbiased=False)": lambda m, t: t.std(unbiased=False),
    "std(1, keepdim=True)": lambda m, t: t.std(1, keepdim=True),
    "var(1, correction=0)": lambda m, t: t.var(1, correction=0),
    "std_mean(dim=1)": lambda m, t: m.std_mean(t, 1)[0],
    "var_mean": lambda m, t: m.var_mean(t)[0],
}


def _batch(scale: float) -> np.ndarray:
    """Three samples: one of ordinary values, one at ``scale`` (alternating signs, one element
    halved), one of ordinary values again, so that a sample's recomputation touches no other."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 3, 4)).astype(np.float32)
    big = np.full((3, 4), scale, np.float32)
    big[:, ::2] *= -1
    big[0, 0] *= 0.5
    x[1] = big
    return x


@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize("scale", [1e38, 3e19, 1e-30, 1e-45], ids=str)
def test_var_and_std_under_vmap_match_the_plain_op_and_torch(name: str, scale: float) -> None:
    fn = FUNCTIONS[name]
    x = _batch(scale)
    ours = chainrule.func.vmap(lambda t: fn(chainrule, t))(chainrule.tensor(x)).numpy()
    plain = np.stack([fn(chainrule, chainrule.tensor(sample)).numpy() for sample in x])
    theirs = torch.func.vmap(lambda t: fn(torch, t))(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(ours, plain)  # the plain op's values, sample by sample
    if name.startswith("std"):  # (a variance of 1e38's squares is inf in float32, as torch's)
        assert np.isfinite(ours).all() and (ours[1] > 0).all()
    np.testing.assert_allclose(ours, theirs, rtol=2e-6, atol=0)


def test_std_gradient_under_vmap_at_an_overflowing_square() -> None:
    """The gradient through the widened std is torch's too: (x - mean) / ((n - 1) std)."""
    x = _batch(1e38)[:, 0]

    def grads(lib):
        t = lib.tensor(x, requires_grad=True)
        out = lib.func.vmap(lambda row: row.std())(t)
        (g,) = lib.autograd.grad(out.sum(), t)
        return g.numpy()

    np.testing.assert_allclose(grads(chainrule), grads(torch), rtol=2e-5, atol=1e-30)
