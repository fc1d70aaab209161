"""Keep SciPy's own BLAS from fighting NumPy's for the cores.

NumPy and SciPy wheels each bundle their own OpenBLAS, with their own thread pools. After a call,
an OpenBLAS pool's threads keep spinning for a while; when the next call goes to the other library,
its threads wait for those cores. Measured on 2 cores: a 256x256 NumPy matmul (0.19 ms) followed by a
SciPy LU (0.38 ms) took 14.5 ms per pair, and a small GEMM followed by a SciPy axpy 10.6 ms. chainrule
calls SciPy's LAPACK in a few linalg ops (the one-LU logdet, solve_triangular, cholesky, matrix_exp,
lstsq), typically between NumPy matmuls, so at import it runs SciPy's pool with one thread: the
pair above then takes 0.7 ms. NumPy's BLAS keeps all its threads.

Only when SciPy's wheel bundles its own OpenBLAS (``scipy.libs``); skipped when the user sets
``OPENBLAS_NUM_THREADS`` or ``CHAINRULE_SCIPY_BLAS_THREADS`` (a number, or ``keep``). threadpoolctl does
the same job by enumerating every loaded library, which costs ~70 ms at import; this needs one symbol.
"""

from __future__ import annotations

import ctypes
import glob
import os


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


def _numpy_blas():
    """NumPy's bundled OpenBLAS (``numpy.libs``), or None (a NumPy built on another BLAS)."""
    import numpy

    for path in glob.glob(os.path.join(os.path.dirname(numpy.__file__) + ".libs", "libscipy_openblas*.so*")):
        try:
            lib = ctypes.CDLL(path)
            getter, setter = lib.scipy_openblas_get_num_threads64_, lib.scipy_openblas_set_num_threads64_
        except (OSError, AttributeError):
            continue
        setter.argtypes = (ctypes.c_int,)
        return getter, setter
    return None


_requested = [os.cpu_count() or 1]  # what set_num_threads was given, where the BLAS can't be asked


def get_num_threads() -> int:
    """The threads chainrule's matrix products use (NumPy's BLAS pool), as ``torch.get_num_threads``."""
    blas = _numpy_blas()
    return int(blas[0]()) if blas is not None else _requested[0]


def set_num_threads(threads: int) -> None:
    """Set the threads of NumPy's BLAS pool (``torch.set_num_threads``); element-wise NumPy code is
    single-threaded whatever this says."""
    if int(threads) <= 0:
        raise RuntimeError(f"set_num_threads: number of threads must be positive, got {threads}")
    _requested[0] = int(threads)
    blas = _numpy_blas()
    if blas is not None:
        blas[1](int(threads))


_interop = [os.cpu_count() or 1]


def get_num_interop_threads() -> int:
    """torch's inter-op pool size; chainrule runs ops one after another, so this is bookkeeping."""
    return _interop[0]


def set_num_interop_threads(threads: int) -> None:
    if int(threads) <= 0:
        raise RuntimeError(f"set_num_interop_threads: number of threads must be positive, got {threads}")
    _interop[0] = int(threads)
