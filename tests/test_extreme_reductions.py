"""Reductions, norms, scatter/index reductions, renorm and vander at inf, NaN, 1e38 and subnormals.

The regression tests of the fixes behind ``tests/test_extreme_values.py``'s sweep, each on a small
explicit float32 input: values and a vector-Jacobian product against torch (the oracle), with NumPy's
RuntimeWarning as an error in chainrule. Where torch's own result is wrong (``TORCH_WRONG`` there), the
expected value is derived by hand.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from oracle import assert_close, to_numpy

import chainrule

INF, NAN = float("inf"), float("nan")


def _run(lib, fn, arrays: list, seed: int = 3):
    """``fn``'s outputs and the gradients of a random vector-Jacobian product w.r.t. every input."""
    xs = [lib.tensor(np.array(a, dtype=np.float32), requires_grad=True) for a in arrays]
    out = fn(lib, *xs)
    outs = list(out) if isinstance(out, tuple) else [out]
    rng = np.random.default_rng(seed)
    vs = [lib.tensor(rng.standard_normal(tuple(o.shape)).astype(np.float32)) for o in outs]
    grads = lib.autograd.grad(outs, xs, vs, allow_unused=True)
    grads = [np.zeros(np.shape(a), np.float32) if g is None else to_numpy(g) for a, g in zip(arrays, grads)]
    return [to_numpy(o.detach()) for o in outs], grads


