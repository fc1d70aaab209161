"""Ranges: ``arange``, ``linspace``, ``logspace``, ``eye``, value for value as torch's CPU kernels.

torch computes ranges in an accumulation dtype with fused multiply-adds, and ``arange`` in 256-bit
vector blocks; the functions here reproduce that arithmetic, so that ``arange(0, 1, 0.1)`` has the
same length and the same float32 roundings as torch's.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _dtype
from .._device import check_device as _check_device
from .._fpe import user_stacklevel as _user_stacklevel
from .._tensor import wrap
from ._common import Tensor
from .creation import _float_dtype, _leaf

__all__ = ["arange", "linspace", "logspace", "eye", "range", "scalar_tensor"]


def _fma(a, b, c) -> np.ndarray:
    """``a * b + c`` with one rounding (as torch's compiled kernels compute it), in float64:
    the product is split exactly (Dekker), then added with its error term."""
    a, b, c = (np.asarray(v, dtype=np.float64) for v in (a, b, c))
    p = a * b
    ta, tb = a * 134217729.0, b * 134217729.0  # 2**27 + 1: split into 26-bit halves
    ah, bh = ta - (ta - a), tb - (tb - b)
    al, bl = a - ah, b - bh
    err = ((ah * bh - p) + ah * bl + al * bh) + al * bl  # a * b == p + err exactly
    s = p + c
    v = s - p
    t = (p - (s - v)) + (c - v)  # p + c == s + t exactly
    with np.errstate(invalid="ignore"):
        out = s + (t + err)
    return np.where(np.isfinite(out), out, p + c)


def _number(x, who: str):
    if isinstance(x, Tensor):
        return x.item()
    if not isinstance(x, int | float | np.number):
        raise TypeError(f"{who}: expected a number, got {type(x).__name__}")
    return x


def _arange_values(start: float, step: float, n: int, np_dtype: np.dtype) -> np.ndarray:
    """torch's CPU kernel, value for value. It accumulates in float64 (float32 for float16);
    the first ``n // (2 w) * 2 w`` values come in 256-bit vectors of ``w`` (4 doubles, 8 floats,
    16 halves), each ``base + step * k`` from a base ``start + step * i`` rounded to the dtype;
    the rest are ``start + step * i``. Every ``a * b + c`` is a fused multiply-add."""
    acc = np.float32 if np_dtype == np.float16 else np.float64
    start, step = float(acc(start)), float(acc(step))
    width = 32 // np_dtype.itemsize
    idx = np.arange(n)
    k = idx % width
    base = _fma(step, idx - k, start).astype(acc).astype(np_dtype).astype(np.float64)
    vector = _fma(k, step, base).astype(acc)
    scalar = _fma(step, idx, start).astype(acc)
    return np.where(idx < n // (2 * width) * (2 * width), vector, scalar).astype(np_dtype)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``.

    Parameters
    ----------
    start, end, step : numbers (or one-element tensors); ``arange(n)`` is ``arange(0, n)``.
    dtype : default int64 when all three are integers, else the default float dtype.

    Returns
    -------
    1-D tensor of ``ceil((end - start) / step)`` values, computed as torch's CPU kernel does, so
    ``arange(0, 1, 0.1)`` has 10 elements and the same float32 roundings as torch.
    """
    if device is not None:
        _check_device(device)
    if end is None:
        start, end = 0, start
    start, end, step = (_number(v, "arange") for v in (start, end, step))
    if dtype is None:
        dtype = _dtype.result_type(start, end, step)
    np_dtype = _dtype.to_numpy_dtype(dtype)
    if np_dtype.kind == "b":
        raise NotImplementedError(
            "arange: not implemented for dtype bool; build an integer "
            "range and compare it, e.g. arange(n) > 0"
        )
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"arange: unsupported range: {start} -> {end}")
    if np_dtype == np.int64:  # torch computes this one in int64: the arguments are truncated
        start, end, step = int(start), int(end), int(step)
        if step == 0:
            raise ValueError(
                "arange: step must be nonzero: it truncates to 0 for dtype int64; "
                "use a float dtype or an integer step"
            )
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"arange: upper bound and lower bound inconsistent with step sign (start={start}, "
            f"end={end}, step={step}); use a {'negative' if end < start else 'positive'} step"
        )
    if np_dtype == np.int64:
        sign = (step > 0) - (step < 0)
        n = (end - start + step - sign) // step  # exact integer arithmetic, as torch
        return _leaf(start + step * np.arange(n, dtype=np.int64), requires_grad)
    n = math.ceil((float(end) - float(start)) / float(step))
    if np_dtype.kind in "iu":  # torch: int64 arithmetic on the truncated start and step
        values = int(start) + int(step) * np.arange(n, dtype=np.int64)
        return _leaf(values.astype(np_dtype), requires_grad)
    return _leaf(_arange_values(float(start), float(step), n, np_dtype), requires_grad)


