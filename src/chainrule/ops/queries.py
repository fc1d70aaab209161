"""Questions asked of tensors at top level: ``is_nonzero``, ``is_same_size``, ``is_inference``,
``is_signed``, ``get_device``."""

from __future__ import annotations

from .._tensor import Tensor

__all__ = ["is_nonzero", "is_same_size", "is_inference", "is_signed", "get_device"]


def is_nonzero(input: Tensor) -> bool:
    """Whether a one-element tensor is nonzero (more or fewer elements are ambiguous, as in torch)."""
    n = input.numel()
    if n != 1:
        raise RuntimeError(
            f"is_nonzero: Boolean value of Tensor with {'no values' if n == 0 else 'more than one value'} is "
            "ambiguous; reduce it first (t.any(), t.all())"
        )
    return bool(input._data.reshape(()).item())


def is_same_size(input: Tensor, other: Tensor) -> bool:
    return tuple(input.shape) == tuple(other.shape)


def is_inference(input: Tensor) -> bool:
    return input.is_inference()


def is_signed(input: Tensor) -> bool:
    return input.is_signed()


def get_device(input: Tensor) -> int:
    """-1 for a CPU tensor, the GPU's index otherwise."""
    return input.get_device()
