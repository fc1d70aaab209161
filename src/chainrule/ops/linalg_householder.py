"""Products of Householder reflectors: ``linalg.householder_product`` (``orgqr``) and ``ormqr``.

Both are one op each, with torch's derivative rule (``householder_product_backward`` and
``ormqr_backward`` in torch's FunctionsManual.cpp), not a composition of smaller ops: the values
are the same either way on finite inputs, but where an input holds an inf or NaN the gradients
follow the order of operations of the rule, and torch's rule walks the reflectors with a running
``K = H_{i+1}^{-1} ... Q G^T ... H_i``, inverting each reflector as ``H(sigma)`` with
``sigma = tau / (tau |v|^2 - 1)``.

With ``Q = H_1 ... H_k``, ``H_i = I - tau_i v_i v_i^T`` (``v_i`` the i-th column of the input
below the diagonal, 1 on it) and ``K_i = H_{i+1} ... H_k G^T H_1 ... H_{i-1}`` (``G`` the
incoming gradient), the gradients are ``v_i: -tau_i K_i^T v_i - tau_i K_i v_i`` (below the
diagonal) and ``tau_i: -v_i^T K_i v_i``; torch computes ``K_i`` as
``H_i^{-1} ... H_1^{-1} Q G^T H_1 ... H_{i-1}``. ``ormqr``'s gradient with respect to
``other`` is ``ormqr`` with the opposite ``transpose``; its gradients with respect to the
reflectors are the same rule with ``grad`` and ``result`` in the roles ``ormqr_backward`` gives
them.

The forward of ``householder_product`` is LAPACK's ``orgqr``; a matrix holding an inf or NaN goes
through LAPACK's reference ``org2r`` (``kernels.lapack_reference``), which torch's MKL follows
there. ``ormqr`` applies one reflector at a time to the rows (columns) from its own on, as
LAPACK's ``larf``.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import lapack as _lapack

from ..autograd.graph import defop
from ..autograd.math import register
from ..kernels.lapack_reference import holds_nonfinite, org2r, orm2r
from ._common import Tensor, any_batched, as_tensor, make_result, map_stacked, shape_str
from ._linalg_common import check_matrices, check_out, column_major

__all__ = ["orgqr", "ormqr"]


# ---- arrays --------------------------------------------------------------------------------------
def _reflector_columns(a, k: int):
    """The reflectors' vectors ``(..., m, k)``: the first ``k`` columns of ``a`` below the
    diagonal, 1 on it (what LAPACK reads; the diagonal and upper triangle are ignored)."""
    m = a.shape[-2]
    return np.tril(a[..., :, :k], -1) + np.eye(m, k, dtype=a.dtype)


def _orgqr_array(a: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """The first ``n`` columns of ``H_1 ... H_k`` for ``a`` ``(..., m, n)``, ``tau`` ``(..., k)``."""
    if any_batched(a, tau):  # vmap: once on the physical batch
        return map_stacked(_orgqr_array, (a, tau), (2, 1))
    m, n = a.shape[-2:]
    k = tau.shape[-1]
    count = int(np.prod(a.shape[:-2]))  # (not -1: a reshape cannot infer it beside a 0)
    flat = a.reshape((count, m, n))
    taus = tau.reshape((count, k))
    q = np.empty_like(flat)
    if flat.size == 0 or k == 0:  # no reflectors: the identity's columns
        q[...] = np.eye(m, n, dtype=a.dtype)
        return q.reshape(a.shape)
    fn = _lapack.get_lapack_funcs("orgqr", (flat,))
    for i in range(count):
        q[i] = fn(flat[i], taus[i])[0]
    if holds_nonfinite(q):  # an inf or NaN in, or an overflow on the way: torch's (MKL's) pattern
        poisoned = ~np.isfinite(q).all(axis=(1, 2))
        q[poisoned] = org2r(flat[poisoned], taus[poisoned], n)
    return q.reshape(a.shape)


def _ormqr_array(a: np.ndarray, tau: np.ndarray, c: np.ndarray, left: bool, transpose: bool) -> np.ndarray:
    """``op(Q) c`` (``left``) or ``c op(Q)``, one reflector at a time, each touching only the rows
    (columns) from its own on, where its vector is not zero, as LAPACK's ``larf``: the zeros above
    would multiply an inf of ``c`` into NaN where torch's result keeps it."""
    if any_batched(a, tau, c):  # vmap: once on the physical batch
        return map_stacked(lambda *arrays: _ormqr_array(*arrays, left, transpose), (a, tau, c), (2, 1, 2))
    k = tau.shape[-1]
    V = _reflector_columns(a, k)
    out = np.array(c, copy=True)
    # Q C = H_1 (H_2 (... H_k C)); Q^T C = H_k^T (... H_1^T C); C Q = ((C H_1) H_2) ...
    order = range(k) if left == transpose else reversed(range(k))
    for i in order:
        v = V[..., i:, i : i + 1]
        vh = np.swapaxes(v, -1, -2)
        t = tau[..., i, None, None]
        if left:
            part = out[..., i:, :]
            out[..., i:, :] = part - np.matmul(v * t, np.matmul(vh, part))
        else:
            part = out[..., :, i:]
            out[..., :, i:] = part - np.matmul(np.matmul(part, v) * t, vh)
    if holds_nonfinite(out):  # an inf or NaN in, or an overflow: LAPACK's order, as torch's MKL
        m, n = a.shape[-2:]
        count = int(np.prod(a.shape[:-2]))
        flat = out.reshape((count,) + out.shape[-2:])
        poisoned = ~np.isfinite(flat).all(axis=(1, 2))
        redo = orm2r(
            a.reshape((count, m, n))[poisoned],
            tau.reshape((count, k))[poisoned],
            c.reshape((count,) + c.shape[-2:])[poisoned],
            left,
            transpose,
        )
        flat[poisoned] = redo
    return out


