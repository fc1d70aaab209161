"""Every loss layer against torch.nn with the same inputs: the loss, the gradients of input and
target (where torch differentiates the target), second derivatives, every reduction; numerically
extreme logits; and torch's errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from oracle import same_or_same_error, to_numpy

import chainrule
import chainrule.nn as cnn
import chainrule.nn.functional as CF

RNG = np.random.default_rng(11)


def _logits(*shape):
    return RNG.standard_normal(shape) * 2


def _classes(n_classes, *shape):
    return RNG.integers(0, n_classes, shape)


def _probs(*shape):
    return RNG.uniform(0.02, 0.98, shape)


def _weights(n):
    return RNG.uniform(0.5, 2.0, n)


# name, kwargs (arrays become tensors of both libraries), input, target, target differentiable
CASES = [
    ("MSELoss", {}, _logits(4, 3), _logits(4, 3), True),
    ("L1Loss", {}, _logits(4, 3), _logits(4, 3), True),
    ("SmoothL1Loss", {}, _logits(5, 2), _logits(5, 2), True),
    ("SmoothL1Loss", {"beta": 0.5}, _logits(5, 2), _logits(5, 2), True),
    ("SmoothL1Loss", {"beta": 0.0}, _logits(6), _logits(6), True),
    ("HuberLoss", {}, _logits(4, 3), _logits(4, 3), True),
    ("HuberLoss", {"delta": 2.5}, _logits(4, 3), _logits(4, 3), True),
    ("CrossEntropyLoss", {}, _logits(6, 4), _classes(4, 6), False),
    ("CrossEntropyLoss", {"weight": _weights(4)}, _logits(6, 4), _classes(4, 6), False),
    ("CrossEntropyLoss", {"ignore_index": 1}, _logits(8, 3), _classes(3, 8), False),
    ("CrossEntropyLoss", {"label_smoothing": 0.15}, _logits(6, 4), _classes(4, 6), False),
    (
        "CrossEntropyLoss",
        {"label_smoothing": 0.3, "weight": _weights(3), "ignore_index": 0},
        _logits(7, 3),
        _classes(3, 7),
        False,
    ),
    ("CrossEntropyLoss", {}, _logits(2, 3, 4, 5), _classes(3, 2, 4, 5), False),
    (
        "CrossEntropyLoss",
        {"weight": _weights(3), "label_smoothing": 0.1},
        _logits(2, 3, 4),
        _classes(3, 2, 4),
        False,
    ),
    ("CrossEntropyLoss", {}, _logits(5), np.array(3), False),
    ("CrossEntropyLoss", {}, _logits(4, 3), _probs(4, 3), True),
    ("CrossEntropyLoss", {"weight": _weights(3), "label_smoothing": 0.2}, _logits(4, 3), _probs(4, 3), True),
    ("CrossEntropyLoss", {}, _logits(2, 3, 4), _probs(2, 3, 4), True),
    ("NLLLoss", {}, _logits(6, 4), _classes(4, 6), False),
    ("NLLLoss", {"weight": _weights(4), "ignore_index": 2}, _logits(9, 4), _classes(4, 9), False),
    ("NLLLoss", {"weight": _weights(3)}, _logits(2, 3, 2, 2), _classes(3, 2, 2, 2), False),
    ("BCELoss", {}, _probs(4, 3), _probs(4, 3), True),
    ("BCELoss", {"weight": _weights(3)}, _probs(4, 3), RNG.integers(0, 2, (4, 3)).astype(float), True),
    ("BCEWithLogitsLoss", {}, _logits(4, 3), _probs(4, 3), True),
    (
        "BCEWithLogitsLoss",
        {"weight": _weights(3), "pos_weight": _weights(3)},
        _logits(4, 3),
        _probs(4, 3),
        True,
    ),
    ("KLDivLoss", {"reduction": "batchmean"}, np.log(_probs(4, 3)), _probs(4, 3), True),
    (
        "KLDivLoss",
        {"reduction": "batchmean", "log_target": True},
        np.log(_probs(4, 3)),
        np.log(_probs(4, 3)),
        True,
    ),
]
REDUCTIONS = ["mean", "sum", "none"]


def _build(lib, name, kwargs, reduction, dtype):
    kw = {
        k: lib.tensor(np.asarray(v).astype(dtype)) if isinstance(v, np.ndarray) else v
        for k, v in kwargs.items()
    }
    if name == "KLDivLoss" and reduction != "mean":
        kw["reduction"] = reduction
    elif name != "KLDivLoss":
        kw["reduction"] = reduction
    return getattr(lib.nn, name)(**kw)


def _tensor(lib, a, dtype, grad):
    if a.dtype.kind in "iu":
        return lib.tensor(a)
    return lib.tensor(a.astype(dtype), requires_grad=grad)


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}{c[1] and sorted(c[1])}{c[2].shape}" for c in CASES])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_loss_matches_torch(case, reduction, dtype) -> None:
    name, kwargs, x, t, target_grad = case
    rtol, atol = (1e-10, 1e-12) if dtype == "float64" else (2e-5, 2e-6)
    ours = _build(chainrule, name, kwargs, reduction, dtype)
    theirs = _build(torch, name, kwargs, reduction, dtype)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ins_o = [_tensor(chainrule, x, dtype, True), _tensor(chainrule, t, dtype, target_grad)]
    ins_t = [_tensor(torch, x, dtype, True), _tensor(torch, t, dtype, target_grad)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # KLDivLoss's 'mean' warning, in both
        out_o, out_t = ours(*ins_o), theirs(*ins_t)
    np.testing.assert_allclose(to_numpy(out_o), to_numpy(out_t), rtol=rtol, atol=atol, err_msg="loss")
    assert out_o.shape == out_t.shape and str(out_o.dtype)[10:] == str(out_t.dtype)[6:]
    wrt = [i for i in (0, 1) if ins_t[i].requires_grad]
    v = RNG.standard_normal(tuple(out_t.shape)).astype(dtype)
    second = dtype == "float64"
    g_o = chainrule.autograd.grad(out_o, [ins_o[i] for i in wrt], chainrule.tensor(v), create_graph=second)
    g_t = torch.autograd.grad(out_t, [ins_t[i] for i in wrt], torch.tensor(v), create_graph=second)
    for i, a, b in zip(wrt, g_o, g_t):
        np.testing.assert_allclose(
            to_numpy(a), to_numpy(b), rtol=rtol, atol=atol, err_msg=f"grad of input {i}"
        )
    if not second:
        return
    ws = [RNG.standard_normal(tuple(b.shape)) for b in g_t]
    s_t = sum((b * torch.tensor(w)).sum() for b, w in zip(g_t, ws))
    s_o = sum(((a * chainrule.tensor(w)).sum() for a, w in zip(g_o, ws)), chainrule.tensor(0.0))
    if not s_t.requires_grad:
        return
    gg_t = torch.autograd.grad(s_t, [ins_t[i] for i in wrt], allow_unused=True)
    gg_o = (
        chainrule.autograd.grad(s_o, [ins_o[i] for i in wrt], allow_unused=True)
        if s_o.requires_grad
        else [None] * len(wrt)
    )
    for i, a, b in zip(wrt, gg_o, gg_t):
        expected = np.zeros(ins_t[i].shape) if b is None else to_numpy(b)
        got = np.zeros_like(expected) if a is None else to_numpy(a)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11, err_msg=f"second derivative {i}")


def test_kl_div_mean_warns_like_torch_and_matches() -> None:
    x, t = np.log(_probs(3, 4)), _probs(3, 4)
    with pytest.warns(UserWarning, match="batchmean"):
        ours = CF.kl_div(chainrule.tensor(x), chainrule.tensor(t))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.functional.kl_div(torch.tensor(x), torch.tensor(t))
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), rtol=1e-12)
    zero_target = chainrule.tensor([[0.0, 1.0]])
    assert CF.kl_div(chainrule.tensor([[-1.0, -2.0]]), zero_target, reduction="sum").item() == 2.0


def test_legacy_size_average_and_reduce() -> None:
    x, t = _logits(4, 3), _logits(4, 3)
    for size_average, reduce in [(False, None), (None, False), (True, True), (False, True)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = cnn.MSELoss(size_average=size_average, reduce=reduce)
            theirs = torch.nn.MSELoss(size_average=size_average, reduce=reduce)
            assert ours.reduction == theirs.reduction
            np.testing.assert_allclose(
                to_numpy(CF.l1_loss(chainrule.tensor(x), chainrule.tensor(t), size_average, reduce)),
                to_numpy(torch.nn.functional.l1_loss(torch.tensor(x), torch.tensor(t), size_average, reduce)),
            )


@pytest.mark.parametrize("fn", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_per_element_weight_of_regression_losses(fn, reduction) -> None:
    x, t, w = _logits(4, 3), _logits(4, 3), _weights(12).reshape(4, 3)
    ours = getattr(CF, fn)(
        chainrule.tensor(x, requires_grad=True),
        chainrule.tensor(t),
        reduction=reduction,
        weight=chainrule.tensor(w),
    )
    theirs = getattr(torch.nn.functional, fn)(
        torch.tensor(x), torch.tensor(t), reduction=reduction, weight=torch.tensor(w)
    )
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), rtol=1e-12)
    with pytest.raises(ValueError, match="same size"):
        getattr(CF, fn)(chainrule.tensor(x), chainrule.tensor(t), weight=chainrule.ones(3))


def test_regression_loss_warns_on_broadcasting_target() -> None:
    with pytest.warns(UserWarning, match="different to the input size"):
        CF.mse_loss(chainrule.ones(3, 1), chainrule.ones(3))


EXTREME = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, 3.0], [5.0, -3.0, 1e4]])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "kwargs", [{}, {"label_smoothing": 0.1}, {"reduction": "none"}, {"weight": np.array([1.0, 2.0, 0.5])}]
)
def test_cross_entropy_with_extreme_logits(dtype, kwargs) -> None:
    target = np.array([1, 0, 2, 0])
    results = []
    for lib in (chainrule, torch):
        kw = {k: lib.tensor(v.astype(dtype)) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        x = lib.tensor(EXTREME.astype(dtype), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            loss = lib.nn.functional.cross_entropy(x, lib.tensor(target), **kw)
            (g,) = lib.autograd.grad(loss.sum(), x)
        results.append((to_numpy(loss), to_numpy(g)))
    (lo, go), (lt, gt) = results
    assert np.isfinite(lo).all() and np.isfinite(go).all()
    np.testing.assert_allclose(lo, lt, rtol=1e-6)
    np.testing.assert_allclose(go, gt, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_binary_losses_with_extreme_values(dtype) -> None:
    logits = np.array([1e4, -1e4, 0.0, 50.0, -50.0])
    target = np.array([0.0, 1.0, 0.5, 1.0, 0.0])
    probs = np.array([0.0, 1.0, 1.0, 0.0, 0.5])
    for fn, x in (("binary_cross_entropy_with_logits", logits), ("binary_cross_entropy", probs)):
        results = []
        for lib in (chainrule, torch):
            xt = lib.tensor(x.astype(dtype), requires_grad=True)
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                loss = getattr(lib.nn.functional, fn)(xt, lib.tensor(target.astype(dtype)), reduction="none")
                (g,) = lib.autograd.grad(loss.sum(), xt)
            results.append((to_numpy(loss), to_numpy(g)))
        (lo, go), (lt, gt) = results
        assert np.isfinite(lo).all() and np.isfinite(go).all(), fn
        np.testing.assert_allclose(lo, lt, rtol=1e-6, err_msg=fn)
        np.testing.assert_allclose(go, gt, rtol=1e-6, err_msg=fn)


def test_pos_weight_gradient_against_finite_differences() -> None:
    """torch does not differentiate pos_weight; chainrule does: check it numerically."""
    x, t, pw = _logits(3, 4), _probs(3, 4), _weights(4)
    pw_t = chainrule.tensor(pw, requires_grad=True)
    loss = CF.binary_cross_entropy_with_logits(chainrule.tensor(x), chainrule.tensor(t), pos_weight=pw_t)
    (g,) = chainrule.autograd.grad(loss, pw_t)

    def value(p):
        return CF.binary_cross_entropy_with_logits(
            chainrule.tensor(x), chainrule.tensor(t), pos_weight=chainrule.tensor(p)
        ).item()

    eps = 1e-6
    numeric = [(value(pw + eps * e) - value(pw - eps * e)) / (2 * eps) for e in np.eye(4)]
    np.testing.assert_allclose(g.numpy(), numeric, rtol=1e-6)


def test_all_targets_ignored_gives_nan_mean_like_torch() -> None:
    x, t = _logits(3, 4), np.full(3, -100)
    ours = CF.cross_entropy(chainrule.tensor(x, requires_grad=True), chainrule.tensor(t))
    theirs = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t))
    assert np.isnan(ours.item()) and np.isnan(theirs.item())
    ours_sum = CF.nll_loss(chainrule.tensor(x), chainrule.tensor(t), reduction="sum")
    assert ours_sum.item() == 0.0


@pytest.mark.parametrize(
    "call,error",
    [
        (lambda F, lib: F.nll_loss(lib.zeros(2, 3), lib.tensor([0, 3])), "IndexError"),
        (lambda F, lib: F.nll_loss(lib.zeros(2, 3), lib.tensor([0, 1, 2])), "ValueError"),
        (lambda F, lib: F.cross_entropy(lib.zeros(2, 3), lib.tensor([0, 1]), reduction="avg"), "ValueError"),
        (
            lambda F, lib: F.cross_entropy(lib.zeros(2, 3), lib.tensor([0, 1]), weight=lib.ones(2)),
            "RuntimeError",
        ),
        (
            lambda F, lib: F.cross_entropy(lib.zeros(2, 3), lib.tensor([0, 1]), label_smoothing=1.5),
            "RuntimeError",
        ),
        (
            lambda F, lib: F.cross_entropy(lib.zeros(2, 3), lib.zeros(2, 3, dtype=lib.int64) + 1),
            "RuntimeError",
        ),
        (lambda F, lib: F.binary_cross_entropy(lib.zeros(3), lib.zeros(3, 1)), "ValueError"),
        (lambda F, lib: F.binary_cross_entropy(lib.tensor([1.5]), lib.zeros(1)), "RuntimeError"),
        (lambda F, lib: F.binary_cross_entropy_with_logits(lib.zeros(3), lib.zeros(3, 1)), "ValueError"),
        (lambda F, lib: F.smooth_l1_loss(lib.zeros(3), lib.zeros(3), beta=-1.0), "RuntimeError"),
        (lambda F, lib: F.huber_loss(lib.zeros(3), lib.zeros(3), delta=0.0), "RuntimeError"),
        (lambda F, lib: F.mse_loss(lib.zeros(3), lib.zeros(3), reduction="bogus"), "ValueError"),
    ],
)
def test_errors_match_torch(call, error) -> None:
    for F, lib in ((CF, chainrule), (torch.nn.functional, torch)):
        with pytest.raises(Exception) as info:
            call(F, lib)
        assert type(info.value).__name__ == error, (lib.__name__, info.value)


def test_cross_entropy_drives_a_node_count_of_two() -> None:
    """cross_entropy is log_softmax and nll_loss, one node each."""
    x = chainrule.randn(4, 3, requires_grad=True)
    loss = CF.cross_entropy(x, chainrule.tensor([0, 1, 2, 1]))
    assert loss.grad_fn.name() == "NllLossBackward0"
    assert loss.grad_fn.next_functions[0][0].name() == "LogSoftmaxBackward0"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(32, 10), (1, 3), (7, 1), (300, 1000)])
@pytest.mark.parametrize("ignore_index", [-100, 0, 2])
def test_cross_entropy_plain_mean_matches_torch(dtype, shape, ignore_index):
    """(N, C) logits, (N,) targets, no weights, the mean: nll_loss's short path (ops/loss.py
    _plain_mean_nll) and, where a target equals ignore_index, the general one."""
    rng = np.random.default_rng(shape[0])
    x = rng.standard_normal(shape).astype(dtype)
    t = rng.integers(0, shape[1], shape[0])
    results = []
    for lib in (chainrule, torch):
        logits = lib.tensor(x, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(logits, lib.tensor(t), ignore_index=ignore_index)
        loss.backward()
        results.append((loss.detach().numpy(), logits.grad.numpy()))
    (ours, our_grad), (theirs, their_grad) = results
    assert ours.dtype == theirs.dtype and our_grad.dtype == their_grad.dtype
    # (float32: the mean of N rounded sums; log_softmax's rows agree to a few ulps)
    tol = 2e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)
    np.testing.assert_allclose(our_grad, their_grad, rtol=tol * 10, atol=tol)


# ---- empty inputs -------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    "shapes", [[(0, 3), (4, 3)], [(2, 3), (4, 3)], [(4, 0), (4, 0)], [(0,), (0,)], [(0, 3), (0, 3)]]
)
def test_cross_entropy_with_probabilities_on_empty_inputs(shapes, reduction) -> None:
    """A batch mismatch is torch's ValueError; no classes or no samples give torch's values."""

    def loss(m, x, p):
        return m.nn.functional.cross_entropy(x, p.softmax(-1), reduction=reduction, label_smoothing=0.1)

    same_or_same_error(loss, shapes, fragments=["batch_size", str(list(shapes[1]))])
