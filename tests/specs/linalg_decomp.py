"""Spectral decompositions and matrix norms: linalg.eigh/eigvalsh, svd/svdvals, torch.svd, qr,
matrix_norm, norm, nuclear_norm, cond, matrix_rank, diagonal.

Eigenvectors and singular vectors are unique only up to sign, so specs compare sign-invariant
functions of them (``V * V``, ``U[:, :1] * Vh[:1]``, ``V f(L) V^T``, reconstructions). Inputs get
a diagonal ramp (``_sym``, ``_separated``) so that eigenvalues and singular values are separated by
about 3: then every first and second derivative is well defined and far from its poles. Q and R
of QR are compared as they are: NumPy and torch both use LAPACK's Householder QR, same signs.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes
from oracle import Arg, OpSpec

from specs.strategies import fixed

UNIT = Arg(-1.0, 1.0)
GAP = 3.0


def matrices(square: bool = False, max_side: int = 4, max_batch: int = 2):
    """One ``(*batch, m, n)`` argument: up to ``max_batch`` batch dims (sides 1-3)."""
    batch = array_shapes(min_dims=0, max_dims=max_batch, min_side=1, max_side=3)
    side = st.integers(1, max_side)
    return st.tuples(batch, side, side).map(lambda t: (t[0] + ((t[1], t[1]) if square else (t[1], t[2])),))


def _sym(m, a):
    """A symmetric matrix with eigenvalues about GAP apart."""
    n = a.shape[-1]
    return (a + a.mT) / 2 + m.eye(n, dtype=a.dtype) * (m.arange(n, dtype=a.dtype) * GAP)


def _separated(m, a):
    """``a`` plus ``GAP * (1, 2, ..., k)`` on its diagonal: singular values about GAP apart,
    the smallest about GAP from 0."""
    rows, cols = a.shape[-2], a.shape[-1]
    return a + m.eye(rows, cols, dtype=a.dtype) * (m.arange(1, cols + 1, dtype=a.dtype) * GAP)


SQUARE = fixed(((3, 3),), ((4, 4),), ((2, 3, 3),), ((2, 1, 2, 2),), ((1, 1),))
ANY_MATRIX = fixed(
    ((4, 3),), ((3, 4),), ((3, 3),), ((2, 4, 2),), ((2, 2, 5),), ((1, 1),), ((5, 1),), ((1, 4),)
)
TALL = fixed(((4, 3),), ((3, 3),), ((2, 5, 2),), ((4, 1),))
WIDE = fixed(((3, 4),), ((2, 2, 5),), ((1, 3),))


# ---- eigh ----------------------------------------------------------------------------------------
def _eigh_invariants(m, a, UPLO="L"):
    L, V = m.linalg.eigh(_sym(m, a), UPLO=UPLO)
    return L, V * V


def _eigh_function(m, a):
    """``V diag(exp(L / 4)) V^T``: a matrix function, independent of the eigenvector signs."""
    L, V = m.linalg.eigh(_sym(m, a))
    return V @ (m.exp(L / 4).unsqueeze(-1) * V.mT)


def _eigh_one_triangle(m, a):
    """A non-symmetric input: eigh reads one triangle; torch's gradient is the symmetric one."""
    n = a.shape[-1]
    L, V = m.linalg.eigh(a + m.eye(n, dtype=a.dtype) * (m.arange(n, dtype=a.dtype) * GAP), UPLO="U")
    return L, V * V


