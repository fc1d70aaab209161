"""softmax and log_softmax along one dim, each one fused node.

Both shift by the max along the dim before exponentiating, so logits of +-1e4 neither overflow
nor lose the small probabilities (log_softmax never takes the log of an underflowed zero).
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from ..autograd.graph import defop
from ..kernels import jit
from ..kernels.softmax import log_softmax_grad_rows, log_softmax_rows, softmax_grad_rows, softmax_rows
from ._common import Tensor, all_true, as_tensor, make_result, normalize_dim
from .creation import to

__all__ = ["softmax", "log_softmax"]


@defop("softmax", saves_out=True, saves_inputs=False, formula="{g0} = {y} * ({gy} - sum({gy} * {y}, dim))")
def _softmax(F, g, xs, out, p, needs):
    axis = p[0]
    if _one_buffer(F, g, out):  # (g - sum(g y)) y: one temporary, not three (the rows are long)
        if axis == out.ndim - 1 and out.size:  # compiled: one read of g and y per row
            gx = softmax_grad_rows(*_rows(g, out))
            if gx is not None:
                return (gx.reshape(out.shape),)
        gy = np.multiply(g, out)
        np.subtract(g, np.sum(gy, axis=axis, keepdims=True), out=gy)
        gy *= out
        return (gy,)
    gy = g * out
    return (gy - out * F.sum(gy, axis, True),)


@defop("log_softmax", saves_out=True, saves_inputs=False, formula="{g0} = {gy} - exp({y}) * sum({gy}, dim)")
def _log_softmax(F, g, xs, out, p, needs):
    axis = p[0]
    if _one_buffer(F, g, out):  # one temporary, not three (a (700, 10000) decoder's: 28 MB each)
        if axis == out.ndim - 1 and out.size:  # compiled: exp(y) and the row sums of g chunk by chunk
            gx = log_softmax_grad_rows(*_rows(g, out))
            if gx is not None:
                return (gx.reshape(out.shape),)
        e = np.exp(out)
        e *= np.sum(g, axis=axis, keepdims=True)
        return (np.subtract(g, e, out=e),)
    return (g - F.exp(out) * F.sum(g, axis, True),)


def _one_buffer(F, g, out) -> bool:
    """Whether the first-order rule may write into one fresh NumPy buffer (plain arrays, one dtype)."""
    plain = not F.is_tensor and type(g) is np.ndarray and type(out) is np.ndarray
    return plain and g.dtype == out.dtype and out.ndim > 0 and g.shape == out.shape


def _compiled_rows(x, axis: int) -> bool:
    """Whether the compiled row kernels (kernels/softmax.py) may take this forward: the last dim
    of a C-contiguous NumPy array, the kernels switched on."""
    return (
        axis == x.ndim - 1 and type(x) is np.ndarray and x.flags.c_contiguous and x.size > 0 and jit.enabled()
    )


def _rows(*arrays: np.ndarray) -> tuple:
    """The arrays as (rows, last dim) views (copies where a view cannot be made)."""
    return tuple(a.reshape(-1, a.shape[-1]) for a in arrays)


_softmax.same_shape = _log_softmax.same_shape = True


def _prepare(who: str, input: Tensor, dim, dtype) -> tuple[Tensor, np.ndarray, int]:
    input = as_tensor(input, who)
    if dim is None:
        raise TypeError(
            f"{who}() missing required argument 'dim' (the dim that sums to one); e.g. {who}(x, dim=-1)"
        )
    if dtype is not None:
        input = to(input, dtype)
    x = input._data
    if _dtype.KIND.get(x.dtype) != 2:
        raise NotImplementedError(  # torch's type for a kernel missing for a dtype
            f"{who}: \"{who}_lastdim_kernel_impl\" not implemented for '{input.dtype}'; softmax needs a "
            f"floating point input: convert first (x.float()) or pass dtype=chainrule.float32"
        )
    axis = normalize_dim(int(dim), x.ndim, who)
    return input, x, axis


def _shifted(x: np.ndarray, axis: int) -> np.ndarray:
    """``x - max(x, axis)``; rows whose max is -inf or NaN are shifted by 0. A row whose max is
    +inf is shifted by it, so that ``inf - inf`` makes the row's sum, and with it the whole row,
    NaN, as torch's (not NaN only where the input is inf)."""
    if x.size == 0:  # an empty batch, or an empty dim: nothing to shift (max has no identity)
        return x.copy()
    m = np.max(x, axis=axis, keepdims=True)
    if not all_true(np.isfinite(m)):
        m = np.where((m == -np.inf) | np.isnan(m), 0, m).astype(x.dtype)
    return x - m


def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x), dim)``: the entries along ``dim`` become probabilities.

    Parameters
    ----------
    input : a floating point tensor.
    dim : the dim along which the result sums to one.
    dtype : convert the input to this dtype first.
    """
    input, x, axis = _prepare("softmax", input, dim, dtype)
    if x.ndim == 0:
        one = np.where(np.isfinite(x), x.dtype.type(1), x.dtype.type(np.nan))  # exp(x - x): NaN at inf
        return make_result(one, _softmax, (input,), (None,))
    half = x.dtype if x.dtype in _dtype.HALF else None
    if half is not None:  # computed in float32, rounded once (torch's)
        x = x.astype(np.float32)
    e = None
    if _compiled_rows(x, axis):  # rows in cache-sized chunks
        e = np.empty_like(x)
        if softmax_rows(*_rows(x, e), zero_dead=False) is None:
            e = None
    if e is None:
        e = np.exp(_shifted(x, axis))
        e /= np.sum(e, axis=axis, keepdims=True)
    return make_result(e if half is None else e.astype(half), _softmax, (input,), (axis,))


def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """``x - log(sum(exp(x), dim))``, the log of ``softmax``, computed without the log of a
    rounded probability (stable for extreme logits)."""
    input, x, axis = _prepare("log_softmax", input, dim, dtype)
    if x.ndim == 0:
        zero = np.where(np.isfinite(x), x.dtype.type(0), x.dtype.type(np.nan))  # x - x: NaN at inf
        return make_result(zero, _log_softmax, (input,), (None,))
    half = x.dtype if x.dtype in _dtype.HALF else None
    if half is not None:  # computed in float32, rounded once (torch's)
        x = x.astype(np.float32)
    z = log_softmax_rows(*_rows(x)) if _compiled_rows(x, axis) else None
    if z is not None:  # compiled: x read once, z written once
        z = z.reshape(x.shape)
    else:
        z = _shifted(x, axis)
        with np.errstate(divide="ignore"):
            z -= np.log(np.sum(np.exp(z), axis=axis, keepdims=True))
    return make_result(z if half is None else z.astype(half), _log_softmax, (input,), (axis,))
