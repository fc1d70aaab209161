"""``SyncBatchNorm``: batch normalization whose statistics span the batches of every rank.

With DistributedDataParallel each rank sees only its share of the batch; plain BatchNorm would
normalize each share by its own mean and variance. SyncBatchNorm combines the ranks' per-channel
means, variances and counts (one ``all_gather``, combined as parallel variances are, in float64),
and its backward all-reduces the two per-channel sums that the input gradient needs, so that
training on R ranks with batch B each matches one process with batch R*B.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._c10d.process_group import ProcessGroup, is_initialized, resolve
from .._tensor import Tensor, wrap
from ..autograd.function import Function
from .module import Module
from .normalization import _BatchNorm

__all__ = ["SyncBatchNorm"]


class _SyncBatchNormFunction(Function):
    """Forward and backward of a synchronized batch norm on arrays, with the collectives inline."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, eps, momentum, group):
        a = x._data
        axes = (0,) + tuple(range(2, a.ndim))
        shape = (1, -1) + (1,) * (a.ndim - 2)
        count = a.size // a.shape[1] if a.shape[1] else 0
        local_mean = a.mean(axis=axes, dtype=np.float64) if count else np.zeros(a.shape[1])
        local_var = a.var(axis=axes, dtype=np.float64) if count else np.zeros(a.shape[1])
        # every rank's (count, mean, variance), combined as parallel variances are
        mine = np.concatenate([[count], local_mean, local_var])
        everyone = np.empty((group.size(), mine.size))
        group.comm.Allgather(mine, everyone)
        counts, means, variances = (
            everyone[:, :1],
            everyone[:, 1 : 1 + a.shape[1]],
            everyone[:, 1 + a.shape[1] :],
        )
        total = counts.sum()
        if total <= 1:
            raise ValueError(
                f"SyncBatchNorm: expected more than 1 value per channel across all ranks when training, "
                f"got input size {list(a.shape)} on this rank and {int(total)} value(s) in all"
            )
        mean = (counts * means).sum(0) / total
        var = (counts * (variances + (means - mean) ** 2)).sum(0) / total
        if running_mean is not None:
            rm, rv = running_mean._data, running_var._data
            rm[...] = (1 - momentum) * rm + momentum * mean
            rv[...] = (1 - momentum) * rv + momentum * var * total / (total - 1)
            running_mean._bump_version()
            running_var._bump_version()
        invstd = 1.0 / np.sqrt(var + eps)
        xhat = ((a - mean.reshape(shape).astype(a.dtype)) * invstd.reshape(shape).astype(a.dtype)).astype(
            a.dtype
        )
        y = xhat
        if weight is not None:
            y = xhat * weight._data.reshape(shape)
        if bias is not None:
            y = y + bias._data.reshape(shape)
        ctx.xhat, ctx.invstd, ctx.total, ctx.group, ctx.shape, ctx.axes = (
            xhat,
            invstd,
            total,
            group,
            shape,
            axes,
        )
        ctx.has_weight, ctx.has_bias = weight is not None, bias is not None
        ctx.weight = None if weight is None else weight._data
        return wrap(np.ascontiguousarray(y, dtype=a.dtype))

    @staticmethod
    def backward(ctx, grad_output):
        from mpi4py import MPI

        gy, xhat, shape, axes = grad_output._data, ctx.xhat, ctx.shape, ctx.axes
        sum_dy = gy.sum(axis=axes, dtype=np.float64)
        sum_dy_xhat = (gy * xhat).sum(axis=axes, dtype=np.float64)
        grad_weight = wrap(sum_dy_xhat.astype(gy.dtype)) if ctx.has_weight else None
        grad_bias = wrap(sum_dy.astype(gy.dtype)) if ctx.has_bias else None
        # the input gradient needs both sums over every rank's batch
        sums = np.concatenate([sum_dy, sum_dy_xhat])
        ctx.group.comm.Allreduce(MPI.IN_PLACE, sums, op=MPI.SUM)
        c = sum_dy.size
        mean_dy = (sums[:c] / ctx.total).reshape(shape)
        mean_dy_xhat = (sums[c:] / ctx.total).reshape(shape)
        scale = ctx.invstd if ctx.weight is None else ctx.invstd * ctx.weight
        grad_input = (gy - mean_dy - xhat * mean_dy_xhat) * scale.reshape(shape)
        return wrap(grad_input.astype(gy.dtype)), grad_weight, grad_bias, None, None, None, None, None


class SyncBatchNorm(_BatchNorm):
    """``torch.nn.SyncBatchNorm``: BatchNorm over the batches of every rank of ``process_group``.

    In training on more than one rank it normalizes with the statistics of the whole global
    batch; in eval mode, or without a process group, it is ``BatchNorm`` (torch's rule).
    Inputs are ``(N, C, *)`` with at least 2 dimensions. Use :meth:`convert_sync_batchnorm` to
    turn a model's BatchNorm layers into SyncBatchNorm before wrapping it in DDP.
    """

    _dims = (2, 3, 4, 5)

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        process_group: ProcessGroup | None = None,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"SyncBatchNorm: expected {self.num_features} channels in dim 1, "
                f"got input {list(input.shape)}"
            )
        group = resolve(self.process_group) if is_initialized() else None
        if not self.training or group is None or group.size() == 1:
            return super().forward(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked._data += 1
            self.num_batches_tracked._bump_version()
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked._data)
        running = self.track_running_stats
        return _SyncBatchNormFunction.apply(
            input,
            self.weight,
            self.bias,
            self.running_mean if running else None,
            self.running_var if running else None,
            self.eps,
            factor,
            group,
        )

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: ProcessGroup | None = None) -> Module:
        """``module`` with every BatchNorm*d layer replaced by a SyncBatchNorm holding its
        parameters and running statistics (the same tensors); returns the converted module."""
        converted = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            converted = cls(
                module.num_features,
                module.eps,
                module.momentum,
                module.affine,
                module.track_running_stats,
                process_group,
            )
            if module.affine:
                converted.weight = module.weight
                converted.bias = module.bias
            converted.running_mean = module.running_mean
            converted.running_var = module.running_var
            converted.num_batches_tracked = module.num_batches_tracked
            converted.training = module.training
        for name, child in module.named_children():
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return converted
