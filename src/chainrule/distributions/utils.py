"""Helpers shared by the distributions (torch.distributions.utils): broadcasting parameters,
probabilities <-> logits, clamping, and the lazily computed property."""

from __future__ import annotations

import numbers
from functools import update_wrapper

import numpy as np

from .. import ops as _ops
from .._dtype import get_default_dtype
from .._tensor import Tensor
from ..ops.activation import softplus as _softplus
from ..ops.loss import binary_cross_entropy_with_logits as _bce_with_logits

__all__ = [
    "broadcast_all",
    "clamp_probs",
    "lazy_property",
    "logits_to_probs",
    "probs_to_logits",
    "tril_matrix_to_vec",
    "vec_to_tril_matrix",
]


def finfo_eps(x: Tensor) -> float:
    return float(np.finfo(x._data.dtype if x._data.dtype.kind == "f" else get_default_dtype().np).eps)


def finfo_tiny(x: Tensor) -> float:
    return float(np.finfo(x._data.dtype if x._data.dtype.kind == "f" else get_default_dtype().np).tiny)


def broadcast_all(*values):
    """Broadcast tensors and numbers to one shape; numbers become tensors of the tensors' dtype (the
    default dtype when all are numbers)."""
    if not all(isinstance(v, Tensor | numbers.Number) for v in values):
        raise ValueError(
            "Input arguments must all be instances of numbers.Number, torch.Tensor or objects "
            "implementing __torch_function__."
        )
    if not all(isinstance(v, Tensor) for v in values):
        dtype = get_default_dtype()
        for value in values:
            if isinstance(value, Tensor):
                dtype = value.dtype
                break
        values = [v if isinstance(v, Tensor) else _ops.tensor(v, dtype=dtype) for v in values]
    return _ops.broadcast_tensors(*values)


def _standard_normal(shape, dtype):
    return _ops.randn(tuple(shape), dtype=dtype)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    if is_binary:
        return _ops.sigmoid(logits)
    return _ops.softmax(logits, dim=-1)


def clamp_probs(probs: Tensor) -> Tensor:
    eps = finfo_eps(probs)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return _ops.log(ps_clamped) - _ops.log1p(-ps_clamped)
    return _ops.log(ps_clamped)


def softplus(x: Tensor) -> Tensor:
    """``nn.functional.softplus`` (its op; nn sits beside this package, not below it)."""
    return _softplus(x)


def bce_with_logits(logits: Tensor, target: Tensor) -> Tensor:
    """Element-wise ``binary_cross_entropy_with_logits(..., reduction="none")``."""
    return _bce_with_logits(logits, target)


def xlogy(x, y: Tensor) -> Tensor:
    """``x * log(y)``, 0 where x == 0."""
    x = x if isinstance(x, Tensor) else _ops.full_like(y, float(x))
    with np.errstate(invalid="ignore", divide="ignore"):  # torch's xlogy is silent for y <= 0
        return _ops.where(x == 0, _ops.zeros_like(y), x * _ops.log(_ops.where(x == 0, _ops.ones_like(y), y)))


class lazy_property:  # noqa: N801 (torch's name)
    """A property computed on first access and cached on the instance; under ``no_grad`` when read
    as a class attribute, as torch's."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    n = mat.shape[-1]
    rows, cols = np.tril_indices(n, k=diag)
    return mat[..., _ops.tensor(rows), _ops.tensor(cols)]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    n = int(
        (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    )
    rows, cols = np.tril_indices(n, k=diag)
    flat_index = _ops.tensor(rows * n + cols)
    out = _ops.zeros((*vec.shape[:-1], n * n), dtype=vec.dtype)
    out = (
        out.index_add(-1, flat_index, vec)
        if hasattr(out, "index_add")
        else out.scatter(-1, flat_index.expand(*vec.shape), vec)
    )
    return out.reshape(*vec.shape[:-1], n, n)
