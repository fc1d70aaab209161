"""softmax and log_softmax over the last dim (compiled in kernels/_jit_softmax.py through
kernels/softmax.py) and cross_entropy on top, against torch, on the NumPy path and the compiled one:
rows beyond the two-thread threshold, other dims, non-contiguous inputs, special values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

pytestmark = pytest.mark.usefixtures("jit_path")


def _both(name, x, g, dim=-1, **kw):
    results = []
    for lib in (chainrule, torch):
        xt = lib.tensor(x, requires_grad=True)
        y = getattr(lib, name)(xt, dim, **kw) if name != "cross_entropy" else None
        y.backward(lib.tensor(g))
        results.append((y.detach().numpy(), xt.grad.numpy()))
    return results


def _close(ours, theirs, dtype=np.float32):
    # (log_softmax's gradient g - exp(y) sum(g) cancels: sums of 1000 float32 rows round to ~1e-5)
    rtol, atol = (2e-5, 2e-5) if dtype == np.float32 else (1e-12, 1e-12)
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, equal_nan=True, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_rows_two_threads_and_one(name, dtype):
    """(700, 1000): 700K elements, beyond halves.MIN_ELEMENTS, in chunks of 65 rows."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((700, 1000)) * 5).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    before = chainrule.get_num_threads()
    try:
        chainrule.set_num_threads(2)
        two = _both(name, x, g)
        chainrule.set_num_threads(1)
        one = _both(name, x, g)[0]
    finally:
        chainrule.set_num_threads(before)
    _close(*two, dtype)
    _close(two[0], one, dtype)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_other_dims_and_non_contiguous(name, dim):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 6, 7)).astype(np.float32)
    g = rng.standard_normal((5, 6, 7)).astype(np.float32)
    _close(*_both(name, x, g, dim))
    results = []
    for lib in (chainrule, torch):
        xt = lib.tensor(x.transpose(2, 0, 1).copy(), requires_grad=True)
        y = getattr(lib, name)(xt.transpose(0, 2), dim)  # a non-contiguous input
        y.backward(lib.tensor(g).transpose(0, 1))  # and gradient
        results.append((y.detach().numpy(), xt.grad.numpy()))
    _close(*results)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_special_values(name):
    inf, nan = np.inf, np.nan
    x = np.array(
        [[nan, 1, 2, 3], [-inf, -inf, -inf, -inf], [-inf, 0, -inf, 5], [1e4, -1e4, 0, 3], [1, 2, 3, 4]]
        + [[2, inf, -inf, 1], [inf, inf, 0, 1]],  # a +inf: the whole row NaN (inf - inf), as torch's
        np.float32,
    )
    g = np.random.default_rng(2).standard_normal(x.shape).astype(np.float32)
    _close(*_both(name, x, g))


def test_cross_entropy_head():
    """The GPT-style and LSTM-style heads: log_softmax's rows, then nll_loss."""
    rng = np.random.default_rng(3)
    for shape in ((300, 256), (70, 1000)):
        x = (rng.standard_normal(shape) * 3).astype(np.float32)
        t = rng.integers(0, shape[1], shape[0])
        results = []
        for lib in (chainrule, torch):
            xt = lib.tensor(x, requires_grad=True)
            loss = lib.nn.functional.cross_entropy(xt, lib.tensor(t))
            loss.backward()
            results.append((loss.detach().numpy(), xt.grad.numpy()))
        _close(*results)