# ---- torch's householder_product_backward -------------------------------------------------------
class _Reflectors:
    """Applies ``I - t v v^T`` to the running ``K`` from the left or the right, as torch's
    ``apply_simple_transformation``: in place on the rows (columns) from the reflector's own on
    for a first-order backward on arrays (torch's path outside grad mode), out of place with the
    whole vector when the backward builds a graph (torch's path in grad mode; the zeros above the
    reflector's 1 then multiply K's entries too)."""

    def __init__(self, F, in_place: bool) -> None:
        self.F, self.in_place = F, in_place

    def apply(self, i: int, v, t, K, left: bool):
        F = self.F
        t = F.expand_dims(t, -1)  # (..., 1, 1)
        if self.in_place:
            v = v[..., i:, :]
            if left:
                u = np.matmul(F.mT(v), K[..., i:, :])
                K[..., i:, :] -= (t * v) * u
            else:
                u = np.matmul(K[..., :, i:], t * v)
                K[..., :, i:] -= u * F.mT(v)
            return K
        if left:
            return K - (t * v) * F.matmul(F.mT(v), K)
        return K - F.matmul(K, t * v) * F.mT(v)


def _column_grads(F, i: int, v, t, K):
    """torch's ``update_grad``: the gradients of reflector ``i``'s vector ``(..., m)`` and scale
    ``(...)`` from the running ``K``, reading only the rows and columns from ``i`` on."""
    v = F.getitem(v, (Ellipsis, slice(i, None), slice(None)))
    vHK = F.matmul(F.mT(v), F.getitem(K, (Ellipsis, slice(i, None), slice(None))))  # (..., 1, m)
    Kv = F.matmul(F.getitem(K, (Ellipsis, slice(None), slice(i, None))), v)  # (..., m, 1)
    t = F.expand_dims(t, -1)
    v_grad = F.getitem(-t * vHK, (Ellipsis, 0, slice(None))) - F.getitem(t * Kv, (Ellipsis, slice(None), 0))
    tau_grad = -F.matmul(F.getitem(vHK, (Ellipsis, slice(None), slice(i, None))), v)
    return v_grad, F.getitem(tau_grad, (Ellipsis, 0, 0))


