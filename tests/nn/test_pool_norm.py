"""Pooling, normalization, dropout and embedding layers against torch.nn: outputs, input and
parameter gradients and second derivatives with the same weights and inputs; BatchNorm's running
statistics after several training steps, eval mode, state_dict keys and old checkpoints; max
pooling's choice among ties; Dropout's scaling, eval identity and p = 0 / 1; Embedding's
accumulated gradients, padding_idx, max_norm and from_pretrained; errors like torch's."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import compare_layer, layer_pair, same_or_same_error, to_numpy

import chainrule
import chainrule.nn as cnn
import chainrule.nn.functional as CF


def _input(shape, seed: int = 0, ties: bool = False) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.maximum(np.round(x), 0) if ties else x  # ReLU-like: many equal values per window


# ---- pooling ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, args, kwargs, shape",
    [
        ("MaxPool2d", (2,), {}, (2, 3, 6, 7)),
        ("MaxPool2d", (3, 2, 1), dict(ceil_mode=True), (2, 2, 7, 6)),
        ("MaxPool2d", ((2, 3), 1, (1, 0)), dict(dilation=(1, 2)), (2, 2, 5, 7)),
        ("MaxPool2d", (2,), {}, (3, 5, 5)),
        ("MaxPool1d", (3, 2, 1), {}, (2, 3, 8)),
        ("AvgPool2d", (2,), {}, (2, 3, 6, 7)),
        ("AvgPool2d", (3, 2, 1), dict(ceil_mode=True, count_include_pad=False), (2, 2, 7, 6)),
        ("AvgPool2d", ((3, 2),), dict(divisor_override=5), (2, 2, 6, 6)),
        ("AvgPool1d", (3, 2, 1), {}, (2, 3, 8)),
        ("AdaptiveAvgPool2d", ((3, None),), {}, (2, 3, 7, 5)),
        ("AdaptiveAvgPool2d", (1,), {}, (2, 3, 4, 4)),
        ("AdaptiveAvgPool2d", (2,), {}, (2, 6, 6)),
        ("AdaptiveAvgPool1d", (3,), {}, (2, 3, 8)),
    ],
    ids=lambda v: str(v),
)
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
def test_pooling_layer(name, args, kwargs, shape, ties) -> None:
    compare_layer(*layer_pair(name, *args, **kwargs), _input(shape, ties=ties), modes=("train",))


@pytest.mark.parametrize("args", [(2,), (3, 2, 1), (3, 1, 1, 2), ((2, 3), (2, 1), 0, 1, True)])
def test_max_pool_indices_and_ties_match_torch(args) -> None:
    x = _input((2, 3, 7, 8), seed=1, ties=True)
    x[0, 0, :3, :3] = -np.inf  # a window of -inf only: torch picks its first real element
    x[1, 2, 2, 2] = x[1, 2, 4, 5] = np.nan  # NaN wins its window
    o, io = CF.max_pool2d(chainrule.tensor(x, requires_grad=True), *args, return_indices=True)
    t, it = torch.nn.functional.max_pool2d(torch.tensor(x, requires_grad=True), *args, return_indices=True)
    np.testing.assert_array_equal(to_numpy(o), to_numpy(t))
    np.testing.assert_array_equal(io.numpy(), it.numpy())
    assert io.dtype == chainrule.int64
    g = np.random.default_rng(0).standard_normal(tuple(t.shape))
    xo = chainrule.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    CF.max_pool2d(xo, *args).backward(chainrule.tensor(g))
    torch.nn.functional.max_pool2d(xt, *args).backward(torch.tensor(g))
    np.testing.assert_array_equal(xo.grad.numpy(), xt.grad.numpy())


def test_max_pool_module_return_indices_and_repr() -> None:
    ours = cnn.MaxPool2d(3, 2, 1, return_indices=True)
    theirs = torch.nn.MaxPool2d(3, 2, 1, return_indices=True)
    x = _input((1, 2, 6, 6), ties=True)
    (o, i), (t, j) = ours(chainrule.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_array_equal(o.numpy(), t.numpy())
    np.testing.assert_array_equal(i.numpy(), j.numpy())
    for a, b in [
        (cnn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
        (cnn.AvgPool2d(3, 1, 1), torch.nn.AvgPool2d(3, 1, 1)),
        (cnn.AdaptiveAvgPool2d((5, None)), torch.nn.AdaptiveAvgPool2d((5, None))),
        (cnn.MaxPool1d(2), torch.nn.MaxPool1d(2)),
        (cnn.AvgPool1d(2), torch.nn.AvgPool1d(2)),
    ]:
        assert repr(a) == repr(b)


@pytest.mark.parametrize(
    "fn, match",
    [
        (
            lambda m: m.nn.functional.max_pool2d(m.zeros(2, 3, 8, 8), 3, padding=2),
            "pad should be at most half of effective kernel size",
        ),
        (
            lambda m: m.nn.functional.avg_pool2d(m.zeros(2, 3, 8, 8), 3, padding=2),
            "pad should be at most half",
        ),
        (lambda m: m.nn.functional.max_pool2d(m.zeros(2, 3, 8, 8), 9), "Output size is too small"),
        (lambda m: m.nn.functional.max_pool2d(m.zeros(8, 8), 2), r"got shape \(8, 8\)"),
        (lambda m: m.nn.functional.max_pool2d(m.zeros(2, 3, 8, 8), 2, stride=0), "stride"),
        (
            lambda m: m.nn.functional.max_pool2d(m.zeros(2, 3, 8, 8), (2, 2, 2)),
            "kernel_size must either be a single int, or a tuple of 2 ints",
        ),
        (lambda m: m.nn.functional.adaptive_avg_pool2d(m.zeros(2, 3, 8, 8), (3,)), "output_size must be 2"),
    ],
)
def test_pooling_errors_match_torch(fn, match) -> None:
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(type(theirs.value), match=match):
        fn(chainrule)


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize(
    "nd, shape, size", [(2, (2, 2, 7, 8), 3), (1, (2, 3, 7), 4), (2, (1, 5, 6), (4, None))]
)
def test_adaptive_avg_pool_non_finite_input_stays_in_its_windows(value, nd, shape, size) -> None:
    """Output sizes that do not divide the input's: an inf or NaN reaches only the windows that
    hold it (torch sums each window), not every output as through the averaging matrices."""
    x = _input(shape, 3).astype(np.float32)
    x.reshape(-1)[[0, 9]] = value
    results = []
    for lib in (chainrule, torch):
        xt = lib.tensor(x, requires_grad=True)
        y = getattr(lib.nn.functional, f"adaptive_avg_pool{nd}d")(xt, size)
        y.backward(lib.tensor(_input(tuple(y.shape), 4).astype(np.float32)))
        results.append((y.detach().numpy(), xt.grad.numpy()))
    (y_ours, g_ours), (y_torch, g_torch) = results
    assert np.isfinite(y_torch).any()
    np.testing.assert_allclose(y_ours, y_torch, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g_ours, g_torch, rtol=1e-5, atol=1e-6)


# ---- batch norm -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, kwargs, shape",
    [
        ("BatchNorm2d", {}, (4, 3, 5, 5)),
        ("BatchNorm2d", dict(momentum=None), (3, 2, 4, 3)),
        ("BatchNorm2d", dict(affine=False, momentum=0.3, eps=1e-3), (4, 3, 2, 2)),
        ("BatchNorm1d", {}, (6, 4)),
        ("BatchNorm1d", dict(momentum=None), (5, 3, 4)),
        ("BatchNorm1d", dict(track_running_stats=False), (5, 3, 4)),
        ("BatchNorm3d", {}, (2, 2, 3, 2, 2)),
        ("BatchNorm2d", dict(bias=False), (3, 2, 2, 2)),
    ],
    ids=lambda v: str(v),
)
def test_batch_norm_training_steps_and_eval(name, kwargs, shape) -> None:
    """Several training steps (running statistics and num_batches_tracked equal torch's after each),
    then gradients and second derivatives in train and eval mode."""
    ours, theirs = layer_pair(name, shape[1], **kwargs)
    with torch.no_grad():  # non-trivial affine parameters
        for p in theirs.parameters():
            p.add_(torch.randn(p.shape, dtype=p.dtype) * 0.3)
    ours.load_state_dict({k: chainrule.tensor(to_numpy(v)) for k, v in theirs.state_dict().items()})
    for step in range(4):
        x = _input(shape, seed=step) * (step + 1) + step
        o, t = ours(chainrule.tensor(x)), theirs(torch.tensor(x))
        np.testing.assert_allclose(to_numpy(o), to_numpy(t), rtol=1e-9, atol=1e-10)
        for (k, a), (k2, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
            assert k == k2
            np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-10, atol=1e-12, err_msg=k)
    compare_layer(ours, theirs, _input(shape, seed=9) * 2 + 1)


def test_batch_norm_float32_and_state_dict() -> None:
    ours, theirs = layer_pair("BatchNorm2d", 3, dtype="float32")
    for step in range(3):
        x = _input((8, 3, 4, 4), seed=step).astype(np.float32) * 3 + 2
        ours(chainrule.tensor(x))
        theirs(torch.tensor(x))
    sd_o, sd_t = ours.state_dict(), theirs.state_dict()
    assert (
        list(sd_o) == list(sd_t) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    )
    for k in sd_t:
        np.testing.assert_allclose(to_numpy(sd_o[k]), to_numpy(sd_t[k]), rtol=1e-5, atol=1e-6, err_msg=k)
    assert sd_o["num_batches_tracked"].dtype == chainrule.int64
    assert int(sd_o["num_batches_tracked"]) == 3
    compare_layer(ours, theirs, _input((4, 3, 3, 3)), dtype="float32", second=False)
    model = cnn.Sequential(cnn.Conv2d(1, 2, 3), cnn.BatchNorm2d(2))
    model.bn = cnn.BatchNorm1d(4, affine=False)
    keys = list(model.state_dict())
    assert "1.running_mean" in keys and "bn.num_batches_tracked" in keys and "bn.weight" not in keys
    assert repr(cnn.BatchNorm1d(4, affine=False)) == repr(torch.nn.BatchNorm1d(4, affine=False))


def test_batch_norm_loads_checkpoint_without_num_batches_tracked() -> None:
    sd = {
        k: chainrule.tensor(to_numpy(v))
        for k, v in torch.nn.BatchNorm1d(3).state_dict().items()
        if k != "num_batches_tracked"
    }
    bn = cnn.BatchNorm1d(3)
    bn.load_state_dict(sd)
    assert int(bn.num_batches_tracked) == 0


@pytest.mark.parametrize(
    "fn, match",
    [
        (
            lambda m: m.nn.functional.batch_norm(m.zeros(1, 3), None, None, training=True),
            "Expected more than 1 value per channel when training",
        ),
        (
            lambda m: m.nn.functional.batch_norm(m.zeros(2, 3), m.zeros(4), m.ones(4)),
            "running_mean should contain 3 elements not 4",
        ),
        (lambda m: m.nn.BatchNorm2d(3)(m.zeros(2, 3)), "expected 4D input"),
        (lambda m: m.nn.functional.layer_norm(m.zeros(2, 3), (4,)), r"normalized_shape=\[4\]"),
        (
            lambda m: m.nn.functional.group_norm(m.zeros(2, 3, 4), 2),
            "Expected number of channels in input to be divisible by num_groups",
        ),
        (lambda m: m.nn.GroupNorm(2, 3), r"num_channels \(3\) must be divisible by num_groups \(2\)"),
    ],
)
def test_norm_errors_match_torch(fn, match) -> None:
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(type(theirs.value), match=match):
        fn(chainrule)


# ---- layer norm, group norm -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, args, kwargs, shape",
    [
        ("LayerNorm", (5,), {}, (2, 3, 5)),
        ("LayerNorm", ((3, 4),), dict(eps=1e-3), (2, 3, 4)),
        ("LayerNorm", (4,), dict(elementwise_affine=False), (3, 4)),
        ("LayerNorm", (4,), dict(bias=False), (2, 4)),
        ("GroupNorm", (2, 4), {}, (3, 4, 5)),
        ("GroupNorm", (3, 6), dict(affine=False), (2, 6, 2, 2)),
        ("GroupNorm", (1, 3), dict(eps=0.1), (2, 3, 4, 2)),
        ("GroupNorm", (2, 4), dict(bias=False), (2, 4, 3)),
    ],
    ids=lambda v: str(v),
)
def test_layer_and_group_norm(name, args, kwargs, shape) -> None:
    ours, theirs = layer_pair(name, *args, **kwargs)
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(torch.randn(p.shape, dtype=p.dtype) * 0.3)
    ours.load_state_dict({k: chainrule.tensor(to_numpy(v)) for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    compare_layer(ours, theirs, _input(shape) * 3 + 1)


# ---- dropout --------------------------------------------------------------------------------------
def test_dropout_scaling_and_gradient() -> None:
    chainrule.manual_seed(0)
    layer = cnn.Dropout(0.3)
    x = chainrule.tensor(
        np.random.default_rng(0).uniform(1, 2, (200, 300)).astype(np.float32), requires_grad=True
    )
    y = layer(x)
    kept = y.detach().numpy() != 0
    assert abs(1 - kept.mean() - 0.3) < 0.01  # each element dropped with probability p
    np.testing.assert_allclose(y.detach().numpy()[kept], x.detach().numpy()[kept] / 0.7, rtol=1e-6)
    assert y.dtype == chainrule.float32
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / np.float32(0.7), rtol=1e-6)
    chainrule.manual_seed(0)
    np.testing.assert_array_equal(layer(x).detach().numpy(), y.detach().numpy())  # reproducible
    assert repr(layer) == repr(torch.nn.Dropout(0.3))


def test_dropout_eval_and_extreme_probabilities() -> None:
    x = chainrule.randn(10, 10, requires_grad=True)
    layer = cnn.Dropout(0.5).eval()
    assert layer(x) is x  # identity in eval mode, as torch returns its input
    assert CF.dropout(x, 0.0) is x
    y = CF.dropout(x, 1.0)
    assert not y.detach().numpy().any()
    y.sum().backward()
    assert not x.grad.numpy().any()
    z = chainrule.ones(4, 4)
    out = CF.dropout(z, 0.5, inplace=True)
    assert out is z and set(np.unique(z.numpy())) <= {0.0, 2.0}
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            cnn.Dropout(p)
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            CF.dropout(x, p)


# ---- embedding ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [{}, dict(padding_idx=2), dict(padding_idx=-1), dict(scale_grad_by_freq=True, padding_idx=0)],
    ids=str,
)
def test_embedding_against_torch(kwargs) -> None:
    ours, theirs = layer_pair("Embedding", 6, 3, **kwargs)
    idx = np.array([[0, 2, 2, 5], [1, 2, 0, 0]])  # repeated indices accumulate gradients
    o, t = ours(chainrule.tensor(idx)), theirs(torch.tensor(idx))
    np.testing.assert_allclose(to_numpy(o), to_numpy(t))
    g = np.random.default_rng(0).standard_normal(tuple(t.shape))
    o.backward(chainrule.tensor(g))
    t.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.weight.grad.numpy(), to_numpy(theirs.weight.grad), rtol=1e-12)
    assert ours.padding_idx == theirs.padding_idx and repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == ["weight"]


def test_embedding_init_padding_row_and_from_pretrained() -> None:
    chainrule.manual_seed(0)
    emb = cnn.Embedding(100, 8, padding_idx=3)
    w = emb.weight.detach().numpy()
    assert not w[3].any() and abs(w.std() - 1) < 0.1  # N(0, 1), padding row zero
    table = chainrule.tensor(np.arange(12.0).reshape(4, 3))
    frozen = cnn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(chainrule.tensor([3, 1])).numpy(), [[9, 10, 11], [3, 4, 5]])
    trainable = cnn.Embedding.from_pretrained(table, freeze=False, padding_idx=0)
    assert trainable.weight.requires_grad and trainable.padding_idx == 0
    with pytest.raises(ValueError, match="2-dimensional"):
        cnn.Embedding.from_pretrained(chainrule.zeros(3))


def test_embedding_max_norm_matches_torch() -> None:
    ours, theirs = layer_pair("Embedding", 5, 4, max_norm=1.5, norm_type=3.0)
    idx = np.array([4, 0, 4, 2])
    o, t = ours(chainrule.tensor(idx)), theirs(torch.tensor(idx))
    np.testing.assert_allclose(to_numpy(o), to_numpy(t), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(ours.weight), to_numpy(theirs.weight), rtol=1e-12)


@pytest.mark.parametrize(
    "fn, match",
    [
        (lambda m: m.nn.functional.embedding(m.tensor([5]), m.zeros(3, 2)), "index out of range"),
        (
            lambda m: m.nn.functional.embedding(m.tensor([1.0]), m.zeros(3, 2)),
            "Expected tensor for argument #1 'indices' to have one of the following scalar types",
        ),
    ],
)
def test_embedding_errors_match_torch(fn, match) -> None:
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(type(theirs.value), match=match):
        fn(chainrule)


def test_inplace_relu_after_conv_batch_norm_and_pool_like_torch() -> None:
    """The common ``conv -> bn -> ReLU(inplace=True) -> max pool -> ReLU(inplace=True)`` chain:
    none of these layers saves its output, so in-place activations are allowed, as in torch."""

    def build(nn):
        return nn.Sequential(
            nn.Conv2d(2, 3, 3, padding=1),
            nn.BatchNorm2d(3),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.ReLU(inplace=True),
        ).double()

    torch.manual_seed(0)
    theirs = build(torch.nn)
    ours = build(cnn)
    ours.load_state_dict({k: chainrule.tensor(to_numpy(v)) for k, v in theirs.state_dict().items()})
    compare_layer(ours, theirs, _input((2, 2, 6, 6)), second=False)


# ---- empty inputs -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, output_size, shape",
    [
        ("adaptive_avg_pool2d", 3, (0, 6, 6)),  # unbatched, no channels: dim 0 is the batch
        ("adaptive_max_pool2d", 3, (0, 6, 6)),
        ("adaptive_avg_pool1d", 2, (0, 6)),
        ("adaptive_avg_pool3d", 2, (0, 3, 3, 3)),
        ("adaptive_avg_pool2d", 3, (2, 2, 7, 0)),  # an empty spatial dim: refused
        ("adaptive_avg_pool2d", (1, None), (2, 5, 0)),
        ("adaptive_avg_pool2d", 1, (2, 2, 7, 0)),  # torch's mean: nan, no check
        ("adaptive_max_pool2d", 3, (2, 0, 5, 4)),
        ("adaptive_avg_pool2d", 3, (2, 0, 5, 4)),  # no channels: torch's backward refuses
        ("adaptive_avg_pool1d", 2, (2, 0, 5)),
        ("adaptive_avg_pool2d", 0, (2, 3, 4, 4)),  # an output size of 0: the same
        ("adaptive_avg_pool2d", 1, (2, 0, 4, 4)),  # (torch's mean: no refusal)
    ],
)
def test_adaptive_pooling_of_empty_inputs_as_torch(name, output_size, shape) -> None:
    same_or_same_error(lambda m, x: getattr(m.nn.functional, name)(x, output_size), [shape], fragments=[name])


@pytest.mark.parametrize("shape", [(2, 3, 0), (2, 3, 4, 0)])
def test_instance_norm_over_no_positions_gives_weight_and_bias_zero_gradients(shape) -> None:
    same_or_same_error(
        lambda m, x, w, b: m.nn.functional.instance_norm(x, weight=w, bias=b), [shape, (3,), (3,)]
    )
