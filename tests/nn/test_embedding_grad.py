"""Embedding's backward (a sparse-times-dense product on arrays) against torch: repeated indices,
padding_idx, scale_grad_by_freq, float32 and float64, no indices at all, non-contiguous gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import to_numpy

import chainrule


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kw", [{}, {"padding_idx": 3}, {"scale_grad_by_freq": True}, {"padding_idx": -1}])
@pytest.mark.parametrize("shape", [(40,), (6, 7), (0,), (2, 0, 3)])
def test_embedding_gradient_matches_torch(dtype, kw, shape):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((9, 5)).astype(dtype)
    idx = rng.integers(0, 9, shape)  # many repeats
    g = rng.standard_normal(shape + (5,)).astype(dtype)
    wo, wt = chainrule.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    out_o = chainrule.nn.functional.embedding(chainrule.tensor(idx), wo, **kw)
    out_t = torch.nn.functional.embedding(torch.tensor(idx), wt, **kw)
    (out_o * chainrule.tensor(g)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()
    assert wo.grad.dtype == wo.dtype
    np.testing.assert_allclose(to_numpy(wo.grad), to_numpy(wt.grad), rtol=1e-6, atol=1e-6)


def test_embedding_gradient_of_a_transposed_upstream_gradient():
    """The upstream gradient arrives non-contiguous (the output used transposed)."""
    rng = np.random.default_rng(1)
    w = rng.standard_normal((7, 4))
    idx = rng.integers(0, 7, (5, 3))
    wo, wt = chainrule.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    lo = (chainrule.nn.functional.embedding(chainrule.tensor(idx), wo).transpose(0, 2) ** 2).sum()
    lt = (torch.nn.functional.embedding(torch.tensor(idx), wt).transpose(0, 2) ** 2).sum()
    lo.backward()
    lt.backward()
    np.testing.assert_allclose(to_numpy(wo.grad), to_numpy(wt.grad), rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_clip_grad_norm_on_non_contiguous_and_mixed_gradients(dtype):
    """clip_grad_norm_'s one-pass norm and BLAS scaling: a transposed (non-contiguous) gradient,
    an empty one, float16 (NumPy's path), below and above max_norm; the version counter moves."""
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((4, 6)).astype(dtype), rng.standard_normal((5,)).astype(dtype)]
    for max_norm in (0.5, 1e6):
        ours, theirs = [], []
        for lib, out in ((chainrule, ours), (torch, theirs)):
            dt = getattr(lib, dtype)
            grads = [lib.tensor(arrays[0]).t(), lib.tensor(arrays[1]), lib.zeros(0, dtype=dt)]
            for g in grads:
                p = lib.zeros(tuple(g.shape), dtype=dt)
                p.grad = g
                out.append(p)
        before = ours[1].grad._version
        n_o = chainrule.nn.utils.clip_grad_norm_(ours, max_norm)
        n_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm)
        tol = 2e-3 if dtype == "float16" else 1e-6
        np.testing.assert_allclose(to_numpy(n_o), to_numpy(n_t), rtol=tol)
        for a, b in zip(ours, theirs):
            assert a.grad.dtype == a.dtype
            np.testing.assert_allclose(to_numpy(a.grad), to_numpy(b.grad), rtol=tol, atol=tol)
        assert ours[1].grad._version > before


@pytest.mark.parametrize(
    "kw",
    [{}, {"padding_idx": 2}, {"scale_grad_by_freq": True}, {"padding_idx": 2, "scale_grad_by_freq": True}],
)
def test_embedding_double_backward_as_torch(kw):
    """The gradient's own derivative (create_graph) as torch's embedding_dense_double_backward:
    padding_idx's positions zeroed, the 1/frequency factor not applied a second time; a weight
    tied to the output layer gets both contributions."""
    rng = np.random.default_rng(1)
    w_np, idx = rng.standard_normal((10, 4)), rng.integers(0, 10, (3, 5))
    idx[0, 0] = idx[1, 1] = idx[2, 2] = 2
    results = []
    for lib in (chainrule, torch):
        w = lib.tensor(w_np, requires_grad=True)
        e = lib.nn.functional.embedding(lib.tensor(idx), w, **kw)
        (g,) = lib.autograd.grad(((e @ w.T).sin()).sum() + (e * e).sum(), w, create_graph=True)
        (g * g).sum().backward()
        results.append((to_numpy(g.detach()), to_numpy(w.grad)))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
