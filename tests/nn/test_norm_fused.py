"""The few-pass batch/layer/group norm kernels (``chainrule.kernels.normalization``) against torch,
first order (the path that runs when create_graph is False; the op specs check the differentiable
one to second order): shapes whose chunks split the batch unevenly, non-contiguous inputs, every
subset of gradients, evaluation statistics, running statistics, float32 and float64, large means."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn.functional as CF
from chainrule.kernels import normalization as kn

pytestmark = pytest.mark.usefixtures("jit_path")  # (batch norm's compiled kernels: _jit_batchnorm)


def _pair(a: np.ndarray, grad: bool = True):
    return chainrule.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


def _grads(call, arrays, grads, dtype, upstream_seed: int = 7):
    """Values and first-order gradients of ``call(lib, *tensors)`` in both libraries."""
    results = []
    for lib, k in ((chainrule, 0), (torch, 1)):
        ts = [None if a is None else _pair(a.astype(dtype), r)[k] for a, r in zip(arrays, grads)]
        out = call(lib, *ts)
        v = np.random.default_rng(upstream_seed).standard_normal(tuple(out.shape)).astype(dtype)
        wrt = [t for t, r in zip(ts, grads) if t is not None and r]
        gs = lib.autograd.grad(out, wrt, lib.tensor(v))
        results.append([out.detach().numpy()] + [g.numpy() for g in gs])
    return results


def _close(ours, theirs, dtype) -> None:
    rtol, atol = (1e-9, 1e-10) if dtype == np.float64 else (2e-4, 2e-5)
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * max(1.0, float(np.abs(b).max())))


BN_SHAPES = [
    (2, 3),
    (5, 4, 7),
    (3, 5, 6, 7),
    (40, 6, 33, 31),
    (2, 3, 2, 3, 4),
    (130, 2, 1, 1),
    (33, 9, 32, 31),
    (65, 5, 81, 80),  # (over 2M elements: the channels split over two threads)
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_torch(shape, affine, training, dtype) -> None:
    rng = np.random.default_rng(sum(shape))
    C = shape[1]
    x = rng.standard_normal(shape) * 2 + 1
    w, b = (rng.standard_normal(C), rng.standard_normal(C)) if affine else (None, None)
    rm, rv = rng.standard_normal(C), rng.random(C) + 0.5

    def call(lib, x, w, b):
        return lib.nn.functional.batch_norm(
            x, lib.tensor(rm.astype(dtype)), lib.tensor(rv.astype(dtype)), w, b, training
        )

    ours, theirs = _grads(call, [x, w, b], [True, affine, affine], dtype)
    _close(ours, theirs, dtype)


@pytest.mark.parametrize("which", [(True, False, False), (False, True, False), (False, False, True)])
def test_batch_norm_each_gradient_alone(which) -> None:
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((9, 4, 5, 6)), rng.standard_normal(4), rng.standard_normal(4)]

    def call(lib, x, w, b):
        return lib.nn.functional.batch_norm(x, None, None, w, b, True)

    ours, theirs = _grads(call, arrays, list(which), np.float64)
    _close(ours, theirs, np.float64)


def test_batch_norm_non_contiguous_input_and_gradient() -> None:
    rng = np.random.default_rng(4)
    base = rng.standard_normal((6, 7, 5, 3))
    w, b = rng.standard_normal(5), rng.standard_normal(5)
    res = []
    for lib in (chainrule, torch):
        xt = lib.tensor(base, requires_grad=True)
        wt, bt = lib.tensor(w, requires_grad=True), lib.tensor(b, requires_grad=True)
        x = xt.permute(0, 2, 3, 1)[:, :, ::2]  # (6, 5, 2, 7), channels strided
        out = lib.nn.functional.batch_norm(x, None, None, wt, bt, True)
        g = lib.tensor(rng.standard_normal((7, 2, 5, 6))).permute(3, 2, 1, 0)  # strided upstream
        gs = lib.autograd.grad(out, [xt, wt, bt], g)
        res.append([out.detach().numpy()] + [t.numpy() for t in gs])
        rng = np.random.default_rng(4)
        rng.standard_normal((6, 7, 5, 3)), rng.standard_normal(5), rng.standard_normal(5)
    _close(res[0], res[1], np.float64)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_module_running_stats(momentum) -> None:
    rng = np.random.default_rng(5)
    ours = chainrule.nn.BatchNorm2d(3, momentum=momentum)
    theirs = torch.nn.BatchNorm2d(3, momentum=momentum)
    for step in range(3):
        x = (rng.standard_normal((4, 3, 5, 5)) * 3 + step).astype(np.float32)
        v = rng.standard_normal((4, 3, 5, 5)).astype(np.float32)  # (sum() alone: gradients ~ 0)
        (ours(chainrule.tensor(x)) * chainrule.tensor(v)).sum().backward()
        (theirs(torch.tensor(x)) * torch.tensor(v)).sum().backward()
    for a, b in (
        (ours.running_mean, theirs.running_mean),
        (ours.running_var, theirs.running_var),
        (ours.weight.grad, theirs.weight.grad),
        (ours.bias.grad, theirs.bias.grad),
    ):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked)


def test_batch_norm_float32_large_mean_like_torch() -> None:
    """Far from zero (mean 1000 std 1): the two-pass variance keeps torch's accuracy."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((16, 4, 8, 8)) + 1000.0
    ours, theirs = _grads(
        lambda lib, x: lib.nn.functional.batch_norm(x, None, None, training=True), [x], [True], np.float32
    )
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=3e-3)


