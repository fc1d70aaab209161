"""Optional compiled kernels: numba, when it is installed, for the element-wise passes NumPy splits up.

NumPy evaluates an expression one ufunc at a time, each a pass over the whole array on one thread:
GELU's float32 erf is ~26 passes. A numba loop evaluates the whole expression per element in
registers, in one pass, vectorized by LLVM: GELU over 1.57M float32 took 0.30 ms here against 4.5 ms
for NumPy's chunked passes on two threads (torch: 0.27 ms).

numba is an optional extra (``pip install chainrule[jit]``). Without it, or with the environment
variable ``CHAINRULE_JIT=0``, every kernel takes its NumPy path; the tests run both paths against the
same oracle (``set_enabled``).

How the compiled kernels are written (modules ``kernels/_jit_*.py``, imported through :func:`load`):

- ``@njit(nogil=True, cache=True)``, never ``parallel=True``. numba's own thread pool (its default
  "workqueue" layer) aborts the process when two Python threads launch parallel kernels at once;
  chainrule runs a large array's two halves on its own two threads (``kernels.halves``), which is safe
  from any number of user threads and across ``fork``.
- No ``fastmath``: NaN and inf must come out as torch's do (fastmath lets LLVM assume neither occurs).
  Plain element-wise loops vectorize without it.
- ``cache=True``: each kernel is compiled once per machine and dtype (about 0.3 s), then loaded from
  numba's cache. The cache lives in a directory of its own per numba version (:func:`_cache_dir`):
  numba writes a cache index before the compiled code it names, so a process of one numba version
  could read an index of its own version naming code another version wrote, and fail to load LLVM
  bitcode it cannot parse (two virtual environments sharing one source tree did that here).
- numba itself (0.12 s to import) is imported on the first call that wants a kernel, never by
  ``import chainrule``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import threading
import warnings
from types import ModuleType

__all__ = ["enabled", "set_enabled", "load"]

_lock = threading.Lock()
_choice: list[bool | None] = [None]  # set_enabled's override; None: the environment decides
_available: list[bool | None] = [None]  # the default: numba importable and CHAINRULE_JIT not 0
_has_numba: list[bool | None] = [None]  # numba importable (checked once, without importing it)
_modules: dict[str, ModuleType] = {}
_failed: set[str] = set()  # modules whose import raised: their callers take the NumPy path


def _cache_dir(numba_version: str) -> str:
    """Where numba caches chainrule's kernels: ``numba-<version>-py<X.Y>`` under ``NUMBA_CACHE_DIR``
    when the user set it, else under ``__pycache__`` beside this module when that is writable, else
    under the user's cache directory (``$XDG_CACHE_HOME/chainrule`` or ``~/.cache/chainrule``)."""
    import sys

    leaf = f"numba-{numba_version}-py{sys.version_info[0]}.{sys.version_info[1]}"
    user_choice = os.environ.get("NUMBA_CACHE_DIR")
    if user_choice:
        return os.path.join(user_choice, leaf)
    beside = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__", leaf)
    try:
        os.makedirs(beside, exist_ok=True)
        if os.access(beside, os.W_OK):
            return beside
    except OSError:
        pass
    user_cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(user_cache, "chainrule", leaf)


def _import_kernels(name: str) -> ModuleType:
    """Import ``kernels.<name>`` with numba's cache pointed at :func:`_cache_dir`. numba reads
    ``config.CACHE_DIR`` when ``@njit(cache=True)`` runs, that is while the module is imported; the
    user's own setting is restored afterwards, so their numba functions cache where they did."""
    import numba
    from numba.core import config

    previous = config.CACHE_DIR
    config.CACHE_DIR = _cache_dir(numba.__version__)
    try:
        return importlib.import_module(f"{__package__}.{name}")
    finally:
        config.CACHE_DIR = previous


def _default() -> bool:
    """numba importable and ``CHAINRULE_JIT`` not ``0``: read once, on the first call (each op on
    a small tensor asks, and ``os.environ.get`` costs ~1 us)."""
    if _available[0] is None:
        wanted = os.environ.get("CHAINRULE_JIT", "1") != "0"
        _available[0] = wanted and importlib.util.find_spec("numba") is not None
    return _available[0]


def enabled() -> bool:
    """Whether the compiled kernels are used: numba is installed and neither ``CHAINRULE_JIT=0`` (read
    on the first call) nor :func:`set_enabled` (False) turned them off."""
    choice = _choice[0]
    return _default() if choice is None else choice and _numba_available()


def _numba_available() -> bool:
    if _has_numba[0] is None:
        _has_numba[0] = importlib.util.find_spec("numba") is not None
    return _has_numba[0]


def set_enabled(flag: bool | None) -> bool | None:
    """Use the compiled kernels (``True``, where numba is installed), the NumPy paths (``False``), or
    what the environment says (``None``); returns the previous setting, for restoring it."""
    previous = _choice[0]
    _choice[0] = flag
    return previous


def load(name: str) -> ModuleType | None:
    """The compiled-kernel module ``chainrule.kernels.<name>`` when :func:`enabled`, else None.

    The module is imported on first use (it imports numba); its kernels compile on their first call.
    Where the import fails (numba broken, or no writable directory for numba's cache), this warns
    once and returns None, so that the caller's NumPy path runs.
    """
    if not enabled():
        return None
    module = _modules.get(name)
    if module is None:
        with _lock:
            module = _modules.get(name)
            if module is None and name not in _failed:
                try:
                    module = _import_kernels(name)
                except Exception as error:  # a broken numba install, no writable cache directory, ...
                    _failed.add(name)
                    warnings.warn(
                        f"chainrule: the compiled kernels of {name} are off, their NumPy path runs "
                        f"instead: importing them failed ({type(error).__name__}: {error}). Set "
                        "CHAINRULE_JIT=0 to use the NumPy paths without this warning, or NUMBA_CACHE_DIR "
                        "to a writable directory if numba could not cache the kernels.",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                    return None
                _modules[name] = module
    return module
