"""LU and LDL factorisations and what is built on them: ``linalg.lu_factor``/``lu_factor_ex``/
``lu``/``lu_solve``, ``lu_unpack``, ``torch.lu``/``lu_solve``, ``linalg.solve_ex``,
``triangular_solve``, ``linalg.tensorinv``/``tensorsolve``, ``geqrf`` (its products are in
``linalg_householder.py``), ``linalg.ldl_factor``/
``ldl_factor_ex``/``ldl_solve``.

One new derivative rule, the LU factorisation's (``linalg_lu_factor``); the rest compose it with
``tril``/``triu``, triangular solves and matmuls, so their gradients (and second derivatives)
follow. ``geqrf`` and the LDL functions have no gradient in torch either.

The LU rule, for a square ``A = P L U`` and the gradients ``gL``, ``gU`` of the factors (torch's
``linalg_lu_backward``): ``gA = P L^{-T} [tril_{-1}(L^T gL) + triu(gU U^T)] U^{-T}``; for a wide
or tall ``A`` the extra block of ``U`` (or ``L``) is solved for first (see ``_lu_grad``).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from scipy.linalg import lapack as _lapack

from ..autograd.graph import defop
from ..kernels.lapack_reference import getf2
from ._common import (
    Tensor,
    all_samples,
    any_batched,
    any_true,
    as_tensor,
    make_result,
    map_stacked,
    shape_str,
    wrap,
)
from ._linalg_common import (
    check_matrices,
    check_out,
    check_same_dtype,
    column_major,
    empty_columns,
    to_columns,
)
from .creation import clone
from .index import getitem
from .join import tril, triu
from .linalg import matmul
from .linalg_solve import LinAlgError, _solve_triangular_op, solve, solve_columns
from .shape import broadcast_to, flatten, permute, reshape, squeeze, transpose, unsqueeze

__all__ = ["lu", "lu_solve", "lu_unpack", "triangular_solve", "geqrf"]

LUFactor = namedtuple("linalg_lu_factor", ["LU", "pivots"])
LUFactorEx = namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])
LUResult = namedtuple("linalg_lu", ["P", "L", "U"])
LUUnpack = namedtuple("lu_unpack", ["P", "L", "U"])
SolveEx = namedtuple("linalg_solve_ex", ["result", "info"])
TriangularSolve = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])
Geqrf = namedtuple("geqrf", ["a", "tau"])
LDLFactor = namedtuple("linalg_ldl_factor", ["LD", "pivots"])
LDLFactorEx = namedtuple("linalg_ldl_factor_ex", ["LD", "pivots", "info"])


# ---- the factorisation ---------------------------------------------------------------------------
def _permutations(pivots: np.ndarray, m: int) -> np.ndarray:
    """P (..., m, m) with A = P L U from LAPACK's 1-based row swaps (..., k)."""
    if any_batched(pivots):  # vmap: once on the physical batch
        return map_stacked(lambda p: _permutations(p, m), (pivots,), (1,))
    batch = pivots.shape[:-1]
    flat = pivots.reshape((int(np.prod(batch)), pivots.shape[-1]))
    out = np.zeros((flat.shape[0], m, m))
    for b, piv in enumerate(flat):
        perm = np.arange(m)
        for i, p in enumerate(piv - 1):
            perm[i], perm[p] = perm[p], perm[i]
        out[b, perm, np.arange(m)] = 1.0  # (P^T A)[i] = A[perm[i]]
    return out.reshape(batch + (m, m))


