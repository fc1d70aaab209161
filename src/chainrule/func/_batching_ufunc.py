"""Batching rules of NumPy's ufuncs: element-wise calls (one rule for all of them), the gufuncs
(np.matmul and friends: core dims on the right, the batch with the loop dims on the left), and the
ufunc methods reduce, accumulate and outer (``ufunc.at`` is in ``_batching_index``)."""

from __future__ import annotations

import numpy as np

from ._batched import IMPL, BatchedArray, _inplace_error, fallback, level_of, normalize_axes, pad_to

__all__ = ["elementwise", "matmul", "gufunc", "reduce_method", "outer"]


# ---- element-wise ufuncs -----------------------------------------------------------------------
def elementwise(ufunc, inputs: tuple, kwargs: dict):
    """Any element-wise ufunc: operands batched at the top level get 1s after their batch dim so
    that logical broadcasting (aligned on the right) lines up; unbatched ones broadcast as they are."""
    level, size, nd = -1, 0, 0
    for x in inputs:
        if type(x) is BatchedArray:
            if x._level > level:
                level, size = x._level, x._b
            n = len(x._shape)
        else:
            n = x.ndim if type(x) is np.ndarray else np.ndim(x)
        if n > nd:
            nd = n
    out = kwargs.get("out")
    if out is not None:
        out_level, out_size = level_of(out if type(out) is tuple else (out,))
        if out_level > level:
            level, size = out_level, out_size
    args = []
    for x in inputs:
        if type(x) is BatchedArray and x._level == level:
            args.append(pad_to(x._p, size, x._shape, nd))
        else:
            args.append(x)
    if kwargs:
        kwargs = _physical_kwargs(ufunc, kwargs, level, size, nd)
    r = ufunc(*args, **kwargs)
    if out is not None:
        return out if type(out) is not tuple or len(out) > 1 else out[0]
    if ufunc.nout == 1:
        return BatchedArray(r, level)
    return tuple(BatchedArray(ri, level) for ri in r)


def _physical_kwargs(ufunc, kwargs: dict, level: int, size: int, nd: int) -> dict:
    kwargs = dict(kwargs)
    out = kwargs.get("out")
    if out is not None:
        outs = out if type(out) is tuple else (out,)
        phys = []
        for o in outs:
            if not (type(o) is BatchedArray and o._level == level):
                raise _inplace_error(ufunc.__name__)
            phys.append(o._p)
        kwargs["out"] = tuple(phys)
    where = kwargs.get("where")
    if type(where) is BatchedArray and where._level == level:
        kwargs["where"] = pad_to(where._p, size, where._shape, nd)
    return kwargs


# ---- generalized ufuncs: core dims on the right, loop dims (and the batch) on the left ---------
def matmul(a, b, kwargs: dict):
    """np.matmul with the batch in front; a batched 1-D operand must stay a vector (NumPy would read
    its physical (batch, n) as a matrix): it gets the 1 that matmul would add, removed afterwards.
    The batched operands get 1s after the batch dim so that the loop dims line up on the right."""
    level, size = level_of((a, b))
    if kwargs.get("out") is not None:
        raise RuntimeError("vmap: np.matmul(..., out=) on batched arrays is not supported; drop out=")
    a_b = type(a) is BatchedArray and a._level == level
    b_b = type(b) is BatchedArray and b._level == level
    an = len(a._shape) if type(a) is BatchedArray else np.ndim(a)
    bn = len(b._shape) if type(b) is BatchedArray else np.ndim(b)
    if an == 0 or bn == 0:
        raise ValueError(
            "matmul: Input operand does not have enough dimensions (a 0-d operand); use "
            "multiply for a product with a scalar"
        )
    drop_row = a_b and an == 1
    drop_col = b_b and bn == 1
    sa = ((1,) + a._shape if drop_row else a._shape) if a_b else None
    sb = ((b._shape + (1,)) if drop_col else b._shape) if b_b else None
    la = len(sa) - 2 if a_b else max(an - 2, 0)
    lb = len(sb) - 2 if b_b else max(bn - 2, 0)
    loops = la if la > lb else lb
    pa = (
        a._p.reshape((size,) + (1,) * (loops - la) + sa)
        if a_b and (drop_row or la < loops)
        else (a._p if a_b else a)
    )
    pb = (
        b._p.reshape((size,) + (1,) * (loops - lb) + sb)
        if b_b and (drop_col or lb < loops)
        else (b._p if b_b else b)
    )
    if (a_b or b_b) and not kwargs and _inner_one(pa, pb, drop_row, drop_col):
        # outer products (per-sample weight gradients): a broadcast product, not a stack of rank-1
        # GEMMs; einsum's loop writes large ones faster than np.multiply's broadcasting one
        big = pa.shape[-2] * pb.shape[-1] * size > 1 << 16
        r = np.einsum("...ik,...kj->...ij", pa, pb) if big else np.multiply(pa, pb)
    else:
        r = np.matmul(pa, pb, **kwargs) if kwargs else np.matmul(pa, pb)
    if drop_row or drop_col:
        s = r.shape
        if drop_row and drop_col:
            r = r.reshape(s[:-2])
        elif drop_row:  # the row dim is last when NumPy dropped an unbatched vector's column dim
            r = r.reshape(s[:-1] if not b_b and bn == 1 else s[:-2] + s[-1:])
        else:
            r = r.reshape(s[:-1])
    return BatchedArray(r, level)


