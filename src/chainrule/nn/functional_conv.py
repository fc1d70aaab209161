"""Convolutions of ``nn.functional``: conv1d, conv2d, conv_transpose1d, conv_transpose2d.

torch's arguments (ints or tuples, ``padding='same'``/``'valid'``, unbatched inputs) are checked
and turned into the explicit geometry of the ops in ``chainrule.ops.conv``; 1-d convolutions run
as 2-d ones over a height of 1.
"""

from __future__ import annotations

from .. import _autocast
from .._tensor import Tensor
from ..ops._common import as_tensor, shape_str
from ..ops.autocast_cast import run_in_autocast_dtype
from ..ops.conv import convolution, convolution_transpose
from ..ops.shape import squeeze, unsqueeze
from .functional_pad import constant_pad_nd

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]

_DIMS = {1: "(N, C, L) or 2 (C, L)", 2: "(N, C, H, W) or 3 (C, H, W)", 3: "(N, C, D, H, W) or 4 (C, D, H, W)"}
_WEIGHT = {
    1: "(out_channels, in_channels/groups, kL)",
    2: "(out_channels, in_channels/groups, kH, kW)",
    3: "(out_channels, in_channels/groups, kD, kH, kW)",
}
_WEIGHT_T = {
    1: "(in_channels, out_channels/groups, kL)",
    2: "(in_channels, out_channels/groups, kH, kW)",
    3: "(in_channels, out_channels/groups, kD, kH, kW)",
}


def ntuple(who: str, name: str, value, n: int) -> tuple:
    """An int or a sequence of ``n`` ints as a tuple of ``n`` ints (torch's error otherwise)."""
    if isinstance(value, int):
        return (int(value),) * n
    try:
        values = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(
            f"{who}(): argument '{name}' must be an int or a tuple of {n} ints, got {type(value).__name__}"
        ) from None
    if len(values) == 1:
        return values * n
    if len(values) != n:
        raise RuntimeError(
            f"{who}: expected {name} to be a single integer value or a list of {n} values to match "
            f"the convolution dimensions, but got {name}={list(values)}"
        )
    return values


def _check_operands(
    who: str, input: Tensor, weight: Tensor, bias: Tensor | None, nd: int, transposed: bool
) -> tuple:
    input = as_tensor(input, who)
    weight = as_tensor(weight, who)
    x, w = input._data, weight._data
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{who}: expected input with {nd + 2} dims {_DIMS[nd]}, got shape {shape_str(x.shape)}"
        )
    if w.ndim != nd + 2:
        layout = (_WEIGHT_T if transposed else _WEIGHT)[nd]
        raise RuntimeError(
            f"{who}: expected weight with {nd + 2} dims {layout}, got shape {shape_str(w.shape)}"
        )
    if x.dtype != w.dtype or (bias is not None and bias._data.dtype != x.dtype):
        other = f" and bias dtype {bias.dtype}" if bias is not None else ""
        raise RuntimeError(
            f"{who}: input dtype {input.dtype} and weight dtype {weight.dtype}"
            f"{other} should be the same; convert one, e.g. weight.to(input.dtype)"
        )
    if x.dtype.kind != "f":
        raise RuntimeError(
            f"{who}: expected a floating point input, got dtype {input.dtype}; "
            "convert it first, e.g. input.float()"
        )
    return input, weight


def _check_groups(who: str, x_shape: tuple, nd: int, w_shape: tuple, groups: int, transposed: bool) -> None:
    channels = x_shape[-nd - 1]
    if not isinstance(groups, int) or groups <= 0:
        raise RuntimeError(f"{who}: non-positive groups is not supported (got groups={groups})")
    if w_shape[0] < groups:  # (also a weight with no channels at dim 0)
        what = "in_channels" if transposed else "out_channels"
        raise RuntimeError(
            f"{who}: Given groups={groups}, expected weight to be at least {groups} at dimension 0 "
            f"({what}), but got weight of size {list(w_shape)} instead"
        )
    if w_shape[0] % groups:
        what = "in_channels" if transposed else "out_channels"
        raise RuntimeError(
            f"{who}: Given groups={groups}, expected weight to be divisible by "
            f"{groups} at dimension 0 ({what}), but got weight of shape "
            f"{shape_str(w_shape)} instead"
        )
    if transposed and channels != w_shape[0]:
        raise RuntimeError(
            f"{who}: Given transposed=1, weight of shape {shape_str(w_shape)}, expected input "
            f"{shape_str(x_shape)} to have {w_shape[0]} channels (weight.shape[0] = in_channels), "
            f"but got {channels} channels instead"
        )
    if not transposed and channels != w_shape[1] * groups:
        raise RuntimeError(
            f"{who}: Given groups={groups}, weight of shape {shape_str(w_shape)}, expected input "
            f"{shape_str(x_shape)} to have in_channels/groups * groups = {w_shape[1]} * {groups} = "
            f"{w_shape[1] * groups} channels, but got {channels} channels instead"
        )


