"""Per-sample normalizations of ``chainrule.nn.functional`` (re-exported there): instance norm,
RMS norm and local response norm. Compositions of differentiable ops (instance norm is batch norm
over a ``(1, N * C, *)`` view, as torch computes it), so second derivatives follow."""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from .. import ops as _ops
from .._tensor import Tensor
from ..ops._common import as_tensor, shape_str
from ..ops.activation_piecewise import TORCH_TYPE_NAMES
from .functional_norm import batch_norm

__all__ = ["instance_norm", "rms_norm", "local_response_norm"]


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each sample's channels over their spatial dims, as
    ``torch.nn.functional.instance_norm``.

    Parameters
    ----------
    input : ``(N, C, *)``.
    running_mean, running_var : optional ``(C,)`` estimates: updated in place (averaged over the
        batch) when ``use_input_stats``, used to normalise otherwise.
    weight, bias : optional ``(C,)`` affine parameters.
    use_input_stats : normalise with each instance's own statistics.
    """
    input = as_tensor(input, "instance_norm")
    _require_float(input, "batch_norm")
    if use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.shape}")
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError(
            "Expected running_mean and running_var to be defined when use_input_stats is false"
        )
    if input.ndim < 2:
        raise RuntimeError(
            "instance_norm: expected an input with at least 2 dims (N, C, *), got shape "
            f"{shape_str(input.shape)}"
        )
    if input.numel() == 0:  # nothing to normalise; the affine map keeps weight and bias in the
        out = input.clone()  # graph, with torch's zero gradients
        view = (1, input.shape[1]) + (1,) * (input.ndim - 2)
        if weight is not None:
            out = out * weight.reshape(view)
        if bias is not None:
            out = out + bias.reshape(view)
        return out
    n, c = input.shape[:2]
    folded = input.reshape((1, n * c) + tuple(input.shape[2:]))
    repeat = (lambda t: None if t is None else t.repeat(n)) if n != 1 else (lambda t: t)
    mean_, var_ = repeat(running_mean), repeat(running_var)
    if mean_ is not None and n != 1:
        mean_, var_ = mean_.detach(), var_.detach()
    # weight and bias repeated even for one sample, as torch: its batch norm node then saves the
    # copy, and an in-place change of the weight after the call passes backward
    weight_, bias_ = (None if t is None else t.repeat(n) for t in (weight, bias))
    out = batch_norm(folded, mean_, var_, weight_, bias_, use_input_stats, momentum, eps)
    if use_input_stats and n != 1:  # the running estimates: the batch's mean of the per-sample ones
        for running, folded_stat in ((running_mean, mean_), (running_var, var_)):
            if running is not None:
                running._data[...] = folded_stat._data.reshape(n, c).mean(0)
                running._bump_version()
    return out.reshape(input.shape)


def _require_float(input: Tensor, kernel: str) -> None:
    if not input.is_floating_point():
        name = TORCH_TYPE_NAMES.get(input._data.dtype.name, str(input.dtype))
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{name}' (convert the input first, e.g. x.float())"
        )


def rms_norm(
    input: Tensor,
    normalized_shape,
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """``x / sqrt(mean(x^2) + eps) * weight`` over the trailing ``normalized_shape`` dims;
    ``eps=None`` is the machine epsilon of the input's dtype, as torch."""
    input = as_tensor(input, "rms_norm")
    if isinstance(normalized_shape, int):
        raise TypeError(
            "rms_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not int "
            f"(write ({normalized_shape},))"
        )
    shape = tuple(normalized_shape)
    k = len(shape)
    if k == 0:
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
            "element, but got normalized_shape = []"
        )
    _require_float(input, "rms_norm")
    if input.ndim < k or tuple(input.shape[input.ndim - k :]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape [*, "
            f"{', '.join(map(str, shape))}], but got input of size{list(input.shape)}"
        )
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(
            f"rms_norm: expected weight of shape {shape_str(shape)} (normalized_shape), got "
            f"{shape_str(weight.shape)}"
        )
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    dims = tuple(range(input.ndim - k, input.ndim))
    mean_square = _ops.mean(input * input, dims, keepdim=True) if dims else input * input
    out = input * _ops.rsqrt(mean_square + eps)
    if weight is None:
        return out
    out = out * weight
    return out if out.dtype == input.dtype else out.to(input.dtype)  # torch keeps the input's dtype


def local_response_norm(
    input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """``x / (k + alpha * mean of x^2 over a window of size channels)^beta`` (the window centred on
    each channel, zero-padded: ``size // 2`` channels before, ``(size - 1) // 2`` after)."""
    input = as_tensor(input, "local_response_norm")
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} dimensions)")
    if input.numel() == 0:
        return input
    square = input * input
    c = input.shape[1]
    before, after = size // 2, (size - 1) // 2
    pad_shape = list(input.shape)
    pieces = []
    if before:
        pad_shape[1] = before
        pieces.append(_ops.zeros(tuple(pad_shape), dtype=input.dtype))
    pieces.append(square)
    if after:
        pad_shape[1] = after
        pieces.append(_ops.zeros(tuple(pad_shape), dtype=input.dtype))
    padded = _ops.cat(pieces, 1) if len(pieces) > 1 else square
    window = padded.narrow(1, 0, c)
    for shift in range(1, size):
        window = window + padded.narrow(1, shift, c)
    if not input.is_floating_point():  # torch's average pooling of integers truncates
        window = (window // size).to(_dtype.get_default_dtype()) * size
    div = (window / size * alpha + k) ** beta
    return input / div
