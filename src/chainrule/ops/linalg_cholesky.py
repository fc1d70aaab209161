"""The Cholesky family: linalg.cholesky (and cholesky_ex, the deprecated top-level cholesky),
cholesky_solve and cholesky_inverse, with torch's derivative rules written against ``F``.

cholesky reads one triangle of A, yet its gradient is torch's symmetric matrix (Murray, 2016);
cholesky_solve and cholesky_inverse read one triangle of L, and their gradients with respect to L
are torch's full matrices (the derivative for a full L in A = L L^T).
"""

from __future__ import annotations

import warnings
from collections import namedtuple

import numpy as np
from scipy.linalg import lapack as _lapack

from .._fpe import user_stacklevel as _user_stacklevel
from ..autograd.graph import defop
from ..autograd.math import register
from ..kernels.lapack_reference import holds_nonfinite, potf2, potri
from ._common import (
    Tensor,
    all_samples,
    any_batched,
    any_true,
    as_tensor,
    make_result,
    map_stacked,
    wrap,
)
from ._linalg_common import batch_of, check_matrices, check_out, check_same_dtype, column_major
from .linalg_solve import LinAlgError, batch_prefix, triangular_solve_array

__all__ = ["cholesky", "cholesky_solve", "cholesky_inverse"]

# torch.return_types.linalg_cholesky_ex
CholeskyEx = namedtuple("linalg_cholesky_ex", ["L", "info"])


# ---- cholesky ------------------------------------------------------------------------------------
@defop(
    "linalg_cholesky_ex",
    saves_out=True,
    saves_inputs=False,
    formula="{g0} = {y}^{-T} Phi({y}^T {gy}) {y}^{-1}  (Phi: the lower triangle, diagonal halved, "
    "symmetrised)",
)
def _cholesky(F, g, xs, out, p, needs):
    (upper,) = p
    L, gL = (F.mT(out), F.mT(g)) if upper else (out, g)
    # tril(L^T gL) = tril(L^T tril(gL)): the upper part of gL never matters (Murray, 2016)
    ga = F.tril(F.matmul(F.mT(L), gL))
    ga = 0.5 * (ga + F.mT(F.tril(ga, -1)))
    ga = F.solve_triangular(F.mT(L), ga, True, True, False)
    return (F.solve_triangular(L, ga, False, False, False),)


def _potrf(potrf, m: np.ndarray, clean: int = 0) -> tuple[np.ndarray, int]:
    """LAPACK's potrf of one matrix, ``(factor, info)``, with torch's (MKL's) info for NaN input:
    OpenBLAS's potrf lets a NaN through (info 0, NaN factor) where MKL stops at the first NaN
    pivot. A NaN reaches every later pivot, so its first one names the order that failed."""
    low, info = potrf(m, lower=1, clean=clean)
    if info == 0:
        nan = np.isnan(np.diagonal(low))
        if nan.any():
            info = int(np.argmax(nan)) + 1
    return low, info


def _not_pd(who: str, a: np.ndarray) -> LinAlgError:
    a = all_samples(a)  # (under vmap: every sample's matrices, the vmap batch dims counted first)
    n = a.shape[-1]
    flat = a.reshape(-1, n, n)
    potrf = _lapack.get_lapack_funcs("potrf", (flat,))
    index, order = 0, 1
    for i, m in enumerate(flat):
        info = _potrf(potrf, m)[1]
        if info > 0:
            index, order = i, info
            break
    return LinAlgError(
        batch_prefix(who, index, a.ndim > 2)
        + "The factorization could not be completed because the input is not positive-definite "
        f"(the leading minor of order {order} is not positive-definite); check that the input "
        "is symmetric positive definite, or add a multiple of the identity"
    )


def _pd_error(who: str, a: np.ndarray, info: np.ndarray) -> LinAlgError:
    """torch's error for the first matrix of the stack whose ``info`` (from :func:`potf2`) is
    positive."""
    flat = info.reshape(-1)
    index = int(np.argmax(flat > 0))
    return LinAlgError(
        batch_prefix(who, index, a.ndim > 2)
        + "The factorization could not be completed because the input is not positive-definite "
        f"(the leading minor of order {flat[index]} is not positive-definite); check that the "
        "input is symmetric positive definite, or add a multiple of the identity"
    )


