"""Decompositions and solvers on matrices holding an inf or a NaN, against torch, and where torch's
own answer is wrong, against the mathematics.

On such matrices torch's MKL follows LAPACK's reference algorithms (``getf2``/``getrs``,
``potf2``, ``geqr2``/``org2r``); chainrule redoes those matrices with the same algorithms in
NumPy (``chainrule.kernels.lapack_reference``), so LU, inverses, solutions, determinants, QR and
Cholesky factors carry torch's NaNs and infinities in torch's places. The SVD of a matrix holding
an inf is NaN (torch: NaN singular values, arbitrary permutation matrices for U and Vh, and so a
zero pseudo-inverse): those cases are checked by hand (docs/differences.md, "Extreme values").
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from oracle import assert_close, to_numpy

import chainrule
from chainrule.kernels.lapack_reference import geqr2, getf2, getrs, getrs_transposed, org2r, potf2, potri
from chainrule.kernels.matrix_exp import matrix_exp as matrix_exp_kernel

pytestmark = pytest.mark.usefixtures("one_torch_thread")

INF, NAN = float("inf"), float("nan")


def _poisoned(seed: int, shape: tuple, count: int = 30, diagonal: float = 0.0) -> list[np.ndarray]:
    """``count`` float32 matrices with one or two entries set to inf, -inf or NaN at random."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        a = rng.uniform(-1, 1, shape).astype(np.float32)
        a += diagonal * np.eye(*shape[-2:], dtype=np.float32)
        for _ in range(rng.integers(1, 3)):
            a.reshape(-1)[rng.integers(a.size)] = rng.choice([INF, -INF, NAN])
        out.append(a)
    return out


