"""The inverse of a matrix from its LU or Cholesky factors, in BLAS-3 products: det's and logdet's
gradient.

logdet's backward needs A^{-T} in C order (the layout of A and of its ``.grad``), from the LU of
B = A^T that the forward kept (a C-order A is B in Fortran order: LAPACK factors it with no
transposed copy). With B = P L U, the Fortran-order matrix whose memory is C-order A^{-T} is
A^{-1} = B^{-T} = P L^{-T} U^{-T}, built in place:

1. invert U and the unit lower L in a copy of the factors, each triangle by halves: the inverse
   of [[T11, T12], [0, T22]] has -T11^{-1} T12 T22^{-1} above the diagonal, two ``trmm``
   products on the inverted halves (LAPACK's ``trtri`` below _BLOCK rows);
2. write U^{-1} into a C-order array, zeros below its diagonal (one transposing pass): read in
   Fortran order it is U^{-T};
3. multiply it by L^{-T} in place (``trmm``) and undo the row interchanges (``laswp``).

Why not LAPACK's ``getri`` on the factors: OpenBLAS runs its blocked loop at 256 x 256 at about
15 GFLOP/s against ``trmm``'s 40-50 (one thread, AVX-512), and its result, inv(B) in Fortran
order, is A^{-T} in the wrong memory order, which cost the engine a transposing copy on top
(the ``.grad`` keeps the parameter's layout). Measured in alternating windows, one thread, on a
loaded machine (medians of 7): getri and the copy against this, 0.86x at 192 x 192, 0.9x at 256,
0.91x at 512, but 1.2x at 128 and 1.8x at 64 (where getri stays: ops/linalg_det.py). Halves
down to 64 rows: a plain ``trtri`` on a whole 256 x 256 triangle took 2.0-2.3x as long, and
halving down to 32 or 16 rows gained nothing.

``inverse_from_cholesky`` does the same for A = L L^T: A^{-1} = L^{-T} L^{-1}, symmetric, so
either memory order reads the same; 634-814 us at 256 x 256 against 1114-1235 for the LU's.
"""

from __future__ import annotations

import numpy as np

_BLOCK = 64  # triangles up to this size go to LAPACK's trtri whole
_MASKS: dict[tuple[int, int], np.ndarray] = {}  # triangle masks by (size, diagonal), sizes up to 2048


def invert_triangle(blas, t: np.ndarray, *, upper: bool, unit: bool = False) -> None:
    """Invert the (upper or unit-diagonal lower) triangle of the column-major square block ``t``
    in place; the other triangle is left as it is. Its diagonal must have no zero."""
    m = t.shape[0]
    if m <= _BLOCK:
        blas.trtri(t, upper=upper, unit=unit)
        return
    k = m // 2
    first, second = t[:k, :k], t[k:, k:]
    invert_triangle(blas, first, upper=upper, unit=unit)
    invert_triangle(blas, second, upper=upper, unit=unit)
    if upper:  # T12 <- -T11^{-1} T12 T22^{-1}
        block = t[:k, k:]
        blas.trmm(-1.0, first, block, left=True, upper=True, unit=unit)
        blas.trmm(1.0, second, block, left=False, upper=True, unit=unit)
    else:  # T21 <- -T22^{-1} T21 T11^{-1}
        block = t[k:, :k]
        blas.trmm(-1.0, second, block, left=True, upper=False, unit=unit)
        blas.trmm(1.0, first, block, left=False, upper=False, unit=unit)


def _mask(n: int, k: int = 0) -> np.ndarray:
    """The boolean mask of the triangle on and above the k-th diagonal."""
    mask = _MASKS.get((n, k))
    if mask is None:
        mask = np.triu(np.ones((n, n), dtype=bool), k)
        if n <= 2048:
            _MASKS[n, k] = mask
    return mask


def inverse_transposed(blas, lu: np.ndarray, pivots: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """A^{-T} as a C-order array from ``getrf``'s factors of A^T (``lu``: Fortran order, left
    as it is; ``pivots``: 0-based, as SciPy's). The factors must have no zero pivot (info 0).
    ``out``: a C-contiguous (n, n) array to write into, else a new one."""
    n = lu.shape[0]
    work = np.array(lu, order="F")
    invert_triangle(blas, work, upper=True)
    invert_triangle(blas, work, upper=False, unit=True)
    if out is None:
        out = np.zeros((n, n), dtype=lu.dtype)
    else:
        out[...] = 0
    np.copyto(out, work, where=_mask(n))  # C order: U^{-1}; read in Fortran order, U^{-T}
    product = out.T  # the Fortran-order view
    blas.trmm(1.0, work, product, left=True, upper=False, transpose=True, unit=True)
    blas.swap_rows_back(product, pivots.astype(blas.int_dtype) + 1)
    return out


def inverse_from_cholesky(blas, lower: np.ndarray) -> np.ndarray:
    """A^{-1} (= A^{-T}) as a C-order array from the Cholesky factor L of the symmetric positive
    definite A (``lower``: in the lower triangle of a Fortran-order array, left as it is):
    L^{-1} by halves (above), then A^{-1} = L^{-T} L^{-1} in its lower triangle (``lauum``: n^3/3
    multiply-adds, against getri's 4n^3/3 on LU factors), mirrored into the upper one."""
    n = lower.shape[0]
    work = np.array(lower, order="F")
    invert_triangle(blas, work, upper=False)
    blas.lauum(work)
    out = np.empty((n, n), dtype=lower.dtype)
    np.copyto(out.T, work, where=_mask(n).T)  # the lower triangle, as columns of the upper one
    np.copyto(out, work, where=_mask(n, 1).T)  # and as itself (a transposing read)
    return out
