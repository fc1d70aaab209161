"""Losses, distances, similarities (and the trapezoidal rule) at inf, NaN and 1e38, against torch:
small explicit inputs for each fix of the extreme-value sweep (tests/test_extreme_values.py),
values and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

INF, NAN = np.inf, np.nan


def _both(fn, *arrays, grad=True):
    """``fn(lib, *tensors)`` in both libraries: the outputs and the gradients of a fixed random
    vector-Jacobian product with every float input, compared (NaN and inf positions included)."""
    results = []
    for lib in (chainrule, torch):
        ins = [
            lib.tensor(a, requires_grad=grad and a.dtype.kind == "f") if isinstance(a, np.ndarray) else a
            for a in arrays
        ]
        out = fn(lib, *ins)
        got = [out.detach().numpy()]
        wrt = [t for t in ins if isinstance(t, lib.Tensor) and t.requires_grad]
        if wrt:
            v = lib.tensor(np.random.default_rng(5).standard_normal(tuple(out.shape)).astype(np.float32))
            got += [g.numpy() for g in lib.autograd.grad(out, wrt, v, allow_unused=False)]
        results.append(got)
    for ours, theirs in zip(*results):
        scale = np.abs(theirs[np.isfinite(theirs)]).max(initial=1.0)
        np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=1e-5 * scale)
    return results[1]


def _f32(rows) -> np.ndarray:
    return np.array(rows, dtype=np.float32)


@pytest.mark.parametrize("value", [1e38, INF])
def test_cosine_similarity_with_an_infinite_norm(value) -> None:
    """A norm that overflows (or is inf) divides to 0, as torch's; the clamp at eps adds 0 to it,
    not ``inf - inf``."""
    x1 = _f32([[value, 0.5, -0.3], [0.2, 0.4, 0.1]])
    x2 = _f32([[value, 0.1, 0.7], [0.3, -0.2, 0.5]])
    out = _both(lambda m, a, b: m.nn.functional.cosine_similarity(a, b, dim=1), x1, x2)[0]
    if value == 1e38:
        assert out[0] == 0


def test_triplet_margin_with_cosine_distance_at_1e38() -> None:
    a = _f32([[1e38, 0.5, -0.3], [0.2, 0.4, 0.1]])
    p, n = _f32([[0.3, 0.1, 0.7], [0.3, -0.2, 0.5]]), _f32([[1e38, 1.0, 0.7], [0.3, 0.2, -0.5]])

    def fn(m, a, p, n):
        cos = lambda x, y: 1 - m.nn.functional.cosine_similarity(x, y)  # noqa: E731
        return m.nn.functional.triplet_margin_with_distance_loss(a, p, n, distance_function=cos, swap=True)

    _both(fn, a, p, n)


@pytest.mark.parametrize("value", [INF, -INF, NAN])
def test_one_norm_distances_gradient_at_a_nan_difference(value) -> None:
    """``inf - inf`` (or a NaN) in the difference: the 1-norm's gradient is ``sign(d) * g``, and
    torch's sign of NaN is 0, so those elements get 0, not NaN (first order and create_graph)."""
    x1, x2 = _f32([[value, 0.5, -0.3], [0.2, 0.4, 0.1]]), _f32([[value, 0.1, 0.7], [0.3, -0.2, 0.5]])
    grads = _both(lambda m, a, b: m.nn.functional.pairwise_distance(a, b, p=1, keepdim=True), x1, x2)[1:]
    assert grads[0][0, 0] == 0 and grads[1][0, 0] == 0
    x3 = _f32([[0.1, 0.2, 0.3], [value, 0.0, 1.0]])
    _both(
        lambda m, a, p, n: m.nn.functional.triplet_margin_loss(a, p, n, p=1, swap=True, reduction="none"),
        x1,
        x2,
        x3,
    )
    for create_graph in (False, True):  # the array rule and the differentiable one
        x = chainrule.tensor(_f32([[NAN, 0.5, -0.3]]), requires_grad=True)
        (g,) = chainrule.autograd.grad(
            chainrule.linalg.vector_norm(x, 1, 1).sum(), x, create_graph=create_graph
        )
        assert g.detach().numpy().tolist() == [[0.0, 1.0, -1.0]]


