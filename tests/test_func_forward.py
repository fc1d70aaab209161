"""chainrule.func's forward mode (jvp, jacfwd, hessian, linearize through dual tensors) against
torch.func on the same functions (written once, ``lib`` bound to chainrule or torch): values,
structure, dtypes and requires_grad, nested levels (forward over forward), composition with
reverse mode and vmap, custom Functions with ``jvp``, and torch's errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfw
import torch.func as tfunc
from oracle import assert_same_tree
from oracle import tensor_of as T  # a float64 tensor of the values, in either library

import chainrule
import chainrule.autograd.forward_ad as cfw
import chainrule.func as cfunc
from chainrule.func import _jacobians

RNG = np.random.default_rng(7)
A = RNG.standard_normal(3)
B = RNG.standard_normal((2, 3))
V = RNG.standard_normal(3)
W = RNG.standard_normal((2, 3))
M = RNG.standard_normal((3, 4))
LIBS = ((torch, tfunc), (chainrule, cfunc))


@pytest.fixture(params=["loop", "vmap"])
def batching(request, monkeypatch):
    """Run a test with jacfwd / jacrev batching through the loop, and through vmap."""
    monkeypatch.setattr(_jacobians, "VECTORIZE", request.param == "vmap")
    return request.param


# ---- the functions ---------------------------------------------------------------------------------
def elementwise(lib, x):
    return lib.sin(x) * x.exp() + x.tanh() ** 2


def matmul(lib, x):
    return (x.unsqueeze(0) @ T(lib, M)).squeeze(0).sigmoid()


def reductions(lib, x):
    return lib.stack([x.sum(), x.mean(), x.amax(), x.norm(), (x * x).prod()])


def views(lib, x):
    y = x.reshape(3, 1).expand(3, 2).t()
    return (y[1:, ::2] * 3).flatten().cumsum(0)


def softmax(lib, x):
    return lib.nn.functional.softmax(x * 2, dim=0) + lib.nn.functional.log_softmax(x, dim=0)


def pytree_fn(lib, d, t):
    return {"u": d["w"] * t[0].sum(), "v": (d["b"].sin() @ t[1].T,)}


def setitem(lib, x):
    y = x.clone() * 1
    y[0] = x[1] ** 2
    y[1:3] = y[0:2].sin()
    return y.exp()


def inplace(lib, x):
    y = x * 2
    y.mul_(x).add_(x.sin())
    return y


def cross_entropy(lib, x):
    return lib.nn.functional.cross_entropy(lib.cat([x, x.flip(0)]).reshape(2, 3), lib.tensor([0, 2]))


def where_cat(lib, x):
    return lib.where(x > 0, x**2, x.exp()).cumprod(0) * lib.cat([x[:1] * x[2:], x.flip(0)[:1]]).norm()


FUNCTIONS = {"elementwise": elementwise, "matmul": matmul, "reductions": reductions, "views": views}
FUNCTIONS.update(softmax=softmax, setitem=setitem, inplace=inplace)
FUNCTIONS.update(cross_entropy=cross_entropy, where_cat=where_cat)
#: torch.func's jacfwd(jacfwd) refuses the in-place writes ("ZeroTensors are immutable")
NESTABLE = [name for name in FUNCTIONS if name not in ("setitem", "inplace")]


_MLPS: dict = {}


def _mlp(lib):
    """The same 3 -> 4 -> 2 MLP in either library (built once: torch refuses to build one inside a
    transform)."""
    if lib not in _MLPS:
        _MLPS[lib] = _new_mlp(lib)
    return _MLPS[lib]


def _new_mlp(lib):
    gen = np.random.default_rng(1)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2)).double()
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(gen.standard_normal(tuple(p.shape))))
    return model


def _cube(lib):
    """A custom Function (setup_context style) with a jvp: x ** 3, tangent 3 x^2 t."""

    class Cube(lib.autograd.Function):
        generate_vmap_rule = True  # torch needs it under vmap (jacfwd); chainrule's vmap just works

        @staticmethod
        def forward(x):
            return x**3

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)
            ctx.save_for_forward(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * g

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * t * 1.0  # marks that jvp (not the ops) made the tangent

    return Cube


def _no_jvp(lib):
    class Square(lib.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x):
            return x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    return Square


CASES = {
    **{
        f"jvp {name}": lambda lib, F, fn=fn: F.jvp(lambda x: fn(lib, x), (T(lib, A),), (T(lib, V),))
        for name, fn in FUNCTIONS.items()
    },
    **{
        f"jacfwd {name}": lambda lib, F, fn=fn: F.jacfwd(lambda x: fn(lib, x))(T(lib, A))
        for name, fn in FUNCTIONS.items()
    },
    **{
        f"jvp of jvp {name}": lambda lib, F, fn=fn: F.jvp(
            lambda x: F.jvp(lambda y: fn(lib, y), (x,), (T(lib, V),))[1], (T(lib, A),), (T(lib, A),)
        )
        for name, fn in FUNCTIONS.items()
    },
    **{
        f"hessian {name}": lambda lib, F, fn=fn: F.hessian(lambda x: fn(lib, x).sum())(T(lib, A))
        for name, fn in FUNCTIONS.items()
        if name != "setitem"  # both libraries refuse its double backward (a saved value changed)
    },
    **{
        f"jacfwd(jacfwd) {name}": lambda lib, F, fn=fn: F.jacfwd(F.jacfwd(lambda x: fn(lib, x)))(T(lib, A))
        for name, fn in FUNCTIONS.items()
        if name in NESTABLE
    },
    "jvp pytrees": lambda lib, F: F.jvp(
        lambda d, t: pytree_fn(lib, d, t),
        ({"w": T(lib, A), "b": T(lib, B)}, (T(lib, A), T(lib, B))),
        ({"w": T(lib, V), "b": T(lib, W)}, (T(lib, V), T(lib, W))),
    ),
    "jacfwd pytrees argnums tuple": lambda lib, F: F.jacfwd(
        lambda d, t: pytree_fn(lib, d, t), argnums=(0, 1)
    )({"w": T(lib, A), "b": T(lib, B)}, (T(lib, A), T(lib, B))),
    "jacfwd second argnum": lambda lib, F: F.jacfwd(lambda x, y: (x * y).sin(), argnums=1)(
        T(lib, B), T(lib, W)
    ),
    "jvp has_aux": lambda lib, F: F.jvp(
        lambda x: (x.sin(), {"a": x * 2, "b": (x.sum(),)}), (T(lib, A),), (T(lib, V),), has_aux=True
    ),
    "jacfwd has_aux": lambda lib, F: F.jacfwd(lambda x: (x.sin() * x, x.cos()), has_aux=True)(T(lib, A)),
    "jvp independent output is zero": lambda lib, F: F.jvp(
        lambda x: (x.sin(), T(lib, B) * 2), (T(lib, A),), (T(lib, V),)
    ),
    "jvp of a returned input": lambda lib, F: F.jvp(
        lambda x, y: (x, y * 2), (T(lib, A), T(lib, B)), (T(lib, V), T(lib, W))
    ),
    "jvp functional_call MLP": lambda lib, F: F.jvp(
        lambda p: F.functional_call(_mlp(lib), p, (T(lib, B),)),
        (dict(_mlp(lib).named_parameters()),),
        ({k: lib.ones_like(p) for k, p in _mlp(lib).named_parameters()},),
    )[1],
    "jacfwd functional_call MLP params": lambda lib, F: F.jacfwd(
        lambda p, x: F.functional_call(_mlp(lib), p, (x,))
    )({k: p.detach() for k, p in _mlp(lib).named_parameters()}, T(lib, B)),
    "jacfwd MLP input": lambda lib, F: F.jacfwd(_mlp(lib))(T(lib, B)),
    "jvp custom Function with jvp": lambda lib, F: F.jvp(
        lambda x: _cube(lib).apply(x).sin(), (T(lib, A),), (T(lib, V),)
    ),
    "jacfwd custom Function with jvp": lambda lib, F: F.jacfwd(lambda x: _cube(lib).apply(x) * x)(T(lib, A)),
    "hessian custom Function": lambda lib, F: F.hessian(lambda x: _cube(lib).apply(x).sum())(T(lib, A)),
    "jacfwd(jacfwd)": lambda lib, F: F.jacfwd(F.jacfwd(lambda x: elementwise(lib, x) * matmul(lib, x)[:3]))(
        T(lib, A)
    ),
    "jacfwd(jacfwd) softmax": lambda lib, F: F.jacfwd(F.jacfwd(lambda x: softmax(lib, x)))(T(lib, A)),
    "jacfwd(jacrev)": lambda lib, F: F.jacfwd(F.jacrev(lambda x: views(lib, x)))(T(lib, A)),
    "jacrev(jacfwd)": lambda lib, F: F.jacrev(F.jacfwd(lambda x: reductions(lib, x)))(T(lib, A)),
    "hessian": lambda lib, F: F.hessian(lambda x: (elementwise(lib, x) * matmul(lib, x)[:3]).sum())(
        T(lib, A)
    ),
    "hessian argnums tuple": lambda lib, F: F.hessian(
        lambda x, y: (x.sin() * y).sum() * x.sum(), argnums=(0, 1)
    )(T(lib, A), T(lib, B)),
    "hessian MLP params": lambda lib, F: F.hessian(
        lambda p: F.functional_call(_mlp(lib), p, (T(lib, B),)).pow(2).sum()
    )({k: p.detach() for k, p in _mlp(lib).named_parameters()}),
    "jvp of jvp": lambda lib, F: F.jvp(
        lambda x: F.jvp(lambda y: elementwise(lib, y) * y.sum(), (x,), (T(lib, V),))[1],
        (T(lib, A),),
        (T(lib, A) * 0.5,),
    ),
    "jvp of jvp, same tangent (no perturbation confusion)": lambda lib, F: F.jvp(
        lambda x: F.jvp(lambda y: x * y, (x,), (T(lib, V),))[1], (T(lib, A),), (T(lib, V),)
    ),
    "grad of jvp": lambda lib, F: F.grad(
        lambda x: F.jvp(lambda y: elementwise(lib, y).sum() * views(lib, y).sum(), (x,), (T(lib, V),))[1]
    )(T(lib, A)),
    "jvp of grad": lambda lib, F: F.jvp(
        F.grad(lambda x: (x.exp() * x.sqrt() + matmul(lib, x).sum()).sum()), (T(lib, A).abs(),), (T(lib, V),)
    ),
    "jvp of vjp": lambda lib, F: F.jvp(
        lambda x: F.vjp(lambda y: softmax(lib, y), x)[1](T(lib, A))[0], (T(lib, A),), (T(lib, V),)
    ),
    "vmap of jvp": lambda lib, F: F.vmap(lambda x, v: F.jvp(lambda y: elementwise(lib, y), (x,), (v,)))(
        T(lib, B), T(lib, W)
    ),
    "vmap of jvp, unbatched primal": lambda lib, F: F.vmap(
        lambda v: F.jvp(lambda y: matmul(lib, y), (T(lib, A),), (v,))[1]
    )(T(lib, W)),
    "jvp of vmap": lambda lib, F: F.jvp(F.vmap(lambda y: softmax(lib, y)), (T(lib, B),), (T(lib, W),)),
    "float32 stays float32": lambda lib, F: (
        F.jvp(lambda x: views(lib, x), (T(lib, A, dtype="float32"),), (T(lib, V, dtype="float32"),)),
        F.jacfwd(lambda x: elementwise(lib, x))(T(lib, A, dtype="float32")),
    ),
    "jvp of a bool output": lambda lib, F: F.jvp(lambda x: (x.sin(), x > 0), (T(lib, A),), (T(lib, V),)),
    "linearize": lambda lib, F: (lambda out_fn: (out_fn[0], out_fn[1](T(lib, V)), out_fn[1](T(lib, A))))(
        F.linearize(lambda x: elementwise(lib, x) * matmul(lib, x)[:3], T(lib, A))
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch_func(name, batching) -> None:
    theirs = CASES[name](torch, tfunc)
    ours = CASES[name](chainrule, cfunc)
    assert_same_tree(ours, theirs, name, rtol=1e-5 if "float32" in name else 1e-10)
    if "float32" in name:
        assert ours[0][1].dtype == chainrule.float32 and ours[1].dtype == chainrule.float32


# ---- composition with ordinary autograd --------------------------------------------------------------
def test_backward_through_jvp_reaches_the_input_and_closed_over_parameter() -> None:
    grads = []
    for lib, F in LIBS:
        x, w = T(lib, A, requires_grad=True), T(lib, M, requires_grad=True)
        out, tangent = F.jvp(lambda y, w=w: (y.sin().unsqueeze(0) @ w).exp(), (x,), (T(lib, V),))
        assert out.requires_grad and tangent.requires_grad
        (out.sum() + tangent.pow(2).sum()).backward()
        grads.append((x.grad, w.grad))
    assert_same_tree(grads[1], grads[0], requires_grad=False)


def test_results_do_not_require_grad_for_constant_inputs() -> None:
    for lib, F in LIBS:
        out, tangent = F.jvp(lambda y: y.sin(), (T(lib, A),), (T(lib, V),))
        assert not out.requires_grad and not tangent.requires_grad
        assert not F.jacfwd(lambda y: y.exp())(T(lib, A)).requires_grad


def test_jvp_under_no_grad() -> None:
    results = []
    for lib, F in LIBS:
        with lib.no_grad():
            results.append(
                F.jvp(lambda y, lib=lib: matmul(lib, y), (T(lib, A, requires_grad=True),), (T(lib, V),))
            )
    assert_same_tree(results[1], results[0])


def test_jvp_inside_a_user_dual_level() -> None:
    """func.jvp opens its own level inside the public one, and both tangents come out right (torch
    refuses this: "Nested forward mode AD is not supported"; the expected values are the
    closed-form derivatives of sin(x * y))."""
    with cfw.dual_level():
        x = cfw.make_dual(T(chainrule, A), T(chainrule, V))
        out, tangent = cfunc.jvp(lambda y: (x * y).sin(), (T(chainrule, A),), (T(chainrule, A),))
        outer_of_out = cfw.unpack_dual(out).tangent
        outer_of_tangent = cfw.unpack_dual(tangent).tangent
    xy = A * A
    np.testing.assert_allclose(out.numpy(), np.sin(xy))
    np.testing.assert_allclose(tangent.numpy(), np.cos(xy) * A * A)  # d/dy along A
    np.testing.assert_allclose(outer_of_out.numpy(), np.cos(xy) * A * V)  # d/dx along V
    np.testing.assert_allclose(outer_of_tangent.numpy(), (np.cos(xy) - np.sin(xy) * xy) * A * V)


def test_public_dual_level_still_refuses_nesting_and_jvp_leaves_it_open() -> None:
    with cfw.dual_level():
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            cfw.enter_dual_level()
        x = cfw.make_dual(T(chainrule, A), T(chainrule, V))
        cfunc.jvp(lambda y: y * 2, (T(chainrule, A),), (T(chainrule, V),))
        np.testing.assert_allclose(cfw.unpack_dual(x.sin()).tangent.numpy(), np.cos(A) * V)
    assert cfw.unpack_dual(x).tangent is None


def test_jacfwd_negative_argnum() -> None:
    """torch 2.13's jacfwd gives zeros for argnums=-1 here (a torch bug); the Jacobian is torch's
    with argnums=1."""
    fn = lambda lib: lambda x, y: (x * y).sin()  # noqa: E731
    theirs = tfunc.jacfwd(fn(torch), argnums=1)(T(torch, B), T(torch, W))
    ours = cfunc.jacfwd(fn(chainrule), argnums=-1)(T(chainrule, B), T(chainrule, W))
    assert_same_tree(ours, theirs)


def test_jacfwd_of_an_empty_input() -> None:
    """torch's jacfwd fails on an empty input (an IndexError from its vmap); the Jacobian is empty."""
    jac = cfunc.jacfwd(lambda x, y: (x.sum() + y).sin())(T(chainrule, np.zeros((0, 2))), T(chainrule, A))
    assert tuple(jac.shape) == (3, 0, 2)


