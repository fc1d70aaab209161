"""The factorisation-based half of chainrule.linalg beyond the op specs: errors against torch's,
ill-conditioned inputs, batch shapes drawn with hypothesis, empty matrices, what each op reads,
vmap, and hand-derived results (closed-form matrix exponentials, the cheapest chain order).
Determinants: test_linalg_det.py."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes
from oracle import pair, same_or_same_error, to_numpy
from specs.linalg_solve import square, square_and_rhs

import chainrule
from chainrule.ops.linalg_matfun import _chain_order

F64 = np.float64


def _both_raise(fn, *arrays):
    """Call ``fn(lib, *tensors)`` with torch and chainrule; both must raise the same type."""
    errors = []
    for lib in (torch, chainrule):
        with pytest.raises(Exception) as info:
            fn(lib, *[lib.tensor(a) for a in arrays])
        errors.append(info.value)
    theirs, ours = errors
    linalg_errors = type(theirs) is torch.linalg.LinAlgError and type(ours) is chainrule.linalg.LinAlgError
    assert type(ours) is type(theirs) or linalg_errors, (
        f"chainrule raised {type(ours)!r}, torch {type(theirs)!r}"
    )
    return str(ours)


def _has(message: str, *parts: str) -> None:
    for part in parts:
        assert part in message, f"{part!r} missing from: {message}"


# ---- errors --------------------------------------------------------------------------------------
SQUARE_OPS = {
    "linalg.det": lambda m, a: m.linalg.det(a),
    "linalg.slogdet": lambda m, a: m.linalg.slogdet(a),
    "logdet": lambda m, a: m.logdet(a),
    "linalg.inv": lambda m, a: m.linalg.inv(a),
    "linalg.cholesky": lambda m, a: m.linalg.cholesky(a),
    "linalg.matrix_exp": lambda m, a: m.linalg.matrix_exp(a),
    "linalg.matrix_power": lambda m, a: m.linalg.matrix_power(a, 2),
}


@pytest.mark.parametrize("who", list(SQUARE_OPS))
def test_non_square_input(who) -> None:
    msg = _both_raise(SQUARE_OPS[who], np.ones((2, 3)))
    _has(msg, who, "square", "2 by 3", "(2, 3)")


@pytest.mark.parametrize("who", list(SQUARE_OPS))
def test_vector_input(who) -> None:
    msg = _both_raise(SQUARE_OPS[who], np.ones(3))
    _has(msg, who, "at least 2 dimensions", "(3,)")


@pytest.mark.parametrize("who", [w for w in SQUARE_OPS if w != "linalg.matrix_power"])
def test_integer_input(who) -> None:
    msg = _both_raise(SQUARE_OPS[who], np.eye(3, dtype=np.int64))
    _has(msg, who, "floating point", "Long")


@pytest.mark.parametrize(
    "fn",
    [
        lambda m, a: m.linalg.inv(a),
        lambda m, a: m.inverse(a),
        lambda m, a: m.linalg.solve(a, m.ones(a.shape[:-1], dtype=a.dtype)),
    ],
)
def test_singular_matrix_raises_linalg_error(fn) -> None:
    a = np.stack([np.eye(3), [[1.0, 2, 3], [2, 4, 6], [0, 0, 1]]])  # batch element 1 is singular
    msg = _both_raise(fn, a)
    with pytest.raises(chainrule.linalg.LinAlgError) as info:
        fn(chainrule, chainrule.tensor(a))
    assert isinstance(info.value, RuntimeError)
    _has(msg, "(Batch element 1)", "singular", "lstsq")
    assert msg.startswith("linalg.")


def test_inv_names_the_zero_pivot() -> None:
    a = np.array([[1.0, 2], [2, 4]])
    with pytest.raises(torch.linalg.LinAlgError) as theirs:
        torch.linalg.inv(torch.tensor(a))
    with pytest.raises(chainrule.linalg.LinAlgError) as ours:
        chainrule.linalg.inv(chainrule.tensor(a))
    _has(str(theirs.value), "The diagonal element 2 is zero")
    _has(str(ours.value), "linalg.inv: The diagonal element 2 is zero", "pinv")


def test_cholesky_not_positive_definite() -> None:
    a = np.stack([np.eye(3), np.diag([1.0, 2.0, -1.0])])
    msg = _both_raise(lambda m, x: m.linalg.cholesky(x), a)
    _has(msg, "linalg.cholesky: (Batch element 1)", "leading minor of order 3", "not positive-definite")
    assert isinstance(
        pytest.raises(chainrule.linalg.LinAlgError, chainrule.linalg.cholesky, chainrule.tensor(a)).value,
        RuntimeError,
    )


@pytest.mark.parametrize("where", [(0, 0), (1, 1), (2, 2), (1, 0), (2, 1)])
def test_cholesky_of_a_nan_matrix_fails_like_torch(where) -> None:
    """OpenBLAS's potrf returns a NaN factor and info 0 for NaN input; torch (MKL) stops at the
    first NaN pivot. The order it names is that pivot's: a NaN reaches every later one."""
    spd = np.array([[4.0, 1, 0.5], [1, 3, 0.2], [0.5, 0.2, 2]])
    a = np.stack([spd, spd])
    a[1][where] = np.nan
    order = max(where) + 1
    msg = _both_raise(lambda m, x: m.linalg.cholesky(x), a)
    _has(msg, "(Batch element 1)", f"leading minor of order {order} is not positive-definite")
    msg = _both_raise(lambda m, x: m.linalg.cholesky(x), a[1])
    _has(msg, f"leading minor of order {order} is not positive-definite")
    _both_raise(lambda m, x: m.func.vmap(m.linalg.cholesky)(x), a)
    for upper in (False, True):
        x = a if not upper else np.swapaxes(a, -1, -2).copy()
        ours = chainrule.linalg.cholesky_ex(chainrule.tensor(x), upper=upper)
        theirs = torch.linalg.cholesky_ex(torch.tensor(x), upper=upper)
        np.testing.assert_array_equal(ours.info.numpy(), theirs.info.numpy())
        np.testing.assert_array_equal(ours.info.numpy(), [0, order])
        vmapped = chainrule.func.vmap(lambda t, u=upper: chainrule.linalg.cholesky_ex(t, upper=u))
        np.testing.assert_array_equal(vmapped(chainrule.tensor(x)).info.numpy(), [0, order])


