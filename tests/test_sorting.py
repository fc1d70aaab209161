"""Sorting, selection and diagonals where the op registry's random inputs do not reach: NaN order,
errors, and the diagonal view sharing memory and version counter with its input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import assert_close

import chainrule

NAN = float("nan")
VALUES = [[3.0, NAN, 1.0, NAN, 2.0, -1.0], [NAN, 0.5, 4.0, -2.0, 1.5, 0.0]]


def _both(fn):
    ours = fn(chainrule, chainrule.tensor(VALUES, dtype=chainrule.float64))
    theirs = fn(torch, torch.tensor(VALUES, dtype=torch.float64))
    ours, theirs = (ours, theirs) if isinstance(theirs, tuple) else ((ours,), (theirs,))
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert_close(o, t, 0, 0, "NaN order")


@pytest.mark.parametrize(
    "fn",
    [
        lambda m, x: m.sort(x),
        lambda m, x: m.sort(x, descending=True),
        lambda m, x: m.sort(x, 0, descending=True),
        lambda m, x: m.argsort(x, descending=True),
        lambda m, x: m.topk(x, 3),
        lambda m, x: m.kthvalue(x, 5),
        lambda m, x: m.median(x),
        lambda m, x: m.median(x, 1),
        lambda m, x: m.median(x, 0, keepdim=True),
        lambda m, x: m.median(x[:, 2:]),
    ],
    ids=[
        "sort",
        "sort descending",
        "sort dim 0 descending",
        "argsort",
        "topk",
        "kthvalue",
        "median",
        "median dim",
        "median dim 0",
        "median without nan",
    ],
)
def test_nan_order_matches_torch(fn) -> None:
    _both(fn)


def test_median_gradient_with_nan_goes_to_the_nans() -> None:
    grads = []
    for m in (chainrule, torch):
        x = m.tensor([1.0, NAN, 2.0, NAN], requires_grad=True)
        m.median(x).backward()
        grads.append(x.grad)
    assert_close(grads[0], grads[1], 0, 0, "median grad with nan")


@pytest.mark.parametrize(
    "fn",
    [
        lambda m: m.topk(m.ones(3), 4),
        lambda m: m.topk(m.ones(3), -1),
        lambda m: m.kthvalue(m.ones(3), 0),
        lambda m: m.kthvalue(m.ones(3), 4),
        lambda m: m.kthvalue(m.ones(0), 1),
        lambda m: m.median(m.ones(2, 0), 1),
        lambda m: m.sort(m.ones(3), 1),
        lambda m: m.trace(m.ones(2, 2, 2)),
        lambda m: m.diag(m.ones(2, 2, 2)),
        lambda m: m.diagonal(m.ones(3)),
        lambda m: m.diagonal(m.ones(3, 3), 0, 1, -1),
        lambda m: m.diff(m.tensor(1.0)),
        lambda m: m.median(m.tensor([True, False])),
        lambda m: m.median(m.tensor([True, False]), 0),
        lambda m: m.kthvalue(m.tensor([True, False]), 1),
        lambda m: m.topk(m.tensor([True, False]), 1),
        lambda m: m.trace(m.ones(2, 2, dtype=m.bool)),
    ],
)
def test_errors_match_torch(fn) -> None:
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(type(theirs.value)):
        fn(chainrule)


def test_edge_values_match_torch() -> None:
    for fn in (
        lambda m: m.median(m.ones(0)),
        lambda m: m.topk(m.tensor(2.0), 0),
        lambda m: m.sort(m.ones(2, 0), 1),
        lambda m: m.diff(m.arange(5.0), n=7),
        lambda m: m.diagonal(m.ones(2, 3), 5),
    ):
        ours, theirs = fn(chainrule), fn(torch)
        ours, theirs = (ours, theirs) if isinstance(theirs, tuple) else ((ours,), (theirs,))
        for o, t in zip(ours, theirs):
            assert_close(o, t, 0, 0, "edge case")


def test_diagonal_is_a_writable_view_sharing_the_version_counter() -> None:
    x = chainrule.zeros(3, 4)
    d = chainrule.diagonal(x, 1)
    assert np.shares_memory(d.numpy(), x.numpy())
    before = x._version
    d.add_(1.0)
    assert x._version == d._version > before
    expected = torch.zeros(3, 4)
    torch.diagonal(expected, 1).add_(1.0)
    assert_close(x, expected, 0, 0, "write through the diagonal view")


def test_linalg_diagonal_is_a_view_too() -> None:
    x = chainrule.zeros(2, 3, 3)
    chainrule.linalg.diagonal(x, offset=-1).add_(1.0)
    expected = torch.zeros(2, 3, 3)
    torch.linalg.diagonal(expected, offset=-1).add_(1.0)
    assert_close(x, expected, 0, 0, "write through linalg.diagonal")


def test_diag_of_a_matrix_is_a_copy() -> None:
    x = chainrule.zeros(3, 3)
    d = chainrule.diag(x)
    d.add_(1.0)
    assert float(x.sum()) == 0.0


def test_results_unpack_and_name_their_fields() -> None:
    x = chainrule.tensor([3.0, 1.0, 2.0])
    for result in (x.sort(), x.topk(2), x.kthvalue(2), x.median(0)):
        values, indices = result
        assert result.values is values and result.indices is indices
        assert indices.dtype == chainrule.int64


@pytest.mark.parametrize(
    "fn",
    [
        lambda m, a: m.diagonal(a, 1),
        lambda m, a: m.trace(a),
        lambda m, a: m.diag(a, -1),
        lambda m, a: m.diag(a[0], 1),
        lambda m, a: m.sort(a, 1)[0],
        lambda m, a: m.topk(a, 2)[0],
        lambda m, a: m.kthvalue(a, 2, 0)[0],
        lambda m, a: m.median(a),
        lambda m, a: m.median(a, 1)[0],
        lambda m, a: m.diff(a, 2, 0),
    ],
    ids=[
        "diagonal",
        "trace",
        "diag 2-D",
        "diag 1-D",
        "sort",
        "topk",
        "kthvalue",
        "median",
        "median dim",
        "diff",
    ],
)
def test_under_vmap_matches_torch(fn) -> None:
    """Per-sample values and per-sample gradients through vmap(grad(...)), as torch.func."""
    x = np.random.default_rng(0).standard_normal((5, 3, 4))
    ours = chainrule.func.vmap(lambda a: fn(chainrule, a))(chainrule.tensor(x))
    theirs = torch.func.vmap(lambda a: fn(torch, a))(torch.tensor(x))
    assert_close(ours, theirs, 1e-12, 1e-12, "vmap value")
    ours = chainrule.func.vmap(chainrule.func.grad(lambda a: (fn(chainrule, a) ** 2).sum()))(
        chainrule.tensor(x)
    )
    theirs = torch.func.vmap(torch.func.grad(lambda a: (fn(torch, a) ** 2).sum()))(torch.tensor(x))
    assert_close(ours, theirs, 1e-12, 1e-12, "vmap gradient")


def test_median_under_vmap_with_nan_lanes() -> None:
    x = np.array([[[1.0, NAN, 3.0], [2.0, 0.0, 1.0]], [[NAN, NAN, 1.0], [5.0, 4.0, 6.0]]])
    ours = chainrule.func.vmap(lambda a: chainrule.median(a, 1))(chainrule.tensor(x))
    theirs = torch.func.vmap(lambda a: torch.median(a, 1))(torch.tensor(x))
    for o, t in zip(ours, theirs):
        assert_close(o, t, 0, 0, "median under vmap")


@pytest.mark.parametrize(
    "fn",
    [
        lambda m, x: m.sort(x)[0],
        lambda m, x: m.topk(x, 2)[0],
        lambda m, x: m.kthvalue(x, 1)[0],
        lambda m, x: m.median(x),
        lambda m, x: m.median(x, 0)[0],
        lambda m, x: m.diagonal(x),
        lambda m, x: m.diag(x[0]),
        lambda m, x: m.trace(x),
        lambda m, x: m.diff(x),
    ],
    ids=["sort", "topk", "kthvalue", "median", "median dim", "diagonal", "diag 1-D", "trace", "diff"],
)
def test_grad_fn_names_match_torch(fn) -> None:
    ours = fn(chainrule, chainrule.ones(3, 3, requires_grad=True)).grad_fn.name()
    theirs = type(fn(torch, torch.ones(3, 3, requires_grad=True)).grad_fn).__name__
    assert ours == theirs


@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_along_a_dim_reports_torchs_index_among_ties(name) -> None:
    """Which of tied elements median(dim) and nanmedian(dim) report: torch 2.13 gives the stable
    sort's (the first tied element at the median's sorted position; a NaN lane of median its first
    NaN), unlike kthvalue's quickselect (kernels/quickselect.py). Tie-heavy lanes of several
    dtypes, with NaNs, along either dim of a C- or F-ordered input, as torch."""
    rng = np.random.default_rng(5)
    dtypes = [np.float64, np.float32, np.float16, np.int64, np.int32, np.uint8]
    for trial in range(90):
        dtype = dtypes[trial % len(dtypes)]
        x = rng.integers(0, int(rng.integers(1, 5)), (3, int(rng.integers(1, 70)))).astype(dtype)
        if x.dtype.kind == "f" and trial % 2:
            x[rng.random(x.shape) < 0.3] = np.nan
        if trial % 3 == 0:
            x = np.asfortranarray(x)
        dim = trial % 2
        theirs = getattr(torch, name)(torch.from_numpy(x.copy()), dim)
        ours = getattr(chainrule, name)(chainrule.tensor(x), dim)
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy(), err_msg=f"{x}, dim {dim}")
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
