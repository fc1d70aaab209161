"""``out=``: writing an op's result into a tensor the caller gives, as torch's functions allow.

The top-level functions whose torch counterparts take ``out=`` are wrapped once, at import, by
``install``; Tensor methods and operators call the ops module directly, so the hot path never
sees the wrapper. As in torch: the result is cast to ``out``'s dtype when that loses no kind
(float into int refuses), an ``out`` of another shape is resized (with torch's warning unless
it was empty), and ``out=`` refuses inputs that require grad while grad mode is on.
"""

from __future__ import annotations

import functools
import inspect
import warnings

import numpy as np

from ._tensor import Tensor
from .autograd.grad_mode import GRAD

__all__ = ["install", "OUT_OPS"]

# torch 2.13's functions whose signature has out= (tests/test_out.py checks this list against torch)
OUT_OPS = frozenset(
    """
    abs absolute acos acosh add addbmm addcdiv addcmul addmm addmv addr all amax amin aminmax angle any
    arange arccos arccosh arcsin arcsinh arctan arctan2 arctanh argsort asin asinh atan atan2 atanh baddbmm
    bernoulli bitwise_and bitwise_left_shift bitwise_not bitwise_or bitwise_right_shift bitwise_xor bmm
    bucketize cat ceil chain_matmul cholesky cholesky_inverse cholesky_solve clamp clamp_max clamp_min clip
    column_stack complex concat concatenate conj_physical copysign cos cosh cross cummax cummin cumprod
    cumsum deg2rad diag digamma div divide dot dsmm dstack empty eq erf erfc erfinv exp exp2 expm1 eye fix
    float_power floor floor_divide fmax fmin fmod frac frexp full gather gcd ge geqrf ger greater
    greater_equal gt heaviside histc histogram histogramdd hspmm hstack hypot i0 igamma igammac index_add
    index_copy index_reduce index_select inner inverse isin isneginf isposinf kron kthvalue lcm ldexp le
    lerp less less_equal lgamma linspace log log10 log1p log2 logaddexp logaddexp2 logcumsumexp logical_and
    logical_not logical_or logical_xor logit logspace logsumexp lstsq lt lu_solve lu_unpack masked_select
    matmul matrix_power matrix_rank max maximum mean median min minimum mm mode msort mul multinomial
    multiply mv mvlgamma nan_to_num nanmean nanmedian nanquantile narrow_copy ne neg negative nextafter
    nonzero norm normal not_equal nuclear_norm ones ormqr outer polar polygamma pow prod qr quantile rad2deg
    rand randint randn randperm range reciprocal remainder renorm round row_stack rsqrt saddmm scatter
    searchsorted sgn sigmoid sign signbit sin sinc sinh solve sort spmm sqrt square squeeze_copy sspaddmm
    stack std std_mean sub subtract sum svd symeig take_along_dim tan tanh tensordot topk triangular_solve
    tril triu true_divide trunc var var_mean vdot view_copy vstack where xlogy zeros
    """.split()
)


def _write_one(who: str, out, result) -> Tensor:
    if not isinstance(out, Tensor):
        raise TypeError(f"{who}(): argument 'out' must be Tensor, not {type(out).__name__}")
    value = result._data if isinstance(result, Tensor) else np.asarray(result)
    s, r = out._data.dtype, value.dtype
    if s != r and ((r.kind == "f" and s.kind != "f") or (r.kind in "iuf" and s.kind == "b")):
        raise RuntimeError(
            f"result type {_name(r)} can't be cast to the desired output type {_name(s)}; give an out "
            f"tensor of dtype {_name(r)}"
        )
    if out._data.shape != value.shape:
        if out._base is not None:
            raise RuntimeError(
                f"{who}(): cannot resize the view given as out= from {list(out.shape)} to {list(value.shape)}"
            )
        if out._data.size:
            warnings.warn(
                f"An output with one or more elements was resized since it had shape {list(out.shape)}, "
                f"which does not match the required output shape {list(value.shape)}. This behavior is "
                "deprecated, "
                "and in a future PyTorch release outputs will not be resized unless they have zero elements.",
                UserWarning,
                stacklevel=4,
            )
        out._data = np.empty(value.shape, dtype=s)
    np.copyto(out._data, value, casting="unsafe")
    out._bump_version()
    return out


def _name(dt: np.dtype) -> str:
    names = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int"}
    return names.get(dt.name, dt.name.capitalize())


def with_out(fn):
    """``fn`` accepting ``out=`` (a tensor, or a tuple of tensors for ops with several results)."""

    @functools.wraps(fn)
    def call(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        result = fn(*args, **kwargs)
        who = fn.__name__
        results = result if isinstance(result, tuple) else (result,)
        outs = out if isinstance(out, tuple | list) else (out,)
        if GRAD.enabled and any(isinstance(r, Tensor) and r.requires_grad for r in results):
            raise RuntimeError(
                f"{who}(): functions with out=... arguments don't support automatic differentiation, but one "
                "of the arguments requires grad."
            )
        if len(outs) != len(results):
            raise TypeError(f"{who}(): out= expects {len(results)} tensors, got {len(outs)}")
        written = tuple(_write_one(who, o, r) for o, r in zip(outs, results))
        if isinstance(result, tuple):
            return type(result)(*written) if hasattr(result, "_fields") else written
        return written[0]

    call.__wrapped_for_out__ = True
    return call


def install(namespace: dict) -> None:
    """Wrap the functions of ``namespace`` (a module's globals) that torch lets take out=."""
    for name in OUT_OPS:
        fn = namespace.get(name)
        if fn is None or isinstance(fn, type) or not callable(fn):
            continue
        try:
            if "out" in inspect.signature(fn).parameters:
                continue  # takes out= itself
        except (TypeError, ValueError):
            continue
        namespace[name] = with_out(fn)
