"""autocast and GradScaler against torch's (CPU): which ops run in lower precision, the values
and gradients they give, the switches, and the scaler's scale, skipped steps and state."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from oracle import assert_close

import chainrule

LIBS = (chainrule, torch)
RNG = np.random.default_rng(0)


def _dtype_name(t) -> str:
    return str(t.dtype).split(".")[-1]


def _model_run(m, dtype_name: str):
    """The listed ops and some unlisted ones inside autocast: results (as float32) and gradients."""
    x = m.tensor(RNG_X, requires_grad=True)
    w = m.tensor(RNG_W, requires_grad=True)
    b = m.tensor(RNG_B, requires_grad=True)
    img = m.tensor(RNG_IMG, requires_grad=True)
    kernel = m.tensor(RNG_K, requires_grad=True)
    F = m.nn.functional
    with m.autocast("cpu", dtype=getattr(m, dtype_name)):
        outs = {
            "linear": F.linear(x, w, b),
            "matmul": x @ w.t(),
            "mm": m.mm(x, w.t()),
            "bmm": m.bmm(x[None], w.t()[None]),
            "baddbmm": m.baddbmm(b[None, None], x[None], w.t()[None]),
            "conv1d": F.conv1d(img[:, :, 0], kernel[:, :, 0], padding=1),
            "conv2d": F.conv2d(img, kernel, stride=2),
            "conv3d": F.conv3d(img[:, :, None], kernel[:, :, None]),
            "conv_transpose2d": F.conv_transpose2d(img, kernel.transpose(0, 1)),
            "add": x + 1,
            "exp": m.exp(x),
            "sum": x.sum(),
            "float64": x.double() @ w.double().t(),
        }
        loss = sum(o.float().pow(2).sum() for o in outs.values())
    loss.backward()
    grads = {"x": x.grad, "w": w.grad, "b": b.grad, "img": img.grad, "kernel": kernel.grad}
    return outs, grads


RNG_X = RNG.standard_normal((4, 6)).astype(np.float32)
RNG_W = RNG.standard_normal((5, 6)).astype(np.float32)
RNG_B = RNG.standard_normal(5).astype(np.float32)
RNG_IMG = RNG.standard_normal((2, 3, 6, 6)).astype(np.float32)
RNG_K = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)


@pytest.mark.parametrize("dtype_name", ["bfloat16", "float16"])
def test_listed_ops_run_in_lower_precision(dtype_name) -> None:
    (ours, our_grads), (theirs, their_grads) = (_model_run(m, dtype_name) for m in LIBS)
    for name in theirs:
        assert _dtype_name(ours[name]) == _dtype_name(theirs[name]), name
        # one unit in the last place of the lower precision: rounding order may differ
        tol = 1e-2 if dtype_name == "bfloat16" else 2e-3
        assert_close(ours[name].float(), theirs[name].float(), tol, tol, name)
    for name in their_grads:
        tol = 2e-2 if dtype_name == "bfloat16" else 4e-3
        assert _dtype_name(our_grads[name]) == "float32"
        assert_close(our_grads[name], their_grads[name], tol, tol, f"gradient of {name}")


def test_disabled_nested_and_decorated() -> None:
    for m in LIBS:
        x = m.ones(2, 2)
        with m.autocast("cpu"):
            assert (x @ x).dtype == m.bfloat16
            with m.autocast("cpu", enabled=False):
                assert (x @ x).dtype == m.float32
                assert not m.is_autocast_enabled("cpu")
            with m.autocast("cpu", dtype=m.float16):
                assert (x @ x).dtype == m.float16
            assert (x @ x).dtype == m.bfloat16
        assert (x @ x).dtype == m.float32
        assert not m.is_autocast_enabled("cpu")

        @m.autocast("cpu")
        def product(a):
            return a @ a

        assert product(x).dtype == m.bfloat16
        assert m.amp.autocast("cpu")(product)(x).dtype == m.bfloat16


def test_unsupported_dtype_and_cuda_warn_and_disable() -> None:
    for m in LIBS:
        x = m.ones(2, 2)
        with pytest.warns(UserWarning, match="target dtype is not supported"):
            region = m.autocast("cpu", dtype=m.float32)
        with region:
            assert (x @ x).dtype == m.float32
        with pytest.warns(UserWarning, match="is not available"), m.autocast("cuda"):
            assert not m.is_autocast_enabled("cuda")
            assert (x @ x).dtype == m.float32


def test_switches_like_torch() -> None:
    for m in LIBS:
        assert m.get_autocast_dtype("cpu") == m.bfloat16
        assert m.get_autocast_dtype("cuda") == m.float16
        assert m.is_autocast_cache_enabled()
        with m.autocast("cpu", cache_enabled=False):
            assert not m.is_autocast_cache_enabled()
            assert m.is_autocast_enabled("cpu") and not m.is_autocast_enabled()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            m.set_autocast_cpu_enabled(True)
            assert m.is_autocast_cpu_enabled() and m.is_autocast_enabled("cpu")
            m.set_autocast_cpu_enabled(False)
            m.set_autocast_cpu_dtype(m.float16)
            assert m.get_autocast_cpu_dtype() == m.float16
            m.set_autocast_cpu_dtype(m.bfloat16)
        m.set_autocast_enabled(True)  # the one-argument form sets CUDA's
        assert m.is_autocast_enabled() and not m.is_autocast_enabled("cpu")
        m.set_autocast_enabled(False)
        with pytest.raises(RuntimeError, match="Expected one of"):
            m.get_autocast_dtype("nonsense")
        assert m.amp.is_autocast_available("cpu")


def test_deprecated_spellings_warn() -> None:
    with pytest.warns(DeprecationWarning):
        chainrule.is_autocast_cpu_enabled()


def test_cache_reuses_a_weights_cast_within_the_region() -> None:
    w = chainrule.ones(3, 3, requires_grad=True)
    x = chainrule.ones(2, 3)
    with chainrule.autocast("cpu"):
        first = chainrule.nn.functional.linear(x, w)
        second = chainrule.nn.functional.linear(x, w)
        # the weight's cast, below torch's TBackward0 of the weight (F.linear is mm(x, w.t()))
        assert _weight_cast(first) is _weight_cast(second)
    (first.float().sum() + second.float().sum()).backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.full((3, 3), 4.0))
    with chainrule.autocast("cpu", cache_enabled=False):
        third = chainrule.nn.functional.linear(x, w)
        fourth = chainrule.nn.functional.linear(x, w)
        assert _weight_cast(third) is not _weight_cast(fourth)


def _weight_cast(linear_out):
    transposed = linear_out.grad_fn.next_functions[1][0]
    assert transposed.name() == "TBackward0"
    return transposed.next_functions[0][0]


# ---- GradScaler ---------------------------------------------------------------------------------
def _train(m, steps, poison, **scaler_kw):
    rng = np.random.default_rng(1)
    model = m.nn.Linear(4, 3)
    with m.no_grad():
        model.weight.copy_(m.tensor(rng.standard_normal((3, 4)).astype(np.float32)))
        model.bias.zero_()
    opt = m.optim.SGD(model.parameters(), lr=0.05)
    scaler = m.amp.GradScaler("cpu", **scaler_kw)
    log = []
    for step in range(steps):
        opt.zero_grad()
        x = m.tensor(rng.standard_normal((5, 4)).astype(np.float32))
        loss = model(x).pow(2).mean()
        if step in poison:
            loss = loss * float(poison[step])
        scaler.scale(loss).backward()
        if step % 2:
            scaler.unscale_(opt)
        result = scaler.step(opt)
        scaler.update()
        log.append((scaler.get_scale(), scaler.state_dict(), result))
    return model.weight.detach().numpy(), log


@pytest.mark.parametrize(
    "kw",
    [
        dict(init_scale=2.0**10, growth_interval=2),
        dict(growth_factor=3.0, backoff_factor=0.25, growth_interval=1),
    ],
)
def test_scaler_matches_torch(kw) -> None:
    poison = {2: "inf", 3: "nan", 6: "inf"}
    (our_weight, our_log), (their_weight, their_log) = (_train(m, 9, poison, **kw) for m in LIBS)
    np.testing.assert_allclose(our_weight, their_weight, rtol=1e-5, atol=1e-6)
    for (scale, state, result), (t_scale, t_state, t_result) in zip(our_log, their_log):
        assert scale == t_scale and state == t_state
        assert (result is None) == (t_result is None)


def test_scaler_scale_nested_and_disabled() -> None:
    for m in LIBS:
        scaler = m.amp.GradScaler("cpu", init_scale=4.0)
        a, b = m.ones(2), m.ones(3, dtype=m.float64)
        scaled = scaler.scale([a, (b,)])
        assert isinstance(scaled, list) and isinstance(scaled[1], tuple)
        assert scaled[0].tolist() == [4.0, 4.0] and scaled[1][0].dtype == m.float64
        off = m.amp.GradScaler("cpu", enabled=False)
        assert off.scale(a) is a and off.get_scale() == 1.0 and off.state_dict() == {}
        assert not off.is_enabled()


def test_scaler_state_dict_round_trip() -> None:
    for m in LIBS:
        scaler = m.amp.GradScaler("cpu", init_scale=8.0, growth_interval=3)
        scaler.scale(m.ones(()))
        other = m.amp.GradScaler("cpu")
        other.load_state_dict(scaler.state_dict())
        assert other.state_dict() == scaler.state_dict()
        with pytest.raises(RuntimeError, match="state dict is empty"):
            other.load_state_dict({})


def test_scaler_errors_like_torch() -> None:
    for m in LIBS:
        p = m.nn.Parameter(m.ones(2))
        opt = m.optim.SGD([p], lr=0.1)
        scaler = m.amp.GradScaler("cpu")
        with pytest.raises(AssertionError, match="_scale is None"):
            scaler.step(opt)
        scaler.scale(p.sum()).backward()
        scaler.unscale_(opt)
        with pytest.raises(RuntimeError, match="already been called"):
            scaler.unscale_(opt)
        scaler.step(opt)
        with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
            scaler.step(opt)
        with pytest.raises(RuntimeError, match="Closure"):
            m.amp.GradScaler("cpu").step(opt, closure=lambda: 0)
        with pytest.raises(AssertionError, match="growth factor"):
            m.amp.GradScaler("cpu", growth_factor=0.5)
        with pytest.warns(UserWarning, match="CUDA is not available"):
            assert not m.amp.GradScaler().is_enabled()
        assert m.GradScaler is m.amp.GradScaler
