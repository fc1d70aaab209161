"""Linear solvers: inv, solve, solve_triangular, and the LinAlgError messages the linalg modules
share (their argument checks: _linalg_common.py; the Cholesky family: linalg_cholesky.py;
determinants: linalg_det.py; pinv and lstsq: linalg_lstsq.py; matrix functions and products:
linalg_matfun.py).

Every derivative rule is written against the math interface ``F`` (autograd/math.py), so the
gradients are differentiable again. The solvers the rules need are added to ``F`` at the end of
this module (``F.inv``, ``F.solve``, ``F.solve_triangular``).

The lecture's rule for a solve, X = A^{-1} B:  dl/dB = A^{-T} dl/dX,  dl/dA = -dl/dB X^T.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from scipy.linalg import blas as _blas
from scipy.linalg import lapack as _lapack

from ..autograd.graph import defop
from ..autograd.math import register
from ..kernels.lapack_reference import getf2, getrs, holds_nonfinite, solve_nonfinite
from ._common import (
    Tensor,
    all_samples,
    any_batched,
    as_tensor,
    make_result,
    map_stacked,
    shape_str,
    wrap,
)
from ._linalg_common import (
    batch_of,
    check_matrices,
    check_out,
    check_same_dtype,
    column_major,
    empty_columns,
    to_columns,
)
from .creation import to
from .shape import squeeze, transpose, unsqueeze

__all__ = ["inverse"]

# torch.return_types.linalg_inv_ex
InvEx = namedtuple("linalg_inv_ex", ["inverse", "info"])


class LinAlgError(RuntimeError):
    """A matrix is singular or not positive definite, or a LAPACK routine did not converge
    (``torch.linalg.LinAlgError``; a RuntimeError, as in torch)."""


# ---- errors shared by the linalg modules ------------------------------------------------------
def batch_prefix(who: str, index: int, batched: bool) -> str:
    return f"{who}: " + (f"(Batch element {index}): " if batched else "")


def first_zero_pivot(a: np.ndarray) -> tuple[int, int]:
    """(batch index, 1-based pivot) of the first matrix whose LU has an exactly zero pivot (under
    vmap, of every sample's matrices, the vmap batch dims counted first)."""
    a = all_samples(a)
    n = a.shape[-1]
    flat = a.reshape(-1, n, n)
    getrf = _lapack.get_lapack_funcs("getrf", (flat,))
    for i, m in enumerate(flat):
        info = getrf(m)[2]
        if info > 0:
            return i, info
    return -1, 0


def singular_error(who: str, a: np.ndarray) -> LinAlgError:
    index, info = first_zero_pivot(a)
    return LinAlgError(
        batch_prefix(who, max(index, 0), a.ndim > 2)
        + f"The diagonal element {max(info, 1)} is zero, the inversion could not be completed "
        "because the input matrix is singular; use linalg.pinv (or linalg.lstsq) for a "
        "least-squares answer"
    )


# ---- inv -----------------------------------------------------------------------------------------
@defop("linalg_inv_ex", saves_out=True, saves_inputs=False, formula="{g0} = -{y}^T {gy} {y}^T")
def _inv(F, g, xs, out, p, needs):
    t = F.mT(out)
    return (-F.matmul(t, F.matmul(g, t)),)


def _inv_array(who: str, a: np.ndarray) -> np.ndarray:
    if a.size == 0:
        return np.empty_like(a)
    try:
        out = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        out, info = _inv_nonfinite(a)  # (None unless a holds an inf or NaN)
        if out is None or info.any():
            raise singular_error(who, a) from None
        return out
    return _inv_checked(a, out)


def _inv_checked(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """NumPy's inverses, with those of matrices holding an inf or NaN redone as torch's MKL does
    them (kernels.lapack_reference; NumPy's can even be finite there)."""
    if not holds_nonfinite(a):
        return out
    eye = np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape)
    return solve_nonfinite(a, eye, out)


def _inv_nonfinite(a: np.ndarray):
    """torch's inverses and infos of a stack that LAPACK (through NumPy) called singular, when
    it holds an inf or NaN (the reference LU has a zero pivot elsewhere, or none); ``(None, None)``
    for a finite stack."""
    if not holds_nonfinite(a):
        return None, None
    n = a.shape[-1]
    lu, pivots, info = getf2(a.reshape(-1, n, n))
    eye = np.broadcast_to(np.eye(n, dtype=a.dtype), lu.shape)
    return getrs(lu, pivots, eye).reshape(a.shape), info.reshape(a.shape[:-2])


def inv(A: Tensor, *, out=None) -> Tensor:
    """The inverse of a square matrix, batched over leading dims (``torch.linalg.inv``).

    Parameters
    ----------
    A : float tensor of shape (..., n, n).

    Returns
    -------
    Tensor of shape (..., n, n). A singular matrix raises ``LinAlgError``.
    """
    check_out("linalg.inv", out)
    A = as_tensor(A, "linalg.inv")
    check_matrices("linalg.inv", A._data)
    return make_result(column_major(_inv_array("linalg.inv", A._data)), _inv, (A,))


inverse = inv


def inv_ex(A: Tensor, *, check_errors: bool = False, out=None):
    """The inverse of square matrices and an error code, without raising (``torch.linalg.inv_ex``).

    Parameters
    ----------
    A : Tensor
        Float32/float64 tensor of shape ``(*, n, n)``.
    check_errors : bool, default False
        Raise ``LinAlgError`` (as :func:`inv`) when a matrix is singular.
    out : None
        Not supported; passing a tensor raises TypeError.

    Returns
    -------
    (inverse, info) : namedtuple ``linalg_inv_ex``
        ``inverse`` of shape ``(*, n, n)`` and int32 ``info`` of shape ``(*)``: 0 for an invertible
        matrix, otherwise the 1-based index of the first exactly zero pivot of its LU factorisation.

    Notes
    -----
    Where ``info > 0`` the inverse is not finite (inf/nan from the singular LU, as torch). The
    gradient is that of :func:`inv`: ``-A^{-T} dl/dY A^{-T}``.
    """
    check_out("linalg.inv_ex", out, "tensors")
    A = as_tensor(A, "linalg.inv_ex")
    a = A._data
    check_matrices("linalg.inv_ex", a)
    try:
        result = _inv_checked(a, np.linalg.inv(a)) if a.size else np.empty_like(a)
        info = np.zeros(a.shape[:-2], dtype=np.int32)
    except np.linalg.LinAlgError:
        result, info = _inv_nonfinite(a)
        if result is None:
            if check_errors:
                raise singular_error("linalg.inv_ex", a) from None
            result, info = _inv_ex_arrays(a)
        elif check_errors and info.any():
            raise singular_error("linalg.inv_ex", a) from None
    return InvEx(make_result(column_major(result), _inv, (A,)), wrap(info))


def _inv_ex_arrays(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The inverses of a stack with a singular matrix, and the infos (0, or the zero pivot)."""
    if any_batched(a):  # vmap: once on the physical batch (the loop runs over every sample)
        return map_stacked(_inv_ex_arrays, (a,), (2,))
    n = a.shape[-1]
    flat = a.reshape(-1, n, n)
    result = np.empty_like(flat)
    info = np.zeros(flat.shape[0], dtype=np.int32)
    getrf, getrs = _lapack.get_lapack_funcs(("getrf", "getrs"), (flat,))
    eye = np.eye(n, dtype=a.dtype)
    for i, m in enumerate(flat):  # a singular LU solved anyway: inf and nan, as torch
        lu, piv, info[i] = getrf(m)
        result[i] = getrs(lu, piv, eye)[0]
    return result.reshape(a.shape), info.reshape(a.shape[:-2])


# ---- solve ---------------------------------------------------------------------------------------
# both gradients read A (and the output), never B: torch saves B for neither, so an in-place
# change of B after the call passes backward
@defop(
    "linalg_solve_ex",
    saves_out=True,
    reads=((0,), (0,)),
    formula=("{g0} = -{x0}^{-T} {gy} {y}^T", "{g1} = {x0}^{-T} {gy}"),
)
def _solve(F, g, xs, out, p, needs):
    gb = F.solve_adjoint(xs[0], g)
    ga = -F.matmul(gb, F.mT(out)) if needs[0] else None
    return ga, (gb if needs[1] else None)


def _solve_matrix(A: Tensor, B: Tensor, who: str = "linalg.solve") -> Tensor:
    """X with A X = B for B of shape (..., n, k); batch dims broadcast."""
    a, b = A._data, B._data
    batch_of(who, a, b)
    try:
        x = np.linalg.solve(a, b)
        if holds_nonfinite(a):  # torch's solutions where A holds an inf or NaN (kernels.lapack_reference)
            batch = x.shape[:-2]
            x = solve_nonfinite(np.broadcast_to(a, batch + a.shape[-2:]), np.broadcast_to(b, x.shape), x)
    except np.linalg.LinAlgError:
        stack = np.broadcast_to(a, np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + a.shape[-2:])
        if holds_nonfinite(a):  # NumPy's zero pivot may be none of torch's (kernels.lapack_reference)
            n = a.shape[-1]
            lu, pivots, info = getf2(stack.reshape(-1, n, n))
            if not info.any():
                rhs = np.broadcast_to(b, stack.shape[:-2] + b.shape[-2:]).reshape(-1, n, b.shape[-1])
                x = getrs(lu, pivots, rhs).reshape(stack.shape[:-2] + b.shape[-2:])
                return make_result(x, _solve, (A, B))
        index, _ = first_zero_pivot(stack)
        raise LinAlgError(
            batch_prefix(who, max(index, 0), a.ndim > 2 or b.ndim > 2)
            + "The solver failed because the input matrix is singular; use linalg.lstsq for a "
            "least-squares solution"
        ) from None
    return make_result(x, _solve, (A, B))


def _shape_error(who: str, a, b, left: bool) -> RuntimeError:
    eq = "AX = B" if left else "XA = B"
    return RuntimeError(
        f"{who}: Incompatible shapes of A and B for the equation {eq} ({a[-2]}x{a[-1]} and "
        f"{b[-2]}x{b[-1]}); B must have {'as many rows' if left else 'as many columns'} as A has "
        "columns"
    )


def solve(A: Tensor, B: Tensor, *, left: bool = True, out=None) -> Tensor:
    """The solution X of ``A X = B`` (``left=True``) or ``X A = B``, batched (``torch.linalg.solve``).

    Parameters
    ----------
    A : float tensor (..., n, n), invertible.
    B : tensor (..., n, k), or a batch of vectors: (n,), or exactly A's batch shape with (n,)
        (torch's rule: ``B.ndim == 1``, or ``B.shape == A.shape[:-1]``). Batch dims broadcast.
    left : solve ``A X = B`` (True) or ``X A = B`` (False).

    Returns
    -------
    Tensor with B's (broadcast) shape. A singular A raises ``LinAlgError``.
    """
    check_out("linalg.solve", out)

    who = "linalg.solve"
    A, B = as_tensor(A, who), as_tensor(B, who)
    a, b = A._data, B._data
    check_matrices(who, a)
    check_same_dtype(who, a, b)
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    if vector:
        B = unsqueeze(B, -1)
    elif b.ndim < 2:
        raise RuntimeError(f"{who}: B must be a vector or a matrix, got shape {shape_str(b.shape)}")
    bs = B._data.shape
    if bs[-2 if left else -1] != a.shape[-1]:
        raise _shape_error(who, a.shape, bs, left)
    if left:
        x = solve_columns(_solve_matrix(A, B, who), vector)
    else:  # X A = B  <=>  A^T X^T = B^T; torch's result is then row-major (the transpose's)
        x = transpose(to_columns(_solve_matrix(transpose(A, -2, -1), transpose(B, -2, -1), who)), -2, -1)
    return squeeze(x, -1) if vector else x


def solve_columns(x: Tensor, vector: bool) -> Tensor:
    """A fresh solution ``x`` (..., n, k) in torch's column-major layout; for a batch of vector
    right-hand sides (``vector``, k = 1) the layout torch gives the squeezed (..., n) result:
    column-major in its last two dims, so ``x`` is laid out to squeeze into that."""
    if not vector or x._data.ndim < 3 or type(x._data) is not np.ndarray:
        return to_columns(x)
    x._data = column_major(x._data[..., 0])[..., None]
    return x


# ---- triangular solve ----------------------------------------------------------------------------
@defop(
    "linalg_solve_triangular",
    saves_out=True,
    formula=("{g0} = -tri({x0}^{-T} {gy} {y}^T)  (the triangle {x0} is read from)", "{g1} = {x0}^{-T} {gy}"),
)
def _solve_triangular(F, g, xs, out, p, needs):
    upper, left, unit = p
    gb = F.solve_triangular(F.mT(xs[0]), g, not upper, left, unit)
    ga = None
    if needs[0]:
        xt = F.mT(out)
        ga = -(F.matmul(gb, xt) if left else F.matmul(xt, gb))
        ga = F.triu(ga, int(unit)) if upper else F.tril(ga, -int(unit))
    return ga, (gb if needs[1] else None)


def triangular_solve_array(
    a: np.ndarray, b: np.ndarray, upper: bool, left: bool = True, unit: bool = False
) -> np.ndarray:
    """A^{-1} B (left) or B A^{-1} with A triangular: BLAS trsm per matrix, reading only A's
    ``upper`` or lower triangle; a zero on the diagonal gives inf/nan, not an error (as torch)."""
    if type(a) is not np.ndarray or type(b) is not np.ndarray:
        return _triangular_solve_numpy(a, b, upper, left, unit)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    out = empty_columns(batch + b.shape[-2:], a.dtype)  # torch's layout, written by trsm directly
    if out.size == 0:
        return out
    trsm = _blas.get_blas_funcs("trsm", (a,))
    a = np.broadcast_to(np.ascontiguousarray(a), batch + a.shape[-2:])
    b = np.broadcast_to(np.ascontiguousarray(b), batch + b.shape[-2:])
    # a C-order matrix is its transpose in Fortran order: solve X^T A^T = B^T (left) or
    # A^T X^T = B^T (right) instead, with no copies; A^T is upper where A is lower
    side = 1 if left else 0
    for idx in np.ndindex(*batch):
        out[idx] = trsm(1.0, a[idx].T, b[idx].T, side=side, lower=int(upper), diag=int(unit)).T
    return out


def _triangular_solve_numpy(a, b, upper: bool, left: bool, unit: bool):
    """The same with NumPy's general solver on the triangle: for vmap's batched arrays, whose
    NumPy calls dispatch (a zero on the diagonal raises here)."""
    t = np.triu(a, int(unit)) if upper else np.tril(a, -int(unit))
    if unit:
        t = t + np.eye(a.shape[-1], dtype=a.dtype)
    if left:
        return np.linalg.solve(t, b)
    return np.swapaxes(np.linalg.solve(np.swapaxes(t, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)


def _solve_triangular_op(
    A: Tensor, B: Tensor, upper: bool, left: bool = True, unitriangular: bool = False
) -> Tensor:
    out = triangular_solve_array(A._data, B._data, upper, left, unitriangular)
    return make_result(out, _solve_triangular, (A, B), (bool(upper), bool(left), bool(unitriangular)))


def solve_triangular(
    A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False, out=None
) -> Tensor:
    """The solution of a triangular system ``A X = B`` or ``X A = B``
    (``torch.linalg.solve_triangular``).

    Parameters
    ----------
    A : Tensor
        Float32/float64 tensor of shape ``(*, n, n)``. Only the triangle named by ``upper`` is read,
        and with ``unitriangular`` its diagonal is taken as ones.
    B : Tensor
        Tensor of shape ``(*, n, k)`` (``left=True``) or ``(*, k, n)`` (``left=False``), at least
        2-D; converted to A's dtype. The batch dims of A and B broadcast.
    upper : bool
        Keyword-only and required: whether A is upper (True) or lower (False) triangular.
    left : bool, default True
        Solve ``A X = B`` (True) or ``X A = B`` (False).
    unitriangular : bool, default False
        Assume ones on A's diagonal (the stored diagonal is not read).
    out : None
        Not supported; passing a tensor raises TypeError.

    Returns
    -------
    Tensor
        ``X``, with the broadcast batch shape and B's matrix shape.

    Notes
    -----
    A zero on the diagonal gives inf/nan rather than an error, as in torch. The gradient with
    respect to A lies in the triangle that is read (strictly inside it with ``unitriangular``):
    ``-tri(dl/dB X^T)`` (``left=True``), with ``dl/dB = A^{-T} dl/dX``.
    """
    check_out("linalg.solve_triangular", out)
    who = "linalg.solve_triangular"
    A, B = as_tensor(A, who), as_tensor(B, who)
    a, b = A._data, B._data
    check_matrices(who, a)
    if b.ndim < 2:
        raise RuntimeError(
            f"{who}: The input tensor B must have at least 2 dimensions, got shape "
            f"{shape_str(b.shape)}; use B.unsqueeze(-1) for a vector"
        )
    if b.dtype != a.dtype:  # torch converts B to A's dtype here
        B = to(B, a.dtype)
    if b.shape[-2 if left else -1] != a.shape[-1]:
        raise _shape_error(who, a.shape, b.shape, left)
    batch_of(who, a, b)
    return _solve_triangular_op(A, B, upper, left, unitriangular)


# ---- the solvers derivative rules call through F -------------------------------------------------
register("inv", np.linalg.inv, inv)
register("solve", np.linalg.solve, _solve_matrix)


def _solve_adjoint_array(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``A^{-T} G`` (solve's backward); where ``A`` holds an inf or NaN, from ``A``'s reference LU
    as torch's ``lu_solve(adjoint=True)`` (kernels.lapack_reference)."""
    x = np.linalg.solve(np.swapaxes(a, -1, -2), g)
    if holds_nonfinite(a):
        batch = x.shape[:-2]
        x = solve_nonfinite(np.broadcast_to(a, batch + a.shape[-2:]), np.broadcast_to(g, x.shape), x, True)
    return x


register("solve_adjoint", _solve_adjoint_array, lambda a, g: _solve_matrix(transpose(a, -2, -1), g))
register("solve_triangular", triangular_solve_array, _solve_triangular_op)
