"""Forward-mode AD through views and in-place changes, against torch's forward mode: a tangent
shares memory as torch's does (a view's tangent is the same view of its base's, an in-place
change writes into the tangent, the dual's own tangent included), so views, bases and the
caller's tangent all see the change; results that are not views never alias an input's tangent.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfw
from oracle import assert_close

import chainrule
import chainrule.autograd.forward_ad as fw

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
TX = RNG.standard_normal((3, 4))
W = RNG.standard_normal(4)
TW = RNG.standard_normal(4)


def _run(lib, fwad, fn):
    """``fn(lib, x, w)`` on dual x and w; the tangents of what it returns, then the tangents the
    caller passed to make_dual (which torch changes in place)."""
    tx, tw = lib.tensor(TX.copy()), lib.tensor(TW.copy())
    with fwad.dual_level():
        x = fwad.make_dual(lib.tensor(X.copy()), tx)
        w = fwad.make_dual(lib.tensor(W.copy()), tw)
        outs = fn(lib, x, w)
        tangents = [fwad.unpack_dual(o).tangent for o in outs]
        values = [o.detach().clone() for o in outs]
    return values, tangents, [tx, tw]


def _scatter_into_plain(m, x, w):
    z = m.zeros(3, 4, dtype=m.float64)
    z[1].copy_(w)
    return (z,)


def _setitem_view(m, x, w):
    y = x * 1
    v = y[:, 1:]
    v[0] = w[:3]
    return y, v


def _view_of_view(m, x, w):
    y = x * 2
    v = y.t()[1:3]
    v.mul_(w[:3].unsqueeze(0))
    return y, v


def _reshape_copy(m, x, w):
    y = x.t().reshape(-1)  # a copy: its tangent must not alias x's
    y.mul_(3)
    return y, x


def _add_constant(m, x, w):
    y = x + m.ones(3, 4, dtype=m.float64)  # the tangent is x's: copied before y changes
    y.mul_(w)
    return y, x


def _no_grad_view(m, x, w):
    y = x * 1
    with m.no_grad():
        v = y[0]
    y.mul_(w)
    return y, v * 1


CASES = {
    "dual.mul_ (the caller's tangent changes, as torch's)": lambda m, x, w: (x.mul_(w), x[0]),
    "v = x[0]; x.mul_(w); v": lambda m, x, w: (lambda v: (x.mul_(w), v))(x[0]),
    "x[1].mul_(w) (a view of the dual)": lambda m, x, w: (x[1].mul_(w), x),
    "x.t()[0].add_(1) then x": lambda m, x, w: (x.t()[0].add_(1.0), x),
    "x.view(-1)[2:6].sub_(w)": lambda m, x, w: (x.view(-1)[2:6].sub_(w), x),
    "z[1].copy_(w) of a plain z": _scatter_into_plain,
    "y[:, 1:][0] = w": _setitem_view,
    "y.t()[1:3].mul_(..) (view of a view)": _view_of_view,
    "x.t_() then mul_": lambda m, x, w: ((x * 1).t_().mul_(2),),
    "x.transpose_(0, 1) then x[0].mul_": lambda m, x, w: (lambda y: (y, y[0].mul_(w[:3])))(
        (x * 1).transpose_(0, 1)
    ),
    "x.unsqueeze_(0)[0, 1].add_(w)": lambda m, x, w: (lambda y: (y, y[0, 1].add_(w)))((x * 1).unsqueeze_(0)),
    "reshape that copies, then mul_": _reshape_copy,
    "x + constant, then mul_": _add_constant,
    "fill_ with a dual 0-d value": lambda m, x, w: ((x * 1)[1].fill_(w[0]), x),
    "masked_fill with a dual 0-d value": lambda m, x, w: (x.masked_fill(x > 0, w[1]),),
    "index_fill with a dual 0-d value": lambda m, x, w: (x.index_fill(1, m.tensor([0, 2]), w[2]),),
    "zero_ of a view": lambda m, x, w: (x[:, 0].zero_(), x),
    "x[0].exp_().sum() then x": lambda m, x, w: (x[0].exp_().sum(), x),
    "v = z[1] of a plain z; z.mul_(x); v": lambda m, x, w: (lambda z: (lambda v: (z.mul_(x), v * 1))(z[1]))(
        m.ones(3, 4, dtype=m.float64)
    ),
    "v = y[0] made under no_grad; y.mul_(w); v": _no_grad_view,
}


@pytest.mark.parametrize("name", list(CASES))
def test_views_and_inplace_match_torch(name: str) -> None:
    fn = CASES[name]
    values, tangents, given = _run(chainrule, fw, fn)
    t_values, t_tangents, t_given = _run(torch, tfw, fn)
    for k, (ours, theirs) in enumerate(zip(tangents, t_tangents)):
        assert_close(values[k], t_values[k], 1e-12, 1e-12, f"{name}: value {k}")
        if theirs is None:
            assert ours is None or not np.any(ours.numpy()), f"{name}: output {k} has a tangent"
            continue
        assert ours is not None, f"{name}: output {k} has no tangent, torch's has one"
        assert_close(ours, theirs, 1e-12, 1e-12, f"{name}: tangent of output {k}")
    for k, (ours, theirs) in enumerate(zip(given, t_given)):
        assert_close(ours, theirs, 1e-12, 1e-12, f"{name}: the tangent passed to make_dual {k}")


def test_abs_of_a_complex_dual_matches_torch() -> None:
    z = RNG.standard_normal(6) + 1j * RNG.standard_normal(6)
    t = RNG.standard_normal(6) + 1j * RNG.standard_normal(6)
    got = []
    for lib, fwad in ((chainrule, fw), (torch, tfw)):
        with fwad.dual_level():
            dual = fwad.make_dual(lib.tensor(z), lib.tensor(t))
            got.append([fwad.unpack_dual(dual.abs()).tangent])
    for ours, theirs in zip(*got):
        assert_close(ours, theirs, 1e-12, 1e-12, "complex -> real tangent")


def test_tangent_through_inplace_stays_differentiable() -> None:
    """Reverse-over-forward through an in-place change: d/dx of the tangent of x * x after mul_."""
    for_ours, for_torch = [], []
    for lib, fwad, sink in ((chainrule, fw, for_ours), (torch, tfw, for_torch)):
        x = lib.tensor(X.copy(), requires_grad=True)
        with fwad.dual_level():
            y = fwad.make_dual(x * 1, lib.tensor(TX.copy()))
            y[0].mul_(y[1].detach() + 2)
            tangent = fwad.unpack_dual((y * y).sum()).tangent
            (g,) = lib.autograd.grad(tangent, x)
        sink.append(g)
    assert_close(for_ours[0], for_torch[0], 1e-12, 1e-12, "gradient of the tangent")


def _inplace_on_views(m, x):
    y = x * 1
    y[1:].mul_(x[:-1])  # a view changed in place, by a function of x
    v = y.view(2, 2)
    v[0].add_(v[1].clone() * x[0])
    return (y**3).sum()


def test_nested_levels_through_views_and_inplace() -> None:
    """Forward over forward (two dual levels, each tangent written into its level's memory) and
    forward over reverse agree with reverse over reverse through in-place changes of views."""
    x = chainrule.tensor(RNG.standard_normal(4))
    expected = chainrule.func.jacrev(chainrule.func.jacrev(lambda x: _inplace_on_views(chainrule, x)))(x)
    for transform in (
        chainrule.func.jacfwd(chainrule.func.jacfwd(lambda x: _inplace_on_views(chainrule, x))),
        chainrule.func.hessian(lambda x: _inplace_on_views(chainrule, x)),
    ):
        assert_close(transform(x), expected, 1e-10, 1e-10, "second derivative through views")