def _run(lib, fn, a: np.ndarray):
    """``fn(lib, tensor)`` as arrays (a tuple for several outputs), or the exception's class."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            out = fn(lib, lib.tensor(a))
    except RuntimeError:  # (torch's _LinAlgError and chainrule's LinAlgError among them)
        return RuntimeError
    return tuple(to_numpy(x) for x in (out if isinstance(out, tuple) else (out,)))


def _same_as_torch(fn, a: np.ndarray, what: str) -> None:
    ours, theirs = _run(chainrule, fn, a), _run(torch, fn, a)
    if theirs is RuntimeError or ours is RuntimeError:
        assert ours is theirs, f"{what}: chainrule {ours}, torch {theirs}"
        return
    for k, (o, t) in enumerate(zip(ours, theirs)):
        assert_close(o, t, 2e-4, 1e-5, f"{what} output {k} of {a.tolist()}")


# ---- against torch: the reference algorithms' NaNs -----------------------------------------------
SQUARE_CALLS = {
    "inv": lambda m, a: m.linalg.inv(a),
    "inv_ex": lambda m, a: tuple(m.linalg.inv_ex(a)),
    "solve": lambda m, a: m.linalg.solve(a, m.ones(a.shape[-1], 2)),
    "lu_factor": lambda m, a: tuple(m.linalg.lu_factor(a)),
    "det": lambda m, a: m.linalg.det(a),
    "slogdet": lambda m, a: tuple(m.linalg.slogdet(a)),
    "cholesky_ex": lambda m, a: tuple(m.linalg.cholesky_ex(a @ a.mT + m.eye(a.shape[-1]))),
    "cholesky": lambda m, a: m.linalg.cholesky(a @ a.mT + m.eye(a.shape[-1])),
    "cholesky_inverse": lambda m, a: m.cholesky_inverse(a.tril()),
    "cholesky_inverse upper": lambda m, a: m.cholesky_inverse(a.triu(), upper=True),
}


@pytest.mark.parametrize("name", list(SQUARE_CALLS))
@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_lu_and_cholesky_family_match_torch_on_inf_and_nan(name: str, n: int) -> None:
    for a in _poisoned(n, (n, n), diagonal=2.0):
        _same_as_torch(SQUARE_CALLS[name], a, name)


def test_batched_inverse_redoes_only_the_poisoned_matrices() -> None:
    a = np.stack(_poisoned(0, (3, 3), 4, diagonal=2.0) + [np.eye(3, dtype=np.float32) * 2])
    _same_as_torch(SQUARE_CALLS["inv"], a, "batched inv")
    _same_as_torch(SQUARE_CALLS["solve"], a, "batched solve")


def test_a_nan_where_numpy_finds_a_zero_pivot_is_not_singular_to_torch() -> None:
    """[[NaN, -1], [0, 0]]: NumPy's LU (OpenBLAS) reports a zero pivot; the reference LU keeps the
    NaN as its first pivot (it comes first, and idamax's ``>`` never passes it) and the NaN reaches
    the second, so no pivot is exactly zero: torch returns NaN, and so does chainrule."""
    a = np.array([[NAN, -1], [0, 0]], dtype=np.float32)
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.solve(a, np.ones((2, 1), np.float32))
    _same_as_torch(SQUARE_CALLS["solve"], a, "solve")
    _same_as_torch(SQUARE_CALLS["inv"], a, "inv")
    assert np.isnan(to_numpy(chainrule.linalg.inv(chainrule.tensor(a)))).all()


def _solve_grads(m, a):
    A = a.clone().requires_grad_()
    B = m.ones(a.shape[-1], 2, requires_grad=True)
    x = m.linalg.solve(A, B)
    return tuple(m.autograd.grad(x, (A, B), m.ones(x.shape)))


def _slogdet_grad(m, a):
    A = a.clone().requires_grad_()
    return m.autograd.grad(m.linalg.slogdet(A).logabsdet, A)[0]


@pytest.mark.parametrize("n", [2, 3, 4])
def test_solve_and_slogdet_gradients_match_torch_on_inf_and_nan(n: int) -> None:
    """torch's solve backward is lu_solve(LU of A, adjoint=True); slogdet's, solve(A^T, I)."""
    for a in _poisoned(10 + n, (n, n), 15, diagonal=2.0):
        _same_as_torch(_solve_grads, a, "solve's gradients")
        _same_as_torch(_slogdet_grad, a, "slogdet's gradient")


QR_MODES = {
    "reduced": lambda m, a: tuple(m.linalg.qr(a)),
    "complete": lambda m, a: tuple(m.linalg.qr(a, mode="complete")),
    "r": lambda m, a: m.linalg.qr(a, mode="r")[1],
}


@pytest.mark.parametrize("mode", list(QR_MODES))
@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (4, 2), (2, 4), (5, 3)])
def test_qr_matches_torch_on_inf_and_nan(mode: str, shape: tuple) -> None:
    for a in _poisoned(sum(shape), shape, 20):
        _same_as_torch(QR_MODES[mode], a, f"qr {mode}")


def test_qr_explicit_inf_and_nan() -> None:
    """One inf at the corner: R's first pivot is -inf and tau NaN, so the rest of R is NaN and Q's
    first column NaN; a NaN there: MKL's dlapy2 skips it, so R's first pivot stays finite."""
    a = np.array([[INF, 1, 2], [3, 4, 5], [6, 7, 9], [1, 0, 1]], dtype=np.float32)
    _same_as_torch(QR_MODES["reduced"], a, "qr of an inf")
    q, r = chainrule.linalg.qr(chainrule.tensor(a))
    assert r[0, 0].item() == -INF and np.isnan(to_numpy(r)[0, 1:]).all()
    a[0, 0] = NAN
    _same_as_torch(QR_MODES["complete"], a, "qr of a NaN")
    assert np.isfinite(chainrule.linalg.qr(chainrule.tensor(a)).R[0, 0].item())


def test_cholesky_of_an_infinite_pivot_fails_as_torch() -> None:
    """MKL's reciprocal of an infinite pivot is NaN: the column below turns NaN even where it is
    finite, and the next pivot fails (torch: the leading minor of order 2)."""
    a = np.array([[INF, 1e37, 2e37], [1e37, 5, 0.1], [2e37, 0.1, 3]], dtype=np.float32)
    _same_as_torch(SQUARE_CALLS["cholesky"], a, "cholesky")
    L, info = chainrule.linalg.cholesky_ex(chainrule.tensor(a))
    assert info.item() == 2 and np.isnan(to_numpy(L)[1:, 0]).all()
    with pytest.raises(RuntimeError, match="order 2"):
        chainrule.linalg.cholesky(chainrule.tensor(a))


@pytest.mark.parametrize(("left", "transpose"), [(True, False), (True, True), (False, False), (False, True)])
def test_ormqr_with_inf_and_nan_matches_torch(left: bool, transpose: bool) -> None:
    """Each reflector touches the rows (columns) from its own on, as LAPACK's larf: the zeros above
    its vector never multiply an inf of C into NaN."""
    rng = np.random.default_rng(4)
    for a in _poisoned(5, (4, 3), 10):
        tau = rng.uniform(0, 1.5, 3).astype(np.float32)
        c = rng.uniform(-1, 1, (4, 2) if left else (2, 4)).astype(np.float32)
        c[1, 1] = INF
        ours = chainrule.ormqr(
            chainrule.tensor(a), chainrule.tensor(tau), chainrule.tensor(c), left, transpose
        )
        theirs = torch.ormqr(torch.tensor(a), torch.tensor(tau), torch.tensor(c), left, transpose)
        assert_close(ours, theirs, 2e-4, 1e-5, f"ormqr(left={left}, transpose={transpose})")


def test_det_of_an_inf_factors_the_transpose_as_torch() -> None:
    """torch's det factors A^T (LAPACK's view of a C-order A): inf here, NaN with A's own LU."""
    a = np.array([[3.1, INF, 0.6], [0.1, 2.5, 0.4], [1.3, 0.9, 2.3]], dtype=np.float32)
    assert chainrule.linalg.det(chainrule.tensor(a)).item() == torch.linalg.det(torch.tensor(a)).item()
    sign, logabs = chainrule.linalg.slogdet(chainrule.tensor(a))
    assert (sign.item(), logabs.item()) == (1.0, INF)