def _householder_grads(F, grad, result, A, tau, flip_order: bool = False):
    """``(grad of A, grad of tau)`` of ``householder_product(A, tau)`` (torch's
    ``householder_product_backward``; ``flip_order`` walks the reflectors from the last, for
    ``ormqr``). ``K`` starts as ``result grad^T``."""
    m, n = A.shape[-2:]
    k = tau.shape[-1]
    if int(np.prod(A.shape)) == 0 or int(np.prod(tau.shape)) == 0:
        return None, None
    V = F.tril(A, -1) + F.constant(np.eye(m, n, dtype=F.dtype_of(A)))
    first_k = F.getitem(V, (Ellipsis, slice(0, k)))
    norms = F.sum(first_k * first_k, -2)
    sigma = tau / (tau * norms - 1.0)  # H(sigma_i) is H(tau_i)^{-1}
    K = F.matmul(result, F.mT(grad))
    reflect = _Reflectors(F, not F.is_tensor and type(K) is np.ndarray)

    def column(x, i):
        return F.getitem(x, (Ellipsis, slice(i, i + 1)))

    order = list(range(k - 1, -1, -1)) if flip_order else list(range(k))
    apply_left = not flip_order
    K = reflect.apply(order[0], column(V, order[0]), column(sigma, order[0]), K, apply_left)
    v_grads, tau_grads = [None] * k, [None] * k
    for step, i in enumerate(order):
        v_i, t_i = column(V, i), column(tau, i)
        v_grads[i], tau_grads[i] = _column_grads(F, i, v_i, t_i, K)
        if step + 1 < k:  # K <- H_next^{-1} K H_i
            nxt = order[step + 1]
            K = reflect.apply(nxt, column(V, nxt), column(sigma, nxt), K, apply_left)
            K = reflect.apply(i, v_i, t_i, K, not apply_left)
    stack = F.stack if F.is_tensor else np.stack
    A_grad = stack(v_grads, -1)
    if k < n:
        zeros = F.constant(np.zeros(tuple(A.shape[:-1]) + (n - k,), dtype=F.dtype_of(A)))
        A_grad = F.cat([A_grad, zeros], -1) if F.is_tensor else np.concatenate([A_grad, zeros], -1)
    return F.tril(A_grad, -1), stack(tau_grads, -1)


# ---- the ops -------------------------------------------------------------------------------------
@defop(
    "linalg_householder_product",
    saves_out=True,
    formula=(
        "{g0} = tril_{-1}[-tau_i K_i^T v_i - tau_i K_i v_i]  (K_i = H_(i+1)..H_k {gy}^T H_1..H_(i-1))",
        "{g1} = -v_i^T K_i v_i",
    ),
)
def _householder_product(F, g, xs, out, p, needs):
    return _householder_grads(F, g, out, xs[0], xs[1])


@defop(
    "ormqr",
    saves_out=True,
    formula=(
        "{g0} = householder_product_backward's, with {gy} and {y} as ormqr_backward passes them",
        "{g1} = householder_product_backward's",
        "{g2} = ormqr({x0}, {x1}, {gy}, left, not transpose)",
    ),
)
def _ormqr(F, g, xs, out, p, needs):
    A, tau, _ = xs
    left, transpose = p
    other_grad = F.ormqr(A, tau, g, left, not transpose) if needs[2] else None
    A_grad = tau_grad = None
    if needs[0] or needs[1]:
        if left != transpose:  # Q C (or C Q^T): the reflectors in their own order
            hp_grad, hp_result = (F.mT(g), F.mT(out)) if transpose else (g, out)
            A_grad, tau_grad = _householder_grads(F, hp_grad, hp_result, A, tau)
        else:  # Q^T C (or C Q): grad and result swap roles, the reflectors from the last
            hp_grad, hp_result = (out, g) if transpose else (F.mT(out), F.mT(g))
            A_grad, tau_grad = _householder_grads(F, hp_grad, hp_result, A, tau, flip_order=True)
    return A_grad, tau_grad, other_grad