def test_jacfwd_batching_paths_agree() -> None:
    f = cfunc.jacfwd(cfunc.jacfwd(lambda x: softmax(chainrule, x) * x.sum()))
    vectorized = f(T(chainrule, A))
    _jacobians.VECTORIZE = False
    try:
        looped = f(T(chainrule, A))
    finally:
        _jacobians.VECTORIZE = True
    assert_same_tree(vectorized, looped)


def test_custom_function_jvp_is_the_one_used() -> None:
    """The tangent comes from the Function's jvp (which scales by exactly 1.0 here), not from its
    forward's ops: a jvp that lies shows through."""

    class Liar(chainrule.autograd.Function):
        @staticmethod
        def forward(x):
            return x * 2

        @staticmethod
        def setup_context(ctx, inputs, output):
            pass

        @staticmethod
        def backward(ctx, g):
            return g * 2

        @staticmethod
        def jvp(ctx, t):
            return t * 5

    _, tangent = cfunc.jvp(Liar.apply, (T(chainrule, A),), (T(chainrule, V),))
    np.testing.assert_allclose(tangent.numpy(), 5 * V)
    np.testing.assert_allclose(cfunc.jacfwd(Liar.apply)(T(chainrule, A)).numpy(), 5 * np.eye(3))


def test_autograd_functional_forward_mode_jacobian_matches_torch() -> None:
    results = []
    for lib in (torch, chainrule):
        m = T(lib, M)
        fn = lambda x, y, m=m: (x.sin() * y.sum(), (x.unsqueeze(0) @ m).exp())  # noqa: E731
        results.append(
            lib.autograd.functional.jacobian(
                fn, (T(lib, A), T(lib, B)), vectorize=True, strategy="forward-mode"
            )
        )
    assert_same_tree(results[1], results[0])


