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

from .ops.out_arg import write_out

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


def with_out(fn):
    """``fn`` accepting ``out=`` (a tensor, or a tuple of tensors for ops with several results)."""

    @functools.wraps(fn)
    def call(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        return write_out(fn.__name__, out, fn(*args, **kwargs))

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