def _check_reflectors(who: str, A: Tensor, tau: Tensor) -> tuple[int, int, int]:
    check_matrices(who, A._data, "input", square=False)
    if tau._data.dtype != A._data.dtype:
        raise RuntimeError(
            f"{who}: tau dtype {tau._data.dtype.name} does not match input dtype {A._data.dtype.name}"
        )
    m, n = A.shape[-2:]
    k = tau.shape[-1] if tau.ndim else 0
    if tau.ndim != A.ndim - 1 or tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(
            f"{who}: Expected batch dimensions of tau {shape_str(tau.shape)} to be equal to input's "
            f"{shape_str(A.shape)}"
        )
    if k > n:
        raise RuntimeError(f"{who}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    return k, m, n


def householder_product(A: Tensor, tau: Tensor, *, out=None) -> Tensor:
    """The first ``n`` columns of ``H_1 ... H_k`` from Householder vectors below the diagonal of
    ``A`` (..., m, n) and scales ``tau`` (..., k) (``torch.linalg.householder_product``, LAPACK's
    orgqr): differentiable in both, twice."""
    who = "linalg.householder_product"
    check_out(who, out)
    A, tau = as_tensor(A, who), as_tensor(tau, who)
    _, m, n = _check_reflectors(who, A, tau)
    if m < n:
        raise RuntimeError(f"{who}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    result = column_major(_orgqr_array(A._data, tau._data))  # torch's (LAPACK's) layout
    return make_result(result, _householder_product, (A, tau))


def orgqr(input: Tensor, tau: Tensor) -> Tensor:
    """``torch.orgqr``: :func:`householder_product`."""
    return householder_product(input, tau)


def ormqr(
    input: Tensor, tau: Tensor, other: Tensor, left: bool = True, transpose: bool = False, *, out=None
) -> Tensor:
    """``other`` multiplied by ``Q = H_1 ... H_k`` (m x m) from the Householder vectors in
    ``input`` (``torch.ormqr``): ``op(Q) other`` (``left``) or ``other op(Q)``, with ``op`` the
    transpose when ``transpose`` (real matrices: torch's complex ones are not supported)."""
    check_out("ormqr", out)
    input, tau, other = as_tensor(input, "ormqr"), as_tensor(tau, "ormqr"), as_tensor(other, "ormqr")
    k, m, n = _check_reflectors("ormqr", input, tau)
    if other.ndim != input.ndim:
        raise RuntimeError(
            "torch.ormqr: Expected other to have the same number of dimensions as input, but got "
            f"other.ndim equal to {other.ndim} and input.ndim is equal to {input.ndim}"
        )
    if tuple(other.shape[:-2]) != tuple(input.shape[:-2]):
        raise RuntimeError(
            "torch.ormqr: Expected batch dimensions of other to be equal to input.shape[:-2], but got "
            f"{list(other.shape[:-2])}"
        )
    if other._data.dtype != input._data.dtype:
        raise RuntimeError(
            f"ormqr: other dtype {other._data.dtype.name} does not match input dtype {input._data.dtype.name}"
        )
    if other.shape[-2 if left else -1] != m:
        raise RuntimeError(
            f"ormqr: other.shape[{-2 if left else -1}] must be equal to input.shape[-2] ({m}), got "
            f"shape {shape_str(other.shape)}"
        )
    if k != min(other.shape[-2 if left else -1], n):
        raise RuntimeError(
            f"torch.ormqr: tau.shape[-1] must be equal to min(other.shape[{-2 if left else -1}], "
            f"input.shape[-1]), got {k}"
        )
    result = _ormqr_array(input._data, tau._data, other._data, bool(left), bool(transpose))
    result = column_major(result)  # torch's (LAPACK's) layout
    return make_result(result, _ormqr, (input, tau, other), (bool(left), bool(transpose)))


register("ormqr", _ormqr_array, ormqr)
