"""repr / str of tensors against torch's text for the same data, with 'torch.' read as
'chainrule.': element styles (int mode, fixed, scientific), nan / inf, line wrapping, nested
layouts, summarization, dtype / requires_grad / grad_fn suffixes and print options."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from chainrule import _format


def _expected(t: torch.Tensor) -> str:
    return repr(t).replace("torch.", "chainrule.")


def check(array, dtype: str | None = None, requires_grad: bool = False) -> None:
    """Both libraries' tensors of ``array`` (optionally as ``dtype``) print the same."""
    a = np.asarray(array)
    theirs = torch.tensor(a, dtype=getattr(torch, dtype) if dtype else None, requires_grad=requires_grad)
    ours = chainrule.tensor(
        a, dtype=getattr(chainrule, dtype) if dtype else None, requires_grad=requires_grad
    )
    assert repr(ours) == _expected(theirs), f"\nours:\n{ours!r}\ntorch:\n{theirs!r}"
    assert str(ours) == str(theirs).replace("torch.", "chainrule.")


def test_examples_from_the_docs() -> None:
    assert repr(chainrule.tensor([1.0, 2.0, 3.0])) == "tensor([1., 2., 3.])"
    assert repr(chainrule.tensor([1.0, 2.5])) == "tensor([1.0000, 2.5000])"
    assert repr(chainrule.tensor(3.0)) == "tensor(3.)"
    assert repr(chainrule.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(chainrule.tensor([True, False])) == "tensor([ True, False])"
    assert repr(chainrule.tensor([1e-5, 1e3])) == "tensor([1.0000e-05, 1.0000e+03])"


@pytest.mark.parametrize(
    "values",
    [
        [1.0, 2.0, 3.0],
        [1.0, 2.5],
        3.0,
        0.0,
        -0.0,
        -2.0,
        1.5,
        [0.0, 0.0],
        [-1.0, 0.0, 1.0],
        [1e-5, 1e3],
        [1e-5],
        [1e9],
        [1e8, 1.0],
        [123456789.0],
        [0.0001, 0.1],
        [0.00011, 1.0],
        [1.0, 1000.0],
        [1.0, 1001.0],
        [1.5, 1001.0],
        [100.0, 200.5],
        [-123.456, 0.5],
        [float("nan")],
        [float("nan"), 1.0, float("inf")],
        [float("-inf"), 2.5],
        [float("inf")],
        [float("nan"), float("inf"), 1e-7],
        [1.0, float("nan"), -3.0],
        [0.1, 0.2, 0.3],
        [1e300, 1e-300],
        [-1e-5, 0.0, 5.0],
        [12345.678, -0.001],
    ],
    ids=repr,
)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_styles(values, dtype) -> None:
    check(values, dtype)


@pytest.mark.parametrize(
    "values",
    [[1, 2], 7, -3, [10, -200, 3], [0], [2**40, -1], [True, False], True, [[True], [False]], [0, 255]],
)
@pytest.mark.parametrize("dtype", [None, "int32", "int8", "uint8", "int16", "bool"])
def test_integer_and_bool(values, dtype) -> None:
    if dtype in ("int8", "uint8") and np.abs(np.asarray(values, dtype=np.int64)).max() > 127:
        return
    check(values, dtype)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int64", "int32", "bool"])
@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 3, 1), (3,), (2, 3), (2, 3, 4), (2, 1, 2, 3)])
def test_shapes_and_dtype_suffix(shape, dtype) -> None:
    rng = np.random.default_rng(sum(shape) + len(dtype))
    a = rng.standard_normal(shape) * 3
    if dtype == "bool":
        a = a > 0
    check(a, dtype)


@pytest.mark.parametrize("scale", [1.0, 1e-6, 1e5, 1e9, 123.0])
@pytest.mark.parametrize("shape", [(30,), (7, 13), (3, 4, 5), (2, 2, 2, 2), (1, 1, 1), (101,)])
def test_layouts_and_line_wrapping(shape, scale) -> None:
    rng = np.random.default_rng(len(shape) + int(scale % 97))
    check(rng.standard_normal(shape) * scale, "float32")
    check(np.round(rng.standard_normal(shape) * 50), "float64")
    check(rng.integers(-1000, 1000, shape))


