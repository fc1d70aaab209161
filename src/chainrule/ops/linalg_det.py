"""Determinants from one LU factorisation: det, slogdet, logdet.

d det(A)/dA = det(A) A^{-T} and d log|det A|/dA = A^{-T} (the lecture's exercise). The forward's
LU factors travel to the backward in the node's params, and a plain backward inverts A from them
(``getri``) instead of factorising A again. A C-order matrix is its transpose in Fortran order, so
LAPACK factors A^T with no copy beyond the one it must make; det(A^T) = det(A), and inverting that
LU gives A^{-T}, the gradient itself.

From 96 x 96 a symmetric positive-definite matrix factors by Cholesky instead (``_cholesky``:
half the LU's work, and an inverse in a third of getri's), and from 192 x 192 the LU's inverse is
built from BLAS-3 products (kernels/lu_inverse.py) rather than by getri.

Batches of small matrices go through NumPy's batched routines instead (a Python loop over LAPACK
calls costs more than the arithmetic there); their backward inverts the batch in one batched call.

At a singular matrix det's gradient is the cofactor matrix (the transposed adjugate), which stays
finite: from an SVD in a plain backward, from the determinants of the minors (differentiable) with
``create_graph=True``.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from scipy.linalg import lapack as _lapack

from .._threads import numpy_blas
from ..autograd._tables import tracked
from ..autograd.graph import defop, register_outputs
from ..autograd.math import ARRAY_MATH, register, tensor_math
from ..kernels.lapack_reference import det_gradient, getf2, holds_nonfinite, solve_nonfinite
from ..kernels.lu_inverse import inverse_from_cholesky, inverse_transposed
from ._common import Tensor, all_true, any_batched, any_true, as_tensor, make_result, map_stacked, wrap
from ._linalg_common import check_matrices, check_out
from .construct import diag_embed
from .elementwise import where
from .join import cat, flip
from .linalg_decomp import linalg_svd, svd_of_finite
from .linalg_solve import inv, solve
from .reduce_cumulative import cumprod
from .shape import transpose

__all__ = ["det", "logdet", "slogdet"]

# torch.return_types.linalg_slogdet and .slogdet
LinalgSlogdet = namedtuple("linalg_slogdet", ["sign", "logabsdet"])
Slogdet = namedtuple("slogdet", ["sign", "logabsdet"])

_SMALL = 32  # batches of matrices smaller than this use NumPy's batched routines
_LAPACK: dict = {}


_THREADED_FROM = 64  # matrices from this size factor in NumPy's OpenBLAS (see _routines)
# matrices from this size invert in BLAS-3 products (kernels/lu_inverse.py) rather than getri:
# 0.86-0.91x getri's time (and no transposing copy after it) from 192 on, 1.2x at 128, 1.8x at 64
_PRODUCTS_INVERSE_FROM = 192
# symmetric positive-definite matrices from this size factor by Cholesky: the whole gradient's time
# 1.01x the LU's at 64 x 64, 0.89x at 96, 0.79x at 128, 0.63x at 512 (one thread)
_CHOLESKY_FROM = 96


def _routines(dtype, n: int = 0) -> tuple:
    """(getrf, getri, getrs) with SciPy's signatures. Real matrices from _THREADED_FROM on go
    to NumPy's OpenBLAS (_threads.py): its thread pool, all its threads, and no fight with the
    NumPy matmuls around them. SciPy's runs one thread: a 256x256 float64 logdet gradient took
    1.9x torch's (two threads) there. Smaller ones stay in SciPy, whose f2py call costs less."""
    key = (dtype, n >= _THREADED_FROM)
    fns = _LAPACK.get(key)
    if fns is None:
        fns = _lapack.get_lapack_funcs(("getrf", "getri", "getrs"), dtype=dtype)
        blas = numpy_blas()
        if key[1] and blas is not None and np.dtype(dtype) in (np.float32, np.float64):
            fns = (blas.getrf, lambda lu, piv, lwork=0: blas.getri(lu, piv), fns[2])
        _LAPACK[key] = fns
    return fns


