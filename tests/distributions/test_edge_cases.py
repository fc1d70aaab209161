"""Unhappy paths against torch: empty batches, 0-d parameters, transposed (non-contiguous)
parameters, integer values, NaN values, float32 staying float32, expand, empty sample shapes."""

from __future__ import annotations

import pytest
import torch
from oracle import assert_close

import chainrule
import chainrule.distributions


def _D(lib):
    return torch.distributions if lib is torch else chainrule.distributions


CASES = {
    "empty batch sample": lambda m: _D(m).Normal(m.zeros(0), m.ones(0)).sample((2,)),
    "empty batch log_prob": lambda m: _D(m).Normal(m.zeros(0), m.ones(0)).log_prob(m.zeros(0)),
    "empty batch entropy": lambda m: _D(m).Normal(m.zeros(0), m.ones(0)).entropy(),
    "empty batch categorical": lambda m: _D(m).Categorical(probs=m.ones(0, 3)).sample((4,)),
    "empty categorical entropy": lambda m: _D(m).Categorical(probs=m.ones(0, 3)).entropy(),
    "empty Dirichlet batch": lambda m: _D(m).Dirichlet(m.ones(0, 3)),
    "empty MVN batch": lambda m: _D(m).MultivariateNormal(m.zeros(0, 2), m.eye(2)).sample((3,)),
    "empty sample shape": lambda m: _D(m).Normal(m.zeros(2), 1.0).sample((0, 3)),
    "categorical sample 0": lambda m: _D(m).Categorical(probs=m.ones(2, 3)).sample((0,)),
    "transposed parameters": lambda m: (
        _D(m)
        .Normal(m.arange(6.0).reshape(2, 3).t(), m.arange(1.0, 7.0).reshape(2, 3).t())
        .log_prob(m.zeros(3, 2))
    ),
    "0-d parameters": lambda m: _D(m).Gamma(m.tensor(2.0), m.tensor(3.0)).log_prob(m.tensor(0.5)),
    "0-d sample": lambda m: _D(m).Gamma(m.tensor(2.0), m.tensor(3.0)).sample() * 0,
    "int value": lambda m: _D(m).Poisson(m.tensor([2.0])).log_prob(m.tensor([3])),
    "NaN value": lambda m: (
        _D(m).Normal(m.tensor([0.0]), 1.0, validate_args=False).log_prob(m.tensor([float("nan")]))
    ),
    "float32 stays": lambda m: _D(m).Normal(m.tensor([0.0]), 1.0).log_prob(m.tensor([1.0])),
    "float32 rsample": lambda m: _D(m).Beta(m.tensor([2.0]), m.tensor([3.0])).rsample() * 0,
    "expand": lambda m: _D(m).Normal(m.tensor([0.0]), m.tensor([1.0])).expand((3, 1)).sample((2,)) * 0,
    "expand bad shape": lambda m: _D(m).Normal(m.tensor([0.0, 1.0]), 1.0).expand((3,)),
    "size-1 broadcast": lambda m: _D(m).Normal(m.zeros(1, 3), m.ones(2, 1)).log_prob(m.zeros(3)),
    "number parameters": lambda m: _D(m).Normal(0.0, 1.0).log_prob(m.tensor([0.5])),
    "float64 value float32 params": lambda m: (
        _D(m).Normal(m.tensor([0.0]), 1.0, validate_args=False).log_prob(m.tensor([0.5], dtype=m.float64))
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_edge_case_like_torch(name) -> None:
    program = CASES[name]
    try:
        theirs = program(torch)
    except Exception as error:  # torch refuses: so must we, with its exception type
        with pytest.raises(type(error)):
            program(chainrule)
        return
    ours = program(chainrule)
    if isinstance(theirs, torch.distributions.Distribution):
        assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
        return
    assert_close(ours, theirs, 1e-6, 1e-7, name)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], name
