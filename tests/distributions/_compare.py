"""Build one distribution in both libraries from the same NumPy parameters and compare what it
computes (values and the gradients of their sums w.r.t. every float parameter) with torch's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
from oracle import assert_close, to_numpy

import chainrule
import chainrule.distributions

PROPERTIES = ("mean", "mode", "variance", "stddev")
METHODS = ("entropy", "log_prob", "cdf", "icdf")


@dataclass
class DistCase:
    """``build(D, *params)`` makes the distribution from module ``D`` (torch's or chainrule's)."""

    name: str
    build: Callable
    params: tuple  # NumPy arrays (floats get requires_grad) or ints
    value: Callable  # rng -> a NumPy value in the support, shaped for log_prob
    unit: Callable | None = None  # rng -> probabilities for icdf
    rtol: float = 1e-7
    atol: float = 1e-9
    grad: bool = True
    skip: tuple = field(default_factory=tuple)


def make(lib, case: DistCase, dtype=np.float64):
    params = []
    for p in case.params:
        if isinstance(p, np.ndarray) and p.dtype.kind == "f":
            params.append(lib.tensor(p.astype(dtype), requires_grad=case.grad))
        elif isinstance(p, np.ndarray):
            params.append(lib.tensor(p))
        else:
            params.append(p)
    module = torch.distributions if lib is torch else chainrule.distributions
    return case.build(module, *params), [p for p in params if isinstance(p, lib.Tensor) and p.requires_grad]


def _call(dist, what: str, arg):
    if what in PROPERTIES:
        return getattr(dist, what)
    if what == "entropy":
        return dist.entropy()
    return getattr(dist, what)(arg)


def compare_quantity(case: DistCase, what: str, dtype=np.float64) -> None:
    """``what`` (a property or a method taking the case's value) agrees with torch's, with the
    same exception type when torch raises, and its gradient agrees too."""
    rng = np.random.default_rng(0)
    value = case.unit(rng) if what == "icdf" else case.value(rng)
    value = np.asarray(value)
    value = value.astype(dtype) if value.dtype.kind == "f" else value
    theirs_dist, theirs_params = make(torch, case, dtype)
    ours_dist, ours_params = make(chainrule, case, dtype)
    try:
        theirs = _call(theirs_dist, what, torch.tensor(value))
    except (NotImplementedError, ValueError) as error:
        with pytest.raises(type(error)):
            _call(ours_dist, what, chainrule.tensor(value))
        return
    ours = _call(ours_dist, what, chainrule.tensor(value))
    single = dtype == np.float32 or theirs.dtype == torch.float32
    rtol = 2e-5 if single else case.rtol
    atol = 1e-5 if single else case.atol
    label = f"{case.name}.{what}"
    assert_close(ours, theirs, rtol, atol, label)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], f"{label}: dtype"
    if not (case.grad and theirs.requires_grad and theirs.dtype.is_floating_point):
        return
    finite = torch.isfinite(theirs)
    if not bool(finite.any()):
        return
    weights = np.random.default_rng(1).standard_normal(tuple(theirs.shape)).astype(dtype)
    mask = to_numpy(finite)
    weights = np.where(mask, weights, 0.0).astype(dtype)
    ours_loss = (
        chainrule.where(chainrule.tensor(mask), ours, chainrule.zeros_like(ours)) * chainrule.tensor(weights)
    ).sum()
    try:
        theirs_g = torch.autograd.grad(
            (torch.where(finite, theirs, 0) * torch.tensor(weights)).sum(), theirs_params, allow_unused=True
        )
    except NotImplementedError:  # e.g. the cdf of Gamma w.r.t. its concentration
        with pytest.raises(NotImplementedError):
            chainrule.autograd.grad(ours_loss, ours_params, allow_unused=True)
        return
    ours_g = chainrule.autograd.grad(ours_loss, ours_params, allow_unused=True)
    for k, (o, t) in enumerate(zip(ours_g, theirs_g)):
        if t is None:
            assert o is None or not np.any(to_numpy(o)), f"{label}: grad {k} torch has none"
            continue
        assert o is not None, f"{label}: grad {k} missing"
        assert_close(o, t, rtol * 10, atol * 10, f"{label} grad {k}")
