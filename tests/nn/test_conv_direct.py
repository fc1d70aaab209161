"""The direct (no window matrix) convolution kernels for one input channel at stride 1
(kernels/_jit_direct_conv.py, dispatched from kernels/conv_whole.py): values, gradients and a
second derivative against torch, on both paths (the NumPy windows and the compiled kernels), with
a check that the direct kernels ran where numba is on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from chainrule.kernels import conv_whole as W

pytestmark = pytest.mark.usefixtures("jit_path")

# (input shape, weight shape, kwargs): padding, dilation, non-square, a batch split over two
# threads (2 * DIRECT_SPLIT_SAMPLES samples or more, odd), bias or none
CASES = [
    ((5, 1, 12, 12), (6, 1, 5, 5), dict(padding=2)),  # LeNet's first layer, smaller (5 taps a row)
    ((2, 1, 8, 9), (9, 1, 5, 5), dict(padding=1)),  # two blocks of 4 channels and one more
    ((3, 1, 13, 11), (2, 1, 5, 5), dict(padding=(2, 3), dilation=(1, 2))),
    ((3, 1, 7, 9), (4, 1, 3, 2), dict(padding=(1, 0))),
    ((2, 1, 9, 8), (3, 1, 3, 3), dict(padding=2, dilation=(2, 1))),
    ((1, 1, 1, 1), (2, 1, 1, 1), {}),  # size-1 everything
    ((37, 1, 6, 5), (3, 1, 3, 3), dict(padding=1)),  # two halves of 18 and 19 samples
]


@pytest.fixture
def direct_ran(monkeypatch):
    monkeypatch.setattr(W, "DIRECT_SPLIT_SAMPLES", 16)  # (the batch of 37 split over two threads)
    ran: list = []
    for name in ("_direct_conv", "_direct_weight"):
        fn = getattr(W, name)
        monkeypatch.setattr(W, name, lambda *a, _fn=fn, _name=name: ran.append(_name) or _fn(*a))
    return ran


def _run(lib, x, w, b, kwargs, second):
    x, w = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
    b = None if b is None else lib.tensor(b, requires_grad=True)
    leaves = (x, w) if b is None else (x, w, b)
    y = lib.nn.functional.conv2d(x, w, b, **kwargs)
    weights = np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)).astype(x.detach().numpy().dtype)
    loss = (y * y).sum() if second else (y * lib.tensor(weights)).sum()
    grads = lib.autograd.grad(loss, leaves, create_graph=second)
    out = [y.detach().numpy()] + [g.detach().numpy() for g in grads]
    if second:
        total = sum((g * g).sum() for g in grads)
        out += [g.detach().numpy() for g in lib.autograd.grad(total, leaves)]
    return out


@pytest.mark.parametrize("xs, ws, kwargs", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", [True, False])
def test_direct_against_torch(direct_ran, jit_path, xs, ws, kwargs, dtype, bias):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[:1]).astype(dtype) if bias else None
    second = dtype == np.float64
    ours, theirs = _run(chainrule, x, w, b, kwargs, second), _run(torch, x, w, b, kwargs, second)
    tol = dict(rtol=1e-9, atol=1e-9) if second else dict(rtol=2e-4, atol=2e-4)
    for a, t in zip(ours, theirs):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, t, **tol)
    if jit_path == "jit":
        assert {"_direct_conv", "_direct_weight"} <= set(direct_ran)
    else:
        assert not direct_ran


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ws", [(3, 1, 3, 3), (5, 1, 5, 5)])  # (5x5: the four-channel blocks)
def test_nan_and_inf_reach_only_their_windows(jit_path, dtype, ws):
    """An inf or NaN in the input spoils only the outputs and weight-gradient entries that its
    windows touch, as in torch (the weight gradient's runs over whole padded rows would multiply
    it by the gradient's zero columns elsewhere)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 1, 10, 10)).astype(dtype)
    x[1, 0, 0, 9] = np.inf
    x[2, 0, 4, 0] = np.nan
    w = rng.standard_normal(ws).astype(dtype)
    results = []
    for lib in (chainrule, torch):
        xt, wt = lib.tensor(x), lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.conv2d(xt, wt)
        y.backward(lib.ones_like(y))
        results.append((y.detach().numpy(), wt.grad.numpy()))
    for a, t in zip(*results):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(t))
        np.testing.assert_array_equal(np.isinf(a), np.isinf(t))
        finite = np.isfinite(t)
        np.testing.assert_allclose(a[finite], t[finite], rtol=2e-4, atol=2e-4)


