"""The nnfunc layers against torch.nn: piecewise activations, PReLU, margin/likelihood/CTC losses,
instance/RMS/local-response norms, distances, EmbeddingBag, channel and alpha dropouts.

Same weights (torch's, loaded through load_state_dict), same inputs: outputs, input and parameter
gradients and (where torch has them) second derivatives, in train and eval mode, float64 and
float32; running statistics and state_dict keys; reprs; empty batches, non-contiguous inputs;
the random layers by their statistics (channel masks, the alpha-dropout moments, RReLU's slopes,
gumbel_softmax's distribution); and torch's errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from oracle import assert_close, compare_layer, layer_pair, raises_like_torch, to_numpy

import chainrule
import chainrule.nn as cnn
import chainrule.nn.functional as CF


def _randn(*shape, scale: float = 1.5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed + sum(shape) + len(shape)).standard_normal(shape) * scale


# name, constructor args, kwargs, input shapes, double backward (torch has it)
LAYERS = [
    ("Hardshrink", (), {}, [(3, 4)], True),
    ("Hardshrink", (1.2,), {}, [(2, 3, 2)], True),
    ("Softshrink", (0.3,), {}, [(3, 4)], True),
    ("Tanhshrink", (), {}, [(3, 4)], True),
    ("Threshold", (0.1, 20.0), {}, [(3, 4)], True),
    ("Hardsigmoid", (), {}, [(3, 4)], False),
    ("Hardswish", (), {}, [(3, 4)], True),
    ("PReLU", (), {}, [(3, 4)], True),
    ("PReLU", (3,), {"init": 0.1}, [(2, 3, 4)], True),
    ("Softmax2d", (), {}, [(2, 3, 2, 2)], True),
    ("Softmax2d", (), {}, [(3, 2, 2)], True),
    ("InstanceNorm1d", (3,), {}, [(2, 3, 5)], True),
    ("InstanceNorm1d", (3,), {"affine": True}, [(3, 5)], True),
    ("InstanceNorm2d", (2,), {"affine": True, "track_running_stats": True}, [(3, 2, 3, 2)], True),
    ("InstanceNorm3d", (2,), {"momentum": None, "track_running_stats": True}, [(2, 2, 2, 2, 2)], True),
    ("RMSNorm", (4,), {}, [(3, 4)], True),
    ("RMSNorm", ([2, 3],), {"eps": 1e-3, "elementwise_affine": False}, [(4, 2, 3)], True),
    ("LocalResponseNorm", (3,), {}, [(2, 5, 3)], True),
    ("LocalResponseNorm", (2, 0.5, 0.5, 2.0), {}, [(2, 4, 2, 2)], True),
    ("CrossMapLRN2d", (3, 0.5, 0.75, 2.0), {}, [(2, 5, 3, 2)], False),
    ("CrossMapLRN2d", (4,), {}, [(2, 6, 2, 2)], False),
    ("CosineSimilarity", (), {}, [(3, 4), (3, 4)], True),
    ("CosineSimilarity", (0, 1e-3), {}, [(3, 4), (3, 4)], True),
    ("PairwiseDistance", (), {}, [(3, 4), (3, 4)], True),
    ("PairwiseDistance", (1.0, 1e-3, True), {}, [(3, 4), (3, 4)], True),
    ("Identity", (), {}, [(2, 3)], True),
    ("Unflatten", (-1, (2, 2)), {}, [(3, 4)], True),
    ("Bilinear", (3, 2, 4), {}, [(5, 3), (5, 2)], True),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("name", "args", "kwargs", "shapes", "second"), LAYERS, ids=lambda v: str(v))
def test_layer_matches_torch(name, args, kwargs, shapes, second, dtype) -> None:
    ours, theirs = layer_pair(name, *args, dtype=dtype, **kwargs)
    inputs = [_randn(*s) for s in shapes]
    compare_layer(ours, theirs, inputs, dtype=dtype, second=second and dtype == "float64")
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():  # running statistics after both modes ran
        assert_close(ours.state_dict()[key], value, 1e-6, 1e-8, f"{name} state {key}")


def test_instance_norm_running_stats_follow_torch_over_steps() -> None:
    ours, theirs = layer_pair("InstanceNorm2d", 3, affine=True, track_running_stats=True, momentum=0.3)
    for step in range(3):
        x = _randn(4, 3, 2, 3, seed=step)
        assert_close(ours(chainrule.tensor(x)), theirs(torch.tensor(x)), 1e-9, 1e-11, f"step {step}")
    for key in ("running_mean", "running_var", "num_batches_tracked"):
        assert_close(ours.state_dict()[key], theirs.state_dict()[key], 1e-9, 1e-11, key)
    ours.eval()
    theirs.eval()
    x = _randn(2, 3, 2, 2)
    assert_close(ours(chainrule.tensor(x)), theirs(torch.tensor(x)), 1e-9, 1e-11, "eval")


def test_instance_norm_warns_or_raises_on_channel_mismatch() -> None:
    for lib in (chainrule, torch):
        with pytest.warns(UserWarning, match="does not match num_features"):
            lib.nn.InstanceNorm1d(4)(lib.ones(2, 3, 5))
    raises_like_torch(lambda m: m.nn.InstanceNorm1d(4, affine=True)(m.ones(2, 3, 5)), "to match num_features")
    raises_like_torch(lambda m: m.nn.InstanceNorm2d(4)(m.ones(2, 3)), "expected 3D or 4D input")


# ---- losses -------------------------------------------------------------------------------------
_RNG = np.random.default_rng(5)
_SIGNS = np.where(_RNG.random((4,)) < 0.5, -1.0, 1.0)
_CLASSES = np.array([0, 3, 1, 1])
_LABELS = np.array([[3, 0, -1, 1], [1, 2, 3, -1], [-1, 0, 0, 0], [2, 2, 0, -1]])

# name, kwargs, float inputs (differentiable), constant targets, torch has double backward
LOSSES = [
    ("MultiMarginLoss", {}, [(4, 5)], [_CLASSES], False),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5, "reduction": "sum"}, [(4, 5)], [_CLASSES], False),
    ("MultiMarginLoss", {"weight": np.linspace(0.5, 2, 5), "reduction": "none"}, [(4, 5)], [_CLASSES], False),
    ("MultiLabelMarginLoss", {}, [(4, 4)], [_LABELS], False),
    ("MultiLabelMarginLoss", {"reduction": "none"}, [(4, 4)], [_LABELS], False),
    ("MultiLabelSoftMarginLoss", {}, [(4, 3)], [(_RNG.random((4, 3)) < 0.5) * 1.0], True),
    ("MultiLabelSoftMarginLoss", {"weight": np.array([1.0, 2.0, 0.5])}, [(4, 3)], [np.ones((4, 3))], True),
    ("SoftMarginLoss", {}, [(4,)], [_SIGNS], True),
    ("SoftMarginLoss", {"reduction": "none"}, [(4,)], [_SIGNS], True),
    ("MarginRankingLoss", {"margin": 0.2}, [(4,), (4,)], [_SIGNS], True),
    ("HingeEmbeddingLoss", {"margin": 2.0}, [(4,)], [_SIGNS], True),
    ("CosineEmbeddingLoss", {"margin": 0.1}, [(4, 3), (4, 3)], [_SIGNS], True),
    ("CosineEmbeddingLoss", {"reduction": "sum"}, [(4, 3), (4, 3)], [_SIGNS], True),
    ("TripletMarginLoss", {}, [(4, 3), (4, 3), (4, 3)], [], True),
    ("TripletMarginLoss", {"p": 1, "swap": True, "margin": 3.0}, [(4, 3), (4, 3), (4, 3)], [], True),
    ("TripletMarginWithDistanceLoss", {}, [(4, 3), (4, 3), (4, 3)], [], True),
    (
        "TripletMarginWithDistanceLoss",
        {"swap": True, "reduction": "none"},
        [(4, 3), (4, 3), (4, 3)],
        [],
        True,
    ),
    ("PoissonNLLLoss", {}, [(4, 3)], [_RNG.integers(0, 5, (4, 3)) * 1.0], True),
    (
        "PoissonNLLLoss",
        {"log_input": False, "full": True},
        [(4, 3)],
        [_RNG.integers(0, 5, (4, 3)) * 1.0],
        True,
    ),
    ("GaussianNLLLoss", {}, [(4, 3), (4, 3)], [np.ones((4, 3))], True),
    ("GaussianNLLLoss", {"full": True, "reduction": "sum"}, [(4, 3), (4,)], [np.ones((4, 3))], True),
    ("NLLLoss2d", {}, [(2, 3, 2, 2)], [np.array([[[0, 1], [2, 2]], [[1, 1], [0, 2]]])], True),
]


def _loss_inputs(name: str, float_inputs: list, lib):
    """Shape the float inputs as each loss wants them (positive rates/variances, log-probs)."""
    if name == "PoissonNLLLoss":
        return [x.abs() + 0.1 for x in float_inputs]
    if name == "GaussianNLLLoss":
        return [float_inputs[0], float_inputs[1].abs() + 0.1]
    if name == "NLLLoss2d":
        return [float_inputs[0].log_softmax(1)]
    return float_inputs


@pytest.mark.filterwarnings("ignore:`NLLLoss2d` has been deprecated:FutureWarning")
@pytest.mark.parametrize(("name", "kwargs", "shapes", "targets", "second"), LOSSES, ids=lambda v: str(v)[:40])
def test_loss_matches_torch(name, kwargs, shapes, targets, second) -> None:
    kw_o = {k: chainrule.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    kw_t = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    ours, theirs = getattr(cnn, name)(**kw_o), getattr(torch.nn, name)(**kw_t)
    assert repr(ours) == repr(theirs)
    inputs = [_randn(*s, seed=i) for i, s in enumerate(shapes)]

    def call(lib, targets_of_lib):
        def run(layer, *xs):
            xs = _loss_inputs(name, list(xs), lib)
            if name == "GaussianNLLLoss":  # (input, target, var)
                return layer(xs[0], targets_of_lib[0], xs[1])
            return layer(*xs, *targets_of_lib)

        return run

    t_o = [chainrule.tensor(t) for t in targets]
    t_t = [torch.tensor(t) for t in targets]

    def dispatch(layer, *xs):
        lib = chainrule if isinstance(layer, cnn.Module) else torch
        return call(lib, t_o if lib is chainrule else t_t)(layer, *xs)

    compare_layer(ours, theirs, inputs, second=second, modes=("train",), call=dispatch)


def test_ctc_loss_layer_matches_torch_over_reductions_and_lengths() -> None:
    rng = np.random.default_rng(3)
    for trial in range(12):
        T, N, C, S = rng.integers(1, 7), rng.integers(1, 4), rng.integers(2, 6), rng.integers(0, 4)
        logits = rng.standard_normal((T, N, C))
        targets = rng.integers(1, C, (N, max(S, 1)))
        il, tl = rng.integers(0, T + 1, N), rng.integers(0, S + 1, N)
        for reduction in ("mean", "sum", "none"):
            for zero_infinity in (False, True):
                results = []
                for lib in (chainrule, torch):
                    x = lib.tensor(logits, requires_grad=True)
                    loss = lib.nn.CTCLoss(0, reduction, zero_infinity)(
                        x.log_softmax(2), lib.tensor(targets), lib.tensor(il), lib.tensor(tl)
                    )
                    (grad,) = lib.autograd.grad(loss.sum(), x)
                    results.append((loss, grad))
                (lo, go), (lt, gt) = results
                what = f"trial {trial} {reduction} zero_infinity={zero_infinity}"
                assert_close(lo, lt, 1e-9, 1e-12, what)
                assert_close(go, gt, 1e-8, 1e-12, what + " grad")


def test_ctc_loss_has_no_second_derivative_as_torch() -> None:
    def program(m):
        x = m.randn(5, 2, 4, dtype=m.float64, requires_grad=True)
        loss = m.nn.functional.ctc_loss(x.log_softmax(2), m.tensor([[1, 2], [3, 1]]), (5, 4), (2, 2))
        (grad,) = m.autograd.grad(loss, x, create_graph=True)
        return m.autograd.grad(grad.sum(), x)

    raises_like_torch(program, "derivative for .*_ctc_loss_backward is not implemented")


def test_ctc_loss_float32_and_blank_elsewhere() -> None:
    x = _randn(6, 2, 5)
    out = []
    for lib in (chainrule, torch):
        lp = lib.tensor(x, dtype=lib.float32, requires_grad=True)
        loss = lib.nn.functional.ctc_loss(
            lp.log_softmax(2), lib.tensor([[0, 1, 1], [2, 3, 0]]), (6, 5), (3, 2), blank=4
        )
        loss.backward()
        out.append((loss, lp.grad))
    assert str(out[0][0].dtype) == "chainrule.float32"
    assert_close(out[0][0], out[1][0], 1e-5, 1e-6, "loss")
    assert_close(out[0][1], out[1][1], 1e-4, 1e-6, "grad")


# ---- embedding bag ------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_bag_matches_torch(mode, padding_idx) -> None:
    ours, theirs = layer_pair("EmbeddingBag", 6, 3, mode=mode, padding_idx=padding_idx)
    assert repr(ours) == repr(theirs)
    idx = np.array([1, 2, 4, 5, 4, 3, 1, 0, 1])
    off = np.array([0, 2, 2, 5, 8])
    for lib, layer in ((chainrule, ours), (torch, theirs)):
        layer.out = layer(lib.tensor(idx), lib.tensor(off))
        layer.out.sum().backward()
    assert_close(ours.out, theirs.out, 1e-12, 1e-12, "output")
    assert_close(ours.weight.grad, theirs.weight.grad, 1e-12, 1e-12, "weight grad")


def test_embedding_bag_from_pretrained_and_max_norm() -> None:
    table = _randn(5, 3) * 3
    out = []
    for lib in (chainrule, torch):
        bag = lib.nn.EmbeddingBag.from_pretrained(lib.tensor(table), max_norm=1.0, mode="sum")
        out.append((bag(lib.tensor([[0, 1], [1, 4]])), bag.weight.detach().clone(), bag.weight.requires_grad))
    assert_close(out[0][0], out[1][0], 1e-6, 1e-7, "output")
    assert_close(out[0][1], out[1][1], 1e-6, 1e-7, "renormed table")
    assert out[0][2] == out[1][2]


# ---- random layers: statistics ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "shape"),
    [("Dropout1d", (64, 50, 6)), ("Dropout2d", (64, 50, 3, 2)), ("Dropout3d", (64, 50, 2, 2, 2))],
)
def test_channel_dropout_drops_whole_channels(name, shape) -> None:
    chainrule.manual_seed(0)
    layer = getattr(cnn, name)(0.3)
    x = chainrule.ones(shape, requires_grad=True)
    y = layer(x)
    per_channel = y.detach().numpy().reshape(shape[0], shape[1], -1)
    assert np.all(per_channel == per_channel[:, :, :1])  # one draw per (sample, channel)
    kept = per_channel[:, :, 0] != 0
    assert abs(kept.mean() - 0.7) < 0.03
    np.testing.assert_allclose(per_channel[:, :, 0][kept], 1 / 0.7)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy())  # the gradient is the mask
    layer.eval()
    assert layer(x) is x
    assert repr(layer) == repr(getattr(torch.nn, name)(0.3))


def test_dropout1d_unbatched_and_errors() -> None:
    chainrule.manual_seed(1)
    y = CF.dropout1d(chainrule.ones(40, 5), 0.5).numpy()
    assert np.all(y == y[:, :1])
    raises_like_torch(lambda m: m.nn.functional.dropout1d(m.ones(2, 3, 4, 5)), "Expected 2D or 3D input")
    raises_like_torch(lambda m: m.nn.Dropout2d(1.5), "between 0 and 1")
    for lib in (chainrule, torch):
        with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
            lib.nn.functional.dropout2d(lib.ones(2, 3, 4))


@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_keeps_zero_mean_unit_variance(feature) -> None:
    chainrule.manual_seed(0)
    x = chainrule.randn(400, 100, 5, dtype=chainrule.float64)
    fn = CF.feature_alpha_dropout if feature else CF.alpha_dropout
    y = fn(x, 0.2, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    if feature:  # a dropped channel is one constant (SELU's saturation, after the affine map)
        flat = y.reshape(400, 100, 5)
        dropped = np.all(flat == flat[:, :, :1], axis=2)
        assert abs(dropped.mean() - 0.2) < 0.02
    assert fn(x, 0.2, training=False) is x
    assert np.all(fn(x, 1.0, training=True).numpy() == 0)


def test_alpha_dropout_values_follow_torchs_affine_map() -> None:
    """Where both libraries keep an element the value is ``a * x + b'``, where they drop it,
    ``b``: derived from torch's own outputs on a constant input."""
    p = 0.25
    x = np.full((2000,), 0.7)
    theirs = torch.nn.functional.alpha_dropout(torch.tensor(x), p, True).numpy()
    ours = CF.alpha_dropout(chainrule.tensor(x), p, True).numpy()
    assert set(np.round(np.unique(theirs), 10)) == set(np.round(np.unique(ours), 10))


