"""Type promotion against torch: for every pair of operands among tensors (with dims and 0-d) of
bool, uint8, int32, int64, float32, float64 (and int8, int16, float16) and Python bool / int /
float scalars, the dtype of ``+ - * /`` is torch's result (or both raise), and ``result_type`` and
``promote_types`` give torch's answer."""

from __future__ import annotations

import itertools
import operator

import numpy as np
import pytest
import torch

import chainrule

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
MAIN = ["bool", "uint8", "int32", "int64", "float32", "float64"]
OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}

# an operand: ("dims", dtype) a 1-D tensor, ("0d", dtype) a 0-d tensor, ("py", value) a scalar
OPERANDS = (
    [("dims", d) for d in DTYPES] + [("0d", d) for d in DTYPES] + [("py", True), ("py", 3), ("py", 2.5)]
)
_VALUES = {"bool": [True, False], "float16": [1.5, -2.0]}


def _make(lib, operand):
    kind, what = operand
    if kind == "py":
        return what
    values = _VALUES.get(what, [3, 1] if what == "uint8" else [3, -2])
    if kind == "0d":
        values = values[0]
    return lib.tensor(values, dtype=getattr(lib, what))


def _name(dtype) -> str:
    return str(dtype).split(".")[-1]


def _apply(lib, fn, a, b):
    try:
        out = fn(_make(lib, a), _make(lib, b))
    except Exception as e:  # noqa: BLE001  (the type is what is compared)
        return type(e), None
    return _name(out.dtype), out.numpy()


def _pairs():
    for a, b in itertools.product(OPERANDS, OPERANDS):
        if a[0] == "py" and b[0] == "py":
            continue
        yield pytest.param(a, b, id=f"{a[0]}:{a[1]}-{b[0]}:{b[1]}")


@pytest.mark.parametrize("a, b", list(_pairs()))
def test_binary_op_dtypes(a, b) -> None:
    for symbol, fn in OPS.items():
        theirs, t_val = _apply(torch, fn, a, b)
        ours, o_val = _apply(chainrule, fn, a, b)
        assert ours == theirs, f"{a} {symbol} {b}: chainrule {ours}, torch {theirs}"
        if t_val is not None:
            assert o_val.shape == t_val.shape
            np.testing.assert_allclose(
                o_val.astype(np.float64),
                t_val.astype(np.float64),
                rtol=1e-3 if "float16" in ours else 1e-6,
                err_msg=f"{a} {symbol} {b}",
            )


@pytest.mark.parametrize("a, b", list(_pairs()))
def test_result_type(a, b) -> None:
    theirs = _name(torch.result_type(_make(torch, a), _make(torch, b)))
    ours = _name(chainrule.result_type(_make(chainrule, a), _make(chainrule, b)))
    assert ours == theirs
    if a[0] != "py" or b[0] != "py":  # and the operators agree with result_type (where allowed)
        try:
            actual = _name((_make(torch, a) + _make(torch, b)).dtype)
        except RuntimeError:
            return
        assert ours == actual


@pytest.mark.parametrize("a, b", list(itertools.product(DTYPES, DTYPES)))
def test_promote_types(a, b) -> None:
    ours = chainrule.promote_types(getattr(chainrule, a), getattr(chainrule, b))
    theirs = torch.promote_types(getattr(torch, a), getattr(torch, b))
    assert _name(ours) == _name(theirs)


@pytest.mark.parametrize("a", MAIN)
@pytest.mark.parametrize("scalar", [True, 3, 2.5])
def test_default_dtype_float64_changes_float_results(a, scalar) -> None:
    for lib in (torch, chainrule):
        lib.set_default_dtype(lib.float64)
    try:
        for kind in ("dims", "0d"):
            for fn in OPS.values():
                theirs, _ = _apply(torch, fn, (kind, a), ("py", scalar))
                ours, _ = _apply(chainrule, fn, (kind, a), ("py", scalar))
                assert ours == theirs
    finally:
        for lib in (torch, chainrule):
            lib.set_default_dtype(lib.float32)


def test_bool_subtraction_is_refused_like_torch() -> None:
    cases = [
        (("dims", "bool"), ("dims", "bool")),
        (("dims", "bool"), ("py", 1)),
        (("dims", "float32"), ("py", True)),
        (("py", True), ("dims", "float32")),
        (("dims", "int64"), ("0d", "bool")),
    ]
    for a, b in cases:
        for lib in (torch, chainrule):
            with pytest.raises(RuntimeError, match="(?i)subtraction"):
                _make(lib, a) - _make(lib, b)
