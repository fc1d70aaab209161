"""The nnfunc area's entries of the api sweep (tests/test_api_coverage.py): nn.functional's piecewise
activations, margin and likelihood losses, per-sample norms, channel dropouts, distances,
embedding_bag, gumbel_softmax, and torch's top-level (ATen-signature) forms of nn functions.

Random functions are called in evaluation mode for values, and in training for shapes and dtypes
(``values=False``); their statistics are tested in tests/nn/test_nnfunc.py."""

from __future__ import annotations

from api_cases import FLOAT, M34, POS, Case, add, both, custom, errors, inplace, unary
from oracle import Arg

WIDE = Arg(-4.0, 4.0)
SIGN = Arg(0, 2, kind="int")
CLASS = Arg(high=4, kind="index")
NCL = (2, 3, 4)
CONST = Arg(grad=False)


def _sign(y):
    return y * 2 - 1


# ---- activations --------------------------------------------------------------------------------
add(custom(lambda f, m, x: (f(x), f(x, 1.5), f(x, lambd=0.1)), args=(WIDE,)), *both("hardshrink"))
add(custom(lambda f, m, x: (f(x), f(x, 1.5), f(x, lambd=0.0)), args=(WIDE,)), "F.hardshrink", "F.softshrink")
add(unary(WIDE), "F.tanhshrink", "F.hardsigmoid", "F.hardswish", "chainrule.selu")
add(custom(lambda f, m, x: (f(x, inplace=False), f(x * 1, inplace=True)), args=(WIDE,)), "F.hardsigmoid")
add(custom(lambda f, m, x: (f(x, inplace=False), f(x * 1, inplace=True)), args=(WIDE,)), "F.hardswish")
add(custom(lambda f, m, x: (f(x), f(x, 0.5), f(x, alpha=2.0))), "chainrule.celu")
add(inplace(FLOAT), "chainrule.selu_", "F.selu_", "chainrule.celu_", "F.celu_", "F.hardtanh_")
add(custom(lambda f, m, x: (f(x * 1, 0.5), f(x * 1, alpha=2.0))), "chainrule.celu_", "F.celu_")
add(custom(lambda f, m, x: (f(x * 1, -0.5, 0.5), f(x * 1, min_val=0.0))), "F.hardtanh_")
add(custom(lambda f, m, x: (f(x, 0.2, -1.0), f(x, threshold=-0.5, value=3.0))), "chainrule.threshold")
add(custom(lambda f, m, x: (f(x, 0.2, -1.0), f(x * 1, 0.1, 0.0, True))), "F.threshold")
add(custom(lambda f, m, x: f(x * 1, 0.2, -1.0)), "chainrule.threshold_", "F.threshold_")
add(
    custom(lambda f, m, x: (f(x), f(x, 0.1, 0.2), f(x, training=False))),
    "chainrule.rrelu",
    "F.rrelu",
)
add(custom(lambda f, m, x: (f(x * 1), f(x * 1, 0.1, 0.2))), "chainrule.rrelu_", "F.rrelu_")
add(
    Case(
        lambda f, m, x: (f(x, 0.1, 0.3, True), f(x, training=True)),
        (M34,),
        (FLOAT,),
        values=False,
        grad=False,
    ),
    "chainrule.rrelu",
    "F.rrelu",
)
add(
    custom(lambda f, m, x, w, v: (f(x, w), f(x, v)), ((2, 3, 4), (3,), (1,)), (FLOAT, POS, POS)),
    "chainrule.prelu",
    "F.prelu",
    "Tensor.prelu",
)
add(
    errors(lambda f, m, x: f(x, x[0, :2]), lambda f, m, x: f(x, x[:1, :1])),
    "chainrule.prelu",
    "F.prelu",
)
add(
    errors(lambda f, m, x: f(x.long()), lambda f, m, x: f(x.bool())),
    "chainrule.hardshrink",
    "F.hardshrink",
    "F.softshrink",
    "F.hardsigmoid",
    "F.hardswish",
    "F.rrelu",
)
add(errors(lambda f, m, x: f(x, -1.0)), "F.softshrink")
add(errors(lambda f, m, x: f(x, 0.5, 0.2)), "F.rrelu")
add(custom(lambda f, m, x: (f(x.float()), f(x[:0]), f(x[0, 0])), grad=False), "F.hardswish", "F.tanhshrink")

