"""Order statistics, NaN-aware and running reductions, and scatter-style indexing: nanmedian,
quantile/nanquantile, mode, msort, nansum/nanmean, aminmax, cummax/cummin, logcumsumexp, cov,
corrcoef, dist, renorm, scatter_reduce, index_reduce, index_put (accumulate), take, put,
masked_scatter and the in-place forms.

Values are drawn from a wide range so that accidental ties are unlikely; ties are made on purpose
(by repeating the input) where the result is defined for them, and then a perturbation moves
every copy together, so finite differences still apply. Specs with NaN in the input skip finite
differences (a NaN output has none).
"""

from __future__ import annotations

import numpy as np
from oracle import Arg, OpSpec

from specs.strategies import any_shape, fixed

WIDE = Arg(-100.0, 100.0)
FLOAT = Arg()
POS = Arg(0.5, 2.0)
INT = Arg(-3, 4, kind="int")
BOOL = Arg(kind="bool")

ANY = any_shape()
D1 = any_shape(min_dims=1)
D2 = any_shape(min_dims=2)
LANES = any_shape(min_dims=1, min_side=2)
NO_GRAD = dict(grad=False)
NO_FD = dict(fd=False)
M34 = fixed(((3, 4),))


def _spec(name, fn, shapes=D1, arg=WIDE, **kw):
    return OpSpec(name, fn, shapes, (arg,), **kw)


def _with_nan(m, x):
    """``x`` with NaN where it is above 40 (about a third of WIDE's values)."""
    return m.where(x > 40, float("nan"), x)


def _twice(m, x, dim=-1):
    """``x`` repeated along ``dim``: every value is tied with its copy."""
    return m.cat([x, x], dim)


def _q(m, x, values=(0.0, 0.3, 0.5, 0.75, 1.0)):
    return m.tensor(values, dtype=x.dtype)


IDX = np.array([[0, 1, 0, 2], [2, 2, 0, 1]])  # scatter index for a (3, 4) input and a (2, 4) src


def _scatter(reduce, include_self, src=lambda m, x, s: s):
    return lambda m, x, s: m.scatter_reduce(
        x, 0, m.tensor(IDX), src(m, x, s), reduce, include_self=include_self
    )


SCATTER_SHAPES = fixed(((3, 4), (2, 4)))

