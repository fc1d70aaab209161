"""Views and in-place ops as in torch: a view's history follows its base, an in-place change of a
view rewrites its base's history (CopySlices), and torch's refusals are raised with its wording.

Every case runs the same code on chainrule and on torch (float64) and compares the value, the
gradients, or the error.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
import torch

import chainrule

X = [1.0, 2.0, 3.0, 4.0]
W = [0.5, -1.5]


def _run(lib, case):
    x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
    w = lib.tensor(W, dtype=lib.float64, requires_grad=True)
    out = case(lib, x, w)
    out.backward()
    grads = [None if t.grad is None else t.grad.detach().numpy().copy() for t in (x, w)]
    return out.item(), grads


CASES = {
    # the issue's reproduction: torch gives x.grad = [0, 2, 2, 2]
    "base changed after the view": lambda m, x, w: _base_changed(x),
    "a[0:2].mul_(2)": lambda m, x, w: _then_square(_inplace(x, lambda a: a[0:2].mul_(2))),
    "a.view(2, 2).add_(w)": lambda m, x, w: _then_square(_inplace(x, lambda a: a.view(2, 2).add_(w))),
    "a[1].mul_(x[0])": lambda m, x, w: (_inplace(x, lambda a: a[1].mul_(x[0])) * x).sum(),
    "a[:, 1] *= w (a column)": lambda m, x, w: _column(x, w),
    "two views of one base": lambda m, x, w: _two_views(x, w),
    "a.t()[0].mul_(w)": lambda m, x, w: _transposed(x, w),
    "copy_ into a view of a constant": lambda m, x, w: _into_constant(m, x, w),
    "view of a view": lambda m, x, w: _view_of_view(x),
    "setitem on a view": lambda m, x, w: _setitem_view(x, w),
    "unsqueeze then squeeze": lambda m, x, w: _unsqueezed(x),
    "narrow(..).mul_(w)": lambda m, x, w: _then_square(_inplace(x, lambda a: a.narrow(0, 1, 2).mul_(w))),
    "expanded view read after the base changed": lambda m, x, w: _expanded(x),
    "permute(..).mul_(..)": lambda m, x, w: _permuted(x, w),
    "a[1:3].mul_(w).exp_() then the base changes": lambda m, x, w: _saved_output_overwritten(x, w),
    "unbind output modified in place": lambda m, x, w: _unbind(x, w),
    "view of a leaf modified in place": lambda m, x, w: x[0:2].mul_(2).sum(),
    "in-place on a view made in no_grad": lambda m, x, w: _no_grad_view(m, x),
    "a chain of 3 in-place ops on views": lambda m, x, w: _chain(x, w),
    "unfold windows read after the base changed": lambda m, x, w: _unfold_base_changed(x),
    "unfold (non-overlapping) modified in place": lambda m, x, w: _then_square(
        _inplace(x, lambda a: a.unfold(0, 2, 2).mul_(w))
    ),
    "diagonal read after the base changed": lambda m, x, w: _diagonal_base_changed(x),
    "as_strided read after the base changed": lambda m, x, w: _as_strided_base_changed(x),
    "as_strided modified in place": lambda m, x, w: _then_square(
        _inplace(x, lambda a: a.as_strided((2,), (2,), 1).mul_(w))
    ),
    "as_strided of an expanded tensor (shared gradient)": lambda m, x, w: (
        (x[:2] * 1).expand(3, 2).as_strided((2,), (1,)) ** 2
    ).sum(),
    "diagonal modified in place": lambda m, x, w: _then_square(
        _inplace(x.view(2, 2), lambda a: a.diagonal().mul_(w))
    ),
}


def _unfold_base_changed(x):
    a = x * 1
    u = a.unfold(0, 2, 1)
    a.mul_(3)
    return (u**2).sum()


def _as_strided_base_changed(x):
    a = x * 1
    v = a.as_strided((2, 2), (1, 1))  # overlapping: read-only
    a.mul_(3)
    return (v**2).sum()


def _diagonal_base_changed(x):
    a = (x * 1).view(2, 2)
    d = a.diagonal()
    a.mul_(2)
    return (d * d).sum()


def _inplace(x, change):
    a = x * 1
    change(a)
    return a


def _then_square(a):
    return (a * a).sum()


def _base_changed(x):
    a = x * 1
    v = a[1:]
    a.mul_(2)
    return v.sum()


def _column(x, w):
    a = (x * 1).view(2, 2)
    a[:, 1] *= w
    return (a * a).sum()


def _two_views(x, w):
    a = x * 1
    v, v2 = a[:2], a[2:]
    v.mul_(w)
    v2.add_(v)
    return (a * a).sum() + (v * v2).sum()


def _transposed(x, w):
    a = (x * 1).view(2, 2)
    a.t()[0].mul_(w)
    return (a.exp() * x.view(2, 2)).sum()


def _into_constant(m, x, w):
    a = m.zeros(4, dtype=m.float64)
    a[1:3].copy_(w * 2)
    return (a * x).sum()


def _view_of_view(x):
    a = (x * 1).view(2, 2)
    r = a[1]
    r[0:1].mul_(3)
    return (a.sin() * x.view(2, 2)).sum() + (r * r).sum()


def _setitem_view(x, w):
    a = (x * 1).view(2, 2)
    r = a[0]
    r[1] = w[0] * 3
    return (a * a).sum() + r.sum()


def _unsqueezed(x):
    a = x * 1
    u = a.unsqueeze(0)
    u.mul_(2)
    return (u.squeeze(0) * a).sum()


def _expanded(x):
    a = x * 1
    e = a[:2].expand(3, 2)
    a.mul_(2)
    return (e * e).sum()


def _permuted(x, w):
    a = (x * 1).view(1, 2, 2)
    a.permute(2, 0, 1).mul_(w.view(2, 1, 1))
    return (a**2).sum()


def _saved_output_overwritten(x, w):
    a = x * 1
    v = a[1:3]
    v.mul_(w)
    v.exp_()  # exp saves its output, which lives in a's memory ...
    a.add_(1)  # ... and is overwritten here: backward must refuse
    return (a * v.sum()).sum()


def _unbind(x, w):
    a = (x * 1).view(2, 2)
    p, q = a.unbind(0)
    p.add_(q * w)
    return (a**3).sum()


def _no_grad_view(m, x):
    a = x * 1
    with m.no_grad():
        v = a[0:2]
    v.mul_(2)
    return a.sum()


def _chain(x, w):
    a = x * 1
    a[0:2].mul_(w)
    a[1:3].add_(a[0:2] * 2)
    a[2:].div_(w.exp())
    return (a * a.sin()).sum()


@pytest.mark.parametrize("name", list(CASES))
def test_views_and_in_place_ops_match_torch(name: str) -> None:
    case = CASES[name]
    try:
        theirs = _run(torch, case)
    except RuntimeError as e:  # torch refuses: chainrule must refuse too
        with pytest.raises(RuntimeError) as ours:
            _run(chainrule, case)
        print(f"torch: {e}\nchainrule: {ours.value}")
        return
    ours = _run(chainrule, case)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    for a, b in zip(ours[1], theirs[1]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_the_issue_case_gives_torchs_gradient() -> None:
    x = chainrule.tensor(X[:3], dtype=chainrule.float64, requires_grad=True)
    a = x * 1
    v = a[1:]
    a.mul_(2)
    v.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 2.0, 2.0])


def test_second_derivative_through_copy_slices_matches_torch() -> None:
    def run(m):
        x = m.tensor(X, dtype=m.float64, requires_grad=True)
        a = x * 1
        a[1:3].mul_(x[:2])
        (g,) = m.autograd.grad((a**3).sum(), x, create_graph=True)
        (h,) = m.autograd.grad((g * g).sum(), x)
        return g.detach().numpy(), h.numpy()

    for ours, theirs in zip(run(chainrule), run(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


VIEW_MAKERS = {
    "x[1:]": lambda t: t[1:],
    "x[0]": lambda t: t[0],
    "x.view(4, 3)": lambda t: t.view(4, 3),
    "x.reshape(-1)": lambda t: t.reshape(-1),
    "x.t()": lambda t: t.t(),
    "x.transpose(0, 1)": lambda t: t.transpose(0, 1),
    "x.permute(1, 0)": lambda t: t.permute(1, 0),
    "x.unsqueeze(1)": lambda t: t.unsqueeze(1),
    "x[None].squeeze(0)": lambda t: t[None].squeeze(0),
    "x.expand(2, 3, 4)": lambda t: t.expand(2, 3, 4),
    "x.narrow(1, 1, 2)": lambda t: t.narrow(1, 1, 2),
    "x.select(0, 2)": lambda t: t.select(0, 2),
    "x.split(2, 1)[1]": lambda t: t.split(2, 1)[1],
    "x.chunk(2)[1]": lambda t: t.chunk(2)[1],
    "x.unbind(1)[2]": lambda t: t.unbind(1)[2],
    "x.flatten()": lambda t: t.flatten(),
    "x.mT": lambda t: t.mT,
    "x.diagonal()": lambda t: t.diagonal(),
    "x.unfold(1, 2, 2)": lambda t: t.unfold(1, 2, 2),
    "x.as_strided((2, 3), (1, 2), 1)": lambda t: t.as_strided((2, 3), (1, 2), 1),
}


@pytest.mark.parametrize("name", list(VIEW_MAKERS))
def test_base_is_view_and_pointers_match_torch(name: str) -> None:
    make = VIEW_MAKERS[name]

    def run(m):
        x = m.arange(12, dtype=m.float64).reshape(3, 4).clone()
        v = make(x)
        return (
            v._base is x,
            v._is_view(),
            x._is_view(),
            v.data_ptr() - x.data_ptr(),
            v.untyped_storage().data_ptr() == x.untyped_storage().data_ptr(),
        )

    assert run(chainrule) == run(torch)


@pytest.mark.parametrize("name", ["x.reshape(-1) of a transposed x", "x.clone()", "x[[0, 1]]"])
def test_copies_are_not_views(name: str) -> None:
    make = {
        "x.reshape(-1) of a transposed x": lambda t: t.t().reshape(-1),
        "x.clone()": lambda t: t.clone(),
        "x[[0, 1]]": lambda t: t[[0, 1]],
    }[name]

    def run(m):
        x = m.arange(6, dtype=m.float64).reshape(2, 3).clone()
        v = make(x)
        return v._is_view(), v.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()

    assert run(chainrule) == run(torch)


def test_detach_is_not_a_view_but_shares_the_version() -> None:
    x = chainrule.ones(3, requires_grad=True) * 2
    d = x.detach()
    assert d._base is None and not d._is_view()
    d.add_(1)
    assert x._version == d._version == 1


def test_a_node_keeps_only_what_its_derivative_reads() -> None:
    """add's derivative reads nothing: the sum of two intermediates must not keep them alive."""
    x = chainrule.randn(1000, dtype=chainrule.float64, requires_grad=True)
    a, b = x.exp(), x.sin()  # exp keeps its output, sin its input (x)
    y = (a + b).sum()
    probes = [weakref.ref(a), weakref.ref(b), weakref.ref(b._data)]
    exp_out = weakref.ref(a._data)
    del a, b
    gc.collect()
    assert [p() for p in probes] == [None, None, None]
    assert exp_out() is not None  # exp's node keeps its output array
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x.detach().numpy()) + np.cos(x.detach().numpy()))