def test_cholesky_ex_and_inv_ex_report_info_like_torch() -> None:
    not_pd = np.array([[[1.0, 2], [2, 1]], [[1.0, 0], [0, 1]]])
    singular = np.array([[[1.0, 0], [0, 1]], [[1.0, 2], [2, 4]]])
    for name, a in (("cholesky_ex", not_pd), ("inv_ex", singular)):
        ours = getattr(chainrule.linalg, name)(chainrule.tensor(a))
        theirs = getattr(torch.linalg, name)(torch.tensor(a))
        np.testing.assert_array_equal(ours.info.numpy(), theirs.info.numpy())
        assert ours.info.dtype == chainrule.int32
        with pytest.raises(chainrule.linalg.LinAlgError):
            getattr(chainrule.linalg, name)(chainrule.tensor(a), check_errors=True)
    sing = np.array([[[1.0, 2], [2, 4]], [[2.0, 0], [0, 4]]])
    ours, theirs = chainrule.linalg.inv_ex(chainrule.tensor(sing)), torch.linalg.inv_ex(torch.tensor(sing))
    np.testing.assert_array_equal(ours.info.numpy(), theirs.info.numpy())
    np.testing.assert_allclose(ours.inverse.numpy()[1], theirs.inverse.numpy()[1])
    assert not np.isfinite(ours.inverse.numpy()[0]).all()


