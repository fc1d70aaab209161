"""Products: matmul in all of torch's 1-D / 2-D / batched forms, and the ops built on it.

The lecture's Rule 2 in batch form: for Z = A W, dl/dA = dl/dZ W^T and dl/dW = A^T dl/dZ.
"""

from __future__ import annotations

import numpy as np

from ..autograd.graph import defop
from ._common import Tensor, as_tensor, make_result, operands, shape_str


@defop("matmul", formula="dl/dA = dl/dZ W^T,  dl/dW = A^T dl/dZ")
def _matmul(F, g, xs, out, p, needs):
    a, b = xs
    if a.ndim == 2 and b.ndim == 2:  # the common case, no reshaping
        return (F.matmul(g, F.mT(b)) if needs[0] else None,
                F.matmul(F.mT(a), g) if needs[1] else None)
    # 1-D operands act as a row (left) or a column (right) vector: make them 2-D, then undo it
    a2 = F.expand_dims(a, 0) if a.ndim == 1 else a
    b2 = F.expand_dims(b, 1) if b.ndim == 1 else b
    g2 = g
    if a.ndim == 1:
        g2 = F.expand_dims(g2, -1 if b.ndim == 1 else g2.ndim - 1)
    if b.ndim == 1:
        g2 = F.expand_dims(g2, -1)
    ga = gb = None
    if needs[0]:
        ga = F.matmul(g2, F.mT(b2))
        ga = F.reshape(F.sum_to(ga, a2.shape), a.shape) if ga.shape != a2.shape or a.ndim == 1 \
            else ga
    if needs[1]:
        gb = F.matmul(F.mT(a2), g2)
        gb = F.reshape(F.sum_to(gb, b2.shape), b.shape) if gb.shape != b2.shape or b.ndim == 1 \
            else gb
    return ga, gb


def _matmul_error(who: str, a: np.ndarray, b: np.ndarray) -> RuntimeError:
    if a.ndim == 0 or b.ndim == 0:
        return RuntimeError(
            f"{who}: both arguments need at least 1 dimension, got shapes {shape_str(a.shape)} and "
            f"{shape_str(b.shape)}; use * for a product with a scalar"
        )
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        return RuntimeError(
            f"{who}: shapes {shape_str(a.shape)} and {shape_str(b.shape)} are not aligned: the last "
            f"dim of the first ({k_a}) must equal the "
            f"{'only' if b.ndim == 1 else 'second-to-last'} dim of the second ({k_b})"
        )
    return RuntimeError(
        f"{who}: the batch dims of shapes {shape_str(a.shape)} and {shape_str(b.shape)} do not "
        "broadcast"
    )


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with torch's rules for 1-D (vector), 2-D and batched (broadcast) operands."""
    a, b = operands(input, other)
    try:
        out = np.matmul(a._data, b._data)
    except ValueError:
        raise _matmul_error("matmul", a._data, b._data) from None
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    return make_result(out, _matmul, (a, b))


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Product of two 2-D matrices."""
    input, mat2 = as_tensor(input, "mm"), as_tensor(mat2, "mm")
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        raise RuntimeError(
            f"mm: both arguments must be 2-D matrices, got shapes {shape_str(input._data.shape)} "
            f"and {shape_str(mat2._data.shape)}; use matmul for batched or vector products"
        )
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched product of two 3-D tensors (b, n, m) @ (b, m, p)."""
    input, mat2 = as_tensor(input, "bmm"), as_tensor(mat2, "bmm")
    a, b = input._data, mat2._data
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(
            f"bmm: both arguments must be 3-D, got shapes {shape_str(a.shape)} and "
            f"{shape_str(b.shape)}"
        )
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(
            f"bmm: batch sizes differ: {shape_str(a.shape)} and {shape_str(b.shape)}"
        )
    return matmul(input, mat2)


def dot(input: Tensor, other: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of the same length."""
    input, other = as_tensor(input, "dot"), as_tensor(other, "dot")
    a, b = input._data, other._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(
            f"dot: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors"
        )
    if a.shape != b.shape:
        raise RuntimeError(
            f"dot: inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
            f"[{b.shape[0]}] to have the same number of elements"
        )
    return matmul(input, other)


inner = dot


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product."""
    return matmul(input, vec)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two 1-D tensors: (n,) x (m,) -> (n, m)."""
    from .shape import unsqueeze

    input, vec2 = as_tensor(input, "outer"), as_tensor(vec2, "outer")
    if input._data.ndim != 1 or vec2._data.ndim != 1:
        raise RuntimeError(
            f"outer: 1D tensors expected, got shapes {shape_str(input._data.shape)} and "
            f"{shape_str(vec2._data.shape)}"
        )
    return unsqueeze(input, 1) * unsqueeze(vec2, 0)


ger = outer
