"""Tensor collectives (``torch.distributed``'s names and semantics) on MPI.

Each call hands the tensor's own NumPy array to mpi4py's buffer methods (``Allreduce``,
``Bcast``, ...): no pickling, and no copy where the array is contiguous and of a type MPI knows.
Results are written into the tensors given, in place, as torch does; ``async_op=True`` starts
MPI's non-blocking form (``Iallreduce``, ...) and returns a :class:`Work` whose ``wait()``
finishes it. Float16 and bfloat16 travel as float32 (MPI has no such types), bools as bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._dtype import HALF
from .._tensor import Tensor
from .process_group import ProcessGroup, debug_detail, resolve
from .reduce_op import ReduceOp

__all__ = [
    "Work",
    "all_reduce",
    "reduce",
    "broadcast",
    "all_gather",
    "all_gather_into_tensor",
    "reduce_scatter",
    "reduce_scatter_tensor",
    "gather",
    "scatter",
    "all_to_all",
    "all_to_all_single",
    "send",
    "recv",
    "isend",
    "irecv",
    "barrier",
    "monitored_barrier",
]


class Work:
    """A collective in flight (``async_op=True``): ``wait()`` blocks until it is done and the
    tensors hold the result; ``is_completed()`` asks without blocking."""

    def __init__(self, request: Any, finish: Callable[[], None] | None = None, result: list | None = None):
        self._request = request
        self._finish = finish
        self._result = result or []
        self._done = False

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            self._finish()

    def wait(self, timeout: Any = None) -> bool:
        if not self._done:
            self._request.Wait()
            self._complete()
        return True

    def is_completed(self) -> bool:
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()

    def result(self) -> list:
        self.wait()
        return self._result

    def synchronize(self) -> None:
        self.wait()


class _Done(Work):
    """A blocking call's stand-in where one call of a function may be either."""

    def __init__(self) -> None:
        super().__init__(None)
        self._done = True


def _mpi():
    from mpi4py import MPI

    return MPI


def _mpi_op(op: Any, who: str):
    MPI = _mpi()
    table = {
        ReduceOp.SUM: MPI.SUM,
        ReduceOp.AVG: MPI.SUM,  # then divided by the group's size
        ReduceOp.PRODUCT: MPI.PROD,
        ReduceOp.MIN: MPI.MIN,
        ReduceOp.MAX: MPI.MAX,
        ReduceOp.BAND: MPI.BAND,
        ReduceOp.BOR: MPI.BOR,
        ReduceOp.BXOR: MPI.BXOR,
    }
    if op not in table:
        raise ValueError(
            f"{who}: reduce op {op} is not supported on MPI; use SUM, AVG, PRODUCT, MIN, MAX or a bitwise op"
        )
    return table[op]


def _check_tensor(t: Any, who: str, name: str = "tensor") -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"{who}: {name} must be a Tensor, got {type(t).__name__}")
    return t


def _wire_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype an array travels as: MPI has no 16-bit floats, and its SUM/MAX on C bools is not
    portable."""
    if dtype in HALF:
        return np.dtype(np.float32)
    if dtype.kind == "b":
        return np.dtype(np.uint8)
    return dtype


def _send_array(t: Tensor) -> np.ndarray:
    """``t``'s values as a contiguous array MPI can read (itself when it already is one)."""
    a = t._data
    wire = _wire_dtype(a.dtype)
    if a.flags.c_contiguous and wire == a.dtype:
        return a
    return np.ascontiguousarray(a, dtype=wire)


class _Target:
    """Where a collective writes into tensor ``t``: its own array when contiguous and of a wire
    type, else a scratch buffer copied back (cast back) by ``store()``."""

    def __init__(self, t: Tensor, shape: tuple | None = None) -> None:
        self.tensor = t
        a = t._data
        wire = _wire_dtype(a.dtype)
        self.direct = a.flags.c_contiguous and wire == a.dtype and a.flags.writeable
        if not a.flags.writeable:
            raise RuntimeError("a collective cannot write into a read-only tensor (an expanded view?)")
        self.array = a if self.direct else np.empty(a.shape if shape is None else shape, wire)

    def store(self, scale: int | None = None) -> None:
        a = self.tensor._data
        if scale is not None:  # AVG: the sum over the group divided by its size
            if a.dtype.kind in "iub":
                self.array //= scale
            else:
                self.array /= scale
        if not self.direct:
            np.copyto(a, self.array.reshape(a.shape), casting="unsafe")
        self.tensor._bump_version()


