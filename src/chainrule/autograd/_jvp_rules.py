"""Cheap forward-mode rules: the output tangent of the common ops as one op on the tangents.

Without a rule here, an op's tangent comes from the transpose-of-VJP fallback of
``forward_ad`` (a recorded backward of the op and a backward through that: about three small
backward passes). The ops below are linear in each input (views, sums, concatenation), bilinear
(``mul``, ``matmul``, ``linear``, convolution: ``op(t_a, b) + op(a, t_b)``), or have a short
closed form (softmax, normalization, smooth reductions), so their JVP is the op, or a few ops,
applied to the tangents: what torch's ``derivatives.yaml`` writes as ``result: ...``.

Each rule is ``rule(inputs, result, params, tangents) -> tangent``: ``params`` the op's recorded
parameters (the same ones its VJP reads), ``tangents`` one per input, None where an input has
none. A rule may return ``FALLBACK`` for a case it does not cover (complex tensors where the op is
not holomorphic, unusual parameters): the fallback then computes the tangent. ``forward_ad``
copies ``RULES`` into its ``JVP_RULES`` when it loads.

A rule is called once per dual level at which an input has a tangent, with only the levels
outside that one active (``forward_ad.dual_result``), through ``tensor_math()``: so a tangent is
itself a dual tensor of the outer levels (forward over forward) and stays differentiable
(reverse over forward).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._tensor import Tensor, wrap
from .graph import REGISTRY
from .math import tensor_math

__all__ = ["RULES", "FALLBACK"]

#: what a rule returns for a case it leaves to the transpose-of-VJP fallback
FALLBACK = object()

#: op name -> rule; copied into ``forward_ad.JVP_RULES``
RULES: dict[str, Callable] = {}


def _rule(*names: str):
    def register(fn: Callable) -> Callable:
        for name in names:
            RULES[name] = fn
        return fn

    return register


def _fit(t: Tensor, result: Tensor) -> Tensor:
    """``t`` broadcast to the result's shape (an input's tangent of a broadcasting op)."""
    shape = tuple(result._data.shape)
    return t if tuple(t._data.shape) == shape else tensor_math().broadcast_to(t, shape)


def _zeros(x: Tensor) -> Tensor:
    return wrap(np.zeros_like(x._data))


def _complex(*tensors) -> bool:
    return any(t is not None and t._data.dtype.kind == "c" for t in tensors)


def _total(terms, result: Tensor) -> Tensor:
    """The sum of the non-None ``terms``, broadcast to the result's shape (zeros when none)."""
    total = None
    for term in terms:
        if term is not None:
            total = term if total is None else total + term
    return _zeros(result) if total is None else _fit(total, result)


# ---- element-wise binary ---------------------------------------------------------------------------
@_rule("add")
def _add(inputs, result, params, tangents):
    ta, tb = tangents
    alpha = params[0] if params else 1
    return _total((ta, None if tb is None else (tb if alpha == 1 else tb * alpha)), result)


@_rule("sub")
def _sub(inputs, result, params, tangents):
    ta, tb = tangents
    alpha = params[0] if params else 1
    return _total((ta, None if tb is None else tb * -alpha), result)


@_rule("mul")
def _mul(inputs, result, params, tangents):
    (a, b), (ta, tb) = inputs, tangents
    return _total((None if ta is None else ta * b, None if tb is None else a * tb), result)


@_rule("div")
def _div(inputs, result, params, tangents):
    (a, b), (ta, tb) = inputs, tangents
    with np.errstate(divide="ignore", invalid="ignore"):
        return _total((None if ta is None else ta / b, None if tb is None else -tb * a / (b * b)), result)


def _extremum(a_wins: Callable) -> Callable:
    """maximum/minimum, as torch: ``t_b + where(a == b, 0.5, [a wins]) * (t_a - t_b)``: ties
    share the tangents."""

    def rule(inputs, result, params, tangents):
        (a, b), (ta, tb) = inputs, tangents
        if _complex(a, b):
            return FALLBACK
        F = tensor_math()
        ta = _zeros(a) if ta is None else ta
        tb = _zeros(b) if tb is None else tb
        weight = F.where(a == b, 0.5, F.where(a_wins(a, b), 1.0, 0.0))
        return _fit(tb + weight * (ta - tb), result)

    return rule