def test_rrelu_training_draws_slopes_in_range_and_its_gradient_is_the_slope() -> None:
    chainrule.manual_seed(0)
    x = chainrule.tensor(-np.ones(10000), requires_grad=True)
    y = CF.rrelu(x, 0.1, 0.3, training=True)
    slopes = -y.detach().numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and abs(slopes.mean() - 0.2) < 0.005
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes)
    layer = cnn.RReLU(0.1, 0.3)
    layer.eval()
    np.testing.assert_allclose(layer(x).detach().numpy(), -0.2 * np.ones(10000))
    positive = chainrule.ones(5)
    assert np.all(CF.rrelu(positive, training=True).numpy() == 1)


def test_gumbel_softmax_distribution_and_straight_through_gradient() -> None:
    chainrule.manual_seed(0)
    probs = np.array([0.1, 0.2, 0.7])
    logits = chainrule.tensor(np.tile(np.log(probs), (20000, 1)), requires_grad=True)
    hard = CF.gumbel_softmax(logits, tau=0.5, hard=True)
    counts = hard.detach().numpy().mean(0)
    np.testing.assert_allclose(counts, probs, atol=0.015)  # argmax of logits + Gumbel noise ~ probs
    assert np.all(hard.detach().numpy().sum(1) == 1)
    soft = CF.gumbel_softmax(logits, tau=2.0)
    np.testing.assert_allclose(soft.detach().numpy().sum(1), 1)
    w = chainrule.tensor(np.array([1.0, -2.0, 0.5]))
    grads = []
    for hard in (True, False):  # straight through: the hard sample has the soft sample's gradient
        chainrule.manual_seed(7)
        x = chainrule.tensor(np.log(probs)[None].repeat(5, 0), requires_grad=True)
        (CF.gumbel_softmax(x, tau=0.5, hard=hard) * w).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-15)
    assert np.abs(grads[0]).sum() > 0


