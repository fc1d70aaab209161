"""Linear, Bilinear, the shape layers and the activation layers against torch.nn: the same weights
(torch's, loaded through load_state_dict) and inputs give the same outputs, input gradients,
parameter gradients and second derivatives, in train and eval mode, in float64 and float32."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from oracle import compare_layer, layer_pair, to_numpy

import chainrule
import chainrule.nn as cnn
import chainrule.nn.functional as CF


def _randn(*shape, scale: float = 1.5) -> np.ndarray:
    return np.random.default_rng(sum(shape) + len(shape)).standard_normal(shape) * scale


LAYERS = [
    ("Linear", (4, 3), {}, [(5, 4)]),
    ("Linear", (4, 3), {"bias": False}, [(5, 4)]),
    ("Linear", (4, 2), {}, [(2, 3, 4)]),
    ("Linear", (4, 2), {}, [(4,)]),
    ("Bilinear", (3, 2, 4), {}, [(5, 3), (5, 2)]),
    ("Bilinear", (2, 2, 1), {"bias": False}, [(3, 2), (3, 2)]),
    ("Identity", (3,), {"unused": 1}, [(2, 3)]),
    ("Flatten", (), {}, [(2, 3, 4)]),
    ("Flatten", (0, 1), {}, [(2, 3, 4)]),
    ("Unflatten", (1, (2, 3)), {}, [(4, 6)]),
    ("ReLU", (), {}, [(3, 4)]),
    ("ReLU6", (), {}, [(3, 4)]),
    ("Hardtanh", (-0.5, 0.7), {}, [(3, 4)]),
    ("LeakyReLU", (), {}, [(3, 4)]),
    ("LeakyReLU", (0.3,), {}, [(2, 3, 2)]),
    ("ELU", (), {}, [(3, 4)]),
    ("ELU", (0.4,), {}, [(5,)]),
    ("SELU", (), {}, [(3, 4)]),
    ("CELU", (1.5,), {}, [(3, 4)]),
    ("GELU", (), {}, [(3, 4)]),
    ("GELU", ("tanh",), {}, [(3, 4)]),
    ("SiLU", (), {}, [(3, 4)]),
    ("Mish", (), {}, [(3, 4)]),
    ("Sigmoid", (), {}, [(3, 4)]),
    ("Tanh", (), {}, [(3, 4)]),
    ("Softsign", (), {}, [(3, 4)]),
    ("LogSigmoid", (), {}, [(3, 4)]),
    ("Softplus", (), {}, [(3, 4)]),
    ("Softplus", (2.0, 3.0), {}, [(3, 4)]),
    ("Softmax", (1,), {}, [(3, 4)]),
    ("Softmax", (-1,), {}, [(2, 3, 4)]),
    ("Softmin", (0,), {}, [(3, 4)]),
    ("LogSoftmax", (1,), {}, [(3, 4)]),
    ("LogSoftmax", (0,), {}, [(5,)]),
    ("GLU", (), {}, [(3, 4)]),
]


@pytest.mark.parametrize(
    "name,args,kwargs,shapes", LAYERS, ids=[f"{n}{a}{k or ''}{s}" for n, a, k, s in LAYERS]
)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_layer_matches_torch(name, args, kwargs, shapes, dtype) -> None:
    ours, theirs = layer_pair(name, *args, dtype=dtype, **kwargs)
    assert repr(ours) == repr(theirs)
    compare_layer(ours, theirs, [_randn(*s) for s in shapes], dtype=dtype, second=dtype == "float64")


@pytest.mark.parametrize(
    "name,args",
    [
        ("ReLU", ()),
        ("LeakyReLU", (0.1,)),
        ("ELU", (1.0,)),
        ("SiLU", ()),
        ("SELU", ()),
        ("CELU", (2.0,)),
        ("ReLU6", ()),
        ("Hardtanh", ()),
        ("Mish", ()),
    ],
)
def test_inplace_activations_match_torch(name, args) -> None:
    ours, theirs = layer_pair(name, *args, inplace=True)
    assert repr(ours) == repr(theirs)
    x = _randn(3, 4)
    a_o = chainrule.tensor(x, requires_grad=True)
    a_t = torch.tensor(x, requires_grad=True)
    h_o, h_t = a_o * 1.0, a_t * 1.0
    y_o, y_t = ours(h_o), theirs(h_t)
    assert y_o is h_o  # written into its input, as torch's
    np.testing.assert_allclose(to_numpy(y_o), to_numpy(y_t), rtol=1e-12)
    (y_o * y_o).sum().backward()
    (y_t * y_t).sum().backward()
    np.testing.assert_allclose(to_numpy(a_o.grad), to_numpy(a_t.grad), rtol=1e-10, atol=1e-12)


EXTREME = np.array([[-1e4, 0.0, 1e4], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4], [3.0, -2.0, 1e-3]])


@pytest.mark.parametrize(
    "fn",
    [
        lambda F, x: F.softmax(x, dim=1),
        lambda F, x: F.log_softmax(x, dim=1),
        lambda F, x: F.softmax(x, 0),
        lambda F, x: F.log_softmax(x, 0),
        lambda F, x: F.sigmoid(x),
        lambda F, x: F.softplus(x),
        lambda F, x: F.logsigmoid(x),
        lambda F, x: F.gelu(x),
        lambda F, x: F.gelu(x, approximate="tanh"),
        lambda F, x: F.silu(x),
        lambda F, x: F.elu(x),
        lambda F, x: F.mish(x),
        lambda F, x: F.tanh(x),
        lambda F, x: F.softmin(x, 1),
    ],
    ids=[
        "softmax1",
        "log_softmax1",
        "softmax0",
        "log_softmax0",
        "sigmoid",
        "softplus",
        "logsigmoid",
        "gelu",
        "gelu_tanh",
        "silu",
        "elu",
        "mish",
        "tanh",
        "softmin",
    ],
)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_extreme_logits_are_finite_and_match_torch(fn, dtype) -> None:
    x_o = chainrule.tensor(EXTREME.astype(dtype), requires_grad=True)
    x_t = torch.tensor(EXTREME.astype(dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow / invalid-value warnings from NumPy
        y_o = fn(CF, x_o)
        v = np.random.default_rng(0).standard_normal(EXTREME.shape).astype(dtype)
        (g_o,) = chainrule.autograd.grad(y_o, x_o, chainrule.tensor(v))
    y_t = fn(torch.nn.functional, x_t)
    (g_t,) = torch.autograd.grad(y_t, x_t, torch.tensor(v))
    assert np.isfinite(to_numpy(y_o)).all() and np.isfinite(to_numpy(g_o)).all()
    np.testing.assert_allclose(to_numpy(y_o), to_numpy(y_t), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(to_numpy(g_o), to_numpy(g_t), rtol=1e-5, atol=1e-6)


def test_softplus_above_a_huge_threshold_stays_finite() -> None:
    """torch computes log1p(exp(beta x)) / beta and overflows to inf for beta x > ~709 (88 in float32)
    when the threshold is raised; chainrule's log-add-exp form gives the exact value, ~x."""
    x = chainrule.tensor([1e4, -1e4, 2.0], dtype=chainrule.float64)
    y = CF.softplus(x, beta=0.5, threshold=1e5).numpy()
    np.testing.assert_allclose(y, [1e4, 0.0, 2 * np.log1p(np.exp(1.0))], rtol=1e-12)
    assert torch.isinf(torch.nn.functional.softplus(torch.tensor([1e4]), beta=0.5, threshold=1e5)).all()


