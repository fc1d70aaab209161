"""Per-op overhead: a chain of 200 element-wise ops on a 16-element float32 tensor.

40 x [x*2, x+2, sin, exp, tanh], forward only and forward + sum().backward(), for chainrule and
torch in the same process. Prints microseconds per op (median of repeats) and the ratio
chainrule / torch. Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (see docs/benchmarks.md).
"""

from __future__ import annotations

import statistics
import time

import numpy as np

N_OPS = 200
REPEATS = 30
INNER = 20


def chain(lib, x):
    for _ in range(N_OPS // 5):
        x = lib.tanh(lib.exp(lib.sin(x * 2 + 2)))
    return x


def measure(lib, backward: bool) -> float:
    """Median microseconds per op."""
    data = np.linspace(-1, 1, 16, dtype=np.float32)
    x = lib.tensor(data, requires_grad=True)
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(INNER):
            y = chain(lib, x)
            if backward:
                y.sum().backward()
                x.grad = None
        samples.append((time.perf_counter() - start) / INNER / N_OPS * 1e6)
    return statistics.median(samples)


def numpy_baseline(backward: bool) -> float:
    """Hand-written NumPy: the same chain and its hand-written derivative, no autodiff machinery."""
    x = np.linspace(-1, 1, 16, dtype=np.float32)
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(INNER):
            h = x
            saved = []
            for _ in range(N_OPS // 5):
                a = h * 2 + 2
                s = np.sin(a)
                e = np.exp(s)
                h = np.tanh(e)
                saved.append((a, e, h))
            if backward:
                g = np.ones_like(h)
                for a, e, t in reversed(saved):
                    g = g * (1 - t * t)
                    g = g * e
                    g = g * np.cos(a)
                    g = g * 2
        samples.append((time.perf_counter() - start) / INNER / N_OPS * 1e6)
    return statistics.median(samples)


def main() -> None:
    import torch

    import chainrule

    torch.set_num_threads(1)
    rows = []
    for label, backward in (("forward", False), ("forward+backward", True)):
        ours = measure(chainrule, backward)
        theirs = measure(torch, backward)
        plain = numpy_baseline(backward)
        rows.append((label, ours, theirs, plain))
    print(f"{'chain of 200 ops, 16 floats':<28}{'chainrule':>11}{'torch':>9}{'numpy':>9}{'ratio':>8}")
    for label, ours, theirs, plain in rows:
        print(f"{label:<28}{ours:>9.2f}us{theirs:>7.2f}us{plain:>7.2f}us{ours / theirs:>8.2f}")


if __name__ == "__main__":
    main()