EIGH_SPECS = [
    OpSpec("linalg.eigh", _eigh_invariants, SQUARE, (UNIT,)),
    OpSpec("linalg.eigh (batches)", _eigh_invariants, matrices(square=True), (UNIT,)),
    OpSpec("linalg.eigh UPLO='U'", lambda m, a: _eigh_invariants(m, a, "U"), SQUARE, (UNIT,)),
    # torch's gradient is the symmetric one, not the derivative of reading one triangle (which
    # finite differences see): matched against torch only
    OpSpec("linalg.eigh of a non-symmetric input", _eigh_one_triangle, SQUARE, (UNIT,), fd=False),
    OpSpec("linalg.eigh V f(L) V^T", _eigh_function, SQUARE, (UNIT,)),
    OpSpec(
        "linalg.eigh eigenvalues only", lambda m, a: m.linalg.eigh(_sym(m, a)).eigenvalues, SQUARE, (UNIT,)
    ),
    OpSpec(
        "linalg.eigh eigenvectors only",
        lambda m, a: m.linalg.eigh(_sym(m, a)).eigenvectors ** 2,
        SQUARE,
        (UNIT,),
    ),
    OpSpec("linalg.eigvalsh", lambda m, a: m.linalg.eigvalsh(_sym(m, a)), SQUARE, (UNIT,)),
    OpSpec(
        "linalg.eigvalsh UPLO='U' (batches)",
        lambda m, a: m.linalg.eigvalsh(_sym(m, a), UPLO="U"),
        matrices(square=True),
        (UNIT,),
    ),
]


# ---- svd -----------------------------------------------------------------------------------------
def _svd_invariants(m, a, full_matrices=False):
    U, S, Vh = m.linalg.svd(_separated(m, a), full_matrices=full_matrices)
    k = S.shape[-1]
    U, Vh = U[..., :k], Vh[..., :k, :]  # full_matrices: the rest is any orthonormal completion
    # U * U and Vh * Vh are sign-invariant column by column; u_1 v_1^T ties the signs together
    return S, U * U, Vh * Vh, U[..., :1] * Vh[..., :1, :], U @ (S.unsqueeze(-1) * Vh)


def _torch_svd(m, a, some=True):
    U, S, V = m.svd(_separated(m, a), some=some)
    k = S.shape[-1]
    return S, U[..., :k] ** 2, V[..., :k] ** 2, U[..., :1] * V[..., :1].mT


SVD_SPECS = [
    OpSpec("linalg.svd", _svd_invariants, ANY_MATRIX, (UNIT,)),
    OpSpec("linalg.svd (batches)", _svd_invariants, matrices(), (UNIT,)),
    OpSpec(
        "linalg.svd full_matrices=True",
        lambda m, a: _svd_invariants(m, a, full_matrices=True),
        ANY_MATRIX,
        (UNIT,),
    ),
    OpSpec(
        "linalg.svd U only", lambda m, a: m.linalg.svd(_separated(m, a), False).U ** 2, ANY_MATRIX, (UNIT,)
    ),
    OpSpec(
        "linalg.svd Vh only", lambda m, a: m.linalg.svd(_separated(m, a), False).Vh ** 2, ANY_MATRIX, (UNIT,)
    ),
    OpSpec("linalg.svd S only", lambda m, a: m.linalg.svd(_separated(m, a)).S, ANY_MATRIX, (UNIT,)),
    OpSpec("linalg.svdvals", lambda m, a: m.linalg.svdvals(_separated(m, a)), ANY_MATRIX, (UNIT,)),
    OpSpec("linalg.svdvals (batches)", lambda m, a: m.linalg.svdvals(_separated(m, a)), matrices(), (UNIT,)),
    OpSpec("svd", _torch_svd, ANY_MATRIX, (UNIT,)),
    OpSpec("svd some=False", lambda m, a: _torch_svd(m, a, some=False), ANY_MATRIX, (UNIT,)),
    # U and V are constant zeros there, which the oracle's finite differences cannot pair with
    # their gradients (S's are checked by the svdvals specs)
    OpSpec(
        "svd compute_uv=False",
        lambda m, a: m.svd(_separated(m, a), compute_uv=False),
        ANY_MATRIX,
        (UNIT,),
        fd=False,
    ),
    OpSpec("Tensor.svd", lambda m, a: _separated(m, a).svd().S, ANY_MATRIX, (UNIT,)),
]