# ---- the forward's factorisation -----------------------------------------------------------------
def _factor(a: np.ndarray):
    """LU factors of each matrix of ``a`` (of its transpose, see the module docstring), or None
    where NumPy's batched routines serve better. Returns (factors, diagonal of U, pivot sign)."""
    n = a.shape[-1]
    if type(a) is not np.ndarray or n == 0 or a.size == 0 or (a.ndim > 2 and n < _SMALL):
        return None, None, None  # (a vmap-batched array takes NumPy's routines, which dispatch)
    getrf = _routines(a.dtype, n)[0]
    if a.ndim == 2:
        cholesky = _cholesky(a)
        if cholesky is not None:
            return [(cholesky, None, 0)], np.square(np.diagonal(cholesky))[None], np.ones(1, a.dtype)
        lu, piv, info = getrf(a.T)
        factors = [(lu, piv, info)]
        diag = np.diagonal(lu)[None]
        swaps = np.count_nonzero(piv != np.arange(n))
        return factors, diag, np.array([-1.0 if swaps % 2 else 1.0], dtype=a.dtype)
    factors = [getrf(m.T) for m in a.reshape(-1, n, n)]
    diag = np.stack([np.diagonal(f[0]) for f in factors])
    swaps = np.count_nonzero(np.stack([f[1] for f in factors]) != np.arange(n), axis=-1)
    return factors, diag, np.where(swaps % 2, -1.0, 1.0).astype(a.dtype)


def _cholesky(a: np.ndarray):
    """The Cholesky factor of a symmetric positive-definite matrix from _CHOLESKY_FROM rows on (in
    NumPy's OpenBLAS, see _threads.NumpyBlas.potrf), else None. Symmetric matrices go there
    first, as MATLAB's and Julia's solvers do: A = L L^T has the LU's determinant (the squares of
    L's diagonal: U's diagonal without pivoting) in half the work, and A^{-1} = L^{-T} L^{-1} in a
    third of getri's. An indefinite one costs the failed attempt (up to the whole potrf) before
    its LU."""
    n = a.shape[-1]
    if n < _CHOLESKY_FROM or a.dtype not in (np.float32, np.float64):
        return None
    blas = numpy_blas()
    # two entries first: a general matrix costs nothing more, a symmetric one a comparison of
    # A with A^T (92-109 us at 256 x 256, against 200-240 us that the Cholesky saves; the machine
    # was loaded)
    if blas is None or a[0, n - 1] != a[n - 1, 0] or a[1, 0] != a[0, 1] or not np.array_equal(a, a.T):
        return None
    lower, info = blas.potrf(a)
    return lower if info == 0 else None


def _det_forward(a: np.ndarray):
    factors, diag, perm = _factor(a)
    if factors is None:
        if a.shape[-1] == 0:
            return np.ones(a.shape[:-2], a.dtype), None
        d = _array(np.linalg.det(a))
    else:
        d = (perm * np.prod(diag, axis=-1)).reshape(a.shape[:-2])
    if holds_nonfinite(a):
        d = np.where(_nonfinite(a), _reference_lu(a, lambda diag, perm: perm * np.prod(diag, axis=-1)), d)
    return d, factors


def _slogdet_forward(a: np.ndarray):
    factors, diag, perm = _factor(a)
    if factors is None:
        if a.shape[-1] == 0:
            return np.ones(a.shape[:-2], a.dtype), np.zeros(a.shape[:-2], a.dtype), None
        sign, logabs = (_array(x) for x in np.linalg.slogdet(a))
    else:
        with np.errstate(divide="ignore"):
            logabs = np.sum(np.log(np.abs(diag)), axis=-1)
        sign = perm * np.prod(np.sign(diag), axis=-1)
        shape = a.shape[:-2]
        sign, logabs = sign.reshape(shape), logabs.reshape(shape).astype(a.dtype, copy=False)
    if holds_nonfinite(a):
        bad = _nonfinite(a)
        sign = np.where(bad, _reference_lu(a, _sign_of), sign).astype(a.dtype, copy=False)
        logabs = np.where(bad, _reference_lu(a, _logabs_of), logabs).astype(a.dtype, copy=False)
    return sign, logabs, factors


