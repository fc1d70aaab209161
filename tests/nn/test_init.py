"""nn.init: gains and fans equal torch's; random initialisers are checked by their distributions
(chainrule's random stream differs from torch's), deterministic ones by equality with torch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn as cnn
from chainrule.nn import init

N_ROWS, N_COLS = 300, 400  # 120,000 draws: sample moments within ~1% of the true ones


def _big(dtype=chainrule.float32) -> chainrule.Tensor:
    return cnn.Parameter(chainrule.zeros(N_ROWS, N_COLS, dtype=dtype))


@pytest.mark.parametrize(
    "nonlinearity,param",
    [
        ("linear", None),
        ("conv2d", None),
        ("conv_transpose1d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("leaky_relu", 3),
        ("selu", None),
    ],
)
def test_calculate_gain_matches_torch(nonlinearity, param) -> None:
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


def test_calculate_gain_errors_match_torch() -> None:
    for args in (("softmax",), ("leaky_relu", True), ("leaky_relu", "x")):
        with pytest.raises(ValueError):
            torch.nn.init.calculate_gain(*args)
        with pytest.raises(ValueError):
            init.calculate_gain(*args)


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (6, 3, 2, 2), (2, 1, 3, 3, 3)])
def test_fans_match_torch(shape) -> None:
    assert init._calculate_fan_in_and_fan_out(
        chainrule.zeros(*shape)
    ) == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(chainrule.zeros(3))


def _check_uniform(values: np.ndarray, low: float, high: float) -> None:
    assert values.min() >= low and values.max() <= high
    width = high - low
    assert abs(values.mean() - (low + high) / 2) < 0.01 * width
    assert abs(values.std() - width / math.sqrt(12)) < 0.01 * width
    assert values.min() < low + 0.001 * width and values.max() > high - 0.001 * width


def _check_normal(values: np.ndarray, mean: float, std: float) -> None:
    assert abs(values.mean() - mean) < 0.02 * std
    assert abs(values.std() - std) < 0.01 * std
    assert abs(np.mean(np.abs(values - mean) < std) - 0.6827) < 0.01  # the shape, not just moments


def test_uniform_and_normal() -> None:
    t = _big()
    assert init.uniform_(t, -0.5, 2.0) is t
    _check_uniform(t.numpy(force=True), -0.5, 2.0)
    init.normal_(t, 1.0, 0.3)
    _check_normal(t.numpy(force=True), 1.0, 0.3)
    assert t.dtype == chainrule.float32 and t.is_leaf and t.requires_grad and t.grad_fn is None


def test_initialisers_record_no_graph_and_bump_the_version() -> None:
    t = _big()
    v = t._version
    init.kaiming_uniform_(t)
    assert t._version > v and t.grad_fn is None
    (t * 2).sum().backward()
    assert t.grad is not None


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize(
    "nonlinearity,a", [("leaky_relu", 0), ("leaky_relu", math.sqrt(5)), ("relu", 0), ("tanh", 0)]
)
def test_kaiming(mode, nonlinearity, a) -> None:
    t = _big()
    fan = N_COLS if mode == "fan_in" else N_ROWS
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nonlinearity)
    bound = math.sqrt(3.0) * std
    _check_uniform(t.numpy(force=True), -bound, bound)
    init.kaiming_normal_(t, a=a, mode=mode, nonlinearity=nonlinearity)
    _check_normal(t.numpy(force=True), 0.0, std)


def test_kaiming_errors_and_empty_tensors() -> None:
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(_big(), mode="fan_avg")
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_normal_(chainrule.zeros(0, 3))


def test_xavier() -> None:
    t = _big(chainrule.float64)
    gain = 2.0
    std = gain * math.sqrt(2.0 / (N_ROWS + N_COLS))
    init.xavier_uniform_(t, gain=gain)
    _check_uniform(t.numpy(force=True), -math.sqrt(3) * std, math.sqrt(3) * std)
    init.xavier_normal_(t, gain=gain)
    _check_normal(t.numpy(force=True), 0.0, std)
    assert t.dtype == chainrule.float64


def test_trunc_normal_has_the_truncated_distribution() -> None:
    t = _big(chainrule.float64)
    mean, std, a, b = 0.5, 1.0, -1.0, 2.5
    init.trunc_normal_(t, mean, std, a, b)
    values = t.numpy(force=True)
    assert values.min() >= a and values.max() <= b
    # moments of the truncated normal, from its closed form
    alpha, beta = (a - mean) / std, (b - mean) / std
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    big_phi = lambda z: (1 + math.erf(z / math.sqrt(2))) / 2  # noqa: E731
    z = big_phi(beta) - big_phi(alpha)
    true_mean = mean + (phi(alpha) - phi(beta)) / z * std
    shift = (phi(alpha) - phi(beta)) / z
    true_var = std**2 * (1 + (alpha * phi(alpha) - beta * phi(beta)) / z - shift**2)
    assert abs(values.mean() - true_mean) < 0.01
    assert abs(values.std() - math.sqrt(true_var)) < 0.01
    reference = torch.nn.init.trunc_normal_(torch.zeros(N_ROWS, N_COLS, dtype=torch.float64), mean, std, a, b)
    assert abs(values.std() - reference.std().item()) < 0.01


def test_deterministic_initialisers_equal_torchs() -> None:
    for shape in [(3, 5), (4, 4), (5, 2)]:
        for fn, args in (("constant_", (0.25,)), ("ones_", ()), ("zeros_", ()), ("eye_", ())):
            ours = getattr(init, fn)(chainrule.empty(*shape), *args)
            theirs = getattr(torch.nn.init, fn)(torch.empty(*shape), *args)
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=fn)
    for shape, groups in (((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((2, 2, 3, 1, 3), 1)):
        np.testing.assert_array_equal(
            init.dirac_(chainrule.empty(*shape), groups).numpy(),
            torch.nn.init.dirac_(torch.empty(*shape), groups).numpy(),
        )
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(chainrule.zeros(2, 2, 2))


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 2, 3)])
def test_orthogonal(shape) -> None:
    t = chainrule.zeros(*shape, dtype=chainrule.float64)
    init.orthogonal_(t, gain=1.5)
    w = t.numpy().reshape(shape[0], -1) / 1.5
    small = min(w.shape)
    gram = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)
    with pytest.raises(ValueError, match="2 or more"):
        init.orthogonal_(chainrule.zeros(3))


def test_sparse_zeros_a_fraction_of_each_column() -> None:
    t = chainrule.zeros(10, 50)
    init.sparse_(t, 0.3, std=0.1)
    zeros_per_column = (t.numpy() == 0).sum(axis=0)
    assert (zeros_per_column >= 3).all()


def test_generator_makes_initialisation_reproducible() -> None:
    a, b = chainrule.zeros(20, 30), chainrule.zeros(20, 30)
    init.kaiming_uniform_(a, generator=chainrule.Generator().manual_seed(5))
    init.kaiming_uniform_(b, generator=chainrule.Generator().manual_seed(5))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    chainrule.manual_seed(3)
    first = cnn.Linear(10, 5).weight.numpy(force=True).copy()
    chainrule.manual_seed(3)
    np.testing.assert_array_equal(cnn.Linear(10, 5).weight.numpy(force=True), first)
