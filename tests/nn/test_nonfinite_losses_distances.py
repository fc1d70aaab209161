"""Losses, distances and similarities at inf, NaN and 1e38, against torch: small explicit inputs
for each fix of the extreme-value sweep (tests/test_extreme_values.py), values and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

INF, NAN = np.inf, np.nan


def _both(fn, *arrays, grad=True):
    """``fn(lib, *tensors)`` in both libraries: the outputs and the gradients of a fixed random
    vector-Jacobian product with every float input, compared (NaN and inf positions included)."""
    results = []
    for lib in (chainrule, torch):
        ins = [
            lib.tensor(a, requires_grad=grad and a.dtype.kind == "f") if isinstance(a, np.ndarray) else a
            for a in arrays
        ]
        out = fn(lib, *ins)
        got = [out.detach().numpy()]
        wrt = [t for t in ins if isinstance(t, lib.Tensor) and t.requires_grad]
        if wrt:
            v = lib.tensor(np.random.default_rng(5).standard_normal(tuple(out.shape)).astype(np.float32))
            got += [g.numpy() for g in lib.autograd.grad(out, wrt, v, allow_unused=False)]
        results.append(got)
    for ours, theirs in zip(*results):
        scale = np.abs(theirs[np.isfinite(theirs)]).max(initial=1.0)
        np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=1e-5 * scale)
    return results[1]


def _f32(rows) -> np.ndarray:
    return np.array(rows, dtype=np.float32)


@pytest.mark.parametrize("value", [1e38, INF])
def test_cosine_similarity_with_an_infinite_norm(value) -> None:
    """A norm that overflows (or is inf) divides to 0, as torch's; the clamp at eps adds 0 to it,
    not ``inf - inf``."""
    x1 = _f32([[value, 0.5, -0.3], [0.2, 0.4, 0.1]])
    x2 = _f32([[value, 0.1, 0.7], [0.3, -0.2, 0.5]])
    out = _both(lambda m, a, b: m.nn.functional.cosine_similarity(a, b, dim=1), x1, x2)[0]
    if value == 1e38:
        assert out[0] == 0


def test_triplet_margin_with_cosine_distance_at_1e38() -> None:
    a = _f32([[1e38, 0.5, -0.3], [0.2, 0.4, 0.1]])
    p, n = _f32([[0.3, 0.1, 0.7], [0.3, -0.2, 0.5]]), _f32([[1e38, 1.0, 0.7], [0.3, 0.2, -0.5]])

    def fn(m, a, p, n):
        cos = lambda x, y: 1 - m.nn.functional.cosine_similarity(x, y)  # noqa: E731
        return m.nn.functional.triplet_margin_with_distance_loss(a, p, n, distance_function=cos, swap=True)

    _both(fn, a, p, n)