# ---- gumbel softmax: random (shapes, dtypes, one-hot rows) --------------------------------------
add(
    Case(
        lambda f, m, x: (f(x), f(x, 0.5, dim=0), f(x, hard=True)), (M34,), (FLOAT,), values=False, grad=False
    ),
    "F.gumbel_softmax",
)
add(
    custom(lambda f, m, x: (f(x, hard=True).sum(-1), f(x, hard=True).max(-1).values), grad=False),
    "F.gumbel_softmax",
)

# ---- distances ----------------------------------------------------------------------------------
add(
    custom(
        lambda f, m, a, b: (f(a, b), f(a, b, 1), f(a, b, 3.0, 1e-3, True), f(a[0], b[0]), f(a, b[1])),
        (M34, M34),
    ),
    "F.pairwise_distance",
    "chainrule.pairwise_distance",
)
add(
    custom(
        lambda f, m, a, b: (f(a, b), f(a, b, 0), f(a, b, dim=-1, eps=0.1), f(a, b[:1]), f(a * 1e-9, b)),
        (M34, M34),
    ),
    "F.cosine_similarity",
    "chainrule.cosine_similarity",
)
add(
    errors(lambda f, m, x: f(x, x[:2])),
    "F.cosine_similarity",
)

# ---- margin losses ------------------------------------------------------------------------------
_REDUCTIONS = ("mean", "sum", "none")
add(
    custom(
        lambda f, m, a, b, y: tuple(f(a, b, _sign(y), 0.2, reduction=r) for r in _REDUCTIONS),
        (M34, M34, M34),
        (FLOAT, FLOAT, SIGN),
    ),
    "F.margin_ranking_loss",
)
add(
    custom(
        lambda f, m, a, b, y: (f(a, b, _sign(y)), f(a, b, _sign(y), 0.3, 0), f(a, b, _sign(y), 0.0, 2)),
        (M34, M34, M34),
        (FLOAT, FLOAT, SIGN),
    ),
    "chainrule.margin_ranking_loss",
)
add(
    custom(lambda f, m, a, b, y: f(a, b[0], _sign(y)), (M34, M34, M34), (FLOAT, FLOAT, SIGN), raises=True),
    "F.margin_ranking_loss",
)
add(
    custom(
        lambda f, m, x, y: tuple(f(x, _sign(y).double(), 0.5, reduction=r) for r in _REDUCTIONS),
        (M34, M34),
        (FLOAT, SIGN),
    ),
    "F.hinge_embedding_loss",
)
add(
    custom(
        lambda f, m, x, y: (f(x, _sign(y)), f(x, _sign(y), 2.0, 0)),
        (M34, M34),
        (FLOAT, SIGN),
    ),
    "chainrule.hinge_embedding_loss",
)
add(
    custom(
        lambda f, m, x, y: tuple(f(x, _sign(y).double(), reduction=r) for r in _REDUCTIONS),
        (M34, M34),
        (FLOAT, SIGN),
    ),
    "F.soft_margin_loss",
)
add(
    custom(
        lambda f, m, x, y, w: (
            f(x, y.double()),
            f(x, y.double(), w, reduction="sum"),
            f(x, y.double(), reduction="none"),
        ),
        (M34, M34, (4,)),
        (FLOAT, Arg(0, 2, kind="int"), Arg(0.5, 2.0, grad=False)),
    ),
    "F.multilabel_soft_margin_loss",
)
add(
    custom(
        lambda f, m, x, y, w: (
            f(x, y),
            f(x, y, 2, 0.5, reduction="none"),
            f(x, y, weight=w, reduction="sum"),
            f(x[0], y[0]),
        ),
        (M34, (3,), (4,)),
        (FLOAT, CLASS, Arg(0.5, 2.0, grad=False)),
    ),
    "F.multi_margin_loss",
)
add(
    errors(
        lambda f, m, x: f(x, m.tensor([0, 1, 2]), p=3),
        lambda f, m, x: f(x, m.tensor([0, 1])),
        lambda f, m, x: f(x, m.tensor([0, 1, 2]), weight=x),
    ),
    "F.multi_margin_loss",
)
add(
    custom(
        lambda f, m, x: (
            f(x, m.tensor([[3, 0, -1, 1], [1, 2, 3, -1], [-1, 0, 0, 0]])),
            f(x, m.tensor([[0, 0, 1, -1], [2, -1, 1, 1], [0, 1, 2, 3]]), reduction="none"),
            f(x[0], m.tensor([1, -1, 0, 0]), reduction="sum"),
        ),
        args=(WIDE,),
    ),
    "F.multilabel_margin_loss",
)
add(errors(lambda f, m, x: f(x, m.tensor([0, 1, 2]))), "F.multilabel_margin_loss")
add(
    custom(
        lambda f, m, a, b, y: (
            f(a, b, _sign(y)),
            f(a, b, _sign(y), 0.3, reduction="none"),
            f(a[0], b[0], _sign(y)[0], reduction="sum"),
        ),
        (M34, M34, (3,)),
        (FLOAT, FLOAT, SIGN),
    ),
    "F.cosine_embedding_loss",
)
add(
    custom(
        lambda f, m, a, b, y: (f(a, b, _sign(y)), f(a, b, _sign(y), 0.5, 2)),
        (M34, M34, (3,)),
        (FLOAT, FLOAT, SIGN),
    ),
    "chainrule.cosine_embedding_loss",
)
add(
    errors(lambda f, m, x: f(x, x, m.ones(3, 4)), lambda f, m, x: f(x, x[:2], m.ones(3))),
    "F.cosine_embedding_loss",
)
add(
    custom(
        lambda f, m, a, p, n: (
            f(a, p, n),
            f(a, p, n, 0.5, 1, 1e-3, True, reduction="none"),
            f(a[0], p[0], n[0], reduction="sum"),
        ),
        (M34, M34, M34),
    ),
    "F.triplet_margin_loss",
)
add(
    custom(lambda f, m, a, p, n: (f(a, p, n), f(a, p, n, 2.0, 1, 1e-6, True, 0)), (M34, M34, M34)),
    "chainrule.triplet_margin_loss",
)
add(
    errors(lambda f, m, x: f(x, x, x, margin=0.0), lambda f, m, x: f(x, x, x[0])),
    "F.triplet_margin_loss",
    "F.triplet_margin_with_distance_loss",
)
add(
    custom(
        lambda f, m, a, p, n: (
            f(a, p, n),
            f(a, p, n, distance_function=lambda x, y: (x - y).abs().sum(-1), margin=2.0, swap=True),
            f(a, p, n, reduction="none"),
        ),
        (M34, M34, M34),
    ),
    "F.triplet_margin_with_distance_loss",
)

