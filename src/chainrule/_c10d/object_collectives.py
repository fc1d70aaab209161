"""Collectives of Python objects (``broadcast_object_list``, ``all_gather_object``, ...).

Objects travel pickled, through mpi4py's lower-case methods, as torch's do: use them for small
things (configurations, metrics, a rank's status), only between processes of one job that trust
each other, and the tensor collectives for tensors.
"""

from __future__ import annotations

from typing import Any

from .collectives import _group_rank
from .process_group import ProcessGroup, resolve

__all__ = ["broadcast_object_list", "all_gather_object", "gather_object", "scatter_object_list"]


def broadcast_object_list(
    object_list: list,
    src: int | None = None,
    group: ProcessGroup | None = None,
    device: Any = None,
    group_src: int | None = None,
) -> None:
    """Every rank's ``object_list`` becomes a copy of rank ``src``'s (same length on every rank)."""
    pg = resolve(group)
    root = _group_rank(pg, src, group_src, "broadcast_object_list", "src")
    received = pg.comm.bcast(list(object_list) if pg.rank() == root else None, root=root)
    if len(received) != len(object_list):
        raise ValueError(
            f"broadcast_object_list: rank {pg.ranks[root]} sent {len(received)} objects but this rank's "
            f"list has {len(object_list)}; make the lists the same length on every rank"
        )
    object_list[:] = received


def all_gather_object(object_list: list, obj: Any, group: ProcessGroup | None = None) -> None:
    """``object_list[i]`` becomes rank i's ``obj`` on every rank (the list has one slot per rank)."""
    pg = resolve(group)
    if len(object_list) != pg.size():
        raise ValueError(
            f"all_gather_object: object_list must have one slot per rank ({pg.size()}), "
            f"got {len(object_list)}"
        )
    object_list[:] = pg.comm.allgather(obj)


def gather_object(
    obj: Any,
    object_gather_list: list | None = None,
    dst: int | None = None,
    group: ProcessGroup | None = None,
    group_dst: int | None = None,
) -> None:
    """Rank ``dst``'s ``object_gather_list[i]`` becomes rank i's ``obj``."""
    pg = resolve(group)
    root = _group_rank(pg, dst, group_dst, "gather_object", "dst")
    if pg.rank() == root and (object_gather_list is None or len(object_gather_list) != pg.size()):
        raise ValueError(
            f"gather_object: the destination rank must pass object_gather_list with {pg.size()} slots"
        )
    gathered = pg.comm.gather(obj, root=root)
    if pg.rank() == root:
        object_gather_list[:] = gathered


def scatter_object_list(
    scatter_object_output_list: list,
    scatter_object_input_list: list | None = None,
    src: int | None = None,
    group: ProcessGroup | None = None,
    group_src: int | None = None,
) -> None:
    """Rank i's ``scatter_object_output_list[0]`` becomes ``scatter_object_input_list[i]`` of rank ``src``."""
    pg = resolve(group)
    root = _group_rank(pg, src, group_src, "scatter_object_list", "src")
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at least 1.")
    if pg.rank() == root and (
        scatter_object_input_list is None or len(scatter_object_input_list) != pg.size()
    ):
        raise ValueError(f"scatter_object_list: the source rank must pass {pg.size()} objects")
    scatter_object_output_list[0] = pg.comm.scatter(
        list(scatter_object_input_list) if pg.rank() == root else None, root=root
    )
