"""GELU's float32 kernels (kernels/gelu.py, a rational erf in 64K-element chunks, and its compiled
form kernels/_jit_gelu.py) against torch: values and gradients over several chunks, a chunk's edge,
extreme and special values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

pytestmark = pytest.mark.usefixtures("jit_path")


def _both(x: np.ndarray, g: np.ndarray):
    results = []
    for lib in (chainrule, torch):
        xt = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.gelu(xt)
        y.backward(lib.tensor(g))
        results.append((y.detach().numpy(), xt.grad.numpy()))
    return results


@pytest.mark.parametrize("shape", [(3 * 65536 + 17,), (65536,), (5, 7), (1,), (0, 4), ()])
def test_gelu_float32_matches_torch(shape):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 4).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    (y, gx), (ty, tgx) = _both(x, g)
    assert y.dtype == gx.dtype == np.float32
    scale = 1 + np.abs(x)
    np.testing.assert_array_less(np.abs(y - ty), 2e-6 * scale + 1e-30)
    np.testing.assert_array_less(np.abs(gx - tgx), 2e-6 * scale * (1 + np.abs(g)) + 1e-30)


def test_gelu_float32_special_values():
    x = np.array([np.nan, -np.inf, 0.0, -0.0, 1e-30, 30.0, -30.0, 5.66, -5.66, 4.0, -4.0], np.float32)
    (y, gx), (ty, tgx) = _both(x, np.ones_like(x))
    # (for x << 0, Phi(x) = 0.5 + 0.5 erf(x / sqrt 2) cancels in float32, in torch's too: absolute
    # errors of a few 1e-7, relative 1e-3 at x = -4)
    np.testing.assert_allclose(y, ty, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(gx, tgx, rtol=1e-6, atol=1e-6)


def test_gelu_float32_non_contiguous():
    x = np.random.default_rng(1).standard_normal((64, 33)).astype(np.float32)
    ours = chainrule.nn.functional.gelu(chainrule.tensor(x).t()).numpy()
    theirs = torch.nn.functional.gelu(torch.tensor(x).t()).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


def test_gelu_float32_two_halves_match_torch_and_one_thread():
    """From kernels.halves.MIN_ELEMENTS the chunks run on two threads: the same numbers as one
    thread and as torch, special values included, and no warning from the worker thread."""
    import warnings

    from chainrule.kernels import halves

    n = halves.MIN_ELEMENTS + 3 * 65536 + 5
    rng = np.random.default_rng(2)
    x = (rng.standard_normal(n) * 4).astype(np.float32)
    # (+inf: torch's float32 kernel gives NaN, its float64 one and chainrule's inf)
    x[[0, n // 2, n - 1]] = [np.nan, -np.inf, 1e30]
    g = rng.standard_normal(n).astype(np.float32)
    before = chainrule.get_num_threads()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            chainrule.set_num_threads(2)
            (y2, gx2), (ty, tgx) = _both(x, g)
            chainrule.set_num_threads(1)
            (y1, gx1), _ = _both(x, g)
    finally:
        chainrule.set_num_threads(before)
    np.testing.assert_array_equal(y2, y1)
    np.testing.assert_array_equal(gx2, gx1)
    np.testing.assert_allclose(y2, ty, rtol=1e-6, atol=2e-6)
    np.testing.assert_allclose(gx2, tgx, rtol=1e-6, atol=2e-6 * (1 + np.abs(g)).max())
