"""Run under mpirun by test_collectives.py: every collective on float32, float64 and int64
tensors, each checked against the same computation done in one process with NumPy (every rank can
recompute every other rank's input, since the inputs are functions of the rank)."""

from __future__ import annotations

import numpy as np

import chainrule as torch
import chainrule.distributed as dist

dist.init_process_group("mpi")
rank, size = dist.get_rank(), dist.get_world_size()
checks = 0


def value(r: int, dtype, shape=(2, 3)) -> np.ndarray:
    """Rank r's input: distinct per rank and position, exact in every dtype tested."""
    return (np.arange(np.prod(shape)).reshape(shape) * (r + 2) - r).astype(dtype)


def check(got, want, what: str) -> None:
    global checks
    got = got.numpy() if isinstance(got, torch.Tensor) else np.asarray(got)
    assert got.dtype == np.asarray(want).dtype, f"{what}: dtype {got.dtype}, want {np.asarray(want).dtype}"
    np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=what)
    checks += 1


everyone = None
for np_dtype in (np.float32, np.float64, np.int64):
    everyone = np.stack([value(r, np_dtype) for r in range(size)])
    dt = str(np_dtype.__name__)
    reductions = {
        dist.ReduceOp.SUM: everyone.sum(0),
        dist.ReduceOp.PRODUCT: everyone.prod(0),
        dist.ReduceOp.MAX: everyone.max(0),
        dist.ReduceOp.MIN: everyone.min(0),
    }
    if np_dtype is not np.int64:
        reductions[dist.ReduceOp.AVG] = (everyone.sum(0) / size).astype(np_dtype)
    for op, want in reductions.items():
        t = torch.tensor(value(rank, np_dtype))
        dist.all_reduce(t, op=op)
        check(t, want, f"all_reduce {op} {dt}")
        # non-contiguous (a transpose) and asynchronous
        t = torch.tensor(value(rank, np_dtype).T.copy()).t()
        work = dist.all_reduce(t, op=op, async_op=True)
        work.wait()
        check(t, want, f"all_reduce async non-contiguous {op} {dt}")
        t = torch.tensor(value(rank, np_dtype))
        dist.reduce(t, dst=size - 1, op=op)
        check(t, want if rank == size - 1 else value(rank, np_dtype), f"reduce {op} {dt}")
    t = torch.tensor(value(rank, np_dtype))
    dist.broadcast(t, src=size - 1)
    check(t, value(size - 1, np_dtype), f"broadcast {dt}")
    outs = [torch.zeros(2, 3, dtype=t.dtype) for _ in range(size)]
    dist.all_gather(outs, torch.tensor(value(rank, np_dtype)))
    for r, o in enumerate(outs):
        check(o, value(r, np_dtype), f"all_gather {dt}")
    out = torch.zeros(size * 2, 3, dtype=t.dtype)
    dist.all_gather_into_tensor(out, torch.tensor(value(rank, np_dtype)))
    check(out, everyone.reshape(size * 2, 3), f"all_gather_into_tensor {dt}")
    # reduce_scatter_tensor: the input is size blocks of 2x3; rank r gets the sum of block r
    big = np.concatenate([value(rank, np_dtype) + b for b in range(size)])
    out = torch.zeros(2, 3, dtype=t.dtype)
    dist.reduce_scatter_tensor(out, torch.tensor(big))
    check(out, everyone.sum(0) + size * rank, f"reduce_scatter_tensor {dt}")
    out = torch.zeros(2, 3, dtype=t.dtype)
    dist.reduce_scatter(out, [torch.tensor(value(rank, np_dtype) + b) for b in range(size)])
    check(out, everyone.sum(0) + size * rank, f"reduce_scatter {dt}")
    gathered = [torch.zeros(2, 3, dtype=t.dtype) for _ in range(size)] if rank == 0 else None
    dist.gather(torch.tensor(value(rank, np_dtype)), gathered, dst=0)
    if rank == 0:
        for r, o in enumerate(gathered):
            check(o, value(r, np_dtype), f"gather {dt}")
    got = torch.zeros(2, 3, dtype=t.dtype)
    pieces = [torch.tensor(value(r, np_dtype) * 3) for r in range(size)] if rank == 1 else None
    dist.scatter(got, pieces, src=1)
    check(got, value(rank, np_dtype) * 3, f"scatter {dt}")
    # all_to_all_single: rank r's block j (1 row) goes to rank j
    send = torch.tensor(np.stack([value(rank, np_dtype)[0] + 100 * j for j in range(size)]))
    got = torch.zeros(size, 3, dtype=t.dtype)
    dist.all_to_all_single(got, send)
    check(got, np.stack([value(r, np_dtype)[0] + 100 * rank for r in range(size)]), f"all_to_all_single {dt}")
    outs = [torch.zeros(3, dtype=t.dtype) for _ in range(size)]
    dist.all_to_all(outs, [torch.tensor(value(rank, np_dtype)[1] + 10 * j) for j in range(size)])
    for r, o in enumerate(outs):
        check(o, value(r, np_dtype)[1] + 10 * rank, f"all_to_all {dt}")
    # a ring of send/recv
    right, left = (rank + 1) % size, (rank - 1) % size
    request = dist.isend(torch.tensor(value(rank, np_dtype)), dst=right)
    got = torch.zeros(2, 3, dtype=t.dtype)
    sender = dist.recv(got, src=left)
    request.wait()
    check(got, value(left, np_dtype), f"send/recv {dt}")
    assert sender == left
    dist.barrier()

