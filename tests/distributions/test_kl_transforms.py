"""kl_divergence for every registered pair of families against torch (values and gradients), the
transforms (forward, inverse, log|det J| and their gradients, shapes, flags), and constraints."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import assert_close, to_numpy

import chainrule
import chainrule.distributions

R = np.random.default_rng(7)
POS = R.uniform(0.5, 2.5, (2, 3))
POS2 = R.uniform(0.5, 2.5, (2, 3))
REAL = R.normal(size=(2, 3))
REAL2 = R.normal(size=(2, 3))
UNIT = R.uniform(0.1, 0.9, (2, 3))
UNIT2 = R.uniform(0.1, 0.9, (2, 3))
SIMPLEX = R.dirichlet(np.ones(3), 2)
SIMPLEX2 = R.dirichlet(np.ones(3), 2)


def _spd(seed):
    a = np.random.default_rng(seed).normal(size=(2, 3, 3))
    return a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3)


def _lib(D):
    return torch if D is torch.distributions else chainrule


# name -> (p builder, q builder); each takes the distributions module and the tensors of PARAMS
FAMILY = {
    "Normal": lambda D, t: D.Normal(t["real"], t["pos"]),
    "Normal2": lambda D, t: D.Normal(t["real2"], t["pos2"]),
    "Laplace": lambda D, t: D.Laplace(t["real"], t["pos"]),
    "Laplace2": lambda D, t: D.Laplace(t["real2"], t["pos2"]),
    "Cauchy": lambda D, t: D.Cauchy(t["real"], t["pos"]),
    "Cauchy2": lambda D, t: D.Cauchy(t["real2"], t["pos2"]),
    "Exponential": lambda D, t: D.Exponential(t["pos"]),
    "Exponential2": lambda D, t: D.Exponential(t["pos2"]),
    "Gamma": lambda D, t: D.Gamma(t["pos"], t["pos2"]),
    "Gamma2": lambda D, t: D.Gamma(t["pos2"], t["pos"]),
    "Chi2": lambda D, t: D.Chi2(t["pos"]),
    "Beta": lambda D, t: D.Beta(t["pos"], t["pos2"]),
    "Beta2": lambda D, t: D.Beta(t["pos2"], t["pos"]),
    "Uniform": lambda D, t: D.Uniform(t["real"] - 0.5, t["real"] + t["pos"]),
    "UniformWide": lambda D, t: D.Uniform(t["real"] - 3.0, t["real"] + t["pos"] + 3.0),
    "UniformUnit": lambda D, t: D.Uniform(t["unit"] * 0.5, t["unit"] * 0.5 + 0.4),
    "UniformPos": lambda D, t: D.Uniform(t["pos"], t["pos"] + t["pos2"]),
    "Gumbel": lambda D, t: D.Gumbel(t["real"], t["pos"]),
    "Gumbel2": lambda D, t: D.Gumbel(t["real2"], t["pos2"]),
    "HalfNormal": lambda D, t: D.HalfNormal(t["pos"]),
    "HalfNormal2": lambda D, t: D.HalfNormal(t["pos2"]),
    "LogNormal": lambda D, t: D.LogNormal(t["real"], t["pos"]),
    "LogNormal2": lambda D, t: D.LogNormal(t["real2"], t["pos2"]),
    "Bernoulli": lambda D, t: D.Bernoulli(probs=t["unit"]),
    "Bernoulli2": lambda D, t: D.Bernoulli(logits=t["real2"]),
    "Binomial": lambda D, t: D.Binomial(5, probs=t["unit"]),
    "Binomial2": lambda D, t: D.Binomial(5, logits=t["real2"]),
    "Geometric": lambda D, t: D.Geometric(probs=t["unit"]),
    "Geometric2": lambda D, t: D.Geometric(logits=t["real2"]),
    "Poisson": lambda D, t: D.Poisson(t["pos"]),
    "Poisson2": lambda D, t: D.Poisson(t["pos2"]),
    "Categorical": lambda D, t: D.Categorical(probs=t["simplex"]),
    "Categorical2": lambda D, t: D.Categorical(logits=t["real2"]),
    "OneHotCategorical": lambda D, t: D.OneHotCategorical(probs=t["simplex"]),
    "OneHotCategorical2": lambda D, t: D.OneHotCategorical(probs=t["simplex2"]),
    "Dirichlet": lambda D, t: D.Dirichlet(t["pos"]),
    "Dirichlet2": lambda D, t: D.Dirichlet(t["pos2"]),
    "MVN": lambda D, t: D.MultivariateNormal(t["real"], covariance_matrix=t["spd"]),
    "MVN2": lambda D, t: D.MultivariateNormal(t["real2"], precision_matrix=t["spd2"]),
    "LowRankMVN": lambda D, t: D.LowRankMultivariateNormal(t["real"], t["spd"][..., :2], t["pos"]),
    "LowRankMVN2": lambda D, t: D.LowRankMultivariateNormal(t["real2"], t["spd2"][..., :1], t["pos2"]),
    "Pareto": lambda D, t: D.Pareto(t["pos"], t["pos2"] + 2.0),
    "Pareto2": lambda D, t: D.Pareto(t["pos2"] * 0.1, t["pos"]),
    "ParetoHeavy": lambda D, t: D.Pareto(t["pos"], t["unit"] + 0.5),
    "Independent": lambda D, t: D.Independent(D.Normal(t["real"], t["pos"]), 1),
    "Independent2": lambda D, t: D.Independent(D.Normal(t["real2"], t["pos2"]), 1),
}

PAIRS = [
    ("Normal", "Normal2"),
    ("Laplace", "Laplace2"),
    ("Cauchy", "Cauchy2"),
    ("Exponential", "Exponential2"),
    ("Gamma", "Gamma2"),
    ("Chi2", "Gamma2"),
    ("Beta", "Beta2"),
    ("Uniform", "UniformWide"),
    ("UniformWide", "Uniform"),
    ("Gumbel", "Gumbel2"),
    ("HalfNormal", "HalfNormal2"),
    ("LogNormal", "LogNormal2"),
    ("Bernoulli", "Bernoulli2"),
    ("Binomial", "Binomial2"),
    ("Geometric", "Geometric2"),
    ("Poisson", "Poisson2"),
    ("Categorical", "Categorical2"),
    ("OneHotCategorical", "OneHotCategorical2"),
    ("Dirichlet", "Dirichlet2"),
    ("MVN", "MVN2"),
    ("LowRankMVN", "LowRankMVN2"),
    ("MVN", "LowRankMVN2"),
    ("LowRankMVN", "MVN2"),
    ("Independent", "Independent2"),
    ("Bernoulli", "Poisson"),
    ("Beta", "Exponential"),
    ("Beta", "Gamma"),
    ("Beta", "Normal"),
    ("Beta", "UniformUnit"),
    ("Beta", "UniformWide"),
    ("Exponential", "Beta"),
    ("Exponential", "Uniform"),
    ("Exponential", "Gamma"),
    ("Exponential", "Gumbel"),
    ("Exponential", "Normal"),
    ("Gamma", "Beta"),
    ("Gamma", "Exponential"),
    ("Gamma", "Gumbel"),
    ("Gamma", "Normal"),
    ("Gamma", "Uniform"),
    ("Gumbel", "Normal"),
    ("Gumbel", "Exponential"),
    ("Laplace", "Normal"),
    ("Laplace", "Gamma"),
    ("Normal", "Gumbel"),
    ("Normal", "Laplace"),
    ("Normal", "Uniform"),
    ("Poisson", "Bernoulli"),
    ("Poisson", "Binomial"),
    ("UniformUnit", "Beta"),
    ("Uniform", "Beta"),
    ("UniformPos", "Exponential"),
    ("Uniform", "Exponential"),
    ("UniformPos", "Gamma"),
    ("Uniform", "Gumbel"),
    ("Uniform", "Normal"),
    ("Pareto", "Pareto2"),
    ("Pareto2", "Pareto"),
    ("Pareto", "Exponential"),
    ("ParetoHeavy", "Exponential"),
    ("Pareto", "Gamma"),
    ("ParetoHeavy", "Normal"),
    ("Pareto", "Normal"),
    ("Pareto", "Beta"),
    ("Pareto", "Uniform"),
    ("Normal", "Pareto"),
    ("Gamma", "Pareto"),
    ("Beta", "Pareto"),
    ("Exponential", "Pareto"),
    ("Laplace", "Pareto"),
    ("Gumbel", "Pareto"),
    ("UniformPos", "Pareto2"),
    ("Uniform", "Pareto"),
]


def _params(lib):
    arrays = dict(
        real=REAL,
        real2=REAL2,
        pos=POS,
        pos2=POS2,
        unit=UNIT,
        unit2=UNIT2,
        simplex=SIMPLEX,
        simplex2=SIMPLEX2,
        spd=_spd(1),
        spd2=_spd(2),
    )
    return {k: lib.tensor(v, requires_grad=True) for k, v in arrays.items()}


@pytest.mark.parametrize(("p_name", "q_name"), PAIRS, ids=[f"{p}-{q}" for p, q in PAIRS])
def test_kl_divergence_matches_torch(p_name, q_name) -> None:
    results = []
    for lib, D in ((torch, torch.distributions), (chainrule, chainrule.distributions)):
        params = _params(lib)
        kl = D.kl_divergence(FAMILY[p_name](D, params), FAMILY[q_name](D, params))
        finite = lib.isfinite(kl)
        weights = lib.tensor(np.random.default_rng(3).standard_normal(tuple(kl.shape)))
        loss = (lib.where(finite, kl, lib.zeros_like(kl)) * weights).sum()
        names = sorted(params)
        grads = (
            lib.autograd.grad(loss, [params[k] for k in names], allow_unused=True) if kl.requires_grad else ()
        )
        results.append((kl, grads))
    (theirs, theirs_g), (ours, ours_g) = results
    assert_close(ours, theirs, 1e-6, 1e-9, f"KL({p_name} || {q_name})")
    for k, (o, t) in enumerate(zip(ours_g, theirs_g)):
        if t is None:
            assert o is None or not np.any(to_numpy(o)), f"grad {k}: torch has none"
        else:
            assert_close(o, t, 1e-5, 1e-8, f"KL({p_name} || {q_name}) grad {k}")


def test_kl_unregistered_pair_raises_like_torch() -> None:
    for lib, D in ((torch, torch.distributions), (chainrule, chainrule.distributions)):
        with pytest.raises(NotImplementedError, match="No KL"):
            D.kl_divergence(
                D.Cauchy(lib.tensor([0.0]), lib.tensor([1.0])), D.Normal(lib.tensor([0.0]), lib.tensor([1.0]))
            )


def test_register_kl_dispatches_to_the_most_specific_pair() -> None:
    D = chainrule.distributions

    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _mine(p, q):
        return chainrule.tensor(123.0)

    p = MyNormal(chainrule.tensor(0.0), chainrule.tensor(1.0))
    q = D.Normal(chainrule.tensor(0.0), chainrule.tensor(2.0))
    assert float(D.kl_divergence(p, q)) == 123.0
    assert float(D.kl_divergence(q, q)) == 0.0
    with pytest.raises(TypeError):
        D.register_kl(int, D.Normal)


# ---- transforms ----------------------------------------------------------------------------------
def _transforms(D, lib):
    T = D.transforms
    loc = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
    scale = lib.tensor([2.0, -0.5, 1.5], dtype=lib.float64, requires_grad=True)
    return {
        "exp": (T.ExpTransform(), "real"),
        "affine": (T.AffineTransform(loc, scale), "real"),
        "affine number": (T.AffineTransform(1.0, -3.0), "real"),
        "affine event_dim": (T.AffineTransform(loc, scale, event_dim=1), "real"),
        "sigmoid": (T.SigmoidTransform(), "real"),
        "tanh": (T.TanhTransform(), "real"),
        "power": (T.PowerTransform(lib.tensor(2.5, dtype=lib.float64)), "pos"),
        "softmax": (T.SoftmaxTransform(), "real"),
        "stick breaking": (T.StickBreakingTransform(), "real"),
        "abs": (T.AbsTransform(), "real"),
        "lower cholesky": (T.LowerCholeskyTransform(), "square"),
        "compose": (T.ComposeTransform([T.AffineTransform(loc, scale), T.ExpTransform()]), "real"),
        "inverse exp": (T.ExpTransform().inv, "pos"),
        "independent": (T.IndependentTransform(T.SigmoidTransform(), 1), "real"),
        "softplus": (T.SoftplusTransform(), "real"),
        "positive definite": (T.PositiveDefiniteTransform(), "square"),
    }


TRANSFORM_NAMES = list(_transforms(torch.distributions, torch))
INPUTS = {
    "real": np.random.default_rng(5).normal(size=(2, 3)),
    "pos": np.random.default_rng(5).uniform(0.2, 3.0, (2, 3)),
    "square": np.random.default_rng(5).normal(size=(2, 3, 3)),
}


def _run_transform(lib, D, name, what):
    transform, domain = _transforms(D, lib)[name]
    x = lib.tensor(INPUTS[domain], requires_grad=True)
    y = transform(x)
    if what == "forward":
        out = y
    elif what == "inverse":
        out = transform.inv(y.detach().requires_grad_())
        x = out  # compare the round trip's value only through out
    else:
        out = transform.log_abs_det_jacobian(x, y)
    return transform, x, out


@pytest.mark.parametrize("name", TRANSFORM_NAMES)
@pytest.mark.parametrize("what", ["forward", "inverse", "log_abs_det_jacobian"])
def test_transform_matches_torch(name, what) -> None:
    outs = []
    for lib, D in ((torch, torch.distributions), (chainrule, chainrule.distributions)):
        try:
            transform, x, out = _run_transform(lib, D, name, what)
        except NotImplementedError as error:
            outs.append(error)
            continue
        grad = None
        if out.requires_grad and x.requires_grad and x.is_leaf:
            grad = lib.autograd.grad((out * out).sum(), x, allow_unused=True)[0]
        outs.append((transform, out, grad))
    theirs, ours = outs
    if isinstance(theirs, Exception):
        assert isinstance(ours, type(theirs)), f"torch raises {theirs!r}"
        return
    (t_transform, t_out, t_grad), (o_transform, o_out, o_grad) = theirs, ours
    assert_close(o_out, t_out, 1e-7, 1e-10, f"{name} {what}")
    if t_grad is not None:
        assert_close(o_grad, t_grad, 1e-6, 1e-9, f"{name} {what} grad")
    assert o_transform.bijective == t_transform.bijective
    assert o_transform.domain.event_dim == t_transform.domain.event_dim
    assert o_transform.codomain.event_dim == t_transform.codomain.event_dim
    assert tuple(o_transform.forward_shape((2, 3))) == tuple(t_transform.forward_shape((2, 3)))
    assert tuple(o_transform.inverse_shape((2, 3))) == tuple(t_transform.inverse_shape((2, 3)))


def test_transform_protocol() -> None:
    T = chainrule.distributions.transforms
    exp = T.ExpTransform()
    assert exp.inv.inv is exp
    assert exp == T.ExpTransform() and exp.inv == T.ExpTransform().inv
    cached = T.ExpTransform(cache_size=1)
    x = chainrule.tensor([1.0, 2.0])
    y = cached(x)
    assert cached(x) is y and cached.inv(y) is x
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        T.ExpTransform(cache_size=2)
    assert T.identity_transform(x) is x
    assert exp.sign == 1 and T.AffineTransform(0.0, -2.0).sign == -1
    for lib, D in ((torch, torch.distributions), (chainrule, chainrule.distributions)):
        with pytest.raises(ValueError):
            D.TransformedDistribution(D.Normal(lib.tensor(0.0), lib.tensor(1.0)), 3)


# ---- constraints ---------------------------------------------------------------------------------
CONSTRAINT_VALUES = np.array([[-1.0, 0.0, 0.5], [1.0, 2.0, np.nan]])


@pytest.mark.parametrize(
    "make",
    [
        lambda C: C.real,
        lambda C: C.positive,
        lambda C: C.nonnegative,
        lambda C: C.unit_interval,
        lambda C: C.boolean,
        lambda C: C.nonnegative_integer,
        lambda C: C.positive_integer,
        lambda C: C.interval(-0.5, 1.0),
        lambda C: C.half_open_interval(-0.5, 1.0),
        lambda C: C.greater_than(0.2),
        lambda C: C.greater_than_eq(0.5),
        lambda C: C.less_than(1.0),
        lambda C: C.integer_interval(0, 1),
        lambda C: C.real_vector,
        lambda C: C.simplex,
        lambda C: C.one_hot,
        lambda C: C.independent(C.positive, 1),
    ],
)
def test_constraint_check_matches_torch(make) -> None:
    theirs = make(torch.distributions.constraints)
    ours = make(chainrule.distributions.constraints)
    for values in (CONSTRAINT_VALUES, np.array([[0.2, 0.3, 0.5], [0.0, 1.0, 0.0]])):
        t = theirs.check(torch.tensor(values))
        o = ours.check(chainrule.tensor(values))
        np.testing.assert_array_equal(to_numpy(o), to_numpy(t))
    assert ours.event_dim == theirs.event_dim
    assert ours.is_discrete == theirs.is_discrete
    assert repr(ours) == repr(theirs)


def test_matrix_constraints_match_torch() -> None:
    matrices = np.stack([_spd(4)[0], -np.eye(3), np.tril(np.ones((3, 3))), np.triu(np.ones((3, 3)))])
    for name in ("lower_cholesky", "lower_triangular", "positive_definite", "symmetric", "square"):
        theirs = getattr(torch.distributions.constraints, name).check(torch.tensor(matrices))
        ours = getattr(chainrule.distributions.constraints, name).check(chainrule.tensor(matrices))
        np.testing.assert_array_equal(to_numpy(ours), to_numpy(theirs), err_msg=name)


CONSTRAINTS_TO_MAP = [
    lambda C: C.real,
    lambda C: C.positive,
    lambda C: C.nonnegative,
    lambda C: C.greater_than(1.5),
    lambda C: C.less_than(-0.5),
    lambda C: C.unit_interval,
    lambda C: C.interval(-2.0, 3.0),
    lambda C: C.half_open_interval(0.0, 2.0),
    lambda C: C.simplex,
    lambda C: C.real_vector,
    lambda C: C.independent(C.positive, 1),
    lambda C: C.lower_cholesky,
    lambda C: C.positive_definite,
]


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("make", CONSTRAINTS_TO_MAP)
def test_biject_to_and_transform_to_match_torch(registry, make) -> None:
    x = np.random.default_rng(9).normal(size=(2, 3, 3))
    results = []
    for lib, D in ((torch, torch.distributions), (chainrule, chainrule.distributions)):
        constraint = make(D.constraints)
        try:
            transform = getattr(D, registry)(constraint)
        except NotImplementedError:
            results.append(None)
            continue
        inputs = lib.tensor(x if constraint.event_dim == 2 else x[..., 0])
        y = transform(inputs)
        assert bool(constraint.check(y).all())
        results.append(y)
    theirs, ours = results
    if theirs is None:
        assert ours is None
        return
    assert_close(ours, theirs, 1e-7, 1e-10, registry)


def test_registry_errors_like_torch() -> None:
    for D in (torch.distributions, chainrule.distributions):
        with pytest.raises(NotImplementedError, match="Cannot transform _Boolean constraints"):
            D.biject_to(D.constraints.boolean)
        with pytest.raises(TypeError):
            D.biject_to.register(int, lambda c: None)


# ---- exponential families -------------------------------------------------------------------------
EXP_FAMILIES = ["Normal", "Exponential", "Gamma", "Beta", "Dirichlet", "Poisson", "Bernoulli"]


@pytest.mark.parametrize("name", EXP_FAMILIES)
def test_exponential_family_entropy_and_bregman_kl_match_torch(name) -> None:
    results = []
    for lib, D, kl_module in (
        (torch, torch.distributions, torch.distributions.kl),
        (chainrule, chainrule.distributions, chainrule.distributions.kl),
    ):
        params = _params(lib)
        p, q = FAMILY[name](D, params), FAMILY[name + "2"](D, params)
        assert isinstance(p, D.ExponentialFamily)
        try:  # torch's raises NotImplementedError for a family without _mean_carrier_measure
            entropy = D.ExponentialFamily.entropy(p)
        except NotImplementedError:
            entropy = lib.zeros(())
        kl = kl_module._kl_expfamily_expfamily(p, q)
        names = sorted(params)
        grads = lib.autograd.grad((entropy.sum() + kl.sum()), [params[k] for k in names], allow_unused=True)
        results.append((entropy, kl, grads))
    (t_entropy, t_kl, t_grads), (o_entropy, o_kl, o_grads) = results
    assert_close(o_entropy, t_entropy.double(), 1e-7, 1e-9, f"{name} Bregman entropy")
    assert_close(o_kl, t_kl, 1e-7, 1e-9, f"{name} Bregman KL")
    for k, (o, t) in enumerate(zip(o_grads, t_grads)):
        if t is None:
            assert o is None or not np.any(to_numpy(o))
        else:
            assert_close(o, t, 1e-6, 1e-9, f"{name} grad {k}")


def test_cross_exponential_family_kl_raises_like_torch() -> None:
    for lib, D in ((torch, torch.distributions), (chainrule, chainrule.distributions)):
        with pytest.raises(NotImplementedError, match="cross KL-divergence"):
            D.kl_divergence(D.Poisson(lib.tensor([1.0])), D.Normal(lib.tensor([0.0]), lib.tensor([1.0])))


def test_user_defined_transform_subclass_matches_torch() -> None:
    """A Transform written by the user (``y = x^3``), in a TransformedDistribution, as in torch."""
    results = []
    for lib, D in ((torch, torch.distributions), (chainrule, chainrule.distributions)):

        class Cube(D.transforms.Transform):
            domain = D.constraints.real
            codomain = D.constraints.real
            bijective = True
            sign = +1

            def _call(self, x):
                return x**3

            def _inverse(self, y):
                return y.sign() * y.abs() ** (1.0 / 3.0)

            def log_abs_det_jacobian(self, x, y):
                return (3 * x**2).log()

        loc = lib.tensor([0.5, -0.2], dtype=lib.float64, requires_grad=True)
        dist = D.TransformedDistribution(D.Normal(loc, 1.0), [Cube()])
        assert isinstance(dist.transforms[0], D.transforms.Transform)
        log_prob = dist.log_prob(lib.tensor([2.0, -0.5], dtype=lib.float64))
        results.append((log_prob, lib.autograd.grad(log_prob.sum(), loc)[0]))
    (t_value, t_grad), (o_value, o_grad) = results
    assert_close(o_value, t_value, 1e-9, 1e-12, "custom transform log_prob")
    assert_close(o_grad, t_grad, 1e-9, 1e-12, "custom transform grad")
