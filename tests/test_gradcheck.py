"""chainrule.autograd.gradcheck / gradgradcheck: they pass on correct ops (library ops and custom
Functions), fail where torch's fail (a wrong backward, a backward that is not differentiable, a
non-reentrant one), report the worst entry correctly, and build the same Jacobians as
torch.autograd.functional.jacobian."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch
from oracle import cube_function

import chainrule
from chainrule.autograd import GradcheckError, gradcheck, gradgradcheck
from chainrule.autograd import _gradcheck_jacobians as gj

LIBS = (torch, chainrule)
RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 3))
W = RNG.standard_normal((3, 4))


def T(lib, a, requires_grad: bool = True, dtype: str = "float64"):
    t = lib.tensor(np.array(a, dtype=dtype))
    return t.requires_grad_() if requires_grad else t


def cube(lib):
    """x^3 as a custom Function with a correct, differentiable backward."""
    return cube_function(lib).apply


def cube_detached_backward(lib):
    """x^3 whose backward is right but cut from the graph: first derivatives pass, second fail."""

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x.detach() ** 2

    return Cube.apply


def wrong_linear(lib, a: np.ndarray, error: np.ndarray):
    """y = A x.flatten() whose backward uses A + E: the analytical Jacobian is A + E."""

    class Linear(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.shape = tuple(x.shape)
            return T(lib, a, False).to(x.dtype) @ x.reshape(-1)

        @staticmethod
        def backward(ctx, g):
            return (g @ T(lib, a + error, False).to(g.dtype)).reshape(ctx.shape)

    return Linear.apply


FUNCTIONS = {
    "sin times sum": (lambda lib: lambda x: lib.sin(x) * x.sum(), (X,)),
    "tanh of matmul": (lambda lib: lambda x, w: (x @ w).tanh(), (X, W)),
    "softmax": (lambda lib: lambda x: lib.softmax(x * 2, dim=-1), (X,)),
    "norm and exp, two outputs": (lambda lib: lambda x: (x.norm(), x.exp().sum(0)), (X,)),
    "custom Function": (cube, (X,)),
    "custom Function in a graph": (lambda lib: lambda x, w: cube(lib)(x @ w).sum(1), (X, W)),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize("check", ["gradcheck", "gradgradcheck", "fast", "forward"])
def test_passes_on_correct_functions(name, check) -> None:
    make, arrays = FUNCTIONS[name]
    for lib in LIBS:
        inputs = tuple(T(lib, a) for a in arrays)
        if check == "gradcheck":
            assert lib.autograd.gradcheck(make(lib), inputs)
        elif check == "gradgradcheck":
            assert lib.autograd.gradgradcheck(make(lib), inputs)
        elif check == "fast":
            assert lib.autograd.gradcheck(make(lib), inputs, fast_mode=True)
        elif lib is chainrule:  # torch's forward AD needs a jvp for custom Functions
            assert gradcheck(make(lib), inputs, check_forward_ad=True, check_batched_grad=True)


def test_wrong_backward_fails_with_a_report_naming_the_worst_entry() -> None:
    rng = np.random.default_rng(5)
    a = rng.standard_normal((3, 4))
    error = np.zeros((3, 4))
    error[0, 1], error[2, 3], error[1, 0] = 0.02, -0.05, 0.03  # relative to |a|: computed below
    assert issubclass(GradcheckError, RuntimeError)
    for lib in LIBS:
        with pytest.raises(RuntimeError) as info:  # torch's GradcheckError is one too
            lib.autograd.gradcheck(wrong_linear(lib, a, error), (T(lib, X[:, :2]),))
        assert "Jacobian mismatch for output 0 with respect to input 0" in str(info.value)
    assert type(info.value) is GradcheckError
    msg = str(info.value)
    # the worst entry, independently: the largest |E| / (atol + rtol |A|)
    ratio = np.abs(error) / (1e-5 + 1e-3 * np.abs(a))
    o, i = np.unravel_index(np.argmax(ratio), ratio.shape)
    in_index = list(np.unravel_index(i, (2, 2)))
    assert (
        f"the worst is d output[{o}] / d input{[int(v) for v in in_index]} (jacobian row {o}, "
        f"column {i})" in msg
    )
    assert f"analytical: {float(a[o, i] + error[o, i])!r}" in msg
    numerical = float(re.search(r"numerical:\s+(\S+)", msg).group(1))
    assert numerical == pytest.approx(a[o, i], abs=1e-8)
    assert "tolerance: atol + rtol * |numerical| = 1e-05 + 0.001 * " in msg
    assert "3 of 12 entries differ" in msg
    assert "float64" not in msg  # everything is float64: no precision hint


def test_raise_exception_false_returns_false_like_torch() -> None:
    a, error = np.eye(2, 4), np.full((2, 4), 0.1)
    for lib in LIBS:
        ok = lib.autograd.gradcheck(wrong_linear(lib, a, error), (T(lib, X[:, :2]),), raise_exception=False)
        assert ok is False
        assert (
            lib.autograd.gradcheck(
                wrong_linear(lib, a, error), (T(lib, X[:, :2]),), raise_exception=False, fast_mode=True
            )
            is False
        )


def test_fast_mode_failure_reports_the_full_jacobians() -> None:
    a, error = np.eye(2, 4), np.full((2, 4), 0.1)
    with pytest.raises(GradcheckError, match=r"fast mode: v\^T J u is") as info:
        gradcheck(wrong_linear(chainrule, a, error), (T(chainrule, X[:, :2]),), fast_mode=True)
    assert "Jacobian mismatch for output 0 with respect to input 0" in str(info.value)
    assert "8 of 8 entries differ" in str(info.value)


def test_float32_warns_like_torch_and_the_report_hints_at_float64() -> None:
    messages = []
    for lib in LIBS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.autograd.gradcheck(lambda x: x * 2, (T(lib, X, dtype="float32"),), eps=1e-3, atol=1e-2)
        messages.append([str(w.message) for w in caught if issubclass(w.category, UserWarning)])
    assert messages[1] == messages[0] and len(messages[0]) == 1
    with pytest.warns(UserWarning), pytest.raises(GradcheckError, match="float64"):
        gradcheck(
            wrong_linear(chainrule, np.eye(2, 4), np.full((2, 4), 0.1)),
            (T(chainrule, X[:, :2], dtype="float32"),),
            eps=1e-3,
        )


def test_no_input_requiring_grad_is_a_value_error_like_torch() -> None:
    msgs = []
    for lib in LIBS:
        with pytest.raises(ValueError) as info:
            lib.autograd.gradcheck(lambda x: x * 2, (T(lib, X, requires_grad=False),), raise_exception=False)
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable() -> None:
    for lib in LIBS:
        x = T(lib, X)
        assert lib.autograd.gradcheck(cube_detached_backward(lib), (x,))
        assert lib.autograd.gradgradcheck(cube_detached_backward(lib), (x,), raise_exception=False) is False
        assert lib.autograd.gradgradcheck(cube(lib), (x,))
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to input 0"):
        gradgradcheck(cube_detached_backward(chainrule), (T(chainrule, X),))


def test_gradgradcheck_with_given_or_non_contiguous_grad_outputs() -> None:
    f = lambda x, w: (x @ w).sin()  # noqa: E731
    inputs = (T(chainrule, X), T(chainrule, W))
    assert gradgradcheck(f, inputs, gen_non_contig_grad_outputs=True)
    assert gradgradcheck(f, inputs, grad_outputs=T(chainrule, RNG.standard_normal((2, 4))))
    assert gradgradcheck(f, inputs, grad_outputs=(T(chainrule, np.ones((2, 4)), False),))
    outs = [o for o in gj.tensor_outputs(f(*inputs))]
    from chainrule.autograd.gradcheck import _random_grad_outputs

    g = _random_grad_outputs(outs, non_contiguous=True)[0]
    assert not g._data.flags.c_contiguous and g.requires_grad and tuple(g.shape) == (2, 4)


def _noisy(lib, scale: float):
    """2x with a backward that adds a little noise: right within tolerance, but not reentrant."""
    state = np.random.default_rng(7)

    class Noisy(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * (2 + scale * T(lib, state.standard_normal(tuple(g.shape)), False))

    return Noisy.apply


def test_nondeterministic_backward_is_caught_unless_tolerated() -> None:
    for lib in LIBS:
        with pytest.raises(Exception, match="Backward is not reentrant"):
            lib.autograd.gradcheck(_noisy(lib, 1e-9), (T(lib, X),))
        assert lib.autograd.gradcheck(_noisy(lib, 1e-9), (T(lib, X),), nondet_tol=1e-6)


def _ones_for_zero_grad(lib):
    """sin x whose backward answers a zero gradient with ones (right for every unit vector)."""

    class Sin(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            if not bool((g != 0).any()):
                return lib.ones_like(x)
            return g * x.cos()

    return Sin.apply


def test_backward_must_be_multiplied_by_grad_output_like_torch() -> None:
    for lib in LIBS:
        with pytest.raises(RuntimeError, match="backward not multiplied by grad_output"):
            lib.autograd.gradcheck(_ones_for_zero_grad(lib), (T(lib, X),), check_undefined_grad=False)


def _two_outputs(lib, fails_on_zero_and_none: bool):
    """(sin x, cos x) with unmaterialized gradients (an output left out of backward gives None).
    Optionally its backward fails on exactly what the undefined-gradient check sends: None for
    one output and zeros for the other."""

    class SinCos(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, gs, gc):
            (x,) = ctx.saved_tensors
            given = [g for g in (gs, gc) if g is not None]
            if fails_on_zero_and_none and len(given) == 1 and not bool((given[0] != 0).any()):
                raise RuntimeError("SinCos: cannot handle this")
            out = 0 * x
            if gs is not None:
                out = out + gs * x.cos()
            if gc is not None:
                out = out - gc * x.sin()
            return out

    return SinCos.apply


def test_undefined_output_gradients_like_torch() -> None:
    for lib in LIBS:
        assert lib.autograd.gradcheck(_two_outputs(lib, False), (T(lib, X),))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about the check being new
            with pytest.raises(
                RuntimeError, match="Expected backward function to handle undefined output grads"
            ):
                lib.autograd.gradcheck(_two_outputs(lib, True), (T(lib, X),))
        assert lib.autograd.gradcheck(_two_outputs(lib, True), (T(lib, X),), check_undefined_grad=False)


def test_forward_mode_check_catches_a_wrong_backward() -> None:
    """The forward-mode Jacobian comes from the (wrong) backward by the double-backward trick,
    so it is wrong too; the reverse check alone is switched off to see the forward report."""
    a, error = np.eye(2, 4), np.full((2, 4), 0.1)
    with pytest.raises(GradcheckError, match="Jacobian computed with forward mode mismatch"):
        gradcheck(
            wrong_linear(chainrule, a, error),
            (T(chainrule, X[:, :2]),),
            check_forward_ad=True,
            check_backward_ad=False,
        )


def test_non_tensor_and_constant_arguments_and_the_argument_position() -> None:
    a, error = np.eye(2, 4), np.full((2, 4), 0.1)
    f = lambda k, c, x: wrong_linear(chainrule, a, error)(x * k) + c.sum()  # noqa: E731
    with pytest.raises(GradcheckError, match=r"with respect to input 0 \(argument 2 of func\)"):
        gradcheck(f, (1.0, T(chainrule, W, False), T(chainrule, X[:, :2])))
    assert gradcheck(lambda k, c, x: x * k + c.sum(), (3, T(chainrule, W, False), T(chainrule, X)))


def test_no_differentiable_outputs() -> None:
    """Without a differentiable output, the numerical Jacobian must be zero (as torch checks)."""
    for lib in LIBS:
        assert lib.autograd.gradcheck(lambda x: x.detach() * 0, (T(lib, X),))
        with pytest.raises(RuntimeError, match="Numerical gradient for function expected to be zero"):
            lib.autograd.gradcheck(lambda x: x.detach() * 2, (T(lib, X),))


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_jacobians_it_builds_match_torch_autograd_functional(name) -> None:
    make, arrays = FUNCTIONS[name]
    ours = tuple(T(chainrule, a) for a in arrays)
    theirs = tuple(T(torch, a) for a in arrays)
    expected = torch.autograd.functional.jacobian(make(torch), theirs)  # [output][input]
    with chainrule.enable_grad():
        outputs = gj.tensor_outputs(make(chainrule)(*ours))
    analytical = gj.analytical_jacobian(outputs, list(ours))
    numerical = gj.numerical_jacobian(make(chainrule), ours, list(range(len(ours))), 1e-6)
    forward = gj.forward_jacobian(make(chainrule), ours, list(range(len(ours))))
    expected = expected if isinstance(expected[0], tuple) else (expected,)
    for k, row in enumerate(expected):
        for j, jac in enumerate(row):
            want = jac.numpy().reshape(analytical[k][j].shape)  # (output elements, input elements)
            np.testing.assert_allclose(analytical[k][j], want, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(forward[k][j], want, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(numerical[k][j], want, rtol=1e-6, atol=1e-8)
