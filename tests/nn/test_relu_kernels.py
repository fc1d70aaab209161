"""ReLU's array kernels (kernels/relu.py and the compiled kernels/_jit_relu.py) against torch: values
and gradients on arrays large enough for the compiled path and the two threads, special values
(NaN, +-inf, -0.0, and an infinite or NaN gradient where the output is 0), float64, non-contiguous
inputs, and a second derivative through the differentiable rule."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from chainrule.kernels import jit

pytestmark = pytest.mark.usefixtures("jit_path")

SPECIAL = [np.nan, -np.inf, np.inf, 0.0, -0.0, 1e-38, -1e-38, 3.0, -3.0]


def _both(x: np.ndarray, g: np.ndarray, transpose: bool = False):
    results = []
    for lib in (chainrule, torch):
        xt = lib.tensor(x, requires_grad=True)
        src = xt.transpose(0, 1) if transpose else xt
        y = lib.relu(src)
        (gx,) = lib.autograd.grad(y, xt, lib.tensor(g))
        results.append((y.detach().numpy(), gx.numpy()))
    return results


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [9, 70_000, 2_100_001])  # (the last: two threads)
def test_relu_matches_torch(dtype, n):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    x[: len(SPECIAL)] = SPECIAL
    g[: len(SPECIAL)] = [np.inf, np.nan, 1.0, np.inf, np.nan, -np.inf, 2.0, np.nan, np.inf]
    (y, gx), (ty, tgx) = _both(x, g)
    assert y.dtype == gx.dtype == dtype
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_array_equal(gx, tgx)
    if n > 4096 and jit.enabled():  # the compiled kernel keeps -0.0 as torch does (np.maximum: +0.0)
        np.testing.assert_array_equal(np.signbit(y), np.signbit(ty))


def test_relu_non_contiguous_input():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 400)).astype(np.float32)
    g = rng.standard_normal((400, 300)).astype(np.float32)
    (y, gx), (ty, tgx) = _both(x, g, transpose=True)
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_array_equal(gx, tgx)


def test_relu_second_derivative():
    rng = np.random.default_rng(2)
    x = rng.standard_normal(70_000)
    out = []
    for lib in (chainrule, torch):
        xt = lib.tensor(x, requires_grad=True)
        y = lib.relu(xt)
        (gx,) = lib.autograd.grad((y * y).sum(), xt, create_graph=True)
        (gg,) = lib.autograd.grad((gx * gx).sum(), xt)
        out.append((gx.detach().numpy(), gg.numpy()))
    np.testing.assert_allclose(out[0][0], out[1][0])
    np.testing.assert_allclose(out[0][1], out[1][1])


def test_relu_version_counter_catches_in_place_change():
    x = chainrule.randn(70_000, requires_grad=True)
    y = chainrule.relu(x)
    y.mul_(2)
    with pytest.raises(RuntimeError):
        y.sum().backward()
