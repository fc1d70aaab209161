"""In-place forms of the scatter, index and cumulative ops: ``x.scatter_(...)``,
``x.index_put_(...)``, ``x.cumsum_(dim)`` ...

Each runs its out-of-place op through ``apply_inplace``, so views, version counters and autograd
history behave as for ``add_``. As in torch, the tensor written to is not broadcast: an op whose
result would have another shape (a mask larger than the tensor) raises.
"""

from __future__ import annotations

from ._common import Tensor
from .creation import clone
from .gather import index_add, index_copy, index_fill, masked_fill, scatter, scatter_add
from .index import index_put
from .inplace import apply_inplace
from .reduce_cumulative import cumprod, cumsum
from .reduce_extra import renorm
from .scatter_reduce import index_reduce, masked_scatter, put, scatter_reduce

__all__ = [
    "scatter_",
    "scatter_add_",
    "scatter_reduce_",
    "index_add_",
    "index_copy_",
    "index_fill_",
    "index_reduce_",
    "index_put_",
    "masked_fill_",
    "masked_scatter_",
    "put_",
    "cumsum_",
    "cumprod_",
    "renorm_",
]


def _in_place(who: str, self: Tensor, compute) -> Tensor:
    def same_shape():
        result = compute()
        if tuple(result.shape) != tuple(self.shape):
            raise RuntimeError(
                f"{who}: output with shape {list(self.shape)} doesn't match the broadcast shape "
                f"{list(result.shape)} (a tensor changed in place is not broadcast; use the "
                "out-of-place op)"
            )
        return result

    return apply_inplace(who, self, same_shape)


def scatter_(self: Tensor, dim: int, index: Tensor, src=None, value=None, *, reduce: str | None = None):
    """In-place ``scatter``."""
    return _in_place("scatter_", self, lambda: scatter(self, dim, index, src, value, reduce=reduce))


def scatter_add_(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """In-place ``scatter_add``."""
    return _in_place("scatter_add_", self, lambda: scatter_add(self, dim, index, src))


def scatter_reduce_(
    self: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """In-place ``scatter_reduce``."""
    return _in_place(
        "scatter_reduce_",
        self,
        lambda: scatter_reduce(self, dim, index, src, reduce, include_self=include_self),
    )


def index_add_(self: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """In-place ``index_add``."""
    return _in_place("index_add_", self, lambda: index_add(self, dim, index, source, alpha=alpha))


def index_copy_(self: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """In-place ``index_copy``."""
    return _in_place("index_copy_", self, lambda: index_copy(self, dim, index, source))


def index_fill_(self: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """In-place ``index_fill``."""
    return _in_place("index_fill_", self, lambda: index_fill(self, dim, index, value))


def index_reduce_(
    self: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """In-place ``index_reduce``."""
    return _in_place(
        "index_reduce_",
        self,
        lambda: index_reduce(self, dim, index, source, reduce, include_self=include_self),
    )


def index_put_(self: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """In-place ``index_put``: ``self[indices] = values`` (or ``+=`` with ``accumulate``, where
    repeated indices add up)."""
    return _in_place("index_put_", self, lambda: index_put(self, indices, values, accumulate))


def masked_fill_(self: Tensor, mask: Tensor, value) -> Tensor:
    """In-place ``masked_fill``."""
    return _in_place("masked_fill_", self, lambda: masked_fill(self, mask, value))


def masked_scatter_(self: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """In-place ``masked_scatter``."""
    return _in_place("masked_scatter_", self, lambda: masked_scatter(self, mask, source))


def put_(self: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """In-place ``put``."""
    return _in_place("put_", self, lambda: put(self, index, source, accumulate))


def cumsum_(self: Tensor, dim: int, *, dtype=None) -> Tensor:
    """In-place ``cumsum``."""
    return _in_place("cumsum_", self, lambda: cumsum(self, dim, dtype=dtype))


def cumprod_(self: Tensor, dim: int, *, dtype=None) -> Tensor:
    """In-place ``cumprod``."""
    return _in_place("cumprod_", self, lambda: cumprod(self, dim, dtype=dtype))


def renorm_(self: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """In-place ``renorm``."""
    # on a clone: renorm's inner norm node must not read the memory being overwritten
    return _in_place("renorm_", self, lambda: renorm(clone(self), p, dim, maxnorm))
