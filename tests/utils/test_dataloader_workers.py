"""DataLoader with worker processes against torch's: the batches, their order, worker info,
worker_init_fn, seeding, persistent workers, prefetching, IterableDataset sharding and start
methods. Every loader here runs real worker processes (fork unless a test says otherwise).

chainrule's random streams are not torch's, so a shuffled epoch is compared with chainrule's
own in-process epoch for the same seed (torch's workers keep that property too, which the tests
check on torch itself); everything deterministic is compared with torch batch for batch.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time

import numpy as np
import pytest
import torch
import torch.utils.data as tud
from test_data import plain
from torch.utils.data._utils.worker import _generate_state

import chainrule
import chainrule.utils.data as cud
from chainrule.utils.data._worker import numpy_seed

pytestmark = pytest.mark.usefixtures("one_torch_thread")

_INITS: list[tuple[int, int]] = []  # filled by record_init inside each worker process


def record_init(worker_id: int) -> None:
    info = chainrule.utils.data.get_worker_info() or torch.utils.data.get_worker_info()
    _INITS.append((worker_id, info.id))


def data_module(lib):
    return cud if lib is chainrule else tud


class Values(tud.Dataset):
    """Samples of several kinds: a tensor, an int, a string and an array large enough (8 KiB) to
    travel through shared memory. ``slow`` maps an index to seconds of sleep."""

    def __init__(self, lib, n: int, slow: dict | None = None) -> None:
        self.lib, self.n, self.slow = lib, n, slow or {}

    def __getitem__(self, i):
        time.sleep(self.slow.get(i, 0.0))
        return {
            "x": self.lib.arange(3, dtype=self.lib.float32) + i,
            "i": i,
            "name": f"s{i}",
            "big": np.full(1024, i, dtype=np.float64),
        }

    def __len__(self) -> int:
        return self.n


class Probe(tud.Dataset):
    """Each sample reports which worker loaded it and what that worker knows."""

    def __init__(self, lib, n: int) -> None:
        self.lib, self.n = lib, n

    def __getitem__(self, i):
        info = data_module(self.lib).get_worker_info()
        return {
            "i": i,
            "worker": info.id,
            "num_workers": info.num_workers,
            "seed": info.seed,
            "own_copy": info.dataset is self,
            "pid": os.getpid(),
            "inits": str(_INITS),
        }

    def __len__(self) -> int:
        return self.n


def loader(lib, dataset, **kw):
    return data_module(lib).DataLoader(dataset, **kw)


# ---- the same batches as torch ---------------------------------------------------------------
@pytest.mark.parametrize(
    "kw",
    [
        dict(batch_size=4),
        dict(batch_size=3, drop_last=True),
        dict(batch_size=None),
        dict(batch_size=2, sampler=[5, 1, 8, 0, 3]),
        dict(batch_sampler=[[3, 1], [0], [9, 8, 7, 2]]),
        dict(batch_size=2, prefetch_factor=1),
    ],
    ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items() if k != "sampler"),
)
def test_batches_match_torch(kw) -> None:
    kw = {"num_workers": 2, **kw}
    ours = [plain(b) for b in loader(chainrule, Values(chainrule, 10), **kw)]
    theirs = [plain(b) for b in loader(torch, Values(torch, 10), **kw)]
    assert ours == theirs
    assert len(loader(chainrule, Values(chainrule, 10), **kw)) == len(loader(torch, Values(torch, 10), **kw))


def test_batches_come_in_sampler_order_when_an_early_one_is_slow() -> None:
    # worker 0's first batch (indices 0, 1) sleeps, so worker 1's batch arrives first
    ours = [
        b["i"].tolist()
        for b in loader(chainrule, Values(chainrule, 8, {0: 0.3}), batch_size=2, num_workers=2)
    ]
    theirs = [b["i"].tolist() for b in loader(torch, Values(torch, 8, {0: 0.3}), batch_size=2, num_workers=2)]
    assert ours == theirs == [[0, 1], [2, 3], [4, 5], [6, 7]]


def test_out_of_order_delivery_gives_every_batch_once() -> None:
    def batches(lib):
        dl = loader(lib, Values(lib, 8, {0: 0.3}), batch_size=2, num_workers=2, in_order=False)
        return sorted(b["i"].tolist() for b in dl)

    assert batches(chainrule) == batches(torch) == [[0, 1], [2, 3], [4, 5], [6, 7]]


def test_tensor_dataset_fast_path_in_workers_matches_torch() -> None:
    x = np.random.default_rng(0).standard_normal((50, 4, 4)).astype(np.float32)
    y = np.arange(50)
    ours = cud.TensorDataset(chainrule.from_numpy(x), chainrule.from_numpy(y))
    theirs = tud.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    sampler = list(np.random.default_rng(1).permutation(50))
    got = [plain(b) for b in cud.DataLoader(ours, batch_size=16, sampler=sampler, num_workers=2)]
    want = [plain(b) for b in tud.DataLoader(theirs, batch_size=16, sampler=sampler, num_workers=2)]
    assert got == want


def test_shuffled_epochs_are_the_same_with_and_without_workers() -> None:
    """torch draws one base seed per iterator with or without workers, so a seeded shuffle gives
    the same epochs either way and leaves the generator in the same state."""

    def epochs(lib, workers: int, generator: bool):
        lib.manual_seed(7)
        g = lib.Generator().manual_seed(3) if generator else None
        dl = loader(lib, list(range(12)), batch_size=5, shuffle=True, num_workers=workers, generator=g)
        orders = [[b.tolist() for b in dl] for _ in range(2)]
        return orders, lib.rand(2).tolist(), (g.get_state().tolist() if generator else None)

    for lib in (chainrule, torch):
        for generator in (False, True):
            with_workers = epochs(lib, 2, generator)
            assert with_workers == epochs(lib, 0, generator)
            assert with_workers[0][0] != with_workers[0][1]  # a new order each epoch
            assert sorted(sum(with_workers[0][0], [])) == list(range(12))


# ---- what a worker knows ------------------------------------------------------------------------
def summary(lib, **kw):
    """Per batch: which worker, how many workers, whether it saw its own dataset copy, what
    worker_init_fn had recorded; and per worker, its seed's offset from worker 0's."""
    batches = list(loader(lib, Probe(lib, 10), batch_size=2, num_workers=2, **kw))
    rows = [
        (b["worker"].tolist(), b["num_workers"].tolist(), b["own_copy"].tolist(), b["inits"]) for b in batches
    ]
    seeds = {w: s for b in batches for w, s in zip(b["worker"].tolist(), b["seed"].tolist(), strict=True)}
    pids = {p for b in batches for p in b["pid"].tolist()}
    return rows, seeds[1] - seeds[0], pids


def test_worker_info_and_init_fn_match_torch() -> None:
    ours, theirs = summary(chainrule, worker_init_fn=record_init), summary(torch, worker_init_fn=record_init)
    assert ours[:2] == theirs[:2]
    rows, seed_step, pids = ours
    assert [r[0] for r in rows] == [[0, 0], [1, 1], [0, 0], [1, 1], [0, 0]]  # round robin
    assert {s for r in rows if r[0][0] == 0 for s in r[3]} == {"[(0, 0)]"}  # once, in worker 0
    assert {s for r in rows if r[0][0] == 1 for s in r[3]} == {"[(1, 1)]"}
    assert seed_step == 1
    assert len(pids) == 2 and os.getpid() not in pids
    assert cud.get_worker_info() is None and _INITS == []  # the main process is no worker


class Draws(tud.Dataset):
    """The first draw of each generator a worker seeds, and the seed it was given."""

    def __init__(self, lib) -> None:
        self.lib = lib

    def __getitem__(self, i):
        info = data_module(self.lib).get_worker_info()
        return [info.id, info.seed, random.random(), float(np.random.random()), self.lib.rand(1).item()]

    def __len__(self) -> int:
        return 2


@pytest.mark.parametrize("lib", [chainrule, torch], ids=["chainrule", "torch"])
def test_workers_seed_random_numpy_and_the_library_like_torch(lib) -> None:
    for worker_id, seed, py, npy, own in loader(lib, Draws(lib), batch_size=None, num_workers=2):
        assert py == random.Random(seed).random()
        base = seed - worker_id
        assert npy == np.random.RandomState(_generate_state(base, worker_id)).random_sample()
        g = lib.Generator().manual_seed(seed)
        assert own == lib.rand(1, generator=g).item()


def test_numpy_seed_is_torchs_generate_state() -> None:
    rng = np.random.default_rng(0)
    for base in [0, 1, 2**32 - 1, 2**32, 2**63 - 1, *rng.integers(0, 2**63, 20).tolist()]:
        for worker_id in (0, 1, 7, 100):
            assert numpy_seed(base, worker_id) == _generate_state(base, worker_id)


# ---- persistent workers and prefetching --------------------------------------------------------
def pids_per_epoch(lib, persistent: bool, epochs: int = 3):
    dl = loader(
        lib,
        Probe(lib, 6),
        batch_size=2,
        num_workers=2,
        persistent_workers=persistent,
        worker_init_fn=record_init,
    )
    out = []
    for epoch in range(epochs):
        batches = list(dl) if epoch != 1 else [next(iter(dl))]  # epoch 1 is abandoned early
        out.append(
            (
                {p for b in batches for p in b["pid"].tolist()},
                [b["i"].tolist() for b in batches],
                sorted({s for b in batches for s in b["inits"]}),
            )
        )
    return out


def test_persistent_workers_are_reused_across_epochs() -> None:
    ours = pids_per_epoch(chainrule, True)
    theirs = pids_per_epoch(torch, True)
    assert [o[1:] for o in ours] == [t[1:] for t in theirs]
    assert ours[0][0] == ours[2][0]  # the same two processes
    assert ours[2][2] == ["[(0, 0)]", "[(1, 1)]"]  # worker_init_fn ran once per worker, in all
    fresh = pids_per_epoch(chainrule, False)
    assert not fresh[0][0] & fresh[2][0]  # new processes each epoch
    assert [o[1] for o in fresh] == [o[1] for o in ours]


class Counted(tud.Dataset):
    """Counts every sample any worker has fetched, in shared memory."""

    def __init__(self, lib, n: int) -> None:
        self.lib, self.n = lib, n
        self.count = multiprocessing.get_context("fork").Value("i", 0)

    def __getitem__(self, i):
        with self.count.get_lock():
            self.count.value += 1
        return i

    def __len__(self) -> int:
        return self.n


def settled_count(counter, expected: int) -> int:
    """The counter once it has stopped moving (given up to a minute to reach ``expected``)."""
    deadline = time.monotonic() + 60
    while counter.value < expected and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # room for a wrong implementation to overshoot
    return counter.value


@pytest.mark.parametrize("prefetch", [1, 3])
def test_prefetch_factor_bounds_the_batches_in_flight(prefetch) -> None:
    # prefetch * workers tasks go out at the start and one more per batch returned, as in torch
    expected = prefetch * 2 + 1
    for lib in (chainrule, torch):
        ds = Counted(lib, 40)
        it = iter(loader(lib, ds, batch_size=1, num_workers=2, prefetch_factor=prefetch))
        assert next(it).tolist() == [0]
        assert settled_count(ds.count, expected) == expected, lib.__name__
        del it


# torch's iterator, refused in its __init__, complains again from __del__
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_prefetch_factor_defaults_and_checks_like_torch() -> None:
    for lib in (chainrule, torch):
        assert loader(lib, [1], num_workers=2).prefetch_factor == 2
        assert loader(lib, [1]).prefetch_factor is None
        with pytest.raises(ValueError, match="prefetch_factor"):
            loader(lib, [1], num_workers=2, prefetch_factor=-1)
        with pytest.raises(AssertionError, match="prefetch_factor"):
            iter(loader(lib, [1], num_workers=2, prefetch_factor=0))


# ---- IterableDataset ---------------------------------------------------------------------------
class ShardsOf:
    """``range(n)``, each worker yielding its own contiguous share (torch's documented recipe)."""

    def __init__(self, lib, n: int) -> None:
        self.lib, self.n = lib, n

    def __iter__(self):
        info = data_module(self.lib).get_worker_info()
        lo, hi = 0, self.n
        if info is not None:
            per = -(-self.n // info.num_workers)
            lo, hi = info.id * per, min(self.n, (info.id + 1) * per)
        for i in range(lo, hi):
            yield self.lib.tensor([float(i), -i])


class TorchShards(ShardsOf, tud.IterableDataset):
    pass


class OurShards(ShardsOf, cud.IterableDataset):
    pass


def Shards(lib, n: int):
    return (OurShards if lib is chainrule else TorchShards)(lib, n)


@pytest.mark.parametrize(
    "kw",
    [
        dict(batch_size=2),
        dict(batch_size=4, drop_last=True),
        dict(batch_size=None),
        dict(batch_size=2, n=3),  # uneven shares
        dict(batch_size=3, n=1),  # worker 1 has nothing at all
    ],
    ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()),
)
def test_iterable_dataset_shards_like_torch(kw) -> None:
    kw = {"num_workers": 2, **kw}
    n = kw.pop("n", 11)
    ours = [plain(b) for b in loader(chainrule, Shards(chainrule, n), **kw)]
    theirs = [plain(b) for b in loader(torch, Shards(torch, n), **kw)]
    assert ours == theirs


def test_iterable_dataset_with_persistent_workers_restarts_each_epoch() -> None:
    def run(lib):
        dl = loader(lib, Shards(lib, 7), batch_size=2, num_workers=2, persistent_workers=True)
        return [[plain(b) for b in dl] for _ in range(2)]

    ours = run(chainrule)
    assert ours == run(torch)
    assert ours[0] == ours[1]


# ---- start methods -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "context", ["spawn", multiprocessing.get_context("forkserver")], ids=["spawn", "forkserver"]
)
def test_spawn_and_forkserver_workers_give_the_same_batches(context) -> None:
    x = chainrule.arange(24, dtype=chainrule.float32).reshape(12, 2)
    ds = cud.TensorDataset(x, chainrule.arange(12))
    kw = dict(batch_size=5, sampler=[11, 0, 5, 3, 2, 9, 1])
    with_workers = [
        plain(b) for b in cud.DataLoader(ds, num_workers=1, multiprocessing_context=context, **kw)
    ]
    assert with_workers == [plain(b) for b in cud.DataLoader(ds, **kw)]


