"""Every collective under a real mpirun with 2 and 3 processes, against the same computation in
one process (collectives_worker.py); errors and debug checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from mpi_launch import run_ok

HERE = Path(__file__).parent


@pytest.mark.parametrize("n", [2, 3])
def test_every_collective_matches_one_process(n):
    lines = run_ok([str(HERE / "collectives_worker.py")], n)
    done = sorted(line for line in lines if " ok " in line)
    assert [line.split(" ok ")[0] for line in done] == [f"rank {r}" for r in range(n)]
    assert all(int(line.split(" ok ")[1]) > 50 for line in done)
