"""Products: matmul in all of torch's 1-D / 2-D / batched forms, and the ops built on it.

The lecture's Rule 2 in batch form: for Z = A W, dl/dA = dl/dZ W^T and dl/dW = A^T dl/dZ.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _autocast
from ..autograd.graph import defop
from ..autograd.graph import matrix as _matrix
from ._common import Tensor, as_tensor, make_result, shape_str
from .autocast_cast import autocast_operands as _autocast_operands
from .einsum import einsum
from .shape import unsqueeze


@defop(
    "matmul",
    formula=("{g0} = {gy} {x1}^T", "{g1} = {x0}^T {gy}"),
    local=(_matrix("{gy} @ {x1}^T"), _matrix("{x0}^T @ {gy}")),
    reads=((1,), (0,)),
)
def _matmul(F, g, xs, out, p, needs):
    a, b = xs
    matmul = F.matmul
    if not F.is_tensor and g.dtype.kind == "c":  # (one attribute read on the real path)
        matmul = _complex_matmul  # (tensors go through the op, whose forward does the same)
    if a.ndim == 2 and b.ndim == 2:  # the common case, no reshaping
        return (matmul(g, F.mT(b)) if needs[0] else None, matmul(F.mT(a), g) if needs[1] else None)
    if a.ndim > 2 and b.ndim == 2:  # a stack of rows times one matrix: one GEMM on the rows
        rows = _rows(a.shape)
        g_rows = F.reshape(g, (rows, b.shape[1]))
        ga = F.reshape(matmul(g_rows, F.mT(b)), tuple(a.shape)) if needs[0] else None
        gb = matmul(F.mT(F.reshape(a, (rows, b.shape[0]))), g_rows) if needs[1] else None
        return ga, gb
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
        ga = matmul(g2, F.mT(b2))
        ga = F.reshape(F.sum_to(ga, a2.shape), a.shape) if ga.shape != a2.shape or a.ndim == 1 else ga
    if needs[1]:
        gb = matmul(F.mT(a2), g2)
        gb = F.reshape(F.sum_to(gb, b2.shape), b.shape) if gb.shape != b2.shape or b.ndim == 1 else gb
    return ga, gb


def _rows(shape) -> int:
    """The rows of a ``(..., n, k)`` stack taken as one ``(rows, k)`` matrix."""
    return int(np.prod(shape[:-1], dtype=np.int64))


def _stacked_times_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for ``a`` of 3 or more dims and a 2-D ``b``, as one GEMM on ``a``'s rows: NumPy's
    stacked matmul runs one small product per matrix of the stack, and with a transposed ``b``
    (``x @ w.T``, a linear layer's) not through BLAS at all (a (16, 128, 192) @ (192, 768) product:
    43 ms against 22 ms here; a (35, 20, 256) @ (256, 10000) one 12-20x slower)."""
    return np.matmul(a.reshape(_rows(a.shape), a.shape[-1]), b).reshape(a.shape[:-1] + b.shape[1:])


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
            f"{who}: shapes {shape_str(a.shape)} and {shape_str(b.shape)} are not aligned: the "
            f"last dim of the first ({k_a}) must equal the "
            f"{'only' if b.ndim == 1 else 'second-to-last'} dim of the second ({k_b})"
        )
    return RuntimeError(
        f"{who}: the batch dims of shapes {shape_str(a.shape)} and {shape_str(b.shape)} do not broadcast"
    )


def _same_dtype(who: str, a: Tensor, b: Tensor) -> None:
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(
            f"{who}: expected both arguments to have the same dtype, but got {a.dtype} and "
            f"{b.dtype}; convert one first, e.g. b.to(a.dtype)"
        )


