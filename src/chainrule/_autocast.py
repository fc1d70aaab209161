"""Automatic mixed precision's switches: ``torch.autocast`` and the ``torch.*autocast*`` getters
and setters.

chainrule runs on the CPU, so its ops consult the CPU state only: inside ``autocast("cpu")`` the
matrix products and convolutions (``matmul``, ``mm``, ``bmm``, ``addmm``, ``addbmm``, ``baddbmm``,
``linear``, the ``conv*`` and ``conv_transpose*`` ops) cast their float32 / float16 / bfloat16
operands to the autocast dtype (bfloat16 unless set) and compute in it; everything else keeps its
dtype, and float64 operands are never cast, as in torch. The CUDA state is kept so that code
reading it gets torch's answers; ``autocast("cuda")`` warns and does nothing, as torch without
CUDA does.

Cost when off: the listed ops read one module global (``cpu_enabled``) per call.
"""

from __future__ import annotations

import functools
import warnings

from . import _dtype

__all__ = [
    "autocast",
    "clear_autocast_cache",
    "get_autocast_cpu_dtype",
    "get_autocast_dtype",
    "is_autocast_cache_enabled",
    "is_autocast_cpu_enabled",
    "is_autocast_enabled",
    "set_autocast_cache_enabled",
    "set_autocast_cpu_dtype",
    "set_autocast_cpu_enabled",
    "set_autocast_dtype",
    "set_autocast_enabled",
]

#: read by the listed ops on every call: keep it a plain module global
cpu_enabled = False
_state = {"enabled": {"cpu": False, "cuda": False}, "dtype": {"cpu": _dtype.bfloat16, "cuda": _dtype.float16}}
_cache_enabled = [True]
_nesting = [0]
#: id(leaf) -> (leaf, its cast): the casts of leaves that require grad (weights), reused within the
#: outermost autocast region, as torch's cache does
cast_cache: dict = {}

_KNOWN_DEVICES = (
    "cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, xla, lazy, vulkan, mps, "
    "meta, hpu, mtia, privateuseone"
)


def _device_type(device_type: str) -> str:
    if not isinstance(device_type, str):
        raise TypeError(
            f"autocast: expected a device type string such as 'cpu', got {type(device_type).__name__}"
        )
    name = device_type.split(":")[0]
    if name not in _KNOWN_DEVICES.split(", "):
        raise RuntimeError(
            f"Expected one of {_KNOWN_DEVICES} device type at start of device string: {device_type}"
        )
    return name


def _set_enabled(device: str, enabled: bool) -> None:
    global cpu_enabled
    _state["enabled"][device] = bool(enabled)
    if device == "cpu":
        cpu_enabled = bool(enabled)


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for ``device_type`` (without one: CUDA's, as torch)."""
    return _state["enabled"].get("cuda" if device_type is None else _device_type(device_type), False)


def set_autocast_enabled(*args) -> None:
    """``set_autocast_enabled(enabled)`` (CUDA's, as torch) or ``(device_type, enabled)``."""
    if len(args) == 1:
        _set_enabled("cuda", args[0])
    elif len(args) == 2:
        _set_enabled(_device_type(args[0]), args[1])
    else:
        raise TypeError(
            f"set_autocast_enabled() takes (enabled) or (device_type, enabled), got {len(args)} arguments"
        )


def get_autocast_dtype(device_type: str) -> _dtype.dtype:
    """The dtype the listed ops compute in under autocast for ``device_type``."""
    return _state["dtype"].get(_device_type(device_type), _dtype.float16)


def set_autocast_dtype(device_type: str, dtype: _dtype.dtype) -> None:
    if not isinstance(dtype, _dtype.dtype):
        raise TypeError(f"set_autocast_dtype(): argument 'dtype' must be a dtype, not {type(dtype).__name__}")
    _state["dtype"][_device_type(device_type)] = dtype


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"torch.{old} is deprecated. Please use torch.{new} instead.", DeprecationWarning, stacklevel=3
    )


def is_autocast_cpu_enabled() -> bool:
    """Deprecated spelling of ``is_autocast_enabled("cpu")``."""
    _deprecated("is_autocast_cpu_enabled()", "is_autocast_enabled('cpu')")
    return cpu_enabled


def set_autocast_cpu_enabled(enabled: bool) -> None:
    _deprecated("set_autocast_cpu_enabled(enabled)", "set_autocast_enabled('cpu', enabled)")
    _set_enabled("cpu", enabled)


def get_autocast_cpu_dtype() -> _dtype.dtype:
    _deprecated("get_autocast_cpu_dtype()", "get_autocast_dtype('cpu')")
    return _state["dtype"]["cpu"]


def set_autocast_cpu_dtype(dtype: _dtype.dtype) -> None:
    _deprecated("set_autocast_cpu_dtype(dtype)", "set_autocast_dtype('cpu', dtype)")
    set_autocast_dtype("cpu", dtype)


def is_autocast_cache_enabled() -> bool:
    return _cache_enabled[0]


def set_autocast_cache_enabled(enabled: bool) -> None:
    _cache_enabled[0] = bool(enabled)


def clear_autocast_cache() -> None:
    """Forget the cached casts of weights (done on leaving the outermost autocast region)."""
    cast_cache.clear()


class autocast:  # noqa: N801 (torch's name)
    """Run the listed ops in lower precision inside a ``with`` block (or a decorated function).

    Parameters
    ----------
    device_type : str
        ``"cpu"`` (chainrule's ops); ``"cuda"`` warns and disables itself, as torch without CUDA.
    dtype : chainrule.dtype, optional
        bfloat16 or float16; default ``get_autocast_dtype(device_type)``. Others warn and disable.
    enabled : bool, default True
        False makes the block a no-op region that turns autocast off inside.
    cache_enabled : bool, optional
        Reuse the cast of a weight (a leaf that requires grad) within the region.
    """

    def __init__(
        self,
        device_type: str,
        dtype: _dtype.dtype | None = None,
        enabled: bool = True,
        cache_enabled: bool | None = None,
    ) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = _device_type(device_type)
        self.fast_dtype = get_autocast_dtype(self.device) if dtype is None else dtype
        self._enabled = bool(enabled)
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else bool(cache_enabled)
        if self.device == "cpu":
            if self._enabled and self.fast_dtype not in (_dtype.bfloat16, _dtype.float16):
                warnings.warn(
                    "In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                    "CPU Autocast only supports dtypes of torch.bfloat16, torch.float16 currently.",
                    stacklevel=2,
                )
                self._enabled = False
        elif self._enabled:
            warnings.warn(
                f"{self.device.upper()} is not available or torch_xla is imported. Disabling autocast.",
                stacklevel=2,
            )
            self._enabled = False

    def __enter__(self) -> autocast:
        device = self.device
        self._previous = (
            _state["enabled"].get(device, False),
            _state["dtype"].get(device),
            _cache_enabled[0],
        )
        _set_enabled(device, self._enabled)
        _state["dtype"][device] = self.fast_dtype
        _cache_enabled[0] = self._cache_enabled
        _nesting[0] += 1
        return self

    def __exit__(self, *exc) -> bool:
        _nesting[0] -= 1
        if _nesting[0] == 0:
            clear_autocast_cache()
        enabled, dtype, cache = self._previous
        _set_enabled(self.device, enabled)
        _state["dtype"][self.device] = dtype
        _cache_enabled[0] = cache
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorated(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return func(*args, **kwargs)

        return decorated