LN_CASES = [((2, 3), (3,)), ((4, 5, 6), (6,)), ((3, 4, 5), (4, 5)), ((700, 96), (96,)), ((2, 1), (1,))]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, normalized", LN_CASES)
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
def test_layer_norm_matches_torch(shape, normalized, affine, dtype) -> None:
    rng = np.random.default_rng(len(shape) + sum(shape))
    x = rng.standard_normal(shape) * 3 - 2
    w = rng.standard_normal(normalized) if affine != "none" else None
    b = rng.standard_normal(normalized) if affine == "both" else None

    def call(lib, x, w, b):
        return lib.nn.functional.layer_norm(x, normalized, w, b)

    ours, theirs = _grads(call, [x, w, b], [True, w is not None, b is not None], dtype)
    _close(ours, theirs, dtype)


@pytest.mark.parametrize("groups", [1, 2, 6])
def test_group_norm_matches_torch(groups) -> None:
    rng = np.random.default_rng(groups)
    arrays = [rng.standard_normal((3, 6, 4, 5)), rng.standard_normal(6), rng.standard_normal(6)]
    ours, theirs = _grads(
        lambda lib, x, w, b: lib.nn.functional.group_norm(x, groups, w, b), arrays, [True] * 3, np.float64
    )
    _close(ours, theirs, np.float64)


def test_chunks_cover_every_row(monkeypatch) -> None:
    """A tiny chunk size (one row or sample per chunk, a ragged last chunk) gives the same result."""
    rng = np.random.default_rng(8)
    x, w, b = rng.standard_normal((7, 3, 5)), rng.standard_normal(3), rng.standard_normal(3)

    def bn(lib, x, w, b):
        return lib.nn.functional.batch_norm(x, None, None, w, b, True)

    expect = _grads(bn, [x, w, b], [True] * 3, np.float64)
    monkeypatch.setattr(kn, "_CHUNK", 3 * 5 * 8 * 2)  # two samples per chunk: 4 chunks for 7
    again = _grads(bn, [x, w, b], [True] * 3, np.float64)
    _close(again[0], expect[0], np.float64)
    y = rng.standard_normal((7, 5))
    ln = [CF.layer_norm(chainrule.tensor(y), (5,)).numpy()]
    monkeypatch.setattr(kn, "_CHUNK", 5 * 8 * 3)
    ln.append(CF.layer_norm(chainrule.tensor(y), (5,)).numpy())
    np.testing.assert_allclose(ln[0], ln[1], rtol=1e-12)


def test_inplace_change_of_input_after_batch_norm_is_caught() -> None:
    x = chainrule.randn(4, 3, 2, 2, requires_grad=True)
    y = x * 1.0
    out = CF.batch_norm(y, None, None, training=True)
    y.add_(1.0)
    with pytest.raises(RuntimeError):
        out.sum().backward()


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("where", ["input", "weight"])
def test_layer_norm_gradient_with_a_non_finite_row_or_weight(value, where) -> None:
    """Where a row's statistics or the weight are not finite, the input gradient takes torch's
    form a g w + b x + c (its NaN pattern: torch's is NaN across such a row, the centred form
    kept infs)."""
    rng = np.random.default_rng(4)
    x, w, b = rng.uniform(-2, 2, (2, 3, 4)), rng.uniform(-2, 2, 4), rng.uniform(-2, 2, 4)
    (x if where == "input" else w).reshape(-1)[0] = value
    g = rng.standard_normal(x.shape)
    results = []
    for lib in (chainrule, torch):
        ins = [lib.tensor(a.astype(np.float32), requires_grad=True) for a in (x, w, b)]
        y = lib.nn.functional.layer_norm(ins[0], (4,), ins[1], ins[2])
        grads = lib.autograd.grad(y, ins, lib.tensor(g.astype(np.float32)))
        results.append([y.detach().numpy()] + [t.numpy() for t in grads])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("n", [4, 9, 32])
def test_layer_and_group_norm_of_an_overflowing_row(n) -> None:
    """A row whose variance overflows float32 (an element of 1e38): the variance is inf, invstd
    1 / sqrt(inf) = 0, so the normalized row is 0 and the output the bias, at every row length.
    (torch's is NaN or this by the row's length: its Welford merge multiplies the overflowed
    square by a zero count, tests/test_extreme_values.py's TORCH_WRONG.) Other rows as torch's."""
    rng = np.random.default_rng(5)
    x = rng.uniform(-2, 2, (2, 2 * n)).astype(np.float32)
    x[0, 0] = 1e38
    w, b = rng.uniform(-2, 2, 2 * n).astype(np.float32), rng.uniform(-2, 2, 2 * n).astype(np.float32)
    xt, wt, bt = (chainrule.tensor(a, requires_grad=True) for a in (x, w, b))
    y = CF.layer_norm(xt, (2 * n,), wt, bt)
    (gx,) = chainrule.autograd.grad(y.sum(), xt)
    np.testing.assert_array_equal(y.detach().numpy()[0], b)
    np.testing.assert_array_equal(np.abs(gx.numpy()[0]), 0)
    theirs = torch.nn.functional.layer_norm(torch.tensor(x[1:]), (2 * n,), torch.tensor(w), torch.tensor(b))
    np.testing.assert_allclose(y.detach().numpy()[1:], theirs.numpy(), rtol=1e-5, atol=1e-5)
    grouped = CF.group_norm(
        chainrule.tensor(x.reshape(2, 2, n)), 2, chainrule.tensor(w[:2]), chainrule.tensor(b[:2])
    )
    np.testing.assert_array_equal(grouped.numpy()[0, 0], np.full(n, b[0]))
