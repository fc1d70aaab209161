"""Least squares and the pseudo-inverse: linalg.lstsq, linalg.pinv, pinverse.

pinv's derivative is the Golub–Pereyra formula for a matrix of constant rank (exact for full-rank
inputs); lstsq's goes through pinv, as torch's: X = A^+ B, and its residuals are a second output of
the same node, with torch's rule (|A X - B|^2 with X held fixed).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import scipy.linalg

from ..autograd.graph import defop, register_outputs
from ..autograd.math import register
from ..kernels.lapack_reference import geqr2, holds_nonfinite
from ._common import (
    Tensor,
    all_true,
    any_batched,
    as_array,
    as_tensor,
    make_result,
    shape_str,
    wrap,
    zeros_for,
)
from ._linalg_common import batch_of, check_out, check_same_dtype, column_major, type_name
from .index import _getitem, getitem
from .linalg_decomp import part, svd_of_finite, used
from .linalg_solve import LinAlgError
from .shape import reshape, squeeze, unsqueeze

__all__ = ["pinverse"]

# torch.return_types.linalg_lstsq
Lstsq = namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])


# ---- pinv ----------------------------------------------------------------------------------------
def pinv_backward(F, g, p, a):
    """The gradient of the pseudo-inverse P = A^+ for constant rank (Golub & Pereyra, 1973),
    arranged as torch's so that the products stay small (m <= n or m > n)."""
    m, n = a.shape[-2], a.shape[-1]
    ph, gh = F.mT(p), F.mT(g)
    if m <= n:
        k = F.matmul(gh, p)
        kph = F.matmul(k, ph)
        return (
            -F.mT(F.matmul(p, k))
            + kph
            - F.matmul(F.matmul(a, p), kph)
            + F.matmul(F.matmul(ph, p), gh - F.matmul(k, a))
        )
    k = F.matmul(p, gh)
    phk = F.matmul(ph, k)
    return (
        -F.mT(F.matmul(k, p))
        + F.matmul(F.matmul(gh - F.matmul(a, k), p), ph)
        + phk
        - F.matmul(F.matmul(phk, p), a)
    )


@defop(
    "linalg_pinv",
    saves_out=True,
    formula="{g0} = -P^T G P^T + (I - {x0} P)^T G^T P P^T + P^T P G^T (I - P {x0})^T,  P = {y}, G = {gy}",
)
def _pinv(F, g, xs, out, p, needs):
    return (pinv_backward(F, g, out, xs[0]),)


