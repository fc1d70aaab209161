"""The fused scaled_dot_product_attention node (chainrule.ops.attention) on the unhappy paths:
torch's CPU node name, in-place writes after the call, retain_graph, float32, non-contiguous
views of one packed projection (a GPT block's q, k, v), dropout's composed path, NaN inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule


def _qkv(lib, arrays, grad=True):
    return [lib.tensor(a, requires_grad=grad) for a in arrays]


def _arrays(shape=(2, 3, 5, 4), dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for _ in range(3)]


def test_node_is_torchs_cpu_flash_node():
    for lib in (chainrule, torch):
        q, k, v = _qkv(lib, _arrays())
        y = lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        assert type(y.grad_fn).__name__ == "ScaledDotProductFlashAttentionForCpuBackward0"


def test_inplace_write_to_an_input_or_the_output_is_caught():
    q, k, v = _qkv(chainrule, _arrays())
    y = chainrule.nn.functional.scaled_dot_product_attention(q, k, v)
    with chainrule.no_grad():
        k.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    q, k, v = _qkv(chainrule, _arrays())
    y = chainrule.nn.functional.scaled_dot_product_attention(q, k, v)
    y.mul_(2)  # the node reads its output
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_retain_graph_and_float32_and_packed_views():
    rng = np.random.default_rng(1)
    packed = rng.standard_normal((2, 7, 3 * 6)).astype(np.float32)
    grads = []
    g_array = rng.standard_normal((2, 2, 7, 3)).astype(np.float32)
    for lib in (chainrule, torch):
        x = lib.tensor(packed, requires_grad=True)
        q, k, v = (t.view(2, 7, 2, 3).transpose(1, 2) for t in x.split(6, dim=2))
        y = lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        assert y.dtype == lib.float32
        g = lib.tensor(g_array)
        y.backward(g, retain_graph=True)
        y.backward(g)
        grads.append((y.detach().numpy(), x.grad.numpy()))
    (ours_y, ours_g), (torch_y, torch_g) = grads
    assert ours_g.dtype == np.float32
    np.testing.assert_allclose(ours_y, torch_y, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours_g, torch_g, rtol=1e-4, atol=1e-5)


def test_nan_input_and_dead_rows():
    arrays = _arrays()
    arrays[1][0, 0, 2, 1] = np.nan
    mask = np.ones((5, 5), dtype=bool)
    mask[3] = False  # query 3 attends to nothing: zeros
    results = []
    for lib in (chainrule, torch):
        q, k, v = _qkv(lib, arrays)
        y = lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=lib.tensor(mask))
        y.sum().backward()
        results.append([y.detach().numpy(), q.grad.numpy(), k.grad.numpy(), v.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("value", [np.inf, -np.inf, 1e38])
def test_infinite_score_makes_the_row_nan_as_torch(value, jit_path):
    """A query element of +-inf (or 1e38, whose score overflows) gives a row of scores with a +inf:
    torch's softmax shifts by that maximum (inf - inf = NaN), so the row's probabilities, its
    output and every value row's gradient are NaN, not only the +inf position's (grouped-query
    heads sum those gradients); a row of -inf scores (attending to nothing) still gives zeros."""
    arrays = _arrays((2, 4, 3, 2), np.float32, seed=1)
    arrays[1], arrays[2] = arrays[1][:, :2], arrays[2][:, :2]
    arrays[0][0, 0, 0, 0] = value
    arrays[1][0, 0, :, 0] = [4, -4, 0.5]  # scores of both signs' infinity (or overflow)
    mask = np.ones((3, 3), dtype=bool)
    mask[1] = False
    results = []
    for lib in (chainrule, torch):
        q, k, v = _qkv(lib, arrays)
        y = lib.nn.functional.scaled_dot_product_attention(q, k, v, lib.tensor(mask), enable_gqa=True)
        y.backward(lib.ones_like(y))
        results.append([y.detach().numpy(), q.grad.numpy(), k.grad.numpy(), v.grad.numpy()])
    assert np.isnan(results[1][3][0, 0]).all()  # (what torch gives)
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_dropout_takes_the_composed_path():
    chainrule.manual_seed(0)
    q, k, v = _qkv(chainrule, _arrays())
    y = chainrule.nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    y.sum().backward()
    assert q.grad is not None and np.isfinite(q.grad.numpy()).all()
    assert type(y.grad_fn).__name__ != "ScaledDotProductFlashAttentionForCpuBackward0"
