"""The spatial layers against torch.nn: the same layer built in both libraries (torch's weights
loaded into ours) gives the same outputs, input and parameter gradients and second derivatives;
repr and state_dict keys match torch's."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import compare_layer, layer_pair

import chainrule
import chainrule.nn as cnn

RNG = np.random.default_rng(1)


def rand(*shape) -> np.ndarray:
    return RNG.standard_normal(shape)


X3, X4, X5 = rand(2, 3, 7), rand(2, 3, 5, 6), rand(2, 2, 4, 5, 6)

LAYERS = [
    ("ZeroPad1d", (2,), X3),
    ("ZeroPad2d", ((1, 2, 0, 3),), X4),
    ("ZeroPad3d", (1,), X5),
    ("ConstantPad1d", ((1, 2), 3.5), X3),
    ("ConstantPad2d", (2, -1.0), X4),
    ("ConstantPad3d", ((1, 0, 2, 1, 0, 1), 0.5), X5),
    ("ReflectionPad1d", ((2, 3),), X3),
    ("ReflectionPad2d", ((1, 2, 3, 0),), X4),
    ("ReflectionPad3d", (1,), X5),
    ("ReplicationPad1d", (3,), X3),
    ("ReplicationPad2d", ((1, 2, 3, 4),), X4),
    ("ReplicationPad3d", ((1, 0, 2, 1, 0, 3),), X5),
    ("CircularPad1d", (2,), X3),
    ("CircularPad2d", ((1, 2, 3, 0),), X4),
    ("CircularPad3d", (1,), X5),
    ("Upsample", (None, 2.0), X4),
    ("Upsample", ((7, 4), None, "bilinear", True), X4),
    ("Upsample", (None, 1.5, "trilinear"), X5),
    ("Upsample", (5, None, "linear"), X3),
    ("Upsample", (None, (2.0, 0.5), "bicubic"), X4),
    ("UpsamplingNearest2d", ((9, 4),), X4),
    ("UpsamplingBilinear2d", (None, 2), X4),
    ("PixelShuffle", (2,), rand(2, 8, 3, 2)),
    ("PixelUnshuffle", (2,), rand(2, 2, 4, 6)),
    ("ChannelShuffle", (3,), rand(2, 6, 3, 2)),
    ("Unfold", ((2, 3), 1, 1, 2), X4),
    ("Fold", ((4, 5), 2), rand(2, 8, 12)),
    ("MaxPool3d", (2, 1, 1), X5),
    ("AvgPool3d", ((2, 3, 2), 2, 1, True, False), X5),
    ("AdaptiveMaxPool1d", (4,), X3),
    ("AdaptiveMaxPool2d", ((3, 4),), X4),
    ("AdaptiveMaxPool3d", (2,), X5),
    ("AdaptiveAvgPool3d", ((3, None, 2),), X5),
    ("LPPool1d", (2, 3), np.abs(X3) + 0.1),
    ("LPPool2d", (1.5, (2, 3), 1), np.abs(X4) + 0.1),
    ("LPPool3d", (3, 2), np.abs(X5) + 0.1),
    ("Conv3d", (2, 3, 2), X5),
    ("Conv3d", (2, 4, (1, 2, 3), (2, 1, 1), (0, 1, 1), 1, 2, False), X5),
    ("ConvTranspose3d", (2, 3, 2), X5),
    ("ConvTranspose3d", (2, 4, (2, 1, 2), 2, 1, 1, 2), X5),
]


@pytest.mark.parametrize("name, args, x", LAYERS, ids=[f"{n}{a}" for n, a, _ in LAYERS])
def test_layer_matches_torch(name, args, x) -> None:
    ours, theirs = layer_pair(name, *args)
    compare_layer(ours, theirs, x)
    assert repr(ours) == repr(theirs)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())


@pytest.mark.parametrize("name, args, x", LAYERS[:6] + LAYERS[-3:], ids=str)
def test_layer_float32(name, args, x) -> None:
    ours, theirs = layer_pair(name, *args, dtype="float32")
    compare_layer(ours, theirs, x, dtype="float32", second=False, modes=("train",))


def test_conv3d_padding_modes_and_unbatched() -> None:
    for mode in ("reflect", "replicate", "circular"):
        ours, theirs = layer_pair("Conv3d", 2, 3, 3, padding=1, padding_mode=mode)
        compare_layer(ours, theirs, X5)
    ours, theirs = layer_pair("Conv3d", 2, 3, 2)
    compare_layer(ours, theirs, X5[0])


def test_conv_transpose3d_output_size() -> None:
    ours, theirs = layer_pair("ConvTranspose3d", 2, 3, 3, stride=2)
    compare_layer(ours, theirs, X5, call=lambda layer, x: layer(x, output_size=(10, 12, 13)))


@pytest.mark.parametrize("name", ["MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d"])
def test_max_unpool_layers(name) -> None:
    nd = int(name[-2])
    x = {1: rand(2, 3, 9), 2: rand(2, 3, 5, 7), 3: rand(2, 2, 4, 5, 6)}[nd]
    ours, theirs = layer_pair(name, 2)
    pool_o = getattr(cnn, f"MaxPool{nd}d")(2, return_indices=True)
    pool_t = getattr(torch.nn, f"MaxPool{nd}d")(2, return_indices=True)

    def call(layer, input):
        values, indices = (pool_o if layer is ours else pool_t)(input)
        return layer(values, indices, output_size=input.shape[-nd:])

    compare_layer(ours, theirs, x, call=call)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name", ["FractionalMaxPool2d", "FractionalMaxPool3d"])
def test_fractional_max_pool_layers(name) -> None:
    nd = int(name[-2])
    x = X4 if nd == 2 else X5
    samples = RNG.random((2, x.shape[1], nd))
    size = (3, 4) if nd == 2 else (2, 3, 4)
    ours = getattr(cnn, name)(2, size, _random_samples=chainrule.tensor(samples))
    theirs = getattr(torch.nn, name)(2, size, _random_samples=torch.tensor(samples))
    compare_layer(ours, theirs, x)
    ours = getattr(cnn, name)(2, output_ratio=0.5, return_indices=True)
    values, indices = ours(chainrule.tensor(x))
    assert values.shape == indices.shape == tuple(x.shape[:2]) + tuple(int(n * 0.5) for n in x.shape[2:])
    with pytest.raises(ValueError):
        getattr(cnn, name)(2)
    with pytest.raises(ValueError):
        getattr(cnn, name)(2, output_ratio=1.5)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_adaptive_max_pool_layers_return_indices(nd) -> None:
    x = {1: X3, 2: X4, 3: X5}[nd]
    ours, theirs = layer_pair(f"AdaptiveMaxPool{nd}d", 3, True)
    values_o, idx_o = ours(chainrule.tensor(x))
    values_t, idx_t = theirs(torch.tensor(x))
    np.testing.assert_array_equal(idx_o.numpy(), idx_t.numpy())
    np.testing.assert_allclose(values_o.numpy(), values_t.numpy())


def test_max_pool3d_return_indices_layer() -> None:
    ours, theirs = layer_pair("MaxPool3d", 2, return_indices=True)
    np.testing.assert_array_equal(ours(chainrule.tensor(X5))[1].numpy(), theirs(torch.tensor(X5))[1].numpy())


def test_small_cnn_3d_trains_like_torch() -> None:
    """Conv3d -> ReLU -> MaxPool3d -> Upsample -> ReflectionPad3d -> Conv3d: five SGD steps."""

    def build(lib):
        nn = lib.nn
        return nn.Sequential(
            nn.Conv3d(2, 4, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool3d(2),
            nn.Upsample(scale_factor=2, mode="trilinear"),
            nn.ReflectionPad3d(1),
            nn.Conv3d(4, 1, 3),
        ).double()

    torch.manual_seed(0)
    theirs = build(torch)
    ours = build(chainrule)
    ours.load_state_dict({k: chainrule.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.1)
    opt_o = chainrule.optim.SGD(ours.parameters(), lr=0.1)
    x, target = rand(2, 2, 4, 6, 6), rand(2, 1, 4, 6, 6)
    for _ in range(5):
        for model, opt, lib in ((theirs, opt_t, torch), (ours, opt_o, chainrule)):
            opt.zero_grad()
            loss = ((model(lib.tensor(x)) - lib.tensor(target)) ** 2).mean()
            loss.backward()
            opt.step()
    for (name, p_o), (_, p_t) in zip(sorted(ours.named_parameters()), sorted(theirs.named_parameters())):
        np.testing.assert_allclose(
            p_o.detach().numpy(), p_t.detach().numpy(), rtol=1e-9, atol=1e-11, err_msg=name
        )
