"""Errors of the product ops: the same exception type as torch, and a message that names the op,
the shapes and the dims at fault."""

from __future__ import annotations

import pytest
import torch

import chainrule


def _both(fn, *shapes, dtypes=None):
    """Call ``fn(lib, *tensors)`` with torch and chainrule; return (torch's error, ours)."""
    dtypes = dtypes or ["float32"] * len(shapes)
    errors = []
    for lib in (torch, chainrule):
        xs = [lib.ones(s, dtype=getattr(lib, d)) for s, d in zip(shapes, dtypes)]
        with pytest.raises(Exception) as info:
            fn(lib, *xs)
        errors.append(info.value)
    theirs, ours = errors
    assert type(ours) is type(theirs), f"chainrule raised {type(ours)!r}, torch {type(theirs)!r}"
    return theirs, ours


def _has(message: str, *parts: str) -> None:
    for part in parts:
        assert part in message, f"{part!r} missing from: {message}"


@pytest.mark.parametrize(
    "shapes, dims",
    [
        (((2, 3), (4, 5)), ("(3)", "(4)")),
        (((3,), (4, 5)), ("(3)", "(4)")),
        (((2, 3, 4), (5, 2)), ("(4)", "(5)")),
        (((2, 3), (4,)), ("(3)", "(4)")),
        (((6, 2, 3), (4,)), ("(3)", "(4)")),
    ],
)
def test_matmul_inner_dim_mismatch(shapes, dims) -> None:
    _, ours = _both(lambda m, a, b: m.matmul(a, b), *shapes)
    msg = str(ours)
    _has(msg, "matmul", "not aligned", *dims)
    for s in shapes:
        _has(msg, str(tuple(s)))


def test_matmul_operator_error_names_matmul() -> None:
    _, ours = _both(lambda m, a, b: a @ b, (2, 3), (4, 5))
    _has(
        str(ours),
        "matmul: shapes (2, 3) and (4, 5) are not aligned: the last dim of the "
        "first (3) must equal the second-to-last dim of the second (4)",
    )


def test_matmul_vector_vector_mismatch() -> None:
    _, ours = _both(lambda m, a, b: m.matmul(a, b), (3,), (4,))
    _has(str(ours), "matmul", "(3,)", "(4,)", "only dim")


def test_matmul_batch_dims_do_not_broadcast() -> None:
    _, ours = _both(lambda m, a, b: m.matmul(a, b), (2, 2, 3), (3, 3, 4))
    _has(str(ours), "matmul", "batch dims", "(2, 2, 3)", "(3, 3, 4)")


def test_matmul_zero_dim() -> None:
    for shapes in (((), (3,)), ((3,), ())):
        _, ours = _both(lambda m, a, b: m.matmul(a, b), *shapes)
        _has(str(ours), "matmul", "at least 1 dimension")


def test_matmul_dtype_mismatch() -> None:
    _, ours = _both(lambda m, a, b: m.matmul(a, b), (2, 3), (3, 4), dtypes=["float32", "float64"])
    _has(str(ours), "matmul", "float32", "float64")


@pytest.mark.parametrize("shapes", [((3,), (3, 2)), ((2, 3), (3,)), ((1, 2, 3), (3, 2))])
def test_mm_rank(shapes) -> None:
    _, ours = _both(lambda m, a, b: m.mm(a, b), *shapes)
    _has(str(ours), "mm", "2-D", *(str(tuple(s)) for s in shapes))


def test_mm_inner_dim_mismatch() -> None:
    _, ours = _both(lambda m, a, b: m.mm(a, b), (2, 3), (4, 2))
    _has(str(ours), "mm: shapes (2, 3) and (4, 2) are not aligned", "(3)", "(4)")


@pytest.mark.parametrize("shapes", [((2, 3), (2, 3, 4)), ((2, 2, 3), (2, 3)), ((1, 2, 2, 3), (1, 2, 3, 4))])
def test_bmm_rank(shapes) -> None:
    _, ours = _both(lambda m, a, b: m.bmm(a, b), *shapes)
    _has(str(ours), "bmm", "3-D", *(str(tuple(s)) for s in shapes))


