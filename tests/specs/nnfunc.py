"""nn.functional's piecewise activations, margin/likelihood losses, per-sample norms, distances,
embedding_bag and CTC (op ctc_loss): values, gradients, second derivatives and finite differences
against torch. Targets are built inside the call from integer arguments so that both libraries
see the same classes; inputs are drawn away from the kinks (where finite differences straddle a
breakpoint) by the value ranges."""

from __future__ import annotations

from oracle import Arg, OpSpec

from specs.strategies import any_shape, fixed

FLOAT = Arg()
WIDE = Arg(-5.0, 5.0)
POS = Arg(0.5, 2.0)
CONST = Arg(grad=False)
SIGN = Arg(0, 2, kind="int")  # becomes a +-1 target
CLASS = Arg(high=4, kind="index")
ANY = any_shape()
D1 = any_shape(min_dims=1)
NCL = fixed(((2, 3, 4),), ((1, 2, 5),), ((3, 1, 2),))
NO_FD = dict(fd=False)
NO_GRADGRAD = dict(gradgrad=False)  # torch: "derivative for aten::..._backward is not implemented"


def _f(m):
    return m.nn.functional


def _sign(t):
    return t * 2 - 1


def _spec(name, fn, shapes=ANY, args=(FLOAT,), **kw):
    return OpSpec(name, fn, shapes, args, **kw)


def _ctc(m, x, reduction="mean", zero_infinity=False, concatenated=False):
    """CTC on log_softmax of logits ``x`` (T=5, N=2, C=4): fixed targets and lengths."""
    lp = x.log_softmax(2)
    if concatenated:
        targets = m.tensor([1, 2, 2, 3, 1])
    else:
        targets = m.tensor([[1, 2, 2], [3, 1, 0]])
    return _f(m).ctc_loss(
        lp, targets, m.tensor([5, 4]), m.tensor([3, 2]), reduction=reduction, zero_infinity=zero_infinity
    )


def _bag(m, w, mode, **kw):
    idx = m.tensor([1, 2, 4, 5, 4, 3, 2, 0])
    return _f(m).embedding_bag(idx, w, m.tensor([0, 2, 2, 5]), mode=mode, **kw)