# ---- qr ------------------------------------------------------------------------------------------
def _qr(m, a, mode="reduced"):
    return tuple(m.linalg.qr(_separated(m, a), mode=mode))


QR_SPECS = [
    OpSpec("linalg.qr", _qr, ANY_MATRIX, (UNIT,)),
    OpSpec("linalg.qr (batches)", _qr, matrices(), (UNIT,)),
    OpSpec("linalg.qr Q only", lambda m, a: _qr(m, a)[0], ANY_MATRIX, (UNIT,)),
    OpSpec("linalg.qr R only", lambda m, a: _qr(m, a)[1], ANY_MATRIX, (UNIT,)),
    OpSpec(
        "linalg.qr complete (m <= n)",
        lambda m, a: _qr(m, a, "complete"),
        fixed(((3, 3),), ((3, 5),), ((2, 2, 4),), ((1, 2),)),
        (UNIT,),
    ),
    # not differentiable in torch either (its backward raises): values only
    OpSpec("linalg.qr complete (m > n)", lambda m, a: _qr(m, a, "complete"), TALL, (UNIT,), grad=False),
    OpSpec("linalg.qr mode='r'", lambda m, a: _qr(m, a, "r")[1], ANY_MATRIX, (UNIT,), grad=False),
    OpSpec("qr", lambda m, a: tuple(m.qr(_separated(m, a))), ANY_MATRIX, (UNIT,)),
    OpSpec(
        "qr some=False",
        lambda m, a: tuple(m.qr(_separated(m, a), some=False)),
        fixed(((3, 3),), ((2, 4),)),
        (UNIT,),
    ),
    OpSpec("Tensor.qr", lambda m, a: tuple(_separated(m, a).qr()), ANY_MATRIX, (UNIT,)),
]


