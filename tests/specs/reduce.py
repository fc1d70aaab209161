"""Reductions: sum, mean, var/std, prod, max/min/amax/amin/argmax/argmin, logsumexp, cumsum,
cumprod, norm, all/any, count_nonzero. Exact zeros (prod, cumprod) and ties (max, amax) are made
inside ``fn`` so that the gradient still flows through them exactly."""

from __future__ import annotations

from oracle import Arg, OpSpec

from specs.strategies import any_shape, fixed

FLOAT = Arg()
INT = Arg(-3, 4, kind="int")
BOOL = Arg(kind="bool")
NONZERO = Arg(-2.0, 2.0, away_from_zero=0.3)
SMALL = Arg(-1.5, 1.5)  # products of up to 64 factors stay moderate
WIDE = Arg(-100.0, 100.0)  # max-like specs: near-ties (closer than the FD step) become unlikely
ZEROS = dict(fd=False)  # specs that shift x by its own detached value to make exact zeros

ANY = any_shape()
D1 = any_shape(min_dims=1)
D2 = any_shape(min_dims=2)
D3 = any_shape(min_dims=3)
LANES = any_shape(min_dims=1, min_side=2)  # at least two elements along every dim
LANES2 = any_shape(min_dims=2, min_side=2)
NO_GRAD = dict(grad=False)


def _spec(name, fn, shapes=ANY, arg=FLOAT, **kw):
    return OpSpec(name, fn, shapes, (arg,), **kw)


def _with_zero_at(x, i):
    """``x`` with an exact zero at index ``i`` of the last dim; its gradient is still exact (but
    finite differences move the detached shift too, hence ``fd=False`` with it)."""
    return x - x.detach()[..., i].unsqueeze(-1)


def _twice(m, x):
    """Two copies of ``x`` along a new leading dim: every value is tied with its copy."""
    return x.unsqueeze(0).expand(2, *x.shape)