@pytest.mark.parametrize(
    "fn, shapes, parts",
    [
        (lambda m, a, b: m.linalg.solve(a, b), ((3, 3), (2, 3)), ("AX = B", "3x3 and 2x3")),
        (lambda m, a, b: m.linalg.solve(a, b), ((4, 2, 3, 3), (2, 3)), ("AX = B", "3x3 and 2x3")),
        (lambda m, a, b: m.linalg.solve(a, b, left=False), ((3, 3), (3, 2)), ("XA = B",)),
        (lambda m, a, b: m.linalg.solve(a, b), ((3, 4), (4,)), ("square", "3 by 4")),
        (
            lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True),
            ((3, 3), (3,)),
            ("at least 2 dimensions",),
        ),
        (
            lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True),
            ((3, 3), (2, 3)),
            ("AX = B", "3x3 and 2x3"),
        ),
        (lambda m, a, b: m.cholesky_solve(a, b), ((3,), (3, 3)), ("at least 2 dimensions",)),
        (
            lambda m, a, b: m.cholesky_solve(a, b),
            ((4, 2), (3, 3)),
            ("each A matrix is 3 by 3 but each b matrix is 4 by 2",),
        ),
        (lambda m, a, b: m.linalg.lstsq(a, b), ((5, 3), (4, 2)), ("size(-2)",)),
        (lambda m, a, b: m.linalg.lstsq(a, b), ((2, 5, 3), (5,)), ("input.dim()",)),
        (lambda m, a, b: m.linalg.lstsq(a, b, driver="qr"), ((5, 3), (5, 2)), ("driver",)),
        (lambda m, a, b: m.linalg.cross(a, b), ((4, 3), (3,)), ("same number of dimensions",)),
        (
            lambda m, a, b: m.linalg.cross(a, b),
            ((3, 4), (3, 4)),
            ("dimension -1 must have length 3", "Got 4 and 4"),
        ),
        (
            lambda m, a, b: m.linalg.multi_dot([a, b]),
            ((3, 4), (5, 2)),
            ("cannot be multiplied", "[3, 4]", "[5, 2]"),
        ),
        (lambda m, a, b: m.linalg.multi_dot([a, b]), ((2, 2, 3), (3, 4)), ("first tensor", "1D or 2D")),
    ],
)
def test_shape_errors(fn, shapes, parts) -> None:
    msg = _both_raise(fn, *[np.ones(s) for s in shapes])
    _has(msg, *parts)


@pytest.mark.parametrize(
    "fn, who",
    [
        (lambda m, a, b: m.linalg.solve(a, b), "linalg.solve"),
        (lambda m, a, b: m.cholesky_solve(a, b), "cholesky_solve"),
        (lambda m, a, b: m.linalg.lstsq(a, b), "linalg.lstsq"),
        (lambda m, a, b: m.linalg.vecdot(a, b), "linalg.vecdot"),
        (lambda m, a, b: m.linalg.cross(a, b), "linalg.cross"),
    ],
)
def test_dtype_mismatch(fn, who) -> None:
    errors = []
    for lib in (torch, chainrule):
        a = lib.eye(3, dtype=lib.float32)
        b = lib.ones(3, 3, dtype=lib.float64)
        with pytest.raises(RuntimeError) as info:
            fn(lib, a, b)
        errors.append(info.value)
    assert type(errors[0]) is type(errors[1])
    _has(str(errors[1]), who, "Float", "Double")


def test_vecdot_errors_like_torch() -> None:
    """torch checks that x is floating before it compares the dtypes; a shape clash names
    linalg.vecdot and both shapes (not the multiplication inside it)."""
    for x, y, first in (
        ([1, 2], [1.0, 2.0], "Expected a floating point"),
        ([1.0, 2.0], [1, 2], "Expected x and y to have the same dtype"),
    ):
        msg = _both_raise(lambda m, a, b: m.linalg.vecdot(a, b), np.array(x), np.array(y))
        _has(msg, "linalg.vecdot: " + first)
    msg = _both_raise(lambda m, a, b: m.linalg.vecdot(a, b), np.ones((3, 3)), np.ones(4))
    _has(msg, "linalg.vecdot", "(3, 3)", "(4,)", "broadcast")


def test_solve_triangular_converts_b_to_a_dtype_like_torch() -> None:
    for lib in (torch, chainrule):
        x = lib.linalg.solve_triangular(
            lib.eye(3, dtype=lib.float32), lib.ones(3, 1, dtype=lib.float64), upper=True
        )
        assert str(x.dtype).endswith("float32")


def test_matrix_power_arguments() -> None:
    a = np.eye(2)
    for lib in (torch, chainrule):
        with pytest.raises(TypeError):
            lib.linalg.matrix_power(lib.tensor(a), 2.0)
    _has(
        _both_raise(lambda m, x: m.linalg.matrix_power(x, -1), np.eye(2, dtype=np.int64)),
        "linalg.inv",
        "Long",
    )
    ours = chainrule.linalg.matrix_power(chainrule.tensor(np.eye(2, dtype=np.int64) * 2), 3)
    assert ours.dtype == chainrule.int64 and ours.numpy()[0, 0] == 8