def linspace(start, end, steps: int, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive.

    Computed as torch does: ``step = (end - start) / (steps - 1)`` in the target dtype, the first
    half as ``start + step * i``, the second half as ``end - step * (steps - 1 - i)`` (so both ends
    are exact); integer dtypes truncate toward zero.
    """
    if device is not None:
        _check_device(device)
    start, end = _number(start, "linspace"), _number(end, "linspace")
    if not isinstance(steps, int | np.integer) or isinstance(steps, bool):
        raise TypeError(f"linspace: steps must be an int, got {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    np_dtype = _float_dtype(dtype)
    i = np.arange(steps)
    if steps <= 1:
        return _leaf(np.full(steps, start).astype(np_dtype), requires_grad)
    if np_dtype == np.float16:  # half arithmetic, rounded after every operation, no fma
        s, e = np.float16(start), np.float16(end)
        step = (e - s) / np.float16(steps - 1)
        lo = s + step * i.astype(np.float16)
        hi = e - step * (steps - 1 - i).astype(np.float16)
        return _leaf(np.where(i < steps // 2, lo, hi), requires_grad)
    if np_dtype.kind == "f":
        s, e = np_dtype.type(start), np_dtype.type(end)
        step = (e - s) / np_dtype.type(steps - 1)
    else:  # integers: truncated ends, a float64 step
        s, e = float(int(start)), float(int(end))
        step = (e - s) / (steps - 1)
    values = np.where(i < steps // 2, _fma(step, i, s), _fma(-step, steps - 1 - i, e))
    return _leaf(
        np.trunc(values).astype(np_dtype) if np_dtype.kind in "iub" else values.astype(np_dtype),
        requires_grad,
    )


def logspace(
    start, end, steps: int, base: float = 10.0, *, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    if device is not None:
        _check_device(device)
    return _leaf(np.logspace(start, end, steps, base=base).astype(_float_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """The ``n x m`` identity matrix (``m`` defaults to ``n``)."""
    if device is not None:
        _check_device(device)
    for name, v in (("n", n), ("m", m)):
        if v is not None and v < 0:
            raise RuntimeError(f"eye: {name} must be greater or equal to 0, got {v}")
    return _leaf(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


# torch's name: this module shadows the builtin from here on (it uses np.arange, never range)
def range(start, end, step=1, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:  # noqa: A001
    """Deprecated in torch: ``floor((end - start) / step) + 1`` values from ``start`` to ``end``
    *inclusive*, in the default float dtype. Use ``arange`` (end exclusive)."""
    if device is not None:
        _check_device(device)
    warnings.warn(
        "torch.range is deprecated and will be removed in a future release because its behavior is "
        "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
        "[start, end).",
        UserWarning,
        stacklevel=_user_stacklevel(),
    )
    start, end, step = (_number(v, "range") for v in (start, end, step))
    if step == 0:
        raise RuntimeError("range: step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError(
            f"range: upper bound and larger bound inconsistent with step sign ({start}, {end}, {step})"
        )
    count = int(math.floor((end - start) / step)) + 1
    np_dtype = _dtype.to_numpy_dtype(dtype if dtype is not None else _dtype.get_default_dtype())
    values = start + step * np.arange(count, dtype=np.float64)  # torch accumulates in double
    out = wrap(values.astype(np_dtype))
    return out.requires_grad_(True) if requires_grad else out


def scalar_tensor(s, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding the number ``s``, in the default float dtype unless ``dtype`` is given."""
    if device is not None:
        _check_device(device)
    np_dtype = _dtype.to_numpy_dtype(dtype if dtype is not None else _dtype.get_default_dtype())
    out = wrap(np.asarray(s, dtype=np_dtype))
    return out.requires_grad_(True) if requires_grad else out