def _check_bias(who: str, bias: Tensor | None, channels: int, w_shape: tuple) -> None:
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != channels):
        raise RuntimeError(
            f"{who}: Given weight of shape {shape_str(w_shape)}, expected bias to be "
            f"1-dimensional with {channels} elements, but got bias of shape "
            f"{shape_str(bias._data.shape)} instead"
        )


def _check_geometry(who: str, stride: tuple, dilation: tuple, padding=(0,)) -> None:
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{who}: non-positive stride is not supported (got stride={stride})")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"{who}: dilation should be greater than zero (got {dilation})")
    if any(p < 0 for p in padding):
        raise RuntimeError(f"{who}: negative padding is not supported (got padding={padding})")


def _check_empty(who: str, x_shape: tuple, nd: int, w_shape: tuple) -> None:
    """torch's refusals of empty operands: an input may be empty only by its batch or its
    channels (not by a spatial dim), and a non-empty input needs a non-empty kernel."""
    batched = len(x_shape) == nd + 2
    if 0 in x_shape and 0 not in x_shape[: 2 if batched else 1]:
        raise RuntimeError(
            f"{who}: Only zero batch or zero channel inputs are supported, but got input shape: "
            f"{list(x_shape)} (an empty spatial dim); pad the input or drop the call"
        )
    if 0 not in x_shape and 0 in w_shape:
        raise RuntimeError(
            f"{who}: expected a non-empty weight for a non-empty input {list(x_shape)}, but got "
            f"weight of size {list(w_shape)} (kernel size should be greater than zero)"
        )


def _batched(input: Tensor, nd: int) -> tuple[Tensor, bool]:
    if input._data.ndim == nd + 1:
        return unsqueeze(input, 0), True
    return input, False


def _as_2d(t: Tensor | None, nd: int, dim: int) -> Tensor | None:
    """A 1-d convolution's operand with a height of 1 inserted at ``dim``."""
    return t if t is None or nd == 2 else unsqueeze(t, dim)


def _apply_2d(op, nd: int, input, weight, bias, stride, padding, out, dilation, groups) -> Tensor:
    """Run the 2-d ``op`` (convolution or its transpose) on a batched input: 1-d inputs are lifted
    to a height of 1 and unbatched ones to a batch of 1, and squeezed back afterwards."""
    x, unbatched = _batched(input, nd)
    if nd == 1:
        x, weight = _as_2d(x, 1, 2), _as_2d(weight, 1, 2)
        stride, padding, dilation, out = (1,) + stride, (0,) + padding, (1,) + dilation, [1] + out
    y = op(x, weight, bias, stride, padding, tuple(out), dilation, groups)
    if nd == 1:
        y = squeeze(y, 2)
    return squeeze(y, 0) if unbatched else y


