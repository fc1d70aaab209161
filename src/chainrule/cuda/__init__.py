"""``torch.cuda`` as torch answers on a build without CUDA: chainrule's tensors live on the CPU.

Queries return what torch's CPU-only build returns (``is_available()`` False, ``device_count()``
0, memory counters 0), seeding is a no-op that succeeds (there is no CUDA generator to seed), and
the calls that need a GPU raise torch's ``AssertionError("Torch not compiled with CUDA enabled")``.
So the usual script prologue (``device = 'cuda' if torch.cuda.is_available() else 'cpu'``,
``torch.cuda.manual_seed_all(seed)``) runs unchanged and picks the CPU.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict

from .. import _dtype
from .._device import device as _device
from .._device import not_compiled_error
from . import amp

__all__ = [
    "amp",
    "is_available",
    "is_initialized",
    "init",
    "device_count",
    "current_device",
    "set_device",
    "device",
    "device_of",
    "get_device_name",
    "get_device_capability",
    "get_device_properties",
    "get_arch_list",
    "is_bf16_supported",
    "synchronize",
    "empty_cache",
    "ipc_collect",
    "mem_get_info",
    "memory_allocated",
    "max_memory_allocated",
    "memory_reserved",
    "max_memory_reserved",
    "memory_cached",
    "max_memory_cached",
    "memory_stats",
    "memory_summary",
    "reset_peak_memory_stats",
    "reset_max_memory_allocated",
    "reset_max_memory_cached",
    "reset_accumulated_memory_stats",
    "set_per_process_memory_fraction",
    "manual_seed",
    "manual_seed_all",
    "seed",
    "seed_all",
    "initial_seed",
    "get_rng_state",
    "get_rng_state_all",
    "set_rng_state",
    "set_rng_state_all",
    "current_stream",
    "default_stream",
    "stream",
    "Stream",
    "Event",
    "FloatTensor",
    "DoubleTensor",
    "HalfTensor",
    "BFloat16Tensor",
    "ByteTensor",
    "CharTensor",
    "ShortTensor",
    "IntTensor",
    "LongTensor",
    "BoolTensor",
]


def _no_cuda():
    raise not_compiled_error("cuda")


# ---- what exists: answered ---------------------------------------------------------------------
def is_available() -> bool:
    """False: chainrule computes on the CPU."""
    return False


def is_initialized() -> bool:
    return False


def device_count() -> int:
    return 0


def get_arch_list() -> list[str]:
    return []


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False, as torch answers without CUDA (bfloat16 on the CPU is there: ``torch.bfloat16``)."""
    return False


def empty_cache() -> None:
    """Nothing is cached on a GPU: a no-op, as in torch without CUDA."""


def memory_allocated(device=None) -> int:
    return 0


def max_memory_allocated(device=None) -> int:
    return 0


def memory_reserved(device=None) -> int:
    return 0


def max_memory_reserved(device=None) -> int:
    return 0


memory_cached, max_memory_cached = memory_reserved, max_memory_reserved


def memory_stats(device=None) -> OrderedDict:
    return OrderedDict()


def manual_seed(seed: int) -> None:
    """Seed the CUDA generators: there are none, so nothing happens (as in torch without CUDA,
    which also accepts any int); ``torch.manual_seed`` seeds the CPU stream that chainrule uses."""
    int(seed)  # torch converts first: a non-number raises as there


def manual_seed_all(seed: int) -> None:
    """Seed every CUDA generator: there are none (see ``manual_seed``)."""
    int(seed)


def seed() -> None:
    """Seed the CUDA generator randomly: there is none."""


def seed_all() -> None:
    """Seed every CUDA generator randomly: there are none."""


def get_rng_state_all() -> list:
    return []


def set_rng_state_all(new_states) -> None:
    """Set the states of all CUDA generators: there are none, so nothing is set."""


# ---- what needs a GPU: torch's error -------------------------------------------------------------
def init() -> None:
    _no_cuda()


def current_device() -> int:
    _no_cuda()


def set_device(device) -> None:
    _no_cuda()


def get_device_name(device=None) -> str:
    _no_cuda()


def get_device_capability(device=None) -> tuple[int, int]:
    _no_cuda()


def get_device_properties(device=None):
    _no_cuda()


def synchronize(device=None) -> None:
    _no_cuda()


