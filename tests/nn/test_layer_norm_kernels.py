"""Layer norm's and group norm's row kernels (kernels/normalization.py, compiled in
kernels/_jit_layernorm.py) against torch, on the NumPy path and the compiled one: every subset of
gradients, rows split over two threads, non-contiguous inputs, float32 and float64, NaN and inf."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

pytestmark = pytest.mark.usefixtures("jit_path")


def _layer_norm(x, w, b, g, wanted, normalized, dtype):
    results = []
    for lib in (chainrule, torch):
        ts = [
            None if a is None else lib.tensor(a.astype(dtype), requires_grad=r)
            for a, r in zip((x, w, b), wanted)
        ]
        y = lib.nn.functional.layer_norm(ts[0], normalized, ts[1], ts[2], eps=1e-5)
        wrt = [t for t, r in zip(ts, wanted) if t is not None and r]
        results.append(
            [y.detach().numpy()] + [t.numpy() for t in lib.autograd.grad(y, wrt, lib.tensor(g.astype(dtype)))]
        )
    return results


def _close(ours, theirs, dtype):
    rtol, atol = (1e-9, 1e-10) if dtype == np.float64 else (2e-4, 2e-5)
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(
            a, b, rtol=rtol, atol=atol * max(1.0, float(np.nanmax(np.abs(b)))), equal_nan=True
        )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
def test_layer_norm_two_threads_and_one(dtype, affine):
    """(2100, 192): 403K elements, beyond halves.MIN_ELEMENTS, and a row count no chunk divides."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2100, 192)) * 2 + 1
    w = rng.standard_normal(192) if affine in ("both", "weight") else None
    b = rng.standard_normal(192) if affine in ("both", "bias") else None
    g = rng.standard_normal(x.shape)
    wanted = (True, w is not None, b is not None)
    before = chainrule.get_num_threads()
    try:
        chainrule.set_num_threads(2)
        two = _layer_norm(x, w, b, g, wanted, (192,), dtype)
        chainrule.set_num_threads(1)
        one = _layer_norm(x, w, b, g, wanted, (192,), dtype)
    finally:
        chainrule.set_num_threads(before)
    _close(*two, dtype)
    _close(two[0], one[0], dtype)  # (dw, db: the halves' partial sums round differently)


@pytest.mark.parametrize(
    "wanted", [(True, False, False), (False, True, False), (False, False, True), (False, True, True)]
)
def test_each_gradient_alone(wanted):
    rng = np.random.default_rng(1)
    x, w, b, g = (
        rng.standard_normal((6, 7, 5)),
        rng.standard_normal(5),
        rng.standard_normal(5),
        rng.standard_normal((6, 7, 5)),
    )
    _close(*_layer_norm(x, w, b, g, wanted, (5,), np.float32), np.float32)


def test_non_contiguous_input_and_two_normalized_dims():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 4, 6)).transpose(2, 0, 1)  # (6, 5, 4), not C-contiguous
    w, b, g = rng.standard_normal((5, 4)), rng.standard_normal((5, 4)), rng.standard_normal((6, 5, 4))
    _close(*_layer_norm(x, w, b, g, (True, True, True), (5, 4), np.float64), np.float64)


def test_special_values_stay_in_their_rows():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 9))
    x[1, 3], x[2, 0] = np.nan, np.inf
    w, b, g = rng.standard_normal(9), rng.standard_normal(9), rng.standard_normal((4, 9))
    ours, theirs = _layer_norm(x, w, b, g, (True, False, False), (9,), np.float32)
    _close(ours, theirs, np.float32)
    assert np.isnan(ours[0][1]).all() and not np.isnan(ours[0][[0, 3]]).any()


def test_group_norm_rows():
    rng = np.random.default_rng(4)
    x, w, b, g = (
        rng.standard_normal((3, 6, 4, 5)),
        rng.standard_normal(6),
        rng.standard_normal(6),
        rng.standard_normal((3, 6, 4, 5)),
    )
    results = []
    for lib in (chainrule, torch):
        ts = [lib.tensor(a.astype(np.float32), requires_grad=True) for a in (x, w, b)]
        y = lib.nn.functional.group_norm(ts[0], 3, ts[1], ts[2])
        results.append(
            [y.detach().numpy()]
            + [t.numpy() for t in lib.autograd.grad(y, ts, lib.tensor(g.astype(np.float32)))]
        )
    _close(*results, np.float32)