# ---- likelihood losses --------------------------------------------------------------------------
add(
    custom(
        lambda f, m, x, t: (
            f(x, t),
            f(x.exp(), t, False, True, reduction="none"),
            f(x, t, full=True, reduction="sum"),
            f(x.exp(), t, log_input=False, eps=0.1),
        ),
        (M34, M34),
        (FLOAT, Arg(0.0, 4.0)),
    ),
    "F.poisson_nll_loss",
)
add(
    custom(
        lambda f, m, x, t: (f(x, t, True, False, 1e-8, 1), f(x.exp(), t, False, True, 0.1, 0)), (M34, M34)
    ),
    "chainrule.poisson_nll_loss",
)
add(
    custom(
        lambda f, m, x, t, v: (
            f(x, t, v),
            f(x, t, v[:, 0], full=True, reduction="sum"),
            f(x, t, v[:, :1], eps=0.7, reduction="none"),
            f(x, t, 0.5),
        ),
        (M34, M34, M34),
        (FLOAT, FLOAT, POS),
    ),
    "F.gaussian_nll_loss",
)
add(
    errors(
        lambda f, m, x: f(x, x, -x.abs()),
        lambda f, m, x: f(x, x, x.abs()[:2]),
        lambda f, m, x: f(x, x, -1.0),
        lambda f, m, x: f(x, x, x.abs(), reduction="avg"),
    ),
    "F.gaussian_nll_loss",
)


