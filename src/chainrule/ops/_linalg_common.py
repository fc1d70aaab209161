"""Argument checks shared by the linalg modules (linalg_solve, linalg_cholesky, linalg_det,
linalg_lstsq, linalg_matfun, linalg_decomp, linalg_qr, linalg_norms), with torch's messages; each
message starts with the name of the function that was called (``who``).
"""

from __future__ import annotations

import numpy as np

from .._tensor import _TYPE_NAMES
from ._common import Tensor, as_tensor, shape_str

#: torch's short dtype names, as its error messages print them
TORCH_NAMES = _TYPE_NAMES


def type_name(a: np.ndarray) -> str:
    """torch's name of a dtype in error messages (Float, Double, Long ...)."""
    return TORCH_NAMES.get(a.dtype.name, a.dtype.name)


def check_out(who: str, out, returned: str = "tensor") -> None:
    """The TypeError for an ``out=`` argument, which chainrule does not support."""
    if out is not None:
        raise TypeError(f"{who}: out= is not supported; use the returned {returned}")


def check_square(who: str, a: np.ndarray, name: str = "A") -> None:
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(
            f"{who}: {name} must be batches of square matrices, but they are {a.shape[-2]} by "
            f"{a.shape[-1]} matrices (shape {shape_str(a.shape)})"
        )


def check_matrices(
    who: str,
    a: np.ndarray,
    name: str = "A",
    *,
    square: bool = True,
    kernel: str | None = None,
    any_dtype_kernel: bool = False,
) -> None:
    """torch.linalg's errors for an argument that is not a (batch of) float32/float64 matrices.

    Checked in torch's order: at least 2 dims, then (``square``) square matrices, then the dtype.
    A non-float dtype is a RuntimeError. float16 (and, with ``any_dtype_kernel``, as for eigh,
    integers and bools too) is a NotImplementedError naming ``kernel``, torch's CPU kernel, when
    one is given, and a RuntimeError ("Low precision dtypes not supported") otherwise.
    """
    if a.ndim < 2:
        hint = (
            "a single matrix has shape (n, n)"
            if square
            else "for a single vector use a (1, n) or (n, 1) matrix"
        )
        raise RuntimeError(
            f"{who}: The input tensor {name} must have at least 2 dimensions, got shape "
            f"{shape_str(a.shape)}; {hint}"
        )
    if square:
        check_square(who, a, name)
    dt = type_name(a)
    if a.dtype.kind != "f" and not (any_dtype_kernel and kernel):
        raise RuntimeError(
            f"{who}: Expected a floating point or complex tensor as input. Got {dt}; convert "
            f"first, e.g. {name}.double()"
        )
    if a.dtype.kind != "f" or a.dtype.itemsize < 4:
        if kernel:
            raise NotImplementedError(
                f"{who}: \"{kernel}\" not implemented for '{dt}'; convert first, e.g. {name}.float()"
            )
        raise RuntimeError(
            f"{who}: Low precision dtypes not supported. Got {dt}; convert first, e.g. {name}.float()"
        )


def matrix_input(
    who: str,
    A,
    kernel: str | None = None,
    *,
    square: bool = False,
    any_dtype_kernel: bool = False,
    name: str = "A",
) -> tuple[Tensor, np.ndarray]:
    """``A`` as a tensor and its array, checked by :func:`check_matrices` (any shape of matrix
    unless ``square``)."""
    A = as_tensor(A, who)
    a = A._data
    check_matrices(who, a, name, square=square, kernel=kernel, any_dtype_kernel=any_dtype_kernel)
    return A, a


def check_same_dtype(who: str, a: np.ndarray, b: np.ndarray, names=("A", "B")) -> None:
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"{who}: Expected {names[0]} and {names[1]} to have the same dtype, but found "
            f"{names[0]} of type {type_name(a)} and {names[1]} of type {type_name(b)} instead; "
            f"convert one first, e.g. {names[1]}.to({names[0]}.dtype)"
        )


def batch_of(who: str, a: np.ndarray, b: np.ndarray) -> tuple:
    """The broadcast batch shape of two stacks of matrices (torch's error when they clash)."""
    try:
        return np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(
            f"{who}: the batch dims of shapes {shape_str(a.shape)} and {shape_str(b.shape)} do "
            "not broadcast (dims before the last two must be equal or 1)"
        ) from None


def column_major(a):
    """A copy of ``a`` whose matrices are column-major (LAPACK's layout): torch's factors have
    those strides (``(1, m)`` for an (m, n) matrix, ``(m n, 1, m)`` batched), so that ``.view``
    of one raises and ``.mT.view`` does not, as in torch. Arrays of vmap pass as a plain copy."""
    if type(a) is not np.ndarray or a.ndim < 2:
        return a.copy()
    return np.swapaxes(np.swapaxes(a, -1, -2).copy(), -1, -2)


def empty_columns(shape: tuple, dtype) -> np.ndarray:
    """An uninitialised array of ``shape`` whose matrices are column-major (torch's layout of a
    LAPACK result), for solvers that write their results into it: no copy afterwards."""
    shape = tuple(shape)
    if len(shape) < 2:
        return np.empty(shape, dtype=dtype)
    return np.swapaxes(np.empty(shape[:-2] + (shape[-1], shape[-2]), dtype=dtype), -1, -2)


def to_columns(t):
    """``t`` (a result that owns its memory: nothing else views it) with its matrices made
    column-major, torch's strides for a LAPACK-backed result; a 0-d or 1-d ``t`` is left as is."""
    if t._data.ndim >= 2 and type(t._data) is np.ndarray:
        t._data = column_major(t._data)
    return t
