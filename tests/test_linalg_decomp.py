"""linalg.eigh / svd / qr and the matrix norms beyond the op specs: errors against torch's,
degenerate and ill-conditioned inputs, factorisation identities for hypothesis-drawn shapes,
return types, and how in-place changes of the factors interact with backward."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import LIBS, both, same_or_same_error, to_numpy
from specs.linalg_decomp import _separated, _sym, matrices

import chainrule

pytestmark = pytest.mark.filterwarnings("ignore:torch.qr is deprecated:UserWarning")

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)


# ---- return types ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda m, a: m.linalg.eigh(a @ a.mT),
        lambda m, a: m.linalg.svd(a),
        lambda m, a: m.svd(a),
        lambda m, a: m.linalg.qr(a),
        lambda m, a: m.qr(a),
        lambda m, a: a.qr(),
        lambda m, a: a.svd(),
    ],
    ids=["linalg.eigh", "linalg.svd", "svd", "linalg.qr", "qr", "Tensor.qr", "Tensor.svd"],
)
def test_named_tuples_match_torch(call) -> None:
    ours, theirs = both(call, np.random.default_rng(0).standard_normal((3, 3)))
    assert type(ours).__name__ == type(theirs).__name__
    assert len(ours) == len(theirs)
    for field, o, t in zip(ours._fields, ours, theirs):
        assert getattr(theirs, field) is t  # the same field names, in the same order
        assert o.shape == tuple(t.shape)


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 3, 3)])
@pytest.mark.parametrize(
    "call",
    [
        lambda m, a: m.linalg.svd(a, full_matrices=True),
        lambda m, a: m.linalg.svd(a, full_matrices=False),
        lambda m, a: m.svd(a, some=False),
        lambda m, a: m.svd(a, compute_uv=False),
        lambda m, a: m.linalg.qr(a, mode="complete"),
        lambda m, a: m.linalg.qr(a, mode="r"),
        lambda m, a: m.qr(a, some=False),
    ],
    ids=[
        "svd full",
        "svd reduced",
        "torch.svd full",
        "torch.svd no uv",
        "qr complete",
        "qr r",
        "torch.qr complete",
    ],
)
def test_output_shapes_and_dtypes_match_torch(call, shape) -> None:
    for dtype in (np.float32, np.float64):
        a = np.random.default_rng(1).standard_normal(shape).astype(dtype)
        ours, theirs = both(call, a)
        for o, t in zip(ours, theirs):
            assert o.shape == tuple(t.shape)
            assert str(o.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]


def test_svd_without_uv_returns_constant_zeros() -> None:
    a = chainrule.tensor(np.random.default_rng(2).standard_normal((4, 3)), requires_grad=True)
    U, S, V = chainrule.svd(a, compute_uv=False)
    assert not U.requires_grad and not V.requires_grad and S.requires_grad
    assert U.shape == (4, 4) and V.shape == (3, 3)
    assert not U.numpy().any() and not V.numpy().any()


def test_qr_mode_r_gives_an_empty_q() -> None:
    Q, R = chainrule.linalg.qr(chainrule.ones(3, 2), mode="r")
    assert Q.shape == (0,) and R.shape == (2, 2)


# ---- errors ------------------------------------------------------------------------------------
def _square(m):
    return m.ones(3, 3)


ERRORS = {
    "eigh non-square": lambda m: m.linalg.eigh(m.ones(2, 3)),
    "eigh 1-D": lambda m: m.linalg.eigh(m.ones(3)),
    "eigh int": lambda m: m.linalg.eigh(m.ones(3, 3, dtype=m.int64)),
    "eigh float16": lambda m: m.linalg.eigh(m.ones(3, 3, dtype=m.float16)),
    "eigh UPLO": lambda m: m.linalg.eigh(_square(m), UPLO="X"),
    "eigvalsh non-square": lambda m: m.linalg.eigvalsh(m.ones(2, 3)),
    "eigvalsh bool": lambda m: m.linalg.eigvalsh(m.ones(2, 2, dtype=m.bool)),
    "svd int": lambda m: m.linalg.svd(m.ones(3, 3, dtype=m.int32)),
    "svd 0-d": lambda m: m.linalg.svd(m.tensor(1.0)),
    "svd float16": lambda m: m.linalg.svd(m.ones(2, 2, dtype=m.float16)),
    "svd driver": lambda m: m.linalg.svd(_square(m), driver="gesvd"),
    "svd nan": lambda m: m.linalg.svd(m.tensor([[math.nan, 1.0], [1.0, 1.0]])),
    "svdvals int": lambda m: m.linalg.svdvals(m.ones(3, 3, dtype=m.int64)),
    "torch.svd 1-D": lambda m: m.svd(m.ones(3)),
    "qr int": lambda m: m.linalg.qr(m.ones(3, 3, dtype=m.int64)),
    "qr 1-D": lambda m: m.linalg.qr(m.ones(3)),
    "qr mode": lambda m: m.linalg.qr(_square(m), mode="x"),
    "qr float16": lambda m: m.linalg.qr(m.ones(2, 2, dtype=m.float16)),
    "matrix_norm ord 3": lambda m: m.linalg.matrix_norm(_square(m), 3),
    "matrix_norm ord 'foo'": lambda m: m.linalg.matrix_norm(_square(m), "foo"),
    "matrix_norm 1-D": lambda m: m.linalg.matrix_norm(m.ones(3)),
    "matrix_norm dim 3-tuple": lambda m: m.linalg.matrix_norm(_square(m), dim=(0, 1, 1)),
    "matrix_norm same dims": lambda m: m.linalg.matrix_norm(_square(m), dim=(1, -1)),
    "matrix_norm dim out of range": lambda m: m.linalg.matrix_norm(_square(m), dim=(0, 2)),
    "matrix_norm int": lambda m: m.linalg.matrix_norm(m.ones(2, 2, dtype=m.int64)),
    "matrix_norm narrowing dtype": lambda m: m.linalg.matrix_norm(
        m.ones(2, 2, dtype=m.float64), dtype=m.float32
    ),
    "matrix_norm float16 nuc": lambda m: m.linalg.matrix_norm(m.ones(2, 2, dtype=m.float16), "nuc"),
    "matrix_norm empty -inf": lambda m: m.linalg.matrix_norm(m.ones(0, 3), -math.inf),
    "matrix_norm empty -2": lambda m: m.linalg.matrix_norm(m.ones(3, 0), -2),
    "linalg.norm 3-D with ord": lambda m: m.linalg.norm(m.ones(2, 2, 2), 2),
    "linalg.norm 3 dims": lambda m: m.linalg.norm(m.ones(2, 2, 2), dim=(0, 1, 2)),
    "linalg.norm 'nuc' of a vector": lambda m: m.linalg.norm(m.ones(3), "nuc"),
    "norm 'nuc' of 3 dims": lambda m: m.norm(m.ones(2, 2, 2), p="nuc"),
    "norm 'fro' over 3 dims": lambda m: m.norm(m.ones(2, 2, 2), p="fro", dim=(0, 1, 2)),
    "norm p='foo'": lambda m: m.norm(_square(m), p="foo"),
    "norm 'nuc' with an int dim": lambda m: m.norm(_square(m), p="nuc", dim=1),
    "cond 1-D": lambda m: m.linalg.cond(m.ones(3)),
    "cond p=3": lambda m: m.linalg.cond(m.ones(3, 4), 3),
    "cond p='foo'": lambda m: m.linalg.cond(_square(m), "foo"),
    "cond non-square p=1": lambda m: m.linalg.cond(m.ones(3, 4), 1),
    "cond int": lambda m: m.linalg.cond(m.ones(2, 2, dtype=m.int64)),
    "matrix_rank 1-D": lambda m: m.linalg.matrix_rank(m.ones(3)),
    "matrix_rank int": lambda m: m.linalg.matrix_rank(m.ones(2, 2, dtype=m.int64)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name) -> None:
    call = ERRORS[name]
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(Exception) as ours:
        call(chainrule)
    expected = type(theirs.value)
    if expected.__name__ == "_LinAlgError":
        expected = chainrule.linalg.LinAlgError
        assert issubclass(expected, RuntimeError)
    assert isinstance(ours.value, expected), (type(ours.value), expected, str(ours.value))
    assert str(ours.value)  # a message, not an empty error


@pytest.mark.parametrize("mode,shape", [("r", (3, 3)), ("r", (2, 4)), ("complete", (4, 3))])
def test_qr_backward_raises_like_torch(mode, shape) -> None:
    a = np.random.default_rng(3).standard_normal(shape)
    messages = []
    for lib in LIBS:
        x = lib.tensor(a, requires_grad=True)
        R = lib.linalg.qr(x, mode=mode).R
        assert R.requires_grad
        with pytest.raises(RuntimeError) as e:
            R.sum().backward()
        messages.append(str(e.value))
    assert messages[0] == messages[1]


# ---- in-place changes of the factors -----------------------------------------------------------
FACTORISATIONS = {
    "eigh": lambda m, a: m.linalg.eigh(a @ a.mT),
    "svd": lambda m, a: m.linalg.svd(a, full_matrices=False),
    "qr": lambda m, a: m.linalg.qr(a),
    "torch.svd": lambda m, a: m.svd(a),
}


@pytest.mark.parametrize("name", list(FACTORISATIONS))
@pytest.mark.parametrize("changed", [0, -1])
def test_inplace_change_of_a_factor_makes_backward_raise(name, changed) -> None:
    """Torch saves every factor, so changing any of them in place (allowed: they are not views)
    makes the decomposition's backward raise; so does chainrule."""
    a = np.random.default_rng(4).standard_normal((3, 3))
    for lib in LIBS:
        x = lib.tensor(a, requires_grad=True)
        outs = FACTORISATIONS[name](lib, x)
        outs[changed].mul_(2)  # not an error in itself
        used = outs[1 if changed == 0 else 0]
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            (used * used).sum().backward()