def test_non_contiguous_input_and_other_paths(jit_path, direct_ran):
    """A transposed (non-contiguous) input is copied; stride 2, two input channels or groups take
    the window path."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 1, 9, 7)).astype(np.float32)
    xt = np.swapaxes(x, 2, 3)
    w = rng.standard_normal((4, 1, 3, 3)).astype(np.float32)
    ours = chainrule.nn.functional.conv2d(chainrule.tensor(xt), chainrule.tensor(w), padding=1)
    theirs = torch.nn.functional.conv2d(torch.tensor(xt), torch.tensor(w), padding=1)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=2e-4, atol=2e-4)
    direct_ran.clear()
    for xs, ws, kw in [
        ((2, 1, 9, 9), (3, 1, 3, 3), dict(stride=2)),
        ((2, 2, 9, 9), (3, 2, 3, 3), {}),
        ((2, 2, 9, 9), (2, 1, 3, 3), dict(groups=2)),
    ]:
        a, b = rng.standard_normal(xs).astype(np.float32), rng.standard_normal(ws).astype(np.float32)
        ours = chainrule.nn.functional.conv2d(chainrule.tensor(a), chainrule.tensor(b), **kw)
        theirs = torch.nn.functional.conv2d(torch.tensor(a), torch.tensor(b), **kw)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=2e-4, atol=2e-4)
    assert not direct_ran


def test_input_modified_after_forward_is_caught(jit_path):
    x = chainrule.randn(2, 1, 6, 6, requires_grad=True)
    h = x * 1
    y = chainrule.nn.functional.conv2d(h, chainrule.randn(3, 1, 3, 3, requires_grad=True), padding=1)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


# 2-16 input and 4-16 output channels (kernels/conv.py's _direct_fits): ResNet's stem and
# 16-channel layers, smaller; an output-channel count that leaves one to three channels past the
# blocks of four; dilation; padding 0 and 2; a batch of one; 5x5 kernels (the forward direct only
# for up to 3 input channels, the weight gradient for up to 16). The last item: the direct
# kernels expected to run.
BOTH = {"_direct_lanes", "_direct_weight_lanes"}
MANY_CASES = [
    ((5, 3, 8, 9), (16, 3, 3, 3), dict(padding=1), BOTH),  # the stem
    ((3, 16, 7, 6), (16, 16, 3, 3), dict(padding=1), BOTH),  # the 16-channel blocks
    ((2, 5, 9, 8), (7, 5, 3, 3), dict(padding=2, dilation=(2, 1)), BOTH),
    ((1, 2, 5, 5), (6, 2, 3, 3), {}, BOTH),
    ((9, 4, 4, 11), (4, 4, 3, 3), dict(padding=(0, 1)), BOTH),
    ((2, 4, 9, 10), (5, 4, 3, 3), dict(padding=1, dilation=(1, 2)), BOTH),
    ((4, 3, 9, 9), (5, 3, 5, 5), dict(padding=2), BOTH),
    ((3, 6, 9, 8), (8, 6, 5, 5), {}, {"_direct_weight_lanes"}),  # LeNet's second layer, smaller
]


@pytest.fixture
def many_ran(monkeypatch):
    from chainrule.kernels import conv as K

    monkeypatch.setattr(K, "DIRECT_LANES_MIN", 0)  # (every batch split over the two lanes)
    ran: list = []
    for name in ("_direct_lanes", "_direct_weight_lanes"):
        fn = getattr(K, name)
        monkeypatch.setattr(K, name, lambda *a, _fn=fn, _name=name: ran.append(_name) or _fn(*a))
    return ran


@pytest.mark.parametrize("xs, ws, kwargs, paths", MANY_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", [True, False])
def test_many_channels_against_torch(many_ran, jit_path, xs, ws, kwargs, paths, dtype, bias):
    """Values, all gradients and (float64) a second derivative; the input gradient of a stride-1
    convolution is itself a direct convolution (the flipped kernel, channels swapped)."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[:1]).astype(dtype) if bias else None
    second = dtype == np.float64
    ours, theirs = _run(chainrule, x, w, b, kwargs, second), _run(torch, x, w, b, kwargs, second)
    tol = dict(rtol=1e-9, atol=1e-9) if second else dict(rtol=2e-4, atol=2e-4)
    for a, t in zip(ours, theirs):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, t, **tol)
    if jit_path == "jit":
        assert paths <= set(many_ran)
    else:
        assert not many_ran


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_many_channels_nan_inf_and_non_contiguous(jit_path, dtype):
    """An inf or NaN spoils only its windows' outputs and weight-gradient entries; a transposed
    (non-contiguous) input is copied; the batch split over two lanes sums its pieces."""
    rng = np.random.default_rng(3)
    x = np.swapaxes(rng.standard_normal((19, 3, 10, 10)).astype(dtype), 2, 3)
    x[1, 0, 0, 9] = np.inf
    x[2, 2, 4, 0] = np.nan
    x[4, 1, 5, 5] = -np.inf
    w = rng.standard_normal((8, 3, 3, 3)).astype(dtype)
    results = []
    for lib in (chainrule, torch):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.conv2d(xt, wt, padding=1)
        y.backward(lib.ones_like(y))
        results.append((y.detach().numpy(), wt.grad.numpy(), xt.grad.numpy()))
    for a, t in zip(*results):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(t))
        np.testing.assert_array_equal(np.isinf(a), np.isinf(t))
        finite = np.isfinite(t)
        np.testing.assert_allclose(a[finite], t[finite], rtol=2e-4, atol=2e-4)


def test_many_channels_empty_batch_and_inplace(jit_path):
    x = chainrule.zeros((0, 4, 6, 6), requires_grad=True)
    w = chainrule.ones((8, 4, 3, 3), requires_grad=True)
    y = chainrule.nn.functional.conv2d(x, w, padding=1)
    assert tuple(y.shape) == (0, 8, 6, 6)
    y.sum().backward()
    assert tuple(x.grad.shape) == (0, 4, 6, 6) and not w.grad.numpy().any()
    h = chainrule.randn(2, 4, 6, 6, requires_grad=True) * 1
    y = chainrule.nn.functional.conv2d(h, chainrule.randn(8, 4, 3, 3, requires_grad=True), padding=1)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