def _check(fn, *arrays) -> None:
    """Outputs and gradients equal torch's: the same NaN and inf places, finite values to float32's
    tolerance."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outs_t, grads_t = _run(torch, fn, list(arrays))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        outs_o, grads_o = _run(chainrule, fn, list(arrays))
    for k, (o, t) in enumerate(zip(outs_o, outs_t)):
        assert_close(o, t, 2e-4, 1e-5, f"output {k}")
    for k, (o, t) in enumerate(zip(grads_o, grads_t)):
        assert_close(o, t, 2e-4, 1e-5, f"gradient {k}")


# ---- norms ----------------------------------------------------------------------------------------
ORDERS = [2, 3, 1.5, 0.5, 1, 0, INF, -INF, -1]


@pytest.mark.parametrize("p", ORDERS)
def test_norm_over_one_element_is_its_magnitude_like_torch(p) -> None:
    # torch's vector_norm over dims of size 1 is |x|: 1e38 is not squared into inf, a subnormal's
    # norm is not 0, and the gradient of norm(1e-45) is its sign
    column = [[1e38], [1e-45], [-1e-45], [-3.0], [0.0]]
    _check(lambda m, x: m.norm(x, p, dim=-1), column)
    _check(lambda m, x: m.linalg.vector_norm(x, p, dim=(0, 1), keepdim=True), [[1e38]])
    _check(lambda m, x: m.norm(x, p), [1e-45])


def test_norm_of_a_zero_dim_tensor_like_torch() -> None:
    _check(lambda m, x: m.norm(x), 1e38)
    _check(lambda m, x: m.norm(x), -1e-45)


def test_norm_of_several_elements_still_overflows_like_torch() -> None:
    # (torch accumulates a float32 norm in float32: the shortcut is for single elements only)
    _check(lambda m, x: m.norm(x, 2, dim=-1), [[1e38, 1.0, 2.0], [1e20, 1e20, 0.0]])


@pytest.mark.parametrize("p", [1, INF, -INF, 1.5, 3, 0.5, 2])
def test_norm_gradient_at_nan_uses_torchs_sign(p) -> None:
    # torch's norm_backward multiplies by sgn(x), which is 0 at NaN (NumPy's sign is NaN)
    _check(lambda m, x: m.norm(x, p, dim=-1), [[NAN, 1.0, -2.0], [3.0, 0.0, -1.0]])


def test_dist_inf_with_nan_and_inf_like_torch() -> None:
    for value in (NAN, INF, -INF):
        _check(lambda m, x, y: m.dist(x, y, INF), [value, 1.0, -2.0, 0.5], [0.5, 0.25, 1.0, -1.0])


@pytest.mark.parametrize("p", [1, 0.5, 1.5, 2, 3])
def test_cdist_keeps_its_kernels_nan_gradient(p) -> None:
    # torch's cdist kernel builds its sign from ceil/floor and min/max: NaN at NaN, unlike the norm's
    _check(lambda m, a, b: m.cdist(a, b, p), [[[NAN, 1.0], [2.0, 0.5]]], [[[1.0, -1.0], [0.0, 3.0]]])
    _check(lambda m, a, b: m.cdist(a, b, p), [[[NAN]]], [[[INF]]])


def test_cdist_over_one_coordinate_squares_like_torch() -> None:
    # torch's cdist kernel squares the differences even over one coordinate: 2e38 ** 2 is inf
    a = np.array([[1e38], [1.0]], dtype=np.float32)
    b = np.array([[-1e38], [2.0]], dtype=np.float32)
    ours = chainrule.cdist(chainrule.tensor(a), chainrule.tensor(b)).numpy()
    np.testing.assert_array_equal(ours, torch.cdist(torch.tensor(a), torch.tensor(b)).numpy())
    assert np.isinf(ours[0, 0])


# ---- var and std ----------------------------------------------------------------------------------
WIDE_VALUES = [
    [1e38, 1.0, 2.0],
    [3e38, 1e38],  # the whole-tensor mean overflows in float32 in torch too
    [1e-30, 2e-30, 3e-30],  # squares below float32's range
    [[1e38, 2.0], [3.0, 4.0]],
    [[1e20, 1.0], [2.0, 1e-25]],
]
VAR_CALLS = [
    lambda m, x: m.std(x),
    lambda m, x: m.std(x, 0),
    lambda m, x: m.std(x, -1, keepdim=True),
    lambda m, x: m.std(x, correction=0),
    lambda m, x: m.var(x),
    lambda m, x: m.var(x, -1),
    lambda m, x: m.std_mean(x, 0)[0],
]


@pytest.mark.parametrize("values", WIDE_VALUES)
def test_std_and_var_of_float32_accumulate_in_float64_like_torch(values) -> None:
    for call in VAR_CALLS:
        _check(call, values)


def test_var_mean_of_an_inf_is_the_mean_not_welfords_nan() -> None:
    # torch's var_mean takes its mean from Welford's running update, where an inf followed by any
    # value gives inf - inf = NaN; torch.mean's answer (and chainrule's) is inf
    x = np.array([[INF, 1.0, 2.0], [1.0, 2.0, -INF]], dtype=np.float32)
    for fn in (chainrule.var_mean, chainrule.std_mean):
        spread, mean = fn(chainrule.tensor(x), 1)
        np.testing.assert_array_equal(mean.numpy(), torch.mean(torch.tensor(x), 1).numpy())
        np.testing.assert_array_equal(mean.numpy(), [INF, -INF])
        assert np.isnan(spread.numpy()).all()  # (torch's too)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(torch.var_mean(torch.tensor(x), 1)[1][0].item())  # the bug this sidesteps


# ---- scatter_reduce and index_reduce --------------------------------------------------------------
SELF = [[NAN, 1.0, 2.0], [3.0, INF, 5.0], [0.5, -1.0, -INF]]
SRC = [[0.5, NAN, 7.0], [8.0, 1.0, -1.0]]
INDEX = [[0, 1, 0], [0, 0, 1]]


@pytest.mark.parametrize("reduce", ["amax", "amin", "prod", "sum", "mean"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_with_nan_and_inf_like_torch(reduce, include_self) -> None:
    def fn(m, x, src):
        return m.scatter_reduce(x, 0, m.tensor(INDEX), src, reduce, include_self=include_self)

    _check(fn, SELF, SRC)
    _check(fn, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[INF, 0.0, 2.0], [-INF, 3.0, 0.0]])


@pytest.mark.parametrize("reduce", ["amax", "amin", "prod", "mean"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_with_nan_and_inf_like_torch(reduce, include_self) -> None:
    def fn(m, x, src):
        return m.index_reduce(x, 1, m.tensor([0, 2, 0, 1]), src, reduce, include_self=include_self)

    _check(fn, SELF, [[NAN, 1.0, 2.0, 0.5], [4.0, INF, 3.0, 3.0], [-1.0, -1.0, 0.0, -INF]])


def test_scatter_reduce_in_place_amax_with_nan_like_torch() -> None:
    def fn(m, x, src):
        return (x * 1).scatter_reduce_(0, m.tensor(INDEX), src, "amax")

    _check(fn, SELF, SRC)


# ---- renorm, logcumsumexp, vander -------------------------------------------------------------------
@pytest.mark.parametrize(("p", "dim", "maxnorm"), [(2, 0, 1.5), (1, -1, 2.0), (3, 1, 0.5)])
def test_renorm_with_nan_and_huge_slices_like_torch(p, dim, maxnorm) -> None:
    # a slice within maxnorm (or a NaN slice: NaN > maxnorm is false) passes its gradient as it is
    values = [[NAN, 1.0, 0.1], [3.0, 4.0, 0.2], [0.1, 0.2, 0.3]]
    _check(lambda m, x: m.renorm(x, p, dim, maxnorm), values)
    _check(lambda m, x: (x * 1).renorm_(p, dim, maxnorm), values)
    # torch's backward recomputes the norms in float64: a slice whose float32 norm overflows (1e38)
    _check(lambda m, x: m.renorm(x, p, dim, maxnorm), [[1e38]])
    _check(lambda m, x: m.renorm(x, p, dim, maxnorm), [[0.1, 0.2, 1e38], [1.0, 2.0, 3.0]])
    _check(lambda m, x: m.renorm(x, p, dim, maxnorm), [[1e20, 2.0, 3.0], [1.0, 1e-30, INF]])


def test_logcumsumexp_gradient_at_1e38_by_hand() -> None:
    # d y_j / d x_k = exp(x_k - y_j) for j >= k. With x = [1e38, 1, -5] every y_j is 1e38, so x_0's
    # gradient is the sum of the upstream gradients and the others' are 0. (torch's log-space
    # backward loses log(g) beside 1e38 and gives 1 for x_0 whatever g is.)
    x = chainrule.tensor(np.array([[1e38, 1.0, -5.0]], dtype=np.float32), requires_grad=True)
    g = np.array([[0.3, -0.2, 0.05]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        (grad,) = chainrule.autograd.grad(x.logcumsumexp(-1), x, chainrule.tensor(g))
    np.testing.assert_allclose(grad.numpy(), [[g.sum(), 0.0, 0.0]], rtol=1e-6)
    single = chainrule.tensor(np.array([[1e38]], dtype=np.float32), requires_grad=True)
    (grad,) = chainrule.autograd.grad(single.logcumsumexp(-1), single, chainrule.tensor([[0.3]]))
    np.testing.assert_allclose(grad.numpy(), [[0.3]], rtol=1e-6)


@pytest.mark.parametrize("value", [INF, -INF, NAN, 1e-45, 0.0, -0.0, 1e38])
@pytest.mark.parametrize("n", [2, 3, 4])
def test_linalg_vander_at_extreme_values_like_torch(value, n) -> None:
    # torch: ones beside cumprod(x repeated n - 1 times); one copy's cumprod derivative is g itself
    _check(lambda m, x: m.linalg.vander(x, N=n), [[value, 2.0, 0.5], [1.0, -3.0, 0.0]])
