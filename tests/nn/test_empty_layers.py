"""Layers and losses on a 0-sample batch (and other 0-sized dims) against torch.nn.

Forward, input and parameter gradients (zeros where the batch is empty, as torch's) and second
derivatives, in training and evaluation mode, on the NumPy kernels and the compiled ones
(``jit_path``); BatchNorm's buffers after an empty training step; losses' reductions over no
samples (mean: nan, sum: 0); where torch raises, chainrule raises the same exception type.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import assert_close, compare_layer, layer_pair, to_numpy

import chainrule

pytestmark = pytest.mark.usefixtures("jit_path", "one_torch_thread")


def _input(shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def _builtin_type(exc: BaseException) -> type:
    return next(k for k in type(exc).__mro__ if k.__module__ == "builtins")


def compare_or_raise(name, args, kwargs, shapes, call=None, modes=("train", "eval")) -> None:
    """``compare_layer`` on inputs of ``shapes``; where torch's layer raises on them, chainrule's
    must raise the same built-in exception type."""
    ours, theirs = layer_pair(name, *args, **kwargs)
    arrays = [_input(s, i) for i, s in enumerate(shapes)]
    call_ = call or (lambda layer, *xs: layer(*xs))
    try:
        call_(theirs, *[torch.tensor(a, requires_grad=True) for a in arrays])
    except Exception as exc:  # noqa: BLE001 (compared with ours below)
        with pytest.raises(_builtin_type(exc)):
            call_(ours, *[chainrule.tensor(a, requires_grad=True) for a in arrays])
        return
    compare_layer(ours, theirs, arrays, modes=modes, call=call)


SPATIAL = [
    ("Conv1d", (3, 4, 3), {}, (0, 3, 7)),
    ("Conv1d", (3, 4, 3), dict(stride=2, padding=1, bias=False), (0, 3, 7)),
    ("Conv2d", (3, 4, 3), dict(padding=1), (0, 3, 5, 6)),
    ("Conv2d", (4, 6, 3), dict(groups=2, stride=2), (0, 4, 6, 5)),
    ("Conv2d", (3, 3, 3), dict(groups=3, padding=1), (0, 3, 5, 5)),
    ("Conv2d", (3, 5, 1), {}, (0, 3, 4, 4)),
    ("Conv2d", (2, 6, 5), dict(padding=2), (0, 2, 6, 6)),
    ("Conv2d", (3, 4, 3), dict(padding="same"), (3, 0, 5)),
    ("Conv3d", (2, 3, 2), {}, (0, 2, 3, 4, 3)),
    ("ConvTranspose1d", (3, 2, 3), dict(stride=2), (0, 3, 5)),
    ("ConvTranspose2d", (3, 2, 3), dict(stride=2, padding=1, output_padding=1), (0, 3, 4, 4)),
    ("ConvTranspose2d", (4, 4, 3), dict(groups=2), (0, 4, 3, 3)),
    ("MaxPool1d", (3, 2, 1), {}, (0, 3, 8)),
    ("MaxPool2d", (2,), {}, (0, 3, 6, 6)),
    ("MaxPool2d", (3, 2, 1), dict(ceil_mode=True), (0, 2, 7, 6)),
    ("MaxPool2d", (2,), dict(return_indices=True), (0, 3, 4, 4)),
    ("MaxPool3d", (2,), {}, (0, 2, 4, 4, 4)),
    ("AvgPool1d", (3, 2, 1), {}, (0, 3, 8)),
    ("AvgPool2d", (2,), {}, (0, 3, 6, 6)),
    ("AvgPool2d", (3, 2, 1), dict(ceil_mode=True, count_include_pad=False), (0, 2, 7, 6)),
    ("AvgPool3d", (2,), {}, (0, 2, 4, 4, 4)),
    ("AdaptiveAvgPool1d", (3,), {}, (0, 3, 8)),
    ("AdaptiveAvgPool2d", ((3, 2),), {}, (0, 3, 7, 5)),
    ("AdaptiveAvgPool2d", (1,), {}, (0, 3, 4, 4)),
    ("AdaptiveMaxPool1d", (3,), {}, (0, 3, 8)),
    ("AdaptiveMaxPool2d", (2,), {}, (0, 3, 5, 5)),
    ("BatchNorm1d", (3,), {}, (0, 3)),
    ("BatchNorm1d", (3,), {}, (0, 3, 5)),
    ("BatchNorm2d", (3,), {}, (0, 3, 4, 4)),
    ("BatchNorm2d", (3,), {}, (2, 3, 0, 4)),
    ("GroupNorm", (2, 4), {}, (0, 4, 3, 3)),
    ("GroupNorm", (2, 4), {}, (0, 4)),
    ("LayerNorm", (5,), {}, (0, 5)),
    ("LayerNorm", ((3, 4),), {}, (0, 2, 3, 4)),
    ("Linear", (4, 3), {}, (0, 4)),
    ("Linear", (4, 3), {}, (2, 0, 4)),
    # torch refuses an empty spatial dim of a non-empty batch (and adaptive pools and upsampling
    # an empty spatial dim or no channels), and takes a convolution with no input channels
    ("Conv2d", (3, 4, 3), dict(padding=1), (2, 3, 0, 5)),
    ("Conv1d", (3, 4, 3), dict(padding=1), (3, 0)),
    ("Conv2d", (0, 4, 3), dict(bias=False), (2, 0, 5, 5)),  # (with a bias torch's backward trips)
    ("ConvTranspose2d", (3, 2, 3), dict(stride=2), (1, 3, 0, 0)),
    ("AdaptiveAvgPool2d", (3,), {}, (2, 3, 7, 0)),
    ("AdaptiveAvgPool2d", (3,), {}, (0, 6, 6)),
    ("AdaptiveMaxPool2d", (3,), {}, (0, 6, 6)),
    ("AdaptiveAvgPool3d", (2,), {}, (0, 3, 3, 3)),
    ("Upsample", (), dict(scale_factor=2, mode="bilinear"), (2, 0, 4, 4)),
    ("Upsample", (), dict(size=5, mode="nearest"), (0, 3, 4)),
    ("InstanceNorm1d", (3,), dict(affine=True), (2, 3, 0)),
    ("Softmax", (), dict(dim=1), (0, 5)),
    ("Softmax", (), dict(dim=-1), (3, 0)),
    ("LogSoftmax", (), dict(dim=-1), (0, 5)),
    ("LogSoftmax", (), dict(dim=0), (0, 5)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", SPATIAL, ids=lambda v: str(v))
def test_layer_on_empty_batch(name, args, kwargs, shape) -> None:
    call = (lambda layer, x: layer(x)[0]) if kwargs.get("return_indices") else None
    compare_or_raise(name, args, kwargs, [shape], call=call)


@pytest.mark.parametrize("name", ["BatchNorm1d", "BatchNorm2d"])
def test_batch_norm_empty_training_step_leaves_running_stats(name) -> None:
    ours, theirs = layer_pair(name, 3)
    shape = (0, 3) if name == "BatchNorm1d" else (0, 3, 2, 2)
    ours(chainrule.zeros(shape, dtype=chainrule.float64))
    theirs(torch.zeros(shape, dtype=torch.float64))
    for key, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[key], value, 0, 0, key)


ATTENTION = [
    ("MultiheadAttention", (4, 2), {}, [(3, 0, 4)] * 3),
    ("MultiheadAttention", (4, 2), dict(batch_first=True, kdim=3, vdim=5), [(0, 3, 4), (0, 2, 3), (0, 2, 5)]),
    ("MultiheadAttention", (4, 2), {}, [(0, 2, 4), (3, 2, 4), (3, 2, 4)]),
    ("MultiheadAttention", (4, 2), {}, [(3, 2, 4), (0, 2, 4), (0, 2, 4)]),
]


@pytest.mark.parametrize("name, args, kwargs, shapes", ATTENTION, ids=lambda v: str(v))
@pytest.mark.parametrize("output", [0, 1], ids=["output", "weights"])
def test_attention_on_empty_batch(name, args, kwargs, shapes, output) -> None:
    compare_or_raise(name, args, kwargs, shapes, call=lambda layer, q, k, v: layer(q, k, v)[output])


TRANSFORMER = dict(d_model=4, nhead=2, dim_feedforward=6, dropout=0.0)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("shape", [(3, 0, 4), (0, 2, 4)])
def test_transformer_encoder_layer_on_empty_input(norm_first, shape) -> None:
    compare_or_raise("TransformerEncoderLayer", (), dict(TRANSFORMER, norm_first=norm_first), [shape])


@pytest.mark.parametrize("shapes", [[(3, 0, 4), (2, 0, 4)], [(0, 2, 4), (3, 2, 4)]])
def test_transformer_decoder_layer_on_empty_input(shapes) -> None:
    compare_or_raise("TransformerDecoderLayer", (), TRANSFORMER, shapes)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("output", [0, 1], ids=["output", "h_n"])
@pytest.mark.parametrize(
    "kwargs, shape",
    [
        ({}, (4, 0, 3)),
        (dict(batch_first=True, num_layers=2), (0, 4, 3)),
        (dict(bidirectional=True), (4, 0, 3)),
    ],
    ids=["batch 0", "batch_first 2 layers", "bidirectional"],
)
def test_recurrent_layer_on_empty_batch(name, output, kwargs, shape) -> None:
    def call(layer, x):
        out, state = layer(x)
        return out if output == 0 else (state[0] if name == "LSTM" else state)

    compare_or_raise(name, (3, 2), kwargs, [shape], call=call)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_recurrent_layer_on_empty_sequence_raises_like_torch(name) -> None:
    compare_or_raise(name, (3, 2), {}, [(0, 2, 3)], call=lambda layer, x: layer(x)[0])


@pytest.mark.parametrize("shape", [(0,), (0, 4), (2, 0)])
def test_embedding_on_empty_indices(shape) -> None:
    ours, theirs = layer_pair("Embedding", 6, 3)
    outs = [
        ours(chainrule.zeros(shape, dtype=chainrule.int64)),
        theirs(torch.zeros(shape, dtype=torch.int64)),
    ]
    assert_close(*outs, 0, 0, "forward")
    for out in outs:
        out.sum().backward()
    assert_close(ours.weight.grad, theirs.weight.grad, 0, 0, "weight grad")


LOSSES = [
    ("cross_entropy", "mean", (0, 5), "index"),
    ("cross_entropy", "sum", (0, 5), "index"),
    ("cross_entropy", "none", (0, 5), "index"),
    ("cross_entropy", "mean", (0, 5), "probabilities"),
    ("cross_entropy", "mean", (0, 5, 3), "index"),
    ("nll_loss", "mean", (0, 5), "index"),
    ("nll_loss", "sum", (0, 5), "index"),
    ("mse_loss", "mean", (0, 3), "same"),
    ("l1_loss", "mean", (0, 3), "same"),
    ("l1_loss", "sum", (0, 3), "same"),
    ("smooth_l1_loss", "mean", (0, 3), "same"),
    ("huber_loss", "none", (0, 3), "same"),
    ("binary_cross_entropy", "mean", (0, 3), "unit"),
    ("binary_cross_entropy_with_logits", "mean", (0, 3), "unit"),
    ("binary_cross_entropy_with_logits", "sum", (0, 3), "unit"),
    ("kl_div", "batchmean", (0, 3), "same"),
    ("kl_div", "mean", (0, 3), "same"),
    ("soft_margin_loss", "mean", (0, 3), "same"),
    ("gaussian_nll_loss", "mean", (0, 3), "variance"),
    ("poisson_nll_loss", "mean", (0, 3), "same"),
]


def _target(lib, kind: str, shape):
    if kind == "index":
        return lib.zeros((shape[0],) + tuple(shape[2:]), dtype=lib.int64)
    if kind == "probabilities":
        return lib.full(shape, 1.0 / shape[1], dtype=lib.float64)
    if kind == "unit":
        return lib.full(shape, 0.5, dtype=lib.float64)
    return lib.ones(shape, dtype=lib.float64)


@pytest.mark.parametrize("name, reduction, shape, target", LOSSES, ids=lambda v: str(v))
def test_loss_over_no_samples(name, reduction, shape, target) -> None:
    results = []
    for lib in (chainrule, torch):
        x = lib.zeros(shape, dtype=lib.float64, requires_grad=True)
        fn = getattr(lib.nn.functional, name)
        if name == "gaussian_nll_loss":
            loss = fn(x, _target(lib, "same", shape), lib.ones(shape, dtype=lib.float64), reduction=reduction)
        elif name == "binary_cross_entropy":
            loss = fn(x.sigmoid(), _target(lib, target, shape), reduction=reduction)
        else:
            loss = fn(x, _target(lib, target, shape), reduction=reduction)
        (grad,) = lib.autograd.grad(loss, x, lib.ones_like(loss))
        results.append((loss, grad))
    (loss, grad), (t_loss, t_grad) = results
    assert_close(loss, t_loss, 0, 0, f"{name}({reduction})")
    assert str(loss.dtype).split(".")[-1] == str(t_loss.dtype).split(".")[-1]
    assert_close(grad, t_grad, 0, 0, f"{name}({reduction}) gradient")


def test_cross_entropy_mean_over_no_samples_is_nan() -> None:
    """The closed form: a mean over 0 samples is 0 / 0, as torch's."""
    x = chainrule.zeros((0, 4), requires_grad=True)
    loss = chainrule.nn.functional.cross_entropy(x, chainrule.zeros(0, dtype=chainrule.int64))
    assert np.isnan(to_numpy(loss))
    loss.backward()
    assert tuple(x.grad.shape) == (0, 4)
