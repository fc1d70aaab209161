"""Failure behaviour under a real mpirun: a rank that raises ends the whole job promptly with its
error; mismatched collectives raise a clear error under CHAINRULE_DISTRIBUTED_DEBUG=DETAIL."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from mpi_launch import launch, run_ok

import chainrule as torch
import chainrule.distributed as dist

WORKER = str(Path(__file__).parent / "failing_worker.py")


def test_a_rank_that_raises_ends_every_rank_within_10_seconds():
    result = launch([WORKER, "raise"], 3, timeout=60)
    ended = time.time()
    assert result.returncode != 0
    assert "ValueError: rank 1 gave up at step 3" in result.stderr
    said = next(line for line in result.stdout.splitlines() if line.startswith("raising at"))
    raised = float(said.split()[-1])
    assert ended - raised < 10, f"the job took {ended - raised:.1f} s to end after rank 1 raised"


def test_mismatched_shapes_raise_on_every_rank_under_detail_debug():
    lines = run_ok([WORKER, "mismatch"], 2, env={"CHAINRULE_DISTRIBUTED_DEBUG": "DETAIL"})
    caught = sorted(line for line in lines if "caught" in line)
    assert len(caught) == 2
    for line in caught:
        assert "all_reduce" in line and "[3] chainrule.float32" in line and "[4] chainrule.float32" in line


@pytest.mark.parametrize(
    "call",
    [
        lambda: dist.all_reduce(torch.ones(2)),
        lambda: dist.broadcast(torch.ones(2), 0),
        lambda: dist.get_rank(),
        lambda: dist.barrier(),
        lambda: dist.new_group([0]),
        lambda: dist.all_gather_object([None], 1),
    ],
)
def test_collectives_before_init_raise_torchs_error(call):
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        call()
