"""Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d against torch.nn: the same weights (torch's,
loaded through load_state_dict) and inputs give the same outputs, input gradients, parameter
gradients and second derivatives; default initialisation, state_dict keys, repr and errors match
torch's; a small CNN trains step for step like torch's."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from oracle import compare_layer, layer_pair, same_or_same_error, to_numpy

import chainrule
import chainrule.nn as cnn
import chainrule.nn.functional as CF


def _input(shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


# ---- layers against torch -----------------------------------------------------------------------
CONV2D = [
    ((3, 4, 3), {}, (2, 3, 7, 6)),
    ((2, 6, (3, 2)), dict(stride=2, padding=1, bias=False), (2, 2, 7, 8)),
    ((4, 4, 3), dict(padding="same", dilation=2, groups=2), (1, 4, 6, 6)),
    ((2, 3, (2, 4)), dict(padding="same"), (2, 2, 5, 6)),
    ((3, 2, 3), dict(padding="valid", stride=(2, 1)), (3, 6, 5)),  # unbatched
    ((2, 3, 3), dict(padding=(1, 2), padding_mode="reflect"), (2, 2, 5, 5)),
    ((2, 3, 3), dict(padding=2, padding_mode="replicate"), (1, 2, 4, 4)),
    ((2, 4, 3), dict(padding="same", padding_mode="circular"), (2, 2, 4, 5)),
]


@pytest.mark.parametrize("args, kwargs, shape", CONV2D, ids=lambda v: str(v))
def test_conv2d_layer(args, kwargs, shape) -> None:
    compare_layer(*layer_pair("Conv2d", *args, **kwargs), _input(shape))


def test_conv2d_layer_float32() -> None:
    ours, theirs = layer_pair("Conv2d", 3, 8, 3, padding=1, dtype="float32")
    compare_layer(ours, theirs, _input((4, 3, 9, 9)), dtype="float32", second=False)


@pytest.mark.parametrize(
    "args, kwargs, shape",
    [
        ((3, 4, 3), {}, (2, 3, 9)),
        ((4, 2, 4), dict(stride=2, padding=2, dilation=2, groups=2, bias=False), (2, 4, 11)),
        ((2, 2, 4), dict(padding="same"), (2, 7)),
        ((2, 3, 3), dict(padding=2, padding_mode="circular"), (2, 2, 5)),
    ],
    ids=lambda v: str(v),
)
def test_conv1d_layer(args, kwargs, shape) -> None:
    compare_layer(*layer_pair("Conv1d", *args, **kwargs), _input(shape))


@pytest.mark.parametrize(
    "args, kwargs, shape",
    [
        ((3, 2, 3), {}, (2, 3, 4, 5)),
        ((4, 6, (3, 2)), dict(stride=2, padding=1, output_padding=1, groups=2), (2, 4, 3, 4)),
        ((2, 3, 2), dict(stride=(1, 3), dilation=2, bias=False, output_padding=(1, 0)), (1, 2, 3, 3)),
        ((2, 2, 3), dict(stride=2), (2, 3, 3)),  # unbatched
    ],
    ids=lambda v: str(v),
)
def test_conv_transpose2d_layer(args, kwargs, shape) -> None:
    compare_layer(*layer_pair("ConvTranspose2d", *args, **kwargs), _input(shape))


def test_conv_transpose1d_layer() -> None:
    compare_layer(
        *layer_pair("ConvTranspose1d", 3, 2, 3, stride=2, padding=1, output_padding=1), _input((2, 3, 5))
    )


def test_conv_transpose2d_output_size() -> None:
    ours, theirs = layer_pair("ConvTranspose2d", 2, 3, 3, stride=2, padding=1)
    for size in ([7, 8], (2, 3, 8, 7)):
        compare_layer(
            ours,
            theirs,
            _input((2, 2, 4, 4)),
            second=False,
            modes=("train",),
            call=lambda layer, x, s=size: layer(x, output_size=s),
        )
    with pytest.raises(ValueError, match="valid sizes range from 7 to 8"):
        ours(chainrule.zeros(2, 2, 4, 4, dtype=chainrule.float64), output_size=(9, 9))


# ---- initialisation, state_dict, repr ------------------------------------------------------------
@pytest.mark.parametrize(
    "name, args, kwargs",
    [
        ("Conv2d", (16, 32, 3), {}),
        ("Conv1d", (8, 12, 5), dict(groups=4)),
        ("ConvTranspose2d", (12, 6, (3, 2)), dict(groups=3)),
    ],
)
def test_default_initialisation(name, args, kwargs) -> None:
    """kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias, with
    fan_in = weight.shape[1] * prod(kernel), as torch computes it."""
    chainrule.manual_seed(0)
    ours = getattr(cnn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    assert ours.weight.shape == tuple(theirs.weight.shape)
    fan_in = theirs.weight.shape[1] * math.prod(theirs.weight.shape[2:])
    bound = 1 / math.sqrt(fan_in)
    for p in (ours.weight, ours.bias):
        a = p.detach().numpy()
        assert p.dtype == chainrule.float32 and p.requires_grad
        assert np.abs(a).max() <= bound and np.abs(a).max() > 0.8 * bound
    w = ours.weight.detach().numpy()
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound  # uniform's standard deviation


def test_state_dict_keys_and_repr_match_torch() -> None:
    def build(nn):
        return nn.Sequential(
            nn.Conv2d(1, 16, 3),
            nn.Conv2d(16, 8, 3, stride=2, padding=1, bias=False),
            nn.Conv1d(8, 4, 3, padding="same", dilation=2, groups=4),
            nn.ConvTranspose2d(8, 4, 3, stride=2, output_padding=1, groups=2),
            nn.Conv2d(2, 2, 3, padding=1, padding_mode="reflect"),
            nn.ConvTranspose1d(3, 3, 2),
        )

    ours, theirs = build(cnn), build(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    for a, b in zip(ours.state_dict().values(), theirs.state_dict().values()):
        assert tuple(a.shape) == tuple(b.shape)


def test_attributes_match_torch() -> None:
    ours, theirs = cnn.Conv2d(4, 6, (3, 5), 2, "valid", 1, 2), torch.nn.Conv2d(4, 6, (3, 5), 2, "valid", 1, 2)
    for name in (
        "in_channels",
        "out_channels",
        "kernel_size",
        "stride",
        "padding",
        "dilation",
        "groups",
        "padding_mode",
        "output_padding",
        "transposed",
    ):
        assert getattr(ours, name) == getattr(theirs, name), name


# ---- a small CNN trains like torch's --------------------------------------------------------------
def _cnn(nn):
    return nn.Sequential(
        nn.Conv2d(1, 4, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 3 * 3, 5),
    )


def test_cnn_training_steps_match_torch() -> None:
    torch.manual_seed(1)
    theirs = _cnn(torch.nn)
    ours = _cnn(cnn)
    ours.load_state_dict({k: chainrule.tensor(to_numpy(v)) for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(3)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    params = list(ours.parameters())
    velocity = [np.zeros(p.shape, dtype=np.float32) for p in params]
    for _ in range(4):
        x = rng.standard_normal((8, 1, 14, 14)).astype(np.float32)
        y = rng.integers(0, 5, 8)
        loss_t = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
        opt_t.zero_grad()
        loss_t.backward()
        opt_t.step()
        for p in params:
            p.grad = None
        loss_o = CF.cross_entropy(ours(chainrule.tensor(x)), chainrule.tensor(y))
        loss_o.backward()
        with chainrule.no_grad():
            for p, v in zip(params, velocity):
                v *= 0.9
                v += p.grad.numpy()
                p -= 0.1 * chainrule.tensor(v)
        np.testing.assert_allclose(loss_o.item(), loss_t.item(), rtol=1e-5)
    for (name, a), b in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-4, atol=1e-5, err_msg=name)


# ---- errors: torch's exception types, messages that name the op, the shapes and the fix ---------
def _raises_like_torch(fn, match: str) -> None:
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(type(theirs.value), match=match):
        fn(chainrule)


@pytest.mark.parametrize(
    "fn, match",
    [
        (
            lambda m: m.nn.functional.conv2d(m.zeros(28, 28), m.zeros(4, 1, 3, 3)),
            r"conv2d: expected input with 4 dims \(N, C, H, W\) or 3 \(C, H, W\), got shape \(28, 28\)",
        ),
        (
            lambda m: m.nn.functional.conv2d(m.zeros(2, 3, 8, 8), m.zeros(4, 2, 3, 3), groups=2),
            r"conv2d: .*expected input \(2, 3, 8, 8\) to have in_channels/groups \* groups = 2 \* 2 = 4",
        ),
        (
            lambda m: m.nn.functional.conv2d(m.zeros(2, 3, 8, 8), m.zeros(5, 1, 3, 3), groups=3),
            "divisible by 3 at dimension 0",
        ),
        (
            lambda m: m.nn.functional.conv2d(m.zeros(1, 3, 4, 4), m.zeros(2, 3, 5, 5)),
            r"Kernel size: \(5 x 5\)",
        ),
        (
            lambda m: m.nn.functional.conv2d(
                m.zeros(1, 3, 8, 8), m.zeros(2, 3, 3, 3), stride=2, padding="same"
            ),
            "padding='same' is not supported",
        ),
        (
            lambda m: m.nn.functional.conv2d(m.zeros(1, 3, 8, 8), m.zeros(2, 3, 3, 3), padding="full"),
            "Invalid padding string",
        ),
        (
            lambda m: m.nn.functional.conv2d(m.zeros(1, 3, 8, 8), m.zeros(2, 3, 3, 3), m.zeros(3)),
            r"expected bias to be 1-dimensional with 2 elements",
        ),
        (
            lambda m: m.nn.functional.conv2d(m.zeros(1, 3, 8, 8), m.zeros(2, 3, 3, 3, dtype=m.float64)),
            "input dtype .*float32 and weight dtype .*float64",
        ),
        (
            lambda m: m.nn.functional.conv2d(m.zeros(1, 3, 8, 8), m.zeros(2, 3, 3, 3), stride=0),
            "non-positive stride",
        ),
        (
            lambda m: m.nn.functional.conv2d(m.zeros(1, 3, 8, 8), m.zeros(2, 3, 3, 3), padding=-1),
            "negative padding",
        ),
        (
            lambda m: m.nn.functional.conv2d(m.zeros(1, 3, 8, 8), m.zeros(2, 3, 3, 3), padding=(1, 2, 3)),
            "expected padding to be a single integer value or a list of 2 values",
        ),
        (
            lambda m: m.nn.functional.conv1d(m.zeros(2, 3, 8, 8), m.zeros(4, 3, 3)),
            r"conv1d: expected input with 3 dims \(N, C, L\)",
        ),
        (
            lambda m: m.nn.functional.conv_transpose2d(
                m.zeros(1, 3, 4, 4), m.zeros(3, 2, 3, 3), stride=2, output_padding=2
            ),
            "output padding must be smaller than either stride or dilation",
        ),
        (
            lambda m: m.nn.functional.conv_transpose2d(m.zeros(1, 3, 4, 4), m.zeros(4, 2, 3, 3)),
            r"to have 4 channels",
        ),
        (lambda m: m.nn.Conv2d(3, 4, 3, groups=2), "in_channels must be divisible by groups"),
        (lambda m: m.nn.Conv2d(3, 4, 3, padding="full"), "Invalid padding string"),
        (lambda m: m.nn.Conv2d(3, 4, 3, stride=2, padding="same"), "padding='same' is not supported"),
        (lambda m: m.nn.Conv2d(3, 4, 3, padding_mode="mirror"), "padding_mode"),
        (lambda m: m.nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect"), '"zeros" padding mode'),
    ],
)
def test_errors_match_torch(fn, match) -> None:
    _raises_like_torch(fn, match)


def test_grad_fn_name() -> None:
    w = chainrule.zeros(2, 3, 3, 3, requires_grad=True)
    assert CF.conv2d(chainrule.zeros(1, 3, 5, 5), w).grad_fn.name() == "ConvolutionBackward0"


# ---- empty inputs -------------------------------------------------------------------------------
def _conv(name: str, **kwargs):
    return lambda m, *xs: getattr(m.nn.functional, name)(*xs, **kwargs)


@pytest.mark.parametrize(
    "name, kwargs, shapes",
    [
        ("conv2d", {}, [(1, 0, 4, 4), (2, 0, 2, 2), (2,)]),  # no input channels: no output channels
        ("conv2d", dict(groups=2), [(2, 0, 4, 4), (2, 0, 2, 2)]),
        ("conv2d", dict(padding="valid"), [(0, 5, 5), (2, 0, 0, 0)]),
        ("conv1d", dict(stride=2, padding=1), [(0, 6), (2, 0, 2), (2,)]),
        ("conv3d", {}, [(1, 0, 3, 3, 3), (2, 0, 2, 2, 2), (2,)]),
        ("conv2d", dict(padding=1), [(2, 3, 0, 4), (2, 3, 1, 1)]),  # an empty spatial dim: refused
        ("conv1d", dict(stride=2, padding=1), [(3, 0), (2, 3, 2), (2,)]),
        ("conv2d", {}, [(2, 3, 4, 4), (0, 3, 2, 2)]),  # fewer weights than groups
        ("conv2d", {}, [(2, 3, 4, 4), (2, 3, 0, 0)]),  # an empty kernel
        ("conv2d", {}, [(0, 3, 4, 4), (2, 3, 2, 2), (2,)]),  # an empty batch: fine
        ("conv_transpose2d", {}, [(1, 0, 2, 2), (0, 3, 2, 2), (3,)]),
        ("conv_transpose2d", {}, [(1, 2, 2, 2), (2, 0, 2, 2)]),
        ("conv_transpose2d", dict(stride=2, dilation=3, output_padding=2), [(1, 2, 0, 0), (2, 2, 2, 2)]),
        (
            "conv_transpose2d",
            dict(stride=2, dilation=3, output_padding=2),
            [(0, 2, 0, 0), (2, 2, 2, 2), (2,)],
        ),
        ("conv_transpose1d", dict(stride=3, padding=1), [(0, 4), (0, 1, 0), (1,)]),
        ("conv_transpose3d", {}, [(1, 2, 3, 3, 3), (2, 0, 1, 1, 1)]),
    ],
)
def test_convolution_of_empty_operands_as_torch(name, kwargs, shapes) -> None:
    same_or_same_error(_conv(name, **kwargs), shapes, fragments=[name])
