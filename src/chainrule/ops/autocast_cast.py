"""The cast that the autocast-listed ops (matrix products, linear, convolutions) apply to their
operands inside ``chainrule.autocast("cpu")`` (see ``chainrule._autocast``)."""

from __future__ import annotations

from .. import _autocast, _dtype
from ._common import Tensor
from .creation import to

__all__: list = []

_CASTABLE = frozenset(d for d in (_dtype.float32, _dtype.float16, _dtype.bfloat16))


def _cast(t, dtype):
    """``t`` in ``dtype`` when it is a float tensor other than float64 (torch's rule), through a
    differentiable ``to``; a weight's cast (a leaf that requires grad) is cached for the region."""
    if type(t) is not Tensor or t.dtype not in _CASTABLE or t.dtype is dtype:
        return t
    if not (_autocast._cache_enabled[0] and t.is_leaf and t.requires_grad):
        return to(t, dtype)
    cached = _autocast.cast_cache.get(id(t))
    if cached is not None and cached[0] is t and cached[1].dtype is dtype:
        return cached[1]
    cast = to(t, dtype)
    _autocast.cast_cache[id(t)] = (t, cast)
    return cast


def autocast_operands(*tensors):
    """The operands cast to the CPU autocast dtype (None passes through)."""
    dtype = _autocast._state["dtype"]["cpu"]
    return tuple(None if t is None else _cast(t, dtype) for t in tensors)


def run_in_autocast_dtype(op, *tensors):
    """``op`` on the operands cast to the autocast dtype, for an op with no kernel in that dtype
    (the convolutions have none for float16 / bfloat16): it computes in float32 on the rounded
    operands and its result is rounded to the autocast dtype, as torch's accumulate-in-float32
    kernels do. Autocast is off while ``op`` runs, so it does not cast again."""
    cast = autocast_operands(*tensors)
    dtype = _autocast._state["dtype"]["cpu"]
    lowered = any(t is not None and type(t) is Tensor and t.dtype is dtype for t in cast)
    wide = tuple(to(t, _dtype.float32) if type(t) is Tensor and t.dtype is dtype else t for t in cast)
    _autocast.cpu_enabled = False
    try:
        out = op(*wide)
    finally:
        _autocast.cpu_enabled = True
    return to(out, dtype) if lowered and out.dtype is _dtype.float32 else out