@pytest.mark.parametrize(
    "shape",
    [(1001,), (2000,), (40, 30), (5, 300), (11, 10, 10), (3, 3, 3, 40), (1, 1001), (1001, 1), (8, 8, 8, 2)],
)
def test_summarization(shape) -> None:
    rng = np.random.default_rng(shape[0])
    check(rng.standard_normal(shape), "float32")
    check(rng.integers(-5, 5, shape))
    check(rng.standard_normal(shape) > 0)
    check(np.arange(np.prod(shape), dtype=np.float64).reshape(shape) * 1e-3, "float64")


def test_requires_grad_and_grad_fn() -> None:
    rng = np.random.default_rng(0)
    for shape in [(), (3,), (2, 3), (4, 5, 6), (1200,)]:
        check(rng.standard_normal(shape), "float32", requires_grad=True)
        check(rng.standard_normal(shape), "float64", requires_grad=True)
    a = rng.standard_normal((2, 3))
    for fn in (
        lambda m, x: x * 2,
        lambda m, x: x * x,
        lambda m, x: x + 1,
        lambda m, x: x + x,
        lambda m, x: x.sum(),
        lambda m, x: m.exp(x),
        lambda m, x: m.sin(x),
        lambda m, x: x / 2,
        lambda m, x: 1 - x,
        lambda m, x: m.tanh(x),
    ):
        theirs = fn(torch, torch.tensor(a, requires_grad=True))
        ours = fn(chainrule, chainrule.tensor(a, requires_grad=True))
        assert repr(ours) == _expected(theirs)
    theirs = torch.tensor(a, dtype=torch.float32, requires_grad=True) * 3
    ours = chainrule.tensor(a, dtype=chainrule.float32, requires_grad=True) * 3
    assert repr(ours.detach()) == _expected(theirs.detach())


def test_suffix_moves_to_a_new_line_at_80_columns() -> None:
    for n in range(1, 12):
        check(np.linspace(-1, 1, n), "float64", requires_grad=True)
        check(np.arange(n) * 11111, "int32")
        check(np.linspace(-1, 1, n * 3).reshape(n, 3), "float16")


def test_default_dtype_float64_changes_the_suffix() -> None:
    for lib in (torch, chainrule):
        lib.set_default_dtype(lib.float64)
    try:
        check([1.5, 2.0])
        check([1.5, 2.0], "float32")
        check(np.zeros((0, 2)), "int64")
    finally:
        for lib in (torch, chainrule):
            lib.set_default_dtype(lib.float32)


@pytest.mark.parametrize(
    "options",
    [
        {"precision": 2},
        {"precision": 8},
        {"threshold": 5},
        {"edgeitems": 1, "threshold": 10},
        {"linewidth": 40},
        {"sci_mode": True},
        {"sci_mode": False},
        {"profile": "short"},
        {"profile": "full"},
        {"edgeitems": 0, "threshold": 3},
    ],
)
def test_print_options(options) -> None:
    rng = np.random.default_rng(1)
    arrays = [
        rng.standard_normal(20),
        rng.standard_normal((4, 6)) * 1e4,
        np.arange(12.0),
        rng.integers(0, 9, (3, 7)),
        np.array([1e-5, 2.0]),
        rng.standard_normal(1500),
    ]
    torch.set_printoptions(**options)
    _format.set_printoptions(**options)
    try:
        for a in arrays:
            check(a, "float32" if a.dtype.kind == "f" else None)
    finally:
        torch.set_printoptions(profile="default")
        _format.set_printoptions(profile="default")
    with _format.printoptions(precision=1):
        assert repr(chainrule.tensor([1.25])) == "tensor([1.2])"
    assert repr(chainrule.tensor([1.25])) == "tensor([1.2500])"
    assert _format.get_printoptions() == {k: v for k, v in torch._tensor_str.get_printoptions().items()}
