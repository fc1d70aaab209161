"""DataLoader worker processes: an MNIST-sized epoch whose ``__getitem__`` is deliberately slow.

Each sample costs ``--delay`` seconds of waiting (1 ms by default: a decode, a disk read, an
augmentation) before it returns a 1x28x28 float32 image and its label; an epoch is ``--samples``
samples (10,000) in batches of 64. With 0 workers the training loop waits for every sample; with
2 workers two processes load ahead while the loop consumes, so an epoch should take about half
as long. chainrule and torch run the same dataset code side by side, one epoch per setting after
one warm-up epoch (the first pass of a loader pays for starting its workers too, which is part
of every epoch without ``persistent_workers``, and is included).

    python dataloader.py [--samples 10000] [--delay 0.001] [--workers 0,2] [--train]

``--train`` adds a small MLP step per batch (forward, backward, SGD) in the main process, the
work the workers' loading overlaps with in real training.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.utils.data as tud
from _timing import cpu_model

import chainrule
import chainrule.utils.data as cud


def dataset(lib, samples: int, delay: float):
    base = cud.Dataset if lib is chainrule else tud.Dataset
    images = np.random.default_rng(0).random((samples, 1, 28, 28), dtype=np.float32)
    labels = np.random.default_rng(1).integers(0, 10, samples)

    class SlowMNIST(base):
        def __getitem__(self, i):
            time.sleep(delay)  # the slow part: reading or decoding one sample
            return lib.from_numpy(images[i]), int(labels[i])

        def __len__(self):
            return samples

    return SlowMNIST()


def train_step(lib):
    model = lib.nn.Sequential(
        lib.nn.Flatten(), lib.nn.Linear(784, 128), lib.nn.ReLU(), lib.nn.Linear(128, 10)
    )
    opt = lib.optim.SGD(model.parameters(), lr=0.01)

    def step(x, y):
        opt.zero_grad()
        lib.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    return step


def epoch_seconds(lib, samples: int, delay: float, workers: int, train: bool) -> float:
    module = cud if lib is chainrule else tud
    loader = module.DataLoader(dataset(lib, samples, delay), batch_size=64, shuffle=True, num_workers=workers)
    step = train_step(lib) if train else None
    seconds = 0.0
    for _ in range(2):  # a warm-up epoch, then the measured one
        start, seen = time.perf_counter(), 0
        for x, y in loader:
            seen += len(y)
            if step is not None:
                step(x, y)
        assert seen == samples
        seconds = time.perf_counter() - start
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--delay", type=float, default=0.001)
    parser.add_argument("--workers", default="0,2")
    parser.add_argument("--train", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    chainrule.set_num_threads(1)
    counts = [int(w) for w in args.workers.split(",")]
    print(
        f"{cpu_model()}; {args.samples} samples x {args.delay * 1e3:g} ms, batch 64"
        + (", + MLP step" if args.train else "")
    )
    print(f"{'library':<10} {'workers':>7} {'s/epoch':>8} {'vs 0 workers':>13}")
    for lib in (chainrule, torch):
        seconds = {w: epoch_seconds(lib, args.samples, args.delay, w, args.train) for w in counts}
        for w in counts:
            speedup = seconds[counts[0]] / seconds[w]
            print(f"{lib.__name__:<10} {w:>7} {seconds[w]:>8.2f} {speedup:>12.2f}x")


if __name__ == "__main__":
    main()
