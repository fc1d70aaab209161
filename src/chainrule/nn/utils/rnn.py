"""Variable-length sequences (``torch.nn.utils.rnn``): padding a list of sequences into one tensor,
and packing a padded batch so that a recurrent layer runs each sequence only over its real steps.

A :class:`PackedSequence` holds the real steps of all sequences, time step by time step: the rows
of ``data`` are the step-0 inputs of every sequence, then the step-1 inputs of those at least 2
long, and so on (the sequences sorted longest first); ``batch_sizes[t]`` says how many sequences
are still running at step ``t``. Packing and unpacking are one ``index_select`` each, so gradients
flow back to the padded input.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np

from ... import _dtype
from ... import ops as C
from ..._tensor import Tensor, wrap

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequence_):
    """The packed steps of a batch of sequences (``torch.nn.utils.rnn.PackedSequence``).

    Made by :func:`pack_padded_sequence` or :func:`pack_sequence`, not by hand. Fields: ``data``
    (the steps, ``(sum of lengths, *)``), ``batch_sizes`` (int64, sequences running at each step),
    ``sorted_indices`` (the batch order by decreasing length, or None when the batch was already
    sorted) and ``unsorted_indices`` (its inverse).
    """

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # torch's PackedSequence(*pack_result) spelling: a (data, sizes) pair
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _with_data(self, data: Tensor) -> PackedSequence:
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """``data.to(...)``; the index tensors stay int64 on the CPU."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else self._with_data(data)

    def cpu(self) -> PackedSequence:
        return self

    def cuda(self, *args, **kwargs) -> PackedSequence:
        return self._with_data(self.data.cuda(*args, **kwargs))

    def double(self) -> PackedSequence:
        return self.to(dtype=_dtype.float64)

    def float(self) -> PackedSequence:
        return self.to(dtype=_dtype.float32)

    def half(self) -> PackedSequence:
        return self.to(dtype=_dtype.float16)

    def long(self) -> PackedSequence:
        return self.to(dtype=_dtype.int64)

    def int(self) -> PackedSequence:
        return self.to(dtype=_dtype.int32)

    def short(self) -> PackedSequence:
        return self.to(dtype=_dtype.int16)

    def char(self) -> PackedSequence:
        return self.to(dtype=_dtype.int8)

    def byte(self) -> PackedSequence:
        return self.to(dtype=_dtype.uint8)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of an index permutation (None stays None)."""
    if permutation is None:
        return None
    inverse = np.empty_like(permutation._data)
    inverse[permutation._data] = np.arange(permutation._data.size, dtype=inverse.dtype)
    return wrap(inverse)


def _lengths_array(lengths) -> np.ndarray:
    if isinstance(lengths, Tensor):
        return lengths._data.astype(np.int64).reshape(-1)
    return np.asarray(lengths, dtype=np.int64).reshape(-1)


def pack_padded_sequence(
    input: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) of sequences of the
    given ``lengths``.

    Parameters
    ----------
    input : the padded batch; what lies past each sequence's length is ignored.
    lengths : each sequence's length (a list or a 1-D tensor), all in ``1..T``.
    batch_first : the batch dim comes first.
    enforce_sorted : the lengths must be in decreasing order (else RuntimeError); with False the
        batch is sorted here and ``sorted_indices`` remembers the order.
    """
    lengths_np = _lengths_array(lengths)
    if enforce_sorted:
        if np.any(lengths_np[1:] > lengths_np[:-1]):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
                "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep "
                "this requirement if you do not need ONNX exportability."
            )
        sorted_indices = None
        order = np.arange(lengths_np.size)
    else:
        order = np.argsort(-lengths_np, kind="stable")  # torch's order for equal lengths
        lengths_np = lengths_np[order]
        sorted_indices = wrap(order.astype(np.int64))
    if batch_first:
        input = C.transpose(input, 0, 1)
    steps, batch = input.shape[0], input.shape[1]
    if input.numel() == 0 and lengths_np.size == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    if lengths_np.size != batch:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {lengths_np.size} "
            f"(batch_size={batch})"
        )
    if lengths_np.size and lengths_np.min() <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"
        )
    if lengths_np.size and lengths_np.max() > steps:
        raise RuntimeError(  # torch reads past the end of the input here; chainrule refuses
            f"pack_padded_sequence: a length of {lengths_np.max()} exceeds the {steps} steps of the "
            f"padded input (shape {list(input.shape)}); pass lengths <= the padded length"
        )
    batch_sizes = (lengths_np[None, :] > np.arange(lengths_np.max())[:, None]).sum(1)
    # row t * B + order[b] of the (T * B, *) input holds step t of sorted sequence b
    rows = np.concatenate([t * batch + order[:n] for t, n in enumerate(batch_sizes)])
    flat = C.reshape(input, (steps * batch,) + tuple(input.shape[2:]))
    data = C.index_select(flat, 0, wrap(rows.astype(np.int64)))
    return PackedSequence(data, wrap(batch_sizes.astype(np.int64)), sorted_indices, None)


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Undo :func:`pack_padded_sequence`: the padded batch ``(T, B, *)`` (``(B, T, *)`` with
    ``batch_first``) in the original batch order, and the lengths (int64).

    Parameters
    ----------
    padding_value : the value past each sequence's end.
    total_length : pad to this many steps (at least the longest length) instead of the longest.
    """
    data, batch_sizes = sequence.data, sequence.batch_sizes._data.astype(np.int64)
    max_steps = batch_sizes.size
    if total_length is not None:
        if total_length < max_steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, "
                f"but got total_length={total_length} and max sequence length being {max_steps}"
            )
    else:
        total_length = max_steps
    batch = int(batch_sizes[0]) if max_steps else 0
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(1)  # of the sorted sequences
    # for each (t, sorted b): its row in data, or the extra padding row at the end
    starts = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]]).astype(np.int64)
    pad_row = int(batch_sizes.sum())
    rows = np.full((total_length, batch), pad_row, dtype=np.int64)
    for t, n in enumerate(batch_sizes):
        rows[t, :n] = starts[t] + np.arange(n)
    unsorted = sequence.unsorted_indices
    if unsorted is not None:
        rows = rows[:, unsorted._data]
        lengths = lengths[unsorted._data]
    if batch_first:
        rows = rows.T
    feature = tuple(data.shape[1:])
    padding = C.full((1,) + feature, padding_value, dtype=data.dtype)
    padded = C.index_select(C.cat([data, padding], 0), 0, wrap(rows.reshape(-1)))
    padded = C.reshape(padded, rows.shape + feature)
    return padded, wrap(lengths.astype(np.int64))


def pad_sequence(
    sequences: Tensor | Iterable[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences of different lengths ``(L_i, *)`` into ``(L_max, B, *)`` (``(B, L_max, *)``
    with ``batch_first``), filling with ``padding_value`` after each (``padding_side='left'``:
    before). All sequences take the first one's dtype."""
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    sequences = list(sequences.unbind(0)) if isinstance(sequences, Tensor) else list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if any(s.ndim == 0 for s in sequences):
        raise RuntimeError(
            "pad_sequence: every sequence needs at least one dim (its length), got a 0-d tensor; "
            "stack 0-d tensors with torch.stack instead"
        )
    dtype = sequences[0].dtype
    trailing = tuple(sequences[0].shape[1:])
    longest = max(s.shape[0] for s in sequences)
    rows = []
    for s in sequences:
        if tuple(s.shape[1:]) != trailing:
            raise RuntimeError(
                f"pad_sequence: every sequence needs the same trailing dims, got {list(s.shape)} "
                f"after {list(sequences[0].shape)}; only the first dim (the length) may differ"
            )
        s = s.to(dtype)
        missing = longest - s.shape[0]
        if missing:
            fill = C.full((missing,) + trailing, padding_value, dtype=dtype)
            s = C.cat([s, fill] if padding_side == "right" else [fill, s], 0)
        rows.append(s)
    return C.stack(rows, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False) -> list[Tensor]:
    """The list of sequences ``padded[:length_i, i]`` of a padded batch (inverse of ``pad_sequence``)."""
    if not batch_first:
        padded_sequences = C.transpose(padded_sequences, 0, 1)
    return [padded_sequences[i, : int(n)] for i, n in enumerate(_lengths_array(lengths))]


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences ``(L_i, *)`` (longest first unless ``enforce_sorted=False``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences of a PackedSequence, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
