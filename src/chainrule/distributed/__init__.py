"""``torch.distributed`` on MPI: process groups, tensor and object collectives.

Launch with ``mpirun -n 2 python train.py``; in the script, ``dist.init_process_group("mpi")``
(``"gloo"`` and ``"nccl"`` run on MPI too), then the collectives, ``nn.parallel.DistributedDataParallel``
and ``utils.data.DistributedSampler`` as under torch. ``pip install chainrule[dist]`` installs mpi4py
and Open MPI (``mpirun`` lands in the environment's ``bin``). Before ``init_process_group``, every
collective and group query raises torch's ``ValueError`` ("Default process group has not been
initialized ..."), so single-process scripts that guard their distributed code with
``dist.is_available() and dist.is_initialized()`` run unchanged. ``docs/distributed.md`` explains
launching on one host and several, failure behaviour and scaling.
"""

from __future__ import annotations

import os

from .._c10d.collectives import (
    Work,
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    all_to_all,
    all_to_all_single,
    barrier,
    broadcast,
    gather,
    irecv,
    isend,
    monitored_barrier,
    recv,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
    send,
)
from .._c10d.object_collectives import (
    all_gather_object,
    broadcast_object_list,
    gather_object,
    scatter_object_list,
)
from .._c10d.process_group import (
    GroupMember,
    ProcessGroup,
    default_pg_not_initialized_error,
    destroy_process_group,
    get_backend,
    get_global_rank,
    get_group_rank,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
    new_group,
)
from .._c10d.reduce_op import Backend, ReduceOp

__all__ = [
    "is_available",
    "is_initialized",
    "is_mpi_available",
    "is_nccl_available",
    "is_gloo_available",
    "is_ucc_available",
    "is_xccl_available",
    "is_backend_available",
    "is_torchelastic_launched",
    "init_process_group",
    "destroy_process_group",
    "new_group",
    "get_rank",
    "get_world_size",
    "get_backend",
    "get_process_group_ranks",
    "get_global_rank",
    "get_group_rank",
    "get_node_local_rank",
    "barrier",
    "monitored_barrier",
    "all_reduce",
    "reduce",
    "broadcast",
    "all_gather",
    "all_gather_into_tensor",
    "all_gather_object",
    "gather",
    "gather_object",
    "scatter",
    "scatter_object_list",
    "reduce_scatter",
    "reduce_scatter_tensor",
    "all_to_all",
    "all_to_all_single",
    "broadcast_object_list",
    "send",
    "recv",
    "isend",
    "irecv",
    "ReduceOp",
    "Backend",
    "ProcessGroup",
    "Work",
    "group",
    "GroupMember",
    "default_pg_not_initialized_error",
]


def is_nccl_available() -> bool:
    """False: chainrule's transport is MPI (``init_process_group("nccl")`` runs on it)."""
    return False


def is_gloo_available() -> bool:
    """False: chainrule's transport is MPI (``init_process_group("gloo")`` runs on it)."""
    return False


def is_ucc_available() -> bool:
    return False


def is_xccl_available() -> bool:
    return False


def is_backend_available(backend: str) -> bool:
    """True for ``"mpi"`` where mpi4py is installed."""
    return Backend(backend) == Backend.MPI and is_available()


def is_torchelastic_launched() -> bool:
    """Whether torchrun started this process (it sets TORCHELASTIC_RUN_ID)."""
    return os.getenv("TORCHELASTIC_RUN_ID") is not None


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """This process's rank on its node: $LOCAL_RANK, else Open MPI's $OMPI_COMM_WORLD_LOCAL_RANK,
    else ``fallback_rank``."""
    for name in ("LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK"):
        if name in os.environ:
            return int(os.environ[name])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError(
        "LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow "
        "`get_node_local_rank` to work, assuming you are not running in a multi-device context and "
        "want the code to run locally instead."
    )
