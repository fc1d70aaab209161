"""torch.optim.swa_utils against torch: AveragedModel (SWA by default, avg_fn, multi_avg_fn, the
EMA and SWA function factories, use_buffers), update_bn, and the averaged model's outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import raises_like_torch

import chainrule

RNG = np.random.default_rng(11)
X = RNG.standard_normal((12, 3))
Y = RNG.standard_normal((12, 2))


def make_model(lib):
    """Linear -> BatchNorm1d -> Linear, with the same starting weights in both libraries."""
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
    model = model.double()
    rng = np.random.default_rng(0)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)) * 0.5))
    return model


def averaging_run(lib, averaged_kwargs, steps=12, start=3):
    """SGD on a model; from step ``start`` on, fold it into an AveragedModel after each step."""
    model = make_model(lib)
    avg_kwargs = {
        k: v(lib) if callable(v) and k in ("avg_fn", "multi_avg_fn") else v
        for k, v in averaged_kwargs.items()
    }
    averaged = lib.optim.swa_utils.AveragedModel(model, **avg_kwargs)
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    x, y = lib.tensor(X), lib.tensor(Y)
    for step in range(steps):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
        if step >= start:
            averaged.update_parameters(model)
    state = {k: v.detach().numpy().copy() for k, v in averaged.state_dict().items()}
    averaged.eval()
    with lib.no_grad():
        out = averaged(x).numpy().copy()
    return state, out


VARIANTS = {
    "swa": {},
    "swa-buffers": {"use_buffers": True},
    "ema-avg_fn": {"avg_fn": lambda lib: lib.optim.swa_utils.get_ema_avg_fn(0.9)},
    "swa-avg_fn": {"avg_fn": lambda lib: lib.optim.swa_utils.get_swa_avg_fn()},
    "ema-multi": {"multi_avg_fn": lambda lib: lib.optim.swa_utils.get_ema_multi_avg_fn(0.8)},
    "swa-multi": {"multi_avg_fn": lambda lib: lib.optim.swa_utils.get_swa_multi_avg_fn()},
    "ema-multi-buffers": {
        "multi_avg_fn": lambda lib: lib.optim.swa_utils.get_ema_multi_avg_fn(0.8),
        "use_buffers": True,
    },
    "custom-avg_fn": {"avg_fn": lambda lib: lambda avg, cur, n: 0.5 * avg + 0.5 * cur},
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_averaged_model_matches_torch(name):
    (state, out), (t_state, t_out) = (
        averaging_run(chainrule, VARIANTS[name]),
        averaging_run(torch, VARIANTS[name]),
    )
    assert state.keys() == t_state.keys()
    for key in t_state:
        assert state[key].dtype == t_state[key].dtype, key
        np.testing.assert_allclose(state[key], t_state[key], rtol=1e-10, atol=1e-12, err_msg=key)
    np.testing.assert_allclose(out, t_out, rtol=1e-10, atol=1e-12)


def test_averaged_model_copies_and_counts():
    for lib in (chainrule, torch):
        model = make_model(lib)
        averaged = lib.optim.swa_utils.AveragedModel(model)
        assert averaged.n_averaged.item() == 0 and averaged.n_averaged.dtype == lib.int64
        assert averaged.module is not model
        averaged.update_parameters(model)
        averaged.update_parameters(model)
        assert averaged.n_averaged.item() == 2
        assert averaged.module[0].weight.requires_grad  # parameters stay parameters


def test_update_bn_matches_torch():
    def program(lib):
        model = make_model(lib)
        averaged = lib.optim.swa_utils.AveragedModel(model)
        averaged.update_parameters(model)
        loader = [(lib.tensor(X[i : i + 4]), lib.tensor(Y[i : i + 4])) for i in range(0, 12, 4)]
        averaged.eval()
        lib.optim.swa_utils.update_bn(loader, averaged)
        bn = averaged.module[1]
        return (
            averaged.training,
            bn.momentum,
            bn.running_mean.numpy().copy(),
            bn.running_var.numpy().copy(),
            bn.num_batches_tracked.item(),
        )

    ours, theirs = program(chainrule), program(torch)
    assert ours[0] == theirs[0] is False and ours[1] == theirs[1] == 0.1 and ours[4] == theirs[4] == 3
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-12)
    np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-12)


def test_update_bn_with_plain_tensor_batches_and_no_batch_norm():
    for lib in (chainrule, torch):
        model = lib.nn.Linear(3, 2)
        lib.optim.swa_utils.update_bn([lib.zeros(2, 3)], model)  # nothing to do
    ours, theirs = make_model(chainrule), make_model(torch)
    chainrule.optim.swa_utils.update_bn([chainrule.tensor(X)], ours)
    torch.optim.swa_utils.update_bn([torch.tensor(X)], theirs)
    np.testing.assert_allclose(ours[1].running_var.numpy(), theirs[1].running_var.numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "program,match",
    [
        (lambda lib: lib.optim.swa_utils.get_ema_avg_fn(1.5), "Invalid decay value 1.5"),
        (lambda lib: lib.optim.swa_utils.get_ema_multi_avg_fn(-0.1), "Invalid decay value"),
        (
            lambda lib: lib.optim.swa_utils.AveragedModel(
                lib.nn.Linear(2, 2),
                avg_fn=lib.optim.swa_utils.get_swa_avg_fn(),
                multi_avg_fn=lib.optim.swa_utils.get_swa_multi_avg_fn(),
            ),
            "Only one of avg_fn and multi_avg_fn",
        ),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_errors_match_torch(program, match):
    raises_like_torch(program, match)