@pytest.mark.parametrize("value", [INF, -INF, NAN])
def test_margin_losses_add_only_positive_terms(value) -> None:
    """torch's multi-class and multi-label hinge kernels add a term only where it is > 0: a NaN
    score's terms add nothing (and get no gradient); a pair that is not one never multiplies."""
    x = _f32([[value, 0.5, -0.3, 0.2], [0.2, 0.4, 0.1, value], [0.3, 0.1, 0.9, -0.5]])
    t = np.array([1, 3, 2])
    _both(lambda m, x, t: m.nn.functional.multi_margin_loss(x, t), x, t)
    w = _f32([0.5, 1.0, 2.0, 0.25])  # (a constant: torch's weight takes no gradient)

    def weighted(m, x, t):
        return m.nn.functional.multi_margin_loss(x, t, p=2, margin=0.7, weight=m.tensor(w), reduction="none")

    _both(weighted, x, t)
    labels = np.array([[1, 2, -1, 0], [3, -1, 0, 0], [0, 1, 2, 3]])
    _both(lambda m, x, t: m.nn.functional.multilabel_margin_loss(x, t), x, labels)
    _both(lambda m, x, t: m.nn.functional.multilabel_margin_loss(x, t, reduction="none"), x, labels)


@pytest.mark.parametrize("value", [INF, -INF, NAN])
@pytest.mark.parametrize("p", [1.0, INF])
def test_cdist_and_pdist_one_and_inf_norms_as_torch(value, p) -> None:
    """torch's distance kernels: for p = inf the running max from 0 skips a NaN (``inf - inf``
    gives a finite distance), and the gradients take a sign that is NaN at NaN."""
    x1 = _f32([[[value, 0.5, -0.3], [0.2, 0.4, 0.1]]])
    x2 = _f32([[[value, 0.1, 0.7], [0.3, -0.2, 0.5], [1.0, 1.0, 1.0]]])
    _both(lambda m, a, b: m.cdist(a, b, p=p), x1, x2)
    _both(lambda m, a, b: m.cdist(a, b, p=p), x1[..., :1], x2[..., :1])  # one feature: all NaN/inf
    _both(lambda m, a: m.nn.functional.pdist(a, p=p), np.concatenate([x1[0], x2[0]]))


def test_cdist_inf_gradient_goes_whole_to_every_tie() -> None:
    x1, x2 = _f32([[1.0, -2.0, 2.0]]), _f32([[0.0, 0.0, 0.0], [3.0, 0.0, 0.0]])
    grads = _both(lambda m, a, b: m.cdist(a, b, p=INF), x1, x2)[1:]
    assert grads[0].tolist()[0][1] != 0 and grads[0].tolist()[0][2] != 0  # both ties of row 0


@pytest.mark.parametrize("value", [INF, -INF, NAN])
def test_trapezoid_with_constant_spacing_is_torchs_formula(value) -> None:
    """dx (sum(y) - (y[0] + y[-1]) / 2): an infinite end sample gives NaN (inf - inf), as torch's;
    an infinite inner sample inf; one sample 0 (or NaN for a non-finite one)."""
    y = _f32([[value, 0.5, -0.3, 2.0], [0.2, value, 0.1, 1.0]])
    _both(lambda m, y: m.trapezoid(y), y)
    _both(lambda m, y: m.trapezoid(y, dx=0.5, dim=0), y)
    _both(lambda m, y: m.trapezoid(y), y[:, :1])
    x = _f32([0.0, 0.5, 1.5, 2.0])
    _both(lambda m, y, x: m.trapezoid(y, x), y, x)


def test_embedding_bag_max_keeps_the_first_maximum_past_a_nan() -> None:
    """torch walks a bag in order and takes a row only where it is larger (``x > best``): a NaN
    after the first row never wins; a first-row NaN stays. The gradient goes to the winner."""
    w = np.random.default_rng(0).uniform(-2, 2, (6, 3)).astype(np.float32)
    w[0, 0] = w[2, 1] = NAN
    idx, offsets = np.array([0, 2, 1, 0, 3, 4, 5]), np.array([0, 2, 2, 5])

    def bag(m, w):
        return m.nn.functional.embedding_bag(m.tensor(idx), w, m.tensor(offsets), mode="max")

    out = _both(bag, w)[0]
    assert np.isnan(out[0, 0]) and np.isfinite(out[2]).all()


@pytest.mark.parametrize("value", [INF, -INF, NAN])
def test_ctc_loss_log_sum_exp_at_an_infinite_log_probability(value) -> None:
    """torch's CTC recursion shifts each log-sum-exp by its largest term (by 0 only when that is
    -inf): a +inf log-probability gives inf - inf, NaN, not inf."""
    lp = np.random.default_rng(3).uniform(-3, 0, (4, 2, 4)).astype(np.float32)
    lp[0, 0, 0] = value
    targets, in_lengths, tg_lengths = np.array([[1, 2], [3, 3]]), [4, 3], [2, 1]

    def loss(m, lp, reduction):
        return m.nn.functional.ctc_loss(lp, m.tensor(targets), in_lengths, tg_lengths, reduction=reduction)

    _both(lambda m, lp: loss(m, lp, "sum"), lp)
    _both(lambda m, lp: loss(m, lp, "none"), lp)
