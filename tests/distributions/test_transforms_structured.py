"""The structural transforms (Cat, Stack, Reshape, CorrCholesky, CumulativeDistribution), the
``stack`` constraint, ``biject_to``/``transform_to`` for corr_cholesky, cat and stack, and the KL
pairs torch registers for ContinuousBernoulli: values and gradients against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import assert_close, to_numpy

import chainrule
import chainrule.distributions

LIBS = ((torch, torch.distributions), (chainrule, chainrule.distributions))


def _transforms(D, lib):
    T = D.transforms
    normal = D.Normal(
        lib.tensor([0.5, -1.0, 0.0], dtype=lib.float64), lib.tensor([1.0, 2.0, 0.5], dtype=lib.float64)
    )
    return {
        "cat": (T.CatTransform([T.ExpTransform(), T.SigmoidTransform()], dim=-1, lengths=[1, 2]), (2, 3)),
        "cat dim 0": (
            T.CatTransform([T.ExpTransform(), T.AffineTransform(1.0, 2.0)], dim=0, lengths=[1, 1]),
            (2, 3),
        ),
        "cat event": (
            T.CatTransform([T.SoftmaxTransform(), T.ExpTransform()], dim=-1, lengths=[2, 1]),
            (4, 3),
        ),
        "stack": (
            T.StackTransform([T.ExpTransform(), T.TanhTransform(), T.SigmoidTransform()], dim=1),
            (2, 3),
        ),
        "stack dim -1": (
            T.StackTransform([T.ExpTransform(), T.SoftplusTransform(), T.AbsTransform()], dim=-1),
            (2, 3),
        ),
        "reshape": (T.ReshapeTransform((2, 3), (3, 2)), (4, 2, 3)),
        "reshape flat": (T.ReshapeTransform((2, 3), (6,)), (2, 3)),
        "corr cholesky": (T.CorrCholeskyTransform(), (4, 6)),
        "corr cholesky 2": (T.CorrCholeskyTransform(), (1,)),
        "cdf": (T.CumulativeDistributionTransform(normal), (2, 3)),
        "cached cat": (T.CatTransform([T.ExpTransform()], dim=0, cache_size=1), (1, 3)),
    }


NAMES = list(_transforms(torch.distributions, torch))


def _run(lib, D, name, what):
    transform, shape = _transforms(D, lib)[name]
    x = lib.tensor(np.random.default_rng(5).normal(size=shape), requires_grad=True)
    y = transform(x)
    if what == "forward":
        return transform, x, y
    if what == "inverse":
        return transform, x, transform.inv(y)
    return transform, x, transform.log_abs_det_jacobian(x, y)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("what", ["forward", "inverse", "log_abs_det_jacobian"])
def test_transform_matches_torch(name, what) -> None:
    outs = []
    for lib, D in LIBS:
        try:
            transform, x, out = _run(lib, D, name, what)
        except NotImplementedError as error:  # e.g. log|det J| of softmax or abs, in torch too
            outs.append(error)
            continue
        grad = lib.autograd.grad((out * out).sum(), x, allow_unused=True)[0] if out.requires_grad else None
        outs.append((transform, out, grad))
    if isinstance(outs[0], Exception) or isinstance(outs[1], Exception):
        assert all(isinstance(out, NotImplementedError) for out in outs), outs
        return
    (t_transform, t_out, t_grad), (o_transform, o_out, o_grad) = outs
    assert_close(o_out, t_out, 1e-7, 1e-10, f"{name} {what}")
    assert str(o_out.dtype).split(".")[-1] == str(t_out.dtype).split(".")[-1]
    if t_grad is not None:
        assert_close(o_grad, t_grad, 1e-6, 1e-9, f"{name} {what} grad")
    assert o_transform.bijective == t_transform.bijective
    assert o_transform.domain.event_dim == t_transform.domain.event_dim
    assert o_transform.codomain.event_dim == t_transform.codomain.event_dim
    shape = tuple(_transforms(torch.distributions, torch)[name][1])
    assert tuple(o_transform.forward_shape(shape)) == tuple(t_transform.forward_shape(shape))
    y_shape = tuple(t_transform.forward_shape(shape))
    assert tuple(o_transform.inverse_shape(y_shape)) == tuple(t_transform.inverse_shape(y_shape))


def test_corr_cholesky_transform_lands_on_correlation_factors() -> None:
    T = chainrule.distributions.transforms
    x = chainrule.tensor(np.random.default_rng(0).normal(scale=1.0, size=(5, 10)))
    y = T.CorrCholeskyTransform()(x)
    assert tuple(y.shape) == (5, 5, 5)
    assert bool(chainrule.distributions.constraints.corr_cholesky.check(y).all())
    np.testing.assert_allclose(T.CorrCholeskyTransform().inv(y).numpy(), x.numpy(), rtol=1e-6, atol=1e-6)


def test_transform_shape_errors_like_torch() -> None:
    for _, D in LIBS:
        T = D.transforms
        with pytest.raises(ValueError, match="different numbers of elements"):
            T.ReshapeTransform((2, 3), (5,))
        with pytest.raises(ValueError, match="Shape mismatch"):
            T.ReshapeTransform((2, 3), (6,)).forward_shape((4, 3, 2))
        with pytest.raises(ValueError, match="flattened lower-diagonal"):
            T.CorrCholeskyTransform().forward_shape((4,))
        with pytest.raises(ValueError, match="not square"):
            T.CorrCholeskyTransform().inverse_shape((3, 4))
    for lib, D in LIBS:
        cat = D.transforms.CatTransform([D.transforms.ExpTransform()], dim=0, lengths=[2])
        with pytest.raises(AssertionError):
            cat(lib.zeros(3))
        stack = D.transforms.StackTransform([D.transforms.ExpTransform()], dim=0)
        with pytest.raises(AssertionError):
            stack(lib.zeros(2))


STRUCTURED_CONSTRAINTS = [
    lambda C: C.corr_cholesky,
    lambda C: C.cat([C.positive, C.unit_interval, C.real], dim=-1, lengths=[1, 1, 1]),
    lambda C: C.cat([C.interval(-1.0, 2.0), C.positive], dim=0, lengths=[1, 1]),
    lambda C: C.stack([C.positive, C.unit_interval, C.greater_than(2.0)], dim=-1),
    lambda C: C.stack([C.real, C.positive], dim=0),
]


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("make", STRUCTURED_CONSTRAINTS)
def test_biject_to_and_transform_to_match_torch(registry, make) -> None:
    results = []
    for lib, D in LIBS:
        constraint = make(D.constraints)
        transform = getattr(D, registry)(constraint)
        # (2, 3): two vectors of 3 = 3 * 2 / 2 for corr_cholesky, the pieces for cat and stack
        x = np.random.default_rng(9).normal(size=(2, 3))
        inputs = lib.tensor(x, requires_grad=True)
        y = transform(inputs)
        assert bool(constraint.check(y).all())
        assert constraint.event_dim == make(torch.distributions.constraints).event_dim
        jacobian = transform.log_abs_det_jacobian(inputs, y)
        grad = lib.autograd.grad(y.sum() + jacobian.sum(), inputs)[0]
        results.append((type(transform).__name__, y, jacobian, grad))
    (t_name, t_y, t_j, t_g), (o_name, o_y, o_j, o_g) = results
    assert o_name == t_name
    assert_close(o_y, t_y, 1e-7, 1e-10, registry)
    assert_close(o_j, t_j, 1e-7, 1e-10, f"{registry} log|det J|")
    assert_close(o_g, t_g, 1e-7, 1e-10, f"{registry} grad")


def test_stack_constraint_check_matches_torch() -> None:
    value = np.array([[0.5, -1.0, 3.0], [2.0, 0.5, 1.0]])
    results = []
    for lib, D in LIBS:
        C = D.constraints
        constraint = C.stack([C.positive, C.unit_interval, C.greater_than(2.0)], dim=-1)
        results.append((constraint.check(lib.tensor(value)), constraint.event_dim, constraint.is_discrete))
    (t_check, t_dim, t_discrete), (o_check, o_dim, o_discrete) = results
    np.testing.assert_array_equal(to_numpy(o_check), to_numpy(t_check))
    assert (o_dim, o_discrete) == (t_dim, t_discrete)


# ---- KL pairs with ContinuousBernoulli --------------------------------------------------------------
def _leaf(lib, values, leaves=None):
    """A float64 tensor; a leaf that requires grad when ``leaves`` (a list it is appended to) is given."""
    value = lib.tensor(values, dtype=lib.float64, requires_grad=leaves is not None)
    if leaves is not None:
        leaves.append(value)
    return value


FAMILIES = {
    "CB": lambda D, lib, g: D.ContinuousBernoulli(probs=_leaf(lib, [0.1, 0.4995, 0.7, 0.93], g)),
    "CB2": lambda D, lib, g: D.ContinuousBernoulli(logits=_leaf(lib, [0.3, -2.0, 1.0, 0.0004], g)),
    "Beta": lambda D, lib, g: D.Beta(_leaf(lib, [0.5, 1.5, 2.0, 3.0], g), _leaf(lib, [1.0, 2.0, 0.7, 4.0])),
    "Exponential": lambda D, lib, g: D.Exponential(_leaf(lib, [0.5, 1.0, 2.0, 3.0], g)),
    "Normal": lambda D, lib, g: D.Normal(
        _leaf(lib, [0.0, 0.5, -1.0, 2.0], g), _leaf(lib, [1.0, 0.5, 2.0, 1.5], g)
    ),
    "Uniform": lambda D, lib, g: D.Uniform(
        _leaf(lib, [0.1, -0.5, 0.2, 0.0], g), _leaf(lib, [0.9, 0.5, 1.0, 1.5], g)
    ),
    "Gamma": lambda D, lib, g: D.Gamma(_leaf(lib, [1.0, 2.0, 0.5, 3.0]), _leaf(lib, [1.0, 2.0, 1.0, 0.5])),
    "Gumbel": lambda D, lib, g: D.Gumbel(_leaf(lib, [0.0, 1.0, 0.5, -1.0]), _leaf(lib, [1.0, 2.0, 1.0, 0.5])),
    "Laplace": lambda D, lib, g: D.Laplace(
        _leaf(lib, [0.0, 1.0, 0.5, -1.0]), _leaf(lib, [1.0, 2.0, 1.0, 0.5])
    ),
    "Pareto": lambda D, lib, g: D.Pareto(_leaf(lib, [1.0, 2.0, 1.0, 0.5]), _leaf(lib, [1.0, 2.0, 3.0, 0.5])),
}
KL_PAIRS = [
    ("CB", "CB2"),
    ("CB2", "CB"),
    ("Beta", "CB"),
    ("CB", "Pareto"),
    ("CB", "Exponential"),
    ("CB", "Normal"),
    ("CB", "Uniform"),
    ("Uniform", "CB"),
    ("Exponential", "CB"),
    ("Gamma", "CB"),
    ("Gumbel", "CB"),
    ("Laplace", "CB"),
    ("Normal", "CB"),
    ("Pareto", "CB"),
]


@pytest.mark.parametrize(("p_name", "q_name"), KL_PAIRS, ids=[f"{p}-{q}" for p, q in KL_PAIRS])
def test_continuous_bernoulli_kl_matches_torch(p_name, q_name) -> None:
    results = []
    for lib, D in LIBS:
        leaves = []
        p, q = FAMILIES[p_name](D, lib, leaves), FAMILIES[q_name](D, lib, leaves)
        kl = D.kl_divergence(p, q)
        finite = lib.isfinite(kl)
        grads = ()
        if kl.requires_grad and leaves:
            loss = lib.where(finite, kl, lib.zeros_like(kl)).sum()
            grads = lib.autograd.grad(loss, leaves, allow_unused=True)
        results.append((kl, grads))
    (theirs, theirs_g), (ours, ours_g) = results
    assert_close(ours, theirs, 1e-6, 1e-9, f"KL({p_name} || {q_name})")
    assert len(ours_g) == len(theirs_g)
    for k, (o, t) in enumerate(zip(ours_g, theirs_g)):
        if t is None:
            assert o is None or not np.any(to_numpy(o))
        else:
            assert_close(o, t, 1e-5, 1e-8, f"KL({p_name} || {q_name}) grad {k}")


def test_kl_of_the_other_new_families_raises_like_torch() -> None:
    for lib, D in LIBS:
        p = D.VonMises(lib.tensor([0.0]), lib.tensor([1.0]))
        with pytest.raises(NotImplementedError):
            D.kl_divergence(p, p)
        k = D.Kumaraswamy(lib.tensor([1.0]), lib.tensor([2.0]))
        with pytest.raises(NotImplementedError):
            D.kl_divergence(k, D.Beta(lib.tensor([1.0]), lib.tensor([2.0])))


def test_exponential_family_kl_and_entropy_of_the_new_families_match_torch() -> None:
    """Wishart || Wishart has no closed form registered: both libraries take the Bregman divergence
    of the log normaliser (autograd); ContinuousBernoulli's generic exponential-family entropy too."""
    a = np.array([[2.0, 0.5], [0.5, 1.0]])
    b = np.array([[1.0, 0.2], [0.2, 3.0]])
    results = []
    for lib, D in LIBS:
        p = D.Wishart(_leaf(lib, [4.0, 5.0]), covariance_matrix=_leaf(lib, a))
        q = D.Wishart(_leaf(lib, [3.0, 6.0]), covariance_matrix=_leaf(lib, b))
        probs = _leaf(lib, [0.2, 0.4995, 0.8])
        entropy = D.ExponentialFamily.entropy(D.ContinuousBernoulli(probs=probs))
        results.append((D.kl_divergence(p, q), entropy, D.ContinuousBernoulli(probs=probs).entropy()))
    for ours, theirs in zip(results[1], results[0]):
        assert_close(ours, theirs, 1e-7, 1e-10, "exponential family")