# bool and float16 travel in wider types and come back in their own
flags = torch.tensor([rank == 0, True, False])
dist.all_reduce(flags, op=dist.ReduceOp.MAX)
check(flags, np.array([True, True, False]), "all_reduce bool MAX")
half = torch.full((4,), 0.5 * (rank + 1), dtype=torch.float16)
dist.all_reduce(half)
check(half, np.full(4, 0.5 * size * (size + 1) / 2, np.float16), "all_reduce float16")

# an empty tensor; a view (a column of a larger tensor) writes through to its base; the version
# counter moves, so a tensor saved for backward and then all-reduced is caught as torch catches it
empty = torch.zeros(0, 3)
dist.all_reduce(empty)
assert empty.shape == (0, 3)
base = torch.zeros(3, 4)
base[:, 1] = float(rank + 1)
column = base[:, 1]
dist.all_reduce(column)
check(base[:, 1], np.full(3, size * (size + 1) / 2, np.float32), "all_reduce of a view")
check(base[:, 0], np.zeros(3, np.float32), "the rest of the view's base")
leaf = torch.ones(3, requires_grad=True)
saved = torch.ones(3) * 2
product = (leaf * saved).sum()
dist.all_reduce(saved)
try:
    product.backward()
    raise AssertionError("backward after an in-place all_reduce of a saved tensor must raise")
except RuntimeError as error:
    assert "modified by an inplace operation" in str(error)

# objects
objects = [None] * size
dist.all_gather_object(objects, {"rank": rank, "name": f"r{rank}"})
assert objects == [{"rank": r, "name": f"r{r}"} for r in range(size)]
box = [rank, "x"] if rank == 1 else [None, None]
dist.broadcast_object_list(box, src=1)
assert box == [1, "x"]
received = [None]
dist.scatter_object_list(received, [f"to{r}" for r in range(size)] if rank == 0 else None, src=0)
assert received == [f"to{rank}"]
gathered = [None] * size if rank == 0 else None
dist.gather_object(rank * 7, gathered, dst=0)
assert rank != 0 or gathered == [r * 7 for r in range(size)]

# a sub-group of ranks 0 and size-1: group ranks, global ranks, a collective inside it
sub = dist.new_group([0, size - 1])
if rank in (0, size - 1):
    assert dist.get_world_size(sub) == 2 and dist.get_process_group_ranks(sub) == [0, size - 1]
    assert dist.get_global_rank(sub, 1) == size - 1 and dist.get_group_rank(sub, size - 1) == 1
    t = torch.tensor([float(rank)])
    dist.all_reduce(t, group=sub)
    check(t, np.array([float(size - 1)], np.float32), "all_reduce in a sub-group")
    t = torch.tensor([float(rank)])
    dist.broadcast(t, src=size - 1, group=sub)
    check(t, np.array([float(size - 1)], np.float32), "broadcast in a sub-group (global src)")
else:
    assert sub == dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(sub) == -1

dist.barrier()
dist.destroy_process_group()
assert not dist.is_initialized()
print(f"rank {rank} ok {checks}")