# ---- unhappy paths ------------------------------------------------------------------------------
def _both(fn):
    return [fn(lib) for lib in (chainrule, torch)]


@pytest.mark.parametrize(
    "program",
    [
        lambda m: m.nn.functional.hardshrink(m.tensor([float("nan"), 0.5, -0.2, float("inf")])),
        lambda m: m.nn.functional.softshrink(m.tensor([float("nan"), 0.7, float("-inf")])),
        lambda m: m.nn.functional.threshold(m.tensor([float("nan"), 1.0]), 0.5, 2.0),
        lambda m: m.nn.functional.threshold(m.tensor([1, 2, 3]), 1, 9),
        lambda m: m.nn.functional.hardswish(m.tensor([float("nan"), -3.0, 3.0])),
        lambda m: m.nn.functional.hardsigmoid(m.zeros(0, 3)),
        lambda m: m.nn.functional.prelu(m.zeros(0, 3), m.ones(3)),
        lambda m: m.nn.functional.multi_margin_loss(
            m.zeros(0, 3), m.zeros(0, dtype=m.long), reduction="none"
        ),
        lambda m: m.nn.functional.cosine_similarity(m.zeros(2, 3), m.zeros(2, 3)),
        lambda m: m.nn.functional.pairwise_distance(m.zeros(0, 3), m.zeros(0, 3)),
        lambda m: m.nn.functional.rms_norm(m.zeros(0, 4), (4,)),
        lambda m: m.nn.functional.instance_norm(m.ones(2, 3, 4).mT),  # non-contiguous
        lambda m: m.nn.functional.local_response_norm(m.arange(24.0).reshape(2, 4, 3).mT.contiguous().mT, 3),
        lambda m: m.nn.functional.margin_ranking_loss(m.ones(0), m.ones(0), m.ones(0), reduction="sum"),
        lambda m: m.nn.functional.soft_margin_loss(m.tensor([100.0, -100.0]), m.tensor([-1.0, 1.0])),
        lambda m: m.nn.functional.embedding_bag(m.tensor([0, 1]), m.ones(3, 2), m.tensor([0, 2, 2])),
        lambda m: m.nn.functional.instance_norm(m.ones(0, 3, 4)),
        lambda m: m.nn.functional.rms_norm(m.ones(2, 4), (4,), m.ones(4, dtype=m.float64)),
        lambda m: m.nn.functional.local_response_norm(m.arange(24).reshape(2, 3, 4), 2),
        lambda m: m.nn.functional.soft_margin_loss(m.ones(3, 4), m.ones(4)),
        lambda m: m.nn.functional.threshold(m.tensor([1, 2, 3]), 1.5, 0.7),
        lambda m: m.nn.functional.margin_ranking_loss(m.ones(0), m.ones(0), m.ones(0)),
    ],
)
def test_edge_inputs_match_torch(program) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no NumPy warning where torch is silent
        ours, theirs = _both(program)
    assert_close(ours, theirs, 1e-6, 1e-9, "edge input")
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]


