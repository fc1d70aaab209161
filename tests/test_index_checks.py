"""index_add, index_copy, index_reduce, index_fill, index_put, scatter and gather on bad indices and
sources, and setitem between overlapping memory: torch 2.13's exception types, in its order.

torch's index ops raise two different types for an index out of range, by the kernel that runs
(index_add of an input of 2+ dims at its first or last dim, with int64 indices and alpha 1, is a
scatter_add: ``RuntimeError``; its serial loop, and index_copy/index_fill/index_put:
``IndexError``), and check the source's shape before any index. Each case runs in both libraries
(``oracle.same_or_same_error``): the same built-in exception type, or the same values and gradients.
"""

from __future__ import annotations

import pytest
from oracle import same, same_or_same_error

import chainrule

# (x shape, dim, index, source shape, alpha, index dtype)
INDEX_ADD = {
    "1-d out of range": ((3,), 0, [3], (1,), 1, "int64"),
    "1-d negative": ((3,), 0, [-1], (1,), 1, "int64"),
    "2-d dim 0 out of range (a scatter_add in torch)": ((3, 2), 0, [3], (1, 2), 1, "int64"),
    "2-d dim 0 negative": ((3, 2), 0, [-1], (1, 2), 1, "int64"),
    "2-d dim -2 out of range": ((3, 2), -2, [0, 4], (2, 2), 1, "int64"),
    "2-d last dim out of range": ((2, 3), 1, [3], (2, 1), 1, "int64"),
    "3-d middle dim out of range (serial loop)": ((2, 3, 2), 1, [3], (2, 1, 2), 1, "int64"),
    "3-d last dim out of range": ((2, 2, 3), -1, [3], (2, 2, 1), 1, "int64"),
    "2-d int32 indices out of range": ((3, 2), 0, [3], (1, 2), 1, "int32"),
    "2-d alpha 2 out of range": ((3, 2), 0, [3], (1, 2), 2, "int64"),
    "2-d alpha 1.0 out of range": ((3, 2), 0, [3], (1, 2), 1.0, "int64"),
    "2-d alpha True out of range": ((3, 2), 0, [3], (1, 2), True, "int64"),
    "2-d in range, alpha 1": ((3, 2), 0, [2, 0, 2], (3, 2), 1, "int64"),
    "1-d input, 0-d source": ((3,), 0, [1], (), 1, "int64"),
    "1-d input of one element, 0-d source": ((1,), 0, [0], (), 1, "int64"),
    "1-d input, 0-d source, 0-d index": ((3,), 0, 1, (), 1, "int64"),
    "1-d input, 0-d source, two indices": ((3,), 0, [0, 1], (), 1, "int64"),
    "1-d input, 0-d source, out of range": ((3,), 0, [3], (), 1, "int64"),
    "0-d input, 0-d source": ((), 0, [0], (), 1, "int64"),
    "0-d input, 0-d source, out of range": ((), 0, [1], (), 1, "int64"),
    "0-d input, 1-d source": ((), 0, [0], (1,), 1, "int64"),
    "0-d input, 2-d source": ((), 0, [0], (1, 1), 1, "int64"),
    "2-d input, 0-d source": ((1, 1), 0, [0], (), 1, "int64"),
    "2-d input, 1-d source": ((3, 1), 0, [0], (1,), 1, "int64"),
    "1-d input, 2-d source": ((3,), 0, [0], (1, 1), 1, "int64"),
    "source shape before the indices": ((3, 2), 0, [3], (1, 3), 1, "int64"),
    "source shape before the indices, middle dim": ((2, 3, 2), 1, [3], (2, 1, 3), 1, "int64"),
    "2-d index": ((3, 2), 0, [[0]], (1, 2), 1, "int64"),
    "dim beyond the source's dims": ((3, 1), 1, [0], (3,), 1, "int64"),
    "dim beyond a 0-d source": ((1, 1), 1, [0], (), 1, "int64"),
}


def _index(lib, index, dtype: str):
    return lib.tensor(index, dtype=getattr(lib, dtype))


@pytest.mark.parametrize("case", list(INDEX_ADD))
def test_index_add_checks_as_torch(case: str) -> None:
    shape, dim, index, source, alpha, dtype = INDEX_ADD[case]
    same_or_same_error(
        lambda m, a, s: a.index_add(dim, _index(m, index, dtype), s, alpha=alpha),
        [shape, source],
        fragments=["index_add"],
    )