def _pinv_array(a: np.ndarray, atol=None, rtol=None, hermitian: bool = False) -> np.ndarray:
    """A^+ with torch's cut-off: singular values <= max(atol, rtol * s_max) count as zero."""
    m, n = a.shape[-2], a.shape[-1]
    if a.size == 0:
        return np.zeros(a.shape[:-2] + (n, m), dtype=a.dtype)
    if rtol is None:  # torch: eps * max(m, n), or 0 when a positive atol is given
        default = np.finfo(a.dtype).eps * max(m, n)
        rtol = default if atol is None else np.where(as_array(atol) > 0, 0.0, default)
    atol = as_array(0.0 if atol is None else atol, np.float64)[..., None]
    rtol = as_array(rtol, np.float64)[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        if hermitian:  # eigh reads the lower triangle; singular values are |eigenvalues|
            w, v = np.linalg.eigh(a)
            big = np.abs(w)
            winv = np.where(big > np.maximum(atol, rtol * big.max(-1, keepdims=True)), 1 / w, 0)
            return as_array((v * winv[..., None, :].astype(a.dtype)) @ np.swapaxes(v, -1, -2), a.dtype)
        u, s, vh = svd_of_finite("linalg.svd", a, full_matrices=False)
        sinv = np.where(s > np.maximum(atol, rtol * s[..., :1]), 1 / s, 0).astype(a.dtype)
    return np.swapaxes(vh, -1, -2) * sinv[..., None, :] @ np.swapaxes(u, -1, -2)


def _pinv_op(A: Tensor, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    return make_result(_pinv_array(A._data, atol, rtol, hermitian), _pinv, (A,))


def _tolerance(t):
    return t._data if isinstance(t, Tensor) else t


def pinv(A: Tensor, rcond=None, hermitian: bool = False, *, atol=None, rtol=None, out=None) -> Tensor:
    """The Moore–Penrose pseudo-inverse, batched (``torch.linalg.pinv``).

    Parameters
    ----------
    A : float tensor (..., m, n).
    rcond : (positional, torch's older form) the relative tolerance, with atol = 0.
    hermitian : A is symmetric: use eigh, reading A's lower triangle only.
    atol, rtol : singular values <= max(atol, rtol * largest singular value) count as zero.
        Defaults: rtol = eps * max(m, n) when neither is given, 0 when a positive atol is.

    Returns
    -------
    Tensor (..., n, m). Its gradient is the constant-rank formula (exact for full-rank A).
    """
    check_out("linalg.pinv", out)
    A = as_tensor(A, "linalg.pinv")
    a = A._data
    if a.ndim < 2 or a.dtype.kind != "f" or a.dtype == np.float16:
        raise RuntimeError(
            f"linalg.pinv({type_name(a)}{list(a.shape)}): expected a tensor with 2 or more "
            "dimensions of float, double, cfloat or cdouble types"
        )
    if rcond is not None:
        if rtol is not None:
            raise RuntimeError(
                "linalg.pinv: pass either rcond or rtol, not both (rcond is the older name of rtol)"
            )
        atol, rtol = 0.0, rcond
    return _pinv_op(A, _tolerance(atol), _tolerance(rtol), hermitian)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """The Moore–Penrose pseudo-inverse (``torch.pinverse``).

    Parameters
    ----------
    input : Tensor
        Float32/float64 tensor of shape ``(*, m, n)``.
    rcond : float, default 1e-15
        Singular values ``<= rcond *`` the largest one count as zero (``linalg.pinv`` with
        ``rtol=rcond`` and ``atol=0``).

    Returns
    -------
    Tensor
        The pseudo-inverse, shape ``(*, n, m)``.

    Notes
    -----
    The gradient is :func:`pinv`'s constant-rank formula (Golub–Pereyra), exact for full-rank
    input; at a rank change the pseudo-inverse is not differentiable.
    """
    return pinv(input, rcond)


# ---- lstsq ---------------------------------------------------------------------------------------
# packed layout: rows [0, n) hold the solution X, row n the residuals (only when there are some,
# which needs m > n); max(m, n) rows, so that X is a view of a column-major buffer as torch's
@defop(
    "linalg_lstsq",
    saves_out=True,
    formula=(
        "{g0} = the pinv rule of {x0} with G = gX {x1}^T + 2 (gL * R) X^T",
        "{g1} = ({x0}^+)^T gX - 2 gL * R,  R = {x0} X - {x1}  (X, residuals and gX, gL: in {y}, {gy})",
    ),
)
def _lstsq(F, g, xs, out, p, needs):
    """torch's linalg_lstsq_backward: the solution's gradient through A^+ (X = A^+ B), and the
    residuals' |A X - B|^2 per column with X held fixed (at the optimum A^T R = 0, so X's own
    change adds nothing). A term whose output got no gradient is skipped, as torch skips an
    undefined one; so a hook on an unused output is called with None (``register_outputs``)."""
    a, b = xs
    n, has_residuals = p
    rows = (Ellipsis, slice(0, n), slice(None))
    gx = F.getitem(g, rows)
    gl = F.getitem(g, (Ellipsis, n, slice(None))) if has_residuals else None
    with_l = gl is not None and used(F, gl)
    ga = gb = None
    if used(F, gx) or not with_l:  # (neither used: zeros, as the solution's rule gives)
        pa = F.pinv(a)
        ga = pinv_backward(F, F.matmul(gx, F.mT(b)), pa, a) if needs[0] else None
        gb = F.matmul(F.mT(pa), gx) if needs[1] else None
    if with_l:
        x = F.getitem(out, rows)
        weighted = F.expand_dims(gl, -2) * (F.matmul(a, x) - b)
        if needs[0]:
            term = F.matmul(weighted, F.mT(x)) * 2
            ga = term if ga is None else ga + term
        if needs[1]:
            term = weighted * -2
            gb = term if gb is None else gb + term
    return ga, gb


_AS_SOLVE = _getitem.shown_as("LinalgLstsqBackward0")
_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _lstsq_arrays(a: np.ndarray, b: np.ndarray, rcond, driver: str):
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    m, n, k = a.shape[-2], a.shape[-1], b.shape[-1]
    x = np.zeros(batch + (n, k), dtype=a.dtype)
    rank = np.zeros(batch, dtype=np.int64)
    sv = np.zeros(batch + (min(m, n),), dtype=a.dtype)
    if x.size == 0 or a.size == 0:
        return x, rank, sv
    if any_batched(a, b):
        return _lstsq_svd(a, b, rcond, batch)
    a = np.broadcast_to(a, batch + (m, n))
    b = np.broadcast_to(b, batch + (m, k))
    if driver == "gels" and (holds_nonfinite(a) or holds_nonfinite(b)):
        return _gels_nonfinite(a, b, rcond, batch)  # (with torch's residuals there)
    if driver == "gels":
        return _gels(a, b, batch, x, rank, sv)
    lapack_driver = driver
    if lapack_driver in ("gelsd", "gelss") and not np.isfinite(a).all():
        # SciPy's gelsd and gelss never return for an inf. torch's gelsd raises (LAPACK rejects
        # the inf while scaling); for gelss the SVD path gives torch's rank (0) and singular
        # values (NaN), and a NaN solution (torch's: 0, see docs/differences.md)
        if lapack_driver == "gelsd":
            raise LinAlgError(
                f"linalg.lstsq: driver 'gelsd' cannot solve with a matrix holding inf or NaN (shape "
                f"{tuple(a.shape)}); replace them first (e.g. torch.nan_to_num)"
            )
        return _lstsq_svd(a, b, rcond, batch)
    for idx in np.ndindex(*batch):
        x[idx], _, rank[idx], s = scipy.linalg.lstsq(
            a[idx], b[idx], cond=rcond, lapack_driver=lapack_driver, check_finite=False
        )
        if s is not None:
            sv[idx] = s
    return x, rank, sv


def _gels(a: np.ndarray, b: np.ndarray, batch: tuple, x: np.ndarray, rank: np.ndarray, sv: np.ndarray):
    """LAPACK's own ``gels`` per matrix, as torch's: QR (LQ when m < n) with no rank decision, so
    an ill-conditioned A (a 1e38 entry beside O(1) ones) gets the least-squares solution, not
    gelsy's truncated one; an exactly zero pivot raises LinAlgError with its index, as torch."""
    m, n, k = a.shape[-2], a.shape[-1], b.shape[-1]
    gels = scipy.linalg.lapack.get_lapack_funcs("gels", (a, b))
    rhs = np.zeros((max(m, n), k), dtype=a.dtype)  # (gels writes the n-row solution into B)
    for index in np.ndindex(*batch):
        rhs[:m] = b[index]
        rhs[m:] = 0
        _, solved, info = gels(a[index], rhs)
        if info > 0:
            where = f"(Batch element {np.ravel_multi_index(index, batch)}): " if batch else ""
            raise LinAlgError(
                f"torch.linalg.lstsq: {where}The least squares solution could not be computed because "
                f"the input matrix does not have full rank (error code: {info}); A of shape "
                f"{tuple(a.shape)} is rank-deficient: use driver 'gelsy', 'gelsd' or 'gelss'"
            )
        x[index] = solved[:n]
    rank[...] = min(m, n)
    return x, rank, sv


def _gels_nonfinite(a: np.ndarray, b: np.ndarray, rcond: float, batch: tuple):
    """torch's gels (MKL's, which follows LAPACK's reference ``sgels``) where A or B holds inf or NaN.

    - A NaN in A or B: MKL's gels rejects it as an illegal argument, and torch raises RuntimeError.
    - An inf in A: gels scales A by ``bignum / max|A| = 0``, which leaves NaN at the infs and zeros
      elsewhere, and factors that (QR, or LQ when m < n). A column (row) reached before any NaN
      has spread is zero, so R (L) has an exact zero on its diagonal and torch raises LinAlgError
      with that 1-based index as the error code; this redoes the reference factorization
      (``geqr2``) of the scaled matrix to find it. Otherwise the NaN has reached every pivot and the
      solution is NaN, except for one row (m = 1 < n) whose reflector is the identity (its inf
      leads and the rest is 0) and a finite B: x = [NaN, 0, ..., 0].
    - An inf in B only: gels scales B the same way and the solution is NaN.

    Finite matrices of the stack are solved as usual. Checked against torch on 1,500 random
    matrices with infs in A or B (tests/test_linalg_extreme.py).
    """
    m, n = a.shape[-2:]
    x = np.full(batch + (n, b.shape[-1]), np.nan, dtype=a.dtype)
    rank = np.zeros(batch, dtype=np.int64)
    sv = np.zeros(batch + (min(m, n),), dtype=a.dtype)
    # torch's residuals (m > n): the squares of rows n.. of Q^T B, B scaled as A is (0 and NaN)
    # where it holds an inf; Q^T is NaN unless every reflector is the identity (tau = 0)
    residuals = np.full(batch + (b.shape[-1],), np.nan, dtype=a.dtype)
    redone = np.zeros(batch, dtype=bool)
    for index in np.ndindex(*batch):  # (in order: torch reports the first failing matrix)
        ai, bi = a[index], b[index]
        where = f"(Batch element {np.ravel_multi_index(index, batch)}): " if batch else ""
        if np.isnan(ai).any() or np.isnan(bi).any():
            raise RuntimeError(
                f"torch.linalg.lstsq: {where}driver 'gels' cannot solve with A or B holding NaN (shapes "
                f"{tuple(a.shape)} and {tuple(b.shape)}; torch's LAPACK rejects it as an illegal "
                "argument); replace the NaNs first (e.g. torch.nan_to_num), or use driver 'gelsy'"
            )
        with np.errstate(invalid="ignore"):
            scaled_b = np.where(np.isinf(bi), np.nan, bi * 0) if np.isinf(bi).any() else bi
        if np.isfinite(ai).all():
            if np.isfinite(bi).all():
                x[index] = _lstsq_arrays(ai, bi, rcond, "gels")[0]
            else:  # Q^T of a finite A keeps B's zero columns zero
                redone[index] = True
                rotated = scipy.linalg.qr(ai)[0].T @ np.nan_to_num(scaled_b)
                residuals[index] = np.where(np.isnan(scaled_b).any(0), np.nan, (rotated[n:] ** 2).sum(0))
            continue
        redone[index] = True
        with np.errstate(invalid="ignore"):
            scaled = np.where(np.isinf(ai), np.nan, ai * 0)
        factors, tau = geqr2((scaled if m >= n else scaled.T)[None])
        zero = np.flatnonzero(np.diagonal(factors[0]) == 0)
        if zero.size:
            raise LinAlgError(
                f"torch.linalg.lstsq: {where}The least squares solution could not be computed because "
                f"the input matrix does not have full rank (error code: {zero[0] + 1}); A holds an "
                f"inf (shape {tuple(a.shape)}): replace it first (e.g. torch.nan_to_num)"
            )
        if not tau.any():  # every reflector the identity: Q = I
            if m < n and scaled_b is bi:  # (an inf in B makes the unscaling turn these 0 into NaN)
                x[index][m:] = 0
            with np.errstate(invalid="ignore"):
                residuals[index] = (scaled_b[n:] ** 2).sum(0)
    return x, rank, sv, (residuals, redone)


def _lstsq_svd(a, b, rcond: float, batch: tuple):
    """The minimum-norm solution from the SVD, in NumPy calls that vmap batches (SciPy's drivers
    do not dispatch, and a loop over the samples would be slow): singular values
    ``<= rcond * s_max`` count as zero. It is gelsd's and gelss's answer (rank and singular values
    too), and the solution of gelsy and gels wherever A has full rank; for rank-deficient A, gelsy
    estimates the rank from its pivoted QR and may draw the line elsewhere."""
    u, s, vh = svd_of_finite("linalg.svd", a, full_matrices=False)
    keep = s > rcond * s[..., :1]
    with np.errstate(divide="ignore"):
        sinv = np.where(keep, 1 / s, 0).astype(a.dtype)
    x = np.swapaxes(vh, -1, -2) @ (sinv[..., None] * (np.swapaxes(u, -1, -2) @ b))
    rank = np.sum(keep, axis=-1).astype(np.int64)
    return (x, np.broadcast_to(rank, batch), np.broadcast_to(s.astype(a.dtype), batch + s.shape[-1:]))


def _named_as_the_solve(t: Tensor) -> Tensor:
    """A part of the packed result under torch's name for its one node (LinalgLstsqBackward0),
    showing that node's inputs in ``next_functions`` (grad_fn_names.PACKED_PARTS)."""
    if t._grad_fn is not None:
        t._grad_fn.op = _AS_SOLVE
    return t


def lstsq(A: Tensor, B: Tensor, rcond=None, *, driver=None):
    """A least-squares solution of ``A X = B``, batched (``torch.linalg.lstsq``, CPU drivers).

    Parameters
    ----------
    A : float tensor (..., m, n).
    B : tensor (..., m, k), or (..., m) when it has one dim fewer than A (a batch of vectors).
    rcond : singular values below rcond * the largest count as zero; default eps * max(m, n).
    driver : 'gelsy' (default), 'gelsd', 'gelss' or 'gels'.

    Returns
    -------
    ``(solution, residuals, rank, singular_values)`` like torch on CPU: residuals (the squared
    residual norm per column) only for m > n, full rank and a driver other than gelsy; rank for
    every driver but gels; singular values for gelsd and gelss; empty tensors otherwise. The
    solution and the residuals are differentiable (through pinv, for full-rank A).
    """
    who = "torch.linalg.lstsq"
    A, B = as_tensor(A, who), as_tensor(B, who)
    a, b = A._data, B._data
    if a.ndim < 2:
        raise RuntimeError(f"{who}: input must have at least 2 dimensions, got shape {shape_str(a.shape)}")
    if a.dtype not in (np.float32, np.float64):
        raise RuntimeError(
            f"{who}: This function doesn't handle types other than float and "
            f"double, got {type_name(a)}; convert first, e.g. A.double()"
        )
    check_same_dtype(who, a, b, ("input", "other"))
    if not (a.ndim >= b.ndim and a.ndim - b.ndim <= 1):
        raise RuntimeError(
            f"{who}: input.dim() must be greater or equal to other.dim() and "
            f"(input.dim() - other.dim()) <= 1, got shapes {shape_str(a.shape)} and "
            f"{shape_str(b.shape)}"
        )
    driver = "gelsy" if driver is None else driver
    if driver not in _DRIVERS:
        raise RuntimeError(
            f"{who}: parameter `driver` should be one of (gels, gelsy, gelsd, gelss), got {driver!r}"
        )
    vector = b.ndim == a.ndim - 1
    B2 = unsqueeze(B, -1) if vector else B
    m, n = a.shape[-2], a.shape[-1]
    if B2._data.shape[-2] != m:
        raise RuntimeError(
            f"{who}: input.size(-2) should match other.size(-2), got shapes "
            f"{shape_str(a.shape)} and {shape_str(b.shape)}"
        )
    batch_of(who, a, B2._data)
    if rcond is None:
        rcond = float(np.finfo(a.dtype).eps) * max(m, n)
    x, rank, sv, *nonfinite = _lstsq_arrays(a, B2._data, rcond, driver)
    # (gels assumes full rank: torch returns its residuals whenever m > n)
    full_rank = driver == "gels" or all_true(rank == n)  # (under vmap: in every sample)
    has_residuals = driver != "gelsy" and m > n and full_rank
    packed = zeros_for(x.shape[:-2] + (max(m, n), x.shape[-1]), a.dtype, x, a, B2._data)
    packed[..., :n, :] = x
    if has_residuals:
        with np.errstate(all="ignore"):  # (inf and NaN give torch's NaN without a warning)
            values = np.sum((a @ x - B2._data) ** 2, axis=-2)
        if nonfinite:  # gels with inf: torch's values for those matrices
            redone_values, redone = nonfinite[0]
            values = np.where(redone[..., None], redone_values, values)
        packed[..., n, :] = values
    P = make_result(packed, _lstsq, (A, B2), (n, has_residuals))
    X = getitem(P, (Ellipsis, slice(0, n), slice(None)))
    # torch's solution is the first n rows of its column-major (max(m, n), k) buffer
    X._data = column_major(P._data)[..., :n, :]
    X._vc = P._shared_vc()
    _named_as_the_solve(X)
    if has_residuals:
        residuals = _named_as_the_solve(part(P, (Ellipsis, n, slice(None))))
        residuals._vc = None  # (torch's rule reads the solution, not these: a version of their own)
    else:  # none, but still an output of the solve (torch): in the graph, with a zero gradient
        residuals = reshape(X, (-1,))[:0]
    register_outputs(P, (X, residuals))
    empty = wrap(np.zeros((0,), dtype=a.dtype))
    return Lstsq(
        squeeze(X, -1) if vector else X,
        residuals,
        wrap(np.zeros((0,), np.int64)) if driver == "gels" else wrap(rank),
        wrap(sv) if driver in ("gelsd", "gelss") else empty,
    )


register("pinv", _pinv_array, _pinv_op)
