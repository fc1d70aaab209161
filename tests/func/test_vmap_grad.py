"""vmap composed with autograd, against torch.func: per-sample gradients (autograd.grad inside
vmap, the weight gradient batched, never summed), vectorised jacobian rows (vmap of a vjp), backward
through vmap from outside (to second order), and gradients of gradients inside vmap."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn.functional as CF

RNG = np.random.default_rng(1)


def np_(t) -> np.ndarray:
    return t.detach().numpy()


def _mlp_params():
    return [
        RNG.standard_normal((16, 8)) * 0.3,
        RNG.standard_normal(16) * 0.1,
        RNG.standard_normal((5, 16)) * 0.3,
        RNG.standard_normal(5) * 0.1,
    ]


def test_per_sample_gradients_of_an_mlp() -> None:
    params = _mlp_params()
    x, y = RNG.standard_normal((7, 8)), RNG.integers(0, 5, 7)

    def ours_one(xi, yi):
        ps = [chainrule.tensor(p).requires_grad_() for p in params]
        h = CF.relu(CF.linear(xi, ps[0], ps[1]))
        loss = CF.cross_entropy(CF.linear(h, ps[2], ps[3])[None], yi[None])
        return chainrule.autograd.grad(loss, ps)

    def theirs_loss(ps, xi, yi):
        h = torch.relu(torch.nn.functional.linear(xi, ps[0], ps[1]))
        return torch.nn.functional.cross_entropy(torch.nn.functional.linear(h, ps[2], ps[3])[None], yi[None])

    ours = chainrule.func.vmap(ours_one)(chainrule.tensor(x), chainrule.tensor(y))
    theirs = torch.func.vmap(torch.func.grad(theirs_loss), in_dims=(None, 0, 0))(
        [torch.tensor(p) for p in params], torch.tensor(x), torch.tensor(y)
    )
    for o, t, p in zip(ours, theirs, params):
        assert tuple(o.shape) == (7,) + p.shape  # one gradient per sample, not their sum
        np.testing.assert_allclose(np_(o), np_(t), rtol=1e-10, atol=1e-12)
    # and each row is that sample's own gradient
    for i in range(7):
        ps = [chainrule.tensor(p).requires_grad_() for p in params]
        h = CF.relu(CF.linear(chainrule.tensor(x[i]), ps[0], ps[1]))
        loss = CF.cross_entropy(CF.linear(h, ps[2], ps[3])[None], chainrule.tensor(y[i : i + 1]))
        for o, g in zip(ours, chainrule.autograd.grad(loss, ps)):
            np.testing.assert_allclose(np_(o)[i], np_(g), rtol=1e-10, atol=1e-13)


def test_per_sample_gradients_of_a_convnet() -> None:
    w1, b1 = RNG.standard_normal((4, 2, 3, 3)) * 0.3, RNG.standard_normal(4) * 0.1
    w2 = RNG.standard_normal((3, 4 * 3 * 3)) * 0.2
    x, y = RNG.standard_normal((5, 2, 8, 8)), RNG.integers(0, 3, 5)

    def net(F, conv, pool, ps, xi):
        h = pool(F.relu(conv(xi[None], ps[0], ps[1], padding=1)), 2)  # (1, 4, 4, 4)
        h = F.avg_pool2d(h, 2, 1)  # (1, 4, 3, 3)
        return F.linear(h.reshape(1, -1), ps[2])

    def ours_one(xi, yi):
        ps = [chainrule.tensor(a).requires_grad_() for a in (w1, b1, w2)]
        logits = net(CF, CF.conv2d, CF.max_pool2d, ps, xi)
        return chainrule.autograd.grad(CF.cross_entropy(logits, yi[None]), ps)

    TF = torch.nn.functional

    def theirs_loss(ps, xi, yi):
        return TF.cross_entropy(net(TF, TF.conv2d, TF.max_pool2d, ps, xi), yi[None])

    ours = chainrule.func.vmap(ours_one)(chainrule.tensor(x), chainrule.tensor(y))
    theirs = torch.func.vmap(torch.func.grad(theirs_loss), in_dims=(None, 0, 0))(
        [torch.tensor(a) for a in (w1, b1, w2)], torch.tensor(x), torch.tensor(y)
    )
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(np_(o), np_(t), rtol=1e-9, atol=1e-12)


def test_vmap_of_vjp_gives_jacobian_rows() -> None:
    """One graph built outside, one batched backward inside vmap: the rows of the jacobian."""
    x0 = RNG.standard_normal(4)

    def f(lib, x):
        return lib.stack([lib.sin(x).sum(), (x * x[0]).prod(), lib.tanh(x @ x)])

    x = chainrule.tensor(x0, requires_grad=True)
    y = f(chainrule, x)
    basis = chainrule.eye(3, dtype=chainrule.float64)
    rows = chainrule.func.vmap(lambda v: chainrule.autograd.grad(y, x, v, retain_graph=True)[0])(basis)
    jac = torch.func.jacrev(lambda t: f(torch, t))(torch.tensor(x0))
    np.testing.assert_allclose(np_(rows), np_(jac), rtol=1e-12)
    # torch's own formulation: vmap over the vjp function
    _, vjp_fn = torch.func.vjp(lambda t: f(torch, t), torch.tensor(x0))
    np.testing.assert_allclose(
        np_(rows), np_(torch.func.vmap(vjp_fn)(torch.eye(3, dtype=torch.float64))[0]), rtol=1e-12
    )


def test_vmap_of_vjp_through_a_vmapped_graph() -> None:
    """The graph itself was built by a vmap: the two levels nest inside the backward."""
    x0 = RNG.standard_normal((3, 4))
    x = chainrule.tensor(x0, requires_grad=True)
    y = chainrule.func.vmap(lambda r: chainrule.softmax(r * r, -1))(x)  # (3, 4)
    basis = chainrule.eye(12, dtype=chainrule.float64).reshape(12, 3, 4)
    rows = chainrule.func.vmap(lambda v: chainrule.autograd.grad(y, x, v, retain_graph=True)[0])(basis)
    jac = torch.func.jacrev(lambda t: torch.func.vmap(lambda r: torch.softmax(r * r, -1))(t))(
        torch.tensor(x0)
    )
    np.testing.assert_allclose(np_(rows), np_(jac).reshape(12, 3, 4), rtol=1e-12, atol=1e-14)


def _closure_case(lib, x0, w0, b0):
    x = lib.tensor(x0, requires_grad=True)
    w = lib.tensor(w0, requires_grad=True)
    b = lib.tensor(b0, requires_grad=True)
    y = lib.func.vmap(lambda xi, bi: lib.tanh(w @ xi) * bi, in_dims=(1, None))(x, b)
    return x, w, b, y


def test_backward_through_vmap_from_outside() -> None:
    """x.grad (batched input), w.grad (closed over) and b.grad (in_dims None) as torch's: the
    gradients of the shared tensors are summed over the batch."""
    x0, w0, b0 = RNG.standard_normal((4, 6)), RNG.standard_normal((3, 4)), RNG.standard_normal(3)
    cot = RNG.standard_normal((6, 3))
    ours = _closure_case(chainrule, x0, w0, b0)
    theirs = _closure_case(torch, x0, w0, b0)
    (ours[3] * chainrule.tensor(cot)).sum().backward()
    (theirs[3] * torch.tensor(cot)).sum().backward()
    for o, t in zip(ours[:3], theirs[:3]):
        assert tuple(o.grad.shape) == tuple(t.grad.shape)
        np.testing.assert_allclose(np_(o.grad), np_(t.grad), rtol=1e-12)


def test_second_derivative_through_vmap() -> None:
    x0, w0, b0 = RNG.standard_normal((4, 6)), RNG.standard_normal((3, 4)), RNG.standard_normal(3)
    results = []
    for lib in (chainrule, torch):
        x, w, b, y = _closure_case(lib, x0, w0, b0)
        gx, gw = lib.autograd.grad((y**2).sum(), (x, w), create_graph=True)
        gb = lib.autograd.grad((gx * gx).sum() + gw.sum(), b)[0]
        results.append((gx, gw, gb))
    for o, t in zip(*results):
        np.testing.assert_allclose(np_(o), np_(t), rtol=1e-11)


def test_per_sample_hessian_vector_products() -> None:
    """create_graph=True inside vmap: a gradient of a gradient, one per sample."""
    x0, v0 = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 3))

    def f(lib, x):
        return (lib.sin(x) * x.sum()).sum()

    def ours_one(xi, vi):
        xi = xi.detach().requires_grad_()
        (g,) = chainrule.autograd.grad(f(chainrule, xi), xi, create_graph=True)
        return chainrule.autograd.grad((g * vi).sum(), xi)[0]

    ours = chainrule.func.vmap(ours_one)(chainrule.tensor(x0), chainrule.tensor(v0))
    hvp = torch.func.vmap(
        lambda xi, vi: torch.func.jvp(torch.func.grad(lambda t: f(torch, t)), (xi,), (vi,))[1]
    )
    np.testing.assert_allclose(np_(ours), np_(hvp(torch.tensor(x0), torch.tensor(v0))), rtol=1e-11)


def test_ensemble_gradients_with_batched_weights() -> None:
    """vmap over stacked models: the weights are batched too."""
    ws, x = RNG.standard_normal((4, 3, 5)), RNG.standard_normal((2, 5))

    def ours_one(w):
        w = w.detach().requires_grad_()
        return chainrule.autograd.grad(chainrule.tanh(x_c @ w.mT).pow(2).sum(), w)[0]

    x_c = chainrule.tensor(x)
    ours = chainrule.func.vmap(ours_one)(chainrule.tensor(ws))
    theirs = torch.func.vmap(torch.func.grad(lambda w: torch.tanh(torch.tensor(x) @ w.mT).pow(2).sum()))(
        torch.tensor(ws)
    )
    np.testing.assert_allclose(np_(ours), np_(theirs), rtol=1e-11)


def test_nested_vmap_of_grad() -> None:
    x0 = RNG.standard_normal((2, 3, 4))

    def ours_one(r):
        r = r.detach().requires_grad_()
        return chainrule.autograd.grad((chainrule.exp(r) * r[0]).sum(), r)[0]

    ours = chainrule.func.vmap(chainrule.func.vmap(ours_one))(chainrule.tensor(x0))
    theirs = torch.func.vmap(torch.func.vmap(torch.func.grad(lambda r: (torch.exp(r) * r[0]).sum())))(
        torch.tensor(x0)
    )
    np.testing.assert_allclose(np_(ours), np_(theirs), rtol=1e-12)


def test_backward_inside_vmap() -> None:
    """loss.backward() inside vmap fills the .grad of a leaf batched like the samples (one per
    sample); for a leaf shared by the samples it raises, as torch does for any backward() there."""
    x0 = RNG.standard_normal((3, 4))

    def per_sample_leaf(xi):
        w = xi.detach().requires_grad_()
        (w * w * w).sum().backward()
        return w.grad

    out = chainrule.func.vmap(per_sample_leaf)(chainrule.tensor(x0))
    np.testing.assert_allclose(out.numpy(), 3 * x0 * x0)

    shared = chainrule.ones(4, dtype=chainrule.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"backward\(\) called inside a functorch transform"):
        chainrule.func.vmap(lambda xi: (shared * xi).sum().backward())(chainrule.tensor(x0))
    assert shared.grad is None
    with pytest.raises(RuntimeError, match=r"backward\(\) called inside a functorch transform"):
        torch.func.vmap(lambda xi: (torch.ones(4, requires_grad=True) * xi).sum().backward())(
            torch.tensor(x0)
        )


def test_per_sample_second_derivatives_through_conv_and_pooling() -> None:
    """create_graph through conv2d, max_pool2d and avg_pool2d inside vmap (their batched rules
    fold the batch into N, per-sample scatter indices for the max), against torch.func."""
    x0 = RNG.standard_normal((3, 1, 2, 5, 5))
    w0 = RNG.standard_normal((2, 2, 3, 3)) * 0.5

    def net(F, conv, x, w):
        h = conv(x, w, padding=1)
        return F.max_pool2d(h, 3, 1, 1).pow(3).sum() + F.avg_pool2d(h, 2).pow(2).sum()

    w_c = chainrule.tensor(w0)

    def ours_one(xi):
        xi = xi.detach().requires_grad_()
        (g,) = chainrule.autograd.grad(net(CF, CF.conv2d, xi, w_c), xi, create_graph=True)
        return chainrule.autograd.grad((g * g).sum(), xi)[0]

    TF = torch.nn.functional
    w_t = torch.tensor(w0)

    def theirs_one(xi):
        g = torch.func.grad(lambda u: net(TF, TF.conv2d, u, w_t))
        return torch.func.grad(lambda u: (g(u) ** 2).sum())(xi)

    ours = chainrule.func.vmap(ours_one)(chainrule.tensor(x0))
    theirs = torch.func.vmap(theirs_one)(torch.tensor(x0))
    np.testing.assert_allclose(np_(ours), np_(theirs), rtol=1e-10, atol=1e-12)
