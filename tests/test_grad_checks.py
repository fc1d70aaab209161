"""What backward stores in ``.grad``, and what may be put there: each program runs with chainrule
and with torch (float64) and must give the same numbers and the same errors.

A gradient the user handed in (returned by a hook or a Function's backward, given as grad_tensors)
is never stored by reference, so the next backward's in-place accumulation cannot change it; hooks
may not change a gradient's shape or dtype; ``.grad`` accepts only a tensor of the tensor's shape,
dtype and device, or None.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from test_engine import LIBS, leaf, same

import chainrule

X = [1.0, 2.0, 3.0]
IDS = {"ids": lambda m: m.__name__}


# ---- no aliasing of the user's tensors into .grad ------------------------------------------------
def test_a_leaf_hook_returning_the_users_tensor():
    def program(lib):
        keep = lib.tensor(X, dtype=lib.float64)
        x = leaf(lib, [0.0, 0.0, 0.0])
        x.register_hook(lambda g: keep)
        (x * 2).sum().backward()
        (x * 2).sum().backward()
        return keep, x.grad, x.grad is keep

    keep, grad, _ = same(program)
    np.testing.assert_array_equal(keep.numpy(), X)
    np.testing.assert_array_equal(grad.numpy(), [2.0, 4.0, 6.0])


def test_a_function_backward_returning_the_users_tensor():
    def program(lib):
        keep = lib.tensor(X, dtype=lib.float64)

        class Fixed(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 1

            @staticmethod
            def backward(ctx, g):
                return keep

        x = leaf(lib, [0.0, 0.0, 0.0])
        Fixed.apply(x).sum().backward()
        Fixed.apply(x).sum().backward()
        return keep, x.grad

    keep, _ = same(program)
    np.testing.assert_array_equal(keep.numpy(), X)


def test_a_function_backward_returning_its_grad_output_which_it_keeps():
    def program(lib):
        kept = []

        class Through(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 1

            @staticmethod
            def backward(ctx, g):
                kept.append(g)
                return g

        x = leaf(lib, X)
        Through.apply(x * 2).sum().backward()
        Through.apply(x * 2).sum().backward()
        Through.apply(x).sum().backward()
        return kept, x.grad

    same(program)


def test_grad_tensors_are_not_changed_by_later_backwards():
    def program(lib):
        gt = lib.tensor(X, dtype=lib.float64)
        x = leaf(lib, [0.0, 0.0, 0.0])
        x.backward(gt)
        x.backward(gt)
        y = leaf(lib, [0.0, 0.0, 0.0])
        y.backward(gt, create_graph=True)  # kept as a (differentiable) copy: not gt itself
        y.backward(gt)
        return gt, x.grad, y.grad, y.grad is gt

    same(program)


def test_a_non_leaf_hook_with_retain_grad():
    def program(lib):
        keep = lib.tensor(X, dtype=lib.float64)
        x = leaf(lib, [0.0, 0.0, 0.0])
        y = x * 1
        y.retain_grad()
        y.register_hook(lambda g: keep)
        (y * 1).sum().backward(retain_graph=True)
        (y * 1).sum().backward()
        return keep, y.grad, x.grad

    keep, _, grad = same(program)
    np.testing.assert_array_equal(keep.numpy(), X)
    np.testing.assert_array_equal(grad.numpy(), [2.0, 4.0, 6.0])


def test_a_hook_keeps_the_gradient_it_saw():
    def program(lib):
        seen = []
        x = leaf(lib, [1.0, 2.0])
        x.register_hook(seen.append)
        (x * 2).sum().backward()
        (x * 2).sum().backward()
        return seen, x.grad

    seen, _ = same(program)
    np.testing.assert_array_equal(seen[0].numpy(), [2.0, 2.0])


def test_a_retained_gradient_that_flows_on_to_a_leaf():
    def program(lib):
        x = leaf(lib, X)
        y = x + 0  # add's backward passes the gradient through: the same array reaches x
        y.retain_grad()
        (y * 2).sum().backward(retain_graph=True)
        (y * 2).sum().backward(inputs=[x])
        return y.grad, x.grad

    same(program)


def test_create_graph_first_gradient_is_a_differentiable_copy():
    def program(lib):
        x = leaf(lib, X)
        k = leaf(lib, [1.0, 1.0, 1.0])
        x.register_hook(lambda g: g * k)
        (x**2).sum().backward(create_graph=True)
        first = x.grad
        (g_k,) = lib.autograd.grad(first.sum(), k)  # d/dk of 2x * k
        (x**2).sum().backward()
        return first, g_k, x.grad, first.requires_grad

    same(program)


def test_a_user_assigned_grad_is_accumulated_into_in_place_as_in_torch():
    def program(lib):
        w = leaf(lib, [1.0, 2.0])
        mine = lib.tensor([0.5, 0.5], dtype=lib.float64)
        w.grad = mine
        (w * 3).sum().backward()
        return mine, w.grad is mine

    same(program)


# ---- hooks may not change a gradient's shape or type ---------------------------------------------
def _wrong_shape(lib):
    def shape_changer(g):
        return lib.ones(3, dtype=lib.float64)

    return shape_changer


@pytest.mark.parametrize("lib", LIBS, **IDS)
@pytest.mark.parametrize("where", ["leaf", "non-leaf"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_a_hook_changing_the_shape_raises(lib, where, create_graph):
    x = leaf(lib, [1.0, 2.0])
    t = x if where == "leaf" else x * 1
    t.register_hook(_wrong_shape(lib))
    with pytest.raises(RuntimeError, match="hook 'shape_changer' has changed the size of value"):
        (t * 2).sum().backward(create_graph=create_graph)


@pytest.mark.parametrize("lib", LIBS, **IDS)
def test_a_hook_returning_a_broadcastable_gradient_raises(lib):
    x = leaf(lib, [1.0, 2.0])
    x.register_hook(lambda g: lib.ones(1, dtype=lib.float64))
    with pytest.raises(RuntimeError, match="hook '<lambda>' has changed the size of value"):
        (x * 2).sum().backward()


@pytest.mark.parametrize("lib", LIBS, **IDS)
@pytest.mark.parametrize("where", ["leaf", "non-leaf"])
def test_a_hook_changing_the_dtype_raises(lib, where):
    x = leaf(lib, [1.0, 2.0])
    t = x if where == "leaf" else x * 1
    t.register_hook(lambda g: g.float())
    with pytest.raises(
        RuntimeError,
        match=r"hook '<lambda>' has changed the type of value \(was "
        r"\w+\.DoubleTensor got \w+\.FloatTensor\)",
    ):
        (t * 2).sum().backward()


@pytest.mark.parametrize("lib", LIBS, **IDS)
def test_a_hook_returning_a_non_tensor_raises(lib):
    x = leaf(lib, [1.0, 2.0])
    x.register_hook(lambda g: 3.0)
    with pytest.raises(TypeError, match="expected Variable, but hook returned 'float'"):
        (x * 2).sum().backward()


def test_hooks_that_keep_shape_and_dtype_still_work():
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        x.register_hook(lambda g: g * 10)
        y = x * x
        y.register_hook(lambda g: g + 1)
        y.sum().backward()
        return x.grad

    same(program)


# ---- assigning .grad ------------------------------------------------------------------------------
def _assign(t, value):
    t.grad = value


@pytest.mark.parametrize("lib", LIBS, **IDS)
def test_assigning_a_grad_of_another_size_raises(lib):
    w = lib.zeros(2, requires_grad=True)
    with pytest.raises(
        RuntimeError,
        match=r"attempting to assign a gradient of size '\[1\]' to a "
        r"tensor of size '\[2\]'. Please ensure that the gradient and the tensor are "
        "the same size",
    ):
        _assign(w, lib.tensor([0.5]))
    m = lib.zeros(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"size '\[3, 2\]' to a tensor of size '\[2, 3\]'"):
        _assign(m, lib.zeros(2, 3).t())
    assert w.grad is None and m.grad is None


@pytest.mark.parametrize("lib", LIBS, **IDS)
@pytest.mark.parametrize("dtype, cpp", [("float64", "double"), ("int64", "long int")])
def test_assigning_a_grad_of_another_dtype_raises(lib, dtype, cpp):
    w = lib.zeros(2, requires_grad=True)
    with pytest.raises(
        RuntimeError,
        match=f"attempting to assign a gradient with dtype '{cpp}' to a "
        "tensor with grad_dtype 'Float'. The gradient must match the tensor's "
        r"grad_dtype \(defaults to the tensor's dtype\)",
    ):
        _assign(w, lib.zeros(3, dtype=getattr(lib, dtype)))  # the dtype is checked before the size


@pytest.mark.parametrize("lib", LIBS, **IDS)
def test_assigning_a_non_tensor_or_the_tensor_itself_raises(lib):
    w = lib.zeros(2, requires_grad=True)
    with pytest.raises(
        TypeError, match="assigned grad expected to be a Tensor or None but got grad of type list"
    ):
        _assign(w, [1.0, 2.0])
    with pytest.raises(RuntimeError, match="can't assign Variable as its own grad"):
        _assign(w, w)


def test_assignments_torch_accepts():
    def program(lib):
        w = lib.zeros(2, requires_grad=True)
        g = lib.tensor([0.5, 1.0])
        w.grad = g
        same_object = w.grad is g
        w.grad = None
        plain = lib.zeros(2)  # a tensor that does not require grad, and a non-leaf, take one too
        plain.grad = lib.ones(2)
        non_leaf = w * 2
        non_leaf.grad = lib.ones(2)
        return same_object, w.grad, plain.grad, non_leaf.grad

    same(program)


def test_assigning_grad_on_the_wrong_device_raises():
    pytest.importorskip("cupy")
    w = chainrule.zeros(2, requires_grad=True)
    with pytest.raises(
        RuntimeError,
        match="attempting to assign a gradient with device type 'cuda' to a tensor with device type 'cpu'",
    ):
        w.grad = chainrule.zeros(2, device="cuda")


# ---- optimizers and modules with the checked .grad ------------------------------------------------
@pytest.mark.parametrize("opt", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_optimizers_with_assigned_and_computed_grads(opt):
    def program(lib):
        w = lib.nn.Parameter(lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64))
        optimizer = getattr(lib.optim, opt)([w], lr=0.1)
        w.grad = lib.tensor([0.5, 0.5, -1.0], dtype=lib.float64)
        optimizer.step()
        for _ in range(3):
            optimizer.zero_grad()
            (w**2).sum().backward()
            optimizer.step()
        optimizer.zero_grad()
        return w.detach(), w.grad

    same(program)


def test_deepcopy_of_a_tensor_and_a_module_zero_grad():
    def program(lib):
        x = leaf(lib, X)
        (x * x).sum().backward()
        twin = copy.deepcopy(x)
        model = lib.nn.Linear(3, 2).double()
        model(lib.ones(4, 3, dtype=lib.float64)).sum().backward()
        grads = [p.grad.clone() for p in model.parameters()]
        model.zero_grad()
        return twin.grad, twin.grad is x.grad, grads, [p.grad for p in model.parameters()]

    same(program)


def test_hooks_on_zero_dimensional_tensors():
    def program(lib):
        x = leaf(lib, 1.5)
        x.register_hook(lambda g: g * 10)
        y = x * 2
        y.register_hook(lambda g: g + 1)
        (y * 3).backward()
        return x.grad

    same(program)


def test_backward_with_inputs_does_not_share_one_gradient_between_two_leaves():
    def program(lib):
        a, b = leaf(lib, [1.0, 2.0]), leaf(lib, [1.0, 2.0])
        ((a + b) * 2).sum().backward(inputs=[a, b])  # add passes one array to both
        (a * 1).sum().backward()
        x = leaf(lib, [1.0, 2.0])
        y = x + 0
        y.retain_grad()
        (y * 2).sum().backward(inputs=[x])  # and to a retained grad
        (x * 1).sum().backward()
        return a.grad, b.grad, x.grad, y.grad

    same(program)
