"""Determinants: d log det X / dX = X^{-T} (the lecture's exercise), the cofactor matrix as
det's gradient at singular matrices (plain and create_graph, first and second order), singular
and negative inputs of slogdet and logdet, and the LU factors the backward reuses."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import assert_close, pair, to_numpy

import chainrule


def assert_same_factors_read_twice(g1, g2) -> None:
    """A second backward reads the same saved factors: one that a first backward overwrote would be
    off by far more than this. Not bit-equal: OpenBLAS's threaded triangular routines may split the
    work differently from call to call on a busy machine (seen under a full suite with helpers)."""
    rtol = 1e-12 if g1.numpy().dtype == np.float64 else 1e-5
    np.testing.assert_allclose(g1.numpy(), g2.numpy(), rtol=rtol, atol=0)


def _cofactors(m: np.ndarray) -> np.ndarray:
    """The cofactor matrix from its definition: C_ij = (-1)^(i+j) det(minor_ij)."""
    n = m.shape[0]
    c = np.empty_like(m)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(m, i, 0), j, 1)
            c[i, j] = (-1) ** (i + j) * (np.linalg.det(minor) if n > 1 else 1.0)
    return c


@pytest.mark.parametrize("batch", [(), (4,), (2, 3)])
def test_logdet_gradient_is_the_inverse_transpose(batch) -> None:
    """The lecture's exercise: d log det X / dX = X^{-T}, checked against the formula and against
    float64 central finite differences."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal(batch + (4, 4)) + 4 * np.eye(4)
    x[..., 0, :] *= np.sign(np.linalg.det(x))[..., None]  # det > 0: logdet is real
    t = chainrule.tensor(x, requires_grad=True)
    chainrule.logdet(t).sum().backward()
    expected = np.swapaxes(np.linalg.inv(x), -1, -2)
    np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-12, atol=1e-14)
    eps = 1e-6
    flat = x.reshape(-1)
    numeric = np.empty_like(flat)
    for i in range(flat.size):
        up, down = flat.copy(), flat.copy()
        up[i] += eps
        down[i] -= eps
        numeric[i] = (
            np.linalg.slogdet(up.reshape(x.shape))[1].sum()
            - np.linalg.slogdet(down.reshape(x.shape))[1].sum()
        ) / (2 * eps)
    np.testing.assert_allclose(t.grad.numpy(), numeric.reshape(x.shape), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "m",
    [
        np.array([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]),  # rank 2
        np.array([[1.0, 2], [2, 4]]),  # rank 1, an exactly zero pivot
        np.array([[0.0, 1], [0, 0]]),  # two zero pivots, yet rank 1: cofactors [[0, 0], [-1, 0]]
        np.ones((3, 3)),  # rank 1 < n - 1: the cofactors vanish
        np.zeros((1, 1)),  # the 1x1 cofactor is 1
    ],
)
def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix(m) -> None:
    expected = _cofactors(m)
    ours, theirs = pair(m, requires_grad=True)
    (g,) = chainrule.autograd.grad(chainrule.linalg.det(ours), ours)
    np.testing.assert_allclose(g.numpy(), expected, atol=1e-12)
    # torch's create_graph path takes the same cofactors (through an SVD); so do we
    (gt,) = torch.autograd.grad(torch.linalg.det(theirs), theirs, create_graph=True)
    (gc,) = chainrule.autograd.grad(chainrule.linalg.det(ours), ours, create_graph=True)
    np.testing.assert_allclose(to_numpy(gt), expected, atol=1e-12)
    np.testing.assert_allclose(to_numpy(gc), expected, atol=1e-12)


def test_det_second_derivative_at_a_singular_matrix_matches_torch() -> None:
    m = np.array([[1.0, 2, 3], [4, 5, 6], [7, 8, 9.5]]) - np.array([[0, 0, 0], [0, 0, 0], [0, 0, 0.5]])
    w = np.random.default_rng(3).standard_normal((3, 3))
    results = []
    for lib in (torch, chainrule):
        x = lib.tensor(m, requires_grad=True)
        (g,) = lib.autograd.grad(lib.linalg.det(x), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * lib.tensor(w)).sum(), x)
        results.append(to_numpy(gg))
    # det is cubic: its second derivative along w is linear in x, exact by hand
    expected = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            e = np.zeros((3, 3))
            e[i, j] = 1
            expected[i, j] = ((_cofactors(m + 1e-3 * e) - _cofactors(m - 1e-3 * e)) * w).sum() / 2e-3
    np.testing.assert_allclose(results[1], expected, atol=1e-8)
    np.testing.assert_allclose(results[1], results[0], atol=1e-8)


