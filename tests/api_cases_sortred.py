"""The api-sweep entries of sorting, selection, reductions and scatter-style indexing (nanmedian,
quantile, mode, unique, searchsorted, histograms, NaN-aware and running reductions, cov,
scatter_reduce, index_put, take, put, masked_scatter and the in-place forms)."""

from __future__ import annotations

from api_cases import BOOL, FLOAT, INT, M34, Arg, add, both, custom, inplace, reduction, unary

SMALL = Arg(0, 5, kind="int")
IDX = [[0, 1, 0, 2], [2, 2, 0, 1]]  # a scatter index for a (3, 4) input and a (2, 4) src
NO_GRAD = dict(grad=False)


def _nan(m, x):
    """``x`` with a NaN in each row (a NaN-aware op then has something to ignore)."""
    return m.where(m.eye(*x.shape, dtype=m.bool), float("nan"), x)


# ---- order statistics ----------------------------------------------------------------------------
add(
    custom(lambda f, m, x: (f(x), f(x, 1), f(x, 0, keepdim=True), f(_nan(m, x)), f(_nan(m, x), 1))),
    *both("nanmedian"),
)
add(
    custom(
        lambda f, m, x: (
            f(x, 0.3),
            f(x, m.tensor([0.1, 0.5, 1.0], dtype=x.dtype), dim=1),
            f(x, 0.5, 0, True, interpolation="midpoint"),
            f(x, 0.4, 1, interpolation="lower"),
            f(x, 0.4, 1, interpolation="higher"),
            f(x, 0.4, 1, interpolation="nearest"),
        )
    ),
    *both("quantile", "nanquantile"),
)
add(custom(lambda f, m, x: (f(_nan(m, x), 0.3, 1), f(_nan(m, x), 0.5))), *both("nanquantile"))
add(custom(lambda f, m, x: (f(x), f(x, 0, True), f(m.cat([x, x], 1), 1))), *both("mode"))
add(custom(lambda f, m, x: (f(x), f(x, 0)), (M34,), (INT,), **NO_GRAD), *both("mode"))
add(unary(), *both("msort"))
add(
    custom(
        lambda f, m, x: (
            f(x),
            f(x, return_inverse=True, return_counts=True),
            f(x, return_inverse=True, dim=1),
            f(x, return_counts=True, dim=0),
        ),
        (M34,),
        (INT,),
        **NO_GRAD,
    ),
    *both("unique", "unique_consecutive"),
)
add(
    custom(
        lambda f, m, x: (
            f(m.tensor([[1, 1], [2, 2], [1, 1]]), return_inverse=True, return_counts=True, dim=0),
        ),
        **NO_GRAD,
    ),
    *both("unique", "unique_consecutive"),
)
add(
    custom(lambda f, m, x: f(x, sorted=True, return_inverse=True), (M34,), (INT,), **NO_GRAD),
    *both("unique"),
)

# ---- searching and counting ----------------------------------------------------------------------
add(
    custom(
        lambda f, m, x: (
            f(m.tensor([-1, 0, 0, 2]), x),
            f(m.tensor([-1, 0, 0, 2]), x, right=True),
            f(m.tensor([-1, 0, 0, 2]), x, side="right", out_int32=True),
            f(m.tensor([3, -1, 0, 2]), x, sorter=m.tensor([1, 2, 3, 0])),
            f(m.tensor([[1, 2], [0, 3], [-2, 2]]), x[:, :2]),
            f(m.tensor([1, 2, 3]), 2),
        ),
        (M34,),
        (INT,),
        **NO_GRAD,
    ),
    "chainrule.searchsorted",
)
add(
    custom(
        lambda f, m, x: (
            f(x, m.tensor([-1.0, 0.0, 0.5], dtype=x.dtype)),
            f(x, m.tensor([-1, 0, 2]), right=True),
        ),
        **NO_GRAD,
    ),
    "chainrule.bucketize",
)
add(
    custom(lambda f, m, x: (f(x), f(x, 5), f(x, bins=3, min=-1, max=1)), **NO_GRAD),
    *both("histc"),
)
add(
    custom(
        lambda f, m, x: (
            f(x, 4),
            f(x, 3, range=(-1.0, 1.0), density=True),
            f(x, m.tensor([-2.0, 0.0, 0.5, 2.0], dtype=x.dtype), weight=x.abs()),
        ),
        **NO_GRAD,
    ),
    *both("histogram"),
)
add(
    custom(
        lambda f, m, x: (
            f(x.reshape(-1)),
            f(x.reshape(-1), minlength=8),
            f(x.reshape(-1), m.arange(12, dtype=m.float32)),
        ),
        (M34,),
        (SMALL,),
        **NO_GRAD,
    ),
    *both("bincount"),
)
add(
    custom(
        lambda f, m, x: (f(x, m.tensor([0, 2])), f(x, 1, invert=True), f(2, x)),
        (M34,),
        (INT,),
        **NO_GRAD,
    ),
    "chainrule.isin",
)

