"""Element-wise ops: unary math, binary arithmetic with broadcasting, selection, comparisons."""

from __future__ import annotations

from oracle import Arg, OpSpec

from specs.strategies import any_shape, broadcastable, fixed

POS = Arg(0.2, 3.0)  # strictly positive: log, sqrt ...
UNIT = Arg(-0.9, 0.9)  # inside (-1, 1): asin, acos
NONZERO = Arg(-2.0, 2.0, away_from_zero=0.3)


def _unary(name, arg=Arg(), **kw):
    return OpSpec(name, lambda m, x, _n=name: getattr(m, _n)(x), any_shape(), (arg,), **kw)


def _method(name, arg=Arg(), **kw):
    return OpSpec(name + " (method)", lambda m, x, _n=name: getattr(x, _n)(), any_shape(), (arg,), **kw)


def _binary(name, a=Arg(), b=Arg(), **kw):
    return OpSpec(name, lambda m, x, y, _n=name: getattr(m, _n)(x, y), broadcastable(2), (a, b), **kw)


STEP = dict(gradgrad=True, fd=False)  # piecewise constant: zero gradient, FD would see the jumps

SPECS = [
    _unary("exp"),
    _unary("expm1"),
    _unary("log", POS),
    _unary("log1p", Arg(-0.5, 2.0)),
    _unary("log2", POS),
    _unary("log10", POS),
    _unary("sin"),
    _unary("cos"),
    _unary("tan", Arg(-1.2, 1.2)),
    _unary("asin", UNIT),
    _unary("acos", UNIT),
    _unary("atan"),
    _unary("sinh"),
    _unary("cosh"),
    _unary("tanh"),
    _unary("sigmoid", Arg(-6, 6)),
    _unary("relu", NONZERO),
    _unary("abs", NONZERO),
    _unary("sqrt", POS),
    _unary("rsqrt", POS),
    _unary("square"),
    _unary("reciprocal", NONZERO),
    _unary("neg"),
    _unary("sign", NONZERO, **STEP),
    _unary("floor", **STEP),
    _unary("ceil", **STEP),
    _unary("round", **STEP),
    _unary("trunc", **STEP),
    _method("exp"),
    _method("sigmoid"),
    _method("relu", NONZERO),
    OpSpec("round(decimals=1)", lambda m, x: m.round(x, decimals=1), any_shape(), **STEP),
    OpSpec("-x", lambda m, x: -x, any_shape()),
    OpSpec("abs()", lambda m, x: abs(x), any_shape(), (NONZERO,)),
    _binary("add"),
    _binary("sub"),
    _binary("mul"),
    _binary("div", Arg(), NONZERO),
    _binary("maximum"),
    _binary("minimum"),
    _binary("atan2", Arg(), NONZERO),
    _binary("pow", POS, Arg(-2, 2)),
    _binary("remainder", Arg(-5, 5), Arg(0.5, 2.0), fd=False),
    _binary("fmod", Arg(-5, 5), Arg(0.5, 2.0), fd=False),
    _binary("floor_divide", Arg(-5, 5), Arg(0.5, 2.0), fd=False, gradgrad=False, grad=False),
    OpSpec("x + y * 2 - 1 / y", lambda m, x, y: x + y * 2 - 1 / y, broadcastable(2), (Arg(), NONZERO)),
    OpSpec("add(alpha=2.5)", lambda m, x, y: m.add(x, y, alpha=2.5), broadcastable(2), (Arg(), Arg())),
    OpSpec("sub(alpha=0.5)", lambda m, x, y: m.sub(x, y, alpha=0.5), broadcastable(2), (Arg(), Arg())),
    OpSpec("x ** 3", lambda m, x: x**3, any_shape()),
    OpSpec("x ** 0.5", lambda m, x: x**0.5, any_shape(), (POS,)),
    OpSpec("2 ** x", lambda m, x: 2**x, any_shape()),
    OpSpec("pow(x, 2)", lambda m, x: m.pow(x, 2), any_shape()),
    OpSpec("3 - x", lambda m, x: 3 - x, any_shape()),
    OpSpec("x - 1.5", lambda m, x: x - 1.5, any_shape()),
    OpSpec("1 / x", lambda m, x: 1 / x, any_shape(), (NONZERO,)),
    OpSpec("x % 1.5", lambda m, x: x % 1.5, any_shape(), fd=False),
    OpSpec("x // 0.7", lambda m, x: x // 0.7, any_shape(), grad=False),
    OpSpec("clamp", lambda m, x: m.clamp(x, -0.5, 0.7), any_shape(), (NONZERO,)),
    OpSpec("clamp(min)", lambda m, x: m.clamp(x, min=0.1), any_shape(), (NONZERO,)),
    OpSpec("clip(max)", lambda m, x: m.clip(x, max=0.3), any_shape(), (NONZERO,)),
    OpSpec(
        "clamp(tensors)",
        lambda m, x, lo, hi: m.clamp(x, lo, hi + 1),
        fixed(((2, 3), (3,), (2, 1)), ((4,), (4,), (1,)), ((2, 2), (2, 2), (2, 2))),
        (Arg(), Arg(-1, 0), Arg(0, 1)),
    ),
    OpSpec("where", lambda m, c, x, y: m.where(c, x, y), broadcastable(3), (Arg(kind="bool"), Arg(), Arg())),
    OpSpec("where(scalar)", lambda m, c, x: m.where(c, x, 0.0), broadcastable(2), (Arg(kind="bool"), Arg())),
    OpSpec("x * (x > 0)", lambda m, x: x * (x > 0), any_shape(), (NONZERO,)),
    OpSpec("int tensor * float", lambda m, i: i * 1.5, any_shape(), (Arg(-5, 5, kind="int"),), grad=False),
    OpSpec(
        "int / int",
        lambda m, i, j: i / j,
        broadcastable(2),
        (Arg(-5, 5, kind="int"), Arg(1, 5, kind="int")),
        grad=False,
    ),
    OpSpec(
        "bool + int",
        lambda m, b, i: b + i,
        broadcastable(2),
        (Arg(kind="bool"), Arg(-5, 5, kind="int")),
        grad=False,
    ),
    OpSpec(
        "float32 tensor + float64 0-d", lambda m, x: x + m.tensor(2.0, dtype=m.float64), any_shape(min_dims=1)
    ),
    OpSpec("sin of int tensor", lambda m, i: m.sin(i), any_shape(), (Arg(-5, 5, kind="int"),), grad=False),
]

for _cmp in ("eq", "ne", "lt", "le", "gt", "ge"):
    SPECS.append(
        OpSpec(
            _cmp,
            lambda m, x, y, _n=_cmp: getattr(m, _n)(x, y),
            broadcastable(2),
            (Arg(-2, 2, kind="int"), Arg(-2, 2, kind="int")),
            grad=False,
        )
    )
for _log in ("logical_and", "logical_or", "logical_xor"):
    SPECS.append(
        OpSpec(
            _log,
            lambda m, x, y, _n=_log: getattr(m, _n)(x, y),
            broadcastable(2),
            (Arg(kind="bool"), Arg(kind="bool")),
            grad=False,
        )
    )
SPECS.append(
    OpSpec("logical_not", lambda m, x: m.logical_not(x), any_shape(), (Arg(kind="bool"),), grad=False)
)
SPECS.append(
    OpSpec(
        "~ & | ^",
        lambda m, x, y: ((~x) & y) | (x ^ y),
        broadcastable(2),
        (Arg(kind="bool"), Arg(kind="bool")),
        grad=False,
    )
)
