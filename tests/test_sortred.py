"""Sorting, selection, reductions and scatter-style indexing at their edges, against torch: empty
inputs, 0-d tensors, size-1 dims, non-contiguous inputs, NaN and inf, negative dims, dtypes,
duplicate indices, in-place history, and the errors (same exception type and torch's words)."""

from __future__ import annotations

import numpy as np
import pytest
from oracle import raises_like_torch, same

NAN, INF = float("nan"), float("inf")


def _t(m, values, dtype="float64", grad=False):
    t = m.tensor(np.array(values, dtype=dtype))
    return t.requires_grad_() if grad else t


# ---- results at the edges ------------------------------------------------------------------------
def _grads(m, out, *leaves):
    outs = [o for o in (out if isinstance(out, tuple | list) else (out,)) if o.requires_grad]
    total = sum((o * (1 + m.arange(o.numel(), dtype=o.dtype).reshape(o.shape))).sum() for o in outs)
    return m.autograd.grad(total, leaves, allow_unused=True)


EDGE_PROGRAMS = {
    "nanmedian all NaN lanes": lambda m: m.nanmedian(_t(m, [[NAN, NAN], [1.0, NAN]]), 1),
    "nanmedian empty": lambda m: m.nanmedian(_t(m, [])),
    "nanmedian float32 transposed": lambda m: m.nanmedian(_t(m, [[1, 5, 2], [4, 3, NAN]], "float32").T, -1),
    "median / nanmedian with inf": lambda m: (
        m.median(_t(m, [INF, -INF, 1.0])),
        m.nanmedian(_t(m, [INF, NAN, -INF, 1.0])),
    ),
    "quantile 0-d and size-1": lambda m: (
        m.quantile(_t(m, 3.0), 0.5),
        m.quantile(_t(m, [[2.0], [3.0]]), _t(m, [0.0, 1.0]), dim=1, keepdim=True),
    ),
    "quantile float32 non-contiguous": lambda m: m.quantile(
        _t(m, np.arange(12.0).reshape(3, 4), "float32").T, _t(m, [0.25, 0.5], "float32"), dim=0
    ),
    "quantile with inf": lambda m: m.quantile(_t(m, [-INF, 1.0, 2.0, INF]), _t(m, [0.0, 0.4, 1.0])),
    "nanquantile all NaN": lambda m: m.nanquantile(_t(m, [[NAN, NAN], [1.0, NAN]]), 0.5, dim=1),
    "mode ties and negative dim": lambda m: m.mode(_t(m, [[2, 1, 2, 1, 3], [0, 0, 4, 4, 4]], "int64"), -1),
    "mode bool": lambda m: m.mode(_t(m, [True, False, False], "bool")),
    "msort int": lambda m: m.msort(_t(m, [[3, 1], [1, 2], [2, 0]], "int32")),
    "unique empty": lambda m: m.unique(_t(m, [], "int64"), return_inverse=True, return_counts=True),
    "unique NaN distinct": lambda m: m.unique(_t(m, [NAN, 1.0, NAN, 1.0]), return_counts=True),
    "unique bool": lambda m: m.unique(_t(m, [True, False, True], "bool"), return_inverse=True),
    "unique 0-d": lambda m: m.unique(_t(m, 3.0), return_inverse=True),
    "unique_consecutive float32": lambda m: m.unique_consecutive(
        _t(m, [1, 1, 2, 2, 1, 3], "float32"), return_inverse=True, return_counts=True
    ),
    "unique_consecutive dim=-1": lambda m: m.unique_consecutive(
        _t(m, [[1, 1, 2], [3, 3, 4]], "int64"), return_counts=True, dim=-1
    ),
    "searchsorted NaN and inf": lambda m: m.searchsorted(
        _t(m, [1.0, 2.0, INF]), _t(m, [NAN, INF, -INF, 2.0])
    ),
    "searchsorted empty": lambda m: (
        m.searchsorted(_t(m, []), _t(m, [1.0])),
        m.searchsorted(_t(m, [1.0]), _t(m, [])),
    ),
    "searchsorted 0-d value": lambda m: m.searchsorted(_t(m, [1, 3], "int64"), _t(m, 2, "int64")),
    "bucketize float32 right": lambda m: m.bucketize(
        _t(m, [[0.5, 1.0], [3.0, 9.0]], "float32"), _t(m, [1.0, 3.0], "float32"), right=True
    ),
    "histc float32 with outside values": lambda m: m.histc(_t(m, [-5, 0.1, 0.5, 1.0, 7], "float32"), 4, 0, 1),
    "histc constant": lambda m: m.histc(_t(m, [2.0, 2.0]), 3),
    "histc empty": lambda m: m.histc(_t(m, []), 3),
    "histogram range and empty bins": lambda m: m.histogram(
        _t(m, [1.0, 2.0, 2.0, 5.0]), 3, range=(0.0, 10.0)
    ),
    "histogram density weights": lambda m: m.histogram(
        _t(m, [1.0, 2.0, 2.0, 5.0], "float32"), 3, weight=_t(m, [1, 2, 3, 4], "float32"), density=True
    ),
    "bincount empty": lambda m: (m.bincount(_t(m, [], "int64")), m.bincount(_t(m, [], "int64"), minlength=3)),
    "bincount int weights": lambda m: m.bincount(_t(m, [0, 2, 2], "int64"), _t(m, [1, 2, 3], "int64")),
    "bincount uint8 and int32": lambda m: (
        m.bincount(_t(m, [0, 3], "uint8")),
        m.bincount(_t(m, [4, 1], "int32"), minlength=2),
    ),
    "isin floats, NaN, invert": lambda m: (
        m.isin(_t(m, [1.0, NAN, 2.5]), _t(m, [NAN, 2.5])),
        m.isin(_t(m, [[1, 2], [3, 4]], "int64"), _t(m, [2, 3], "int64"), invert=True),
    ),
    "nansum/nanmean empty and all NaN": lambda m: (
        m.nansum(_t(m, [])),
        m.nanmean(_t(m, [NAN, NAN])),
        m.nansum(_t(m, [[NAN, 1.0], [NAN, NAN]]), -1),
        m.nanmean(_t(m, np.zeros((0, 3))), 0),
    ),
    "nansum float32 dtype": lambda m: m.nansum(_t(m, [1, NAN], "float32"), dtype=m.float64),
    "nansum bool": lambda m: m.nansum(_t(m, [True, True], "bool")),
    "aminmax 0-d and NaN": lambda m: (m.aminmax(_t(m, 2.0)), m.aminmax(_t(m, [[1.0, NAN], [2, 3]]), dim=0)),
    "cummax/cummin empty and 0-d": lambda m: (
        m.cummax(_t(m, np.zeros((2, 0))), 1),
        m.cummin(_t(m, 5.0), 0),
        m.cummin(_t(m, [[INF, NAN, 1.0]]), -1),
    ),
    "logcumsumexp inf and empty": lambda m: (
        m.logcumsumexp(_t(m, [-INF, 0.0, -INF, INF]), 0),
        m.logcumsumexp(_t(m, []), 0),
        m.logcumsumexp(_t(m, [1000.0, 1000.0], "float32"), 0),
    ),
    "cov single observation, 0-d, 1-D": lambda m: (
        m.cov(_t(m, [[1.0], [2.0]])),
        m.cov(_t(m, 3.0)),
        m.cov(_t(m, [1.0, 2.0, 4.0], "float32")),
    ),
    "corrcoef constant row": lambda m: m.corrcoef(_t(m, [[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]])),
    "dist broadcast and float32": lambda m: m.dist(
        _t(m, [[1, 2], [3, 4]], "float32"), _t(m, [0, 1], "float32"), 3
    ),
    "renorm zero rows, maxnorm 0": lambda m: (
        m.renorm(_t(m, [[0.0, 0.0], [3.0, 4.0]]), 2, 0, 1.0),
        m.renorm(_t(m, [[1.0, 2.0], [3.0, 4.0]]), 1, 1, 0.0),
    ),
    "scatter_reduce empty index": lambda m: m.scatter_reduce(
        _t(m, [1.0, 2.0]), 0, _t(m, [], "int64"), _t(m, []), "amax", include_self=False
    ),
    "scatter_reduce int mean floors": lambda m: m.scatter_reduce(
        _t(m, [7, -7, 1], "int64"), 0, _t(m, [0, 1, 1], "int64"), _t(m, [0, 2, 2], "int64"), "mean"
    ),
    "scatter_reduce negative dim, 0-d": lambda m: (
        m.scatter_reduce(_t(m, [[1.0, 2.0]]), -1, _t(m, [[1, 1]], "int64"), _t(m, [[5.0, -1.0]]), "amin"),
        m.scatter_reduce(_t(m, 1.0), 0, _t(m, 0, "int64"), _t(m, 3.0), "prod"),
    ),
    "scatter_reduce NaN propagates": lambda m: m.scatter_reduce(
        _t(m, [1.0, 2.0]), 0, _t(m, [0, 0], "int64"), _t(m, [NAN, 5.0]), "amax"
    ),
    "index_reduce float32": lambda m: m.index_reduce(
        _t(m, [[1, 2], [3, 4]], "float32"),
        0,
        _t(m, [1, 1, 0], "int64"),
        _t(m, [[5, 0], [1, 1], [2, 2]], "float32"),
        "amax",
    ),
    "take empty and 0-d": lambda m: (
        m.take(_t(m, [1.0, 2.0]), _t(m, [], "int64")),
        m.take(_t(m, 4.0), _t(m, [0, -1], "int64")),
    ),
    "take non-contiguous": lambda m: m.take(_t(m, np.arange(6.0).reshape(2, 3)).T, _t(m, [1, 2], "int64")),
    "put int and 0-d": lambda m: (
        m.put(
            _t(m, [[1, 2], [3, 4]], "int64"), _t(m, [3, 3], "int64"), _t(m, [5, 6], "int64"), accumulate=True
        ),
        m.put(_t(m, 1.0), _t(m, [0], "int64"), _t(m, [9.0])),
    ),
    "masked_scatter all False, all True": lambda m: (
        m.masked_scatter(_t(m, [1.0, 2.0]), _t(m, [False, False], "bool"), _t(m, [])),
        m.masked_scatter(_t(m, [1, 2], "int64"), _t(m, [True, True], "bool"), _t(m, [[7, 8, 9]], "int64")),
    ),
    "index_fill negative index, dist mixed dtypes": lambda m: (
        m.index_fill(_t(m, [1.0, 2.0, 3.0]), 0, _t(m, [-1], "int64"), 5.0),
        m.dist(_t(m, [1.0, 2.0], "float32"), _t(m, [1, 3], "int64")),
    ),
    "index_put accumulate bool mask and broadcast": lambda m: (
        m.index_put(
            _t(m, [[1.0, 2.0], [3.0, 4.0]]), (_t(m, [True, False], "bool"),), _t(m, 10.0), accumulate=True
        ),
        m.index_put(
            _t(m, [1, 2, 3], "int64"), (_t(m, [0, 0, 0], "int64"),), _t(m, 2, "int64"), accumulate=True
        ),
    ),
    "topk / argsort edges": lambda m: (
        m.topk(_t(m, [1.0, NAN, 3.0]), 2),
        m.argsort(_t(m, [2.0, NAN, 1.0, 2.0, NAN]), stable=True),
        m.argsort(_t(m, [2.0, NAN, 1.0, 2.0, NAN]), descending=True, stable=True),
    ),
}


