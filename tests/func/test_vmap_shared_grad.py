"""Gradients of tensors that vmap's samples share, against torch.func.

A tensor passed with in_dim None, closed over, or computed inside ``f`` from such tensors feeds
every sample; its gradient through the vmap is the sum of the samples'. That sum must meet the
tensor's other gradients (an output of ``f`` that does not depend on the mapped input, a use
outside the vmap) as a total. Each program below returns a scalar loss; both libraries run it on
the same values, and the loss and the gradient of every leaf must agree with torch's.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

import chainrule

RNG = np.random.default_rng(7)
B = RNG.standard_normal((3, 4))
A = RNG.standard_normal(4)
C = RNG.standard_normal(4)
M = RNG.standard_normal((4, 4))


def _leaves(lib, arrays, requires_grad):
    return [lib.tensor(a, requires_grad=r) for a, r in zip(arrays, requires_grad)]


def check_grads(program, arrays, requires_grad, rtol=1e-10, atol=1e-12) -> None:
    """``program(lib, *leaves)`` (a scalar) and the leaves' gradients agree with torch's."""
    results = {}
    for lib in (torch, chainrule):
        leaves = _leaves(lib, arrays, requires_grad)
        loss = program(lib, *leaves)
        loss.backward()
        grads = [None if x.grad is None else np.asarray(x.grad.tolist()) for x in leaves]
        results[lib.__name__] = (float(loss), grads)
    (theirs, their_grads), (ours, our_grads) = results["torch"], results["chainrule"]
    assert ours == pytest.approx(theirs, rel=rtol, abs=atol)
    for k, (o, t) in enumerate(zip(our_grads, their_grads)):
        assert (o is None) == (t is None), f"gradient of leaf {k}: {o} vs torch {t}"
        if t is not None:
            np.testing.assert_allclose(o, t, rtol=rtol, atol=atol, err_msg=f"gradient of leaf {k}")


def _total(outputs):
    """A loss that weighs every output differently (so that a wrong share shows)."""
    leaves = outputs if isinstance(outputs, tuple | list) else (outputs,)
    total = 0
    for k, o in enumerate(leaves):
        total = total + (o * (k + 1.5)).sin().sum()
    return total


# ---- the reported case and its variations ---------------------------------------------------------
SHARED_OUTPUTS = {
    "as is": lambda lib, b, a: (b * a, a),
    "scaled": lambda lib, b, a: (b * a, a * 2),
    "a function of it": lambda lib, b, a: (b * a, a.exp().sum()),
    "first": lambda lib, b, a: (a * 3, b * a),
    "twice": lambda lib, b, a: (a * 2, b + a, a.sin()),
    "with a constant": lambda lib, b, a: (b * a, lib.ones(4, dtype=lib.float64), a * 2),
    "batched and shared mixed in one output": lambda lib, b, a: (b * a + a, a * 2),
    "only shared outputs": lambda lib, b, a: (a * 2, a.cos()),
    "reduced sample": lambda lib, b, a: ((b * a).sum(), a @ a),
    "dict": lambda lib, b, a: {"x": b * a, "y": a * 2},
    "nested tuple": lambda lib, b, a: (b * a, (a * 2, [a.tanh()])),
}


@pytest.mark.parametrize("body", list(SHARED_OUTPUTS.values()), ids=list(SHARED_OUTPUTS))
def test_an_output_that_does_not_depend_on_the_mapped_input(body) -> None:
    def program(lib, b, a):
        return _total_tree(lib.func.vmap(lambda x, y: body(lib, x, y), in_dims=(0, None))(b, a))

    check_grads(program, [B, A], [True, True])
    check_grads(program, [B, A], [False, True])


def _total_tree(outputs):
    if isinstance(outputs, dict):
        return _total([outputs[k] for k in sorted(outputs)])
    flat = []
    stack = [outputs]
    while stack:
        o = stack.pop(0)
        if isinstance(o, tuple | list):
            stack[:0] = list(o)
        else:
            flat.append(o)
    return _total(flat)


def test_the_reported_case_sums_of_both_outputs() -> None:
    def program(lib, b, a):
        o1, o2 = lib.func.vmap(lambda x, y: (x * y, y * 2), in_dims=(0, None))(b, a)
        return o1.sum() + o2.sum()

    check_grads(program, [B, A], [False, True])
    # and the same as the sum over per-sample calls
    a = chainrule.tensor(A, requires_grad=True)
    program(chainrule, chainrule.tensor(B), a).backward()
    a2 = chainrule.tensor(A, requires_grad=True)
    sum((chainrule.tensor(row) * a2).sum() + (a2 * 2).sum() for row in B).backward()
    np.testing.assert_allclose(a.grad.numpy(), a2.grad.numpy(), rtol=1e-12)


def _per_sample_vmap(lib, fn, in_dims, out_dims):
    """vmap by its definition: ``fn`` once per sample, the results stacked at ``out_dims`` (the
    oracle where torch.func.vmap itself fails: an unbatched output with out_dim != 0)."""

    def mapped(*args):
        size = next(x.shape[d] for x, d in zip(args, in_dims) if d is not None)
        rows = [fn(*(x if d is None else x.select(d, i) for x, d in zip(args, in_dims))) for i in range(size)]
        dims = out_dims if isinstance(out_dims, tuple) else (out_dims,) * len(rows[0])
        return tuple(
            rows[0][k] if d is None else lib.stack([r[k] for r in rows], dim=d) for k, d in enumerate(dims)
        )

    return mapped


@pytest.mark.parametrize(
    "out_dims",
    [0, 1, -1, (0, 1), (1, 0), (-1, 0), (0, None), (1, None)],
    ids=lambda d: f"out_dims={d}",
)
def test_out_dims(out_dims) -> None:
    def program(lib, b, a):
        # torch.func.vmap fails to expand an unbatched output to an out_dim other than 0 (it
        # raises, or makes a tensor of size 34359738369): torch with a loop over the samples
        # is the oracle
        vmap = lib.func.vmap if lib is chainrule else functools.partial(_per_sample_vmap, torch)
        o1, o2 = vmap(lambda x, y: (x * y, y * 2), in_dims=(0, None), out_dims=out_dims)(b, a)
        return _total((o1, o2))

    check_grads(program, [B, A], [True, True])


@pytest.mark.parametrize("out_dims", [0, (0, 0), (1, 0), (0, None)], ids=lambda d: f"out_dims={d}")
def test_out_dims_of_torch_vmap_where_it_works(out_dims) -> None:
    def program(lib, b, a):
        o1, o2 = lib.func.vmap(lambda x, y: (x * y, y * 2), in_dims=(0, None), out_dims=out_dims)(b, a)
        return _total((o1, o2))

    check_grads(program, [B, A], [True, True])


@pytest.mark.parametrize("in_dim", [0, 1, -1])
def test_mapped_dims_of_the_batched_input(in_dim) -> None:
    b_arr = np.moveaxis(np.stack([B, B * 0.5]), 0, in_dim % 3)  # (2, 3, 4) with the batch at in_dim

    def program(lib, b, a):
        return _total(lib.func.vmap(lambda x, y: (x * y, y * 2), in_dims=(in_dim, None))(b, a))

    check_grads(program, [b_arr, A], [True, True])


def test_several_unmapped_inputs() -> None:
    def program(lib, b, a, c, m):
        body = lambda x, p, q, w: (x * p + q, p * q, w @ p, (x @ w) * q, q)  # noqa: E731
        return _total(lib.func.vmap(body, in_dims=(0, None, None, None))(b, a, c, m))

    check_grads(program, [B, A, C, M], [True, True, True, True])
    check_grads(program, [B, A, C, M], [False, True, False, True])


def test_unmapped_inputs_in_a_pytree() -> None:
    def program(lib, b, a, c):
        body = lambda x, d: (x * d["a"], d["a"] * d["c"], d["c"])  # noqa: E731
        return _total(lib.func.vmap(body, in_dims=(0, {"a": None, "c": None}))(b, {"a": a, "c": c}))

    check_grads(program, [B, A, C], [True, True, True])


def test_a_mapped_and_an_unmapped_use_of_the_same_tensor() -> None:
    def program(lib, b, a):
        return _total(lib.func.vmap(lambda x, y, z: (x * y + z, z * 2), in_dims=(0, 0, None))(b, b, a))

    check_grads(program, [B, A], [True, True])


# ---- closures and uses outside the vmap -------------------------------------------------------------
def test_closed_over_leaf_and_non_leaf() -> None:
    def program(lib, b, a):
        c = a * 3  # a non-leaf, closed over
        o1, o2, o3 = lib.func.vmap(lambda x: (x * c, c * 2, x * a))(b)
        return _total((o1, o2, o3)) + c.sum() + (a * a).sum()

    check_grads(program, [B, A], [True, True])


def test_shared_input_also_used_outside_the_vmap() -> None:
    def program(lib, b, a):
        o = lib.func.vmap(lambda x, y: x * y, in_dims=(0, None))(b, a)
        return _total(o) + (a * a).sum()

    check_grads(program, [B, A], [True, True])


def test_computed_inside_f_from_shared_inputs_only() -> None:
    def program(lib, b, a):
        def body(x):
            s = a.exp() * 2  # not batched: made from the shared tensor alone
            return x * s, s, s.sum()

        return _total(lib.func.vmap(body)(b))

    check_grads(program, [B, A], [True, True])


def test_output_used_by_a_second_vmap() -> None:
    def program(lib, b, a):
        o1, o2 = lib.func.vmap(lambda x, y: (x * y, y * 2), in_dims=(0, None))(b, a)
        o3 = lib.func.vmap(lambda x, y: x - y, in_dims=(1, 1))(o1, o2)  # the other dim this time
        return _total((o3, o2))

    check_grads(program, [B, A], [True, True])


def test_chunked() -> None:
    def program(lib, b, a):
        return _total(lib.func.vmap(lambda x, y: (x * y, y * 2), in_dims=(0, None), chunk_size=2)(b, a))

    check_grads(program, [B, A], [True, True])


def test_second_derivative_through_the_vmap() -> None:
    def program(lib, b, a):
        o1, o2 = lib.func.vmap(lambda x, y: (x * y.sin(), y * y), in_dims=(0, None))(b, a)
        loss = _total((o1, o2))
        (g,) = lib.autograd.grad(loss, a, create_graph=True)
        return (g * g).sum() + loss

    check_grads(program, [B, A], [True, True])


# ---- nested vmaps -------------------------------------------------------------------------------------
BB = RNG.standard_normal((2, 3, 4))


@pytest.mark.parametrize("inner_in_dims", [(0, None), (None, 0), (0, 0)], ids=str)
@pytest.mark.parametrize("outer_in_dims", [(0, None), (0, 0)], ids=str)
def test_nested_vmap(outer_in_dims, inner_in_dims) -> None:
    a_arr = A if outer_in_dims[1] is None else np.stack([A, A * 2])  # (4,) or (2, 4)

    def program(lib, b, a):
        def inner(x, y):
            return x * y, y * 2, x.sum()

        def outer(x, y):
            # x (3, 4); y (4,): the inner maps x's rows, or y's elements against the whole x
            if inner_in_dims == (0, None):
                return lib.func.vmap(inner, in_dims=(0, None))(x, y)
            if inner_in_dims == (None, 0):
                return lib.func.vmap(inner, in_dims=(None, 0))(x, y)
            return lib.func.vmap(inner, in_dims=(1, 0))(x, y)

        return _total(lib.func.vmap(outer, in_dims=outer_in_dims)(b, a))

    check_grads(program, [BB, a_arr], [True, True])


def test_nested_vmap_closing_over_the_outer_shared_tensor() -> None:
    def program(lib, b, a):
        def outer(x):
            return lib.func.vmap(lambda row: (row * a, a * 2, row.sum() * a))(x), a.sin()

        return _total_tree(lib.func.vmap(outer)(b))

    check_grads(program, [BB, A], [True, True])


# ---- with the other transforms ------------------------------------------------------------------------
def test_vmap_inside_grad() -> None:
    def loss_of(lib, a, b):
        o1, o2 = lib.func.vmap(lambda x, y: (x * y, y * 2), in_dims=(0, None))(b, a)
        return _total((o1, o2))

    def program(lib, b, a):
        g = lib.func.grad(lambda y: loss_of(lib, y, b))(a)
        return (g * g).sum()

    check_grads(program, [B, A], [True, True])


def test_grad_inside_vmap_per_sample_gradient_of_the_shared_tensor() -> None:
    def one(lib, x, a):
        def loss(y):
            return _total((x * y, y * 2))

        return lib.func.grad(loss)(a)  # one gradient per sample, with a shared

    def program(lib, b, a):
        per_sample = lib.func.vmap(lambda x, y: (one(lib, x, y), y * 3), in_dims=(0, None))(b, a)
        return _total(per_sample)

    check_grads(program, [B, A], [True, True])
    # the per-sample gradients themselves
    ours = chainrule.func.vmap(lambda x, y: one(chainrule, x, y), in_dims=(0, None))(
        chainrule.tensor(B), chainrule.tensor(A)
    )
    theirs = torch.func.vmap(lambda x, y: one(torch, x, y), in_dims=(0, None))(
        torch.tensor(B), torch.tensor(A)
    )
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_autograd_grad_inside_vmap_mixes_per_sample_and_shared_paths() -> None:
    """Inside the vmap the shared tensor's gradient is per sample: a path through the batch and
    one that is not (``a * 2``) add sample by sample."""

    def one_torch(x, a):
        return torch.func.grad(lambda y: ((x * y).sum() + (y * 2).sum()) ** 2)(a)

    ours = chainrule.func.vmap(
        lambda x, y: chainrule.func.grad(lambda z: ((x * z).sum() + (z * 2).sum()) ** 2)(y), in_dims=(0, None)
    )(chainrule.tensor(B), chainrule.tensor(A))
    theirs = torch.func.vmap(one_torch, in_dims=(0, None))(torch.tensor(B), torch.tensor(A))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def _shared_fn(lib):
    def f(a, b):
        o1, o2 = lib.func.vmap(lambda x, y: (x * y.sin(), y * y), in_dims=(0, None))(b, a)
        return (o1.sum(0) + o2.sum(0)) * a

    return f


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd", "hessian"])
def test_jacobians_of_a_function_with_a_shared_output(transform) -> None:
    results = []
    for lib in (torch, chainrule):
        f = _shared_fn(lib)
        a, b = lib.tensor(A), lib.tensor(B)
        if transform == "hessian":
            out = lib.func.hessian(lambda y, f=f, b=b: f(y, b).sum())(a)
        else:
            out = getattr(lib.func, transform)(f)(a, b)
        results.append(np.asarray(out.tolist()))
    np.testing.assert_allclose(results[1], results[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
def test_jacobian_wrt_both_arguments(transform) -> None:
    results = []
    for lib in (torch, chainrule):
        f = _shared_fn(lib)
        ja, jb = getattr(lib.func, transform)(f, argnums=(0, 1))(lib.tensor(A), lib.tensor(B))
        results.append((np.asarray(ja.tolist()), np.asarray(jb.tolist())))
    for o, t in zip(results[1], results[0]):
        np.testing.assert_allclose(o, t, rtol=1e-10, atol=1e-12)


def test_vjp_of_a_vmapped_function() -> None:
    results = []
    for lib in (torch, chainrule):
        f = _shared_fn(lib)
        out, vjp_fn = lib.func.vjp(f, lib.tensor(A), lib.tensor(B))
        ga, gb = vjp_fn(lib.tensor(C))
        results.append([np.asarray(t.tolist()) for t in (out, ga, gb)])
    for o, t in zip(results[1], results[0]):
        np.testing.assert_allclose(o, t, rtol=1e-10, atol=1e-12)


def test_custom_function_with_a_shared_input() -> None:
    def mul_function(lib):
        class Mul(lib.autograd.Function):
            generate_vmap_rule = True

            @staticmethod
            def forward(x, y):
                return x * y

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.save_for_backward(*inputs)

            @staticmethod
            def backward(ctx, g):
                x, y = ctx.saved_tensors
                return g * y, g * x

        return Mul

    def program(lib, b, a):
        mul = mul_function(lib)
        o1, o2 = lib.func.vmap(lambda x, y: (mul.apply(x, y), y * 2), in_dims=(0, None))(b, a)
        return _total((o1, o2)) + a.sum()

    check_grads(program, [B, A], [True, True])


def test_a_module_whose_parameters_are_shared() -> None:
    """Per-sample model outputs plus a regularizer on the weights: the usual shape of this bug."""
    w = RNG.standard_normal((5, 4))
    bias = RNG.standard_normal(5)
    results = []
    for lib in (torch, chainrule):
        layer = lib.nn.Linear(4, 5).double()
        with lib.no_grad():
            layer.weight.copy_(lib.tensor(w))
            layer.bias.copy_(lib.tensor(bias))
        params = dict(layer.named_parameters())

        def f(p, x, lib=lib, layer=layer):
            y = lib.func.functional_call(layer, p, (x,))
            return y.tanh(), p["weight"].pow(2).sum()

        out, reg = lib.func.vmap(f, in_dims=(None, 0))(params, lib.tensor(B))
        (out.sum() + reg.sum()).backward()
        results.append([np.asarray(layer.weight.grad.tolist()), np.asarray(layer.bias.grad.tolist())])
    for o, t in zip(results[1], results[0]):
        np.testing.assert_allclose(o, t, rtol=1e-10, atol=1e-12)


def test_reads_of_a_shared_tensor_at_batched_indices() -> None:
    """gather / index_select / take_along_dim / x[i] of a shared source with a batched index (the
    source's array is not batched, the index's is: it is lifted over the batch to be read)."""
    index = RNG.integers(0, 4, (3, 5))

    def program(lib, a):
        def body(i, src):
            return (
                src.gather(0, i) * 1.5,
                src[i].exp(),
                lib.index_select(src, 0, i),
                lib.take_along_dim(src, i),
                src * 2,
            )

        return _total(lib.func.vmap(body, in_dims=(0, None))(lib.tensor(index), a))

    check_grads(program, [A], [True])


def test_multi_margin_loss_with_a_shared_weight() -> None:
    x, y, w = RNG.standard_normal((3, 3, 4)), RNG.integers(0, 4, (3, 3)), RNG.uniform(0.5, 2, 4)

    def program(lib, x):
        def body(a, b, c):
            return lib.nn.functional.multi_margin_loss(a, b, 2, 0.7, c, reduction="none")

        return _total(lib.func.vmap(body, in_dims=(0, 0, None))(x, lib.tensor(y), lib.tensor(w)))

    check_grads(program, [x], [True])