def _ctc_call(f, m, x, **kw):
    return f(x.log_softmax(2), m.tensor([[1, 2, 2], [3, 1, 0]]), m.tensor([5, 4]), m.tensor([3, 2]), **kw)


add(
    custom(
        lambda f, m, x: (
            _ctc_call(f, m, x),
            _ctc_call(f, m, x, reduction="none", blank=0),
            _ctc_call(f, m, x, reduction="sum", zero_infinity=True),
            f(x.log_softmax(2), m.tensor([1, 1, 1, 1, 2]), (2, 4), (2, 3), reduction="none"),
            f(
                x.log_softmax(2),
                m.tensor([1, 1, 1, 1, 2]),
                (2, 4),
                (2, 3),
                reduction="none",
                zero_infinity=True,
            ),
            f(x[:, 0].log_softmax(1), m.tensor([1, 2]), m.tensor(5), m.tensor(2)),
        ),
        ((5, 2, 4),),
    ),
    "F.ctc_loss",
)
add(
    custom(lambda f, m, x: (_ctc_call(f, m, x), _ctc_call(f, m, x, blank=0, reduction=2)), ((5, 2, 4),)),
    "chainrule.ctc_loss",
)
add(
    errors(
        lambda f, m, x: f(x, m.tensor([[1, 1]]), m.tensor([3, 3, 3]), m.tensor([2, 2, 2])),
        lambda f, m, x: f(x, m.tensor([[1, 1]] * 3), m.tensor([9, 3, 3]), m.tensor([2, 2, 2])),
        lambda f, m, x: f(x, m.tensor([[1, 1]] * 3), m.tensor([3, 3, 3]), m.tensor([3, 2, 2])),
        lambda f, m, x: f(x, m.tensor([[1, 1]] * 3), m.tensor([3, 3, 3]), m.tensor([2, 2, 2]), blank=4),
        lambda f, m, x: f(x, m.tensor([[1, 1]] * 3), m.tensor([3]), m.tensor([2, 2, 2])),
        lambda f, m, x: f(x, m.tensor([[1, 1]] * 3), m.tensor([3, 3, 3]), m.tensor([2, -1, 2])),
    ),
    "F.ctc_loss",
)

# ---- normalizations -----------------------------------------------------------------------------
add(
    custom(
        lambda f, m, x, w, b: (f(x), f(x, weight=w, bias=b), f(x, eps=0.1), f(x[:, :, :1].expand(2, 3, 4))),
        (NCL, (3,), (3,)),
        (FLOAT, POS, FLOAT),
    ),
    "F.instance_norm",
)
add(
    custom(
        lambda f, m, x, w, b: _instance_running(f, m, x, w, b),
        (NCL, (3,), (3,)),
        (FLOAT, POS, FLOAT),
    ),
    "F.instance_norm",
)


def _instance_running(f, m, x, w, b):
    """instance_norm updating running statistics, then normalising with them."""
    mean, var = m.zeros(3, dtype=x.dtype), m.ones(3, dtype=x.dtype)
    y = f(x, mean, var, w, b, True, 0.3)
    z = f(x, mean, var, w, b, use_input_stats=False)
    return y, z, mean, var


