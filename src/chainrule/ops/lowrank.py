"""Randomized low-rank factorizations and LOBPCG: ``torch.svd_lowrank``, ``torch.pca_lowrank``,
``torch.lobpcg``.

``svd_lowrank`` is Halko, Martinsson and Tropp's randomized range finder (Algorithm 5.1) written,
as torch's, over differentiable ``matmul``, ``linalg.qr`` and ``linalg.svd``: its gradients come
from theirs. The random start is drawn from chainrule's generator, so the factors differ from
torch's draw by draw; what both approximate (the leading singular values, and ``U diag(S) V^T``
when ``q`` covers the rank) agrees.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
import scipy.sparse.linalg

from .. import _dtype
from ._common import Tensor, as_tensor
from .creation import randn
from .elementwise import sub
from .join import stack
from .linalg import matmul
from .linalg_decomp import eigh, linalg_svd
from .linalg_qr import linalg_qr
from .reduce import mean

__all__ = ["lobpcg", "pca_lowrank", "svd_lowrank"]


def _float_dtype(A: Tensor) -> _dtype.dtype:
    return A.dtype if A.dtype._kind >= 2 else _dtype.get_default_dtype()


def _approximate_basis(A: Tensor, q: int, niter: int, M: Tensor | None) -> Tensor:
    """An orthonormal ``(m, q)`` basis approximately spanning the range of ``A - M``, by power
    iterations of a random start (each product re-orthonormalized by QR)."""
    R = randn(A.shape[-1], q, dtype=_float_dtype(A))
    X = matmul(A, R)
    if M is not None:
        X = X - matmul(M, R)
    Q = linalg_qr(X).Q
    for _ in range(niter):
        X = matmul(A.mH, Q)
        if M is not None:
            X = X - matmul(M.mH, Q)
        Q = linalg_qr(X).Q
        X = matmul(A, Q)
        if M is not None:
            X = X - matmul(M, Q)
        Q = linalg_qr(X).Q
    return Q


def _svd_lowrank(A: Tensor, q: int, niter: int, M: Tensor | None) -> tuple:
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.shape)
    if m < n:  # work on the tall one
        A = A.mH
        M = None if M is None else M.mH
    Q = _approximate_basis(A, q, niter, M)
    B = matmul(Q.mH, A)
    if M is not None:
        B = B - matmul(Q.mH, M)
    U, S, Vh = linalg_svd(B, full_matrices=False)
    V = Vh.mH
    U = matmul(Q, U)
    if m < n:
        U, V = V, U
    return U, S, V


def _check_matrix(A, who: str) -> Tensor:
    A = as_tensor(A, who)
    if A.ndim < 2:
        raise RuntimeError(f"{who}: expected a matrix or a batch of matrices, got shape {list(A.shape)}")
    return A


def svd_lowrank(A: Tensor, q: int | None = 6, niter: int | None = 2, M: Tensor | None = None) -> tuple:
    """A randomized rank-``q`` SVD ``A - M ~ U diag(S) V^T`` of ``A`` ``(*, m, n)``.

    Returns
    -------
    (U, S, V): ``(*, m, q)``, ``(*, q)``, ``(*, n, q)``.
    """
    A = _check_matrix(A, "svd_lowrank")
    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    return _svd_lowrank(A, q, niter, None if M is None else as_tensor(M, "svd_lowrank"))


def pca_lowrank(A: Tensor, q: int | None = None, center: bool = True, niter: int = 2) -> tuple:
    """The principal components of the rows of ``A`` ``(*, m, n)`` by ``svd_lowrank`` of ``A``
    less its column means (``center``); ``q`` defaults to ``min(6, m, n)``."""
    A = _check_matrix(A, "pca_lowrank")
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return _svd_lowrank(A, q, niter, None)
    return _svd_lowrank(sub(A, mean(A, -2, keepdim=True)), q, niter, None)


_EPS = {np.dtype(np.float32): 1.2e-07, np.dtype(np.float64): 2.23e-16}


def lobpcg(
    A: Tensor,
    k: int | None = None,
    B: Tensor | None = None,
    X: Tensor | None = None,
    n: int | None = None,
    iK: Tensor | None = None,
    niter: int | None = None,
    tol: float | None = None,
    largest: bool | None = None,
    method: str | None = None,
    tracker=None,
    ortho_iparams: dict | None = None,
    ortho_fparams: dict | None = None,
    ortho_bparams: dict | None = None,
) -> tuple:
    """The ``k`` largest (or smallest) eigenpairs of the symmetric (generalized: ``A x = e B x``)
    eigenproblem by LOBPCG.

    The iteration (SciPy's LOBPCG, from ``X`` or a random start from chainrule's generator) finds
    the invariant subspace to ``tol``; the eigenpairs are then the Rayleigh-Ritz pairs of ``A`` on
    that subspace, computed with differentiable ops: the eigenvalues' gradient with respect to
    ``A`` is exact (``x x^T``); the eigenvectors' gradient covers rotations within the subspace.

    Returns
    -------
    (E, X): eigenvalues ``(k,)`` and eigenvectors ``(m, k)``.
    """
    who = "lobpcg"
    A = _check_matrix(A, who)
    m = A.shape[-1]
    if A.shape[-2] != m:
        raise AssertionError(f"A must be square, got shape {list(A.shape)}")
    if A.ndim > 2:  # a batch: one solve per matrix
        pairs = [
            lobpcg(
                A[i],
                k,
                None if B is None else B[i],
                None if X is None else X[i],
                n,
                iK,
                niter,
                tol,
                largest,
                method,
            )
            for i in range(A.shape[0])
        ]
        return stack([e for e, _ in pairs]), stack([x for _, x in pairs])
    if B is not None and tuple(B.shape) != tuple(A.shape):
        raise AssertionError(f"A and B must have the same shapes, got {list(A.shape)} and {list(B.shape)}")
    if method not in (None, "ortho", "basic"):
        raise ValueError(f"{who}: method must be 'ortho' or 'basic', got {method!r}")
    k = 1 if k is None else k
    n = (k if X is None else X.shape[-1]) if n is None else n
    if m < 3 * n:
        raise ValueError(
            f"LPBPCG algorithm is not applicable when the number of A rows (={m}) is smaller than 3 x the "
            f"number of requested eigenpairs (={n})"
        )
    largest = True if largest is None else largest
    dtype = np.dtype(A._data.dtype)
    tol = _EPS.get(dtype, 2.23e-16) ** 0.5 if tol is None else tol
    niter = 1000 if niter is None else (niter if niter >= 0 else 10_000)
    a = np.asarray(A.detach()._data, np.float64)
    b = None if B is None else np.asarray(B.detach()._data, np.float64)
    start = X if X is not None else randn(m, n, dtype=_float_dtype(A))
    x0 = np.asarray(start.detach()._data, np.float64)
    precond = None if iK is None else np.asarray(iK.detach()._data, np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SciPy warns for small problems (it solves them densely)
        _, vectors = scipy.sparse.linalg.lobpcg(
            a, x0, B=b, M=precond, tol=tol, maxiter=max(niter, 1), largest=largest
        )
    # B-orthonormal basis of the subspace found, then the Rayleigh-Ritz pairs on it
    gram = vectors.T @ (vectors if b is None else b @ vectors)
    basis = vectors @ np.linalg.inv(scipy.linalg.cholesky(gram, lower=False))
    Q = as_tensor(basis.astype(dtype))
    T = matmul(Q.mT, matmul(A, Q))
    T = (T + T.mT) * 0.5
    values, rotation = eigh(T)
    order = np.arange(n)[::-1] if largest else np.arange(n)
    order = as_tensor(order[:k].copy())
    return values[order], matmul(Q, rotation)[:, order]