def test_cross_without_dim_warns_like_torch() -> None:
    a, b = np.random.default_rng(0).standard_normal((2, 3, 4))
    with pytest.warns(UserWarning, match="without specifying the dim"):
        ours = chainrule.cross(chainrule.tensor(a), chainrule.tensor(b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.cross(torch.tensor(a), torch.tensor(b))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _has(
            _both_raise(lambda m, x, y: m.cross(x, y), np.ones((2, 4)), np.ones((2, 4))),
            "no dimension of size 3",
        )


def test_chain_matmul_warns_and_takes_one_matrix() -> None:
    a = np.arange(6.0).reshape(2, 3)
    with pytest.warns(UserWarning, match="deprecated"):
        out = chainrule.chain_matmul(chainrule.tensor(a))
    np.testing.assert_array_equal(out.numpy(), a)


def test_empty_matrices() -> None:
    for shape in ((0, 0), (2, 0, 0), (0, 3, 3)):
        a = np.zeros(shape)
        for fn in (
            lambda m, x: m.linalg.det(x),
            lambda m, x: m.linalg.slogdet(x).logabsdet,
            lambda m, x: m.linalg.slogdet(x).sign,
            lambda m, x: m.linalg.inv(x),
            lambda m, x: m.linalg.matrix_exp(x),
            lambda m, x: m.linalg.pinv(x),
            lambda m, x: m.linalg.cholesky(x),
        ):
            ours, theirs = pair(a)
            o, t = fn(chainrule, ours), fn(torch, theirs)
            assert tuple(o.shape) == tuple(t.shape)
            np.testing.assert_array_equal(to_numpy(o), to_numpy(t))
    x = chainrule.tensor(np.zeros((0, 0)), requires_grad=True)
    chainrule.linalg.det(x).backward()
    assert x.grad.shape == (0, 0)


# ---- ill-conditioned inputs: torch's numbers, to a tolerance scaled by the condition number ------
@pytest.mark.parametrize("n", [4, 6, 8])
def test_hilbert_matrices(n) -> None:
    h = 1.0 / (np.arange(n)[:, None] + np.arange(n)[None, :] + 1.0)
    cond = np.linalg.cond(h)
    tol = 50 * cond * np.finfo(F64).eps
    b = np.ones((n, 2))
    cases = {
        "det": lambda m, x: m.linalg.det(x),
        "logdet": lambda m, x: m.logdet(x),
        "inv": lambda m, x: m.linalg.inv(x),
        "solve": lambda m, x: m.linalg.solve(x, m.tensor(b)),
        "cholesky": lambda m, x: m.linalg.cholesky(x),
        "pinv": lambda m, x: m.linalg.pinv(x),
    }
    for name, fn in cases.items():
        ours, theirs = pair(h, requires_grad=True)
        o, t = fn(chainrule, ours), fn(torch, theirs)
        scale = np.abs(to_numpy(t)).max()
        np.testing.assert_allclose(to_numpy(o), to_numpy(t), rtol=tol, atol=tol * scale, err_msg=name)
        v = np.random.default_rng(n).standard_normal(tuple(t.shape))
        (go,) = chainrule.autograd.grad(o, ours, chainrule.tensor(v))
        (gt,) = torch.autograd.grad(t, theirs, torch.tensor(v))
        gscale = np.abs(to_numpy(gt)).max()
        # the gradients carry the condition number once more
        np.testing.assert_allclose(
            go.numpy(), to_numpy(gt), rtol=tol * cond, atol=tol * cond * gscale, err_msg=f"grad of {name}"
        )


# ---- batch shapes (hypothesis) -------------------------------------------------------------------
@settings(max_examples=30, deadline=None, derandomize=True)
@given(shapes=square(max_n=4, max_batch_dims=3), seed=st.integers(0, 2**16))
def test_square_ops_over_batch_shapes(shapes, seed) -> None:
    (shape,) = shapes
    a = np.random.default_rng(seed).standard_normal(shape) + shape[-1] * np.eye(shape[-1])
    for fn in (
        lambda m, x: m.linalg.det(x),
        lambda m, x: m.logdet(x @ x.mT),
        lambda m, x: m.linalg.inv(x),
        lambda m, x: m.linalg.matrix_exp(x / 4),
        lambda m, x: m.linalg.cholesky(x @ x.mT),
        lambda m, x: m.linalg.slogdet(x)[1],
    ):
        ours, theirs = pair(a, requires_grad=True)
        o, t = fn(chainrule, ours), fn(torch, theirs)
        assert tuple(o.shape) == tuple(t.shape)
        np.testing.assert_allclose(to_numpy(o), to_numpy(t), rtol=1e-9, atol=1e-12)
        (go,) = chainrule.autograd.grad(o.sum(), ours)
        (gt,) = torch.autograd.grad(t.sum(), theirs)
        np.testing.assert_allclose(go.numpy(), to_numpy(gt), rtol=1e-9, atol=1e-12)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(shapes=square_and_rhs(), vector=st.booleans(), left=st.booleans(), seed=st.integers(0, 2**16))
def test_solve_broadcasting_rules(shapes, vector, left, seed) -> None:
    """Matrices and vectors on the right, batch dims broadcast, left and right solves; when torch
    refuses a shape combination we must too (with the same exception type)."""
    sa, sb = shapes
    if vector:  # a batch of vectors: B.shape == A.shape[:-1], or a single vector
        sb = sa[:-1] if seed % 2 else sa[-1:]
    if not left and not vector:
        sb = sb[:-2] + (sb[-1], sb[-2])
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(sa) + sa[-1] * np.eye(sa[-1])
    b = rng.standard_normal(sb)
    results = []
    for lib in (torch, chainrule):
        try:
            results.append(lib.linalg.solve(lib.tensor(a), lib.tensor(b), left=left))
        except RuntimeError as e:
            results.append(e)
    theirs, ours = results
    if isinstance(theirs, Exception):
        assert isinstance(ours, RuntimeError), f"torch raised {theirs!r}, we returned a result"
        return
    assert not isinstance(ours, Exception), f"torch solved it, we raised {ours!r}"
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-9, atol=1e-12)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(
    batch=array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3),
    n=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_zero_size_batches(batch, n, seed) -> None:
    a = np.random.default_rng(seed).standard_normal(batch + (n, n)) + n * np.eye(n)
    for fn in (
        lambda m, x: m.linalg.det(x),
        lambda m, x: m.linalg.inv(x),
        lambda m, x: m.linalg.solve(x, x),
        lambda m, x: m.cholesky_inverse(x.tril()),
    ):
        o, t = fn(chainrule, chainrule.tensor(a)), fn(torch, torch.tensor(a))
        assert tuple(o.shape) == tuple(t.shape)
        np.testing.assert_allclose(to_numpy(o), to_numpy(t), rtol=1e-9, atol=1e-12)


# ---- what each op reads, and the structure of its gradient ---------------------------------------
def test_triangular_ops_read_only_their_triangle() -> None:
    rng = np.random.default_rng(6)
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal((3, 2))
    for upper in (True, False):
        junk = a.copy()
        junk[np.tril_indices(3, -1) if upper else np.triu_indices(3, 1)] = np.nan
        for fn in (
            lambda m, x, u=upper: m.linalg.solve_triangular(x, m.tensor(b), upper=u),
            lambda m, x, u=upper: m.linalg.cholesky(_sym(m, x), upper=u),
            lambda m, x, u=upper: m.cholesky_solve(m.tensor(b), x, upper=u),
            lambda m, x, u=upper: m.cholesky_inverse(x, upper=u),
        ):
            o, t = fn(chainrule, chainrule.tensor(junk)), fn(torch, torch.tensor(junk))
            assert np.isfinite(to_numpy(o)).all()
            np.testing.assert_allclose(to_numpy(o), to_numpy(t), rtol=1e-10)


def _sym(m, x):
    """x with 10 added to its diagonal: positive definite in whichever triangle is read."""
    return x + 10 * m.eye(3, dtype=x.dtype)


def test_solve_triangular_gradient_lies_in_the_triangle() -> None:
    rng = np.random.default_rng(7)
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal((3, 2))
    for upper, unit in ((True, False), (False, False), (True, True), (False, True)):
        x = chainrule.tensor(a, requires_grad=True)
        chainrule.linalg.solve_triangular(
            x, chainrule.tensor(b), upper=upper, unitriangular=unit
        ).sum().backward()
        g = x.grad.numpy()
        allowed = np.triu(np.ones((3, 3)), int(unit)) if upper else np.tril(np.ones((3, 3)), -int(unit))
        assert (g[allowed == 0] == 0).all() and (g[allowed == 1] != 0).all()


def test_pinv_tolerances_like_torch() -> None:
    rng = np.random.default_rng(8)
    u, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    v, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    a = u[:, :3] @ np.diag([3.0, 1e-3, 1e-9]) @ v.T
    batch = np.stack([a, 2 * a])
    calls = [
        lambda m, x: m.linalg.pinv(x),
        lambda m, x: m.linalg.pinv(x, atol=1e-6),
        lambda m, x: m.linalg.pinv(x, rtol=1e-2),
        lambda m, x: m.linalg.pinv(x, atol=1e-6, rtol=1e-12),
        lambda m, x: m.linalg.pinv(x, 1e-2),  # positional rcond
        lambda m, x: m.linalg.pinv(x, atol=m.tensor([1e-2, 1e-6], dtype=x.dtype)),
        lambda m, x: m.pinverse(x, rcond=1e-5),
        lambda m, x: m.linalg.pinv(x @ x.mT, hermitian=True, rtol=1e-8),
    ]
    for fn in calls:
        o, t = fn(chainrule, chainrule.tensor(batch)), fn(torch, torch.tensor(batch))
        np.testing.assert_allclose(to_numpy(o), to_numpy(t), rtol=1e-8, atol=1e-10)


def test_lstsq_outputs_per_driver_like_torch() -> None:
    rng = np.random.default_rng(9)
    a, b = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 2))
    deficient = np.array([[1.0, 2], [2, 4], [3, 6]])
    for driver in (None, "gelsy", "gelsd", "gelss", "gels"):
        for x, y in ((a, b), (a[0], b[0, :, 0]), (a.swapaxes(-1, -2)[:, :, :3], b[:, :3])):
            o = chainrule.linalg.lstsq(chainrule.tensor(x), chainrule.tensor(y), driver=driver)
            t = torch.linalg.lstsq(torch.tensor(x), torch.tensor(y), driver=driver)
            for field in ("solution", "residuals", "rank", "singular_values"):
                ov, tv = getattr(o, field), getattr(t, field)
                assert tuple(ov.shape) == tuple(tv.shape), (driver, field)
                assert str(ov.dtype).split(".")[-1] == str(tv.dtype).split(".")[-1]
                np.testing.assert_allclose(to_numpy(ov), to_numpy(tv), rtol=1e-9, atol=1e-12)
        if driver in (None, "gelsy", "gelsd", "gelss"):
            o = chainrule.linalg.lstsq(
                chainrule.tensor(deficient), chainrule.tensor(np.ones((3, 1))), driver=driver
            )
            t = torch.linalg.lstsq(torch.tensor(deficient), torch.tensor(np.ones((3, 1))), driver=driver)
            assert int(o.rank) == int(t.rank) == 1
            np.testing.assert_allclose(o.solution.numpy(), t.solution.numpy(), rtol=1e-9)
    # singular values 3.59, 2.30, 1.22: rcond = 0.5 keeps two of them, 0.8 one. (gelsy truncates
    # by a pivoted QR whose rank estimate and basic solution depend on the LAPACK build; torch's
    # and SciPy's differ there, so only the SVD-based drivers are compared)
    for rcond, driver in ((0.5, "gelsd"), (0.5, "gelss"), (0.8, "gelsd")):
        o = chainrule.linalg.lstsq(chainrule.tensor(a[0]), chainrule.tensor(b[0]), rcond=rcond, driver=driver)
        t = torch.linalg.lstsq(torch.tensor(a[0]), torch.tensor(b[0]), rcond=rcond, driver=driver)
        assert int(o.rank) == int(t.rank) == (2 if rcond == 0.5 else 1)
        np.testing.assert_allclose(o.solution.numpy(), t.solution.numpy(), rtol=1e-9)


