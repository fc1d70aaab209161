"""Peak memory of one training step of issue 12's workloads (bench/workloads.py), chainrule against
torch, each library and workload in its own fresh process.

Method, the same for both libraries: the resident set (RSS) of the process. Each child builds the
model and data and runs one warm-up step (thread pools, BLAS buffers, optimizer state and other
one-time allocations happen there), collects garbage, reads the RSS, resets the kernel's RSS
high-water mark (``echo 5 > /proc/self/clear_refs``), runs one step and reports the high-water mark
(VmHWM) minus that RSS. The gradients of the warm-up step are alive at the baseline in both (the
next step's ``zero_grad`` frees them; the manual-update MLPs set them to None after the update).
Both libraries allocate their arrays through glibc malloc; the children run with a fixed
``MALLOC_MMAP_THRESHOLD_`` (64 KiB) so that freed arrays go back to the OS at once and RSS follows
live memory instead of the allocator's dynamic threshold.

    python peak_memory.py [--only cifar_cnn,resnet8,gpt] [--json PATH]

Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (``make bench`` does it).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys

from workloads import MEMORY_TARGETS, WORKLOADS

MIB = 2**20


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(lib_name: str, workload: str) -> dict:
    lib = __import__(lib_name)
    step = WORKLOADS[workload](lib)
    step()  # warm-up: one-time allocations
    gc.collect()
    before = _status("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the RSS high-water mark
        step()
        peak = _status("VmHWM")
    except OSError:  # no clear_refs: the lifetime peak (includes the warm-up step's)
        step()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"peak_mib": (peak - before) / MIB, "baseline_mib": before / MIB}


def measure(lib_name: str, workload: str) -> dict | None:
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    cmd = [sys.executable, __file__, "--child", lib_name, workload]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if run.returncode != 0:
        last = run.stderr.strip().splitlines()[-1:] or ["?"]
        print(f"  ({lib_name} {workload} failed: {last[0]})", file=sys.stderr)
        return None
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("LIB", "WORKLOAD"))
    parser.add_argument("--only", help="comma-separated workloads (default: all)")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    names = args.only.split(",") if args.only else list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; known: {', '.join(WORKLOADS)}")
    print("peak memory of one training step above the RSS before it (MiB; RSS high-water mark,")
    print("each library in a fresh process, MALLOC_MMAP_THRESHOLD_=64KiB for both)")
    print(f"{'workload':<17}{'chainrule':>11}{'torch':>11}{'ratio':>8}{'target':>9}")
    results = {}
    for name in names:
        ours, theirs = measure("chainrule", name), measure("torch", name)
        # below 0.1 MiB the step fits in memory the allocator already holds: no ratio to read
        ratio = (
            ours["peak_mib"] / theirs["peak_mib"] if ours and theirs and theirs["peak_mib"] >= 0.1 else None
        )
        target = MEMORY_TARGETS.get(name)
        results[name] = {"chainrule": ours, "torch": theirs, "ratio": ratio, "target": target}
        cells = [f"{r['peak_mib']:>11.1f}" if r else f"{'failed':>11}" for r in (ours, theirs)]
        cells.append(f"{ratio:>8.2f}" if ratio is not None else f"{'n/a':>8}")
        if target is not None:
            cells.append(
                f"{'<= ' + str(target):>9} {'ok' if ratio is not None and ratio <= target else 'MISS'}"
            )
        print(f"{name:<17}" + "".join(cells), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
