"""DistributedSampler against torch's: the same index partitions for the same arguments."""

from __future__ import annotations

import pytest
import torch.utils.data as tdata

import chainrule.utils.data as cdata


@pytest.mark.parametrize("n", [0, 1, 7, 10, 13, 100, 1000])
@pytest.mark.parametrize("replicas", [1, 3, 4])
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("drop_last", [True, False])
def test_partitions_match_torch(n, replicas, shuffle, drop_last) -> None:
    data = list(range(n))
    for rank in range(replicas):
        for seed, epoch in ((0, 0), (7, 3), (2**33 + 5, 1)):
            ours = cdata.DistributedSampler(data, replicas, rank, shuffle, seed, drop_last)
            theirs = tdata.DistributedSampler(data, replicas, rank, shuffle, seed, drop_last)
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs)
            assert len(ours) == len(theirs)
            assert ours.total_size == theirs.total_size


def test_padding_beyond_one_copy() -> None:
    ours = cdata.DistributedSampler(range(2), num_replicas=5, rank=4, shuffle=False)
    theirs = tdata.DistributedSampler(range(2), num_replicas=5, rank=4, shuffle=False)
    assert list(ours) == list(theirs)


def test_epochs_change_the_order_and_replicas_cover_the_data() -> None:
    sampler = [cdata.DistributedSampler(range(20), 4, r, seed=3) for r in range(4)]
    first = [list(s) for s in sampler]
    assert sorted(i for part in first for i in part) == list(range(20))
    for s in sampler:
        s.set_epoch(1)
    assert [list(s) for s in sampler] != first


@pytest.mark.parametrize("rank", [-1, 3])
def test_bad_rank_raises_like_torch(rank) -> None:
    with pytest.raises(ValueError, match="Invalid rank"):
        tdata.DistributedSampler(range(5), num_replicas=3, rank=rank)
    with pytest.raises(ValueError, match="Invalid rank"):
        cdata.DistributedSampler(range(5), num_replicas=3, rank=rank)


def test_without_a_process_group_raises() -> None:
    with pytest.raises(ValueError, match="process group"):
        cdata.DistributedSampler(range(5))


def test_in_a_dataloader() -> None:
    sampler = cdata.DistributedSampler(cdata.TensorDataset(__import__("chainrule").arange(10)), 2, 1, seed=1)
    loader = cdata.DataLoader(sampler.dataset, batch_size=2, sampler=sampler)
    torch_sampler = tdata.DistributedSampler(range(10), 2, 1, seed=1)
    assert [int(i) for batch in loader for i in batch[0]] == list(torch_sampler)
