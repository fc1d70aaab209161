"""``torch.nn.utils.memory_format``: convert convolution weights to a memory format.

NumPy arrays have no channels-last layout that the convolutions would use, so these keep the
weights as they are (values, shapes and strides unchanged) and return the module, which is what a
program can observe of torch's conversion apart from ``stride()``.
"""

from __future__ import annotations

from ..module import Module

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def _convert(module: Module, memory_format) -> Module:
    for child in module.children():
        _convert(child, memory_format)
    return module


def convert_conv2d_weight_memory_format(module: Module, memory_format) -> Module:
    """The weights of every Conv2d/ConvTranspose2d in ``module`` in ``memory_format`` (a no-op on
    the layout here); returns ``module``."""
    return _convert(module, memory_format)


def convert_conv3d_weight_memory_format(module: Module, memory_format) -> Module:
    """The weights of every Conv3d/ConvTranspose3d in ``module`` in ``memory_format`` (a no-op on
    the layout here); returns ``module``."""
    return _convert(module, memory_format)
