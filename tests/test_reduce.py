"""Reductions: edge cases the random specs do not reach, errors, and torch's return types.

Every expected value comes from torch (the oracle) or from a formula derived by hand.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from oracle import pair, same_or_same_error, to_numpy

import chainrule

INF = float("inf")


def _pair(values, dtype=np.float64):
    """The same leaf in chainrule and torch."""
    a = np.asarray(values, dtype=dtype)
    return pair(a, requires_grad=a.dtype.kind == "f")


def _dt(t) -> str:
    return str(t.dtype).split(".")[-1]


def _grads(fn, values, order: int = 2):
    """Value, first and second derivative (of the sum of the cubed first one) in both libraries."""
    results = []
    for m, x in zip((chainrule, torch), _pair(values)):
        y = fn(m, x)
        (g,) = m.autograd.grad(y.sum(), x, create_graph=order > 1)
        gg = None
        if order > 1 and g.requires_grad:
            (gg,) = m.autograd.grad((g * g * g).sum(), x, allow_unused=True)
        results.append((y, g, gg))
    return results


def _assert_same(ours, theirs, what: str) -> None:
    if theirs is None:
        assert ours is None or np.allclose(to_numpy(ours), 0), what
        return
    if ours is None:
        np.testing.assert_allclose(to_numpy(theirs), 0, err_msg=what)
        return
    np.testing.assert_allclose(
        to_numpy(ours), to_numpy(theirs), rtol=1e-7, atol=1e-10, equal_nan=True, err_msg=what
    )


def _check(fn, values, order: int = 2) -> None:
    (y, g, gg), (ty, tg, tgg) = _grads(fn, values, order)
    _assert_same(y, ty, "value")
    _assert_same(g, tg, "gradient")
    if order > 1:
        _assert_same(gg, tgg, "second derivative")


# ---- products with zeros ----------------------------------------------------------------------
ZERO_CASES = [
    [2.0, 0.0, 3.0],  # one zero: its gradient is the product of the others
    [0.0, 2.0, 3.0, 0.5],
    [2.0, 3.0, 0.0],
    [0.0, 0.0, 3.0],  # two zeros: every first derivative is 0, some second ones are not
    [[1.0, 0.0, 2.0], [3.0, 4.0, 0.0], [0.0, 0.0, 5.0], [1.5, 2.0, -1.0]],
    [[1.0, 0.0, 2.0, 0.0, 3.0], [3.0, 4.0, 0.0, 2.0, 2.0], [0.5, 2.0, 3.0, 0.0, 0.0]],
]


@pytest.mark.parametrize("values", ZERO_CASES)
def test_prod_with_zeros_matches_torch(values) -> None:
    _check(lambda m, x: m.prod(x), values)
    _check(lambda m, x: m.prod(x, -1), values)
    _check(lambda m, x: m.prod(x, 0, keepdim=True), values)


@pytest.mark.parametrize("values", ZERO_CASES)
def test_cumprod_with_zeros_matches_torch(values) -> None:
    _check(lambda m, x: m.cumprod(x, -1), values, order=1)  # the O(n) first-order path
    _check(lambda m, x: m.cumprod(x, -1), values)  # the polynomial path under create_graph
    _check(lambda m, x: m.cumprod(x, 0) ** 2, values)


def test_prod_gradient_with_one_zero_is_the_product_of_the_others() -> None:
    x = chainrule.tensor([2.0, 0.0, 3.0, -1.5], requires_grad=True)
    chainrule.prod(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 2.0 * 3.0 * -1.5, 0.0, 0.0])


def test_cumprod_gradient_by_hand() -> None:
    # y = [a, ab, abc]: dy/da = 1 + b + bc, dy/db = a + ac, dy/dc = ab
    a, b, c = 2.0, 0.0, 3.0
    x = chainrule.tensor([a, b, c], requires_grad=True)
    chainrule.cumprod(x, 0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1 + b + b * c, a + a * c, a * b])


def test_cumprod_third_derivative_with_zero() -> None:
    grads = []
    for m, x in zip((chainrule, torch), _pair([1.5, 0.0, 2.0, -1.0])):
        (g,) = m.autograd.grad(m.cumprod(x, 0).sum(), x, create_graph=True)
        (gg,) = m.autograd.grad((g * g).sum(), x, create_graph=True)
        (ggg,) = m.autograd.grad((gg * gg).sum(), x)
        grads.append(ggg)
    _assert_same(*grads, "third derivative")


# ---- ties and selection ----------------------------------------------------------------------
def test_amax_splits_the_gradient_evenly_among_ties() -> None:
    values = [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]
    x = chainrule.tensor(values, requires_grad=True)
    chainrule.amax(x, 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    _check(lambda m, x: m.amax(x, 1) ** 2, values)
    _check(lambda m, x: m.amin(x, (0, 1)) ** 2, values)
    _check(lambda m, x: m.max(x) * 3, values)
    _check(lambda m, x: m.min(x), values)


def test_max_with_dim_sends_the_gradient_to_the_first_index_only() -> None:
    values = [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]
    x = chainrule.tensor(values, requires_grad=True)
    out = chainrule.max(x, 1)
    np.testing.assert_array_equal(out.indices.numpy(), torch.max(torch.tensor(values), 1).indices)
    out.values.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 1, 0], [1, 0, 0]])
    _check(lambda m, x: m.max(x, 1).values ** 2, values)
    _check(lambda m, x: m.min(x, 0, keepdim=True)[0] ** 2, values)


def test_max_full_with_nan_sends_the_gradient_to_the_nan() -> None:
    _check(lambda m, x: m.max(x), [1.0, math.nan, 3.0], order=1)
    _check(lambda m, x: m.min(x), [math.nan, 0.0, math.nan], order=1)


def test_max_returns_torch_like_named_tuples() -> None:
    x = chainrule.tensor([[1.0, 5.0], [7.0, 2.0]])
    out = chainrule.max(x, dim=1)
    assert isinstance(out, tuple) and type(out).__name__ == "max"
    values, indices = out
    assert values is out.values and indices is out.indices is out[1]
    assert indices.dtype == chainrule.int64
    assert "values=" in repr(out) and "indices=" in repr(out)
    assert type(x.min(0)).__name__ == "min"
    expected = torch.max(torch.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1)
    np.testing.assert_array_equal(values.numpy(), expected.values.numpy())
    np.testing.assert_array_equal(indices.numpy(), expected.indices.numpy())


def test_binary_max_and_min_are_maximum_and_minimum() -> None:
    a, b = [[1.0, 5.0], [7.0, 2.0]], [3.0, 3.0]
    for fn in ("max", "min"):
        ours = getattr(chainrule, fn)(chainrule.tensor(a), chainrule.tensor(b))
        theirs = getattr(torch, fn)(torch.tensor(a), torch.tensor(b))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        ours = getattr(chainrule.tensor(a), fn)(other=chainrule.tensor(b))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_argmax_returns_the_first_of_ties_like_torch() -> None:
    values = [[1, 3, 3, 0], [2, 2, 1, 2]]
    for fn in ("argmax", "argmin"):
        for kw in ({}, {"dim": 1}, {"dim": 0, "keepdim": True}, {"keepdim": True}):
            ours = getattr(chainrule, fn)(chainrule.tensor(values), **kw)
            theirs = getattr(torch, fn)(torch.tensor(values), **kw)
            assert ours.shape == tuple(theirs.shape)
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# ---- norms --------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [2, "fro", 1, 3, 1.5, 0.5, INF, -INF, 0, None])
def test_norm_gradient_at_the_zero_vector_matches_torch(p) -> None:
    if p == 0:  # no gradient at all: torch's autograd.grad says the input was not used
        for m in (chainrule, torch):
            x = m.zeros(3, requires_grad=True)
            with pytest.raises(RuntimeError, match="not have been used"):
                m.autograd.grad(m.norm(x, 0), x)
            assert m.autograd.grad(m.norm(x, 0), x, allow_unused=True) == (None,)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # torch's second derivative here is nan
        _check(lambda m, x: m.norm(x, p, dim=1), [[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]])
    x = chainrule.tensor([0.0, 0.0], requires_grad=True)
    chainrule.norm(x, p).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_norm_values_by_hand() -> None:
    x = chainrule.tensor([[3.0, -4.0], [0.0, 1.0]])
    assert math.isclose(chainrule.norm(x).item(), math.sqrt(9 + 16 + 1), rel_tol=1e-6)
    np.testing.assert_allclose(chainrule.norm(x, 1, dim=1).numpy(), [7.0, 1.0])
    np.testing.assert_allclose(chainrule.norm(x, INF, dim=0).numpy(), [3.0, 4.0])
    np.testing.assert_allclose(chainrule.norm(x, 0).numpy(), 3.0)
    np.testing.assert_allclose(
        chainrule.norm(x, 3, dim=1, keepdim=True).numpy(), [[(27 + 64) ** (1 / 3)], [1.0]], rtol=1e-6
    )


def test_norm_errors() -> None:
    x = chainrule.ones(2, 3, 4)
    with pytest.raises(RuntimeError, match="2-tuple"):
        chainrule.norm(x, dim=(0, 1, 2))
    with pytest.raises(RuntimeError, match="2-tuple"):  # 'nuc' over all three dims
        chainrule.norm(x, "nuc")
    with pytest.raises(RuntimeError, match="Order abc"):
        chainrule.norm(x, "abc")
    with pytest.raises(RuntimeError, match="floating point"):
        chainrule.norm(chainrule.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="inf norm on an empty"):
        chainrule.norm(chainrule.zeros(0), INF)
    out = chainrule.norm(chainrule.tensor([1.0, 2.0]), dtype=chainrule.float64)
    assert out.dtype == chainrule.float64


# ---- var / std ----------------------------------------------------------------------------
def test_var_std_signatures_match_torch() -> None:
    values = np.random.default_rng(0).standard_normal((3, 4))
    calls = [
        lambda m, x: m.var(x, 1, False),
        lambda m, x: m.var(x, False),
        lambda m, x: m.var(x, True),
        lambda m, x: m.std(x, dim=0, correction=0),
        lambda m, x: m.std(x, [0, 1], True, True),
        lambda m, x: x.var(1, keepdim=True, correction=2),
        lambda m, x: m.var_mean(x, 1)[0] + m.var_mean(x, 1)[1],
        lambda m, x: m.std_mean(x, unbiased=False)[0] * m.std_mean(x)[1],
    ]
    for fn in calls:
        _check(fn, values)


def test_var_without_degrees_of_freedom_is_nan_or_inf_like_torch() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for values, kw in (
            ([3.0], {}),
            ([[1.0, 2.0]], {"dim": 0}),
            ([1.0, 2.0], {"correction": 2}),
            ([1.0, 1.0], {"correction": 2}),
        ):
            _check(lambda m, x, kw=kw: m.var(x, **kw), values, order=1)
            _check(lambda m, x, kw=kw: m.std(x, **kw), values, order=1)
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        chainrule.var(chainrule.tensor([3.0]))


def test_std_of_a_constant_has_zero_gradient() -> None:
    _check(lambda m, x: m.std(x, 1), [[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]], order=1)
    x = chainrule.tensor([5.0, 5.0], requires_grad=True)
    chainrule.std(x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_var_errors() -> None:
    x = chainrule.ones(2, 3)
    with pytest.raises(TypeError, match="unbiased"):
        chainrule.var(x, 1, unbiased=True, correction=0)
    with pytest.raises(RuntimeError, match="floating point"):
        chainrule.var(chainrule.tensor([1, 2]))
    with pytest.raises(IndexError, match="Dimension out of range"):
        chainrule.std(x, 2)


# ---- logsumexp ------------------------------------------------------------------------------
def test_logsumexp_is_stable_like_torch() -> None:
    _check(lambda m, x: m.logsumexp(x, 1), [[1000.0, 1000.0, -1000.0], [-1e4, -1e4 - 1, 0.0]])
    x = chainrule.tensor([1000.0, 1000.0], dtype=chainrule.float64)
    assert math.isclose(chainrule.logsumexp(x, 0).item(), 1000.0 + math.log(2.0), rel_tol=1e-12)
    for values in ([-INF, -INF], [INF, 1.0], []):
        ours = chainrule.logsumexp(chainrule.tensor(values), 0)
        theirs = torch.logsumexp(torch.tensor(values), 0)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    out = chainrule.logsumexp(chainrule.tensor([1, 2]), 0)
    assert out.dtype == chainrule.float32
    np.testing.assert_allclose(out.numpy(), torch.logsumexp(torch.tensor([1, 2]), 0).numpy())


# ---- dtypes and special cases --------------------------------------------------------------
@pytest.mark.parametrize(
    "name,kw", [("sum", {}), ("prod", {}), ("cumsum", {"dim": 0}), ("cumprod", {"dim": 0})]
)
@pytest.mark.parametrize("dtype", ["bool", "int32", "uint8", "int64"])
def test_integer_accumulation_dtypes_match_torch(name, kw, dtype) -> None:
    values = np.array([1, 0, 3, 2]).astype(dtype)
    ours = getattr(chainrule, name)(chainrule.tensor(values), **kw)
    theirs = getattr(torch, name)(torch.tensor(values), **kw)
    assert _dt(ours) == _dt(theirs)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_sum_and_mean_dtype_and_empty_dim_list() -> None:
    x = chainrule.tensor([[1.0, 2.0], [3.0, 4.5]], dtype=chainrule.float32, requires_grad=True)
    s = chainrule.sum(x, dtype=chainrule.float64)
    assert s.dtype == chainrule.float64
    s.backward()
    assert x.grad.dtype == chainrule.float32
    assert chainrule.sum(x, []).shape == () and chainrule.mean(x, dim=()).shape == ()
    assert chainrule.mean(chainrule.tensor([1, 2]), dtype=chainrule.float32).item() == 1.5
    with pytest.raises(RuntimeError, match="mean"):
        chainrule.mean(chainrule.tensor([1, 2]))


def test_all_any_count_nonzero_match_torch() -> None:
    values = np.array([[1, 0, 2], [0, 0, 3]], dtype=np.uint8)
    for fn, kw in [
        ("all", {}),
        ("any", {"dim": 0}),
        ("all", {"dim": (0, 1)}),
        ("any", {"dim": -1, "keepdim": True}),
        ("all", {"dim": ()}),
        ("count_nonzero", {}),
        ("count_nonzero", {"dim": 1}),
        ("count_nonzero", {"dim": (0, 1)}),
    ]:
        for dtype in (np.uint8, np.float32, np.bool_):
            ours = getattr(chainrule, fn)(chainrule.tensor(values.astype(dtype)), **kw)
            theirs = getattr(torch, fn)(torch.tensor(values.astype(dtype)), **kw)
            assert _dt(ours) == _dt(theirs), (fn, kw, dtype)
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_cumsum_backward_is_the_reversed_cumsum() -> None:
    x = chainrule.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = chainrule.tensor([1.0, 10.0, 100.0])
    (chainrule.cumsum(x, 0) * w).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [111.0, 110.0, 100.0])


def test_reduction_errors_like_torch() -> None:
    empty = chainrule.zeros(0)
    with pytest.raises(RuntimeError, match="reduction dim to be specified"):
        chainrule.max(empty)
    with pytest.raises(RuntimeError, match="reduction dim to be specified"):
        chainrule.amin(empty)
    with pytest.raises(IndexError, match="reduction dim to be specified"):
        chainrule.argmax(empty)
    with pytest.raises(IndexError, match="non-zero size"):
        chainrule.max(chainrule.zeros(2, 0), 1)
    with pytest.raises(IndexError, match="non-zero size"):
        chainrule.argmin(chainrule.zeros(2, 0), 1)
    with pytest.raises(RuntimeError, match="does not support bool"):
        chainrule.argmax(chainrule.tensor([True, False]))
    with pytest.raises(TypeError, match="single int"):
        chainrule.prod(chainrule.ones(2, 2), (0, 1))
    with pytest.raises(IndexError, match="Dimension out of range"):
        chainrule.cumsum(chainrule.ones(2, 2), 2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        chainrule.sum(chainrule.ones(2, 2), 2)
    with pytest.raises(RuntimeError, match="multiple times"):
        chainrule.amax(chainrule.ones(2, 2), (0, 0))
    with pytest.raises(TypeError):
        chainrule.max(chainrule.ones(2), keepdim=True)
    values = torch.max(torch.zeros(0, 2), 1)
    ours = chainrule.max(chainrule.zeros(0, 2), 1)
    assert ours.values.shape == tuple(values.values.shape) == (0,)


def test_zero_dim_inputs_like_torch() -> None:
    for fn in (
        lambda m, x: m.sum(x, 0),
        lambda m, x: m.prod(x, -1),
        lambda m, x: m.cumsum(x, 0),
        lambda m, x: m.cumprod(x, 0),
        lambda m, x: m.max(x, 0)[0],
        lambda m, x: m.logsumexp(x, 0),
        lambda m, x: m.amax(x, 0),
        lambda m, x: m.norm(x, 3, 0),
        lambda m, x: m.mean(x, -1),
    ):
        _check(fn, 1.5)
    assert chainrule.argmax(chainrule.tensor(2.0), 0).item() == 0


# ---- empty inputs -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shape, size",
    [((2, 3, 0), (1, 4)), ((0, 3, 4), (2, 1, 4)), ((2, 3, 0), (1,)), ((0, 3), (1, 3)), ((2, 3), (5,))],
)
def test_sum_to_size_refuses_a_size_that_does_not_expand_as_torch(shape, size) -> None:
    same_or_same_error(lambda m, x: x.sum_to_size(size), [shape], fragments=["sum_to_size", str(list(size))])


@pytest.mark.parametrize(
    "y, x, dim", [((0, 2), (3,), 0), ((0,), (1,), 0), ((2, 0), (3,), 1), ((0, 2), (3, 2), 0)]
)
def test_trapezoid_of_no_samples_is_zero_whatever_x(y, x, dim) -> None:
    """torch returns 0 (a constant of y's dtype) before it looks at x."""
    same_or_same_error(lambda m, a, b: m.trapezoid(a, b, dim=dim), [y, x])