def _finish(
    async_op: bool, request: Any, finish: Callable[[], None], result: list | None = None
) -> Work | None:
    """Complete a non-blocking MPI call now, or hand it over as a Work."""
    if async_op:
        return Work(request, finish, result)
    request.Wait()
    finish()
    return None


def _check_same_call(pg: ProcessGroup, who: str, *tensors: Tensor) -> None:
    """Under CHAINRULE_DISTRIBUTED_DEBUG=DETAIL: every rank of the group calls the same collective
    with tensors of the same shapes and dtypes, or every rank raises, naming the mismatch."""
    if not debug_detail():
        return
    mine = (who, tuple((tuple(t.shape), str(t.dtype)) for t in tensors))
    everyone = pg.comm.allgather(mine)
    if any(call != everyone[0] for call in everyone):
        described = "; ".join(
            f"rank {pg.ranks[r]}: {name}({', '.join(f'{list(s)} {d}' for s, d in sig)})"
            for r, (name, sig) in enumerate(everyone)
        )
        raise RuntimeError(
            f"{who}: the ranks of the group called mismatched collectives or shapes/dtypes "
            f"(CHAINRULE_DISTRIBUTED_DEBUG=DETAIL): {described}"
        )


def _group_rank(
    pg: ProcessGroup, global_rank: int | None, group_rank: int | None, who: str, role: str
) -> int:
    """A root or peer given as a global rank (``src``/``dst``) or a group rank (``group_src``...)."""
    if global_rank is not None and group_rank is not None:
        raise ValueError(f"{who}: give either {role} or group_{role}, not both")
    if group_rank is not None:
        if not 0 <= group_rank < pg.size():
            raise ValueError(f"{who}: group_{role}={group_rank} is not a rank of a group of {pg.size()}")
        return group_rank
    global_rank = 0 if global_rank is None else global_rank
    if global_rank not in pg.ranks:
        raise ValueError(f"{who}: {role}={global_rank} is not a member of the group (ranks {pg.ranks})")
    return pg.ranks.index(global_rank)


# ---- reductions ----------------------------------------------------------------------------------
def all_reduce(
    tensor: Tensor, op: Any = ReduceOp.SUM, group: ProcessGroup | None = None, async_op: bool = False
):
    """Combine ``tensor`` across the group with ``op``; every rank gets the result, in place."""
    pg = resolve(group)
    _check_tensor(tensor, "all_reduce")
    _check_same_call(pg, "all_reduce", tensor)
    mpi_op = _mpi_op(op, "all_reduce")
    target = _Target(tensor)
    if not target.direct:
        np.copyto(target.array, tensor._data.reshape(target.array.shape), casting="unsafe")
    request = pg.comm.Iallreduce(_mpi().IN_PLACE, target.array, op=mpi_op)
    scale = pg.size() if op == ReduceOp.AVG else None
    return _finish(async_op, request, lambda: target.store(scale), [tensor])


def reduce(
    tensor: Tensor,
    dst: int | None = None,
    op: Any = ReduceOp.SUM,
    group: ProcessGroup | None = None,
    async_op: bool = False,
    group_dst: int | None = None,
):
    """Combine ``tensor`` across the group into rank ``dst``'s tensor (the others' stay as they are)."""
    pg = resolve(group)
    _check_tensor(tensor, "reduce")
    _check_same_call(pg, "reduce", tensor)
    root = _group_rank(pg, dst, group_dst, "reduce", "dst")
    mpi_op = _mpi_op(op, "reduce")
    if pg.rank() == root:
        target = _Target(tensor)
        if not target.direct:
            np.copyto(target.array, tensor._data.reshape(target.array.shape), casting="unsafe")
        request = pg.comm.Ireduce(_mpi().IN_PLACE, target.array, op=mpi_op, root=root)
        scale = pg.size() if op == ReduceOp.AVG else None
        return _finish(async_op, request, lambda: target.store(scale), [tensor])
    send = _send_array(tensor)
    request = pg.comm.Ireduce(send, None, op=mpi_op, root=root)
    return _finish(async_op, request, lambda: None, [tensor])


def reduce_scatter_tensor(
    output: Tensor,
    input: Tensor,
    op: Any = ReduceOp.SUM,
    group: ProcessGroup | None = None,
    async_op: bool = False,
):
    """Reduce ``input`` (the group's size times ``output``'s elements) across the group; rank i
    gets the i-th block of the result in ``output``."""
    pg = resolve(group)
    _check_tensor(output, "reduce_scatter_tensor", "output")
    _check_tensor(input, "reduce_scatter_tensor", "input")
    _check_same_call(pg, "reduce_scatter_tensor", output, input)
    if input.numel() != output.numel() * pg.size() or input.dtype != output.dtype:
        raise ValueError(
            f"reduce_scatter_tensor: input must have world_size ({pg.size()}) times output's elements "
            f"and its dtype; got input {list(input.shape)} {input.dtype}, "
            f"output {list(output.shape)} {output.dtype}"
        )
    mpi_op = _mpi_op(op, "reduce_scatter_tensor")
    send = _send_array(input)
    target = _Target(output)
    request = pg.comm.Ireduce_scatter_block(send, target.array, op=mpi_op)
    scale = pg.size() if op == ReduceOp.AVG else None
    return _finish(async_op, request, lambda: target.store(scale), [output])


def reduce_scatter(
    output: Tensor,
    input_list: Sequence[Tensor],
    op: Any = ReduceOp.SUM,
    group: ProcessGroup | None = None,
    async_op: bool = False,
):
    """Reduce the ranks' ``input_list[i]`` across the group into rank i's ``output``."""
    pg = resolve(group)
    if len(input_list) != pg.size():
        raise ValueError(
            f"reduce_scatter: input_list must hold one tensor per rank ({pg.size()}), got {len(input_list)}"
        )
    for t in input_list:
        if t.shape != output.shape or t.dtype != output.dtype:
            raise ValueError(
                f"reduce_scatter: every input must have output's shape {list(output.shape)} and dtype "
                f"{output.dtype}; got {list(t.shape)} {t.dtype}"
            )
    from ..ops import stack

    return reduce_scatter_tensor(output, stack(list(input_list)), op, group, async_op)


# ---- broadcast, gather, scatter -----------------------------------------------------------------
def broadcast(
    tensor: Tensor,
    src: int | None = None,
    group: ProcessGroup | None = None,
    async_op: bool = False,
    group_src: int | None = None,
):
    """Copy rank ``src``'s ``tensor`` into every rank's ``tensor``."""
    pg = resolve(group)
    _check_tensor(tensor, "broadcast")
    _check_same_call(pg, "broadcast", tensor)
    root = _group_rank(pg, src, group_src, "broadcast", "src")
    target = _Target(tensor)
    if pg.rank() == root and not target.direct:
        np.copyto(target.array, tensor._data.reshape(target.array.shape), casting="unsafe")
    request = pg.comm.Ibcast(target.array, root=root)
    finish = target.store if pg.rank() != root else (lambda: None)
    return _finish(async_op, request, finish, [tensor])


def _gathered(pg: ProcessGroup, tensor: Tensor, outputs: Sequence[Tensor], who: str) -> None:
    if len(outputs) != pg.size():
        raise ValueError(f"{who}: the list must hold one tensor per rank ({pg.size()}), got {len(outputs)}")
    for t in outputs:
        _check_tensor(t, who, "each list entry")
        if t.numel() != tensor.numel() or t.dtype != tensor.dtype:
            raise ValueError(
                f"{who}: every list entry must have the input's {tensor.numel()} elements and dtype "
                f"{tensor.dtype}; got {list(t.shape)} {t.dtype}"
            )


def all_gather(
    tensor_list: list[Tensor], tensor: Tensor, group: ProcessGroup | None = None, async_op: bool = False
):
    """Every rank gets every rank's ``tensor``: rank i's lands in ``tensor_list[i]``."""
    pg = resolve(group)
    _check_tensor(tensor, "all_gather")
    _gathered(pg, tensor, tensor_list, "all_gather")
    _check_same_call(pg, "all_gather", tensor)
    send = _send_array(tensor)
    received = np.empty((pg.size(),) + send.shape, send.dtype)
    request = pg.comm.Iallgather(send, received)

    def finish() -> None:
        for piece, out in zip(received, tensor_list):
            _store(out, piece)

    return _finish(async_op, request, finish, list(tensor_list))


def _store(out: Tensor, values: np.ndarray) -> None:
    np.copyto(out._data, values.reshape(out._data.shape), casting="unsafe")
    out._bump_version()


