"""``python rank_output.py worker.py args...``: runs the worker with its stdout also written, line by
line, to ``$CHAINRULE_RANK_OUTPUT/rank<r>.txt``. Open MPI 5.0.8's output forwarding dropped a
rank's last line now and then when the rank exited right after MPI_Finalize (even unbuffered), so
``mpi_launch.run_ok`` reads what the ranks printed from these files, not from mpirun's stdout."""

from __future__ import annotations

import os
import runpy
import sys


class _Tee:
    """Writes go to the rank's real stdout and to its file (line-buffered: on disk at each line)."""

    def __init__(self, stream, path: str) -> None:
        self._stream = stream
        self._file = open(path, "a", buffering=1)  # noqa: SIM115 - open for the process's lifetime

    def write(self, text: str) -> int:
        self._file.write(text)
        return self._stream.write(text)

    def flush(self) -> None:
        self._file.flush()
        self._stream.flush()

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


rank = os.environ.get("OMPI_COMM_WORLD_RANK", "0")
sys.stdout = _Tee(sys.stdout, os.path.join(os.environ["CHAINRULE_RANK_OUTPUT"], f"rank{rank}.txt"))
script = os.path.abspath(sys.argv[1])
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(script))
runpy.run_path(script, run_name="__main__")
