"""The convolution kernels' paths by shape (kernels/conv.py), each checked against torch with the
workspace lowered so that the batch crosses chunk boundaries (and the last chunk is short): values,
input/weight/bias gradients and a second derivative, float64 and float32; each case asserts that
the path it is named for actually ran."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn.functional as CF
from chainrule.kernels import conv as K

pytestmark = pytest.mark.usefixtures("jit_path")

# (name, input shape, weight shape, kwargs, the kernel functions that must run)
CASES = [
    ("3x3 windows", (5, 3, 6, 7), (4, 3, 3, 3), dict(padding=1), {"_window_chunks"}),
    # more than 16 outputs: weight @ windows (16 or fewer: windows^T @ weight^T)
    ("3x3, 20 outputs", (5, 3, 6, 7), (20, 3, 3, 3), dict(padding=1), {"_window_chunks"}),
    (
        "stride 2 (input gradient by col2im)",
        (5, 3, 7, 6),
        (4, 3, 3, 3),
        dict(stride=2, padding=1),
        {"_col2im_chunks"},
    ),
    ("few inputs (col2im at stride 1)", (5, 1, 6, 6), (6, 1, 3, 3), dict(padding=1), {"_col2im_chunks"}),
    ("1x1", (5, 4, 3, 5), (6, 4, 1, 1), {}, {"_window_chunks"}),
    ("1x1 stride 2", (5, 4, 5, 5), (6, 4, 1, 1), dict(stride=2), {"_col2im_chunks"}),
    (
        "groups 2, dilation 2",
        (5, 4, 7, 7),
        (6, 2, 3, 3),
        dict(padding=2, dilation=2, groups=2),
        {"_window_chunks"},
    ),
    ("depthwise", (5, 3, 6, 5), (3, 1, 3, 3), dict(padding=1, groups=3), {"_depthwise", "_depthwise_weight"}),
    (
        "depthwise stride 2",
        (5, 3, 7, 6),
        (3, 1, 3, 3),
        dict(stride=2, padding=1, groups=3),
        {"_depthwise", "_depthwise_transpose", "_depthwise_weight"},
    ),
    ("padding beyond the kernel", (5, 2, 4, 4), (3, 2, 2, 2), dict(padding=3), {"_window_chunks"}),
    # output rows of 8+ for a 3x3 kernel: the forward and the input gradient by shifted runs
    ("3x3 shifted runs", (5, 3, 6, 9), (4, 3, 3, 3), dict(padding=1), {"_shifted_chunks", "_window_chunks"}),
    (
        "shifted runs, dilation 2, groups 2",
        (5, 4, 7, 19),
        (6, 2, 3, 3),
        dict(padding=1, dilation=2, groups=2),
        {"_shifted_chunks"},
    ),
]


@pytest.fixture
def ran(monkeypatch):
    """Lowers the workspace to a few samples per chunk and records which kernel functions run."""
    monkeypatch.setattr(K, "WORKSPACE_BYTES", 3000)
    monkeypatch.setattr(K, "_whole_fits", lambda *sizes: False)  # (these shapes would fit whole)
    monkeypatch.setattr(K, "DIRECT_MAX_CHANNELS", {})  # (tests/nn/test_conv_direct.py covers those)
    monkeypatch.setattr(K, "DIRECT_MAX_CHANNELS_WEIGHT", {})
    names: set = set()
    for name in (
        "_window_chunks",
        "_shifted_chunks",
        "_col2im_chunks",
        "_depthwise",
        "_depthwise_weight",
        "_depthwise_transpose",
    ):
        fn = getattr(K, name)

        def spy(*args, _fn=fn, _name=name):
            names.add(_name)
            return _fn(*args)

        monkeypatch.setattr(K, name, spy)
    return names


def _run(lib, x, w, b, kwargs, second: bool):
    x, w, b = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
    y = lib.nn.functional.conv2d(x, w, b, **kwargs)
    weights = np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)).astype(x.detach().numpy().dtype)
    loss = (y * y).sum() if second else (y * lib.tensor(weights)).sum()
    grads = lib.autograd.grad(loss, (x, w, b), create_graph=second)
    out = [y.detach().numpy()] + [g.detach().numpy() for g in grads]
    if second:  # a second derivative through every gradient
        total = sum((g * g).sum() for g in grads)
        out += [g.detach().numpy() for g in lib.autograd.grad(total, (x, w, b))]
    return out


@pytest.mark.parametrize("name, xs, ws, kwargs, paths", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_path_against_torch(ran, name, xs, ws, kwargs, paths, dtype) -> None:
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in (xs, ws, ws[:1]))
    second = dtype == np.float64
    ours, theirs = _run(chainrule, x, w, b, kwargs, second), _run(torch, x, w, b, kwargs, second)
    tol = dict(rtol=1e-9, atol=1e-9) if second else dict(rtol=2e-4, atol=2e-4)
    for a, t in zip(ours, theirs):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, t, **tol)
    assert paths <= ran, f"{name}: expected {paths} to run, ran {ran}"


def test_empty_batch_and_empty_channels() -> None:
    for xs, ws, kw in [((0, 3, 5, 5), (4, 3, 3, 3), {}), ((0, 3, 5, 5), (3, 1, 3, 3), dict(groups=3))]:
        x = chainrule.zeros(xs, requires_grad=True)
        w = chainrule.ones(ws, requires_grad=True)
        y = CF.conv2d(x, w, **kw)
        assert tuple(y.shape) == (0, ws[0], 3, 3)
        y.sum().backward()
        assert tuple(x.grad.shape) == xs and not w.grad.numpy().any()


def test_scratch_buffers_shared_across_shapes_and_dtypes(monkeypatch) -> None:
    """Reused scratch buffers (padding border included) never leak one call's values into the next."""
    monkeypatch.setattr(K, "WORKSPACE_BYTES", 4000)
    rng = np.random.default_rng(1)
    for shape, pad, dtype in [
        ((3, 2, 6, 6), 2, np.float64),
        ((4, 2, 4, 4), 1, np.float32),
        ((3, 2, 6, 6), 2, np.float64),
    ]:
        x = rng.standard_normal(shape).astype(dtype) * 100
        w = rng.standard_normal((3, 2, 3, 3)).astype(dtype)
        ours = CF.conv2d(chainrule.tensor(x), chainrule.tensor(w), padding=pad).numpy()
        theirs = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=pad).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-3)


