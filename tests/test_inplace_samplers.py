"""In-place samplers, poisson, binomial and multinomial: their distributions (moments within six
standard errors of the sample, which a correct sampler misses about once in 10^8 runs), their
autograd and view behaviour against torch, and their errors against torch's."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from oracle import raises_like_torch

import chainrule

N = 200_000


def _moments(t) -> tuple[float, float]:
    a = t.numpy().astype(np.float64).ravel()
    return a.mean(), a.var()


def _close(value: float, expected: float, sd: float, n: int = N) -> None:
    """``value`` is a sample mean of n draws of a variable with standard deviation ``sd``."""
    assert abs(value - expected) < 6 * sd / math.sqrt(n), (value, expected)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_continuous_samplers_have_torchs_distributions(dtype: str) -> None:
    chainrule.manual_seed(0)
    dt = getattr(chainrule, dtype)
    x = chainrule.empty(N, dtype=dt)
    assert x.normal_(2.0, 0.5) is x and x.dtype == dt
    mean, var = _moments(x)
    _close(mean, 2.0, 0.5)
    _close(var, 0.25, 0.25 * math.sqrt(2))
    mean, var = _moments(x.uniform_(-1.0, 3.0))
    assert -1 <= x.min().item() and x.max().item() < 3
    _close(mean, 1.0, 4 / math.sqrt(12))
    _close(var, 16 / 12, 16 * math.sqrt(1 / 80 - 1 / 144))  # sd of (U - mean)^2 for U on width 4
    mean, _ = _moments(x.exponential_(4.0))
    _close(mean, 0.25, 0.25)
    log = np.log(x.log_normal_(0.3, 0.2).numpy().astype(np.float64))
    _close(log.mean(), 0.3, 0.2)
    median = np.median(x.cauchy_(1.5, 2.0).numpy())
    assert abs(median - 1.5) < 6 * (math.pi * 2.0 / 2) / math.sqrt(N)  # sd of a Cauchy median


def test_discrete_samplers() -> None:
    chainrule.manual_seed(1)
    x = chainrule.zeros(N)
    mean, _ = _moments(x.geometric_(0.25))
    assert x.min().item() >= 1 and (x == x.round()).all()
    _close(mean, 4.0, math.sqrt(0.75) / 0.25)
    mean, _ = _moments(x.bernoulli_(0.3))
    _close(mean, 0.3, math.sqrt(0.21))
    ints = chainrule.zeros(N, dtype=chainrule.int64).random_(-2, 5)
    assert ints.min().item() == -2 and ints.max().item() == 4
    _close(_moments(ints)[0], 1.0, math.sqrt((49 - 1) / 12))
    mean, var = _moments(chainrule.poisson(chainrule.full((N,), 3.0)))
    _close(mean, 3.0, math.sqrt(3.0))
    counts = chainrule.binomial(chainrule.full((N,), 10.0), chainrule.full((N,), 0.2))
    _close(_moments(counts)[0], 2.0, math.sqrt(1.6))
    assert counts.dtype == chainrule.float32


def test_multinomial_frequencies_and_no_replacement() -> None:
    chainrule.manual_seed(2)
    weights = chainrule.tensor([1.0, 2.0, 0.0, 5.0])
    draws = chainrule.multinomial(weights, N, replacement=True).numpy()
    freq = np.bincount(draws, minlength=4) / N
    for k, p in enumerate(np.array([1, 2, 0, 5]) / 8):
        _close(freq[k], p, math.sqrt(p * (1 - p)) + 1e-12)
    rows = chainrule.multinomial(chainrule.ones(50, 6), 6)
    assert all(sorted(r) == list(range(6)) for r in rows.tolist())


def test_the_generator_reproduces_a_sampler() -> None:
    g = chainrule.Generator().manual_seed(5)
    a = chainrule.empty(10).normal_(generator=g)
    g.manual_seed(5)
    assert chainrule.equal(a, chainrule.empty(10).normal_(generator=g))


def _autograd_program(lib):
    w = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = w * 2
    y[1:3].uniform_()  # through a view: the base's region is overwritten
    z = w * 3
    z.normal_()
    (y.sum() + z.sum()).backward()
    return w.grad


def test_sampling_in_place_cuts_the_gradient_as_torch() -> None:
    ours, theirs = _autograd_program(chainrule), _autograd_program(torch)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize(
    "program, match",
    [
        (lambda lib: lib.ones(2, requires_grad=True).normal_(), "leaf Variable"),
        (lambda lib: lib.ones(2).normal_(0.0, -1.0), "std"),
        (lambda lib: lib.ones(2).uniform_(3.0, 1.0), "from"),
        (lambda lib: lib.ones(2).exponential_(0.0), "lambda"),
        (lambda lib: lib.ones(2).geometric_(1.5), "geometric"),
        (lambda lib: lib.ones(2).random_(5, 2), "from"),
        (lambda lib: lib.multinomial(lib.tensor([1.0, 1.0]), 3), "sample"),
    ],
)
def test_errors_as_torch(program, match: str) -> None:
    raises_like_torch(program, match)


@pytest.mark.parametrize("name", ["normal_", "uniform_", "exponential_", "log_normal_", "cauchy_", "random_"])
def test_samplers_fill_bfloat16_as_torch(name: str) -> None:
    """bfloat16 (ml_dtypes, NumPy kind 'V') is a float type for the samplers too; random_() keeps
    torch's default range of the dtype, [0, 2**8] for bfloat16's 8-bit significand."""
    results = []
    for lib in (chainrule, torch):
        x = getattr(lib.zeros(4000, dtype=lib.bfloat16), name)()
        results.append(
            (str(x.dtype).split(".")[-1], float(x.float().min()) >= 0 if name == "random_" else True)
        )
        if name == "random_":
            assert float(x.float().max()) <= 256
    assert results[0] == results[1]
