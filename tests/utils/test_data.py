"""chainrule.utils.data against torch.utils.data: samplers, batching, collation, errors.

Orders drawn at random are chainrule's own (NumPy PCG64 streams, not torch's), so shuffling is
checked for what torch guarantees: a permutation every epoch, reproducible under a seed.
"""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import chainrule
import chainrule.utils.data as cud

Point = collections.namedtuple("Point", ["x", "y"])


def plain(x):
    """A library-neutral view of a collated batch: tensors as (dtype, shape, values)."""
    if isinstance(x, torch.Tensor | chainrule.Tensor):
        return ("tensor", str(x.dtype).split(".")[-1], tuple(x.shape), x.detach().numpy().tolist())
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, *[plain(v) for v in x])
    if isinstance(x, dict):
        return (type(x).__name__, {k: plain(v) for k, v in x.items()})
    if isinstance(x, list | tuple):
        return (type(x).__name__, [plain(v) for v in x])
    return x


def arrays(n: int = 10):
    rng = np.random.default_rng(0)
    return [
        rng.standard_normal((n, 3)).astype(np.float32),
        np.arange(n, dtype=np.int64),
        rng.integers(0, 255, (n, 2, 2)).astype(np.uint8),
        rng.random(n) < 0.5,
        rng.standard_normal(n),
    ]


def tensor_datasets(n: int = 10):
    a = arrays(n)
    return (
        tud.TensorDataset(*[torch.from_numpy(x.copy()) for x in a]),
        cud.TensorDataset(*[chainrule.from_numpy(x.copy()) for x in a]),
    )


class Rows(cud.Dataset):
    """A map-style dataset that is not a TensorDataset: the DataLoader indexes it sample by sample."""

    def __init__(self, *tensors) -> None:
        self.tensors = tensors

    def __getitem__(self, i):
        return tuple(t[i] for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0])


# ---- samplers -------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 7])
def test_sequential_sampler_order_is_torchs(n) -> None:
    assert list(cud.SequentialSampler(range(n))) == list(tud.SequentialSampler(range(n)))
    assert len(cud.SequentialSampler(range(n))) == n


@pytest.mark.parametrize(
    "n,bs,drop", [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False), (2, 5, True), (0, 4, False)]
)
def test_batch_sampler_matches_torch(n, bs, drop) -> None:
    ours = cud.BatchSampler(cud.SequentialSampler(range(n)), bs, drop)
    theirs = tud.BatchSampler(tud.SequentialSampler(range(n)), bs, drop)
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs)


@pytest.mark.parametrize(
    "bad",
    [
        dict(batch_size=0, drop_last=False),
        dict(batch_size=2.0, drop_last=False),
        dict(batch_size=True, drop_last=False),
        dict(batch_size=2, drop_last=1),
    ],
)
def test_batch_sampler_rejects_what_torch_rejects(bad) -> None:
    with pytest.raises(ValueError):
        tud.BatchSampler(range(4), **bad)
    with pytest.raises(ValueError, match="BatchSampler"):
        cud.BatchSampler(range(4), **bad)


def test_random_sampler_permutes_and_is_reproducible() -> None:
    data = range(50)
    g1, g2 = chainrule.Generator().manual_seed(3), chainrule.Generator().manual_seed(3)
    s1, s2 = cud.RandomSampler(data, generator=g1), cud.RandomSampler(data, generator=g2)
    epochs = [list(s1) for _ in range(3)]
    assert epochs == [list(s2) for _ in range(3)]
    for e in epochs:
        assert sorted(e) == list(range(50))
    assert epochs[0] != epochs[1]  # a new order each epoch (equal with probability 1/50!)


def test_random_sampler_without_generator_follows_manual_seed() -> None:
    chainrule.manual_seed(11)
    first = [list(cud.RandomSampler(range(30))) for _ in range(2)]
    chainrule.manual_seed(11)
    assert [list(cud.RandomSampler(range(30))) for _ in range(2)] == first
    assert first[0] != first[1]


