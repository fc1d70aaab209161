"""``linalg.householder_product`` and ``ormqr`` against torch: values, gradients of every input
(first order, and the graph-building path that second derivatives take) and second derivatives,
on finite inputs and on inputs holding inf, NaN, 1e38 and 1e-45.

Both ops are one op each with torch's derivative rules (``householder_product_backward``,
``ormqr_backward``); their forwards redo a result holding an inf or NaN with LAPACK's reference
``org2r`` / ``orm2r`` as torch's MKL runs them (``chainrule.kernels.lapack_reference``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from oracle import assert_close, to_numpy

import chainrule
from chainrule.kernels.lapack_reference import geqr2, org2r, orm2r

pytestmark = pytest.mark.usefixtures("one_torch_thread")

INF, NAN = float("inf"), float("nan")
MODES = [(True, False), (True, True), (False, False), (False, True)]


def _values_and_grads(lib, fn, arrays: list, v: np.ndarray, create_graph: bool = False) -> list:
    """``[output, gradient of each input]`` of ``sum(fn(*inputs) * v)`` as arrays (None: no gradient)."""
    ins = [lib.tensor(a, requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        if lib is chainrule:  # chainrule is silent where IEEE arithmetic gives inf or NaN, as torch
            warnings.simplefilter("error", RuntimeWarning)
        out = fn(lib, *ins)
        grads = lib.autograd.grad(out, ins, lib.tensor(v), allow_unused=True, create_graph=create_graph)
    return [to_numpy(out.detach())] + [None if g is None else to_numpy(g.detach()) for g in grads]


def _same(fn, arrays: list, v: np.ndarray, what: str, create_graph: bool = False) -> None:
    ours = _values_and_grads(chainrule, fn, arrays, v, create_graph)
    theirs = _values_and_grads(torch, fn, arrays, v, create_graph)
    for k, (o, t) in enumerate(zip(ours, theirs)):
        if o is None or t is None:
            assert not np.any(t if o is None else o), f"{what}: result {k}: one of them is None"
            continue
        assert_close(o, t, 2e-4, 1e-5, f"{what}: result {k} (0: output, then each input's gradient)")


def householder(lib, a, tau):
    return lib.linalg.householder_product(a, tau)


def _ormqr(left: bool, transpose: bool):
    return lambda lib, a, tau, c: lib.ormqr(a, tau, c, left, transpose)


# ---- the sweep's cases (tests/test_extreme_values.py), written out -------------------------------
A43 = np.array([[0.3, -0.5, 0.4], [1.3, 0.9, -0.7], [-1.2, -0.6, 0.05], [-2.3, -0.2, -1.2]], dtype=np.float32)
TAU3 = np.array([1.04, 0.61, 1.37], dtype=np.float32)


@pytest.mark.parametrize("value", [INF, -INF, NAN, 1e38, 1e-45])
def test_householder_product_with_an_extreme_first_entry(value: float) -> None:
    """The sweep writes the value into A[0, 0] (ignored: the diagonal) and tau[0]: an inf or NaN
    tau makes torch's sigma = tau / (tau |v|^2 - 1) NaN, and with it every tau gradient (chainrule's
    composed product had a finite one); at 1e38 LAPACK's orgqr overflows to inf where the product
    of the composed reflectors made NaN."""
    a, tau = A43.copy(), TAU3.copy()
    a[0, 0] = tau[0] = value
    v = np.random.default_rng(7).standard_normal((4, 3)).astype(np.float32)
    _same(householder, [a, tau], v, f"householder_product at {value}")
    _same(householder, [a, tau], v, f"householder_product at {value}, create_graph", create_graph=True)


@pytest.mark.parametrize("value", [INF, -INF, NAN, 1e38, 1e-45])
def test_ormqr_with_an_extreme_first_entry(value: float) -> None:
    """The sweep's case (left, transpose): the gradient of C is ormqr with the other transpose, as
    torch's, which keeps the infinities its composed product's rule turned into NaN."""
    a, tau = A43.copy(), TAU3.copy()
    c = np.array([[0.7, -0.5], [-1.3, 1.4], [0.7, 0.6], [-2.0, 0.3]], dtype=np.float32)
    a[0, 0] = tau[0] = c[0, 0] = value
    v = np.random.default_rng(7).standard_normal((4, 2)).astype(np.float32)
    _same(_ormqr(True, True), [a, tau, c], v, f"ormqr at {value}")


def test_org2r_leaves_a_column_alone_where_a_nan_tau_meets_a_zero() -> None:
    """LAPACK's ger skips a column whose w_j is 0: with tau NaN and v zero at that row, the
    identity's column there stays as it is in torch."""
    a = np.array([[1.0, 0, 0], [-0.8, 1, 0], [0.0, 0.4, 1], [-1.1, -0.5, 0.4]], dtype=np.float32)
    tau = np.array([NAN], dtype=np.float32)
    ours = chainrule.linalg.householder_product(chainrule.tensor(a), chainrule.tensor(tau))
    theirs = torch.linalg.householder_product(torch.tensor(a), torch.tensor(tau))
    assert_close(ours, theirs, 2e-4, 1e-5, "householder_product, tau NaN")
    assert np.array_equal(to_numpy(ours)[:, 2], [0, 0, 1, 0])


