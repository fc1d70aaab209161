"""``torch.cuda.amp``: the deprecated CUDA spellings of ``torch.amp``'s ``autocast`` and
``GradScaler``. Each warns as torch does (FutureWarning) and builds the ``"cuda"`` object, which
without CUDA disables itself: ``GradScaler(enabled=False)`` and ``autocast(enabled=False)`` are
pass-throughs, and enabled ones warn and pass through too, as in torch on a CPU-only build.
"""

from __future__ import annotations

import functools
import warnings

from .. import _dtype
from ..amp import GradScaler as _GradScaler
from ..amp import autocast as _autocast

__all__ = ["GradScaler", "autocast", "custom_fwd", "custom_bwd", "amp_definitely_not_available"]


def amp_definitely_not_available() -> bool:
    """True: there is no CUDA (torch answers True without CUDA and XLA)."""
    return True


class GradScaler(_GradScaler):
    """``torch.cuda.amp.GradScaler(...)``: deprecated for ``torch.amp.GradScaler('cuda', ...)``."""

    def __init__(
        self,
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        warnings.warn(
            "`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
            "`torch.amp.GradScaler('cuda', args...)` instead.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(
            "cuda",
            init_scale=init_scale,
            growth_factor=growth_factor,
            backoff_factor=backoff_factor,
            growth_interval=growth_interval,
            enabled=enabled,
        )


class autocast(_autocast):
    """``torch.cuda.amp.autocast(...)``: deprecated for ``torch.amp.autocast('cuda', ...)``."""

    def __init__(self, enabled: bool = True, dtype=_dtype.float16, cache_enabled: bool = True) -> None:
        warnings.warn(
            "`torch.cuda.amp.autocast(args...)` is deprecated. Please use "
            "`torch.amp.autocast('cuda', args...)` instead.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__("cuda", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


def custom_fwd(fwd=None, *, cast_inputs=None):
    """Decorator for a custom Function's ``forward`` under CUDA autocast. CUDA autocast is never on
    here, so the forward runs as written (torch does the same outside a CUDA autocast region)."""
    warnings.warn(
        "`torch.cuda.amp.custom_fwd(args...)` is deprecated. Please use "
        "`torch.amp.custom_fwd(args..., device_type='cuda')` instead.",
        FutureWarning,
        stacklevel=2,
    )
    if fwd is None:
        return _pass_through
    return _pass_through(fwd)


def custom_bwd(bwd):
    """Decorator for a custom Function's ``backward``: runs it as written (see ``custom_fwd``)."""
    warnings.warn(
        "`torch.cuda.amp.custom_bwd(args...)` is deprecated. Please use "
        "`torch.amp.custom_bwd(args..., device_type='cuda')` instead.",
        FutureWarning,
        stacklevel=2,
    )
    return _pass_through(bwd)


def _pass_through(fn):
    @functools.wraps(fn)
    def run(*args, **kwargs):
        return fn(*args, **kwargs)

    return run