def _lstsq_derivatives(lib, a, b, driver, reads):
    """A loss of lstsq's solution, residuals or both; its value, first derivatives and the
    derivatives of a function of those (create_graph), as arrays (None: no gradient)."""
    A, B = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
    out = lib.linalg.lstsq(A, B, driver=driver)
    weights = lib.tensor(np.linspace(0.5, 1.5, out.solution.numel()).reshape(tuple(out.solution.shape)))
    of_x, of_l = (out.solution**2 * weights).sum(), (out.residuals**3).sum()
    loss = {"solution": of_x, "residuals": of_l, "both": of_x + of_l}[reads]
    ga, gb = lib.autograd.grad(loss, (A, B), create_graph=True)
    second = lib.autograd.grad((ga**2).sum() + (gb * lib.tensor(b)).sum(), (A, B))
    strides = (tuple(out.solution.stride()), tuple(out.residuals.stride()))
    return [
        loss.detach().numpy(),
        ga.detach().numpy(),
        gb.detach().numpy(),
        *(g.numpy() for g in second),
    ], strides


@pytest.mark.parametrize(
    ("driver", "reads"),
    [(d, r) for d in ("gels", "gelsd", "gelss") for r in ("solution", "residuals", "both")]
    + [("gelsy", "solution")],  # (gelsy gives no residuals)
)
def test_lstsq_residuals_are_an_output_of_the_solve_with_torchs_derivatives(driver, reads) -> None:
    """torch's residuals are a second output of the lstsq node with a rule of their own (|A X - B|^2
    with X held fixed); values, gradients and second derivatives (float64) equal torch's for a
    loss reading the solution, the residuals or both, for matrices, vectors, batches and
    broadcast batches, and the solution has torch's strides (the first n rows of a column-major
    (max(m, n), k) buffer)."""
    rng = np.random.default_rng(3)
    shapes = [((5, 3), (5, 2)), ((5, 3), (5,)), ((2, 5, 3), (2, 5, 2)), ((2, 1, 5, 3), (1, 3, 5, 2))]
    if reads == "solution":  # (gelsy and m <= n give no residuals: torch's loss of them has no gradient)
        shapes.append(((3, 5), (3, 2)))
    for sa, sb in shapes:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        ours, our_strides = _lstsq_derivatives(chainrule, a, b, driver, reads)
        theirs, their_strides = _lstsq_derivatives(torch, a, b, driver, reads)
        assert our_strides == their_strides, (sa, sb)
        for o, t in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(o, t, rtol=1e-9, atol=1e-11, err_msg=f"{sa} {sb}")


