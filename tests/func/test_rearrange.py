"""func.rearrange against torch.func.rearrange: shapes, values, gradients and second derivatives
over many patterns, dtypes, sequences of tensors, views, and the errors of malformed patterns and
of sizes that do not fit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from oracle import LIBS, assert_close, to_numpy

import chainrule

PATTERNS = [
    ((2, 3, 4, 5), "b c h w -> b (c h w)", {}),
    ((6, 4), "(b1 b2) h -> b1 b2 h", {"b1": 2}),
    ((6, 4), "(b1 b2) h -> b2 (h b1)", {"b1": 3, "b2": 2}),
    ((2, 3, 4), "... c -> c ...", {}),
    ((2, 3, 4), "b c h -> h (b c)", {}),
    ((2, 3, 4), "b ... -> (...) b", {}),
    ((2, 3, 4, 5), "b ... w -> w (b ...)", {}),
    ((2, 3, 4), "a ... b c -> c ... b a", {}),
    ((4, 6, 2), "(h1 h) (w1 w) c -> (h1 w1) h w c", {"h1": 2, "w1": 3}),
    ((2, 4, 6, 3), "b (h h1) (w w1) c -> b h w (c h1 w1)", {"h1": 2, "w1": 2}),
    ((2, 1, 3), "b 1 c -> b c", {}),
    ((2, 1, 3), "b () c -> c b", {}),
    ((2, 3, 4), "b 1 h -> h b", {}),  # torch sums a unit axis of any size
    ((2, 3), "b c -> b 1 c ()", {}),
    ((3,), "... -> 1 ... 1", {}),
    ((2, 3, 4), "a b c -> (a 1 b) c", {}),
    ((2, 3, 4), "a (b) c -> c (a b)", {}),
    ((2, 3), "a b -> b a", {"a": 2}),
    ((2, 3, 4), "... -> ...", {}),
    ((), " -> ", {}),
    ((), "... -> ...", {}),
    ((5,), "a -> a", {}),
    ((0, 3), "a b -> (b a)", {}),
    ((0, 3), "(a b) h -> a b h", {"a": 2}),
    ((2, 3), "B H1->H1 B", {}),
    ((2, 3), "   b   h   ->  h   b ", {}),
]


def _pair(shape, dtype="float64", seed=0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return [m.tensor(a, requires_grad=dtype.startswith("float")) for m in LIBS]


@pytest.mark.parametrize("shape, pattern, lengths", PATTERNS, ids=[p for _, p, _ in PATTERNS])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_values_and_derivatives_match_torch(shape, pattern, lengths, dtype) -> None:
    x, y = _pair(shape, dtype)
    ours = chainrule.func.rearrange(x, pattern, **lengths)
    theirs = torch.func.rearrange(y, pattern, **lengths)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert_close(ours, theirs, 1e-12, 0, pattern)
    if not theirs.requires_grad or theirs.numel() == 0:
        return
    w = np.random.default_rng(1).standard_normal(tuple(theirs.shape)).astype(dtype)
    (g1,) = chainrule.autograd.grad((ours * ours * chainrule.tensor(w)).sum(), x, create_graph=True)
    (g2,) = torch.autograd.grad((theirs * theirs * torch.tensor(w)).sum(), y, create_graph=True)
    assert_close(g1, g2, 1e-6, 1e-12, f"{pattern} gradient")
    (gg1,) = chainrule.autograd.grad(g1.sum(), x)
    (gg2,) = torch.autograd.grad(g2.sum(), y)
    assert_close(gg1, gg2, 1e-6, 1e-12, f"{pattern} second derivative")


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool"])
def test_integer_and_bool_dtypes_as_torch(dtype) -> None:
    a = np.random.default_rng(0).integers(0, 3, (2, 1, 3)).astype(dtype)
    for pattern in ("b 1 h -> h b", "b c h -> h (b c)"):
        ours = chainrule.func.rearrange(chainrule.tensor(a), pattern)
        theirs = torch.func.rearrange(torch.tensor(a), pattern)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], pattern
        np.testing.assert_array_equal(ours.numpy(), to_numpy(theirs))


def test_sequence_of_tensors_is_stacked() -> None:
    a = np.random.default_rng(0).standard_normal((3, 4))
    for make in (list, tuple):
        results = [m.func.rearrange(make([m.tensor(a), m.tensor(-a)]), "n c h -> c (h n)") for m in LIBS]
        np.testing.assert_array_equal(to_numpy(results[0]), to_numpy(results[1]))


def test_views_and_identity_as_torch() -> None:
    for m in LIBS:
        x = m.ones(2, 3, 4)
        flat = m.func.rearrange(x, "b c h -> b (c h)")
        flat[0, 0] = 5.0  # a view: writes through, as in torch
        assert float(x[0, 0, 0]) == 5.0
        s = m.tensor(1.0)
        assert m.func.rearrange(s, " -> ") is s
    x = chainrule.ones(2, 3).mT  # a non-contiguous input
    np.testing.assert_array_equal(chainrule.func.rearrange(x, "a b -> (a b)").numpy(), np.ones(6))


ERRORS = [
    ((4, 3), "b h -> h", {}),
    ((4, 3), "b h -> h b c", {}),
    ((4, 3), "b h c -> h b c", {}),
    ((4, 3), "b -> b", {}),
    ((4, 3), "b h -> h b b", {}),
    ((4, 3), "b h -> (h b", {}),
    ((4, 3), "b h -> h) b", {}),
    ((4, 3), "b h -> h ((b))", {}),
    ((4, 3), "b h - h b", {}),
    ((4, 3), "b h -> h b -> b", {}),
    ((4, 3), "b h -> h 2 b", {}),
    ((4, 3), "b h -> h 0 b", {}),
    ((4, 3), "b h -> h _b", {}),
    ((4, 3), "b h -> h b_", {}),
    ((4, 3), "b h -> h 2b", {}),
    ((4, 3), "b h -> h b!", {}),
    ((4, 3), "(...) h -> ... h", {}),
    ((4, 3), "b h -> ... h b", {}),
    ((4, 3), "b .. h -> h b", {}),
    ((4, 3), "... ... -> ...", {}),
    ((4, 3), "b h -> h b", {"c": 3}),
    ((4, 3), "b h -> h b", {"\u2026": 2}),
    ((4, 3), "a b c ... -> ...", {}),
    ((4, 3), "b h -> h b", {"b": 4.0}),
    # sizes that do not fit the tensor's shape: functorch.dim's DimensionBindError
    ((4, 3), "(b1 b2) h -> b1 b2 h", {"b1": 3}),
    ((4, 3), "(b1 b2) h -> b1 b2 h", {}),
    ((4, 3), "(b1 b2) h -> b1 b2 h", {"b1": 2, "b2": 3}),
    ((4, 3), "b h -> h b", {"b": 5}),
    ((0, 3), "(a b) h -> a b h", {"a": 0}),
]


@pytest.mark.parametrize("shape, pattern, lengths", ERRORS, ids=[f"{p} {k}" for _, p, k in ERRORS])
def test_errors_as_torch(shape, pattern, lengths) -> None:
    errors = []
    for m in LIBS:
        with pytest.raises(Exception) as info:  # noqa: PT011 (compared below)
            m.func.rearrange(m.ones(*shape), pattern, **lengths)
        errors.append(info.value)
    ours, theirs = errors
    assert type(ours).__name__ == type(theirs).__name__, (ours, theirs)
    if isinstance(theirs, ValueError | TypeError) and "{" not in str(theirs):  # (sets print in any order)
        assert str(ours) == str(theirs)


def test_keyword_axis_names_warn_as_torch() -> None:
    for m in LIBS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m.func.rearrange(m.ones(2, 3), "axis lambda -> lambda axis")
        assert {w.category for w in caught} == {FutureWarning, RuntimeWarning}