def test_tiny_tau_times_an_inf_is_inf_not_nan() -> None:
    """BLAS's ger scales w by tau before multiplying by v: 1e-45 * inf is inf, where
    (1e-45 * 0.44) * inf would first underflow to 0 * inf = NaN."""
    a = np.array([[1.4, -0.5], [INF, 0.98], [-0.44, 0.06]], dtype=np.float32)
    tau = np.array([1e-45, 1.88], dtype=np.float32)
    ours = chainrule.linalg.householder_product(chainrule.tensor(a), chainrule.tensor(tau))
    theirs = torch.linalg.householder_product(torch.tensor(a), torch.tensor(tau))
    assert_close(ours, theirs, 2e-4, 1e-5, "householder_product, tau 1e-45")
    assert to_numpy(ours)[2, 1] == -INF


@pytest.mark.parametrize(("left", "transpose"), MODES)
def test_ormqr_zero_in_a_reflector_keeps_an_inf_tau_out_on_the_right(left: bool, transpose: bool) -> None:
    """On the right, ger skips the column where v_j is 0 (an inf tau never meets it); a tiny tau
    times a small v_j underflows to 0 and skips it too."""
    a = np.array([[1.5, 0.17], [-0.49, 0.29], [-1.76, 0.0], [-0.55, 0.98]], dtype=np.float32)
    c = np.array([[-0.05, 0.9, -0.74, 1.5], [-0.26, -0.24, 1.08, 0.99]], dtype=np.float32)
    c = c if not left else c.T.copy()
    v = np.random.default_rng(1).standard_normal(c.shape).astype(np.float32)
    for tau in ([-0.58, INF], [0.37, 1e-45], [NAN, 0.5]):
        tau = np.array(tau, dtype=np.float32)
        c_inf = c.copy()
        c_inf.reshape(-1)[3] = INF
        _same(_ormqr(left, transpose), [a, tau, c_inf], v, f"ormqr({left}, {transpose}) tau {tau}")


# ---- random poisoned inputs ----------------------------------------------------------------------
def _random_case(rng, ormqr: bool):
    m = int(rng.integers(1, 6))
    n = int(rng.integers(1, m + 1))
    left, transpose = MODES[int(rng.integers(4))]
    a = rng.standard_normal((m, n)).astype(np.float32)
    if ormqr:
        r = int(rng.integers(1, 4))
        c = rng.standard_normal((m, r) if left else (r, m)).astype(np.float32)
        arrays, fn = [a, rng.standard_normal(min(m, n)).astype(np.float32), c], _ormqr(left, transpose)
    else:
        arrays, fn = [a, rng.standard_normal(int(rng.integers(0, n + 1))).astype(np.float32)], householder
    for _ in range(int(rng.integers(1, 3))):
        target = arrays[int(rng.integers(len(arrays)))]
        if target.size:  # (no 1e38 here: where sums of 1e38s overflow depends on the BLAS's order)
            target.reshape(-1)[rng.integers(target.size)] = rng.choice([INF, -INF, NAN, 1e-45, 0.0])
    out_shape = arrays[2].shape if ormqr else (m, n)
    return fn, arrays, rng.standard_normal(out_shape).astype(np.float32)