def _inner_one(pa, pb, drop_row: bool, drop_col: bool) -> bool:
    """Whether the contracted dim is 1 and both operands are matrices: then matmul is a broadcast
    product, which NumPy computes far faster than a stack of rank-1 GEMMs."""
    return pa.ndim >= 2 and pb.ndim >= 2 and pa.shape[-1] == 1 and pb.shape[-2] == 1


def _core_dims(signature: str) -> list[int]:
    ins = signature.split("->")[0]
    return [
        0 if not part.strip("()") else len(part.strip("()").split(","))
        for part in ins.replace("),(", ")|(").split("|")
    ]


def gufunc(ufunc, inputs: tuple, kwargs: dict):
    """Other gufuncs (np.vecdot, np.matvec ...): each batched operand gets 1s after its batch dim up
    to the largest number of loop dims, so the batch dims line up; core dims stay on the right."""
    if kwargs.get("out") is not None or kwargs.get("axes") is not None or kwargs.get("axis") is not None:
        return fallback(ufunc, inputs, kwargs)
    level, size = level_of(inputs)
    cores = _core_dims(ufunc.signature)
    ndims = [len(x._shape) if type(x) is BatchedArray else np.ndim(x) for x in inputs]
    loops = max(n - c for n, c in zip(ndims, cores))
    args = []
    for x, n, c in zip(inputs, ndims, cores):
        if type(x) is BatchedArray and x._level == level:
            args.append(x._p.reshape((size,) + (1,) * (loops - n + c) + x._shape) if n - c < loops else x._p)
        else:
            args.append(x)
    r = ufunc(*args, **kwargs)
    if ufunc.nout == 1:
        return BatchedArray(r, level)
    return tuple(BatchedArray(ri, level) for ri in r)


# ---- ufunc methods -------------------------------------------------------------------------------
def reduce_method(ufunc, method: str, inputs: tuple, kwargs: dict):
    """ufunc.reduce / ufunc.accumulate: the logical axis moves one to the right."""
    (x,) = inputs
    level, size = level_of((x, kwargs.get("out"), kwargs.get("where")))
    if not (type(x) is BatchedArray and x._level == level):
        return fallback(getattr(ufunc, method), inputs, kwargs)
    kwargs = dict(kwargs)
    nd = len(x._shape)
    axis = kwargs.pop("axis", 0)
    if axis is None:
        if method == "accumulate":
            raise ValueError("accumulate does not allow multiple axes")
        axes = tuple(range(1, nd + 1))
    else:
        axes = tuple(a + 1 for a in normalize_axes(axis, nd))
    if method == "accumulate":
        axes = axes[0]
    out = kwargs.get("out")
    if out is not None:
        o = out[0] if type(out) is tuple else out
        if not (type(o) is BatchedArray and o._level == level):
            raise _inplace_error(f"{ufunc.__name__}.{method}")
        kwargs["out"] = (o._p,)
    where = kwargs.get("where")
    if type(where) is BatchedArray and where._level == level:
        kwargs["where"] = pad_to(where._p, size, where._shape, nd)
    r = getattr(ufunc, method)(x._p, axis=axes, **kwargs)
    return out if out is not None else BatchedArray(r, level)


def outer(ufunc, inputs: tuple, kwargs: dict):
    """ufunc.outer(a, b): a's dims, then b's: the element-wise rule on ``a[..., None, ...]`` and b."""
    a, b = inputs
    bn = b.ndim if isinstance(b, np.ndarray | BatchedArray) else np.ndim(b)
    if bn:
        a = np.reshape(a, np.shape(a) + (1,) * bn)
    return elementwise(ufunc, (a, b), kwargs)


IMPL.elementwise, IMPL.gufunc, IMPL.matmul = elementwise, gufunc, matmul
IMPL.outer, IMPL.reduce_method = outer, reduce_method