def test_random_sampler_num_samples_and_replacement() -> None:
    g = chainrule.Generator().manual_seed(0)
    chained = list(cud.RandomSampler(range(5), num_samples=12, generator=g))
    assert len(chained) == 12  # two whole permutations, then 2 of a third, as torch does
    assert sorted(chained[:5]) == sorted(chained[5:10]) == list(range(5))
    drawn = list(cud.RandomSampler(range(4), replacement=True, num_samples=200, generator=g))
    assert len(drawn) == 200 and set(drawn) == {0, 1, 2, 3}
    assert len(cud.RandomSampler(range(4), replacement=True, num_samples=7)) == 7
    for bad in (dict(num_samples=0), dict(replacement=1)):
        with pytest.raises((ValueError, TypeError)) as theirs:
            tud.RandomSampler(range(4), **bad)
        with pytest.raises(theirs.type, match="RandomSampler"):
            cud.RandomSampler(range(4), **bad)


def test_subset_and_weighted_samplers() -> None:
    idx = [3, 8, 1, 9]
    drawn = list(cud.SubsetRandomSampler(idx, generator=chainrule.Generator().manual_seed(1)))
    assert sorted(drawn) == sorted(idx)
    w = list(cud.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 100, generator=chainrule.Generator()))
    assert len(w) == 100 and set(w) <= {1, 3}
    once = list(cud.WeightedRandomSampler([1.0, 1.0, 0.0, 1.0], 3, replacement=False))
    assert sorted(once) == [0, 1, 3]


def test_sampler_rejects_a_torch_generator() -> None:
    with pytest.raises(TypeError, match="chainrule.Generator"):
        cud.RandomSampler(range(3), generator=torch.Generator())


# ---- DataLoader over tensors ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "bs,drop", [(1, False), (3, False), (3, True), (4, False), (10, True), (16, False), (16, True)]
)
def test_tensor_dataset_batches_equal_torchs(bs, drop) -> None:
    theirs, ours = tensor_datasets(10)
    tl, ol = (
        tud.DataLoader(theirs, batch_size=bs, drop_last=drop),
        cud.DataLoader(ours, batch_size=bs, drop_last=drop),
    )
    assert len(ol) == len(tl)
    assert [plain(b) for b in ol] == [plain(b) for b in tl]


def test_fast_path_equals_per_sample_path() -> None:
    """TensorDataset batches are gathered with one index per tensor; a dataset indexed sample by
    sample (then stacked) must give exactly the same batches, shuffled with the same seed."""
    _, ours = tensor_datasets(23)
    rows = Rows(*ours.tensors)

    def run(ds):
        g = chainrule.Generator().manual_seed(5)
        dl = cud.DataLoader(ds, batch_size=4, shuffle=True, generator=g)
        return [[plain(b) for b in dl] for _ in range(2)]

    assert run(ours) == run(rows)
    sub_t, _ = cud.random_split(ours, [0.7, 0.3], generator=chainrule.Generator().manual_seed(0))
    sub_r, _ = cud.random_split(rows, [0.7, 0.3], generator=chainrule.Generator().manual_seed(0))
    assert run(sub_t) == run(sub_r)
    assert run(cud.Subset(cud.Subset(ours, [5, 3, 9, 0, 22, 7]), [4, 1, 0])) == run(
        cud.Subset(cud.Subset(rows, [5, 3, 9, 0, 22, 7]), [4, 1, 0])
    )


def test_shuffle_gives_a_permutation_each_epoch_reproducibly() -> None:
    x = chainrule.arange(40)

    def epochs(seed):
        dl = cud.DataLoader(
            cud.TensorDataset(x),
            batch_size=8,
            shuffle=True,
            generator=chainrule.Generator().manual_seed(seed),
        )
        return [np.concatenate([b[0].numpy() for b in dl]).tolist() for _ in range(3)]

    a, b = epochs(0), epochs(0)
    assert a == b
    assert all(sorted(e) == list(range(40)) for e in a)
    assert a[0] != a[1] != a[2]
    assert epochs(1) != a


