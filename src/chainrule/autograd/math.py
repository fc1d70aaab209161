"""The small math interface that derivative rules are written against.

Every op's backward is written once, as ``backward(F, g, xs, out, params, needs)``. For a plain
backward, ``F`` is ``ARRAY_MATH`` and everything is a raw array: no Tensor objects, no graph, as fast
as NumPy. For ``create_graph=True``, ``F`` is ``tensor_math()`` and everything is a Tensor: the same
rule now runs through chainrule's differentiable ops, so the gradient can be differentiated again.
Arithmetic operators (+ - * / **, comparisons) work on both, so rules use them directly.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

__all__ = ["ARRAY_MATH", "tensor_math", "sum_to", "register"]


def sum_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``g`` over the dimensions that broadcasting added or stretched, down to ``shape``."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1
    )
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def _expand_dims(x, axes):
    return np.expand_dims(x, axes)


def _index_put_zeros(shape, index, g, dtype=None):
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated indices accumulate)."""
    from ..ops.index import _is_basic, zeros_for

    dt = g.dtype if dtype is None else dtype
    # under vmap g is batched: so are the zeros it is added into (zeros_for)
    out = np.zeros(shape, dt) if type(g) is np.ndarray else zeros_for(shape, dt, g, index)
    if _is_basic(index):
        out[index] = g  # basic indices never repeat an element
    else:
        np.add.at(out, index, g)
    return out


def _astype(x, dtype):
    return x.astype(dtype, copy=False)


def _sigmoid(x):
    from ..ops.elementwise import _sigmoid_fn

    return _sigmoid_fn(x)


def _erf(x):
    from ..ops.special import erf_array

    return erf_array(x)


# The functions below have one meaning and two implementations: on arrays the fast one (LAPACK on
# the forward's saved factors, a saved statistic, an O(n) form that is right to first order), on
# tensors one built from differentiable ops, so that the gradient can be differentiated again.
# (the op modules import this one: their kernels are looked up at the first call, then kept)
def _cofactor_matrix(a, d, factors):
    from ..ops.linalg_det import cofactor_matrix_array

    ARRAY_MATH.cofactor_matrix = cofactor_matrix_array
    return cofactor_matrix_array(a, d, factors)


def _inverse_mT(a, factors):
    from ..ops.linalg_det import inverse_mT_array

    ARRAY_MATH.inverse_mT = inverse_mT_array
    return inverse_mT_array(a, factors)


def _cumprod_grad_at_zeros(g, x, out, axis):
    from ..ops.reduce_cumulative import _cumprod_grad_zeros

    return _cumprod_grad_zeros(ARRAY_MATH, g, x, out, axis)


def _norm_statistics(x, axes, n, eps, mean, invstd):
    return mean, invstd  # as the forward computed them from x


def _add_batch_dim(x, dim, level, size):
    from ..func._batched import add_batch_dim

    return add_batch_dim(x, dim, level)


def _remove_batch_dim(x, level, size, dim):
    from ..func._batched import remove_batch_dim

    ARRAY_MATH.remove_batch_dim = remove_batch_dim
    return remove_batch_dim(x, level, size, dim)