def test_bmm_batch_mismatch_and_inner_mismatch() -> None:
    _, ours = _both(lambda m, a, b: m.bmm(a, b), (2, 2, 3), (3, 3, 4))
    _has(str(ours), "bmm", "batch", "(2, 2, 3)", "(3, 3, 4)")
    _, ours = _both(lambda m, a, b: m.bmm(a, b), (2, 2, 3), (2, 4, 4))
    _has(str(ours), "bmm", "not aligned", "(3)", "(4)")


@pytest.mark.parametrize(
    "shapes, ranks", [(((2, 3), (3,)), "2D and 1D"), (((3,), (3, 1)), "1D and 2D"), (((), (1,)), "0D and 1D")]
)
def test_dot_rank(shapes, ranks) -> None:
    theirs, ours = _both(lambda m, a, b: m.dot(a, b), *shapes)
    _has(str(ours), "dot", "1D tensors expected", ranks)
    _has(str(theirs), ranks)


def test_dot_length_mismatch_matches_torch_wording() -> None:
    theirs, ours = _both(lambda m, a, b: m.dot(a, b), (3,), (4,))
    _has(str(ours), "dot", "expected tensor [3] and src [4] to have the same number of elements")
    _has(str(theirs), "expected tensor [3] and src [4] to have the same number of elements")


def test_dot_dtype_mismatch() -> None:
    _, ours = _both(lambda m, a, b: m.dot(a, b), (3,), (3,), dtypes=["float32", "float64"])
    _has(str(ours), "dot", "same dtype")


def test_mv_and_outer_and_inner_errors() -> None:
    _, ours = _both(lambda m, a, b: m.mv(a, b), (3,), (3,))
    _has(str(ours), "mv", "(3,)")
    _, ours = _both(lambda m, a, b: m.mv(a, b), (2, 3), (4,))
    _has(str(ours), "mv", "(2, 3)", "(4,)", "(3)", "(4)")
    _, ours = _both(lambda m, a, b: m.outer(a, b), (2, 3), (3,))
    _has(str(ours), "outer", "(2, 3)")
    _, ours = _both(lambda m, a, b: m.inner(a, b), (3,), (4,))
    _has(str(ours), "inner", "last dimension must match", "(3,)", "(4,)")


# ---- einsum: torch's wording (prefixed "einsum():"), checked phrase by phrase --------------------
@pytest.mark.parametrize(
    "equation, shapes, phrase",
    [
        (
            "ij,jk",
            [(2, 3), (4, 5)],
            "subscript j has size 4 for operand 1 which does not broadcast with previously seen size 3",
        ),
        ("ii->i", [(2, 3)], "subscript i is repeated for operand 0 but the sizes don't match, 3 != 2"),
        ("ij,jk", [(2, 3)], "fewer operands were provided than specified in the equation"),
        ("ij", [(2, 3), (3,)], "more operands were provided than specified in the equation"),
        (
            "ijk",
            [(2, 3)],
            "the number of subscripts in the equation (3) does not match the number of "
            "dimensions (2) for operand 0 and no ellipsis was given",
        ),
        ("ij->ii", [(2, 3)], "output subscript i appears more than once in the output"),
        ("ij->k", [(2, 3)], "output subscript k does not appear in the equation for any input operand"),
        (
            "i1->i",
            [(2, 3)],
            "invalid subscript given at index 1 in the equation string, subscripts must be in [a-zA-Z]",
        ),
    ],
)
def test_einsum_errors_match_torch(equation, shapes, phrase) -> None:
    theirs, ours = _both(lambda m, *xs: m.einsum(equation, *xs), *shapes)
    _has(str(theirs), "einsum(): " + phrase)
    _has(str(ours), "einsum(): " + phrase)


def test_einsum_dtype_mismatch() -> None:
    theirs, ours = _both(lambda m, a, b: m.einsum("i,i->", a, b), (3,), (3,), dtypes=["float32", "float64"])
    _has(str(ours), "einsum", "float32", "float64")