# ---- norms ---------------------------------------------------------------------------------------
MATRIX_ORDS = ("fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf)
NORM_SHAPES = fixed(((3, 4),), ((4, 3),), ((2, 3, 3),), ((2, 1, 2, 4),), ((1, 1),))


def _matrix_norm_specs():
    specs = []
    for ord in MATRIX_ORDS:
        specs.append(
            OpSpec(
                f"linalg.matrix_norm ord={ord}",
                lambda m, a, o=ord: m.linalg.matrix_norm(_separated(m, a), o),
                NORM_SHAPES,
                (UNIT,),
            )
        )
        specs.append(
            OpSpec(
                f"linalg.matrix_norm ord={ord} dim=(2, 0) keepdim",
                lambda m, a, o=ord: m.linalg.matrix_norm(
                    _separated(m, a).permute(1, 2, 0), o, dim=(2, 0), keepdim=True
                ),
                fixed(((2, 3, 4),), ((3, 2, 2),)),
                (UNIT,),
            )
        )
    return specs


NORM_SPECS = _matrix_norm_specs() + [
    OpSpec(
        "linalg.matrix_norm dtype=float64",
        lambda m, a: m.linalg.matrix_norm(_separated(m, a), 2, dtype=m.float64),
        fixed(((3, 4),)),
        (UNIT,),
    ),
    OpSpec(
        "linalg.norm (vector, default)",
        lambda m, a: m.linalg.norm(a),
        fixed(((3, 4),), ((2, 3, 4),), ((5,),)),
        (UNIT,),
    ),
    OpSpec(
        "linalg.norm ord=2 of a matrix",
        lambda m, a: m.linalg.norm(_separated(m, a), 2),
        fixed(((3, 4),), ((2, 2),)),
        (UNIT,),
    ),
    OpSpec(
        "linalg.norm ord=-1 of a matrix",
        lambda m, a: m.linalg.norm(_separated(m, a), -1),
        fixed(
            ((3, 4),),
        ),
        (UNIT,),
    ),
    OpSpec(
        "linalg.norm 'nuc'",
        lambda m, a: m.linalg.norm(_separated(m, a), "nuc"),
        fixed(((3, 4),), ((2, 2),)),
        (UNIT,),
    ),
    OpSpec(
        "linalg.norm ord=inf dim=(0, 2)",
        lambda m, a: m.linalg.norm(a, math.inf, dim=(0, 2), keepdim=True),
        fixed(((2, 3, 4),)),
        (UNIT,),
    ),
    OpSpec(
        "linalg.norm ord=3 dim=1 (vector)",
        lambda m, a: m.linalg.norm(a, 3, dim=1),
        fixed(((2, 3, 4),), ((3, 2),)),
        (UNIT,),
    ),
    OpSpec(
        "norm p='nuc'", lambda m, a: m.norm(_separated(m, a), p="nuc"), fixed(((3, 4),), ((2, 2),)), (UNIT,)
    ),
    OpSpec(
        "norm p='nuc' dim=(0, 2)",
        lambda m, a: m.norm(_separated(m, a).permute(1, 2, 0), p="nuc", dim=(2, 0)),
        fixed(((2, 3, 4),)),
        (UNIT,),
    ),
    OpSpec(
        "norm p=2 dim=(0, 1) (a vector norm in torch)",
        lambda m, a: m.norm(a, 2, (0, 1)),
        fixed(((3, 4),), ((2, 3, 4),)),
        (UNIT,),
    ),
    OpSpec(
        "Tensor.norm p='nuc' keepdim",
        lambda m, a: _separated(m, a).norm(p="nuc", dim=(-2, -1), keepdim=True),
        fixed(
            ((2, 3, 4),),
        ),
        (UNIT,),
    ),
    OpSpec(
        "nuclear_norm", lambda m, a: m.nuclear_norm(_separated(m, a)), fixed(((3, 4),), ((2, 3, 3),)), (UNIT,)
    ),
    OpSpec("linalg.cond", lambda m, a: m.linalg.cond(_separated(m, a)), ANY_MATRIX, (UNIT,)),
    OpSpec("linalg.cond p=-2", lambda m, a: m.linalg.cond(_separated(m, a), -2), ANY_MATRIX, (UNIT,)),
    OpSpec("linalg.cond p='nuc'", lambda m, a: m.linalg.cond(_separated(m, a), "nuc"), SQUARE, (UNIT,)),
    OpSpec(
        "linalg.cond p=1, -1, inf, -inf, fro (values)",
        lambda m, a: tuple(m.linalg.cond(_separated(m, a), p) for p in (1, -1, math.inf, -math.inf, "fro")),
        SQUARE,
        (UNIT,),
        grad=False,
    ),
    OpSpec(
        "linalg.matrix_rank (rank 2)",
        lambda m, a, b: m.linalg.matrix_rank(a @ b),
        fixed(((4, 2), (2, 5)), ((2, 3, 2), (2, 3))),
        (UNIT, UNIT),
        grad=False,
    ),
    OpSpec(
        "linalg.matrix_rank hermitian atol",
        lambda m, a: m.linalg.matrix_rank(_sym(m, a), atol=2.5, hermitian=True),
        SQUARE,
        (UNIT,),
        grad=False,
    ),
    OpSpec("linalg.diagonal", lambda m, a: m.linalg.diagonal(a), fixed(((3, 4),), ((2, 3, 3),)), (UNIT,)),
    OpSpec(
        "linalg.diagonal offset dims",
        lambda m, a: m.linalg.diagonal(a, offset=-1, dim1=0, dim2=2),
        fixed(((3, 2, 4),), ((2, 2, 2),)),
        (UNIT,),
    ),
    OpSpec("linalg.matmul", lambda m, a, b: m.linalg.matmul(a, b), fixed(((3, 4), (4, 2))), (UNIT, UNIT)),
]

SPECS = EIGH_SPECS + SVD_SPECS + QR_SPECS + NORM_SPECS