def test_input_modified_after_forward_is_caught() -> None:
    """Backward reads the saved input (no window copy): an in-place change must still raise."""
    x = chainrule.randn(2, 3, 5, 5, requires_grad=True)
    h = x * 1
    y = CF.conv2d(h, chainrule.randn(4, 3, 3, 3, requires_grad=True))
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "x_shape,w_shape,kwargs",
    [
        ((40, 1, 12, 12), (6, 1, 5, 5), dict(padding=2)),  # LeNet's first layer: 6 x 25 per sample
        ((40, 4, 7, 6), (6, 2, 3, 3), dict(groups=2, stride=2)),
        ((40, 3, 5, 5), (40, 3, 3, 3), dict(padding=1)),  # 40 x 27 > 1024: one GEMM per chunk
    ],
)
def test_weight_gradient_per_sample_products(dtype, x_shape, w_shape, kwargs, monkeypatch):
    """A small weight over chunks of 8 or more samples: the weight gradient as one product per
    sample, summed (kernels/conv.py: BLAS runs tiny results over a long inner dimension slowly).
    The workspace holds 10 samples' windows, so the batch of 40 is chunked, not done whole."""
    out_hw = torch.nn.functional.conv2d(
        torch.zeros((1,) + x_shape[1:]), torch.zeros(w_shape), **kwargs
    ).shape[2:]
    pad = kwargs.get("padding", 0)
    padded = x_shape[1] * (x_shape[2] + 2 * pad) * (x_shape[3] + 2 * pad)
    windows = x_shape[1] * w_shape[2] * w_shape[3] * out_hw[0] * out_hw[1]
    monkeypatch.setattr(K, "WORKSPACE_BYTES", 10 * (windows + padded) * np.dtype(dtype).itemsize)
    monkeypatch.setattr(K, "WHOLE_BYTES", 2 * K.WORKSPACE_BYTES)
    whole_calls = []
    monkeypatch.setattr(K.whole, "conv_weight_array", lambda *a: whole_calls.append(a))
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    grads = []
    for lib in (chainrule, torch):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.conv2d(xt, wt, **kwargs)
        (y * y).sum().backward()
        grads.append((wt.grad.numpy(), xt.grad.numpy()))
    tol = 1e-10 if dtype == np.float64 else 2e-4
    for ours, theirs in zip(grads[0], grads[1]):
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol * np.abs(theirs).max())
    assert not whole_calls


