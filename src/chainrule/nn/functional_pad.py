"""``nn.functional.pad`` (constant, reflect, replicate, circular) and ``torch.constant_pad_nd``.

Every mode is a composition of differentiable ops, so gradients of any order come for free:

* constant: the (cropped) input written into zeros of the padded shape (``index_put_zeros``,
  whose adjoint is a slice), plus a constant array holding ``value`` in the border;
* reflect / replicate / circular: one ``index_select`` per padded dim with the source row of each
  output row (its adjoint adds the gradient of each copy back onto its source row).

Negative padding crops, as in torch: reflect and replicate index the original rows; circular
crops first and wraps the cropped rows (torch's order).
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..ops._common import as_tensor, shape_str, wrap
from ..ops.gather import index_select
from ..ops.index import index_put_zeros

__all__ = ["pad", "constant_pad_nd"]

_MODES = ("constant", "reflect", "replicate", "circular")


def _pairs(who: str, pad, ndim: int) -> list:
    """torch's flat ``pad`` (last dim first) as ``[(before, after)]`` for the padded dims, in
    order of dims; checks its length."""
    try:
        pad = [int(p) for p in pad]
    except TypeError:
        raise TypeError(
            f"{who}(): argument 'pad' must be a tuple of ints, got {type(pad).__name__}"
        ) from None
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > ndim:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got "
            f"padding length {len(pad)} and input of dimension {ndim}"
        )
    pairs = [(pad[2 * k], pad[2 * k + 1]) for k in range(len(pad) // 2)]
    return pairs[::-1]


def constant_pad_nd(input: Tensor, pad, value=0) -> Tensor:
    """``input`` with ``pad[2k]`` / ``pad[2k + 1]`` elements of ``value`` before / after its
    ``k``-th dim from the end (negative amounts crop); as ``torch.constant_pad_nd``."""
    input = as_tensor(input, "constant_pad_nd")
    x = input._data
    pairs = _pairs("constant_pad_nd", pad, x.ndim)
    lead = x.ndim - len(pairs)
    crop = [slice(None)] * lead
    place = [slice(None)] * lead
    shape = list(x.shape[:lead])
    for k, (before, after) in enumerate(pairs):
        n = x.shape[lead + k]
        size = n + before + after
        if size < 0:
            raise RuntimeError(
                f"The input size {n}, plus negative padding {before} and {after} resulted in a "
                f"negative output size, which is invalid. Check dimension {lead + k} of your input."
            )
        crop.append(slice(max(0, -before), n - max(0, -after)))
        place.append(slice(max(0, before), max(0, before) + max(0, n - max(0, -before) - max(0, -after))))
        shape.append(size)
    inner = input[tuple(crop)] if any(s != slice(None) for s in crop) else input
    out = index_put_zeros(tuple(shape), tuple(place), inner)
    if value is None or value == 0:
        return out
    fill = np.full(shape, value).astype(x.dtype)
    fill[tuple(place)] = 0
    return out + wrap(fill)


def _source_rows(mode: str, n: int, before: int, after: int) -> np.ndarray:
    """The input row each output row copies, for one dim of ``n`` rows."""
    if mode == "circular":  # torch crops first, then wraps the cropped rows
        rows = np.arange(max(0, -before), n - max(0, -after))
        return np.take(rows, np.arange(-max(0, before), len(rows) + max(0, after)), mode="wrap")
    src = np.arange(-before, n + after)
    if mode == "reflect":
        src = np.abs(src)
        return np.where(src >= n, 2 * (n - 1) - src, src)
    return np.clip(src, 0, n - 1)


def _check_non_constant(mode: str, x_shape: tuple, pairs: list) -> None:
    nd, ndim = len(pairs), len(x_shape)
    if ndim not in (nd + 1, nd + 2):
        raise NotImplementedError(
            f"Padding size {2 * nd} is not supported for {ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    if any(n == 0 for n in x_shape[1:]) or (ndim == nd + 1 and x_shape[0] == 0):
        raise RuntimeError(
            f"Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with possibly 0 batch size and other "
            f"non-zero dimensions for input, but got: {list(x_shape)}"
        )
    for k, (before, after) in enumerate(pairs):
        dim = ndim - nd + k
        n = x_shape[dim]
        if mode == "reflect" and (before >= n or after >= n):
            raise RuntimeError(
                "Argument #4: Padding size should be less than the corresponding input dimension, "
                f"but got: padding ({before}, {after}) at dimension {dim} of input {list(x_shape)}"
            )
        if mode == "circular" and (before > n or after > n):
            raise RuntimeError(
                "Padding value causes wrapping around more than once "
                f"(padding ({before}, {after}) for dim {dim} of size {n} of input {shape_str(x_shape)})."
            )
        if n + before + after <= 0 and mode != "circular":
            axis = "DHW"[3 - nd + k]
            raise RuntimeError(
                f"input ({axis}: {n}) is too small. Calculated output {axis}: {n + before + after}"
            )


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad (or, with negative amounts, crop) the last ``len(pad) // 2`` dims of ``input``, as
    ``torch.nn.functional.pad``.

    Parameters
    ----------
    input : Tensor.
    pad : ints ``(last_before, last_after, second_last_before, ...)``.
    mode : ``'constant'`` (any number of dims), or ``'reflect'`` (mirror without repeating the
        edge), ``'replicate'`` (repeat the edge), ``'circular'`` (wrap around), which pad the last
        1, 2 or 3 dims of a batched or unbatched input.
    value : the fill of ``'constant'`` (default 0).

    Returns
    -------
    Tensor, each padded dim grown by its two amounts.
    """
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    input = as_tensor(input, "pad")
    if mode == "constant":
        return constant_pad_nd(input, pad, 0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    x_shape = input._data.shape
    pairs = _pairs("pad", pad, len(x_shape))
    _check_non_constant(mode, x_shape, pairs)
    out = input
    for k, (before, after) in enumerate(pairs):
        if before == after == 0:
            continue
        dim = len(x_shape) - len(pairs) + k
        rows = _source_rows(mode, x_shape[dim], before, after)
        out = index_select(out, dim, wrap(rows.astype(np.int64)))
    return out