RULES["maximum"] = _extremum(lambda a, b: a > b)
RULES["minimum"] = _extremum(lambda a, b: a < b)


@_rule("where")
def _where(inputs, result, params, tangents):
    a, b = inputs
    ta, tb = tangents
    F = tensor_math()
    ta = _zeros(a) if ta is None else ta
    tb = _zeros(b) if tb is None else tb
    return _fit(F.where(params[0], ta, tb), result)


def _pointwise(name: str) -> Callable:
    """An element-wise op of several inputs: ``sum_i (dy/dx_i) t_i``, the local derivatives read
    from the op's own VJP at a cotangent of ones (one backward call, nothing recorded twice)."""

    def rule(inputs, result, params, tangents):
        if _complex(result, *inputs):
            return FALLBACK  # the VJP may conjugate (torch's convention), the JVP must not
        op = REGISTRY[name]
        ones = wrap(np.ones_like(result._data))
        needs = [t is not None for t in tangents]
        out = result if op.saves_out else None
        with np.errstate(all="ignore"):
            locals_ = op.backward(tensor_math(), ones, inputs, out, params, needs)
            terms = [None if d is None or t is None else d * t for d, t in zip(locals_, tangents)]
        return _total(terms, result)

    return rule


for _name in (
    "pow",
    "atan2",
    "hypot",
    "copysign",
    "fmax",
    "fmin",
    "remainder",
    "fmod",
    "xlogy",
    "xlog1py",
    "logaddexp",
    "logaddexp2",
):
    RULES[_name] = _pointwise(_name)


# ---- reductions ------------------------------------------------------------------------------------
def _keep(t: Tensor, axes, keepdim: bool, ndim: int) -> Tensor:
    """A reduction's result with its reduced dims back as size 1, to broadcast against the input."""
    F = tensor_math()
    if keepdim:
        return t
    if axes is None:
        return F.reshape(t, (1,) * ndim)
    return F.expand_dims(t, axes) if axes else t


@_rule("sum")
def _sum(inputs, result, params, tangents):
    (t,) = tangents
    in_shape, axes, keepdim = params[:3]
    if len(params) != 3 or tuple(t._data.shape) != tuple(in_shape):
        return FALLBACK
    return tensor_math().sum(t, axes, keepdim)


@_rule("mean")
def _mean(inputs, result, params, tangents):
    (t,) = tangents
    in_shape, axes, keepdim, n = params
    return tensor_math().sum(t, axes, keepdim) / n


@_rule("var")
def _var(inputs, result, params, tangents):
    """``2 / (n - correction) * sum((x - mean) t)``."""
    (x,), (t,) = inputs, tangents
    axes, keepdim, n, dof = params
    if dof <= 0 or _complex(x):
        return FALLBACK  # torch's inf / nan conventions: the fallback follows the VJP's
    F = tensor_math()
    centered = x - F.sum(x, axes, True) / n
    return F.sum(centered * t, axes, keepdim) * (2.0 / dof)


@_rule("std")
def _std(inputs, result, params, tangents):
    """``var's tangent / (2 std)``, 0 where the std is 0 (torch's masked_fill)."""
    var_t = _var(inputs, result, params, tangents)
    if var_t is FALLBACK:
        return FALLBACK
    F = tensor_math()
    zero = result == 0
    return F.where(zero, 0.0, var_t / (F.where(zero, 1.0, result) * 2))


def _ties(inputs, result, params, tangents):
    """max/min/amax/amin: the mean of the tangents of the elements equal to the result (torch's
    evenly shared ties)."""
    (x,), (t,) = inputs, tangents
    if len(params) != 3 or _complex(x):
        return FALLBACK
    axes, keepdim, nan_aware = params
    F = tensor_math()
    y = _keep(result.detach(), axes, keepdim, x.ndim)
    hit = x.detach() == y
    if nan_aware:
        hit = hit | (F.isnan(x.detach()) & F.isnan(y))
    count = F.sum(hit, axes, keepdim)
    return F.sum(F.where(hit, t, 0.0), axes, keepdim) / count