def test_det_batch_mixing_singular_and_regular_matrices() -> None:
    rng = np.random.default_rng(4)
    a = rng.standard_normal((3, 3, 3))
    a[1] = [[1.0, 2, 3], [2, 4, 6], [1, 0, 1]]
    expected = np.stack([_cofactors(m) for m in a])
    for create_graph in (False, True):
        x = chainrule.tensor(a, requires_grad=True)
        (g,) = chainrule.autograd.grad(chainrule.linalg.det(x).sum(), x, create_graph=create_graph)
        np.testing.assert_allclose(g.detach().numpy(), expected, atol=1e-12)
    # the large-matrix path (per-matrix LU factors saved by the forward)
    b = rng.standard_normal((2, 33, 33)) / 6
    b[0, -1] = b[0, 0]  # two equal rows: singular, with an exactly zero pivot
    x = chainrule.tensor(b, requires_grad=True)
    chainrule.linalg.det(x).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    np.testing.assert_allclose(x.grad.numpy()[1], np.linalg.det(b[1]) * np.linalg.inv(b[1]).T, rtol=1e-9)
    np.testing.assert_allclose(x.grad.numpy()[0], _cofactors_svd(b[0]), rtol=1e-7, atol=1e-12)


def _cofactors_svd(m):
    """Reference cofactors of a large singular matrix: det(A + eps E) expanded to first order is
    too inaccurate, so use the rank-one formula of a rank n-1 matrix, adj(A) = c v u^T."""
    u, s, vh = np.linalg.svd(m)
    return np.linalg.det(u) * np.linalg.det(vh) * np.prod(s[:-1]) * np.outer(u[:, -1], vh[-1])


def test_slogdet_and_logdet_of_singular_and_negative_matrices() -> None:
    sing = np.array([[1.0, 2], [2, 4]])
    neg = np.array([[0.0, 1], [1, 0]])
    for m in (sing, neg):
        ours, theirs = pair(m, requires_grad=True)
        s_o, s_t = chainrule.linalg.slogdet(ours), torch.linalg.slogdet(theirs)
        np.testing.assert_array_equal(to_numpy(s_o.sign), to_numpy(s_t.sign))
        np.testing.assert_array_equal(to_numpy(s_o.logabsdet), to_numpy(s_t.logabsdet))
        np.testing.assert_array_equal(to_numpy(chainrule.logdet(ours)), to_numpy(torch.logdet(theirs)))
    ours, theirs = pair(neg, requires_grad=True)
    chainrule.logdet(ours).backward()
    torch.logdet(theirs).backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())  # nan result: 0
    ours, theirs = pair(sing, requires_grad=True)
    chainrule.linalg.slogdet(ours).logabsdet.backward()
    torch.linalg.slogdet(theirs).logabsdet.backward()
    assert not np.isfinite(ours.grad.numpy()).all() and not np.isfinite(theirs.grad.numpy()).all()


def test_backward_twice_reuses_the_saved_factors_unchanged() -> None:
    a = np.random.default_rng(5).standard_normal((6, 6)) + 6 * np.eye(6)
    for fn in (chainrule.logdet, chainrule.linalg.det):
        x = chainrule.tensor(a, requires_grad=True)
        y = fn(x)
        (g1,) = chainrule.autograd.grad(y, x, retain_graph=True)
        (g2,) = chainrule.autograd.grad(y, x)
        assert_same_factors_read_twice(g1, g2)
    np.testing.assert_allclose(g1.numpy(), np.linalg.det(a) * np.linalg.inv(a).T, rtol=1e-12)


