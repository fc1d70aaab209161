"""The newer families (ContinuousBernoulli, Kumaraswamy, LogisticNormal, VonMises, FisherSnedecor,
GeneralizedPareto, Wishart, LKJCholesky) against torch.distributions: every property and method
with its gradients in float64 and float32, shapes and flags, samples' moments against torch's
analytic ones, rsample gradients, second derivatives, and validation errors."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest
import torch
from _compare import METHODS, PROPERTIES, DistCase, compare_quantity, make
from oracle import raises_like_torch

import chainrule
import chainrule.distributions

R = np.random.default_rng(7)


def pos(*shape, low=0.3, high=3.0):
    return R.uniform(low, high, shape)


def real(*shape):
    return R.normal(size=shape)


def spd(*batch, n=3):
    a = R.normal(size=(*batch, n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def tril(*batch, n=3):
    a = np.tril(R.normal(size=(*batch, n, n)), -1)
    return a + np.eye(n) * R.uniform(0.5, 2.0, (*batch, n, 1))


def corr_cholesky(*batch, n=3):
    """Cholesky factors of random correlation matrices (rows of unit norm)."""
    factor = np.linalg.cholesky(spd(*batch, n=n))
    return factor / np.linalg.norm(factor, axis=-1, keepdims=True)


def simplex(*shape):
    x = R.uniform(0.1, 1.0, shape)
    return x / x.sum(-1, keepdims=True)


CASES = [
    DistCase(
        "ContinuousBernoulli probs",
        lambda D, p: D.ContinuousBernoulli(probs=p),
        # 0.4995 and 0.5003 sit in the Taylor region around 1/2
        (np.array([0.1, 0.3, 0.4995, 0.5003, 0.7, 0.95]),),
        lambda r: r.uniform(0.01, 0.99, (2, 6)),
        unit=lambda r: r.uniform(0.01, 0.99, (6,)),
    ),
    DistCase(
        "ContinuousBernoulli logits",
        lambda D, lg: D.ContinuousBernoulli(logits=lg),
        (np.array([[-3.0, -0.5, 0.0005], [0.2, 1.5, 4.0]]),),
        lambda r: r.uniform(0.0, 1.0, (2, 3)),
        unit=lambda r: r.uniform(0.01, 0.99, (2, 3)),
    ),
    DistCase(
        "Kumaraswamy",
        lambda D, a, b: D.Kumaraswamy(a, b),
        (np.array([0.5, 1.5, 3.0, 2.0]), np.array([2.0, 0.7, 4.0, 1.2])),
        lambda r: r.uniform(0.05, 0.95, (3, 4)),
        unit=lambda r: r.uniform(0.05, 0.95, (4,)),
        rtol=1e-6,
    ),
    DistCase(
        "LogisticNormal",
        lambda D, m, s: D.LogisticNormal(m, s),
        (real(2, 3), pos(2, 3)),
        lambda r: simplex(2, 4),
    ),
    DistCase(
        "LogisticNormal scalar",
        lambda D, m, s: D.LogisticNormal(m, s),
        (np.array(0.3), np.array(1.2)),
        lambda r: simplex(3, 2),
    ),
    DistCase(
        "VonMises",
        lambda D, m, k: D.VonMises(m, k),
        (real(5), np.array([0.01, 0.5, 2.0, 3.74, 10.0])),
        lambda r: r.uniform(-6, 6, (2, 5)),
    ),
    DistCase(
        "FisherSnedecor",
        lambda D, a, b: D.FisherSnedecor(a, b),
        (np.array([1.0, 3.0, 5.0, 8.0]), np.array([1.5, 3.0, 5.0, 10.0])),
        lambda r: r.uniform(0.1, 4.0, (2, 4)),
    ),
    DistCase(
        "GeneralizedPareto",
        lambda D, m, s, c: D.GeneralizedPareto(m, s, c),
        (np.array([0.0, 1.0, -1.0, 0.5]), np.array([1.0, 2.0, 0.5, 1.5]), np.array([0.3, 0.0, -0.2, 0.7])),
        lambda r: r.uniform(1.0, 1.05, (4,)),
        unit=lambda r: r.uniform(0.01, 0.99, (4,)),
    ),
    DistCase(
        "Wishart covariance",
        lambda D, df, c: D.Wishart(df, covariance_matrix=c),
        (np.array([4.0, 6.5]), spd(2)),
        lambda r: spd(2),
    ),
    DistCase(
        "Wishart scale_tril",
        lambda D, df, s: D.Wishart(df, scale_tril=s),
        (np.array(3.5), tril(n=3)),
        lambda r: spd(4),
    ),
    DistCase(
        "Wishart precision",
        lambda D, df, p: D.Wishart(df, precision_matrix=p),
        (np.array([5.0]), spd(1, n=2)),
        lambda r: spd(3, 1, n=2),
        rtol=1e-6,
    ),
    DistCase(
        "LKJCholesky",
        lambda D, c: D.LKJCholesky(3, c),
        (np.array([0.5, 1.0, 2.5]),),
        lambda r: corr_cholesky(3),
    ),
    DistCase(
        "LKJCholesky scalar",
        lambda D: D.LKJCholesky(4, 1.5),
        (),
        lambda r: corr_cholesky(2, n=4),
    ),
]
IDS = [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("what", PROPERTIES + METHODS)
def test_quantity_matches_torch(case, what) -> None:
    if what == "icdf" and case.unit is None:
        case.unit = case.value
    with _torch_default_float64(case):
        compare_quantity(case, what)


@contextlib.contextmanager
def _torch_default_float64(case=None):
    """torch's GeneralizedPareto compares float64 parameters with ``torch.tensor(0.0)`` and fails
    ("Double did not match Float") unless the default dtype is float64 (chainrule has no such bug)."""
    previous = torch.get_default_dtype()
    if case is None or case.name.startswith("GeneralizedPareto"):
        torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("what", ("mean", "entropy", "log_prob"))
def test_float32_matches_torch(case, what) -> None:
    compare_quantity(case, what, dtype=np.float32)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_shapes_and_flags_match_torch(case) -> None:
    with _torch_default_float64(case):
        _compare_shapes_and_flags(case)


def _compare_shapes_and_flags(case) -> None:
    theirs, _ = make(torch, case)
    ours, _ = make(chainrule, case)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    assert ours.has_rsample == theirs.has_rsample
    assert ours.has_enumerate_support == theirs.has_enumerate_support
    assert type(ours.support).__name__ == type(theirs.support).__name__
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's Wishart warns "Singular sample detected" on every draw
        for shape in ((), (5,), (2, 3)):
            sample = ours.sample(shape)
            assert tuple(sample.shape) == tuple(theirs.sample(shape).shape)
            assert not sample.requires_grad
            assert str(sample.dtype).split(".")[-1] == str(theirs.sample(shape).dtype).split(".")[-1]
            assert bool(ours.support.check(sample).all()), case.name
        expanded_shape = (4, *theirs.batch_shape)
        t_exp, o_exp = theirs.expand(expanded_shape), ours.expand(expanded_shape)
        assert tuple(o_exp.batch_shape) == tuple(t_exp.batch_shape)
        assert tuple(o_exp.sample().shape) == tuple(t_exp.sample().shape)
        value = o_exp.sample()
        assert tuple(o_exp.log_prob(value).shape) == tuple(t_exp.log_prob(torch.tensor(value.numpy())).shape)


N = 40_000
MOMENTS = {
    "ContinuousBernoulli": (lambda D, p: D.ContinuousBernoulli(probs=p), [0.2, 0.5, 0.9]),
    "Kumaraswamy": (lambda D, a, b: D.Kumaraswamy(a, b), [0.5, 3.0], [2.0, 1.5]),
    "VonMises": (lambda D, m, k: D.VonMises(m, k), [0.5, -2.0, 0.0], [0.3, 4.0, 1e-6]),
    "FisherSnedecor": (lambda D, a, b: D.FisherSnedecor(a, b), [5.0, 10.0], [12.0, 20.0]),
    "GeneralizedPareto": (
        lambda D, m, s, c: D.GeneralizedPareto(m, s, c),
        [0.0, 1.0],
        [1.0, 2.0],
        [0.1, -0.3],
    ),
    "Wishart": (lambda D, df, c: D.Wishart(df, covariance_matrix=c), [4.0], [[[2.0, 0.5], [0.5, 1.0]]]),
}


@pytest.mark.parametrize("name", list(MOMENTS))
def test_sample_moments_match_torch_analytic_moments(name) -> None:
    build, *arrays = MOMENTS[name]
    theirs = build(torch.distributions, *[torch.tensor(a) for a in arrays])
    ours = build(chainrule.distributions, *[chainrule.tensor(a) for a in arrays])
    chainrule.manual_seed(0)
    draws = ours.sample((N,)).numpy()
    mean, var = theirs.mean.numpy(), theirs.variance.numpy()
    if name == "VonMises":  # circular: compare E[cos(x - loc)] = 1 - variance
        loc = np.array(arrays[0])
        np.testing.assert_allclose(np.cos(draws - loc).mean(0), 1 - var, atol=0.02)
        assert draws.min() >= -np.pi and draws.max() < np.pi
        return
    np.testing.assert_allclose(
        draws.mean(0), mean, atol=float(6 * np.sqrt(var.max() / N)) + 1e-12, err_msg=name
    )
    np.testing.assert_allclose(draws.var(0), var, rtol=0.1, atol=1e-3, err_msg=name)


def test_lkj_cholesky_samples_match_torch_sampler_statistics() -> None:
    """Correlations from both onion samplers agree in mean and variance (torch's draws, seeded,
    are the reference: its rows' marginals are what chainrule reproduces)."""
    torch.manual_seed(0)
    chainrule.manual_seed(1)
    draws = []
    for lib in (torch, chainrule):
        factors = _D(lib).LKJCholesky(3, t(lib, 2.0)).sample((N,)).numpy()
        corr = factors @ np.swapaxes(factors, -1, -2)
        np.testing.assert_allclose(np.diagonal(corr, axis1=-2, axis2=-1), 1.0, atol=1e-12)
        draws.append(np.stack([corr[:, i, j] for i, j in ((1, 0), (2, 0), (2, 1))], -1))
    theirs, ours = draws
    np.testing.assert_allclose(ours.mean(0), theirs.mean(0), atol=8 * np.sqrt(0.25 / N))
    np.testing.assert_allclose(ours.var(0), theirs.var(0), rtol=0.05)


@pytest.mark.parametrize(
    "build",
    [
        lambda D, p: D.ContinuousBernoulli(probs=p.sigmoid()),
        lambda D, p: D.Kumaraswamy(p.exp(), p.exp() + 1),
        lambda D, p: D.GeneralizedPareto(p, p.exp(), p / 4),
        lambda D, p: D.LogisticNormal(p, p.exp()),
    ],
    ids=["ContinuousBernoulli", "Kumaraswamy", "GeneralizedPareto", "LogisticNormal"],
)
def test_rsample_is_a_differentiable_function_of_the_noise(build) -> None:
    """These families reparameterise by icdf(uniform) or a transform: the draw's gradient equals the
    derivative of the same map, computed by torch at the same noise (recovered through the cdf)."""
    values = np.array([0.3, -0.4, 1.1])
    p_ours = chainrule.tensor(values, requires_grad=True)
    ours = build(chainrule.distributions, p_ours)
    chainrule.manual_seed(3)
    draw = ours.rsample()
    assert draw.requires_grad
    (g_ours,) = chainrule.autograd.grad(draw.sum(), p_ours)
    draw = draw.detach()
    assert np.all(np.isfinite(g_ours.numpy()))
    p_theirs = torch.tensor(values, requires_grad=True)
    theirs = build(torch.distributions, p_theirs)
    if isinstance(theirs, torch.distributions.TransformedDistribution):
        base_value = draw.detach()
        for t in reversed(ours.transforms):
            base_value = t.inv(base_value)
        y = torch.tensor(base_value.detach().numpy())
        if isinstance(theirs, torch.distributions.LogisticNormal):  # the parameters are the base's
            noise = (y - theirs.loc.detach()) / theirs.scale.detach()
            y = theirs.loc + theirs.scale * noise
        for t in theirs.transforms:
            y = t(y)
    else:
        y = theirs.icdf(torch.tensor(ours.cdf(draw).detach().numpy()))
    np.testing.assert_allclose(y.detach().numpy(), draw.detach().numpy(), rtol=1e-9, atol=1e-12)
    (g_theirs,) = torch.autograd.grad(y.sum(), p_theirs)
    np.testing.assert_allclose(g_ours.numpy(), g_theirs.numpy(), rtol=1e-7, atol=1e-10)


def test_fisher_snedecor_and_wishart_rsample_are_differentiable() -> None:
    df1 = chainrule.tensor([3.0, 6.0], requires_grad=True)
    draw = chainrule.distributions.FisherSnedecor(df1, 5.0).rsample((4,))
    (grad,) = chainrule.autograd.grad(draw.sum(), df1)
    assert np.all(np.isfinite(grad.numpy()))
    tril_param = chainrule.tensor(tril(n=2), requires_grad=True)
    wishart = chainrule.distributions.Wishart(chainrule.tensor(4.0), scale_tril=tril_param)
    sample = wishart.rsample((3,))
    assert bool(wishart.support.check(sample).all())
    (grad,) = chainrule.autograd.grad(sample.sum(), tril_param)
    assert np.all(np.isfinite(grad.numpy()))


@pytest.mark.parametrize(
    "name", ["ContinuousBernoulli probs", "Kumaraswamy", "Wishart covariance", "LKJCholesky"]
)
def test_second_derivatives_of_log_prob_match_torch(name) -> None:
    case = next(c for c in CASES if c.name == name)
    value = np.asarray(case.value(np.random.default_rng(0)))
    results = []
    for lib in (torch, chainrule):
        dist, params = make(lib, case)
        out = dist.log_prob(lib.tensor(value))
        grads = lib.autograd.grad(out.sum(), params, create_graph=True)
        rng = np.random.default_rng(2)
        total = sum((g * lib.tensor(rng.standard_normal(tuple(g.shape)))).sum() for g in grads)
        results.append(lib.autograd.grad(total, params))
    for t, o in zip(*results):
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-6, atol=1e-9, err_msg=name)