# ---- SVD-based ops: NaN where torch is NaN -------------------------------------------------------
SVD_VALUES = {
    "svdvals": lambda m, a: m.linalg.svdvals(a),
    "matrix_norm 2": lambda m, a: m.linalg.matrix_norm(a, 2),
    "matrix_norm -2": lambda m, a: m.linalg.matrix_norm(a, -2),
    "nuclear norm": lambda m, a: m.linalg.matrix_norm(a, "nuc"),
    "cond": lambda m, a: m.linalg.cond(a),
    "matrix_rank": lambda m, a: m.linalg.matrix_rank(a),
}


@pytest.mark.parametrize("name", list(SVD_VALUES))
@pytest.mark.parametrize("value", [INF, -INF, NAN])
def test_svd_values_of_inf_and_nan_match_torch(name: str, value: float) -> None:
    """NaN singular values (so NaN norms and cond, rank 0) for an inf; torch's error for a NaN.
    In a batch, only the matrix holding it is affected. (Not ``svd(a).S``: torch's gesdd with
    singular vectors raises for some positions of an inf, as here, and returns for others.)"""
    a = np.random.default_rng(0).uniform(-1, 1, (3, 4, 3)).astype(np.float32)
    a[1, 2, 0] = value
    _same_as_torch(SVD_VALUES[name], a, name)


def test_svd_of_an_inf_is_nan_and_never_calls_lapack() -> None:
    """By hand: a matrix holding an inf has no SVD; chainrule's U, S and Vh are NaN there (torch's
    U and Vh are permutation matrices that depend on the values, not singular vectors of
    anything). The other matrices of the batch are factored as usual. LAPACK's gesdd in
    NumPy's OpenBLAS never returns for some such matrices, so this also checks it is not called."""
    a = np.random.default_rng(1).uniform(-1, 1, (2, 3, 3)).astype(np.float32)
    a[0, 0, 0] = INF
    for full in (False, True):
        U, S, Vh = (to_numpy(x) for x in chainrule.linalg.svd(chainrule.tensor(a), full_matrices=full))
        assert np.isnan(U[0]).all() and np.isnan(S[0]).all() and np.isnan(Vh[0]).all()
        u, s, vh = np.linalg.svd(a[1], full_matrices=full)
        np.testing.assert_allclose(np.abs(U[1]), np.abs(u), atol=1e-5)
        np.testing.assert_allclose(S[1], s, rtol=1e-5)
        np.testing.assert_allclose(np.abs(Vh[1]), np.abs(vh), atol=1e-5)
    U, S, V = chainrule.svd(chainrule.tensor(a[0]))
    assert np.isnan(to_numpy(V)).all()
    with pytest.raises(RuntimeError, match="non-finite"):
        chainrule.linalg.svd(chainrule.tensor(np.where(a == INF, NAN, a)))


