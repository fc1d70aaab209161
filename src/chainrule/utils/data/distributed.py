"""``DistributedSampler``: each of ``num_replicas`` processes reads its own share of a dataset.

The shuffled order is torch's own: torch draws ``randperm(n)`` from a ``torch.Generator`` seeded
``seed + epoch``, a Fisher-Yates shuffle over a mt19937 stream (``random() % (n - i)``), which
NumPy's legacy MT19937 seeding reproduces bit for bit, so every replica gets the same indices as
under torch for the same arguments.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

import numpy as np

from ..._c10d import process_group as pg
from .sampler import Sampler

__all__ = ["DistributedSampler"]

# torch switches randperm to 64-bit draws from this size on (a different stream)
_RANDPERM_32BIT_LIMIT = (2**32 - 1) // 20


def torch_randperm(n: int, seed: int) -> list[int]:
    """``torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()`` on the CPU."""
    if n >= _RANDPERM_32BIT_LIMIT:
        raise NotImplementedError(
            f"DistributedSampler: shuffling {n} indices needs torch's 64-bit randperm stream, which "
            "chainrule does not reproduce; use shuffle=False or fewer than 214748364 samples"
        )
    bits = np.random.MT19937()
    bits._legacy_seeding(seed & 0xFFFFFFFF)  # torch seeds its mt19937 with the low 32 bits
    draws = bits.random_raw(max(n - 1, 0)) if n > 1 else np.empty(0, np.uint64)
    perm = list(range(n))
    for i, draw in enumerate(draws.tolist()):
        j = i + draw % (n - i)
        perm[i], perm[j] = perm[j], perm[i]
    return perm


class DistributedSampler(Sampler[int]):
    """The indices of one replica's share of ``dataset``: the (shuffled) index list padded by
    repeating its head to a multiple of ``num_replicas`` (or cut, with ``drop_last``), of which
    replica ``rank`` takes every ``num_replicas``-th from ``rank`` on.

    Parameters
    ----------
    dataset : Sized
        The dataset (anything with ``__len__``).
    num_replicas, rank : int, optional
        The number of processes and this one's index; by default the default process group's
        world size and this process's rank (``init_process_group`` first).
    shuffle : bool, default True
        A new order each epoch (``set_epoch``), the same on every replica: torch's ``randperm``
        seeded ``seed + epoch``.
    seed : int, default 0
    drop_last : bool, default False
        Drop the tail that does not divide evenly instead of padding with repeated indices.
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            if not pg.is_initialized():
                raise ValueError(
                    "Default process group has not been initialized, please make sure to call "
                    "init_process_group (or pass num_replicas and rank)"
                )
            num_replicas = pg.get_world_size() if num_replicas is None else num_replicas
            rank = pg.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        indices = torch_randperm(n, self.seed + self.epoch) if self.shuffle else list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """The epoch that seeds the next pass's order (call it before each epoch's loop)."""
        self.epoch = epoch