# ---- reductions ----------------------------------------------------------------------------------
add(reduction(), *both("nansum", "nanmean"))
add(
    custom(lambda f, m, x: (f(_nan(m, x)), f(_nan(m, x), 1), f(_nan(m, x), 0, True))),
    *both("nansum", "nanmean"),
)
add(custom(lambda f, m, x: (f(x), f(x, 1)), (M34,), (INT,), **NO_GRAD), *both("nansum"))
add(
    custom(lambda f, m, x: (f(x), f(x, dim=1), f(x, dim=0, keepdim=True), f(x, keepdim=True))),
    *both("aminmax"),
)
add(custom(lambda f, m, x: (f(x, dim=0),), (M34,), (BOOL,), **NO_GRAD), *both("aminmax"))
add(custom(lambda f, m, x: (f(x, 0), f(x, -1), f(m.cat([x, x], 1), 1))), *both("cummax", "cummin"))
add(custom(lambda f, m, x: (f(x, 0), f(x, 1))), *both("logcumsumexp"))
add(
    custom(
        lambda f, m, x: (
            f(x),
            f(x, correction=0),
            f(x, fweights=m.tensor([1, 2, 1, 3])),
            f(x, aweights=m.tensor([0.5, 1.0, 2.0, 1.0], dtype=x.dtype)),
        )
    ),
    *both("cov"),
)
add(unary(), *both("corrcoef"))
add(
    custom(lambda f, m, x, y: (f(x, y), f(x, y, 1), f(x, y, float("inf")), f(x, y, 0.5)), (M34, (4,))),
    *both("dist"),
)
add(custom(lambda f, m, x: (f(x, 2, 0, 1.0), f(x, 1, 1, 2.0))), *both("renorm"))
add(inplace(FLOAT, 2, 0, 1.0), *both("renorm_"))
add(inplace(FLOAT, 1), *both("cumsum_", "cumprod_"))

# ---- scatter-style indexing ----------------------------------------------------------------------
add(
    custom(
        lambda f, m, x, s: tuple(
            f(x, 0, m.tensor(IDX), s, r, include_self=i)
            for r in ("sum", "prod", "mean", "amax", "amin")
            for i in (True, False)
        ),
        (M34, (2, 4)),
    ),
    *both("scatter_reduce"),
)
add(
    custom(
        lambda f, m, x, s: tuple(
            f(x, 1, m.tensor([0, 2, 2]), s, r, include_self=i)
            for r in ("prod", "mean", "amax", "amin")
            for i in (True, False)
        ),
        (M34, (3, 3)),
    ),
    *both("index_reduce"),
)
add(custom(lambda f, m, x: (f(x, m.tensor([[0, -1], [5, 5]])), f(x, m.tensor(3)))), *both("take"))
add(
    custom(
        lambda f, m, x, v: (f(x, m.tensor([0, 5, -1]), v), f(x, m.tensor([1, 1, 2]), v, accumulate=True)),
        (M34, (3,)),
    ),
    *both("put"),
)
add(
    custom(lambda f, m, x, v: (f(x, x > 0, v), f(x, m.tensor([True, False, True, False]), v)), (M34, (3, 4))),
    *both("masked_scatter"),
)
add(
    custom(
        lambda f, m, x, v: (
            f(x, (m.tensor([0, 2]), m.tensor([1, 3])), v),
            f(x, (m.tensor([0, 0]), m.tensor([1, 1])), v, accumulate=True),
            f(x, (x > 0,), v.sum(), accumulate=True),
        ),
        (M34, (2,)),
    ),
    "Tensor.index_put",
)
add(
    custom(
        lambda f, m, x, v: f(x * 1, (m.tensor([0, 0, 2]), m.tensor([1, 1, 3])), v, accumulate=True),
        (M34, (3,)),
    ),
    *both("index_put_"),
)
add(
    custom(lambda f, m, x, s: f(x * 1, 1, m.tensor([[0, 3], [1, 2], [2, 0]]), s), (M34, (3, 2))),
    *both("scatter_"),
)
add(custom(lambda f, m, x: f(x * 1, 1, m.tensor([[0, 3], [1, 2], [2, 0]]), value=0.5)), *both("scatter_"))
add(custom(lambda f, m, x, s: f(x * 1, 0, m.tensor(IDX), s), (M34, (2, 4))), *both("scatter_add_"))
add(
    custom(lambda f, m, x, s: f(x * 1, 0, m.tensor(IDX), s, "amin", include_self=False), (M34, (2, 4))),
    *both("scatter_reduce_"),
)
add(
    custom(lambda f, m, x, s: f(x * 1, 0, m.tensor([2, 0, 2]), s, alpha=2.0), (M34, M34)), *both("index_add_")
)
add(custom(lambda f, m, x, s: f(x * 1, 1, m.tensor([3, 0]), s), (M34, (3, 2))), *both("index_copy_"))
add(custom(lambda f, m, x: f(x * 1, 1, m.tensor([0, 2]), -1.0)), *both("index_fill_"))
add(
    custom(lambda f, m, x, s: f(x * 1, 0, m.tensor([1, 1]), s, "prod"), (M34, (2, 4))),
    *both("index_reduce_"),
)
add(custom(lambda f, m, x: f(x * 1, x > 0, 0.5)), *both("masked_fill_"))
add(custom(lambda f, m, x, s: f(x * 1, x < 0, s), (M34, (12,))), *both("masked_scatter_"))
add(
    custom(lambda f, m, x, s: f(x * 1, m.tensor([0, 5, 5]), s, accumulate=True), (M34, (3,))),
    *both("put_"),
)
