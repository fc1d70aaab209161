"""Making tensors: from data, filled, ranges, random; and dtype conversion (``to``, ``clone``)."""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from .._random import rng
from ..autograd.graph import defop
from ._common import Tensor, as_tensor, make_result, wrap


def _to_array(data, dtype=None, copy: bool = False) -> np.ndarray:
    """``data`` (Tensor, array, number, nested lists) as an array of a dtype torch would give it."""
    target = None if dtype is None else _dtype.to_numpy_dtype(dtype)
    if isinstance(data, Tensor):
        a = data._data
    elif isinstance(data, np.ndarray):
        a = data
        _dtype.from_numpy_dtype(a.dtype)  # raises for dtypes torch has no equivalent of
    else:
        if isinstance(data, list | tuple) and any(isinstance(d, Tensor) for d in data):
            data = [d.detach() if isinstance(d, Tensor) else d for d in data]
        try:
            a = np.asarray(data)
        except ValueError as e:
            raise ValueError(f"tensor: can't build a tensor from ragged nested sequences: {e}") \
                from None
        if a.dtype.kind == "f" and target is None and a.dtype != _dtype.get_default_dtype().np:
            if not _has_numpy_floats(data):
                target = _dtype.get_default_dtype().np
        elif a.dtype.kind in "iu" and target is None:
            target = np.dtype(np.int64)
        elif a.dtype.kind not in "biuf":
            raise TypeError(
                f"tensor: can't convert {type(data).__name__} of element type {a.dtype} to a "
                "tensor; only numbers and bools are supported"
            )
    if target is not None and a.dtype != target:
        return a.astype(target)
    return a.copy() if copy and (isinstance(data, Tensor | np.ndarray)) else a


def _has_numpy_floats(data) -> bool:
    return isinstance(data, np.floating) and data.dtype != np.float32


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (numbers, nested lists, arrays, tensors)."""
    t = wrap(_to_array(data, dtype, copy=True))
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a Tensor or NumPy array when no conversion is needed."""
    if isinstance(data, Tensor) and (dtype is None or data._data.dtype ==
                                     _dtype.to_numpy_dtype(dtype)):
        return data
    return wrap(_to_array(data, dtype, copy=False))


asarray = as_tensor


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (writes show in both)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    _dtype.from_numpy_dtype(array.dtype)
    return wrap(array)


@defop("to", saves_inputs=False, formula="dl/dx = dl/dy converted back to x's dtype")
def _to(F, g, xs, out, p, needs):
    return (g,)  # the engine casts the gradient back to the input's dtype


def to(input: Tensor, *args, **kwargs) -> Tensor:
    """Convert to a dtype (and/or a device, 'cpu' here); differentiable between float dtypes."""
    dtype = kwargs.get("dtype")
    device = kwargs.get("device")
    copy = kwargs.get("copy", False)
    for a in args:
        if isinstance(a, _dtype.dtype | np.dtype) or a in (float, int, bool):
            dtype = a
        elif isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, str) or hasattr(a, "type"):
            device = a
    if device is not None:
        from .._device import check_device

        check_device(device)
    x = input._data
    if dtype is None:
        return make_result(x.copy(), _clone, (input,)) if copy else input
    target = _dtype.to_numpy_dtype(dtype)
    if target == x.dtype and not copy:
        return input
    return make_result(x.astype(target), _to, (input,))


@defop("clone", saves_inputs=False, formula="dl/dx = dl/dy")
def _clone(F, g, xs, out, p, needs):
    return (g,)


def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy with its own memory; gradients flow back to ``input``."""
    input = as_tensor(input)
    return make_result(np.array(input._data, copy=True, order="C"), _clone, (input,))


def view_as_dtype(input: Tensor, dtype) -> Tensor:
    return wrap(input._data.view(_dtype.to_numpy_dtype(dtype)))


# ---- filled tensors ------------------------------------------------------------------------------
def _size(size) -> tuple:
    if len(size) == 1 and not isinstance(size[0], int | np.integer):
        size = size[0]
    try:
        shape = tuple(int(s) for s in size)
    except TypeError:
        raise TypeError(f"expected a sequence of integers for the size, got {size!r}") from None
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(shape)}")
    return shape


def _float_dtype(dtype) -> np.dtype:
    return _dtype.get_default_dtype().np if dtype is None else _dtype.to_numpy_dtype(dtype)


def _leaf(a: np.ndarray, requires_grad: bool) -> Tensor:
    t = wrap(a)
    if requires_grad:
        t.requires_grad_(True)
    return t


def zeros(*size, dtype=None, device=None, requires_grad: bool = False, out=None) -> Tensor:
    """A tensor of zeros of the given size (default dtype float32)."""
    return _leaf(np.zeros(_size(size), _float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False, out=None) -> Tensor:
    """A tensor of ones of the given size."""
    return _leaf(np.ones(_size(size), _float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False, **kwargs) -> Tensor:
    """An uninitialised tensor (zeros here, which is a valid uninitialised value)."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; its dtype follows the value when not given."""
    if dtype is None:
        dtype = _dtype.result_type(fill_value)
    return _leaf(np.full(_size((size,)), fill_value, _dtype.to_numpy_dtype(dtype)), requires_grad)