def _getrf(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Packed LU (..., m, n), 1-based int32 pivots (..., k) and int32 infos (...)."""
    if any_batched(a):  # vmap: once on the physical batch
        return map_stacked(_getrf, (a,), (2,))
    m, n = a.shape[-2:]
    k = min(m, n)
    flat = a.reshape((int(np.prod(a.shape[:-2])), m, n))
    lu = np.empty_like(flat)
    piv = np.ones((flat.shape[0], k), dtype=np.int32)
    info = np.zeros(flat.shape[0], dtype=np.int32)
    if flat.size:  # (an empty matrix: nothing to factor)
        getrf = _lapack.get_lapack_funcs("getrf", (flat,))
        for i, mat in enumerate(flat):
            if np.isfinite(mat).all():
                lu[i], p, info[i] = getrf(mat)
            else:  # torch's pivots and NaNs where it holds an inf or NaN (kernels.lapack_reference)
                ref, p, inf = getf2(mat[None])
                lu[i], p, info[i] = ref[0], p[0], inf[0]
            piv[i] = p[:k] + 1
    return lu.reshape(a.shape), piv.reshape(a.shape[:-2] + (k,)), info.reshape(a.shape[:-2])


def _factors(F, LU, m: int, n: int):
    """L (..., m, k) with a unit diagonal and U (..., k, n) out of the packed LU."""
    k = min(m, n)
    eye = F.constant(np.eye(m, k, dtype=F.dtype_of(LU)))
    L = F.getitem(F.tril(LU, -1), (Ellipsis, slice(None), slice(0, k))) + eye
    U = F.getitem(F.triu(LU), (Ellipsis, slice(0, k), slice(None)))
    return L, U


def _square_grad(F, L, U, gL, gU):
    """L^{-T} [tril_{-1}(L^T gL) + triu(gU U^T)] U^{-T}: the gradient of P^T A, square case."""
    inner = F.tril(F.matmul(F.mT(L), gL), -1) + F.triu(F.matmul(gU, F.mT(U)))
    left = F.solve_triangular(F.mT(L), inner, True, True, True)
    return F.solve_triangular(F.mT(U), left, False, False, False)


def _stack_rows(F, top, bottom, shape: tuple, k: int):
    """``cat([top, bottom], -2)`` through index_put_zeros (which F has on arrays and tensors)."""
    return F.index_put_zeros(shape, (Ellipsis, slice(0, k), slice(None)), top) + F.index_put_zeros(
        shape, (Ellipsis, slice(k, None), slice(None)), bottom
    )


def _lu_grad(F, g, LU, P, m: int, n: int):
    L, U = _factors(F, LU, m, n)
    k = min(m, n)
    gL = F.getitem(F.tril(g, -1), (Ellipsis, slice(None), slice(0, k)))
    gU = F.getitem(F.triu(g), (Ellipsis, slice(0, k), slice(None)))
    if m == n:
        gPA = _square_grad(F, L, U, gL, gU)
    elif m < n:  # A = P L [U1 U2]: U2 = L^{-1} P^T A2 adds to gL and gives A2 its gradient
        U1, U2 = F.getitem(U, (Ellipsis, slice(0, m))), F.getitem(U, (Ellipsis, slice(m, None)))
        gU1, gU2 = F.getitem(gU, (Ellipsis, slice(0, m))), F.getitem(gU, (Ellipsis, slice(m, None)))
        gA2 = F.solve_triangular(F.mT(L), gU2, True, True, True)
        gA1 = _square_grad(F, L, U1, gL - F.matmul(gA2, F.mT(U2)), gU1)
        shape = tuple(g.shape)
        gPA = F.mT(_stack_rows(F, F.mT(gA1), F.mT(gA2), shape[:-2] + (n, m), m))
    else:  # A = P [L1; L2] U: L2 = A2' U^{-1} adds to gU and gives A2' its gradient
        L1, L2 = (
            F.getitem(L, (Ellipsis, slice(0, n), slice(None))),
            F.getitem(L, (Ellipsis, slice(n, None), slice(None))),
        )
        gL1, gL2 = (
            F.getitem(gL, (Ellipsis, slice(0, n), slice(None))),
            F.getitem(gL, (Ellipsis, slice(n, None), slice(None))),
        )
        gA2 = F.solve_triangular(F.mT(U), gL2, False, False, False)
        gA1 = _square_grad(F, L1, U, gL1, gU - F.matmul(F.mT(L2), gA2))
        gPA = _stack_rows(F, gA1, gA2, tuple(g.shape), n)
    return F.matmul(F.constant(P.astype(F.dtype_of(g), copy=False)), gPA)


@defop(
    "linalg_lu_factor",
    saves_out=True,
    saves_inputs=False,
    formula="{g0} = P L^{-T} [tril_{-1}(L^T gL) + triu(gU U^T)] U^{-T}  (L, U: in {y}; gL, gU: in {gy})",
)
def _lu_factor(F, g, xs, out, p, needs):
    P, m, n = p
    return (_lu_grad(F, g, out, P, m, n),)


def _lu_record(who: str, A, pivot: bool):
    A = as_tensor(A, who)
    a = A._data
    check_matrices(who, a, square=False, kernel="lu_cpu", any_dtype_kernel=True)
    if not pivot:
        raise RuntimeError(f"{who}: LU without pivoting is not implemented on the CPU")
    lu, piv, info = _getrf(a)
    P = _permutations(piv, a.shape[-2])
    return make_result(column_major(lu), _lu_factor, (A,), (P, a.shape[-2], a.shape[-1])), wrap(piv), info


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False, out=None) -> LUFactorEx:
    """The packed LU factorisation with partial pivoting, and LAPACK's info
    (``torch.linalg.lu_factor_ex``).

    Returns
    -------
    (LU, pivots, info)
        ``LU`` (..., m, n) holds L below the diagonal (its unit diagonal not stored) and U on and
        above it; ``pivots`` (..., min(m, n)) int32 1-based row swaps; ``info`` (...) int32, 0 or
        the 1-based index of the first zero on U's diagonal (``check_errors`` raises then).
    """
    check_out("linalg.lu_factor_ex", out, "tensors")
    LU, piv, info = _lu_record("linalg.lu_factor_ex", A, pivot)
    if check_errors and any_true(info > 0):
        worst = int(all_samples(info).max())
        raise LinAlgError(f"linalg.lu_factor_ex: U[{worst},{worst}] is zero (the matrix is singular)")
    return LUFactorEx(LU, piv, wrap(info))


def lu_factor(A: Tensor, *, pivot: bool = True, out=None) -> LUFactor:
    """``(LU, pivots)`` of :func:`lu_factor_ex`; a singular matrix raises, as in torch."""
    check_out("linalg.lu_factor", out, "tensors")
    LU, piv, info = _lu_record("linalg.lu_factor", A, pivot)
    if any_true(info > 0):
        flat = all_samples(info).reshape(-1)
        i = int(flat[flat > 0][0])
        raise LinAlgError(
            f"torch.linalg.lu_factor: U[{i},{i}] is zero and using it on lu_solve would result in a "
            "division by zero. If you still want to perform the factorization, consider calling "
            "linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)"
        )
    return LUFactor(LU, piv)


def lu_unpack(
    LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True, unpack_pivots: bool = True
) -> LUUnpack:
    """``(P, L, U)`` out of a packed LU and its pivots (``torch.lu_unpack``); differentiable with
    respect to ``LU_data``. A part not asked for is an empty tensor."""
    LU, pivots = as_tensor(LU_data, "lu_unpack"), as_tensor(LU_pivots, "lu_unpack")
    check_matrices("lu_unpack", LU._data, "LU_data", square=False)
    if pivots._data.dtype.kind not in "iu":
        raise RuntimeError(
            f"lu_unpack: LU_pivots is expected to be an integer tensor, got {pivots._data.dtype.name}"
        )
    m, n = LU.shape[-2:]
    k = min(m, n)
    if tuple(pivots.shape) != tuple(LU.shape[:-2]) + (k,):
        raise RuntimeError(
            f"lu_unpack: the pivots' shape {shape_str(pivots.shape)} does not match LU_data's "
            f"{shape_str(LU.shape)} (expected {shape_str(tuple(LU.shape[:-2]) + (k,))})"
        )
    empty = wrap(np.empty((0,), dtype=LU._data.dtype))
    if unpack_data:
        L = getitem(tril(LU, -1), (Ellipsis, slice(None), slice(0, k))) + wrap(
            np.eye(m, k, dtype=LU._data.dtype)
        )
        U = getitem(triu(LU), (Ellipsis, slice(0, k), slice(None)))
    else:  # empty, but still of LU's history (as torch's)
        L = U = getitem(flatten(LU), (slice(0, 0),))
    P = wrap(_permutations(pivots._data, m).astype(LU._data.dtype)) if unpack_pivots else empty
    return LUUnpack(P, L, U)


def linalg_lu(A: Tensor, *, pivot: bool = True, out=None) -> LUResult:
    """``A = P L U`` with partial pivoting, as three tensors (``torch.linalg.lu``): ``P``
    (..., m, m), ``L`` (..., m, k) unit lower triangular and ``U`` (..., k, n) upper triangular."""
    check_out("linalg.lu", out, "tensors")
    LU, piv, _ = _lu_record("linalg.lu", A, pivot)
    return LUResult(*lu_unpack(LU, piv))


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False, out=None):
    """``torch.lu``: ``(LU, pivots)``, or ``(LU, pivots, infos)`` with ``get_infos`` (which
    also keeps a singular matrix from raising)."""
    if get_infos:
        return tuple(lu_factor_ex(A, pivot=pivot, out=out))
    return tuple(lu_factor(A, pivot=pivot, out=out))


# ---- solves with the factors ---------------------------------------------------------------------
def _lu_solve(who: str, LU: Tensor, pivots: Tensor, B: Tensor, left: bool, adjoint: bool) -> Tensor:
    check_matrices(who, LU._data, "LU")
    if B._data.ndim < 2:
        raise RuntimeError(f"{who}: B must have at least 2 dimensions, got shape {shape_str(B.shape)}")
    check_same_dtype(who, LU._data, B._data, ("LU", "B"))
    n = LU.shape[-1]
    if B.shape[-2 if left else -1] != n:
        raise RuntimeError(
            f"{who}: Incompatible shapes of A and B for the equation {'AX = B' if left else 'XA = B'} "
            f"({n}x{n} and {B.shape[-2]}x{B.shape[-1]})"
        )
    P, L, U = lu_unpack(LU, pivots)
    Pt = transpose(P, -2, -1)
    if left and not adjoint:  # U^{-1} L^{-1} P^T B
        return _solve_triangular_op(U, _solve_triangular_op(L, matmul(Pt, B), False, True, True), True, True)
    if left:  # A^{-T} B = P L^{-T} U^{-T} B
        y = _solve_triangular_op(transpose(U, -2, -1), B, False, True)
        return to_columns(matmul(P, _solve_triangular_op(transpose(L, -2, -1), y, True, True, True)))
    if not adjoint:  # B A^{-1} = B U^{-1} L^{-1} P^T
        y = _solve_triangular_op(U, B, True, False)
        return matmul(_solve_triangular_op(L, y, False, False, True), Pt)
    y = matmul(B, P)  # B A^{-T} = B P L^{-T} U^{-T}
    return _solve_triangular_op(
        transpose(U, -2, -1), _solve_triangular_op(transpose(L, -2, -1), y, True, False, True), False, False
    )


def linalg_lu_solve(
    LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False, out=None
) -> Tensor:
    """The solution of ``A X = B`` (or ``X A = B`` with ``left=False``; ``A^T`` for ``A`` with
    ``adjoint``) given ``A``'s :func:`lu_factor` (``torch.linalg.lu_solve``)."""
    check_out("linalg.lu_solve", out)
    who = "linalg.lu_solve"
    return _lu_solve(who, as_tensor(LU, who), as_tensor(pivots, who), as_tensor(B, who), left, adjoint)


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor, *, out=None) -> Tensor:
    """``torch.lu_solve(b, LU_data, LU_pivots)``: :func:`linalg_lu_solve` with the arguments in
    the old order."""
    check_out("lu_solve", out)
    return _lu_solve(
        "lu_solve",
        as_tensor(LU_data, "lu_solve"),
        as_tensor(LU_pivots, "lu_solve"),
        as_tensor(b, "lu_solve"),
        True,
        False,
    )


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False, out=None) -> SolveEx:
    """``linalg.solve`` that reports singular matrices in ``info`` instead of raising
    (``torch.linalg.solve_ex``): ``info`` is 0, or the 1-based index of the first zero pivot, and
    the result is then LAPACK's inf/nan."""
    check_out("linalg.solve_ex", out, "tensors")
    who = "linalg.solve_ex"
    A, B = as_tensor(A, who), as_tensor(B, who)
    check_matrices(who, A._data)
    info = _getrf(A._data)[2]
    if not any_true(info > 0):
        return SolveEx(solve(A, B, left=left), wrap(info))
    if check_errors:
        raise LinAlgError(f"{who}: The solver failed because the input matrix is singular.")
    check_same_dtype(who, A._data, B._data)
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    Bm = unsqueeze(B, -1) if vector else B
    if not left:
        Bm = transpose(Bm, -2, -1) if not vector else Bm
    lu_, piv, _ = _lu_record(who, A if left else transpose(A, -2, -1), True)
    x = _lu_solve(who, lu_, piv, Bm, True, False)
    if left:  # torch's layouts, as solve's
        x = solve_columns(x, vector)
    else:
        x = to_columns(x)
    if not left and not vector:
        x = transpose(x, -2, -1)
    return SolveEx(squeeze(x, -1) if vector else x, wrap(info))