def test_float32_stays_float32() -> None:
    x = chainrule.randn(2, 3, 4)
    for out in (
        CF.hardswish(x),
        CF.instance_norm(x),
        CF.rms_norm(x, (4,)),
        CF.local_response_norm(x, 2),
        CF.cosine_similarity(x, x),
        CF.pairwise_distance(x, x),
        CF.triplet_margin_loss(x, x, x),
        CF.dropout1d(x, 0.5),
        CF.alpha_dropout(x, 0.5, True),
        CF.gumbel_softmax(x),
        CF.prelu(x, chainrule.ones(3)),
    ):
        assert out.dtype == chainrule.float32


@pytest.mark.parametrize(
    ("program", "match"),
    [
        (lambda m: m.nn.MultiMarginLoss(p=3), "only p == 1 and p == 2"),
        (lambda m: m.nn.TripletMarginLoss(margin=0.0), "expected margin to be greater than 0"),
        (
            lambda m: m.nn.functional.margin_ranking_loss(m.ones(2), m.ones(2), m.ones(2), reduction="avg"),
            "not a valid",
        ),
        (lambda m: m.nn.functional.prelu(m.ones(2, 3), m.ones(2)), "Mismatch of parameter numbers"),
        (lambda m: m.nn.functional.hardshrink(m.tensor([1, 2])), "not implemented for 'Long'"),
        (lambda m: m.nn.functional.local_response_norm(m.ones(2, 3), 2), "Expected 3D or higher"),
        (
            lambda m: m.nn.functional.embedding_bag(m.tensor([1]), m.ones(3, 2)),
            "offsets has to be a 1D Tensor",
        ),
        (
            lambda m: m.nn.functional.gaussian_nll_loss(m.ones(2, 3), m.ones(2, 3), m.ones(3, 3)),
            "incorrect size",
        ),
        (
            lambda m: m.nn.functional.ctc_loss(m.zeros(3, 1, 4), m.tensor([[1, 1]]), (3,), (2,), blank=4),
            "blank must be in label range",
        ),
        (
            lambda m: m.nn.functional.ctc_loss(m.zeros(3, 1, 4), m.tensor([[1, 1]]), (4,), (2,)),
            "Expected input_lengths to have value at most 3",
        ),
        (lambda m: m.nn.functional.instance_norm(m.ones(2, 3, 1)), "more than 1 spatial element"),
        (lambda m: m.nn.functional.rrelu(m.ones(2), 0.5, 0.2), "Lower bound should be less than"),
        (
            lambda m: m.nn.functional.cosine_similarity(m.ones(2, 2).long(), m.ones(2, 2).long()),
            "common dtype",
        ),
        (lambda m: m.nn.functional.prelu(m.ones(2, 3), m.ones(3, dtype=m.float64)), "Type promoting"),
        (lambda m: m.nn.functional.gaussian_nll_loss(m.ones(2), m.ones(2), 1), "."),
        (lambda m: m.nn.functional.ctc_loss(m.zeros(3, 0, 4), m.zeros(0, 2).long(), [], []), "must not be"),
        (
            lambda m: m.nn.functional.ctc_loss(m.zeros(3, 1, 4).long(), m.ones(1, 2).long(), [3], [2]),
            "ctc_loss",
        ),
        (lambda m: m.nn.functional.rms_norm(m.ones(2, 4), 4), "must be tuple of ints"),
        (lambda m: m.nn.functional.rms_norm(m.ones(2, 4), ()), "at least 1-dimensional"),
        (lambda m: m.nn.functional.rms_norm(m.ones(2, 4).long(), (4,)), "not implemented for 'Long'"),
        (lambda m: m.nn.functional.instance_norm(m.ones(2, 3, 4).long()), "not implemented for 'Long'"),
        (lambda m: m.nn.functional.gumbel_softmax(m.ones(2, 3).long()), "continuous probability"),
        (lambda m: m.nn.functional.one_hot(m.tensor([0, 1]).int()), "LongTensor"),
        (lambda m: m.nn.functional.one_hot(m.tensor([-1, 1])), "non-negative"),
        (lambda m: m.nn.functional.one_hot(m.tensor([0, 3]), 2), "smaller than num_classes"),
        (lambda m: m.nn.functional.one_hot(m.zeros(0).long(), 0), "Can not infer"),
    ],
)
def test_errors_match_torch(program, match) -> None:
    raises_like_torch(program, match)