for _name in ("amax", "amin", "max", "min"):
    RULES[_name] = _ties


@_rule("logsumexp")
def _logsumexp(inputs, result, params, tangents):
    """``sum(softmax(x) t)``."""
    (x,), (t,) = inputs, tangents
    axes, keepdim = params
    if _complex(x):
        return FALLBACK
    F = tensor_math()
    return F.sum(F.exp(x - _keep(result, axes, keepdim, x.ndim)) * t, axes, keepdim)


@_rule("norm")
def _norm(inputs, result, params, tangents):
    """The 2-norm: ``sum(x t) / |x|``, 0 where the norm is 0; 1-norm: ``sum(sign(x) t)``."""
    (x,), (t,) = inputs, tangents
    ord, axes, keepdim, kernel_sign = params
    if _complex(x) or ord not in (1, 2) or kernel_sign:  # (cdist's: through its backward)
        return FALLBACK
    F = tensor_math()
    if ord == 1:
        return F.sum(F.sign(x) * t, axes, keepdim)
    zero = result == 0
    return F.where(zero, 0.0, F.sum(x * t, axes, keepdim) / F.where(zero, 1.0, result))


# ---- views and shape ops: the same op on the tangent ---------------------------------------------
@_rule("reshape")
def _reshape(inputs, result, params, tangents):
    return tensor_math().reshape(tangents[0], tuple(result._data.shape))


@_rule("permute")
def _permute(inputs, result, params, tangents):
    return tensor_math().permute(tangents[0], tuple(params[0]))


@_rule("expand")
def _expand(inputs, result, params, tangents):
    return tensor_math().broadcast_to(tangents[0], tuple(result._data.shape))


@_rule("getitem")
def _getitem(inputs, result, params, tangents):
    return tensor_math().getitem(tangents[0], params[1])


@_rule("select", "narrow")
def _read(inputs, result, params, tangents):
    return tensor_math().getitem(tangents[0], params[1])


@_rule("clone")
def _clone(inputs, result, params, tangents):
    return tensor_math().clone(tangents[0])


@_rule("cat")
def _cat(inputs, result, params, tangents):
    dim = params[0]
    parts = [_zeros(x) if t is None else t for x, t in zip(inputs, tangents)]
    dtype = result._data.dtype
    parts = [p if p._data.dtype == dtype else tensor_math().astype(p, dtype) for p in parts]
    return tensor_math().cat(parts, dim)


@_rule("stack")
def _stack(inputs, result, params, tangents):
    parts = [_zeros(x) if t is None else t for x, t in zip(inputs, tangents)]
    dtype = result._data.dtype
    parts = [p if p._data.dtype == dtype else tensor_math().astype(p, dtype) for p in parts]
    return tensor_math().stack(parts, params[0])


# ---- products: bilinear, op(t_a, b) + op(a, t_b) -----------------------------------------------
@_rule("matmul")
def _matmul(inputs, result, params, tangents):
    (a, b), (ta, tb) = inputs, tangents
    F = tensor_math()
    return _total((None if ta is None else F.matmul(ta, b), None if tb is None else F.matmul(a, tb)), result)


@_rule("linear")
def _linear(inputs, result, params, tangents):
    """``t_x w^T + x t_w^T + t_b``."""
    x, w = inputs[0], inputs[1]
    F = tensor_math()

    def apply(u, v):  # linear without bias: u @ v^T (v: (out, in) or (in,))
        return F.matmul(u, F.mT(v) if v.ndim == 2 else v)

    tx, tw = tangents[0], tangents[1]
    tb = tangents[2] if len(tangents) > 2 else None
    return _total((None if tx is None else apply(tx, w), None if tw is None else apply(x, tw), tb), result)


