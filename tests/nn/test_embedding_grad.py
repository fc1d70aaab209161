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