add(errors(lambda f, m, x: f(x[:, :, :1]), lambda f, m, x: f(x[0, 0])), "F.instance_norm")
add(
    custom(
        lambda f, m, x, w, b: (
            f(x, w, b, None, None, True, 0.1, 1e-5, False),
            f(x, None, None, m.zeros(3, dtype=x.dtype), m.ones(3, dtype=x.dtype), False, 0.1, 1e-5, False),
        ),
        (NCL, (3,), (3,)),
        (FLOAT, POS, FLOAT),
    ),
    "chainrule.instance_norm",
)
add(
    custom(
        lambda f, m, x, w: (f(x, (4,), w), f(x, (3, 4)), f(x, [4], eps=0.5), f(x.float(), (4,))),
        (NCL, (4,)),
        (FLOAT, POS),
    ),
    "F.rms_norm",
    "chainrule.rms_norm",
)
add(errors(lambda f, m, x: f(x, (3,)), lambda f, m, x: f(x, (4,), m.ones(3, dtype=x.dtype))), "F.rms_norm")
add(
    custom(
        lambda f, m, x: (f(x, 3), f(x, 2, 0.5, 0.5, 2.0), f(x.reshape(2, 3, 2, 2), 4, 0.3), f(x[:0], 3)),
        (NCL,),
    ),
    "F.local_response_norm",
)
add(errors(lambda f, m, x: f(x, 2)), "F.local_response_norm")
add(
    custom(
        lambda f, m, x, w, b: (
            f(x, w, b, None, None, True, 0.1, 1e-5, False),
            f(x, None, None, w.detach(), b.detach().abs() + 0.5, False, 0.1, 1e-5, False),
        ),
        (NCL, (3,), (3,)),
        (FLOAT, POS, FLOAT),
    ),
    "chainrule.batch_norm",
)
add(
    custom(
        lambda f, m, x, w, b: (f(x, (4,), w, b), f(x, [3, 4]), f(x, (4,), w, b, 0.1, False)),
        (NCL, (4,), (4,)),
    ),
    "chainrule.layer_norm",
)
add(
    custom(
        lambda f, m, x, w, b: (f(x, 3, w, b), f(x, 1), f(x, 3, w, b, 0.1, False)), ((2, 6, 2), (6,), (6,))
    ),
    "chainrule.group_norm",
)

# ---- dropouts -----------------------------------------------------------------------------------
add(
    custom(lambda f, m, x: (f(x, 0.5, training=False), f(x, 0.0), f(x, 1.0))),
    "F.alpha_dropout",
    "F.feature_alpha_dropout",
)
add(
    custom(lambda f, m, x: (f(x, training=False), f(x, 0.0), f(x, 1.0)), ((2, 3, 4),)),
    "F.dropout1d",
)
add(
    custom(lambda f, m, x: (f(x, training=False), f(x, 0.0), f(x, 1.0)), ((2, 3, 4, 2),)),
    "F.dropout2d",
)
add(
    custom(lambda f, m, x: (f(x, training=False), f(x, 0.0), f(x, 1.0)), ((2, 3, 2, 2, 2),)),
    "F.dropout3d",
)
add(
    Case(
        lambda f, m, x: (f(x, 0.3, True), f(x[0], 0.5, True), f(x * 1, 0.2, True, True)),
        ((2, 3, 4),),
        (FLOAT,),
        values=False,
        grad=False,
    ),
    "F.dropout1d",
)
add(
    Case(
        lambda f, m, x: (f(x, 0.3, True), f(x * 1, 0.2, True, True)),
        ((2, 3, 4, 2),),
        (FLOAT,),
        values=False,
        grad=False,
    ),
    "F.dropout2d",
)
add(
    Case(
        lambda f, m, x: (f(x, 0.3, True), f(x[0], 0.5, True)),
        ((2, 3, 2, 2, 2),),
        (FLOAT,),
        values=False,
        grad=False,
    ),
    "F.dropout3d",
)
add(
    Case(
        lambda f, m, x: (f(x, 0.3, True), f(x * 1, 0.2, True, True)),
        ((2, 3, 4),),
        (FLOAT,),
        values=False,
        grad=False,
    ),
    "F.alpha_dropout",
    "F.feature_alpha_dropout",
)
add(
    errors(lambda f, m, x: f(x, 1.5), lambda f, m, x: f(x, -0.1)),
    "F.alpha_dropout",
    "F.feature_alpha_dropout",
    "F.dropout1d",
    "F.dropout2d",
    "F.dropout3d",
)
add(errors(lambda f, m, x: f(x[0], 0.5)), "F.dropout1d")
add(
    custom(lambda f, m, x: (f(x, 0.5, False), f(x, 0.0, True), f(x, 1.0, True)), ((2, 3, 4),)),
    "chainrule.dropout",
    "chainrule.alpha_dropout",
    "chainrule.feature_alpha_dropout",
    "chainrule.feature_dropout",
)
add(
    Case(lambda f, m, x: f(x, 0.3, True), ((2, 3, 4),), (FLOAT,), values=False, grad=False),
    "chainrule.dropout",
    "chainrule.alpha_dropout",
    "chainrule.feature_alpha_dropout",
    "chainrule.feature_dropout",
)
add(
    custom(lambda f, m, x: (f(x * 1, 0.5, False), f(x * 1, 1.0, True)), ((2, 3, 4),)),
    "chainrule.dropout_",
    "chainrule.alpha_dropout_",
    "chainrule.feature_alpha_dropout_",
    "chainrule.feature_dropout_",
)