def _product(who: str, a: Tensor, b: Tensor) -> Tensor:
    """The matmul node, with errors that name the calling function (mm, bmm, mv, dot ...)."""
    _same_dtype(who, a, b)
    try:
        x, y = a._data, b._data
        if x.ndim > 2 and y.ndim == 2 and type(x) is np.ndarray and x.shape[-1] == y.shape[0]:
            out = _stacked_times_matrix(x, y)
        else:
            out = np.matmul(x, y)
    except ValueError:
        raise _matmul_error(who, a._data, b._data) from None
    if type(out) is not np.ndarray and isinstance(out, np.generic):  # (not vmap's batched array)
        out = np.asarray(out)
    if out.dtype.kind == "c" and type(out) is np.ndarray and not _all_finite(out):
        out = _complex_terms_where_not_finite(x, y, out)
    if out.dtype != a._data.dtype:  # bfloat16: ml_dtypes multiplies in float32; torch rounds back
        out = out.astype(a._data.dtype)
    # torch's node by the operands' dims: mm, mv, dot, bmm (matmul of other shapes is several
    # nodes in torch, one MatmulBackward0 here)
    na, nb = a._data.ndim, b._data.ndim
    if na == 2:
        op = _MM if nb == 2 else _MV if nb == 1 else _matmul
    else:
        op = _DOT if na == nb == 1 else _BMM if who == "bmm" else _matmul
    return make_result(out, op, (a, b))


def _complex_matmul(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``np.matmul`` for the backward of a complex product, its infinities summed term by term as
    in the forward (``_complex_terms_where_not_finite``)."""
    out = np.matmul(x, y)
    if type(out) is np.ndarray and not _all_finite(out):  # (not vmap's batched array)
        out = _complex_terms_where_not_finite(x, y, out)
    return out


def _all_finite(z: np.ndarray) -> bool:
    """Whether a complex array holds only finite entries, in one BLAS pass: the sum of ``|z|^2``
    (``np.vdot``) is finite unless an entry is not, or an entry's square overflows (``|z| >
    1.8e19`` in complex64), which only sends a finite product to the exact sums below. (On 9
    entries, 0.9 us of CPU time against 1.8 us for ``np.isfinite(z).all()``.)"""
    return math.isfinite(np.vdot(z, z).real)


def _complex_terms_where_not_finite(x: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The complex product ``out = x @ y`` (not all finite) with its non-finite entries taken
    again as the IEEE sums of their terms' real and imaginary parts, ``sum(xr yr) - sum(xi yi)``
    and ``sum(xr yi) + sum(xi yr)``: the same infinities and NaNs as summing each term ``(xr yr -
    xi yi) + (xr yi + xi yr) i`` (a sum is NaN exactly when it meets a NaN or both infinities, in
    any order).

    The complex BLAS kernels do not: OpenBLAS's cgemm turns one infinite part of a result into
    NaN + NaN i (as a final scaling by alpha = 1 + 0i would, inf * 0), and MKL's (torch's) does so
    or not by the matrices' sizes: with the one infinite entry inf + 0.5i in a and all other
    entries 0.5 + 0.25i, torch's (4, 4) @ (4, 4) gives inf + inf i (the sum of the terms) where
    its (3, 3) @ (3, 3) gives NaN + NaN i. Entries BLAS leaves finite met no infinity and stay as
    they are; only a result that is not finite pays for the four real products."""
    finite = np.isfinite(out)
    if finite.all():  # (an entry's square overflowed in _all_finite)
        return out
    xr, xi, yr, yi = np.real(x), np.imag(x), np.real(y), np.imag(y)
    exact = np.empty_like(out)
    exact.real = np.matmul(xr, yr) - np.matmul(xi, yi)
    exact.imag = np.matmul(xr, yi) + np.matmul(xi, yr)
    return np.where(finite, out, exact)