def triangular_solve(
    b: Tensor,
    A: Tensor,
    upper: bool = True,
    transpose: bool = False,
    unitriangular: bool = False,
    *,
    out=None,
) -> TriangularSolve:
    """``torch.triangular_solve`` (deprecated in torch): the solution of ``A X = b`` (``A^T X = b``
    with ``transpose``) for triangular ``A``, and a copy of ``A``."""
    check_out("triangular_solve", out, "tensors")
    b, A = as_tensor(b, "triangular_solve"), as_tensor(A, "triangular_solve")
    check_matrices("triangular_solve", A._data)
    if b._data.ndim < 2:
        raise RuntimeError(
            f"triangular_solve: b must have at least 2 dimensions, got shape {shape_str(b.shape)}"
        )
    check_same_dtype("triangular_solve", b._data, A._data, ("b", "A"))
    if b.shape[-2] != A.shape[-1]:
        raise RuntimeError(
            f"triangular_solve: Incompatible matrix sizes for A ({A.shape[-2]}x{A.shape[-1]}) and b "
            f"({b.shape[-2]}x{b.shape[-1]})"
        )
    coef = _t(A) if transpose else A
    solution = _solve_triangular_op(coef, b, upper != transpose, True, unitriangular)
    batch = np.broadcast_shapes(tuple(A.shape[:-2]), tuple(b.shape[:-2]))
    # torch's copy of A is column-major too
    return TriangularSolve(solution, to_columns(clone(broadcast_to(A, batch + tuple(A.shape[-2:])))))


