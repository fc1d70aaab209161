"""Hypothesis strategies for argument shapes."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

SPECS: list = []


def any_shape(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4):
    """One argument of any shape (scalars included by default)."""
    return array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side).map(
        lambda s: (s,)
    )


def broadcastable(n: int = 2, min_dims: int = 0, max_dims: int = 3, max_side: int = 4):
    """``n`` argument shapes that broadcast together (torch's and NumPy's rules agree)."""
    return mutually_broadcastable_shapes(
        num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side
    ).map(lambda bs: tuple(bs.input_shapes))


def fixed(*cases):
    """Choose among explicit cases; each case is a tuple of shapes, one per argument."""
    return st.sampled_from(list(cases))