@pytest.mark.parametrize("name", list(FACTORISATIONS))
@pytest.mark.parametrize("requires_grad", [False, True])
def test_factors_do_not_share_memory(name, requires_grad) -> None:
    a = np.random.default_rng(5).standard_normal((3, 3))
    outs = FACTORISATIONS[name](chainrule, chainrule.tensor(a, requires_grad=requires_grad))
    before = [o.detach().numpy().copy() for o in outs]
    with chainrule.no_grad():
        outs[0].zero_()
    for o, b in zip(outs[1:], before[1:]):
        np.testing.assert_array_equal(o.detach().numpy(), b)


# ---- degenerate inputs -------------------------------------------------------------------------
def _rotated(diagonal, seed=6) -> np.ndarray:
    """``Q diag(d) Q^T`` for a random orthogonal Q: a symmetric matrix with the given spectrum."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((len(diagonal),) * 2))
    return q @ np.diag(diagonal) @ q.T


def test_eigh_at_repeated_eigenvalues_matches_torch() -> None:
    """At a repeated eigenvalue the eigenvectors are any orthonormal basis of its eigenspace (LAPACK
    kernels differ in which one they return), so compare what does not depend on that choice: the
    eigenvalues, the projector onto each eigenspace, the reconstruction and orthonormality; and the
    gradient of a loss of the eigenvalues alone, which stays finite (torch's numbers)."""
    spectrum = [1.0, 1.0, 3.0]
    a = _rotated(spectrum)
    q, _ = np.linalg.qr(np.random.default_rng(6).standard_normal((3, 3)))
    eps = np.finfo(np.float64).eps
    tol = 20 * 3 * eps * max(spectrum)  # backward-error bound of a symmetric eigensolver
    grads = []
    for lib in LIBS:
        x = lib.tensor(a, requires_grad=True)
        L, V = (to_numpy(t) for t in lib.linalg.eigh(x))
        np.testing.assert_allclose(L, spectrum, atol=tol)
        np.testing.assert_allclose(V @ np.diag(L) @ V.T, a, atol=tol)
        np.testing.assert_allclose(V.T @ V, np.eye(3), atol=tol)
        # projectors: V_k V_k^T is the same for every basis of the eigenspace; the eigenspaces are
        # 2 apart, so the projectors' error is the backward error over that gap
        for block in (slice(0, 2), slice(2, 3)):
            np.testing.assert_allclose(V[:, block] @ V[:, block].T, q[:, block] @ q[:, block].T, atol=tol / 2)
        x = lib.tensor(a, requires_grad=True)
        L = lib.linalg.eigh(x).eigenvalues
        grads.append(to_numpy(lib.autograd.grad(L.sum() + (L * L).sum(), x)[0]))
    assert np.all(np.isfinite(grads[0]))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-9, atol=1e-12)


