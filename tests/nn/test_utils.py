"""nn.utils against torch.nn.utils: gradient clipping by norm and by value, and the conversion
between parameters and one flat vector."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn as cnn
from chainrule.nn import utils

SHAPES = [(3, 4), (4,), (2, 2, 2), ()]


def _params(lib, nn, scale: float, dtype: str = "float32"):
    rng = np.random.default_rng(0)
    params = []
    for shape in SHAPES:
        p = nn.Parameter(lib.tensor(rng.standard_normal(shape).astype(dtype)))
        p.grad = lib.tensor((rng.standard_normal(shape) * scale).astype(dtype))
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, 0.5])
@pytest.mark.parametrize("max_norm,scale", [(1.0, 1.0), (100.0, 1.0), (0.5, 10.0)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, scale, dtype) -> None:
    ours, theirs = _params(chainrule, cnn, scale, dtype), _params(torch, torch.nn, scale, dtype)
    total_o = utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    rtol = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(total_o.numpy(), total_t.numpy(), rtol=rtol)
    assert total_o.dtype == getattr(chainrule, dtype) and total_o.shape == ()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=1e-7)


def test_clip_grad_norm_accepts_one_tensor_a_generator_and_params_without_grads() -> None:
    m = cnn.Linear(3, 2)
    m(chainrule.ones(4, 3) * 10).sum().backward()
    m.bias.grad = None
    total = utils.clip_grad_norm_(m.parameters(), 0.1)  # a generator, consumed once
    assert total.item() > 0.1
    np.testing.assert_allclose(np.linalg.norm(m.weight.grad.numpy()), 0.1, rtol=1e-5)
    single = cnn.Parameter(chainrule.ones(4))
    single.grad = chainrule.full((4,), 3.0)
    assert utils.clip_grad_norm_(single, 1.0).item() == pytest.approx(6.0)
    assert utils.clip_grad_norm_([], 1.0).item() == 0.0 == torch.nn.utils.clip_grad_norm_([], 1.0).item()


def test_clip_grad_norm_non_finite() -> None:
    ours, theirs = _params(chainrule, cnn, 1.0), _params(torch, torch.nn, 1.0)
    ours[0].grad[0, 0] = float("inf")
    theirs[0].grad[0, 0] = float("inf")
    with pytest.raises(RuntimeError, match="non-finite") as info_o:
        utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as info_t:
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    assert str(info_o.value) == str(info_t.value)
    total_o = utils.clip_grad_norm_(ours, 1.0)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert math.isinf(total_o.item()) and math.isinf(total_t.item())
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(np.isnan(a.grad.numpy()), np.isnan(b.grad.numpy()))


def test_get_total_norm_and_clip_grads_with_norm_match_torch() -> None:
    ours, theirs = _params(chainrule, cnn, 5.0), _params(torch, torch.nn, 5.0)
    n_o = utils.get_total_norm([p.grad for p in ours], 3.0)
    n_t = torch.nn.utils.get_total_norm([p.grad for p in theirs], 3.0)
    np.testing.assert_allclose(n_o.numpy(), n_t.numpy(), rtol=1e-6)
    utils.clip_grads_with_norm_(ours, 2.0, n_o)
    torch.nn.utils.clip_grads_with_norm_(theirs, 2.0, n_t)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("clip_value", [0.1, 1.0, 5])
def test_clip_grad_value_matches_torch(clip_value) -> None:
    ours, theirs = _params(chainrule, cnn, 2.0), _params(torch, torch.nn, 2.0)
    utils.clip_grad_value_(ours, clip_value)
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    one = cnn.Parameter(chainrule.ones(2))
    one.grad = chainrule.tensor([-3.0, 0.5])
    utils.clip_grad_value_(one, 1.0)
    assert one.grad.tolist() == [-1.0, 0.5]


def test_parameters_to_vector_and_back_match_torch() -> None:
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    ours = cnn.Sequential(cnn.Linear(3, 4), cnn.Linear(4, 2))
    ours.load_state_dict({k: chainrule.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    vec_o = utils.parameters_to_vector(ours.parameters())
    vec_t = torch.nn.utils.parameters_to_vector(theirs.parameters())
    np.testing.assert_array_equal(vec_o.numpy(force=True), vec_t.detach().numpy())
    assert vec_o.requires_grad  # differentiable, as torch's
    (vec_o * 2).sum().backward()
    assert all((p.grad.numpy() == 2).all() for p in ours.parameters())
    new = np.arange(vec_t.numel(), dtype=np.float32)
    new_o = chainrule.tensor(new)
    utils.vector_to_parameters(new_o, ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs.parameters())
    for a, b in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_array_equal(a.numpy(force=True), b.detach().numpy())
    new_o[0] = -1.0  # the parameters are views of the vector
    assert ours[0].weight[0, 0].item() == -1.0
    with pytest.raises(TypeError):
        utils.vector_to_parameters(new, ours.parameters())
