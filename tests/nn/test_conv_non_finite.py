"""Convolutions with an inf or NaN weight (or a transposed convolution's input) beside zero padding.

chainrule's fast kernels multiply the padding's zeros (``0 * inf`` is NaN); torch's oneDNN kernels
add nothing there, its im2col paths multiply as chainrule's. ``kernels/conv.py`` picks the summation
over real elements (``kernels/conv_exact.py``) where torch's choice of kernel (``_skips_padding``)
skips the padding. Checked here: the summing kernels against the fast ones on finite inputs
(every geometry, negative padding too), and values and gradients against torch with a non-finite
element, on both sides of torch's choice."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from chainrule.kernels import conv as K
from chainrule.kernels import conv_exact as E

# (the rule of kernels/conv._skips_padding was measured with torch on one thread, as the sweep runs)
pytestmark = pytest.mark.usefixtures("one_torch_thread")

GEOMETRIES = [  # (x shape, w shape, stride, padding, dilation, groups)
    ((2, 3, 7, 6), (4, 3, 3, 3), (2, 2), (1, 1), (1, 1), 1),
    ((2, 4, 6, 7), (6, 2, 3, 2), (1, 2), (2, 0), (2, 1), 2),
    ((3, 3, 5, 6), (3, 1, 3, 3), (1, 1), (1, 2), (1, 1), 3),
    ((1, 2, 5, 5), (3, 2, 2, 3), (2, 1), (3, 1), (1, 2), 1),
    ((2, 2, 6, 6), (4, 2, 3, 3), (1, 1), (-1, 1), (1, 1), 1),  # (a crop: the transpose's padding)
]


def _out_hw(x_shape, w_shape, stride, padding, dilation) -> tuple:
    return tuple(
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, k, s, p, d in zip(x_shape[2:], w_shape[2:], stride, padding, dilation)
    )


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_summing_kernels_equal_the_fast_ones_on_finite_inputs(geometry) -> None:
    x_shape, w_shape, stride, padding, dilation, groups = geometry
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    out_hw = _out_hw(x_shape, w_shape, stride, padding, dilation)
    args = (stride, padding, out_hw, dilation, groups)
    y = E.conv_array(x, w, b, *args)
    np.testing.assert_allclose(y, K.conv_array(x, w, b, *args), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(y.shape)
    np.testing.assert_allclose(
        E.conv_weight_array(x, g, w_shape, stride, padding, dilation, groups),
        K.conv_weight_array(x, g, w_shape, stride, padding, dilation, groups),
        rtol=1e-12,
        atol=1e-12,
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_all_finite(dtype) -> None:
    a = np.ones((3, 4), dtype)
    assert E.all_finite(a)
    a[1, 2] = np.finfo(dtype).max  # squares overflow: looked at one by one, still finite
    with np.errstate(over="ignore"):  # (as inside an op)
        assert E.all_finite(a)
        for value in (np.inf, -np.inf, np.nan):
            a[2, 3] = value
            assert not E.all_finite(a)


def _conv_both(fn, x, w, value, where, **kwargs):
    """Values and gradients of ``fn`` in both libraries with ``value`` at ``where`` ('weight' or
    'input') element 0."""
    x, w = x.astype(np.float32), w.astype(np.float32)
    (w if where == "weight" else x).reshape(-1)[0] = value
    results = []
    for lib in (chainrule, torch):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = getattr(lib.nn.functional, fn)(xt, wt, **kwargs)
        gy = np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(np.float32)
        y.backward(lib.tensor(gy))
        results.append([y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()])
    for ours, theirs in zip(*results):
        scale = np.abs(theirs[np.isfinite(theirs)]).max(initial=1.0)
        np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=2e-4 * scale)
    return results[1]


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize(
    "fn, x_shape, w_shape, kwargs, skips",
    [
        # oneDNN's direct kernels: a batch of 2, one group, a depthwise layer, 1-d
        ("conv2d", (2, 3, 7, 6), (4, 3, 3, 3), dict(stride=2, padding=1), True),
        ("conv2d", (2, 3, 5, 6), (3, 1, 3, 3), dict(padding=1, groups=3), True),
        ("conv2d", (2, 2, 5, 7), (3, 2, 3, 2), dict(stride=(1, 2), padding=(2, 0), dilation=(2, 1)), True),
        ("conv1d", (2, 3, 7), (4, 3, 3), dict(stride=2, padding=1), True),
        ("conv_transpose2d", (2, 2, 3, 4), (2, 3, 3, 3), dict(stride=2, padding=1, output_padding=1), True),
        # torch's im2col paths (padding zeros multiplied): one sample, two channels per group,
        # padding as wide as the kernel
        ("conv2d", (1, 2, 5, 5), (3, 2, 2, 3), dict(stride=2, padding=1), False),
        ("conv2d", (2, 4, 5, 5), (6, 2, 3, 3), dict(padding=1, groups=2), False),
        ("conv2d", (2, 3, 4, 5), (2, 3, 2, 2), dict(padding=(3, 2), dilation=(1, 2)), False),
        ("conv_transpose2d", (1, 2, 3, 3), (2, 2, 2, 2), dict(stride=2, padding=1, output_padding=1), False),
    ],
)
def test_non_finite_weight_beside_padding_as_torch(value, fn, x_shape, w_shape, kwargs, skips) -> None:
    rng = np.random.default_rng(0)
    x, w = rng.uniform(-2, 2, x_shape), rng.uniform(-2, 2, w_shape)
    y_torch = _conv_both(fn, x, w, value, "weight", **kwargs)[0]
    if value == np.inf and fn != "conv_transpose2d":  # which of torch's behaviours the case shows
        assert np.isnan(y_torch).any() != skips


@pytest.mark.parametrize("value", [np.inf, np.nan])
def test_non_finite_transposed_input_weight_gradient_as_torch(value) -> None:
    """conv_transpose's weight gradient correlates its input with the padded output gradient."""
    rng = np.random.default_rng(2)
    x, w = rng.uniform(-2, 2, (2, 2, 4)), rng.uniform(-2, 2, (2, 3, 3))
    _conv_both("conv_transpose1d", x, w, value, "input", stride=3, padding=1)
