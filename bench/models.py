"""Training steps of issue 12's workloads (bench/workloads.py), chainrule against torch in one process.

For each workload both libraries build the same model (torch's weights copied into chainrule) on the
same batch; the steps are timed in alternating windows (chainrule, torch, chainrule, ...) and the
script prints the steps per second of each (medians), the median of the per-window ratios chainrule
time / torch time, their spread (min-max) and the issue's target.

    python models.py [--only gpt,lstm_lm] [--repeats 7] [--window 0.3] [--threads N] [--json PATH]

Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (``make bench`` does it).
"""

from __future__ import annotations

import argparse
import gc
import json
import os

from _timing import compare, machine, print_machine, summary, time_ratios
from workloads import TIME_TARGETS, WORKLOADS


def measure(name: str, repeats: int, window: float) -> dict:
    import torch

    import chainrule

    ours, theirs = WORKLOADS[name](chainrule), WORKLOADS[name](torch)
    a, b = compare(ours, theirs, seconds=window, repeats=repeats)
    ratio, low, high = summary(time_ratios(a, b))
    return {
        "chainrule_steps_per_s": summary(a)[0],
        "torch_steps_per_s": summary(b)[0],
        "ratio": ratio,
        "ratio_min": low,
        "ratio_max": high,
        "target": TIME_TARGETS[name],
        "chainrule_rates": a,
        "torch_rates": b,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated workloads (default: all)")
    parser.add_argument("--repeats", type=int, default=7, help="alternating windows per library (>= 5)")
    parser.add_argument("--window", type=float, default=0.3, help="seconds per window (at least one step)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads of both libraries")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; known: {', '.join(WORKLOADS)}")
    info = machine(args.threads)
    print_machine(info)
    print(
        f"time ratio = chainrule / torch per step; medians of {args.repeats} alternating windows "
        f"of {args.window} s"
    )
    header = f"{'workload':<17}{'chainrule':>12}{'torch':>12}{'ratio':>8}{'spread':>13}{'target':>8}"
    print(header)
    results = {}
    for name in names:
        r = results[name] = measure(name, args.repeats, args.window)
        gc.collect()
        met = "ok" if r["ratio"] <= r["target"] else "MISS"
        print(
            f"{name:<17}{r['chainrule_steps_per_s']:>10.2f}/s{r['torch_steps_per_s']:>10.2f}/s{r['ratio']:>8.2f}"
            f"{r['ratio_min']:>7.2f}-{r['ratio_max']:<5.2f}{'<= ' + str(r['target']):>8} {met}",
            flush=True,
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"machine": info, "repeats": args.repeats, "window": args.window, "workloads": results},
                f,
                indent=1,
            )


if __name__ == "__main__":
    main()