def all_gather_into_tensor(
    output_tensor: Tensor, input_tensor: Tensor, group: ProcessGroup | None = None, async_op: bool = False
):
    """Every rank's ``input_tensor`` concatenated (or stacked) in rank order into ``output_tensor``."""
    pg = resolve(group)
    _check_tensor(output_tensor, "all_gather_into_tensor", "output_tensor")
    _check_tensor(input_tensor, "all_gather_into_tensor", "input_tensor")
    _check_same_call(pg, "all_gather_into_tensor", output_tensor, input_tensor)
    if output_tensor.numel() != input_tensor.numel() * pg.size() or output_tensor.dtype != input_tensor.dtype:
        raise ValueError(
            f"all_gather_into_tensor: output must have world_size ({pg.size()}) times input's elements "
            f"and its dtype; got output {list(output_tensor.shape)} {output_tensor.dtype}, input "
            f"{list(input_tensor.shape)} {input_tensor.dtype}"
        )
    send = _send_array(input_tensor)
    target = _Target(output_tensor)
    request = pg.comm.Iallgather(send, target.array)
    return _finish(async_op, request, target.store, [output_tensor])


def gather(
    tensor: Tensor,
    gather_list: list[Tensor] | None = None,
    dst: int | None = None,
    group: ProcessGroup | None = None,
    async_op: bool = False,
    group_dst: int | None = None,
):
    """Rank ``dst`` gets every rank's ``tensor`` in ``gather_list`` (only ``dst`` passes one)."""
    pg = resolve(group)
    _check_tensor(tensor, "gather")
    _check_same_call(pg, "gather", tensor)
    root = _group_rank(pg, dst, group_dst, "gather", "dst")
    send = _send_array(tensor)
    if pg.rank() != root:
        if gather_list:
            raise ValueError(
                "gather: Argument ``gather_list`` must NOT be specified on non-destination ranks."
            )
        return _finish(async_op, pg.comm.Igather(send, None, root=root), lambda: None)
    if gather_list is None:
        raise ValueError("gather: Argument ``gather_list`` must be specified on destination rank.")
    _gathered(pg, tensor, gather_list, "gather")
    received = np.empty((pg.size(),) + send.shape, send.dtype)

    def finish() -> None:
        for piece, out in zip(received, gather_list):
            _store(out, piece)

    return _finish(async_op, pg.comm.Igather(send, received, root=root), finish, list(gather_list))


