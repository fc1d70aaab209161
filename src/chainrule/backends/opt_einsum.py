"""``torch.backends.opt_einsum``: chainrule's einsum contracts in NumPy's order (``optimize`` as
NumPy picks), not through the opt_einsum package: ``is_available()`` False, as torch answers
without that package."""

from __future__ import annotations

__all__ = ["is_available", "get_opt_einsum"]

enabled = False
strategy = None


def is_available() -> bool:
    return False


def get_opt_einsum():
    return None
