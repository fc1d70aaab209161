"""``torch.norm``: the legacy entry point that dispatches to ``linalg.vector_norm`` or
``linalg.matrix_norm`` by its ``p``."""

from __future__ import annotations

from ._common import Tensor, as_tensor
from .linalg_norms import matrix_norm
from .reduce_norm import vector_norm

__all__ = ["norm"]


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, out=None, dtype=None) -> Tensor:
    """``torch.norm``: the vector p-norm over ``dim`` (all elements when None), or a matrix norm.

    A number ``p`` (0, 1, 2, inf, -inf, any float) is always a vector norm, also over two dims,
    as torch computes it. ``'fro'`` over at most two dims is the vector 2-norm; ``'nuc'`` (and
    ``'fro'`` over more dims, which raises) go to ``linalg.matrix_norm`` with ``dim`` (all dims
    when None: the input must then be 2-D).
    """
    if out is not None:
        raise TypeError("norm: out= is not supported; use the returned tensor")
    if isinstance(p, str):
        dims = dim if dim is None or isinstance(dim, int) else tuple(dim)
        if p == "fro" and (dims is None or isinstance(dims, int) or len(dims) <= 2):
            return vector_norm(input, 2, dim, keepdim, dtype=dtype)
        x = as_tensor(input, "norm")
        if dims is None:
            dims = tuple(range(x.ndim))
        return matrix_norm(x, p, dims, keepdim, dtype=dtype)
    return vector_norm(input, 2.0 if p is None else p, dim, keepdim, dtype=dtype)