def _conv(who: str, nd: int, input, weight, bias, stride, padding, dilation, groups) -> Tensor:
    if _autocast.cpu_enabled:
        return run_in_autocast_dtype(
            lambda x, w, b: _conv(who, nd, x, w, b, stride, padding, dilation, groups), input, weight, bias
        )
    input, weight = _check_operands(who, input, weight, bias, nd, False)
    stride = ntuple(who, "stride", stride, nd)
    dilation = ntuple(who, "dilation", dilation, nd)
    kernel = weight._data.shape[2:]
    size = input._data.shape[-nd:]
    if isinstance(padding, str):
        if padding == "valid":
            before = after = (0,) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError(
                    f"{who}: padding='same' is not supported for strided "
                    f"convolutions (got stride={stride}); use an explicit padding"
                )
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            before = tuple(t // 2 for t in total)  # torch puts the odd one at the end
            after = tuple(t - b for t, b in zip(total, before))
        else:
            raise RuntimeError(
                f"{who}: Invalid padding string: {padding!r} (expected 'same', "
                "'valid', an int or a tuple of ints)"
            )
    else:
        before = after = ntuple(who, "padding", padding, nd)
    _check_geometry(who, stride, dilation, before)
    _check_groups(who, input._data.shape, nd, weight._data.shape, groups, False)
    _check_bias(who, bias, weight._data.shape[0], weight._data.shape)
    out = [
        (n + b + a - d * (k - 1) - 1) // s + 1
        for n, b, a, k, s, d in zip(size, before, after, kernel, stride, dilation)
    ]
    if min(out) <= 0:
        padded = " x ".join(str(n + b + a) for n, b, a in zip(size, before, after))
        span = " x ".join(str(d * (k - 1) + 1) for k, d in zip(kernel, dilation))
        raise RuntimeError(
            f"{who}: Calculated padded input size per channel: ({padded}). Kernel "
            f"size: ({span}). Kernel size can't be greater than actual input size"
        )
    _check_empty(who, input._data.shape, nd, weight._data.shape)
    if before != after:
        # torch pads the input by the odd element first and convolves the padded copy (which its
        # node saves, so an in-place change of the input then passes backward): the same here
        pad = [0] * (2 * nd)
        for i in range(nd):
            pad[2 * (nd - 1 - i) + 1] = after[i] - before[i]
        input = constant_pad_nd(input, pad)
    y = _apply_2d(convolution, nd, input, weight, bias, stride, before, out, dilation, groups)
    if input._data.shape[-nd - 1] == 0:
        # No input channels: torch's output has none either (not out_channels of bias), and
        # every gradient is zero; the slice keeps weight and bias in the graph.
        y = y[(slice(None),) * (y.ndim - nd - 1) + (slice(0, 0),)]
    return y


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """2-d convolution (cross-correlation) of ``input`` with ``weight``, as ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    input : Tensor of shape (N, C, H, W), or (C, H, W) unbatched.
    weight : Tensor of shape (out_channels, C / groups, kH, kW).
    bias : optional Tensor of shape (out_channels,).
    stride : int or (sH, sW).
    padding : int, (pH, pW), ``'valid'`` (none) or ``'same'`` (output size = input size; stride 1).
    dilation : int or (dH, dW): spacing between kernel elements.
    groups : split the channels into this many independent groups.

    Returns
    -------
    Tensor of shape (N, out_channels, H_out, W_out), ``H_out = (H + 2 pH - dH (kH - 1) - 1) // sH + 1``.
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """1-d convolution of ``input`` (N, C, L) or (C, L) with ``weight`` (out_channels, C / groups, kL);
    the arguments are ``conv2d``'s over one dimension."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(
    who: str, nd: int, input, weight, bias, stride, padding, output_padding, groups, dilation
) -> Tensor:
    if isinstance(padding, str):
        raise TypeError(
            f"{who}(): argument 'padding' must be tuple of ints, not str (padding="
            f"{padding!r} exists for convolutions only)"
        )
    if _autocast.cpu_enabled:
        return run_in_autocast_dtype(
            lambda x, w, b: _conv_transpose(
                who, nd, x, w, b, stride, padding, output_padding, groups, dilation
            ),
            input,
            weight,
            bias,
        )
    input, weight = _check_operands(who, input, weight, bias, nd, True)
    stride = ntuple(who, "stride", stride, nd)
    padding = ntuple(who, "padding", padding, nd)
    output_padding = ntuple(who, "output_padding", output_padding, nd)
    dilation = ntuple(who, "dilation", dilation, nd)
    _check_geometry(who, stride, dilation, padding + output_padding)
    w_shape = weight._data.shape
    _check_groups(who, input._data.shape, nd, w_shape, groups, True)
    _check_bias(who, bias, w_shape[1] * groups, w_shape)
    if any(o >= max(s, d) for o, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(
            f"{who}: output padding must be smaller than either stride or dilation, "
            f"but got output_padding={output_padding}, stride={stride}, "
            f"dilation={dilation}"
        )
    out = []
    for n, k, s, p, o, d in zip(
        input._data.shape[-nd:], w_shape[2:], stride, padding, output_padding, dilation
    ):
        size = (n - 1) * s - 2 * p + d * (k - 1) + o + 1
        if size <= 0:
            raise RuntimeError(
                f"{who}: the output size {size} is too small (input of shape "
                f"{shape_str(input._data.shape)}, kernel {w_shape[2:]}, stride "
                f"{stride}, padding {padding}); use less padding"
            )
        out.append(size)
    _check_empty(who, input._data.shape, nd, w_shape)
    return _apply_2d(convolution_transpose, nd, input, weight, bias, stride, padding, out, dilation, groups)


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """2-d transposed convolution ("deconvolution"), as ``torch.nn.functional.conv_transpose2d``:
    the gradient of ``conv2d`` with respect to its input.

    Parameters
    ----------
    input : Tensor of shape (N, C_in, H, W), or (C_in, H, W) unbatched.
    weight : Tensor of shape (C_in, out_channels / groups, kH, kW).
    bias : optional Tensor of shape (out_channels,).
    stride, padding, dilation : int or pair; ``padding`` removes ``dilation * (k - 1) - padding``
        rows of zero padding from each side of the output.
    output_padding : int or pair, extra rows/cols at the end (smaller than stride or dilation).
    groups : number of channel groups.

    Returns
    -------
    Tensor of shape (N, out_channels, H_out, W_out),
    ``H_out = (H - 1) sH - 2 pH + dH (kH - 1) + output_padding + 1``.
    """
    return _conv_transpose(
        "conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """1-d transposed convolution of ``input`` (N, C_in, L) with ``weight`` (C_in, out / groups, kL)."""
    return _conv_transpose(
        "conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation
    )