def _conv(name: str) -> Callable:
    """convolution / its transpose: ``conv(t_x, w) + conv(x, t_w) + t_b``."""

    def rule(inputs, result, params, tangents):
        stride, padding, dilation, groups = params[:4]
        x, w = inputs[0], inputs[1]
        out_hw = tuple(result._data.shape[2:])
        conv = getattr(tensor_math(), name)
        tx, tw = tangents[0], tangents[1]
        tb = tangents[2] if len(tangents) > 2 else None
        terms = [
            None if tx is None else conv(tx, w, None, stride, padding, out_hw, dilation, groups),
            None if tw is None else conv(x, tw, None, stride, padding, out_hw, dilation, groups),
            None if tb is None else tensor_math().reshape(tb, (1, -1) + (1,) * len(out_hw)),
        ]
        return _total(terms, result)

    return rule


RULES["convolution"] = _conv("convolution")
RULES["convolution_transpose"] = _conv("convolution_transpose")


# ---- softmax and normalization -------------------------------------------------------------------
@_rule("softmax")
def _softmax(inputs, result, params, tangents):
    """``y (t - sum(y t))``."""
    (t,), axis = tangents, params[0]
    if axis is None:  # a 0-d input: softmax is constantly 1
        return _zeros(result)
    return result * (t - tensor_math().sum(result * t, axis, True))


@_rule("log_softmax")
def _log_softmax(inputs, result, params, tangents):
    """``t - sum(softmax t)``."""
    (t,), axis = tangents, params[0]
    if axis is None:
        return _zeros(result)
    F = tensor_math()
    return t - F.sum(F.exp(result) * t, axis, True)


def _normalization(inputs, result, params, tangents):
    """layer/batch norm: ``xhat = (x - mean) invstd``; its tangent ``invstd (t - mean(t) -
    xhat mean(xhat t))`` (training statistics) or ``invstd t`` (given statistics); then
    ``t_xhat w + xhat t_w + t_b``."""
    axes, n, eps, training, mean, invstd, view, w_axes, has_w, has_b = params
    x = inputs[0]
    if _complex(x):
        return FALLBACK
    F = tensor_math()
    tx = tangents[0]
    w = inputs[1] if has_w else None
    tw = tangents[1] if has_w else None
    tb = tangents[-1] if has_b else None
    if training:
        mean_t, invstd_t = F.norm_statistics(x, axes, n, eps, mean, invstd)
    else:
        mean_t, invstd_t = mean, invstd
    xhat = (x - mean_t) * invstd_t
    terms = []
    if tx is not None:
        if training:
            t_xhat = (tx - F.sum(tx, axes, True) / n - xhat * (F.sum(xhat * tx, axes, True) / n)) * invstd_t
        else:
            t_xhat = tx * invstd_t
        terms.append(t_xhat * F.reshape(w, view) if w is not None else t_xhat)
    if tw is not None:
        terms.append(xhat * F.reshape(tw, view))
    if tb is not None:
        terms.append(F.reshape(tb, view))
    return _total(terms, result)


RULES["native_layer_norm"] = _normalization
RULES["native_batch_norm"] = _normalization


# ---- memory: a view's tangent is the same view of its input's tangent ----------------------------
def view_tangent(result: Tensor, tangents: list) -> Tensor | None:
    """The tangent of ``result`` when it is a view of its one input: the same view op replayed on
    the input's tangent, sharing its memory, so that an in-place change of either (written into
    the tangent's memory, as torch does) shows in both. None: not a view, or no way to replay it."""
    if result._base is None or len(tangents) != 1 or tangents[0] is None:
        return None
    steps = result._view_steps
    if not steps:
        return None
    fn, args = steps[-1]
    tangent = fn(tangents[0], *args)
    return tangent if tuple(tangent._data.shape) == tuple(result._data.shape) else None


def own_memory(tangent: Tensor | None, result: Tensor, tangents: list) -> Tensor | None:
    """``tangent``, copied when ``result`` is not a view but its tangent shares memory with an
    input's (a rule that returned ``t`` itself: add of a constant, a reshape that copies the
    primal but not the tangent): an in-place change of ``result`` must not write into it."""
    if tangent is None or result._base is not None or type(tangent._data) is not np.ndarray:
        return tangent
    for t in tangents:
        if t is not None and type(t._data) is np.ndarray and np.may_share_memory(tangent._data, t._data):
            return tensor_math().clone(tangent)
    return tangent