def _t(x: Tensor) -> Tensor:
    return permute(x, tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2))


# ---- tensor inverses and solves ------------------------------------------------------------------
def tensorinv(A: Tensor, ind: int = 2, *, out=None) -> Tensor:
    """The inverse of ``A`` seen as a matrix with ``prod(A.shape[:ind])`` rows
    (``torch.linalg.tensorinv``): shape ``A.shape[ind:] + A.shape[:ind]``."""
    from .linalg_solve import inv

    check_out("linalg.tensorinv", out)
    A = as_tensor(A, "linalg.tensorinv")
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = A.shape[:ind], A.shape[ind:]
    r, c = int(np.prod(rows)), int(np.prod(cols))
    if r != c:
        raise RuntimeError(
            f"Expected self to satisfy the requirement prod(self.shape[ind:]) == prod(self.shape[:ind]), "
            f"but got {c} != {r}"
        )
    return reshape(inv(reshape(A, (r, c))), tuple(cols) + tuple(rows))


def tensorsolve(A: Tensor, B: Tensor, dims=None, *, out=None) -> Tensor:
    """X with ``tensordot(A, X, X.ndim) == B`` (``torch.linalg.tensorsolve``); ``dims`` moves
    those dims of ``A`` to the end first."""
    check_out("linalg.tensorsolve", out)
    A, B = as_tensor(A, "linalg.tensorsolve"), as_tensor(B, "linalg.tensorsolve")
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        A = permute(A, [d for d in range(A.ndim) if d not in dims] + dims)
    rest = A.shape[B.ndim :]
    r, c = int(np.prod(B.shape)), int(np.prod(rest))
    if r != c:
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
            f"prod(self.shape[:other.ndim]), but got {c} != {r}"
        )
    return reshape(solve(reshape(A, (r, c)), reshape(B, (r,))), tuple(rest))