def _D(lib):
    return torch.distributions if lib is torch else chainrule.distributions


def t(lib, values):
    return lib.tensor(values, dtype=lib.float64)


INVALID = [
    (lambda m: _D(m).ContinuousBernoulli(probs=t(m, [1.5]), validate_args=True), "probs"),
    (lambda m: _D(m).ContinuousBernoulli(t(m, [0.5]), t(m, [0.0])), "Either `probs` or `logits`"),
    (lambda m: _D(m).Kumaraswamy(t(m, [-1.0]), t(m, [1.0]), validate_args=True), "concentration1"),
    (lambda m: _D(m).VonMises(t(m, [0.0]), t(m, [-1.0]), validate_args=True), "concentration"),
    (lambda m: _D(m).FisherSnedecor(t(m, [1.0]), t(m, [0.0]), validate_args=True), "constraint"),
    (lambda m: _D(m).GeneralizedPareto(t(m, [0.0]), t(m, [-1.0]), t(m, [0.1]), validate_args=True), "scale"),
    (lambda m: _D(m).LogisticNormal(t(m, [0.0]), t(m, [0.0]), validate_args=True), "scale"),
    (lambda m: _D(m).LKJCholesky(1, t(m, 1.0)), "dim"),
    (lambda m: _D(m).LKJCholesky(3, t(m, -1.0), validate_args=True), "concentration"),
    (lambda m: _D(m).Wishart(t(m, 1.0), covariance_matrix=t(m, np.eye(3))), "df"),
    (
        lambda m: _D(m).Wishart(t(m, 4.0), covariance_matrix=t(m, -np.eye(2)), validate_args=True),
        "covariance",
    ),
    (lambda m: _D(m).Wishart(t(m, 4.0), scale_tril=t(m, [1.0, 2.0])), "two-dimensional"),
]


