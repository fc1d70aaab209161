"""The optional compiled kernels (chainrule.kernels.jit): switched by CHAINRULE_JIT and set_enabled,
numba imported only when a kernel is wanted, and safe from several Python threads at once."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import threading

import numpy as np
import pytest

from chainrule.kernels import jit

needs_numba = pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="numba is not installed")


def _run(code: str, **env: str) -> str:
    import os

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_import_chainrule_does_not_import_numba():
    out = _run("import sys, chainrule; print('numba' in sys.modules)")
    assert out == "False"


@needs_numba
def test_the_environment_variable_switches_the_compiled_kernels_off():
    code = "from chainrule.kernels import jit; print(jit.enabled(), jit.load('_jit_gelu'))"
    assert _run(code, CHAINRULE_JIT="0") == "False None"
    assert _run(code, CHAINRULE_JIT="1").startswith("True <module 'chainrule.kernels._jit_gelu'")


@needs_numba
def test_set_enabled_overrides_and_restores():
    previous = jit.set_enabled(False)
    try:
        assert not jit.enabled() and jit.load("_jit_gelu") is None
        jit.set_enabled(True)
        assert jit.enabled() and jit.load("_jit_gelu") is jit.load("_jit_gelu")
    finally:
        jit.set_enabled(previous)


@needs_numba
def test_gelu_from_four_threads_at_once_gives_one_threads_numbers():
    """numba's own thread pool would abort on concurrent launches; chainrule's kernels have none."""
    import chainrule

    previous = jit.set_enabled(True)
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal(300_000).astype(np.float32) for _ in range(4)]
    try:
        expected = [chainrule.nn.functional.gelu(chainrule.tensor(x)).numpy() for x in inputs]
        results: list = [None] * 4

        def work(i: int) -> None:
            for _ in range(5):
                results[i] = chainrule.nn.functional.gelu(chainrule.tensor(inputs[i])).numpy()

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        jit.set_enabled(previous)
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got, want)


@needs_numba
def test_a_kernel_module_that_cannot_be_imported_warns_once_and_gives_the_numpy_path():
    previous = jit.set_enabled(True)
    try:
        with pytest.warns(RuntimeWarning, match="_jit_no_such_kernels are off.*ModuleNotFoundError"):
            assert jit.load("_jit_no_such_kernels") is None
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert jit.load("_jit_no_such_kernels") is None  # once: no second warning
    finally:
        jit.set_enabled(previous)


@needs_numba
def test_kernels_cache_in_a_directory_of_their_own_numba_version(tmp_path):
    """numba writes its cache index before the code it names: a process of another numba version that
    shares the directory can read an index naming bitcode its LLVM cannot parse (CI did, with two
    virtual environments on one source tree). Each version gets its own directory; the user's
    NUMBA_CACHE_DIR is the parent, and numba's setting is restored after chainrule's kernels load."""
    code = (
        "import numba, numpy as np, chainrule\n"
        "from numba.core import config\n"
        "from chainrule.kernels import jit\n"
        "x = chainrule.tensor(np.linspace(-3, 3, 1000, dtype=np.float32))\n"
        "chainrule.nn.functional.gelu(x)\n"
        "assert jit.load('_jit_gelu') is not None\n"
        "print(numba.__version__, config.CACHE_DIR)"
    )
    version, cache_dir = _run(code, NUMBA_CACHE_DIR=str(tmp_path), CHAINRULE_JIT="1").split()
    assert cache_dir == str(tmp_path)
    written = {p.parent.parent.name for p in tmp_path.rglob("*.nbi")}
    assert written == {f"numba-{version}-py{sys.version_info[0]}.{sys.version_info[1]}"}
