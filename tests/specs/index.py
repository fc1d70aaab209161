"""Indexing ops: ``x[...]`` and ``x[...] = v``, gather/scatter, index_select, masks, narrow."""

from __future__ import annotations

from oracle import Arg, OpSpec

from specs.strategies import any_shape, fixed

X = (Arg(),)
THREE_D = fixed(((2, 3, 4),), ((3, 3, 3),), ((2, 4, 5),))
MAT = fixed(((3, 4),), ((4, 3),), ((3, 3),))


def _s(name, fn, shapes, args=X, **kw):
    return OpSpec(name, fn, shapes, args, **kw)


def _idx(m, values):
    return m.tensor(values)


def _setitem(index, value_scale=1.0):
    """``y = x * 1; y[index] = v * scale`` with x a non-leaf: both gradients against torch."""

    def fn(m, x, v):
        y = x * 1.5
        y[index(m) if callable(index) else index] = v * value_scale
        return y

    return fn


def _set_scalar(index):
    def fn(m, x):
        y = x * 1.5
        y[index(m) if callable(index) else index] = 0.5
        return y

    return fn


def _view_inplace(change):
    """``y = x * 1.5``, then ``change(m, y, w)`` modifies a view of ``y`` in place: torch's
    CopySlices, the base's history rewritten; returns ``y`` and the view read again."""

    def fn(m, x, w):
        y = x * 1.5
        v = change(m, y, w)
        return y * y, v.exp()

    return fn


def _view_inplace_specs():
    m2 = fixed(((3, 4), (4,)), ((2, 5), (5,)))
    return [
        _s("y[0:2].mul_(w)", _view_inplace(lambda m, y, w: y[0:2].mul_(w)), m2, (Arg(), Arg())),
        _s("y[:, 1] *= w (column)", _view_inplace(lambda m, y, w: _imul(y, w[0])), m2, (Arg(), Arg())),
        _s(
            "y.view(-1).add_(..)",
            _view_inplace(lambda m, y, w: y.view(-1)[: w.shape[0]].add_(w)),
            m2,
            (Arg(), Arg()),
        ),
        _s(
            "y.t()[1].mul_(w) then base",
            _view_inplace(lambda m, y, w: y.t()[1].mul_(w[0]).sin_()),
            m2,
            (Arg(), Arg()),
        ),
        _s(
            "y[1][0:2].copy_(w) (view of a view)",
            _view_inplace(lambda m, y, w: y[1][0:2].copy_(w[:2] * 2)),
            m2,
            (Arg(), Arg()),
        ),
        _s(
            "v = y[0]; y.mul_(w); v (base changed)",
            _view_inplace(lambda m, y, w: _base_changed(y, w)),
            m2,
            (Arg(), Arg()),
        ),
    ]


def _overwrite(change):
    """``y = x * 1.5`` overwritten in place by values that don't depend on it: zero gradient."""

    def fn(m, x):
        y = x * 1.5
        change(m, y)
        return y * x

    return fn


def _imul(y, s):
    y[:, 1] *= s
    return y[:, 1]


def _base_changed(y, w):
    v = y[0]
    y.mul_(w)
    return v


