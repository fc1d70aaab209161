"""Normalization and embedding: batch_norm (op native_batch_norm), layer_norm (op native_layer_norm),
group_norm (op native_group_norm), embedding (op embedding)."""

from __future__ import annotations

from oracle import Arg, OpSpec

from specs.strategies import fixed

FLOAT = Arg()
SCALE = Arg(0.5, 2.0)


def _f(m):
    return m.nn.functional


def _spec(name, fn, *cases, args=(FLOAT, SCALE, FLOAT), **kw):
    return OpSpec(name, fn, fixed(*cases), args, **kw)


# not the true derivative by design (so no finite differences): the statistics below move with
# w and b under finite differences; padding_idx and scale_grad_by_freq alter the gradient
NOT_FD = dict(fd=False)


def _running(w, b):
    """Evaluation statistics derived from the (detached) affine parameters."""
    return w.detach() * 0.3, b.detach() * b.detach() + 0.5


SPECS = [
    # ---- batch norm ----
    _spec(
        "batch_norm(training) 4-d",
        lambda m, x, w, b: _f(m).batch_norm(x, None, None, w, b, True),
        ((3, 2, 3, 2), (2,), (2,)),
        ((2, 3, 2, 2), (3,), (3,)),
    ),
    _spec(
        "batch_norm(training) 2-d, eps=0.1",
        lambda m, x, w, b: _f(m).batch_norm(x, None, None, w, b, True, eps=0.1),
        ((5, 3), (3,), (3,)),
    ),
    _spec(
        "batch_norm(training) no affine",
        lambda m, x: _f(m).batch_norm(x, None, None, training=True),
        ((4, 2, 3),),
        args=(FLOAT,),
    ),
    _spec(
        "batch_norm(eval)",
        lambda m, x, w, b: _f(m).batch_norm(x, *_running(w, b), w, b, False),
        ((3, 2, 4), (2,), (2,)),
        ((2, 3, 2, 2), (3,), (3,)),
        **NOT_FD,
    ),
    _spec(
        "batch_norm(eval) weight only",
        lambda m, x, w, b: _f(m).batch_norm(x, *_running(w, b), w, None, False),
        ((3, 2, 4), (2,), (2,)),
        **NOT_FD,
    ),
    # ---- layer norm ----
    _spec(
        "layer_norm",
        lambda m, x, w, b: _f(m).layer_norm(x, w.shape, w, b),
        ((2, 3, 4), (4,), (4,)),
        ((3, 2, 3), (2, 3), (2, 3)),
    ),
    _spec(
        "layer_norm no affine, eps=0.5",
        lambda m, x: _f(m).layer_norm(x, (3,), eps=0.5),
        ((2, 3),),
        ((4, 2, 3),),
        args=(FLOAT,),
    ),
    _spec(
        "layer_norm whole input, weight only",
        lambda m, x, w: _f(m).layer_norm(x, x.shape, w),
        ((2, 3), (2, 3)),
        args=(FLOAT, SCALE),
    ),
    # ---- group norm ----
    _spec(
        "group_norm(2)",
        lambda m, x, w, b: _f(m).group_norm(x, 2, w, b),
        ((2, 4, 3), (4,), (4,)),
        ((3, 2, 2, 2), (2,), (2,)),
    ),
    _spec("group_norm(3) no affine", lambda m, x: _f(m).group_norm(x, 3), ((2, 6, 2, 1),), args=(FLOAT,)),
    # ---- embedding ----
    _spec(
        "embedding",
        lambda m, w, i: _f(m).embedding(i, w),
        ((5, 3), (2, 4)),
        ((4, 2), (6,)),
        args=(FLOAT, Arg(0, 4, kind="index", grad=False)),
    ),  # < 4 rows
    _spec(
        "embedding(padding_idx=1, scale_grad_by_freq)",
        lambda m, w, i: _f(m).embedding(i, w, padding_idx=1, scale_grad_by_freq=True),
        ((3, 2), (3, 4)),
        args=(FLOAT, Arg(0, 3, kind="index", grad=False)),
        **NOT_FD,
    ),
    _spec(
        "embedding(padding_idx=-1)",
        lambda m, w, i: _f(m).embedding(i, w, padding_idx=-1),
        ((3, 4), (5,)),
        args=(FLOAT, Arg(0, 3, kind="index", grad=False)),
        **NOT_FD,
    ),
]