# ---- embeddings and bilinear --------------------------------------------------------------------
add(
    custom(
        lambda f, m, w: (
            f(w, m.tensor([[0, 2], [4, 4]])),
            f(w, m.tensor([1, 3, 1]), 1),
            f(w, m.tensor([1, 3, 1]), -1, True),
        ),
        ((5, 3),),
    ),
    "chainrule.embedding",
)
add(
    custom(lambda f, m, a, b, w, c: (f(a, b, w, c), f(a, b, w)), ((3, 4), (3, 2), (5, 4, 2), (5,))),
    "chainrule.bilinear",
)


def _bags(f, m, w, p):
    idx = m.tensor([1, 2, 4, 5, 4, 3, 2, 0])
    off = m.tensor([0, 2, 2, 5])
    return (
        f(idx, w, off),
        f(idx, w, off, mode="sum"),
        f(idx, w, off, mode="max"),
        f(idx, w, off, mode="mean", padding_idx=2),
        f(idx, w, off, mode="max", padding_idx=-4),
        f(idx, w, m.tensor([0, 2, 2, 5, 8]), include_last_offset=True, mode="sum"),
        f(idx.reshape(2, 4), w, mode="sum", per_sample_weights=p.reshape(2, 4)),
        f(idx, w, off, mode="sum", per_sample_weights=p),
        f(idx[:0], w, m.tensor([0, 0])),
    )


add(custom(_bags, ((6, 3), (8,))), "F.embedding_bag")
add(
    errors(
        lambda f, m, w: f(m.tensor([1, 2]), w),
        lambda f, m, w: f(m.tensor([[1, 2]]), w, m.tensor([0])),
        lambda f, m, w: f(m.tensor([9]), w, m.tensor([0])),
        lambda f, m, w: f(m.tensor([1, 2]), w, m.tensor([1])),
        lambda f, m, w: f(m.tensor([1, 2]), w, m.tensor([0]), mode="mean", per_sample_weights=m.ones(2)),
        lambda f, m, w: f(m.tensor([1, 2]), w, m.tensor([0]), mode="median"),
    ),
    "F.embedding_bag",
)
add(
    custom(
        lambda f, m, x, t: (f(x, t), f(x, t, 1), f(x, t, 2, log_target=True), f(x, t.exp(), 0)),
        (M34, M34),
        (FLOAT, Arg(0.1, 1.0)),
    ),
    "chainrule.kl_div",
)
add(
    errors(
        lambda f, m, x: f(m.tensor([0, 2]).int()),
        lambda f, m, x: f(m.tensor([], dtype=m.long), 0),
        lambda f, m, x: f(m.tensor([-1, 1]), 3),
        lambda f, m, x: f(m.tensor([0, 3]), 2),
        lambda f, m, x: f(m.tensor([], dtype=m.long), 3),
        lambda f, m, x: f(m.tensor(2), 4),
    ),
    "F.one_hot",
)
