"""Peak memory of one training step, chainrule against torch, each in its own fresh process.

Workloads (float32, cross-entropy loss, SGD step):
  mlp      8 x (Linear(1024, 1024) + GELU) + Linear(1024, 10), batch 2048
  cnn      Conv2d(3,32,3,p=1)-ReLU-Conv2d(32,32,3,p=1)-ReLU-MaxPool2d(2)-Conv2d(32,64,3,p=1)-ReLU-
           MaxPool2d(2)-Flatten-Linear(16384,10), batch 128 of 3x64x64
  mlp-ckpt the mlp with each Linear+GELU block under utils.checkpoint (non-reentrant)

Method, the same for both libraries: the resident set (RSS) of the process. Each child builds the
model and data and runs one warm-up step (thread pools, BLAS buffers and other one-time allocations
happen there), drops the gradients, then resets the kernel's RSS high-water mark (``echo 5 >
/proc/self/clear_refs``), runs one step and reports the high-water mark minus the RSS before the
step. Both libraries allocate their arrays through glibc malloc; the children run with a fixed
``MALLOC_MMAP_THRESHOLD_`` (64 KiB) so that freed arrays go back to the OS at once and RSS follows
live memory instead of the allocator's dynamic threshold. ``--saved`` also prints the bytes each
library saves for backward (counted with saved_tensors_hooks, distinct buffers once).

    python memory.py [--old-src PATH]   # PATH: another chainrule's src/ (e.g. the pre-rewrite core)

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

import numpy as np

WORKLOADS = ("mlp", "cnn", "mlp-ckpt")
MIB = 2**20


def build(lib, workload: str):
    """Model, optimizer and data for ``workload``, written once for both libraries."""
    nn = lib.nn
    lib.manual_seed(0)
    rng = np.random.default_rng(0)
    if workload.startswith("mlp"):
        blocks = [nn.Sequential(nn.Linear(1024, 1024), nn.GELU()) for _ in range(8)]
        head = nn.Linear(1024, 10)
        if workload == "mlp-ckpt":
            checkpoint = lib.utils.checkpoint.checkpoint

            def model(x):
                for block in blocks:
                    x = checkpoint(block, x, use_reentrant=False)
                return head(x)

            params = [p for b in blocks for p in b.parameters()] + list(head.parameters())
        else:
            model = nn.Sequential(*blocks, head)
            params = list(model.parameters())
        x = rng.standard_normal((2048, 1024), dtype=np.float32)
        y = rng.integers(0, 10, 2048)
    else:
        model = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(16384, 10),
        )
        params = list(model.parameters())
        x = rng.standard_normal((128, 3, 64, 64), dtype=np.float32)
        y = rng.integers(0, 10, 128)
    opt = lib.optim.SGD(params, lr=0.01)
    x, y = lib.tensor(x), lib.tensor(y)

    def step():
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        opt.zero_grad()  # set_to_none: the gradients go, as between two steps of a training loop

    return model, x, step


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def saved_bytes(lib, model, x) -> int:
    """Bytes saved for backward by one forward pass (distinct buffers counted once)."""
    seen: dict = {}

    def pack(t):
        a = t.detach().numpy()
        key = (a.__array_interface__["data"][0], a.nbytes)
        seen[key] = a.nbytes
        return t

    with lib.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(x)
    del out
    return sum(seen.values())


def child(lib_name: str, workload: str, saved: bool) -> dict:
    lib = __import__(lib_name)
    model, x, step = build(lib, workload)
    step()  # warm-up: one-time allocations
    gc.collect()
    result = {}
    if saved and hasattr(lib.autograd, "graph") and hasattr(lib.autograd.graph, "saved_tensors_hooks"):
        result["saved"] = saved_bytes(lib, model, x)
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
    result["peak"] = peak - before
    return result


def measure(lib_name: str, workload: str, src: str | None, saved: bool) -> dict | None:
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    if src is not None:
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, __file__, "--child", lib_name, workload] + (["--saved"] if saved else [])
    run = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if run.returncode != 0:
        last = run.stderr.strip().splitlines()[-1:] or ["?"]
        print(f"  ({lib_name} {workload} failed: {last[0]})", file=sys.stderr)
        return None
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("LIB", "WORKLOAD"))
    parser.add_argument("--old-src", help="also measure the chainrule found in this src/ folder")
    parser.add_argument("--saved", action="store_true", help="also print the bytes saved for backward")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, args.saved)))
        return
    print("peak memory of one training step above the RSS before it (MiB; RSS high-water mark,")
    print("each library in a fresh process, MALLOC_MMAP_THRESHOLD_=64KiB for both)")
    cols = ["chainrule", "torch", "ratio"] + (["old core", "old/torch"] if args.old_src else [])
    print(f"{'workload':<10}" + "".join(f"{c:>11}" for c in cols))
    for workload in args.workloads.split(","):
        ours = measure("chainrule", workload, None, args.saved)
        theirs = measure("torch", workload, None, args.saved)
        row = [ours and ours["peak"] / MIB, theirs and theirs["peak"] / MIB]
        row.append(row[0] / row[1] if row[0] and row[1] else None)
        if args.old_src:
            old = measure("chainrule", workload, args.old_src, False) if workload != "mlp-ckpt" else None
            row += [old and old["peak"] / MIB, old and row[1] and old["peak"] / MIB / row[1]]
        print(f"{workload:<10}" + "".join(f"{v:>11.2f}" if v is not None else f"{'n/a':>11}" for v in row))
        # (not for mlp-ckpt: torch saves each checkpoint's inputs as tensors, chainrule keeps them
        # in the checkpoint itself, so the two counts would not cover the same memory)
        if args.saved and ours and theirs and "saved" in ours and workload != "mlp-ckpt":
            print(
                f"{'  saved':<10}{ours['saved'] / MIB:>11.2f}{theirs['saved'] / MIB:>11.2f}"
                f"{ours['saved'] / theirs['saved']:>11.2f}   (bytes saved for backward)"
            )


if __name__ == "__main__":
    main()
