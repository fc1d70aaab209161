"""At import, chainrule runs the OpenBLAS bundled with SciPy with one thread (see _threads.py), so
that SciPy's and NumPy's BLAS thread pools do not fight for the cores; the user's settings win.
Each case runs in a fresh interpreter, since the setting is process-wide."""

from __future__ import annotations

import glob
import os
import subprocess
import sys

import pytest
import scipy

LIBS = glob.glob(os.path.join(os.path.dirname(scipy.__file__) + ".libs", "libscipy_openblas*.so*"))
pytestmark = pytest.mark.skipif(not LIBS, reason="this SciPy does not bundle its own OpenBLAS")

PROBE = f"""
import ctypes
import chainrule
print(ctypes.CDLL({LIBS[0] if LIBS else None!r}).scipy_openblas_get_num_threads())
"""  # (without a library the module is skipped: the probe never runs)


def scipy_blas_threads(**env: str) -> int:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("OPENBLAS_NUM_THREADS", "CHAINRULE_SCIPY_BLAS_THREADS")}
    environ.update(env)
    run = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=environ,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    return int(run.stdout.split()[-1])


def test_scipy_blas_runs_one_thread_after_import() -> None:
    assert scipy_blas_threads() == 1


def test_the_users_settings_win() -> None:
    if (os.cpu_count() or 1) > 1:  # 'keep': OpenBLAS's own choice, one thread per core
        assert scipy_blas_threads(CHAINRULE_SCIPY_BLAS_THREADS="keep") > 1
    assert scipy_blas_threads(CHAINRULE_SCIPY_BLAS_THREADS="2") == 2
    assert scipy_blas_threads(OPENBLAS_NUM_THREADS="2") == 2
