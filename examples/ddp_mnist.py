"""The MNIST MLP trained data-parallel on several processes: DistributedDataParallel on MPI.

    mpirun -n 2 python examples/ddp_mnist.py                     # 2 processes on this machine
    mpirun --allow-run-as-root --oversubscribe -n 2 python ...   # as root, or more ranks than cores
    mpirun -n 8 --hostfile hosts python examples/ddp_mnist.py    # several machines (docs/distributed.md)
    make demo-ddp                                                # installs the dist extra, runs 2 ranks

Written as a PyTorch DDP script (``import chainrule as torch``): each rank trains the same model
on its own share of each epoch (DistributedSampler), gradients are averaged across ranks during
backward (DistributedDataParallel), and rank 0 evaluates and saves the checkpoint. ``--batch-size``
is the global batch, split evenly over the ranks.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mnist import MLP, evaluate  # noqa: E402

import chainrule as torch  # noqa: E402
import chainrule.distributed as dist  # noqa: E402
import chainrule.nn.functional as F  # noqa: E402
from chainrule.datasets import MNIST  # noqa: E402
from chainrule.nn.parallel import DistributedDataParallel as DDP  # noqa: E402
from chainrule.utils.data import DataLoader, DistributedSampler, TensorDataset  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=None, help="folder with MNIST IDX files (default: bundled)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128, help="the global batch (split over the ranks)")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-steps", type=int, default=None, help="stop each epoch after this many steps")
    parser.add_argument("--runs", default="runs", help="where rank 0 writes the run folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(args.seed)

    x_train, y_train = MNIST(args.root, train=True).as_tensors(flatten=True)
    train_set = TensorDataset(x_train, y_train)
    sampler = DistributedSampler(train_set, shuffle=True, seed=args.seed)  # rank and world from MPI
    loader = DataLoader(train_set, batch_size=args.batch_size // world, sampler=sampler)

    model = DDP(MLP())  # rank 0's initial weights are broadcast to every rank
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    if rank == 0:
        print(
            f"{world} ranks x batch {args.batch_size // world} (global batch {args.batch_size}); "
            f"{len(loader)} steps per epoch on each rank",
            flush=True,  # under mpirun stdout is a pipe: show progress as it comes
        )

    start = time.perf_counter()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        total = torch.zeros(2)  # this rank's loss sum and sample count
        for step, (x, y) in enumerate(loader):
            if args.max_steps is not None and step == args.max_steps:
                break
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()  # the gradients are averaged across ranks here
            optimizer.step()
            total += torch.tensor([loss.item() * y.shape[0], y.shape[0]])
        dist.all_reduce(total)  # the epoch's mean loss over every rank's samples
        if rank == 0:
            mean_loss = total[0].item() / total[1].item()
            print(f"epoch {epoch + 1}/{args.epochs}: mean training loss {mean_loss:.4f}", flush=True)
    seconds = time.perf_counter() - start

    if rank == 0:
        x_test, y_test = MNIST(args.root, train=False).as_tensors(flatten=True)
        accuracy = evaluate(model.module, DataLoader(TensorDataset(x_test, y_test), batch_size=1000))
        run_dir = Path(args.runs) / time.strftime("ddp-mnist-%Y%m%d-%H%M%S")
        run_dir.mkdir(parents=True, exist_ok=True)
        torch.save(model.module.state_dict(), run_dir / "model.safetensors")  # rank 0 saves; atomic
        images = int(total[1].item()) * args.epochs
        print(
            f"test accuracy {accuracy:.4f}; {seconds:.1f} s of training on {world} ranks "
            f"({images / seconds:,.0f} images/s); wrote {run_dir}/model.safetensors",
            flush=True,  # before mpi4py's MPI_Finalize at exit, after which Open MPI may drop it
        )
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