def scatter(
    tensor: Tensor,
    scatter_list: list[Tensor] | None = None,
    src: int | None = None,
    group: ProcessGroup | None = None,
    async_op: bool = False,
    group_src: int | None = None,
):
    """Rank i's ``tensor`` gets ``scatter_list[i]`` of rank ``src`` (only ``src`` passes a list)."""
    pg = resolve(group)
    _check_tensor(tensor, "scatter")
    _check_same_call(pg, "scatter", tensor)
    root = _group_rank(pg, src, group_src, "scatter", "src")
    target = _Target(tensor)
    send = None
    if pg.rank() == root:
        if scatter_list is None:
            raise ValueError("scatter: Argument ``scatter_list`` must be specified on source rank.")
        _gathered(pg, tensor, scatter_list, "scatter")
        send = np.stack([_send_array(t).reshape(-1) for t in scatter_list]).astype(
            target.array.dtype, copy=False
        )
    elif scatter_list:
        raise ValueError("scatter: Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    return _finish(async_op, pg.comm.Iscatter(send, target.array, root=root), target.store, [tensor])


def all_to_all_single(
    output: Tensor,
    input: Tensor,
    output_split_sizes: list[int] | None = None,
    input_split_sizes: list[int] | None = None,
    group: ProcessGroup | None = None,
    async_op: bool = False,
):
    """Rank i sends the j-th block of ``input`` (along dim 0) to rank j, which stores it as the
    i-th block of its ``output``; the split sizes give uneven blocks."""
    pg = resolve(group)
    n = pg.size()
    row_in = int(np.prod(input.shape[1:], dtype=np.int64)) if input.dim() else 1
    row_out = int(np.prod(output.shape[1:], dtype=np.int64)) if output.dim() else 1
    ins = (
        list(input_split_sizes)
        if input_split_sizes
        else [input.shape[0] // n] * n
        if input.dim()
        else [1] * n
    )
    outs = (
        list(output_split_sizes)
        if output_split_sizes
        else [output.shape[0] // n] * n
        if output.dim()
        else [1] * n
    )
    if (
        len(ins) != n
        or len(outs) != n
        or sum(ins) * row_in != input.numel()
        or sum(outs) * row_out != output.numel()
    ):
        raise ValueError(
            f"all_to_all_single: split sizes {ins} / {outs} do not divide input {list(input.shape)} and "
            f"output {list(output.shape)} among {n} ranks"
        )
    send = _send_array(input)
    target = _Target(output)
    counts_in = [s * row_in for s in ins]
    counts_out = [s * row_out for s in outs]
    request = pg.comm.Ialltoallv(
        [send, (counts_in, np.cumsum([0] + counts_in[:-1]).tolist())],
        [target.array, (counts_out, np.cumsum([0] + counts_out[:-1]).tolist())],
    )
    return _finish(async_op, request, target.store, [output])


def all_to_all(
    output_tensor_list: list[Tensor],
    input_tensor_list: list[Tensor],
    group: ProcessGroup | None = None,
    async_op: bool = False,
):
    """Rank i sends ``input_tensor_list[j]`` to rank j, which receives it in ``output_tensor_list[i]``."""
    pg = resolve(group)
    n = pg.size()
    if len(input_tensor_list) != n or len(output_tensor_list) != n:
        raise ValueError(f"all_to_all: both lists must hold one tensor per rank ({n})")
    dtype = _wire_dtype(input_tensor_list[0]._data.dtype)
    send = np.concatenate([np.asarray(t._data, dtype=dtype).reshape(-1) for t in input_tensor_list])
    counts_in = [t.numel() for t in input_tensor_list]
    counts_out = [t.numel() for t in output_tensor_list]
    received = np.empty(sum(counts_out), dtype)
    offsets_out = np.cumsum([0] + counts_out[:-1]).tolist()
    request = pg.comm.Ialltoallv(
        [send, (counts_in, np.cumsum([0] + counts_in[:-1]).tolist())], [received, (counts_out, offsets_out)]
    )

    def finish() -> None:
        for out, start, count in zip(output_tensor_list, offsets_out, counts_out):
            _store(out, received[start : start + count])

    return _finish(async_op, request, finish, list(output_tensor_list))


# ---- point to point and barriers ----------------------------------------------------------------
def isend(
    tensor: Tensor,
    dst: int | None = None,
    group: ProcessGroup | None = None,
    tag: int = 0,
    group_dst: int | None = None,
) -> Work:
    """Start sending ``tensor`` to rank ``dst``; ``wait()`` on the result before changing it."""
    pg = resolve(group)
    _check_tensor(tensor, "isend")
    peer = _group_rank(pg, dst, group_dst, "isend", "dst")
    send = _send_array(tensor)
    return Work(pg.comm.Isend(send, dest=peer, tag=tag), lambda: None, [tensor])


def send(
    tensor: Tensor,
    dst: int | None = None,
    group: ProcessGroup | None = None,
    tag: int = 0,
    group_dst: int | None = None,
) -> None:
    """Send ``tensor`` to rank ``dst`` (which calls ``recv``), blocking until it is sent."""
    isend(tensor, dst, group, tag, group_dst).wait()


def irecv(
    tensor: Tensor,
    src: int | None = None,
    group: ProcessGroup | None = None,
    tag: int = 0,
    group_src: int | None = None,
) -> Work:
    """Start receiving into ``tensor`` from rank ``src`` (any rank when None)."""
    pg = resolve(group)
    _check_tensor(tensor, "irecv")
    MPI = _mpi()
    peer = (
        MPI.ANY_SOURCE
        if src is None and group_src is None
        else _group_rank(pg, src, group_src, "irecv", "src")
    )
    target = _Target(tensor)
    return Work(pg.comm.Irecv(target.array, source=peer, tag=tag), target.store, [tensor])


def recv(
    tensor: Tensor,
    src: int | None = None,
    group: ProcessGroup | None = None,
    tag: int = 0,
    group_src: int | None = None,
) -> int:
    """Receive into ``tensor`` from rank ``src`` (any rank when None); returns the sender's rank."""
    pg = resolve(group)
    _check_tensor(tensor, "recv")
    MPI = _mpi()
    peer = (
        MPI.ANY_SOURCE
        if src is None and group_src is None
        else _group_rank(pg, src, group_src, "recv", "src")
    )
    target = _Target(tensor)
    status = MPI.Status()
    pg.comm.Recv(target.array, source=peer, tag=tag, status=status)
    target.store()
    return pg.ranks[status.Get_source()]


def barrier(group: ProcessGroup | None = None, async_op: bool = False, device_ids: Any = None):
    """Wait until every rank of the group reaches this call."""
    pg = resolve(group)
    return _finish(async_op, pg.comm.Ibarrier(), lambda: None)


def monitored_barrier(
    group: ProcessGroup | None = None, timeout: Any = None, wait_all_ranks: bool = False
) -> None:
    """``barrier`` (MPI reports a rank that died by aborting the job, so there is nothing to monitor)."""
    barrier(group)
