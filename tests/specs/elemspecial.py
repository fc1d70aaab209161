"""More element-wise ops and torch.special: values, gradients, second derivatives against torch,
and float64 finite differences."""

from __future__ import annotations

from oracle import Arg, OpSpec

from specs.strategies import any_shape, broadcastable

POS = Arg(0.2, 3.0)
UNIT = Arg(-0.9, 0.9)
PROB = Arg(0.05, 0.95)
NONZERO = Arg(-2.0, 2.0, away_from_zero=0.3)
GT1 = Arg(1.2, 3.0)
NOGRAD = Arg(grad=False)


def _unary(name, arg=Arg(), space=None, **kw):
    def fn(m, x, _n=name):
        return getattr(m.special if space else m, _n)(x)

    return OpSpec(f"{space + '.' if space else ''}{name}", fn, any_shape(), (arg,), **kw)


def _binary(name, a=Arg(), b=Arg(), space=None, **kw):
    def fn(m, x, y, _n=name):
        return getattr(m.special if space else m, _n)(x, y)

    return OpSpec(f"{space + '.' if space else ''}{name}", fn, broadcastable(2), (a, b), **kw)


def _forward_only(name, a, b, space=None):
    """Ops torch defines no derivative for, whose result still requires grad (backward raises):
    the input is made to require grad inside, so that the graph records the op but no gradient
    is asked for (tests/test_elemspecial.py checks that backward raises as torch's)."""

    def fn(m, x, y, _n=name):
        return getattr(m.special if space else m, _n)(x.detach().requires_grad_(), y)

    return OpSpec(f"{name} (forward)", fn, broadcastable(2), (a, b), grad=True, fd=False)


SPECS = [
    _unary("asinh"),
    _unary("acosh", GT1),
    _unary("atanh", UNIT),
    _unary("exp2"),
    _unary("sinc", NONZERO),
    _unary("deg2rad"),
    _unary("rad2deg"),
    _unary("frac", Arg(-3, 3), fd=False),
    _unary("nan_to_num"),
    OpSpec(
        "nan_to_num(log)",
        lambda m, x: m.nan_to_num(m.log(x), nan=1.5, posinf=2.0, neginf=-3.0),
        any_shape(),
        (Arg(-1, 2),),
        fd=False,
    ),
    _unary("logit", PROB),
    OpSpec("logit(eps)", lambda m, x: m.logit(x, eps=0.2), any_shape(), (PROB,), fd=False),
    _unary("lgamma", POS),
    _unary("digamma", POS),
    OpSpec("polygamma(1)", lambda m, x: m.polygamma(1, x), any_shape(), (POS,)),
    OpSpec("polygamma(2) method", lambda m, x: x.polygamma(2), any_shape(), (POS,)),
    OpSpec("mvlgamma(3)", lambda m, x: m.mvlgamma(x, 3), any_shape(), (Arg(1.5, 4),)),
    _unary("erfinv", UNIT),
    _unary("i0"),
    _unary("i0e", NONZERO, "special"),
    _unary("i1", Arg(-3, 3), "special"),
    _unary("i1e", NONZERO, "special"),
    _unary("erfcx", Arg(-1.5, 3), "special"),
    _unary("ndtr", Arg(-3, 3), "special"),
    _unary("ndtri", PROB, "special"),
    _unary("log_ndtr", Arg(-3, 3), "special"),
    _unary("entr", POS, "special"),
    _binary("fmax"),
    _binary("fmin"),
    _binary("logaddexp"),
    _binary("logaddexp2"),
    _binary("xlogy", Arg(), POS),
    _binary("xlog1py", Arg(), Arg(-0.5, 2), "special"),
    _binary("hypot", NONZERO, NONZERO),
    _binary("copysign", NONZERO, NONZERO),
    OpSpec("igamma", lambda m, a, x: m.igamma(a, x), broadcastable(2), (Arg(0.5, 3, grad=False), POS)),
    OpSpec("igammac", lambda m, a, x: m.igammac(a, x), broadcastable(2), (Arg(0.5, 3, grad=False), POS)),
    OpSpec("lerp(number)", lambda m, a, b: m.lerp(a, b, 0.3), broadcastable(2), (Arg(), Arg())),
    OpSpec("lerp(tensor)", lambda m, a, b, w: m.lerp(a, b, w), broadcastable(3), (Arg(), Arg(), Arg())),
    OpSpec(
        "addcmul",
        lambda m, a, b, c: m.addcmul(a, b, c, value=0.5),
        broadcastable(3),
        (Arg(), Arg(), Arg()),
    ),
    OpSpec(
        "addcdiv",
        lambda m, a, b, c: m.addcdiv(a, b, c, value=-2),
        broadcastable(3),
        (Arg(), Arg(), NONZERO),
    ),
    OpSpec(
        "ldexp", lambda m, x, e: m.ldexp(x, e), broadcastable(2), (Arg(), Arg(0, 4, kind="int"))
    ),  # torch: 0 gradient for negative exponents (docs/differences.md)
    OpSpec("frexp", lambda m, x: m.frexp(x), any_shape(), (NONZERO,)),
    OpSpec("rsub", lambda m, x, y: m.rsub(x, y, alpha=2), broadcastable(2), (Arg(), Arg())),
    OpSpec(
        "zeta",
        lambda m, x, q: m.special.zeta(x, q),
        broadcastable(2),
        (Arg(1.5, 4, grad=False), POS),
        grad=False,
    ),
    _forward_only("zeta", Arg(1.5, 4, grad=False), Arg(0.5, 2, grad=False), "special"),
    _forward_only("heaviside", Arg(-1, 1, grad=False), Arg(grad=False)),
    _binary("nextafter", fd=False),
    OpSpec("exp2_ (in place)", lambda m, x: (x * 1).exp2_(), any_shape(), (Arg(),)),
    OpSpec("lgamma_ (in place)", lambda m, x: (x * 1).lgamma_(), any_shape(), (POS,)),
    OpSpec(
        "addcmul_ (in place)",
        lambda m, a, b: (a * 1).addcmul_(b, b, value=2),
        broadcastable(2, max_dims=0),
        (Arg(), Arg()),
    ),
]
