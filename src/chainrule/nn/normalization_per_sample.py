"""Per-sample normalization layers: ``InstanceNorm1d/2d/3d``, ``RMSNorm``, ``LocalResponseNorm``
and ``CrossMapLRN2d`` (torch's parameters, buffers, state_dict keys and repr)."""

from __future__ import annotations

import warnings

import numpy as np

from .. import ops as _ops
from .._device import check_device
from .._tensor import Tensor, wrap
from ..autograd.function import Function
from . import init
from .functional_norm_per_sample import instance_norm, local_response_norm, rms_norm
from .module import Module
from .normalization import _BatchNorm
from .parameter import Parameter

__all__ = [
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "RMSNorm",
    "LocalResponseNorm",
    "CrossMapLRN2d",
]


class _InstanceNorm(_BatchNorm):
    """Instance normalization: each sample's channels over their spatial dims. torch's defaults
    differ from batch norm's: ``affine=False``, ``track_running_stats=False``; with running
    statistics, eval mode normalises with them (``num_batches_tracked`` is kept, never counted)."""

    _spatial_dims: int = 1

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        if device is not None:
            check_device(device)
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def _check_input_dim(self, input: Tensor) -> None:
        wanted = (self._spatial_dims + 1, self._spatial_dims + 2)
        if input.ndim not in wanted:
            raise ValueError(f"expected {wanted[0]}D or {wanted[1]}D input (got {input.ndim}D input)")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        feature_dim = input.ndim - self._spatial_dims - 1
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(
                    f"expected input's size at dim={feature_dim} to match num_features "
                    f"({self.num_features}), but got: {input.shape[feature_dim]}."
                )
            warnings.warn(
                f"input's size at dim={feature_dim} does not match num_features. You can silence "
                "this warning by not passing in num_features, which is not used because affine=False",
                stacklevel=2,
            )
        unbatched = input.ndim == self._spatial_dims + 1
        batch = input.unsqueeze(0) if unbatched else input
        out = instance_norm(
            batch,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            self.momentum if self.momentum is not None else 0.0,
            self.eps,
        )
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of ``(N, C, L)`` or ``(C, L)`` inputs."""

    _spatial_dims = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of ``(N, C, H, W)`` or ``(C, H, W)`` inputs."""

    _spatial_dims = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` inputs."""

    _spatial_dims = 3


class RMSNorm(Module):
    """``x / sqrt(mean(x^2) + eps) * weight`` over the trailing ``normalized_shape`` dims
    (``eps=None``: the dtype's machine epsilon); ``weight`` starts at ones."""

    def __init__(
        self,
        normalized_shape,
        eps: float | None = None,
        elementwise_affine: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        if device is not None:
            check_device(device)
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(_ops.empty(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class LocalResponseNorm(Module):
    """``x / (k + alpha * mean of x^2 over size neighbouring channels)^beta``."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class _CrossMapLRN(Function):
    """torch's legacy cross-map LRN: its forward's running-sum recurrence and its own backward
    formula (which is what torch's gradients are, so it is reproduced rather than derived)."""

    @staticmethod
    def forward(ctx, input: Tensor, size: int, alpha: float, beta: float, k: float) -> Tensor:
        x = input._data
        channels = x.shape[1]
        square = x * x
        pre_pad = int((size - 1) / 2 + 1)
        scale = np.empty_like(x)
        scale[:, 0] = square[:, : min(pre_pad, channels)].sum(1)
        for c in range(1, channels):
            scale[:, c] = scale[:, c - 1]
            if c < channels - pre_pad + 1:
                scale[:, c] += square[:, c + pre_pad - 1]
            if c > pre_pad:
                scale[:, c] -= square[:, c - pre_pad]
        scale = scale * x.dtype.type(alpha / size) + x.dtype.type(k)
        out = x * scale ** x.dtype.type(-beta)
        ctx.save_for_backward(input)
        ctx.size, ctx.alpha, ctx.beta, ctx.scale, ctx.out = size, alpha, beta, scale, out
        return wrap(out)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        (input,) = ctx.saved_tensors
        x, g = input._data, grad_output._data
        size, scale, out = ctx.size, ctx.scale, ctx.out
        channels = x.shape[1]
        grad = scale ** x.dtype.type(-ctx.beta) * g
        inverse_pre_pad = int(size - (size - 1) / 2)
        if inverse_pre_pad + channels > channels + size - 1:
            raise RuntimeError(
                f"CrossMapLRN2d: torch's backward is undefined for size={size} (its padded "
                "buffer is too short); use size >= 2"
            )
        padded = np.zeros((x.shape[0], channels + size - 1) + x.shape[2:], dtype=x.dtype)
        padded[:, inverse_pre_pad : inverse_pre_pad + channels] = g * out / scale
        window = np.cumsum(padded, axis=1)  # the sum of padded[c .. c + size - 1], channel by channel
        upper = window[:, size - 1 : size - 1 + channels]
        lower = np.concatenate([np.zeros_like(window[:, :1]), window[:, : channels - 1]], axis=1)
        grad = grad - x.dtype.type(2 * ctx.alpha * ctx.beta / size) * x * (upper - lower)
        return wrap(grad), None, None, None, None


class CrossMapLRN2d(Module):
    """torch's legacy cross-channel LRN of ``(N, C, H, W)`` inputs: ``x * (k + alpha / size *
    S)^-beta``, ``S`` the sum of squares over a channel window built by torch's running-sum
    recurrence, with torch's own backward formula."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D instead.")
        return _CrossMapLRN.apply(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