SPECS = [
    # ---- nanmedian ----
    _spec("nanmedian", lambda m, x: m.nanmedian(x), ANY),
    _spec("nanmedian with NaN", lambda m, x: m.nanmedian(_with_nan(m, x)), ANY, **NO_FD),
    _spec("nanmedian with ties", lambda m, x: m.nanmedian(_twice(m, x)), D1),
    _spec("nanmedian(dim=0)", lambda m, x: m.nanmedian(x, 0)),
    _spec(
        "nanmedian(dim=-1, keepdim) with NaN",
        lambda m, x: m.nanmedian(_with_nan(m, x), -1, True),
        D2,
        **NO_FD,
    ),
    _spec("x.nanmedian(0-d, dim=0)", lambda m, x: x.nanmedian(0), fixed(((),))),
    _spec("nanmedian int", lambda m, x: m.nanmedian(x, 0), D1, INT, **NO_GRAD),
    # ---- quantile / nanquantile ----
    _spec("quantile(0.3)", lambda m, x: m.quantile(x, 0.3), ANY),
    _spec("quantile(q tensor, dim=0)", lambda m, x: m.quantile(x, _q(m, x), 0), D1),
    _spec("quantile(q, dim=-1, keepdim)", lambda m, x: m.quantile(x, _q(m, x), -1, True), D2),
    _spec("quantile(keepdim, all)", lambda m, x: m.quantile(x, _q(m, x, (0.2, 0.9)), keepdim=True), D1),
    _spec("quantile lower", lambda m, x: m.quantile(x, _q(m, x), 0, interpolation="lower"), D1),
    _spec("quantile higher", lambda m, x: m.quantile(x, 0.4, -1, interpolation="higher"), D2),
    _spec("quantile midpoint", lambda m, x: m.quantile(x, _q(m, x), -1, interpolation="midpoint"), D1),
    _spec("quantile nearest", lambda m, x: m.quantile(x, _q(m, x), 0, interpolation="nearest"), D1),
    _spec("x.quantile with NaN", lambda m, x: _with_nan(m, x).quantile(_q(m, x), 0), D1, **NO_FD),
    _spec("nanquantile with NaN", lambda m, x: m.nanquantile(_with_nan(m, x), _q(m, x), -1), D2, **NO_FD),
    _spec("nanquantile(0.5)", lambda m, x: m.nanquantile(x, 0.5), ANY),
    _spec(
        "x.nanquantile(dim=0, keepdim, midpoint)",
        lambda m, x: x.nanquantile(0.25, 0, True, interpolation="midpoint"),
        D1,
    ),
    # ---- mode / msort ----
    _spec("mode", lambda m, x: m.mode(x)),
    _spec("mode with ties", lambda m, x: m.mode(_twice(m, x), -1)),
    _spec("x.mode(0, keepdim)", lambda m, x: x.mode(0, True)),
    _spec("mode 0-d", lambda m, x: m.mode(x), fixed(((),))),
    _spec("mode int", lambda m, x: m.mode(x, 0), D1, INT, **NO_GRAD),
    _spec("msort", lambda m, x: m.msort(x)),
    # ---- NaN-aware sums ----
    _spec("nansum", lambda m, x: m.nansum(x), ANY),
    _spec("nansum with NaN (dim, keepdim)", lambda m, x: m.nansum(_with_nan(m, x), -1, True), D1, **NO_FD),
    _spec("nansum int", lambda m, x: m.nansum(x, 0), D1, INT, **NO_GRAD),
    _spec("nanmean", lambda m, x: m.nanmean(x), ANY),
    _spec("x.nanmean with NaN (dim=0)", lambda m, x: _with_nan(m, x).nanmean(0), D1, **NO_FD),
    # ---- aminmax ----
    _spec("aminmax", lambda m, x: m.aminmax(x), ANY),
    _spec("aminmax with ties", lambda m, x: m.aminmax(_twice(m, x)), D1),
    _spec("aminmax(dim=-1, keepdim)", lambda m, x: m.aminmax(x, dim=-1, keepdim=True)),
    _spec("x.aminmax(dim=0) int", lambda m, x: x.aminmax(dim=0), D1, INT, **NO_GRAD),
    # ---- running extrema / logcumsumexp ----
    _spec("cummax", lambda m, x: m.cummax(x, 0), ANY),
    _spec("cummax with ties", lambda m, x: m.cummax(_twice(m, x), -1)),
    _spec("x.cummin(-1)", lambda m, x: x.cummin(-1)),
    _spec("cummin with NaN", lambda m, x: m.cummin(_with_nan(m, x), 0), D1, **NO_FD),
    _spec("cummax int", lambda m, x: m.cummax(x, -1), D1, INT, **NO_GRAD),
    _spec("logcumsumexp", lambda m, x: m.logcumsumexp(x, 0), ANY, FLOAT),
    _spec("x.logcumsumexp(-1) wide", lambda m, x: x.logcumsumexp(-1), D2),
    # ---- covariance / distances ----
    _spec("cov", lambda m, x: m.cov(x), fixed(((3, 5),), ((1, 4),), ((4,),)), FLOAT),
    _spec("cov(correction=0)", lambda m, x: m.cov(x, correction=0), fixed(((2, 5),)), FLOAT),
    _spec(
        "cov(fweights, aweights)",
        lambda m, x: m.cov(
            x, fweights=m.tensor([1, 2, 1, 3]), aweights=m.tensor([0.5, 1.0, 2.0, 1.0], dtype=x.dtype)
        ),
        fixed(((3, 4),)),
        FLOAT,
    ),
    _spec("x.corrcoef()", lambda m, x: x.corrcoef(), fixed(((3, 6),), ((2, 3),)), FLOAT),
    OpSpec("dist", lambda m, x, y: m.dist(x, y), fixed(((3, 4), (4,)), ((2,), (2,))), (FLOAT, FLOAT)),
    OpSpec("x.dist(y, 3)", lambda m, x, y: x.dist(y, 3), fixed(((3, 4), (3, 4))), (FLOAT, FLOAT)),
    OpSpec("dist(inf)", lambda m, x, y: m.dist(x, y, float("inf")), fixed(((5,), (5,))), (FLOAT, FLOAT)),
    _spec("renorm(2, dim=0, 1.5)", lambda m, x: m.renorm(x, 2, 0, 1.5), D2, FLOAT),
    _spec("x.renorm(1, -1, 2.0)", lambda m, x: x.renorm(1, -1, 2.0), D2, FLOAT),
    # ---- scatter_reduce / index_reduce ----
    *[
        OpSpec(f"scatter_reduce({r}, include_self={s})", _scatter(r, s), SCATTER_SHAPES, (FLOAT, FLOAT))
        for r in ("sum", "prod", "mean", "amax", "amin")
        for s in (True, False)
    ],
    OpSpec(
        "scatter_reduce(amax) with ties",
        _scatter("amax", True, lambda m, x, s: m.stack([x[0], x[0]]) + 0 * s),
        fixed(((3, 4), (2, 4))),
        (FLOAT, FLOAT),
    ),
    OpSpec(
        "scatter_reduce(amin) three-way ties, not include_self",
        lambda m, x, s: m.scatter_reduce(
            x, 0, m.zeros(3, 4, dtype=m.int64), m.stack([x[0]] * 3) + 0 * s, "amin", include_self=False
        ),
        fixed(((3, 4), (3, 4))),
        (FLOAT, FLOAT),
        fd=False,  # torch counts x's own tie among those sharing the gradient, then drops x's share
    ),
    OpSpec(
        "scatter_reduce(prod) with zeros",
        _scatter("prod", True, lambda m, x, s: s * m.tensor([[0.0, 1, 1, 0], [1, 0, 1, 0]], dtype=s.dtype)),
        fixed(((3, 4), (2, 4))),
        (FLOAT, FLOAT),
    ),
    OpSpec(
        "x.scatter_reduce(prod) self zero",
        lambda m, x, s: (x * m.tensor([0.0, 1, 1, 1], dtype=x.dtype)).scatter_reduce(
            1, m.tensor([[0, 0], [1, 3], [3, 3]]), s, "prod"
        ),
        fixed(((3, 4), (3, 2))),
        (FLOAT, FLOAT),
    ),
    OpSpec(
        "scatter_reduce int",
        lambda m, x, s: _scatter("mean", False)(m, x, s),
        fixed(((3, 4), (2, 4))),
        (INT, INT),
        grad=False,
    ),
    *[
        OpSpec(
            f"index_reduce({r}, include_self={s})",
            lambda m, x, v, r=r, s=s: m.index_reduce(x, 1, m.tensor([0, 2, 2, 3, 0]), v, r, include_self=s),
            fixed(((3, 4), (3, 5))),
            (FLOAT, FLOAT),
        )
        for r in ("prod", "mean", "amax", "amin")
        for s in (True, False)
    ],
    # ---- flat and masked indexing ----
    OpSpec("take", lambda m, x: m.take(x, m.tensor([[0, -1], [2, 2]])), fixed(((3, 4),), ((5,),)), (FLOAT,)),
    OpSpec("x.take 0-d", lambda m, x: x.take(m.tensor(0)), fixed(((),)), (FLOAT,)),
    OpSpec(
        "put",
        lambda m, x, v: m.put(x, m.tensor([1, -1, 4]), v),
        fixed(((3, 4), (3,)), ((2, 3), (3,))),
        (FLOAT, FLOAT),
    ),
    OpSpec(
        "x.put(accumulate) duplicates",
        lambda m, x, v: x.put(m.tensor([[1, 1], [0, 1]]), v, accumulate=True),
        fixed(((3, 4), (2, 2)), ((2,), (4,))),
        (FLOAT, FLOAT),
    ),
    OpSpec(
        "masked_scatter",
        lambda m, x, v: m.masked_scatter(x, x > 0, v),
        fixed(((3, 4), (12,)), ((2, 3), (3, 4)), ((0,), (2,))),
        (FLOAT, FLOAT),
    ),
    OpSpec(
        "x.masked_scatter broadcast mask",
        lambda m, x, v: x.masked_scatter(m.tensor([True, False, True, True]), v),
        fixed(((3, 4), (3, 4))),
        (FLOAT, FLOAT),
    ),
    OpSpec(
        "index_put(accumulate) duplicates",
        lambda m, x, v: m.index_put(x, (m.tensor([0, 0, 2]), m.tensor([1, 1, 3])), v, accumulate=True),
        fixed(((3, 4), (3,)), ((3, 4), (1,)), ((3, 4), ())),
        (FLOAT, FLOAT),
    ),
    OpSpec(
        "x.index_put(bool mask, accumulate)",
        lambda m, x, v: x.index_put((x > 0,), v.sum(), accumulate=True),
        fixed(((3, 4), (2,))),
        (FLOAT, FLOAT),
    ),
    OpSpec(
        "x.index_put rows",
        lambda m, x, v: x.index_put((m.tensor([2, 0]),), v),
        fixed(((3, 4), (2, 4)), ((3, 4), (4,))),
        (FLOAT, FLOAT),
    ),
]