@pytest.mark.parametrize("stride", [1, 2])
def test_small_problems_take_the_whole_batch_kernels(stride, monkeypatch):
    """A LeNet-sized layer (windows within twice the workspace) runs conv_whole's one-matrix
    kernels, forward, weight and input gradient, and matches torch (the direct weight gradient
    that LeNet's layer takes with numba on is tests/nn/test_conv_direct.py's)."""
    monkeypatch.setattr(K, "DIRECT_MAX_CHANNELS_WEIGHT", {})
    ran = []
    for name in ("conv_array", "conv_weight_array", "conv_transpose_array"):
        fn = getattr(K.whole, name)
        monkeypatch.setattr(K.whole, name, lambda *a, _fn=fn, _name=name: ran.append(_name) or _fn(*a))
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((16, 6, 14, 14)), rng.standard_normal((16, 6, 5, 5))
    b = rng.standard_normal(16)
    results = []
    for lib in (chainrule, torch):
        xt, wt, bt = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        y = lib.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=1)
        (y * y).sum().backward()
        results.append([t.detach().numpy() for t in (y, xt.grad, wt.grad, bt.grad)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10 * np.abs(theirs).max())
    assert set(ran) == {"conv_array", "conv_weight_array", "conv_transpose_array"}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("shape", [(8, 16, 32, 32), (64, 32, 32, 32)])  # whole batch (halves); lanes
def test_forked_child_runs_the_threaded_kernels(shape) -> None:
    """A child forked after the worker pools started makes its own (the parent's threads do not
    exist in it): its convolution finishes and matches the parent's."""
    rng = np.random.default_rng(5)
    x = chainrule.tensor(rng.standard_normal(shape).astype(np.float32))
    w = chainrule.tensor(rng.standard_normal((shape[1], shape[1], 3, 3)).astype(np.float32))
    y = CF.conv2d(x, w, padding=1).numpy()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report whether it matched, then leave without pytest's cleanup
        try:
            ok = np.array_equal(CF.conv2d(x, w, padding=1).numpy(), y)
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child's convolution did not finish")
    assert os.read(read, 1) == b"1"
    os.close(read)


def test_lanes_restore_the_blas_thread_count() -> None:
    """The lanes run BLAS single-threaded while they work, then give back the user's count, also
    when two user threads run convolutions at once."""
    import threading

    before = chainrule.get_num_threads()
    chainrule.set_num_threads(2)
    try:
        rng = np.random.default_rng(6)
        x = chainrule.tensor(rng.standard_normal((64, 16, 32, 32)).astype(np.float32))
        w = chainrule.tensor(rng.standard_normal((16, 16, 3, 3)).astype(np.float32))
        expect = torch.nn.functional.conv2d(torch.tensor(x.numpy()), torch.tensor(w.numpy()), padding=1)
        results = []

        def run() -> None:
            results.append(CF.conv2d(x, w, padding=1).numpy())

        threads = [threading.Thread(target=run) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert chainrule.get_num_threads() == 2
        for r in results:
            np.testing.assert_allclose(r, expect.numpy(), rtol=1e-4, atol=1e-4)
    finally:
        chainrule.set_num_threads(before)


def test_whole_batch_kernels_run_blas_single_threaded(monkeypatch) -> None:
    """conv_whole's GEMMs (too small to share between two BLAS threads) run with NumPy's BLAS at
    one thread; the user's count comes back afterwards, also when the kernel raises."""
    from chainrule._threads import numpy_blas
    from chainrule.kernels.lanes import one_blas_thread

    blas = numpy_blas()
    if blas is None:
        pytest.skip("needs NumPy's OpenBLAS")
    before = chainrule.get_num_threads()
    chainrule.set_num_threads(2)
    try:
        seen = []
        for name in ("conv_array", "conv_weight_array", "conv_transpose_array"):
            fn = getattr(K.whole, name)
            spy = lambda *a, _fn=fn: seen.append(blas.get_num_threads()) or _fn(*a)  # noqa: E731
            monkeypatch.setattr(K.whole, name, spy)
        rng = np.random.default_rng(7)
        x, w = rng.standard_normal((8, 4, 10, 10)), rng.standard_normal((6, 4, 1, 1))
        results = []
        for lib in (chainrule, torch):
            xt, wt = (lib.tensor(a, requires_grad=True) for a in (x, w))
            y = lib.nn.functional.conv2d(xt, wt, stride=2)
            (y * y).sum().backward()
            results.append([t.detach().numpy() for t in (y, xt.grad, wt.grad)])
        for ours, theirs in zip(*results):
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10 * np.abs(theirs).max())
        assert sorted(seen) == [1, 1, 1]
        assert chainrule.get_num_threads() == 2
        with pytest.raises(RuntimeError), one_blas_thread():
            assert blas.get_num_threads() == 1
            raise RuntimeError
        assert chainrule.get_num_threads() == 2
    finally:
        chainrule.set_num_threads(before)