@pytest.mark.parametrize("program,match", INVALID, ids=[m for _, m in INVALID])
def test_invalid_parameters_raise_like_torch(program, match) -> None:
    raises_like_torch(program, match)


OUTSIDE = [
    (lambda m: _D(m).ContinuousBernoulli(probs=t(m, [0.3])).log_prob(t(m, [1.5])), "Expected value argument"),
    (lambda m: _D(m).Kumaraswamy(t(m, [1.0]), t(m, [2.0])).log_prob(t(m, [1.5])), "Expected value argument"),
    (
        lambda m: _D(m).FisherSnedecor(t(m, [1.0]), t(m, [2.0])).log_prob(t(m, [-1.0])),
        "Expected value argument",
    ),
    (
        lambda m: _D(m).GeneralizedPareto(t(m, [0.0]), t(m, [1.0]), t(m, [-0.5])).log_prob(t(m, [3.0])),
        "Expected value argument",
    ),
    (lambda m: _D(m).LogisticNormal(t(m, [0.0]), t(m, [1.0])).log_prob(t(m, [0.5, 0.7])), "Expected value"),
    (lambda m: _D(m).LKJCholesky(2, t(m, 1.0)).log_prob(t(m, [[1.0, 0.0], [2.0, 1.0]])), "Expected value"),
    (
        lambda m: _D(m).Wishart(t(m, 3.0), covariance_matrix=t(m, np.eye(2))).log_prob(-t(m, np.eye(2))),
        "Expected",
    ),
]