@pytest.mark.parametrize("name", sorted(EDGE_PROGRAMS))
def test_edges_match_torch(name: str) -> None:
    program = EDGE_PROGRAMS[name]
    program.__name__ = name
    same(program)


GRAD_PROGRAMS = {
    "nanmedian all-NaN lane gradient": lambda m: (lambda x: _grads(m, m.nanmedian(x, 1).values, x))(
        _t(m, [[NAN, NAN], [1.0, NAN]], grad=True)
    ),
    "nanmean with NaN gradient": lambda m: (lambda x: _grads(m, m.nanmean(x, 0), x))(
        _t(m, [[NAN, 1.0], [NAN, 3.0]], grad=True)
    ),
    "cummax NaN gradient": lambda m: (lambda x: _grads(m, m.cummax(x, 0).values, x))(
        _t(m, [1.0, NAN, 3.0, NAN], grad=True)
    ),
    "logcumsumexp with -inf gradient": lambda m: (lambda x: _grads(m, m.logcumsumexp(x, 0), x))(
        _t(m, [-INF, 0.0, 1.0], grad=True)
    ),
    "quantile ties gradient": lambda m: (lambda x: _grads(m, m.quantile(x, _t(m, [0.3, 0.5]), 1), x))(
        _t(m, [[1.0, 1.0, 2.0, 2.0]], grad=True)
    ),
    "scatter_reduce prod two zeros": lambda m: (
        lambda x, s: _grads(m, m.scatter_reduce(x, 0, _t(m, [0, 0, 1], "int64"), s, "prod"), x, s)
    )(_t(m, [2.0, 0.0], grad=True), _t(m, [0.0, 3.0, 0.0], grad=True)),
    "scatter_reduce mean duplicates": lambda m: (
        lambda x, s: _grads(
            m, m.scatter_reduce(x, 0, _t(m, [1, 1, 1], "int64"), s, "mean", include_self=False), x, s
        )
    )(_t(m, [2.0, 0.0], grad=True), _t(m, [1.0, 3.0, 5.0], grad=True)),
    "index_put_ accumulate gradient through a view": lambda m: (
        lambda x: (
            lambda y: (
                y[1].index_put_((_t(m, [0, 0], "int64"),), x[0] * 2, accumulate=True),
                _grads(m, y, x),
            )[1]
        )(x * 1)
    )(_t(m, [[1.0, 2.0], [3.0, 4.0]], grad=True)),
    "masked_fill_ on a transposed view": lambda m: (
        lambda x: (
            lambda y: (y.T.masked_fill_(_t(m, [[True, False], [False, True]], "bool"), 0.0), _grads(m, y, x))[
                1
            ]
        )(x * 1)
    )(_t(m, [[1.0, 2.0], [3.0, 4.0]], grad=True)),
}