def _cholesky_array(who: str, a: np.ndarray, upper: bool) -> np.ndarray:
    # upper=True reads A's upper triangle: that is the lower triangle of A^T
    src = np.swapaxes(a, -1, -2) if upper else a
    if a.size == 0:
        return np.zeros_like(a)
    try:
        low = np.linalg.cholesky(src)
    except np.linalg.LinAlgError:
        raise _not_pd(who, src) from None
    if type(low) is np.ndarray:
        # positive pivots sum to a finite number unless one is inf or NaN, which an inf or NaN in
        # the lower triangle always leaves on the diagonal (one sum: free on finite input)
        pivots = low if low.ndim == 2 else low.reshape(-1, *low.shape[-2:])
        if not np.isfinite(np.trace(pivots, axis1=-2, axis2=-1).sum()):
            low, info = potf2(src)  # OpenBLAS's potrf neither fails nor gives MKL's NaNs
            if info.any():
                raise _pd_error(who, src, info)
    elif any_true(np.isnan(low[..., -1, -1])):  # under vmap: any sample's
        raise _not_pd(who, src)
    if not upper:
        return low
    return (
        np.ascontiguousarray(np.swapaxes(low, -1, -2))
        if type(low) is np.ndarray
        else np.swapaxes(low, -1, -2)
    )


def linalg_cholesky(A: Tensor, *, upper: bool = False, out=None) -> Tensor:
    """The Cholesky factor of symmetric positive-definite matrices, batched (``torch.linalg.cholesky``).

    Parameters
    ----------
    A : Tensor
        Float32/float64 tensor of shape ``(*, n, n)``; ``*`` are batch dims. Only the lower triangle
        (the upper one with ``upper=True``) is read.
    upper : bool, default False
        Return the upper-triangular ``U`` with ``A = U^T U`` instead of the lower ``L`` with
        ``A = L L^T``.
    out : None
        Not supported; passing a tensor raises TypeError.

    Returns
    -------
    Tensor
        ``L`` (or ``U``), shape ``(*, n, n)``, with a positive diagonal.

    Notes
    -----
    A matrix that is not positive definite raises ``LinAlgError`` naming the batch element and the
    order of the failing leading minor (use :func:`cholesky_ex` to get that as ``info`` instead).
    The gradient is torch's symmetric one, ``L^{-T} Phi(L^T dL) L^{-1}`` (Murray, 2016), shared by
    both triangles even though only one is read.
    """
    check_out("linalg.cholesky", out)
    who = "linalg.cholesky"
    A = as_tensor(A, who)
    check_matrices(who, A._data)
    return make_result(column_major(_cholesky_array(who, A._data, upper)), _cholesky, (A,), (bool(upper),))


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False, out=None):
    """The Cholesky factor and an error code, without raising (``torch.linalg.cholesky_ex``).

    Parameters
    ----------
    A : Tensor
        Float32/float64 tensor of shape ``(*, n, n)``; only the lower (``upper=True``: upper) triangle
        is read.
    upper : bool, default False
        Return ``U`` with ``A = U^T U`` instead of ``L`` with ``A = L L^T``.
    check_errors : bool, default False
        Raise ``LinAlgError`` (as :func:`linalg_cholesky`) when a matrix is not positive definite.
    out : None
        Not supported; passing a tensor raises TypeError.

    Returns
    -------
    (L, info) : namedtuple ``linalg_cholesky_ex``
        ``L`` of shape ``(*, n, n)`` and int32 ``info`` of shape ``(*)``: 0 where the factorisation
        succeeded, otherwise the order of the leading minor that is not positive definite.

    Notes
    -----
    Where ``info > 0`` the factor is not meaningful (it is what LAPACK's ``potrf`` left behind).
    The gradient is the one of :func:`linalg_cholesky`.
    """
    who = "linalg.cholesky_ex"
    check_out(who, out, "tensors")
    A = as_tensor(A, who)
    a = A._data
    check_matrices(who, a)
    try:
        return CholeskyEx(linalg_cholesky(A, upper=upper), wrap(np.zeros(a.shape[:-2], dtype=np.int32)))
    except LinAlgError:
        if check_errors:
            raise
    low, info = _potrf_arrays(np.swapaxes(a, -1, -2) if upper else a)
    result = np.swapaxes(low, -1, -2) if upper else low
    return CholeskyEx(make_result(column_major(result), _cholesky, (A,), (bool(upper),)), wrap(info))