def test_det_second_derivative_of_a_large_singular_matrix() -> None:
    """Beyond 16 x 16 the cofactors come from the SVD (torch's singular formula): the gradient
    matches torch's, the second derivative matches finite differences of the gradient."""
    rng = np.random.default_rng(14)
    n = 20
    m = rng.standard_normal((n, n)) / 4
    m[-1] = m[0]  # two equal rows: singular, det exactly 0 from the LU
    w, e = rng.standard_normal((2, n, n))
    x = chainrule.tensor(m, requires_grad=True)
    (g,) = chainrule.autograd.grad(chainrule.linalg.det(x), x, create_graph=True)
    (gg,) = chainrule.autograd.grad((g * chainrule.tensor(w)).sum(), x)
    xt = torch.tensor(m, requires_grad=True)
    (gt,) = torch.autograd.grad(torch.linalg.det(xt), xt)
    scale = np.abs(to_numpy(gt)).max()
    np.testing.assert_allclose(to_numpy(g), to_numpy(gt), rtol=1e-9, atol=1e-10 * scale)

    def gradient(a):
        t = chainrule.tensor(a, requires_grad=True)
        return chainrule.autograd.grad(chainrule.linalg.det(t), t)[0].numpy()

    eps = 1e-5
    numeric = ((gradient(m + eps * e) - gradient(m - eps * e)) * w).sum() / (2 * eps)
    np.testing.assert_allclose((gg.numpy() * e).sum(), numeric, rtol=1e-6)


