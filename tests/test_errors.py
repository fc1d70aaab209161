"""Errors: the same mistake raises the same exception type in chainrule as in torch, and
chainrule's message names the op and the shapes / dtypes involved, so the fix is evident."""

from __future__ import annotations

import pytest
import torch

import chainrule


def _add(lib):
    return lib.ones(2, 3) + lib.ones(4)


def _mul(lib):
    return lib.mul(lib.ones(2, 3), lib.ones(3, 2))


def _matmul(lib):
    return lib.ones(2, 3) @ lib.ones(4, 5)


def _matmul_vectors(lib):
    return lib.matmul(lib.ones(3), lib.ones(4))


def _backward_twice(lib):
    x = lib.ones(2, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    y.backward()


def _backward_non_scalar(lib):
    (lib.ones(2, 5, requires_grad=True) * 2).backward()


def _backward_wrong_gradient_shape(lib):
    (lib.ones(2, requires_grad=True) * 2).backward(lib.ones(3))


def _backward_without_grad(lib):
    lib.ones(2).sum().backward()


def _requires_grad_int_tensor(lib):
    lib.tensor([1, 2], requires_grad=True)


def _requires_grad_int_method(lib):
    lib.tensor([1, 2]).requires_grad_()


def _requires_grad_int_attribute(lib):
    lib.arange(3).requires_grad = True


def _requires_grad_int_zeros(lib):
    lib.zeros(2, dtype=lib.int64, requires_grad=True)


def _grad_unused(lib):
    a, b = lib.ones(2, requires_grad=True), lib.ones(3, requires_grad=True)
    lib.autograd.grad((a * 2).sum(), [a, b])


def _item(lib):
    lib.ones(2, 3).item()


def _inplace_leaf(lib):
    lib.ones(2, requires_grad=True).add_(1)


def _inplace_leaf_operator(lib):
    x = lib.ones(2, requires_grad=True)
    x *= 2


def _hook_without_grad(lib):
    lib.ones(2).register_hook(lambda g: g)


def _non_leaf_requires_grad_false(lib):
    (lib.ones(2, requires_grad=True) * 2).requires_grad_(False)


def _numpy_of_requires_grad(lib):
    lib.ones(2, requires_grad=True).numpy()


def _modified_saved_tensor(lib):
    x = lib.ones(2, requires_grad=True)
    y = x.exp()
    y.add_(1)
    y.sum().backward()


# empty inputs that torch refuses (tests/test_empty_inputs.py compares every op spec's)
def _sum_to_size_not_expandable(lib):
    lib.zeros(2, 3, 0).sum_to_size(1, 4)


def _conv_empty_spatial_dim(lib):
    lib.nn.functional.conv2d(lib.zeros(2, 3, 0, 4), lib.zeros(2, 3, 1, 1), padding=1)


def _conv_weight_without_outputs(lib):
    lib.nn.functional.conv2d(lib.zeros(2, 3, 4, 4), lib.zeros(0, 3, 2, 2))


def _norm_over_an_empty_dim(lib):
    lib.linalg.vector_norm(lib.zeros(2, 0), float("inf"), 1)


def _adaptive_pool_empty_spatial_dim(lib):
    lib.nn.functional.adaptive_avg_pool2d(lib.zeros(2, 2, 7, 0), 3)


def _adaptive_pool_backward_without_channels(lib):
    x = lib.zeros(2, 0, 5, 4, requires_grad=True)
    lib.nn.functional.adaptive_avg_pool2d(x, 3).sum().backward()


def _interpolate_without_channels(lib):
    lib.nn.functional.interpolate(lib.zeros(2, 0, 4, 5), scale_factor=2, mode="bilinear")


def _cross_entropy_probabilities_batch_mismatch(lib):
    lib.nn.functional.cross_entropy(lib.zeros(0, 3), lib.zeros(4, 3))


def _index_add_count_mismatch(lib):
    lib.zeros(0, 4).index_add(0, lib.tensor([0, 0, 2]), lib.zeros(0, 4))


# (the mistake, what chainrule's message must mention)
CASES = [
    (_add, ["add", "[2, 3]", "[4]"]),
    (_mul, ["mul", "[2, 3]", "[3, 2]"]),
    (_matmul, ["matmul", "(2, 3)", "(4, 5)"]),
    (_matmul_vectors, ["matmul", "(3,)", "(4,)"]),
    (_backward_twice, ["Trying to backward through the graph a second time", "MulBackward0"]),
    (_backward_non_scalar, ["backward", "scalar", "[2, 5]"]),
    (_backward_wrong_gradient_shape, ["backward", "[3]", "[2]"]),
    (_backward_without_grad, ["backward", "does not require grad"]),
    (_requires_grad_int_tensor, ["requires_grad", "int64"]),
    (_requires_grad_int_method, ["requires_grad", "int64"]),
    (_requires_grad_int_attribute, ["requires_grad", "int64"]),
    (_requires_grad_int_zeros, ["requires_grad", "int64"]),
    (_grad_unused, ["grad", "input 1", "[3]", "allow_unused=True"]),
    (_item, ["item", "6 elements", "[2, 3]"]),
    # chainrule's in-place messages name the op but not yet the tensor's shape (ops/inplace.py)
    (_inplace_leaf, ["add_", "leaf Variable that requires grad", "no_grad"]),
    (_inplace_leaf_operator, ["mul_", "leaf Variable that requires grad"]),
    (_hook_without_grad, ["register_hook", "doesn't require gradient"]),
    (_non_leaf_requires_grad_false, ["requires_grad", "leaf variables", "detach"]),
    (_numpy_of_requires_grad, ["numpy", "detach().numpy()"]),
    (_modified_saved_tensor, ["modified by an inplace operation", "ExpBackward0"]),
    (_sum_to_size_not_expandable, ["sum_to_size", "[1, 4]", "[2, 3, 0]"]),
    (_conv_empty_spatial_dim, ["conv2d", "[2, 3, 0, 4]"]),
    (_conv_weight_without_outputs, ["conv2d", "groups=1", "[0, 3, 2, 2]"]),
    (_norm_over_an_empty_dim, ["vector_norm", "inf", "dimension 1", "[2, 0]"]),
    (_adaptive_pool_empty_spatial_dim, ["adaptive_avg_pool2d", "[2, 2, 7, 0]"]),
    (_adaptive_pool_backward_without_channels, ["adaptive_avg_pool2d_backward", "[2, 0, 3, 3]"]),
    (_interpolate_without_channels, ["interpolate", "bilinear", "[2, 0, 4, 5]"]),
    (_cross_entropy_probabilities_batch_mismatch, ["cross_entropy", "batch_size (0)", "[4, 3]"]),
    (_index_add_count_mismatch, ["index_add", "Number of indices (3)", "(0, 4)"]),
]


def _raised(fn, lib) -> BaseException:
    with pytest.raises(Exception) as info:
        fn(lib)
    return info.value


@pytest.mark.parametrize(("fn", "fragments"), CASES, ids=[fn.__name__[1:] for fn, _ in CASES])
def test_same_exception_type_as_torch_and_a_message_that_names_the_problem(fn, fragments):
    ours, theirs = _raised(fn, chainrule), _raised(fn, torch)
    assert type(ours) is type(theirs), (
        f"{fn.__name__}: chainrule raised {type(ours).__name__}: {ours}; "
        f"torch raised {type(theirs).__name__}: {theirs}"
    )
    message = str(ours)
    missing = [f for f in fragments if f not in message]
    assert not missing, f"{fn.__name__}: message {message!r} does not mention {missing}"


def test_after_an_error_the_graph_still_works():
    """A failed op leaves no half-recorded state behind."""
    x = chainrule.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError):
        x + chainrule.ones(4)
    (x * x).sum().backward()
    assert x.grad.tolist() == [[2.0] * 3] * 2