@pytest.mark.parametrize(
    "kw, error",
    [
        (dict(num_workers=1, multiprocessing_context="no-such-method"), ValueError),
        (dict(num_workers=1, multiprocessing_context=object()), TypeError),
        (dict(multiprocessing_context="spawn"), ValueError),
    ],
    ids=["unknown-method", "not-a-context", "without-workers"],
)
def test_bad_multiprocessing_context_raises_like_torch(kw, error) -> None:
    with pytest.raises(error):
        tud.DataLoader([1], **kw)
    with pytest.raises(error, match="multiprocessing_context"):
        cud.DataLoader([1], **kw)


def test_more_workers_than_cores_warns_like_torch() -> None:
    cores = len(os.sched_getaffinity(0))
    for lib in (chainrule, torch):
        with pytest.warns(UserWarning, match=f"create {cores + 1} worker processes in total"):
            loader(lib, [1], num_workers=cores + 1)


def test_context_object_and_pin_memory_are_accepted() -> None:
    ctx = multiprocessing.get_context("fork")
    dl = cud.DataLoader(
        list(range(5)), batch_size=2, num_workers=2, multiprocessing_context=ctx, pin_memory=True
    )
    assert dl.multiprocessing_context is ctx
    assert [b.tolist() for b in dl] == [[0, 1], [2, 3], [4]]