def test_drop_last_and_len() -> None:
    ds = cud.TensorDataset(chainrule.arange(10))
    assert [len(b[0]) for b in cud.DataLoader(ds, batch_size=4)] == [4, 4, 2]
    assert [len(b[0]) for b in cud.DataLoader(ds, batch_size=4, drop_last=True)] == [4, 4]
    assert len(cud.DataLoader(ds, batch_size=4)) == 3
    assert len(cud.DataLoader(ds, batch_size=4, drop_last=True, shuffle=True)) == 2


def test_grad_flows_through_batches_like_torch() -> None:
    w = np.arange(1.0, 7.0).reshape(6, 1) * np.array([[1.0, -2.0]])

    def grad(lib, data):
        x = lib.tensor(w, requires_grad=True)
        loader = data.DataLoader(data.TensorDataset(x), batch_size=4)
        total = sum((b[0] * b[0]).sum() for b in loader)
        total.backward()
        return x.grad.numpy()

    np.testing.assert_allclose(grad(chainrule, cud), grad(torch, tud))


# ---- collation ------------------------------------------------------------------------------------
SAMPLES = {
    "ints": [1, 2, 3],
    "floats": [1.5, 2.5],
    "bools": [True, False],
    "strings": ["a", "b"],
    "bytes": [b"a", b"b"],
    "np_float32": [np.float32(1.5), np.float32(2.0)],
    "np_int32": [np.int32(1), np.int32(-4)],
    "np_bool": [np.bool_(True), np.bool_(False)],
    "np_arrays": [np.arange(6, dtype=np.int16).reshape(2, 3), np.ones((2, 3), np.int16)],
    "np_float64_arrays": [np.zeros(2), np.ones(2)],
    "dicts": [{"x": 1, "y": [1.0, 2.0], "s": "p"}, {"x": 2, "y": [3.0, 4.0], "s": "q"}],
    "tuples": [(1, 2.0), (3, 4.0)],
    "lists": [[1, 2], [3, 4]],
    "namedtuples": [Point(1, 2.0), Point(3, 4.0)],
    "nested": [{"a": (np.float32(1), {"b": [True]})}, {"a": (np.float32(2), {"b": [False]})}],
    "ordered": [collections.OrderedDict(z=1, a=2), collections.OrderedDict(z=3, a=4)],
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_default_collate_matches_torch(name) -> None:
    batch = SAMPLES[name]
    assert plain(cud.default_collate(batch)) == plain(tud.default_collate(batch))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8", "bool"])
def test_default_collate_stacks_tensors_like_torch(dtype) -> None:
    rows = [np.arange(6).reshape(2, 3).astype(dtype), np.ones((2, 3), dtype)]
    for batch in ([(r, int(r.sum())) for r in rows], [{"t": r} for r in rows], rows):
        ours = cud.default_collate([_map(chainrule.from_numpy, s) for s in batch])
        theirs = tud.default_collate([_map(torch.from_numpy, s) for s in batch])
        assert plain(ours) == plain(theirs)


def _map(fn, sample):
    if isinstance(sample, np.ndarray):
        return fn(sample.copy())
    if isinstance(sample, dict):
        return {k: _map(fn, v) for k, v in sample.items()}
    if isinstance(sample, tuple):
        return tuple(_map(fn, v) for v in sample)
    return sample


@pytest.mark.parametrize(
    "batch",
    [[[1, 2], [3]], [np.zeros(2), np.zeros(3)], [object(), object()], [np.array(["a"]), np.array(["b"])]],
    ids=["ragged", "shapes", "object", "strings"],
)
def test_default_collate_errors_like_torch(batch) -> None:
    with pytest.raises(Exception) as theirs:
        tud.default_collate(batch)
    with pytest.raises(theirs.type):
        cud.default_collate(batch)


def test_default_convert_matches_torch() -> None:
    sample = {"a": np.arange(3), "b": (np.float32(2), 3, "s"), "c": [np.ones(2)], "p": Point(np.int32(1), 2)}
    assert plain(cud.default_convert(sample)) == plain(tud.default_convert(sample))


def test_dict_samples_through_the_loader_match_torch() -> None:
    class Dicts:
        def __init__(self, lib):
            self.lib = lib

        def __getitem__(self, i):
            return {"x": self.lib.full((2,), float(i)), "label": i, "name": f"s{i}", "w": 0.5 * i}

        def __len__(self):
            return 5

    ours = [plain(b) for b in cud.DataLoader(Dicts(chainrule), batch_size=2)]
    assert ours == [plain(b) for b in tud.DataLoader(Dicts(torch), batch_size=2)]


def test_custom_collate_fn_gets_the_list_of_samples() -> None:
    seen = []

    def collate(samples):
        seen.append(samples)
        return len(samples)

    ds = cud.TensorDataset(chainrule.arange(5))
    assert list(cud.DataLoader(ds, batch_size=2, collate_fn=collate)) == [2, 2, 1]
    assert [[int(s[0]) for s in b] for b in seen] == [[0, 1], [2, 3], [4]]


def test_batch_size_none_converts_each_sample_like_torch() -> None:
    data = [(np.float32(i), np.arange(2) + i) for i in range(3)]
    ours = [plain(b) for b in cud.DataLoader(data, batch_size=None)]
    assert ours == [plain(b) for b in tud.DataLoader(data, batch_size=None)]


def test_batch_sampler_and_sampler_options() -> None:
    ds = cud.TensorDataset(chainrule.arange(10) * 10)
    got = [b[0].tolist() for b in cud.DataLoader(ds, batch_sampler=[[0, 9], [3], [2, 2]])]
    assert got == [[0, 90], [30], [20, 20]]
    got = [b[0].tolist() for b in cud.DataLoader(ds, sampler=[4, 1, 7], batch_size=2)]
    assert got == [[40, 10], [70]]
    assert len(cud.DataLoader(ds, batch_sampler=[[0, 9], [3], [2, 2]])) == 3


def test_iterable_dataset_batches_like_torch() -> None:
    def stream(lib, data):
        class Stream(data.IterableDataset):
            def __iter__(self):
                return iter([(lib.tensor([float(i)]), i) for i in range(7)])

            def __len__(self):
                return 7

        return Stream()

    for kw in (dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None)):
        ours, theirs = cud.DataLoader(stream(chainrule, cud), **kw), tud.DataLoader(stream(torch, tud), **kw)
        assert [plain(b) for b in ours] == [plain(b) for b in theirs]
        assert len(ours) == len(theirs)