WEIGHTS = np.arange(9.0).reshape(3, 3)


@pytest.mark.parametrize(
    "loss",
    [
        lambda m, L, V: (V @ (L.unsqueeze(-1) * V.mT)).sum(),
        lambda m, L, V: ((V[:, :2] @ V[:, :2].mT) * m.tensor(WEIGHTS)).sum(),
    ],
    ids=["V diag(L) V^T", "projector onto the pair"],
)
def test_eigh_gradients_near_repeated_eigenvalues_match_torch(loss) -> None:
    """Losses invariant under rotations within a near-repeated pair's eigenspace have a smooth
    gradient, but the eigenvector rule reaches it through terms of size 1 / (L_i - L_j): the
    rounding of V^T G V (eps times the loss's weights) divided by the gap. At an exactly repeated
    pair that is 0 / 0, whose rounded value depends on the LAPACK kernel, so no test reads it there."""
    gap = 1e-4
    a = _rotated([1.0, 1.0 + gap, 3.0])
    tol = 64 * np.finfo(np.float64).eps * np.abs(WEIGHTS).max() / gap
    grads = []
    for lib in LIBS:
        x = lib.tensor(a, requires_grad=True)
        grads.append(to_numpy(lib.autograd.grad(loss(lib, *lib.linalg.eigh(x)), x)[0]))
    np.testing.assert_allclose(grads[0], grads[1], rtol=0, atol=tol)
    # the exact gradient: central differences of the (smooth) loss in float64, symmetrised as
    # torch's gradient is; eigh reads the lower triangle, so perturb symmetrically
    h = 1e-6
    numeric = np.zeros((3, 3))
    for i in range(3):
        for j in range(i + 1):
            e = np.zeros((3, 3))
            e[i, j] = e[j, i] = h
            up, down = (
                loss(chainrule, *chainrule.linalg.eigh(chainrule.tensor(a + s * e))).item() for s in (1, -1)
            )
            numeric[i, j] = numeric[j, i] = (up - down) / (2 * h) / (1 if i == j else 2)
    np.testing.assert_allclose(grads[0], numeric, rtol=0, atol=1e-7)


