"""``torch.nn.DataParallel`` on the CPU: torch's runs the wrapped module as it is when no GPU is
there, and so does chainrule's (``.module`` is the wrapped module; state dict keys start with
``module.``, as in torch). ``DistributedDataParallel`` (``nn/distributed_data_parallel.py``) trains
across processes on MPI."""

from __future__ import annotations

from typing import Any

from .distributed_data_parallel import DistributedDataParallel
from .module import Module

__all__ = ["DataParallel", "DistributedDataParallel"]


class DataParallel(Module):
    """Wraps ``module``; calling it calls ``module`` (``torch.nn.DataParallel`` without CUDA).

    Parameters
    ----------
    module : the module to run.
    device_ids, output_device, dim : accepted for torch compatibility; there is one CPU device.
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0) -> None:
        super().__init__()
        self.module = module
        self.device_ids: list = []
        self.dim = dim
        self.output_device = None
        self.src_device_obj = None

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)
