"""Run under mpirun by test_ddp.py. Each scenario trains the same model two ways and compares:
DDP on every rank with its share of the batch, and (on each rank, in-process) one model on the
whole batch. They must end with the same parameters."""

from __future__ import annotations

import sys
import tempfile

import numpy as np

import chainrule as torch
import chainrule.distributed as dist
from chainrule import nn
from chainrule.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
rank, size = dist.get_rank(), dist.get_world_size()
scenario = sys.argv[1]
B, STEPS = 4, 20


class WithSpare(nn.Module):
    """A network with a layer its forward never calls."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 3))
        self.spare = nn.Linear(3, 3)

    def forward(self, x):
        return self.body(x)


def model(seed: int, with_unused: bool = False, batchnorm: bool = False) -> nn.Module:
    torch.manual_seed(seed)
    if with_unused:
        return WithSpare()
    layers = [nn.Linear(10, 16)]
    if batchnorm:
        layers.append(nn.BatchNorm1d(16))
    layers += [nn.Tanh(), nn.Linear(16, 3)]
    return nn.Sequential(*layers)


def batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The global batch of a step: size * B samples; rank r's share is rows r*B:(r+1)*B."""
    rng = np.random.default_rng(step)
    x = rng.standard_normal((size * B, 10)).astype(np.float32)
    y = rng.integers(0, 3, size * B)
    return torch.tensor(x), torch.tensor(y)


def share(t: torch.Tensor) -> torch.Tensor:
    return t[rank * B : (rank + 1) * B]


def compare(ddp_net: nn.Module, ref: nn.Module, what: str, atol: float = 1e-6) -> None:
    for (name, a), b in zip(ddp_net.named_parameters(), ref.parameters()):
        np.testing.assert_allclose(
            a.detach().numpy(), b.detach().numpy(), atol=atol, rtol=0, err_msg=f"{what}: {name}"
        )


loss_fn = nn.CrossEntropyLoss()

if scenario == "sgd":
    # different seeds per rank: DDP must broadcast rank 0's initial parameters
    net = DDP(model(seed=rank), bucket_cap_mb=0.0005)  # tiny buckets: several all-reduces per step
    ref = model(seed=0)
    opt, ref_opt = torch.optim.SGD(net.parameters(), lr=0.1), torch.optim.SGD(ref.parameters(), lr=0.1)
    assert len(net._bucket_list) > 1
    for step in range(STEPS):
        x, y = batch(step)
        opt.zero_grad()
        loss_fn(net(share(x)), share(y)).backward()
        opt.step()
        ref_opt.zero_grad()
        loss_fn(ref(x), y).backward()
        ref_opt.step()
    compare(net.module, ref, "sgd")

elif scenario == "no_sync":
    # two micro-batches per step: the first under no_sync (local accumulation), the second synced
    net = DDP(model(seed=0))
    ref = model(seed=0)
    opt, ref_opt = torch.optim.SGD(net.parameters(), lr=0.1), torch.optim.SGD(ref.parameters(), lr=0.1)
    for step in range(STEPS):
        opt.zero_grad()
        ref_opt.zero_grad()
        for micro in range(2):
            x, y = batch(100 * step + micro)
            if micro == 0:
                with net.no_sync():
                    (loss_fn(net(share(x)), share(y)) / 2).backward()
            else:
                (loss_fn(net(share(x)), share(y)) / 2).backward()
            (loss_fn(ref(x), y) / 2).backward()
        opt.step()
        ref_opt.step()
    compare(net.module, ref, "no_sync")

elif scenario == "unused":
    net = DDP(model(seed=0, with_unused=True), find_unused_parameters=True)
    ref = model(seed=0, with_unused=True)
    opt, ref_opt = torch.optim.SGD(net.parameters(), lr=0.1), torch.optim.SGD(ref.parameters(), lr=0.1)
    for step in range(5):
        x, y = batch(step)
        opt.zero_grad()
        loss_fn(net(share(x)), share(y)).backward()
        opt.step()
        ref_opt.zero_grad()
        loss_fn(ref(x), y).backward()
        ref_opt.step()
    assert net.module.spare.weight.grad is None  # unused on every rank: left alone, as in torch
    compare(net.module, ref, "find_unused_parameters")

elif scenario == "unused_error":
    net = DDP(model(seed=0, with_unused=True))
    x, y = batch(0)
    loss_fn(net(share(x)), share(y)).backward()
    try:
        net(share(x))
    except RuntimeError as error:
        assert "find_unused_parameters=True" in str(error)
        print(f"rank {rank} raised as torch")

elif scenario == "twice":
    # a second backward through an averaged graph would desynchronize the ranks: torch's error
    net = DDP(model(seed=0))
    x, y = batch(0)
    loss = loss_fn(net(share(x)), share(y))
    loss.backward(retain_graph=True)
    try:
        loss.backward()
    except RuntimeError as error:
        assert "only once" in str(error)
        print(f"rank {rank} raised as torch")

elif scenario == "buffers":
    # BatchNorm's running statistics: rank 0's are broadcast at each forward
    net = DDP(model(seed=0, batchnorm=True))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for step in range(3):
        x, y = batch(step)
        opt.zero_grad()
        loss_fn(net(share(x)), share(y)).backward()
        opt.step()
    net(share(batch(99)[0]))  # the buffers are broadcast before this forward, then updated locally
    mean = net.module[1].running_mean.numpy()
    everyone = [None] * size
    dist.all_gather_object(everyone, mean.tolist())
    # after the last forward each rank updated rank 0's broadcast statistics with its own batch
    assert len({tuple(m) for m in everyone}) == size

elif scenario == "checkpoint":
    # rank 0 saves after 10 steps; every rank loads it into a fresh model and the 10 more steps
    # match an uninterrupted run of 20
    path = None
    if rank == 0:
        path = tempfile.mkdtemp() + "/ddp.pt"
    box = [path]
    dist.broadcast_object_list(box, src=0)
    path = box[0]

    def train(net, opt, steps):
        for step in steps:
            x, y = batch(step)
            opt.zero_grad()
            loss_fn(net(share(x)), share(y)).backward()
            opt.step()

    net = DDP(model(seed=0))
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    train(net, opt, range(10))
    if rank == 0:
        torch.save({"model": net.state_dict(), "optim": opt.state_dict()}, path)
    dist.barrier()
    train(net, opt, range(10, 20))

    resumed = DDP(model(seed=123))
    resumed_opt = torch.optim.Adam(resumed.parameters(), lr=0.01)
    state = torch.load(path)
    assert all(key.startswith("module.") for key in state["model"])
    resumed.load_state_dict(state["model"])
    resumed_opt.load_state_dict(state["optim"])
    train(resumed, resumed_opt, range(10, 20))
    compare(resumed.module, net.module, "checkpoint resume", atol=0)

elif scenario == "syncbn":
    # SyncBatchNorm on R ranks with batch B each == BatchNorm in one process with batch R*B
    def cnn(seed):
        torch.manual_seed(seed)
        return nn.Sequential(
            nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 5 * 5, 3)
        )

    net = DDP(nn.SyncBatchNorm.convert_sync_batchnorm(cnn(seed=0)))
    assert isinstance(net.module[1], nn.SyncBatchNorm)
    ref = cnn(seed=0)
    opt, ref_opt = torch.optim.SGD(net.parameters(), lr=0.1), torch.optim.SGD(ref.parameters(), lr=0.1)
    for step in range(10):
        rng = np.random.default_rng(step)
        x = torch.tensor((rng.standard_normal((size * B, 2, 5, 5)) * 3 + 1).astype(np.float32))
        y = torch.tensor(rng.integers(0, 3, size * B))
        opt.zero_grad()
        loss_fn(net(share(x)), share(y)).backward()
        opt.step()
        ref_opt.zero_grad()
        loss_fn(ref(x), y).backward()
        ref_opt.step()
    compare(net.module, ref, "SyncBatchNorm", atol=2e-6)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(
            getattr(net.module[1], name).numpy(), getattr(ref[1], name).numpy(), atol=2e-6, err_msg=name
        )

elif scenario == "zero":
    from chainrule.distributed.optim import ZeroRedundancyOptimizer

    net = DDP(model(seed=0))
    ref = model(seed=0)
    opt = ZeroRedundancyOptimizer(net.parameters(), optimizer_class=torch.optim.Adam, lr=0.01)
    ref_opt = torch.optim.Adam(ref.parameters(), lr=0.01)
    for step in range(STEPS):
        x, y = batch(step)
        opt.zero_grad()
        loss_fn(net(share(x)), share(y)).backward()
        opt.step()
        ref_opt.zero_grad()
        loss_fn(ref(x), y).backward()
        ref_opt.step()
    compare(net.module, ref, "ZeroRedundancyOptimizer + Adam")
    # each rank keeps the state of its share only, and the shares cover every parameter once
    owned = len(opt.optim.state)
    counts = [None] * size
    dist.all_gather_object(counts, owned)
    assert sum(counts) == len(list(ref.parameters())) and max(counts) < sum(counts)
    # consolidated on rank 0: the state of one Adam over all parameters
    opt.consolidate_state_dict(to=0)
    if rank == 0:
        whole, expected = opt.state_dict(), ref_opt.state_dict()
        assert sorted(whole["state"]) == sorted(expected["state"])
        for i, entry in expected["state"].items():
            for key in ("exp_avg", "exp_avg_sq"):
                np.testing.assert_allclose(whole["state"][i][key].numpy(), entry[key].numpy(), atol=1e-6)
        box = [whole]
    else:
        try:
            opt.state_dict()
            raise AssertionError("state_dict() before consolidation must raise")
        except RuntimeError as error:
            assert "consolidate_state_dict" in str(error)
        box = [None]
    # every rank loads the whole state into a fresh ZeRO and steps on as the reference does
    dist.broadcast_object_list(box, src=0)
    fresh_net = DDP(model(seed=0))
    fresh_net.load_state_dict(net.state_dict())
    fresh = ZeroRedundancyOptimizer(fresh_net.parameters(), optimizer_class=torch.optim.Adam, lr=0.01)
    fresh.load_state_dict(box[0])
    for step in range(STEPS, STEPS + 3):
        x, y = batch(step)
        fresh.zero_grad()
        loss_fn(fresh_net(share(x)), share(y)).backward()
        fresh.step()
        ref_opt.zero_grad()
        loss_fn(ref(x), y).backward()
        ref_opt.step()
    compare(fresh_net.module, ref, "ZeroRedundancyOptimizer after load_state_dict")

print(f"rank {rank} ok {scenario}")
dist.destroy_process_group()
