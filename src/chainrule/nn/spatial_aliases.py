"""torch's top-level spellings of spatial ``nn.functional`` ops (``torch.conv2d``,
``torch.max_pool2d``, ``torch.pixel_shuffle``, ``torch.constant_pad_nd`` ...), re-exported by
``chainrule``; where torch's top-level signature differs from ``nn.functional``'s (no
``return_indices``, a tuple result, integer mode codes), the wrapper here follows it."""

from __future__ import annotations

from .._tensor import Tensor
from .functional_conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from .functional_conv3d import conv3d, conv_transpose3d
from .functional_fold import channel_shuffle, native_channel_shuffle, pixel_shuffle, pixel_unshuffle
from .functional_pad import constant_pad_nd
from .functional_pool import adaptive_avg_pool1d, avg_pool1d
from .functional_pool import max_pool1d as _max_pool1d
from .functional_pool import max_pool2d as _max_pool2d
from .functional_pool_nd import adaptive_max_pool1d_with_indices
from .functional_pool_nd import max_pool3d as _max_pool3d
from .functional_resample import affine_grid, grid_sample

__all__ = [
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "max_pool1d_with_indices",
    "avg_pool1d",
    "adaptive_avg_pool1d",
    "adaptive_max_pool1d",
    "constant_pad_nd",
    "channel_shuffle",
    "native_channel_shuffle",
    "pixel_shuffle",
    "pixel_unshuffle",
    "affine_grid_generator",
    "grid_sampler",
    "grid_sampler_2d",
    "grid_sampler_3d",
]


def max_pool1d(
    input: Tensor, kernel_size, stride=(), padding=0, dilation=1, ceil_mode: bool = False
) -> Tensor:
    """``torch.max_pool1d``: ``nn.functional.max_pool1d`` without ``return_indices``."""
    return _max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode=ceil_mode)


def max_pool2d(
    input: Tensor, kernel_size, stride=(), padding=0, dilation=1, ceil_mode: bool = False
) -> Tensor:
    """``torch.max_pool2d``: ``nn.functional.max_pool2d`` without ``return_indices``."""
    return _max_pool2d(input, kernel_size, stride or None, padding, dilation, ceil_mode=ceil_mode)


def max_pool3d(
    input: Tensor, kernel_size, stride=(), padding=0, dilation=1, ceil_mode: bool = False
) -> Tensor:
    """``torch.max_pool3d``: ``nn.functional.max_pool3d`` without ``return_indices``."""
    return _max_pool3d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool1d_with_indices(input: Tensor, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """``torch.max_pool1d_with_indices``: ``(values, indices)``."""
    return _max_pool1d(
        input, kernel_size, stride or None, padding, dilation, ceil_mode=ceil_mode, return_indices=True
    )


def adaptive_max_pool1d(input: Tensor, output_size) -> tuple:
    """``torch.adaptive_max_pool1d``: ``(values, indices)`` (always both, unlike nn.functional's)."""
    return adaptive_max_pool1d_with_indices(input, output_size)


def affine_grid_generator(theta: Tensor, size, align_corners: bool) -> Tensor:
    """``torch.affine_grid_generator``: ``nn.functional.affine_grid`` with ``align_corners`` required."""
    return affine_grid(theta, size, align_corners)


_MODES = ("bilinear", "nearest", "bicubic")
_PADDING = ("zeros", "border", "reflection")


def grid_sampler(
    input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int, align_corners: bool
):
    """``torch.grid_sampler``: ``grid_sample`` with torch's integer codes (mode 0 bilinear, 1 nearest,
    2 bicubic; padding 0 zeros, 1 border, 2 reflection)."""
    return grid_sample(input, grid, _MODES[interpolation_mode], _PADDING[padding_mode], align_corners)


grid_sampler_2d = grid_sampler_3d = grid_sampler