def test_lstsq_outputs_show_torchs_one_node() -> None:
    """The solution and the residuals are outputs of torch's one LinalgLstsqBackward0 node, whose
    next_functions are A's and B's AccumulateGrad (chainrule's parts of a packed result show so)."""
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    for lib in (torch, chainrule):
        A, B = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        out = lib.linalg.lstsq(A, B, driver="gelsd")
        for t in (out.solution, out.residuals):
            assert type(t.grad_fn).__name__ == t.grad_fn.name() == "LinalgLstsqBackward0"
            shown = [type(f).__name__ for f, _ in t.grad_fn.next_functions]
            assert shown == ["AccumulateGrad", "AccumulateGrad"]
            assert all(f.variable is x for (f, _), x in zip(t.grad_fn.next_functions, (A, B), strict=True))


@pytest.mark.parametrize("changed", ["solution", "residuals"])
def test_lstsq_saves_its_solution_not_its_residuals(changed) -> None:
    """torch's lstsq node saves the solution (its residuals' rule reads it), not the residuals: an
    in-place change of the solution makes backward raise, one of the residuals does not."""
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    results = []
    for lib in (torch, chainrule):
        A = lib.tensor(a, requires_grad=True)
        out = lib.linalg.lstsq(A, lib.tensor(b), driver="gelsd")
        loss = out.solution.sum() + (out.residuals * 2).sum()
        with lib.no_grad():
            getattr(out, changed).add_(1)
        try:
            loss.backward()
            results.append(A.grad.numpy())
        except RuntimeError as e:
            assert "modified by an inplace operation" in str(e)
            results.append(None)
    if changed == "solution":
        assert results == [None, None]
    else:
        np.testing.assert_allclose(results[1], results[0], rtol=1e-10)


