"""Vector norms: ``torch.norm`` (and the vector-norm core that ``linalg.vector_norm`` can share).

The derivative follows torch's ``norm_backward`` case by case (p = 0, 1, 2, inf, p < 1, p < 2,
p > 2), including its zero-norm handling: the gradient of a norm at the zero vector is 0, not nan.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from ..autograd.graph import defop
from ..autograd.math import register
from ._common import Tensor, as_array, as_tensor, make_result
from .creation import to
from .reduce import keep_dims, reduce_axes

__all__: list = []  # vector_norm is torch.linalg's: not re-exported at the top level (norm: torch_norm)

_SCALAR_NAMES = {
    "int64": "Long",
    "int32": "Int",
    "int16": "Short",
    "int8": "Char",
    "uint8": "Byte",
    "bool": "Bool",
}  # torch's names in this error


@defop(
    "norm",
    saves_out=True,
    formula="{g0} = {gy} * sign({x0}) |{x0}|^(p-1) / {y}^(p-1)  (p=2: {x0} / {y}; 0 where {y} = 0)",
)
def _norm(F, g, xs, out, p, needs):
    ord, axes, keepdim, kernel_sign = p
    x = xs[0]
    g = keep_dims(F, g, axes, keepdim, x.ndim)
    y = keep_dims(F, out, axes, keepdim, x.ndim)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if ord == 0:
            return (None,)
        sign = F.sign(x) if not kernel_sign else F.where(F.isnan(x), x, F.sign(x))
        if ord == 1:
            return (sign * g,)
        if ord == 2:
            return (g * F.where(y == 0, 0.0, x / y),)
        if math.isinf(ord):
            ax = F.abs(x)
            hit = (ax == y) | F.isnan(ax)
            return (sign * ((g / F.sum(hit, axes, True)) * hit),)
        if ord < 1:
            scaled = sign * F.where(x == 0, 0.0, F.abs(x) ** (ord - 1))
            return (scaled * g * y ** (1 - ord),)
        scaled = sign * F.abs(x) ** (ord - 1) if ord < 2 else x * F.abs(x) ** (ord - 2)
        return (scaled * F.where(y == 0, 0.0, g / y ** (ord - 1)),)


def _forward(x: np.ndarray, ord: float, axes, keepdim: bool) -> np.ndarray:
    if ord == 2:
        return np.sqrt(np.sum(x * x, axis=axes, keepdims=keepdim))
    ax = np.abs(x)
    if ord == 1:
        return np.sum(ax, axis=axes, keepdims=keepdim)
    if ord == 0:
        return np.sum(x != 0, axis=axes, keepdims=keepdim).astype(x.dtype)
    if math.isinf(ord):
        return (np.max if ord > 0 else np.min)(ax, axis=axes, keepdims=keepdim)
    with np.errstate(divide="ignore", over="ignore"):
        return np.sum(ax**ord, axis=axes, keepdims=keepdim) ** (1.0 / ord)


def _check_identity(shape: tuple, ord: float, axes: tuple | None) -> None:
    """Refuse a norm with no identity (max, min or a harmonic-like sum: ord < 0 or inf) over an
    empty set, as torch does: over all dims when the tensor is empty, else over a reduced dim of
    size 0. An empty tensor reduced over non-empty dims gives an empty result, no error."""
    what = f"linalg.vector_norm cannot compute the {_ord_text(ord)} norm"
    if axes is None and 0 in shape:
        raise RuntimeError(
            f"{what} on an empty tensor (shape {list(shape)}) because the operation does not have "
            "an identity; reduce over non-empty dims or use an ord >= 0 other than inf"
        )
    for d in axes or ():
        if shape[d] == 0:
            raise RuntimeError(
                f"{what} on the dimension {d} because this dimension is empty (shape {list(shape)}) "
                "and the operation does not have an identity"
            )


def _ord_text(ord: float) -> str:
    """``ord`` as torch writes it in messages: ``inf``, ``-inf``, ``-1``, ``-0.5``."""
    return str(int(ord)) if ord.is_integer() else str(ord)


def _all_size_one(shape: tuple, axes: tuple) -> bool:
    """Whether every reduced dim has size 1 (one dim, the common case, without a generator)."""
    if len(axes) == 1:
        return shape[axes[0]] == 1
    return all(shape[i] == 1 for i in axes)


def _over_single_elements(a: np.ndarray, ord: float, axes, keepdim: bool) -> np.ndarray:
    """The norm over dims of size 1: ``|a|`` (``a != 0`` for ``ord=0``), as torch's shortcut, so no
    square or power overflows (1e38) or underflows (a subnormal) where each norm is one element."""
    out = np.abs(a) if ord else (a != 0).astype(a.dtype)
    if keepdim:
        return out
    return np.squeeze(out, axis=axes if axes is None else tuple(axes))


def norm_keepdim(a: np.ndarray, ord: float, axes) -> np.ndarray:
    """The array of ``vector_norm(a, ord, axes, keepdim=True)``: ``|a|`` over dims of size 1 (torch's
    shortcut), float16/bfloat16 accumulated in float32 (in the result too)."""
    if a.size == 1 or (a.size and _all_size_one(a.shape, axes)):
        return _over_single_elements(a, ord, axes, True)
    wide = a.astype(np.float32) if a.dtype in _dtype.HALF else a
    return as_array(_forward(wide, ord, axes, True), wide.dtype)


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The vector norm ``(sum |x|^ord)^(1/ord)`` (``torch.linalg.vector_norm``).

    Parameters
    ----------
    x : Tensor
        Float tensor (an integer or bool one needs a float ``dtype``).
    ord : int or float, default 2
        The order: any number, including 0 (the count of non-zero elements), inf (``max |x|``) and
        -inf (``min |x|``).
    dim : int, tuple of int or None, default None
        The dims to reduce; None reduces all of them (x is treated as one flat vector).
    keepdim : bool, default False
        Keep the reduced dims with size 1.
    dtype : dtype or None, default None
        Convert x to this dtype before computing.

    Returns
    -------
    Tensor
        The norm, of x's (or ``dtype``'s) dtype, with the reduced dims removed (size 1 with
        ``keepdim``).

    Notes
    -----
    The gradient follows torch's ``norm_backward``: 0 (not nan) at the zero vector, 0 for
    ``ord=0``, and for ``ord=inf``/``-inf`` shared equally among the elements that attain the
    max/min. The norms with no identity (``ord < 0`` and ``inf``) raise over an empty set (an empty
    tensor with ``dim=None``, or a reduced dim of size 0), as in torch. ``out=`` is not
    accepted.
    """
    x = as_tensor(x, "vector_norm")
    if x._data.dtype.kind == "c":  # the norm of the magnitudes (abs carries the complex gradient)
        from .unary import abs as magnitude

        real_dtype = None if dtype is None else _dtype.to_numpy_dtype(dtype)
        if real_dtype is not None and real_dtype.kind == "c":
            real_dtype = _dtype.from_numpy_dtype(real_dtype).to_real()
        return vector_norm(magnitude(x), ord, dim, keepdim, dtype=real_dtype)
    if _dtype.KIND.get(x._data.dtype) != 2:  # checked before any dtype= cast, as torch does
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
            f"{_SCALAR_NAMES.get(x._data.dtype.name, x._data.dtype.name)}; convert first, e.g. x.float()"
        )
    if dtype is not None:
        x = to(x, dtype)
    a = x._data
    ord = float(ord)
    axes = reduce_axes(dim, a.ndim, "vector_norm")
    if ord < 0 or ord == math.inf:
        _check_identity(a.shape, ord, axes)
    if a.size == 1 or (a.size and axes is not None and _all_size_one(a.shape, axes)):
        out = as_array(_over_single_elements(a, ord, axes, keepdim), a.dtype)
    else:
        wide = a.astype(np.float32) if a.dtype in _dtype.HALF else a  # (torch accumulates in float32)
        out = as_array(_forward(wide, ord, axes, keepdim), a.dtype)
    return make_result(out, _norm, (x,), (ord, axes, keepdim, False))


def distance_norm(diff: Tensor, ord: float, dim: int) -> Tensor:
    """The ``ord``-norm of ``diff`` over ``dim`` as torch's cdist and pdist kernels compute it: no
    shortcut over a dim of size 1, and a derivative whose sign is NaN at a NaN (the kernels build it
    from ceil/floor and min/max, which carry the NaN; ``vector_norm``'s is 0 there)."""
    a = diff._data
    ord = float(ord)
    axes = reduce_axes(dim, a.ndim, "cdist")
    if ord < 0 or ord == math.inf:
        _check_identity(a.shape, ord, axes)
    wide = a.astype(np.float32) if a.dtype in _dtype.HALF else a
    out = as_array(_forward(wide, ord, axes, False), a.dtype)
    return make_result(out, _norm, (diff,), (ord, axes, False, True))


register(
    "norm_keepdim",
    norm_keepdim,
    lambda t, ord, axes: vector_norm(t, ord, axes, True),
)