ARRAY_MATH = SimpleNamespace(
    exp=np.exp, log=np.log, sin=np.sin, cos=np.cos, tan=np.tan, sqrt=np.sqrt, sign=np.sign,
    log1p=np.log1p, sigmoid=_sigmoid, erf=_erf,
    abs=np.abs, tanh=np.tanh, cosh=np.cosh, sinh=np.sinh, square=np.square, reciprocal=np.reciprocal,
    where=np.where, floor_divide=np.floor_divide, trunc=np.trunc, maximum=np.maximum, minimum=np.minimum,
    sum=lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims),
    sum_to=sum_to,
    broadcast_to=np.broadcast_to,
    reshape=np.reshape,
    permute=np.transpose,
    mT=lambda x: np.swapaxes(x, -1, -2),
    matmul=np.matmul,
    einsum=lambda equation, *operands: np.einsum(equation, *operands, optimize=True),
    expand_dims=_expand_dims,
    zeros_like=np.zeros_like,
    ones_like=np.ones_like,
    cumsum=lambda x, axis: np.cumsum(x, axis=axis),
    cumprod=lambda x, axis: np.cumprod(x, axis=axis),
    prod=lambda x, axis=None, keepdims=False: np.prod(x, axis=axis, keepdims=keepdims),
    isnan=np.isnan,
    flip=np.flip,
    roll=np.roll,
    tril=np.tril,
    triu=np.triu,
    astype=_astype,
    getitem=lambda x, index: x[index],
    index_put_zeros=_index_put_zeros,
    constant=lambda array: array,  # a NumPy constant as F's kind of value
    dtype_of=lambda x: x.dtype,  # the NumPy dtype
    cofactor_matrix=_cofactor_matrix,  # (a, det(a), factors): det(A) A^{-T}, right where A is singular
    inverse_mT=_inverse_mT,  # (a, factors): A^{-T}
    cumprod_grad_at_zeros=_cumprod_grad_at_zeros,  # (g, x, out, axis): cumprod's rule where x has zeros
    norm_statistics=_norm_statistics,  # (x, axes, n, eps, mean, invstd): normalization's statistics
    add_batch_dim=_add_batch_dim,  # (x, dim, level, size): vmap's boundary ops
    remove_batch_dim=_remove_batch_dim,  # (x, level, size, dim)
    is_tensor=False,  # (for autograd.Function's adapter, which hands the user tensors either way)
)

class _TensorMath:
    """``ARRAY_MATH``'s names resolved to chainrule ops (adapted where the signatures differ)."""

    is_tensor = True

    def __getattr__(self, name: str):
        from .. import ops as C

        adapters = {
            "sum": lambda x, axis=None, keepdims=False: C.sum(x, dim=axis, keepdim=keepdims),
            "sum_to": C.sum_to_size,
            "mT": lambda x: C.transpose(x, -1, -2),
            "cumsum": lambda x, axis: C.cumsum(x, dim=axis),
            "cumprod": lambda x, axis: C.cumprod(x, dim=axis),
            "prod": lambda x, axis=None, keepdims=False: C.prod(x, dim=axis, keepdim=keepdims),
            "astype": lambda x, dtype: C.to(x, dtype),
            "constant": C.wrap,
            "dtype_of": lambda x: x._data.dtype,
            "cofactor_matrix": lambda a, d, factors: C.linalg_det.cofactor_matrix_graph(self, a, d),
            "inverse_mT": lambda a, factors: self.mT(self.inv(a)),
            "cumprod_grad_at_zeros": lambda g, x, out, axis: (
                C.reduce_cumulative._cumprod_grad_polynomial(self, g, x, axis)),
            "norm_statistics": lambda x, axes, n, eps, mean, invstd: (
                C.normalization.statistics(self, x, axes, n, eps)),
            "add_batch_dim": _tensor_add_batch_dim,
            "remove_batch_dim": _tensor_remove_batch_dim,
        }
        fn = adapters[name] if name in adapters else getattr(C, name)
        setattr(self, name, fn)  # resolved once
        return fn


def _tensor_add_batch_dim(x, dim, level, size):
    from ..func.vmap import _add_batch_dim as add

    return add(x, dim, level, size)


def _tensor_remove_batch_dim(x, level, size, dim):
    from ..func.vmap import _remove_batch_dim as remove

    return remove(x, level, size, dim)


_TENSOR_MATH = _TensorMath()


def tensor_math() -> _TensorMath:
    """The same interface on Tensors, through chainrule's own differentiable ops."""
    return _TENSOR_MATH


def register(name: str, array_fn, tensor_fn) -> None:
    """Add ``name`` to both namespaces, for op families defined outside ``chainrule.ops`` (the
    convolution, pooling and normalization kernels of ``chainrule.nn``): ``array_fn`` works on
    arrays, ``tensor_fn`` is the differentiable op with the same signature."""
    setattr(ARRAY_MATH, name, array_fn)
    setattr(_TENSOR_MATH, name, tensor_fn)
