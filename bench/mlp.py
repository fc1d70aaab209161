"""Training step of an MLP 784-512-512-10 (ReLU, cross-entropy, SGD) at batch 32 and 512, float32.

chainrule and torch run the same step in the same process, on the same data; the script prints
steps per second (median of repeats) for each and the ratio chainrule / torch.
Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (``make bench`` does it).
"""

from __future__ import annotations

import statistics
import time

import numpy as np


def build(lib, x_np, y_np):
    lib.manual_seed(0)
    nn = lib.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    return training_step(lib, model, x_np, y_np)


def training_step(lib, model, x_np, y_np):
    """One SGD step of ``model`` on a fixed batch, cross-entropy loss (the same code for both libraries)."""
    nn = lib.nn
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    x, y = lib.tensor(x_np), lib.tensor(y_np)

    def step():
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def _rate(step, seconds: float) -> float:
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        n += 1
    return n / (time.perf_counter() - start)


def compare(
    ours, theirs, seconds: float = 0.25, repeats: int = 11, alternate: bool = True
) -> tuple[float, float, float]:
    """Steps per second of two step functions; returns (median ours, median theirs, median ratio).

    ``alternate=True`` measures in alternating windows (ours, theirs, ours, ...), so that both see
    the same machine conditions; ``False`` measures all of ours, then all of theirs (each library's
    thread pool stays warm through its own block).
    """
    for _ in range(3):
        ours()
        theirs()
    if alternate:
        a, b = [], []
        for _ in range(repeats):
            a.append(_rate(ours, seconds))
            b.append(_rate(theirs, seconds))
    else:
        a = [_rate(ours, seconds) for _ in range(repeats)]
        b = [_rate(theirs, seconds) for _ in range(repeats)]
    ratios = [x / y for x, y in zip(a, b)]
    return statistics.median(a), statistics.median(b), statistics.median(ratios)


def main() -> None:
    import torch

    import chainrule

    rng = np.random.default_rng(0)
    print(f"{'MLP 784-512-512-10, SGD':<28}{'chainrule':>12}{'torch':>12}{'ratio':>8}")
    for batch in (32, 512):
        x = rng.standard_normal((batch, 784)).astype(np.float32)
        y = rng.integers(0, 10, batch)
        for alternate in (True, False):
            ours, theirs, ratio = compare(build(chainrule, x, y), build(torch, x, y), alternate=alternate)
            label = f"batch {batch}, " + ("alternating" if alternate else "in blocks")
            print(f"{label:<28}{ours:>8.1f}/s{theirs:>8.1f}/s{ratio:>8.2f}")


if __name__ == "__main__":
    main()