SPECS = [
    # ---- piecewise activations ----
    _spec("hardshrink", lambda m, x: m.hardshrink(x), args=(WIDE,)),
    _spec("x.hardshrink(1.5)", lambda m, x: x.hardshrink(1.5) ** 2, args=(WIDE,)),
    _spec("F.softshrink", lambda m, x: _f(m).softshrink(x, 1.0) ** 2, args=(WIDE,)),
    _spec("F.tanhshrink", lambda m, x: _f(m).tanhshrink(x)),
    _spec("threshold", lambda m, x: m.threshold(x, 0.5, -2.0) ** 2),
    _spec("F.threshold", lambda m, x: _f(m).threshold(x, -0.3, 4.0) * x),
    _spec("F.threshold_ on a copy", lambda m, x: _f(m).threshold_(x * 1, 0.2, 0.0) ** 2),
    _spec("F.hardsigmoid", lambda m, x: _f(m).hardsigmoid(x) ** 2, args=(WIDE,), **NO_GRADGRAD),
    _spec("F.hardswish", lambda m, x: _f(m).hardswish(x), args=(WIDE,)),
    _spec("selu", lambda m, x: m.selu(x)),
    _spec("celu(alpha=0.7)", lambda m, x: m.celu(x, 0.7)),
    _spec("selu_ on a copy", lambda m, x: m.selu_(x * 1)),
    _spec("F.celu_ on a copy", lambda m, x: _f(m).celu_(x * 1, 1.5)),
    _spec("F.hardtanh_ on a copy", lambda m, x: _f(m).hardtanh_(x * 1, -0.5, 0.7) ** 2),
    _spec("F.rrelu eval", lambda m, x: _f(m).rrelu(x, 0.1, 0.3) ** 2),
    _spec("rrelu_ eval on a copy", lambda m, x: m.rrelu_(x * 1) ** 2),
    OpSpec(
        "prelu per channel",
        lambda m, x, w: m.prelu(x, w) ** 2,
        fixed(((2, 3), (3,)), ((2, 3, 4), (3,)), ((1, 2, 2, 2), (2,)), ((3,), (1,))),
        (FLOAT, POS),
    ),
    OpSpec("x.prelu(one slope)", lambda m, x, w: x.prelu(w), fixed(((2, 3), (1,)), ((4,), ())), (FLOAT, POS)),
    # ---- distances ----
    OpSpec(
        "F.pairwise_distance",
        lambda m, a, b: _f(m).pairwise_distance(a, b),
        fixed(((3, 4), (3, 4)), ((4,), (4,)), ((2, 3), (3,)), ((2, 1, 3), (2, 3))),
        (FLOAT, FLOAT),
    ),
    OpSpec(
        "F.pairwise_distance(p=1, keepdim)",
        lambda m, a, b: _f(m).pairwise_distance(a, b, 1.0, 1e-3, True),
        fixed(((3, 4), (3, 4))),
        (WIDE, WIDE),
    ),
    OpSpec(
        "F.pairwise_distance(p=3)",
        lambda m, a, b: _f(m).pairwise_distance(a, b, 3),
        fixed(((2, 5), (2, 5))),
        (FLOAT, FLOAT),
    ),
    OpSpec(
        "F.cosine_similarity",
        lambda m, a, b: _f(m).cosine_similarity(a, b),
        fixed(((3, 4), (3, 4)), ((2, 3, 2), (1, 3, 2)), ((4, 2), (2,))),
        (FLOAT, FLOAT),
    ),
    OpSpec(
        "F.cosine_similarity(dim=-1, eps above the norms)",
        lambda m, a, b: _f(m).cosine_similarity(a * 0.01, b, -1, eps=0.5),
        fixed(((3, 4), (3, 4))),
        (FLOAT, FLOAT),
        **NO_FD,  # torch clamps the norms outside autograd: not the true derivative
    ),
    # ---- losses on pairs of scores ----
    OpSpec(
        "F.margin_ranking_loss",
        lambda m, a, b, y: _f(m).margin_ranking_loss(a, b, _sign(y), 0.3),
        fixed(((5,), (5,), (5,)), ((2, 3), (2, 3), (2, 3))),
        (FLOAT, FLOAT, SIGN),
    ),
    OpSpec(
        "F.margin_ranking_loss(sum)",
        lambda m, a, b, y: _f(m).margin_ranking_loss(a, b, _sign(y), reduction="sum"),
        fixed(((6,), (6,), (6,))),
        (FLOAT, FLOAT, SIGN),
    ),
    OpSpec(
        "F.hinge_embedding_loss",
        lambda m, x, y: _f(m).hinge_embedding_loss(x, _sign(y).double(), 1.5, reduction="none"),
        fixed(((3, 4), (3, 4)), ((5,), (5,))),
        (FLOAT, SIGN),
    ),
    OpSpec(
        "F.soft_margin_loss",
        lambda m, x, y: _f(m).soft_margin_loss(x, _sign(y).to(x.dtype)),
        fixed(((3, 4), (3, 4)), ((5,), (5,))),
        (FLOAT, SIGN),
    ),
    OpSpec(
        "F.multilabel_soft_margin_loss",
        lambda m, x, y, w: _f(m).multilabel_soft_margin_loss(x, y.to(x.dtype), w),
        fixed(((3, 4), (3, 4), (4,))),
        (FLOAT, Arg(0, 2, kind="int"), POS),
    ),
    OpSpec(
        "F.multi_margin_loss",
        lambda m, x, y: _f(m).multi_margin_loss(x, y),
        fixed(((3, 4), (3,)), ((5, 4), (5,))),
        (FLOAT, CLASS),
        **NO_GRADGRAD,
    ),
    OpSpec(
        "F.multi_margin_loss(p=2, margin, weight, none)",
        lambda m, x, y, w: _f(m).multi_margin_loss(x, y, 2, 0.7, w.detach(), reduction="none"),
        fixed(((3, 4), (3,), (4,))),
        (FLOAT, CLASS, Arg(0.5, 2.0, grad=False)),
        **NO_GRADGRAD,
    ),
    OpSpec(
        "F.multilabel_margin_loss",
        lambda m, x: _f(m).multilabel_margin_loss(x, m.tensor([[3, 0, -1, 1], [1, 2, 3, -1], [-1, 0, 0, 0]])),
        fixed(((3, 4),)),
        (WIDE,),
        **NO_GRADGRAD,
    ),
    OpSpec(
        "F.cosine_embedding_loss",
        lambda m, a, b, y: _f(m).cosine_embedding_loss(a, b, _sign(y), 0.2),
        fixed(((4, 3), (4, 3), (4,)), ((5,), (5,), ())),
        (FLOAT, FLOAT, SIGN),
    ),
    OpSpec(
        "F.triplet_margin_loss",
        lambda m, a, p, n: _f(m).triplet_margin_loss(a, p, n),
        fixed(((4, 3), (4, 3), (4, 3)), ((3,), (3,), (3,))),
        (FLOAT, FLOAT, FLOAT),
    ),
    OpSpec(
        "F.triplet_margin_loss(p=1, swap, none)",
        lambda m, a, p, n: _f(m).triplet_margin_loss(a, p, n, 2.0, 1, swap=True, reduction="none"),
        fixed(((4, 3), (4, 3), (4, 3))),
        (FLOAT, FLOAT, FLOAT),
    ),
    OpSpec(
        "F.triplet_margin_with_distance_loss(cosine, swap)",
        lambda m, a, p, n: _f(m).triplet_margin_with_distance_loss(
            a, p, n, distance_function=lambda x, y: 1 - _f(m).cosine_similarity(x, y), swap=True, margin=0.5
        ),
        fixed(((4, 3), (4, 3), (4, 3))),
        (FLOAT, FLOAT, FLOAT),
    ),
    # ---- likelihood losses ----
    OpSpec(
        "F.poisson_nll_loss",
        lambda m, x, t: _f(m).poisson_nll_loss(x, t),
        fixed(((3, 4), (3, 4))),
        (FLOAT, Arg(0.0, 4.0)),
    ),
    OpSpec(
        "F.poisson_nll_loss(rates, full, none)",
        lambda m, x, t: _f(m).poisson_nll_loss(x, t, False, True, reduction="none"),
        fixed(((3, 4), (3, 4))),
        (POS, Arg(0.0, 4.0)),
    ),
    OpSpec(
        "F.gaussian_nll_loss",
        lambda m, x, t, v: _f(m).gaussian_nll_loss(x, t, v),
        fixed(((3, 4), (3, 4), (3, 4)), ((3, 4), (3, 4), (3,)), ((3, 4), (3, 4), (3, 1))),
        (FLOAT, FLOAT, POS),
    ),
    OpSpec(
        "F.gaussian_nll_loss(full, sum, var below eps)",
        lambda m, x, t, v: _f(m).gaussian_nll_loss(x, t, v * 1e-3, full=True, eps=1e-2, reduction="sum"),
        fixed(((3, 2), (3, 2), (3, 2))),
        (FLOAT, FLOAT, POS),
        **NO_FD,
    ),
    # ---- CTC (torch has no second derivative) ----
    OpSpec("F.ctc_loss", lambda m, x: _ctc(m, x), fixed(((5, 2, 4),)), (FLOAT,), gradgrad=False),
    OpSpec(
        "F.ctc_loss(none, concatenated targets)",
        lambda m, x: _ctc(m, x, "none", concatenated=True),
        fixed(((5, 2, 4),)),
        (FLOAT,),
        gradgrad=False,
    ),
    OpSpec(
        "F.ctc_loss(sum) of log_probs directly",
        lambda m, x: _f(m).ctc_loss(x, m.tensor([[1, 1], [2, 3]]), (4, 3), (2, 2), blank=0, reduction="sum"),
        fixed(((4, 2, 4),)),
        (Arg(-3.0, -0.1),),
        gradgrad=False,
        fd=False,  # torch's gradient is the one through a log_softmax, not d/dlog_probs
    ),
    # ---- per-sample normalizations ----
    OpSpec(
        "F.instance_norm",
        lambda m, x, w, b: _f(m).instance_norm(x, weight=w, bias=b),
        fixed(((2, 3, 4), (3,), (3,)), ((1, 2, 3, 2), (2,), (2,))),
        (FLOAT, POS, FLOAT),
    ),
    OpSpec("F.instance_norm no affine", lambda m, x: _f(m).instance_norm(x, eps=0.1), NCL, (FLOAT,)),
    OpSpec(
        "F.rms_norm",
        lambda m, x, w: _f(m).rms_norm(x, (x.shape[-1],), w),
        fixed(((3, 4), (4,)), ((2, 3, 2), (2,)), ((5,), (5,))),
        (FLOAT, POS),
    ),
    OpSpec("F.rms_norm(2 dims, eps)", lambda m, x: _f(m).rms_norm(x, x.shape[-2:], eps=0.1), NCL, (FLOAT,)),
    OpSpec("F.local_response_norm(3)", lambda m, x: _f(m).local_response_norm(x, 3, 0.5), NCL, (FLOAT,)),
    OpSpec(
        "F.local_response_norm(4) 4-d",
        lambda m, x: _f(m).local_response_norm(x, 4, 0.3, 0.5, 2.0),
        fixed(((2, 5, 2, 2),)),
        (FLOAT,),
    ),
    # ---- embedding_bag ----
    OpSpec("F.embedding_bag(sum)", lambda m, w: _bag(m, w, "sum"), fixed(((6, 3),)), (FLOAT,)),
    OpSpec(
        "F.embedding_bag(mean, padding_idx)",
        lambda m, w: _bag(m, w, "mean", padding_idx=2),
        fixed(((6, 3),)),
        (FLOAT,),
    ),
    OpSpec("F.embedding_bag(max)", lambda m, w: _bag(m, w, "max"), fixed(((6, 3),)), (WIDE,)),
    OpSpec(
        "F.embedding_bag(2-d, per_sample_weights)",
        lambda m, w, p: _f(m).embedding_bag(
            m.tensor([[0, 2], [3, 3], [1, 0]]), w, mode="sum", per_sample_weights=p
        ),
        fixed(((4, 2), (3, 2))),
        (FLOAT, FLOAT),
        **NO_GRADGRAD,
    ),
    OpSpec(
        "F.embedding_bag(include_last_offset)",
        lambda m, w: _f(m).embedding_bag(
            m.tensor([1, 2, 4, 0]), w, m.tensor([0, 1, 1, 4]), include_last_offset=True
        ),
        fixed(((5, 2),)),
        (FLOAT,),
    ),
]