def ipc_collect() -> None:
    _no_cuda()


def mem_get_info(device=None) -> tuple[int, int]:
    _no_cuda()


def memory_summary(device=None, abbreviated: bool = False) -> str:
    _no_cuda()


def reset_peak_memory_stats(device=None) -> None:
    _no_cuda()


def reset_max_memory_allocated(device=None) -> None:
    _no_cuda()


def reset_max_memory_cached(device=None) -> None:
    _no_cuda()


def reset_accumulated_memory_stats(device=None) -> None:
    _no_cuda()


def set_per_process_memory_fraction(fraction: float, device=None) -> None:
    _no_cuda()


def initial_seed() -> int:
    _no_cuda()


def get_rng_state(device="cuda"):
    _no_cuda()


def set_rng_state(new_state, device="cuda") -> None:
    _no_cuda()


def current_stream(device=None):
    _no_cuda()


def default_stream(device=None):
    _no_cuda()


class Stream:
    """A CUDA stream: there are none (torch's RuntimeError without CUDA)."""

    def __init__(self, device=None, priority: int = 0, **kwargs) -> None:
        raise RuntimeError("torch.cuda.Stream requires CUDA support (chainrule computes on the CPU)")


class Event:
    """A CUDA event: there are none (torch's RuntimeError without CUDA)."""

    def __init__(self, enable_timing: bool = False, blocking: bool = False, interprocess: bool = False):
        raise RuntimeError(
            "Tried to instantiate dummy base class Event (torch.cuda.Event needs CUDA; time CPU code "
            "with time.perf_counter)"
        )


@contextlib.contextmanager
def stream(stream):
    """``with torch.cuda.stream(s):``: with ``None`` (the only stream there can be here) a no-op."""
    if stream is not None:
        _no_cuda()
    yield


class device:
    """``with torch.cuda.device(i):`` selects a GPU: with -1 or None, nothing (as torch); any other
    index raises on entry, as torch does without CUDA."""

    def __init__(self, device) -> None:
        self.idx = -1 if device is None else _index(device)

    def __enter__(self) -> None:
        if self.idx != -1:
            _no_cuda()

    def __exit__(self, *exc) -> None:
        pass


class device_of(device):
    """``with torch.cuda.device_of(t):``: the device of a tensor: the CPU, so nothing is selected."""

    def __init__(self, obj) -> None:
        self.idx = obj.get_device() if hasattr(obj, "get_device") else -1


def _index(d) -> int:
    if isinstance(d, int):
        return d
    d = _device(d)
    return -1 if d.type == "cpu" else (d.index or 0)


# ---- torch.cuda.FloatTensor and friends: names of CUDA tensor types ------------------------------
class _CudaTensorType(type):
    """torch.cuda's legacy tensor types: nothing is ever one (isinstance False); building one raises
    torch's TypeError."""

    dtype: _dtype.dtype

    def __instancecheck__(cls, obj) -> bool:
        return False

    def __call__(cls, *args, **kwargs):
        raise TypeError(
            f"type torch.cuda.{cls.__name__} not available. Torch not compiled with CUDA enabled. "
            f"(chainrule keeps tensors on the CPU: use torch.{cls.__name__})"
        )

    def __repr__(cls) -> str:
        return f"<class 'chainrule.cuda.{cls.__name__}'>"


def _cuda_type(name: str, dtype) -> _CudaTensorType:
    return _CudaTensorType(name, (), {"dtype": dtype, "is_cuda": True, "__module__": "chainrule.cuda"})


FloatTensor = _cuda_type("FloatTensor", _dtype.float32)
DoubleTensor = _cuda_type("DoubleTensor", _dtype.float64)
HalfTensor = _cuda_type("HalfTensor", _dtype.float16)
BFloat16Tensor = _cuda_type("BFloat16Tensor", _dtype.bfloat16)
ByteTensor = _cuda_type("ByteTensor", _dtype.uint8)
CharTensor = _cuda_type("CharTensor", _dtype.int8)
ShortTensor = _cuda_type("ShortTensor", _dtype.int16)
IntTensor = _cuda_type("IntTensor", _dtype.int32)
LongTensor = _cuda_type("LongTensor", _dtype.int64)
BoolTensor = _cuda_type("BoolTensor", _dtype.bool_)
