"""Run under mpirun by test_failures.py: rank 1 raises mid-training while the others wait for it
in a collective; or (argument "mismatch") the ranks call all_reduce with different shapes."""

from __future__ import annotations

import sys
import time

import chainrule as torch
import chainrule.distributed as dist

dist.init_process_group("mpi")
rank = dist.get_rank()
if sys.argv[1] == "raise":
    for step in range(100):
        if rank == 1 and step == 3:
            print(f"raising at {time.time()}", flush=True)
            raise ValueError(f"rank 1 gave up at step {step}")
        t = torch.ones(4)
        dist.all_reduce(t)
        time.sleep(0.01)
elif sys.argv[1] == "mismatch":
    try:
        dist.all_reduce(torch.ones(3 + rank))
    except RuntimeError as error:
        print(f"rank {rank} caught: {error}")
        sys.stdout.flush()
dist.destroy_process_group()
