"""Normalization layers: BatchNorm1d/2d/3d, LayerNorm, GroupNorm (torch's parameters, buffers,
state_dict keys and repr)."""

from __future__ import annotations

import numpy as np

from .. import ops as _ops
from .._device import check_device
from .._tensor import Tensor, wrap
from . import init
from .functional_norm import batch_norm, group_norm, layer_norm
from .module import Module
from .parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm"]


def _make_affine(module: Module, affine: bool, shape: tuple, dtype, bias: bool) -> None:
    """Register ``weight`` (ones) and, with ``bias``, ``bias`` (zeros) of ``shape`` when
    ``affine``; otherwise register both as None."""
    if affine:
        module.weight = Parameter(_ops.ones(*shape, dtype=dtype))
        if bias:
            module.bias = Parameter(_ops.zeros(*shape, dtype=dtype))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def _reset_affine(module: Module, affine: bool) -> None:
    """Refill the affine ``weight`` with ones and ``bias`` (if any) with zeros."""
    if affine:
        init.ones_(module.weight)
        if module.bias is not None:
            init.zeros_(module.bias)


class _BatchNorm(Module):
    """Batch normalization over the channel dim (dim 1) with running statistics.

    Parameters
    ----------
    num_features : C, the number of channels.
    eps : added to the variance for numerical stability.
    momentum : update factor of the running estimates; None: their cumulative average
        (``1 / num_batches_tracked``).
    affine : learn a per-channel ``weight`` (ones) and, with ``bias``, ``bias`` (zeros).
    track_running_stats : keep ``running_mean`` (zeros), ``running_var`` (ones) and
        ``num_batches_tracked`` (int64 0) buffers and use them in eval mode; otherwise eval mode
        uses the batch's statistics too.
    bias : (keyword only) learn the additive bias when ``affine``.
    """

    _dims: tuple = (2, 3)

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        if device is not None:
            check_device(device)
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _make_affine(self, affine, (num_features,), dtype, bias)
        if track_running_stats:
            self.register_buffer("running_mean", _ops.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", _ops.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", wrap(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0
            for t in (self.running_mean, self.running_var, self.num_batches_tracked):
                t._bump_version()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        _reset_affine(self, self.affine)

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim not in self._dims:
            wanted = " or ".join(f"{d}D" for d in self._dims)
            raise ValueError(
                f"{type(self).__name__}: expected {wanted} input (got {input.ndim}D "
                f"input of shape {list(input.shape)})"
            )

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked._data += 1
            self.num_batches_tracked._bump_version()
            factor = 1.0 / float(self.num_batches_tracked._data) if self.momentum is None else self.momentum
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        return batch_norm(
            input,
            self.running_mean if keep else None,
            self.running_var if keep else None,
            self.weight,
            self.bias,
            use_batch,
            factor,
            self.eps,
        )

    def _load_from_state_dict(
        self,
        state_dict: dict,
        prefix: str,
        local_metadata: dict,
        strict: bool,
        missing_keys: list,
        unexpected_keys: list,
        error_msgs: list,
    ) -> None:
        # checkpoints from before num_batches_tracked existed load with a count of 0, as in torch
        key = prefix + "num_batches_tracked"
        if (
            self.track_running_stats
            and key not in state_dict
            and (local_metadata.get("version") is None or local_metadata["version"] < 2)
        ):
            state_dict[key] = wrap(np.array(0, dtype=np.int64))
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) inputs, as ``torch.nn.BatchNorm1d``."""

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) inputs, as ``torch.nn.BatchNorm2d``."""

    _dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalization of (N, C, D, H, W) inputs, as ``torch.nn.BatchNorm3d``."""

    _dims = (5,)


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` dims, as ``torch.nn.LayerNorm``.

    Parameters
    ----------
    normalized_shape : int or tuple of the trailing dims.
    eps : added to the variance for numerical stability.
    elementwise_affine : learn ``weight`` (ones) and, with ``bias``, ``bias`` (zeros) of that shape.
    bias : learn the additive bias (when elementwise_affine).
    """

    def __init__(
        self,
        normalized_shape,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
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
        _make_affine(self, elementwise_affine, self.normalized_shape, dtype, bias)

    def reset_parameters(self) -> None:
        _reset_affine(self, self.elementwise_affine)

    def forward(self, input: Tensor) -> Tensor:
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Normalise channels in groups, as ``torch.nn.GroupNorm``.

    Parameters
    ----------
    num_groups : groups to split the channels into.
    num_channels : C, divisible by ``num_groups``.
    eps : added to the variance for numerical stability.
    affine : learn per-channel ``weight`` (ones) and, with ``bias``, ``bias`` (zeros).
    bias : (keyword only) learn the additive bias when ``affine``.
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        if device is not None:
            check_device(device)
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _make_affine(self, affine, (num_channels,), dtype, bias)

    def reset_parameters(self) -> None:
        _reset_affine(self, self.affine)

    def forward(self, input: Tensor) -> Tensor:
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )
