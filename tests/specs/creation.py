"""Differentiable conversions from the creation family: ``to`` between float dtypes, ``clone``."""

from __future__ import annotations

from oracle import OpSpec

from specs.strategies import any_shape

SPECS = [
    OpSpec("to(float64)", lambda m, x: x.to(m.float64) * x.to(m.float64), any_shape()),
    OpSpec("to(float32)", lambda m, x: x.to(m.float32) * 3, any_shape(), rtol=1e-5, atol=1e-6, fd=False),
    OpSpec(
        ".double().float()",
        lambda m, x: (x.double() ** 2).float(),
        any_shape(),
        rtol=1e-5,
        atol=1e-6,
        fd=False,
    ),
    OpSpec("to(dtype=float64, copy=True)", lambda m, x: x.to(dtype=m.float64, copy=True).exp(), any_shape()),
    OpSpec("clone", lambda m, x: m.clone(x) * x, any_shape()),
]