def test_eigvalsh_gradient_at_the_identity() -> None:
    x = chainrule.eye(4, dtype=chainrule.float64, requires_grad=True)
    chainrule.linalg.eigvalsh(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.eye(4), atol=1e-14)


@pytest.mark.parametrize("shape,rank", [((4, 3), 2), ((3, 5), 1), ((4, 4), 3)])
def test_svdvals_of_rank_deficient_matrices(shape, rank) -> None:
    rng = np.random.default_rng(7)
    a = rng.standard_normal((shape[0], rank)) @ rng.standard_normal((rank, shape[1]))
    ours, theirs = [], []
    for lib, out in ((chainrule, ours), (torch, theirs)):
        x = lib.tensor(a, requires_grad=True)
        S = lib.linalg.svdvals(x)
        out.extend([to_numpy(S), to_numpy(lib.autograd.grad(S[:rank].sum(), x)[0])])
    np.testing.assert_allclose(ours[0], theirs[0], atol=1e-12)
    # only the nonzero singular values are weighted: their gradient U_r V_r^T is well defined
    np.testing.assert_allclose(ours[1], theirs[1], atol=1e-10)


def test_svd_vectors_at_a_zero_singular_value_match_torch_nan() -> None:
    a = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    grads = []
    for lib in LIBS:
        x = lib.tensor(a, requires_grad=True)
        U, S, Vh = lib.linalg.svd(x, full_matrices=False)
        grads.append(to_numpy(lib.autograd.grad(U.sum() + S.sum(), x)[0]))
    np.testing.assert_array_equal(np.isnan(grads[0]), np.isnan(grads[1]))


