"""Sorting and selection (sort, argsort, topk, kthvalue, median) and diagonals (diagonal, diag,
trace), and diff. Values are drawn from a wide range so that ties (whose order torch leaves open
unless stable=True) and near-ties (closer than the finite-difference step) are unlikely; ties are
made on purpose where the result is defined for them."""

from __future__ import annotations

from oracle import Arg, OpSpec

from specs.strategies import any_shape, fixed

WIDE = Arg(-100.0, 100.0)
INT = Arg(-3, 4, kind="int")
BOOL = Arg(kind="bool")
FLOAT = Arg()

ANY = any_shape()
D1 = any_shape(min_dims=1)
D2 = any_shape(min_dims=2)
D3 = any_shape(min_dims=3)
LANES = any_shape(min_dims=1, min_side=2)
LANES3 = any_shape(min_dims=1, min_side=3)
NO_GRAD = dict(grad=False)


def _spec(name, fn, shapes=D1, arg=WIDE, **kw):
    return OpSpec(name, fn, shapes, (arg,), **kw)


def _twice(m, x):
    """Two copies of ``x`` along a new leading dim: every value is tied with its copy."""
    return x.unsqueeze(0).expand(2, *x.shape)


SPECS = [
    # ---- sort / argsort ----
    _spec("sort", lambda m, x: m.sort(x)),
    _spec("sort(dim=0, descending)", lambda m, x: m.sort(x, 0, descending=True)),
    _spec("sort(stable) 0-d", lambda m, x: m.sort(x, stable=True), fixed(((),))),
    _spec("x.sort(-1, True) unpacked", lambda m, x: (lambda v, i: (v * v, i))(*x.sort(-1, True)), D2),
    _spec("sort(dim=1).values", lambda m, x: m.sort(x, dim=1).values.cumsum(1), D2),
    _spec("sort int stable", lambda m, x: m.sort(x, dim=0, stable=True), D1, INT, **NO_GRAD),
    _spec(
        "sort int descending stable",
        lambda m, x: m.sort(x, stable=True, dim=-1, descending=True),
        D1,
        INT,
        **NO_GRAD,
    ),
    _spec("sort bool stable", lambda m, x: m.sort(x, stable=True), D1, BOOL, **NO_GRAD),
    _spec("argsort", lambda m, x: m.argsort(x), D1, **NO_GRAD),
    _spec("argsort(dim=0, descending)", lambda m, x: m.argsort(x, 0, True), D2, **NO_GRAD),
    _spec("x.argsort(stable) int", lambda m, x: x.argsort(stable=True), D1, INT, **NO_GRAD),
    # ---- topk / kthvalue ----
    _spec("topk(1)", lambda m, x: m.topk(x, 1)),
    _spec("topk(2, dim=0)", lambda m, x: m.topk(x, 2, 0), LANES),
    _spec("topk(3, largest=False)", lambda m, x: m.topk(x, 3, largest=False), LANES3),
    _spec("x.topk(2) unpacked", lambda m, x: (lambda v, i: (v.exp(), i))(*x.topk(2)), LANES, FLOAT),
    _spec("topk(0)", lambda m, x: m.topk(x, 0)),
    _spec("kthvalue(1)", lambda m, x: m.kthvalue(x, 1)),
    _spec("kthvalue(2, dim=0, keepdim)", lambda m, x: m.kthvalue(x, 2, 0, True), LANES),
    _spec("x.kthvalue(3).values", lambda m, x: x.kthvalue(3).values ** 2, LANES3, FLOAT),
    _spec("kthvalue int stable ties", lambda m, x: m.kthvalue(x, 1), D1, INT, **NO_GRAD),
    # ---- median ----
    _spec("median", lambda m, x: m.median(x), ANY),
    _spec("median with ties", lambda m, x: m.median(_twice(m, x)), ANY),
    _spec("median int", lambda m, x: m.median(x), D1, INT, **NO_GRAD),
    _spec("median(dim=0)", lambda m, x: m.median(x, 0)),
    _spec("median(dim=-1, keepdim)", lambda m, x: m.median(x, -1, keepdim=True), D2),
    _spec("x.median(1).values squared", lambda m, x: x.median(1).values ** 2, D2, FLOAT),
    _spec("median(0-d, dim=0)", lambda m, x: m.median(x, 0), fixed(((),))),
    # ---- diagonal / diag / trace ----
    _spec("diagonal", lambda m, x: m.diagonal(x), D2, FLOAT),
    _spec("diagonal(offset=1)", lambda m, x: m.diagonal(x, 1), D2, FLOAT),
    _spec("diagonal(-1, 2, 0)", lambda m, x: m.diagonal(x, -1, 2, 0), D3, FLOAT),
    _spec("diagonal(offset outside)", lambda m, x: m.diagonal(x, 5), D2, FLOAT),
    _spec("x.diagonal(dim1=-1, dim2=-2) squared", lambda m, x: x.diagonal(dim1=-1, dim2=-2) ** 2, D2, FLOAT),
    _spec("diagonal int", lambda m, x: m.diagonal(x, 0, 0, 1), D2, INT, **NO_GRAD),
    _spec("diag(1-D)", lambda m, x: m.diag(x), fixed(((3,),), ((1,),), ((0,),)), FLOAT),
    _spec("diag(1-D, 2) squared", lambda m, x: m.diag(x, 2) ** 2, fixed(((3,),), ((2,),)), FLOAT),
    _spec("x.diag(-1)", lambda m, x: x.diag(-1), fixed(((4,),)), FLOAT),
    _spec("diag(2-D)", lambda m, x: m.diag(x), fixed(((3, 3),), ((2, 4),), ((4, 1),)), FLOAT),
    _spec("diag(2-D, -1) squared", lambda m, x: m.diag(x, -1) ** 2, fixed(((3, 3),), ((4, 2),)), FLOAT),
    _spec("diag int", lambda m, x: m.diag(x, 1), fixed(((3,),), ((3, 4),)), INT, **NO_GRAD),
    _spec("trace", lambda m, x: m.trace(x), fixed(((3, 3),), ((2, 4),), ((4, 1),), ((0, 2),)), FLOAT),
    _spec("x.trace() squared", lambda m, x: x.trace() ** 2, fixed(((3, 3),)), FLOAT),
    _spec("trace int", lambda m, x: m.trace(x), fixed(((3, 2),)), INT, **NO_GRAD),
    # ---- diff ----
    _spec("diff", lambda m, x: m.diff(x), D1, FLOAT),
    _spec("diff(n=2, dim=0) squared", lambda m, x: m.diff(x, 2, 0) ** 2, D2, FLOAT),
    _spec("x.diff(n=5)", lambda m, x: x.diff(n=5), D1, FLOAT),
    _spec("diff(n=0)", lambda m, x: m.diff(x, 0), D1, FLOAT),
    OpSpec(
        "diff(prepend, append)",
        lambda m, x, a, b: m.diff(x, 2, 0, prepend=a, append=b),
        fixed(((3, 2), (1, 2), (2, 2)), ((1,), (2,), (1,))),
        (FLOAT, FLOAT, FLOAT),
    ),
    _spec("diff int", lambda m, x: m.diff(x, dim=0), D1, INT, **NO_GRAD),
    _spec("diff bool", lambda m, x: m.diff(x), D1, BOOL, **NO_GRAD),
]
