"""The in-place optimizer updates (optim/_fused.py) against torch.optim, on every path they take.

Gradients are fed from NumPy (no loss feedback), so float32 trajectories stay within a few ulps of
torch's. The parameters cover the three routes of ``axpy_``: large contiguous arrays (NumPy's
threaded OpenBLAS, from 32768 elements), small ones (SciPy's BLAS), and non-contiguous or 0-d
ones (NumPy); the gradients include non-contiguous ones, zeros, and steps without a gradient.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from chainrule.optim._fused import _THREADED_FROM, Scratch, axpy_

BIG = (200, 180)  # 36000 elements: above _THREADED_FROM
assert BIG[0] * BIG[1] >= _THREADED_FROM

CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01, maximize=True)),
    ("SGD", dict(lr=0.05, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.5, 0.8), maximize=True, weight_decay=0.05)),
    ("Adam", dict(lr=0.01, amsgrad=True, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, amsgrad=True, maximize=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1, momentum=0.5, centered=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.8, momentum=0.5, maximize=True)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1, centered=True, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5, maximize=True)),
]
TOL = {"float32": dict(rtol=2e-5, atol=2e-6), "float64": dict(rtol=1e-12, atol=1e-13)}


def make_data(dtype: str, steps: int, seed: int = 3):
    rng = np.random.default_rng(seed)
    shapes = [BIG, (BIG[0],), (), (9, 14)]
    start = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = []
    for t in range(steps):
        g = [(rng.standard_normal(s) * 10.0 ** rng.uniform(-3, 1, s)).astype(dtype) for s in shapes]
        if t % 5 == 2:
            g[1][:] = 0.0  # a zero gradient: momentum and weight decay still move the parameter
        if t % 6 == 4:
            g[3] = None  # no gradient this step: the parameter is skipped
        grads.append(g)
    return start, grads


def params_of(lib, start):
    """Contiguous parameters, a 0-d one, and a non-contiguous leaf (a transposed view)."""
    big, vec, zero_d, small = (lib.tensor(a) for a in start)
    odd = lib.tensor(np.ascontiguousarray(start[3].T)).t()  # (9, 14) with transposed strides
    return [p.requires_grad_() for p in (big, vec, zero_d, odd)]


def as_grad(lib, p, g, i, t):
    """The gradient ``g`` for parameter ``p``; every third step the big one comes as a transposed
    view, so that a non-contiguous gradient reaches the update."""
    if g is None:
        return None
    if i == 0 and t % 3 == 1:
        return lib.tensor(np.ascontiguousarray(g.T)).t()
    return lib.tensor(g)


def train(lib, cls, kwargs, dtype, steps=12, groups=True, seed=3, scheduler=False, reload_at=None):
    start, grads = make_data(dtype, steps, seed)
    params = params_of(lib, start)
    spec = [{"params": params[:2]}, {"params": params[2:], "lr": kwargs["lr"] * 2}] if groups else params
    opt = getattr(lib.optim, cls)(spec, **kwargs)
    sched = lib.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5) if scheduler else None
    history = []
    for t, g in enumerate(grads):
        for i, (p, gi) in enumerate(zip(params, g)):
            p.grad = as_grad(lib, p, gi, i, t)
        opt.step()
        if sched is not None:
            sched.step()
        if reload_at == t:  # a fresh optimizer from the saved state, as when resuming training
            saved = opt.state_dict()
            opt = getattr(lib.optim, cls)(spec, **kwargs)
            opt.load_state_dict(saved)
        history.append([p.detach().numpy().copy() for p in params])
    return history


def assert_close(ours, theirs, dtype):
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for i, (x, y) in enumerate(zip(a, b)):
            assert x.dtype == y.dtype == np.dtype(dtype)
            np.testing.assert_allclose(x, y, err_msg=f"step {step + 1}, param {i}", **TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cls,kwargs", CASES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(CASES)])
def test_trajectory_matches_torch_on_every_path(cls, kwargs, dtype):
    assert_close(train(chainrule, cls, kwargs, dtype), train(torch, cls, kwargs, dtype), dtype)


@pytest.mark.parametrize("cls,kwargs", [CASES[3], CASES[5], CASES[8], CASES[12], CASES[14], CASES[18]])
def test_scheduler_and_resuming_from_a_state_dict(cls, kwargs):
    run = dict(scheduler=True, reload_at=5, groups=False)
    ours, theirs = (train(lib, cls, kwargs, "float32", **run) for lib in (chainrule, torch))
    assert_close(ours, theirs, "float32")


@pytest.mark.parametrize("cls,kwargs", [CASES[3], CASES[9]])
def test_tensor_learning_rate(cls, kwargs):
    def run(lib):
        kw = dict(kwargs, lr=lib.tensor(kwargs["lr"]))
        return train(lib, cls, kw, "float32", groups=False)

    assert_close(run(chainrule), run(torch), "float32")


def test_the_update_writes_the_parameters_memory_and_bumps_its_version():
    w = chainrule.zeros(BIG, requires_grad=True)
    data, version = w._data, w._version
    w.grad = chainrule.ones(BIG)
    chainrule.optim.SGD([w], lr=0.5, momentum=0.9).step()
    assert w._data is data and w._version == version + 1
    np.testing.assert_array_equal(data, -0.5)


def test_empty_and_complex_parameters():
    def run(lib):
        e = lib.zeros(0, 3, requires_grad=True)
        c = lib.tensor(np.array([1 + 2j, -0.5j], dtype=np.complex64), requires_grad=True)
        out = []
        for cls, kw in (
            ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1)),
            ("Adam", dict(lr=0.1)),
            ("RMSprop", dict(lr=0.1, momentum=0.5, centered=True, weight_decay=0.1)),
            ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
        ):
            opt = getattr(lib.optim, cls)([e, c], **kw)
            for _ in range(3):
                e.grad, c.grad = lib.zeros(0, 3), lib.tensor(np.array([0.5 - 1j, 2j], dtype=np.complex64))
                opt.step()
            out.append(c.detach().numpy().copy())
        return out

    for a, b in zip(run(chainrule), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_nan_and_inf_gradients_propagate_as_in_torch():
    def run(lib, cls):
        w = lib.ones(BIG, requires_grad=True)
        g = np.ones(BIG, np.float32)
        g[0, :3] = [np.nan, np.inf, -np.inf]
        w.grad = lib.tensor(g)
        opt = lib.optim.SGD([w], lr=0.1) if cls == "SGD" else lib.optim.Adam([w], lr=0.1)
        opt.step()
        return w.detach().numpy()

    for cls in ("SGD", "Adam"):
        np.testing.assert_array_equal(run(chainrule, cls), run(torch, cls))


def test_axpy_on_every_route():
    rng = np.random.default_rng(0)
    for shape in [(_THREADED_FROM + 5,), (40, 50), (7,), ()]:
        for dtype in (np.float32, np.float64):
            y, x = rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)
            expected = y + dtype(-0.25) * x
            axpy_(y, x, -0.25)
            np.testing.assert_allclose(y, expected, rtol=1e-6)
    y = rng.standard_normal((50, 40)).astype(np.float32)
    x = rng.standard_normal((40, 50)).astype(np.float32).T  # non-contiguous: NumPy's route
    expected = y + np.float32(0.5) * x
    view = y[:, ::2]
    axpy_(view, x[:, ::2], 0.5)
    np.testing.assert_allclose(y[:, ::2], expected[:, ::2], rtol=1e-6)


def test_scratch_grows_and_reuses_its_memory():
    scratch = Scratch()
    a = scratch.get((10, 10), np.float32)
    b = scratch.get((5,), np.float32)
    assert np.shares_memory(a, b) and b.flags.c_contiguous
    c = scratch.get((30,), np.float64)
    assert c.dtype == np.float64 and not np.shares_memory(a, c)
    d = scratch.get((200,), np.float32)
    assert d.shape == (200,) and scratch.get((), np.float32).shape == ()
