"""Training step of a small CNN on 28x28 images, batch 64:
conv(1->16, 3x3) - relu - maxpool 2 - conv(16->32, 3x3) - relu - maxpool 2 - linear(10), SGD.

chainrule and torch in the same process on the same data; prints steps per second (median) and the
ratio chainrule / torch. Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (``make bench``).
"""

from __future__ import annotations

import numpy as np
from mlp import compare, training_step


def build(lib, x_np, y_np):
    lib.manual_seed(0)
    nn = lib.nn
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 5 * 5, 10),
    )
    return training_step(lib, model, x_np, y_np)


def main() -> None:
    import torch

    import chainrule

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    print(f"{'CNN 28x28, batch 64':<28}{'chainrule':>12}{'torch':>12}{'ratio':>8}")
    for alternate in (True, False):
        ours, theirs, ratio = compare(build(chainrule, x, y), build(torch, x, y), alternate=alternate)
        label = "step, " + ("alternating" if alternate else "in blocks")
        print(f"{label:<28}{ours:>8.1f}/s{theirs:>8.1f}/s{ratio:>8.2f}")


if __name__ == "__main__":
    main()
