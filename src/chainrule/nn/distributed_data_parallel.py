"""``DistributedDataParallel``: the same model on every process, each on its own share of the data,
gradients averaged across processes during backward.

How the averaging overlaps backward (torch's design, on MPI):

1. At construction, rank 0's parameters and buffers are broadcast, so every process starts equal.
   The parameters are put into *buckets* of about ``bucket_cap_mb`` (the first one 1 MiB), in the
   reverse of ``module.parameters()``: roughly the order in which backward produces their gradients.
2. Each parameter gets a post-accumulate-grad hook. When the last gradient of a bucket has arrived,
   the bucket's gradients are copied into one flat buffer and a non-blocking all-reduce starts
   (``Iallreduce``): the network works while backward goes on with the layers below.
3. When every bucket has been launched, the hook of the last gradient waits for them, divides by
   the world size and writes the averages back into ``.grad``.

Buckets launch in bucket order on every rank (an MPI requirement: collectives are matched by
order), so a bucket that fills early waits for the ones before it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._c10d.collectives import broadcast
from .._c10d.process_group import ProcessGroup, resolve
from .._tensor import Tensor, wrap
from ..autograd.grad_mode import is_grad_enabled, no_grad
from .module import Module

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1024 * 1024  # torch's: a small first bucket starts communication early


class _Bucket:
    """Parameters whose gradients travel in one all-reduce, in one flat buffer of their dtype."""

    def __init__(self, params: list[Tensor]) -> None:
        self.params = params
        self.sizes = [p.numel() for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).tolist()
        self.buffer = np.empty(self.offsets[-1], dtype=params[0]._data.dtype)
        self.waiting = len(params)
        self.request: Any = None


def _buckets(params: list[Tensor], cap_bytes: int) -> list[_Bucket]:
    """Consecutive runs of ``params`` of one dtype and at most ``cap_bytes`` each (the first at
    most 1 MiB); a parameter larger than the cap gets a bucket of its own."""
    runs: list[list[Tensor]] = []
    current: list[Tensor] = []
    size = 0
    for p in params:
        limit = min(_FIRST_BUCKET_BYTES, cap_bytes) if not runs else cap_bytes
        if current and (current[0]._data.dtype != p._data.dtype or size + p._data.nbytes > limit):
            runs.append(current)
            current, size = [], 0
        current.append(p)
        size += p._data.nbytes
    if current:
        runs.append(current)
    return [_Bucket(run) for run in runs]


def _reachable_leaves(outputs: Any) -> set[int]:
    """The ids of the leaf tensors that the graphs of ``outputs`` lead to."""
    roots = [t.grad_fn for t in _tensors_in(outputs) if t.grad_fn is not None]
    seen: set[int] = set()
    leaves: set[int] = set()
    while roots:
        node = roots.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None:
            leaves.add(id(variable))
        for child, _ in getattr(node, "next_functions", ()):
            if child is not None:
                roots.append(child)
    return leaves


def _tensors_in(value: Any) -> Iterator[Tensor]:
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors_in(item)


class DistributedDataParallel(Module):
    """Data-parallel training across processes (``torch.nn.parallel.DistributedDataParallel``).

    Parameters
    ----------
    module : Module
        The model; every rank builds the same one (rank 0's values are broadcast to the others).
    process_group : ProcessGroup, optional
        The ranks to average over (the default group when None).
    bucket_cap_mb : float, default 25
        The size of a gradient bucket, in MiB: larger buckets mean fewer, larger messages.
    broadcast_buffers : bool, default True
        Broadcast rank 0's buffers (BatchNorm's running statistics) at each forward.
    find_unused_parameters : bool, default False
        Look through each forward's graph for parameters it does not use, so that backward does
        not wait for their gradients (a parameter no rank used keeps its ``.grad``).
    device_ids, output_device, dim, check_reduction, gradient_as_bucket_view, static_graph, ...
        Accepted for torch compatibility (one CPU device per process).

    Notes
    -----
    ``no_sync()`` skips the averaging for gradient accumulation; the first backward after it
    averages the accumulated gradients. Save checkpoints from rank 0 only (``if dist.get_rank() ==
    0``); the keys start with ``module.``, as in torch.
    """

    def __init__(
        self,
        module: Module,
        device_ids: Any = None,
        output_device: Any = None,
        dim: int = 0,
        broadcast_buffers: bool = True,
        process_group: ProcessGroup | None = None,
        bucket_cap_mb: float | None = None,
        find_unused_parameters: bool = False,
        check_reduction: bool = False,
        gradient_as_bucket_view: bool = False,
        static_graph: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        group = resolve(process_group)
        self.module = module
        self.dim = dim
        self.device_ids: list = []
        self.output_device = None
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        object.__setattr__(self, "process_group", group)
        params = [p for p in module.parameters() if p.requires_grad]
        self._check_same_model(group, params)
        self._sync_module_states(group)
        self._params = params
        self._bucket_list = _buckets(list(reversed(params)), self.bucket_bytes_cap)
        self._bucket_of = {id(p): b for b in self._bucket_list for p in b.params}
        self._armed = False  # a forward prepared a backward whose gradients are averaged
        self._launched = 0  # buckets whose all-reduce started, in order
        self._gradients_arrived = False  # a backward of the armed forward has begun
        self._averaged = False  # the last forward's gradients have been averaged
        self._used: set[int] = set()
        self._handles = [p.register_post_accumulate_grad_hook(self._gradient_ready) for p in params]

    # ---- construction ------------------------------------------------------------------------
    @staticmethod
    def _check_same_model(group: ProcessGroup, params: list[Tensor]) -> None:
        mine = [(tuple(p.shape), str(p.dtype)) for p in params]
        everyone = group.comm.allgather(mine)
        for rank, theirs in enumerate(everyone):
            if theirs != everyone[0]:
                raise RuntimeError(
                    f"DistributedDataParallel: rank {group.ranks[rank]} has a model with parameters "
                    f"{theirs[:4]}... but rank {group.ranks[0]} has {everyone[0][:4]}... "
                    "(DDP expects the same model on every rank)"
                )

    def _sync_module_states(self, group: ProcessGroup) -> None:
        if group.size() == 1:
            return
        with no_grad():
            for t in [*self.module.parameters(), *self.module.buffers()]:
                broadcast(t, src=group.ranks[0], group=group)

    # ---- forward -----------------------------------------------------------------------------
    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        group: ProcessGroup = self.process_group
        if self._armed and self._gradients_arrived:
            raise RuntimeError(
                "DistributedDataParallel: Expected to have finished reduction in the prior iteration "
                "before starting a new one. This error indicates that your module has parameters that "
                "were not used in producing loss. Enable unused parameter detection by passing "
                "find_unused_parameters=True to DistributedDataParallel, or make sure all forward "
                "outputs participate in calculating the loss."
            )
        if self.broadcast_buffers and self.require_forward_param_sync and group.size() > 1:
            with no_grad():
                for buf in self.module.buffers():
                    broadcast(buf, src=group.ranks[0], group=group)
        output = self.module(*inputs, **kwargs)
        self._averaged = False
        self._armed = is_grad_enabled() and self.require_backward_grad_sync and group.size() > 1
        if self._armed:
            self._prepare_backward(output)
        return output

    def _prepare_backward(self, output: Any) -> None:
        self._launched = 0
        self._gradients_arrived = False
        for bucket in self._bucket_list:
            bucket.waiting = len(bucket.params)
            bucket.request = None
        if not self.find_unused_parameters:
            self._used = {id(p) for p in self._params}
            return
        reachable = _reachable_leaves(output)
        self._used = {id(p) for p in self._params if id(p) in reachable}
        for p in self._params:  # nothing will come for these: ready now
            if id(p) not in self._used:
                self._mark_ready(p)

    # ---- backward: the hooks -----------------------------------------------------------------
    def _gradient_ready(self, param: Tensor) -> None:
        if self._armed:
            self._gradients_arrived = True
            self._mark_ready(param)
        elif self._averaged:  # a second backward through a graph whose gradients were averaged
            raise RuntimeError(
                "DistributedDataParallel: Expected to mark a variable ready only once: a second "
                "backward (retain_graph=True) after the gradients of this forward were already averaged "
                "across ranks would leave them out of sync. Run forward again for each backward, or "
                "accumulate under no_sync()."
            )

    def _mark_ready(self, param: Tensor) -> None:
        bucket = self._bucket_of[id(param)]
        bucket.waiting -= 1
        buckets = self._bucket_list
        while self._launched < len(buckets) and buckets[self._launched].waiting == 0:
            self._launch(buckets[self._launched])
            self._launched += 1
        if self._launched == len(buckets):
            self._finish()
        else:  # let MPI progress the all-reduces already under way
            for started in buckets[: self._launched]:
                if started.request is not None:
                    started.request.Test()

    def _launch(self, bucket: _Bucket) -> None:
        from mpi4py import MPI

        for p, start, stop in zip(bucket.params, bucket.offsets, bucket.offsets[1:]):
            if p.grad is None or id(p) not in self._used:
                bucket.buffer[start:stop] = 0
            else:
                bucket.buffer[start:stop] = p.grad._data.reshape(-1)
        bucket.request = self.process_group.comm.Iallreduce(MPI.IN_PLACE, bucket.buffer, op=MPI.SUM)

    def _finish(self) -> None:
        from mpi4py import MPI

        group: ProcessGroup = self.process_group
        self._armed = False
        self._averaged = True
        MPI.Request.Waitall([b.request for b in self._bucket_list])
        used_anywhere = None
        if self.find_unused_parameters:
            flags = np.array([id(p) in self._used for p in self._params], dtype=np.uint8)
            group.comm.Allreduce(MPI.IN_PLACE, flags, op=MPI.MAX)
            used_anywhere = {id(p) for p, flag in zip(self._params, flags) if flag}
        size = group.size()
        for bucket in self._bucket_list:
            bucket.buffer /= size
            for p, start, stop in zip(bucket.params, bucket.offsets, bucket.offsets[1:]):
                if used_anywhere is not None and id(p) not in used_anywhere:
                    continue  # no rank used it: its .grad stays as it was, as in torch
                average = bucket.buffer[start:stop].reshape(p._data.shape)
                if p.grad is None:
                    p.grad = wrap(average.copy())
                else:
                    p.grad._data[...] = average
                    p.grad._bump_version()

    # ---- gradient accumulation -----------------------------------------------------------------
    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward passes of forwards run inside this block keep their gradients local
        (accumulating in ``.grad``); the first synchronized backward after it averages the sums."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous
