"""Argument and value validation as torch: the same exception type and message for invalid
parameters, values outside the support, shape mismatches, and the switches that turn it off."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import raises_like_torch

import chainrule
import chainrule.distributions


def _D(lib):
    return torch.distributions if lib is torch else chainrule.distributions


def t(lib, values):
    return lib.tensor(values, dtype=lib.float64)


INVALID = [
    (lambda m: _D(m).Normal(t(m, [0.0]), t(m, [-1.0])), "Expected parameter scale"),
    (lambda m: _D(m).Normal(t(m, [float("nan")]), t(m, [1.0])), "Expected parameter loc"),
    (lambda m: _D(m).Exponential(t(m, [0.0])), "Expected parameter rate"),
    (lambda m: _D(m).Gamma(t(m, [1.0]), t(m, [-2.0])), "Expected parameter rate"),
    (lambda m: _D(m).Beta(t(m, [0.0]), t(m, [1.0])), "Expected parameter concentration"),
    (lambda m: _D(m).Dirichlet(t(m, [1.0, -1.0])), "Expected parameter concentration"),
    (lambda m: _D(m).Dirichlet(t(m, 1.0)), "must be at least one-dimensional"),
    (lambda m: _D(m).Uniform(t(m, [1.0]), t(m, [0.0])), "Expected parameter low"),
    (lambda m: _D(m).Bernoulli(probs=t(m, [1.5])), "Expected parameter probs"),
    (lambda m: _D(m).Bernoulli(probs=t(m, [0.5]), logits=t(m, [0.0])), "Either `probs` or `logits`"),
    (lambda m: _D(m).Bernoulli(), "Either `probs` or `logits`"),
    (lambda m: _D(m).Categorical(probs=t(m, 0.5)), "`probs` parameter must be at least one-dimensional"),
    (lambda m: _D(m).Categorical(logits=t(m, 0.5)), "`logits` parameter must be at least one-dimensional"),
    (lambda m: _D(m).Categorical(probs=t(m, [0.5, -0.5])), "Expected parameter probs"),
    (lambda m: _D(m).Geometric(probs=t(m, [0.0])), "Expected parameter probs"),
    (lambda m: _D(m).Binomial(t(m, [2.5]), probs=t(m, [0.5])), "Expected parameter total_count"),
    (lambda m: _D(m).Poisson(t(m, [-1.0])), "Expected parameter rate"),
    (lambda m: _D(m).Multinomial(m.tensor(3), probs=t(m, [0.5, 0.5])), "inhomogeneous total_count"),
    (lambda m: _D(m).StudentT(t(m, [-1.0])), "Expected parameter df"),
    (lambda m: _D(m).Chi2(t(m, [-1.0])), "Expected parameter df"),
    (lambda m: _D(m).LogNormal(t(m, [0.0]), t(m, [0.0])), "Expected parameter scale"),
    (lambda m: _D(m).HalfNormal(t(m, [-1.0])), "Expected parameter scale"),
    (lambda m: _D(m).Laplace(t(m, [0.0]), t(m, [-1.0])), "Expected parameter scale"),
    (lambda m: _D(m).Cauchy(t(m, [0.0]), t(m, [0.0])), "Expected parameter scale"),
    (lambda m: _D(m).Gumbel(t(m, [0.0]), t(m, [-1.0])), "Expected parameter scale"),
    (lambda m: _D(m).MultivariateNormal(t(m, [0.0, 0.0])), "Exactly one of covariance_matrix"),
    (lambda m: _D(m).MultivariateNormal(t(m, 0.0), t(m, [[1.0]])), "loc must be at least one-dimensional"),
    (lambda m: _D(m).MultivariateNormal(t(m, [0.0]), t(m, [1.0])), "covariance_matrix must be at least two"),
    (
        lambda m: _D(m).MultivariateNormal(t(m, [0.0, 0.0]), t(m, [[1.0, 2.0], [2.0, 1.0]])),
        "Expected parameter",
    ),
    (
        lambda m: _D(m).MultivariateNormal(t(m, [0.0, 0.0]), scale_tril=t(m, [[1.0, 1.0], [0.0, 1.0]])),
        "scale_tril",
    ),
    (
        lambda m: _D(m).LowRankMultivariateNormal(t(m, [0.0, 0.0]), t(m, [1.0, 1.0]), t(m, [1.0, 1.0])),
        "cov_factor",
    ),
    (
        lambda m: _D(m).LowRankMultivariateNormal(t(m, [0.0, 0.0]), t(m, [[1.0]] * 3), t(m, [1.0, 1.0])),
        "cov_factor must be a batch of matrices with shape 2 x m",
    ),
    (
        lambda m: _D(m).LowRankMultivariateNormal(t(m, [0.0, 0.0]), t(m, [[1.0]] * 2), t(m, [1.0, 1.0, 1.0])),
        "cov_diag must be a batch of vectors",
    ),
    (lambda m: _D(m).Independent(_D(m).Normal(t(m, [0.0]), t(m, [1.0])), 2), "reinterpreted_batch_ndims"),
    (
        lambda m: _D(m).MixtureSameFamily(
            _D(m).Normal(t(m, [0.0]), t(m, [1.0])), _D(m).Normal(t(m, [0.0]), t(m, [1.0]))
        ),
        "Categorical",
    ),
    (
        lambda m: _D(m).MixtureSameFamily(
            _D(m).Categorical(t(m, [0.5, 0.5])), _D(m).Normal(t(m, [0.0] * 3), t(m, [1.0] * 3))
        ),
        "does not equal",
    ),
]


@pytest.mark.parametrize("program,match", INVALID, ids=[m for _, m in INVALID])
def test_invalid_parameters_raise_like_torch(program, match) -> None:
    raises_like_torch(program, match)


OUTSIDE = [
    (lambda m: _D(m).Exponential(t(m, [1.0])).log_prob(t(m, [-1.0])), "Expected value argument"),
    (lambda m: _D(m).Beta(t(m, [1.0]), t(m, [1.0])).log_prob(t(m, [1.5])), "Expected value argument"),
    (lambda m: _D(m).Poisson(t(m, [1.0])).log_prob(t(m, [0.5])), "Expected value argument"),
    (lambda m: _D(m).Bernoulli(probs=t(m, [0.5])).log_prob(t(m, [2.0])), "Expected value argument"),
    (lambda m: _D(m).Categorical(probs=t(m, [0.5, 0.5])).log_prob(m.tensor([2])), "Expected value argument"),
    (lambda m: _D(m).Uniform(t(m, [0.0]), t(m, [1.0])).log_prob(t(m, [1.5])), "Expected value argument"),
    (lambda m: _D(m).Dirichlet(t(m, [1.0, 1.0])).log_prob(t(m, [0.5, 0.7])), "Expected value argument"),
    (
        lambda m: _D(m).Normal(t(m, [0.0, 0.0]), t(m, [1.0, 1.0])).log_prob(t(m, [0.0, 0.0, 0.0])),
        "broadcastable",
    ),
    (lambda m: _D(m).Normal(t(m, [0.0]), t(m, [1.0])).log_prob([0.0]), "must be a Tensor"),
    (
        lambda m: _D(m).MultivariateNormal(t(m, [0.0, 0.0]), t(m, np.eye(2))).log_prob(t(m, [0.0])),
        "event_shape",
    ),
    (lambda m: _D(m).Binomial(3, probs=t(m, [0.5])).log_prob(t(m, [4.0])), "Expected value argument"),
    (
        lambda m: _D(m).Multinomial(3, probs=t(m, [0.5, 0.5])).log_prob(t(m, [-1.0, 1.0])),
        "Expected value argument",
    ),
    (
        lambda m: _D(m).Binomial(t(m, [2.0, 3.0]), probs=t(m, [0.5, 0.5])).entropy(),
        "Inhomogeneous total count",
    ),
    (lambda m: _D(m).Independent(_D(m).Bernoulli(t(m, [[0.5]])), 1).enumerate_support(), "cartesian product"),
]


@pytest.mark.parametrize("program,match", OUTSIDE, ids=range(len(OUTSIDE)))
def test_values_outside_the_support_raise_like_torch(program, match) -> None:
    raises_like_torch(program, match)


@pytest.mark.parametrize(
    "program",
    [
        lambda m: _D(m).Normal(t(m, [0.0]), t(m, [1.0])).enumerate_support(),
        lambda m: _D(m).Poisson(t(m, [1.0])).rsample(),
        lambda m: _D(m).Poisson(t(m, [1.0])).cdf(t(m, [1.0])),
        lambda m: _D(m).Categorical(t(m, [0.5, 0.5])).icdf(t(m, [0.5])),
    ],
)
def test_what_a_family_lacks_raises_not_implemented_like_torch(program) -> None:
    for lib in (torch, chainrule):
        with pytest.raises(NotImplementedError):
            program(lib)


def test_validate_args_false_and_the_default_switch() -> None:
    for lib in (torch, chainrule):
        D = _D(lib)
        dist = D.Normal(t(lib, [0.0]), t(lib, [-1.0]), validate_args=False)
        assert np.isnan(float(dist.log_prob(t(lib, [0.0]))))
        D.Distribution.set_default_validate_args(False)
        try:
            D.Exponential(t(lib, [-1.0]))
            assert float(D.Exponential(t(lib, [1.0])).log_prob(t(lib, [-1.0]))) == -1.0 * -1.0 + 0.0
        finally:
            D.Distribution.set_default_validate_args(True)
        with pytest.raises(ValueError):
            D.Exponential(t(lib, [-1.0]))
        with pytest.raises(ValueError):
            D.Distribution.set_default_validate_args(3)


def test_repr_and_shapes_like_torch() -> None:
    for make in (
        lambda m: _D(m).Normal(t(m, [0.0, 1.0]), t(m, [1.0, 2.0])),
        lambda m: _D(m).Normal(t(m, [0.5]), t(m, [2.0])),
        lambda m: _D(m).Independent(_D(m).Normal(t(m, [0.0]), t(m, [1.0])), 1),
        lambda m: _D(m).Categorical(probs=t(m, [0.5, 0.5])),
    ):
        theirs, ours = make(torch), make(chainrule)
        assert repr(ours).replace("chainrule", "torch") == repr(theirs)
    theirs = torch.distributions.Normal(0.0, 1.0)
    ours = chainrule.distributions.Normal(0.0, 1.0)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape) == ()
    assert str(ours.loc.dtype) == "chainrule.float32"
