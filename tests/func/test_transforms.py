"""chainrule.func's grad, grad_and_value, vjp, jvp, jacrev, jacfwd and hessian against torch.func
on the same functions (written once, with ``lib`` bound to chainrule or torch): values, pytree
structure, shapes, requires_grad of the results, composition, and torch's error messages."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.func as tfunc
from oracle import assert_same_tree
from oracle import tensor_of as T  # a float64 tensor of the values, in either library

import chainrule
import chainrule.func as cfunc
from chainrule.func import _jacobians

RNG = np.random.default_rng(0)
A = RNG.standard_normal(3)
B = RNG.standard_normal((2, 3))
LIBS = ((torch, tfunc), (chainrule, cfunc))


@pytest.fixture(params=["loop", "vmap"])
def batching(request, monkeypatch):
    """Run a test with jacrev / jacfwd batching through the loop, and through vmap."""
    monkeypatch.setattr(_jacobians, "VECTORIZE", request.param == "vmap")
    return request.param


def f_tree(lib, x, y):
    """A pytree-valued function of two arguments."""
    return {"a": lib.sin(x) * y, "b": (x.sum() * y.exp().sum(), (y * y).T)}


def f_scalar(lib, x, y):
    return (lib.sin(x) * y).sum() * x.cos().sum()


CASES = {
    "grad argnums tuple": lambda lib, F: F.grad(lambda x, y: f_scalar(lib, x, y), argnums=(0, 1))(
        T(lib, A), T(lib, B)
    ),
    "grad negative argnum": lambda lib, F: F.grad(lambda x, y: f_scalar(lib, x, y), argnums=-1)(
        T(lib, A), T(lib, B)
    ),
    "grad_and_value": lambda lib, F: F.grad_and_value(lambda x, y: f_scalar(lib, x, y), argnums=1)(
        T(lib, A), T(lib, B)
    ),
    "grad has_aux": lambda lib, F: F.grad(
        lambda x, y: (f_scalar(lib, x, y), {"q": x * 2, "k": (y,)}), has_aux=True
    )(T(lib, A), T(lib, B)),
    "grad_and_value has_aux": lambda lib, F: F.grad_and_value(
        lambda x: ((x**3).sum(), x.sin()), has_aux=True
    )(T(lib, A)),
    "grad of a dict and tuple": lambda lib, F: F.grad(
        lambda d, t: (d["w"] * t[0]).sum() + d["b"].sum() * t[1].sum()
    )({"w": T(lib, A), "b": T(lib, B)}, (T(lib, A), T(lib, B))),
    "grad unused input is zero": lambda lib, F: F.grad(lambda x, y: (x * 2).sum(), argnums=(0, 1))(
        T(lib, A), T(lib, B)
    ),
    "grad kwargs pass through": lambda lib, F: F.grad(lambda x, *, s: (x * s).sum())(
        T(lib, A), s=T(lib, A[::-1])
    ),
    "vjp pytree": lambda lib, F: F.vjp(lambda x, y: f_tree(lib, x, y), T(lib, A), T(lib, B))[1](
        {"a": T(lib, B), "b": (T(lib, 2.0), T(lib, B.T))}
    ),
    "vjp output": lambda lib, F: F.vjp(lambda x, y: f_tree(lib, x, y), T(lib, A), T(lib, B))[0],
    "vjp has_aux": lambda lib, F: F.vjp(lambda x: (x.sin(), x.cos()), T(lib, A), has_aux=True)[::2],
    "jvp pytree": lambda lib, F: F.jvp(
        lambda x, y: f_tree(lib, x, y), (T(lib, A), T(lib, B)), (T(lib, A[::-1]), T(lib, B * 2))
    ),
    "jvp has_aux": lambda lib, F: F.jvp(
        lambda x: (x.sin() * x, x.cos()), (T(lib, A),), (T(lib, A),), has_aux=True
    ),
    "jvp of a pytree primal": lambda lib, F: F.jvp(
        lambda d: d["u"] * d["v"].sum(),
        ({"u": T(lib, A), "v": T(lib, B)},),
        ({"u": T(lib, A * 0 + 1), "v": T(lib, B)},),
    ),
    "jvp of an independent output": lambda lib, F: F.jvp(
        lambda x: (x * 2, T(lib, B).exp()), (T(lib, A),), (T(lib, A),)
    ),
    "jacrev pytree": lambda lib, F: F.jacrev(lambda x, y: f_tree(lib, x, y))(T(lib, A), T(lib, B)),
    "jacrev argnums": lambda lib, F: F.jacrev(lambda x, y: f_tree(lib, x, y), argnums=(0, 1))(
        T(lib, A), T(lib, B)
    ),
    "jacrev argnums 1-tuple": lambda lib, F: F.jacrev(lambda x, y: f_tree(lib, x, y), argnums=(1,))(
        T(lib, A), T(lib, B)
    ),
    "jacrev chunked": lambda lib, F: F.jacrev(lambda x, y: f_tree(lib, x, y), argnums=1, chunk_size=2)(
        T(lib, A), T(lib, B)
    ),
    "jacrev dict input": lambda lib, F: F.jacrev(lambda d: d["p"] * d["q"].sum())(
        {"p": T(lib, A), "q": T(lib, B)}
    ),
    "jacrev has_aux": lambda lib, F: F.jacrev(lambda x: (x.sin(), x.cos()), has_aux=True)(T(lib, A)),
    "jacrev constant output": lambda lib, F: F.jacrev(lambda x: T(lib, B) * 5.0)(T(lib, A)),
    "jacrev scalar output": lambda lib, F: F.jacrev(lambda x: (x * x).sum())(T(lib, B)),
    "jacrev float32 input": lambda lib, F: F.jacrev(lambda x: x.double().sin())(
        lib.tensor(A.astype(np.float32))
    ),
    "jacfwd pytree": lambda lib, F: F.jacfwd(lambda x, y: f_tree(lib, x, y), argnums=(0, 1))(
        T(lib, A), T(lib, B)
    ),
    "jacfwd has_aux": lambda lib, F: F.jacfwd(lambda x: (x.sin(), x.cos()), has_aux=True)(T(lib, A)),
    "jacfwd constant output": lambda lib, F: F.jacfwd(lambda x: T(lib, B) * 5.0)(T(lib, A)),
    "hessian argnums": lambda lib, F: F.hessian(lambda x, y: f_scalar(lib, x, y), argnums=(0, 1))(
        T(lib, A), T(lib, B)
    ),
    "hessian of a vector function": lambda lib, F: F.hessian(lambda x: x**3 * x.sum())(T(lib, A)),
    "grad of grad": lambda lib, F: F.grad(lambda x: F.grad(lambda z: (lib.sin(z) * z).sum())(x).sum())(
        T(lib, A)
    ),
    "jacfwd of jacrev": lambda lib, F: F.jacfwd(F.jacrev(lambda x: lib.sin(x) * x.sum()))(T(lib, A)),
    "jacrev of jacrev": lambda lib, F: F.jacrev(F.jacrev(lambda x, y: f_scalar(lib, x, y)))(
        T(lib, A), T(lib, B)
    ),
    "jacrev of jacrev, tree": lambda lib, F: F.jacrev(
        F.jacrev(lambda x, y: f_tree(lib, x, y)["a"], argnums=(0, 1))
    )(T(lib, A), T(lib, B)),
    "vjp of grad": lambda lib, F: F.vjp(F.grad(lambda x: (lib.sin(x) * x).sum()), T(lib, A))[1](T(lib, A)),
    "jvp of grad": lambda lib, F: F.jvp(
        F.grad(lambda x: (lib.sin(x) * x * x.sum()).sum()), (T(lib, A),), (T(lib, A[::-1]),)
    ),
    "grad of jvp": lambda lib, F: F.grad(
        lambda x: F.jvp(lambda z: z.exp() * z.sum(), (x,), (x.cos(),))[1].sum()
    )(T(lib, A)),
    # requires_grad of results when the input requires grad outside (an outer level tracks)
    "grad, input requires grad": lambda lib, F: F.grad(lambda x: (x**3).sum())(T(lib, A, True)),
    "grad of a linear function": lambda lib, F: F.grad(lambda x: (x * 3).sum())(T(lib, A, True)),
    "jacrev, input requires grad": lambda lib, F: F.jacrev(lambda x: x**2)(T(lib, A, True)),
    "jacfwd, input requires grad": lambda lib, F: F.jacfwd(lambda x: x**2)(T(lib, A, True)),
    "jvp, input requires grad": lambda lib, F: F.jvp(lambda x: x**2, (T(lib, A, True),), (T(lib, A),)),
    "vjp, cotangent requires grad": lambda lib, F: F.vjp(lambda x: x**2, T(lib, A))[1](T(lib, A, True)),
    "aux of a tracked input": lambda lib, F: F.grad(
        lambda x: ((x**3).sum(), (x * 2, T(lib, A) * 3)), has_aux=True
    )(T(lib, A, True)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch_func(name, batching) -> None:
    theirs = CASES[name](torch, tfunc)
    ours = CASES[name](chainrule, cfunc)
    assert_same_tree(ours, theirs, name)


# ---- composition with ordinary autograd ----------------------------------------------------------
def test_backward_through_grad_reaches_the_outer_input() -> None:
    def run(lib, F):
        x = T(lib, A, True)
        F.grad(lambda z: (lib.sin(z) * z).sum())(x).sum().backward()  # sum of the second derivative
        return x.grad

    grads = [run(lib, F) for lib, F in LIBS]
    np.testing.assert_allclose(grads[1].numpy(), grads[0].numpy(), rtol=1e-12)
    # by hand: d/dx (cos x * x + sin x) = 2 cos x - x sin x
    np.testing.assert_allclose(grads[1].numpy(), 2 * np.cos(A) - A * np.sin(A), rtol=1e-12)


def test_closed_over_parameter_stays_differentiable() -> None:
    def run(lib, F):
        w = T(lib, A, True)
        g = F.grad(lambda x: (w * x.sin()).sum())(T(lib, A[::-1]))  # = w * cos(x)
        assert g.requires_grad
        g.sum().backward()
        indep = F.grad(lambda x: (x * x).sum() + w.sum())(T(lib, A))
        assert not indep.requires_grad
        return w.grad

    results = [run(lib, F) for lib, F in LIBS]
    np.testing.assert_allclose(results[1].numpy(), np.cos(A[::-1]), rtol=1e-12)
    np.testing.assert_allclose(results[1].numpy(), results[0].numpy(), rtol=1e-12)


def test_no_perturbation_confusion() -> None:
    """d/dx [x * d/dy (x + y)] = 1 (a tape that confuses the two variables gives 2); and the
    inner grad sees the outer x as a constant even when x is passed to it."""

    def run(lib, F):
        def outer(x):
            inner = F.grad(lambda y: (x + y).sum())(x)  # = 1, whatever x is
            return (x * inner).sum()

        np.testing.assert_allclose(F.grad(outer)(T(lib, A)).numpy(), np.ones(3))
        g = F.grad(lambda x: F.grad(lambda y: (x * y).sum())(x).sum())(T(lib, A))
        np.testing.assert_allclose(g.numpy(), np.ones(3))  # d/dx sum(x) = 1, not 2

    for lib, F in LIBS:
        run(lib, F)


def test_grad_under_no_grad_is_not_differentiable_outside() -> None:
    for lib, F in LIBS:
        x = T(lib, A, True)
        with lib.no_grad():
            g = F.grad(lambda z: (z**3).sum())(x)  # grad mode is on inside the function
        assert not g.requires_grad
        np.testing.assert_allclose(g.numpy(), 3 * A**2)


def test_vjp_fn_can_be_called_again_and_differentiated_in_the_cotangent() -> None:
    def run(lib, F):
        _, fn = F.vjp(lambda x: lib.sin(x) * x.sum(), T(lib, A))
        first, second = fn(T(lib, A))[0], fn(T(lib, A))[0]
        np.testing.assert_array_equal(first.numpy(), second.numpy())
        u = T(lib, A[::-1], True)
        (fn(u)[0] * T(lib, A)).sum().backward()  # d/du <J^T u, a> = J a
        return u.grad

    out = [run(lib, F) for lib, F in LIBS]
    np.testing.assert_allclose(out[1].numpy(), out[0].numpy(), rtol=1e-12)


@pytest.mark.parametrize("second", ["jacrev(jacrev)", "jacfwd(jacfwd)", "jacrev(jacfwd)"])
def test_hessian_equals_other_second_derivatives(second, batching) -> None:
    f = lambda x: (chainrule.sin(x) * x.sum() * x.exp()).sum()  # noqa: E731
    outer, inner = (getattr(cfunc, n) for n in second.rstrip(")").split("("))
    x = T(chainrule, B)
    h = cfunc.hessian(f)(x)
    assert tuple(h.shape) == (2, 3, 2, 3)
    np.testing.assert_allclose(h.numpy(), outer(inner(f))(x).numpy(), rtol=1e-12)
    np.testing.assert_allclose(
        h.numpy(),
        tfunc.hessian(lambda x: (torch.sin(x) * x.sum() * x.exp()).sum())(T(torch, B)).numpy(),
        rtol=1e-12,
    )


def _logistic(lib, w, X, y):
    """Mean binary logistic loss of a (d, 1) weight matrix."""
    z = (X @ w).squeeze(1)
    return lib.nn.functional.binary_cross_entropy_with_logits(z, y)


def test_hessian_of_logistic_regression_loss_of_a_matrix(batching) -> None:
    rng = np.random.default_rng(1)
    X, w, y = rng.standard_normal((7, 4)), rng.standard_normal((4, 1)), (rng.random(7) < 0.5) * 1.0
    hs = [F.hessian(_logistic, argnums=1)(lib, T(lib, w), T(lib, X), T(lib, y)) for lib, F in LIBS]
    assert tuple(hs[1].shape) == (4, 1, 4, 1)
    np.testing.assert_allclose(hs[1].numpy(), hs[0].numpy(), rtol=1e-10, atol=1e-14)
    p = 1 / (1 + np.exp(-(X @ w)[:, 0]))
    by_hand = X.T @ np.diag(p * (1 - p)) @ X / len(y)  # X^T diag(p (1 - p)) X / n
    np.testing.assert_allclose(hs[1].numpy().reshape(4, 4), by_hand, rtol=1e-10)


def test_hessian_of_softmax_regression_matches_torch(batching) -> None:
    rng = np.random.default_rng(2)
    X, W, y = rng.standard_normal((6, 3)), rng.standard_normal((3, 4)), rng.integers(0, 4, 6)

    def loss(W, lib):
        return lib.nn.functional.cross_entropy(T(lib, X) @ W, lib.tensor(y))

    hs = [F.hessian(loss)(T(lib, W), lib) for lib, F in LIBS]
    assert tuple(hs[1].shape) == (3, 4, 3, 4)
    np.testing.assert_allclose(hs[1].numpy(), hs[0].numpy(), rtol=1e-10, atol=1e-14)


def test_batched_step_vmap_and_loop_agree() -> None:
    _, fn = cfunc.vjp(lambda x, y: (chainrule.sin(x) * y, (x * y).sum(0)), T(chainrule, A), T(chainrule, B))
    rng = np.random.default_rng(3)
    basis = [T(chainrule, rng.standard_normal((5, 2, 3))), T(chainrule, rng.standard_normal((5, 3)))]

    def flat(rows):
        return list(fn((rows[0], rows[1])))

    loop = _jacobians.batched_vjp(flat, basis, vectorize=False)
    vec = _jacobians.batched_vjp(flat, basis, vectorize=True)
    chunked = _jacobians.batched_vjp(flat, basis, chunk_size=2, vectorize=True)
    for a, b, c in zip(loop, vec, chunked):
        assert tuple(a.shape) == tuple(b.shape) == tuple(c.shape)
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(c.numpy(), a.numpy(), rtol=1e-13, atol=1e-15)


def test_jacrev_chunk_sizes_agree(batching) -> None:
    f = lambda x: chainrule.sin(x) * x.sum()  # noqa: E731
    full = cfunc.jacrev(f)(T(chainrule, B))
    for chunk in (1, 2, 5, 6, 100):
        np.testing.assert_array_equal(
            cfunc.jacrev(f, chunk_size=chunk)(T(chainrule, B)).numpy(), full.numpy()
        )


# ---- errors, as torch raises them ----------------------------------------------------------------
def _both_raise(call, exc, match=None):
    messages = []
    for lib, F in LIBS:
        with pytest.raises(exc, match=match) as info:
            call(lib, F)
        messages.append(str(info.value))
    return messages


ERRORS = [
    (
        lambda lib, F: F.grad(lambda x: x * 2)(T(lib, A)),
        RuntimeError,
        "Expected f\\(\\*args\\) to return a scalar Tensor, got tensor with 1 dims",
    ),
    (
        lambda lib, F: F.grad(lambda x: 3.0)(T(lib, A)),
        RuntimeError,
        "Expected f\\(\\*args\\) to return a Tensor, got <class 'float'>",
    ),
    (
        lambda lib, F: F.grad(lambda x, y: (x * y).sum(), argnums=2)(T(lib, A), T(lib, A)),
        RuntimeError,
        "Got argnum=2, but only 2 positional inputs",
    ),
    (
        lambda lib, F: F.grad(lambda x, y: (x * y).sum(), argnums=-3)(T(lib, A), T(lib, A)),
        RuntimeError,
        "Got argnum=-3, but only 2 positional inputs",
    ),
    (
        lambda lib, F: F.grad(lambda x, y: (x * y).sum(), argnums=(0, 0))(T(lib, A), T(lib, A)),
        RuntimeError,
        "argnums elements must be unique",
    ),
    (
        lambda lib, F: F.grad(lambda x, y: (x * y).sum(), argnums=())(T(lib, A), T(lib, A)),
        RuntimeError,
        "argnums must be non-empty",
    ),
    (
        lambda lib, F: F.grad(lambda x, y: (x * y).sum(), argnums=1.0)(T(lib, A), T(lib, A)),
        RuntimeError,
        "argnums must be int or Tuple",
    ),
    (
        lambda lib, F: F.grad(lambda x, y: (x * y).sum(), argnums=1)(T(lib, A), 3.0),
        ValueError,
        "Thing passed to transform API must be Tensor, got <class 'float'>",
    ),
    (
        lambda lib, F: F.grad(lambda x: ((x * 2).sum(), 3), has_aux=True)(T(lib, A)),
        RuntimeError,
        "Expected tensors, got unsupported type <class 'int'>",
    ),
    (
        lambda lib, F: F.grad(lambda x: (x * 2).sum(), has_aux=True)(T(lib, A)),
        RuntimeError,
        "output of function f should be a tuple: \\(output, aux\\) if has_aux is True",
    ),
    (
        lambda lib, F: F.grad(lambda x: (x * 2).sum())(lib.tensor([1, 2])),
        RuntimeError,
        "only Tensors of floating point dtype can require gradients",
    ),
    (
        lambda lib, F: F.vjp(lambda x: x * 2, T(lib, A), has_aux=True),
        RuntimeError,
        "vjp\\(f, \\*primals\\): output of function f should be a tuple",
    ),
    (
        lambda lib, F: F.vjp(lambda x: 3, T(lib, A)),
        RuntimeError,
        "expected f\\(\\*primals\\) to return only tensors, got unsupported type <class 'int'>",
    ),
    (
        lambda lib, F: F.vjp(lambda x: x * 2, T(lib, A))[1]((T(lib, A),)),
        RuntimeError,
        "Expected pytree structure of cotangents to be the same as pytree structure of outputs to "
        "the function. cotangents: \\(\\*,\\), primal output: \\*",
    ),
    (
        lambda lib, F: F.vjp(lambda x: (x * 2,), T(lib, A))[1]([T(lib, A)]),
        RuntimeError,
        "cotangents: \\[\\*\\], primal output: \\(\\*,\\)",
    ),
    (
        lambda lib, F: F.vjp(lambda x: x * 2, T(lib, A))[1](T(lib, A[:2])),
        RuntimeError,
        "Mismatch in shape: grad_output\\[0\\] has a shape of",
    ),
    (
        lambda lib, F: F.jvp(lambda x: x, T(lib, A), T(lib, A)),
        RuntimeError,
        "Expected primals to be a tuple. E.g. it should be valid to call f\\(\\*primals\\)",
    ),
    (
        lambda lib, F: F.jvp(lambda x: x, (T(lib, A),), [T(lib, A)]),
        RuntimeError,
        "Expected primals and tangents to have the same python structure",
    ),
    (
        lambda lib, F: F.jvp(lambda x: x, (), ()),
        RuntimeError,
        "Expected primals to contain at least one Tensor",
    ),
    (
        lambda lib, F: F.jvp(lambda x: x, (3.0,), (T(lib, A),)),
        RuntimeError,
        "Expected primals to only contain Tensors, got <class 'float'>",
    ),
    (
        lambda lib, F: F.jvp(lambda x: x, (T(lib, A),), (T(lib, A[:2]),)),
        RuntimeError,
        "Trying to set a forward gradient that has a different size",
    ),
    (
        lambda lib, F: F.jvp(lambda x: 3, (T(lib, A),), (T(lib, A),)),
        RuntimeError,
        "expected f\\(\\*primals\\) to return only tensors",
    ),
    (
        lambda lib, F: F.jvp(lambda x: T(lib, A) * 2, (T(lib, A),), (T(lib, A),), strict=True),
        RuntimeError,
        "The output of f is independent of the inputs. This is not allowed with strict=True.",
    ),
    (
        lambda lib, F: F.jacrev(lambda x: x.sum(), chunk_size=0)(T(lib, A)),
        ValueError,
        "jacrev: `chunk_size` should be greater than 0.",
    ),
    (
        lambda lib, F: F.jacrev(lambda x: x * 2, argnums=1)(T(lib, A)),
        RuntimeError,
        "Got argnum=1, but only 1 positional inputs",
    ),
    (
        lambda lib, F: F.jacrev(lambda x: x * 2, has_aux=True)(T(lib, A)),
        RuntimeError,
        "output of function f should be a tuple",
    ),
    (
        lambda lib, F: F.jacfwd(lambda x: x.sum(), randomness="bad")(T(lib, A)),
        RuntimeError,
        "Only allowed values for randomness are 'error', 'different', or 'same'. Got bad",
    ),
    (
        lambda lib, F: F.hessian(lambda x: x * 2, argnums=1)(T(lib, A)),
        RuntimeError,
        "Got argnum=1, but only 1 positional inputs",
    ),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_errors_match_torch(case) -> None:
    call, exc, match = ERRORS[case]
    _both_raise(call, exc, match)
