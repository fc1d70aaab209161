"""Custom ``autograd.Function``s: each defined once for chainrule and once for torch, from the same
source, and the same program run with both."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import LIBS, cube_function, leaf, same

import chainrule

X = [0.5, -1.0, 2.0]


def functions(lib):
    """The same custom Functions, written against ``lib``."""

    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)  # an output, saved
            return y

        @staticmethod
        def backward(ctx, grad_output):
            (y,) = ctx.saved_tensors
            return grad_output * y

    class Mul(lib.autograd.Function):
        calls: list = []

        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)  # inputs, saved
            return a * b

        @staticmethod
        def backward(ctx, grad_output):
            a, b = ctx.saved_tensors
            Mul.calls.append(tuple(ctx.needs_input_grad))
            ga = grad_output * b if ctx.needs_input_grad[0] else None
            gb = grad_output * a if ctx.needs_input_grad[1] else None
            return ga, gb

    class SinCos(lib.autograd.Function):
        """Two outputs; backward must be called once with both gradients."""

        calls: list = []

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, g_sin, g_cos):
            (x,) = ctx.saved_tensors
            SinCos.calls.append((g_sin, g_cos))
            return g_sin * x.cos() - g_cos * x.sin()

    class Sort(lib.autograd.Function):
        """A float output, an integer output, and a float output marked non-differentiable."""

        calls: list = []

        @staticmethod
        def forward(ctx, x):
            order = lib.tensor(np.argsort(x.detach().numpy(), kind="stable"))
            doubled = x * 2
            ctx.mark_non_differentiable(doubled)
            ctx.save_for_backward(order)
            return x[order], order, doubled, "not a tensor"

        @staticmethod
        def backward(ctx, g, g_order, g_doubled, g_str):
            (order,) = ctx.saved_tensors
            Sort.calls.append((g_order, g_doubled, g_str))
            out = lib.zeros_like(g)
            out[order] = g
            return out

    Cube = cube_function(lib)  # noqa: N806  (a class, as the others here)

    class Scale(lib.autograd.Function):
        """A non-tensor argument gets None as its gradient."""

        @staticmethod
        def forward(ctx, x, factor: float):
            ctx.factor = factor
            return x * factor

        @staticmethod
        def backward(ctx, g):
            return g * ctx.factor, None

    class Identity(lib.autograd.Function):
        """Returns its input: still a new output with this Function as its grad_fn."""

        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return 2 * g

    class Square(lib.autograd.Function):
        """The forward / setup_context style."""

        @staticmethod
        def forward(x):
            return x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * g * x

    return locals()


def test_exp():
    def program(lib):
        x = leaf(lib, X)
        y = functions(lib)["Exp"].apply(x)
        y.sum().backward()
        return y, y.grad_fn.name(), y.requires_grad, x.grad

    y, name, _, grad = same(program)
    assert name == "ExpBackward"
    np.testing.assert_allclose(grad.numpy(), np.exp(X), rtol=1e-12)


def test_two_input_mul_with_needs_input_grad():
    def program(lib):
        f = functions(lib)
        a, b = leaf(lib, X), lib.tensor([3.0, 4.0, -2.0], dtype=lib.float64)
        f["Mul"].apply(a, b).sum().backward()
        a2, b2 = leaf(lib, X), leaf(lib, [1.0, 2.0, 3.0])
        (f["Mul"].apply(a2, b2) * b2).sum().backward()
        return a.grad, b.grad, a2.grad, b2.grad, f["Mul"].calls

    *_, calls = same(program)
    assert calls == [(True, False), (True, True)]


def test_a_function_with_two_outputs_gets_one_backward_call():
    def program(lib):
        f = functions(lib)
        x = leaf(lib, X)
        s, c = f["SinCos"].apply(x)
        node = [s.grad_fn.name(), c.grad_fn.name(), len(s.grad_fn.next_functions)]
        (2 * s + 3 * c).sum().backward()
        both = x.grad.clone()
        x.grad = None
        s, c = f["SinCos"].apply(x)
        c.sum().backward()  # the unused output's gradient arrives as zeros
        return both, x.grad, f["SinCos"].calls, node

    both, only_cos, calls, *_ = same(program)
    x = np.array(X)
    np.testing.assert_allclose(both.numpy(), 2 * np.cos(x) - 3 * np.sin(x), rtol=1e-12)
    np.testing.assert_allclose(only_cos.numpy(), -np.sin(x), rtol=1e-12)
    assert len(calls) == 2


def test_set_materialize_grads_false_passes_none_for_unused_outputs():
    def program(lib):
        received = []

        class Two(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(False)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g1, g2):
                received.append((g1, g2))
                return g1 * 2 if g2 is None else g1 * 2 + g2 * 3

        x = leaf(lib, X)
        p, q = Two.apply(x)
        p.sum().backward()
        return x.grad, received

    _, received = same(program)
    assert received[0][1] is None


def test_mark_non_differentiable_and_integer_outputs():
    def program(lib):
        f = functions(lib)
        x = leaf(lib, [3.0, 1.0, 2.0])
        values, order, doubled, text = f["Sort"].apply(x)
        (values * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum().backward()
        flags = [t.requires_grad for t in (values, order, doubled)]
        return values, order, doubled, text, flags, x.grad, f["Sort"].calls

    *_, flags, grad, calls = same(program)
    assert flags == [True, False, False]
    np.testing.assert_array_equal(grad.numpy(), [3.0, 1.0, 2.0])


def test_a_non_tensor_argument():
    def program(lib):
        x = leaf(lib, X)
        functions(lib)["Scale"].apply(x, 2.5).sum().backward()
        return x.grad

    np.testing.assert_allclose(same(program).numpy(), 2.5)


def test_returning_an_input_makes_a_new_output():
    def program(lib):
        x = leaf(lib, X)
        y = functions(lib)["Identity"].apply(x)
        y.sum().backward()
        return y is x, y.grad_fn.name(), x.grad

    same(program)


def test_forward_with_setup_context():
    def program(lib):
        x = leaf(lib, X)
        functions(lib)["Square"].apply(x).sum().backward()
        return x.grad

    np.testing.assert_allclose(same(program).numpy(), 2 * np.array(X))


def test_under_no_grad_apply_records_nothing():
    def program(lib):
        x = leaf(lib, X)
        with lib.no_grad():
            y = functions(lib)["Exp"].apply(x)
        return y, y.requires_grad, y.grad_fn is None

    same(program)


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_changing_a_saved_input_in_place_makes_backward_raise(lib):
    a, b = leaf(lib, X), leaf(lib, X)
    h = a * 1
    y = functions(lib)["Mul"].apply(h, b)
    h.add_(1)  # a non-leaf: allowed, but Mul saved it
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_changing_a_saved_output_in_place_makes_backward_raise(lib):
    x = leaf(lib, X)
    y = functions(lib)["Exp"].apply(x)
    with lib.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_the_version_error_names_the_function_and_shape():
    x = leaf(chainrule, X)
    y = functions(chainrule)["Exp"].apply(x)
    with chainrule.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match=r"shape \[3\].*ExpBackward"):
        y.sum().backward()


def test_double_backward_through_a_function():
    def program(lib):
        f = functions(lib)
        x = leaf(lib, X)
        (g,) = lib.autograd.grad(f["Cube"].apply(x).sum(), x, create_graph=True)  # 3 x^2
        (gg,) = lib.autograd.grad(g.sum(), x)  # 6 x
        y = f["Exp"].apply(x)  # a saved output: re-attached to the graph in backward
        (e1,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)  # 2 e^2x
        (e2,) = lib.autograd.grad(e1.sum(), x)  # 4 e^2x
        return g, gg, e1, e2

    g, gg, e1, e2 = same(program)
    x = np.array(X)
    np.testing.assert_allclose(gg.numpy(), 6 * x, rtol=1e-12)
    np.testing.assert_allclose(e2.numpy(), 4 * np.exp(2 * x), rtol=1e-12)


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_a_gradient_of_the_wrong_shape_raises(lib):
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g[:1]

    x = leaf(lib, X)
    with pytest.raises(RuntimeError, match="returned an invalid gradient at index 0"):
        Bad.apply(x).sum().backward()


def test_a_gradient_that_broadcasts_is_summed_down():
    def program(lib):
        class Wide(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g.reshape(1, 3).expand(4, 3)

        x = leaf(lib, X)
        Wide.apply(x).sum().backward()
        return x.grad

    np.testing.assert_allclose(same(program).numpy(), 4.0)


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_too_few_gradients_raises(lib):
    x, y = leaf(lib, X), leaf(lib, X)

    class Short(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return (g,)

    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Short.apply(x, y).sum().backward()


def test_node_names_of_functions():
    def program(lib):
        f = functions(lib)
        x = leaf(lib, X)
        return [f[name].apply(x).grad_fn.name() for name in ("Exp", "Cube", "Square")]

    same(program)


# ---- ctx.mark_dirty: the input changed in place comes back as the same object ---------------------
def dirty_functions(lib):
    class MulTwoInPlace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class AddInPlace(lib.autograd.Function):
        """Changes its first input, returns it and a second output: one node for both."""

        @staticmethod
        def forward(ctx, a, b):
            a.add_(b)
            ctx.mark_dirty(a)
            return a, b * 1

        @staticmethod
        def backward(ctx, ga, gb):
            return ga, ga + gb

    class SquareInPlace(lib.autograd.Function):
        """Saves the dirty tensor: backward sees it at the version after the call."""

        @staticmethod
        def forward(ctx, x):
            before = x.clone()
            x.mul_(x)
            ctx.mark_dirty(x)
            ctx.save_for_backward(before, x)
            return x

        @staticmethod
        def backward(ctx, g):
            before, after = ctx.saved_tensors
            return g * 2 * before + 0 * after

    class NotReturned(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g

    return locals()


def test_mark_dirty_returns_the_input_with_the_new_history():
    def program(lib):
        x = leaf(lib, [1.0, 2.0])
        x2 = x * 1
        before = x2.grad_fn
        y = dirty_functions(lib)["MulTwoInPlace"].apply(x2)
        facts = [
            y is x2,
            x2._version,
            x2.grad_fn.name(),
            x2.grad_fn.next_functions[0][0] is before,
            x2.is_leaf,
            x2.requires_grad,
        ]
        (x2 * 3).sum().backward()  # through the Function: 3 * 2 per element
        return facts, x2, x.grad

    facts, _, grad = same(program)
    assert facts[0] and facts[1] == 2
    np.testing.assert_array_equal(grad.numpy(), [6.0, 6.0])


def test_mark_dirty_on_an_input_that_does_not_require_grad():
    def program(lib):
        f = dirty_functions(lib)
        w = leaf(lib, [1.0, 2.0])
        z = lib.zeros(2, dtype=lib.float64)
        o1, o2 = f["AddInPlace"].apply(z, w)
        facts = [
            o1 is z,
            z.requires_grad,
            z.is_leaf,
            z._version,
            z.grad_fn is o2.grad_fn or z.grad_fn.name() == o2.grad_fn.name(),
        ]
        (z * 3 + o2).sum().backward()
        return facts, z, w.grad

    same(program)


def test_mark_dirty_without_grad_mode_bumps_the_version_only():
    def program(lib):
        z = lib.ones(2, dtype=lib.float64)
        y = dirty_functions(lib)["MulTwoInPlace"].apply(z)
        return y is z, z._version, z.grad_fn is None, z

    same(program)


def test_a_saved_dirty_tensor_is_checked_at_its_new_version():
    def program(lib):
        x = leaf(lib, [1.0, 3.0])
        h = x * 1
        y = dirty_functions(lib)["SquareInPlace"].apply(h)
        y.sum().backward(retain_graph=True)
        first = x.grad.clone()
        y.add_(1)  # changes the saved output: the next backward must refuse
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
        return first, y

    grad, _ = same(program)
    np.testing.assert_array_equal(grad.numpy(), [2.0, 6.0])


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_mark_dirty_errors(lib):
    f = dirty_functions(lib)
    with pytest.raises(
        RuntimeError, match="marked as dirty during the forward method were not returned as output"
    ):
        f["NotReturned"].apply(leaf(lib, X) * 1)
    with pytest.raises(
        RuntimeError, match="a leaf Variable that requires grad has been used in an in-place operation"
    ):
        f["MulTwoInPlace"].apply(leaf(lib, X))


def test_mark_dirty_on_a_view_rewrites_its_base_as_torch():
    def run(lib):
        x = leaf(lib, [1.0, 2.0, 3.0])
        base = x * 1
        y = dirty_functions(lib)["MulTwoInPlace"].apply(base[:2])
        (base * base).sum().backward()
        return y.detach().numpy().copy(), x.grad.numpy().copy()

    for ours, theirs in zip(run(chainrule), run(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


# ---- once_differentiable, needs_input_grad, materialize_grads ------------------------------------
def once_exp(lib):
    class OnceExp(lib.autograd.Function):
        grad_modes: list = []

        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            OnceExp.grad_modes.append(lib.is_grad_enabled())
            return g * y

    return OnceExp


def test_once_differentiable_runs_without_recording():
    def program(lib):
        f = once_exp(lib)
        x = leaf(lib, X)
        (g,) = lib.autograd.grad(f.apply(x).sum(), x, create_graph=True)  # grad_output is constant
        return g, g.requires_grad, f.grad_modes, f.backward.__name__

    same(program)


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_double_backward_through_once_differentiable_raises(lib):
    x = leaf(lib, X)
    v = leaf(lib, [1.0, 1.0, 1.0])
    (g,) = lib.autograd.grad(once_exp(lib).apply(x * 1), x, v, create_graph=True)
    assert g.requires_grad
    with pytest.raises(
        RuntimeError,
        match="trying to differentiate twice a function that was marked with @once_differentiable",
    ):
        g.sum().backward()


def test_needs_input_grad_with_tensors_non_tensors_and_constants():
    def program(lib):
        seen = []

        class Three(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, k, b, c):
                seen.append(ctx.needs_input_grad)
                return a * k + b * c

            @staticmethod
            def backward(ctx, g):
                seen.append(ctx.needs_input_grad)
                return g * 2, None, None, g * 3

        a, c = leaf(lib, X), leaf(lib, X)
        b = lib.tensor(X, dtype=lib.float64)
        Three.apply(a, 2.0, b, c).sum().backward()
        return a.grad, c.grad, [tuple(s) for s in seen]

    *_, seen = same(program)
    assert seen[0] == (True, False, False, True)


def test_materialize_grads_true_gives_zeros_for_an_unused_output():
    def program(lib):
        received = []

        class Two(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g1, g2):
                received.append(g2)
                return g1 * 2 + g2 * 3

        x = leaf(lib, X)
        p, _ = Two.apply(x)
        p.sum().backward()
        return x.grad, received

    same(program)


def test_setup_context_with_mark_dirty_and_a_non_tensor_output():
    def program(lib):
        class Halve(lib.autograd.Function):
            @staticmethod
            def forward(x, label):
                x.mul_(0.5)
                return x, label

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.mark_dirty(inputs[0])

            @staticmethod
            def backward(ctx, g, _):
                return g * 0.5, None

        x = leaf(lib, X)
        h = x * 1
        y, label = Halve.apply(h, "half")
        (y * y).sum().backward()
        return y is h, label, x.grad

    same(program)
