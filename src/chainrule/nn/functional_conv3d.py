"""3-d convolutions of ``nn.functional``: ``conv3d`` and ``conv_transpose3d``.

A 3-d convolution is a sum over the kernel's depth taps of 2-d convolutions: tap ``a`` convolves
the depth slices ``i * s + a * d - p`` (all output depths at once, folded into the batch) with
``weight[:, :, a]``. Each term is the 2-d convolution op (one GEMM), so the derivatives, of any
order, come from the 2-d op's rules by composition. The transposed convolution is the adjoint:
tap ``a``'s 2-d transposed convolution lands on output depths ``i * s + a * d - p``.
"""

from __future__ import annotations

from .. import _autocast
from .._tensor import Tensor
from ..ops.autocast_cast import run_in_autocast_dtype
from ..ops.conv import convolution, convolution_transpose
from ..ops.index import index_put_zeros
from ..ops.shape import permute, reshape, squeeze, unsqueeze
from .functional_conv import (
    _check_bias,
    _check_empty,
    _check_geometry,
    _check_groups,
    _check_operands,
    ntuple,
)
from .functional_pad import constant_pad_nd

__all__ = ["conv3d", "conv_transpose3d"]


def _fold_depth(x: Tensor) -> Tensor:
    """(N, C, D, H, W) -> (N * D, C, H, W)."""
    N, C, D, H, W = x.shape
    return reshape(permute(x, (0, 2, 1, 3, 4)), (N * D, C, H, W))


def _unfold_depth(y: Tensor, N: int, D: int) -> Tensor:
    """(N * D, C, H, W) -> (N, C, D, H, W)."""
    _, C, H, W = y.shape
    return permute(reshape(y, (N, D, C, H, W)), (0, 2, 1, 3, 4))


def _add_bias(y: Tensor, bias: Tensor | None) -> Tensor:
    return y if bias is None else y + reshape(bias, (1, -1, 1, 1, 1))