# ---- ops that read one triangle of a matrix ------------------------------------------------------
#: ``forward_ad.transpose_of_vjp``, bound when forward_ad loads (it sits above this module)
TRANSPOSE_OF_VJP: list = [None]


def _triangle_read(name: str, mask: Callable) -> Callable:
    """An op that reads only a triangle of its matrix input (input 0): as torch's forward rules
    do, the tangent is masked to what the op reads, ``mask(t, params)``, before the fallback (whose
    VJP spreads the gradient over the whole matrix)."""

    def rule(inputs, result, params, tangents):
        if tangents[0] is None or _complex(result, *inputs):
            return FALLBACK
        masked = [mask(tangents[0], params)] + list(tangents[1:])
        return TRANSPOSE_OF_VJP[0](REGISTRY[name], inputs, result, params, masked)

    return rule


def _triangle(t: Tensor, upper: bool, unit: bool = False) -> Tensor:
    F = tensor_math()
    return F.triu(t, int(unit)) if upper else F.tril(t, -int(unit))


@_rule("linalg_cholesky_ex")
def _cholesky(inputs, result, params, tangents):
    """torch's ``L Phi(L^{-1} t L^{-T})`` (Phi: the lower triangle, the diagonal halved), with
    the tangent of A as given (only L says which triangle was read); ``upper``: its transpose."""
    if _complex(result, *inputs):
        return FALLBACK
    F = tensor_math()
    upper = params[0]
    low = F.mT(result) if upper else result
    inverse = low.inverse()
    inner = F.matmul(F.matmul(inverse, tangents[0]), F.mT(inverse))
    phi = F.tril(inner, -1) + F.diag_embed(inner.diagonal(0, -2, -1) * 0.5)
    tangent = F.matmul(low, phi)
    return F.mT(tangent) if upper else tangent


@_rule("linalg_eigh")
def _eigh(inputs, result, params, tangents):
    """torch's: with ``M = V^T t V`` (t as given), the eigenvalues move by ``diag(M)`` and the
    eigenvectors by ``V (M / E)``, ``E_ij = L_j - L_i`` (0 on the diagonal); packed as the op's
    output is (V's rows, then L)."""
    if _complex(result, *inputs):
        return FALLBACK
    F = tensor_math()
    n = params[0]
    V = F.getitem(result, (Ellipsis, slice(0, n), slice(None)))
    L = F.getitem(result, (Ellipsis, n, slice(None)))
    M = F.matmul(F.matmul(F.mT(V), tangents[0]), V)
    gap = F.unsqueeze(L, -2) - F.unsqueeze(L, -1)
    off = ~np.eye(n, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = F.where(off, M / F.where(off, gap, 1.0), 0.0)
    return F.cat([F.matmul(V, scaled), F.unsqueeze(M.diagonal(0, -2, -1), -2)], -2)


RULES["cholesky_inverse"] = _triangle_read("cholesky_inverse", lambda t, p: _triangle(t, p[0]))
RULES["linalg_solve_triangular"] = _triangle_read(
    "linalg_solve_triangular", lambda t, p: _triangle(t, p[0], p[2])
)


@_rule("scatter_reduce")
def _scatter_reduce(inputs, result, params, tangents):
    """amax/amin as torch's forward rule: the tangents of the elements equal to the result, self's
    and src's alike (self's counted even without include_self, as torch does), averaged."""
    dim, index, reduce, include_self, shape = params
    if reduce not in ("amax", "amin") or _complex(result, *inputs):
        return FALLBACK
    (x, src), (tx, ts) = inputs, tangents
    F = tensor_math()
    dtype = result._data.dtype
    out = result._data
    self_is = wrap((x._data == out).astype(dtype))
    src_is = wrap((src._data == np.take_along_axis(out, index, dim)).astype(dtype))
    count = F.scatter_reduce_along(self_is, dim, index, src_is, "sum", True)
    tx = _zeros(x) if tx is None else tx
    ts = _zeros(src) if ts is None else ts
    return F.scatter_reduce_along(self_is * tx, dim, index, src_is * ts, "sum", True) / count
