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

from ..backend import any_true, zeros_for
from ..kernels.elementwise import erf_array, is_basic_index, sigmoid_array

__all__ = ["ARRAY_MATH", "tensor_math", "sum_to", "register", "bind_ops"]


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
    dt = g.dtype if dtype is None else dtype
    # another array type (vmap's batched g): zeros of that type, through the backend seam
    out = np.zeros(shape, dt) if type(g) is np.ndarray else zeros_for(shape, dt, g, index)
    if is_basic_index(index):
        out[index] = g  # basic indices never repeat an element
    else:
        np.add.at(out, index, g)
    return out


def _sign(x):
    """torch's ``sign``, ``(0 < x) - (x < 0)``: 0 at NaN, where NumPy's is NaN (norm's p=1
    gradient at a NaN is 0 in torch, as through the differentiable op)."""
    out = np.sign(x)
    if out.dtype.kind == "f" and any_true(out != out):
        out = np.where(out != out, out.dtype.type(0), out)
    return out


def _astype(x, dtype):
    return x.astype(dtype, copy=False)


ARRAY_MATH = SimpleNamespace(
    exp=np.exp,
    log=np.log,
    sin=np.sin,
    cos=np.cos,
    tan=np.tan,
    sqrt=np.sqrt,
    sign=_sign,
    log1p=np.log1p,
    sigmoid=sigmoid_array,
    erf=erf_array,
    abs=np.abs,
    tanh=np.tanh,
    cosh=np.cosh,
    sinh=np.sinh,
    square=np.square,
    reciprocal=np.reciprocal,
    where=np.where,
    floor_divide=np.floor_divide,
    trunc=np.trunc,
    maximum=np.maximum,
    minimum=np.minimum,
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
    is_tensor=False,  # (for autograd.Function's adapter, which hands the user tensors either way)
    # more are registered by the op families that define them (see ``register``): det_grad,
    # inverse_mT (linalg_det), cumprod_grad_at_zeros, norm_statistics, add/remove_batch_dim (vmap)
)

#: the namespace of differentiable ops, bound by ``chainrule.ops`` when it loads (it sits above)
_OPS = None


def bind_ops(ops) -> None:
    """Resolve ``tensor_math()``'s names in ``ops`` (called once, by ``chainrule.ops``)."""
    global _OPS
    _OPS = ops


class _TensorMath:
    """``ARRAY_MATH``'s names resolved to chainrule ops (adapted where the signatures differ)."""

    is_tensor = True

    def __getattr__(self, name: str):
        C = _OPS
        if C is None:
            raise RuntimeError(f"tensor_math().{name}: chainrule.ops is not loaded yet (import chainrule)")
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
        }
        fn = adapters[name] if name in adapters else getattr(C, name)
        setattr(self, name, fn)  # resolved once
        return fn


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