# ---- Householder QR (its products: ops/linalg_householder.py) --------------------------------
def geqrf(input: Tensor, *, out=None) -> Geqrf:
    """LAPACK's QR in Householder form (``torch.geqrf``): ``a`` holds R on and above the diagonal
    and the reflectors' vectors below it, ``tau`` their scales. Not differentiable (as in torch)."""
    check_out("geqrf", out, "tensors")
    input = as_tensor(input, "geqrf")
    a = input._data
    check_matrices("geqrf", a, "input", square=False)
    m, n = a.shape[-2:]
    flat = a.reshape((int(np.prod(a.shape[:-2])), m, n))
    qr = empty_columns(flat.shape, a.dtype)  # LAPACK's layout, as torch's
    tau = np.zeros((flat.shape[0], min(m, n)), dtype=a.dtype)
    if flat.size:
        fn = _lapack.get_lapack_funcs("geqrf", (flat,))
        for i, mat in enumerate(flat):
            qr[i], tau[i] = fn(mat)[:2]
    return Geqrf(wrap(qr.reshape(a.shape)), wrap(tau.reshape(a.shape[:-2] + (min(m, n),))))


# ---- LDL (symmetric indefinite) ------------------------------------------------------------------
def _sytrf(who: str, A, hermitian: bool):
    A = as_tensor(A, who)
    a = A._data
    check_matrices(who, a)
    n = a.shape[-1]
    flat = a.reshape((int(np.prod(a.shape[:-2])), n, n))
    ld = empty_columns(flat.shape, a.dtype)  # LAPACK's layout, as torch's
    piv = np.zeros((flat.shape[0], n), dtype=np.int32)
    info = np.zeros(flat.shape[0], dtype=np.int32)
    if flat.size:
        fn = _lapack.get_lapack_funcs("sytrf", (flat,))
        for i, mat in enumerate(flat):
            f, p, info[i] = fn(mat, lower=1)
            ld[i], piv[i] = np.tril(f), p
    return wrap(ld.reshape(a.shape)), wrap(piv.reshape(a.shape[:-1])), info.reshape(a.shape[:-2])


