"""In-place writes and memory that elements share: torch's rules, and its element order.

Two tensors can share memory in part (``x[1:]`` and ``x[:3]``): torch refuses to write one while
reading the other (``check_partial_overlap``). One tensor can hold one memory place at several
positions: an expanded tensor (stride 0), which torch refuses to write with element-wise ops
(``fill_`` may; ``masked_fill_``, ``index_fill_`` and ``index_put_`` warn), and overlapping
windows of ``unfold``, which torch writes element by element, each element reading what the
earlier ones wrote (``arange(4.).unfold(0, 2, 1).add_(1)`` adds 2 to the shared places). NumPy
computes an op on the whole array first, so ``write_in_order`` replays torch's order in rounds:
round ``r`` computes the op on the current memory and writes the elements that are the ``r``-th
to hold their place.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd.grad_mode import GRAD
from ._common import Tensor

__all__ = ["check_partial_overlap", "write_in_order"]

# the ops that torch lets write an expanded tensor: with a deprecation warning, and without
_WARNED_ON_EXPANDED = ("masked_fill_", "index_fill_", "index_put_")
_ALLOWED_ON_EXPANDED = ("fill_", *_WARNED_ON_EXPANDED)


def _dense(a: np.ndarray) -> bool:
    """torch's ``is_non_overlapping_and_dense``: the elements fill a block of memory exactly,
    in some order of the dims."""
    expected = a.itemsize
    for stride, size in sorted((st, n) for n, st in zip(a.shape, a.strides) if n != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def _layout(a: np.ndarray) -> list:
    """The sizes and strides of ``a``'s dims of more than one element (NumPy and torch give a
    size-1 dim different strides; torch compares the tensors as given, so shapes must match)."""
    return [(n, st) for n, st in zip(a.shape, a.strides) if n != 1]


def check_partial_overlap(who: str, self: Tensor, operands) -> None:
    """torch's refusal to write into memory that an operand reads in part: two dense tensors
    whose memory blocks intersect without being the same elements in the same layout (``x[1:]``
    and ``x[:3]``, ``x.t()`` and ``x``). As torch, overlaps it cannot decide cheaply (a strided
    view) pass."""
    target = self._data
    if type(target) is not np.ndarray or not target.size:
        return  # (a 0-d part of an indexed write is a NumPy scalar: nothing to overlap)
    start = None
    for other in operands:
        if not isinstance(other, Tensor) or other is self:
            continue
        data = other._data
        if type(data) is not np.ndarray or (data.base is None and target.base is None):
            continue  # two arrays that own their memory: apart (the common case, decided fast)
        if start is None:
            if not _dense(target):
                return
            start = target.__array_interface__["data"][0]
            end = start + target.nbytes
        if not data.size or not _dense(data):
            continue
        begin = data.__array_interface__["data"][0]
        if begin < end and start < begin + data.nbytes:
            if begin == start and data.shape == target.shape and _layout(data) == _layout(target):
                continue  # the same elements: a full overlap, which element-wise ops allow
            raise RuntimeError(
                f"{who}: unsupported operation: some elements of the input tensor and the "
                "written-to tensor refer to a single memory location. Please clone() the tensor "
                f"before performing the operation (written-to shape {list(self.shape)}, input "
                f"shape {list(other.shape)})."
            )


def write_in_order(who: str, self: Tensor, compute, check) -> Tensor:
    """Write ``compute()`` (the op on ``self``'s current values) into ``self``, a read-only view
    whose elements share memory, in torch's order; ``check(result)`` checks each round's result.

    Raises torch's error for an expanded tensor (except where torch allows it), and, for a write
    autograd would record, chainrule's (torch records it; chainrule cannot replay it)."""
    a = self._data
    if any(st == 0 and n > 1 for n, st in zip(a.shape, a.strides)):
        if who not in _ALLOWED_ON_EXPANDED:
            raise RuntimeError(
                f"{who}: unsupported operation: more than one element of the written-to tensor "
                f"refers to a single memory location (an expanded tensor of shape {list(a.shape)}). "
                "Please clone() the tensor before performing the operation."
            )
        if who in _WARNED_ON_EXPANDED:
            example = "tensor[indices] = tensor" if who == "index_put_" else "tensor[mask] = scalar"
            warnings.warn(
                f"Use of {who} on expanded tensors is deprecated. Please clone() the tensor before "
                f"performing this operation. This also applies to advanced indexing e.g. {example}",
                UserWarning,
                stacklevel=5,
            )
    memory = _writable_alias(a)
    rank = _write_rounds(a)
    # a write autograd records: also one of values that need no gradient (fill_, copy_ of a
    # constant), whose write the base's history must show (its gradient is 0 there)
    recorded = GRAD.enabled and self.requires_grad
    for r in range(int(rank.max()) + 1 if rank.size else 0):
        result = compute()
        if recorded or result._rg or memory is None:
            raise RuntimeError(
                f"{who}: in-place operation on a read-only view whose elements share memory "
                "(overlapping windows of unfold) is not supported where autograd records it "
                f"(shape {list(a.shape)}): torch's gradient there is not the derivative of the "
                "repeated writes (each place gets one window's local derivative, which one "
                "depending on the write order); clone() it first"
            )
        check(result)
        np.copyto(memory, result._data, casting="unsafe", where=rank == r)
    self._bump_version()
    return self


def _writable_alias(a: np.ndarray) -> np.ndarray | None:
    """A writable array over ``a``'s elements (``a`` is read-only only to refuse unordered writes),
    or None when the memory itself is read-only (a NumPy array the user gave)."""
    owner = a
    while isinstance(owner, np.ndarray) and not owner.flags.writeable:
        owner = owner.base
        while owner is not None and not isinstance(owner, np.ndarray):  # as_strided's holder
            owner = getattr(owner, "base", None)
    if owner is None:
        return None
    interface = dict(a.__array_interface__)
    interface["data"] = (interface["data"][0], False)  # the same places, writable
    return np.asarray(_Interface(interface, owner))


class _Interface:
    """An ``__array_interface__`` holder keeping the memory's owner alive (as NumPy's as_strided)."""

    def __init__(self, interface: dict, owner: np.ndarray) -> None:
        self.__array_interface__ = interface
        self.owner = owner


def _walk_order(a: np.ndarray) -> list[int]:
    """The dims of ``a`` as torch's TensorIterator walks the output ``a``, outermost first: its
    insertion sort on the output's strides (the smaller inner), equal strides broken by size (the
    smaller inner), then by the inputs' strides, taken here as a contiguous input's."""

    def after(inner: int, outer: int) -> bool:  # whether ``inner`` should move outside ``outer``
        s0, s1 = a.strides[inner], a.strides[outer]
        if s0 and s1 and s0 != s1:
            return s0 > s1
        if s0 and s0 == s1 and a.shape[inner] > a.shape[outer]:
            return True
        return inner < outer  # a contiguous input: the later dim inner

    perm = list(range(a.ndim))[::-1]  # innermost first
    for i in range(1, a.ndim):
        j = i
        for k in range(i - 1, -1, -1):
            if not after(perm[k], perm[j]):
                break
            perm[k], perm[j] = perm[j], perm[k]
            j = k
    return perm[::-1]


def _write_rounds(a: np.ndarray) -> np.ndarray:
    """For each element of ``a``, how many elements before it in torch's order (``_walk_order``)
    hold the same memory place."""
    places = np.zeros(a.shape, dtype=np.int64)
    for d, (n, st) in enumerate(zip(a.shape, a.strides)):
        places += (np.arange(n, dtype=np.int64) * st).reshape([-1 if k == d else 1 for k in range(a.ndim)])
    order = _walk_order(a)
    walked = np.transpose(places, order).reshape(-1)
    by_place = np.argsort(walked, kind="stable")
    sorted_places = walked[by_place]
    first = np.ones(sorted_places.size, dtype=bool)
    first[1:] = sorted_places[1:] != sorted_places[:-1]
    starts = np.flatnonzero(first)
    rank = np.empty(walked.size, dtype=np.int64)
    rank[by_place] = np.arange(walked.size) - starts[np.cumsum(first) - 1]
    return np.transpose(rank.reshape([a.shape[d] for d in order]), np.argsort(order))
