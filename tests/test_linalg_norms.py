"""linalg.matrix_norm, cond, matrix_rank and diagonal beyond the op specs: special values (empty,
singular, zero, ill-conditioned matrices) and tolerance rules against torch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from oracle import LIBS, both, same_or_same_error

import chainrule


# ---- norms, cond and rank: special values --------------------------------------------------------
@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (2, 0, 3)])
@pytest.mark.parametrize("ord", ["fro", "nuc", 2, 1, -1, math.inf, -math.inf])
def test_matrix_norm_of_empty_matrices(shape, ord) -> None:
    try:
        theirs = torch.linalg.matrix_norm(torch.zeros(shape), ord)
    except IndexError:
        with pytest.raises(IndexError):
            chainrule.linalg.matrix_norm(chainrule.zeros(shape), ord)
        return
    ours = chainrule.linalg.matrix_norm(chainrule.zeros(shape), ord)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("p", [None, 2, -2, 1, -1, math.inf, -math.inf, "fro", "nuc"])
@pytest.mark.parametrize(
    "matrix",
    [
        np.ones((2, 2)),
        np.zeros((2, 2)),
        np.stack([np.eye(2), np.ones((2, 2))]),
        np.diag([1.0, 1e-9]),
        np.zeros((2, 0, 0)),
    ],
    ids=["singular", "zero", "batch with a singular matrix", "ill-conditioned", "empty"],
)
def test_cond_special_values_match_torch(p, matrix) -> None:
    ours, theirs = both(lambda m, x: m.linalg.cond(x, p), matrix)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, equal_nan=True)


def test_cond_two_norm_is_differentiable() -> None:
    a = np.random.default_rng(11).standard_normal((3, 4))
    grads = []
    for lib in LIBS:
        x = lib.tensor(a, requires_grad=True)
        grads.append(lib.autograd.grad(lib.linalg.cond(x), x)[0].detach().numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-8, atol=1e-10)


RANK_CALLS = {
    "default": lambda m, x: m.linalg.matrix_rank(x),
    "tol positional": lambda m, x: m.linalg.matrix_rank(x, 0.5),
    "tol keyword": lambda m, x: m.linalg.matrix_rank(x, tol=1e-3),
    "atol and rtol": lambda m, x: m.linalg.matrix_rank(x, atol=1.0, rtol=0.1),
    "rtol only": lambda m, x: m.linalg.matrix_rank(x, rtol=0.1),
    "atol 0 keeps the default rtol": lambda m, x: m.linalg.matrix_rank(x, atol=0.0),
    "rtol tensor": lambda m, x: m.linalg.matrix_rank(x, rtol=m.tensor(0.3)),
    "atol per batch": lambda m, x: m.linalg.matrix_rank(x, atol=m.tensor([0.1, 100.0])),
    "hermitian": lambda m, x: m.linalg.matrix_rank(x @ x.mT, hermitian=True),
    "hermitian tol": lambda m, x: m.linalg.matrix_rank(x @ x.mT, 0.6, True),
}


@pytest.mark.parametrize("name", list(RANK_CALLS))
def test_matrix_rank_matches_torch(name) -> None:
    rng = np.random.default_rng(12)
    a = rng.standard_normal((2, 4, 2)) @ rng.standard_normal((2, 2, 5))  # rank 2
    a[1] += np.diag([0.0, 0.0, 0.0, 1e-9]) @ rng.standard_normal((4, 5))  # nearly rank 2
    ours, theirs = both(RANK_CALLS[name], a)
    assert str(ours.dtype).endswith("int64")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_matrix_rank_of_empty_matrices() -> None:
    ours, theirs = both(lambda m, x: m.linalg.matrix_rank(x), np.ones((2, 0, 3)))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("offset,dims", [(0, (-2, -1)), (1, (0, 2)), (-2, (2, 1)), (5, (0, 1))])
def test_linalg_diagonal_matches_torch(offset, dims) -> None:
    a = np.arange(24.0).reshape(2, 3, 4)
    ours, theirs = both(lambda m, x: m.linalg.diagonal(x, offset=offset, dim1=dims[0], dim2=dims[1]), a)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# ---- empty inputs (tests/test_empty_inputs.py sweeps the specs; these pin each rule) --------------
@pytest.mark.parametrize(
    "shape, dim",
    [((0,), None), ((2, 0, 0), None), ((0, 1), 1), ((0, 1), 0), ((2, 0), 1), ((2, 0), 0), ((2, 0), (0, 1))],
)
@pytest.mark.parametrize("ord", [-1, -0.5, math.inf, -math.inf, 0, 1, 2])
def test_vector_norm_without_identity_refuses_only_an_empty_reduction(shape, dim, ord) -> None:
    """ord < 0 and inf have no identity: torch refuses an empty tensor reduced whole or a reduced
    dim of size 0, and reduces non-empty dims of an empty tensor to an empty result."""
    same_or_same_error(
        lambda m, x: m.linalg.vector_norm(x, ord, dim), [shape], fragments=["vector_norm", str(list(shape))]
    )


@pytest.mark.parametrize("shapes", [[(2, 3, 0), (2, 4, 0)], [(0, 1, 1), (1, 1, 1)], [(2, 0, 3), (2, 4, 3)]])
@pytest.mark.parametrize("p", [math.inf, 1.0, 2.0])
def test_cdist_of_points_with_no_features_is_zero(shapes, p) -> None:
    same_or_same_error(lambda m, a, b: m.cdist(a, b, p=p), shapes)


@pytest.mark.parametrize(
    "shape, dim",
    [((0, 4), (-2, -1)), ((4, 0), (-2, -1)), ((2, 3, 0), (2, 0)), ((3, 0, 0), (2, 0)), ((0, 2, 2), (-2, -1))],
)
@pytest.mark.parametrize("ord", [1, -1, 2, -2, math.inf, -math.inf, "nuc", "fro"])
def test_matrix_norm_of_empty_matrices_keeps_the_graph_unless_the_max_is_over_nothing(
    shape, dim, ord
) -> None:
    """torch's 1 / inf / 2 norms are a constant 0 only where their max runs over no element; else
    the max of (empty) sums, with zero gradients; the min over nothing is amin's IndexError."""
    same_or_same_error(lambda m, a: m.linalg.matrix_norm(a, ord, dim), [shape])
