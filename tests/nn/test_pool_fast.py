"""Max pooling over tiling windows (stride = kernel, no padding or dilation: the running maximum
over strided views of ``chainrule.kernels.pool.max_pool_tiled``) against torch: values, indices,
first-order and create_graph gradients, on ties, NaN, -inf, odd sizes, non-contiguous inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

pytestmark = pytest.mark.usefixtures("jit_path")  # (large shapes take the compiled kernels)


def _case(x: np.ndarray, kernel, dtype, ceil_mode: bool = False, permute: bool = False):
    res = []
    for lib in (chainrule, torch):
        xt = lib.tensor(x.astype(dtype), requires_grad=True)
        inp = xt.permute(0, 1, 3, 2) if permute else xt
        out, idx = lib.nn.functional.max_pool2d(inp, kernel, ceil_mode=ceil_mode, return_indices=True)
        v = lib.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(dtype))
        (gx,) = lib.autograd.grad(out, xt, v)
        res.append((out.detach().numpy(), idx.numpy(), gx.numpy()))
    for a, b in zip(*res):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape, kernel",
    [
        ((2, 3, 8, 8), 2),
        ((2, 3, 7, 9), 2),
        ((1, 2, 9, 9), 3),
        ((2, 2, 6, 8), (2, 4)),
        ((2, 3, 5, 5), 1),
        ((3, 5, 40, 38), 2),
        ((2, 3, 33, 65), 3),
        ((2, 4, 31, 30), (2, 3)),
        ((9, 16, 128, 116), 2),  # (over 2M elements: two threads)
    ],
)
def test_tiled_max_pool_matches_torch(shape, kernel, dtype) -> None:
    x = np.random.default_rng(sum(shape)).standard_normal(shape)
    _case(x, kernel, dtype)
    _case(np.maximum(np.round(x), 0), kernel, dtype)  # ties: the first maximum wins


def test_tiled_max_pool_nan_and_inf() -> None:
    x = np.random.default_rng(2).standard_normal((2, 2, 6, 6))
    x[0, 0, 0, 1] = np.nan  # second position of a window
    x[0, 0, 2, 2], x[0, 0, 3, 3] = np.nan, np.nan  # two NaNs: torch keeps the last
    x[1, 1, :2, :2] = -np.inf  # a window of -inf only
    x[1, 0, 4, 4], x[1, 0, 4, 5] = np.inf, -np.inf  # inf - inf in a sum: no NaN in the input
    for dtype in (np.float32, np.float64):
        _case(x, 2, dtype)
        _case(np.tile(x, (3, 4, 5, 6)), 2, dtype)  # (large enough for the compiled kernels)


def test_tiled_max_pool_non_contiguous_input() -> None:
    _case(np.random.default_rng(3).standard_normal((2, 3, 8, 6)), 2, np.float64, permute=True)
    _case(np.random.default_rng(3).standard_normal((4, 3, 40, 36)), 2, np.float32, permute=True)


def test_tiled_max_pool_second_derivative() -> None:
    x = np.random.default_rng(4).standard_normal((2, 2, 4, 6))
    res = []
    for lib in (chainrule, torch):
        xt = lib.tensor(x, requires_grad=True)
        out = lib.nn.functional.max_pool2d(xt, 2)
        v = lib.tensor(np.ones(tuple(out.shape)), requires_grad=True)
        (gx,) = lib.autograd.grad(out, xt, v, create_graph=True)
        (gv,) = lib.autograd.grad((gx * lib.tensor(x)).sum(), v)
        res.append((gx.detach().numpy(), gv.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b)


def test_tiled_max_pool_input_changed_in_place_afterwards() -> None:
    """The node keeps its own positions (not the input, which torch keeps and then refuses to
    use): changing the input in place later leaves the gradient of the values pooled."""
    x = np.random.default_rng(5).standard_normal((1, 1, 4, 4))
    xt = chainrule.tensor(x, requires_grad=True)
    y = xt * 1.0
    out = chainrule.nn.functional.max_pool2d(y, 2)
    with chainrule.no_grad():
        y.mul_(-1.0)
    out.sum().backward()
    expect = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(expect, 2).sum().backward()
    np.testing.assert_array_equal(xt.grad.numpy(), expect.grad.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kernel", [((2, 3, 8, 8), 2), ((2, 3, 7, 9), (2, 3)), ((1, 2, 5, 5), 1)])
def test_tiled_avg_pool_matches_torch(shape, kernel, dtype) -> None:
    x = np.random.default_rng(sum(shape)).standard_normal(shape).astype(dtype)
    res = []
    for lib in (chainrule, torch):
        xt = lib.tensor(x, requires_grad=True)
        out = lib.nn.functional.avg_pool2d(xt, kernel)
        v = lib.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(dtype))
        (gx,) = lib.autograd.grad(out, xt, v)
        res.append((out.detach().numpy(), gx.numpy()))
    for a, b in zip(*res):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-6 if dtype == np.float32 else 1e-12)
