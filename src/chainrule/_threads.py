"""One thread policy for the two OpenBLAS libraries in the process, and NumPy's OpenBLAS routines.

NumPy and SciPy wheels each bundle their own OpenBLAS, with their own thread pools. After a call,
an OpenBLAS pool's threads keep spinning for a while; when the next call goes to the other library,
its threads wait for those cores. Measured on 2 cores: a 256x256 NumPy matmul (0.19 ms) followed by a
SciPy LU (0.38 ms) took 14.5 ms per pair, and a small GEMM followed by a SciPy axpy 10.6 ms.

The policy: NumPy's pool does all the multi-threaded work (``set_num_threads`` sizes it, as
``torch.set_num_threads``), and SciPy's runs with one thread (at import), so the two never fight.
The hot routines that chainrule used to call through SciPy (logdet's LU and inverse, the
optimizers' axpy) go to NumPy's OpenBLAS instead, through ctypes (``numpy_blas``): they share
NumPy's pool and use all its threads. Where NumPy does not bundle an OpenBLAS (another build),
``numpy_blas`` gives None and callers use SciPy's routines.

SciPy's setting is skipped when the user sets ``OPENBLAS_NUM_THREADS`` or
``CHAINRULE_SCIPY_BLAS_THREADS`` (a number, or ``keep``). threadpoolctl does the same job by
enumerating every loaded library, which costs ~70 ms at import; this needs one symbol.
"""

from __future__ import annotations

import ctypes
import glob
import os

import numpy as np


def limit_scipy_blas(threads: int = 1) -> bool:
    """Set the thread count of the OpenBLAS bundled with SciPy; returns whether it was done."""
    wanted = os.environ.get("CHAINRULE_SCIPY_BLAS_THREADS")
    if wanted == "keep" or "OPENBLAS_NUM_THREADS" in os.environ:
        return False
    if wanted is not None:
        threads = int(wanted)
    import scipy
    import scipy.linalg  # noqa: F401  (loads the bundled library)

    for path in glob.glob(os.path.join(os.path.dirname(scipy.__file__) + ".libs", "libscipy_openblas*.so*")):
        try:
            setter = ctypes.CDLL(path).scipy_openblas_set_num_threads
        except (OSError, AttributeError):
            continue
        setter.argtypes = (ctypes.c_int,)
        setter(threads)
        return True
    return False


# ---- NumPy's OpenBLAS ---------------------------------------------------------------------------
_ptr = ctypes.c_void_p
_CBLAS_ROW_MAJOR, _CBLAS_COL_MAJOR, _CBLAS_NO_TRANS, _CBLAS_TRANS = 101, 102, 111, 112
_CBLAS_UPPER, _CBLAS_LOWER, _CBLAS_NON_UNIT, _CBLAS_UNIT = 121, 122, 131, 132
_CBLAS_LEFT, _CBLAS_RIGHT = 141, 142