@pytest.mark.parametrize("name", sorted(GRAD_PROGRAMS))
def test_gradients_match_torch(name: str) -> None:
    program = GRAD_PROGRAMS[name]
    program.__name__ = name
    same(program)


def test_inplace_bumps_version_and_keeps_identity() -> None:
    def program(m):
        x = _t(m, [[1.0, 2.0], [3.0, 4.0]], grad=True)
        y = x * 1
        v0 = y._version
        results = [
            y.scatter_(0, _t(m, [[1, 0]], "int64"), _t(m, [[5.0, 6.0]])) is y,
            y.index_fill_(1, _t(m, [0], "int64"), 2.0) is y,
            y.cumsum_(0) is y,
            y.put_(_t(m, [3], "int64"), _t(m, [1.0]), accumulate=True) is y,
        ]
        return results, y._version - v0, y

    same(program)


def test_inplace_on_leaf_that_requires_grad_raises() -> None:
    raises_like_torch(
        lambda m: _t(m, [1.0, 2.0], grad=True).index_put_((_t(m, [0], "int64"),), _t(m, 1.0)),
        "a leaf Variable that requires grad is being used in an in-place operation",
    )


# ---- errors --------------------------------------------------------------------------------------
ERRORS = {
    "topk k > size": (lambda m: m.topk(_t(m, [1.0, 2.0]), 3), "out of range"),
    "nanmedian bool": (lambda m: m.nanmedian(_t(m, [True], "bool")), "not implemented for 'Bool'"),
    "quantile empty": (lambda m: m.quantile(_t(m, []), 0.5), r"quantile\(\) input tensor must be non-empty"),
    "quantile q out of range": (lambda m: m.quantile(_t(m, [1.0]), 1.5), r"q must be in the range \[0, 1\]"),
    "quantile int input": (
        lambda m: m.quantile(_t(m, [1], "int64"), 0.5),
        "input tensor must be either float or double dtype",
    ),
    "quantile q dtype": (
        lambda m: m.quantile(_t(m, [1.0], "float32"), _t(m, [0.5])),
        "q tensor must be same dtype as the input tensor",
    ),
    "quantile 2-D q": (lambda m: m.quantile(_t(m, [1.0]), _t(m, [[0.5]])), "q must be a scalar or 1D tensor"),
    "quantile interpolation": (
        lambda m: m.quantile(_t(m, [1.0]), 0.5, interpolation="cubic"),
        "interpolation must be one of linear, lower, higher, midpoint or nearest",
    ),
    "quantile dim out of range": (lambda m: m.quantile(_t(m, [1.0]), 0.5, dim=2), "Dimension out of range"),
    "mode empty dim": (
        lambda m: m.mode(_t(m, np.zeros((2, 0)))),
        "Expected reduction dim 1 to have non-zero size",
    ),
    "searchsorted side and right": (
        lambda m: m.searchsorted(_t(m, [1.0]), _t(m, [1.0]), right=True, side="left"),
        "side and right can't be set to opposites",
    ),
    "searchsorted leading dims": (
        lambda m: m.searchsorted(_t(m, [[1.0, 2.0]]), _t(m, [[1.0], [2.0]])),
        "first N-1 dimensions of boundaries tensor and input value tensor must match",
    ),
    "bucketize 2-D boundaries": (
        lambda m: m.bucketize(_t(m, [1.0]), _t(m, [[1.0]])),
        "boundaries tensor must be 1 dimension",
    ),
    "histc int": (lambda m: m.histc(_t(m, [1, 2], "int64"), 3), "not implemented for 'Long'"),
    "histc min > max": (lambda m: m.histc(_t(m, [1.0]), 3, min=3, max=1), "max must be larger than min"),
    "bincount negative": (lambda m: m.bincount(_t(m, [-1, 2], "int64")), "1-d non-negative integral inputs"),
    "bincount 2-D": (lambda m: m.bincount(_t(m, [[1]], "int64")), "1-d non-negative integral inputs"),
    "bincount float": (lambda m: m.bincount(_t(m, [1.0])), "not implemented for 'Double'"),
    "bincount bool": (lambda m: m.bincount(_t(m, [True], "bool")), "not implemented for 'Bool'"),
    "nanmean int": (lambda m: m.nanmean(_t(m, [1], "int64")), "expected input to have floating point"),
    "aminmax empty": (lambda m: m.aminmax(_t(m, [])), "cannot compute aminmax over an empty dimension"),
    "aminmax empty dim": (
        lambda m: m.aminmax(_t(m, np.zeros((2, 0))), dim=1),
        "aminmax: Expected reduction dim 1 to have non-zero size",
    ),
    "cummax dim out of range": (lambda m: m.cummax(_t(m, [1.0]), 1), "Dimension out of range"),
    "logcumsumexp int": (lambda m: m.logcumsumexp(_t(m, [1, 2], "int64"), 0), "not implemented for 'Long'"),
    "cov 3-D": (
        lambda m: m.cov(_t(m, np.zeros((2, 2, 2)))),
        "expected input to have two or fewer dimensions",
    ),
    "cov fweights float": (
        lambda m: m.cov(_t(m, [[1.0, 2.0]]), fweights=_t(m, [1.0, 2.0])),
        "expected fweights to have integral dtype",
    ),
    "cov weights length": (
        lambda m: m.cov(_t(m, [[1.0, 2.0]]), aweights=_t(m, [1.0])),
        "to have the same numel as there are observations",
    ),
    "renorm 1-D": (lambda m: m.renorm(_t(m, [1.0]), 2, 0, 1.0), "needs at least 2 dimensions"),
    "scatter_reduce bad reduce": (
        lambda m: m.scatter_reduce(_t(m, [1.0]), 0, _t(m, [0], "int64"), _t(m, [1.0]), "add"),
        "reduce argument must be either sum, prod, mean, amax or amin",
    ),
    "scatter_reduce index out of range": (
        lambda m: m.scatter_reduce(_t(m, [1.0]), 0, _t(m, [3], "int64"), _t(m, [1.0]), "sum"),
        "index 3 is out of bounds for dimension 0 with size 1",
    ),
    "scatter_reduce dtype mismatch": (
        lambda m: m.scatter_reduce(_t(m, [1.0]), 0, _t(m, [0], "int64"), _t(m, [1.0], "float32"), "sum"),
        "Expected self.dtype to be equal to src.dtype",
    ),
    "index_add negative index": (
        lambda m: m.index_add(_t(m, [1.0, 2.0]), 0, _t(m, [-1], "int64"), _t(m, [3.0])),
        "index out of range in self",
    ),
    "index_copy_ negative index": (
        lambda m: _t(m, [1.0, 2.0]).index_copy_(0, _t(m, [-1], "int64"), _t(m, [3.0])),
        "index -1 is out of bounds for dimension 0 with size 2",
    ),
    "index_fill_ out of range": (
        lambda m: _t(m, [1.0, 2.0]).index_fill_(0, _t(m, [2], "int64"), 3.0),
        "index 2 is out of bounds for dimension 0 with size 2",
    ),
    "dist int": (
        lambda m: m.dist(_t(m, [1], "int64"), _t(m, [2], "int64")),
        "input dtype should be either floating",
    ),
    "cov zero weights": (
        lambda m: m.cov(_t(m, [[1.0, 2.0]]), fweights=_t(m, [0, 0], "int64")),
        "weights sum to zero",
    ),
    "take int32 index": (lambda m: m.take(_t(m, [1.0]), _t(m, [0], "int32")), "Expected a long tensor"),
    "index_reduce sum": (
        lambda m: m.index_reduce(_t(m, [1.0]), 0, _t(m, [0], "int64"), _t(m, [1.0]), "sum"),
        "Expected reduce to be one of prod, mean, amax or amin",
    ),
    "index_reduce out of range": (
        lambda m: m.index_reduce(_t(m, [1.0]), 0, _t(m, [3], "int64"), _t(m, [1.0]), "prod"),
        "index out of range in self",
    ),
    "take out of range": (
        lambda m: m.take(_t(m, [1.0]), _t(m, [1], "int64")),
        "out of range: tried to access index 1 on a tensor of 1 elements",
    ),
    "take float index": (lambda m: m.take(_t(m, [1.0]), _t(m, [0.0])), "Expected a long tensor for index"),
    "put count mismatch": (
        lambda m: m.put(_t(m, [1.0, 2.0]), _t(m, [0], "int64"), _t(m, [1.0, 2.0])),
        "Expected source and index to have the same number of elements",
    ),
    "put_ out of range": (
        lambda m: _t(m, [1.0]).put_(_t(m, [-2], "int64"), _t(m, [1.0])),
        "out of range: tried to access index -2 on a tensor of 1 elements",
    ),
    "masked_scatter short source": (
        lambda m: m.masked_scatter(_t(m, [1.0, 2.0]), _t(m, [True, True], "bool"), _t(m, [1.0])),
        "Number of elements of source < number of ones in mask",
    ),
    "masked_scatter int mask": (
        lambda m: m.masked_scatter(_t(m, [1.0]), _t(m, [1], "int64"), _t(m, [1.0])),
        "masked_scatter_ only supports boolean masks",
    ),
    "masked_scatter dtype": (
        lambda m: m.masked_scatter(_t(m, [1.0]), _t(m, [True], "bool"), _t(m, [1.0], "float32")),
        "expected self and source to have same dtypes",
    ),
    "index_put_ out of range": (
        lambda m: _t(m, [1.0, 2.0, 3.0]).index_put_((_t(m, [5], "int64"),), _t(m, 1.0)),
        "index 5 is out of bounds for dimension 0 with size 3",
    ),
    "index_put_ accumulate dtype": (
        lambda m: _t(m, [1.0]).index_put_((_t(m, [0], "int64"),), _t(m, 1.0, "float32"), accumulate=True),
        "Index put requires the source and destination dtypes match",
    ),
    "masked_fill_ broadcast self": (
        lambda m: _t(m, [1.0, 2.0]).masked_fill_(_t(m, [[True, False]] * 2, "bool"), 0.0),
        r"output with shape \[2\] doesn't match the broadcast shape \[2, 2\]",
    ),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_like_torch(name: str) -> None:
    program, match = ERRORS[name]
    raises_like_torch(program, match)
