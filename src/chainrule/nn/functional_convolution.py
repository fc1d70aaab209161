"""``torch.convolution``: ATen's one entry to every convolution (1-, 2- and 3-d, plain or
transposed), which picks the ``nn.functional`` op from the weight's rank and ``transposed``."""

from __future__ import annotations

from .._tensor import Tensor
from .functional_conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from .functional_conv3d import conv3d, conv_transpose3d

__all__ = ["convolution"]

_PLAIN = {1: conv1d, 2: conv2d, 3: conv3d}
_TRANSPOSED = {1: conv_transpose1d, 2: conv_transpose2d, 3: conv_transpose3d}


def convolution(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride,
    padding,
    dilation,
    transposed: bool,
    output_padding,
    groups: int,
) -> Tensor:
    """The N-d convolution (``transposed=False``) or transposed convolution of ``input`` with
    ``weight``, N the weight's rank less 2; every geometry argument is a sequence of N ints."""
    nd = weight.ndim - 2
    if nd not in _PLAIN:
        raise RuntimeError(
            f"convolution: expected a weight of 3, 4 or 5 dims (1-, 2- or 3-d convolution), got weight "
            f"of shape {list(weight.shape)}"
        )
    if input.ndim != nd + 2:
        raise RuntimeError(
            f"Expected {nd + 2}-dimensional input for {nd + 2}-dimensional weight {list(weight.shape)}, "
            f"but got {input.ndim}-dimensional input of size {list(input.shape)} instead"
        )
    if transposed:
        return _TRANSPOSED[nd](input, weight, bias, stride, padding, output_padding, groups, dilation)
    # torch ignores output_padding here
    return _PLAIN[nd](input, weight, bias, stride, padding, dilation, groups)
