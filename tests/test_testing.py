"""chainrule.testing (torch.testing): assert_close passes, fails and words its failures as torch's
does, for the same inputs; make_tensor draws within torch's ranges and checks its arguments as torch."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

import chainrule


def outcome(library, build):
    """(exception type name, message) of ``assert_close`` on the inputs ``build(library)`` makes;
    torch's names are spelled as chainrule spells them (chainrule.float32, chainrule.Size), and the
    tensor class by its name alone (its module differs)."""
    args, kwargs = build(library)
    try:
        library.testing.assert_close(*args, **kwargs)
    except Exception as error:  # noqa: BLE001  (comparing which exception, and its text)
        message = re.sub(r"<class '[\w.]*Tensor'>", "Tensor", str(error))
        return type(error).__name__, message.replace("torch.", "chainrule.")
    return None


def t(lib, values, dtype=None):
    return lib.tensor(values, dtype=None if dtype is None else getattr(lib, dtype))


CASES = {
    "close enough": lambda L: ((t(L, [1.0, 2.0]), t(L, [1.0, 2.0 + 1e-6])), {}),
    "not close": lambda L: ((t(L, [1.0, 2.0]), t(L, [1.0, 2.1])), {}),
    "2-d, two mismatches": lambda L: ((t(L, [[1.0, 2.0], [3, 4]]), t(L, [[1.0, 2.1], [3, 5]])), {}),
    "float64 tolerances": lambda L: ((t(L, [1.0], "float64"), t(L, [1.0 + 1e-8], "float64")), {}),
    "float64 not close": lambda L: ((t(L, [1.0], "float64"), t(L, [1.0 + 1e-5], "float64")), {}),
    "shape": lambda L: ((t(L, [1.0, 2.0]), t(L, [1.0, 2.0, 3.0])), {}),
    "dtype": lambda L: ((t(L, [1.0, 2.0]), t(L, [1.0, 2.0], "float64")), {}),
    "dtype unchecked": lambda L: ((t(L, [1.0, 2.0]), t(L, [1.0, 2.0], "float64")), {"check_dtype": False}),
    "dtype unchecked, values differ": lambda L: (
        (t(L, [1.0, 2.0]), t(L, [1.0, 2.001], "float64")),
        {"check_dtype": False},
    ),
    "ints": lambda L: ((t(L, [1, 2]), t(L, [1, 3])), {}),
    "bools": lambda L: ((t(L, [True]), t(L, [False])), {}),
    "0-d": lambda L: ((t(L, 1.0), t(L, 1.5)), {}),
    "python floats": lambda L: ((1.0, 1.1), {}),
    "python ints": lambda L: ((1, 2), {}),
    "int against float": lambda L: ((1, 1.0), {}),
    "int against float unchecked": lambda L: ((1, 1.0), {"check_dtype": False}),
    "complex numbers": lambda L: ((1 + 1j, 1 + 1.5j), {}),
    "booleans": lambda L: ((True, False), {}),
    "None": lambda L: ((None, None), {}),
    "None against 1": lambda L: ((None, 1), {}),
    "tensor against number": lambda L: ((t(L, 1.0), 1.0), {}),
    "tensor against ndarray": lambda L: ((t(L, [1.0]), np.array([1.0])), {}),
    "ndarrays": lambda L: ((np.array([1.0]), np.array([1.0])), {}),
    "strings": lambda L: (("a", "a"), {}),
    "nan": lambda L: ((t(L, [math.nan]), t(L, [math.nan])), {}),
    "nan equal": lambda L: ((t(L, [math.nan]), t(L, [math.nan])), {"equal_nan": True}),
    "inf": lambda L: ((t(L, [1.0, math.inf]), t(L, [1.0, math.inf])), {}),
    "inf against -inf": lambda L: ((t(L, [1.0, math.inf]), t(L, [1.0, -math.inf])), {}),
    "zero expected": lambda L: ((t(L, [0.0, 1.0]), t(L, [1e-3, 1.0])), {}),
    "complex tensors": lambda L: ((t(L, [1 + 1j]), t(L, [1 + 1.1j])), {}),
    "empty": lambda L: ((t(L, []), t(L, [])), {}),
    "requires grad": lambda L: ((L.ones(2, requires_grad=True), L.ones(2)), {}),
    "stride": lambda L: ((t(L, [1.0]).expand(3), t(L, [1.0, 1.0, 1.0])), {"check_stride": True}),
    "given tolerances": lambda L: ((t(L, [1.0, 2.0]), t(L, [1.0, 2.1])), {"rtol": 0, "atol": 0.2}),
    "rtol alone": lambda L: ((t(L, [1.0]), t(L, [1.0])), {"rtol": 1e-3}),
    "atol alone": lambda L: ((t(L, [1.0]), t(L, [1.0])), {"atol": 1e-3}),
    "exact tolerances": lambda L: ((t(L, [1.0, 2.0]), t(L, [1.0, 2.1])), {"rtol": 0, "atol": 0}),
    "message": lambda L: ((t(L, [1.0]), t(L, [2.0])), {"msg": "custom"}),
    "message function": lambda L: ((t(L, [1.0]), t(L, [2.0])), {"msg": lambda m: "X: " + m}),
    "list item": lambda L: (([t(L, 1.0), t(L, 2.0)], [t(L, 1.0), t(L, 3.0)]), {}),
    "list lengths": lambda L: (([1.0], [1.0, 2.0]), {}),
    "tuple against list": lambda L: (((1.0, 2.0), [1.0, 2.0]), {}),
    "mapping keys": lambda L: (({"a": t(L, 1.0)}, {"b": t(L, 1.0)}), {}),
    "mapping item": lambda L: (({"a": t(L, 1.0)}, {"a": t(L, 2.0)}), {}),
    "nested": lambda L: (({"a": [t(L, [1.0, 2.0])]}, {"a": [t(L, [1.0, 2.5])]}), {}),
    "sizes": lambda L: ((L.ones(2, 3).shape, (2, 3)), {}),
    "half": lambda L: ((t(L, [1.0], "float16"), t(L, [1.0005], "float16")), {}),
    "uint8": lambda L: ((t(L, [1, 200], "uint8"), t(L, [1, 100], "uint8")), {}),
    "numpy scalar": lambda L: ((np.float64(1.0), 1.0), {}),
}


# |a - b| / |b| of complex64 values: NumPy's and torch's complex abs may round one ulp apart
ONE_ULP_APART = {"complex tensors"}


def rounded(result):
    if result is None:
        return None
    kind, message = result
    return kind, re.sub(r"\d\.\d{6,}", lambda m: f"{float(m.group()):.6g}", message)


@pytest.mark.parametrize("name", list(CASES))
def test_assert_close_as_torch(name):
    ours, theirs = outcome(chainrule, CASES[name]), outcome(torch, CASES[name])
    if name in ONE_ULP_APART:
        ours, theirs = rounded(ours), rounded(theirs)
    assert ours == theirs


@pytest.mark.parametrize(
    "dtype, low, high",
    [
        ("float32", -9, 9),
        ("float64", -9, 9),
        ("int64", -9, 10),
        ("uint8", 0, 10),
        ("int8", -9, 10),
        ("bool", 0, 2),
    ],
)
def test_make_tensor_default_ranges(dtype, low, high):
    ours = chainrule.testing.make_tensor(200, dtype=getattr(chainrule, dtype), device="cpu")
    theirs = torch.testing.make_tensor(200, dtype=getattr(torch, dtype), device="cpu")
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1] and tuple(ours.shape) == (200,)
    values = ours.numpy().astype(float)
    assert low <= values.min() and values.max() < high


def test_make_tensor_options():
    x = chainrule.testing.make_tensor(
        (3, 4), dtype=chainrule.float32, device="cpu", low=2, high=3, requires_grad=True
    )
    assert x.shape == (3, 4) and x.requires_grad and 2 <= x.min().item() and x.max().item() < 3
    y = chainrule.testing.make_tensor(
        3, 4, dtype=chainrule.int64, device=None, noncontiguous=True, exclude_zero=True
    )
    assert not y.is_contiguous() and (y != 0).all().item()
    z = chainrule.testing.make_tensor(2, dtype=chainrule.complex64, device="cpu")
    assert z.dtype == chainrule.complex64


@pytest.mark.parametrize(
    "kwargs",
    [
        {"dtype": "float32", "low": 3, "high": 2},
        {"dtype": "int64", "low": 2, "high": 2},
        {"dtype": "float32", "low": math.nan},
        {"dtype": "uint8", "low": -20, "high": -10},
        {"dtype": "int64", "requires_grad": True},
    ],
)
def test_make_tensor_errors_as_torch(kwargs):
    def error(library):
        args = {k: getattr(library, v) if k == "dtype" else v for k, v in kwargs.items()}
        with pytest.raises(ValueError) as info:
            library.testing.make_tensor(3, device="cpu", **args)
        return str(info.value).replace("torch.", "chainrule.")

    ours, theirs = error(chainrule), error(torch)
    if "requires_grad" in kwargs:
        assert "requires_grad" in ours and "requires_grad" in theirs
    else:
        assert ours == theirs
