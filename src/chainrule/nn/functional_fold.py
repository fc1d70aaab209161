"""Rearranging pixels: ``unfold``/``fold`` (im2col / col2im), ``pixel_shuffle``/``pixel_unshuffle``
and ``channel_shuffle``.

All are compositions of differentiable ops. ``unfold`` reads every block of the zero-padded input
with one advanced index (``getitem``: the node keeps the two small row/column index tables, not the
blocks), and its adjoint ``fold`` adds the blocks into zeros at the same index
(``index_put_zeros``), so each is the other's derivative. The shuffles are reshapes and one
permutation.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..ops._common import as_tensor
from ..ops.index import index_put_zeros
from ..ops.shape import permute, reshape, squeeze, unsqueeze
from .functional_conv import ntuple
from .functional_pad import constant_pad_nd

__all__ = ["unfold", "fold", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle"]


def _block_index(size: tuple, kernel: tuple, dilation: tuple, padding: tuple, stride: tuple, who: str):
    """The row and column tables ``(kh, 1, oh, 1)`` / ``(1, kw, 1, ow)`` of every block's elements in
    the padded input, and the number of blocks per dim."""
    blocks = [
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, k, d, p, s in zip(size, kernel, dilation, padding, stride)
    ]
    if min(blocks) < 1:
        raise RuntimeError(
            f"Given input with spatial size {tuple(size)}, kernel_size={kernel}, dilation={dilation}, "
            f"padding={padding}, calculated shape of the array of sliding blocks as {tuple(blocks)}, "
            "but its components must be at least one."
        )
    (kh, kw), (dh, dw), (sh, sw), (oh, ow) = kernel, dilation, stride, blocks
    rows = (np.arange(kh) * dh)[:, None] + np.arange(oh) * sh
    cols = (np.arange(kw) * dw)[:, None] + np.arange(ow) * sw
    return rows[:, None, :, None], cols[None, :, None, :], blocks


def _geometry(who: str, kernel_size, dilation, padding, stride) -> tuple:
    geometry = tuple(
        ntuple(who, n, v, 2)
        for n, v in (
            ("kernel_size", kernel_size),
            ("dilation", dilation),
            ("padding", padding),
            ("stride", stride),
        )
    )
    kernel, dil, pad, st = geometry
    if min(kernel) <= 0 or min(dil) <= 0 or min(st) <= 0 or min(pad) < 0:
        raise RuntimeError(
            f"{who}: kernel_size, dilation and stride must be positive and padding non-negative, got "
            f"kernel_size={kernel}, dilation={dil}, padding={pad}, stride={st}"
        )
    return geometry


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding blocks (im2col), as ``torch.nn.functional.unfold``.

    Parameters
    ----------
    input : Tensor (N, C, H, W), or (C, H, W) unbatched.
    kernel_size, dilation, padding, stride : int or pair; zeros pad both sides.

    Returns
    -------
    Tensor (N, C * kH * kW, L): column ``l`` holds block ``l`` (row-major over the block grid),
    channel-major then kernel row and column.
    """
    input = as_tensor(input, "unfold")
    x = input._data
    if x.ndim not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got {x.ndim}D)")
    kernel, dilation, padding, stride = _geometry("unfold", kernel_size, dilation, padding, stride)
    unbatched = x.ndim == 3
    if unbatched:
        input = unsqueeze(input, 0)
    N, C = input.shape[:2]
    if any(n == 0 for n in input.shape[1:]):
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
            f"dimensions for input, but got: {list(x.shape)}"
        )
    rows, cols, blocks = _block_index(input.shape[2:], kernel, dilation, padding, stride, "unfold")
    if padding != (0, 0):
        input = constant_pad_nd(input, (padding[1], padding[1], padding[0], padding[0]))
    out = reshape(input[:, :, rows, cols], (N, C * kernel[0] * kernel[1], blocks[0] * blocks[1]))
    return squeeze(out, 0) if unbatched else out


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum sliding blocks back into an image (col2im), as ``torch.nn.functional.fold``: the adjoint
    of ``unfold`` (overlapping blocks add up).

    Parameters
    ----------
    input : Tensor (N, C * kH * kW, L), or (C * kH * kW, L) unbatched.
    output_size : int or (H, W), the image's size.
    kernel_size, dilation, padding, stride : as in ``unfold``.

    Returns
    -------
    Tensor (N, C, H, W).
    """
    input = as_tensor(input, "fold")
    x = input._data
    if x.ndim not in (2, 3) or any(n == 0 for n in x.shape[-2:]):
        raise RuntimeError(
            "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero "
            f"dimensions for input, but got: {list(x.shape)}"
        )
    size = ntuple("fold", "output_size", output_size, 2)
    kernel, dilation, padding, stride = _geometry("fold", kernel_size, dilation, padding, stride)
    unbatched = x.ndim == 2
    if unbatched:
        input = unsqueeze(input, 0)
    N, CK, L = input.shape
    kk = kernel[0] * kernel[1]
    if CK % kk:
        raise RuntimeError(
            "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
            f"input.size(1)={CK} and kernel_size={kernel}."
        )
    rows, cols, blocks = _block_index(size, kernel, dilation, padding, stride, "fold")
    if blocks[0] * blocks[1] != L:
        raise RuntimeError(
            f"Given output_size={size}, kernel_size={kernel}, dilation={dilation}, padding={padding}, "
            f"stride={stride}, expected size of input's dimension 2 to match the calculated number of "
            f"sliding blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got input.size(2)={L}."
        )
    C = CK // kk
    values = reshape(input, (N, C) + kernel + tuple(blocks))
    padded = (N, C, size[0] + 2 * padding[0], size[1] + 2 * padding[1])
    out = index_put_zeros(padded, (slice(None), slice(None), rows, cols), values)
    if padding != (0, 0):
        out = constant_pad_nd(out, (-padding[1], -padding[1], -padding[0], -padding[0]))
    return squeeze(out, 0) if unbatched else out


def _positive(who: str, name: str, value) -> int:
    if int(value) <= 0:
        raise RuntimeError(f"{who} expects a positive {name}, but got {value}")
    return int(value)


def _at_least_3d(who: str, x_shape: tuple) -> None:
    if len(x_shape) < 3:
        raise RuntimeError(
            f"{who} expects input to have at least 3 dimensions, but got "
            f"input with {len(x_shape)} dimension(s)"
        )


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r): each group of r^2 channels becomes an r x r block of
    pixels, as ``torch.nn.functional.pixel_shuffle``."""
    input = as_tensor(input, "pixel_shuffle")
    shape = input._data.shape
    _at_least_3d("pixel_shuffle", shape)
    r = _positive("pixel_shuffle", "upscale_factor", upscale_factor)
    *lead, C, H, W = shape
    if C % (r * r):
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
            f"upscale_factor, but input.size(-3)={C} is not divisible by {r * r}"
        )
    b = len(lead)
    y = reshape(input, (*lead, C // (r * r), r, r, H, W))
    y = permute(y, (*range(b), b, b + 3, b + 1, b + 4, b + 2))
    return reshape(y, (*lead, C // (r * r), H * r, W * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W), the inverse of ``pixel_shuffle``."""
    input = as_tensor(input, "pixel_unshuffle")
    shape = input._data.shape
    _at_least_3d("pixel_unshuffle", shape)
    r = _positive("pixel_unshuffle", "downscale_factor", downscale_factor)
    *lead, C, H, W = shape
    for name, n, k in (("height", H, -2), ("width", W, -1)):
        if n % r:
            raise RuntimeError(
                f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                f"input.size({k})={n} is not divisible by {r}"
            )
    b = len(lead)
    y = reshape(input, (*lead, C, H // r, r, W // r, r))
    y = permute(y, (*range(b), b, b + 2, b + 4, b + 1, b + 3))
    return reshape(y, (*lead, C * r * r, H // r, W // r))


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """(N, C, *) with the channels of ``groups`` groups interleaved: channel ``g * C/groups + i``
    moves to ``i * groups + g``, as ``torch.nn.functional.channel_shuffle``."""
    input = as_tensor(input, "channel_shuffle")
    shape = input._data.shape
    if len(shape) <= 2:
        raise RuntimeError(
            f"channel_shuffle expects input with > 2 dims, but got input with sizes {list(shape)}"
        )
    if int(groups) <= 0:
        raise RuntimeError(
            f"Number of groups to divide channels in must be positive. Value of groups:{groups}"
        )
    N, C, *rest = shape
    if C % groups:
        raise RuntimeError(
            f"Number of channels must be divisible by groups. Got {C} channels and {groups} groups."
        )
    y = reshape(input, (N, groups, C // groups, *rest))
    y = permute(y, (0, 2, 1, *range(3, len(shape) + 1)))
    return reshape(y, shape)


native_channel_shuffle = channel_shuffle