@pytest.mark.parametrize("condition", [1e4, 1e8, 1e12])
def test_ill_conditioned_inputs(condition) -> None:
    """Values of ill-conditioned matrices agree with torch to within the backward-error bound
    (eps times the norm: absolute on the spectrum), and the small singular values' gradients to
    within eps times the condition number."""
    n = 4
    spectrum = np.geomspace(1.0, 1.0 / condition, n)
    sym = _rotated(spectrum)
    q2, _ = np.linalg.qr(np.random.default_rng(8).standard_normal((n, n)))
    general = _rotated(spectrum, seed=9) @ q2
    eps = np.finfo(np.float64).eps
    ours, theirs = both(lambda m, x: m.linalg.eigvalsh(x), sym)
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), rtol=0, atol=20 * n * eps)
    ours, theirs = both(lambda m, x: m.linalg.svdvals(x), general)
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), rtol=0, atol=20 * n * eps)
    for lib_out in both(lambda m, x: m.linalg.qr(x), general):
        Q, R = (to_numpy(t) for t in lib_out)
        np.testing.assert_allclose(Q @ R, general, atol=20 * n * eps)
    grads = []
    for lib in LIBS:
        x = lib.tensor(general, requires_grad=True)
        grads.append(to_numpy(lib.autograd.grad(lib.linalg.svdvals(x)[-1], x)[0]))
    np.testing.assert_allclose(grads[0], grads[1], rtol=0, atol=100 * eps * condition)


def test_eigh_non_finite_input_matches_torch() -> None:
    a = np.array([[math.nan, 1.0], [1.0, 1.0]])
    ours, theirs = both(lambda m, x: m.linalg.eigvalsh(x), a)
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), equal_nan=True)


# ---- factorisation identities for hypothesis-drawn shapes --------------------------------------
def _tolerance(dtype, a: np.ndarray) -> float:
    scale = 1.0 + float(np.abs(a).max(initial=0.0))
    return (1e-4 if dtype == np.float32 else 1e-11) * scale * max(a.shape[-2:], default=1)


def _eye(k: int):
    return np.eye(k)


@SETTINGS
@given(
    shape=matrices(max_side=5, max_batch=2),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**31 - 1),
)
def test_qr_identities(shape, dtype, seed) -> None:
    (shape,) = shape
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    tol = _tolerance(dtype, a)
    m, n = shape[-2:]
    for mode in ("reduced", "complete"):
        Q, R = (t.numpy() for t in chainrule.linalg.qr(chainrule.tensor(a), mode=mode))
        assert Q.dtype == dtype and R.dtype == dtype
        np.testing.assert_allclose(
            Q.swapaxes(-1, -2) @ Q,
            np.broadcast_to(_eye(Q.shape[-1]), Q.shape[:-2] + (Q.shape[-1],) * 2),
            atol=tol,
        )
        np.testing.assert_allclose(Q @ R, a, atol=tol)
        np.testing.assert_array_equal(np.triu(R), R)
        assert Q.shape[-1] == (min(m, n) if mode == "reduced" else m)


@SETTINGS
@given(
    shape=matrices(square=True, max_side=5),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**31 - 1),
)
def test_eigh_identities(shape, dtype, seed) -> None:
    (shape,) = shape
    b = np.random.default_rng(seed).standard_normal(shape)
    a = ((b + b.swapaxes(-1, -2)) / 2).astype(dtype)
    tol = _tolerance(dtype, a)
    L, V = (t.numpy() for t in chainrule.linalg.eigh(chainrule.tensor(a)))
    assert L.dtype == dtype and V.dtype == dtype
    np.testing.assert_allclose(a @ V, V * L[..., None, :], atol=tol)
    np.testing.assert_allclose(V.swapaxes(-1, -2) @ V, np.broadcast_to(_eye(shape[-1]), a.shape), atol=tol)
    assert np.all(np.diff(L, axis=-1) >= 0)  # ascending, as torch
    np.testing.assert_allclose(chainrule.linalg.eigvalsh(chainrule.tensor(a)).numpy(), L, atol=tol)