def test_matrix_exp_closed_forms() -> None:
    t = 0.7
    rot = chainrule.linalg.matrix_exp(chainrule.tensor([[0.0, -t], [t, 0.0]]))
    np.testing.assert_allclose(rot.numpy(), [[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]], rtol=1e-6)
    nil = np.array([[0.0, 1, 2], [0, 0, 3], [0, 0, 0]])  # nilpotent: I + N + N^2 / 2
    np.testing.assert_allclose(
        chainrule.linalg.matrix_exp(chainrule.tensor(nil)).numpy(),
        np.eye(3) + nil + nil @ nil / 2,
        rtol=1e-14,
    )
    # a large norm (scaling and squaring) and its gradient against torch
    a = np.random.default_rng(10).standard_normal((4, 4)) * 3
    ours, theirs = pair(a, requires_grad=True)
    o, tt = chainrule.linalg.matrix_exp(ours), torch.linalg.matrix_exp(theirs)
    np.testing.assert_allclose(o.detach().numpy(), to_numpy(tt), rtol=1e-10)
    v = np.random.default_rng(11).standard_normal((4, 4))
    (go,) = chainrule.autograd.grad(o, ours, chainrule.tensor(v))
    (gt,) = torch.autograd.grad(tt, theirs, torch.tensor(v))
    np.testing.assert_allclose(go.numpy(), to_numpy(gt), rtol=1e-9)