# ---- errors -------------------------------------------------------------------------------------
def _ds(lib):
    return (tud if lib is torch else cud).TensorDataset(lib.arange(6))


BAD_OPTIONS = [
    dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], shuffle=True),
    dict(batch_sampler=[[0]], drop_last=True),
    dict(batch_sampler=[[0]], sampler=[0]),
    dict(sampler=[0, 1], shuffle=True),
    dict(batch_size=None, drop_last=True),
    dict(num_workers=-1),
    dict(prefetch_factor=2),
    dict(persistent_workers=True),
    dict(batch_size=0),
]


@pytest.mark.parametrize("kw", BAD_OPTIONS, ids=lambda kw: ",".join(kw))
def test_bad_options_raise_like_torch(kw) -> None:
    with pytest.raises(ValueError):
        tud.DataLoader(_ds(torch), **kw)
    with pytest.raises(ValueError, match="DataLoader|BatchSampler"):
        cud.DataLoader(_ds(chainrule), **kw)


def test_iterable_dataset_refuses_shuffle_and_samplers() -> None:
    class S(cud.IterableDataset):
        def __iter__(self):
            return iter(range(3))

    for kw in (dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])):
        with pytest.raises(ValueError, match="IterableDataset"):
            cud.DataLoader(S(), **kw)