_MM = _matmul.shown_as("MmBackward0")
_MV = _matmul.shown_as("MvBackward0")
_DOT = _matmul.shown_as("DotBackward0")
_BMM = _matmul.shown_as("BmmBackward0")


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with torch's rules for 1-D, 2-D and batched operands.

    Parameters
    ----------
    input, other : tensors of the same dtype with at least one dim each. A 1-D first operand acts
        as a row vector and a 1-D second operand as a column vector (the added dim is removed
        from the result); dims before the last two are batch dims and broadcast.

    Returns
    -------
    Tensor: ``(..., n, k) @ (..., k, m) -> (..., n, m)``.
    """
    a, b = as_tensor(input, "matmul"), as_tensor(other, "matmul")
    if _autocast.cpu_enabled:
        a, b = _autocast_operands(a, b)
    return _product("matmul", a, b)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Product of two 2-D matrices ``(n, k) @ (k, m) -> (n, m)``."""
    input, mat2 = as_tensor(input, "mm"), as_tensor(mat2, "mm")
    if _autocast.cpu_enabled:
        input, mat2 = _autocast_operands(input, mat2)
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        raise RuntimeError(
            f"mm: both arguments must be 2-D matrices, got shapes {shape_str(input._data.shape)} "
            f"and {shape_str(mat2._data.shape)}; use matmul for batched or vector products"
        )
    return _product("mm", input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched product of two 3-D tensors ``(b, n, k) @ (b, k, m) -> (b, n, m)`` (no broadcast)."""
    input, mat2 = as_tensor(input, "bmm"), as_tensor(mat2, "bmm")
    if _autocast.cpu_enabled:
        input, mat2 = _autocast_operands(input, mat2)
    a, b = input._data, mat2._data
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(
            f"bmm: both arguments must be 3-D, got shapes {shape_str(a.shape)} and "
            f"{shape_str(b.shape)}; use matmul for broadcast batch dims"
        )
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(
            f"bmm: batch sizes differ: shapes {shape_str(a.shape)} and {shape_str(b.shape)} have "
            f"{a.shape[0]} and {b.shape[0]} matrices; bmm does not broadcast, use matmul"
        )
    return _product("bmm", input, mat2)


def dot(input: Tensor, other: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of the same length (a 0-d result)."""
    input, other = as_tensor(input, "dot"), as_tensor(other, "dot")
    a, b = input._data, other._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(
            f"dot: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors (shapes "
            f"{shape_str(a.shape)} and {shape_str(b.shape)}); use matmul or inner for more dims"
        )
    if a.shape != b.shape:
        raise RuntimeError(
            f"dot: inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
            f"[{b.shape[0]}] to have the same number of elements"
        )
    return _product("dot", input, other)


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """Inner product of two 1-D tensors, the first one conjugated (``dot`` for real tensors)."""
    from .complex_numbers import conj

    return dot(conj(as_tensor(input, "vdot")), other)


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dim: ``(*a, k), (*b, k) -> (*a, *b)``; 0-d operands scale."""
    input, other = as_tensor(input, "inner"), as_tensor(other, "inner")
    a, b = input._data, other._data
    if a.ndim == 0 or b.ndim == 0:
        return input * other
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(
            f"inner: the last dimension must match on both input tensors but got shapes "
            f"{shape_str(a.shape)} and {shape_str(b.shape)} (last dims {a.shape[-1]} and "
            f"{b.shape[-1]})"
        )
    if a.ndim == 1 and b.ndim == 1:
        return dot(input, other)

    letters = "abcdefghijklmnopqrstuvwxy"
    sa, sb = letters[: a.ndim - 1], letters[a.ndim - 1 : a.ndim + b.ndim - 2]
    return einsum(f"{sa}z,{sb}z->{sa}{sb}", input, other)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product ``(n, m) @ (m,) -> (n,)``."""
    input, vec = as_tensor(input, "mv"), as_tensor(vec, "mv")
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(
            f"mv: expected a 2-D matrix and a 1-D vector, got shapes "
            f"{shape_str(input._data.shape)} and {shape_str(vec._data.shape)}"
        )
    return _product("mv", input, vec)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two 1-D tensors: ``(n,) x (m,) -> (n, m)`` (dtypes promote)."""
    input, vec2 = as_tensor(input, "outer"), as_tensor(vec2, "outer")
    if input._data.ndim != 1 or vec2._data.ndim != 1:
        raise RuntimeError(
            f"outer: 1D tensors expected, got shapes {shape_str(input._data.shape)} and "
            f"{shape_str(vec2._data.shape)}"
        )
    return unsqueeze(input, 1) * unsqueeze(vec2, 0)


ger = outer
