"""In-place semantics, version counters, ``__setitem__`` and indexing errors, against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle import same_or_same_error, to_numpy

import chainrule

LIBS = (chainrule, torch)


def _both(fn):
    """Run ``fn(m)`` with chainrule and with torch; return both results."""
    return fn(chainrule), fn(torch)


def _same(a, b) -> None:
    if isinstance(a, tuple | list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    if isinstance(b, torch.Tensor):
        assert tuple(a.shape) == tuple(b.shape)
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-6, atol=1e-7)
    else:
        assert a == b


def _leaf(m, requires_grad=True):
    return m.tensor([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]], requires_grad=requires_grad)


# ---- in-place ops under no_grad on a leaf --------------------------------------------------------
INPLACE = {
    "add_": lambda m, x: x.add_(2.0),
    "add_(tensor, alpha)": lambda m, x: x.add_(m.tensor([1.0, 2.0, 3.0]), alpha=0.5),
    "sub_": lambda m, x: x.sub_(m.tensor([[1.0], [2.0]])),
    "mul_": lambda m, x: x.mul_(-3.0),
    "div_": lambda m, x: x.div_(m.tensor([2.0, 4.0, 8.0])),
    "zero_": lambda m, x: x.zero_(),
    "fill_": lambda m, x: x.fill_(7.25),
    "fill_(0-d tensor)": lambda m, x: x.fill_(m.tensor(-1.5)),
    "copy_": lambda m, x: x.copy_(m.tensor([9.0, 8.0, 7.0])),
    "copy_(int source)": lambda m, x: x.copy_(m.tensor([[1, 2, 3], [4, 5, 6]])),
    "clamp_": lambda m, x: x.clamp_(-1.0, 2.0),
    "clamp_(min)": lambda m, x: x.clamp_(min=0.0),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_under_no_grad_on_a_leaf(name: str) -> None:
    op = INPLACE[name]

    def run(m):
        x = _leaf(m)
        with m.no_grad():
            out = op(m, x)
        return x, out is x, x.requires_grad, x.grad_fn is None, x._version

    ours, theirs = _both(run)
    _same(ours[0], theirs[0])
    assert ours[1:] == theirs[1:]


@pytest.mark.parametrize("augmented", ["+=", "-=", "*=", "/="])
def test_augmented_assignment_under_no_grad(augmented: str) -> None:
    def run(m):
        x = _leaf(m)
        ident = id(x)
        with m.no_grad():
            if augmented == "+=":
                x += m.tensor([1.0, 2.0, 3.0])
            elif augmented == "-=":
                x -= 0.5
            elif augmented == "*=":
                x *= 2
            else:
                x /= m.tensor([[2.0], [4.0]])
        return x, id(x) == ident, x.requires_grad, x._version

    ours, theirs = _both(run)
    _same(ours[0], theirs[0])
    assert ours[1:] == theirs[1:]


def test_optimizer_style_update_then_backward() -> None:
    def run(m):
        w = _leaf(m)
        (w * w).sum().backward()
        with m.no_grad():
            w -= 0.1 * w.grad
            w.grad.zero_()
        (w.sin()).sum().backward()
        return w, w.grad

    _same(*_both(run))


@pytest.mark.parametrize("name", ["add_", "mul_", "zero_", "fill_", "copy_", "clamp_", "+="])
def test_inplace_on_a_leaf_requiring_grad_raises(name: str) -> None:
    for m in LIBS:
        x = _leaf(m)
        with pytest.raises(RuntimeError, match="leaf"):
            if name == "+=":
                x += 1
            else:
                INPLACE[name](m, x)


def test_setitem_on_a_leaf_requiring_grad_raises() -> None:
    for m in LIBS:
        x = _leaf(m)
        with pytest.raises(RuntimeError, match="leaf"):
            x[0] = 1.0


def test_inplace_on_a_non_leaf_gradients() -> None:
    def run(m):
        w = _leaf(m)
        v = m.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = w * 2
        y += v
        y.mul_(v)
        y -= w
        y.clamp_(-3.0, 3.0)
        y.sum().backward()
        return y, w.grad, v.grad

    _same(*_both(run))


# ---- modified-since-saved errors -----------------------------------------------------------------
def test_input_saved_for_backward_modified_in_place_raises() -> None:
    for m in LIBS:
        w = _leaf(m)
        x = w * 1  # a non-leaf: in-place changes are allowed, but sin saved it
        y = x.sin()
        x.add_(1.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_leaf_saved_for_backward_modified_under_no_grad_raises() -> None:
    for m in LIBS:
        w = _leaf(m)
        y = (w * w).sum()
        with m.no_grad():
            w.mul_(2.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()


def test_output_saved_for_backward_modified_in_place_raises() -> None:
    for m in LIBS:
        w = _leaf(m)
        y = w.exp()  # exp's derivative reads its output
        y[0] = 0.0
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_modifying_an_input_that_backward_does_not_read_is_fine() -> None:
    def run(m):
        w = _leaf(m)
        x = w * 1
        y = x + 2  # add does not save its inputs
        x.mul_(3.0)
        y.sum().backward()
        return w.grad, x

    _same(*_both(run))


def test_modifying_a_view_of_a_saved_tensor_raises() -> None:
    for m in LIBS:
        w = _leaf(m)
        x = w * 1
        y = x.sin()
        with m.no_grad():
            x[0].fill_(0.0)  # through a view: the shared version counter moves
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


# ---- views share the version counter -------------------------------------------------------------
VIEWS = {
    "x[0]": lambda m, x: x[0],
    "x[:, 1:]": lambda m, x: x[:, 1:],
    "x[..., None]": lambda m, x: x[..., None],
    "x[1, 2] (0-d)": lambda m, x: x[1, 2],
    "view": lambda m, x: x.view(-1),
    "reshape": lambda m, x: x.reshape(3, 2),
    "t": lambda m, x: x.t(),
    "transpose": lambda m, x: x.transpose(0, 1),
    "permute": lambda m, x: x.permute(1, 0),
    "unsqueeze": lambda m, x: x.unsqueeze(0),
    "squeeze": lambda m, x: x.unsqueeze(1).squeeze(1),
    "flatten": lambda m, x: x.flatten(),
    "narrow": lambda m, x: x.narrow(1, 1, 2),
    "select": lambda m, x: x.select(1, -1),
    "split piece": lambda m, x: x.split(1, dim=1)[2],
    "chunk piece": lambda m, x: m.chunk(x, 2)[1],
    "unbind piece": lambda m, x: x.unbind(1)[0],
    "detach": lambda m, x: x.detach(),
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_views_share_data_and_version_counter(name: str) -> None:
    make_view = VIEWS[name]

    def run(m):
        x = _leaf(m, requires_grad=False)
        v = make_view(m, x)
        v.mul_(10.0)  # writes through to x
        after_view = (x._version, v._version)
        x.add_(1.0)  # and x's writes show in v
        return x.clone(), v.clone(), after_view, (x._version, v._version)

    ours, theirs = _both(run)
    _same(ours[:2], theirs[:2])
    assert ours[2:] == theirs[2:]


NOT_VIEWS = {
    "clone": lambda m, x: x.clone(),
    "x[index tensor]": lambda m, x: x[m.tensor([1, 0])],
    "x[mask]": lambda m, x: x[x > 0],
    "flip": lambda m, x: x.flip(0),
    "cat": lambda m, x: m.cat([x, x]),
    "repeat": lambda m, x: x.repeat(1, 2),
    "index_select": lambda m, x: x.index_select(1, m.tensor([0])),
    "gather": lambda m, x: x.gather(1, m.tensor([[0], [1]])),
}


@pytest.mark.parametrize("name", list(NOT_VIEWS))
def test_copies_do_not_share_data_or_versions(name: str) -> None:
    def run(m):
        x = _leaf(m, requires_grad=False)
        c = NOT_VIEWS[name](m, x)
        c.add_(100.0)
        return x, x._version, c._version

    ours, theirs = _both(run)
    _same(ours[0], theirs[0])
    assert ours[1:] == theirs[1:]


# ---- __setitem__ ---------------------------------------------------------------------------------
SET_INDICES = {
    "int": (lambda m: 1, 5.0),
    "negative int": (lambda m: -1, 5.0),
    "slice step": (lambda m: (slice(None), slice(None, None, 2)), -1.0),
    "None and Ellipsis": (lambda m: (Ellipsis, None, 0), 2.0),
    "bool mask": (lambda m: m.tensor([[True, False, True], [False, False, True]]), 0.0),
    "index tensor": (lambda m: m.tensor([1, 0]), 3.0),
    "int then index": (lambda m: (0, m.tensor([2, 0])), 4.0),
    "tensor value": (lambda m: (slice(None), 1), "vector"),
    "0-d tensor index": (lambda m: m.tensor(1), 6.0),
}


@pytest.mark.parametrize("name", list(SET_INDICES))
def test_setitem_under_no_grad_on_a_leaf(name: str) -> None:
    index, value = SET_INDICES[name]

    def run(m):
        x = _leaf(m)
        v = m.tensor([7.0, 8.0]) if value == "vector" else value
        with m.no_grad():
            x[index(m)] = v
        return x, x.requires_grad, x.grad_fn is None, x._version

    ours, theirs = _both(run)
    _same(ours[0], theirs[0])
    assert ours[1:] == theirs[1:]


def test_setitem_torch_order_of_int_and_index() -> None:
    """``x[0, :, [1, 2]]`` has shape (3, 2) in torch (NumPy would give (2, 3))."""

    def run(m):
        x = m.zeros(2, 3, 4)
        x[0, :, [1, 2]] = m.arange(6.0).reshape(3, 2)
        return x, x[0, :, [1, 2]], x[1, [0, 2], 1:]

    _same(*_both(run))


def test_setitem_gradients_in_grad_mode() -> None:
    def run(m):
        w = _leaf(m)
        v = m.tensor([[0.5], [2.0]], requires_grad=True)
        y = w.exp()
        z = y * 1
        z[:, 1:] = v * v  # broadcast value
        z[m.tensor([1]), 0] = v[0]
        (z * z).sum().backward()
        return z, w.grad, v.grad

    _same(*_both(run))


def test_repeated_indices_accumulate() -> None:
    def run(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x[m.tensor([0, 0, 2, 0])] * m.tensor([1.0, 2.0, 3.0, 4.0])
        z = x.index_select(0, m.tensor([2, 2])).sum() + x.gather(0, m.tensor([1, 1, 1])).sum()
        (y.sum() + z).backward()
        return x.grad

    _same(*_both(run))


def test_split_pieces_are_separate_nodes() -> None:
    def run(m):
        x = m.arange(10.0).reshape(5, 2).requires_grad_()
        a, b, c = x.split([2, 1, 2])
        (b * 3).sum().backward(retain_graph=True)
        grad_b = x.grad.clone()
        (c.exp().sum() + a.sum()).backward()
        return grad_b, x.grad

    _same(*_both(run))


# ---- errors: the same exception type as torch ----------------------------------------------------
ERRORS = {
    "index out of range": lambda m: m.ones(3)[5],
    "too many indices": lambda m: m.ones(3)[0, 0],
    "float index tensor": lambda m: m.ones(3)[m.tensor([0.0])],
    "mask shape": lambda m: m.ones(3, 2)[m.tensor([True, False])],
    "negative step": lambda m: m.ones(3)[::-1],
    "cat sizes": lambda m: m.cat([m.ones(2, 3), m.ones(2, 4)]),
    "cat 0-d": lambda m: m.cat([m.tensor(1.0)]),
    "cat empty list": lambda m: m.cat([]),
    "cat dim": lambda m: m.cat([m.ones(2)], dim=1),
    "stack sizes": lambda m: m.stack([m.ones(2), m.ones(3)]),
    "split sizes": lambda m: m.ones(3).split([1, 1]),
    "chunk 0": lambda m: m.ones(3).chunk(0),
    "unbind 0-d": lambda m: m.tensor(1.0).unbind(),
    "repeat dims": lambda m: m.ones(2, 3).repeat(2),
    "roll misaligned": lambda m: m.ones(2, 3).roll((1, 2), (0,)),
    "tril 1-d": lambda m: m.tril(m.ones(3)),
    "narrow too long": lambda m: m.ones(3).narrow(0, 2, 2),
    "select out of range": lambda m: m.ones(3, 4).select(0, 3),
    "gather ndim": lambda m: m.ones(3, 4).gather(1, m.tensor([0, 1])),
    "gather out of range": lambda m: m.ones(3, 4).gather(0, m.tensor([[3]])),
    "gather float index": lambda m: m.ones(3, 4).gather(0, m.tensor([[0.0]])),
    "gather index too big": lambda m: m.ones(3, 4).gather(1, m.zeros(4, 1, dtype=m.int64)),
    "scatter dtype": lambda m: m.ones(3).scatter(0, m.tensor([0]), m.tensor([1])),
    "scatter_add out of range": lambda m: m.ones(3).scatter_add(0, m.tensor([3]), m.ones(1)),
    "index_select 2-d index": lambda m: m.ones(3).index_select(0, m.tensor([[0]])),
    "index_select out of range": lambda m: m.ones(3).index_select(0, m.tensor([3])),
    "index_add source shape": lambda m: m.ones(3, 4).index_add(0, m.tensor([0]), m.ones(1, 3)),
    "index_add dtype": lambda m: m.ones(3).index_add(0, m.tensor([0]), m.tensor([1])),
    "masked_fill float mask": lambda m: m.ones(3).masked_fill(m.ones(3), 0.0),
    "masked_fill 1-d value": lambda m: m.ones(3).masked_fill(m.ones(3) > 0, m.ones(1)),
    "take_along_dim ndim": lambda m: m.take_along_dim(m.ones(3, 4), m.tensor([0]), 1),
    "setitem shape": lambda m: m.ones(3, 4).__setitem__(0, m.ones(3)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name: str) -> None:
    fn = ERRORS[name]
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(Exception) as ours:
        fn(chainrule)
    assert isinstance(ours.value, type(theirs.value)), (ours.value, theirs.value)


def test_error_messages_name_the_op_and_shapes() -> None:
    with pytest.raises(RuntimeError, match=r"cat.*dimension 0.*\(2, 3\) and \(2, 4\)"):
        chainrule.cat([chainrule.ones(2, 3), chainrule.ones(2, 4)])
    with pytest.raises(RuntimeError, match=r"gather.*index 3 is out of bounds for dimension 0"):
        chainrule.ones(3, 4).gather(0, chainrule.tensor([[3]]))
    with pytest.raises(IndexError, match=r"getitem.*shape \(3,\)"):
        chainrule.ones(3)[5]


# ---- empty inputs -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "x, dim, index, source",
    [
        ((0, 4), 0, [0, 0, 2], (0, 4)),  # the count of indices is checked first (RuntimeError)
        ((0,), 0, [0], (1,)),  # 1-D: torch's bound check (IndexError)
        ((3, 2), 0, [0, 1], (3, 2)),
    ],
)
def test_index_add_into_an_empty_input_checks_as_torch(x, dim, index, source) -> None:
    same_or_same_error(
        lambda m, a, s: m.index_add(a, dim, m.tensor(index), s), [x, source], fragments=["index_add"]
    )


@pytest.mark.parametrize("x, dim, index, source", [((0, 4), 0, [0, 0, 2], (3, 4)), ((3, 0), 0, [5], (1, 0))])
def test_index_add_into_an_empty_input_looks_at_no_index(x, dim, index, source) -> None:
    """torch adds nowhere, wherever the indices point (its backward then trips on them: compared
    forward only); the source went nowhere, so its gradient is 0."""
    same_or_same_error(lambda m, a, s: m.index_add(a, dim, m.tensor(index), s).detach(), [x, source])
    a = chainrule.zeros(x, dtype=chainrule.float64, requires_grad=True)
    s = chainrule.ones(source, dtype=chainrule.float64, requires_grad=True)
    a.index_add(dim, chainrule.tensor(index), s, alpha=2.0).sum().backward()
    assert s.grad.shape == source and not s.grad.numpy().any()


@pytest.mark.parametrize("x, dim, index", [((0, 3), 1, [5]), ((0, 0), 1, [0, 2]), ((3, 2), 0, [5])])
def test_index_fill_of_an_empty_input_looks_at_no_index(x, dim, index) -> None:
    same_or_same_error(lambda m, a: a.index_fill(dim, m.tensor(index), -1.5), [x], fragments=["index_fill"])