def _inplace(name, call, shapes, args):
    """``call(m, y, *rest)`` on ``y = x * 1`` (a non-leaf copy): the in-place op's result."""

    def fn(m, x, *rest):
        y = x * 1
        out = call(m, y, *rest)
        assert out is y
        return y

    return OpSpec(name, fn, shapes, args)


_TWO = (FLOAT, FLOAT)
SPECS += [
    _inplace(
        "x.index_put_(accumulate)",
        lambda m, y, v: y.index_put_((m.tensor([0, 0]),), v, accumulate=True),
        fixed(((3, 4), (2, 4)), ((3, 4), (4,))),
        _TWO,
    ),
    _inplace(
        "x.scatter_",
        lambda m, y, s: y.scatter_(1, m.tensor([[0, 3], [1, 2], [2, 0]]), s),
        fixed(((3, 4), (3, 2))),
        _TWO,
    ),
    _inplace(
        "x.scatter_add_", lambda m, y, s: y.scatter_add_(0, m.tensor(IDX), s), fixed(((3, 4), (2, 4))), _TWO
    ),
    _inplace(
        "x.scatter_reduce_(amax)",
        lambda m, y, s: y.scatter_reduce_(0, m.tensor(IDX), s, "amax", include_self=False),
        fixed(((3, 4), (2, 4))),
        _TWO,
    ),
    _inplace(
        "x.index_add_",
        lambda m, y, s: y.index_add_(0, m.tensor([2, 0, 2]), s, alpha=2),
        fixed(((3, 4), (3, 4))),
        _TWO,
    ),
    _inplace(
        "x.index_copy_", lambda m, y, s: y.index_copy_(1, m.tensor([3, 0]), s), fixed(((3, 4), (3, 2))), _TWO
    ),
    _inplace("x.index_fill_", lambda m, y: y.index_fill_(1, m.tensor([0, 2]), -1.0), M34, (FLOAT,)),
    _inplace(
        "x.index_reduce_(mean)",
        lambda m, y, s: y.index_reduce_(0, m.tensor([1, 1]), s, "mean"),
        fixed(((3, 4), (2, 4))),
        _TWO,
    ),
    _inplace("x.masked_fill_", lambda m, y: y.masked_fill_(y > 0, 0.5), M34, (FLOAT,)),
    _inplace("x.masked_scatter_", lambda m, y, s: y.masked_scatter_(y < 0, s), fixed(((3, 4), (12,))), _TWO),
    _inplace(
        "x.put_", lambda m, y, s: y.put_(m.tensor([0, 5]), s, accumulate=True), fixed(((3, 4), (2,))), _TWO
    ),
    _inplace("x.cumsum_", lambda m, y: y.cumsum_(0), D1, (FLOAT,)),
    _inplace("x.cumprod_", lambda m, y: y.cumprod_(-1), D1, (FLOAT,)),
    _inplace("x.renorm_", lambda m, y: y.renorm_(2, 1, 1.0), D2, (FLOAT,)),
    _inplace("x[1].cumsum_ (a view)", lambda m, y: (y[1].cumsum_(0), y)[1], M34, (FLOAT,)),
]
