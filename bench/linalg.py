"""Linear-algebra benchmarks: chainrule and torch in the same process, on the same data.

Sections (each a function returning rows, so that more can be added):
- ``logdet_gradient``: ``x = tensor(A, requires_grad=True); logdet(x).backward()`` for a 256x256
  symmetric positive-definite A, float64 and float32. The forward's LU is reused by the backward.
- ``logdet_between_matmuls``: the same float64 gradient after a 256x256 matmul each time: the
  alternation that made two OpenBLAS pools fight (see src/chainrule/_threads.py). chainrule's LU
  runs in NumPy's pool, the matmul's, so nothing waits for the other library's spinning threads.
- ``per_sample_gradients``: ``vmap(grad(loss_of), in_dims=(None, 0, 0))(params, X, Y)`` for a
  784-128-10 MLP (float32) and a batch of 64, against ``torch.func`` on the same weights and data.

Prints the median time per call of each library (alternating measurement windows, so that both
see the same machine conditions) and the median ratio chainrule / torch.
Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (see docs/benchmarks.md):
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/linalg.py``
On a machine whose cores are busy with other work, multi-threaded BLAS calls of either library
wait for each other's threads and the times mean little; add ``OPENBLAS_NUM_THREADS=1
OMP_NUM_THREADS=1`` for a single-threaded comparison (the header shows the thread counts).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

WINDOW = 0.2  # seconds per measurement window
REPEATS = 15  # windows per library


def _seconds_per_call(fn: Callable[[], object], seconds: float) -> float:
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return (time.perf_counter() - start) / n


def compare(ours: Callable[[], object], theirs: Callable[[], object]) -> tuple[float, float, float]:
    """Median seconds per call of two functions, measured in alternating windows; returns
    (ours, theirs, median of the per-window ratios ours / theirs)."""
    for _ in range(3):
        ours()
        theirs()
    a, b = [], []
    for _ in range(REPEATS):
        a.append(_seconds_per_call(ours, WINDOW))
        b.append(_seconds_per_call(theirs, WINDOW))
    return statistics.median(a), statistics.median(b), statistics.median(x / y for x, y in zip(a, b))


def logdet_gradient(n: int = 256) -> list[tuple[str, float, float, float]]:
    """Gradient of logdet of an n x n SPD matrix (its value: A^{-T}), float64 and float32."""
    import torch

    import chainrule

    rng = np.random.default_rng(0)
    g = rng.standard_normal((n, n))
    spd = g @ g.T / n + np.eye(n)
    rows = []
    for dtype in (np.float64, np.float32):
        a = spd.astype(dtype)

        def step(lib, a=a):
            x = lib.tensor(a, requires_grad=True)
            lib.logdet(x).backward()
            return x.grad

        ours, theirs = step(chainrule).numpy(), step(torch).numpy()
        tol = 1e-10 if dtype == np.float64 else 1e-4
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol * np.abs(theirs).max())
        rows.append(
            (f"{n}x{n} SPD, {np.dtype(dtype).name}", *compare(lambda: step(chainrule), lambda: step(torch)))
        )
    return rows


def logdet_between_matmuls(n: int = 256) -> list[tuple[str, float, float, float]]:
    """A matmul, then the gradient of logdet, in turns (float64)."""
    import torch

    import chainrule

    rng = np.random.default_rng(0)
    g = rng.standard_normal((n, n))
    spd = g @ g.T / n + np.eye(n)
    other = rng.standard_normal((n, n))

    def step(lib):
        b = lib.tensor(other)
        b @ b
        x = lib.tensor(spd, requires_grad=True)
        lib.logdet(x).backward()
        return x.grad

    return [(f"{n}x{n} matmul, then logdet gradient", *compare(lambda: step(chainrule), lambda: step(torch)))]


def per_sample_gradients(batch: int = 64) -> list[tuple[str, float, float, float]]:
    """Per-sample gradients of a 784-128-10 MLP with vmap(grad(...)) and functional_call."""
    import torch

    import chainrule

    rng = np.random.default_rng(0)
    weights = {
        "0.weight": rng.uniform(-0.05, 0.05, (128, 784)),
        "0.bias": rng.uniform(-0.05, 0.05, 128),
        "2.weight": rng.uniform(-0.05, 0.05, (10, 128)),
        "2.bias": rng.uniform(-0.05, 0.05, 10),
    }
    x = rng.standard_normal((batch, 784)).astype(np.float32)
    y = rng.integers(0, 10, batch)

    def setup(lib):
        model = lib.nn.Sequential(lib.nn.Linear(784, 128), lib.nn.ReLU(), lib.nn.Linear(128, 10))
        params = {k: lib.tensor(v.astype(np.float32)) for k, v in weights.items()}

        def loss_of(p, xi, yi):
            logits = lib.func.functional_call(model, p, (xi[None],))
            return lib.nn.functional.cross_entropy(logits, yi[None])

        fn = lib.func.vmap(lib.func.grad(loss_of), in_dims=(None, 0, 0))
        xs, ys = lib.tensor(x), lib.tensor(y)
        return lambda: fn(params, xs, ys)

    ours, theirs = setup(chainrule), setup(torch)
    a, b = ours(), theirs()
    for k in weights:
        np.testing.assert_allclose(a[k].numpy(), b[k].numpy(), rtol=1e-4, atol=1e-6)
    return [(f"MLP 784-128-10, batch {batch}", *compare(ours, theirs))]


SECTIONS = {
    "logdet gradient of a 256x256 SPD matrix": logdet_gradient,
    "logdet between matmuls (two BLAS pools)": logdet_between_matmuls,
    "per-sample gradients, vmap(grad)": per_sample_gradients,
}


def main() -> None:
    import os

    import torch

    print(
        f"threads: torch {torch.get_num_threads()}, OPENBLAS_NUM_THREADS="
        f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}"
    )
    for title, section in SECTIONS.items():
        print(f"{title:<44}{'chainrule':>11}{'torch':>11}{'ratio':>8}")
        for label, ours, theirs, ratio in section():
            print(f"  {label:<42}{ours * 1e3:>9.3f}ms{theirs * 1e3:>9.3f}ms{ratio:>8.2f}")


if __name__ == "__main__":
    main()