def test_pinv_and_lstsq_of_an_inf_are_nan_not_torchs_zero() -> None:
    """By hand: torch's pinv drops every NaN singular value and returns the zero matrix, but the
    pseudo-inverse of [[x, 0], [0, 1]], [[1/x, 0], [0, 1]], tends to [[0, 0], [0, 1]] as x grows,
    not to 0: the zero matrix is wrong at x = inf, and chainrule gives NaN. lstsq's gelss agrees with torch on
    the rank (0) and the singular values (NaN); the solution is NaN (torch: 0)."""
    near = to_numpy(chainrule.linalg.pinv(chainrule.tensor([[1e6, 0.0], [0.0, 1.0]])))
    np.testing.assert_allclose(near, [[1e-6, 0], [0, 1]], rtol=1e-6)
    a = chainrule.tensor([[INF, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert np.isnan(to_numpy(chainrule.linalg.pinv(a))).all()
    x, _, rank, sv = chainrule.linalg.lstsq(a, chainrule.ones(3, 1), driver="gelss")
    assert np.isnan(to_numpy(x)).all() and rank.item() == 0 and np.isnan(to_numpy(sv)).all()
    with pytest.raises(RuntimeError, match="gelsd"):  # torch: LAPACK's illegal-argument error
        chainrule.linalg.lstsq(a, chainrule.ones(3, 1), driver="gelsd")


def test_nuclear_norm_gradient_at_an_inf_is_nan() -> None:
    """By hand: ||A||_* is inf-or-NaN near a matrix holding an inf, so it has no gradient there;
    torch's U Vh from its permutation matrices is finite, chainrule's is NaN."""
    a = chainrule.tensor([[INF, 1.0], [2.0, 3.0]], requires_grad=True)
    (g,) = chainrule.autograd.grad(chainrule.linalg.matrix_norm(a, "nuc"), a)
    assert np.isnan(to_numpy(g)).all()


# ---- torch's E: a selected diagonal (a squared 1e38 is inf in float32) ---------------------------
@pytest.mark.parametrize(
    ("call", "rows"),
    [
        (lambda m, a: m.linalg.svd(a).U ** 2, 4),
        (lambda m, a: m.linalg.svd(a, full_matrices=False).Vh ** 2, 4),
        (lambda m, a: m.linalg.eigh(a + a.mT).eigenvectors ** 2, 3),
    ],
    ids=["svd U", "svd Vh", "eigh V"],
)
def test_singular_vector_gradients_at_a_huge_value_match_torch(call, rows: int) -> None:
    a = np.random.default_rng(2).uniform(-1, 1, (rows, 3)).astype(np.float32)
    a += 3 * np.eye(rows, 3, dtype=np.float32)
    a[0, 0] = 1e38
    grads = []
    for lib in (chainrule, torch):
        t = lib.tensor(a, requires_grad=True)
        out = call(lib, t)
        grads.append(lib.autograd.grad(out, t, lib.ones(tuple(out.shape)))[0])
    assert_close(grads[0], grads[1], 2e-4, 1e-5, "gradient at 1e38")


# ---- the reference kernels are LAPACK's algorithms: exact identities on finite matrices ----------
def test_reference_kernels_factor_finite_matrices() -> None:
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 5, 5))
    lu, pivots, info = getf2(a)
    assert not info.any()
    for k in range(4):
        p = np.eye(5)
        for j, row in enumerate(pivots[k]):
            p[[j, row]] = p[[row, j]]
        lower = np.tril(lu[k], -1) + np.eye(5)
        np.testing.assert_allclose(p @ a[k], lower @ np.triu(lu[k]), atol=1e-12)
    b = rng.standard_normal((4, 5, 2))
    np.testing.assert_allclose(getrs(lu, pivots, b), np.linalg.solve(a, b), atol=1e-10)
    np.testing.assert_allclose(
        getrs_transposed(lu, pivots, b), np.linalg.solve(a.swapaxes(1, 2), b), atol=1e-10
    )
    spd = a @ a.swapaxes(1, 2) + 5 * np.eye(5)
    low, info = potf2(spd)
    assert not info.any()
    np.testing.assert_allclose(low, np.linalg.cholesky(spd), atol=1e-12)
    tall = rng.standard_normal((3, 6, 4))
    r, tau = geqr2(tall)
    q = org2r(r, tau, 4)
    np.testing.assert_allclose(q @ np.triu(r[:, :4]), tall, atol=1e-12)
    np.testing.assert_allclose(q.swapaxes(1, 2) @ q, np.broadcast_to(np.eye(4), (3, 4, 4)), atol=1e-12)
    inverse = np.linalg.inv(spd)
    np.testing.assert_allclose(potri(low), inverse, rtol=1e-10)
    np.testing.assert_allclose(potri(low.swapaxes(1, 2), upper=True), inverse, rtol=1e-10)
    low, info = potf2(np.array([[[4.0, 0], [0, -1]]]))
    assert info.tolist() == [2] and low[0, 1, 1] == -1  # LAPACK leaves the failing a_jj there


# ---- matrix_exp: torch's Taylor algorithm, values and overflow pattern ---------------------------
# 1-norms in each of torch's degree intervals (float32: 1.2e-7, 6e-4, 0.051, 0.58, 1.46, 3.01) and
# beyond, where the matrix is scaled and squared
_EXP_NORMS = (1e-8, 1e-4, 0.02, 0.3, 1.0, 2.5, 7.0, 60.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("stack", [(), (3,)], ids=["one matrix", "a stack"])
def test_matrix_exp_kernel_follows_torchs_algorithm(dtype, stack: tuple) -> None:
    """The kernel that redoes overflowing and non-finite inputs is torch's algorithm: within a few
    units of roundoff of torch's values at every degree (here at most 1.4e-6 of the result's
    largest entry in float32, 7e-15 in float64, where SciPy's Padé, which the op keeps for finite
    results, differs from torch by up to 1.2e-5 and 6e-13; the margins leave room for another
    BLAS's rounding)."""
    rng = np.random.default_rng(5)
    tol = 5e-6 if dtype == np.float32 else 5e-14
    for n in (2, 3, 5):
        for norm in _EXP_NORMS:
            a = rng.standard_normal(stack + (n, n))
            a *= norm / np.abs(a).sum(-2).max(-1)[..., None, None]
            a = a.astype(dtype)
            ours = matrix_exp_kernel(a)
            theirs = torch.linalg.matrix_exp(torch.tensor(a)).numpy()
            assert ours.dtype == theirs.dtype
            scale = np.abs(theirs).max()
            assert np.abs(ours - theirs).max() <= tol * scale, (n, norm, np.abs(ours - theirs).max() / scale)
            op = to_numpy(chainrule.linalg.matrix_exp(chainrule.tensor(a)))
            assert_close(op, theirs, 1e-4 if dtype == np.float32 else 1e-9, 0, f"matrix_exp at norm {norm}")


@pytest.mark.parametrize("value", [1e38, 1e30, INF, -INF, NAN, 3e38])
@pytest.mark.parametrize("stack", [(), (1,), (2,)], ids=["one matrix", "a stack of one", "a stack"])
def test_matrix_exp_of_huge_and_non_finite_entries_matches_torch(value: float, stack: tuple) -> None:
    """Where the squarings overflow (1e38 and 1e30: 2^126 and 2^100 squarings), where the norm
    overflows (two entries of 3e38 in a column), inf (scale 2^-inf = 0, inf * 0 = NaN, squared as
    often as the stack's other matrices) and NaN (NaN for one matrix: its norm selects no degree):
    torch's NaNs and infinities in torch's places, values and gradients."""
    rng = np.random.default_rng(6)
    for n, position in ((2, 0), (3, 4), (3, 7), (4, 0)):
        a = rng.uniform(-1, 1, stack + (n, n)).astype(np.float32)
        a.reshape(-1)[position] = value
        if value == 3e38:
            a[..., 1, 0] = value
        weights = rng.standard_normal(a.shape).astype(np.float32)
        grads = []
        for lib in (chainrule, torch):
            t = lib.tensor(a, requires_grad=True)
            out = lib.linalg.matrix_exp(t)
            grads.append((out, lib.autograd.grad(out, t, lib.tensor(weights))[0]))
        what = f"matrix_exp of {a.tolist()}"
        assert_close(grads[0][0], grads[1][0], 2e-4, 1e-5, what)
        assert_close(grads[0][1], grads[1][1], 2e-4, 1e-5, f"gradient of {what}")


# ---- matrix_power at 1e38: float32 products that overflow ---------------------------------------
def _unfused_product(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x @ y in float32 with every product rounded (to inf where it overflows) before the sum."""
    with np.errstate(over="ignore", invalid="ignore"):
        return (x[..., :, :, None] * y[..., None, :, :]).sum(-2)


def test_matrix_power_of_a_huge_entry_is_the_rounded_exact_power() -> None:
    """By hand (torch's answer is in TORCH_WRONG): A^4 with A[0, 0] = 1e38 is A2 A2, A2 = A A. The
    exact power (float64 here) has 1e152 at (0, 0) and every entry beyond float32's range, so the
    float32 answer is the float64 one rounded: inf with the exact sign everywhere. A float32 BLAS
    may also give NaN where two products that each overflow have opposite signs (torch's MKL:
    A2[0, 1] A2[1, 0] = -inf is rounded before it meets A2[0, 0]^2 = inf, so inf - inf); a fused
    multiply-add (NumPy's OpenBLAS) adds the exact product and keeps inf. Each entry must be one
    of the two; a finite value or the wrong infinity is wrong."""
    a = np.array(
        [[1e38, -0.4604, -0.9181], [-0.9669, 0.6265, 0.8255], [0.2133, 0.4590, 0.08725]], dtype=np.float32
    )
    exact = np.linalg.matrix_power(a.astype(np.float64), 4)
    with np.errstate(over="ignore"):
        rounded = exact.astype(np.float32)
    square = _unfused_product(a, a)
    unfused = _unfused_product(square, square)
    assert np.isinf(rounded).all() and np.isnan(unfused[0, 0])  # (the case that splits the BLASes)
    ours = to_numpy(chainrule.linalg.matrix_power(chainrule.tensor(a), 4))
    for got, want, other in zip(ours.ravel(), rounded.ravel(), unfused.ravel()):
        assert got == want or (np.isnan(got) and np.isnan(other)), (ours, rounded, unfused)
    theirs = torch.linalg.matrix_power(torch.tensor(a), 4).numpy()
    for got, want, other in zip(theirs.ravel(), rounded.ravel(), unfused.ravel()):  # (torch: the same rule)
        assert got == want or (np.isnan(got) and np.isnan(other))


# ---- eigh of a matrix that 1e38 swamps: checked by residual, not against torch -------------------
@pytest.mark.parametrize("symmetric", [True, False], ids=["symmetric", "one triangle read"])
@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_eigh_with_a_huge_entry_is_backward_stable(symmetric: bool, n: int) -> None:
    """With +-1e38 on the diagonal the small eigenvalues are determined only to eps * ||A|| (about
    1e31 in float32), and their eigenvectors not at all: torch's syevd (MKL) returns eigenvalues
    like 4e30 where the exact ones are O(1), and other eigenvectors than NumPy's LAPACK, both
    backward stable. So the sweep skips these cases (ILL_CONDITIONED in test_extreme_values.py) and
    this checks what the numerics determine, in float64 against the matrix eigh reads (the upper
    triangle, mirrored): the residual ||A V - V diag(w)|| and ||w - eig(A)|| at most 4 n eps ||A||,
    V orthonormal to 4 n eps, the eigenvalues ascending, and the huge eigenvalue's vector e_k
    (separated by 1e38 from the rest). torch's answer meets the same bounds."""
    eps = float(np.finfo(np.float32).eps)
    rng = np.random.default_rng(20 + n)
    for trial in range(12):
        a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        if symmetric:
            a = (a + a.T) / 2
        a += np.diag(np.arange(n, dtype=np.float32) * 3)
        k = trial % n
        a[k, k] = 1e38 if trial % 2 else -1e38
        upper = np.triu(a).astype(np.float64)
        exact = upper + np.triu(upper, 1).T
        exact_w = np.linalg.eigvalsh(exact)
        norm = np.abs(exact_w).max()
        for lib in (chainrule, torch):
            w, v = (to_numpy(x).astype(np.float64) for x in lib.linalg.eigh(lib.tensor(a), UPLO="U"))
            what = f"{lib.__name__}'s eigh of {a.tolist()}"
            assert np.abs(exact @ v - v * w).max() <= 4 * n * eps * norm, what
            assert np.abs(w - exact_w).max() <= 4 * n * eps * norm, what
            assert np.abs(v.T @ v - np.eye(n)).max() <= 4 * n * eps, what
            assert (np.diff(w) >= 0).all(), what
            huge = 0 if a[k, k] < 0 else n - 1
            assert abs(abs(v[k, huge]) - 1) <= 4 * n * eps, what


# ---- lstsq driver='gels': LAPACK's gels, and torch's rule for inf and NaN ------------------------
def _gels(lib, a, b):
    """``lstsq(a, b, driver='gels')``'s solution and residuals as arrays, or the exception's class
    (LinAlgError apart from a plain RuntimeError)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            out = lib.linalg.lstsq(lib.tensor(a), lib.tensor(b), driver="gels")
    except RuntimeError as e:
        return "LinAlgError" if "LinAlgError" in type(e).__name__ else "RuntimeError"
    return to_numpy(out.solution), to_numpy(out.residuals)


@pytest.mark.parametrize("shape", [(5, 3), (4, 4), (3, 5), (6, 1), (1, 3), (2, 3, 2)])
def test_gels_with_inf_and_nan_matches_torch(shape: tuple) -> None:
    """torch's gels scales A by bignum / max|A| = 0 (NaN at the infs, zeros elsewhere) and factors
    that: it raises LinAlgError where a pivot of that QR (LQ) is exactly zero, which is most
    positions of an inf, and returns NaN otherwise; a NaN in A or B is an illegal argument to its
    LAPACK (RuntimeError); an inf in B alone gives NaN, and residuals of 0 or NaN per column."""
    rng = np.random.default_rng(sum(shape))
    *batch, m, n = shape
    outcomes = set()
    for trial in range(40):
        a = rng.uniform(-1, 1, shape).astype(np.float32)
        b = rng.uniform(-1, 1, (*batch, m, 2)).astype(np.float32)
        for _ in range(rng.integers(1, 3)):
            a.reshape(-1)[rng.integers(a.size)] = rng.choice([INF, -INF] + [NAN] * (trial % 9 == 0))
        if trial % 3 == 0:  # two infs down the first column: the NaN spreads to every pivot
            a[..., : min(2, m), 0] = INF
        if trial % 2:
            b.reshape(-1)[rng.integers(b.size)] = INF
        if trial % 5 == 0:
            a = np.where(np.isinf(a), np.float32(0.5), a)
        ours, theirs = _gels(chainrule, a, b), _gels(torch, a, b)
        outcomes.add(theirs if isinstance(theirs, str) else "returned")
        if isinstance(theirs, str) or isinstance(ours, str):
            assert ours == theirs, (a.tolist(), b.tolist(), ours, theirs)
            continue
        assert_close(ours[0], theirs[0], 2e-4, 1e-5, f"gels solution of {a.tolist()}, {b.tolist()}")
        assert_close(ours[1], theirs[1], 2e-4, 1e-5, f"gels residuals of {a.tolist()}, {b.tolist()}")
    # (the test meets both of torch's answers; one column or row has no pivot after the inf's)
    assert outcomes >= ({"LinAlgError", "returned"} if min(m, n) > 1 else {"returned"}), outcomes


def test_gels_with_a_huge_entry_is_the_least_squares_solution() -> None:
    """By hand (torch's residuals are in TORCH_WRONG): with A[0, 0] = B[0, 0] = 1e38 the solution
    is x = (1, x1, x2) with (x1, x2) the least-squares solution of the other rows, which gels'
    QR finds (gelsy, which chainrule used before, calls A rank 1 and truncates it). torch's
    residuals are those of the problem gels scaled down by bignum / max|B| (LAPACK's sgels unscales
    only the solution rows), 5e-14 instead of about 5: chainrule's are ||A x - B||^2 of its x."""
    a = np.array(
        [[1e38, -0.92085, -1.83611], [-1.93389, 1.25308, 1.65102], [0.42654, 0.91799, 0.1745],
         [1.74029, 1.26341, -1.98905], [1.42962, -1.86566, 0.91862]],
        dtype=np.float32,
    )  # fmt: skip
    b = np.array([[1e38, 1.45272], [0.16584, -0.80115], [-0.30925, -1.88672], [-1.50287, 0.6825],
                  [0.58876, 0.46154]], dtype=np.float32)  # fmt: skip
    x, residuals = _gels(chainrule, a, b)
    wide = a.astype(np.float64)
    for j in range(2):  # the exact solution: x0 from the first row, the rest from the others
        rest = np.linalg.lstsq(wide[1:, 1:], b[1:, j] - wide[1:, 0] * float(b[0, j]) / 1e38, rcond=None)[0]
        np.testing.assert_allclose(x[1:, j], rest, rtol=1e-4, atol=1e-5)
        assert abs(x[0, j] - float(b[0, j]) / 1e38) <= 1e-6
        np.testing.assert_allclose(residuals[j], ((wide @ x[:, j] - b[:, j]) ** 2).sum(), rtol=1e-3)
    assert 4 < residuals[0] < 6
    _, theirs = _gels(torch, a, b)
    assert (theirs < 1e-12).all()  # (torch's scaled residuals, see above)