# (x shape, dim, index, source shape, index dtype)
INDEX_COPY = {
    "1-d out of range": ((3,), 0, [3], (1,), "int64"),
    "2-d out of range": ((3, 2), 0, [3], (1, 2), "int64"),
    "2-d negative": ((3, 2), 0, [-1], (1, 2), "int64"),
    "3-d middle dim out of range": ((2, 3, 2), 1, [3], (2, 1, 2), "int64"),
    "2-d last dim out of range": ((2, 3), 1, [3], (2, 1), "int64"),
    "1-d input, 0-d source": ((3,), 0, [1], (), "int64"),
    "1-d input, 0-d source, two indices": ((3,), 0, [0, 1], (), "int64"),
    "0-d input, 1-d source": ((), 0, [0], (1,), "int64"),
    "0-d input, 2-d source": ((), 0, [0], (1, 1), "int64"),
    "0-d input, 0-d source, out of range": ((), 0, [1], (), "int64"),
    "2-d input, 0-d source": ((1, 1), 0, [0], (), "int64"),
    "1-d input, 2-d source": ((3,), 0, [0], (1, 1), "int64"),
    "2-d input, 1-d source": ((3, 1), 0, [0], (1,), "int64"),
    "int32 indices": ((3, 2), 0, [1], (1, 2), "int32"),
    "int32 indices out of range": ((3, 2), 0, [3], (1, 2), "int32"),
    "slice shapes before the indices": ((3, 2), 0, [3], (1, 3), "int64"),
    "slice shapes before the count": ((3, 2), 0, [0], (2, 3), "int64"),
    "count of indices": ((3, 2), 0, [0], (2, 2), "int64"),
    "2-d index": ((3, 2), 0, [[0]], (1, 2), "int64"),
}


@pytest.mark.parametrize("case", list(INDEX_COPY))
def test_index_copy_checks_as_torch(case: str) -> None:
    shape, dim, index, source, dtype = INDEX_COPY[case]
    same_or_same_error(
        lambda m, a, s: a.index_copy(dim, _index(m, index, dtype), s),
        [shape, source],
        fragments=["index_copy"],
    )


@pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")
@pytest.mark.parametrize(
    ("shape", "index", "source"),
    [((3,), [1], ()), ((), [0], (1,)), ((), [0], ()), ((3, 2), [3], (1, 3)), ((3, 2), [3], (1, 2))],
    ids=["1-d, 0-d source", "0-d, 1-d source", "0-d, 0-d source", "shape first", "out of range"],
)
def test_index_reduce_checks_its_source_as_index_add(shape, index, source) -> None:
    """index_reduce shares index_add's checks of the source in torch (its meta function)."""
    same_or_same_error(
        lambda m, a, s: a.index_reduce(0, m.tensor(index), s, "amax"),
        [shape, source],
        fragments=["index_reduce"],
    )


# out of range, 1-D and 2-D: index_fill (and its index's dtype and dims), index_put (accumulating or
# not), scatter, gather
OUT_OF_RANGE = {
    "index_fill 1-d": lambda m, a: a.index_fill(0, m.tensor([3]), 1.0),
    "index_fill 2-d negative": lambda m, a: a.index_fill(0, m.tensor([-4]), 1.0),
    "index_put 1-d": lambda m, a: a.index_put((m.tensor([3]),), m.tensor(1.0, dtype=m.float64)),
    "index_put 2-d accumulate": lambda m, a: a.index_put(
        (m.tensor([3]),), m.tensor(1.0, dtype=m.float64), accumulate=True
    ),
    "index_fill int32 index": lambda m, a: a.index_fill(0, m.tensor([0], dtype=m.int32), 1.0),
    "index_fill 2-d index": lambda m, a: a.index_fill(0, m.tensor([[0]]), 1.0),
    "scatter 2-d": lambda m, a: a.scatter(0, m.tensor([[3, 0]]), 1.0),
    "scatter_add 2-d": lambda m, a: a.scatter_add(0, m.tensor([[0, 3]]), a[:1]),
    "scatter_reduce 2-d negative": lambda m, a: a.scatter_reduce(0, m.tensor([[-1, 0]]), a[:1], "sum"),
    "gather 2-d": lambda m, a: a.gather(0, m.tensor([[3, 0]])),
    "gather 2-d negative": lambda m, a: a.gather(1, m.tensor([[-1]])),
}


@pytest.mark.parametrize("case", list(OUT_OF_RANGE))
@pytest.mark.parametrize("shape", [(3,), (3, 2)], ids=["1-d", "2-d"])
def test_index_out_of_range_raises_torchs_type(case: str, shape) -> None:
    program = OUT_OF_RANGE[case]
    same_or_same_error(lambda m, a: program(m, a), [shape])