@SETTINGS
@given(
    shape=matrices(max_side=5),
    dtype=st.sampled_from([np.float32, np.float64]),
    full=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_svd_identities(shape, dtype, full, seed) -> None:
    (shape,) = shape
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    tol = _tolerance(dtype, a)
    x = chainrule.tensor(a)
    U, S, Vh = (t.numpy() for t in chainrule.linalg.svd(x, full_matrices=full))
    k = S.shape[-1]
    assert k == min(shape[-2:]) and U.dtype == S.dtype == Vh.dtype == dtype
    np.testing.assert_allclose((U[..., :k] * S[..., None, :]) @ Vh[..., :k, :], a, atol=tol)
    for W in (U, Vh.swapaxes(-1, -2)):
        np.testing.assert_allclose(
            W.swapaxes(-1, -2) @ W,
            np.broadcast_to(_eye(W.shape[-1]), W.shape[:-2] + (W.shape[-1],) * 2),
            atol=tol,
        )
    assert np.all(np.diff(S, axis=-1) <= 0) and np.all(S >= 0)  # descending, as torch
    np.testing.assert_allclose(chainrule.linalg.svdvals(x).numpy(), S, atol=tol)
    theirs = torch.linalg.svdvals(torch.tensor(a)).numpy()
    np.testing.assert_allclose(S, theirs, atol=tol)


# ---- higher derivatives ------------------------------------------------------------------------
THIRD = {
    "eigh": (lambda m, x: (m.linalg.eigh(_sym(m, x)).eigenvectors ** 4).sum(), (3, 3)),  # even: sign-free
    "eigvalsh": (lambda m, x: (m.linalg.eigvalsh(_sym(m, x)) ** 3).sum(), (3, 3)),
    "svd tall": (lambda m, x: _svd_loss(m, _separated(m, x)), (4, 2)),
    "svd wide": (lambda m, x: _svd_loss(m, _separated(m, x)), (2, 4)),
    "qr tall": (lambda m, x: _qr_loss(m, _separated(m, x)), (4, 3)),
    "qr wide": (lambda m, x: _qr_loss(m, _separated(m, x)), (2, 3)),
}


def _svd_loss(m, x):
    U, S, Vh = m.linalg.svd(x, full_matrices=False)
    return (U**4).sum() + (S**3).sum() + (Vh**4).sum()


def _qr_loss(m, x):
    Q, R = m.linalg.qr(x)
    return (Q**3).sum() + (R**3).sum()


@pytest.mark.parametrize("name", list(THIRD))
def test_third_derivatives_match_torch(name) -> None:
    """Differentiating the derivative rules twice (the rules are written in F, and F.solve_triangular's
    rule again in F)."""
    fn, shape = THIRD[name]
    rng = np.random.default_rng(13)
    a, w1, w2 = (rng.uniform(-1, 1, shape) for _ in range(3))
    results = []
    for lib in LIBS:
        x = lib.tensor(a, requires_grad=True)
        (g1,) = lib.autograd.grad(fn(lib, x), x, create_graph=True)
        (g2,) = lib.autograd.grad((g1 * lib.tensor(w1)).sum(), x, create_graph=True)
        (g3,) = lib.autograd.grad((g2 * lib.tensor(w2)).sum(), x)
        results.append([to_numpy(t) for t in (g1, g2, g3)])
    for o, t in zip(*results):
        np.testing.assert_allclose(o, t, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("shapes", [[(4, 0), (0,)], [(4, 3), (0,)], [(0, 0), (0,)], [(2, 3, 0), (2, 0)]])
def test_householder_product_of_no_reflectors_is_the_identity_in_the_graph(shapes) -> None:
    same_or_same_error(lambda m, a, tau: m.linalg.householder_product(a, tau), shapes)