def _like(input: Tensor, dtype) -> np.dtype:
    return input._data.dtype if dtype is None else _dtype.to_numpy_dtype(dtype)


def zeros_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    input = as_tensor(input)
    return _leaf(np.zeros(input._data.shape, _like(input, dtype)), requires_grad)


def ones_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False,
              memory_format=None) -> Tensor:
    input = as_tensor(input)
    return _leaf(np.ones(input._data.shape, _like(input, dtype)), requires_grad)


def empty_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    return zeros_like(input, dtype=dtype, requires_grad=requires_grad)


def full_like(input: Tensor, fill_value, *, dtype=None, device=None,
              requires_grad: bool = False, memory_format=None) -> Tensor:
    input = as_tensor(input)
    return _leaf(np.full(input._data.shape, fill_value, _like(input, dtype)), requires_grad)


# ---- ranges ----------------------------------------------------------------------------------------
def arange(start, end=None, step=1, *, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for integer arguments."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"arange: upper bound and larger bound inconsistent with step sign "
            f"(start={start}, end={end}, step={step})"
        )
    if dtype is None:
        dtype = _dtype.result_type(start, end, step)
    np_dtype = _dtype.to_numpy_dtype(dtype)
    n = math.ceil((end - start) / step)
    values = start + step * np.arange(n, dtype=np.float64 if np_dtype.kind == "f" else np.int64)
    return _leaf(values.astype(np_dtype), requires_grad)


def linspace(start, end, steps: int, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if steps < 0:
        raise RuntimeError("linspace: number of steps must be non-negative")
    return _leaf(np.linspace(start, end, steps).astype(_float_dtype(dtype)), requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None,
             requires_grad: bool = False) -> Tensor:
    return _leaf(np.logspace(start, end, steps, base=base).astype(_float_dtype(dtype)),
                 requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, device=None,
        requires_grad: bool = False) -> Tensor:
    """The identity matrix (n x m)."""
    return _leaf(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


# ---- random ------------------------------------------------------------------------------------------
def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1)."""
    dt = _float_dtype(dtype)
    return _leaf(rng(generator).random(_size(size), dtype=np.float64).astype(dt), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    dt = _float_dtype(dtype)
    return _leaf(rng(generator).standard_normal(_size(size)).astype(dt), requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """Integers uniformly drawn from [low, high); ``randint(high, size)`` works too."""
    if size is None:
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    np_dtype = np.dtype(np.int64) if dtype is None else _dtype.to_numpy_dtype(dtype)
    return _leaf(rng(generator).integers(low, high, _size((size,))).astype(np_dtype),
                 requires_grad)


def randperm(n: int, *, generator=None, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    np_dtype = np.dtype(np.int64) if dtype is None else _dtype.to_numpy_dtype(dtype)
    return wrap(rng(generator).permutation(n).astype(np_dtype))


def rand_like(input: Tensor, *, dtype=None, generator=None, requires_grad: bool = False) -> Tensor:
    return rand(input.shape, dtype=dtype or input.dtype, generator=generator,
                requires_grad=requires_grad)


def randn_like(input: Tensor, *, dtype=None, generator=None, requires_grad: bool = False) -> Tensor:
    return randn(input.shape, dtype=dtype or input.dtype, generator=generator,
                 requires_grad=requires_grad)


def randint_like(input: Tensor, low, high=None, *, dtype=None, generator=None) -> Tensor:
    return randint(low, high, input.shape, dtype=dtype or input.dtype, generator=generator)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None,
           requires_grad: bool = False) -> Tensor:
    """Normal samples; ``mean`` and ``std`` may be tensors (broadcast) or numbers with ``size``."""
    g = rng(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = as_tensor(mean)._data
        s = as_tensor(std)._data
        dt = np.result_type(m.dtype if isinstance(mean, Tensor) else s.dtype)
        shape = np.broadcast_shapes(m.shape, s.shape)
        return wrap((m + s * g.standard_normal(shape)).astype(dt))
    if size is None:
        raise TypeError("normal: give size= when mean and std are numbers")
    dt = _float_dtype(dtype)
    return _leaf((mean + std * g.standard_normal(_size((size,)))).astype(dt), requires_grad)


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:
    """1 with probability ``input`` (or ``p``), else 0."""
    input = as_tensor(input)
    prob = input._data if p is None else p
    return wrap((rng(generator).random(input._data.shape) < prob).astype(input._data.dtype))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator=None) -> Tensor:
    """Draw category indices with the given (unnormalised) weights, per row."""
    w = as_tensor(input)._data.astype(np.float64)
    rows = w.reshape(-1, w.shape[-1])
    g = rng(generator)
    out = np.stack([g.choice(r.size, num_samples, replace=replacement, p=r / r.sum())
                    for r in rows])
    return wrap(out.reshape(w.shape[:-1] + (num_samples,)).astype(np.int64))
