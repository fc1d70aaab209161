"""Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d.

Parameters, attributes, default initialisation and ``repr`` follow torch: the weight (and bias)
start as ``kaiming_uniform_(a=sqrt(5))``, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
``fan_in = weight.shape[1] * prod(kernel_size)``. Besides zero padding, ``padding_mode`` may be
'reflect', 'replicate' or 'circular': the input is padded by indexing (a differentiable gather)
before a convolution without padding.
"""

from __future__ import annotations

import math

import numpy as np

from .. import ops as _ops
from .._device import check_device
from .._tensor import Tensor
from . import init
from .functional_conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d, ntuple
from .functional_conv3d import conv3d, conv_transpose3d
from .module import Module
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_CONV = {1: conv1d, 2: conv2d, 3: conv3d}
_CONV_T = {1: conv_transpose1d, 2: conv_transpose2d, 3: conv_transpose3d}

_PADDING_MODES = {"zeros": None, "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


class _ConvNd(Module):
    """What the convolution layers share: arguments, parameters, initialisation, repr."""

    _nd = 2
    _transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
        output_padding=0,
    ) -> None:
        if device is not None:
            check_device(device)
        super().__init__()
        name, nd = type(self).__name__, self._nd
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer (got groups={groups})")
        if in_channels % groups:
            raise ValueError(
                f"{name}: in_channels must be divisible by groups (got in_channels="
                f"{in_channels}, groups={groups})"
            )
        if out_channels % groups:
            raise ValueError(
                f"{name}: out_channels must be divisible by groups (got out_channels="
                f"{out_channels}, groups={groups})"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{name}: padding_mode must be one of {list(_PADDING_MODES)}, but got "
                f"padding_mode='{padding_mode}'"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = ntuple(name, "kernel_size", kernel_size, nd)
        self.stride = ntuple(name, "stride", stride, nd)
        self.dilation = ntuple(name, "dilation", dilation, nd)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"{name}: Invalid padding string {padding!r}, should be one of {{'same', 'valid'}}"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = ntuple(name, "padding", padding, nd)
        self.output_padding = ntuple(name, "output_padding", output_padding, nd)
        self.transposed = self._transposed
        self.groups = groups
        self.padding_mode = padding_mode
        if self._transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(_ops.empty(*shape, dtype=dtype))
        if bias:
            self.bias = Parameter(_ops.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default initialisation (see the module docstring)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        nd = self._nd
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _pad_by_mode(self, input: Tensor) -> Tensor:
        """``input`` padded by ``padding_mode`` (not zeros) through an index gather per dim."""
        nd = self._nd
        if self.padding == "valid":
            return input
        if self.padding == "same":
            total = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            pads = [(t // 2, t - t // 2) for t in total]
        else:
            pads = [(p, p) for p in self.padding]
        out = input
        for i, (before, after) in enumerate(pads):
            dim = input.ndim - nd + i
            n = input.shape[dim]
            limit = {"reflect": n - 1, "circular": n}.get(self.padding_mode)
            if limit is not None and max(before, after) > limit:
                raise RuntimeError(
                    f"{type(self).__name__}: padding ({before}, {after}) should be at "
                    f"most {limit} for an input of size {n} in dim {dim} with "
                    f"padding_mode='{self.padding_mode}'"
                )
            rows = np.pad(np.arange(n), (before, after), mode=_PADDING_MODES[self.padding_mode])
            out = _ops.index_select(out, dim, _ops.tensor(rows))
        return out


class Conv2d(_ConvNd):
    """2-d convolution over (N, C_in, H, W) inputs, as ``torch.nn.Conv2d``.

    Parameters
    ----------
    in_channels, out_channels : channels of the input and of the output.
    kernel_size : int or (kH, kW).
    stride, dilation : int or pair.
    padding : int, pair, 'valid' or 'same' (stride 1).
    groups : independent channel groups (both channel counts divisible by it).
    bias : learn a per-output-channel bias.
    padding_mode : 'zeros', 'reflect', 'replicate' or 'circular'.

    The weight has shape (out_channels, in_channels / groups, kH, kW).
    """

    _nd = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        if device is not None:
            check_device(device)
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        fn = _CONV[self._nd]
        if self.padding_mode != "zeros":
            return fn(self._pad_by_mode(input), weight, bias, self.stride, 0, self.dilation, self.groups)
        return fn(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(Conv2d):
    """1-d convolution over (N, C_in, L) inputs, as ``torch.nn.Conv1d`` (arguments as ``Conv2d``,
    ints or 1-tuples); the weight has shape (out_channels, in_channels / groups, kL)."""

    _nd = 1


class Conv3d(Conv2d):
    """3-d convolution over (N, C_in, D, H, W) inputs, as ``torch.nn.Conv3d`` (arguments as
    ``Conv2d``, ints or triples); the weight has shape (out_channels, in_channels / groups, kD, kH, kW)."""

    _nd = 3


class ConvTranspose2d(_ConvNd):
    """2-d transposed convolution over (N, C_in, H, W) inputs, as ``torch.nn.ConvTranspose2d``.

    Parameters
    ----------
    in_channels, out_channels, kernel_size, stride, dilation, groups, bias : as in ``Conv2d``.
    padding : int or pair: ``dilation * (k - 1) - padding`` zeros are added to both sides of the
        input (the output shrinks by 2 * padding).
    output_padding : extra size added to one side of the output (smaller than stride or dilation).
    padding_mode : only 'zeros'.

    The weight has shape (in_channels, out_channels / groups, kH, kW). ``forward(input,
    output_size)`` picks the output_padding that gives ``output_size``.
    """

    _nd = 2
    _transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups: int = 1,
        bias: bool = True,
        dilation=1,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        if device is not None:
            check_device(device)
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple, got {padding!r}")
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
            output_padding,
        )

    def _output_padding(self, input: Tensor, output_size) -> tuple:
        """torch's rule: the output_padding that makes the output ``output_size`` (spatial dims,
        optionally with the leading batch/channel dims)."""
        if output_size is None:
            return self.output_padding
        nd = self._nd
        size = [int(s) for s in output_size]
        if len(size) == nd + 2 or (len(size) == nd + 1 and input.ndim == nd + 1):
            size = size[-nd:]
        if len(size) != nd:
            raise ValueError(
                f"{type(self).__name__}: output_size must have {nd} or {nd + 2} elements (got {len(size)})"
            )
        paddings = []
        for i in range(nd):
            n = input.shape[input.ndim - nd + i]
            smallest = (
                (n - 1) * self.stride[i]
                - 2 * self.padding[i]
                + self.dilation[i] * (self.kernel_size[i] - 1)
                + 1
            )
            largest = smallest + self.stride[i] - 1
            if not smallest <= size[i] <= largest:
                raise ValueError(
                    f"{type(self).__name__}: requested an output size of {size}, but "
                    f"valid sizes range from {smallest} to {largest} (for an input "
                    f"of {list(input.shape)[-nd:]})"
                )
            paddings.append(size[i] - smallest)
        return tuple(paddings)

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        fn = _CONV_T[self._nd]
        return fn(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self._output_padding(input, output_size),
            self.groups,
            self.dilation,
        )


class ConvTranspose1d(ConvTranspose2d):
    """1-d transposed convolution over (N, C_in, L) inputs, as ``torch.nn.ConvTranspose1d``."""

    _nd = 1


class ConvTranspose3d(ConvTranspose2d):
    """3-d transposed convolution over (N, C_in, D, H, W) inputs, as ``torch.nn.ConvTranspose3d``."""

    _nd = 3