SPECS = [
    # ---- sum / mean ----
    _spec("sum", lambda m, x: m.sum(x)),
    _spec("sum(dim=0)", lambda m, x: m.sum(x, 0), D1),
    _spec("sum(dim=-1, keepdim)", lambda m, x: m.sum(x, -1, keepdim=True), D1),
    _spec("sum(dim=(0, 2))", lambda m, x: m.sum(x, dim=(0, 2)), D3),
    _spec("sum(dim=[-1, 0], keepdim)", lambda m, x: m.sum(x, [-1, 0], True), D2),
    _spec("sum(dim=[])", lambda m, x: m.sum(x, dim=[])),
    _spec("sum(0-d, dim=0)", lambda m, x: m.sum(x, 0), fixed(((),))),
    _spec("sum(dtype=float64)", lambda m, x: m.sum(x, dtype=m.float64)),
    _spec("x.sum(1)", lambda m, x: x.sum(1), D2),
    _spec("sum int", lambda m, x: m.sum(x, -1), D1, INT, **NO_GRAD),
    _spec("sum bool", lambda m, x: m.sum(x), ANY, BOOL, **NO_GRAD),
    _spec("sum int dtype=float32", lambda m, x: m.sum(x, dtype=m.float32), ANY, INT, **NO_GRAD),
    _spec("mean", lambda m, x: m.mean(x)),
    _spec("mean(dim=1)", lambda m, x: m.mean(x, 1), D2),
    _spec("mean(dim=(-1, 0), keepdim)", lambda m, x: m.mean(x, (-1, 0), keepdim=True), D2),
    _spec("mean(dim=[])", lambda m, x: m.mean(x, [])),
    _spec("mean(dtype=float64)", lambda m, x: m.mean(x, dtype=m.float64)),
    _spec("x.mean(-1, keepdim)", lambda m, x: x.mean(-1, keepdim=True), D1),
    _spec("mean int dtype=float64", lambda m, x: m.mean(x, dtype=m.float64), D1, INT, **NO_GRAD),
    # ---- var / std ----
    _spec("var", lambda m, x: m.var(x), LANES),
    _spec("var(dim=1)", lambda m, x: m.var(x, 1), LANES2),
    _spec("var(x, 1, False) legacy", lambda m, x: m.var(x, 1, False), LANES2),
    _spec("var(x, False) legacy", lambda m, x: m.var(x, False), D1),
    _spec(
        "var(dim=(0, 1), correction=0, keepdim)",
        lambda m, x: m.var(x, dim=(0, 1), correction=0, keepdim=True),
        D2,
    ),
    _spec("var(correction=2)", lambda m, x: m.var(x, -1, correction=2), any_shape(min_dims=1, min_side=3)),
    _spec("x.var(unbiased=False, keepdim)", lambda m, x: x.var(dim=-1, unbiased=False, keepdim=True), D1),
    _spec("std", lambda m, x: m.std(x), LANES),
    _spec("std(dim=0)", lambda m, x: m.std(x, 0), LANES),
    _spec("std(x, -1, True, True) legacy", lambda m, x: m.std(x, -1, True, True), LANES),
    _spec("std(dim=[0, -1], correction=0)", lambda m, x: m.std(x, [0, -1], correction=0), LANES2),
    _spec("x.std(False)", lambda m, x: x.std(False), LANES),
    _spec("var_mean(dim=1)", lambda m, x: m.var_mean(x, 1), LANES2),
    _spec("std_mean(unbiased=False)", lambda m, x: m.std_mean(x, unbiased=False), LANES),
    # ---- prod ----
    _spec("prod", lambda m, x: m.prod(x), ANY, SMALL),
    _spec("prod(dim=1)", lambda m, x: m.prod(x, 1), D2, SMALL),
    _spec("prod(dim=-1, keepdim)", lambda m, x: m.prod(x, -1, keepdim=True), D1, SMALL),
    _spec("prod(dtype=float64)", lambda m, x: m.prod(x, dtype=m.float64), ANY, SMALL),
    _spec("x.prod(0)", lambda m, x: x.prod(0), D1, SMALL),
    _spec("prod int", lambda m, x: m.prod(x, 0), D1, INT, **NO_GRAD),
    _spec("prod bool", lambda m, x: m.prod(x), ANY, BOOL, **NO_GRAD),
    _spec("prod with one zero", lambda m, x: m.prod(_with_zero_at(x, 0)), D1, SMALL, **ZEROS),
    _spec("prod(dim) with one zero", lambda m, x: m.prod(_with_zero_at(x, -1), -1), D1, SMALL, **ZEROS),
    _spec("prod(dim=0) with zeros", lambda m, x: m.prod(_with_zero_at(x, 0), 0), D2, SMALL, **ZEROS),
    _spec(
        "prod with two zeros",
        lambda m, x: m.prod(_with_zero_at(x, 0) * _with_zero_at(x, -1), -1),
        LANES,
        SMALL,
        **ZEROS,
    ),
    # ---- max / min / amax / amin / argmax / argmin ----
    _spec("max", lambda m, x: m.max(x), ANY, WIDE),
    _spec("min", lambda m, x: m.min(x), ANY, WIDE),
    _spec("max(dim=1)", lambda m, x: m.max(x, 1), D2, WIDE),
    _spec("max(dim=-1, keepdim)", lambda m, x: m.max(x, dim=-1, keepdim=True), D1, WIDE),
    _spec("min(dim=0)", lambda m, x: m.min(x, 0), D1, WIDE),
    _spec("x.min(-1, True)", lambda m, x: x.min(-1, True), D1, WIDE),
    _spec("max(0-d, dim=0)", lambda m, x: m.max(x, 0), fixed(((),))),
    _spec("max(dim) unpacked", lambda m, x: (lambda v, i: (v * 2, i))(*m.max(x, 0)), D1, WIDE),
    _spec("max(dim).values", lambda m, x: m.max(x, 1).values + m.max(x, 1).indices, D2, WIDE),
    _spec("max int", lambda m, x: m.max(x, -1), D1, INT, **NO_GRAD),
    OpSpec(
        "max(a, b)", lambda m, a, b: m.max(a, b), fixed(((2, 3), (3,)), ((4,), ()), ((), ())), (WIDE, WIDE)
    ),
    OpSpec("min(a, b)", lambda m, a, b: m.min(a, b), fixed(((2, 3), (2, 1)), ((3,), (3,))), (WIDE, WIDE)),
    _spec("max with ties", lambda m, x: m.max(_twice(m, x)), ANY, WIDE),
    _spec("min with ties", lambda m, x: m.min(_twice(m, x)), ANY, WIDE),
    _spec("amax", lambda m, x: m.amax(x), ANY, WIDE),
    _spec("amax(dim=(0, 1))", lambda m, x: m.amax(x, (0, 1)), D2, WIDE),
    _spec("amax(dim=-1, keepdim)", lambda m, x: m.amax(x, -1, True), D1, WIDE),
    _spec("amin(dim=1)", lambda m, x: m.amin(x, dim=1), D2, WIDE),
    _spec("x.amin()", lambda m, x: x.amin(), ANY, WIDE),
    _spec("amax with ties", lambda m, x: m.amax(_twice(m, x), 0), D1, WIDE),
    _spec("amin with ties (all dims)", lambda m, x: m.amin(_twice(m, x), (0, 1)), D1, WIDE),
    _spec("amax int", lambda m, x: m.amax(x, 0), D1, INT, **NO_GRAD),
    _spec("argmax", lambda m, x: m.argmax(x), ANY, **NO_GRAD),
    _spec("argmax(keepdim)", lambda m, x: m.argmax(x, keepdim=True), ANY, **NO_GRAD),
    _spec("argmax(dim=1)", lambda m, x: m.argmax(x, 1), D2, **NO_GRAD),
    _spec("argmin(dim=-1, keepdim)", lambda m, x: m.argmin(x, -1, keepdim=True), D1, **NO_GRAD),
    _spec("x.argmin()", lambda m, x: x.argmin(), ANY, **NO_GRAD),
    _spec("argmax int ties", lambda m, x: m.argmax(x, 0), D1, Arg(0, 2, kind="int"), **NO_GRAD),
    # ---- logsumexp ----
    _spec("logsumexp(dim=1)", lambda m, x: m.logsumexp(x, 1), D2),
    _spec("logsumexp(dim=(0, -1), keepdim)", lambda m, x: m.logsumexp(x, (0, -1), True), D2),
    _spec("logsumexp(dim=0) large", lambda m, x: m.logsumexp(x, 0), D1, Arg(80.0, 120.0)),
    _spec("x.logsumexp(-1)", lambda m, x: x.logsumexp(-1), D1),
    _spec("logsumexp int", lambda m, x: m.logsumexp(x, 0), D1, INT, **NO_GRAD),
    # ---- cumsum / cumprod ----
    _spec("cumsum(dim=0)", lambda m, x: m.cumsum(x, 0), D1),
    _spec("cumsum(dim=-1)", lambda m, x: m.cumsum(x, dim=-1), D2),
    _spec("cumsum(0-d)", lambda m, x: m.cumsum(x, 0), fixed(((),))),
    _spec("cumsum(dtype=float64)", lambda m, x: m.cumsum(x, 0, dtype=m.float64), D1),
    _spec("x.cumsum(1) squared", lambda m, x: x.cumsum(1) ** 2, D2),
    _spec("cumsum bool", lambda m, x: m.cumsum(x, 0), D1, BOOL, **NO_GRAD),
    _spec("cumprod(dim=0)", lambda m, x: m.cumprod(x, 0), D1, SMALL),
    _spec("cumprod(dim=-1)", lambda m, x: m.cumprod(x, -1), D2, SMALL),
    _spec("cumprod(0-d)", lambda m, x: m.cumprod(x, 0), fixed(((),))),
    _spec("x.cumprod(1) squared", lambda m, x: x.cumprod(1) ** 2, D2, SMALL),
    _spec("cumprod int", lambda m, x: m.cumprod(x, -1), D1, INT, **NO_GRAD),
    _spec("cumprod with a zero first", lambda m, x: m.cumprod(_with_zero_at(x, 0), -1), D1, SMALL, **ZEROS),
    _spec(
        "cumprod with a zero inside", lambda m, x: m.cumprod(_with_zero_at(x, 1), -1), LANES, SMALL, **ZEROS
    ),
    _spec(
        "cumprod with two zeros",
        lambda m, x: m.cumprod(_with_zero_at(x, 1) * _with_zero_at(x, -1), -1),
        fixed(((4,),), ((2, 3),), ((3, 2, 4),), ((5,),)),
        SMALL,
        **ZEROS,
    ),
    # ---- norm ----
    _spec("norm", lambda m, x: m.norm(x)),
    _spec("x.norm()", lambda m, x: x.norm(), D1),
    _spec("norm(p=2, dim=1)", lambda m, x: m.norm(x, 2, 1), D2),
    _spec("norm(p='fro', dim=(0, 1), keepdim)", lambda m, x: m.norm(x, "fro", (0, 1), True), D2),
    _spec("norm(p=1, dim=-1)", lambda m, x: m.norm(x, p=1, dim=-1), D1, NONZERO),
    _spec("norm(p=3)", lambda m, x: m.norm(x, 3), D1, NONZERO),
    _spec("norm(p=1.5, dim=0)", lambda m, x: m.norm(x, 1.5, 0), D1, NONZERO),
    _spec("norm(p=0.5, dim=-1)", lambda m, x: m.norm(x, 0.5, -1), D1, NONZERO),
    _spec("norm(p=-1)", lambda m, x: m.norm(x, -1), D1, NONZERO),
    _spec("norm(p=inf, dim=1)", lambda m, x: m.norm(x, float("inf"), 1), D2, NONZERO),
    _spec("norm(p=-inf)", lambda m, x: m.norm(x, float("-inf")), D1, NONZERO),
    _spec("norm(p=0)", lambda m, x: m.norm(x, 0, dim=-1) + m.norm(x, 2, dim=-1), D1, NONZERO),
    _spec("norm(dtype=float64)", lambda m, x: m.norm(x, dtype=m.float64), D1),
    _spec("norm(p=None, dim=[0])", lambda m, x: m.norm(x, None, [0]), D1),
    _spec(
        "norm of a zero vector is differentiable",
        lambda m, x: m.norm(x * 0, dim=-1) + m.norm(x, 1, dim=-1),
        D1,
        NONZERO,
        gradgrad=False,
    ),
    # ---- all / any / count_nonzero ----
    _spec("all", lambda m, x: m.all(x), ANY, BOOL, **NO_GRAD),
    _spec("any(dim=0)", lambda m, x: m.any(x, 0), D1, BOOL, **NO_GRAD),
    _spec(
        "all(dim=-1, keepdim) int",
        lambda m, x: m.all(x, -1, keepdim=True),
        D1,
        Arg(0, 2, kind="int"),
        **NO_GRAD,
    ),
    _spec("x.any() int", lambda m, x: x.any(), ANY, Arg(0, 2, kind="int"), **NO_GRAD),
    _spec("all(dim=(0, 1))", lambda m, x: m.all(x, dim=(0, 1)), D2, BOOL, **NO_GRAD),
    _spec("count_nonzero", lambda m, x: m.count_nonzero(x), ANY, Arg(-1, 2, kind="int"), **NO_GRAD),
    _spec("count_nonzero(dim=(0, -1))", lambda m, x: m.count_nonzero(x, (0, -1)), D2, BOOL, **NO_GRAD),
    _spec("x.count_nonzero(0) bool", lambda m, x: x.count_nonzero(0), D1, BOOL, **NO_GRAD),
]
