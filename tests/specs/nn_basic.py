"""nn core ops: softmax/log_softmax, erf/erfc, the fused activations (leaky_relu, elu, gelu, silu,
softplus), linear, and the fused losses (nll_loss, binary_cross_entropy[_with_logits])."""

from __future__ import annotations

from oracle import Arg, OpSpec

from specs.strategies import any_shape, fixed

FLOAT = Arg()
WIDE = Arg(-30.0, 30.0)
PROB = Arg(0.05, 0.95)
UNIT = Arg(0.0, 1.0)
CONST_POSITIVE = Arg(0.5, 2.0, grad=False)  # torch does not differentiate loss weights
D1 = any_shape(min_dims=1)
D2 = any_shape(min_dims=2)
ANY = any_shape()


def _f(m):
    return m.nn.functional


def _spec(name, fn, shapes=ANY, arg=FLOAT, **kw):
    return OpSpec(name, fn, shapes, (arg,), **kw)


def _index(high: int) -> Arg:
    return Arg(0, high, kind="index", grad=False)


def _ignore_ones(m, t):
    """Targets equal to 1 become ignore_index (-100)."""
    return t.masked_fill(t == 1, -100)


LINEAR_SHAPES = fixed(  # (fewer than 64 rows take linear's transposed product; (66, 3) the usual one)
    ((3, 4), (5, 4), (5,)),
    ((4,), (2, 4), (2,)),
    ((2, 3, 4), (5, 4), (5,)),
    ((1, 1), (1, 1), (1,)),
    ((66, 3), (2, 3), (2,)),
)
NLL_2D = fixed(((4, 3), (4,)), ((1, 5), (1,)), ((6, 2), (6,)))
NLL_ND = fixed(((2, 3, 4), (2, 4)), ((2, 3, 2, 2), (2, 2, 2)))