def test_matrix_power_zero_is_an_identity_with_zero_gradient() -> None:
    a = np.array([[1.0, 2], [3, 4]])
    ours, theirs = pair(a, requires_grad=True)
    o, t = chainrule.linalg.matrix_power(ours, 0), torch.linalg.matrix_power(theirs, 0)
    assert o.requires_grad and t.requires_grad
    np.testing.assert_array_equal(o.detach().numpy(), np.eye(2))
    o.sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), np.zeros((2, 2)))


def test_multi_dot_chooses_the_cheapest_order() -> None:
    # (10x100)(100x5)(5x50): (AB)C costs 5000 + 2500, A(BC) costs 25000 + 50000
    assert _chain_order([10, 100, 5, 50])[0][2] == 1
    # (50x5)(5x100)(100x10): A(BC) is cheaper
    assert _chain_order([50, 5, 100, 10])[0][2] == 0
    rng = np.random.default_rng(12)
    mats = [rng.standard_normal(s) for s in ((10, 100), (100, 5), (5, 50))]
    o = chainrule.linalg.multi_dot([chainrule.tensor(m) for m in mats])
    np.testing.assert_allclose(o.numpy(), np.linalg.multi_dot(mats), rtol=1e-12)


# ---- vmap: the NumPy calls of these ops dispatch to vmap's batching rules ------------------------
VMAPPED = {
    "inv": lambda m, a: m.linalg.inv(a),
    "det": lambda m, a: m.linalg.det(a),
    "slogdet": lambda m, a: m.linalg.slogdet(a).logabsdet,
    "logdet": lambda m, a: m.logdet(a @ a.mT),
    "solve": lambda m, a: m.linalg.solve(a, a[0]),
    "solve_triangular": lambda m, a: m.linalg.solve_triangular(a, a, upper=True),
    "solve_triangular right unit": lambda m, a: m.linalg.solve_triangular(
        a, a, upper=False, left=False, unitriangular=True
    ),
    "cholesky": lambda m, a: m.linalg.cholesky(a @ a.mT, upper=True),
    "cholesky_solve": lambda m, a: m.cholesky_solve(a, a.tril()),
    "cholesky_inverse": lambda m, a: m.cholesky_inverse(a.tril()),
    "pinv": lambda m, a: m.linalg.pinv(a),
    "cross": lambda m, a: m.linalg.cross(a, a.flip(0)),
    "matrix_power": lambda m, a: m.linalg.matrix_power(a, -3),
}


@pytest.mark.parametrize("name", list(VMAPPED))
def test_vmap_and_per_sample_gradients(name) -> None:
    func = getattr(chainrule, "func", None)
    if getattr(func, "vmap", None) is None:
        pytest.skip("chainrule.func.vmap is not available")
    f = VMAPPED[name]
    a = np.random.default_rng(13).standard_normal((4, 3, 3)) + 3 * np.eye(3)
    x = chainrule.tensor(a)
    out = func.vmap(lambda s: f(chainrule, s))(x)
    theirs = torch.stack([f(torch, torch.tensor(s)) for s in a])
    np.testing.assert_allclose(out.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)
    grads = func.vmap(func.grad(lambda s: f(chainrule, s).sum()))(x)
    expected = torch.stack([torch.func.grad(lambda s: f(torch, s).sum())(torch.tensor(s)) for s in a])
    np.testing.assert_allclose(grads.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


def test_the_leniencies_torch_does_not_have() -> None:
    """An integer vector with dtype=float64 and a boolean matrix power: torch raises, so do we."""
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match="floating point"):
            lib.linalg.vector_norm(lib.tensor([1, 2]), dtype=lib.float64)
        with pytest.raises(NotImplementedError):
            lib.linalg.matrix_power(lib.eye(2, dtype=lib.bool), 3)
        assert lib.linalg.matrix_power(lib.eye(2, dtype=lib.bool), 1).dtype == lib.bool


# ---- empty inputs -------------------------------------------------------------------------------
@pytest.mark.parametrize("driver", ["gelsy", "gelsd", "gelss"])
@pytest.mark.parametrize(
    "shapes", [[(0, 3), (0, 2)], [(0, 0), (0, 2)], [(2, 0, 3), (2, 0, 2)], [(5, 0), (5, 2)]]
)
def test_lstsq_of_empty_systems_keeps_its_residuals_in_the_graph(shapes, driver) -> None:
    """Empty residuals are still an output of the solve (torch): they require grad."""

    def solve(m, a, b):
        out = m.linalg.lstsq(a, b, driver=driver)
        assert out.residuals.requires_grad
        return out.solution, out.residuals

    same_or_same_error(solve, shapes)