def conv3d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1, groups=1
):
    """3-d convolution of ``input`` (N, C, D, H, W) or (C, D, H, W) with ``weight``
    (out_channels, C / groups, kD, kH, kW), as ``torch.nn.functional.conv3d`` (padding: int,
    triple, ``'valid'`` or ``'same'``)."""
    who = "conv3d"
    if _autocast.cpu_enabled:
        return run_in_autocast_dtype(
            lambda x, w, b: conv3d(x, w, b, stride, padding, dilation, groups), input, weight, bias
        )
    input, weight = _check_operands(who, input, weight, bias, 3, False)
    stride = ntuple(who, "stride", stride, 3)
    dilation = ntuple(who, "dilation", dilation, 3)
    kernel = weight.shape[2:]
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise RuntimeError(
                f"{who}: Invalid padding string: {padding!r} (expected 'same', 'valid' or ints)"
            )
        if padding == "same" and any(s != 1 for s in stride):
            raise RuntimeError(f"{who}: padding='same' is not supported for strided convolutions")
        total = [d * (k - 1) if padding == "same" else 0 for d, k in zip(dilation, kernel)]
        before = tuple(t // 2 for t in total)
        after = tuple(t - b for t, b in zip(total, before))
    else:
        before = after = ntuple(who, "padding", padding, 3)
    _check_geometry(who, stride, dilation, before)
    _check_groups(who, input.shape, 3, weight.shape, groups, False)
    _check_bias(who, bias, weight.shape[0], weight.shape)
    unbatched = input.ndim == 4
    if unbatched:
        input = unsqueeze(input, 0)
    size = input.shape[2:]
    out = [
        (n + b + a - d * (k - 1) - 1) // s + 1
        for n, b, a, k, s, d in zip(size, before, after, kernel, stride, dilation)
    ]
    if min(out) <= 0:
        padded = " x ".join(str(n + b + a) for n, b, a in zip(size, before, after))
        span = " x ".join(str(d * (k - 1) + 1) for k, d in zip(kernel, dilation))
        raise RuntimeError(
            f"{who}: Calculated padded input size per channel: ({padded}). Kernel size: ({span}). "
            "Kernel size can't be greater than actual input size"
        )
    _check_empty(who, input.shape, 3, weight.shape)
    N = input.shape[0]
    # depth padded explicitly; height and width padding (before; the 2-d op pads after as needed)
    # only where 'same' is asymmetric
    x = input
    if before[0] or after[0] or before[1:] != after[1:]:
        extra_h, extra_w = after[1] - before[1], after[2] - before[2]
        x = constant_pad_nd(x, (0, extra_w, 0, extra_h, before[0], after[0]))
    sd, dd = stride[0], dilation[0]
    total = None
    for a in range(kernel[0]):
        taps = x[:, :, a * dd : a * dd + (out[0] - 1) * sd + 1 : sd]
        term = convolution(
            _fold_depth(taps),
            weight[:, :, a],
            None,
            stride[1:],
            before[1:],
            tuple(out[1:]),
            dilation[1:],
            groups,
        )
        total = term if total is None else total + term
    y = _add_bias(_unfold_depth(total, N, out[0]), bias)
    if input.shape[1] == 0:  # no input channels: no output channels either (torch), zero gradients
        y = y[:, :0]
    return squeeze(y, 0) if unbatched else y


def conv_transpose3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """3-d transposed convolution of ``input`` (N, C_in, D, H, W) or unbatched with ``weight``
    (C_in, out_channels / groups, kD, kH, kW), as ``torch.nn.functional.conv_transpose3d``:
    ``D_out = (D - 1) sD - 2 pD + dD (kD - 1) + output_padding + 1``."""
    who = "conv_transpose3d"
    if _autocast.cpu_enabled:
        return run_in_autocast_dtype(
            lambda x, w, b: conv_transpose3d(x, w, b, stride, padding, output_padding, groups, dilation),
            input,
            weight,
            bias,
        )
    if isinstance(padding, str):
        raise TypeError(f"{who}(): argument 'padding' must be tuple of ints, not str")
    input, weight = _check_operands(who, input, weight, bias, 3, True)
    stride = ntuple(who, "stride", stride, 3)
    padding = ntuple(who, "padding", padding, 3)
    output_padding = ntuple(who, "output_padding", output_padding, 3)
    dilation = ntuple(who, "dilation", dilation, 3)
    _check_geometry(who, stride, dilation, padding + output_padding)
    w_shape = weight.shape
    _check_groups(who, input.shape, 3, w_shape, groups, True)
    _check_bias(who, bias, w_shape[1] * groups, w_shape)
    if any(o >= max(s, d) for o, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(
            f"{who}: output padding must be smaller than either stride or dilation, but got "
            f"output_padding={output_padding}, stride={stride}, dilation={dilation}"
        )
    unbatched = input.ndim == 4
    if unbatched:
        input = unsqueeze(input, 0)
    N, _, D = input.shape[:3]
    out = []
    for n, k, s, p, o, d in zip(input.shape[2:], w_shape[2:], stride, padding, output_padding, dilation):
        size = (n - 1) * s - 2 * p + d * (k - 1) + o + 1
        if size <= 0:
            raise RuntimeError(
                f"{who}: the output size {size} is too small (input {list(input.shape)}); use less padding"
            )
        out.append(size)
    _check_empty(who, input.shape, 3, w_shape)
    sd, dd, kd = stride[0], dilation[0], w_shape[2]
    # output depths before cropping the padding (and as far as output_padding reaches)
    full = max((D - 1) * sd + dd * (kd - 1) + 1, padding[0] + out[0])
    x2 = _fold_depth(input)
    total = None
    for a in range(kd):
        plane = convolution_transpose(
            x2, weight[:, :, a], None, stride[1:], padding[1:], tuple(out[1:]), dilation[1:], groups
        )
        term = _unfold_depth(plane, N, D)  # (N, O, D, H, W): input depth i lands at i * sd + a * dd
        shape = term.shape[:2] + (full,) + term.shape[3:]
        depths = slice(a * dd, a * dd + (D - 1) * sd + 1, sd)
        term = index_put_zeros(shape, (slice(None), slice(None), depths), term)
        total = term if total is None else total + term
    y = total[:, :, padding[0] : padding[0] + out[0]]
    y = _add_bias(y, bias)
    return squeeze(y, 0) if unbatched else y
