"""vmap's boundary ops (``_add_batch_dim`` / ``_remove_batch_dim``): vmapped functions run through
chainrule.func.vmap and torch.func.vmap alike; gradients (and second derivatives) flow through the
boundary from outside."""

from __future__ import annotations

from oracle import Arg, OpSpec

from specs.strategies import any_shape, fixed


def _vmap(m, f, **kw):
    return m.func.vmap(f, **kw)


SPECS = [
    OpSpec("vmap(sin)", lambda m, x: _vmap(m, m.sin)(x), any_shape(min_dims=1)),
    OpSpec(
        "vmap(x * y) in_dims=(1, None)",
        lambda m, x, y: _vmap(m, lambda a, b: a * b, in_dims=(1, None))(x, y),
        fixed(((3, 2, 4), (3, 4)), ((2, 5), (2,))),
        (Arg(), Arg()),
    ),
    OpSpec(
        "vmap(sum(-1)) out_dims=1",
        lambda m, x: _vmap(m, lambda a: (a * a).sum(-1), out_dims=0)(x.transpose(0, 1)),
        fixed(((3, 4, 2),), ((2, 3, 5),)),
    ),
    OpSpec(
        "vmap(a @ b) out_dims=1",
        lambda m, a, b: _vmap(m, lambda p, q: p @ q, out_dims=1)(a, b),
        fixed(((4, 2, 3), (4, 3, 2)), ((2, 3, 3), (2, 3, 1))),
        (Arg(), Arg()),
    ),
    OpSpec(
        "vmap(vmap(a * b))",
        lambda m, a, b: _vmap(m, _vmap(m, lambda p, q: p * q.exp()), in_dims=(0, None))(a, b),
        fixed(((2, 3, 4), (3, 4)), ((3, 2, 1), (2, 1))),
        (Arg(), Arg()),
    ),
    OpSpec(
        "vmap(unbatched closure output)",
        lambda m, x, w: _vmap(m, lambda a: w.tanh())(x),
        fixed(((3, 2), (4,)), ((2, 1), (2, 3))),
        (Arg(), Arg()),
    ),
]
