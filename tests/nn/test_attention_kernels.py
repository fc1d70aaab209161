"""scaled_dot_product_attention's softmax passes (kernels/softmax.py, compiled in
kernels/_jit_softmax.py) against torch's math kernel, on the NumPy path and the compiled one: causal
and not, masks, shapes large enough for two threads, special values, float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.attention as _attention

import chainrule

pytestmark = pytest.mark.usefixtures("jit_path")


def _run(lib, q, k, v, g, **kw):
    ts = [lib.tensor(a, requires_grad=True) for a in (q, k, v)]
    kw = {key: (lib.tensor(m) if isinstance(m, np.ndarray) else m) for key, m in kw.items()}
    f = lib.nn.functional.scaled_dot_product_attention
    if lib is torch:
        with _attention.sdpa_kernel(_attention.SDPBackend.MATH):
            y = f(*ts, **kw)
    else:
        y = f(*ts, **kw)
    y.backward(lib.tensor(g))
    return [y.detach().numpy()] + [t.grad.numpy() for t in ts]


def _compare(q, k, v, g, rtol, atol, **kw):
    ours = _run(chainrule, q, k, v, g, **kw)
    theirs = _run(torch, q, k, v, g, **kw)
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    return ours


def _qkvg(shape_q, shape_k, dtype, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal(shape_q).astype(dtype)
    k = rng.standard_normal(shape_k).astype(dtype)
    v = rng.standard_normal(shape_k).astype(dtype)
    g = rng.standard_normal(shape_q).astype(dtype)
    return q, k, v, g


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_attention_matches_torch_over_two_threads(causal, dtype):
    """(4, 6, 130, 16) q: 130 x 130 scores per head, 405K in all, beyond halves.MIN_ELEMENTS."""
    q, k, v, g = _qkvg((4, 6, 130, 16), (4, 6, 130, 16), dtype)
    tol = 2e-5 if dtype == np.float32 else 1e-11
    before = chainrule.get_num_threads()
    try:
        chainrule.set_num_threads(2)
        two = _compare(q * 3, k, v, g, tol, tol, is_causal=causal)
        chainrule.set_num_threads(1)
        one = _compare(q * 3, k, v, g, tol, tol, is_causal=causal)
    finally:
        chainrule.set_num_threads(before)
    for a, b in zip(two, one):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("L, S", [(5, 9), (9, 5), (1, 1), (3, 1)])
def test_causal_with_other_lengths(L, S):
    q, k, v, g = _qkvg((2, L, 4), (2, S, 4), np.float32, seed=1)
    _compare(q, k, v, g, 2e-5, 2e-6, is_causal=True)


def test_masks_and_scale():
    q, k, v, g = _qkvg((2, 3, 7, 5), (2, 3, 6, 5), np.float32, seed=2)
    rng = np.random.default_rng(3)
    float_mask = rng.standard_normal((7, 6)).astype(np.float32)
    bool_mask = rng.random((3, 7, 6)) > 0.3
    bool_mask[1, 2] = False  # a row that attends to nothing: zeros
    _compare(q, k, v, g, 2e-5, 2e-6, attn_mask=float_mask, scale=0.3)
    _compare(q, k, v, g, 2e-5, 2e-6, attn_mask=bool_mask)
    _compare(q, k, v, g, 2e-5, 2e-6, scale=-0.5)


def test_float_mask_gradient():
    q, k, v, g = _qkvg((2, 4, 3), (2, 5, 3), np.float32, seed=4)
    mask = np.random.default_rng(5).standard_normal((4, 5)).astype(np.float32)
    results = []
    for lib in (chainrule, torch):
        m = lib.tensor(mask, requires_grad=True)
        ts = [lib.tensor(a, requires_grad=True) for a in (q, k, v)]
        y = lib.nn.functional.scaled_dot_product_attention(*ts, attn_mask=m, scale=0.7)
        y.backward(lib.tensor(g))
        results.append([t.grad.numpy() for t in (*ts, m)])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)


def test_special_values():
    """NaN in a query row makes that row NaN; a +-inf score is handled as torch's math kernel
    where it agrees with chainrule's NumPy path (a row with one +inf: NaN there)."""
    q, k, v, g = _qkvg((1, 4, 3), (1, 4, 3), np.float32, seed=6)
    q[0, 1, 0] = np.nan
    ours = _run(chainrule, q, k, v, g, is_causal=True)
    theirs = _run(torch, q, k, v, g, is_causal=True)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6, equal_nan=True)
    assert np.isnan(ours[0][0, 1]).all() and not np.isnan(ours[0][0, 0]).any()


def test_inplace_change_of_an_input_after_the_call_is_caught():
    q, k, v, g = (chainrule.tensor(a, requires_grad=True) for a in _qkvg((2, 4, 3), (2, 4, 3), np.float32))
    y = chainrule.nn.functional.scaled_dot_product_attention(q * 1, k * 1, v, is_causal=True)
    with chainrule.no_grad():
        v.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_second_derivative_with_causal_mask():
    q, k, v, _ = _qkvg((2, 5, 3), (2, 5, 3), np.float64, seed=7)
    grads = []
    for lib in (chainrule, torch):
        ts = [lib.tensor(a, requires_grad=True) for a in (q, k, v)]
        y = lib.nn.functional.scaled_dot_product_attention(*ts, is_causal=True)
        (gq,) = lib.autograd.grad((y * y).sum(), ts[0], create_graph=True)
        grads.append([t.numpy() for t in lib.autograd.grad(gq.sin().sum(), ts)])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("mask", ["causal", "float", "bool", "none"])
def test_backward_on_the_other_path_and_twice(mask):
    """The node keeps log-sum-exps where the compiled softmax ran and remakes the probabilities in
    backward, compiled or not (the switch flipped between forward and backward), as often as
    retain_graph asks."""
    from chainrule.kernels import jit

    q, k, v, g = _qkvg((2, 3, 6, 4), (2, 3, 6, 4), np.float32, seed=8)
    rng = np.random.default_rng(9)
    kw = {
        "causal": {"is_causal": True},
        "float": {"attn_mask": rng.standard_normal((6, 6)).astype(np.float32)},
        "bool": {"attn_mask": rng.random((6, 6)) > 0.4},
        "none": {},
    }[mask]
    expect = _run(torch, q, k, v, g, **kw)
    ts = [chainrule.tensor(a, requires_grad=True) for a in (q, k, v)]
    ckw = {key: (chainrule.tensor(m) if isinstance(m, np.ndarray) else m) for key, m in kw.items()}
    y = chainrule.nn.functional.scaled_dot_product_attention(*ts, **ckw)
    previous = jit.set_enabled(not jit.enabled())
    try:
        y.backward(chainrule.tensor(g), retain_graph=True)
    finally:
        jit.set_enabled(previous)
    y.backward(chainrule.tensor(g))
    for t, want in zip(ts, expect[1:]):
        np.testing.assert_allclose(t.grad.numpy(), 2 * want, rtol=2e-5, atol=4e-6)