def _potrf_arrays(src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower Cholesky factors of a stack with a matrix that is not positive definite (its factor is
    not meaningful), and the infos (0, or the order of the failing leading minor)."""
    if any_batched(src):  # vmap: once on the physical batch (the loop runs over every sample)
        return map_stacked(_potrf_arrays, (src,), (2,))
    if not np.isfinite(src).all():  # torch's factors of an inf or NaN (kernels.lapack_reference)
        return potf2(src)
    n = src.shape[-1]
    flat = src.reshape(-1, n, n)
    potrf = _lapack.get_lapack_funcs("potrf", (flat,))
    low = np.empty_like(flat)
    info = np.zeros(flat.shape[0], dtype=np.int32)
    for i, m in enumerate(flat):
        low[i], info[i] = _potrf(potrf, m, clean=1)
    return low.reshape(src.shape), info.reshape(src.shape[:-2])


def cholesky(input: Tensor, upper: bool = False, *, out=None) -> Tensor:
    """``torch.cholesky`` (deprecated in torch): ``linalg.cholesky(input, upper=upper)``."""
    warnings.warn(
        "torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be "
        "removed in a future PyTorch release; use linalg.cholesky(A) (or "
        "linalg.cholesky(A).mH for upper=True)",
        UserWarning,
        stacklevel=_user_stacklevel(),
    )
    check_out("cholesky", out)
    return linalg_cholesky(input, upper=upper)


@defop(
    "cholesky_solve",
    saves_out=True,
    formula=("{g0} = ({x1} {x1}^T)^{-1} {gy}", "{g1} = -(S + S^T) {x1},  S = ({x1} {x1}^T)^{-1} {gy} {y}^T"),
)
def _cholesky_solve(F, g, xs, out, p, needs):
    low = xs[1]
    (upper,) = p
    gb = F.cholesky_solve(g, low, upper)
    gl = None
    if needs[1]:
        c = F.matmul(gb, F.mT(out))
        c = c + F.mT(c)
        gl = -(F.matmul(low, c) if upper else F.matmul(c, low))
    return (gb if needs[0] else None), gl


def _cholesky_solve_array(b: np.ndarray, low: np.ndarray, upper: bool) -> np.ndarray:
    # A = L L^T: solve L Y = B, then L^T X = Y (upper: A = U^T U, the other way round)
    lt = np.swapaxes(low, -1, -2)
    first, second = (lt, low) if upper else (low, lt)
    y = triangular_solve_array(first, b, upper=False)
    return triangular_solve_array(second, y, upper=True)


def _cholesky_solve_op(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:
    out = _cholesky_solve_array(B._data, L._data, upper)
    return make_result(out, _cholesky_solve, (B, L), (bool(upper),))


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False, *, out=None) -> Tensor:
    """The solution of ``A X = B`` given the Cholesky factor of A (``torch.cholesky_solve``).

    Parameters
    ----------
    B : Tensor
        Right-hand sides, shape ``(*, n, k)`` (at least 2-D; use ``B.unsqueeze(-1)`` for a vector),
        with L's dtype.
    L : Tensor
        Float32/float64 Cholesky factor of shape ``(*, n, n)``: lower with ``A = L L^T``, or upper
        with ``A = U^T U`` when ``upper=True``. Only that triangle is read.
    upper : bool, default False
        Whether ``L`` is the upper factor.
    out : None
        Not supported; passing a tensor raises TypeError.

    Returns
    -------
    Tensor
        ``X = A^{-1} B`` of shape ``(*, n, k)``, the batch dims of B and L broadcast.

    Notes
    -----
    Computed as two triangular solves. A zero on L's diagonal gives inf/nan, not an error. The
    gradient with respect to L is torch's full matrix ``-(S + S^T) L`` with ``S = dl/dB X^T`` (the
    derivative for a full L in ``A = L L^T``), not restricted to the triangle that is read.
    """
    check_out("cholesky_solve", out)
    who = "cholesky_solve"
    B, L = as_tensor(B, who), as_tensor(L, who)
    b, low = B._data, L._data
    if b.ndim < 2:
        raise RuntimeError(
            f"{who}: b should have at least 2 dimensions, but has {b.ndim} "
            "dimensions instead; use b.unsqueeze(-1) for a vector"
        )
    check_matrices(who, low, "L")
    check_same_dtype(who, b, low, ("b", "L"))
    if b.shape[-2] != low.shape[-1]:
        raise RuntimeError(
            f"{who}: Incompatible matrix sizes for cholesky_solve: each A matrix is "
            f"{low.shape[-1]} by {low.shape[-1]} but each b matrix is {b.shape[-2]} by {b.shape[-1]}"
        )
    batch_of(who, b, low)
    return _cholesky_solve_op(B, L, upper)


@defop("cholesky_inverse", saves_out=True, formula="{g0} = -{y} ({gy} + {gy}^T) {y} {x0}")
def _cholesky_inverse(F, g, xs, out, p, needs):
    (upper,) = p
    c = F.matmul(out, F.matmul(g + F.mT(g), out))
    return (-(F.matmul(xs[0], c) if upper else F.matmul(c, xs[0])),)


def cholesky_inverse(L: Tensor, upper: bool = False, *, out=None) -> Tensor:
    """The inverse of ``A = L L^T`` from its Cholesky factor (``torch.cholesky_inverse``).

    Parameters
    ----------
    L : Tensor
        Float32/float64 factor of shape ``(*, n, n)``: lower, or upper (``A = U^T U``) when
        ``upper=True``. Only that triangle is read.
    upper : bool, default False
        Whether ``L`` is the upper factor.
    out : None
        Not supported; passing a tensor raises TypeError.

    Returns
    -------
    Tensor
        ``A^{-1}``, shape ``(*, n, n)``, symmetric.

    Notes
    -----
    A zero on L's diagonal raises ``LinAlgError`` (A is singular). The gradient with respect to L is
    torch's full matrix ``-Y (G + G^T) Y L`` with ``Y = A^{-1}``.
    """
    check_out("cholesky_inverse", out)
    who = "cholesky_inverse"
    L = as_tensor(L, who)
    low = L._data
    check_matrices(who, low, "L")
    n = low.shape[-1]
    diag = all_samples(np.diagonal(low, axis1=-2, axis2=-1))  # (under vmap: of every sample)
    zero = np.argwhere(diag == 0)
    if len(zero):
        first = zero[0]
        raise LinAlgError(
            batch_prefix(
                who,
                int(np.ravel_multi_index(tuple(first[:-1]), diag.shape[:-1])) if diag.ndim > 1 else 0,
                low.ndim > 2,
            )
            + f"The diagonal element {int(first[-1]) + 1} is zero, the inversion could not be "
            "completed because the input matrix is singular"
        )
    eye = np.broadcast_to(np.eye(n, dtype=low.dtype), low.shape)
    result = _cholesky_solve_array(eye, low, upper)
    if holds_nonfinite(low):  # torch's potri there (kernels.lapack_reference)
        flat = low.reshape(-1, n, n)
        bad = ~np.isfinite(np.triu(flat) if upper else np.tril(flat)).all(axis=(-2, -1))
        result = np.array(result, copy=True)
        result.reshape(-1, n, n)[bad] = potri(flat[bad], upper)
    return make_result(result, _cholesky_inverse, (L,), (bool(upper),))


register("cholesky_solve", _cholesky_solve_array, _cholesky_solve_op)
