"""Matrix norms and the quantities built on singular values: ``linalg.matrix_norm``,
``linalg.norm``, ``linalg.cond``, ``linalg.matrix_rank``, ``linalg.diagonal``, ``nuclear_norm``.

Composites of differentiable ops, as in torch's implementation, so the derivative (and its ties
convention) comes from those ops and no new rule is needed: 'fro' is a vector 2-norm, 1/inf a
max/min (``amax``/``amin``) of column/row sums of ``|A|``, 2/-2/'nuc' the max/min/sum of
``svdvals``.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from ..autograd.grad_mode import no_grad
from ._common import Tensor, any_batched, as_array, as_tensor, map_stacked, normalize_dim, wrap
from ._linalg_common import TORCH_NAMES, check_out, matrix_input
from .creation import to
from .gather import select
from .linalg_decomp import _lapack, svdvals
from .reduce import sum as _sum
from .reduce_minmax import amax, amin
from .reduce_norm import vector_norm
from .shape import diagonal as diagonal_view
from .shape import permute, unsqueeze

__all__ = ["nuclear_norm"]  # the rest are torch.linalg's (exported by chainrule.linalg)


def _ord_str(ord) -> str:
    return (
        str(ord) if isinstance(ord, str) or not float(ord).is_integer() or math.isinf(ord) else str(int(ord))
    )


def _matrix_dims(who: str, a: np.ndarray, dim) -> tuple[int, int]:
    if a.ndim < 2:
        raise RuntimeError(
            f"{who}: The input tensor A must have at least 2 dimensions, got shape "
            f"{tuple(a.shape)}; use linalg.vector_norm for vectors"
        )
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) != 2:
        raise RuntimeError(f"{who}: dim must be a 2-tuple. Got {' '.join(str(d) for d in dims)}")
    d0, d1 = (normalize_dim(int(d), a.ndim, who) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"{who}: dims must be different. Got ({d0}, {d1})")
    return d0, d1


def _check_dtype(who: str, a: np.ndarray, dtype, svd_based: bool):
    """Torch's dtype rules of matrix_norm; returns the numpy dtype to compute in (or None)."""
    name = TORCH_NAMES.get(a.dtype.name, a.dtype.name)
    if a.dtype.kind != "f":
        raise RuntimeError(
            f"{who}: Expected a floating point or complex tensor as input. Got "
            f"{name}; convert first, e.g. A.double()"
        )
    target = None if dtype is None else _dtype.to_numpy_dtype(dtype)
    if target is not None and (target.kind != "f" or target.itemsize < a.dtype.itemsize):
        raise RuntimeError(
            f"{who}: the dtype of the input ({name}) should be convertible without narrowing to "
            f"the specified dtype ({TORCH_NAMES.get(target.name, target.name)})"
        )
    if svd_based and (target or a.dtype).itemsize < 4:
        raise RuntimeError(f"{who}: Low precision dtypes not supported. Got {name}")
    return target


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """``torch.linalg.matrix_norm``: a matrix norm over the two dims ``dim``.

    Parameters
    ----------
    A : float tensor with at least 2 dims; the other dims are batch dims.
    ord : ``'fro'`` (default), ``'nuc'`` (sum of singular values), ``2``/``-2`` (largest/smallest
        singular value), ``1``/``-1`` (max/min column sum of ``|A|``), ``inf``/``-inf`` (max/min
        row sum).
    dim : the two matrix dims; keepdim keeps them with size 1.
    dtype : compute in this (wider) float dtype.

    Returns
    -------
    Tensor of the batch shape. Ties of the max/min share the gradient (``amax``), as in torch.
    """
    who = "linalg.matrix_norm"
    check_out(who, out)
    A = as_tensor(A, who)
    if isinstance(ord, str):
        if ord not in ("fro", "nuc"):
            raise RuntimeError(f"{who}: Order {ord} not supported.")
    elif abs(float(ord)) not in (1.0, 2.0, math.inf):
        raise RuntimeError(
            f"{who}: Order {_ord_str(ord)} not supported; use 'fro', 'nuc', 1, -1, 2, -2, inf or -inf"
        )
    a = A._data
    d0, d1 = _matrix_dims(who, a, dim)
    target = _check_dtype(
        who, a, dtype, ord == "nuc" or (not isinstance(ord, str) and abs(float(ord)) == 2.0)
    )

    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim, dtype=dtype)
    if target is not None and target != a.dtype:
        A = to(A, target)
    if not isinstance(ord, str):
        ord = float(ord)
        # The max is over the singular values (min(m, n) of them) or, for 1 / inf, over d1 / d0.
        maxed = min(a.shape[d0], a.shape[d1]) if abs(ord) == 2.0 else a.shape[d0 if math.isinf(ord) else d1]
        if maxed == 0 and ord > 0:  # torch: a max over nothing is 0 here (not amax's error), a constant
            shape = [1 if i in (d0, d1) else s for i, s in enumerate(a.shape)]
            if not keepdim:
                shape = [s for i, s in enumerate(shape) if i not in (d0, d1)]
            return wrap(np.zeros(shape, dtype=A._data.dtype))
    if ord == "nuc" or abs(ord) == 2.0:
        rest = [i for i in range(a.ndim) if i not in (d0, d1)]
        S = svdvals(permute(A, rest + [d0, d1]))

        result = _sum(S, -1) if ord == "nuc" else (amax(S, -1) if ord > 0 else amin(S, -1))
        if keepdim:
            for d in sorted((d0, d1)):
                result = unsqueeze(result, d)
        return result
    if math.isinf(ord):  # the inf norm is the 1 norm of the transpose
        d0, d1 = d1, d0
    if not keepdim and d0 < d1:  # the first reduction removes d0
        d1 -= 1
    sums = vector_norm(A, 1, d0, keepdim)
    return amax(sums, d1, keepdim) if ord > 0 else amin(sums, d1, keepdim)


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """A vector or matrix norm (``torch.linalg.norm``).

    Parameters
    ----------
    A : Tensor
        Float tensor.
    ord : int, float, str or None, default None
        The order. None: the 2-norm of the selected elements, whatever their shape. With a 2-tuple
        ``dim``, or with ``dim=None`` and a 2-D A, a number or a string is a matrix norm
        (``'fro'``, ``'nuc'``, 1, -1, 2, -2, inf, -inf; see :func:`matrix_norm`); otherwise a vector
        norm of that order (see ``vector_norm``).
    dim : int, tuple of int or None, default None
        The dims to reduce: one (vector norm) or two (matrix norm); None means all dims when ``ord``
        is None, and requires a 1-D or 2-D A otherwise.
    keepdim : bool, default False
        Keep the reduced dims with size 1.
    dtype : dtype or None, default None
        Convert A to this dtype before computing.
    out : None
        Not supported; passing a tensor raises TypeError.

    Returns
    -------
    Tensor
        The norm, with the reduced dims removed (size 1 with ``keepdim``).

    Notes
    -----
    Dispatches to :func:`matrix_norm` or ``vector_norm``, so the gradient is theirs: 0 (not nan)
    at the zero vector for the 2-norm, and ties of a max/min norm share the gradient.
    """
    who = "linalg.norm"
    check_out(who, out)
    A = as_tensor(A, who)
    nd = A._data.ndim
    dims = None if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    if dims is not None and len(dims) not in (1, 2):
        raise RuntimeError(f"{who}: If dim is specified, it must be of length 1 or 2. Got {list(dims)}")
    if dims is None and ord is not None and nd not in (1, 2):
        raise RuntimeError(
            f"{who}: If dim is not specified but ord is, the input must be 1D or "
            f"2D. Got {nd}D; pass dim= to choose the dims"
        )
    if ord is not None and (
        isinstance(ord, str) or (dims is not None and len(dims) == 2) or (dims is None and nd == 2)
    ):
        return matrix_norm(A, ord, (0, 1) if dims is None else dims, keepdim, dtype=dtype)

    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def nuclear_norm(input: Tensor, dim=(-2, -1), keepdim: bool = False, *, out=None) -> Tensor:
    """``torch.nuclear_norm`` (deprecated in torch): ``linalg.matrix_norm(input, 'nuc', dim,
    keepdim)``; ``nuclear_norm(x, True)`` reads the bool as ``keepdim``, as torch does."""
    check_out("nuclear_norm", out)
    if isinstance(dim, bool):
        dim, keepdim = (-2, -1), dim
    return matrix_norm(input, "nuc", dim, keepdim)


