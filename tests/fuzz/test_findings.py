"""Regression tests for what the differential fuzzer (test_differential.py) found: each is the
minimal program it reported, run in chainrule and in torch (docs/testing.md lists the findings)."""

from __future__ import annotations

import pytest
from oracle import raises_like_torch, same


def _version_error(lib, program):
    """``program(lib, x, w)`` then backward: torch's "modified by an inplace operation" error."""
    x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([0.5, 3.0], dtype=lib.float64, requires_grad=True)
    y = x * 1
    program(y, w)
    y.sum().backward()
    return x.grad, w.grad


@pytest.mark.parametrize(
    "program",
    [
        lambda y, w: y.mul_(y),
        lambda y, w: y.div_(y),
        lambda y, w: y.pow_(y),
        lambda y, w: y.atan2_(y),
        lambda y, w: y.addcmul_(y, w),
    ],
    ids=["mul_", "div_", "pow_", "atan2_", "addcmul_"],
)
def test_inplace_op_reading_its_own_tensor_fails_backward(program) -> None:
    """Found: ``y.mul_(y)`` gave 2y as the gradient. torch saves the second operand as it is, which
    the op then modifies, so backward raises; chainrule used to save a copy of both."""
    raises_like_torch(lambda lib: _version_error(lib, program), "modified by an inplace operation")


@pytest.mark.parametrize(
    "program",
    [lambda y, w: y.add_(y), lambda y, w: y.sub_(y), lambda y, w: y.lerp_(y, 0.3), lambda y, w: y.mul_(w)],
    ids=["add_", "sub_", "lerp_", "mul_ other"],
)
def test_inplace_op_reading_its_own_tensor_without_saving_it(program) -> None:
    """The ops whose derivative does not read the second operand still work, as in torch."""

    def grads(lib):
        return _version_error(lib, program)

    same(grads)
