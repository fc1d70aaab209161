"""Data-parallel scaling of the MNIST MLP (784-512-256-10, Adam) on this machine, under mpirun.

    python bench/ddp.py                 # runs itself under mpirun with 1 and 2 processes
    python bench/ddp.py --ranks 1 2 3   # other world sizes (more ranks than cores: --oversubscribe)

Each rank trains on its own batch of 64 (weak scaling: the global batch grows with the ranks), so
samples/s would double with 2 ranks if communication cost nothing. Each rank runs one thread (BLAS
and chainrule's kernels), so that the compute per rank is the same at every world size.

Per world size, in alternating windows (medians), it times: the step with DistributedDataParallel
as it is (25 MiB buckets, the first 1 MiB, so that the all-reduce of the last layers' gradients
starts while backward goes on); with one bucket for the whole model (all-reduced after backward:
no overlap); under ``no_sync()`` (no communication: the compute alone); and a blocking all-reduce
of the gradient's size alone. The synced step minus the no_sync step is the communication that the
overlap did not hide. Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BATCH_PER_RANK = 64


def worker(repeats: int, window: float) -> None:
    import numpy as np
    from mpi4py import MPI

    import chainrule as torch
    import chainrule.distributed as dist
    import chainrule.nn as nn
    import chainrule.nn.functional as F
    from chainrule.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    rng = np.random.default_rng(rank)
    x = torch.tensor(rng.random((BATCH_PER_RANK, 784), dtype=np.float32))
    y = torch.tensor(rng.integers(0, 10, BATCH_PER_RANK))

    def mlp() -> nn.Module:
        torch.manual_seed(0)
        return nn.Sequential(
            nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)
        )

    variants = {"bucketed": DDP(mlp()), "one bucket": DDP(mlp(), bucket_cap_mb=1024)}
    steps = {}
    for name, model in variants.items():
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step(model=model, opt=opt) -> None:
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()

        steps[name] = step
    compute_model = variants["bucketed"]
    compute_opt = torch.optim.Adam(compute_model.parameters(), lr=1e-3)

    def compute_only() -> None:
        compute_opt.zero_grad()
        with compute_model.no_sync():
            F.cross_entropy(compute_model(x), y).backward()
        compute_opt.step()

    steps["no_sync (compute)"] = compute_only
    grad = np.zeros(sum(p.numel() for p in compute_model.parameters()), np.float32)

    def allreduce_alone() -> None:
        compute_model.process_group.comm.Allreduce(MPI.IN_PLACE, grad, op=MPI.SUM)

    steps["all-reduce alone"] = allreduce_alone

    def timed(fn) -> float:
        """Seconds per call over about ``window`` s. Every rank makes the same number of calls
        (each call waits for the others), the number rank 0 estimates from three calls."""
        start = time.perf_counter()
        for _ in range(3):
            fn()
        calls = torch.tensor([max(1, int(window / ((time.perf_counter() - start) / 3)))])
        dist.broadcast(calls, src=0)
        dist.barrier()
        start = time.perf_counter()
        for _ in range(int(calls.item())):
            fn()
        return (time.perf_counter() - start) / int(calls.item())

    for fn in steps.values():  # warm up (numba compiles, buffers)
        fn()
        fn()
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, fn in steps.items():
            samples[name].append(timed(fn))
    if rank == 0:
        medians = {name: statistics.median(v) for name, v in samples.items()}
        print(json.dumps({"world": world, "seconds_per_call": medians, "gradient_bytes": int(grad.nbytes)}))
    dist.destroy_process_group()


def mpirun() -> list[str]:
    beside = Path(sys.executable).parent / "mpirun"
    command = [str(beside) if beside.exists() else shutil.which("mpirun") or "mpirun", "--oversubscribe"]
    if os.geteuid() == 0:
        command.append("--allow-run-as-root")
    return command


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--window", type=float, default=0.5)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.repeats, args.window)
        return
    sys.path.insert(0, str(HERE))
    from _timing import machine, print_machine

    print_machine(machine(threads=1))
    rows = []
    for n in args.ranks:
        out = subprocess.run(
            [
                *mpirun(),
                "-n",
                str(n),
                sys.executable,
                __file__,
                "--worker",
                "--repeats",
                str(args.repeats),
                "--window",
                str(args.window),
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = rows[0]["seconds_per_call"]["bucketed"]
    print(
        f"\nMNIST MLP, Adam, batch {BATCH_PER_RANK} per rank, one thread per rank; "
        f"gradient {rows[0]['gradient_bytes'] / 2**20:.2f} MiB"
    )
    print(
        "| ranks | samples/s (bucketed) | speed-up | step ms: bucketed / one bucket / no_sync | "
        "all-reduce alone ms | exposed communication |"
    )
    print("|---:|---:|---:|---|---:|---:|")
    for row in rows:
        t = row["seconds_per_call"]
        world = row["world"]
        rate = world * BATCH_PER_RANK / t["bucketed"]
        exposed = (t["bucketed"] - t["no_sync (compute)"]) / t["bucketed"]
        print(
            f"| {world} | {rate:,.0f} | {world * base / t['bucketed']:.2f} | "
            f"{1e3 * t['bucketed']:.2f} / {1e3 * t['one bucket']:.2f} / {1e3 * t['no_sync (compute)']:.2f} | "
            f"{1e3 * t['all-reduce alone']:.3f} | {100 * exposed:.0f} % |"
        )


if __name__ == "__main__":
    main()