def _nonfinite(a: np.ndarray) -> np.ndarray:
    """Which matrices of a stack hold an inf or NaN."""
    return ~np.isfinite(a).all(axis=(-2, -1))


def _reference_lu(a: np.ndarray, value) -> np.ndarray:
    """``value(diagonal of U, permutation sign)`` per matrix from LAPACK's reference LU, which
    torch's MKL follows on matrices holding an inf or NaN (kernels.lapack_reference). As torch's
    det, it factors A^T (a C-order A is A^T to LAPACK): another pivot order, so other NaNs."""
    n = a.shape[-1]
    lu, pivots, _ = getf2(np.swapaxes(a, -1, -2).reshape(-1, n, n))
    swaps = np.count_nonzero(pivots != np.arange(n), axis=-1)
    with np.errstate(all="ignore"):
        out = value(np.diagonal(lu, axis1=-2, axis2=-1), np.where(swaps % 2, -1.0, 1.0))
    return out.reshape(a.shape[:-2]).astype(a.dtype, copy=False)


def _logabs_of(diag: np.ndarray, perm: np.ndarray) -> np.ndarray:
    return np.sum(np.log(np.abs(diag)), axis=-1)


def _sign_of(diag: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """torch's sign of the determinant: the product of the pivots' signs, where a NaN pivot's is
    0 (torch's sign of NaN)."""
    return perm * np.prod(np.where(np.isnan(diag), 0.0, np.sign(diag)), axis=-1)


def _array(x):
    """NumPy returns scalars for a single matrix: make them 0-d arrays (batched arrays pass)."""
    return np.asarray(x) if isinstance(x, np.generic) else x


# ---- the plain backward's A^{-T} -----------------------------------------------------------------
def _inverse_t(a: np.ndarray, factors):
    """A^{-T} for every matrix of ``a`` from the saved factors, and a mask of the matrices whose
    LU has an exactly zero pivot (their entries of the result are left as zeros)."""
    n = a.shape[-1]
    if factors is None:
        try:
            return np.swapaxes(np.linalg.inv(a), -1, -2), None
        except np.linalg.LinAlgError:
            factors = [_routines(a.dtype, n)[0](m.T) for m in a.reshape(-1, n, n)]
    getri = _routines(a.dtype, n)[1]
    lwork = max(1, 64 * n)
    blas = numpy_blas() if n >= _PRODUCTS_INVERSE_FROM and a.dtype in (np.float32, np.float64) else None
    if len(factors) == 1 and a.ndim == 2:
        lu, piv, info = factors[0]
        if piv is None:  # a Cholesky factor (_cholesky): A is symmetric, A^{-T} = A^{-1}
            return inverse_from_cholesky(numpy_blas(), lu), None
        if info == 0 and blas is not None:
            return inverse_transposed(blas, lu, piv), None  # C order, as A's .grad
        if info == 0:
            return getri(lu, piv, lwork=lwork)[0], None  # inv(A^T) in Fortran order: A^{-T}
        return np.zeros_like(a), np.array([True])
    out = np.zeros((len(factors), n, n), dtype=a.dtype)
    singular = np.zeros(len(factors), dtype=bool)
    for i, (lu, piv, info) in enumerate(factors):
        if info == 0 and blas is not None:
            inverse_transposed(blas, lu, piv, out=out[i])
        elif info == 0:
            out[i] = getri(lu, piv, lwork=lwork)[0]
        else:
            singular[i] = True
    return out.reshape(a.shape), (singular if singular.any() else None)


def _lu_of(a: np.ndarray, factors, i: int):
    if factors is not None:
        return factors[i]
    return _routines(a.dtype, a.shape[-1])[0](a.reshape(-1, *a.shape[-2:])[i].T)


def _others_product(s: np.ndarray) -> np.ndarray:
    """prod_{j != i} s_j for each i, without dividing (zeros allowed)."""
    left = np.concatenate([np.ones_like(s[..., :1]), np.cumprod(s[..., :-1], axis=-1)], axis=-1)
    right = np.flip(np.cumprod(np.flip(s[..., 1:], -1), axis=-1), -1)
    return left * np.concatenate([right, np.ones_like(s[..., :1])], axis=-1)


def cofactors_array(m: np.ndarray) -> np.ndarray:
    """The cofactor matrix (d det/dA) of a possibly singular matrix, from its SVD:
    det A = det(U) det(V^T) prod(s), so d det/dA = det(U) det(V^T) U diag(prod_{j!=i} s_j) V^T."""
    u, s, vh = svd_of_finite("linalg.det", m)
    alpha = np.linalg.det(u) * np.linalg.det(vh)
    return (alpha * (u * _others_product(s))) @ vh


# ---- the differentiable paths (create_graph=True) ------------------------------------------------
def _minors_index(n: int):
    keep = np.array([[k for k in range(n) if k != i] for i in range(n)], dtype=np.int64)
    return keep[:, None, :, None], keep[None, :, None, :]


_MINORS_UP_TO = 16  # n^2 minors of size (n-1)^2: beyond this, the SVD formula (as torch's)


def cofactors(A: Tensor) -> Tensor:
    """The cofactor matrix of A, differentiable and right at singular matrices, where
    det(A) A^{-T} is not defined: from the determinants of the minors for small matrices, from
    the SVD (det A = det(U) det(V^T) prod(s), torch's singular formula) for larger ones."""
    n = A._data.shape[-1]
    if n == 1:
        return wrap(np.ones_like(A._data))
    if n > _MINORS_UP_TO:
        return _cofactors_svd(A)
    rows, cols = _minors_index(n)
    signs = wrap(np.where(np.add.outer(np.arange(n), np.arange(n)) % 2, -1.0, 1.0).astype(A._data.dtype))
    return det(A[..., rows, cols]) * signs


def _cofactors_svd(A: Tensor) -> Tensor:
    u, s, vh = linalg_svd(A)
    one = s[..., :1] * 0 + 1
    before = cumprod(cat([one, s[..., :-1]], -1), -1)  # prod_{j<i} s_j
    after = flip(cumprod(flip(cat([s[..., 1:], one], -1), (-1,)), -1), (-1,))  # prod_{j>i} s_j
    d = (det(u) * det(vh)).unsqueeze(-1) * before * after
    return (u * d.unsqueeze(-2)) @ vh


# ---- det -----------------------------------------------------------------------------------------
@defop(
    "linalg_det",
    saves_out=True,
    formula="{g0} = {gy} {y} {x0}^{-T}  ({gy} times the cofactor matrix where {x0} is singular)",
)
def _det(F, g, xs, out, p, needs):
    return (F.det_grad(g, xs[0], out, p[0]),)


def _per_matrix(F, g):
    """``g`` (a number per matrix) shaped to scale the matrices (a 0-d one scales as it is)."""
    return g if g.ndim == 0 else F.reshape(g, tuple(g.shape) + (1, 1))


def _cofactors_unfactored(a, d):
    return cofactor_matrix_array(a, d, None)


def det_grad_array(g: np.ndarray, a: np.ndarray, d: np.ndarray, factors) -> np.ndarray:
    """``g det(A) A^{-T}`` from the forward's factors, the cofactors times ``g`` where the LU has a
    zero pivot; torch's formula where A holds an inf or NaN or where the product is not finite.
    (``F.det_grad`` on arrays.)

    torch's plain backward solves ``A^T X = diag(g det A)`` with the forward's LU (a zero pivot
    replaced by eps) and passes ``g`` itself for 1 x 1 matrices. Scaling ``A^{-T}`` by det gives the
    same numbers on finite matrices in less time (one inverse for every column, with no scaling of
    the right-hand side), but multiplies det's inf or NaN into entries that torch's solve keeps
    finite, and overflows where a subnormal pivot's reciprocal is inf: only the matrices where the
    product is not finite (one sum over it tells) go through torch's formula."""
    if any_batched(g, a, d):  # vmap: once on the physical batch, which finds the singular
        return _per_matrix(ARRAY_MATH, g) * map_stacked(_cofactors_unfactored, (a, d), (2, 0))
    if a.shape[-1] == 1:  # torch's: det of a 1 x 1 matrix is its entry, its gradient g, whatever A holds
        return np.broadcast_to(np.reshape(g, np.shape(g) + (1, 1)), a.shape).astype(a.dtype)
    grad = _per_matrix(ARRAY_MATH, g) * _scaled_inverse_t(a, d, factors)
    # one sum over the result, no look at A: the det of a matrix holding an inf or NaN is inf or
    # NaN (its LU's last pivot meets it, times 0 if not otherwise), so is then every product
    if holds_nonfinite(grad):
        grad = _det_grad_as_torch(g, a, d, grad)
    return grad


def _det_grad_as_torch(g, a: np.ndarray, d: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """``grad`` with torch's formula (kernels.lapack_reference.det_gradient, from LAPACK's reference
    LU of A^T, which torch's MKL follows there) in the matrices where A holds an inf or NaN or where
    ``grad`` is not finite; a finite matrix with an exactly zero pivot keeps its cofactors
    (chainrule's gradient at a singular matrix, see ``det``)."""
    n = a.shape[-1]
    flat_a = a.reshape(-1, n, n)
    grad = np.array(np.broadcast_to(grad, a.shape), copy=True)
    flat_grad = grad.reshape(-1, n, n)
    with np.errstate(all="ignore"):
        scale = np.broadcast_to(np.asarray(g * d, dtype=a.dtype), a.shape[:-2]).reshape(-1)
        finite = np.isfinite(flat_a).all(axis=(-2, -1))
        redo = ~finite | ~np.isfinite(flat_grad).all(axis=(-2, -1))
        lu, pivots, info = getf2(np.swapaxes(flat_a[redo], -1, -2))
        keep = finite[redo] & (info > 0)  # singular: the cofactors stay
        redone = det_gradient(lu, pivots, scale[redo])
        flat_grad[redo] = np.where(keep[:, None, None], flat_grad[redo], redone)
    return grad


def cofactor_matrix_array(a: np.ndarray, d: np.ndarray, factors) -> np.ndarray:
    """det(A) A^{-T} from the forward's LU factors; the cofactors (from an SVD) where the LU has a
    zero pivot (``det_grad_array`` scales it by the upstream gradient)."""
    if any_batched(a, d):  # vmap: once on the physical batch, which finds the singular
        return map_stacked(_cofactors_unfactored, (a, d), (2, 0))  # matrices as each sample's LU does
    return _scaled_inverse_t(a, d, factors)


def _scaled_inverse_t(a: np.ndarray, d: np.ndarray, factors) -> np.ndarray:
    """``cofactor_matrix_array`` on NumPy arrays."""
    grad, singular = _inverse_t(a, factors)
    if factors is not None and a.ndim == 2 and singular is None:
        grad *= d  # getri's fresh array: scale it in place
        return grad
    grad = grad * np.expand_dims(d, (-1, -2))
    if singular is not None:
        n = a.shape[-1]
        flat_a, flat_grad = a.reshape(-1, n, n), grad.reshape(-1, n, n)
        for i in np.flatnonzero(singular):
            # (a zero pivot of a matrix holding a NaN has no SVD: NaN, which det_grad_array redoes)
            flat_grad[i] = cofactors_array(flat_a[i]) if np.isfinite(flat_a[i]).all() else np.nan
    return grad


def det_grad_graph(F, g: Tensor, a: Tensor, d: Tensor) -> Tensor:
    """``g det(A) A^{-T}`` as differentiable ops (``F.det_grad`` on tensors); ``g`` for 1 x 1
    matrices, as torch's (and its derivative in g, 1, in every entry)."""
    if a.shape[-1] == 1:
        return F.reshape(g, tuple(a.shape))
    if holds_nonfinite(a._data):
        return _det_grad_graph_nonfinite(F, g, a, d)
    return _per_matrix(F, g) * cofactor_matrix_graph(F, a, d)


def _det_grad_graph_nonfinite(F, g: Tensor, a: Tensor, d: Tensor) -> Tensor:
    """torch's differentiable formula for the matrices holding an inf or NaN, whose det is inf or
    NaN and so never small: ``linalg.solve(A^T, diag(g det A))`` (the right-hand side's zeros stay
    apart from det's inf; solve follows LAPACK's reference LU there, as torch's MKL); the others of
    the batch as ``cofactor_matrix_graph``. Each formula sees the identity (det 1) in place of the
    other's matrices, so neither branch of the where holds a NaN of the other."""
    data = a._data
    n = data.shape[-1]
    poisoned = ~np.isfinite(data).all(axis=(-2, -1))
    scale = (g * d).unsqueeze(-1).expand(*d.shape, n)
    eye = wrap(np.eye(n, dtype=data.dtype))
    if poisoned.all():
        return solve(transpose(a, -1, -2), diag_embed(scale))
    mask, rows = wrap(np.expand_dims(poisoned, (-1, -2))), wrap(np.expand_dims(poisoned, -1))
    solved = solve(transpose(where(mask, a, eye), -1, -2), diag_embed(where(rows, scale, 0.0)))
    one = wrap(np.ones((), dtype=data.dtype))
    regular = _per_matrix(F, g) * cofactor_matrix_graph(F, where(mask, eye, a), where(wrap(poisoned), one, d))
    return where(mask, solved, regular)


def cofactor_matrix_graph(F, a: Tensor, d: Tensor) -> Tensor:
    """det(A) A^{-T} where |det A| is not small, the cofactors (minors) where it is, as
    differentiable ops (``det_grad_graph`` scales it by the upstream gradient)."""
    dd = d._data
    small = np.abs(dd) < 100 * np.finfo(dd.dtype).eps  # torch's switch to its singular formula
    if not any_true(small):  # (under vmap: a where() picks each sample's formula)
        return F.expand_dims(d, (-1, -2)) * F.mT(F.inv(a))
    if all_true(small):
        return cofactors(a)
    mask = wrap(np.expand_dims(small, (-1, -2)))
    n = a.shape[-1]
    safe = where(mask, wrap(np.eye(n, dtype=dd.dtype)), a)  # no inverse of singular ones
    return where(mask, cofactors(a), F.expand_dims(d, (-1, -2)) * F.mT(F.inv(safe)))


def det(A: Tensor, *, out=None) -> Tensor:
    """The determinant of a square matrix, batched over leading dims (``torch.linalg.det``).

    Parameters
    ----------
    A : float tensor of shape (..., n, n).

    Returns
    -------
    Tensor of shape (...). The gradient is det(A) A^{-T}; at a singular matrix, the cofactor
    matrix (finite; torch's plain backward gives 0 where the determinant is exactly 0).
    """
    check_out("linalg.det", out)
    A = as_tensor(A, "linalg.det")
    a = A._data
    check_matrices("linalg.det", a)
    value, factors = _det_forward(a)
    return make_result(value, _det, (A,), (factors,))


# ---- slogdet and logdet --------------------------------------------------------------------------
@defop("linalg_slogdet", formula="{g0} = {gy} {x0}^{-T}  (sign: no gradient)")
def _slogdet_op(F, g, xs, out, p, needs):
    return (_per_matrix(F, g) * F.inverse_mT(xs[0], p[0]),)


@defop("linalg_slogdet_sign", saves_inputs=False, formula="{g0} = nothing (the sign has no gradient)")
def _slogdet_sign(F, g, xs, out, p, needs):
    return (None,)  # torch's undefined gradient: a leaf reached only through the sign keeps .grad None


_slogdet_sign.node_name = "LinalgSlogdetBackward0"  # torch's sign shares logabsdet's node


def _inverse_mT_unfactored(a):
    return inverse_mT_array(a, None)


def inverse_mT_array(a: np.ndarray, factors) -> np.ndarray:
    """A^{-T} from the forward's LU factors; inf and nan where the LU has a zero pivot, as torch's
    LU solve. (``F.inverse_mT`` on arrays.)"""
    if any_batched(a):  # vmap: once on the physical batch (see cofactor_matrix_array)
        return map_stacked(_inverse_mT_unfactored, (a,), (2,))
    grad, singular = _inverse_t(a, factors)
    if singular is not None:  # (grad is then a fresh C-order array: the flat view writes into it)
        n = a.shape[-1]
        getrs = _routines(a.dtype)[2]
        flat_grad = grad.reshape(-1, n, n)
        eye = np.eye(n, dtype=a.dtype)
        for i in np.flatnonzero(singular):
            lu, piv, _ = _lu_of(a, factors, i)
            flat_grad[i] = getrs(lu, piv, eye)[0]
    if holds_nonfinite(a):  # torch's A^{-T} where A holds an inf or NaN: solve(A^T, I)
        at = np.swapaxes(a, -1, -2)  # from the reference LU of A^T (kernels.lapack_reference)
        grad = solve_nonfinite(at, np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape), grad)
    return grad


def _slogdet_call(who: str, A: Tensor, result_type, sign_tracks_grad: bool = True):
    A = as_tensor(A, who)
    a = A._data
    check_matrices(who, a)
    sign, logabs, factors = _slogdet_forward(a)
    logabsdet = make_result(logabs, _slogdet_op, (A,), (factors,))
    if sign_tracks_grad and tracked(logabsdet):
        if sign.dtype.kind != "c":  # torch's real sign requires grad but passes none back
            sign = make_result(sign, _slogdet_sign, (A,))
            # torch's one node for both: a hook on the one no gradient reaches sees None
            register_outputs(sign, (logabsdet,))
            register_outputs(logabsdet, (sign,))
            return result_type(sign, logabsdet)
        # a complex sign: a zero gradient, from an empty sum of A's entries
        return result_type(A[..., :0, :0].sum((-1, -2)) + wrap(sign), logabsdet)
    return result_type(wrap(sign), logabsdet)


def linalg_slogdet(A: Tensor, *, out=None):
    """The sign and the log of the absolute value of the determinant (``torch.linalg.slogdet``).

    Parameters
    ----------
    A : Tensor
        Float32/float64 tensor of shape ``(*, n, n)``.
    out : None
        Not supported; passing a tensor raises TypeError.

    Returns
    -------
    (sign, logabsdet) : namedtuple ``linalg_slogdet``
        Both of shape ``(*)``: ``sign`` is -1, 0 or 1 and ``logabsdet`` is ``log|det A|``, computed
        from one LU factorisation (no overflow for large determinants).

    Notes
    -----
    For a singular matrix, ``sign`` is 0 and ``logabsdet`` is ``-inf``. The gradient of
    ``logabsdet`` is ``A^{-T}``, read from the forward's saved factors (inf/nan at a singular
    matrix). ``sign`` requires grad when A does, as in torch, but its gradient is zero.
    """
    check_out("linalg.slogdet", out, "tensors")
    return _slogdet_call("linalg.slogdet", A, LinalgSlogdet)


def slogdet(input: Tensor, *, out=None):
    """``torch.slogdet``: ``linalg.slogdet`` with torch's ``slogdet`` result type."""
    check_out("slogdet", out, "tensors")
    return _slogdet_call("linalg.slogdet", input, Slogdet)


def logdet(input: Tensor) -> Tensor:
    """log det(A), batched: nan where det(A) < 0, -inf where A is singular (``torch.logdet``).

    Parameters
    ----------
    input : float tensor of shape (..., n, n).

    Returns
    -------
    Tensor of shape (...); its gradient is A^{-T} (0 where the result is nan).
    """
    input = as_tensor(input, "logdet")
    check_matrices("logdet", input._data)
    sign, logabs = _slogdet_call("logdet", input, LinalgSlogdet, False)
    if type(sign._data) is np.ndarray and not (sign._data == -1).any():
        return logabs  # the usual case: no where node
    return where(sign == -1, float("nan"), logabs)


# det's and slogdet's rules ask F for these: LAPACK on the forward's saved factors on arrays,
# differentiable ops on tensors (create_graph)
register("det_grad", det_grad_array, lambda g, a, d, factors: det_grad_graph(tensor_math(), g, a, d))
register("inverse_mT", inverse_mT_array, lambda a, factors: transpose(inv(a), -1, -2))
