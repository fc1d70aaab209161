"""Every family against torch.distributions on the same parameters and values: shapes, mean, mode,
variance, stddev, entropy, log_prob, cdf, icdf, and the gradients of each w.r.t. the parameters
(exact, float64 and float32); torch's exception types where torch refuses."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _compare import METHODS, PROPERTIES, DistCase, compare_quantity, make

R = np.random.default_rng(42)


def pos(*shape, low=0.3, high=3.0):
    return R.uniform(low, high, shape)


def real(*shape):
    return R.normal(size=shape)


def unit(*shape):
    return R.uniform(0.05, 0.95, shape)


def simplex(*shape):
    x = R.uniform(0.1, 1.0, shape)
    return x / x.sum(-1, keepdims=True)


def spd(*batch, n=3):
    a = R.normal(size=(*batch, n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def tril(*batch, n=3):
    a = np.tril(R.normal(size=(*batch, n, n)), -1)
    return a + np.eye(n) * R.uniform(0.5, 2.0, (*batch, n, 1))


def _values(fn):
    return lambda rng: fn(rng)


CASES = [
    DistCase(
        "Normal",
        lambda D, m, s: D.Normal(m, s),
        (real(2, 3), pos(2, 3)),
        lambda r: r.normal(size=(4, 2, 3)),
        unit=lambda r: r.uniform(0.01, 0.99, (2, 3)),
    ),
    DistCase(
        "Normal broadcast",
        lambda D, m, s: D.Normal(m, s),
        (real(3), pos(2, 1)),
        lambda r: r.normal(size=(3,)),
        unit=lambda r: r.uniform(0.01, 0.99, (2, 3)),
    ),
    DistCase(
        "Normal scalar scale",
        lambda D, m: D.Normal(m, 2.0),
        (real(3),),
        lambda r: r.normal(size=(3,)),
        unit=lambda r: r.uniform(0.01, 0.99, (3,)),
    ),
    DistCase(
        "LogNormal",
        lambda D, m, s: D.LogNormal(m, s),
        (real(3), pos(3)),
        lambda r: r.uniform(0.1, 4, (2, 3)),
        unit=lambda r: r.uniform(0.01, 0.99, (3,)),
    ),
    DistCase(
        "HalfNormal",
        lambda D, s: D.HalfNormal(s),
        (pos(4),),
        lambda r: r.uniform(0.0, 4, (4,)),
        unit=lambda r: r.uniform(0.01, 0.99, (4,)),
    ),
    DistCase(
        "Uniform",
        lambda D, lo, hi: D.Uniform(lo, lo + hi),
        (real(3), pos(3)),
        lambda r: r.uniform(-0.2, 0.2, (3,)),
        unit=lambda r: r.uniform(0.0, 1.0, (3,)),
    ),
    DistCase(
        "Laplace",
        lambda D, m, s: D.Laplace(m, s),
        (real(2, 3), pos(2, 3)),
        lambda r: r.normal(size=(2, 3)),
        unit=lambda r: r.uniform(0.01, 0.99, (2, 3)),
    ),
    DistCase(
        "Cauchy",
        lambda D, m, s: D.Cauchy(m, s),
        (real(3), pos(3)),
        lambda r: r.normal(size=(3,)),
        unit=lambda r: r.uniform(0.01, 0.99, (3,)),
    ),
    DistCase(
        "Exponential",
        lambda D, rate: D.Exponential(rate),
        (pos(2, 3),),
        lambda r: r.uniform(0, 3, (2, 3)),
        unit=lambda r: r.uniform(0.01, 0.99, (2, 3)),
    ),
    DistCase(
        "StudentT",
        lambda D, df, m, s: D.StudentT(df, m, s),
        (np.array([0.5, 1.5, 2.5, 5.0]), real(4), pos(4)),
        lambda r: r.normal(size=(4,)),
    ),
    DistCase(
        "Gamma",
        lambda D, c, rate: D.Gamma(c, rate),
        (pos(2, 3, low=0.5), pos(2, 3)),
        lambda r: r.uniform(0.1, 3, (2, 3)),
        rtol=1e-6,
    ),
    DistCase(
        "Chi2",
        lambda D, df: D.Chi2(df),
        (pos(3, low=1.0, high=5.0),),
        lambda r: r.uniform(0.1, 3, (3,)),
        rtol=1e-6,
    ),
    DistCase("Beta", lambda D, a, b: D.Beta(a, b), (pos(3), pos(3)), lambda r: r.uniform(0.05, 0.95, (3,))),
    DistCase("Beta scalar", lambda D: D.Beta(2.0, 3.0), (), lambda r: r.uniform(0.05, 0.95, (3,))),
    DistCase("Dirichlet", lambda D, c: D.Dirichlet(c), (pos(2, 4),), lambda r: simplex(2, 4)),
    DistCase(
        "Dirichlet small", lambda D, c: D.Dirichlet(c), (pos(2, 3, low=0.2, high=0.9),), lambda r: simplex(3)
    ),
    DistCase(
        "Gumbel",
        lambda D, m, s: D.Gumbel(m, s),
        (real(3), pos(3)),
        lambda r: r.normal(size=(3,)),
        unit=lambda r: r.uniform(0.01, 0.99, (3,)),
    ),
    DistCase(
        "Bernoulli probs",
        lambda D, p: D.Bernoulli(probs=p),
        (np.array([0.1, 0.5, 0.9, 0.3]),),
        lambda r: r.integers(0, 2, (4,)).astype(float),
    ),
    DistCase(
        "Bernoulli logits",
        lambda D, lg: D.Bernoulli(logits=lg),
        (real(2, 3),),
        lambda r: r.integers(0, 2, (2, 3)).astype(float),
    ),
    DistCase(
        "Geometric probs",
        lambda D, p: D.Geometric(probs=p),
        (unit(4),),
        lambda r: r.integers(0, 5, (4,)).astype(float),
    ),
    DistCase(
        "Geometric logits",
        lambda D, lg: D.Geometric(logits=lg),
        (real(4),),
        lambda r: r.integers(0, 5, (4,)).astype(float),
    ),
    DistCase(
        "Binomial",
        lambda D, p: D.Binomial(10, probs=p),
        (unit(4),),
        lambda r: r.integers(0, 11, (4,)).astype(float),
    ),
    DistCase(
        "Binomial counts",
        lambda D, n, lg: D.Binomial(n, logits=lg),
        (np.array([3.0, 7.0, 5.0]), real(3)),
        lambda r: np.array([1.0, 7.0, 0.0]),
    ),
    DistCase(
        "Poisson",
        lambda D, rate: D.Poisson(rate),
        (pos(2, 3),),
        lambda r: r.integers(0, 6, (2, 3)).astype(float),
    ),
    DistCase(
        "Categorical probs",
        lambda D, p: D.Categorical(probs=p),
        (simplex(2, 4),),
        lambda r: r.integers(0, 4, (3, 2)),
    ),
    DistCase(
        "Categorical logits",
        lambda D, lg: D.Categorical(logits=lg),
        (real(5),),
        lambda r: r.integers(0, 5, (3,)),
    ),
    DistCase(
        "OneHotCategorical",
        lambda D, p: D.OneHotCategorical(probs=p),
        (simplex(2, 3),),
        lambda r: np.eye(3)[r.integers(0, 3, (2,))],
    ),
    DistCase(
        "Multinomial",
        lambda D, p: D.Multinomial(5, probs=p),
        (simplex(2, 3),),
        lambda r: np.array([[1.0, 2.0, 2.0], [0.0, 5.0, 0.0]]),
    ),
    DistCase(
        "Multinomial logits",
        lambda D, lg: D.Multinomial(4, logits=lg),
        (real(3),),
        lambda r: np.array([1.0, 0.0, 3.0]),
    ),
    DistCase(
        "MVN covariance",
        lambda D, m, c: D.MultivariateNormal(m, covariance_matrix=c),
        (real(2, 3), spd(2)),
        lambda r: r.normal(size=(4, 2, 3)),
        rtol=1e-6,
    ),
    DistCase(
        "MVN precision",
        lambda D, m, c: D.MultivariateNormal(m, precision_matrix=c),
        (real(3), spd()),
        lambda r: r.normal(size=(2, 3)),
        rtol=1e-6,
    ),
    DistCase(
        "MVN scale_tril",
        lambda D, m, lower: D.MultivariateNormal(m, scale_tril=lower),
        (real(2, 3), tril()),
        lambda r: r.normal(size=(2, 3)),
        rtol=1e-6,
    ),
    DistCase(
        "LowRankMVN",
        lambda D, m, w, d: D.LowRankMultivariateNormal(m, w, d),
        (real(2, 3), real(3, 2), pos(3)),
        lambda r: r.normal(size=(2, 3)),
        rtol=1e-6,
    ),
    DistCase(
        "Independent Normal",
        lambda D, m, s: D.Independent(D.Normal(m, s), 1),
        (real(2, 3), pos(2, 3)),
        lambda r: r.normal(size=(2, 3)),
    ),
    DistCase(
        "MixtureSameFamily",
        lambda D, lg, m, s: D.MixtureSameFamily(D.Categorical(logits=lg), D.Normal(m, s)),
        (real(2, 3), real(2, 3), pos(2, 3)),
        lambda r: r.normal(size=(4, 2)),
        rtol=1e-6,
    ),
    DistCase(
        "Mixture of MVN diag",
        lambda D, lg, m, s: D.MixtureSameFamily(D.Categorical(logits=lg), D.Independent(D.Normal(m, s), 1)),
        (real(3), real(3, 2), pos(3, 2)),
        lambda r: r.normal(size=(5, 2)),
        rtol=1e-6,
    ),
    DistCase(
        "Transformed affine exp",
        lambda D, m, s, a, b: D.TransformedDistribution(
            D.Normal(m, s), [D.transforms.AffineTransform(a, b), D.transforms.ExpTransform()]
        ),
        (real(3), pos(3), real(3), pos(3)),
        lambda r: r.uniform(0.2, 3.0, (3,)),
        unit=lambda r: r.uniform(0.01, 0.99, (3,)),
    ),
    DistCase(
        "Transformed sigmoid",
        lambda D, m, s: D.TransformedDistribution(D.Normal(m, s), D.transforms.SigmoidTransform()),
        (real(3), pos(3)),
        lambda r: r.uniform(0.05, 0.95, (3,)),
    ),
    DistCase(
        "Transformed tanh",
        lambda D, m, s: D.TransformedDistribution(D.Normal(m, s), [D.transforms.TanhTransform()]),
        (real(3), pos(3)),
        lambda r: r.uniform(-0.9, 0.9, (3,)),
    ),
    DistCase(
        "Transformed negative affine",
        lambda D, m, s: D.TransformedDistribution(D.Normal(m, s), [D.transforms.AffineTransform(1.0, -2.0)]),
        (real(3), pos(3)),
        lambda r: r.normal(size=(3,)),
        unit=lambda r: r.uniform(0.01, 0.99, (3,)),
    ),
    DistCase(
        "Transformed stick breaking",
        lambda D, m, s: D.TransformedDistribution(
            D.Independent(D.Normal(m, s), 1), D.transforms.StickBreakingTransform()
        ),
        (real(2, 3), pos(2, 3)),
        lambda r: simplex(2, 4),
    ),
    DistCase(
        "NegativeBinomial probs",
        lambda D, n, p: D.NegativeBinomial(n, probs=p),
        (pos(4), unit(4)),
        lambda r: r.integers(0, 6, (4,)).astype(float),
    ),
    DistCase(
        "NegativeBinomial logits",
        lambda D, lg: D.NegativeBinomial(3.0, logits=lg),
        (real(2, 3),),
        lambda r: r.integers(0, 6, (2, 3)).astype(float),
    ),
    DistCase(
        "HalfCauchy",
        lambda D, s: D.HalfCauchy(s),
        (pos(4),),
        lambda r: r.uniform(0.0, 4, (4,)),
        unit=lambda r: r.uniform(0.01, 0.99, (4,)),
    ),
    DistCase(
        "Pareto",
        lambda D, s, a: D.Pareto(s, a),
        (pos(4), np.array([0.5, 1.5, 2.5, 4.0])),
        lambda r: r.uniform(3.0, 6.0, (4,)),
    ),
    DistCase(
        "InverseGamma",
        lambda D, c, r: D.InverseGamma(c, r),
        (np.array([0.5, 1.5, 2.5, 4.0]), pos(4)),
        lambda r: r.uniform(0.2, 3, (4,)),
        rtol=1e-6,
    ),
    DistCase(
        "Weibull",
        lambda D, s, c: D.Weibull(s, c),
        (pos(4), pos(4, low=0.5)),
        lambda r: r.uniform(0.2, 3, (4,)),
        rtol=1e-6,
    ),
    DistCase(
        "OneHotCategoricalStraightThrough",
        lambda D, p: D.OneHotCategoricalStraightThrough(probs=p),
        (simplex(2, 3),),
        lambda r: np.eye(3)[r.integers(0, 3, (2,))],
    ),
    DistCase(
        "RelaxedBernoulli",
        lambda D, p: D.RelaxedBernoulli(torch_or_ours_tensor(D, 0.7), probs=p),
        (unit(3),),
        lambda r: r.uniform(0.1, 0.9, (3,)),
    ),
    DistCase(
        "RelaxedOneHotCategorical",
        lambda D, lg: D.RelaxedOneHotCategorical(torch_or_ours_tensor(D, 0.5), logits=lg),
        (real(2, 3),),
        lambda r: simplex(2, 3),
    ),
]


def torch_or_ours_tensor(D, value):
    import chainrule

    lib = torch if D is torch.distributions else chainrule
    return lib.tensor(value, dtype=lib.float64)


IDS = [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("what", PROPERTIES + METHODS)
def test_quantity_matches_torch(case, what) -> None:
    if what == "icdf" and case.unit is None:
        case.unit = case.value
    compare_quantity(case, what)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("what", ("mean", "entropy", "log_prob"))
def test_float32_matches_torch(case, what) -> None:
    compare_quantity(case, what, dtype=np.float32)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_shapes_and_flags_match_torch(case) -> None:
    theirs, _ = make(torch, case)
    ours, _ = make(__import__("chainrule"), case)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    assert ours.has_rsample == theirs.has_rsample
    assert ours.has_enumerate_support == theirs.has_enumerate_support
    for shape in ((), (5,), (2, 3)):
        sample = ours.sample(shape)
        assert tuple(sample.shape) == tuple(theirs.sample(shape).shape)
        assert not sample.requires_grad
        assert str(sample.dtype) == str(theirs.sample(shape).dtype).replace("torch", "chainrule")
    expanded_shape = (4, *theirs.batch_shape)
    t_exp, o_exp = theirs.expand(expanded_shape), ours.expand(expanded_shape)
    assert tuple(o_exp.batch_shape) == tuple(t_exp.batch_shape)
    assert tuple(o_exp.sample().shape) == tuple(t_exp.sample().shape)


SECOND_ORDER = [
    "Normal",
    "Gamma",
    "Beta",
    "Dirichlet",
    "StudentT",
    "Binomial",
    "Poisson",
    "Categorical logits",
    "MVN scale_tril",
    "LowRankMVN",
    "MixtureSameFamily",
    "Transformed stick breaking",
]


@pytest.mark.parametrize("name", SECOND_ORDER)
@pytest.mark.parametrize("what", ["log_prob", "entropy"])
def test_second_derivatives_match_torch(name, what) -> None:
    """d/dtheta of (d log_prob / dtheta . v), through create_graph=True, as torch."""
    import chainrule

    case = next(c for c in CASES if c.name == name)
    value = np.asarray(case.value(np.random.default_rng(0)))
    results = []
    for lib in (torch, chainrule):
        dist, params = make(lib, case)
        try:
            out = dist.log_prob(lib.tensor(value)) if what == "log_prob" else dist.entropy()
        except NotImplementedError:
            assert lib is torch or results == ["torch has none"], f"torch computes {name}.{what}"
            results.append("torch has none")
            continue
        if results == ["torch has none"]:
            raise AssertionError(f"torch raises NotImplementedError for {name}.{what}")
        if not out.requires_grad:
            return
        grads = lib.autograd.grad(out.sum(), params, create_graph=True, allow_unused=True)
        rng = np.random.default_rng(2)
        total = sum(
            (g * lib.tensor(rng.standard_normal(tuple(g.shape)))).sum() for g in grads if g is not None
        )
        results.append(lib.autograd.grad(total, params, allow_unused=True))
    if results[0] == "torch has none":
        return
    for k, (t, o) in enumerate(zip(*results)):
        if t is None:
            continue
        assert o is not None
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-6, atol=1e-9, err_msg=f"{name} {what} {k}")
