"""DistributedDataParallel under a real mpirun: with per-rank batch B on 2 (and 3) ranks it ends
where one process with the whole batch ends, also with no_sync accumulation, unused parameters,
BatchNorm buffers and a checkpoint saved by rank 0."""

from __future__ import annotations

from pathlib import Path

import pytest
from mpi_launch import run_ok

WORKER = str(Path(__file__).parent / "ddp_worker.py")


@pytest.mark.parametrize(
    ("scenario", "n"),
    [
        ("sgd", 2),
        ("sgd", 3),
        ("no_sync", 2),
        ("unused", 2),
        ("unused_error", 2),
        ("twice", 2),
        ("buffers", 2),
        ("checkpoint", 2),
        ("syncbn", 2),
        ("syncbn", 3),
        ("zero", 2),
        ("zero", 3),
    ],
)
def test_ddp_matches_one_process_on_the_whole_batch(scenario, n):
    lines = run_ok([WORKER, scenario], n)
    assert sorted(line for line in lines if " ok " in line) == [f"rank {r} ok {scenario}" for r in range(n)]
    if scenario in ("unused_error", "twice"):
        assert sum("raised as torch" in line for line in lines) == n
