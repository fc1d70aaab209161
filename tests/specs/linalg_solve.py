"""Factorisation-based linear algebra: det, slogdet, logdet, inv, solve, solve_triangular, the
Cholesky family, lstsq, pinv, matrix_exp, matrix_power, cross, multi_dot, vecdot.

Inputs are uniform in [-2, 2]; the structure an op needs is built inside ``fn`` with ops both
libraries share, so that gradients flow through it the same way in both: well-conditioned
``a + n I``, symmetric positive definite ``a a^T + n I``, triangular ``tril(a) + n I``.
Batch shapes are drawn with hypothesis.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes
from oracle import Arg, OpSpec

from specs.strategies import fixed

A2 = (Arg(), Arg())
A3 = (Arg(), Arg(), Arg())


# ---- shapes --------------------------------------------------------------------------------------
def square(max_n: int = 4, max_batch_dims: int = 2, min_n: int = 1):
    """One argument: a batch (0 to ``max_batch_dims`` dims) of n x n matrices."""
    return st.tuples(
        array_shapes(min_dims=0, max_dims=max_batch_dims, min_side=1, max_side=3), st.integers(min_n, max_n)
    ).map(lambda t: (t[0] + (t[1], t[1]),))


def square_and_rhs(max_n: int = 4, max_k: int = 3):
    """(A, B): n x n matrices and n x k right-hand sides with broadcasting batch dims."""
    return st.tuples(
        mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, min_side=1, max_side=3),
        st.integers(1, max_n),
        st.integers(1, max_k),
    ).map(lambda t: (t[0].input_shapes[0] + (t[1], t[1]), t[0].input_shapes[1] + (t[1], t[2])))


def rectangular(min_m: int = 1, max_m: int = 5, min_n: int = 1, max_n: int = 5):
    """One argument: a batch of m x n matrices (tall, wide or square)."""
    return st.tuples(
        array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3),
        st.integers(min_m, max_m),
        st.integers(min_n, max_n),
    ).map(lambda t: (t[0] + (t[1], t[2]),))


def _same_ndim(batches) -> tuple:
    """Broadcastable batch shapes padded with 1s to one length (lstsq does not add dims)."""
    n = max(len(b) for b in batches)
    return tuple((1,) * (n - len(b)) + b for b in batches)


def tall_and_rhs():
    """(A, B) for least squares: A m x n with m >= n (full column rank a.s.), B m x k."""
    return st.tuples(
        mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, min_side=1, max_side=2),
        st.integers(1, 3),
        st.integers(0, 3),
        st.integers(1, 2),
    ).map(
        lambda t: tuple(
            batch + shape
            for batch, shape in zip(_same_ndim(t[0].input_shapes), ((t[1] + t[2], t[1]), (t[1] + t[2], t[3])))
        )
    )


# ---- structured inputs, built the same way in both libraries -------------------------------------
def eye_like(m, a):
    return m.eye(a.shape[-1], dtype=a.dtype)


def well_conditioned(m, a):
    return a + a.shape[-1] * eye_like(m, a)


def spd(m, a):
    return a @ a.mT + a.shape[-1] * eye_like(m, a)


def lower(m, a):
    return a.tril() + a.shape[-1] * eye_like(m, a)


def upper(m, a):
    return a.triu() + a.shape[-1] * eye_like(m, a)


def indefinite(m, a):
    """Symmetric with eigenvalues of both signs, all of magnitude >= n (Weyl: |(a + a^T)/4| <= n)."""
    n = a.shape[-1]
    d = 2 * n * eye_like(m, a)
    d[0, 0] = -2 * n
    return (a + a.mT) / 4 + d


def _power(n):
    return OpSpec(
        f"linalg.matrix_power n={n}",
        lambda m, a, _n=n: m.linalg.matrix_power(well_conditioned(m, a) if _n < 0 else a, _n),
        square(3),
        (Arg(-1, 1),),
    )


SPECS = [
    # determinants: one LU forward, its factors reused by the backward
    OpSpec("linalg.det", lambda m, a: m.linalg.det(a), square()),
    OpSpec("det", lambda m, a: m.det(a), fixed(((3, 3),), ((2, 1, 1),))),
    OpSpec("Tensor.det", lambda m, a: a.det(), fixed(((2, 3, 3),))),
    OpSpec(
        "linalg.det of 32x32 matrices (batched LAPACK path)",
        lambda m, a: m.linalg.det(a / 8 + eye_like(m, a)),
        fixed(((2, 32, 32),)),
        fd=False,
    ),
    # float64 only: in float32 the determinant of a singular matrix is rounding noise (~n eps32 |A|^n)
    # that differs between LAPACK kernels, not a value to compare
    OpSpec(
        "linalg.det of a singular matrix (rank n-1): the cofactors",
        lambda m, a, b: m.linalg.det(a @ b),
        fixed(((3, 2), (2, 3)), ((4, 3), (3, 4))),
        A2,
        float32=False,
    ),
    OpSpec("linalg.slogdet", lambda m, a: m.linalg.slogdet(a), square()),
    OpSpec("slogdet", lambda m, a: m.slogdet(well_conditioned(m, a)), fixed(((3, 3),))),
    OpSpec("Tensor.slogdet", lambda m, a: a.slogdet(), fixed(((2, 3, 3),))),
    OpSpec(
        "linalg.slogdet of 32x32 matrices (batched LAPACK path)",
        lambda m, a: m.linalg.slogdet(a / 8 + eye_like(m, a)),
        fixed(((2, 32, 32),)),
        fd=False,
    ),
    OpSpec("logdet of SPD matrices", lambda m, a: m.logdet(spd(m, a)), square()),
    # from 96 x 96 symmetric positive-definite matrices factor by Cholesky (NumPy's OpenBLAS), and
    # from 192 x 192 the others' inverse comes from BLAS-3 products on the LU (kernels/lu_inverse.py)
    OpSpec(
        "logdet of a 100x100 SPD matrix (Cholesky)",
        lambda m, a: m.logdet(spd(m, a) / 100),
        fixed(((100, 100),)),
        fd=False,
    ),
    OpSpec(
        "linalg.det of a 100x100 SPD matrix (Cholesky)",
        lambda m, a: m.linalg.det(spd(m, a) / 100),
        fixed(((100, 100),)),
        fd=False,
    ),
    OpSpec(
        "linalg.slogdet of a 200x200 matrix (inverse from products)",
        lambda m, a: m.linalg.slogdet(a / 30 + eye_like(m, a)),
        fixed(((200, 200),)),
        fd=False,
    ),
    OpSpec("logdet (nan where det < 0)", lambda m, a: m.logdet(a), square(3), fd=False),
    OpSpec("Tensor.logdet", lambda m, a: spd(m, a).logdet(), fixed(((3, 3),))),
    # inverses and solves
    OpSpec("linalg.inv", lambda m, a: m.linalg.inv(well_conditioned(m, a)), square()),
    OpSpec("inverse", lambda m, a: m.inverse(well_conditioned(m, a)), fixed(((3, 3),))),
    OpSpec("Tensor.inverse", lambda m, a: well_conditioned(m, a).inverse(), fixed(((2, 3, 3),))),
    OpSpec(
        "linalg.inv_ex", lambda m, a: m.linalg.inv_ex(well_conditioned(m, a)), fixed(((3, 3),), ((2, 2, 2),))
    ),
    OpSpec("linalg.solve", lambda m, a, b: m.linalg.solve(well_conditioned(m, a), b), square_and_rhs(), A2),
    OpSpec(
        "linalg.solve, B a vector",
        lambda m, a, b: m.linalg.solve(well_conditioned(m, a), b),
        fixed(((3, 3), (3,)), ((2, 3, 3), (3,)), ((2, 3, 3), (2, 3)), ((2, 1, 3, 3), (2, 1, 3))),
        A2,
    ),
    OpSpec(
        "linalg.solve left=False",
        lambda m, a, b: m.linalg.solve(well_conditioned(m, a), b, left=False),
        fixed(((3, 3), (2, 3)), ((2, 3, 3), (4, 3)), ((3, 3), (2, 1, 3))),
        A2,
    ),
    OpSpec(
        "linalg.solve (only A needs grad)",
        lambda m, a, b: m.linalg.solve(well_conditioned(m, a), b),
        fixed(((3, 3), (3, 2))),
        (Arg(), Arg(grad=False)),
    ),
    OpSpec(
        "linalg.solve_triangular upper",
        lambda m, a, b: m.linalg.solve_triangular(well_conditioned(m, a), b, upper=True),
        square_and_rhs(),
        A2,
    ),
    OpSpec(
        "linalg.solve_triangular lower",
        lambda m, a, b: m.linalg.solve_triangular(well_conditioned(m, a), b, upper=False),
        square_and_rhs(),
        A2,
    ),
    OpSpec(
        "linalg.solve_triangular left=False",
        lambda m, a, b: m.linalg.solve_triangular(well_conditioned(m, a), b, upper=False, left=False),
        fixed(((3, 3), (2, 3)), ((2, 3, 3), (1, 4, 3))),
        A2,
    ),
    OpSpec(
        "linalg.solve_triangular unitriangular",
        lambda m, a, b: m.linalg.solve_triangular(a / 4, b, upper=True, unitriangular=True),
        fixed(((3, 3), (3, 2)), ((2, 4, 4), (4, 1))),
        A2,
    ),
    OpSpec(
        "linalg.solve_triangular unitriangular left=False",
        lambda m, a, b: m.linalg.solve_triangular(a / 4, b, upper=False, left=False, unitriangular=True),
        fixed(((3, 3), (2, 3))),
        A2,
    ),
    # Cholesky
    OpSpec("linalg.cholesky", lambda m, a: m.linalg.cholesky(spd(m, a)), square()),
    OpSpec("linalg.cholesky upper", lambda m, a: m.linalg.cholesky(spd(m, a), upper=True), square()),
    # the forward ignores b (above the diagonal), yet torch's gradient is the symmetric one, so it
    # reaches b: it is not the derivative of the function computed (no finite differences)
    OpSpec(
        "linalg.cholesky reads the lower triangle only",
        lambda m, a, b: m.linalg.cholesky(spd(m, a) + b.triu(1)),
        fixed(((3, 3), (3, 3))),
        A2,
        fd=False,
    ),
    OpSpec(
        "linalg.cholesky_ex", lambda m, a: m.linalg.cholesky_ex(spd(m, a)), fixed(((3, 3),), ((2, 2, 2),))
    ),
    OpSpec("Tensor.cholesky", lambda m, a: spd(m, a).cholesky(), fixed(((3, 3),))),
    OpSpec(
        "cholesky_solve",
        lambda m, b, l: m.cholesky_solve(b, lower(m, l)),
        st.tuples(square_and_rhs()).map(lambda t: (t[0][1], t[0][0])),
        A2,
    ),
    OpSpec(
        "cholesky_solve upper",
        lambda m, b, l: m.cholesky_solve(b, upper(m, l), upper=True),
        fixed(((3, 2), (3, 3)), ((2, 3, 1), (3, 3)), ((3, 2), (2, 3, 3))),
        A2,
    ),
    OpSpec(
        "cholesky_solve, L with a full matrix (only its triangle is read; torch's gradient "
        "is the full matrix, so no finite differences)",
        lambda m, b, l: m.cholesky_solve(b, well_conditioned(m, l)),
        fixed(((3, 2), (3, 3))),
        A2,
        fd=False,
    ),
    OpSpec(
        "Tensor.cholesky_solve", lambda m, b, l: b.cholesky_solve(lower(m, l)), fixed(((3, 2), (3, 3))), A2
    ),
    OpSpec("cholesky_inverse", lambda m, l: m.cholesky_inverse(lower(m, l)), square()),
    OpSpec("cholesky_inverse upper", lambda m, l: m.cholesky_inverse(upper(m, l), upper=True), square(3)),
    OpSpec("Tensor.cholesky_inverse", lambda m, l: lower(m, l).cholesky_inverse(), fixed(((3, 3),))),
    # least squares and the pseudo-inverse
    OpSpec("linalg.lstsq", lambda m, a, b: m.linalg.lstsq(a, b).solution, tall_and_rhs(), A2),
    OpSpec(
        "linalg.lstsq, B a vector",
        lambda m, a, b: m.linalg.lstsq(a, b).solution,
        fixed(((5, 3), (5,)), ((2, 4, 2), (2, 4))),
        A2,
    ),
    OpSpec(
        "linalg.lstsq underdetermined (minimum norm)",
        lambda m, a, b: m.linalg.lstsq(a, b).solution,
        fixed(((2, 4), (2, 3)), ((2, 3, 5), (1, 3, 1))),
        A2,
    ),
    OpSpec(
        "linalg.lstsq gelsd: residuals, rank, singular values",
        lambda m, a, b: m.linalg.lstsq(a, b, driver="gelsd"),
        fixed(((5, 3), (5, 2)), ((2, 4, 2), (1, 4, 1))),
        A2,
    ),
    OpSpec(
        "linalg.lstsq gelss",
        lambda m, a, b: m.linalg.lstsq(a, b, driver="gelss")[:3],
        fixed(((5, 3), (5, 2))),
        A2,
    ),
    OpSpec(
        "linalg.lstsq gels",
        lambda m, a, b: m.linalg.lstsq(a, b, driver="gels")[:2],
        fixed(((5, 3), (5, 2))),
        A2,
    ),
    OpSpec("linalg.pinv", lambda m, a: m.linalg.pinv(a), rectangular()),
    OpSpec("linalg.pinv hermitian", lambda m, a: m.linalg.pinv(indefinite(m, a), hermitian=True), square(3)),
    OpSpec(
        "linalg.pinv atol, rtol",
        lambda m, a: m.linalg.pinv(a, atol=1e-3, rtol=1e-4),
        fixed(((4, 2),), ((2, 5),)),
    ),
    OpSpec("pinverse", lambda m, a: m.pinverse(a), fixed(((4, 3),), ((2, 2, 5),))),
    OpSpec("Tensor.pinverse", lambda m, a: a.pinverse(rcond=1e-10), fixed(((3, 2),))),
    # matrix functions
    OpSpec("linalg.matrix_exp", lambda m, a: m.linalg.matrix_exp(a), square(), (Arg(-1, 1),)),
    OpSpec("matrix_exp", lambda m, a: m.matrix_exp(a), fixed(((3, 3),)), (Arg(-1, 1),)),
    OpSpec("Tensor.matrix_exp", lambda m, a: a.matrix_exp(), fixed(((2, 2, 2),)), (Arg(-1, 1),)),
    *[_power(n) for n in (0, 1, 2, 3, 6, -1, -2)],
    OpSpec("matrix_power", lambda m, a: m.matrix_power(a, 5), fixed(((3, 3),)), (Arg(-1, 1),)),
    OpSpec("Tensor.matrix_power", lambda m, a: a.matrix_power(4), fixed(((2, 3, 3),)), (Arg(-1, 1),)),
    # products
    OpSpec(
        "linalg.cross",
        lambda m, a, b: m.linalg.cross(a, b),
        fixed(((3,), (3,)), ((4, 3), (4, 3)), ((4, 3), (1, 3)), ((2, 1, 3), (1, 5, 3))),
        A2,
    ),
    OpSpec(
        "linalg.cross dim=0",
        lambda m, a, b: m.linalg.cross(a, b, dim=0),
        fixed(((3, 4), (3, 1)), ((3, 2, 2), (3, 2, 2))),
        A2,
    ),
    OpSpec("cross dim=1", lambda m, a, b: m.cross(a, b, dim=1), fixed(((2, 3), (2, 3))), A2),
    OpSpec("Tensor.cross", lambda m, a, b: a.cross(b, dim=-1), fixed(((5, 3), (5, 3))), A2),
    OpSpec(
        "linalg.multi_dot",
        lambda m, a, b, c: m.linalg.multi_dot([a, b, c]),
        fixed(
            ((2, 3), (3, 4), (4, 5)),
            ((5, 1), (1, 4), (4, 2)),
            ((3,), (3, 4), (4,)),
            ((3,), (3, 4), (4, 2)),
            ((2, 3), (3, 4), (4,)),
        ),
        A3,
    ),
    OpSpec(
        "linalg.multi_dot of two",
        lambda m, a, b: m.linalg.multi_dot([a, b]),
        fixed(((3,), (3, 2)), ((3,), (3,)), ((2, 3), (3, 4))),
        A2,
    ),
    OpSpec(
        "linalg.multi_dot of four",
        lambda m, a, b, c, d: m.linalg.multi_dot([a, b, c, d]),
        fixed(((6, 2), (2, 5), (5, 1), (1, 4))),
        (Arg(), Arg(), Arg(), Arg()),
    ),
    OpSpec(
        "linalg.vecdot",
        lambda m, a, b: m.linalg.vecdot(a, b),
        fixed(((4, 3), (3,)), ((2, 1, 3), (4, 3)), ((3,), (3,))),
        A2,
    ),
    OpSpec("linalg.vecdot dim=0", lambda m, a, b: m.linalg.vecdot(a, b, dim=0), fixed(((4, 3), (4, 1))), A2),
]
