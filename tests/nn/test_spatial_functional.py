"""nn.functional's spatial ops against torch: outputs, input (and weight / grid) gradients and
second derivatives over odd, non-square sizes, unbatched and empty-batch inputs, float32,
non-contiguous inputs and torch's errors (tests/nn/spatial_oracle.py compares)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import same_or_same_error
from spatial_oracle import check

import chainrule

RNG = np.random.default_rng(0)


def rand(*shape) -> np.ndarray:
    return RNG.standard_normal(shape)


X3, X4, X5 = rand(2, 3, 7), rand(2, 3, 5, 7), rand(2, 2, 3, 4, 5)


# ---- pad ----------------------------------------------------------------------------------------
PADS = [(1, 2), (0, 3, 2, 1), (2, -1, 1, 0), (-1, 2, -2, 1), (1, 1, 1, 1, 1, 1), (3, 3), (5, 0), (-7, 0)]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", PADS, ids=str)
@pytest.mark.parametrize("x", [X3, X4, X5, X3[0]], ids=["3d", "4d", "5d", "2d"])
def test_pad(mode, pad, x) -> None:
    check("pad", x, pad, mode=mode)


def test_pad_value_dtype_and_edge_cases() -> None:
    check("pad", X4, (1, 2, 0, 1), value=-2.5)
    check("pad", X4, (1, 2), value=float("inf"), grad=False)
    check("pad", X4, (1, 2, 1, 1), mode="reflect", dtype="float32")
    check("pad", np.arange(6).reshape(2, 3), (1, 1), value=2.7)  # ints: the value truncated
    check("pad", rand(0, 3, 4), (1, 2), mode="reflect")  # empty batch
    check("pad", rand(3), (2, 1))
    check("pad", rand(2, 0, 3), (1, 1), mode="reflect")  # torch refuses empty non-batch dims
    check("pad", X4, (1,))
    check("pad", X4, (1, 1) * 5)
    check("pad", X4, (1, 1), mode="wrap")
    check("pad", X3, (1, 2), mode="reflect", value=1.0)
    check("pad", X4[0, 0], (1, 1, 1, 1), mode="replicate")  # 2-d input, 4 amounts: refused
    check("pad", X3, (7, 0), mode="reflect")
    check("pad", X3, (8, 0), mode="circular")
    check("pad", X3, (-7, 0), mode="replicate")


def test_pad_non_contiguous_input() -> None:
    def call(lib, x):
        return lib.nn.functional.pad(x.transpose(-1, -2), (1, 2, 2, 1), mode="reflect")

    check("pad", X4, call=call)


def test_constant_pad_nd() -> None:
    check("constant_pad_nd", X4, (1, -2, 3, 0), 1.5, call=lambda lib, x, p, v: lib.constant_pad_nd(x, p, v))


# ---- interpolate --------------------------------------------------------------------------------
CASES = [
    ("nearest", X3, dict(scale_factor=1.7)),
    ("nearest", X4, dict(scale_factor=(2, 0.6))),
    ("nearest", X5, dict(size=(4, 2, 9))),
    ("nearest", X4, dict(scale_factor=2.1)),  # output 2x: torch takes i // 2
    ("nearest-exact", X4, dict(size=(9, 4))),
    ("nearest-exact", X3, dict(scale_factor=0.45)),
    ("linear", X3, dict(scale_factor=2.5)),
    ("linear", X3, dict(size=3, align_corners=True)),
    ("linear", X3, dict(size=1, align_corners=True)),
    ("bilinear", X4, dict(size=(8, 3))),
    ("bilinear", X4, dict(scale_factor=1.0)),
    ("bilinear", X4, dict(scale_factor=(1.5, 0.7), align_corners=True)),
    ("bilinear", X4, dict(scale_factor=1.3, recompute_scale_factor=True)),
    ("bicubic", X4, dict(size=(9, 4))),
    ("bicubic", X4, dict(scale_factor=0.5, align_corners=True)),
    ("bicubic", X4, dict(scale_factor=(3, 1.2))),
    ("trilinear", X5, dict(size=(5, 3, 7))),
    ("trilinear", X5, dict(scale_factor=1.5, align_corners=True)),
    ("area", X3, dict(size=4)),
    ("area", X4, dict(scale_factor=0.5)),
    ("area", X5, dict(size=(2, 3, 4))),
]


@pytest.mark.parametrize(
    "mode, x, kwargs", CASES, ids=lambda v: str(v) if not isinstance(v, np.ndarray) else ""
)
def test_interpolate(mode, x, kwargs) -> None:
    check("interpolate", x, mode=mode, **kwargs)


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic", "area"])
def test_interpolate_float32_and_empty_batch(mode) -> None:
    check("interpolate", X4, size=(7, 9), mode=mode, dtype="float32")
    check("interpolate", rand(0, 3, 4, 5), size=(7, 9), mode=mode)


@pytest.mark.parametrize(
    "x, kwargs",
    [
        (X4, dict(size=(3, 3), scale_factor=2)),
        (X4, dict()),
        (X4, dict(size=(3, 3, 3))),
        (X4, dict(scale_factor=(2, 2, 2))),
        (X4, dict(size=3, mode="linear")),
        (X3, dict(size=3, mode="bilinear")),
        (X5, dict(size=3, mode="bicubic")),
        (X4, dict(size=3, mode="nearest", align_corners=True)),
        (X4, dict(size=3, mode="bogus")),
        (X4, dict(size=(3, 3), recompute_scale_factor=True)),
        (X4, dict(size=(0, 3))),
        (X4, dict(scale_factor=0.1)),
        (rand(3, 4), dict(size=3)),
    ],
    ids=str,
)
def test_interpolate_errors(x, kwargs) -> None:
    check("interpolate", x, **kwargs)


def test_interpolate_integer_nearest_and_non_contiguous() -> None:
    check("interpolate", np.arange(24).reshape(1, 2, 3, 4), scale_factor=2)  # torch: not for int64
    check("interpolate", np.arange(24, dtype=np.uint8).reshape(1, 2, 3, 4), scale_factor=2)

    def call(lib, x):
        return lib.nn.functional.interpolate(x.transpose(2, 3), size=(5, 4), mode="bilinear")

    check("interpolate", X4, call=call)


def test_upsample_aliases() -> None:
    with pytest.warns(UserWarning, match="deprecated"):
        chainrule.nn.functional.upsample(chainrule.tensor(X4), scale_factor=2)
    for name in ("upsample_nearest", "upsample_bilinear"):
        with pytest.warns(UserWarning):
            check(name, X4, size=(6, 9))


# ---- grid_sample / affine_grid ---------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_2d(mode, padding_mode, align_corners) -> None:
    grid = RNG.uniform(-1.4, 1.4, (2, 3, 4, 2))
    check("grid_sample", X4, grid, mode=mode, padding_mode=padding_mode, align_corners=align_corners)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_3d(mode, padding_mode) -> None:
    grid = RNG.uniform(-1.3, 1.3, (2, 2, 3, 2, 3))
    check("grid_sample", X5, grid, mode=mode, padding_mode=padding_mode, align_corners=False)


def test_grid_sample_float32_empty_and_errors() -> None:
    grid = RNG.uniform(-1, 1, (2, 3, 4, 2))
    check("grid_sample", X4, grid, dtype="float32", second=False)
    check("grid_sample", rand(0, 3, 4, 5), RNG.uniform(-1, 1, (0, 2, 2, 2)))
    check("grid_sample", X4, grid, mode="area")
    check("grid_sample", X4, grid, padding_mode="wrap")
    check("grid_sample", X4, grid[:1])
    check("grid_sample", X4, RNG.uniform(-1, 1, (2, 3, 4, 3)))
    check("grid_sample", X5, RNG.uniform(-1, 1, (2, 2, 2, 2, 3)), mode="bicubic")
    check("grid_sample", X3, RNG.uniform(-1, 1, (2, 3, 2)))


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid(align_corners) -> None:
    check("affine_grid", rand(2, 2, 3), (2, 3, 4, 5), align_corners=align_corners)
    check("affine_grid", rand(2, 3, 4), (2, 1, 3, 2, 4), align_corners=align_corners)
    check("affine_grid", rand(1, 2, 3), (1, 1, 1, 3), align_corners=False)
    check("affine_grid", rand(2, 2, 3), (2, 3, 4, 5, 6))
    check("affine_grid", rand(2, 3, 3), (2, 3, 4, 5))
    check("affine_grid", rand(2, 2, 3), (2, 3, 4))
    check("affine_grid", rand(2, 2, 3), (2, 3, 0, 5))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_of_the_identity_is_torchs_to_the_bit(dtype, align_corners) -> None:
    # The spatial transformer starts from theta = identity, whose grid points are exactly pixel
    # centres: a coordinate one ulp off (NumPy's linspace, or (n - 1) / n folded into one
    # product) moved grid_sample's gradient to the neighbouring pixel pair.
    theta = np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]] * 2)
    for size in [(2, 1, 7, 28), (2, 1, 24, 100), (2, 3, 5, 2000)]:
        ours = chainrule.nn.functional.affine_grid(
            chainrule.tensor(theta, dtype=getattr(chainrule, dtype)), size, align_corners=align_corners
        )
        theirs = torch.nn.functional.affine_grid(
            torch.tensor(theta, dtype=getattr(torch, dtype)), size, align_corners=align_corners
        )
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_grid_sample_gradient_through_an_identity_affine_grid() -> None:
    x = RNG.standard_normal((2, 1, 28, 28)).astype(np.float32)
    weight = RNG.standard_normal((2, 1, 28, 28)).astype(np.float32)

    def theta_grad(lib) -> np.ndarray:
        F = lib.nn.functional
        theta = lib.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]] * 2, requires_grad=True)
        out = F.grid_sample(
            lib.tensor(x), F.affine_grid(theta, (2, 1, 28, 28), align_corners=False), align_corners=False
        )
        (out * lib.tensor(weight)).sum().backward()
        return theta.grad.numpy()

    # float32 sums of 784 products: rounding of the summation order only
    np.testing.assert_allclose(theta_grad(chainrule), theta_grad(torch), rtol=1e-4, atol=1e-3)


def test_affine_grid_feeds_grid_sample() -> None:
    def call(lib, x, theta):
        F = lib.nn.functional
        return F.grid_sample(x, F.affine_grid(theta, (2, 3, 4, 6), align_corners=False), align_corners=False)

    check("grid_sample", X4, rand(2, 2, 3) * 0.5, call=call)


# ---- unfold / fold / shuffles -----------------------------------------------------------------------
@pytest.mark.parametrize("args", [(2,), ((2, 3),), ((2, 3), 2, 1, (1, 2)), (3, 1, 2, 2), (1,)], ids=str)
def test_unfold_fold(args) -> None:
    check("unfold", X4, *args)
    check("unfold", X4[0], *args)
    blocks = torch.nn.functional.unfold(torch.tensor(X4), *args).numpy()
    check("fold", blocks, (5, 7), *args)
    check("fold", blocks[0], (5, 7), *args)


def test_unfold_fold_errors_and_empty() -> None:
    check("unfold", rand(0, 2, 4, 4), 3)
    check("fold", rand(0, 8, 9), (4, 4), 2)
    check("unfold", X3, 2)
    check("unfold", X4, 6)
    check("fold", rand(2, 5, 9), (4, 4), 2)
    check("fold", rand(2, 4, 8), (4, 4), 2)
    check("fold", rand(1, 4, 9, 2), (4, 4), 2)


def test_pixel_and_channel_shuffle() -> None:
    check("pixel_shuffle", rand(2, 8, 3, 5), 2)
    check("pixel_shuffle", rand(2, 1, 9, 2, 3), 3)
    check("pixel_unshuffle", rand(2, 2, 4, 6), 2)
    check("pixel_unshuffle", rand(3, 6, 9), 3)
    check("channel_shuffle", rand(2, 6, 3), 3)
    check("channel_shuffle", rand(2, 6, 3, 2, 2), 2)
    check("pixel_shuffle", rand(0, 8, 3, 5), 2, grad=False)  # (torch's backward fails on it)
    for name, x, r in [
        ("pixel_shuffle", rand(2, 3), 2),
        ("pixel_shuffle", rand(5, 3, 3), 2),
        ("pixel_shuffle", rand(4, 3, 3), 0),
        ("pixel_unshuffle", rand(4, 3, 3), 2),
        ("channel_shuffle", rand(2, 6), 2),
        ("channel_shuffle", rand(2, 6, 3), 4),
        ("channel_shuffle", rand(2, 6, 3), 0),
    ]:
        check(name, x, r)


# ---- 3-d convolution ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "w_shape, kwargs",
    [
        ((3, 2, 2, 3, 2), {}),
        ((4, 1, 3, 2, 3), dict(stride=(2, 1, 2), padding=(1, 0, 2), dilation=(1, 2, 1), groups=2)),
        ((2, 2, 2, 2, 3), dict(padding="same", dilation=(2, 1, 1))),
        ((2, 2, 1, 1, 1), dict(padding="valid", stride=3)),
    ],
    ids=str,
)
def test_conv3d(w_shape, kwargs) -> None:
    check("conv3d", X5, rand(*w_shape), rand(w_shape[0]), **kwargs)
    check("conv3d", X5[0], rand(*w_shape), **kwargs)


@pytest.mark.parametrize(
    "w_shape, kwargs",
    [
        ((2, 3, 2, 3, 2), {}),
        (
            (2, 2, 3, 2, 3),
            dict(stride=(2, 1, 3), padding=(1, 0, 2), output_padding=(1, 0, 2), dilation=(1, 2, 1)),
        ),
        ((2, 1, 2, 2, 2), dict(stride=2, groups=2)),
    ],
    ids=str,
)
def test_conv_transpose3d(w_shape, kwargs) -> None:
    check("conv_transpose3d", X5, rand(*w_shape), rand(w_shape[1] * kwargs.get("groups", 1)), **kwargs)
    check("conv_transpose3d", X5[0], rand(*w_shape), **kwargs)


def test_conv3d_float32_empty_and_errors() -> None:
    check("conv3d", X5, rand(3, 2, 2, 2, 2), dtype="float32", second=False)
    check("conv_transpose3d", X5, rand(2, 3, 2, 2, 2), dtype="float32", second=False)
    check("conv3d", rand(0, 2, 3, 4, 5), rand(3, 2, 2, 2, 2))
    check("conv3d", X4, rand(3, 2, 2, 2, 2))
    check("conv3d", X5, rand(3, 3, 2, 2, 2))
    check("conv3d", X5, rand(3, 2, 4, 2, 2))
    check("conv3d", X5, rand(3, 2, 2, 2, 2), stride=2, padding="same")
    check("conv_transpose3d", X5, rand(2, 3, 2, 2, 2), stride=2, output_padding=2)


# ---- pooling ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((2,), {}),
        (((2, 3, 2), (1, 2, 2), 1), dict(ceil_mode=True)),
        ((3, 2, 1, 1), {}),
        (((1, 2, 2), None, 0, (1, 2, 1)), {}),
    ],
    ids=str,
)
def test_max_pool3d(args, kwargs) -> None:
    check("max_pool3d", X5, *args, return_indices=True, **kwargs)
    check("max_pool3d_with_indices", X5[0], *args, **kwargs)


def test_max_pool3d_ties_nan_inf_and_errors() -> None:
    x = np.round(rand(1, 2, 4, 4, 4))  # many ties: the first maximum wins, as in torch
    x[0, 0, 0, 0, 1] = np.nan
    x[0, 1, :2, :2, :2] = -np.inf
    check("max_pool3d", x, 2, 2, 1, return_indices=True, second=False)
    check("max_pool3d", rand(0, 2, 4, 4, 4), 2)
    check("max_pool3d", X4, 2)
    check("max_pool3d", X5, 2, padding=2)
    check("max_pool3d", X5, 9)
    check("max_pool3d", X5, 2, dtype="float32")


@pytest.mark.parametrize(
    "args",
    [
        (2,),
        (3, 2, 1),
        ((2, 3, 2), (1, 2, 3), 1, True, False),
        ((3, 2, 3), 2, 1, True, True, 5),
        (2, 1, 0, False, False, 3),
    ],
    ids=str,
)
def test_avg_pool3d(args) -> None:
    check("avg_pool3d", X5, *args)
    check("avg_pool3d", X5[0], *args)


def test_avg_pool3d_float32_and_errors() -> None:
    check("avg_pool3d", X5, 2, dtype="float32")
    check("avg_pool3d", rand(0, 2, 3, 4, 5), 2)
    check("avg_pool3d", X5, 2, padding=2)
    check("avg_pool3d", X5, 2, divisor_override=0)


@pytest.mark.parametrize(
    "nd, size", [(1, 4), (1, 7), (2, (4, 3)), (2, (None, 2)), (3, (2, 3, 4)), (3, 1)], ids=str
)
def test_adaptive_pools(nd, size) -> None:
    x = {1: X3, 2: X4, 3: X5}[nd]
    check(f"adaptive_max_pool{nd}d", x, size, return_indices=True)
    check(f"adaptive_max_pool{nd}d_with_indices", x[0], size)
    check(f"adaptive_max_pool{nd}d", x, size)
    if nd == 3:
        check("adaptive_avg_pool3d", x, size)
        check("adaptive_avg_pool3d", x[0], size)


def test_adaptive_errors_and_empty() -> None:
    check("adaptive_max_pool2d", rand(0, 3, 4, 5), 2)
    check("adaptive_avg_pool3d", rand(0, 2, 3, 4, 5), 2)
    check("adaptive_max_pool2d", X5, 2)
    check("adaptive_max_pool2d", X4, 2, dtype="float32")


@pytest.mark.parametrize(
    "nd, p, args",
    [(1, 2.0, (3,)), (1, 1.5, (2, 1)), (2, 2, ((2, 3),)), (2, 3, (2, 1, True)), (3, 2, (2,))],
    ids=str,
)
def test_lp_pool(nd, p, args) -> None:
    x = np.abs({1: X3, 2: X4, 3: X5}[nd]) + 0.1
    check(f"lp_pool{nd}d", x, p, *args)


def test_fractional_max_pool() -> None:
    samples = RNG.random((2, 3, 2))
    check("fractional_max_pool2d", X4, 2, (3, 4), return_indices=True, _random_samples=samples)
    check("fractional_max_pool2d", X4, (2, 3), output_ratio=(0.6, 0.5), _random_samples=samples)
    check("fractional_max_pool2d_with_indices", X4[0], 2, (4, 6), _random_samples=samples[:1])
    samples3 = RNG.random((2, 2, 3))
    check("fractional_max_pool3d", X5, 2, (2, 3, 4), return_indices=True, _random_samples=samples3)
    check("fractional_max_pool3d_with_indices", X5, (1, 2, 2), (3, 2, 2), _random_samples=samples3)
    check("fractional_max_pool2d", X4, 4, (3, 4), _random_samples=samples)  # windows too large
    check("fractional_max_pool2d", X4, 2)  # neither size nor ratio


def test_fractional_max_pool_draws_from_the_generator() -> None:
    x = chainrule.tensor(rand(2, 3, 9, 9))
    chainrule.manual_seed(3)
    a = chainrule.nn.functional.fractional_max_pool2d(x, 2, (4, 4))
    chainrule.manual_seed(3)
    b = chainrule.nn.functional.fractional_max_pool2d(x, 2, (4, 4))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.shape == (2, 3, 4, 4)


@pytest.mark.parametrize("nd, shape", [(1, (2, 3, 9)), (2, (2, 3, 5, 6)), (3, (2, 2, 5, 4, 6))], ids=str)
def test_max_unpool(nd, shape) -> None:
    def call(lib, x):
        F = lib.nn.functional
        values, indices = getattr(F, f"max_pool{nd}d")(x, 2, return_indices=True)
        unpool = getattr(F, f"max_unpool{nd}d")
        return unpool(values, indices, 2), unpool(values, indices, 2, output_size=x.shape[-nd:])

    check(f"max_unpool{nd}d", rand(*shape), call=call)


def test_max_unpool_errors() -> None:
    values, indices = torch.nn.functional.max_pool2d(torch.tensor(X4), 2, return_indices=True)
    v, i = values.detach().numpy(), indices.numpy()
    check("max_unpool2d", v, i, 2, output_size=(9, 9))
    check("max_unpool2d", v, i[:1], 2)
    check("max_unpool2d", v, i.astype(np.int32), 2)
    check("max_unpool2d", v, i, 2, output_size=(4, 6))  # index 5 * 7 + ... too large for 4 x 6? torch decides


@pytest.mark.parametrize(
    "name, args",
    [
        ("max_pool2d", ((0, 3, 6, 6), 2)),
        ("max_pool2d_with_indices", ((0, 3, 6, 6), 2)),
        ("avg_pool2d", ((0, 3, 6, 6), 3, 2, 1)),
        ("max_pool1d", ((0, 3, 6), 2)),
        ("avg_pool1d", ((0, 3, 6), 2)),
        ("adaptive_avg_pool2d", ((0, 3, 6, 6), (2, 3))),
        ("adaptive_avg_pool1d", ((0, 3, 6), 4)),
        ("max_pool2d", ((2, 0, 4, 4), 2)),  # an empty channel dim: refused, as torch
        ("conv2d", ((0, 2, 5, 5), (3, 2, 3, 3))),
        ("conv_transpose2d", ((0, 2, 5, 5), (2, 3, 3, 3))),
    ],
    ids=str,
)
def test_empty_batch_of_the_2d_ops(name, args) -> None:
    shape, *rest = args
    arrays = [rand(*shape)] + [
        rand(*r) if isinstance(r, tuple) and name.startswith("conv") else r for r in rest
    ]
    check(name, *arrays)


@pytest.mark.parametrize(
    "name, extra",
    [
        ("max_pool3d", (2,)),
        ("avg_pool3d", (2,)),
        ("adaptive_max_pool3d", (3,)),
        ("adaptive_avg_pool3d", (3,)),
        ("interpolate", (None, 1.5, "trilinear")),
        ("pad", ((1, 1, 2, 0, 1, 1), "replicate")),
    ],
    ids=str,
)
def test_non_contiguous_5d_inputs(name, extra) -> None:
    """A transposed (non-contiguous) input gives torch's values and gradients."""

    def call(lib, x):
        return getattr(lib.nn.functional, name)(x.transpose(2, 4), *extra)

    check(name, X5, call=call)