# ---- errors ----------------------------------------------------------------------------------------
def _both_raise(call, exc, match=None) -> list:
    messages = []
    for lib, F in LIBS:
        with pytest.raises(exc, match=match) as info:
            call(lib, F)
        messages.append(str(info.value))
    return messages


ERRORS = [
    (
        lambda lib, F: F.jvp(lambda x: _no_jvp(lib).apply(x), (T(lib, A),), (T(lib, V),)),
        RuntimeError,
        "You must implement the jvp function for custom autograd.Function to use it with forward mode AD",
    ),
    (
        lambda lib, F: F.jacfwd(lambda x: _no_jvp(lib).apply(x))(T(lib, A)),
        RuntimeError,
        "You must implement the jvp function",
    ),
    (
        lambda lib, F: F.jvp(lambda x: T(lib, B) * 2, (T(lib, A),), (T(lib, V),), strict=True),
        RuntimeError,
        r"jvp\(f, primals, tangents, strict=True\): The output of f is independent of the inputs",
    ),
    (
        lambda lib, F: F.jvp(lambda x: x, [T(lib, A)], [T(lib, V)]),
        RuntimeError,
        "Expected primals to be a tuple",
    ),
    (
        lambda lib, F: F.jvp(lambda x: x, (T(lib, A),), (T(lib, B),)),
        RuntimeError,
        "Trying to set a forward gradient that has a different size",
    ),
    (
        lambda lib, F: F.jvp(lambda x, y: x, (T(lib, A), T(lib, A)), (T(lib, V),)),
        RuntimeError,
        "Expected primals and tangents to have the same python structure",
    ),
    (
        lambda lib, F: F.jvp(lambda x: x.sin(), (T(lib, A),), (T(lib, V),), has_aux=True),
        RuntimeError,
        r"output of function f should be a tuple: \(output, aux\) if has_aux is True",
    ),
    (
        lambda lib, F: F.jvp(lambda x: (x, 3), (T(lib, A),), (T(lib, V),)),
        RuntimeError,
        "expected f\\(\\*primals\\) to return only tensors, got unsupported type",
    ),
    (
        lambda lib, F: F.jvp(lambda x: x, (T(lib, [1, 2], dtype="int64"),), (T(lib, V[:2]),)),
        ValueError,
        "Expected primal to be floating point or complex",
    ),
    (
        lambda lib, F: F.jacfwd(lambda x: x + lib.rand(3, dtype=lib.float64))(T(lib, A)),
        RuntimeError,
        "randomness",
    ),
    (
        lambda lib, F: F.jacfwd(lambda x: x, randomness="sometimes")(T(lib, A)),
        RuntimeError,
        "Only allowed values",
    ),
    (
        lambda lib, F: F.linearize(lambda x: x.sin(), T(lib, A))[1](T(lib, B)),
        RuntimeError,
        r"tangent:0 with shape .*\[2, 3\]\) in flattened pytree doesn't match the shape",
    ),
    (
        lambda lib, F: F.linearize(lambda x: x.sin(), T(lib, A))[1](T(lib, V, dtype="float32")),
        RuntimeError,
        "tangent:0 with dtype .*float32 in flattened pytree doesn't match the dtype",
    ),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_errors_match_torch(case) -> None:
    call, exc, match = ERRORS[case]
    _both_raise(call, exc, match)


def test_nested_forward_mode_through_a_custom_function_is_refused_not_wrong() -> None:
    with pytest.raises(NotImplementedError, match="nested forward-mode AD"):
        cfunc.jacfwd(cfunc.jacfwd(lambda x: _cube(chainrule).apply(x)))(T(chainrule, A))


def test_jacfwd_of_jacfwd_through_in_place_ops() -> None:
    """torch.func refuses this ("ZeroTensors are immutable"); y = 2 x^2 + sin x element-wise, so
    the second derivative is 4 - sin x on the diagonal."""
    second = cfunc.jacfwd(cfunc.jacfwd(lambda x: inplace(chainrule, x)))(T(chainrule, A)).numpy()
    expected = np.zeros((3, 3, 3))
    expected[np.arange(3), np.arange(3), np.arange(3)] = 4 - np.sin(A)
    np.testing.assert_allclose(second, expected, rtol=1e-12, atol=1e-12)


C = RNG.standard_normal((2, 2)) + 1j * RNG.standard_normal((2, 2))
CV = RNG.standard_normal((2, 2)) + 1j * RNG.standard_normal((2, 2))
R = RNG.standard_normal((2, 2))
COMPLEX = {
    "matmul": lambda x, y: y @ y,
    "broadcast sum": lambda x, y: y * y.sum(),
    "sin": lambda x, y: y.sin(),
    "abs": lambda x, y: y.abs() * x,
    "angle": lambda x, y: y.angle() * x,
    "real": lambda x, y: y.real * x.sum(),
    "real times complex": lambda x, y: x * y,
    "cast then matmul": lambda x, y: x.to(y.dtype) @ y,
    "conj": lambda x, y: (y * y.conj()).real.mean() * x,
}


@pytest.mark.parametrize("name", list(COMPLEX))
def test_complex_jvp_matches_torch(name) -> None:
    results = []
    for lib, F in LIBS:
        results.append(
            F.jvp(
                COMPLEX[name],
                (lib.tensor(R), lib.tensor(C)),
                (lib.tensor(R * 0.5), lib.tensor(CV)),
            )
        )
    assert_same_tree(results[1], results[0], name)


def _old_style_cube(lib):
    """The ctx-style Function (forward(ctx, x)): torch.func refuses it, torch's forward_ad takes it."""

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            ctx.save_for_forward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * g

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * t

    return Cube


def test_old_style_function_jvp_matches_torch_forward_ad() -> None:
    with tfw.dual_level():
        dual = tfw.make_dual(T(torch, A), T(torch, V))
        theirs = tfw.unpack_dual(_old_style_cube(torch).apply(dual).sin()).tangent
    ours = cfunc.jvp(
        lambda x: _old_style_cube(chainrule).apply(x).sin(), (T(chainrule, A),), (T(chainrule, V),)
    )
    assert_same_tree(ours[1], theirs)
