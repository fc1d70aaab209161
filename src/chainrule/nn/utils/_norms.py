"""The arithmetic shared by the weight-norm and spectral-norm reparametrizations, old and new:
``norm_except_dim``, ``weight_norm``'s ``v * g / ||v||``, and the power iteration's matrix view."""

from __future__ import annotations

import numpy as np

from ... import ops as C
from ..._tensor import Tensor

__all__ = ["norm_except_dim", "weight_norm_value", "weight_as_matrix", "normalized_array"]


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """The ``pow``-norm of ``v`` over every dim but ``dim``, shaped to broadcast against ``v``
    (torch's ``norm_except_dim``); ``dim=-1`` means the norm of the whole tensor (0-d)."""
    if dim == -1:
        return C.norm(v, pow)
    if dim < 0:
        dim += v.ndim
    if dim != 0:
        return C.transpose(norm_except_dim(C.transpose(v, 0, dim), pow, 0), 0, dim)
    norms = C.norm(C.reshape(v, (v.shape[0], -1)), pow, 1)
    return C.reshape(norms, (v.shape[0],) + (1,) * (v.ndim - 1))


def weight_norm_value(v: Tensor, g: Tensor, dim: int) -> Tensor:
    """``v * (g / ||v||)`` with the norm taken by ``norm_except_dim(v, 2, dim)`` (torch's
    ``_weight_norm``)."""
    return v * (g / norm_except_dim(v, 2, dim))


def weight_as_matrix(weight: Tensor, dim: int) -> Tensor:
    """``weight`` with ``dim`` first, flattened to ``(weight.shape[dim], -1)``."""
    if dim != 0:
        weight = C.permute(weight, (dim,) + tuple(d for d in range(weight.ndim) if d != dim))
    return C.reshape(weight, (weight.shape[0], -1))


def normalized_array(a: np.ndarray, eps: float) -> np.ndarray:
    """``F.normalize(a, dim=0, eps=eps)`` on a raw vector."""
    return a / max(float(np.sqrt(np.dot(a, a))), eps)
