"""nn.utils against torch: Conv/Linear + BatchNorm folding, skip_init, the memory-format converters,
stateless.functional_call, clip_grad_value_ and the parameter <-> vector conversions."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from oracle import copy_torch_weights, to_numpy

import chainrule
import chainrule.nn as nn
from chainrule.nn import utils

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _close(a, b, what: str, tol: float = 1e-10) -> None:
    assert tuple(a.shape) == tuple(b.shape), f"{what}: shape {tuple(a.shape)} != {tuple(b.shape)}"
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], f"{what}: dtype"
    np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=tol, atol=tol, err_msg=what)


def _bn_pair(name: str, n: int):
    torch.manual_seed(1)
    theirs = getattr(torch.nn, name)(n)
    with torch.no_grad():
        theirs.running_mean.uniform_(-1, 1)
        theirs.running_var.uniform_(0.5, 2)
        theirs.weight.uniform_(0.5, 2)
        theirs.bias.uniform_(-1, 1)
    ours = getattr(nn, name)(n)
    copy_torch_weights(ours, theirs)
    return ours.eval(), theirs.eval()


@pytest.mark.parametrize(
    "conv,args,transpose,bias",
    [
        ("Conv2d", (2, 3, 3), False, True),
        ("Conv2d", (2, 3, 3), False, False),
        ("Conv1d", (2, 3, 2), False, True),
        ("ConvTranspose2d", (2, 3, 2), True, True),
    ],
)
def test_fuse_conv_bn_eval_matches_torch(conv, args, transpose, bias):
    torch.manual_seed(0)
    conv_t = getattr(torch.nn, conv)(*args, bias=bias).eval()
    conv_o = getattr(nn, conv)(*args, bias=bias).eval()
    copy_torch_weights(conv_o, conv_t)
    bn_name = "BatchNorm1d" if conv.endswith("1d") else "BatchNorm2d"
    bn_o, bn_t = _bn_pair(bn_name, 3)
    fused_o = utils.fuse_conv_bn_eval(conv_o, bn_o, transpose)
    fused_t = torch.nn.utils.fuse_conv_bn_eval(conv_t, bn_t, transpose)
    _close(fused_o.weight, fused_t.weight, "weight", 1e-6)
    _close(fused_o.bias, fused_t.bias, "bias", 1e-6)
    assert isinstance(fused_o.weight, nn.Parameter) and fused_o is not conv_o
    x = np.random.default_rng(0).standard_normal((1, 2) + (5,) * (1 if conv.endswith("1d") else 2))
    expected = bn_t(conv_t(torch.tensor(x, dtype=torch.float32)))
    _close(fused_o(chainrule.tensor(x, dtype=chainrule.float32)), expected.detach(), "fused output", 1e-5)


def test_fuse_linear_bn_and_weights_functions():
    torch.manual_seed(0)
    lin_t, lin_o = torch.nn.Linear(3, 4).eval(), nn.Linear(3, 4).eval()
    copy_torch_weights(lin_o, lin_t)
    bn_o, bn_t = _bn_pair("BatchNorm1d", 4)
    fused_o, fused_t = utils.fuse_linear_bn_eval(lin_o, bn_o), torch.nn.utils.fuse_linear_bn_eval(lin_t, bn_t)
    _close(fused_o.weight, fused_t.weight, "weight", 1e-6)
    _close(fused_o.bias, fused_t.bias, "bias", 1e-6)
    w_o, b_o = utils.fuse_linear_bn_weights(
        lin_o.weight, None, bn_o.running_mean, bn_o.running_var, 1e-3, bn_o.weight, bn_o.bias
    )
    w_t, b_t = torch.nn.utils.fuse_linear_bn_weights(
        lin_t.weight, None, bn_t.running_mean, bn_t.running_var, 1e-3, bn_t.weight, bn_t.bias
    )
    _close(w_o, w_t, "weight", 1e-6)
    _close(b_o, b_t, "bias", 1e-6)
    assert w_o.requires_grad == w_t.requires_grad and b_o.requires_grad == b_t.requires_grad
    with pytest.raises(AssertionError, match="Fusion only for eval"):
        utils.fuse_linear_bn_eval(nn.Linear(3, 4), bn_o)
    with pytest.raises(AssertionError, match="must equal bn.num_features"):
        utils.fuse_linear_bn_eval(nn.Linear(3, 5).eval(), bn_o)
    w_o, b_o = utils.fuse_conv_bn_weights(
        chainrule.ones(3, 2, 1), None, chainrule.zeros(3), chainrule.ones(3), 0.0, None, None
    )
    w_t, b_t = torch.nn.utils.fuse_conv_bn_weights(
        torch.ones(3, 2, 1), None, torch.zeros(3), torch.ones(3), 0.0, None, None
    )
    _close(w_o, w_t, "weight")
    _close(b_o, b_t, "bias")


def test_skip_init_memory_format_and_stateless():
    m = utils.skip_init(nn.Linear, 3, 4)
    assert type(m) is nn.Linear and m.weight.shape == (4, 3)

    class NoDevice(nn.Module):
        def __init__(self, n):
            super().__init__()

    with pytest.raises(RuntimeError, match="Module must support a 'device' arg"):
        utils.skip_init(NoDevice, 3)
    seq = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU())
    before = seq[0].weight.detach().numpy().copy()
    assert utils.convert_conv2d_weight_memory_format(seq, None) is seq
    assert utils.convert_conv3d_weight_memory_format(seq, None) is seq
    np.testing.assert_array_equal(seq[0].weight.detach().numpy(), before)
    lin = nn.Linear(2, 1)
    params = {"weight": chainrule.ones(1, 2), "bias": chainrule.zeros(1)}
    with pytest.warns(FutureWarning, match="deprecated"):
        out = utils.stateless.functional_call(lin, params, (chainrule.tensor([[1.0, 2.0]]),))
    assert out.item() == 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert chainrule.func.functional_call(lin, params, chainrule.tensor([[1.0, 2.0]])).item() == 3.0


def test_clip_grad_value_and_vector_round_trip_match_torch():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in ((3, 4), (4,), ())]
    grads = [rng.standard_normal(s) * 3 for s in ((3, 4), (4,), ())]
    ps = {}
    for lib in (chainrule, torch):
        params = [lib.nn.Parameter(lib.tensor(a)) for a in arrays]
        for p, g in zip(params, grads):
            p.grad = lib.tensor(g)
        lib.nn.utils.clip_grad_value_(params, 1.25)
        ps[lib] = params
    for a, b in zip(ps[chainrule], ps[torch]):
        _close(a.grad, b.grad, "clipped grad")
    vo = utils.parameters_to_vector(ps[chainrule])
    vt = torch.nn.utils.parameters_to_vector(ps[torch])
    _close(vo, vt, "vector")
    utils.vector_to_parameters(vo * 2, ps[chainrule])
    torch.nn.utils.vector_to_parameters(vt * 2, ps[torch])
    for a, b in zip(ps[chainrule], ps[torch]):
        _close(a.detach(), b.detach(), "parameter from vector")
