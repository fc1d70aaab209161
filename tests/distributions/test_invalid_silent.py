"""With ``validate_args=False`` and parameters outside their constraints, every family computes
what torch computes (nan, inf or a number) and emits no NumPy RuntimeWarning, as torch is silent."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest
import torch

import chainrule
import chainrule.distributions


def t(lib, values):
    return lib.tensor(values, dtype=lib.float64)


OFF = {"validate_args": False}
INVALID = {
    "Normal": lambda m, D: D.Normal(t(m, [0.0, 0.0]), t(m, [-1.0, 0.0]), **OFF),
    "Laplace": lambda m, D: D.Laplace(t(m, [0.0, 0.0]), t(m, [-1.0, 0.0]), **OFF),
    "Cauchy": lambda m, D: D.Cauchy(t(m, [0.0, 0.0]), t(m, [-1.0, 0.0]), **OFF),
    "Exponential": lambda m, D: D.Exponential(t(m, [-1.0, 0.0]), **OFF),
    "Uniform": lambda m, D: D.Uniform(t(m, [1.0, 0.0]), t(m, [0.0, 0.0]), **OFF),
    "StudentT": lambda m, D: D.StudentT(t(m, [-1.0, 0.0]), t(m, [0.0, 0.0]), t(m, [1.0, -1.0]), **OFF),
    "Gamma": lambda m, D: D.Gamma(t(m, [-1.0, 0.0]), t(m, [1.0, -1.0]), **OFF),
    "Beta": lambda m, D: D.Beta(t(m, [-1.0, 0.0]), t(m, [1.0, -1.0]), **OFF),
    "Chi2": lambda m, D: D.Chi2(t(m, [-1.0, 0.0]), **OFF),
    "LogNormal": lambda m, D: D.LogNormal(t(m, [0.0, 0.0]), t(m, [-1.0, 0.0]), **OFF),
    "HalfNormal": lambda m, D: D.HalfNormal(t(m, [-1.0, 0.0]), **OFF),
    "HalfCauchy": lambda m, D: D.HalfCauchy(t(m, [-1.0, 0.0]), **OFF),
    "Gumbel": lambda m, D: D.Gumbel(t(m, [0.0, 0.0]), t(m, [-1.0, 0.0]), **OFF),
    "Pareto": lambda m, D: D.Pareto(t(m, [-1.0, 0.0]), t(m, [1.0, -1.0]), **OFF),
    "Weibull": lambda m, D: D.Weibull(t(m, [-1.0, 0.0]), t(m, [1.0, -1.0]), **OFF),
    "InverseGamma": lambda m, D: D.InverseGamma(t(m, [-1.0, 0.0]), t(m, [1.0, -1.0]), **OFF),
    "Bernoulli": lambda m, D: D.Bernoulli(probs=t(m, [-0.5, 1.5]), **OFF),
    "Geometric": lambda m, D: D.Geometric(probs=t(m, [-0.5, 1.5]), **OFF),
    "Poisson": lambda m, D: D.Poisson(t(m, [-1.0, 0.0]), **OFF),
    "Binomial": lambda m, D: D.Binomial(t(m, [3.0, 3.0]), probs=t(m, [-0.5, 1.5]), **OFF),
    "NegativeBinomial": lambda m, D: D.NegativeBinomial(t(m, [-1.0, 0.0]), probs=t(m, [-0.5, 1.5]), **OFF),
    "Categorical": lambda m, D: D.Categorical(probs=t(m, [-0.5, 1.5]), **OFF),
    "Dirichlet": lambda m, D: D.Dirichlet(t(m, [-1.0, 0.0]), **OFF),
    "Kumaraswamy": lambda m, D: D.Kumaraswamy(t(m, [-1.0, 0.0]), t(m, [1.0, -1.0]), **OFF),
    "VonMises": lambda m, D: D.VonMises(t(m, [0.0, 0.0]), t(m, [-1.0, 0.0]), **OFF),
    "GeneralizedPareto": lambda m, D: D.GeneralizedPareto(
        t(m, [0.0, 0.0]), t(m, [-1.0, 0.0]), t(m, [-0.5, 0.5]), **OFF
    ),
    "ContinuousBernoulli": lambda m, D: D.ContinuousBernoulli(probs=t(m, [-0.5, 1.5]), **OFF),
    "LogisticNormal": lambda m, D: D.LogisticNormal(t(m, [0.0, 0.0]), t(m, [-1.0, 0.0]), **OFF),
}  # fmt: skip
VALUES = {
    "Bernoulli": [0.0, 1.0],
    "Binomial": [1.0, 2.0],
    "Poisson": [1.0, 2.0],
    "Geometric": [1.0, 2.0],
    "NegativeBinomial": [1.0, 2.0],
    "Dirichlet": [0.3, 0.7],
    "LogisticNormal": [0.2, 0.3, 0.5],
}


def _compute(lib, name, what):
    dist = INVALID[name](lib, lib.distributions)
    value = lib.tensor([0, 1]) if name == "Categorical" else t(lib, VALUES.get(name, [0.5, 2.0]))
    if what in ("log_prob", "cdf"):
        return getattr(dist, what)(value)
    if what == "icdf":
        return dist.icdf(t(lib, [0.3, 0.6]))
    if what == "entropy":
        return dist.entropy()
    return getattr(dist, what)


@contextlib.contextmanager
def _torch_float64():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # torch's GeneralizedPareto needs it for float64 parameters
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


@pytest.mark.parametrize("name", list(INVALID))
@pytest.mark.parametrize("what", ["log_prob", "entropy", "mean", "variance", "cdf", "icdf", "mode"])
def test_invalid_parameters_without_validation_match_torch_silently(name, what) -> None:
    try:
        with _torch_float64():
            theirs = _compute(torch, name, what)
    except (NotImplementedError, ValueError, RuntimeError) as error:
        with pytest.raises(type(error)):
            _compute(chainrule, name, what)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ours = _compute(chainrule, name, what)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-7, equal_nan=True)