def test_non_contiguous_conv3d_and_grid_sample() -> None:
    def conv(lib, x, w):
        return lib.nn.functional.conv3d(x.transpose(3, 4), w.transpose(2, 3), padding=1)

    check("conv3d", X5, rand(3, 2, 2, 2, 3), call=conv)

    def sample(lib, x, g):
        return lib.nn.functional.grid_sample(x.transpose(2, 3), g.flip(-1), align_corners=True)

    check("grid_sample", X4, RNG.uniform(-1, 1, (2, 3, 2, 2)), call=sample)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(size=(4, 5)),
        dict(scale_factor=0.3),
        dict(size=(20, 7)),
        dict(scale_factor=(2.5, 0.4)),
        dict(size=(5, 3), align_corners=True),
        dict(size=(1, 1)),
        dict(size=(13, 11)),
    ],
    ids=str,
)
def test_interpolate_antialias(mode, kwargs) -> None:
    x = rand(2, 3, 13, 11)
    check("interpolate", x, mode=mode, antialias=True, **kwargs)
    check("interpolate", x, mode=mode, antialias=True, dtype="float32", second=False, **kwargs)


def test_interpolate_antialias_refused_where_torch_refuses() -> None:
    check("interpolate", X4[0], size=3, mode="bilinear", antialias=True)
    check("interpolate", X4, size=3, mode="nearest", antialias=True)
    check("interpolate", X3, size=3, mode="linear", antialias=True)


# ---- empty inputs -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "mode, shape",
    [
        ("bilinear", (2, 0, 4, 5)),  # no channels: torch refuses all but 'area'
        ("linear", (0, 0, 7)),
        ("nearest", (2, 0, 7)),
        ("bicubic", (2, 0, 4, 5)),
        ("trilinear", (2, 0, 4, 5, 3)),
        ("bilinear", (0, 3, 4, 5)),  # an empty batch: fine
        ("area", (2, 0, 4, 4)),  # adaptive pooling's rule (its backward refuses)
    ],
)
def test_interpolate_of_empty_inputs_as_torch(mode, shape) -> None:
    factor = 0.5 if mode == "area" else 2

    def resample(m, x):
        return m.nn.functional.interpolate(x, scale_factor=factor, mode=mode)

    same_or_same_error(
        resample, [shape], fragments=["interpolate", str(list(shape))] if mode != "area" else []
    )