def test_top_level_forms_take_atens_arguments() -> None:
    x, w = _randn(2, 3, 4), _randn(5, 3)
    ours = (
        chainrule.embedding(chainrule.tensor(w), chainrule.tensor([[0, 4], [2, 2]])),
        chainrule.batch_norm(chainrule.tensor(x), None, None, None, None, True, 0.1, 1e-5, False),
        chainrule.margin_ranking_loss(chainrule.ones(3), chainrule.zeros(3), chainrule.ones(3), 0.5, 2),
    )
    theirs = (
        torch.embedding(torch.tensor(w), torch.tensor([[0, 4], [2, 2]])),
        torch.batch_norm(torch.tensor(x), None, None, None, None, True, 0.1, 1e-5, False),
        torch.margin_ranking_loss(torch.ones(3), torch.zeros(3), torch.ones(3), 0.5, 2),
    )
    for o, t in zip(ours, theirs):
        assert_close(o, t, 1e-9, 1e-12, "top-level form")
    assert to_numpy(ours[2]).shape == ()


# ---- adaptive softmax ---------------------------------------------------------------------------
@pytest.mark.parametrize("head_bias", [False, True])
def test_adaptive_log_softmax_matches_torch(head_bias) -> None:
    ours, theirs = layer_pair(
        "AdaptiveLogSoftmaxWithLoss", 8, 20, [4, 10, 15], div_value=2.0, head_bias=head_bias
    )
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = _randn(7, 8)
    targets = np.array([0, 5, 12, 19, 3, 10, 17])
    results = []
    for lib, layer in ((chainrule, ours), (torch, theirs)):
        xi = lib.tensor(x, requires_grad=True)
        output, loss = layer(xi, lib.tensor(targets))
        loss.backward()
        single = layer(xi[0], lib.tensor(targets[0]))
        grads = [p.grad for _, p in sorted(layer.named_parameters())]
        results.append([output, loss, xi.grad, *grads, layer.log_prob(xi), layer.predict(xi), single.output])
        results[-1].append(layer.predict(xi[:2] * 0))  # every row in the shortlist
    for k, (a, b) in enumerate(zip(*results)):
        assert_close(a, b, 1e-9, 1e-12, f"adaptive softmax result {k}")