def test_linear_default_init_is_torchs_distribution() -> None:
    chainrule.manual_seed(0)
    layer = cnn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) gives exactly U(-1/sqrt(fan_in), ...)
    w, b = layer.weight.numpy(force=True), layer.bias.numpy(force=True)
    assert w.shape == (300, 400) and b.shape == (300,) and w.dtype == np.float32
    assert -bound <= w.min() and w.max() <= bound and -bound <= b.min() and b.max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound and abs(w.mean()) < 0.01 * bound
    assert layer.weight.requires_grad and layer.weight.is_leaf and layer.weight.grad is None
    assert sum(p.numel() for p in layer.parameters()) == sum(
        p.numel() for p in torch.nn.Linear(400, 300).parameters()
    )
    b2 = cnn.Bilinear(50, 20, 30)
    assert np.abs(b2.weight.numpy(force=True)).max() <= 1 / math.sqrt(50)
    assert cnn.Linear(3, 2, dtype=chainrule.float64).weight.dtype == chainrule.float64


def test_linear_errors_name_shapes_and_dtypes() -> None:
    layer = cnn.Linear(4, 3)
    with pytest.raises(RuntimeError, match=r"\(2, 5\).*\(3, 4\)"):
        layer(chainrule.ones(2, 5))
    with pytest.raises(RuntimeError, match="float64"):
        layer(chainrule.ones(2, 4, dtype=chainrule.float64))
    with pytest.raises(RuntimeError):
        torch.nn.Linear(4, 3)(torch.ones(2, 5))


