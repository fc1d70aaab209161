"""``embedding_bag`` of ``chainrule.nn.functional`` (re-exported there): sums, means or maxima of
bags of embedding rows, without materialising the bags' rows as separate tensors in the user's
program. Composed of the embedding lookup and differentiable reductions."""

from __future__ import annotations

import numpy as np

from .. import ops as _ops
from .._tensor import Tensor, wrap
from ..ops._common import any_true, as_tensor
from .functional_norm import _renorm_rows, embedding

__all__ = ["embedding_bag"]


def _bags(input: Tensor, offsets: Tensor | None, include_last_offset: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(flat indices, bag id of each)``, with torch's checks of ``offsets``."""
    idx = input._data
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                "fixed length sequences. However, found offsets of type "
                f"{type(offsets).__module__.split('.')[0]}.Tensor"
            )
        bags, length = idx.shape
        return idx.reshape(-1), np.repeat(np.arange(bags), length)
    if idx.ndim != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    off = as_tensor(offsets, "embedding_bag")._data
    if off.ndim != 1:
        raise ValueError(f"offsets has to be a 1D Tensor, but got Tensor of dimension {off.ndim}")
    off = off.astype(np.int64)
    if off.size and off[0] != 0:
        raise RuntimeError(
            "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
            f"position 0. However, got {int(off[0])}"
        )
    if off.size and off[-1] > idx.size:
        raise RuntimeError(
            f"offsets[-1] can not be greater than input's length ({idx.size}), but got offsets[-1] "
            f"of {int(off[-1])}"
        )
    starts = off[:-1] if include_last_offset else off
    ends = np.append(starts[1:], off[-1] if include_last_offset else idx.size) if starts.size else starts
    bag_of = np.repeat(np.arange(starts.size), np.maximum(ends - starts, 0))
    return idx, bag_of[: idx.size]


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """Reduce bags of embedding rows: ``(B, embedding_dim)``.

    Parameters
    ----------
    input : ``(B, L)`` (each row a bag of L indices) or 1-D indices split into bags by ``offsets``.
    weight : ``(num_embeddings, embedding_dim)``.
    offsets : 1-D starts of the bags in a 1-D ``input`` (with ``include_last_offset``, one more:
        the end of the last bag).
    mode : ``'sum'``, ``'mean'`` or ``'max'``; an empty bag gives zeros.
    per_sample_weights : weights of the looked-up rows (``input``'s shape), for ``'sum'`` only.
    padding_idx : that row is left out of every bag (and of the means' counts).
    max_norm, norm_type : rows looked up whose norm exceeds ``max_norm`` are rescaled in place.
    """
    who = "embedding_bag"
    if sparse:
        raise NotImplementedError(
            "embedding_bag: sparse=True is not supported (chainrule has no sparse tensors); use "
            "sparse=False, which gives the same dense gradient"
        )
    if scale_grad_by_freq and mode == "max":
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(
                "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on GitHub."
            )
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(
                f"embedding_bag: If per_sample_weights ({tuple(per_sample_weights.shape)}) is not None, "
                f"then it must have the same shape as the input ({tuple(input.shape)})"
            )
    input = as_tensor(input, who)
    if input._data.dtype.kind not in "iu":
        raise RuntimeError(f"{who}: expected indices of an integer dtype (int64 or int32), got {input.dtype}")
    weight = as_tensor(weight, who)
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
    num = weight.shape[0]
    flat, bag_of = _bags(input, offsets, include_last_offset)
    n_bags = (
        input.shape[0]
        if input.ndim == 2
        else max(as_tensor(offsets)._data.shape[0] - (1 if include_last_offset else 0), 0)
    )
    if flat.size and (flat.min() < 0 or flat.max() >= num):
        bad = int(flat.max()) if flat.max() >= num else int(flat.min())
        raise RuntimeError(
            f"embedding_bag: Expected idx >= 0 && idx < num_embeddings but found idx to be {bad}"
        )
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError("padding_idx must be within number of embeddings")
        padding_idx %= num
    if max_norm is not None:
        _renorm_rows(weight, np.unique(flat), max_norm, norm_type)
    keep = np.ones(flat.shape, dtype=bool) if padding_idx is None else flat != padding_idx
    rows = embedding(wrap(flat[keep]), weight, None, None, norm_type, scale_grad_by_freq)
    bag_ids = bag_of[keep]
    dim = weight.shape[1]
    if mode == "max":
        return _bag_max(rows, bag_ids, n_bags, dim)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1)[wrap(np.nonzero(keep)[0])].unsqueeze(1)
    zeros = _ops.zeros((n_bags, dim), dtype=weight.dtype)
    total = _ops.index_add(zeros, 0, wrap(bag_ids), rows)
    if mode == "sum":
        return total
    counts = np.bincount(bag_ids, minlength=n_bags).astype(weight._data.dtype)
    return total / wrap(np.maximum(counts, 1)[:, None])


def _bag_max(rows: Tensor, bag_ids: np.ndarray, n_bags: int, dim: int) -> Tensor:
    """The element-wise maximum of each bag's rows (zeros for an empty bag): the rows laid out as
    ``(B, longest bag, dim)``, padded with -inf, then ``max`` over the bag axis."""
    counts = np.bincount(bag_ids, minlength=n_bags)
    longest = int(counts.max()) if counts.size else 0
    if longest == 0:
        return _ops.zeros((n_bags, dim), dtype=rows.dtype)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(bag_ids.size) - starts[bag_ids]  # a row's place in its bag (bags are in order)
    position = np.full((n_bags, longest), -1, dtype=np.int64)
    position[bag_ids, slot] = np.arange(bag_ids.size)
    filled = position >= 0
    laid_out = rows[wrap(np.where(filled, position, 0))]
    padded = _ops.where(wrap(filled[:, :, None]), laid_out, float("-inf"))
    data = padded._data
    if any_true(data != data):
        # torch walks each bag in order keeping the first maximum and replaces it only by a
        # larger row (``x > best``): a NaN never wins after the first row, and a first-row NaN
        # is never replaced; max over the bag axis would return the NaN wherever it is
        first_nan = data[:, 0, :] != data[:, 0, :]
        slot = np.where(first_nan, 0, np.argmax(np.where(data != data, -np.inf, data), axis=1))
        best = _ops.squeeze(_ops.gather(padded, 1, wrap(slot[:, None, :])), 1)
    else:
        best = _ops.max(padded, 1).values
    return _ops.where(wrap((counts > 0)[:, None]), best, 0.0)