def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False, out=None) -> LDLFactorEx:
    """The LDL^T factorisation of symmetric matrices (LAPACK's sytrf, lower triangle)
    (``torch.linalg.ldl_factor_ex``): ``LD`` (L below the diagonal, the blocks of D on it),
    LAPACK's ``pivots`` (negative for 2 x 2 blocks) and ``info``. Not differentiable (as torch)."""
    check_out("linalg.ldl_factor_ex", out, "tensors")
    LD, piv, info = _sytrf("linalg.ldl_factor_ex", A, hermitian)
    if check_errors and info.size and info.max() > 0:
        raise LinAlgError(
            "linalg.ldl_factor_ex: The factorization could not be completed because the input is "
            f"singular (info {info.max()})"
        )
    return LDLFactorEx(LD, piv, wrap(info))


def ldl_factor(A: Tensor, *, hermitian: bool = False, out=None) -> LDLFactor:
    """``(LD, pivots)`` of :func:`ldl_factor_ex`."""
    check_out("linalg.ldl_factor", out, "tensors")
    LD, piv, _ = _sytrf("linalg.ldl_factor", A, hermitian)
    return LDLFactor(LD, piv)


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False, out=None) -> Tensor:
    """The solution of ``A X = B`` from ``A``'s :func:`ldl_factor` (``torch.linalg.ldl_solve``)."""
    check_out("linalg.ldl_solve", out)
    who = "linalg.ldl_solve"
    LD, pivots, B = as_tensor(LD, who), as_tensor(pivots, who), as_tensor(B, who)
    ld, piv, b = LD._data, pivots._data, B._data
    check_matrices(who, ld, "LD")
    if b.ndim < 2:
        raise RuntimeError(f"{who}: B must have at least 2 dimensions, got shape {shape_str(b.shape)}")
    check_same_dtype(who, ld, b, ("LD", "B"))
    n = ld.shape[-1]
    batch = np.broadcast_shapes(ld.shape[:-2], b.shape[:-2])
    count = int(np.prod(batch))
    ldb = np.broadcast_to(ld, batch + (n, n)).reshape((count, n, n))
    pb = np.broadcast_to(piv, batch + (n,)).reshape((count, n))
    bb = np.broadcast_to(b, batch + b.shape[-2:]).reshape((count,) + b.shape[-2:])
    x = empty_columns(bb.shape, bb.dtype)  # LAPACK's layout, as torch's
    if x.size:
        fn = _lapack.get_lapack_funcs("sytrs", (ldb,))
        for i in range(x.shape[0]):
            x[i] = fn(ldb[i], pb[i], bb[i], lower=1)[0]
    return wrap(x.reshape(batch + b.shape[-2:]))