@pytest.mark.parametrize("op", ["householder_product", "ormqr"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_random_poisoned_inputs_match_torch(op: str, create_graph: bool) -> None:
    """Values and every gradient on 40 random small inputs holding inf, NaN, 1e-45 or 0: torch's
    first-order rule updates K in place on the rows from each reflector on; in grad mode (the
    graph-building backward) it multiplies the whole vectors. chainrule takes the same two paths."""
    rng = np.random.default_rng(11 if op == "ormqr" else 12)
    for trial in range(40):
        fn, arrays, v = _random_case(rng, op == "ormqr")
        _same(fn, arrays, v, f"{op} case {trial}: {[a.tolist() for a in arrays]}", create_graph)


# ---- finite inputs: every mode, gradients and second derivatives against torch -----------------
def _second_order(lib, fn, arrays: list, weights: list) -> list:
    ins = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = fn(lib, *ins)
    first = lib.autograd.grad((out * lib.tensor(weights[0])).sum(), ins, create_graph=True)
    total = sum((g * lib.tensor(w)).sum() for g, w in zip(first, weights[1:]))
    second = lib.autograd.grad(total, ins, allow_unused=True)
    return [to_numpy(x.detach()) for x in (out, *first)] + [
        np.zeros(a.shape) if g is None else to_numpy(g) for g, a in zip(second, arrays)
    ]


@pytest.mark.parametrize(("left", "transpose"), MODES)
def test_ormqr_values_gradients_and_second_derivatives_match_torch(left: bool, transpose: bool) -> None:
    rng = np.random.default_rng(5)
    a, tau = rng.standard_normal((2, 5, 3)), rng.uniform(0.2, 1.5, (2, 3))
    c = rng.standard_normal((2, 5, 4) if left else (2, 4, 5))
    weights = [rng.standard_normal(c.shape), rng.standard_normal(a.shape), rng.standard_normal(tau.shape)]
    weights.append(rng.standard_normal(c.shape))
    fn = _ormqr(left, transpose)
    ours, theirs = (_second_order(lib, fn, [a, tau, c], weights) for lib in (chainrule, torch))
    for k, (o, t) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(o, t, rtol=1e-9, atol=1e-10, err_msg=f"ormqr result {k}")


@pytest.mark.parametrize("shape", [(4, 4, 4), (5, 3, 2), (3, 1, 1)])
def test_householder_product_gradients_and_second_derivatives_match_torch(shape: tuple) -> None:
    m, n, k = shape
    rng = np.random.default_rng(6)
    a, tau = rng.standard_normal((2, m, n)), rng.uniform(0.2, 1.5, (2, k))
    weights = [rng.standard_normal((2, m, n)), rng.standard_normal(a.shape), rng.standard_normal(tau.shape)]
    ours, theirs = (_second_order(lib, householder, [a, tau], weights) for lib in (chainrule, torch))
    for j, (o, t) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(o, t, rtol=1e-9, atol=1e-10, err_msg=f"householder_product result {j}")


def test_ormqr_checks_other_as_torch() -> None:
    for lib in (chainrule, torch):
        a, tau = lib.ones(2, 4, 3), lib.ones(2, 3)
        with pytest.raises(RuntimeError, match="same number of dimensions"):
            lib.ormqr(a, tau, lib.ones(4, 2))
        with pytest.raises(RuntimeError, match="batch dimensions of other"):
            lib.ormqr(a, tau, lib.ones(3, 4, 2))


def test_orm2r_applies_q_of_a_qr_to_finite_matrices() -> None:
    """The reference kernel is LAPACK's algorithm: with a QR's reflectors, op(Q) C as the explicit Q."""
    rng = np.random.default_rng(3)
    tall = rng.standard_normal((3, 6, 4))
    r, tau = geqr2(tall)
    q = org2r(r, tau, 6)  # the complete Q
    c = rng.standard_normal((3, 6, 2))
    np.testing.assert_allclose(orm2r(r, tau, c, True, False), q @ c, atol=1e-12)
    np.testing.assert_allclose(orm2r(r, tau, c, True, True), q.swapaxes(1, 2) @ c, atol=1e-12)
    d = c.swapaxes(1, 2)
    np.testing.assert_allclose(orm2r(r, tau, d, False, False), d @ q, atol=1e-12)
    np.testing.assert_allclose(orm2r(r, tau, d, False, True), d @ q.swapaxes(1, 2), atol=1e-12)
