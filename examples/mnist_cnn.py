"""A LeNet-5-style CNN on MNIST, written as PyTorch code on chainrule.

    python examples/mnist_cnn.py               # bundled MNIST copy, 4 epochs
    python examples/mnist_cnn.py --root DIR    # your own IDX files

Writes ``runs/mnist-cnn-<timestamp>/`` with ``model.safetensors``, ``metrics.json`` and ``loss.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mnist import parse_args, train, write_run  # noqa: E402

import chainrule.nn as nn  # noqa: E402


class LeNet5(nn.Module):
    """conv 5x5 (6) - relu - maxpool 2 - conv 5x5 (16) - relu - maxpool 2 - 120 - 84 - 10."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv, epochs=4, lr=3e-3, lecture=False)
    result = train(args, make_model=LeNet5, flatten=False, name="mnist-cnn")
    write_run(result, args.runs, "mnist-cnn", "LeNet-5 on MNIST (chainrule)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
