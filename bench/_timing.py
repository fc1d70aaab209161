"""Timing and machine description shared by the benchmarks: chainrule against torch in one process."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable


def rate(step: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``step`` over a window of about ``seconds`` (at least one call)."""
    n, start = 0, time.perf_counter()
    while True:
        step()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def compare(
    ours: Callable[[], object],
    theirs: Callable[[], object],
    seconds: float = 0.3,
    repeats: int = 7,
    warmup: int = 2,
) -> tuple[list[float], list[float]]:
    """Calls per second of two functions in alternating windows (ours, theirs, ours, ...), so that
    both see the same machine conditions; returns the two lists of per-window rates."""
    for _ in range(warmup):
        ours()
        theirs()
    a, b = [], []
    for _ in range(repeats):
        a.append(rate(ours, seconds))
        b.append(rate(theirs, seconds))
    return a, b


def time_ratios(ours: list[float], theirs: list[float]) -> list[float]:
    """Per-window ratios chainrule time / torch time from the two rate lists."""
    return [t / o for o, t in zip(ours, theirs)]


def summary(values: list[float]) -> tuple[float, float, float]:
    """(median, min, max)."""
    return statistics.median(values), min(values), max(values)


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown CPU"
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def machine(threads: int) -> dict:
    """Set both libraries to ``threads`` threads; describe the machine and the versions."""
    import numpy as np
    import torch

    import chainrule

    torch.set_num_threads(threads)
    chainrule.set_num_threads(threads)
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "numpy": np.__version__,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "chainrule_threads": chainrule.get_num_threads(),
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
    }


def print_machine(info: dict) -> None:
    print(f"CPU: {info['cpu']} ({info['cores']} cores), load average {info['load_average']:.2f}")
    print(
        f"numpy {info['numpy']}, torch {info['torch']}; threads: torch {info['torch_threads']}, "
        f"chainrule {info['chainrule_threads']}"
    )
    if info["openblas_env"]:
        print(f"warning: {info['openblas_env']} set: OpenBLAS's GEMM may run far below the machine's speed")