_COND_ORDS = (None, 2, -2, 1, -1, math.inf, -math.inf, "fro", "nuc")


def cond(A: Tensor, p=None, *, out=None) -> Tensor:
    """The condition number ``norm(A, p) * norm(inv(A), p)`` (``torch.linalg.cond``).

    Parameters
    ----------
    A : Tensor
        Float tensor of shape ``(*, m, n)``. Any ``m, n`` for ``p`` None, 2 or -2; square otherwise.
    p : None, int, float or str, default None
        The norm: None or 2 (``s_max / s_min``), -2 (``s_min / s_max``), ``'nuc'``
        (``sum(s) * sum(1 / s)``), or 1, -1, inf, -inf, ``'fro'``.
    out : None
        Not supported; passing a tensor raises TypeError.

    Returns
    -------
    Tensor
        Real tensor of the batch shape ``(*)``; 0 for empty matrices.

    Notes
    -----
    p = None, 2, -2 and 'nuc' are computed from the singular values and are differentiable (through
    :func:`svdvals`). 1, -1, inf, -inf and 'fro' use NumPy's inverse and return a tensor that does
    not require grad (torch's backward of these raises anyway). A singular matrix gives inf (0 for
    p = -2); the zero matrix gives nan for p = None, 2 and 'nuc', as in torch.
    """
    who = "linalg.cond"
    check_out(who, out)
    A = as_tensor(A, who)
    a = A._data
    if a.ndim < 2:
        raise RuntimeError(
            f"{who}: The input tensor must have at least 2 dimensions, got shape {tuple(a.shape)}"
        )
    if not isinstance(p, str) and p not in _COND_ORDS:
        raise RuntimeError(f"{who} got an invalid norm type: {_ord_str(p)}")
    if p is None or (not isinstance(p, str) and abs(p) == 2):
        if a.size == 0:
            return wrap(np.zeros(a.shape[:-2], dtype=_real_float(a)))

        S = svdvals(A)
        s_max, s_min = select(S, -1, 0), select(S, -1, S._data.shape[-1] - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return s_min / s_max if p == -2 else s_max / s_min
    _, a = matrix_input(f"linalg.cond(ord={_torch_ord(p)})", A, "linalg_inv", square=True)
    if p not in _COND_ORDS:
        raise RuntimeError(f"{who} got an invalid norm type: {p}")
    if a.size == 0:
        return wrap(np.zeros(a.shape[:-2], dtype=a.dtype))
    if p == "nuc":  # as torch: sum(s) * sum(1 / s), differentiable (nan for the zero matrix)
        S = svdvals(A)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _sum(S, -1) * _sum(S.reciprocal(), -1)
    with no_grad(), np.errstate(all="ignore"):
        inverse = _inverse_or_inf(a)
        result = matrix_norm(wrap(a), p)._data * matrix_norm(wrap(inverse), p)._data
    return wrap(np.nan_to_num(result, nan=np.inf, posinf=np.inf, neginf=-np.inf))


def _torch_ord(p) -> str:
    """How torch prints ``ord`` in cond's messages (a C++ double: ``1.000000``)."""
    if isinstance(p, str) or math.isinf(p):
        return str(p)
    return f"{p:.6f}" if isinstance(p, float) else str(p)


def _real_float(a: np.ndarray) -> np.dtype:
    return a.dtype if a.dtype.kind == "f" else _dtype.to_numpy_dtype(_dtype.get_default_dtype())


def _inverse_or_inf(a: np.ndarray) -> np.ndarray:
    """Batched inverse; a singular matrix's inverse is all inf (torch's cond does the same)."""
    if any_batched(a):  # vmap: once on the physical batch (each singular sample gets its inf)
        return map_stacked(_inverse_or_inf, (a,), (2,))
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        flat = a.reshape((-1,) + a.shape[-2:])
        out = np.empty_like(flat)
        for i, m in enumerate(flat):
            try:
                out[i] = np.linalg.inv(m)
            except np.linalg.LinAlgError:
                out[i] = np.inf
        return out.reshape(a.shape)


def matrix_rank(A: Tensor, tol=None, hermitian: bool = False, *, atol=None, rtol=None, out=None) -> Tensor:
    """``torch.linalg.matrix_rank``: the number of singular values (``|eigenvalues|`` when
    ``hermitian``, reading the lower triangle) above ``max(atol, rtol * largest)``.

    Parameters
    ----------
    A : ``(*, m, n)`` float tensor.
    tol : NumPy-style absolute tolerance (then ``rtol = 0``); not with atol/rtol.
    atol, rtol : numbers or tensors broadcastable to the batch shape. Defaults: when neither is
        given, ``rtol = eps(dtype) * max(m, n)``; when only ``atol > 0`` is, ``rtol = 0``.

    Returns
    -------
    int64 tensor of the batch shape (not differentiable).
    """
    who = "linalg.matrix_rank"
    check_out(who, out)
    A = as_tensor(A, who)
    a = A._data
    if a.ndim < 2:
        raise RuntimeError(
            f"torch.linalg.matrix_rank: The input tensor input must have at least "
            f"2 dimensions, got shape {tuple(a.shape)}"
        )
    if a.dtype not in (np.float32, np.float64):
        raise RuntimeError(
            f"{who}: This function doesn't handle types other than float and double;"
            f" got {TORCH_NAMES.get(a.dtype.name, a.dtype.name)}"
        )
    if tol is not None:
        if atol is not None or rtol is not None:
            raise TypeError(f"{who}: pass either tol or atol/rtol, not both")
        atol, rtol = tol, 0.0
    m, n = a.shape[-2:]
    if min(m, n) == 0:
        return wrap(np.zeros(a.shape[:-2], dtype=np.int64))
    if hermitian:
        S = np.abs(_lapack("linalg.eigh", np.linalg.eigvalsh, a, "eigenvalues"))
    else:  # (torch's errors for NaN; NaN singular values, so rank 0, for an inf)
        S = _lapack("linalg.svd", np.linalg.svd, a, compute_uv=False)
    atol_a = 0.0 if atol is None else _tolerance(atol)
    if rtol is None:  # torch: the default rtol, except where a positive atol is given
        default = np.finfo(a.dtype).eps * max(m, n)
        rtol_a = default if atol is None else np.where(atol_a > 0, 0.0, default)
    else:
        rtol_a = _tolerance(rtol)
    threshold = np.maximum(
        as_array(atol_a)[..., None], as_array(rtol_a)[..., None] * S.max(axis=-1, keepdims=True)
    )
    return wrap(np.sum(S > threshold, axis=-1).astype(np.int64))


def _tolerance(x):
    return as_array(x._data if isinstance(x, Tensor) else x, np.float64)  # (batched under vmap)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonals of a batch of matrices, as the last dim (``torch.linalg.diagonal``).

    Parameters
    ----------
    A : Tensor
        Tensor with at least 2 dims.
    offset : int, default 0
        Which diagonal: 0 the main one, > 0 above it, < 0 below it.
    dim1 : int, default -2
        The dim of the rows.
    dim2 : int, default -1
        The dim of the columns; must differ from ``dim1``.

    Returns
    -------
    Tensor
        The other dims of A followed by the diagonal (of length 0 when ``offset`` is outside the
        matrix): a view of A, as in torch (``torch.diagonal`` with the matrix dims last by
        default). The gradient goes back onto the diagonal, zero elsewhere.
    """
    return diagonal_view(as_tensor(A, "linalg.diagonal"), offset, dim1, dim2)