def test_second_derivative():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 5))
    grads = []
    for lib in (chainrule, torch):
        xt = lib.tensor(x, requires_grad=True)
        (gx,) = lib.autograd.grad(
            (lib.log_softmax(xt, -1) * lib.softmax(xt, -1)).sin().sum(), xt, create_graph=True
        )
        grads.append(lib.autograd.grad((gx * gx).sum(), xt)[0].numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape, dim", [((3, 0), -1), ((3, 0), 0), ((0, 5), -1), ((2, 0, 4), 1), ((0,), 0)])
def test_empty_inputs_give_empty_outputs_and_gradients(name, shape, dim):
    """An empty batch or an empty softmax dim: torch returns an empty result and empty gradients
    (a max over an empty dim has no identity: chainrule raised NumPy's ValueError before)."""
    results = []
    for lib in (chainrule, torch):
        x = lib.zeros(shape, requires_grad=True)
        y = getattr(lib.nn.functional, name)(x, dim)
        y.sum().backward()
        results.append((tuple(y.shape), tuple(x.grad.shape), y.dtype == lib.float32))
    assert results[0] == results[1]


def _small_cross_entropy(lib, x, t, create_graph=False, **kw):
    xt = lib.tensor(x, requires_grad=True)
    loss = lib.nn.functional.cross_entropy(xt, lib.tensor(t), **kw)
    (gx,) = lib.autograd.grad(loss, xt, create_graph=create_graph)
    return xt, loss, gx


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_small_cross_entropy_is_torchs(dtype, reduction):
    """The lecture MLP's loss ((32, 10) logits, one compiled call: ops/loss.small_cross_entropy),
    with large, -inf and NaN logits, against torch: value, gradient, torch's two nodes."""
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((32, 10)) * 4).astype(dtype)
    x[1] = 1e4  # a row of large equal logits
    x[3, 0] = -np.inf
    x[4, 5] = np.nan
    x[2, 7] = np.inf  # the whole row's log-probabilities and gradient NaN, as torch's
    t = rng.integers(0, 10, 32)
    results = []
    for lib in (chainrule, torch):
        _, loss, gx = _small_cross_entropy(lib, x, t, reduction=reduction)
        assert loss.grad_fn.name() == "NllLossBackward0"
        assert loss.grad_fn.next_functions[0][0].name() == "LogSoftmaxBackward0"
        results.append((loss.detach().numpy(), gx.numpy()))
    _close(*results, dtype=dtype)
    assert np.isnan(results[0][1][2]).all()
    x = x[5:]  # finite rows only: the values and gradients to rounding
    results = [_small_cross_entropy(lib, x, t[5:])[1:] for lib in (chainrule, torch)]
    results = [tuple(a.detach().numpy() for a in r) for r in results]
    _close(*results, dtype=dtype)


def test_small_cross_entropy_second_derivative_and_other_inputs():
    """create_graph through the two nodes; uint8 targets, a non-contiguous batch, in-range
    ignore_index and out-of-range targets take the general path with torch's results and errors."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((6, 4))
    t = rng.integers(0, 4, 6)
    t[2] = 1
    hessians = []
    for lib in (chainrule, torch):
        xt, _, gx = _small_cross_entropy(lib, x, t, create_graph=True)
        hessians.append(lib.autograd.grad((gx * gx).sum(), xt)[0].numpy())
    np.testing.assert_allclose(hessians[0], hessians[1], rtol=1e-10, atol=1e-12)
    cases = [
        (x, t.astype(np.uint8), {}),
        (np.asfortranarray(x), t, {}),
        (x, t, {"ignore_index": 1}),
    ]
    for xs, ts, kw in cases:
        ours, theirs = (_small_cross_entropy(lib, xs, ts, **kw)[1:] for lib in (chainrule, torch))
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12)
    bad = t.copy()
    bad[3] = 4
    with pytest.raises(IndexError, match="out of bounds"):
        chainrule.nn.functional.cross_entropy(chainrule.tensor(x), chainrule.tensor(bad))


def test_small_cross_entropy_logits_changed_in_place_after_the_loss():
    """torch saves log_softmax's output, not the logits: changing them in place after the loss
    leaves its gradient valid; changing the log-probabilities' base would be caught."""
    x = np.random.default_rng(7).standard_normal((4, 3)).astype(np.float32)
    grads = []
    for lib in (chainrule, torch):
        xt = lib.tensor(x, requires_grad=True)
        h = xt * 1
        loss = lib.nn.functional.cross_entropy(h, lib.tensor([0, 1, 2, 0]))
        with lib.no_grad():
            h.add_(1)
        loss.backward()
        grads.append(xt.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6, atol=1e-7)