def test_overlapping_unfold_windows_are_refused_in_place() -> None:
    """torch writes such an in-place op with an ill-defined result (each element written once per
    window it is in, in kernel order); chainrule refuses it rather than pick one."""
    a = chainrule.ones(6, requires_grad=True) * 1
    with pytest.raises(RuntimeError, match="overlapping windows"):
        a.unfold(0, 3, 1).mul_(2)


def test_retain_grad_follows_a_regenerated_view_and_hooks_do_not() -> None:
    def run(m):
        x = m.tensor(X, dtype=m.float64, requires_grad=True)
        a = x * 1
        v = a[1:]
        v.retain_grad()
        w = a[:2]
        seen = []
        w.register_hook(lambda g: seen.append(g))
        a.mul_(2)  # both views' histories are made again from a's
        ((v * v).sum() + w.sum()).backward()
        return x.grad.numpy().copy(), v.grad.numpy().copy(), len(seen)

    ours, theirs = run(chainrule), run(torch)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)
    assert ours[2] == theirs[2] == 0


HOOK_CASES = {
    # a hook on a view, then an in-place op on the view: torch's CopySlices reads the view from
    # the base's history, so the hook sees only the view's other uses (here: none)
    "hook on a view, then the view changed in place": lambda m, x: _hooked_view(m, x, in_place=True),
    "hook on a view, no in-place op": lambda m, x: _hooked_view(m, x, in_place=False),
    # retain_grad follows the tensor to its new history; a hook stays with the old value's
    "retain_grad and a hook, then the tensor changed in place": lambda m, x: _retained_then_changed(m, x),
}


def _hooked_view(m, x, in_place: bool):
    a = x * 1.0
    v = a.t()
    calls = []
    v.register_hook(lambda g: (calls.append(1), g * 0.5)[1])
    if in_place:
        v.mul_(1.5)
    ((a * a.cos()).sum() + (v * v.cos()).sum()).backward()
    return x.grad.numpy().copy(), len(calls)


def _retained_then_changed(m, x):
    a = x * 1.0
    a.retain_grad()
    seen = []
    a.register_hook(lambda g: seen.append(g.detach().numpy().copy()))
    a.mul_(1.5)
    (a * a.sin()).sum().backward()
    return x.grad.numpy().copy(), a.grad.numpy().copy(), seen[0]


@pytest.mark.parametrize("name", list(HOOK_CASES))
def test_hooks_and_retain_grad_around_in_place_ops_match_torch(name: str) -> None:
    def run(m):
        x = m.tensor(np.arange(1.0, 7.0).reshape(2, 3) / 4, dtype=m.float64, requires_grad=True)
        return HOOK_CASES[name](m, x)

    ours, theirs = run(chainrule), run(torch)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12)
