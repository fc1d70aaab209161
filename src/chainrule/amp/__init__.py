"""Automatic mixed precision (``torch.amp``): ``autocast`` and ``GradScaler``."""

from .._autocast import autocast
from .grad_scaler import GradScaler


def is_autocast_available(device_type: str) -> bool:
    """Whether ``autocast(device_type)`` is a known device type (torch answers True for "cuda"
    even without CUDA: the region then warns and disables itself)."""
    from .._autocast import _device_type

    _device_type(device_type)
    return True


__all__ = ["GradScaler", "autocast", "is_autocast_available"]
