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
        [[nan, 1, 2, 3], [-inf, -inf, -inf, -inf], [-inf, 0, -inf, 5], [1e4, -1e4, 0, 3], [1, 2, 3, 4]],
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
