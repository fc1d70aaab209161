"""Element-wise ops at their singular points (0, -0.0, subnormals, infinities, NaN) against torch:
the regression tests of the extreme-value sweep's fixes (tests/test_extreme_values.py), each on a
small explicit input so that a failure names the element."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import chainrule

pytestmark = pytest.mark.usefixtures("one_torch_thread")

INF, NAN, TINY = float("inf"), float("nan"), 1e-45  # TINY: float32's smallest subnormal


def _value_and_grads(lib, fn, values, seed):
    """``fn``'s float32 output and its vector-Jacobian product with ``seed``, as NumPy arrays."""
    xs = [lib.tensor(v, dtype=lib.float32, requires_grad=True) for v in values]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # chainrule must be as silent as torch
        out = fn(lib, *xs)
        grads = lib.autograd.grad(out, xs, lib.tensor(seed, dtype=lib.float32), allow_unused=True)
    return [out.detach().numpy()] + [np.zeros(1) if g is None else g.numpy() for g in grads]


def _same(fn, values, seed) -> None:
    """Values and gradients equal torch's: the same NaNs and infinities, the output's signs of zero
    (a subnormal may differ by one unit: SciPy's i1(1e-45) is 1e-45, torch's 0)."""
    ours = _value_and_grads(chainrule, fn, values, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _value_and_grads(torch, fn, values, seed)
    for k, (o, t) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(o, t, rtol=1e-5, atol=2e-45, equal_nan=True, err_msg=f"output/grad {k}")
    out_o, out_t = ours[0], theirs[0]
    zero = (out_o == 0) & (out_t == 0)
    np.testing.assert_array_equal(np.signbit(out_o[zero]), np.signbit(out_t[zero]), err_msg="signs of zero")


CASES = {
    # a tie with a bound gives the input the whole gradient; min > max gives it to max; NaN to none
    "clamp(tensors)": (
        lambda m, x, lo, hi: m.clamp(x, lo, hi),
        [
            [0.0, 1.0, 2.0, NAN, 0.5, 0.5, 3.0, -1.0],
            [0.0, 1.0, 0.0, 0.0, NAN, 0.0, 2.0, 0.0],
            [1.0, 1.0, 1.0, 1.0, 1.0, NAN, 1.0, -2.0],
        ],
    ),
    "clamp(min tensor)": (lambda m, x, lo: m.clamp(x, lo), [[0.0, -1.0, 2.0, NAN], [0.0, 0.0, NAN, 1.0]]),
    "clamp(max tensor)": (lambda m, x, hi: m.clamp(x, max=hi), [[0.0, -1.0, 2.0, NAN], [0.0, 0.0, NAN, 1.0]]),
    # 1 / (x^2 + y^2) is 0 where the squares are 0 or underflow
    "atan2": (lambda m, y, x: m.atan2(y, x), [[-0.0, TINY, 0.0, 1.0, INF], [-0.0, TINY, 0.0, TINY, INF]]),
    "copysign": (lambda m, a, b: m.copysign(a, b), [[TINY, -0.0, 2.0, INF], [TINY, 1.0, -1.0, -2.0]]),
    "logit": (lambda m, x: m.logit(x), [[-0.0, 0.0, 1.0, TINY, 0.5, -1.0]]),
    "pow(tensor, tensor)": (lambda m, a, b: m.pow(a, b), [[TINY, 0.0, TINY, 2.0], [TINY, 0.5, -1.0, 3.0]]),
    "x ** 0.5": (lambda m, x: x**0.5, [[-0.0, 0.0, -INF, INF, TINY, 4.0]]),
    "x ** -0.5": (lambda m, x: x**-0.5, [[-0.0, 0.0, -INF, INF, TINY, 4.0]]),
    "x ** 1.5": (lambda m, x: x**1.5, [[-0.0, 0.0, INF, TINY, 4.0]]),
    "sinc": (lambda m, x: m.sinc(x), [[TINY, -0.0, 1e-23, 1e-19, 0.5]]),
    "digamma": (lambda m, x: m.digamma(x), [[-INF, INF, 0.5, 3.0]]),
    "polygamma(1)": (lambda m, x: m.polygamma(1, x), [[-INF, 0.5, 3.0]]),
    "special.i1": (lambda m, x: m.special.i1(x), [[NAN, TINY, 1e-8, -0.0, 0.5, -2.0]]),
    "special.i1e": (lambda m, x: m.special.i1e(x), [[NAN, TINY, 1e-8, -0.0, 0.5, -2.0]]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_singular_points_match_torch(name: str) -> None:
    fn, values = CASES[name]
    shape = np.broadcast_shapes(*(np.shape(v) for v in values))
    seed = np.linspace(-1.5, 2.0, int(np.prod(shape))).reshape(shape)
    _same(fn, values, seed)
    _same(fn, values, 1e-3 * seed)  # a small gradient: a product taken in the wrong order underflows


def test_clamp_with_tensor_bounds_is_one_node_as_torch() -> None:
    x = chainrule.ones(3, requires_grad=True)
    bound = chainrule.zeros(3)
    for out in (chainrule.clamp(x, bound, bound), chainrule.clamp(x, bound), chainrule.clamp(x, max=bound)):
        assert type(out.grad_fn).__name__ == "ClampBackward0"


def test_clamp_with_tensor_bounds_second_derivative_is_zero() -> None:
    x = chainrule.tensor([0.5, 2.0], requires_grad=True)
    (g,) = chainrule.autograd.grad(
        chainrule.clamp(x, chainrule.zeros(2), chainrule.ones(2)).sum(), x, create_graph=True
    )
    assert g.tolist() == [1.0, 0.0]
    assert not g.requires_grad or not chainrule.autograd.grad(g.sum(), x, allow_unused=True)[0].any()