@pytest.mark.parametrize("inverse", ["getri", "products"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_large_matrices_factor_in_numpys_openblas_and_match_torch(dtype, inverse) -> None:
    """From 64 x 64 the LU and the inverse run in NumPy's OpenBLAS (its thread pool), from 192 x 192
    the inverse in BLAS-3 products (kernels/lu_inverse.py): values and gradients of det, slogdet
    and logdet match torch's, for one matrix, a batch, and a backward run twice from the same saved
    factors; values also for a singular matrix."""
    from chainrule.ops.linalg_det import _PRODUCTS_INVERSE_FROM, _THREADED_FROM

    n = _THREADED_FROM + 6 if inverse == "getri" else _PRODUCTS_INVERSE_FROM + 9
    rng = np.random.default_rng(8)
    a = (rng.standard_normal((3, n, n)) / np.sqrt(n) + np.eye(n)).astype(dtype)
    a[2, -1] = 0  # singular: an exactly zero pivot, -inf and inf / nan gradients
    tol = dict(rtol=1e-10, atol=1e-10) if dtype == "float64" else dict(rtol=2e-3, atol=2e-4)
    for fn in ("logdet", "det", "slogdet"):
        for k, m in enumerate((a[0], a[:2], a[2])):
            ours, theirs = pair(m, requires_grad=True)
            call = {
                "logdet": lambda lib, t: lib.logdet(t),
                "det": lambda lib, t: lib.linalg.det(t),
                "slogdet": lambda lib, t: lib.linalg.slogdet(t).logabsdet,
            }[fn]
            y_o = call(chainrule, ours)
            # torch 2.13's batched LU on an AMD EPYC, once torch.set_num_threads(1) then (2) has run
            # in the process (the one_torch_thread fixture of other modules does), calls MKL's
            # dlaswp with bad pivots ("Parameter 6 was incorrect on entry to DLASWP") and returns
            # wrong values; torch's matrix-by-matrix calls stay right: the oracle takes those
            y_t = call(torch, theirs) if theirs.ndim == 2 else torch.stack([call(torch, t) for t in theirs])
            np.testing.assert_allclose(to_numpy(y_o), to_numpy(y_t), **tol)
            if k == 2:
                continue  # gradients: inf / nan (slogdet), the cofactors (det: torch gives 0)
            (g1,) = chainrule.autograd.grad(y_o.sum(), ours, retain_graph=True)
            (g2,) = chainrule.autograd.grad(y_o.sum(), ours)
            (gt,) = torch.autograd.grad(y_t.sum(), theirs)
            assert g1.dtype == chainrule.float32 if dtype == "float32" else chainrule.float64
            assert_same_factors_read_twice(g1, g2)
            scale = np.abs(to_numpy(gt)).max()
            np.testing.assert_allclose(to_numpy(g1), to_numpy(gt), rtol=tol["rtol"], atol=tol["atol"] * scale)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inverse_from_lu_products_is_the_inverse_transpose(dtype) -> None:
    """kernels/lu_inverse.py: A^{-T} in C order from the LU of A^T, at sizes that split the
    triangles unevenly and down to one row, into a new array and into a given one; the factors
    are left as they were."""
    from chainrule._threads import numpy_blas
    from chainrule.kernels.lu_inverse import inverse_transposed

    blas = numpy_blas()
    if blas is None:
        pytest.skip("NumPy has no bundled OpenBLAS here")
    rng = np.random.default_rng(21)
    for n in (1, 2, 65, 130, 257):
        a = (rng.standard_normal((n, n)) / np.sqrt(n) + np.eye(n)).astype(dtype)
        lu, piv, info = blas.getrf(a.T)
        kept = lu.copy()
        expected = np.linalg.inv(a.astype(np.float64)).T
        tol = 1e-10 if dtype == np.float64 else 1e-3
        got = inverse_transposed(blas, lu, piv)
        assert got.dtype == dtype and got.flags.c_contiguous and info == 0
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * np.abs(expected).max())
        out = np.full((2, n, n), np.nan, dtype=dtype)
        inverse_transposed(blas, lu, piv, out=out[1])
        np.testing.assert_array_equal(out[1], got)
        assert np.isnan(out[0]).all()
        np.testing.assert_array_equal(lu, kept)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_symmetric_matrices_take_the_cholesky_path_or_fall_back_to_the_lu(dtype) -> None:
    """From 96 x 96 a symmetric matrix is tried by Cholesky: values and gradients of det,
    slogdet and logdet match torch's (its LU) for a positive-definite one (also a non-contiguous
    view, and a backward run twice), an indefinite one (negative determinant: logdet nan, sign
    -1), one that is singular (a zero row and column: -inf), and one with a NaN."""
    from chainrule.ops import linalg_det

    n = linalg_det._CHOLESKY_FROM + 3
    rng = np.random.default_rng(31)
    g = rng.standard_normal((n, n))
    pd = g @ g.T / n + np.eye(n)
    indefinite = pd - 1.5 * np.eye(n)
    singular = pd.copy()
    singular[5], singular[:, 5] = 0, 0
    nan = pd.copy()
    nan[3, 3] = np.nan
    big = np.zeros((2 * n, 2 * n))
    big[::2, ::2] = pd
    tol = dict(rtol=1e-9, atol=1e-9) if dtype == "float64" else dict(rtol=2e-3, atol=2e-4)
    assert linalg_det._cholesky(pd.astype(dtype)) is not None
    assert linalg_det._cholesky(indefinite.astype(dtype)) is None
    for m in (pd, big, indefinite, singular, nan):
        for fn in ("logdet", "det", "slogdet"):
            ours = chainrule.tensor(m.astype(dtype), requires_grad=True)
            theirs = torch.tensor(m.astype(dtype), requires_grad=True)
            if m is big:
                ours, theirs = ours[::2, ::2], theirs[::2, ::2]
            call = {
                "logdet": lambda lib, t: lib.logdet(t),
                "det": lambda lib, t: lib.linalg.det(t / 2),
                "slogdet": lambda lib, t: lib.linalg.slogdet(t).logabsdet,
            }[fn]
            y_o, y_t = call(chainrule, ours), call(torch, theirs)
            np.testing.assert_allclose(to_numpy(y_o), to_numpy(y_t), **tol)
            if fn == "slogdet" and m is not nan:  # (torch's sign of a NaN matrix: 0; ours NaN, as before)
                assert to_numpy(chainrule.linalg.slogdet(ours).sign) == to_numpy(
                    torch.linalg.slogdet(theirs).sign
                )
            if m is singular or m is nan or (m is indefinite and fn == "logdet"):
                continue  # inf / nan gradients; det's cofactors where torch gives 0
            (g1,) = chainrule.autograd.grad(y_o, ours, retain_graph=True)
            (g2,) = chainrule.autograd.grad(y_o, ours)
            (gt,) = torch.autograd.grad(y_t, theirs)
            assert g1.dtype == ours.dtype
            assert_same_factors_read_twice(g1, g2)
            scale = np.abs(to_numpy(gt)).max()
            np.testing.assert_allclose(to_numpy(g1), to_numpy(gt), rtol=tol["rtol"], atol=tol["atol"] * scale)


def test_cholesky_path_second_derivative_matches_torch() -> None:
    """create_graph=True differentiates inv(A)^T as ops, whatever the forward factored."""
    rng = np.random.default_rng(32)
    n = 100
    g = rng.standard_normal((n, n))
    pd = g @ g.T / n + np.eye(n)
    w = rng.standard_normal((n, n))
    ours, theirs = pair(pd, requires_grad=True)
    (go,) = chainrule.autograd.grad(chainrule.logdet(ours), ours, create_graph=True)
    (gt,) = torch.autograd.grad(torch.logdet(theirs), theirs, create_graph=True)
    (hgo,) = chainrule.autograd.grad((go * chainrule.tensor(w)).sum(), ours)
    (hgt,) = torch.autograd.grad((gt * torch.tensor(w)).sum(), theirs)
    np.testing.assert_allclose(to_numpy(go), to_numpy(gt), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(to_numpy(hgo), to_numpy(hgt), rtol=1e-8, atol=1e-11)


def test_inplace_change_after_a_cholesky_logdet_is_caught() -> None:
    n = 100
    g = np.random.default_rng(33).standard_normal((n, n))
    x = chainrule.tensor(g @ g.T / n + np.eye(n), requires_grad=True)
    a = x * 1.0
    y = chainrule.logdet(a)
    a.add_(1.0)
    with pytest.raises(RuntimeError):
        y.backward()


# ---- inf, NaN and subnormal entries: torch's plain backward solves A^T X = diag(g det A) ---------
INF, NAN = float("inf"), float("nan")


def _det_grads(lib, a: np.ndarray, g: np.ndarray, create_graph: bool = False):
    x = lib.tensor(a, requires_grad=True)
    (grad,) = lib.autograd.grad(lib.linalg.det(x), x, lib.tensor(g), create_graph=create_graph)
    return grad


@pytest.mark.parametrize("value", [NAN, INF, -INF, 1e-45, -0.0, 3.0])
def test_det_gradient_of_a_1x1_matrix_is_the_upstream_gradient(value) -> None:
    """torch's gradient of a 1 x 1 det is g itself, whatever the entry: not g det / A, which is
    NaN at inf or NaN and inf at a subnormal (1 / 1e-45 overflows float32); with create_graph too,
    and its derivative in g is 1 in every entry."""
    a = np.array([[[value]], [[0.5]]], dtype=np.float32)
    g = np.array([0.7, -1.3], dtype=np.float32)
    for create_graph in (False, True):
        ours, theirs = _det_grads(chainrule, a, g, create_graph), _det_grads(torch, a, g, create_graph)
        np.testing.assert_array_equal(to_numpy(ours), g.reshape(2, 1, 1))
        np.testing.assert_array_equal(to_numpy(ours), to_numpy(theirs))
    w = np.array([[[2.0]], [[-3.0]]], dtype=np.float32)
    results = []
    for lib in (chainrule, torch):
        x, up = lib.tensor(a, requires_grad=True), lib.tensor(g, requires_grad=True)
        (grad,) = lib.autograd.grad(lib.linalg.det(x), x, up, create_graph=True)
        results.append(to_numpy(lib.autograd.grad((grad * lib.tensor(w)).sum(), up)[0]))
    np.testing.assert_array_equal(results[0], w.reshape(2))
    np.testing.assert_array_equal(results[0], results[1])


POISONED = [
    # det is inf: torch's solve gives -inf at [1, 1] and NaN elsewhere
    [[-INF, -0.625], [-0.0625, -1.75]],
    [[INF, 0.5], [0.3, 1.2]],
    [[NAN, 0.5], [0.3, 1.2]],
    [[0.7, -1.2, 0.3], [INF, 0.4, 1.1], [0.2, 0.9, -0.6]],
    [[0.7, -1.2, 0.3], [0.5, 0.4, 1.1], [0.2, 0.9, -INF]],
    # a zero pivot beside a NaN: NaN as torch's (the singular formula's SVD would raise)
    [[NAN, 0.0], [0.0, 0.0]],
    [[0.0, 0.0, 0.0], [0.0, NAN, 1.0], [0.0, 1.0, 1.0]],
    [[INF, 0.0], [0.0, 0.0]],
]


@pytest.mark.parametrize("m", POISONED, ids=range(len(POISONED)))
def test_det_gradient_of_a_matrix_holding_inf_or_nan_matches_torch(m) -> None:
    """The same NaN, the same infinities with their signs and the same finite values as torch's
    backward (LAPACK's reference LU of A^T, a zero pivot replaced by eps, then the solve), in a
    batch beside a finite matrix whose gradient stays det(A) A^{-T}."""
    poisoned = np.array(m, dtype=np.float32)
    n = poisoned.shape[-1]
    finite = (np.random.default_rng(40).uniform(-1, 1, (n, n)) + 2 * np.eye(n)).astype(np.float32)
    a = np.stack([poisoned, finite])
    g = np.array([0.7, -1.3], dtype=np.float32)
    ours, theirs = _det_grads(chainrule, a, g), _det_grads(torch, a, g)
    assert_close(ours, theirs, 2e-4, 1e-5, f"det gradient of {m}")
    expected = g[1] * np.linalg.det(finite.astype(np.float64)) * np.linalg.inv(finite.astype(np.float64)).T
    np.testing.assert_allclose(to_numpy(ours)[1], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("m", POISONED[:5], ids=range(5))
def test_det_gradient_of_a_matrix_holding_inf_or_nan_with_create_graph(m) -> None:
    """torch's differentiable backward solves A^T X = diag(g det A) too (a det of inf or NaN is never
    small enough for its singular formula): the same pattern, in a batch beside a regular and a
    singular matrix (the cofactors), whose gradients and second derivatives stay as they were."""
    poisoned = np.array(m, dtype=np.float32)
    n = poisoned.shape[-1]
    finite = (np.random.default_rng(42).uniform(-1, 1, (n, n)) + 2 * np.eye(n)).astype(np.float32)
    singular = np.arange(1, n * n + 1, dtype=np.float32).reshape(n, n)
    singular[-1] = 2 * singular[0]
    a, g = np.stack([poisoned, finite, singular]), np.array([0.7, -1.3, 0.4], dtype=np.float32)
    ours = _det_grads(chainrule, a, g, True)
    assert_close(ours, _det_grads(torch, a, g, True), 2e-4, 1e-5, f"create_graph, {m}")
    np.testing.assert_allclose(to_numpy(ours)[2], g[2] * _cofactors(singular.astype(np.float64)), atol=1e-5)
    w = np.random.default_rng(43).standard_normal((2, n, n)).astype(np.float32)
    second = []
    for batch in (a, a[1:]):
        x = chainrule.tensor(batch, requires_grad=True)
        up = chainrule.tensor(g[-len(batch) :])
        (grad,) = chainrule.autograd.grad(chainrule.linalg.det(x), x, up, create_graph=True)
        (gg,) = chainrule.autograd.grad((grad[-2:] * chainrule.tensor(w)).sum(), x)
        second.append(gg.numpy()[-2:])
    np.testing.assert_allclose(second[0], second[1], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("value", [INF, -INF, NAN])
def test_det_gradient_of_32x32_matrices_holding_inf_or_nan_matches_torch(value) -> None:
    """The per-matrix LAPACK path (batches of 32 x 32): det's inf in every entry of det(A) A^{-T} is
    NaN or inf where torch's solve is NaN, inf or finite."""
    rng = np.random.default_rng(41)
    a = (rng.uniform(-2, 2, (2, 32, 32)) / 8 + np.eye(32)).astype(np.float32)
    a[0, 0, 0] = value
    a[1, 5, 7] = value
    g = rng.standard_normal(2).astype(np.float32)
    assert_close(_det_grads(chainrule, a, g), _det_grads(torch, a, g), 2e-4, 1e-5, f"32x32 with {value}")


def test_slogdet_and_logdet_gradients_at_inf_nan_and_subnormal_entries_match_torch() -> None:
    """slogdet and logdet take A^{-T} (torch's lu_solve of diag(g)), not det's path: unchanged."""
    for m in POISONED[:5] + [[[1e-45, 0.5], [0.3, 1.2]], [[1e-45]], [[NAN]]]:
        a = np.array(m, dtype=np.float32)
        for fn in (lambda lib, t: lib.linalg.slogdet(t).logabsdet, lambda lib, t: lib.logdet(t)):
            grads = []
            for lib in (chainrule, torch):
                x = lib.tensor(a, requires_grad=True)
                grads.append(lib.autograd.grad(fn(lib, x), x)[0])
            assert_close(grads[0], grads[1], 2e-4, 1e-5, f"slogdet/logdet gradient of {m}")