def test_index_add_out_of_range_names_the_index_dim_and_shape() -> None:
    with pytest.raises(
        RuntimeError, match=r"index_add.*index 3 is out of bounds for dimension 0 with size 3.*\(3, 2\)"
    ):
        chainrule.zeros(3, 2).index_add(0, chainrule.tensor([3]), chainrule.ones(1, 2))
    with pytest.raises(IndexError, match=r"index_add.*index out of range in self.*dim 1.*\(2, 3, 2\)"):
        chainrule.zeros(2, 3, 2).index_add(1, chainrule.tensor([3]), chainrule.ones(2, 1, 2))


# ---- setitem and copy_ between overlapping memory ------------------------------------------------
# torch's setitem copies a value of the part's shape with copy_ (whose check refuses a partial
# overlap of two dense blocks), fills with a 0-d value (no check), and expands any other value to
# the part's shape first (an expanded value is no dense block: no check)
OVERLAPS = {
    "x[None, :] = x": lambda x: x.__setitem__((None, slice(None)), x),
    "x[None] = x": lambda x: x.__setitem__(None, x),
    "x[:] = x": lambda x: x.__setitem__(slice(None), x),
    "x[...] = x": lambda x: x.__setitem__(Ellipsis, x),
    "x[:] = x[None]": lambda x: x.__setitem__(slice(None), x[None]),
    "x[:] = x[0] (expanded)": lambda x: x.__setitem__(slice(None), x[0]),
    "x[0] = x[0, 0] (a fill)": lambda x: x.__setitem__(0, x[0, 0]),
    "x[...] = x[0, 0] (a fill)": lambda x: x.__setitem__(Ellipsis, x[0, 0]),
    "x[0:1] = x[1, 1] (a fill)": lambda x: x.__setitem__(slice(0, 1), x[1, 1]),
    "x[:] = x[:, :1] (expanded)": lambda x: x.__setitem__(slice(None), x[:, :1]),
    "x[1:] = x[:2] (partial)": lambda x: x.__setitem__(slice(1, None), x[:2]),
    "x[:] = x.t() (partial)": lambda x: x.__setitem__(slice(None), x.t()),
    "x[0:1] = x[0]": lambda x: x.__setitem__(slice(0, 1), x[0]),
    "x[0] = x[0:1]": lambda x: x.__setitem__(0, x[0:1]),
    "x[0] = x[:, 0] (partial)": lambda x: x.__setitem__(0, x[:, 0]),
    "x.copy_(x[None]) (other dims)": lambda x: x.copy_(x[None]),
    "x[0].copy_(x[1:]) (other dims)": lambda x: x[0].copy_(x[1:2]),
}


@pytest.mark.parametrize("case", list(OVERLAPS))
@pytest.mark.parametrize("rows", [2, 3])
def test_writes_between_overlapping_memory_as_torch(case: str, rows: int) -> None:
    """The write as torch does it (values and gradients), or torch's error."""

    def program(m, a):
        x = a * 1  # (a non-leaf, so that autograd records the write)
        OVERLAPS[case](x)
        return x

    same_or_same_error(program, [(rows, rows)])


def test_a_fill_from_an_element_of_the_target_reads_it_once() -> None:
    """``x[...] = x[0, 0]`` fills every element with the old ``x[0, 0]`` (torch reads the 0-d value
    before writing)."""

    def program(lib):
        x = lib.arange(6.0).reshape(2, 3) + 1
        x[...] = x[0, 0]
        y = lib.arange(6.0).reshape(2, 3) + 1
        y[:] = y[1]
        return x, y

    same(program)
    out = chainrule.arange(4.0).reshape(2, 2) + 1
    out[...] = out[1, 1]
    assert out.tolist() == [[4.0, 4.0], [4.0, 4.0]]


@pytest.mark.parametrize(
    "write",
    [
        lambda m, x, b: x.__setitem__(slice(None), b[None]),
        lambda m, x, b: x.__setitem__(0, b[0][None, None]),
        lambda m, x, b: x.__setitem__(m.tensor([1, 0]), b[None]),
        lambda m, x, b: x.__setitem__((m.tensor([1]), slice(None)), b[:1][None]),
    ],
    ids=["basic", "basic, 2 leading 1s", "advanced", "advanced and a slice"],
)
def test_setitem_value_with_leading_ones_gets_its_gradient(write) -> None:
    """torch drops a value's leading 1s before writing it: the value's gradient keeps its shape."""

    def program(m, a, b):
        x = a * 1
        write(m, x, b)
        return x

    same_or_same_error(program, [(2, 3), (2, 3)])