def test_adaptive_log_softmax_errors_match_torch() -> None:
    raises_like_torch(lambda m: m.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [5, 3]), "cutoffs should be")
    raises_like_torch(lambda m: m.nn.AdaptiveLogSoftmaxWithLoss(4, 10, []), "length larger than 0")
    raises_like_torch(
        lambda m: m.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [3])(m.ones(2, 4), m.tensor([1, 10])),
        "Target values should be",
    )
    raises_like_torch(
        lambda m: m.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [3])(m.ones(3, 4), m.tensor([1, 2])),
        "same size in the batch",
    )
    raises_like_torch(
        lambda m: m.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [3])(m.ones(2, 4), m.ones(2, 1).long()),
        "multi-target",
    )


@pytest.mark.parametrize(
    ("fn", "shape"),
    [
        (CF.alpha_dropout, (4, 3)),
        (CF.feature_alpha_dropout, (4, 3, 2)),
        (CF.dropout1d, (3, 4)),
        (CF.dropout1d, (2, 3, 4)),
        (CF.dropout2d, (2, 3, 2, 2)),
        (CF.dropout3d, (3, 2, 2, 2)),
        (lambda x, p, training, inplace: CF.rrelu(x, 0.1, 0.3, training, inplace), (4, 3)),
    ],
)
def test_inplace_random_forms_equal_the_out_of_place_ones(fn, shape) -> None:
    """Same seed, same draws: the in-place form's values and gradients are the out-of-place one's
    (the in-place write must not clobber a value its backward reads)."""
    results = []
    for inplace in (False, True):
        chainrule.manual_seed(3)
        x = chainrule.randn(*shape, dtype=chainrule.float64, requires_grad=True)
        out = fn(x * 1, 0.3, True, inplace)
        out.backward(chainrule.ones_like(out) * 0.5)
        results.append((out.detach().numpy(), x.grad.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


@pytest.mark.parametrize(
    "name, shape", [("AlphaDropout", (400, 500)), ("FeatureAlphaDropout", (200, 300, 4))]
)
def test_alpha_dropout_modules_keep_the_self_normalising_statistics(name, shape) -> None:
    """In training, both libraries' layers keep a standard normal input's mean 0 and variance 1
    (within six standard errors of the sample) and set dropped units to the same value; the
    feature form drops whole channels; eval mode is the identity."""
    x = np.random.default_rng(0).standard_normal(shape)
    stats = []
    for lib in (chainrule, torch):
        layer = getattr(lib.nn, name)(p=0.3)
        out = layer(lib.tensor(x)).numpy()
        values, counts = np.unique(out, return_counts=True)
        dropped = out == values[counts.argmax()]  # every dropped unit holds one value
        if name == "FeatureAlphaDropout":
            per_channel = out.reshape(*shape[:2], -1)
            constant = np.ptp(per_channel, axis=-1) < 1e-12
            dropped_value = np.unique(np.round(per_channel[constant][:, 0], 10))
            assert dropped_value.size == 1  # every dropped channel holds the same value
            dropped = constant
        n = out.size
        assert abs(out.mean()) < 6 * (1 if name == "AlphaDropout" else 4) / np.sqrt(n) + 0.01
        assert abs(out.var() - 1) < 0.05
        stats.append(dropped.mean())
        layer.eval()
        np.testing.assert_array_equal(layer(lib.tensor(x)).numpy(), x)
    assert abs(stats[0] - 0.3) < 0.02 and abs(stats[1] - 0.3) < 0.02
