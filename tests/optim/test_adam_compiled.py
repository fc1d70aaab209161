"""Adam's and AdamW's one-pass update (kernels/_jit_optim.py through optim/_fused.adam_compiled)
and their NumPy passes against torch.optim: every option, float32 and float64, parameters large
enough for two threads, special values; the paths the compiled kernel leaves to NumPy (complex,
non-contiguous) stay right."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_fused_updates import CASES, assert_close, train

import chainrule

pytestmark = pytest.mark.usefixtures("jit_path")

ADAM_CASES = [c for c in CASES if c[0] in ("Adam", "AdamW")] + [
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9))),  # lerp's other formula (weight 0.7 >= 0.5)
    ("Adam", dict(lr=0.01, betas=(0.0, 0.9), weight_decay=0.2)),
    ("AdamW", dict(lr=0.01, weight_decay=0.0)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cls,kwargs", ADAM_CASES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(ADAM_CASES)])
def test_adam_trajectory_matches_torch(cls, kwargs, dtype):
    assert_close(train(chainrule, cls, kwargs, dtype), train(torch, cls, kwargs, dtype), dtype)


def test_tensor_learning_rate():
    def run(lib):
        return train(lib, "AdamW", dict(lr=lib.tensor(0.01), weight_decay=0.1), "float32", groups=False)

    assert_close(run(chainrule), run(torch), "float32")


@pytest.mark.parametrize("amsgrad", [False, True])
def test_two_threads_and_special_values(amsgrad):
    """A parameter beyond halves.MIN_ELEMENTS (two threads), with NaN and inf in its gradient and
    an inf parameter: the same numbers as torch, one thread and two."""
    from chainrule.kernels import halves

    n = halves.MIN_ELEMENTS + 4099
    rng = np.random.default_rng(5)
    start = rng.standard_normal(n).astype(np.float32)
    start[7] = np.inf
    grads = [rng.standard_normal(n).astype(np.float32) for _ in range(3)]
    grads[1][[3, n - 2]] = [np.nan, np.inf]

    def run(lib, threads):
        before = chainrule.get_num_threads()
        chainrule.set_num_threads(threads)
        try:
            p = lib.tensor(start.copy(), requires_grad=True)
            opt = lib.optim.AdamW([p], lr=0.01, weight_decay=0.1, amsgrad=amsgrad)
            for g in grads:
                p.grad = lib.tensor(g)
                opt.step()
            return p.detach().numpy()
        finally:
            chainrule.set_num_threads(before)

    want = run(torch, 2)
    two, one = run(chainrule, 2), run(chainrule, 1)
    np.testing.assert_array_equal(two, one)
    np.testing.assert_allclose(two, want, rtol=2e-5, atol=2e-6, equal_nan=True)


def test_version_bumped_and_memory_kept():
    w = chainrule.zeros(10, requires_grad=True)
    data, version = w._data, w._version
    w.grad = chainrule.ones(10)
    chainrule.optim.Adam([w], lr=0.5).step()
    assert w._data is data and w._version == version + 1
    np.testing.assert_allclose(data, -0.5, rtol=1e-6)


def test_many_parameters_split_over_two_threads(jit_path):
    """Parameters each below halves.MIN_ELEMENTS, together above it: the split falls inside one.
    The compiled pass is the same per element on any split: bit-identical at 1 and 2 threads. The
    NumPy passes call OpenBLAS's axpy, whose two threads split the array where its one thread does
    not, so an element may meet the FMA vector loop in one and the scalar tail in the other (seen on
    an AMD EPYC's Zen kernels: 1 ulp at 4 of 57,500 elements): there, 2 ulp."""
    rng = np.random.default_rng(6)
    shapes = [(300, 200), (7,), (), (250, 230), (90, 1000), (3, 5)]
    start = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(3)]

    def run(lib, threads):
        before = chainrule.get_num_threads()
        chainrule.set_num_threads(threads)
        try:
            params = [lib.tensor(a.copy(), requires_grad=True) for a in start]
            opt = lib.optim.AdamW(params, lr=0.01, weight_decay=0.1)
            for gs in grads:
                for p, g in zip(params, gs):
                    p.grad = lib.tensor(g)
                opt.step()
            return [p.detach().numpy() for p in params]
        finally:
            chainrule.set_num_threads(before)

    for a, b, c in zip(run(chainrule, 2), run(chainrule, 1), run(torch, 2)):
        if jit_path == "jit":
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=2 * np.finfo(np.float32).eps, atol=0)
        np.testing.assert_allclose(a, c, rtol=2e-5, atol=2e-6)
