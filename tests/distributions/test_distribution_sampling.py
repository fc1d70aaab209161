"""Draws: shapes and dtypes, reproducibility under manual_seed, moments against torch's analytic
mean and variance (tolerances from the sample size), and reparameterised gradients: exact for
location-scale families, and equal in expectation to d/dtheta E[f(x)] for Gamma/Beta/Dirichlet/Chi2/
StudentT (implicit reparameterisation)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import chainrule
import chainrule.distributions

N = 40_000


def _both(build, *arrays):
    """The distribution from ``build(D, *tensors)`` in torch and in chainrule (float64 leaves)."""
    theirs_params = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours_params = [chainrule.tensor(a, requires_grad=True) for a in arrays]
    return (
        build(torch.distributions, *theirs_params),
        theirs_params,
        build(chainrule.distributions, *ours_params),
        ours_params,
    )


MOMENT_CASES = {
    "Normal": (lambda D, m, s: D.Normal(m, s), [0.5, -1.0], [1.0, 2.0]),
    "LogNormal": (lambda D, m, s: D.LogNormal(m, s), [0.1, -0.5], [0.3, 0.5]),
    "HalfNormal": (lambda D, s: D.HalfNormal(s), [0.5, 2.0]),
    "Uniform": (lambda D, lo, hi: D.Uniform(lo, hi), [0.0, -2.0], [1.0, 3.0]),
    "Laplace": (lambda D, m, s: D.Laplace(m, s), [0.5, -1.0], [1.0, 0.3]),
    "Exponential": (lambda D, r: D.Exponential(r), [0.5, 3.0]),
    "Gamma": (lambda D, c, r: D.Gamma(c, r), [0.3, 4.0], [1.0, 2.0]),
    "Chi2": (lambda D, df: D.Chi2(df), [1.0, 5.0]),
    "Beta": (lambda D, a, b: D.Beta(a, b), [0.5, 3.0], [2.0, 0.7]),
    "Dirichlet": (lambda D, c: D.Dirichlet(c), [[0.5, 1.0, 3.0]]),
    "StudentT": (lambda D, df, m, s: D.StudentT(df, m, s), [5.0, 9.0], [0.0, 1.0], [1.0, 2.0]),
    "Gumbel": (lambda D, m, s: D.Gumbel(m, s), [0.0, 1.0], [1.0, 0.5]),
    "Bernoulli": (lambda D, p: D.Bernoulli(probs=p), [0.2, 0.7]),
    "Geometric": (lambda D, p: D.Geometric(probs=p), [0.3, 0.8]),
    "Binomial": (lambda D, p: D.Binomial(7, probs=p), [0.2, 0.7]),
    "Poisson": (lambda D, r: D.Poisson(r), [0.5, 4.0]),
    "NegativeBinomial": (lambda D, n, p: D.NegativeBinomial(n, probs=p), [2.0, 5.5], [0.3, 0.6]),
    "Weibull": (lambda D, s, c: D.Weibull(s, c), [1.0, 2.0], [1.5, 3.0]),
    "InverseGamma": (lambda D, c, r: D.InverseGamma(c, r), [5.0, 7.0], [1.0, 2.0]),
    "Pareto": (lambda D, s, a: D.Pareto(s, a), [1.0, 2.0], [5.0, 6.0]),
    "Categorical one-hot": (lambda D, p: D.OneHotCategorical(probs=p), [[0.2, 0.5, 0.3]]),
    "Multinomial": (lambda D, p: D.Multinomial(6, probs=p), [[0.2, 0.5, 0.3]]),
    "MVN": (
        lambda D, m, c: D.MultivariateNormal(m, covariance_matrix=c),
        [1.0, -1.0],
        [[2.0, 0.5], [0.5, 1.0]],
    ),
    "LowRankMVN": (
        lambda D, m, w, d: D.LowRankMultivariateNormal(m, w, d),
        [1.0, -1.0],
        [[1.0], [0.5]],
        [0.5, 1.0],
    ),
    "MixtureSameFamily": (
        lambda D, lg, m, s: D.MixtureSameFamily(D.Categorical(logits=lg), D.Normal(m, s)),
        [0.0, 1.0],
        [-2.0, 2.0],
        [0.5, 1.0],
    ),
    "Independent": (lambda D, m, s: D.Independent(D.Normal(m, s), 1), [0.5, -1.0], [1.0, 2.0]),
}


@pytest.mark.parametrize("name", list(MOMENT_CASES))
def test_sample_moments_match_torch_analytic_moments(name) -> None:
    build, *arrays = MOMENT_CASES[name]
    theirs, _, ours, _ = _both(build, *[np.array(a) for a in arrays])
    chainrule.manual_seed(0)
    draws = ours.sample((N,)).numpy()
    mean, var = theirs.mean.detach().numpy(), theirs.variance.detach().numpy()
    # the sample mean errs by about sd/sqrt(N): allow 6 of those
    np.testing.assert_allclose(
        draws.mean(0), mean, atol=float(6 * np.sqrt(var.max() / N)) + 1e-12, err_msg=name
    )
    np.testing.assert_allclose(draws.var(0), var, rtol=0.08, atol=1e-3, err_msg=name)
    assert str(ours.sample().dtype).split(".")[-1] == str(theirs.sample().dtype).split(".")[-1]


def test_categorical_frequencies_match_probs() -> None:
    probs = chainrule.tensor([[0.1, 0.6, 0.3], [0.5, 0.25, 0.25]])
    chainrule.manual_seed(1)
    draws = chainrule.distributions.Categorical(probs=probs).sample((N,)).numpy()
    assert draws.dtype == np.int64 and draws.shape == (N, 2)
    for row in range(2):
        freq = np.bincount(draws[:, row], minlength=3) / N
        np.testing.assert_allclose(freq, probs.numpy()[row], atol=6 * math.sqrt(0.25 / N))


def test_manual_seed_reproduces_draws() -> None:
    dist = chainrule.distributions.Gamma(chainrule.tensor([0.5, 2.0]), chainrule.tensor(1.0))
    chainrule.manual_seed(3)
    first = dist.sample((4,)).numpy()
    chainrule.manual_seed(3)
    np.testing.assert_array_equal(dist.sample((4,)).numpy(), first)


def test_sample_is_detached_and_rsample_is_differentiable() -> None:
    loc = chainrule.tensor([0.0, 1.0], requires_grad=True)
    dist = chainrule.distributions.Normal(loc, 1.0)
    assert not dist.sample((3,)).requires_grad
    assert dist.rsample((3,)).requires_grad
    with pytest.raises(NotImplementedError):
        chainrule.distributions.Poisson(chainrule.tensor([1.0])).rsample()


def test_location_scale_rsample_gradients_are_exact() -> None:
    loc = chainrule.tensor([0.5, -1.0], dtype=chainrule.float64, requires_grad=True)
    scale = chainrule.tensor([1.0, 2.0], dtype=chainrule.float64, requires_grad=True)
    chainrule.manual_seed(4)
    x = chainrule.distributions.Normal(loc, scale).rsample((5,))
    g_loc, g_scale = chainrule.autograd.grad(x.sum(), [loc, scale])
    np.testing.assert_allclose(g_loc.numpy(), [5.0, 5.0])
    np.testing.assert_allclose(g_scale.numpy(), ((x - loc) / scale).sum(0).detach().numpy())


def _objective(x):
    return x + 0.25 * x * x


REPARAM_CASES = {
    # f(x) = x + x^2 / 4, so E f = mean + (variance + mean^2) / 4 has closed-form gradients in torch
    "Gamma": (lambda D, c, r: D.Gamma(c, r), [0.4, 2.5], [1.5, 0.7]),
    "Chi2": (lambda D, df: D.Chi2(df), [0.8, 4.0]),
    "Beta": (lambda D, a, b: D.Beta(a, b), [0.6, 3.0], [2.0, 0.8]),
    "Dirichlet": (lambda D, c: D.Dirichlet(c), [[0.7, 1.5, 3.0]]),
    "StudentT": (lambda D, df, m, s: D.StudentT(df, m, s), [6.0, 12.0], [0.5, -1.0], [1.0, 2.0]),
    "Normal": (lambda D, m, s: D.Normal(m, s), [0.5, -1.0], [1.0, 2.0]),
    "LogNormal": (lambda D, m, s: D.LogNormal(m, s), [0.1, -0.5], [0.3, 0.4]),
    "Laplace": (lambda D, m, s: D.Laplace(m, s), [0.5, -1.0], [1.0, 0.3]),
    "Exponential": (lambda D, r: D.Exponential(r), [0.8, 3.0]),
    "Uniform": (lambda D, lo, hi: D.Uniform(lo, hi), [0.0, -2.0], [1.0, 3.0]),
    "MVN": (
        lambda D, m, lower: D.MultivariateNormal(m, scale_tril=lower),
        [1.0, -1.0],
        [[1.2, 0.0], [0.5, 0.8]],
    ),
    "LowRankMVN": (
        lambda D, m, w, d: D.LowRankMultivariateNormal(m, w, d),
        [1.0, -1.0],
        [[1.0], [0.5]],
        [0.5, 1.0],
    ),
}


@pytest.mark.parametrize("name", list(REPARAM_CASES))
def test_rsample_gradients_match_torch_in_expectation(name) -> None:
    build, *arrays = REPARAM_CASES[name]
    theirs, theirs_params, ours, ours_params = _both(build, *[np.array(a) for a in arrays])
    expected = (theirs.mean + (theirs.variance + theirs.mean**2) / 4).sum()
    expected_grads = torch.autograd.grad(expected, theirs_params)
    chainrule.manual_seed(5)
    n = 100_000
    draws = ours.rsample((n,))
    estimate = _objective(draws).sum() / n
    grads = chainrule.autograd.grad(estimate, ours_params)
    # a Monte Carlo mean over n draws: its error is a few sd / sqrt(n); a per-draw gradient's sd is
    # of the order of the gradient's scale here, so 5 % relative plus 0.05 absolute is ~10 sd
    for ours_grad, theirs_grad in zip(grads, expected_grads):
        np.testing.assert_allclose(ours_grad.numpy(), theirs_grad.numpy(), rtol=0.05, atol=0.05, err_msg=name)


def test_gamma_rsample_gradient_matches_torch_rsample_gradient_statistics() -> None:
    """The per-draw implicit gradient dx/dalpha, averaged, against torch's own rsample's."""
    alpha = np.array([0.2, 1.0, 5.0])
    torch.manual_seed(0)
    chainrule.manual_seed(0)
    t_alpha = torch.tensor(alpha, requires_grad=True)
    o_alpha = chainrule.tensor(alpha, requires_grad=True)
    (t_grad,) = torch.autograd.grad(
        torch.distributions.Gamma(t_alpha, 1.0).rsample((N,)).mean(0).sum(), t_alpha
    )
    (o_grad,) = chainrule.autograd.grad(
        chainrule.distributions.Gamma(o_alpha, 1.0).rsample((N,)).mean(0).sum(), o_alpha
    )
    np.testing.assert_allclose(o_grad.numpy(), t_grad.numpy(), rtol=0.03)  # both estimate d mean/d alpha = 1
    np.testing.assert_allclose(o_grad.numpy(), 1.0, rtol=0.03)


def test_relaxed_rsample_lies_in_support_and_is_differentiable() -> None:
    D = chainrule.distributions
    temperature = chainrule.tensor(0.5)
    logits = chainrule.tensor([[0.1, 1.0, -1.0]], requires_grad=True)
    x = D.RelaxedOneHotCategorical(temperature, logits=logits).rsample((100,))
    np.testing.assert_allclose(x.sum(-1).detach().numpy(), 1.0, rtol=1e-5)
    (grad,) = chainrule.autograd.grad((x[..., 1]).sum(), logits)
    assert np.all(np.isfinite(grad.numpy()))
    probs = chainrule.tensor([0.3, 0.8], requires_grad=True)
    y = D.RelaxedBernoulli(temperature, probs=probs).rsample((100,))
    assert float(y.min()) > 0 and float(y.max()) < 1
    assert chainrule.autograd.grad(y.sum(), probs)[0].shape == (2,)


def test_enumerate_support_matches_torch() -> None:
    cases = [
        lambda D, lib: D.Bernoulli(probs=lib.tensor([0.2, 0.7])),
        lambda D, lib: D.Binomial(3, probs=lib.tensor([0.2, 0.7])),
        lambda D, lib: D.Categorical(probs=lib.tensor([[0.2, 0.8], [0.5, 0.5]])),
        lambda D, lib: D.OneHotCategorical(probs=lib.tensor([[0.2, 0.8], [0.5, 0.5]])),
        lambda D, lib: D.Independent(D.Bernoulli(probs=lib.tensor([0.2, 0.7])), 0),
    ]
    for make in cases:
        for expand in (True, False):
            theirs = make(torch.distributions, torch).enumerate_support(expand)
            ours = make(chainrule.distributions, chainrule).enumerate_support(expand)
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
            assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
