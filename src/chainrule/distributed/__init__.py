"""``torch.distributed``: importable, with torch's answers and errors while no process group exists.

chainrule has no process-group backend yet (an MPI one is planned): ``is_available()`` is False,
``is_initialized()`` False, ``init_process_group`` raises saying so, and every collective or
group query raises torch's ``ValueError("Default process group has not been initialized, ...")``,
as torch does before ``init_process_group``. Single-process scripts that guard their distributed
code with ``dist.is_available() and dist.is_initialized()`` run unchanged.
"""

from __future__ import annotations

import enum
import os

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
    "group",
    "GroupMember",
    "default_pg_not_initialized_error",
]


def default_pg_not_initialized_error() -> ValueError:
    """torch's error for a collective or query before ``init_process_group``."""
    return ValueError(
        "Default process group has not been initialized, please make sure to call init_process_group."
    )


class ReduceOp:
    """How a collective combines the processes' tensors (``dist.ReduceOp.SUM``)."""

    class RedOpType(enum.Enum):
        SUM = 0
        AVG = 1
        PRODUCT = 2
        MIN = 3
        MAX = 4
        BAND = 5
        BOR = 6
        BXOR = 7
        PREMUL_SUM = 8

    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM


class Backend(str):
    """A backend name, lower-cased (``Backend("GLOO") == "gloo"``)."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"
    XCCL = "xccl"

    def __new__(cls, name: str) -> Backend:
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: {type(name)}")
        return str.__new__(cls, name.lower())


class group:
    """``dist.group.WORLD``: the default group, None until ``init_process_group``."""

    WORLD = None


GroupMember = group


def is_available() -> bool:
    """False: chainrule has no process-group backend yet (torch answers True where it has one)."""
    return False


def is_initialized() -> bool:
    return False


def is_mpi_available() -> bool:
    return False


def is_nccl_available() -> bool:
    return False


def is_gloo_available() -> bool:
    return False


def is_ucc_available() -> bool:
    return False


def is_xccl_available() -> bool:
    return False


def is_backend_available(backend: str) -> bool:
    return False


def is_torchelastic_launched() -> bool:
    """Whether torchrun started this process (it sets TORCHELASTIC_RUN_ID)."""
    return os.getenv("TORCHELASTIC_RUN_ID") is not None


def init_process_group(backend: str | None = None, init_method: str | None = None, *args, **kwargs) -> None:
    """Raises: chainrule has no process-group backend yet."""
    raise RuntimeError(
        f"init_process_group: chainrule has no distributed backend yet (asked for {backend!r}); run "
        "single-process, guarding distributed code with torch.distributed.is_available()"
    )


def destroy_process_group(group=None) -> None:
    """torch's AssertionError: there is no process group to destroy."""
    raise AssertionError("Process group cannot be None")


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """This process's rank on its node: $LOCAL_RANK, else ``fallback_rank``."""
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError(
        "LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow "
        "`get_node_local_rank` to work, assuming you are not running in a multi-device context and "
        "want the code to run locally instead."
    )


def get_global_rank(group, group_rank: int) -> int:
    """The global rank of ``group_rank`` in ``group``; for the default group (None), itself."""
    if group is None:
        return group_rank
    raise default_pg_not_initialized_error()


def _needs_group(name: str):
    def call(*args, **kwargs):
        raise default_pg_not_initialized_error()

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"``torch.distributed.{name}``: raises until a process group exists (torch's ValueError)."
    return call


new_group = _needs_group("new_group")
get_rank = _needs_group("get_rank")
get_world_size = _needs_group("get_world_size")
get_backend = _needs_group("get_backend")
get_process_group_ranks = _needs_group("get_process_group_ranks")
barrier = _needs_group("barrier")
monitored_barrier = _needs_group("monitored_barrier")
all_reduce = _needs_group("all_reduce")
reduce = _needs_group("reduce")
broadcast = _needs_group("broadcast")
all_gather = _needs_group("all_gather")
all_gather_into_tensor = _needs_group("all_gather_into_tensor")
all_gather_object = _needs_group("all_gather_object")
gather = _needs_group("gather")
gather_object = _needs_group("gather_object")
scatter = _needs_group("scatter")
scatter_object_list = _needs_group("scatter_object_list")
reduce_scatter = _needs_group("reduce_scatter")
reduce_scatter_tensor = _needs_group("reduce_scatter_tensor")
all_to_all = _needs_group("all_to_all")
all_to_all_single = _needs_group("all_to_all_single")
broadcast_object_list = _needs_group("broadcast_object_list")
send = _needs_group("send")
recv = _needs_group("recv")
isend = _needs_group("isend")
irecv = _needs_group("irecv")