def test_loader_attributes_are_frozen() -> None:
    dl = cud.DataLoader(_ds(chainrule), batch_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        dl.batch_size = 3


def test_bad_index_in_a_dataset_propagates_clearly() -> None:
    class Strict(cud.Dataset):
        def __getitem__(self, i):
            if not 0 <= i < 4:
                raise IndexError(f"Strict: index {i} out of range for 4 samples")
            return i

        def __len__(self):
            return 4

    with pytest.raises(IndexError, match="index 7 out of range") as info:
        list(cud.DataLoader(Strict(), sampler=[0, 7], batch_size=2))
    assert any("index 7" in note for note in info.value.__notes__)  # which index, added by the loader
    # the fast path of TensorDataset checks the sampler's indices itself
    with pytest.raises(IndexError, match="index 6 is out of range for a dataset of 6 samples"):
        list(cud.DataLoader(_ds(chainrule), sampler=[1, 6], batch_size=2))
    with pytest.raises(IndexError):  # torch: an IndexError too
        list(tud.DataLoader(_ds(torch), sampler=[1, 6], batch_size=2))


def test_num_workers_loads_the_same_batches_in_worker_processes() -> None:
    # tests/utils/test_dataloader_workers.py and test_dataloader_failures.py test workers fully
    dl = cud.DataLoader(_ds(chainrule), batch_size=4, num_workers=2, pin_memory=True)
    assert [b[0].tolist() for b in dl] == [[0, 1, 2, 3], [4, 5]]


# ---- datasets -----------------------------------------------------------------------------------
def test_tensor_dataset_items_and_errors() -> None:
    theirs, ours = tensor_datasets(4)
    assert len(ours) == len(theirs) == 4
    assert plain(list(ours[2])) == plain(list(theirs[2]))
    with pytest.raises(AssertionError, match="Size mismatch"):
        cud.TensorDataset(chainrule.zeros(3), chainrule.zeros(4))
    with pytest.raises(TypeError, match="not a chainrule Tensor"):
        cud.TensorDataset(np.zeros(3))


def test_concat_dataset_matches_torch() -> None:
    parts = [list(range(3)), list(range(10, 12)), list(range(20, 24))]
    ours, theirs = cud.ConcatDataset(parts), tud.ConcatDataset(parts)
    assert len(ours) == len(theirs)
    assert [ours[i] for i in range(-9, 9)] == [theirs[i] for i in range(-9, 9)]
    with pytest.raises(IndexError, match="out of range"):
        ours[9]
    with pytest.raises(ValueError):
        ours[-10]
    assert len(cud.TensorDataset(chainrule.zeros(2)) + cud.TensorDataset(chainrule.zeros(3))) == 5


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.34, 0.33, 0.33], [0.5, 0.5], [1.0]])
def test_random_split_sizes_match_torch(lengths) -> None:
    n = 10 if lengths == [3, 7] else 11
    ours = cud.random_split(range(n), lengths, generator=chainrule.Generator().manual_seed(0))
    theirs = tud.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    everything = sorted(i for s in ours for i in (s[j] for j in range(len(s))))
    assert everything == list(range(n))
    again = cud.random_split(range(n), lengths, generator=chainrule.Generator().manual_seed(0))
    assert [s.indices for s in again] == [s.indices for s in ours]


def test_random_split_rejects_bad_lengths_like_torch() -> None:
    for lengths in ([3, 3], [0.5, 0.6]):
        with pytest.raises(ValueError):
            tud.random_split(range(10), lengths)
        with pytest.raises(ValueError, match="random_split"):
            cud.random_split(range(10), lengths)


def test_subset_and_stack_dataset() -> None:
    base = list(range(100, 110))
    sub = cud.Subset(base, [4, 0, 9])
    assert [sub[i] for i in range(3)] == [104, 100, 109] and len(sub) == 3
    assert sub.__getitems__([2, 0]) == [109, 104]
    st = cud.StackDataset(a=base, b=list(range(10)))
    assert st[3] == {"a": 103, "b": 3} == tud.StackDataset(a=base, b=list(range(10)))[3]
    with pytest.raises(ValueError, match="Size mismatch"):
        cud.StackDataset(base, [1])
