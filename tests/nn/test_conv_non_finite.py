"""Convolutions with an inf or NaN weight (or a transposed convolution's input) beside zero padding.

A padding zero times an inf weight is NaN. Which number torch gives there depends on which of its
CPU kernels runs: oneDNN's direct kernels add nothing for the padding (inf), its reference kernels
(``Slow2d``, ``SlowDilated2d``, the transposed ones) multiply the zeros (NaN). torch picks oneDNN by
the CPU's features (AVX2 or AVX-512 blocks of 8 or 16 channels), the thread count and the shapes,
so no fixed rule reproduces it on every machine. chainrule multiplies the zeros everywhere, as
torch's reference kernels do on every CPU; these tests compare with torch with oneDNN turned off
(``torch.backends.mkldnn.flags(enabled=False)``), as tests/test_extreme_values.py does.

The adjoint (a convolution's input gradient, a transposed convolution's output) has no padding
terms at all: torch's reference kernels scatter ``W^T g`` into the image (col2im) and drop what
falls outside, so no padding zero meets the weight there, and chainrule's stride-1 paths, which
correlate with a zero-padded ``g``, hand a weight that is not finite to col2im.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

pytestmark = [
    pytest.mark.usefixtures("one_torch_thread"),
    pytest.mark.filterwarnings("ignore:TF32 acceleration"),
]


def _conv_both(fn, x, w, value, where, **kwargs):
    """Values and gradients of ``fn`` in both libraries with ``value`` at element 0 of the
    weight or the input; torch with oneDNN off."""
    x, w = x.astype(np.float32), w.astype(np.float32)
    (w if where == "weight" else x).reshape(-1)[0] = value
    results = []
    for lib in (chainrule, torch):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        with torch.backends.mkldnn.flags(enabled=False):
            y = getattr(lib.nn.functional, fn)(xt, wt, **kwargs)
            gy = np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(np.float32)
            y.backward(lib.tensor(gy))
        results.append([y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
        scale = np.abs(theirs[np.isfinite(theirs)]).max(initial=1.0)
        np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=2e-4 * scale)
    return results[1]


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize(
    "fn, x_shape, w_shape, kwargs",
    [
        ("conv2d", (2, 3, 7, 6), (4, 3, 3, 3), dict(stride=2, padding=1)),
        ("conv2d", (2, 2, 5, 7), (3, 2, 3, 2), dict(stride=(1, 2), padding=(2, 0), dilation=(2, 1))),
        ("conv1d", (2, 3, 7), (4, 3, 3), dict(stride=2, padding=1)),
        ("conv2d", (1, 2, 5, 5), (3, 2, 2, 3), dict(stride=2, padding=1)),
        ("conv2d", (2, 4, 5, 5), (6, 2, 3, 3), dict(padding=1, groups=2)),
        ("conv2d", (2, 3, 4, 5), (2, 3, 2, 2), dict(padding=(3, 2), dilation=(1, 2))),
        ("conv2d", (4, 16, 8, 8), (16, 16, 3, 3), dict(padding=1)),
        ("conv_transpose2d", (2, 2, 3, 4), (2, 3, 3, 3), dict(stride=2, padding=1, output_padding=1)),
        ("conv_transpose2d", (1, 2, 3, 3), (2, 2, 2, 2), dict(stride=2, padding=1, output_padding=1)),
    ],
)
def test_non_finite_weight_beside_padding_as_torch(value, fn, x_shape, w_shape, kwargs) -> None:
    rng = np.random.default_rng(0)
    x, w = rng.uniform(-2, 2, x_shape), rng.uniform(-2, 2, w_shape)
    y_torch = _conv_both(fn, x, w, value, "weight", **kwargs)[0]
    if fn != "conv_transpose2d":  # the case meets the padding: the inf weight's windows there are NaN
        assert np.isnan(y_torch).any()


@pytest.mark.parametrize("value", [np.inf, np.nan])
def test_non_finite_transposed_input_weight_gradient_as_torch(value) -> None:
    """conv_transpose's weight gradient correlates its input with the padded output gradient."""
    rng = np.random.default_rng(2)
    x, w = rng.uniform(-2, 2, (2, 2, 4)), rng.uniform(-2, 2, (2, 3, 3))
    _conv_both("conv_transpose1d", x, w, value, "input", stride=3, padding=1)


@pytest.mark.usefixtures("jit_path")
@pytest.mark.parametrize("whole", [True, False])
@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize(
    "fn, x_shape, w_shape, kwargs",
    [
        ("conv2d", (2, 3, 5, 6), (3, 1, 3, 3), dict(padding=1, groups=3)),  # depthwise
        ("conv2d", (2, 3, 5, 6), (3, 1, 3, 3), dict(padding=2, dilation=2, groups=3)),
        ("conv1d", (2, 3, 7), (3, 1, 3), dict(padding=1, groups=3)),
        ("conv3d", (2, 3, 4, 5, 4), (3, 1, 3, 3, 3), dict(padding=1, groups=3)),
        ("conv2d", (2, 3, 5, 5), (2, 3, 3, 3), dict(padding=1)),  # few outputs: the correlation path
        ("conv2d", (2, 4, 5, 5), (6, 2, 3, 3), dict(padding=1, groups=2)),
        ("conv_transpose2d", (2, 3, 4, 5), (3, 1, 3, 3), dict(padding=1, groups=3)),
        ("conv_transpose2d", (2, 3, 4, 5), (3, 2, 3, 3), dict(padding=1)),
        ("conv_transpose1d", (2, 3, 6), (3, 2, 3), dict(padding=1)),
    ],
)
def test_stride_one_adjoint_adds_no_padding_terms(
    value, fn, x_shape, w_shape, kwargs, whole, monkeypatch
) -> None:
    """A convolution's input gradient (and a transposed convolution's output) at stride 1 is the
    adjoint, which has no term for the padding: torch's reference kernels scatter ``W^T g``
    (col2im), so a padding zero never meets the inf weight. chainrule's stride-1 path correlates
    with a zero-padded ``g`` instead, and takes col2im when the weight is not finite (depthwise:
    the multiply-adds into a padded image). ``whole=False`` turns off the whole-batch kernels,
    so that small shapes take the chunked paths that large ones take."""
    from chainrule.kernels import conv as kernels_conv

    if not whole:
        monkeypatch.setattr(kernels_conv, "WHOLE_BYTES", 0)
    rng = np.random.default_rng(3)
    x, w = rng.uniform(-2, 2, x_shape), rng.uniform(-2, 2, w_shape)
    _conv_both(fn, x, w, value, "weight", **kwargs)
