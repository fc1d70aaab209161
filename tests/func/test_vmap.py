"""chainrule.func.vmap against torch.func.vmap: the same functions of the same inputs give the same
outputs, for element-wise math, reductions, matmul, shape ops, indexing, joins, nn.functional, a
module, linalg, conv and pooling; in_dims / out_dims variants; nested vmaps and closures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

RNG = np.random.default_rng(0)


def _arrays(shapes, kinds=None):
    out = []
    for k, s in enumerate(shapes):
        kind = (kinds or {}).get(k, "float")
        if kind == "float":
            out.append(RNG.standard_normal(s))
        else:  # ("index", n): integers in [0, n)
            out.append(RNG.integers(0, kind[1], size=s))
    return out


def _run(lib, body, arrays, in_dims, out_dims, **kw):
    args = [lib.tensor(a) for a in arrays]
    return lib.func.vmap(lambda *xs: body(lib, *xs), in_dims=in_dims, out_dims=out_dims, **kw)(*args)


def _leaves(x):
    if isinstance(x, tuple | list):
        return [y for item in x for y in _leaves(item)]
    if isinstance(x, dict):
        return [y for k in sorted(x) for y in _leaves(x[k])]
    return [x]


def check(body, shapes, in_dims=0, out_dims=0, kinds=None, rtol=1e-10, atol=1e-12):
    """``vmap(body)`` in chainrule and in torch on the same float64 inputs: same outputs."""
    arrays = _arrays(shapes, kinds)
    ours = _leaves(_run(chainrule, body, arrays, in_dims, out_dims))
    theirs = _leaves(_run(torch, body, arrays, in_dims, out_dims))
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert tuple(o.shape) == tuple(t.shape), f"shape {tuple(o.shape)} != torch's {tuple(t.shape)}"
        assert str(o.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)


def F(m):
    return m.nn.functional


# ---- element-wise math and broadcasting ----------------------------------------------------------------
ELEMENTWISE = [
    ("sin * exp + 1", lambda m, x: m.sin(x) * m.exp(x) + 1, [(4, 3)], 0),
    ("batched + unbatched, lower rank", lambda m, x, y: x * y - y / 2, [(4, 2, 3), (3,)], (0, None)),
    ("unbatched higher rank", lambda m, x, y: x + y, [(4, 3), (2, 5, 3)], (0, None)),
    ("two batched, different ranks", lambda m, x, y: m.maximum(x, y) ** 2, [(4, 3), (4, 2, 1)], 0),
    ("0-d samples", lambda m, x, y: m.where(x > y, x, y * 3), [(5,), (5,)], 0),
    ("in_dims=1 vs 0", lambda m, x, y: m.atan2(x, y), [(3, 4), (4, 3)], (1, 0)),
    ("negative in_dim", lambda m, x: m.tanh(x).abs(), [(2, 3, 4)], -1),
    ("clamp and sigmoid", lambda m, x: m.clamp(m.sigmoid(x), 0.2, 0.7), [(6, 2)], 0),
    (
        "comparisons and logic",
        lambda m, x, y: ((x > 0) & (y < 0)).float() + (x == x).float(),
        [(3, 4), (3, 4)],
        0,
    ),
    ("python number ops", lambda m, x: 2 - x / 3 + 1.5**x, [(3, 2)], 0),
]


@pytest.mark.parametrize("name,body,shapes,in_dims", ELEMENTWISE, ids=[c[0] for c in ELEMENTWISE])
def test_elementwise(name, body, shapes, in_dims) -> None:
    check(body, shapes, in_dims)


# ---- reductions -------------------------------------------------------------------------------------------
REDUCTIONS = [
    ("sum()", lambda m, x: x.sum(), [(3, 4, 5)]),
    ("sum(-1)", lambda m, x: x.sum(-1), [(3, 4, 5)]),
    ("sum((0, -1), keepdim)", lambda m, x: x.sum((0, -1), keepdim=True), [(3, 4, 5)]),
    ("mean(1)", lambda m, x: x.mean(1), [(3, 4, 5)]),
    ("var(-2)", lambda m, x: x.var(-2), [(3, 4, 5)]),
    ("std()", lambda m, x: x.std(), [(3, 4)]),
    ("max(dim)", lambda m, x: x.max(-1), [(3, 4, 5)]),
    ("max()", lambda m, x: x.max(), [(3, 4, 5)]),
    ("amin(0)", lambda m, x: m.amin(x, 0), [(3, 4, 5)]),
    ("argmax(1)", lambda m, x: x.argmax(1), [(3, 4, 5)]),
    ("argmax()", lambda m, x: x.argmax(), [(3, 4, 5)]),
    ("prod(0)", lambda m, x: x.prod(0), [(3, 4, 5)]),
    ("logsumexp(-1)", lambda m, x: m.logsumexp(x, -1), [(3, 4, 5)]),
    ("cumsum(-1)", lambda m, x: x.cumsum(-1), [(3, 4, 5)]),
    ("cumprod(0)", lambda m, x: x.cumprod(0), [(3, 4, 5)]),
    ("any/all", lambda m, x: ((x > 0).any(-1), (x > 0).all()), [(3, 4, 5)]),
    ("norm", lambda m, x: m.linalg.vector_norm(x, dim=-1), [(3, 4, 5)]),
]


@pytest.mark.parametrize("name,body,shapes", REDUCTIONS, ids=[c[0] for c in REDUCTIONS])
def test_reductions(name, body, shapes) -> None:
    check(body, shapes)
    check(body, shapes, in_dims=1)


# ---- matmul in every 1-D / 2-D / batched form -----------------------------------------------------------
MATMUL = [
    ("vec @ vec", [(3, 4), (3, 4)], 0),
    ("vec @ mat", [(3, 4), (3, 4, 2)], 0),
    ("mat @ vec", [(3, 2, 4), (3, 4)], 0),
    ("mat @ mat", [(3, 2, 4), (3, 4, 5)], 0),
    ("stack @ mat", [(3, 6, 2, 4), (3, 4, 5)], 0),
    ("vec @ unbatched mat", [(3, 4), (4, 2)], (0, None)),
    ("unbatched vec @ batched mat", [(4,), (3, 4, 2)], (None, 0)),
    ("unbatched mat @ batched vec", [(2, 4), (3, 4)], (None, 0)),
    ("batched vec @ unbatched vec", [(3, 4), (4,)], (0, None)),
    ("batched mat @ unbatched stack", [(3, 2, 4), (5, 4, 2)], (0, None)),
    ("unbatched stack @ batched vec", [(5, 2, 4), (3, 4)], (None, 0)),
    ("in_dims=(1, 2)", [(2, 3, 4), (4, 5, 3)], (1, 2)),
]


@pytest.mark.parametrize("name,shapes,in_dims", MATMUL, ids=[c[0] for c in MATMUL])
def test_matmul(name, shapes, in_dims) -> None:
    check(lambda m, a, b: a @ b, shapes, in_dims)
    check(lambda m, a, b: m.matmul(a, b).sum(), shapes, in_dims)


def test_matmul_vector_gradient_through_vmap() -> None:
    """The outer-product fast path (contracted dim 1) of the backward agrees with torch."""
    w, x = RNG.standard_normal((5, 4)), RNG.standard_normal((3, 4))
    W = chainrule.tensor(w)

    def f(xi):
        Wi = W.detach().requires_grad_()
        (g,) = chainrule.autograd.grad(chainrule.tanh(Wi @ xi).sum(), Wi)
        return g

    ours = chainrule.func.vmap(f)(chainrule.tensor(x))
    theirs = torch.func.vmap(torch.func.grad(lambda Wt, xi: torch.tanh(Wt @ xi).sum()), in_dims=(None, 0))(
        torch.tensor(w), torch.tensor(x)
    )
    # 1 - tanh(z)^2 is exact only to ~eps absolute (it cancels where tanh saturates), times |x|
    np.testing.assert_allclose(
        ours.numpy(), theirs.numpy(), rtol=1e-12, atol=8 * np.finfo(float).eps * abs(x).max()
    )


# ---- shape ops, indexing, joins --------------------------------------------------------------------------
SHAPE = [
    ("reshape", lambda m, x: x.reshape(2, -1), [(3, 4, 2)], 0),
    ("view then op", lambda m, x: x.view(-1).exp(), [(3, 4, 2)], 0),
    ("permute", lambda m, x: x.permute(2, 0, 1), [(3, 4, 2, 5)], 0),
    ("transpose(-1, 0)", lambda m, x: x.transpose(-1, 0), [(3, 4, 2, 5)], 1),
    ("mT", lambda m, x: x.mT, [(3, 4, 2)], 0),
    ("squeeze/unsqueeze", lambda m, x: x.unsqueeze(-1).squeeze(0), [(3, 1, 2)], 0),
    ("squeeze() keeps the batch", lambda m, x: x.squeeze(), [(1, 1, 3)], 0),
    ("flatten", lambda m, x: x.flatten(), [(3, 4, 2)], 0),
    ("expand", lambda m, x: x.unsqueeze(0).expand(3, -1, -1), [(4, 1, 2)], 0),
    ("flip/roll", lambda m, x: m.roll(m.flip(x, [0]), 1, -1), [(3, 4, 2)], 0),
    ("basic index", lambda m, x: x[1:, ::2], [(3, 4, 5)], 0),
    ("int index then slice", lambda m, x: x[-1, 1:3], [(3, 4, 5)], 0),
    ("None and Ellipsis", lambda m, x: x[None, ..., 0], [(3, 4, 5)], 0),
    ("advanced, adjacent", lambda m, x: x[:, m.tensor([2, 0, 0])], [(3, 4, 5)], 0),
    ("advanced, separated", lambda m, x: x[m.tensor([1, 0]), :, m.tensor([3, 2])], [(3, 2, 4, 5)], 0),
    ("bool mask (unbatched)", lambda m, x: x[m.tensor([True, False, True, True])], [(3, 4, 2)], 0),
    ("batched int index", lambda m, x, i: x[i], [(3, 4, 2), (3,)], 0),
    ("batched index, unbatched x", lambda m, x, i: x[:, i], [(4, 5), (3, 2)], (None, 0)),
    ("gather", lambda m, x, i: m.gather(x, 1, i), [(3, 4, 5), (3, 4, 2)], 0),
    ("index_select", lambda m, x, i: m.index_select(x, -1, i), [(3, 4, 5), (3, 2)], 0),
    ("cat", lambda m, x, y: m.cat([x, y, x], dim=-1), [(3, 2, 4), (3, 2, 1)], 0),
    ("cat unbatched", lambda m, x, y: m.cat([x, y], dim=0), [(3, 2, 4), (5, 4)], (0, None)),
    ("stack", lambda m, x, y: m.stack([x, y], dim=1), [(3, 2, 4), (3, 2, 4)], 0),
    ("split", lambda m, x: m.split(x, 2, dim=-1), [(3, 2, 5)], 0),
    ("where with scalar", lambda m, x: m.where(x > 0, x, 0.0), [(3, 4)], 0),
    ("masked_fill batched mask", lambda m, x: x.masked_fill(x < 0, -1.0), [(3, 4)], 0),
    ("tril", lambda m, x: m.tril(x, -1), [(3, 4, 4)], 0),
    ("einsum", lambda m, x, y: m.einsum("ij,jk->ik", x, y), [(3, 2, 4), (4, 5)], (0, None)),
    ("einsum implicit", lambda m, x, y: m.einsum("ij,j", x, y), [(3, 2, 4), (3, 4)], 0),
]


@pytest.mark.parametrize("name,body,shapes,in_dims", SHAPE, ids=[c[0] for c in SHAPE])
def test_shape_and_indexing(name, body, shapes, in_dims) -> None:
    kinds = {1: ("index", 2)} if name in ("batched int index", "gather", "index_select") else None
    if name == "batched index, unbatched x":
        kinds = {1: ("index", 5)}
    check(body, shapes, in_dims, kinds=kinds)


# ---- nn.functional, a module, softmax, losses ----------------------------------------------------
NN = [
    ("softmax", lambda m, x: m.softmax(x, -1), [(3, 4, 5)], 0),
    ("log_softmax(0)", lambda m, x: m.log_softmax(x, 0), [(3, 4, 5)], 0),
    ("linear", lambda m, x, w, b: F(m).linear(x, w, b), [(3, 4), (5, 4), (5,)], (0, None, None)),
    ("linear batched weight", lambda m, x, w: F(m).linear(x, w), [(3, 2, 4), (3, 5, 4)], 0),
    ("relu/gelu/silu", lambda m, x: F(m).gelu(F(m).relu(x) - 0.3) + F(m).silu(x), [(3, 4)], 0),
    ("gelu tanh", lambda m, x: F(m).gelu(x, approximate="tanh"), [(3, 4)], 0),
    ("mse_loss", lambda m, x, y: F(m).mse_loss(x, y), [(3, 4), (3, 4)], 0),
    ("cross_entropy", lambda m, x, t: F(m).cross_entropy(x, t), [(3, 2, 5), (3, 2)], 0),
    ("cross_entropy 0-d target", lambda m, x, t: F(m).cross_entropy(x, t), [(3, 5), (3,)], 0),
    ("layer_norm", lambda m, x: F(m).layer_norm(x, (4,)), [(3, 2, 4)], 0),
    ("dropout eval", lambda m, x: F(m).dropout(x, 0.5, training=False), [(3, 4)], 0),
    (
        "conv2d batched input",
        lambda m, x, w, b: F(m).conv2d(x, w, b, padding=1),
        [(3, 2, 2, 5, 5), (4, 2, 3, 3), (4,)],
        (0, None, None),
    ),
    (
        "conv2d unbatched sample",
        lambda m, x, w: F(m).conv2d(x, w, stride=2),
        [(3, 2, 6, 5), (4, 2, 3, 3)],
        (0, None),
    ),
    (
        "conv2d batched weight",
        lambda m, x, w: F(m).conv2d(x, w, groups=2),
        [(2, 4, 5, 5), (3, 6, 2, 3, 3)],
        (None, 0),
    ),
    (
        "conv2d both batched",
        lambda m, x, w, b: F(m).conv2d(x, w, b),
        [(3, 2, 2, 5, 5), (3, 4, 2, 3, 3), (3, 4)],
        0,
    ),
    (
        "conv_transpose2d",
        lambda m, x, w: F(m).conv_transpose2d(x, w, stride=2),
        [(3, 1, 2, 3, 3), (2, 4, 3, 3)],
        (0, None),
    ),
    ("conv1d", lambda m, x, w: F(m).conv1d(x, w, padding="same"), [(3, 2, 2, 7), (3, 2, 3)], (0, None)),
    ("max_pool2d", lambda m, x: F(m).max_pool2d(x, 2), [(3, 2, 2, 6, 6)], 0),
    ("avg_pool2d", lambda m, x: F(m).avg_pool2d(x, 3, 2, 1), [(3, 2, 5, 7)], 0),
    ("adaptive_avg_pool2d", lambda m, x: F(m).adaptive_avg_pool2d(x, (2, 3)), [(3, 2, 6, 6)], 0),
]


@pytest.mark.parametrize("name,body,shapes,in_dims", NN, ids=[c[0] for c in NN])
def test_nn_functional(name, body, shapes, in_dims) -> None:
    kinds = {1: ("index", 5)} if name.startswith("cross_entropy") else None
    check(body, shapes, in_dims, kinds=kinds)


def test_module_inside_vmap() -> None:
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    ours = chainrule.nn.Sequential(
        chainrule.nn.Linear(4, 8), chainrule.nn.Tanh(), chainrule.nn.Linear(8, 3)
    ).double()
    ours.load_state_dict({k: chainrule.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = RNG.standard_normal((5, 4))
    a = chainrule.func.vmap(ours)(chainrule.tensor(x))
    b = torch.func.vmap(theirs)(torch.tensor(x))
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)


LINALG = [
    ("inv", lambda m, a: m.linalg.inv(a), [(3, 4, 4)], 0),
    ("solve vector", lambda m, a, b: m.linalg.solve(a, b), [(3, 4, 4), (3, 4)], 0),
    ("solve unbatched A", lambda m, a, b: m.linalg.solve(a, b), [(4, 4), (3, 4, 2)], (None, 0)),
    ("solve unbatched b", lambda m, a, b: m.linalg.solve(a, b), [(3, 4, 4), (4,)], (0, None)),
    ("matrix_power", lambda m, a: m.linalg.matrix_power(a, 3), [(3, 4, 4)], 0),
]


@pytest.mark.parametrize("name,body,shapes,in_dims", LINALG, ids=[c[0] for c in LINALG])
def test_linalg(name, body, shapes, in_dims) -> None:
    arrays = _arrays(shapes)
    arrays[0] = arrays[0] + 4 * np.eye(4)  # well conditioned
    ours = _run(chainrule, body, arrays, in_dims, 0)
    theirs = _run(torch, body, arrays, in_dims, 0)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-9, atol=1e-12)


def test_numpy_linalg_dispatches_on_batched_arrays() -> None:
    """np.linalg.inv / solve / det on a batched array: one stacked LAPACK call, per-sample values."""
    from chainrule.func._batched import BatchedArray

    a = RNG.standard_normal((3, 4, 4)) + 4 * np.eye(4)
    b = RNG.standard_normal((3, 4))
    ba, bb = BatchedArray(a, 1), BatchedArray(b, 1)
    assert ba.shape == (4, 4) and bb.shape == (4,)
    np.testing.assert_allclose(np.linalg.inv(ba)._p, np.linalg.inv(a))
    np.testing.assert_allclose(np.linalg.det(ba)._p, np.linalg.det(a))
    np.testing.assert_allclose(
        np.linalg.solve(ba, bb)._p, np.stack([np.linalg.solve(a[i], b[i]) for i in range(3)])
    )


# ---- in_dims / out_dims / pytrees -------------------------------------------------------------------------
def test_in_dims_nested_structures() -> None:
    def body(m, d, pair, s):
        return d["x"] * pair[0] + pair[1].sum() * s

    arrays = _arrays([(3, 4), (4, 3), (2,)])
    for lib in (chainrule, torch):
        t = [lib.tensor(a) for a in arrays]
        out = lib.func.vmap(
            lambda d, pair, s, lib=lib: body(lib, d, pair, s), in_dims=({"x": 0}, (1, None), None)
        )({"x": t[0]}, (t[1], t[2]), 2.0)
        if lib is chainrule:
            ours = out.numpy()
    np.testing.assert_allclose(ours, out.numpy(), rtol=1e-12)


@pytest.mark.parametrize("out_dims", [1, -1, (1, 0), (0, {"a": 2, "b": None})])
def test_out_dims(out_dims) -> None:
    def body(m, x, w):
        if isinstance(out_dims, tuple) and isinstance(out_dims[1], dict):
            return x * 2, {"a": x.sum(0, keepdim=True) * x, "b": w}
        return x * 2, x.exp()

    check(body, [(3, 4, 2), (5,)], in_dims=(0, None), out_dims=out_dims)


def test_unbatched_output_is_expanded() -> None:
    """An output that does not depend on the mapped inputs is expanded to the batch size."""
    w = RNG.standard_normal((2, 4))
    for lib in (chainrule, torch):
        out = lib.func.vmap(lambda x, lib=lib: lib.tensor(w) * 2)(lib.tensor(RNG.standard_normal(3)))
        assert tuple(out.shape) == (3, 2, 4)
        np.testing.assert_allclose(out.numpy(), np.broadcast_to(w * 2, (3, 2, 4)))
    # torch 2.x raises for out_dims=1 here (it expands before moving the dim); chainrule places it
    out = chainrule.func.vmap(lambda x: chainrule.tensor(w) * 2, out_dims=1)(chainrule.ones(3))
    np.testing.assert_allclose(out.numpy(), np.broadcast_to((w * 2)[:, None], (2, 3, 4)))


def test_kwargs_pass_through_unbatched() -> None:
    x = RNG.standard_normal((3, 4))
    ours = chainrule.func.vmap(lambda a, scale=1.0: a * scale)(chainrule.tensor(x), scale=chainrule.tensor(x))
    theirs = torch.func.vmap(lambda a, scale=1.0: a * scale)(torch.tensor(x), scale=torch.tensor(x))
    assert tuple(ours.shape) == tuple(theirs.shape) == (3, 3, 4)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())


def test_chunk_size() -> None:
    x = RNG.standard_normal((7, 4))
    for chunk in (1, 3, 7, 10):
        out = chainrule.func.vmap(lambda a: (a.sum(), a * 2), chunk_size=chunk, out_dims=(0, 1))(
            chainrule.tensor(x)
        )
        np.testing.assert_allclose(out[0].numpy(), x.sum(1))
        np.testing.assert_allclose(out[1].numpy(), (x * 2).T)


# ---- nesting and closures -------------------------------------------------------------------------------
def test_nested_vmap_different_in_dims() -> None:
    def body(m, x, y):
        inner = m.func.vmap(lambda a, b: (a * b).sum(), in_dims=(1, None))
        return inner(x, y)

    check(body, [(3, 4, 5), (4,)], in_dims=(0, None))
    check(
        lambda m, x, y: m.func.vmap(lambda a, b: a @ b, in_dims=(0, 1))(x, y),
        [(2, 3, 4), (4, 3, 2)],
        in_dims=(0, 2),
    )


def test_nested_vmap_closure_over_outer_batched_tensor() -> None:
    def body(m, x, y):
        return m.func.vmap(lambda b: m.sin(x) * b + x.sum())(y)  # x: batched at the outer level only

    check(body, [(3, 4), (3, 5, 4)], in_dims=0)
    check(body, [(3, 4), (5, 4)], in_dims=(0, None))


def test_triple_nesting() -> None:
    def body(m, x):
        return m.func.vmap(m.func.vmap(lambda a: m.softmax(a, -1)))(x)

    check(body, [(2, 3, 4, 5)])


def test_outer_batched_index_in_inner_vmap() -> None:
    def body(m, x, i):
        return m.func.vmap(lambda row: row[i])(x)

    check(body, [(3, 4, 5), (3,)], kinds={1: ("index", 5)})
