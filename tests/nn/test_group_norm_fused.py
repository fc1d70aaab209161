"""Group norm's fused op (``chainrule.ops.group_norm``, torch's CPU kernel's form) against torch:
values and every subset of first-order gradients on float32 and float64, with and without the
affine parameters, non-contiguous and large inputs (the two halves on two threads), chunk sizes
that split the rows unevenly, inf and NaN in the input, the weight and the bias (torch's NaN
pattern, which the centred form did not give), second order, forward mode and vmap."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import chainrule
from chainrule.kernels import group_norm as kg

pytestmark = pytest.mark.usefixtures("jit_path")  # (the compiled kernels: _jit_groupnorm)


def _run(lib, arrays, groups, needs, dtype, eps=1e-5, upstream=None, layout=None):
    """Output and the gradients of the inputs in ``needs`` (x, w, b; None arrays are left out).
    torch's backward of a bias without a weight raises ("tensor does not have a device"), so its
    side gets a weight of ones (the same map) that takes no gradient."""
    if lib is torch and arrays[1] is None and arrays[2] is not None:
        arrays, needs = [arrays[0], np.ones(arrays[2].shape), arrays[2]], (needs[0], False, needs[2])
    ts = [None if a is None else lib.tensor(a.astype(dtype), requires_grad=r) for a, r in zip(arrays, needs)]
    x = ts[0] if layout is None else layout(ts[0])
    out = lib.nn.functional.group_norm(x, groups, ts[1], ts[2], eps)
    v = upstream if upstream is not None else np.random.default_rng(3).standard_normal(tuple(out.shape))
    wrt = [t for t, r in zip(ts, needs) if t is not None and r]
    grads = lib.autograd.grad(out, wrt, lib.tensor(v.astype(dtype))) if wrt else ()
    return [out.detach().numpy()] + [g.numpy() for g in grads]


def _close(ours, theirs, dtype) -> None:
    """Equal to float tolerance, with the same NaN and infinity positions. (float32: the weight
    gradient's ``ds - db mean`` cancels, as torch's own does, to about 1e-4 of the largest value.)"""
    rtol, atol = (1e-9, 1e-10) if dtype == np.float64 else (2e-4, 1e-4)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_array_equal(np.isinf(a) * np.sign(a), np.isinf(b) * np.sign(b))
        finite = np.isfinite(b)
        scale = max(1.0, float(np.abs(b[finite]).max())) if finite.any() else 1.0
        np.testing.assert_allclose(a[finite], b[finite], rtol=rtol, atol=atol * scale)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "shape, groups",
    [
        ((3, 6), 3),
        ((2, 4, 3), 2),
        ((3, 6, 4, 5), 1),
        ((3, 6, 4, 5), 6),
        ((2, 4, 2, 3, 2), 2),
    ],
)
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
def test_values_and_gradients_match_torch(shape, groups, affine, dtype) -> None:
    rng = np.random.default_rng(sum(shape) + groups)
    C = shape[1]
    x = rng.standard_normal(shape) * 2 + 0.5
    w = rng.uniform(0.5, 2, C) if affine in ("both", "weight") else None
    b = rng.standard_normal(C) if affine in ("both", "bias") else None
    needs = (True, w is not None, b is not None)
    _close(
        _run(chainrule, [x, w, b], groups, needs, dtype), _run(torch, [x, w, b], groups, needs, dtype), dtype
    )


@pytest.mark.parametrize("affine", ["both", "none"])
def test_large_input_over_two_threads(affine) -> None:
    """Over 2M elements (kernels.halves.MIN_ONE_PASS): each pass's rows split over two threads."""
    rng = np.random.default_rng(5)
    shape = (33, 8, 90, 90)
    x = rng.standard_normal(shape, dtype=np.float32) * 2 + 0.5
    w, b = (rng.uniform(0.5, 2, 8), rng.standard_normal(8)) if affine == "both" else (None, None)
    needs = (True, w is not None, b is not None)
    ours = _run(chainrule, [x, w, b], 4, needs, np.float32)
    _close(ours, _run(torch, [x, w, b], 4, needs, np.float32), np.float32)


@pytest.mark.parametrize("needs", list(itertools.product([True, False], repeat=3))[:-1])
def test_every_subset_of_gradients(needs) -> None:
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((3, 6, 7)), rng.standard_normal(6), rng.standard_normal(6)]
    _close(
        _run(chainrule, arrays, 3, needs, np.float64), _run(torch, arrays, 3, needs, np.float64), np.float64
    )


def test_non_contiguous_input_and_gradient() -> None:
    """The input a permuted view, the upstream gradient arriving through a transpose."""
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((5, 3, 4, 6)), rng.standard_normal(4), rng.standard_normal(4)
    v = rng.standard_normal((5, 4, 3, 6))
    results = []
    for lib in (chainrule, torch):
        ts = [lib.tensor(a.astype(np.float32), requires_grad=True) for a in (x, w, b)]
        y = lib.nn.functional.group_norm(ts[0].permute(1, 2, 0, 3), 2, ts[1], ts[2])  # (3, 4, 5, 6)
        grads = lib.autograd.grad(y.transpose(0, 2), ts, lib.tensor(v.astype(np.float32)))
        results.append([y.detach().numpy()] + [g.numpy() for g in grads])
    _close(results[0], results[1], np.float32)