class NumpyBlas:
    """The routines chainrule calls from the OpenBLAS bundled with NumPy (``numpy.libs``).

    Integer arguments have the library's width (NumPy's wheels use 64-bit integers, ILP64).
    Each method takes NumPy arrays and checks nothing: callers pass contiguous arrays of the
    routine's dtype.
    """

    def __init__(self, lib: ctypes.CDLL, prefix: str, suffix: str, cblas_suffix: str, integer) -> None:
        def fn(name: str, restype, *argtypes):
            f = getattr(lib, prefix + name)
            f.restype, f.argtypes = restype, argtypes
            return f

        self.integer = integer
        self.int_dtype = np.dtype(np.int64 if integer is ctypes.c_int64 else np.int32)
        i, ip, c = integer, ctypes.POINTER(integer), ctypes.c_int
        self.get_num_threads = fn("openblas_get_num_threads" + cblas_suffix, c)
        self.set_num_threads = fn("openblas_set_num_threads" + cblas_suffix, None, c)
        self._axpy = {
            np.dtype(t): fn(f"cblas_{k}axpy" + cblas_suffix, None, i, scalar, _ptr, i, _ptr, i)
            for t, k, scalar in ((np.float32, "s", ctypes.c_float), (np.float64, "d", ctypes.c_double))
        }
        self._getrf = {
            np.dtype(t): fn(f"{k}getrf" + suffix, None, ip, ip, _ptr, ip, _ptr, ip)
            for t, k in ((np.float32, "s"), (np.float64, "d"))
        }
        self._getri = {
            np.dtype(t): fn(f"{k}getri" + suffix, None, ip, _ptr, ip, _ptr, _ptr, ip, ip)
            for t, k in ((np.float32, "s"), (np.float64, "d"))
        }
        self._trmm = {
            # (order, side, uplo, transpose, diag, m, n, alpha, a, lda, b, ldb)
            np.dtype(t): fn(f"cblas_{k}trmm" + cblas_suffix, None, *(c,) * 5, i, i, scalar, _ptr, i, _ptr, i)
            for t, k, scalar in ((np.float32, "s", ctypes.c_float), (np.float64, "d", ctypes.c_double))
        }
        ch = ctypes.c_char_p
        self._trtri = {
            np.dtype(t): fn(f"{k}trtri" + suffix, None, ch, ch, ip, _ptr, ip, ip)
            for t, k in ((np.float32, "s"), (np.float64, "d"))
        }
        self._potrf = {
            np.dtype(t): fn(f"{k}potrf" + suffix, None, ch, ip, _ptr, ip, ip)
            for t, k in ((np.float32, "s"), (np.float64, "d"))
        }
        self._lauum = {
            np.dtype(t): fn(f"{k}lauum" + suffix, None, ch, ip, _ptr, ip, ip)
            for t, k in ((np.float32, "s"), (np.float64, "d"))
        }
        self._laswp = {
            np.dtype(t): fn(f"{k}laswp" + suffix, None, ip, _ptr, ip, ip, ip, _ptr, ip)
            for t, k in ((np.float32, "s"), (np.float64, "d"))
        }

    def axpy(self, alpha: float, x: np.ndarray, y: np.ndarray) -> None:
        """``y += alpha * x`` in place, one pass; x and y contiguous, of the same float dtype."""
        self._axpy[y.dtype](y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)

    def getrf(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """LU factors of the square matrix ``a`` as SciPy's ``getrf`` gives them: (factors in a
        Fortran-order copy, 0-based pivots, LAPACK's info)."""
        lu = np.array(a, order="F", copy=True)
        n = lu.shape[0]
        piv = np.empty(n, self.int_dtype)
        size, info = self.integer(n), self.integer(0)
        self._getrf[lu.dtype](size, size, lu.ctypes.data, size, piv.ctypes.data, info)
        piv -= 1
        return lu, piv, int(info.value)

    def getri(self, lu: np.ndarray, piv: np.ndarray) -> tuple[np.ndarray, int]:
        """The inverse from ``getrf``'s factors (left as they are), as SciPy's ``getri``."""
        inv = np.array(lu, order="F", copy=True)
        n = inv.shape[0]
        ipiv = piv.astype(self.int_dtype) + 1
        lwork = max(1, 64 * n)
        work = np.empty(lwork, inv.dtype)
        size, info = self.integer(n), self.integer(0)
        data, pivots, lw = inv.ctypes.data, ipiv.ctypes.data, self.integer(lwork)
        self._getri[inv.dtype](size, data, size, pivots, work.ctypes.data, lw, info)
        return inv, int(info.value)

    # The triangular routines below work in place on column-major blocks: a Fortran-order array or
    # a block of one (``w[:k, k:]``), whose leading dimension is its column stride.
    def trmm(
        self,
        alpha: float,
        a: np.ndarray,
        b: np.ndarray,
        *,
        left: bool,
        upper: bool,
        transpose=False,
        unit=False,
    ) -> None:
        """``b = alpha op(a) b`` (``left``) or ``b = alpha b op(a)``, with ``a`` triangular (its
        ``upper`` or lower triangle; ``unit``: ones on the diagonal, not read)."""
        item = b.itemsize
        self._trmm[b.dtype](
            _CBLAS_COL_MAJOR,
            _CBLAS_LEFT if left else _CBLAS_RIGHT,
            _CBLAS_UPPER if upper else _CBLAS_LOWER,
            _CBLAS_TRANS if transpose else _CBLAS_NO_TRANS,
            _CBLAS_UNIT if unit else _CBLAS_NON_UNIT,
            b.shape[0],
            b.shape[1],
            alpha,
            a.ctypes.data,
            a.strides[1] // item,
            b.ctypes.data,
            b.strides[1] // item,
        )

    def trtri(self, a: np.ndarray, *, upper: bool, unit: bool = False) -> int:
        """Invert the triangle of the square block ``a`` in place (LAPACK's info: > 0 where a
        diagonal entry is zero)."""
        n, lda, info = self.integer(a.shape[0]), self.integer(a.strides[1] // a.itemsize), self.integer(0)
        self._trtri[a.dtype](b"U" if upper else b"L", b"U" if unit else b"N", n, a.ctypes.data, lda, info)
        return int(info.value)

    def potrf(self, a: np.ndarray) -> tuple[np.ndarray, int]:
        """The Cholesky factor L (A = L L^T) of the symmetric C-contiguous ``a``, from its lower
        triangle, in the lower triangle of a Fortran-order copy (the upper one keeps A's entries),
        and LAPACK's info (> 0: not positive definite)."""
        lower = np.array(a.T, order="F")  # A^T = A: a plain copy, not a transposing one
        n, info = self.integer(a.shape[0]), self.integer(0)
        self._potrf[lower.dtype](b"L", n, lower.ctypes.data, n, info)
        return lower, int(info.value)

    def lauum(self, a: np.ndarray) -> None:
        """``L^T L`` into the lower triangle of ``a`` (column-major), from the lower triangle L
        that it holds; the strictly upper triangle is left as it is."""
        n, lda = self.integer(a.shape[0]), self.integer(a.strides[1] // a.itemsize)
        self._lauum[a.dtype](b"L", n, a.ctypes.data, lda, self.integer(0))

    def swap_rows_back(self, a: np.ndarray, pivots: np.ndarray) -> None:
        """Undo ``getrf``'s row interchanges on ``a`` (square, column-major): the swaps of the
        1-based ``pivots`` (of the library's integer type) in reverse order, in place."""
        n, lda = self.integer(a.shape[0]), self.integer(a.strides[1] // a.itemsize)
        one, back = self.integer(1), self.integer(-1)
        self._laswp[a.dtype](self.integer(a.shape[1]), a.ctypes.data, lda, one, n, pivots.ctypes.data, back)


def _load_numpy_blas() -> NumpyBlas | None:
    for path in glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "libscipy_openblas*.so*")):
        try:
            lib = ctypes.CDLL(path)
            # scipy-openblas64 names: scipy_dgetrf_64_ (Fortran), scipy_cblas_saxpy64_ (C)
            return NumpyBlas(lib, "scipy_", "_64_", "64_", ctypes.c_int64)
        except (OSError, AttributeError):
            continue
    return None


_numpy_blas: list = []


def numpy_blas() -> NumpyBlas | None:
    """NumPy's bundled OpenBLAS, or None (a NumPy built on another BLAS)."""
    if not _numpy_blas:
        _numpy_blas.append(_load_numpy_blas())
    return _numpy_blas[0]


# ---- torch's thread settings ---------------------------------------------------------------------
_requested = [os.cpu_count() or 1]  # what set_num_threads was given, where the BLAS can't be asked


def get_num_threads() -> int:
    """The threads chainrule's matrix products use (NumPy's BLAS pool), as ``torch.get_num_threads``."""
    blas = numpy_blas()
    return int(blas.get_num_threads()) if blas is not None else _requested[0]


def set_num_threads(threads: int) -> None:
    """Set the threads of NumPy's BLAS pool (``torch.set_num_threads``), which runs chainrule's
    matrix products, LU factorisations and optimizer updates; element-wise NumPy code is
    single-threaded whatever this says."""
    if int(threads) <= 0:
        raise RuntimeError(f"set_num_threads: number of threads must be positive, got {threads}")
    _requested[0] = int(threads)
    blas = numpy_blas()
    if blas is not None:
        blas.set_num_threads(int(threads))


_interop = [os.cpu_count() or 1]


def get_num_interop_threads() -> int:
    """torch's inter-op pool size; chainrule runs ops one after another, so this is bookkeeping."""
    return _interop[0]


def set_num_interop_threads(threads: int) -> None:
    if int(threads) <= 0:
        raise RuntimeError(f"set_num_interop_threads: number of threads must be positive, got {threads}")
    _interop[0] = int(threads)
