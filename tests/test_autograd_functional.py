"""chainrule.autograd.functional against torch.autograd.functional on the same functions: jacobian,
hessian, vjp, jvp, hvp and vhp, with tensor / tuple conventions, create_graph, strict, vectorize
and the forward-mode strategies, and torch's error messages."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.autograd.functional as TF
from oracle import assert_same_tree
from oracle import tensor_of as T  # a float64 tensor of the values, in either library

import chainrule
import chainrule.autograd.functional as CF

RNG = np.random.default_rng(0)
A = RNG.standard_normal(3)
B = RNG.standard_normal((2, 3))
LIBS = ((torch, TF), (chainrule, CF))


def two_in_two_out(lib, x, y):
    return lib.sin(x) * y, (y * y.exp()).sum(0) * x


def scalar_of_two(lib, x, y):
    return (lib.sin(x) * y).sum() * (x * x).sum()


CASES = {
    "jacobian tensor -> tensor": lambda lib, F, **kw: F.jacobian(
        lambda x: x.sin() * x.sum(), T(lib, A), **kw
    ),
    "jacobian 1-tuple": lambda lib, F, **kw: F.jacobian(lambda x: (x.sin() * x.sum(),), (T(lib, A),), **kw),
    "jacobian tuple -> tuple": lambda lib, F, **kw: F.jacobian(
        lambda x, y: two_in_two_out(lib, x, y), (T(lib, A), T(lib, B)), **kw
    ),
    "jacobian tuple -> tensor": lambda lib, F, **kw: F.jacobian(
        lambda x, y: two_in_two_out(lib, x, y)[0], (T(lib, A), T(lib, B)), **kw
    ),
    "jacobian of an independent output": lambda lib, F, **kw: F.jacobian(
        lambda x, y: (x * 2, T(lib, B).exp()), (T(lib, A), T(lib, B)), **kw
    ),
    "jacobian scalar output": lambda lib, F, **kw: F.jacobian(lambda x: (x**3).sum(), T(lib, B), **kw),
    "hessian tensor": lambda lib, F, **kw: F.hessian(lambda x: (x.sin() * x.sum()).sum(), T(lib, B), **kw),
    "hessian tuple": lambda lib, F, **kw: F.hessian(
        lambda x, y: scalar_of_two(lib, x, y), (T(lib, A), T(lib, B)), **kw
    ),
    "vjp": lambda lib, F, **kw: F.vjp(lambda x: x.sin() * x.sum(), T(lib, A), T(lib, A[::-1]), **kw),
    "vjp tuples": lambda lib, F, **kw: F.vjp(
        lambda x, y: two_in_two_out(lib, x, y), (T(lib, A), T(lib, B)), (T(lib, B), T(lib, A)), **kw
    ),
    "vjp scalar without v": lambda lib, F, **kw: F.vjp(lambda x: (x**3).sum(), T(lib, A), **kw),
    "jvp": lambda lib, F, **kw: F.jvp(lambda x: x.sin() * x.sum(), T(lib, A), T(lib, A[::-1]), **kw),
    "jvp tuples": lambda lib, F, **kw: F.jvp(
        lambda x, y: two_in_two_out(lib, x, y), (T(lib, A), T(lib, B)), (T(lib, A), T(lib, B[::-1])), **kw
    ),
    "jvp one-element input without v": lambda lib, F, **kw: F.jvp(lambda x: x.exp() * 2, T(lib, A[:1]), **kw),
    "hvp": lambda lib, F, **kw: F.hvp(lambda x: (x.sin() * x.sum()).sum(), T(lib, A), T(lib, A[::-1]), **kw),
    "hvp tuple": lambda lib, F, **kw: F.hvp(
        lambda x, y: scalar_of_two(lib, x, y), (T(lib, A), T(lib, B)), (T(lib, A), T(lib, B)), **kw
    ),
    "vhp": lambda lib, F, **kw: F.vhp(lambda x: (x.sin() * x.sum()).sum(), T(lib, A), T(lib, A[::-1]), **kw),
    "vhp tuple": lambda lib, F, **kw: F.vhp(
        lambda x, y: scalar_of_two(lib, x, y), (T(lib, A), T(lib, B)), (T(lib, A), T(lib, B)), **kw
    ),
    "vhp of a linear function": lambda lib, F, **kw: F.vhp(
        lambda x: (x * 2).sum(), T(lib, A), T(lib, A), **kw
    ),
}
JACOBIANS = [n for n in CASES if n.startswith(("jacobian", "hessian"))]


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name, create_graph) -> None:
    theirs = CASES[name](torch, TF, create_graph=create_graph)
    ours = CASES[name](chainrule, CF, create_graph=create_graph)
    assert_same_tree(ours, theirs, name)


@pytest.mark.parametrize("name", JACOBIANS)
def test_vectorize_matches_the_loop_and_torch(name) -> None:
    theirs = CASES[name](torch, TF, vectorize=True)
    ours = CASES[name](chainrule, CF, vectorize=True)
    assert_same_tree(ours, theirs, name)
    assert_same_tree(ours, CASES[name](chainrule, CF, vectorize=False), name)


@pytest.mark.parametrize("name", [n for n in JACOBIANS if n.startswith("jacobian")])
def test_forward_mode_jacobian_matches_torch(name) -> None:
    theirs = CASES[name](torch, TF, vectorize=True, strategy="forward-mode")
    ours = CASES[name](chainrule, CF, vectorize=True, strategy="forward-mode")
    assert_same_tree(ours, theirs, name)


@pytest.mark.parametrize("name", [n for n in JACOBIANS if n.startswith("hessian")])
def test_forward_over_reverse_hessian_matches_torch(name) -> None:
    theirs = CASES[name](torch, TF, vectorize=True, outer_jacobian_strategy="forward-mode")
    ours = CASES[name](chainrule, CF, vectorize=True, outer_jacobian_strategy="forward-mode")
    # torch's result keeps a graph here (its forward-mode inputs were made to require grad); ours
    # is a constant, as for every other strategy without create_graph
    assert_same_tree(ours, theirs, name, requires_grad=False)
    rows = ours if isinstance(ours, list) else [[ours]]
    assert not any(t.requires_grad for row in rows for t in row)


def test_create_graph_results_are_differentiable_like_torch() -> None:
    """Third derivatives through hessian(create_graph=True), and the second derivative of a vjp
    with respect to an input that requires grad."""
    grads = []
    for lib, F in LIBS:
        x = T(lib, A, True)
        h = F.hessian(lambda z: (z.sin() * z.sum()).sum(), x, create_graph=True)
        (h * T(lib, np.outer(A, A[::-1]))).sum().backward()
        v = T(lib, A[::-1], True)
        _, vj = F.vjp(lambda z: z.exp() * z.sum(), x, v, create_graph=True)
        (vj**2).sum().backward()
        grads.append((x.grad, v.grad))
    for ours, theirs in zip(grads[1], grads[0]):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)


def test_hessian_by_hand() -> None:
    """f(x) = sum(x^3) * sum(x): H = 6 diag(x) sum(x) + 3 (x^2 1^T + 1 x^2^T)."""
    h = CF.hessian(lambda x: (x**3).sum() * x.sum(), T(chainrule, A)).numpy()
    ones = np.ones(3)
    by_hand = 6 * np.diag(A) * A.sum() + 3 * (np.outer(A**2, ones) + np.outer(ones, A**2))
    np.testing.assert_allclose(h, by_hand, rtol=1e-12)


ERRORS = [
    (
        lambda lib, F: F.jacobian(lambda x: T(lib, A) * 2, T(lib, A), strict=True),
        RuntimeError,
        "Output 0 of the user-provided function does not require gradients",
    ),
    (
        lambda lib, F: F.jacobian(lambda x, y: x * 2, (T(lib, A), T(lib, B)), strict=True),
        RuntimeError,
        "Output 0 of the user-provided function is independent of input 1",
    ),
    (
        lambda lib, F: F.jacobian(lambda x: x * 2, T(lib, A), create_graph=True, strict=True),
        RuntimeError,
        "The jacobian of the user-provided function is independent of input 0. This is not allowed "
        "in strict mode when create_graph=True.",
    ),
    (
        lambda lib, F: F.jacobian(lambda x: x * 2, T(lib, A), strict=True, vectorize=True),
        RuntimeError,
        "`strict=True` and `vectorized=True` are not supported together",
    ),
    (
        lambda lib, F: F.jacobian(lambda x: x * 2, T(lib, A), strategy="forward-mode"),
        NotImplementedError,
        "only implemented for `vectorize=True`",
    ),
    (
        lambda lib, F: F.jacobian(lambda x: x * 2, T(lib, A), strategy="bad"),
        AssertionError,
        'Expected strategy to be either "forward-mode" or "reverse-mode"',
    ),
    (
        lambda lib, F: F.jacobian(
            lambda x: x * 2, T(lib, A), strategy="forward-mode", vectorize=True, create_graph=True
        ),
        NotImplementedError,
        '`create_graph=True` and `strategy="forward-mode"` are not supported together',
    ),
    (
        lambda lib, F: F.jacobian(lambda x: 3, T(lib, A)),
        TypeError,
        "The outputs of the user-provided function given to jacobian must be either a Tensor or a "
        "tuple of Tensors but the given outputs of the user-provided function has type <class 'int'>.",
    ),
    (
        lambda lib, F: F.jacobian(lambda x, y: x, [T(lib, A), T(lib, B)]),
        TypeError,
        "The inputs given to jacobian must be either a Tensor or a tuple of Tensors but the given "
        "inputs has type <class 'list'>.",
    ),
    (
        lambda lib, F: F.jacobian(lambda x, y: x, (T(lib, A), 3.0)),
        TypeError,
        "but the value at index 1 has type <class 'float'>",
    ),
    (
        lambda lib, F: F.hessian(lambda x: x**3, T(lib, A)),
        RuntimeError,
        "The Tensor returned by the function given to hessian should contain a single element",
    ),
    (
        lambda lib, F: F.hessian(lambda x: (x * 2).sum(), T(lib, A), strict=True),
        RuntimeError,
        "found that the jacobian of the user-provided function with respect to input 0 is "
        "independent of the input",
    ),
    (
        lambda lib, F: F.vjp(lambda x: x * 2, T(lib, A)),
        RuntimeError,
        "The vector v can only be None if the user-provided function returns a single Tensor with a "
        "single element.",
    ),
    (
        lambda lib, F: F.vjp(lambda x, y: (x * y, y), (T(lib, A), T(lib, B)), (T(lib, B),)),
        RuntimeError,
        "v is a tuple of invalid length: should be 2 but got 1.",
    ),
    (
        lambda lib, F: F.vjp(lambda x, y: (x * y, y), (T(lib, A), T(lib, B)), [T(lib, B), T(lib, B)]),
        TypeError,
        "The v given to vjp must be either a Tensor or a tuple of Tensors",
    ),
    (
        lambda lib, F: F.vjp(lambda x: x * 2, T(lib, A), T(lib, A[:2])),
        RuntimeError,
        "v has invalid size: should be",
    ),
    (
        lambda lib, F: F.vjp(lambda x, y: (x * y, y), (T(lib, A), T(lib, B)), (T(lib, B), T(lib, A))),
        RuntimeError,
        "Entry 1 in v has invalid size",
    ),
    (
        lambda lib, F: F.vjp(lambda x, y: x * 2, (T(lib, A), T(lib, B)), T(lib, A), strict=True),
        RuntimeError,
        "The output of the user-provided function is independent of input 1. This is "
        "not allowed in strict mode.",
    ),
    (
        lambda lib, F: F.jvp(lambda x: x * 2, T(lib, A)),
        RuntimeError,
        "The vector v can only be None if the input to the user-provided function is a single Tensor "
        "with a single element.",
    ),
    (
        lambda lib, F: F.jvp(lambda x: x.detach() * 2, T(lib, A), T(lib, A), strict=True),
        RuntimeError,
        "Output 0 of the user-provided function does not require gradients",
    ),
    (
        lambda lib, F: F.jvp(
            lambda x, y: x * 2 + y.sum(),
            (T(lib, A), T(lib, B)),
            (T(lib, A), T(lib, B)),
            strict=True,
            create_graph=True,
        ),
        RuntimeError,
        "is independent of input 0. This is not allowed in strict mode when create_graph=True.",
    ),
    (
        lambda lib, F: F.hvp(lambda x: x**3, T(lib, A), T(lib, A)),
        RuntimeError,
        "The Tensor returned by the function given to hvp should contain a single element",
    ),
    (
        lambda lib, F: F.hvp(lambda x: (x * 2).sum(), T(lib, A), T(lib, A), strict=True),
        RuntimeError,
        "found that the jacobian of the user-provided function with respect to input 0 is "
        "independent of the input",
    ),
    (
        lambda lib, F: F.vhp(lambda x: (x**3, x), T(lib, A), T(lib, A)),
        RuntimeError,
        "The function given to vhp should return a single Tensor",
    ),
    (
        lambda lib, F: F.vhp(
            lambda x, y: (x**3).sum(), (T(lib, A), T(lib, B)), (T(lib, A), T(lib, B)), strict=True
        ),
        RuntimeError,
        "The output of the user-provided function is independent of input 1. This is not allowed "
        "in strict mode.",
    ),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_errors_match_torch(case) -> None:
    call, exc, match = ERRORS[case]
    for lib, F in LIBS:
        with pytest.raises(exc, match=re.escape(match)):
            call(lib, F)