SPECS = [
    # ---- basic indexing --------------------------------------------------------------------------
    _s("x[0]", lambda m, x: x[0], any_shape(min_dims=1)),
    _s("x[-1]", lambda m, x: x[-1], any_shape(min_dims=1)),
    _s("x[1, -2]", lambda m, x: x[1, -2], THREE_D),
    _s("x[0, 1, 2] (0-d view)", lambda m, x: x[0, 1, 2] * x[1, 0, 0], THREE_D),
    _s("x[1:]", lambda m, x: x[1:], any_shape(min_dims=1)),
    _s("x[::2]", lambda m, x: x[::2], any_shape(min_dims=1)),
    _s("x[1::2, :-1]", lambda m, x: x[1::2, :-1], MAT),
    _s("x[:, 3:0:1] (empty)", lambda m, x: x[:, 3:0:1], MAT),
    _s("x[None]", lambda m, x: x[None], any_shape()),
    _s("x[:, None, 1]", lambda m, x: x[:, None, 1], MAT),
    _s("x[...]", lambda m, x: x[...], any_shape()),
    _s("x[..., 1]", lambda m, x: x[..., 1], THREE_D),
    _s("x[0, ..., None, ::2]", lambda m, x: x[0, ..., None, ::2], THREE_D),
    _s("x[-1] twice", lambda m, x: x[-1] * x[-1] + x[0], any_shape(min_dims=1)),
    # ---- advanced indexing -----------------------------------------------------------------------
    _s(
        "x[bool mask]",
        lambda m, x, b: x[b],
        fixed(((3, 4), (3, 4)), ((5,), (5,)), ((2, 3), (2,))),
        (Arg(), Arg(kind="bool")),
    ),
    _s("x[x > 0]", lambda m, x: x[x > 0] * 2, any_shape()),
    _s(
        "x[:, bool mask]",
        lambda m, x, b: x[:, b],
        fixed(((3, 4), (4,)), ((2, 3, 2), (3,))),
        (Arg(), Arg(kind="bool")),
    ),
    _s("x[index tensor, repeats]", lambda m, x: x[_idx(m, [0, 2, 0, 0, 1])], MAT),
    _s("x[2-d index tensor]", lambda m, x: x[_idx(m, [[1, 1], [0, 1]])], MAT),
    _s("x[list, repeats]", lambda m, x: x[[1, 1, -1]], MAT),
    _s(
        "x[random index]",
        lambda m, x, i: x[i],
        fixed(((4, 3), (6,)), ((4,), (2, 5))),
        (Arg(), Arg(kind="index", high=4)),
    ),
    _s(
        "x[i, j] pairs with repeats",
        lambda m, x: x[_idx(m, [0, 0, 2]), _idx(m, [1, 1, 3])],
        fixed(((3, 4),), ((4, 4),)),
    ),
    _s("x[i, :] mixed", lambda m, x: x[_idx(m, [2, 0, 2]), 1:], fixed(((3, 3, 3),), ((3, 2),))),
    _s("x[:, i] mixed", lambda m, x: x[:, _idx(m, [1, 1, 0])], THREE_D),
    _s("x[1:, i, ::2] mixed", lambda m, x: x[1:, _idx(m, [2, 2]), ::2], THREE_D),
    _s(
        "x[i, :, j] split advanced",
        lambda m, x: x[_idx(m, [0, 1, 1]), :, _idx(m, [3, 0, 3])],
        fixed(((2, 3, 4),), ((2, 4, 5),)),
    ),
    _s("x[0, :, i] int then index", lambda m, x: x[0, :, _idx(m, [1, 1, 2])], THREE_D),
    _s("x[0-d tensor, :, i]", lambda m, x: x[m.tensor(1), :, [0, 0]], THREE_D),
    _s("x[None, i, :, j]", lambda m, x: x[None, _idx(m, [0, 1]), :, _idx(m, [2, 2])], THREE_D),
    _s("x[..., i]", lambda m, x: x[..., _idx(m, [0, 0, 1])], THREE_D),
    _s("x[i][j] chained", lambda m, x: x[_idx(m, [1, 1])][:, _idx(m, [0, 0])], MAT),
    # ---- in-place changes of views of a non-leaf (CopySlices) ------------------------------------
    *_view_inplace_specs(),
    _s("y.fill_(2) (overwritten)", _overwrite(lambda m, y: y.fill_(2.0)), any_shape()),
    _s("y.zero_()", _overwrite(lambda m, y: y.zero_()), any_shape()),
    _s("y.copy_(constant)", _overwrite(lambda m, y: y.copy_(m.ones(y.shape, dtype=y.dtype))), any_shape()),
    # ---- setitem in grad mode: x non-leaf, v requires grad ---------------------------------------
    _s("y[0] = v", _setitem(0), fixed(((3, 4), (4,)), ((3, 4), (1,)), ((2,), ())), (Arg(), Arg())),
    _s(
        "y[:, 1:3] = v",
        _setitem((slice(None), slice(1, 3))),
        fixed(((3, 4), (3, 2)), ((3, 4), (2,)), ((2, 3, 4), (2, 4))),
        (Arg(), Arg()),
    ),
    _s("y[::2] = v", _setitem(slice(None, None, 2)), fixed(((4, 3), (2, 3)), ((5,), (3,))), (Arg(), Arg())),
    _s(
        "y[..., None, 0] = v",
        _setitem((Ellipsis, None, 0)),
        fixed(
            ((2, 3), (2, 1)),
        ),
        (Arg(), Arg()),
    ),
    _s(
        "y[index tensor] = v",
        _setitem(lambda m: m.tensor([2, 0])),
        fixed(((3, 4), (2, 4)), ((3, 4), (4,)), ((4,), (2,))),
        (Arg(), Arg()),
    ),
    _s(
        "y[i, j] = v",
        _setitem(lambda m: (m.tensor([0, 2]), m.tensor([1, 1]))),
        fixed(((3, 4), (2,)), ((3, 3, 2), (2, 2))),
        (Arg(), Arg()),
    ),
    _s(
        "y[0, :, i] = v",
        _setitem(lambda m: (0, slice(None), m.tensor([2, 0]))),
        fixed(((2, 3, 4), (3, 2)), ((2, 3, 4), (2,))),
        (Arg(), Arg()),
    ),
    _s(
        "y[mask] = v",
        lambda m, x, b, v: _setitem(b)(m, x, v),
        fixed(((3, 4), (3, 4), ()), ((5,), (5,), (1,))),
        (Arg(), Arg(kind="bool"), Arg()),
    ),
    _s("y[x > 0.5] = 0.5", lambda m, x: _set_scalar(x > 0.5)(m, x), any_shape()),
    _s("y[-1] = 0.5", _set_scalar(-1), any_shape(min_dims=1)),
    _s(
        "y[i] = v, v reused",
        lambda m, x, v: _setitem(lambda mm: mm.tensor([1]))(m, x, v) * v,
        fixed(((3,), ()), ((2, 2), (2,))),
        (Arg(), Arg()),
    ),
    # ---- gather / scatter ------------------------------------------------------------------------
    _s(
        "gather(0)",
        lambda m, x, i: m.gather(x, 0, i),
        fixed(((3, 4), (5, 4)), ((3, 4), (2, 3)), ((3,), (6,))),
        (Arg(), Arg(kind="index", high=3)),
    ),
    _s(
        "gather(1)",
        lambda m, x, i: x.gather(1, i),
        fixed(((3, 4), (3, 6)), ((2, 4), (1, 2))),
        (Arg(), Arg(kind="index", high=4)),
    ),
    _s(
        "gather(-1) 3-d",
        lambda m, x, i: m.gather(x, -1, i),
        fixed(((2, 3, 4), (2, 3, 5)), ((2, 3, 4), (1, 2, 1))),
        (Arg(), Arg(kind="index", high=4)),
    ),
    _s(
        "gather 0-d",
        lambda m, x: m.gather(x, 0, m.tensor([0, 0])) * m.gather(x, 0, m.tensor(0)),
        fixed(((),)),
    ),
    _s(
        "take_along_dim",
        lambda m, x, i: m.take_along_dim(x, i, 1),
        fixed(((3, 4), (3, 5)), ((3, 4), (1, 2)), ((1, 4), (3, 2))),
        (Arg(), Arg(kind="index", high=4)),
    ),
    _s(
        "take_along_dim(None)",
        lambda m, x, i: m.take_along_dim(x, i),
        fixed(((3, 4), (7,)), ((12,), (2, 3))),
        (Arg(), Arg(kind="index", high=12)),
    ),
    _s(
        "take_along_dim(negative)",
        lambda m, x: m.take_along_dim(x, m.tensor([[2, 0, 1, -1]]), dim=-1),
        fixed(((3, 4),), ((1, 4),)),
    ),
    _s(
        "scatter_add(0)",
        lambda m, x, i, s: m.scatter_add(x, 0, i, s),
        fixed(((3, 4), (5, 4), (5, 4)), ((3, 4), (2, 3), (2, 3)), ((3,), (6,), (6,))),
        (Arg(), Arg(kind="index", high=3), Arg()),
    ),
    _s(
        "scatter_add(1)",
        lambda m, x, i, s: x.scatter_add(1, i, s),
        fixed(((3, 4), (3, 6), (3, 6)), ((2, 4), (1, 2), (1, 2))),
        (Arg(), Arg(kind="index", high=4), Arg()),
    ),
    # torch has no gradient for a src larger than the index: compare the input's gradient only
    _s(
        "scatter_add(src larger)",
        lambda m, x, i, s: m.scatter_add(x, 0, i, s),
        fixed(((3, 4), (2, 3), (4, 4)), ((3,), (2,), (5,))),
        (Arg(), Arg(kind="index", high=3), Arg(grad=False)),
    ),
    _s(
        "scatter_add 0-d",
        lambda m, x, s: m.scatter_add(x, 0, m.tensor([0, 0]), s),
        fixed(((), (2,))),
        (Arg(), Arg()),
    ),
    _s(
        "scatter(src)",
        lambda m, x, s: m.scatter(x, 0, m.tensor([[0, 1, 2], [2, 0, 1]]), s),
        fixed(((3, 3), (2, 3)), ((4, 3), (2, 3))),
        (Arg(), Arg()),
    ),
    _s(
        "scatter(1, src)",
        lambda m, x, s: x.scatter(1, m.tensor([[3, 0], [1, 2]]), s),
        fixed(((2, 4), (2, 2)), ((3, 5), (2, 2))),
        (Arg(), Arg()),
    ),
    _s(
        "scatter(src larger)",
        lambda m, x, s: m.scatter(x, 1, m.tensor([[2, 0], [1, 2]]), s),
        fixed(((2, 3), (3, 4)), ((3, 4), (2, 3))),
        (Arg(), Arg(grad=False)),
    ),
    _s("scatter(value)", lambda m, x: x.scatter(0, m.tensor([[0, 1, 1]]), 1.25), fixed(((3, 3),), ((2, 4),))),
    _s(
        "scatter(value=)",
        lambda m, x: m.scatter(x, -1, m.tensor([[0], [2]]), value=-1.0),
        fixed(((2, 3),), ((3, 4),)),
    ),
    _s(
        "scatter(reduce='add')",
        lambda m, x, s: x.scatter(0, m.tensor([[0, 0]]), s, reduce="add"),
        fixed(((3, 2), (1, 2))),
        (Arg(), Arg()),
        grad=False,
    ),  # torch: no derivative
    # ---- index_select / index_add / index_copy / index_fill --------------------------------------
    _s("index_select(0), repeats", lambda m, x: m.index_select(x, 0, m.tensor([0, 2, 0])), MAT),
    _s(
        "index_select(-1)",
        lambda m, x, i: x.index_select(-1, i),
        fixed(((2, 3, 4), (5,)), ((3, 4), (1,))),
        (Arg(), Arg(kind="index", high=3)),
    ),
    _s("index_select 0-d index", lambda m, x: m.index_select(x, 1, m.tensor(1)), MAT),
    _s(
        "index_add, repeats",
        lambda m, x, s: m.index_add(x, 0, m.tensor([0, 0, 2]), s),
        fixed(((3, 4), (3, 4)), ((4,), (3,))),
        (Arg(), Arg()),
    ),
    _s(
        "index_add(dim=1, alpha)",
        lambda m, x, s: x.index_add(1, m.tensor([1, 1]), s, alpha=-2.0),
        fixed(((3, 4), (3, 2)), ((2, 2, 2), (2, 2, 2))),
        (Arg(), Arg()),
    ),
    _s(
        "index_copy",
        lambda m, x, s: m.index_copy(x, 0, m.tensor([2, 0]), s),
        fixed(((3, 4), (2, 4)), ((4,), (2,))),
        (Arg(), Arg()),
    ),
    _s("index_fill", lambda m, x: x.index_fill(1, m.tensor([0, 2]), -1.5), MAT),
    _s(
        "index_fill(0-d tensor)",
        lambda m, x, v: m.index_fill(x, 0, m.tensor([1]), v),
        fixed(((3, 4), ()), ((2,), ())),
        (Arg(), Arg()),
    ),
    # ---- masks -----------------------------------------------------------------------------------
    _s(
        "masked_fill(scalar)",
        lambda m, x, b: x.masked_fill(b, 0.25),
        fixed(((3, 4), (3, 4)), ((3, 4), (4,)), ((), ())),
        (Arg(), Arg(kind="bool")),
    ),
    _s(
        "masked_fill(0-d tensor)",
        lambda m, x, b, v: m.masked_fill(x, b, v),
        fixed(((3, 4), (3, 4), ()), ((2, 3), (3,), ())),
        (Arg(), Arg(kind="bool"), Arg()),
    ),
    _s(
        "masked_fill(broadcast out)",
        lambda m, x, b: m.masked_fill(x, b, -1.0),
        fixed(((3, 1), (2, 3, 4))),
        (Arg(), Arg(kind="bool")),
    ),
    _s("masked_fill(x < 0, value)", lambda m, x: x.masked_fill(x < 0, 0.0) * x, any_shape()),
    _s(
        "masked_select",
        lambda m, x, b: m.masked_select(x, b),
        fixed(((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (2, 4))),
        (Arg(), Arg(kind="bool")),
    ),
    _s("masked_select method", lambda m, x: x.masked_select(x > 0) ** 2, any_shape()),
    # ---- narrow / select -------------------------------------------------------------------------
    _s("narrow", lambda m, x: m.narrow(x, 0, 1, 2), fixed(((3, 4),), ((4,),), ((3, 2, 2),))),
    _s("narrow(-1, -2)", lambda m, x: x.narrow(-1, -2, 2), MAT),
    _s("narrow(0-d start)", lambda m, x: x.narrow(1, m.tensor(1), 1), THREE_D),
    _s("select", lambda m, x: m.select(x, 1, -1), THREE_D),
    # ---- positions (not differentiable) ----------------------------------------------------------
    _s("nonzero", lambda m, x: m.nonzero(x), any_shape(), (Arg(kind="bool"),), grad=False),
    _s("nonzero(as_tuple)", lambda m, x: m.nonzero(x > 0.5, as_tuple=True), any_shape(), grad=False),
    _s("nonzero method", lambda m, x: x.nonzero(), any_shape(), (Arg(-2, 2, kind="int"),), grad=False),
    _s("argwhere", lambda m, x: m.argwhere(x), any_shape(), (Arg(-1, 2, kind="int"),), grad=False),
    _s("where(cond)", lambda m, x: m.where(x > 0), any_shape(), grad=False),
]
