"""Products built from the differentiable matmul family: ``tensordot``, ``kron``, the fused
``addmm``/``addbmm``/``baddbmm``/``addmv``/``addr`` (and their in-place forms), ``vdot``, and the
distances ``cdist`` and ``pdist``.

Each is a composition of registered ops (matmul, mul, sum, vector_norm, ...), so its gradients and
second derivatives are theirs: no new derivative rule is needed, and none would be faster.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _autocast, _dtype
from ..autograd.graph import defop
from ._common import Tensor, as_tensor, make_result, normalize_dim, operands, save_outputs, shape_str, wrap
from .autocast_cast import autocast_operands
from .creation import to
from .elementwise import mul, where
from .index import getitem
from .inplace import apply_inplace
from .linalg import bmm, mm, mv, outer
from .reduce import sum as reduce_sum
from .reduce_norm import distance_norm
from .shape import _unsafe_view, permute, reshape, unsqueeze

__all__ = [
    "tensordot",
    "kron",
    "addmm",
    "addbmm",
    "baddbmm",
    "addmv",
    "addr",
    "addmm_",
    "addbmm_",
    "baddbmm_",
    "addmv_",
    "addr_",
    "cdist",
    "pdist",
]


# ---- tensordot -----------------------------------------------------------------------------------
def _tensordot_dims(a: np.ndarray, b: np.ndarray, dims) -> tuple[list, list]:
    if isinstance(dims, Tensor):
        dims = dims._data.tolist()
    if isinstance(dims, int | np.integer):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.ndim, b.ndim):
            raise RuntimeError(
                f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims} for shapes "
                f"{shape_str(a.shape)} and {shape_str(b.shape)}"
            )
        return list(range(a.ndim - dims, a.ndim)), list(range(dims))
    if len(dims) != 2:
        raise RuntimeError("tensordot expects dims to be an int or a pair of lists of dims")
    da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(da) != len(db):
        raise RuntimeError(f"both dimension lists should have same length, got {len(da)} and {len(db)}")
    da = [normalize_dim(d, a.ndim, "tensordot") for d in da]
    db = [normalize_dim(d, b.ndim, "tensordot") for d in db]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j] and 1 not in (a.shape[i], b.shape[j]):
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {a.shape[i]} in dim {i} "
                f"and second has size {b.shape[j]} in dim {j} (shapes {shape_str(a.shape)} and "
                f"{shape_str(b.shape)})"
            )
    return da, db


def tensordot(a: Tensor, b: Tensor, dims=2, out=None) -> Tensor:
    """The sum of products of ``a`` and ``b`` over the dims ``dims`` names (``torch.tensordot``).

    Parameters
    ----------
    a, b : Tensor
        Tensors of the same dtype.
    dims : int, a pair of lists of dims, or a (2, k) tensor
        An int ``d`` contracts the last ``d`` dims of ``a`` with the first ``d`` of ``b``; a pair
        ``([i...], [j...])`` contracts ``a``'s dim ``i`` with ``b``'s dim ``j``.

    Returns
    -------
    Tensor
        ``a``'s free dims followed by ``b``'s free dims.
    """
    if out is not None:
        raise TypeError("tensordot: out= is not supported; use the returned tensor")
    a, b = as_tensor(a, "tensordot"), as_tensor(b, "tensordot")
    x, y = a._data, b._data
    if x.dtype != y.dtype:
        raise RuntimeError(
            f"both inputs should have same dtype (tensordot got {x.dtype.name} and {y.dtype.name}); "
            "convert one first, e.g. b.to(a.dtype)"
        )
    da, db = _tensordot_dims(x, y, dims)
    for i, j in zip(da, db):
        # a contracted dim of size 1 broadcasts against the other's (torch sums the other's
        # first); torch sums even where both are 1, so ``a``'s mm operand is then a new tensor,
        # not a view of ``a``, and an in-place change of ``a`` does not fail backward
        if y.shape[j] == 1:
            a = reduce_sum(a, i, keepdim=True)
        elif x.shape[i] == 1:
            b = reduce_sum(b, j, keepdim=True)
    x, y = a._data, b._data
    free_a = [d for d in range(x.ndim) if d not in da]
    free_b = [d for d in range(y.ndim) if d not in db]
    k = math.prod(x.shape[d] for d in da)
    left = reshape(permute(a, free_a + da), (math.prod(x.shape[d] for d in free_a), k))
    right = reshape(permute(b, db + free_b), (k, math.prod(y.shape[d] for d in free_b)))
    return reshape(mm(left, right), tuple(x.shape[d] for d in free_a) + tuple(y.shape[d] for d in free_b))


# ---- kron ----------------------------------------------------------------------------------------
def kron(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """The Kronecker product (``torch.kron``): blocks ``input[i] * other``, dims padded with 1s
    in front to the larger rank; dtypes promote as in ``mul``."""
    if out is not None:
        raise TypeError("kron: out= is not supported; use the returned tensor")
    a, b = as_tensor(input, "kron"), as_tensor(other, "kron")
    n = max(a.ndim, b.ndim)
    sa = (1,) * (n - a.ndim) + tuple(a.shape)
    sb = (1,) * (n - b.ndim) + tuple(b.shape)
    # interleave: a as (a0, 1, a1, 1, ...), b as (1, b0, 1, b1, ...); the product is (a0, b0, ...)
    inter_a = tuple(x for s in sa for x in (s, 1))
    inter_b = tuple(x for s in sb for x in (1, s))
    # torch's unsafe views: mul saves the reshaped operands with their own version counters, so an
    # in-place change of input or other after the call does not fail backward, as in torch
    prod = mul(_unsafe_view(a, inter_a), _unsafe_view(b, inter_b))
    return _unsafe_view(prod, tuple(p * q for p, q in zip(sa, sb)))


# ---- the fused products: beta * input + alpha * (product) ----------------------------------------
def _scaled(term: Tensor, factor) -> Tensor:
    return term if isinstance(factor, int | float) and factor == 1 else mul(term, factor)


def _fused(who: str, input, product: Tensor, beta, alpha) -> Tensor:
    """``beta * input + alpha * product``, broadcasting ``input`` to the product's shape. With
    ``beta == 0`` the input's values are not read (NaN and inf in it do not propagate, as in
    torch), though it still receives a zero gradient."""
    input = as_tensor(input, who)
    try:
        np.broadcast_shapes(input.shape, product.shape)
        if np.broadcast_shapes(input.shape, product.shape) != tuple(product.shape):
            raise ValueError
    except ValueError:
        raise RuntimeError(
            f"{who}: the input of shape {shape_str(input.shape)} does not broadcast to the product's "
            f"shape {shape_str(product.shape)}"
        ) from None
    if input._data.dtype != product._data.dtype:
        raise RuntimeError(
            f"{who}: expected input and the matrices to have the same dtype, but got "
            f"{input._data.dtype.name} and {product._data.dtype.name}; convert the input first"
        )
    scaled = _scaled(product, alpha)
    if isinstance(beta, int | float) and beta == 0:
        dead = where(wrap(np.zeros((), dtype=bool)), input, 0)  # a zero that keeps input in the graph
        return scaled + dead
    a, b = operands(_scaled(input, beta), scaled)
    return a + b


def _batch_matrices(who: str, b1: Tensor, b2: Tensor) -> None:
    if min(b1.ndim, b2.ndim) < 3:  # (torch reads dim 2 first)
        raise IndexError(
            f"{who}: Dimension out of range (expected to be in range of [-2, 1], but got 2): batch1 "
            f"and batch2 must be 3-D, got shapes {shape_str(b1.shape)} and {shape_str(b2.shape)}"
        )
    if b1.ndim != 3 or b2.ndim != 3:
        raise RuntimeError(
            f"{who}: batch1 and batch2 must be 3-D tensors, got shapes {shape_str(b1.shape)} and "
            f"{shape_str(b2.shape)}"
        )


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` for 2-D ``mat1`` (n, m) and ``mat2`` (m, p);
    ``input`` broadcasts to (n, p). ``beta=0`` ignores the input's values (NaN included)."""
    if out is not None:
        raise TypeError("addmm: out= is not supported; use the returned tensor")
    if _autocast.cpu_enabled:
        input, mat1, mat2 = autocast_operands(as_tensor(input, "addmm"), mat1, mat2)
    return _fused("addmm", input, mm(as_tensor(mat1, "addmm"), as_tensor(mat2, "addmm")), beta, alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])`` (``torch.addbmm``)."""
    if out is not None:
        raise TypeError("addbmm: out= is not supported; use the returned tensor")
    b1, b2 = as_tensor(batch1, "addbmm"), as_tensor(batch2, "addbmm")
    if _autocast.cpu_enabled:
        input, b1, b2 = autocast_operands(as_tensor(input, "addbmm"), b1, b2)
    _batch_matrices("addbmm", b1, b2)
    return _fused("addbmm", input, reduce_sum(bmm(b1, b2), 0), beta, alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)`` (``torch.baddbmm``)."""
    if out is not None:
        raise TypeError("baddbmm: out= is not supported; use the returned tensor")
    b1, b2 = as_tensor(batch1, "baddbmm"), as_tensor(batch2, "baddbmm")
    if _autocast.cpu_enabled:
        input, b1, b2 = autocast_operands(as_tensor(input, "baddbmm"), b1, b2)
    _batch_matrices("baddbmm", b1, b2)
    return _fused("baddbmm", input, bmm(b1, b2), beta, alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """``beta * input + alpha * (mat @ vec)`` (``torch.addmv``)."""
    if out is not None:
        raise TypeError("addmv: out= is not supported; use the returned tensor")
    return _fused("addmv", input, mv(as_tensor(mat, "addmv"), as_tensor(vec, "addmv")), beta, alpha)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)`` (``torch.addr``)."""
    if out is not None:
        raise TypeError("addr: out= is not supported; use the returned tensor")
    v1, v2 = as_tensor(vec1, "addr"), as_tensor(vec2, "addr")
    if v1.ndim != 1 or v2.ndim != 1:
        raise RuntimeError(
            f"addr: Expected 1-D argument vec1 and vec2, but got shapes {shape_str(v1.shape)} and "
            f"{shape_str(v2.shape)}"
        )
    # unlike the matrix products, addr promotes mixed dtypes (it is an outer product and a sum)
    dtype = _dtype.result_type(as_tensor(input, "addr"), v1, v2)
    v1, v2, input = to(v1, dtype), to(v2, dtype), to(as_tensor(input, "addr"), dtype)
    return _fused("addr", input, outer(v1, v2), beta, alpha)


def _fused_inplace(fn):
    def method(self: Tensor, a, b, *, beta=1, alpha=1) -> Tensor:
        return apply_inplace(fn.__name__ + "_", self, lambda: fn(self, a, b, beta=beta, alpha=alpha))

    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place ``{fn.__name__}``: writes the result into this tensor."
    return method


addmm_ = _fused_inplace(addmm)
addbmm_ = _fused_inplace(addbmm)
baddbmm_ = _fused_inplace(baddbmm)
addmv_ = _fused_inplace(addmv)
addr_ = _fused_inplace(addr)


# ---- distances -----------------------------------------------------------------------------------
def _check_p(who: str, p) -> float:
    p = float(p)
    if not p >= 0:  # (also NaN)
        raise RuntimeError(f"{who} only supports non-negative p values, got p={p}")
    return p


@defop(
    "distance",
    saves_out=True,
    formula=(
        "{g0} = {gy} * sign({x0})  (p=1);  {gy} * sign({x0}) * (|{x0}| == {y})  (p=inf, every tie); "
        "NaN where {x0} or |{x0}| - {y} is NaN"
    ),
)
def _distance(F, g, xs, out, params, needs):
    (p,) = params
    diff = xs[0]
    g = F.expand_dims(g, -1)
    # torch's cdist/pdist kernels take a sign that is NaN at NaN (its min/max of ceil and
    # floor), where torch.sign (and the norms' gradients) give 0
    sign = F.sign(diff) + F.where(diff != diff, diff, 0.0)
    if p == 1:
        return (g * sign,)
    # the inf norm's element test 1 - min(1, ceil(| |d| - dist |)): 1 at the maximum, NaN where
    # |d| - dist is NaN (a NaN d, or an inf d at an inf distance)
    gap = F.abs(diff) - F.expand_dims(out, -1)
    return (g * sign * ((gap == 0) + F.where(gap != gap, gap, 0.0)),)


def _distances(diff: Tensor, p: float, skip_nan: bool) -> Tensor:
    """torch's cdist/pdist for p = 1 and p = inf, with its kernels' gradient at NaN (see
    ``_distance``). For p = inf the largest ``|d|`` along the last dim from 0 up; with
    ``skip_nan`` (cdist's scalar kernel: its running ``max(agg, |d|)`` keeps ``agg`` when the
    comparison fails) a NaN is skipped, so ``inf - inf`` gives a finite distance; pdist's
    vectorized max keeps it. The gradient goes to every element that attains the maximum, whole
    (not shared among ties as ``vector_norm``'s)."""
    a = np.abs(diff._data)
    if p == 1:
        out = np.sum(a, axis=-1)
    else:
        top = np.fmax if skip_nan else np.maximum
        out = top.reduce(a, axis=-1, initial=0).astype(a.dtype, copy=False)
    return make_result(out, _distance, (diff,), (p,))


def _norms(diff: Tensor, p: float, skip_nan: bool = False) -> Tensor:
    """The p-norms of the last dim of ``diff``; for p = 0 (a count) with torch's zero gradient;
    for p = 1 and inf torch's distance kernels' (``_distances``)."""
    if p == 1 or math.isinf(p):
        return _distances(diff, p, skip_nan)
    norms = distance_norm(diff, p, -1)  # (the kernels' NaN sign for the other p too)
    if p == 0 and diff.requires_grad:
        return norms + reduce_sum(where(wrap(np.zeros((), dtype=bool)), diff, 0), -1)
    return norms


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str | None = None) -> Tensor:
    """The p-norm distances between each row of ``x1`` (..., P, M) and each row of ``x2``
    (..., R, M), batched: (..., P, R) (``torch.cdist``).

    Parameters
    ----------
    p : float
        The norm's order, in [0, inf].
    compute_mode : str or None
        Accepted for torch's signature (``'use_mm_for_euclid_dist_if_necessary'``,
        ``'use_mm_for_euclid_dist'``, ``'donot_use_mm_for_euclid_dist'``); the distances are always
        computed from the differences, which is the more accurate of torch's two ways.

    Notes
    -----
    The gradient at a zero distance is zero, as torch's.
    """
    who = "cdist"
    modes = (
        None,
        "use_mm_for_euclid_dist_if_necessary",
        "use_mm_for_euclid_dist",
        "donot_use_mm_for_euclid_dist",
    )
    if compute_mode not in modes:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    x1, x2 = as_tensor(x1, who), as_tensor(x2, who)
    a, b = x1._data, x2._data
    if a.ndim < 2 or b.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {a.ndim}D, X2 got: {b.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} X2: {b.shape[-1]}"
        )
    if a.dtype.kind != "f" or b.dtype.kind != "f":
        raise RuntimeError(
            f"cdist only supports floating-point dtypes, X1 got: {a.dtype.name}, X2 got: {b.dtype.name}"
        )
    p = _check_p(who, p)
    inputs = x1, x2
    x1, x2 = operands(x1, x2)
    out = _norms(unsqueeze(x1, -2) - unsqueeze(x2, -3), p, skip_nan=True)
    save_outputs(out, *inputs)  # torch's one node saves both inputs: changing one in place fails backward
    return out


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm distances between the rows of a 2-D tensor (N, M): the N (N - 1) / 2 pairs
    ``i < j`` in row order, as the upper triangle of ``cdist(input, input)`` (``torch.pdist``)."""
    input = as_tensor(input, "pdist")
    x = input._data
    if x.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {x.ndim}D")
    if x.dtype.kind != "f":
        raise RuntimeError(f"pdist only supports floating-point dtypes, got: {x.dtype.name}")
    p = _check_p("pdist", p)
    i, j = np.triu_indices(x.shape[0], 1)
    out = _norms(getitem(input, (i,)) - getitem(input, (j,)), p)
    save_outputs(out, input)  # torch's one node saves the input (see cdist)
    return out