SPECS = [
    # ---- softmax family ----
    _spec("softmax(dim=-1)", lambda m, x: m.softmax(x, -1), D1),
    _spec("softmax(dim=0)", lambda m, x: m.softmax(x, dim=0), D1),
    _spec("softmax 0-d", lambda m, x: m.softmax(x, 0), fixed(((),))),
    _spec("x.softmax(1) wide", lambda m, x: x.softmax(1), D2, WIDE),
    _spec("softmax(dtype=float64)", lambda m, x: m.softmax(x, -1, dtype=m.float64), D1),
    _spec("F.softmax(dim=1)", lambda m, x: _f(m).softmax(x, dim=1), D2),
    _spec("log_softmax(dim=-1)", lambda m, x: m.log_softmax(x, -1), D1),
    _spec("log_softmax(dim=0) wide", lambda m, x: m.log_softmax(x, 0), D1, WIDE),
    _spec("log_softmax 0-d", lambda m, x: m.log_softmax(x, 0), fixed(((),))),
    _spec("x.log_softmax(1)", lambda m, x: x.log_softmax(1), D2),
    _spec("F.softmin(dim=-1)", lambda m, x: _f(m).softmin(x, -1), D1),
    # ---- erf ----
    _spec("erf", lambda m, x: m.erf(x), ANY, Arg(-3.0, 3.0)),
    _spec("erfc", lambda m, x: m.erfc(x), ANY, Arg(-3.0, 3.0)),
    # ---- activations ----
    _spec("F.leaky_relu", lambda m, x: _f(m).leaky_relu(x), ANY, Arg(away_from_zero=0.05)),
    _spec("F.leaky_relu(0.2)", lambda m, x: _f(m).leaky_relu(x, 0.2), ANY, Arg(away_from_zero=0.05)),
    _spec("F.elu", lambda m, x: _f(m).elu(x), ANY, Arg(away_from_zero=0.05)),
    _spec("F.elu(alpha=0.5)", lambda m, x: _f(m).elu(x, alpha=0.5), ANY, Arg(away_from_zero=0.05)),
    _spec("F.selu", lambda m, x: _f(m).selu(x), ANY, Arg(away_from_zero=0.05)),
    _spec("F.celu(alpha=2)", lambda m, x: _f(m).celu(x, alpha=2.0), ANY, Arg(away_from_zero=0.05)),
    _spec("F.gelu", lambda m, x: _f(m).gelu(x), ANY, Arg(-4.0, 4.0)),
    _spec("F.gelu(tanh)", lambda m, x: _f(m).gelu(x, approximate="tanh"), ANY, Arg(-4.0, 4.0)),
    _spec("F.silu", lambda m, x: _f(m).silu(x), ANY, Arg(-6.0, 6.0)),
    _spec("F.mish", lambda m, x: _f(m).mish(x), ANY, Arg(-4.0, 4.0)),
    _spec("F.softplus", lambda m, x: _f(m).softplus(x), ANY, Arg(-5.0, 5.0)),
    _spec(
        "F.softplus(beta=2, threshold=3)",
        lambda m, x: _f(m).softplus(x, beta=2, threshold=3),
        ANY,
        Arg(-3.0, 3.0, away_from_zero=0.05),
    ),
    _spec("F.logsigmoid", lambda m, x: _f(m).logsigmoid(x), ANY, Arg(-5.0, 5.0)),
    _spec("F.softsign", lambda m, x: _f(m).softsign(x), ANY, Arg(away_from_zero=0.05)),
    _spec("F.glu", lambda m, x: _f(m).glu(x, 0), fixed(((4,),), ((2, 3),), ((6, 2),))),
    # ---- linear ----
    OpSpec("F.linear", lambda m, x, w, b: _f(m).linear(x, w, b), LINEAR_SHAPES, (FLOAT, FLOAT, FLOAT)),
    OpSpec(
        "F.linear no bias",
        lambda m, x, w: _f(m).linear(x, w),
        fixed(((3, 4), (5, 4)), ((4,), (2, 4)), ((2, 2, 3), (4, 3)), ((66, 2), (3, 2))),
        (FLOAT, FLOAT),
    ),
    OpSpec(
        "F.linear input only",
        lambda m, x, w: _f(m).linear(x, w),
        fixed(((3, 4), (5, 4))),
        (FLOAT, Arg(grad=False)),
    ),
    OpSpec(
        "F.bilinear",
        lambda m, a, b, w, c: _f(m).bilinear(a, b, w, c),
        fixed(((3, 2), (3, 4), (5, 2, 4), (5,))),
        (FLOAT, FLOAT, FLOAT, FLOAT),
    ),
    # ---- nll / cross-entropy ----
    OpSpec("F.nll_loss", lambda m, x, t: _f(m).nll_loss(x, t), NLL_2D, (FLOAT, _index(2))),
    OpSpec(
        "F.nll_loss sum", lambda m, x, t: _f(m).nll_loss(x, t, reduction="sum"), NLL_2D, (FLOAT, _index(2))
    ),
    OpSpec(
        "F.nll_loss none", lambda m, x, t: _f(m).nll_loss(x, t, reduction="none"), NLL_2D, (FLOAT, _index(2))
    ),
    OpSpec(
        "F.nll_loss weight",
        lambda m, x, t, w: _f(m).nll_loss(x, t, weight=w),
        fixed(((4, 3), (4,), (3,))),
        (FLOAT, _index(3), CONST_POSITIVE),
    ),
    OpSpec(
        "F.nll_loss ignore_index",
        lambda m, x, t: _f(m).nll_loss(x, _ignore_ones(m, t)),
        fixed(((6, 3), (6,))),
        (FLOAT, _index(3)),
    ),
    OpSpec(
        "F.nll_loss unbatched", lambda m, x, t: _f(m).nll_loss(x, t), fixed(((4,), ())), (FLOAT, _index(4))
    ),
    OpSpec("F.nll_loss (N, C, d)", lambda m, x, t: _f(m).nll_loss(x, t), NLL_ND, (FLOAT, _index(3))),
    OpSpec("F.cross_entropy", lambda m, x, t: _f(m).cross_entropy(x, t), NLL_2D, (FLOAT, _index(2))),
    OpSpec(
        "F.cross_entropy (N, C, d) none",
        lambda m, x, t: _f(m).cross_entropy(x, t, reduction="none"),
        NLL_ND,
        (FLOAT, _index(3)),
    ),
    OpSpec(
        "F.cross_entropy label_smoothing weight ignore",
        lambda m, x, t, w: _f(m).cross_entropy(x, _ignore_ones(m, t), weight=w, label_smoothing=0.2),
        fixed(((5, 3), (5,), (3,))),
        (FLOAT, _index(3), CONST_POSITIVE),
    ),
    OpSpec(
        "F.cross_entropy probabilities",
        lambda m, x, p: _f(m).cross_entropy(x, p.softmax(-1), label_smoothing=0.1),
        fixed(((4, 3), (4, 3)), ((3,), (3,))),
        (FLOAT, FLOAT),
    ),
    # ---- binary cross-entropies ----
    OpSpec(
        "F.binary_cross_entropy",
        lambda m, p, t: _f(m).binary_cross_entropy(p, t),
        fixed(((5,), (5,)), ((2, 3), (2, 3)), ((), ())),
        (PROB, UNIT),
    ),
    OpSpec(
        "F.binary_cross_entropy weight none",
        lambda m, p, t, w: _f(m).binary_cross_entropy(p, t, weight=w, reduction="none"),
        fixed(((2, 3), (2, 3), (3,))),
        (PROB, UNIT, CONST_POSITIVE),
    ),
    OpSpec(
        "F.binary_cross_entropy_with_logits",
        lambda m, x, t: _f(m).binary_cross_entropy_with_logits(x, t),
        fixed(((5,), (5,)), ((2, 3), (2, 3)), ((), ())),
        (Arg(-4.0, 4.0), UNIT),
    ),
    OpSpec(
        "F.binary_cross_entropy_with_logits pos_weight weight sum",
        lambda m, x, t, pw, w: _f(m).binary_cross_entropy_with_logits(
            x, t, w, reduction="sum", pos_weight=pw
        ),
        fixed(((4, 3), (4, 3), (3,), (3,))),
        (Arg(-4.0, 4.0), UNIT, CONST_POSITIVE, CONST_POSITIVE),
    ),
]