def test_softmax_without_dim_warns_and_picks_torchs_dim() -> None:
    for shape in [(3,), (2, 3), (2, 3, 4), (2, 3, 4, 5)]:
        x = _randn(*shape)
        with pytest.warns(UserWarning, match="Implicit dimension"):
            ours = CF.softmax(chainrule.tensor(x))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = torch.nn.functional.softmax(torch.tensor(x))
        np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), rtol=1e-12)
    with pytest.raises(RuntimeError, match="floating point"):
        chainrule.softmax(chainrule.tensor([1, 2]), 0)
    np.testing.assert_allclose(
        to_numpy(chainrule.softmax(chainrule.tensor([1, 2]), 0, dtype=chainrule.float64)),
        to_numpy(torch.softmax(torch.tensor([1, 2]), 0, dtype=torch.float64)),
    )


def test_gelu_rejects_unknown_approximation() -> None:
    with pytest.raises(RuntimeError, match="approximate"):
        CF.gelu(chainrule.ones(2), approximate="fast")


def test_functional_forms_match_modules_and_torch() -> None:
    x = _randn(3, 4)
    for fn in [
        "relu",
        "sigmoid",
        "tanh",
        "silu",
        "gelu",
        "elu",
        "leaky_relu",
        "softplus",
        "selu",
        "mish",
        "logsigmoid",
        "softsign",
        "relu6",
        "hardtanh",
    ]:
        np.testing.assert_allclose(
            to_numpy(getattr(CF, fn)(chainrule.tensor(x))),
            to_numpy(getattr(torch.nn.functional, fn)(torch.tensor(x))),
            rtol=1e-12,
            atol=1e-15,
            err_msg=fn,
        )
    oh = CF.one_hot(chainrule.tensor([0, 2, 1]), 4)
    np.testing.assert_array_equal(oh.numpy(), torch.nn.functional.one_hot(torch.tensor([0, 2, 1]), 4))
    assert oh.dtype == chainrule.int64
    np.testing.assert_allclose(
        to_numpy(CF.normalize(chainrule.tensor(x), dim=0)),
        to_numpy(torch.nn.functional.normalize(torch.tensor(x), dim=0)),
        rtol=1e-12,
    )


def test_mlp_training_steps_follow_torch() -> None:
    """A 2-layer MLP, torch's initial weights: five SGD steps give the same losses and weights."""
    torch.manual_seed(1)
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3)).double()
    ours = cnn.Sequential(cnn.Linear(6, 16), cnn.ReLU(), cnn.Linear(16, 3)).double()
    ours.load_state_dict({k: chainrule.tensor(to_numpy(v)) for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((32, 6)), rng.integers(0, 3, 32)
    for _ in range(5):
        loss_o = cnn.CrossEntropyLoss()(ours(chainrule.tensor(x)), chainrule.tensor(y))
        loss_t = torch.nn.CrossEntropyLoss()(theirs(torch.tensor(x)), torch.tensor(y))
        np.testing.assert_allclose(loss_o.item(), loss_t.item(), rtol=1e-12)
        ours.zero_grad()
        theirs.zero_grad()
        loss_o.backward()
        loss_t.backward()
        with chainrule.no_grad():
            for p in ours.parameters():
                p -= 0.1 * p.grad
        with torch.no_grad():
            for p in theirs.parameters():
                p -= 0.1 * p.grad
    for (k, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-10, err_msg=k)