@pytest.mark.parametrize("program,match", OUTSIDE, ids=range(len(OUTSIDE)))
def test_values_outside_the_support_raise_like_torch(program, match) -> None:
    raises_like_torch(program, match)


def test_invalid_parameters_without_validation_stay_silent_like_torch() -> None:
    """validate_args=False with parameters outside their constraints: the same nan/inf as torch and
    no NumPy RuntimeWarning (torch is silent)."""
    off = {"validate_args": False}
    programs = [
        lambda m: _D(m).ContinuousBernoulli(logits=t(m, [0.0, 2.0]), **off).log_prob(t(m, [1.5, -0.5])),
        lambda m: _D(m).Kumaraswamy(t(m, [-1.0, 2.0]), t(m, [1.0, 0.0]), **off).entropy(),
        lambda m: _D(m).VonMises(t(m, [0.0, 1.0]), t(m, [-1.0, 0.0]), **off).log_prob(t(m, [0.3, 0.2])),
        lambda m: _D(m).FisherSnedecor(t(m, [1.0, 2.0]), t(m, [2.0, 3.0]), **off).log_prob(t(m, [-1.0, 0.0])),
        lambda m: (
            _D(m).GeneralizedPareto(t(m, [0.0]), t(m, [-1.0]), t(m, [-0.5]), **off).log_prob(t(m, [3.0]))
        ),
        lambda m: (
            _D(m)
            .GeneralizedPareto(t(m, [0.0, 0.0]), t(m, [1.0, 1.0]), t(m, [-0.5, 0.5]), **off)
            .icdf(t(m, [1.5, 1.0]))
        ),
        lambda m: _D(m).LKJCholesky(3, t(m, 1.0), **off).log_prob(t(m, np.zeros((3, 3)))),
    ]
    for program in programs:
        with _torch_default_float64():
            theirs = program(torch)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ours = program(chainrule)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_von_mises_has_no_rsample_entropy_or_cdf_like_torch() -> None:
    for lib in (torch, chainrule):
        dist = _D(lib).VonMises(t(lib, [0.0]), t(lib, [1.0]))
        value = t(lib, [0.1])
        for method, args in ((dist.rsample, ()), (dist.entropy, ()), (dist.cdf, (value,))):
            with pytest.raises(NotImplementedError):
                method(*args)