def test_uneven_chunks(monkeypatch) -> None:
    """A chunk of two rows (a ragged last chunk) on the NumPy paths gives torch's values."""
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal((7, 6, 5)), rng.standard_normal(6), rng.standard_normal(6)]
    monkeypatch.setattr(kg, "_CHUNK", 2 * 5 * 8)
    _close(
        _run(chainrule, arrays, 3, (True,) * 3, np.float64),
        _run(torch, arrays, 3, (True,) * 3, np.float64),
        np.float64,
    )


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("where", ["input", "weight", "bias"])
@pytest.mark.parametrize("affine", ["both", "weight", "bias"])
def test_non_finite_values_give_torchs_nan_pattern(value, where, affine) -> None:
    """An inf weight meets the mean in torch's fused ``x (invstd w) + (b - invstd w mean)`` (NaN
    where the centred form gave +-inf), and its backward's ``c1 g + c2 x + c3``: chainrule gives
    torch's values, infinities and NaNs in the output and all three gradients."""
    if (where == "weight" and affine == "bias") or (where == "bias" and affine == "weight"):
        pytest.skip("that parameter is absent")
    rng = np.random.default_rng(6)
    x = rng.uniform(-2, 2, (2, 4, 3))
    w = rng.uniform(-2, 2, 4) if affine != "bias" else None
    b = rng.uniform(-2, 2, 4) if affine != "weight" else None
    {"input": x, "weight": w, "bias": b}[where].reshape(-1)[0] = value
    needs = (True, w is not None, b is not None)
    _close(
        _run(chainrule, [x, w, b], 2, needs, np.float32),
        _run(torch, [x, w, b], 2, needs, np.float32),
        np.float32,
    )


def test_inf_weight_output_is_nan_where_torchs_is() -> None:
    """A hand-written case: group of channels 0-1, x = [[1, 3], [2, 2]] (mean 2), weight inf on
    channel 0. torch: x * inf + (0 - inf * 2) = inf - inf = NaN on all of channel 0, where
    (x - mean) * invstd * inf gives -inf, +inf."""
    x = np.array([[[1.0, 3.0], [2.0, 2.0]]], np.float32)
    w = np.array([np.inf, 1.0], np.float32)
    y = chainrule.nn.functional.group_norm(chainrule.tensor(x), 1, chainrule.tensor(w)).numpy()
    assert np.isnan(y[0, 0]).all()
    theirs = torch.nn.functional.group_norm(torch.tensor(x), 1, torch.tensor(w)).numpy()
    np.testing.assert_array_equal(np.isnan(y), np.isnan(theirs))
    np.testing.assert_allclose(y[0, 1], theirs[0, 1], rtol=1e-6)


def test_second_order_matches_torch() -> None:
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal((2, 6, 5)), rng.standard_normal(6), rng.standard_normal(6)]
    results = []
    for lib in (chainrule, torch):
        x, w, b = (lib.tensor(a, requires_grad=True) for a in arrays)
        y = lib.nn.functional.group_norm(x, 3, w, b)
        gx, gw = lib.autograd.grad((y * y * y).sum(), (x, w), create_graph=True)
        results.append(
            [gx.detach().numpy(), gw.detach().numpy()]
            + [g.numpy() for g in lib.autograd.grad((gx * gx).sum() + gw.sum(), (x, w, b))]
        )
    _close(results[0], results[1], np.float64)


def test_forward_mode_and_vmap_match_torch() -> None:
    rng = np.random.default_rng(9)
    x, w, b, t = (
        rng.standard_normal((3, 4, 5)),
        rng.standard_normal(4),
        rng.standard_normal(4),
        rng.standard_normal((3, 4, 5)),
    )
    outs = []
    for lib in (chainrule, torch):
        W, B = lib.tensor(w), lib.tensor(b)

        def f(v, lib=lib, W=W, B=B):
            return lib.nn.functional.group_norm(v, 2, W, B)

        _, tangent = lib.func.jvp(f, (lib.tensor(x),), (lib.tensor(t),))
        batched = lib.func.vmap(f)(lib.tensor(x[:, None].repeat(2, 1)))
        outs.append([tangent.numpy(), batched.numpy()])
    _close(outs[0], outs[1], np.float64)


def test_one_node_named_as_torchs() -> None:
    x = chainrule.randn(2, 4, 3, requires_grad=True)
    y = chainrule.nn.functional.group_norm(x, 2, chainrule.ones(4), chainrule.zeros(4))
    assert type(y.grad_fn).__name__ == "NativeGroupNormBackward0"
    assert y.grad_fn.next_functions[0][0].variable is x
