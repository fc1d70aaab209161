"""Flatten parameters into one vector and back (for optimisers and tools that work on vectors)."""

from __future__ import annotations

from collections.abc import Iterable

from ... import ops as _ops
from ..._tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    vec = [_ops.reshape(p, (-1,)) for p in parameters]
    if not vec:
        raise RuntimeError("parameters_to_vector: expected a non-empty iterable of tensors")
    return _ops.cat(vec)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Make each parameter's data the matching slice of ``vec`` (a view: they share memory)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    pointer = 0
    data = vec._data.reshape(-1)
    for param in parameters:
        n = param.numel()
        if pointer + n > data.size:
            raise RuntimeError(
                f"vector_to_parameters: the vector has {data.size} elements, fewer than the "
                f"parameters need ({pointer + n} and more)"
            )
        param._data = data[pointer : pointer + n].reshape(param._data.shape)
        pointer += n
