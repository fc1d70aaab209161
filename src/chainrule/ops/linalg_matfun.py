"""Matrix functions and products: matrix_exp, matrix_power, cross, multi_dot, vecdot.

matrix_exp's derivative is its exact Fréchet adjoint, the upper-right block of
expm([[A^T, G], [0, A^T]]) (Mathias, 1996), so it is again a matrix_exp and differentiable to any
order. matrix_power, multi_dot and vecdot are compositions of differentiable products.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg

from .._fpe import user_stacklevel as _user_stacklevel
from ..autograd.graph import defop
from ..autograd.math import register
from ..kernels.matrix_exp import matrix_exp as matrix_exp_kernel
from ._common import (
    Tensor,
    any_batched,
    as_tensor,
    make_result,
    map_stacked,
    normalize_dim,
    shape_str,
    wrap,
    zeros_for,
)
from ._linalg_common import check_matrices, check_out, type_name
from .creation import clone, zeros_like
from .join import cat
from .linalg import matmul
from .linalg_solve import inv
from .reduce import sum as sum_
from .shape import squeeze, unsqueeze

__all__ = ["matrix_exp", "matrix_power", "cross", "chain_matmul"]


# ---- matrix_exp ----------------------------------------------------------------------------------
@defop("linalg_matrix_exp", formula="{g0} = upper-right block of expm([[{x0}^T, {gy}], [0, {x0}^T]])")
def _matrix_exp(F, g, xs, out, p, needs):
    n = xs[0].shape[-1]
    big = F.matrix_exp(F.frechet_block(F.mT(xs[0]), g))
    return (F.getitem(big, (Ellipsis, slice(0, n), slice(n, 2 * n))),)


def _expm_array(a: np.ndarray) -> np.ndarray:
    if any_batched(a):  # SciPy's expm takes stacks (..., n, n) but does not dispatch: the batch
        return map_stacked(_expm_array, (a,), (2,))  # goes in as one more stack dim
    if a.size == 0:
        return a.copy()
    if a.dtype == np.float16:  # computed in float32 (torch's half result is garbage: its kernel
        return _expm_array(a.astype(np.float32)).astype(np.float16)  # reads the coefficients as halves)
    try:
        out = np.asarray(scipy.linalg.expm(a), dtype=a.dtype)
    except (np.linalg.LinAlgError, ValueError):  # (a NaN Pade denominator)
        out = None
    # SciPy's Pade scaling and squaring agrees with torch's Taylor algorithm to float32's precision
    # wherever exp(A) is finite, and is 2-4x faster on small matrices than that algorithm in NumPy
    # (docs/differences.md); where it overflows, or A holds inf or NaN, the two put inf and NaN in
    # other places, so only then is A redone by torch's algorithm (checked on the result: no cost
    # to finite inputs beyond one isfinite pass over it)
    if out is None or not np.isfinite(out).all():
        out = matrix_exp_kernel(a)
    return out


def _block_array(at: np.ndarray, g: np.ndarray) -> np.ndarray:
    n = at.shape[-1]
    batch = np.broadcast_shapes(at.shape[:-2], g.shape[:-2])
    m = zeros_for(batch + (2 * n, 2 * n), at.dtype, at, g)
    m[..., :n, :n] = at
    m[..., n:, n:] = at
    m[..., :n, n:] = g
    return m


def _block_tensor(at: Tensor, g: Tensor) -> Tensor:
    return cat([cat([at, g], -1), cat([zeros_like(at), at], -1)], -2)


def _matrix_exp_op(A: Tensor) -> Tensor:
    return make_result(_expm_array(A._data), _matrix_exp, (A,))


def matrix_exp(A: Tensor) -> Tensor:
    """The matrix exponential ``sum_k A^k / k!``, batched (``torch.linalg.matrix_exp``).

    Parameters
    ----------
    A : Tensor
        Float tensor of shape ``(*, n, n)``. float16 is accepted, as in torch, and computed in
        float32.

    Returns
    -------
    Tensor
        ``exp(A)``, shape and dtype of A.

    Notes
    -----
    Computed by scaling and squaring with Padé approximants (SciPy's ``expm``), which agrees with
    torch's Taylor algorithm (Bader, Blanes and Casas, 2019) to float32's precision; where the
    result overflows or A holds inf or NaN, by torch's algorithm itself
    (``chainrule.kernels.matrix_exp``), so that inf and NaN land where torch's do. The gradient is the
    exact Fréchet adjoint, the upper-right block of ``expm([[A^T, G], [0, A^T]])`` (Mathias, 1996),
    itself a matrix_exp, so the result is differentiable to any order. An empty matrix gives an
    empty result.
    """
    who = "linalg.matrix_exp"
    A = as_tensor(A, who)
    a = A._data
    if a.dtype == np.float16 and a.ndim >= 2:  # the one linalg function torch runs in half
        check_matrices(who, a.astype(np.float32))
    else:
        check_matrices(who, a)
    return _matrix_exp_op(A)


# ---- matrix_power --------------------------------------------------------------------------------
def matrix_power(A: Tensor, n: int) -> Tensor:
    """The ``n``-th power of square matrices, batched (``torch.linalg.matrix_power``).

    Parameters
    ----------
    A : Tensor
        Tensor of shape ``(*, m, m)``; for ``n < 0`` it must be float and invertible.
    n : int
        The exponent (a Python or NumPy int; not a bool).

    Returns
    -------
    Tensor
        ``A^n``, shape and dtype of A: the identity for ``n = 0``, powers of ``inv(A)`` for
        ``n < 0``.

    Notes
    -----
    Built from differentiable matmuls (binary powering, torch's order of products) and :func:`inv`,
    so the gradient comes from those ops. For ``n = 0`` the identity still depends on A, with a zero
    gradient, as in torch. For ``n < 0`` a singular matrix raises ``LinAlgError``.
    """
    who = "linalg.matrix_power"
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"{who}: argument 'n' must be int, not {type(n).__name__}")
    A = as_tensor(A, who)
    a = A._data
    if a.ndim < 2:
        raise RuntimeError(
            f"{who}: The input tensor A must have at least 2 dimensions, got shape {shape_str(a.shape)}"
        )
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(
            f"{who}: A must be batches of square matrices, but they are "
            f"{a.shape[-2]} by {a.shape[-1]} matrices (shape {shape_str(a.shape)})"
        )
    n = int(n)
    if n >= 2 and a.dtype == np.bool_:  # torch has no boolean matrix product either
        raise NotImplementedError(
            f"{who}: products of 'Bool' matrices are not implemented (n = {n}); convert first, e.g. A.long()"
        )
    if n == 0:  # the identity; depends on A with a zero gradient, as torch's copy_
        eye = wrap(np.eye(a.shape[-1], dtype=a.dtype))
        return A[..., :0].sum(-1, keepdim=True) + eye
    if n == -1:  # inv's own result: column-major as torch's, no copy
        return inv(A)
    if n < 0:
        A, n = inv(A), -n
    if n == 1:
        return clone(A)
    if n == 2:
        return matmul(A, A)
    if n == 3:
        return matmul(matmul(A, A), A)
    z = result = None
    while n > 0:  # binary powering from the least significant bit
        bit, n = n % 2, n // 2
        z = A if z is None else matmul(z, z)
        if bit:
            result = z if result is None else matmul(result, z)
    return result


# ---- cross ---------------------------------------------------------------------------------------
@defop("linalg_cross", formula=("{g0} = {x1} x {gy}", "{g1} = {gy} x {x0}"))
def _cross(F, g, xs, out, p, needs):
    a, b = xs
    (dim,) = p
    return (F.linalg_cross(b, g, dim) if needs[0] else None, F.linalg_cross(g, a, dim) if needs[1] else None)


def _cross_array(a: np.ndarray, b: np.ndarray, dim: int) -> np.ndarray:
    # c_i = a_{i+1} b_{i+2} - a_{i+2} b_{i+1}: torch's arithmetic, in calls that vmap batches
    a1, a2 = np.roll(a, -1, axis=dim), np.roll(a, -2, axis=dim)
    return a1 * np.roll(b, -2, axis=dim) - a2 * np.roll(b, -1, axis=dim)


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along a dim (``torch.linalg.cross``).

    Parameters
    ----------
    input : Tensor
        First operand; size 3 along ``dim``.
    other : Tensor
        Second operand, with input's number of dims and dtype and size 3 along ``dim``; the other
        dims broadcast with input's.
    dim : int, default -1
        The dim holding the vectors.

    Returns
    -------
    Tensor
        ``input x other``, of the broadcast shape.

    Notes
    -----
    For ``c = a x b`` the gradients are ``dl/da = b x dl/dc`` and ``dl/db = dl/dc x a``.
    """
    who = "linalg.cross"
    a, b = as_tensor(input, who), as_tensor(other, who)
    x, y = a._data, b._data
    if x.ndim != y.ndim:
        raise RuntimeError(
            f"{who}: inputs must have the same number of dimensions, got shapes "
            f"{shape_str(x.shape)} and {shape_str(y.shape)}; unsqueeze the "
            "smaller one"
        )
    axis = normalize_dim(dim, x.ndim, who)
    if x.shape[axis] != 3 or y.shape[axis] != 3:
        raise RuntimeError(
            f"{who}: inputs dimension {dim} must have length 3. Got {x.shape[axis]} and {y.shape[axis]}"
        )
    if x.dtype != y.dtype:
        raise RuntimeError(
            f"{who}: expected both inputs to have the same dtype, got "
            f"{type_name(x)} and {type_name(y)}; convert one first"
        )
    try:
        np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise RuntimeError(
            f"{who}: the shapes {shape_str(x.shape)} and {shape_str(y.shape)} do not broadcast"
        ) from None
    return make_result(_cross_array(x, y, axis), _cross, (a, b), (axis,))


def cross(input: Tensor, other: Tensor, dim=None) -> Tensor:
    """The cross product of 3-vectors along a dim (``torch.cross``).

    Parameters
    ----------
    input : Tensor
        First operand.
    other : Tensor
        Second operand; see :func:`linalg_cross` for the shape and dtype rules.
    dim : int or None, default None
        The dim holding the vectors. None (deprecated in torch, with its UserWarning) picks the first
        dim of size 3 of ``input``; it is an error if there is none.

    Returns
    -------
    Tensor
        ``input x other``, as :func:`linalg_cross` computes it.

    Notes
    -----
    Unlike ``linalg.cross``, whose default dim is -1, the default here searches for a size-3 dim.
    The gradient is that of :func:`linalg_cross`.
    """
    if dim is None:
        warnings.warn(
            "Using torch.cross without specifying the dim arg is deprecated.\nPlease "
            "either pass the dim explicitly or simply use torch.linalg.cross.\nThe "
            "default value of dim will change to agree with that of linalg.cross in "
            "a future release.",
            UserWarning,
            stacklevel=_user_stacklevel(),
        )
        shape = as_tensor(input, "cross")._data.shape
        if 3 not in shape:
            raise RuntimeError(
                f"cross: no dimension of size 3 in input (shape {shape_str(shape)}); pass dim="
            )
        dim = shape.index(3)
    return linalg_cross(input, other, dim=dim)


# ---- products ------------------------------------------------------------------------------------
def _chain_order(dims: list) -> list:
    """The optimal parenthesisation of a matrix chain (dims[i] x dims[i+1] matrices), as
    ``numpy.linalg.multi_dot``: split[i][j] is where the product of matrices i..j splits."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def multi_dot(tensors, *, out=None) -> Tensor:
    """The product of two or more matrices, multiplied in the cheapest order
    (``torch.linalg.multi_dot``).

    Parameters
    ----------
    tensors : sequence of Tensor
        At least two tensors of one dtype. The first may be 1-D (a row vector, shape ``(n,)``), the
        last may be 1-D (a column vector); all others must be 2-D, and consecutive shapes must chain.
    out : None
        Not supported; passing a tensor raises TypeError.

    Returns
    -------
    Tensor
        The product: 2-D, or 1-D if the first or the last input is 1-D, or 0-D if both are.

    Notes
    -----
    The order of the products is the optimal matrix-chain parenthesisation (as
    ``numpy.linalg.multi_dot``); the result is a composition of differentiable matmuls, so each
    factor's gradient is the usual matmul one.
    """
    check_out("multi_dot", out)
    who = "multi_dot()"
    ts = [as_tensor(t, who) for t in tensors]
    if len(ts) < 2:
        raise RuntimeError(f"{who}: expected at least 2 tensors but got {len(ts)}")
    for i, t in enumerate(ts):
        nd = t._data.ndim
        where = "first" if i == 0 else "last" if i == len(ts) - 1 else None
        if where and nd not in (1, 2):
            raise RuntimeError(f"{who}: the {where} tensor must be 1D or 2D but got {nd}D")
        if not where and nd != 2:
            raise RuntimeError(f"{who}: tensor {i} must be 2D but got {nd}D")
        if t._data.dtype != ts[0]._data.dtype:
            raise RuntimeError(
                f"{who}: all tensors must have be the same dtype but tensor 0 is "
                f"{ts[0].dtype} and tensor {i} {t.dtype}"
            )
    row, col = ts[0]._data.ndim == 1, ts[-1]._data.ndim == 1
    if row:
        ts[0] = unsqueeze(ts[0], 0)
    if col:
        ts[-1] = unsqueeze(ts[-1], -1)
    for i in range(len(ts) - 1):
        if ts[i]._data.shape[1] != ts[i + 1]._data.shape[0]:
            raise RuntimeError(
                f"{who}: tensors {i} and {i + 1} with shapes "
                f"{list(ts[i]._data.shape)} and {list(ts[i + 1]._data.shape)} "
                "cannot be multiplied"
            )
    split = _chain_order([ts[0]._data.shape[0]] + [t._data.shape[1] for t in ts])

    def product(i: int, j: int) -> Tensor:
        if i == j:
            return ts[i]
        k = split[i][j]
        return matmul(product(i, k), product(k + 1, j))

    result = product(0, len(ts) - 1)
    if row and col:
        return squeeze(squeeze(result, -1), -1)
    if row:
        return squeeze(result, 0)
    return squeeze(result, -1) if col else result


def chain_matmul(*matrices, out=None) -> Tensor:
    """The product of 2-D matrices in the cheapest order (``torch.chain_matmul``, deprecated).

    Parameters
    ----------
    *matrices : Tensor
        One or more 2-D tensors whose shapes chain.
    out : None
        Not supported: with two or more matrices a tensor raises TypeError (from
        :func:`multi_dot`); with a single matrix it is ignored.

    Returns
    -------
    Tensor
        The 2-D product; a copy of the input when there is only one.

    Notes
    -----
    Warns (UserWarning) as torch does, then calls :func:`multi_dot`, so the gradients are those of
    its matmuls.
    """
    warnings.warn(
        "torch.chain_matmul is deprecated and will be removed in a future PyTorch "
        "release. Use torch.linalg.multi_dot instead, which accepts a list of two or "
        "more tensors rather than multiple parameters.",
        UserWarning,
        stacklevel=_user_stacklevel(),
    )
    ms = [as_tensor(m, "chain_matmul") for m in matrices]
    for m in ms:
        if m._data.ndim != 2:
            raise RuntimeError(f"chain_matmul: Tensor dimension is {m._data.ndim}, expected 2 instead.")
    if len(ms) == 1:
        return clone(ms[0])
    return multi_dot(ms, out=out)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot product of vectors along a dim (``torch.linalg.vecdot``).

    Parameters
    ----------
    x : Tensor
        Float tensor.
    y : Tensor
        Tensor of x's dtype; its shape broadcasts with x's.
    dim : int, default -1
        The dim along which the products are summed.

    Returns
    -------
    Tensor
        ``sum(x * y, dim)``, of the broadcast shape without ``dim``.

    Notes
    -----
    A composition of a differentiable product and sum: ``dl/dx = dl/dz * y`` and
    ``dl/dy = dl/dz * x`` (summed over broadcast dims). For real inputs this is torch's result (no
    conjugation is involved).
    """
    who = "linalg.vecdot"
    x, y = as_tensor(x, who), as_tensor(y, who)
    if x._data.dtype.kind != "f":  # torch checks x first, then that y has its dtype
        raise RuntimeError(
            f"{who}: Expected a floating point or complex tensor as input. Got "
            f"{type_name(x._data)}; convert first, e.g. x.double()"
        )
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(
            f"{who}: Expected x and y to have the same dtype, but found x of type "
            f"{type_name(x._data)} and y of type {type_name(y._data)} instead; "
            "convert one first, e.g. y.to(x.dtype)"
        )
    try:
        product = x * y
    except RuntimeError:
        raise RuntimeError(
            f"{who}: the shapes {shape_str(x.shape)} and {shape_str(y.shape)} do "
            "not broadcast (each dim must be equal, or 1 in one of them)"
        ) from None
    return sum_(product, dim=dim)


register("matrix_exp", _expm_array, _matrix_exp_op)
register("frechet_block", _block_array, _block_tensor)
register("linalg_cross", _cross_array, lambda a, b, dim: linalg_cross(a, b, dim=dim))
